import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../core/context.js';
import { expireDuePayments } from '../core/outcomes.js';
import { actInWallet, type WalletActionResult, type WalletOutcome } from '../core/wallet.js';
import { TEST_SHOPPERS } from '../domain/shoppers.js';
import { API_FAULT_KINDS, NOTIFICATION_FAULT_KINDS, type FaultRow, type FaultTarget } from '../store/faults.js';
import { bodyValidator, faultSchema, walletPaySchema, type BodyValidator, type FieldError } from './schemas.js';
import { faultView, notificationView, paymentView, refundView, shopperView } from './views.js';

/** `timeout` must outlast the caller's 10 s timeout to be one; `delay` is noticeable but short. */
export const TIMEOUT_FAULT_DELAY_MS_DEFAULT = 12_000;
export const DELAY_FAULT_DELAY_MS_DEFAULT = 2_000;
const PAYMENT_ID_CHARS_MAX = 64;

interface WalletPayBody {
  codeValue?: string;
  paymentId?: string;
  outcome: WalletOutcome;
  shopper?: string;
  resultCode?: string;
}

interface FaultBody {
  target: FaultTarget;
  kind: FaultRow['kind'];
  count?: number;
  delayMs?: number;
}

/** A client mistake: answered as `{ error: { code, message, param? } }` with a 4xx status. */
class ControlError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

/**
 * The sandbox's control API for tests and scripts (alipayplus.md §10): act as the shopper's
 * wallet, read a payment's full state, and inject faults. Bodies arrive as raw strings (the
 * sandbox parses nothing itself, for the protocol's sake), so they are parsed and validated here.
 */
export function registerControlRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const walletPay = bodyValidator(walletPaySchema);
  const newFault = bodyValidator(faultSchema);
  app.post('/sandbox/v1/wallet/pay', (request, reply) => handle(reply, 200, () => payInWallet(ctx, parseBody<WalletPayBody>(request, walletPay))));
  app.get('/sandbox/v1/payments/:paymentId', (request, reply) => handle(reply, 200, () => paymentState(ctx, (request.params as { paymentId: string }).paymentId)));
  app.post('/sandbox/v1/faults', (request, reply) => handle(reply, 201, () => addFault(ctx, parseBody<FaultBody>(request, newFault))));
  app.get('/sandbox/v1/faults', (_request, reply) => handle(reply, 200, () => ({ faults: ctx.faults.listActive().map(faultView) })));
  app.delete('/sandbox/v1/faults', (_request, reply) =>
    handle(reply, 200, () => {
      const cleared = ctx.faults.listActive().length;
      ctx.faults.clear();
      return { cleared };
    }),
  );
  app.get('/sandbox/v1/shoppers', (_request, reply) => handle(reply, 200, () => ({ shoppers: TEST_SHOPPERS.map(shopperView) })));
}

function handle(reply: FastifyReply, statusCode: number, run: () => object): FastifyReply {
  try {
    return reply.code(statusCode).send(run());
  } catch (error) {
    if (!(error instanceof ControlError)) throw error;
    const body: FieldError & { code: string } = { code: error.code, message: error.message };
    if (error.param !== undefined) body.param = error.param;
    return reply.code(error.statusCode).send({ error: body });
  }
}

function parseBody<T>(request: FastifyRequest, validate: BodyValidator): T {
  const raw = typeof request.body === 'string' ? request.body : '';
  if (raw.trim() === '') throw new ControlError(400, 'invalid_request', 'a JSON object body is required');
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new ControlError(400, 'invalid_json', 'request body is not valid JSON');
  }
  const invalid = validate(body);
  if (invalid) throw new ControlError(400, 'invalid_request', invalid.message, invalid.param);
  return body as T;
}

function payInWallet(ctx: SandboxContext, body: WalletPayBody) {
  if ((body.codeValue === undefined) === (body.paymentId === undefined)) {
    throw new ControlError(400, 'invalid_request', 'give exactly one of codeValue and paymentId', 'paymentId');
  }
  if (body.resultCode !== undefined && body.outcome !== 'decline') {
    throw new ControlError(400, 'invalid_request', 'resultCode applies only to outcome decline', 'resultCode');
  }
  const acted = actInWallet(ctx, { paymentId: body.paymentId, codeValue: body.codeValue, outcome: body.outcome, shopperId: body.shopper, resultCode: body.resultCode });
  if (!acted.ok) throw walletError(acted);
  return { payment: paymentView(acted.payment), shopper: acted.shopper.id, redirectUrl: acted.redirectUrl };
}

function walletError(failed: Extract<WalletActionResult, { ok: false }>): ControlError {
  switch (failed.error) {
    case 'payment_not_found':
      return new ControlError(404, failed.error, failed.message);
    case 'payment_not_in_process':
      return new ControlError(409, failed.error, failed.message);
    case 'shopper_not_found':
      return new ControlError(400, failed.error, failed.message, 'shopper');
    case 'invalid_result_code':
      return new ControlError(400, failed.error, failed.message, 'resultCode');
  }
}

function paymentState(ctx: SandboxContext, paymentId: string) {
  // Reads are exact to the clock: a payment past its expiry shows as closed, with its notification.
  expireDuePayments(ctx);
  const payment = paymentId.length <= PAYMENT_ID_CHARS_MAX ? ctx.payments.findByPaymentId(paymentId) : undefined;
  if (!payment) throw new ControlError(404, 'payment_not_found', `no payment ${paymentId}`, 'paymentId');
  return {
    ...paymentView(payment),
    refunds: ctx.refunds.listByPaymentId(paymentId).map(refundView),
    notifications: ctx.notifications.listByPaymentId(paymentId).map((row) => notificationView(row, ctx.notifications.listSends(row.notification_id))),
  };
}

function addFault(ctx: SandboxContext, body: FaultBody) {
  const kinds: readonly string[] = body.target === 'notifyPayment' ? NOTIFICATION_FAULT_KINDS : API_FAULT_KINDS;
  if (!kinds.includes(body.kind)) {
    throw new ControlError(400, 'invalid_request', `kind ${body.kind} does not apply to target ${body.target}; use one of ${kinds.join(', ')}`, 'kind');
  }
  const delayMsDefault = body.kind === 'timeout' ? TIMEOUT_FAULT_DELAY_MS_DEFAULT : body.kind === 'delay' ? DELAY_FAULT_DELAY_MS_DEFAULT : null;
  if (delayMsDefault === null && body.delayMs !== undefined) {
    throw new ControlError(400, 'invalid_request', `delayMs applies only to kinds timeout and delay`, 'delayMs');
  }
  const faultId = ctx.faults.add(body.target, body.kind, body.count ?? 1, body.delayMs ?? delayMsDefault ?? 0, ctx.clock.now());
  const fault = ctx.faults.listActive().find((row) => row.fault_id === faultId) as FaultRow;
  return faultView(fault);
}
