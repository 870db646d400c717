import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { formatDateTime, signedHeaders, verifySignedMessage } from '../../src/alipayplus/index.js';
import Stripe from 'stripe';
import { buildSettlementReport, type SettlementReport } from '../../src/cli/report-command.js';
import type { Receiver } from './webhook-harness.js';
import { api, seedWebRequest, type ApiResponse } from './gateway-server.js';
import { E2E_CLIENT_ID, codeValueOf, payInWallet, sandboxPaymentIdsOf, waitUntil, type PaymentStack } from './e2e-harness.js';
import { fixtureKeys } from './keys.js';

/**
 * Test-only support for disputes end to end (issue 10, notes/disputes-design.md): a paid payment,
 * the sandbox's dispute control API, the merchant's dispute API, and forged dispute calls signed
 * with the protocol library. Every helper asserts the HTTP status it expects, so a test reads as
 * the path it proves.
 */

const keys = fixtureKeys();

/** Where the sandbox delivers the initiate and result calls for test mode (design §1). */
export const DISPUTE_PATHS = {
  initiateRetrieval: '/alipayplus/test/disputes/initiateRetrieval',
  initiateEscalation: '/alipayplus/test/disputes/initiateEscalation',
  notifyDisputeResult: '/alipayplus/test/disputes/notifyDisputeResult',
} as const;

export const DISPUTE_EVENT_TYPES = ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated'];

/** The exact `charge.dispute.*` sequence of each path (design: Events). */
export const DISPUTE_EVENTS = {
  retrievalAnsweredClosed: ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed'],
  retrievalPastDue: ['charge.dispute.created', 'charge.dispute.closed'],
  escalationWon: ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_reinstated'],
  escalationLost: ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.closed'],
  escalationAccepted: ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed'],
  escalationPastDue: ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed'],
} as const;

/** A PaymentIntent paid through the sandbox, with the ids both sides know it by. */
export interface PaidCharge {
  intentId: string;
  chargeId: string;
  /** The sandbox's (Alipay+'s) paymentId. */
  paymentId: string;
  paymentRequestId: string;
  amount: number;
  currency: string;
  /** The secret key of the account it belongs to. */
  key: string;
}

/**
 * Creates the seed's WEB request (HKD by default: the default account settles in HKD, so amounts
 * convert at exactly 1 and money checks are exact) and pays it in the wallet.
 */
export async function paidCharge(stack: PaymentStack, options: { amount?: number; currency?: string; key?: string } = {}): Promise<PaidCharge> {
  const key = options.key ?? stack.gateway.secretKey;
  const amount = options.amount ?? 1000;
  const currency = options.currency ?? 'HKD';
  const created = await api(stack.gateway, 'POST', '/v1/payment_intents', { key, json: { ...seedWebRequest(), amount, currency } });
  assert.equal(created.body?.status, 'requires_action', created.text);
  const paid = await payInWallet(stack, { codeValue: codeValueOf(created.body) });
  assert.equal(paid.status, 200, paid.text);
  const intent = await waitUntil(async () => {
    const got = await api(stack.gateway, 'GET', `/v1/payment_intents/${created.body.id}`, { key });
    return got.body.status === 'succeeded' ? got.body : null;
  }, `${created.body.id} to succeed`, 10_000);
  const [paymentId] = sandboxPaymentIdsOf(stack, intent.id);
  assert.ok(paymentId, 'the sandbox knows the payment');
  return { intentId: intent.id, chargeId: intent.latest_charge, paymentId, paymentRequestId: `${intent.id}_1`, amount, currency, key };
}

export interface OpenDisputeBody {
  type: 'retrieval' | 'escalation';
  amount?: number;
  reasonCode?: string;
  reasonMessage?: string;
  dueInDays?: number;
  disputeRequestId?: string;
}

/** The sandbox's control API: open a dispute on a payment, raw (for the limits). */
export function openDisputeRaw(stack: PaymentStack, paymentId: string, body: OpenDisputeBody): Promise<ApiResponse> {
  return stack.control('POST', `/sandbox/v1/payments/${paymentId}/disputes`, body);
}

