import type { CoreDeps } from '../core/context.js';
import { finishStrandedConfirms } from '../core/recovery.js';

/**
 * Each pass also confirms the PaymentIntents created with `confirm: true` whose request died
 * before it started the attempt (core/recovery.ts): due STRANDED_CONFIRM_DELAY_MS after the
 * create, once the creating request's claim on its Idempotency-Key (if any) has run out. The
 * attempt gets the paymentRequestId a client retry would give it (`<pi>_1`), so the two never
 * make two attempts. A failure is logged and tried again on the next due pass; never thrown.
 */
export async function confirmStrandedCreates(deps: CoreDeps, owner: string): Promise<void> {
  try {
    await finishStrandedConfirms(deps, owner);
  } catch (error) {
    deps.logger.error({ err: error }, 'stranded confirms failed; retrying on the next pass');
  }
}
