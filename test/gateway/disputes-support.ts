import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { formatDateTime, signedHeaders, verifySignedMessage } from '../../src/alipayplus/index.js';
import { DISPUTE_PATHS } from '../../src/gateway/connector/alipayplus/paths.js';
import { createAccount, createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { api, seedWebRequest, type ApiResponse } from '../support/gateway-server.js';
import { E2E_CLIENT_ID, codeValueOf, payInWallet, sandboxPaymentIdsOf, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';

export const keys = fixtureKeys();
export const DAY_MS = 24 * 60 * 60 * 1000;

/** A form body (application/x-www-form-urlencoded), as the stripe SDK and WooshPay clients send. */
export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

export interface PaidPayment {
  paymentIntentId: string;
  chargeId: string;
  /** Alipay+'s (the sandbox's) paymentId. */
  paymentId: string;
  paymentRequestId: string;
  amount: number;
}

/** A merchant account with its own secret key (its own balance, its own disputes). */
export async function newMerchant(stack: PaymentStack, settlementCurrency: 'GBP' | 'HKD' | 'EUR' = 'HKD'): Promise<string> {
  const { database, clock } = stack.gateway;
  const ids = createIdGenerator(clock);
  const account = await createAccount(database.db, clock, ids, { name: 'Dispute Tea Shop', settlementCurrency });
  return (await createApiKeys(database.db, clock, ids, account.id, false)).secretKey;
}

/** Creates and pays the seed's WEB request for `amount` through the real sandbox; waits until it succeeded. */
export async function paidPayment(stack: PaymentStack, key: string, amount = 10000): Promise<PaidPayment> {
  const created = await api(stack.gateway, 'POST', '/v1/payment_intents', { key, json: { ...seedWebRequest(), amount } });
  assert.equal(created.body.status, 'requires_action', created.text);
  assert.equal((await payInWallet(stack, { codeValue: codeValueOf(created.body) })).status, 200);
  const succeeded = await waitUntil(async () => {
    const intent = await api(stack.gateway, 'GET', `/v1/payment_intents/${created.body.id}`, { key });
    return intent.body.status === 'succeeded' ? intent.body : null;
  }, 'the payment to succeed');
  const [paymentId] = sandboxPaymentIdsOf(stack, created.body.id);
  assert.ok(paymentId);
  return { paymentIntentId: created.body.id, chargeId: succeeded.latest_charge, paymentId, paymentRequestId: `${created.body.id}_1`, amount };
}

/** The sandbox control API: a shopper opens a dispute. */
export function openAtSandbox(stack: PaymentStack, paymentId: string, body: Record<string, unknown>): Promise<ApiResponse> {
  return stack.control('POST', `/sandbox/v1/payments/${paymentId}/disputes`, body);
}

export function judgeAtSandbox(stack: PaymentStack, disputeId: string, outcome: 'won' | 'lost' | 'closed'): Promise<ApiResponse> {
  return stack.control('POST', `/sandbox/v1/disputes/${disputeId}/judge`, { outcome });
}

export async function sandboxDispute(stack: PaymentStack, disputeId: string) {
  return (await stack.control('GET', `/sandbox/v1/disputes/${disputeId}`)).body;
}

/** The gateway's disputes of a charge, oldest first (GET /v1/disputes?charge=…). */
export async function disputesOf(stack: PaymentStack, key: string, chargeId: string) {
  const listed = await api(stack.gateway, 'GET', `/v1/disputes?charge=${chargeId}`, { key });
  assert.equal(listed.status, 200, listed.text);
  return [...(listed.body.data as ApiResponse['body'][])].reverse();
}

export async function onlyDisputeOf(stack: PaymentStack, key: string, chargeId: string) {
  const disputes = await disputesOf(stack, key, chargeId);
  assert.equal(disputes.length, 1, JSON.stringify(disputes));
  return disputes[0]!;
}

/** The event types whose `data.object` is this dispute, oldest first. */
export async function disputeEventTypes(stack: PaymentStack, disputeId: string): Promise<string[]> {
  const rows = await stack.gateway.database.db.selectFrom('events').select(['id', 'type', 'data']).where('type', 'like', 'charge.dispute.%').orderBy('id').execute();
  return rows.filter((row) => (JSON.parse(row.data) as { object: { id: string } }).object.id === disputeId).map((row) => row.type);
}

export async function balanceOf(stack: PaymentStack, key: string): Promise<number> {
  const balance = await api(stack.gateway, 'GET', '/v1/balance', { key });
  assert.equal(balance.status, 200, balance.text);
  const all = [...balance.body.available, ...balance.body.pending] as { amount: number }[];
  return all.reduce((sum, entry) => sum + entry.amount, 0);
}

export interface DisputeAnswer {
  status: number;
  result: { resultCode: string; resultStatus: string; resultMessage: string };
  /** Whether the answer carries the gateway's valid signature for the path it was posted to. */
  signedByGateway: boolean;
}

/** POSTs raw bytes to a gateway dispute endpoint (as Alipay+, or a forger, would) and reads the signed answer. */
export async function postDisputeCall(stack: PaymentStack, call: keyof (typeof DISPUTE_PATHS)['test'], body: string, headers: Record<string, string>): Promise<DisputeAnswer> {
  const path = DISPUTE_PATHS.test[call];
  const response = await fetch(stack.gateway.url + path, { method: 'POST', headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body });
  const text = await response.text();
  const verified = verifySignedMessage({ kind: 'response', path, headers: response.headers, body: text, publicKeyFor: (clientId) => (clientId === E2E_CLIENT_ID ? keys.gatewayPublic : undefined) });
  return { status: response.status, result: (JSON.parse(text) as { result: DisputeAnswer['result'] }).result, signedByGateway: verified.ok };
}

/** Signs `body` as Alipay+ does (or with another key / client / path) and sends it. */
export function sendSignedDisputeCall(
  stack: PaymentStack,
  call: keyof (typeof DISPUTE_PATHS)['test'],
  body: string,
  options: { key?: KeyObject; clientId?: string; signedPath?: string; sentBody?: string } = {},
): Promise<DisputeAnswer> {
  const headers = signedHeaders({ kind: 'request', path: options.signedPath ?? DISPUTE_PATHS.test[call], clientId: options.clientId ?? E2E_CLIENT_ID, body, privateKey: options.key ?? keys.alipayPrivate, nowMs: Date.now() });
  return postDisputeCall(stack, call, options.sentBody ?? body, { ...headers });
}

let requestCounter = 0;
/** A fresh disputeRequestId as Alipay+ would assign one. */
export function newDisputeRequestId(): string {
  requestCounter += 1;
  return `2026112900${String(Date.now()).slice(-8)}${String(requestCounter).padStart(6, '0')}`;
}

/** An initiateEscalation body for a paid payment, fields overridable. */
export function escalationBody(payment: PaidPayment, overrides: Record<string, unknown> = {}, nowMs = Date.now()): string {
  return JSON.stringify({
    disputeRequestId: newDisputeRequestId(),
    paymentRequestId: payment.paymentRequestId,
    paymentId: payment.paymentId,
    disputeOccurTime: formatDateTime(nowMs),
    escalationAmount: { currency: 'CNY', value: String(payment.amount) },
    escalationReasonCode: 'GOODS_NOT_RECEIVED',
    escalationReasonMessage: 'The tea never arrived',
    responseDeadline: formatDateTime(nowMs + 15 * DAY_MS),
    ...overrides,
  });
}

/** An initiateRetrieval body for a paid payment, fields overridable. */
export function retrievalBody(payment: PaidPayment, overrides: Record<string, unknown> = {}, nowMs = Date.now()): string {
  return JSON.stringify({
    disputeRequestId: newDisputeRequestId(),
    paymentRequestId: payment.paymentRequestId,
    paymentId: payment.paymentId,
    disputeOccurTime: formatDateTime(nowMs),
    retrievalReasonCode: 'TRANSACTION_INFORMATION_REQUEST',
    responseDeadline: formatDateTime(nowMs + 20 * DAY_MS),
    ...overrides,
  });
}