/** Opens a dispute at the sandbox (201, first delivery already made); the sandbox's view. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the sandbox's control API JSON
export async function openDispute(stack: PaymentStack, paymentId: string, body: OpenDisputeBody): Promise<any> {
  const opened = await openDisputeRaw(stack, paymentId, body);
  assert.equal(opened.status, 201, opened.text);
  return opened.body;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the sandbox's control API JSON
export async function sandboxDispute(stack: PaymentStack, disputeId: string): Promise<any> {
  const got = await stack.control('GET', `/sandbox/v1/disputes/${disputeId}`);
  assert.equal(got.status, 200, got.text);
  return got.body;
}

/** Judges a case at the sandbox (200, the result notification's first delivery made); the view. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the sandbox's control API JSON
export async function judge(stack: PaymentStack, disputeId: string, outcome: 'won' | 'lost' | 'closed'): Promise<any> {
  const judged = await stack.control('POST', `/sandbox/v1/disputes/${disputeId}/judge`, { outcome });
  assert.equal(judged.status, 200, judged.text);
  return judged.body;
}

/** The merchant's disputes of a PaymentIntent, newest first. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export async function disputesOf(stack: PaymentStack, key: string, intentId: string): Promise<any[]> {
  const listed = await api(stack.gateway, 'GET', `/v1/disputes?payment_intent=${intentId}&limit=100`, { key });
  assert.equal(listed.status, 200, listed.text);
  return listed.body.data;
}

/** The gateway's Dispute for the sandbox's `disputeRequestId` (asserts there is exactly one). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export async function gatewayDispute(stack: PaymentStack, paid: PaidCharge, disputeRequestId: string): Promise<any> {
  const found = (await disputesOf(stack, paid.key, paid.intentId)).filter((d) => d.payment_method_details?.alipay?.dispute_request_id === disputeRequestId);
  assert.equal(found.length, 1, `one gateway dispute for ${disputeRequestId}, got ${found.length}`);
  return found[0];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export async function retrieveDispute(stack: PaymentStack, key: string, id: string): Promise<any> {
  const got = await api(stack.gateway, 'GET', `/v1/disputes/${id}`, { key });
  assert.equal(got.status, 200, got.text);
  return got.body;
}

/** POST /v1/disputes/:id (evidence, metadata, submit) — raw, as JSON. */
export function updateDispute(stack: PaymentStack, key: string, id: string, body: Record<string, unknown>): Promise<ApiResponse> {
  return api(stack.gateway, 'POST', `/v1/disputes/${id}`, { key, json: body });
}

/** POST /v1/disputes/:id/close — raw. */
export function closeDispute(stack: PaymentStack, key: string, id: string): Promise<ApiResponse> {
  return api(stack.gateway, 'POST', `/v1/disputes/${id}/close`, { key, json: {} });
}

/** The `charge.dispute.*` events of one dispute through GET /v1/events, oldest first. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export async function disputeEvents(stack: PaymentStack, key: string, disputeId: string): Promise<any[]> {
  const events = [];
  let after = '';
  for (;;) {
    const page = await api(stack.gateway, 'GET', `/v1/events?type=charge.dispute.*&limit=100${after}`, { key });
    assert.equal(page.status, 200, page.text);
    events.push(...page.body.data);
    if (!page.body.has_more) break;
    after = `&starting_after=${page.body.data.at(-1).id}`;
  }
  return events.filter((event) => event.data.object.id === disputeId).reverse();
}

export async function disputeEventTypes(stack: PaymentStack, key: string, disputeId: string): Promise<string[]> {
  return (await disputeEvents(stack, key, disputeId)).map((event) => event.type);
}

/**
 * The balance transactions of one dispute, oldest first: the dispute's `balance_transactions`,
 * each read back through GET /v1/balance_transactions/:id (so both views must agree).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export async function disputeTransactions(stack: PaymentStack, key: string, disputeId: string): Promise<any[]> {
  const dispute = await retrieveDispute(stack, key, disputeId);
  const out = [];
  for (const txn of dispute.balance_transactions as { id: string }[]) {
    const got = await api(stack.gateway, 'GET', `/v1/balance_transactions/${txn.id}`, { key });
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.body, txn, 'the dispute embeds the balance transaction as GET returns it');
    out.push(got.body);
  }
  return out;
}

/** GET /v1/balance_transactions?type=dispute: every dispute transaction of the account, newest first. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export async function listDisputeTransactions(stack: PaymentStack, key: string): Promise<any[]> {
  const listed = await api(stack.gateway, 'GET', '/v1/balance_transactions?type=dispute&limit=100', { key });
  assert.equal(listed.status, 200, listed.text);
  return listed.body.data;
}

/** GET /v1/balance: available + pending in one currency. */
export async function balanceIn(stack: PaymentStack, key: string, currency: string): Promise<number> {
  const got = await api(stack.gateway, 'GET', '/v1/balance', { key });
  assert.equal(got.status, 200, got.text);
  const sum = (items: { amount: number; currency: string }[]) => items.filter((item) => item.currency === currency).reduce((total, item) => total + item.amount, 0);
  return sum(got.body.available) + sum(got.body.pending);
}

