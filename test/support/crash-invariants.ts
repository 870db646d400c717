import BetterSqlite3 from 'better-sqlite3';
import type { CrashStack } from './crash-stack.js';
import type { KeyRecord } from './crash-load.js';
import type { PaymentAttemptStatus } from '../../src/gateway/domain/payment_attempts.js';

/**
 * Test-only: the money invariants of issue 9, checked on the gateway's database (read by the test
 * over its own connection), the merchant API and the sandbox's control API. Each check returns
 * the violations it found as sentences; an empty list means it held.
 */

/** Attempt and refund statuses the worker or a request still owes an outcome. */
const OPEN_ATTEMPT_STATUSES: PaymentAttemptStatus[] = ['sending', 'canceling'];

/**
 * Holds at every committed moment, so it is checked after every restart too: at most one Charge
 * per attempt and per PaymentIntent; refunded ≤ captured; the charge's amount_refunded is the sum
 * of its succeeded refunds, and its reservation covers pending + succeeded refunds.
 */
export async function moneyInvariants(stack: CrashStack): Promise<string[]> {
  const violations: string[] = [];
  // One snapshot of both tables: the load goes on while this reads, and a refund recorded between
  // two separate reads would look like a charge whose reservation disagrees with its refunds.
  const begin = stack.database.db.transaction();
  const { charges, refunds } = await (stack.database.kind === 'postgres' ? begin.setIsolationLevel('repeatable read') : begin).execute(async (tx) => ({
    charges: await tx.selectFrom('charges').selectAll().execute(),
    refunds: await tx.selectFrom('refunds').selectAll().execute(),
  }));
  countBy(charges, (charge) => charge.payment_attempt_id).forEach((count, attempt) => {
    if (count > 1) violations.push(`attempt ${attempt} has ${count} charges`);
  });
  countBy(charges, (charge) => charge.payment_intent_id).forEach((count, pi) => {
    if (count > 1) violations.push(`PaymentIntent ${pi} has ${count} charges`);
  });
  for (const charge of charges) {
    const own = refunds.filter((refund) => refund.charge_id === charge.id);
    const succeeded = sum(own.filter((refund) => refund.status === 'succeeded').map((refund) => refund.amount));
    const reserved = sum(own.filter((refund) => refund.status === 'succeeded' || refund.status === 'pending').map((refund) => refund.amount));
    if (charge.amount_refunded > charge.amount_captured) violations.push(`charge ${charge.id} refunded ${charge.amount_refunded} > captured ${charge.amount_captured}`);
    if (succeeded !== charge.amount_refunded) violations.push(`charge ${charge.id} amount_refunded ${charge.amount_refunded} but its succeeded refunds sum to ${succeeded}`);
    if (reserved !== charge.amount_refund_reserved) violations.push(`charge ${charge.id} reserves ${charge.amount_refund_reserved} but its pending+succeeded refunds sum to ${reserved}`);
    if (reserved > charge.amount_captured) violations.push(`charge ${charge.id} has refunds of ${reserved} > captured ${charge.amount_captured}`);
  }
  return violations;
}

/** Nothing is left for the worker: no attempt mid-send or mid-cancel, no refund pending. */
export async function unsettled(stack: CrashStack): Promise<string[]> {
  const db = stack.database.db;
  const attempts = await db.selectFrom('payment_attempts').select(['id', 'status']).where('status', 'in', OPEN_ATTEMPT_STATUSES).execute();
  const refunds = await db.selectFrom('refunds').select(['id', 'status']).where('status', '=', 'pending').execute();
  return [...attempts.map((row) => `attempt ${row.id} ${row.status}`), ...refunds.map((row) => `refund ${row.id} pending`)];
}

interface SandboxPayment {
  paymentId: string;
  paymentRequestId: string;
  status: string;
  amount: { currency: string; value: string };
  settlementAmount: { currency: string; value: string } | null;
  refundedAmount: { currency: string; value: string };
  refunds: { refundId: string; refundRequestId: string; amount: { currency: string; value: string } }[];
}

