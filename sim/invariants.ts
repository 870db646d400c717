import { WORKER_LEASE_MS } from '../src/gateway/workers/worker.js';
import type { SimStack } from './stack.js';

/**
 * The money-safety invariants of issue 9, each a pure reading of the gateway's store (or the
 * sandbox's control API) that returns what is wrong, one line per finding; [] is "holds".
 * Names are stable: the CLI and the CI test report them.
 */
export type InvariantName =
  | 'one_charge_per_attempt'
  | 'refunded_le_captured'
  /** Issue 10: per charge, refunds (pending + succeeded) and escalations not won together ≤ captured, at the gateway and at Alipay+. */
  | 'refunds_and_disputes_le_captured'
  | 'one_event_per_state_change'
  | 'balance_sums'
  | 'no_stuck_idempotency_key'
  | 'no_row_checked_by_two_workers'
  | 'gateway_equals_alipayplus'
  /** Issue 9: a `confirm: true` create cut by a crash is finished (by the retry or the worker), never left unconfirmed. */
  | 'no_stranded_confirm'
  /** Not one of issue 9's list, but never acceptable: a merchant call answered 5xx outside a crash. */
  | 'no_server_error';

export interface Violation {
  invariant: InvariantName;
  detail: string;
}

interface EventRow {
  type: string;
  data: string;
}

/**
 * Everything the checks after a step read, in one read transaction: a notification the sandbox
 * sends in the background (a delayed one) may commit at any moment, and the checks compare
 * tables with each other.
 */