/** The settlement report of the gateway's store for a UTC day (the core of `zhifu report settlement`). */
export function settlementReport(stack: PaymentStack, date: string): Promise<SettlementReport> {
  return buildSettlementReport(stack.gateway.database, null, date);
}

/** The UTC day (YYYY-MM-DD) of a clock reading. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The gateway's signed answer to an inbound dispute call. */
export interface DisputeAnswer {
  status: number;
  result: { resultCode: string; resultStatus: string; resultMessage?: string } | null;
  /** Whether the answer carries the gateway's valid signature for that path. */
  signedByGateway: boolean;
  text: string;
}

/** POSTs raw bytes to a gateway dispute endpoint, as Alipay+ (or a forger) would. */
export async function postDisputeCall(stack: PaymentStack, path: string, body: string, headers: Record<string, string>): Promise<DisputeAnswer> {
  const response = await fetch(stack.gateway.url + path, { method: 'POST', headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body });
  const text = await response.text();
  const verified = verifySignedMessage({
    kind: 'response',
    path,
    headers: response.headers,
    body: text,
    publicKeyFor: (clientId) => (clientId === E2E_CLIENT_ID ? keys.gatewayPublic : undefined),
  });
  let result: DisputeAnswer['result'] = null;
  try {
    result = (JSON.parse(text) as { result: DisputeAnswer['result'] }).result ?? null;
  } catch {
    result = null;
  }
  return { status: response.status, result, signedByGateway: verified.ok, text };
}

/**
 * Signs `signedBody` with `key` (default: Alipay+'s real key) as Client-Id `clientId` and sends
 * `sentBody` (default: the same bytes; a different one is a body altered after signing).
 */
export function sendSignedDisputeCall(
  stack: PaymentStack,
  path: string,
  signedBody: string,
  options: { key?: KeyObject; clientId?: string; sentBody?: string; nowMs?: number; signedPath?: string } = {},
): Promise<DisputeAnswer> {
  const headers = signedHeaders({ kind: 'request', path: options.signedPath ?? path, clientId: options.clientId ?? E2E_CLIENT_ID, body: signedBody, privateKey: options.key ?? keys.alipayPrivate, nowMs: options.nowMs ?? Date.now() });
  return postDisputeCall(stack, path, options.sentBody ?? signedBody, { ...headers });
}

/** An initiateEscalation body as Alipay+ writes it (wire.ts InitiateEscalationRequest). */
export function escalationBody(paid: PaidCharge, disputeRequestId: string, nowMs: number, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    disputeRequestId,
    paymentRequestId: paid.paymentRequestId,
    paymentId: paid.paymentId,
    disputeOccurTime: formatDateTime(nowMs),
    escalationAmount: { currency: paid.currency, value: String(paid.amount) },
    escalationReasonCode: 'GOODS_NOT_RECEIVED',
    escalationReasonMessage: 'the tea never came',
    responseDeadline: formatDateTime(nowMs + 15 * 24 * 3600_000),
    ...overrides,
  });
}