/**
 * Once settled, the gateway agrees with the network: every sandbox payment is known to the
 * gateway by its request id; SUCCESS ⇔ a succeeded attempt with exactly one Charge; the amounts
 * refunded and each refund (by request id) match; a pending attempt is still open at the sandbox.
 */
export async function gatewayMatchesSandbox(stack: CrashStack): Promise<string[]> {
  const db = stack.database.db;
  const violations: string[] = [];
  const attempts = await db.selectFrom('payment_attempts').selectAll().execute();
  const charges = await db.selectFrom('charges').selectAll().execute();
  const refunds = await db.selectFrom('refunds').selectAll().execute();
  const sandboxDb = new BetterSqlite3(stack.sandboxDatabasePath, { readonly: true, fileMustExist: true });
  let ids: { payment_id: string }[];
  try {
    ids = sandboxDb.prepare('SELECT payment_id FROM payments ORDER BY created_at').all() as { payment_id: string }[];
  } finally {
    sandboxDb.close();
  }
  const seen = new Set<string>();
  for (const { payment_id: paymentId } of ids) {
    const response = await fetch(`${stack.sandboxUrl}/sandbox/v1/payments/${paymentId}`);
    if (response.status !== 200) {
      violations.push(`sandbox payment ${paymentId}: control API answered ${response.status}`);
      continue;
    }
    const payment = (await response.json()) as SandboxPayment;
    const attempt = attempts.find((row) => row.payment_request_id === payment.paymentRequestId);
    if (attempt === undefined) {
      violations.push(`sandbox payment ${paymentId} (${payment.status}) for request ${payment.paymentRequestId} is unknown to the gateway`);
      continue;
    }
    seen.add(attempt.id);
    if (attempt.external_payment_id !== null && attempt.external_payment_id !== paymentId) violations.push(`attempt ${attempt.id} records payment ${attempt.external_payment_id}, the sandbox has ${paymentId}`);
    const charge = charges.find((row) => row.payment_attempt_id === attempt.id);
    const expected = { SUCCESS: 'succeeded', PROCESSING: 'pending', FAIL: 'failed', CANCELLED: 'failed' }[payment.status];
    if (expected === undefined) violations.push(`sandbox payment ${paymentId} has unknown status ${payment.status}`);
    else if (attempt.status !== expected && !(payment.status === 'CANCELLED' && attempt.status === 'canceled')) {
      violations.push(`attempt ${attempt.id} is ${attempt.status}, its sandbox payment ${paymentId} is ${payment.status}`);
    }
    if ((payment.status === 'SUCCESS') !== (charge !== undefined)) violations.push(`sandbox payment ${paymentId} is ${payment.status} but the attempt ${attempt.id} has ${charge ? 'a' : 'no'} charge`);
    if (charge === undefined) continue;
    if (charge.amount_captured !== Number(payment.amount.value)) violations.push(`charge ${charge.id} captured ${charge.amount_captured}, the sandbox took ${payment.amount.value}`);
    if (charge.amount_refunded !== Number(payment.refundedAmount.value)) violations.push(`charge ${charge.id} refunded ${charge.amount_refunded}, the sandbox refunded ${payment.refundedAmount.value}`);
    const succeeded = refunds.filter((row) => row.charge_id === charge.id && row.status === 'succeeded');
    for (const refund of payment.refunds) {
      const ours = succeeded.find((row) => row.refund_request_id === refund.refundRequestId);
      if (ours === undefined) violations.push(`sandbox refund ${refund.refundId} (${refund.refundRequestId}) of ${paymentId} is not a succeeded refund at the gateway`);
      else if (ours.amount !== Number(refund.amount.value)) violations.push(`refund ${ours.id} is ${ours.amount}, the sandbox refunded ${refund.amount.value}`);
    }
    for (const row of succeeded) {
      if (!payment.refunds.some((refund) => refund.refundRequestId === row.refund_request_id)) violations.push(`refund ${row.id} succeeded at the gateway but the sandbox has no refund ${row.refund_request_id}`);
    }
  }
  for (const attempt of attempts) {
    // An attempt the sandbox never saw can only have failed (its pay never arrived).
    if (!seen.has(attempt.id) && attempt.status !== 'failed') violations.push(`attempt ${attempt.id} is ${attempt.status} but the sandbox has no payment for ${attempt.payment_request_id}`);
  }
  return violations;
}