async function snapshot(stack: SimStack) {
  const read = stack.database.db.transaction();
  return (stack.database.kind === 'postgres' ? read.setIsolationLevel('repeatable read') : read).execute(async (db) => {
    const intents = await db.selectFrom('payment_intents').select(['id', 'status', 'amount', 'amount_received', 'latest_charge', 'currency', 'metadata']).execute();
    const attempts = await db.selectFrom('payment_attempts').select(['id', 'payment_intent_id', 'payment_request_id', 'status', 'amount', 'currency', 'external_payment_id', 'reversal', 'reversal_refund_request_id']).execute();
    const charges = await db.selectFrom('charges').select(['id', 'payment_intent_id', 'payment_attempt_id', 'amount', 'amount_captured', 'amount_refunded', 'amount_refund_reserved', 'amount_dispute_reserved', 'status', 'balance_transaction', 'disputed']).execute();
    const refunds = await db.selectFrom('refunds').select(['id', 'charge_id', 'payment_request_id', 'refund_request_id', 'amount', 'status', 'balance_transaction']).execute();
    const events = (await db.selectFrom('events').select(['type', 'data']).execute()) as EventRow[];
    const transactions = await db.selectFrom('balance_transactions').select(['id', 'type', 'reporting_category', 'source', 'amount', 'net', 'currency', 'source_amount']).execute();
    const sessions = await db.selectFrom('checkout_sessions').select(['id', 'status']).execute();
    const disputes = await db.selectFrom('disputes').select(['id', 'charge_id', 'kind', 'status', 'amount', 'dispute_request_id', 'balance_transactions', 'past_due']).execute();
    return { intents, attempts, charges, refunds, events, transactions, sessions, disputes };
  });
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** The invariants checked after every step (the settled comparison with Alipay+ is `checkSettled`). */
export async function checkStep(stack: SimStack): Promise<Violation[]> {
  // The balance is read through the API, outside the snapshot: read it before and after, and
  // take the snapshot again when a background commit fell in between.
  for (let tries = 1; ; tries++) {
    const before = await reportedBalance(stack);
    const s = await snapshot(stack);
    const after = await reportedBalance(stack);
    if (JSON.stringify(before) !== JSON.stringify(after) && tries < 5) continue;
    return [...oneChargePerAttempt(s), ...refundedLeCaptured(s), ...refundsAndDisputesLeCaptured(s), ...oneEventPerStateChange(s), ...balanceSums(after, s), ...workerOverlaps(stack)];
  }
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function oneChargePerAttempt(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  for (const [attempt, n] of countBy(s.charges, (charge) => charge.payment_attempt_id)) {
    if (n > 1) out.push({ invariant: 'one_charge_per_attempt', detail: `attempt ${attempt} has ${n} charges` });
  }
  const attempts = new Map(s.attempts.map((attempt) => [attempt.id, attempt]));
  for (const charge of s.charges) {
    const attempt = attempts.get(charge.payment_attempt_id);
    if (attempt?.status !== 'succeeded') out.push({ invariant: 'one_charge_per_attempt', detail: `charge ${charge.id} belongs to attempt ${charge.payment_attempt_id} in status ${attempt?.status ?? 'missing'}` });
  }
  for (const [intent, n] of countBy(s.charges, (charge) => charge.payment_intent_id)) {
    if (n > 1) out.push({ invariant: 'one_charge_per_attempt', detail: `PaymentIntent ${intent} has ${n} charges (paid twice)` });
  }
  return out;
}

function refundedLeCaptured(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  for (const charge of s.charges) {
    const mine = s.refunds.filter((refund) => refund.charge_id === charge.id);
    const succeeded = mine.filter((refund) => refund.status === 'succeeded').reduce((sum, refund) => sum + refund.amount, 0);
    const reserved = mine.filter((refund) => refund.status === 'succeeded' || refund.status === 'pending').reduce((sum, refund) => sum + refund.amount, 0);
    const bad = (why: string) => out.push({ invariant: 'refunded_le_captured', detail: `charge ${charge.id} (captured ${charge.amount_captured}): ${why}` });
    if (charge.amount_refunded > charge.amount_captured) bad(`amount_refunded ${charge.amount_refunded} > captured`);
    if (succeeded > charge.amount_captured) bad(`succeeded refunds total ${succeeded} > captured`);
    if (reserved > charge.amount_captured) bad(`pending + succeeded refunds total ${reserved} > captured`);
    if (succeeded !== charge.amount_refunded) bad(`amount_refunded ${charge.amount_refunded} != succeeded refunds ${succeeded}`);
    if (reserved !== charge.amount_refund_reserved) bad(`amount_refund_reserved ${charge.amount_refund_reserved} != pending + succeeded refunds ${reserved}`);
  }
  return out;
}

/** Dispute statuses that are final (the case is closed). */
const CLOSED_DISPUTE_STATUSES = ['warning_closed', 'won', 'lost'];

/**
 * Never more lost than captured: per charge, the refunds that hold money (pending + succeeded)
 * and the escalations not won (their amount is withdrawn) add up to at most the captured amount,
 * and the charge's dispute reservation is exactly those escalations; a charge with a dispute says
 * `disputed`.
 */
function refundsAndDisputesLeCaptured(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  for (const charge of s.charges) {
    const bad = (why: string) => out.push({ invariant: 'refunds_and_disputes_le_captured', detail: `charge ${charge.id} (captured ${charge.amount_captured}): ${why}` });
    const refunds = s.refunds.filter((refund) => refund.charge_id === charge.id && (refund.status === 'succeeded' || refund.status === 'pending')).reduce((sum, refund) => sum + refund.amount, 0);
    const mine = s.disputes.filter((dispute) => dispute.charge_id === charge.id);
    const escalated = mine.filter((dispute) => dispute.kind === 'escalation' && dispute.status !== 'won').reduce((sum, dispute) => sum + dispute.amount, 0);
    if (refunds + escalated > charge.amount_captured) bad(`refunds ${refunds} + escalations not won ${escalated} > captured`);
    if (escalated !== charge.amount_dispute_reserved) bad(`amount_dispute_reserved ${charge.amount_dispute_reserved} != escalations not won ${escalated}`);
    if (mine.length > 0 && charge.disputed !== 1) bad(`has ${mine.length} dispute(s) but is not marked disputed`);
  }
  return out;
}

/**
 * Events of api.md §5 for each state change, exactly once: one payment_intent.created per
 * PaymentIntent, one .succeeded / .canceled for one that is, one charge.succeeded per Charge,
 * one refund.created per Refund, one refund.failed per failed one, one status change
 * (refund.updated and charge.refund.updated with previous status pending) per final refund, one
 * charge.refunded per succeeded refund, one checkout.session.completed / .expired per session.
 */
function oneEventPerStateChange(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const counts = new Map<string, number>();
  const bump = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const event of s.events) {
    const data = JSON.parse(event.data) as { object: { id: string }; previous_attributes?: { status?: string } };
    bump(`${event.type}|${data.object.id}`);
    if ((event.type === 'refund.updated' || event.type === 'charge.refund.updated') && data.previous_attributes?.status !== undefined) bump(`${event.type}:status|${data.object.id}`);
  }
  const expect = (type: string, id: string, n: number) => {
    const got = counts.get(`${type}|${id}`) ?? 0;
    if (got !== n) out.push({ invariant: 'one_event_per_state_change', detail: `${id}: ${got} ${type} event(s), expected ${n}` });
  };
  for (const intent of s.intents) {
    expect('payment_intent.created', intent.id, 1);
    expect('payment_intent.succeeded', intent.id, intent.status === 'succeeded' ? 1 : 0);
    expect('payment_intent.canceled', intent.id, intent.status === 'canceled' ? 1 : 0);
  }
  for (const charge of s.charges) {
    expect('charge.succeeded', charge.id, 1);
    expect('charge.refunded', charge.id, s.refunds.filter((refund) => refund.charge_id === charge.id && refund.status === 'succeeded').length);
  }
  for (const refund of s.refunds) {
    const final = refund.status !== 'pending' ? 1 : 0;
    expect('refund.created', refund.id, 1);
    expect('refund.failed', refund.id, refund.status === 'failed' ? 1 : 0);
    expect('refund.updated:status', refund.id, final);
    expect('charge.refund.updated:status', refund.id, final);
  }
  for (const session of s.sessions) {
    expect('checkout.session.completed', session.id, session.status === 'complete' ? 1 : 0);
    expect('checkout.session.expired', session.id, session.status === 'expired' ? 1 : 0);
  }
  // Disputes (api.md §7a): one created, a withdrawal per escalation, one closed once closed, a reinstatement iff won.
  for (const dispute of s.disputes) {
    expect('charge.dispute.created', dispute.id, 1);
    expect('charge.dispute.funds_withdrawn', dispute.id, dispute.kind === 'escalation' ? 1 : 0);
    expect('charge.dispute.closed', dispute.id, CLOSED_DISPUTE_STATUSES.includes(dispute.status) ? 1 : 0);
    expect('charge.dispute.funds_reinstated', dispute.id, dispute.status === 'won' ? 1 : 0);
  }
  return out;
}

/**
 * The balance the API reports is the sum of the balance transactions, and those are exactly one
 * per succeeded charge and succeeded refund that Alipay+ settled, for the amount that moved.
 */
async function reportedBalance(stack: SimStack): Promise<[string, number][] | string> {
  const response = await stack.request('GET', '/v1/balance', { authorization: `Bearer ${stack.secretKey}` }, undefined, 30_000);
  if (response.status !== 200) return `GET /v1/balance answered ${response.status}`;
  const balance = JSON.parse(response.text) as { available: { amount: number; currency: string }[]; pending: { amount: number; currency: string }[] };
  const reported = new Map<string, number>();
  for (const item of [...balance.available, ...balance.pending]) reported.set(item.currency, (reported.get(item.currency) ?? 0) + item.amount);
  return [...reported].sort();
}

function balanceSums(balance: [string, number][] | string, s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const bad = (detail: string) => out.push({ invariant: 'balance_sums', detail });
  if (typeof balance === 'string') return [{ invariant: 'balance_sums', detail: balance }];
  const reported = new Map(balance);
  const summed = new Map<string, number>();
  for (const txn of s.transactions) summed.set(txn.currency, (summed.get(txn.currency) ?? 0) + txn.net);
  for (const currency of new Set([...reported.keys(), ...summed.keys()])) {
    if ((reported.get(currency) ?? 0) !== (summed.get(currency) ?? 0)) bad(`${currency}: /v1/balance says ${reported.get(currency) ?? 0}, balance transactions sum to ${summed.get(currency) ?? 0}`);
  }
  for (const [source, n] of countBy(s.transactions, (txn) => source_key(txn))) {
    if (n > 1) bad(`${n} balance transactions for ${source}`);
  }
  const charges = new Map(s.charges.map((charge) => [charge.id, charge]));
  const refunds = new Map(s.refunds.map((refund) => [refund.id, refund]));
  const disputes = new Map(s.disputes.map((dispute) => [dispute.id, dispute]));
  for (const txn of s.transactions) {
    if (txn.type === 'dispute') {
      const dispute = disputes.get(txn.source);
      const listed = dispute === undefined ? [] : (JSON.parse(dispute.balance_transactions) as string[]);
      if (dispute?.kind !== 'escalation') bad(`dispute transaction ${txn.id} for ${txn.source} (${dispute === undefined ? 'missing' : `a ${dispute.kind}`}): only escalations move money`);
      else if (!listed.includes(txn.id)) bad(`dispute transaction ${txn.id} is not on ${dispute.id}'s balance_transactions ${dispute.balance_transactions}`);
      else if (txn.source_amount < 0 && txn.source_amount !== -dispute.amount) bad(`withdrawal ${txn.id} moves ${txn.source_amount}, the escalation is ${dispute.amount}`);
      else if (txn.source_amount > 0 && (dispute.status !== 'won' || txn.source_amount !== dispute.amount)) bad(`reinstatement ${txn.id} of ${txn.source_amount} for ${dispute.id} (${dispute.status}, ${dispute.amount})`);
      else if (txn.source_amount === 0) bad(`dispute transaction ${txn.id} moves nothing`);
    }
  }
  for (const dispute of s.disputes) {
    if (dispute.kind !== 'escalation') continue;
    const mine = s.transactions.filter((txn) => txn.type === 'dispute' && txn.source === dispute.id);
    const withdrawals = mine.filter((txn) => txn.amount < 0).length;
    const reinstatements = mine.filter((txn) => txn.amount > 0).length;
    if (withdrawals !== 1) bad(`escalation ${dispute.id} has ${withdrawals} withdrawal(s), expected 1`);
    if (reinstatements !== (dispute.status === 'won' ? 1 : 0)) bad(`escalation ${dispute.id} (${dispute.status}) has ${reinstatements} reinstatement(s)`);
    if (JSON.parse(dispute.balance_transactions).length !== mine.length) bad(`escalation ${dispute.id} lists ${dispute.balance_transactions}, ${mine.length} exist`);
  }
  for (const txn of s.transactions) {
    if (txn.type === 'charge') {
      const charge = charges.get(txn.source);
      if (charge?.status !== 'succeeded' || charge.balance_transaction !== txn.id) bad(`charge transaction ${txn.id} for ${txn.source} (status ${charge?.status ?? 'missing'})`);
      else if (txn.source_amount !== charge.amount) bad(`charge transaction ${txn.id} moves ${txn.source_amount}, the charge is ${charge.amount}`);
    } else if (txn.type === 'refund') {
      const refund = refunds.get(txn.source);
      if (refund?.status !== 'succeeded' || refund.balance_transaction !== txn.id) bad(`refund transaction ${txn.id} for ${txn.source} (status ${refund?.status ?? 'missing'})`);
      else if (txn.source_amount !== -refund.amount) bad(`refund transaction ${txn.id} moves ${txn.source_amount}, the refund is ${refund.amount}`);
    }
  }
  const withTxn = new Set(s.transactions.map((txn) => txn.id));
  for (const charge of s.charges) if (charge.balance_transaction !== null && !withTxn.has(charge.balance_transaction)) bad(`charge ${charge.id} names missing balance transaction ${charge.balance_transaction}`);
  for (const refund of s.refunds) if (refund.balance_transaction !== null && !withTxn.has(refund.balance_transaction)) bad(`refund ${refund.id} names missing balance transaction ${refund.balance_transaction}`);
  return out;
}

/** A source has one transaction per category: a charge, a refund, a dispute's withdrawal and its reinstatement. */
function source_key(txn: { type: string; reporting_category: string | null; source: string; amount: number }): string {
  return txn.type === 'dispute' ? `dispute ${txn.amount < 0 ? 'withdrawal' : 'reinstatement'} ${txn.source}` : `${txn.type} ${txn.source}`;
}

function workerOverlaps(stack: SimStack): Violation[] {
  const found = stack.observer.overlaps.splice(0);
  return found.map((overlap) => ({
    invariant: 'no_row_checked_by_two_workers',
    detail: `${overlap.row}: ${overlap.second.worker} called ${overlap.second.call} while ${overlap.first.worker} was inside ${overlap.first.call} it started ${(overlap.second.startedAtMs - overlap.first.startedAtMs) / 1000} s before (lease ${WORKER_LEASE_MS / 1000} s)`,
  }));
}

interface SandboxPayment {
  status: string;
  amount: { value: string };
  refundedAmount: { value: string };
  refunds: { refundRequestId: string; amount: { value: string } }[];
}

/**
 * Once settled (no faults, workers and notifier run until nothing is due), the gateway and
 * Alipay+ agree on every payment and refund: read each attempt's payment through the sandbox's
 * control API and compare. A payment Alipay+ holds as paid that the gateway does not count as a
 * charge, without its money returned, is a lost payment.
 */
export async function checkSettled(stack: SimStack): Promise<Violation[]> {
  const out: Violation[] = [];
  const bad = (detail: string) => out.push({ invariant: 'gateway_equals_alipayplus', detail });
  const s = await snapshot(stack);
  const sandboxRows = stack.sandbox.context.db.prepare('SELECT payment_id, payment_request_id FROM payments').all() as { payment_id: string; payment_request_id: string }[];
  const paymentIdOf = new Map(sandboxRows.map((row) => [row.payment_request_id, row.payment_id]));
  const known = new Set(s.attempts.map((attempt) => attempt.payment_request_id));
  const fetchPayment = async (paymentId: string): Promise<SandboxPayment> => {
    const response = await fetch(`${stack.sandboxUrl}/sandbox/v1/payments/${paymentId}`);
    if (response.status !== 200) throw new Error(`sandbox payment ${paymentId}: HTTP ${response.status}`);
    return (await response.json()) as SandboxPayment;
  };
  const chargeOfAttempt = new Map(s.charges.map((charge) => [charge.payment_attempt_id, charge]));
  for (const attempt of s.attempts) {
    const where = `attempt ${attempt.payment_request_id} (${attempt.status}${attempt.reversal ? `, reversal ${attempt.reversal}` : ''})`;
    if (!['succeeded', 'failed', 'canceled'].includes(attempt.status)) {
      bad(`${where} is still open after settling`);
      continue;
    }
    const paymentId = paymentIdOf.get(attempt.payment_request_id);
    if (paymentId === undefined) {
      if (attempt.status === 'succeeded') bad(`${where} is unknown to Alipay+`);
      continue;
    }
    const payment = await fetchPayment(paymentId);
    const refunded = Number(payment.refundedAmount.value);
    const amount = Number(payment.amount.value);
    if (attempt.status === 'succeeded') {
      if (payment.status !== 'SUCCESS') bad(`${where}: Alipay+ has ${payment.status}`);
      const charge = chargeOfAttempt.get(attempt.id);
      if (charge === undefined) bad(`${where} has no charge`);
      else {
        const gatewayRefunds = s.refunds.filter((refund) => refund.charge_id === charge.id && refund.status === 'succeeded');
        const gatewayIds = gatewayRefunds.map((refund) => refund.refund_request_id).sort();
        const sandboxIds = payment.refunds.map((refund) => refund.refundRequestId).sort();
        if (JSON.stringify(gatewayIds) !== JSON.stringify(sandboxIds)) bad(`${where}: succeeded refunds ${JSON.stringify(gatewayIds)} at the gateway, ${JSON.stringify(sandboxIds)} at Alipay+`);
        if (refunded !== charge.amount_refunded) bad(`${where}: refunded ${charge.amount_refunded} at the gateway, ${refunded} at Alipay+`);
      }
    } else if (payment.status === 'SUCCESS' && refunded < amount) {
      bad(`${where}: LOST PAYMENT — Alipay+ has it paid (${amount}, refunded ${refunded}) but the gateway has no charge for it`);
    } else if (payment.status === 'PROCESSING') {
      bad(`${where}: Alipay+ still has it open (the shopper can still pay)`);
    }
  }
  for (const row of sandboxRows) {
    if (known.has(row.payment_request_id)) continue;
    const payment = await fetchPayment(row.payment_id);
    if (payment.status === 'SUCCESS' && Number(payment.refundedAmount.value) < Number(payment.amount.value)) bad(`Alipay+ payment ${row.payment_request_id} is paid but the gateway has no attempt for it`);
  }
  for (const refund of s.refunds) {
    if (refund.status === 'pending') bad(`refund ${refund.id} is still pending after settling`);
  }
  for (const intent of s.intents) {
    const succeeded = s.attempts.filter((attempt) => attempt.payment_intent_id === intent.id && attempt.status === 'succeeded');
    if (intent.status === 'succeeded' && (succeeded.length !== 1 || intent.amount_received !== intent.amount)) bad(`PaymentIntent ${intent.id} succeeded with ${succeeded.length} succeeded attempts, amount_received ${intent.amount_received} of ${intent.amount}`);
    if (intent.status !== 'succeeded' && succeeded.length > 0) bad(`PaymentIntent ${intent.id} is ${intent.status} but attempt ${succeeded[0]!.payment_request_id} succeeded`);
    if (['requires_action', 'processing'].includes(intent.status)) bad(`PaymentIntent ${intent.id} is still ${intent.status} after settling`);
    if (intent.status === 'requires_confirmation' && (JSON.parse(intent.metadata) as Record<string, string>).confirm === 'true') {
      out.push({ invariant: 'no_stranded_confirm', detail: `PaymentIntent ${intent.id} was created with confirm: true but is still requires_confirmation after settling` });
    }
  }
  out.push(...(await disputesSettled(stack, s)));
  return out;
}

/** What the gateway's status may be for each state of the case at Alipay+, once settled. */
const GATEWAY_STATUSES_FOR: Record<string, readonly string[]> = {
  // A retrieval the merchant closed sends nothing: Alipay+ still has it open.
  'RETRIEVAL OPEN': ['warning_needs_response', 'warning_closed'],
  'RETRIEVAL RESPONDED': ['warning_under_review'],
  'RETRIEVAL CLOSED': ['warning_closed'],
  'RETRIEVAL EXPIRED': ['warning_closed'],
  'ESCALATION OPEN': ['needs_response'],
  'ESCALATION RESPONDED': ['under_review'],
  'ESCALATION WON': ['won'],
  'ESCALATION LOST': ['lost'],
  'ESCALATION ACCEPTED': ['lost'],
  'ESCALATION EXPIRED': ['lost'],
};

interface SandboxDisputeView {
  disputeId: string;
  disputeRequestId: string;
  type: 'RETRIEVAL' | 'ESCALATION';
  state: string;
  paymentId: string;
  amount: { value: string } | null;
}

/**
 * Once settled, every case Alipay+ holds is the gateway's dispute in the matching status (a case
 * the gateway refused is not recorded), the gateway has no dispute Alipay+ does not, and Alipay+'s
 * own books never hold more refunded and escalated than was paid.
 */
async function disputesSettled(stack: SimStack, s: Snapshot): Promise<Violation[]> {
  const out: Violation[] = [];
  const bad = (detail: string) => out.push({ invariant: 'gateway_equals_alipayplus', detail });
  const ids = stack.sandbox.context.db.prepare('SELECT dispute_id FROM disputes ORDER BY dispute_id').all() as { dispute_id: string }[];
  const views: SandboxDisputeView[] = [];
  for (const { dispute_id: id } of ids) {
    // The control API applies an expired deadline as it reads (the store alone would not).
    const response = await fetch(`${stack.sandboxUrl}/sandbox/v1/disputes/${id}`);
    if (response.status !== 200) throw new Error(`sandbox dispute ${id}: HTTP ${response.status}`);
    views.push((await response.json()) as SandboxDisputeView);
  }
  const gateway = new Map(s.disputes.map((dispute) => [dispute.dispute_request_id, dispute]));
  const seen = new Set<string>();
  for (const view of views) {
    const mine = gateway.get(view.disputeRequestId);
    const where = `${view.type.toLowerCase()} ${view.disputeId} (${view.disputeRequestId}, ${view.state} at Alipay+)`;
    if (view.state === 'REJECTED') {
      if (mine !== undefined) bad(`${where}: the gateway refused it but recorded ${mine.id} (${mine.status})`);
      continue;
    }
    seen.add(view.disputeRequestId);
    if (mine === undefined) {
      bad(`${where}: never recorded by the gateway`);
      continue;
    }
    const allowed = GATEWAY_STATUSES_FOR[`${view.type} ${view.state}`] ?? [];
    if (!allowed.includes(mine.status)) bad(`${where}: the gateway has ${mine.id} ${mine.status}`);
    if (view.type === 'ESCALATION' && Number(view.amount?.value) !== mine.amount) bad(`${where}: ${view.amount?.value} at Alipay+, ${mine.amount} at the gateway`);
  }
  for (const dispute of s.disputes) {
    if (!seen.has(dispute.dispute_request_id)) bad(`dispute ${dispute.id} (${dispute.dispute_request_id}, ${dispute.status}) is unknown to Alipay+ (or was refused there)`);
  }
  const byPayment = new Map<string, SandboxDisputeView[]>();
  for (const view of views) byPayment.set(view.paymentId, [...(byPayment.get(view.paymentId) ?? []), view]);
  for (const [paymentId, mine] of byPayment) {
    const response = await fetch(`${stack.sandboxUrl}/sandbox/v1/payments/${paymentId}`);
    const payment = (await response.json()) as SandboxPayment;
    const escalated = mine.filter((view) => view.type === 'ESCALATION' && !['WON', 'REJECTED'].includes(view.state)).reduce((sum, view) => sum + Number(view.amount?.value ?? 0), 0);
    if (Number(payment.refundedAmount.value) + escalated > Number(payment.amount.value)) {
      out.push({ invariant: 'refunds_and_disputes_le_captured', detail: `Alipay+ payment ${paymentId}: refunded ${payment.refundedAmount.value} + escalated ${escalated} > paid ${payment.amount.value}` });
    }
  }
  return out;
}