/** An initiateRetrieval body as Alipay+ writes it (wire.ts InitiateRetrievalRequest). */
export function retrievalBody(paid: PaidCharge, disputeRequestId: string, nowMs: number, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    disputeRequestId,
    paymentRequestId: paid.paymentRequestId,
    paymentId: paid.paymentId,
    disputeOccurTime: formatDateTime(nowMs),
    retrievalReasonCode: 'TRANSACTION_INFORMATION_REQUEST',
    requestInformationType: ['TRANSACTION_RECEIPT'],
    responseDeadline: formatDateTime(nowMs + 20 * 24 * 3600_000),
    ...overrides,
  });
}

/** Evidence a merchant sends (text fields of Stripe's `evidence`). */
export const EVIDENCE = {
  product_description: 'Longjing green tea, 250 g',
  customer_name: 'Li Wei',
  receipt: 'Receipt #42, paid 2026-11-26',
  shipping_tracking_number: 'SF1234567890',
};

/** The documents the sandbox must have received for EVIDENCE (design: documentType = field upper-cased). */
export function documentsOf(evidence: Record<string, string>): { documentType: string; documentContent: string }[] {
  return Object.entries(evidence).map(([field, text]) => ({ documentType: field.toUpperCase(), documentContent: text })).sort((a, b) => a.documentType.localeCompare(b.documentType));
}

export function sortedDocuments(documents: { documentType: string; documentContent: string }[] | undefined): { documentType: string; documentContent: string }[] {
  return [...(documents ?? [])].map((d) => ({ documentType: d.documentType, documentContent: d.documentContent })).sort((a, b) => a.documentType.localeCompare(b.documentType));
}

/** A stack whose gateway worker the test drives (test/gateway/worker-support.ts `startWorkerStack`). */
export interface DrivenStack {
  stack: PaymentStack;
  worker(): { runOnce(): Promise<unknown> };
}

/** One pass of the gateway's dispute worker: deadlines and re-sends of unanswered responses. */
export async function runDisputeWorker(ws: DrivenStack): Promise<void> {
  await ws.worker().runOnce();
}

/** Waits until the sandbox's view of a dispute satisfies `check`; the view. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the sandbox's control API JSON
export async function waitForSandboxDispute(stack: PaymentStack, disputeId: string, check: (view: any) => boolean, what: string, timeoutMs = 5000): Promise<any> {
  return waitUntil(async () => {
    const view = await sandboxDispute(stack, disputeId);
    return check(view) ? view : null;
  }, what, timeoutMs);
}

const webhookVerifier = new Stripe('sk_test_unused', { maxNetworkRetries: 0 });

/** A webhook endpoint subscribed to the five dispute events; its signing secret. */
export async function subscribeToDisputes(stack: PaymentStack, key: string, receiver: Receiver): Promise<string> {
  const endpoint = await api(stack.gateway, 'POST', '/v1/webhook_endpoints', { key, json: { url: receiver.url, enabled_events: DISPUTE_EVENT_TYPES } });
  assert.equal(endpoint.status, 200, endpoint.text);
  return endpoint.body.secret;
}

/**
 * The dispute's events through GET /v1/events are exactly `expected`, in order, and each was
 * delivered to the webhook endpoint once, with a valid signature and the dispute as its object.
 */
export async function assertEventsAndWebhooks(
  stack: PaymentStack,
  key: string,
  receiver: Receiver,
  secret: string,
  disputeId: string,
  expected: readonly string[],
  /** Seconds the signature's timestamp may be from real now (a manual clock signs with its own time). */
  toleranceSec = 300,
): Promise<void> {
  assert.deepEqual(await disputeEventTypes(stack, key, disputeId), expected, `events of ${disputeId}`);
  const events = await disputeEvents(stack, key, disputeId);
  const mine = () => receiver.received.filter((r) => events.some((e) => e.id === r.eventId));
  await waitUntil(() => mine().length >= expected.length, `${expected.length} webhooks for ${disputeId}`, 15_000);
  const delivered = mine().map((r) => webhookVerifier.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, secret, toleranceSec));
  assert.deepEqual(delivered.map((e) => e.id).sort(), events.map((e) => e.id).sort(), 'each event delivered once');
  for (const event of delivered) {
    assert.equal((event.data.object as { id: string }).id, disputeId);
    assert.equal((event.data.object as { object: string }).object, 'dispute');
  }
}