/**
 * Exactly one Event per state change: payment_intent.succeeded once per succeeded PaymentIntent
 * (never for others), charge.succeeded once per Charge, refund.created once per refund, and per
 * refund transition one refund.updated (succeeded) with one charge.refunded, or one refund.failed.
 */
export async function eventsMatchState(stack: CrashStack): Promise<string[]> {
  const db = stack.database.db;
  const violations: string[] = [];
  const intents = await db.selectFrom('payment_intents').select(['id', 'status']).execute();
  const charges = await db.selectFrom('charges').select(['id']).execute();
  const refunds = await db.selectFrom('refunds').select(['id', 'status', 'charge_id']).execute();
  const events = (await db.selectFrom('events').select(['id', 'type', 'data']).execute()).map((row) => ({
    type: row.type,
    object: (JSON.parse(row.data) as { object: { id: string; status?: string } }).object,
  }));
  const count = (type: string, id: string, status?: string) =>
    events.filter((event) => event.type === type && event.object.id === id && (status === undefined || event.object.status === status)).length;
  for (const intent of intents) {
    const n = count('payment_intent.succeeded', intent.id);
    if (n !== (intent.status === 'succeeded' ? 1 : 0)) violations.push(`PaymentIntent ${intent.id} (${intent.status}) has ${n} payment_intent.succeeded events`);
    const created = count('payment_intent.created', intent.id);
    if (created !== 1) violations.push(`PaymentIntent ${intent.id} has ${created} payment_intent.created events`);
  }
  for (const charge of charges) {
    const n = count('charge.succeeded', charge.id);
    if (n !== 1) violations.push(`charge ${charge.id} has ${n} charge.succeeded events`);
    const refunded = refunds.filter((refund) => refund.charge_id === charge.id && refund.status === 'succeeded').length;
    const m = count('charge.refunded', charge.id);
    if (m !== refunded) violations.push(`charge ${charge.id} has ${refunded} succeeded refunds but ${m} charge.refunded events`);
  }
  for (const refund of refunds) {
    const created = count('refund.created', refund.id);
    if (created !== 1) violations.push(`refund ${refund.id} has ${created} refund.created events`);
    const succeeded = count('refund.updated', refund.id, 'succeeded');
    if (succeeded !== (refund.status === 'succeeded' ? 1 : 0)) violations.push(`refund ${refund.id} (${refund.status}) has ${succeeded} refund.updated events to succeeded`);
    const failed = count('refund.failed', refund.id);
    if (failed !== (refund.status === 'failed' ? 1 : 0)) violations.push(`refund ${refund.id} (${refund.status}) has ${failed} refund.failed events`);
  }
  return violations;
}

/**
 * Balance transactions sum to the balance (GET /v1/balance, available + pending per currency),
 * with exactly one per Charge, one per succeeded refund and none for another refund.
 */
export async function balanceMatches(stack: CrashStack): Promise<string[]> {
  const db = stack.database.db;
  const violations: string[] = [];
  const transactions = await db.selectFrom('balance_transactions').selectAll().execute();
  const charges = await db.selectFrom('charges').select(['id', 'balance_transaction']).execute();
  const refunds = await db.selectFrom('refunds').select(['id', 'status', 'balance_transaction']).execute();
  for (const charge of charges) {
    const own = transactions.filter((row) => row.type === 'charge' && row.source === charge.id);
    if (own.length !== 1 || charge.balance_transaction !== own[0]?.id) violations.push(`charge ${charge.id} has ${own.length} balance transactions (its field: ${charge.balance_transaction})`);
  }
  for (const refund of refunds) {
    const own = transactions.filter((row) => row.type === 'refund' && row.source === refund.id);
    const expected = refund.status === 'succeeded' ? 1 : 0;
    if (own.length !== expected) violations.push(`refund ${refund.id} (${refund.status}) has ${own.length} balance transactions`);
  }
  const response = await fetch(`${stack.gatewayUrl}/v1/balance`, { headers: { authorization: `Bearer ${stack.secretKey}` } });
  if (response.status !== 200) return [...violations, `GET /v1/balance answered ${response.status}`];
  const balance = (await response.json()) as { available: { amount: number; currency: string }[]; pending: { amount: number; currency: string }[] };
  const fromApi = new Map<string, number>();
  for (const entry of [...balance.available, ...balance.pending]) fromApi.set(entry.currency, (fromApi.get(entry.currency) ?? 0) + entry.amount);
  const fromRows = new Map<string, number>();
  for (const row of transactions) fromRows.set(row.currency, (fromRows.get(row.currency) ?? 0) + row.net);
  for (const currency of new Set([...fromApi.keys(), ...fromRows.keys()])) {
    if ((fromApi.get(currency) ?? 0) !== (fromRows.get(currency) ?? 0)) violations.push(`balance ${currency} is ${fromApi.get(currency) ?? 0} but its transactions sum to ${fromRows.get(currency) ?? 0}`);
  }
  return violations;
}

/**
 * Idempotency keys against the objects: each key made at most one object (counted by the
 * `crash_key` metadata the client put on it), the one its answer named; a confirm made at most one
 * attempt (every PaymentIntent here is confirmed once).
 */
export async function keysMatchObjects(stack: CrashStack, keys: readonly KeyRecord[]): Promise<string[]> {
  const db = stack.database.db;
  const violations: string[] = [];
  const intents = await db.selectFrom('payment_intents').select(['id', 'metadata']).execute();
  const refunds = await db.selectFrom('refunds').select(['id', 'metadata']).execute();
  const attempts = await db.selectFrom('payment_attempts').select(['id', 'payment_intent_id']).execute();
  const byKey = new Map<string, string[]>();
  for (const row of [...intents, ...refunds]) {
    const key = (JSON.parse(row.metadata) as Record<string, string>).crash_key;
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), row.id]);
  }
  for (const record of keys) {
    if (record.kind === 'confirm') continue;
    const made = byKey.get(record.key) ?? [];
    if (made.length > 1) violations.push(`key ${record.key} made ${made.length} objects: ${made.join(', ')}`);
    const answered = record.answer?.status === 200 ? record.answer.id : null;
    if (answered !== null && !(made.length === 1 && made[0] === answered)) violations.push(`key ${record.key} answered ${answered} but made [${made.join(', ')}]`);
  }
  countBy(attempts, (attempt) => attempt.payment_intent_id).forEach((count, pi) => {
    if (count > 1) violations.push(`PaymentIntent ${pi}, confirmed once, has ${count} attempts`);
  });
  return violations;
}

function countBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(key(row), (counts.get(key(row)) ?? 0) + 1);
  return counts;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** What the checks looked at, for the summary line: a check over nothing proves nothing. */
export async function tally(stack: CrashStack): Promise<string> {
  const db = stack.database.db;
  const intents = await db.selectFrom('payment_intents').select(['status']).execute();
  const charges = await db.selectFrom('charges').select(['amount_captured', 'amount_refunded']).execute();
  const refunds = await db.selectFrom('refunds').select(['status']).execute();
  const events = await db.selectFrom('events').select(['id']).execute();
  const transactions = await db.selectFrom('balance_transactions').select(['id']).execute();
  const by = (rows: { status: string }[]) => [...countBy(rows, (row) => row.status)].map(([status, n]) => `${n} ${status}`).join(', ');
  return `${intents.length} PaymentIntents (${by(intents)}), ${charges.length} charges (${sum(charges.map((c) => c.amount_captured))} captured, ${sum(charges.map((c) => c.amount_refunded))} refunded), `
    + `${refunds.length} refunds (${by(refunds)}), ${events.length} events, ${transactions.length} balance transactions`;
}
