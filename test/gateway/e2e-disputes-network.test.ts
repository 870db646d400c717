import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateRsaKeyPair, loadPrivateKey, formatDateTime } from '../../src/alipayplus/index.js';
import { api } from '../support/gateway-server.js';
import { startPaymentStack, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';
import { addFault, startWorkerStack, type WorkerStack } from './worker-support.js';
import {
  DISPUTE_PATHS,
  balanceIn,
  closeDispute,
  disputeEventTypes,
  disputeTransactions,
  disputesOf,
  escalationBody,
  gatewayDispute,
  judge,
  openDispute,
  openDisputeRaw,
  paidCharge,
  retrievalBody,
  retrieveDispute,
  sandboxDispute,
  sendSignedDisputeCall,
  waitForSandboxDispute,
  type PaidCharge,
} from '../support/dispute-support.js';

const keys = fixtureKeys();
const MINUTE = 60_000;

/**
 * The network side of disputes through the real sandbox: duplicate and conflicting
 * `disputeRequestId`s, forged and altered calls, and a refund racing an escalation.
 */
describe('dispute calls from Alipay+: duplicates, conflicts, forgeries, races', () => {
  let stack: PaymentStack;
  let key = '';
  before(async () => {
    stack = await startPaymentStack();
    key = stack.gateway.secretKey;
  });
  after(async () => {
    await stack.stop();
  });

  it('a duplicated delivery (fault) and a resend change nothing: one dispute, one set of events, one withdrawal', async () => {
    const paid = await paidCharge(stack, { amount: 1200 });
    const balance = await balanceIn(stack, key, 'HKD');
    await addFault(stack, { target: 'disputeNotification', kind: 'duplicate', count: 1 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation' });
    const view = await waitForSandboxDispute(stack, opened.disputeId, (v) => v.deliveries.length >= 2, 'both copies delivered');
    assert.deepEqual(view.deliveries.map((d: { api: string; ackStatus: string; ackCode: string }) => [d.api, d.ackStatus, d.ackCode]), [['initiateEscalation', 'S', 'SUCCESS'], ['initiateEscalation', 'S', 'SUCCESS']]);
    const resent = await stack.control('POST', `/sandbox/v1/disputes/${opened.disputeId}/resend`, {});
    assert.equal(resent.status, 200, resent.text);
    assert.deepEqual([resent.body.deliveries.at(-1).ackStatus, resent.body.deliveries.at(-1).ackCode], ['S', 'SUCCESS'], 'acknowledged again');

    const disputes = await disputesOf(stack, key, paid.intentId);
    assert.equal(disputes.length, 1);
    const dispute = disputes[0];
    assert.equal((await disputeTransactions(stack, key, dispute.id)).length, 1, 'one withdrawal');
    assert.equal(await balanceIn(stack, key, 'HKD'), balance - 1200);
    assert.deepEqual(await disputeEventTypes(stack, key, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn']);

    // The result notification duplicated too: one reinstatement, one closed event.
    await addFault(stack, { target: 'disputeNotification', kind: 'duplicate', count: 1 });
    await judge(stack, opened.disputeId, 'won');
    await waitForSandboxDispute(stack, opened.disputeId, (v) => v.deliveries.filter((d: { api: string; ackStatus: string }) => d.api === 'notifyDisputeResult' && d.ackStatus === 'S').length >= 2, 'both result copies acknowledged');
    assert.equal((await retrieveDispute(stack, key, dispute.id)).status, 'won');
    assert.deepEqual((await disputeTransactions(stack, key, dispute.id)).map((t) => t.amount), [-1200, 1200]);
    assert.equal(await balanceIn(stack, key, 'HKD'), balance);
    assert.deepEqual(await disputeEventTypes(stack, key, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed', 'charge.dispute.funds_reinstated']);
  });

  it('the same disputeRequestId for another payment → F / REPEAT_REQ_INCONSISTENT recorded by the sandbox, nothing by the gateway', async () => {
    const paid = await paidCharge(stack, { amount: 500 });
    const other = await paidCharge(stack, { amount: 500 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'retrieval' });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    const conflicting = await stack.control('POST', `/sandbox/v1/disputes/${opened.disputeId}/resend`, { paymentRequestId: other.paymentRequestId });
    assert.equal(conflicting.status, 200, conflicting.text);
    const last = conflicting.body.deliveries.at(-1);
    assert.deepEqual([last.api, last.ackStatus, last.ackCode], ['initiateRetrieval', 'F', 'REPEAT_REQ_INCONSISTENT']);
    assert.deepEqual(await disputesOf(stack, key, other.intentId), [], 'nothing recorded for the other payment');
    const unchanged = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual([unchanged.status, unchanged.charge], ['warning_needs_response', paid.chargeId]);
    assert.deepEqual(await disputeEventTypes(stack, key, dispute.id), ['charge.dispute.created']);
    assert.equal((await api(stack.gateway, 'GET', `/v1/charges/${other.chargeId}`, { key })).body.disputed, false);
  });

  it('forged and altered dispute calls get a signed F and record nothing; the genuine call is recorded', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    const balance = await balanceIn(stack, key, 'HKD');
    const now = Date.now();
    const body = escalationBody(paid, `DRQ-forged-${now}`, now);
    const path = DISPUTE_PATHS.initiateEscalation;
    const answers = {
      wrongKey: await sendSignedDisputeCall(stack, path, body, { key: loadPrivateKey(generateRsaKeyPair().privateKey) }),
      gatewaysOwnKey: await sendSignedDisputeCall(stack, path, body, { key: keys.gatewayPrivate }),
      signedForAnotherPath: await sendSignedDisputeCall(stack, path, body, { signedPath: DISPUTE_PATHS.initiateRetrieval }),
      altered: await sendSignedDisputeCall(stack, path, escalationBody(paid, `DRQ-forged-${now}`, now, { escalationAmount: { currency: 'HKD', value: '1' } }), { sentBody: body }),
    };
    for (const [name, answer] of Object.entries(answers)) {
      assert.deepEqual([answer.status, answer.result?.resultStatus, answer.result?.resultCode, answer.signedByGateway], [200, 'F', 'INVALID_SIGNATURE', true], `${name}: ${answer.text}`);
    }
    const unknownClient = await sendSignedDisputeCall(stack, path, body, { clientId: '2026000000009999' });
    assert.deepEqual([unknownClient.result?.resultStatus, unknownClient.result?.resultCode, unknownClient.signedByGateway], ['F', 'INVALID_CLIENT', true], unknownClient.text);
    const retrieval = retrievalBody(paid, `DRQ-forged-r-${now}`, now);
    const forgedRetrieval = await sendSignedDisputeCall(stack, DISPUTE_PATHS.initiateRetrieval, retrieval, { key: loadPrivateKey(generateRsaKeyPair().privateKey) });
    assert.deepEqual([forgedRetrieval.result?.resultStatus, forgedRetrieval.result?.resultCode], ['F', 'INVALID_SIGNATURE']);
    assert.deepEqual(await disputesOf(stack, key, paid.intentId), [], 'nothing recorded');
    assert.equal(await balanceIn(stack, key, 'HKD'), balance);
    assert.equal((await api(stack.gateway, 'GET', `/v1/charges/${paid.chargeId}`, { key })).body.disputed, false);

    // Genuinely signed, but not about this payment as the gateway knows it.
    const wrongFacts: Record<string, [string, string]> = {
      otherPaymentId: [escalationBody(paid, `DRQ-w1-${now}`, now, { paymentId: `${paid.paymentId}9` }), 'PARAM_ILLEGAL'],
      otherCurrency: [escalationBody(paid, `DRQ-w2-${now}`, now, { escalationAmount: { currency: 'CNY', value: '100' } }), 'PARAM_ILLEGAL'],
      unknownRequest: [escalationBody(paid, `DRQ-w3-${now}`, now, { paymentRequestId: `${paid.intentId}_9` }), 'ORDER_NOT_EXIST'],
      overDisputable: [escalationBody(paid, `DRQ-w4-${now}`, now, { escalationAmount: { currency: 'HKD', value: '1001' } }), 'DISPUTE_AMOUNT_EXCEED'],
      notJson: ['{"disputeRequestId":', 'PARAM_ILLEGAL'],
    };
    for (const [name, [wrong, code]] of Object.entries(wrongFacts)) {
      const answer = await sendSignedDisputeCall(stack, path, wrong);
      assert.deepEqual([answer.result?.resultStatus, answer.result?.resultCode, answer.signedByGateway], ['F', code, true], `${name}: ${answer.text}`);
    }
    assert.deepEqual(await disputesOf(stack, key, paid.intentId), []);

    const genuine = await sendSignedDisputeCall(stack, path, body);
    assert.deepEqual([genuine.result?.resultStatus, genuine.result?.resultCode, genuine.signedByGateway], ['S', 'SUCCESS', true], genuine.text);
    const recorded = await disputesOf(stack, key, paid.intentId);
    assert.deepEqual(recorded.map((d) => [d.status, d.amount, d.payment_method_details.alipay.dispute_request_id]), [['needs_response', 1000, `DRQ-forged-${now}`]]);
    assert.equal(await balanceIn(stack, key, 'HKD'), balance - 1000);

    // A forged result cannot win the case; a genuine one for an unknown case is refused.
    const result = (overrides: Record<string, unknown> = {}) => JSON.stringify({
      disputeRequestId: `DRQ-forged-${now}`, paymentRequestId: paid.paymentRequestId, paymentId: paid.paymentId, disputeType: 'ESCALATION',
      disputeResult: 'MERCHANT_WON', disputeAmount: { currency: 'HKD', value: '1000' }, resultTime: formatDateTime(Date.now()), ...overrides,
    });
    const forgedWin = await sendSignedDisputeCall(stack, DISPUTE_PATHS.notifyDisputeResult, result(), { key: loadPrivateKey(generateRsaKeyPair().privateKey) });
    assert.deepEqual([forgedWin.result?.resultStatus, forgedWin.result?.resultCode, forgedWin.signedByGateway], ['F', 'INVALID_SIGNATURE', true]);
    const unknownCase = await sendSignedDisputeCall(stack, DISPUTE_PATHS.notifyDisputeResult, result({ disputeRequestId: `DRQ-nothing-${now}` }));
    assert.deepEqual([unknownCase.result?.resultStatus, unknownCase.result?.resultCode], ['F', 'ORDER_NOT_EXIST'], unknownCase.text);
    assert.equal((await retrieveDispute(stack, key, recorded[0].id)).status, 'needs_response');
    assert.equal(await balanceIn(stack, key, 'HKD'), balance - 1000, 'nothing reinstated');
  });

  it('a refund racing an escalation never withdraws more than was paid, at the gateway and at Alipay+', async (t) => {
    const ROUNDS = 8;
    const rounds: { paid: PaidCharge; refund: Awaited<ReturnType<typeof api>>; escalation: Awaited<ReturnType<typeof openDisputeRaw>> }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const paid = await paidCharge(stack, { amount: 1000 });
      const refundCall = () => api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: paid.intentId } });
      const escalationCall = () => openDisputeRaw(stack, paid.paymentId, { type: 'escalation' });
      // Alternate which call leaves first; both are in flight together.
      const [refund, escalation] = i % 2 === 0
        ? await Promise.all([refundCall(), escalationCall()])
        : await Promise.all([escalationCall(), refundCall()]).then(([e, r]) => [r, e] as const);
      assert.ok(refund.status < 500 && escalation.status < 500, `round ${i}: refund ${refund.status} ${refund.text} / escalation ${escalation.status} ${escalation.text}`);
      rounds.push({ paid, refund, escalation });
    }
    const outcomes: string[] = [];
    for (const [i, { paid, refund, escalation }] of rounds.entries()) {
      // Let pending refunds and deliveries finish (the worker and the notifier run on their own).
      const refunds = await waitUntil(async () => {
        const listed = await api(stack.gateway, 'GET', `/v1/refunds?payment_intent=${paid.intentId}&limit=100`, { key });
        return listed.body.data.every((r: { status: string }) => r.status !== 'pending') ? listed.body.data as { status: string; amount: number }[] : null;
      }, `round ${i}: refunds to settle`, 20_000);
      const disputes = await disputesOf(stack, key, paid.intentId);
      const refunded = refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
      const escalatedNotWon = disputes.filter((d) => d.status !== 'won').reduce((sum, d) => sum + d.amount, 0);
      assert.ok(refunded + escalatedNotWon <= paid.amount, `round ${i}: gateway refunded ${refunded} + escalated ${escalatedNotWon} > paid ${paid.amount}`);

      const payment = (await stack.control('GET', `/sandbox/v1/payments/${paid.paymentId}`)).body;
      const sandboxEscalated = (payment.disputes as { type: string; state: string; amount: { value: string } | null }[])
        .filter((d) => d.type === 'ESCALATION' && !['WON', 'REJECTED'].includes(d.state))
        .reduce((sum, d) => sum + Number(d.amount?.value ?? 0), 0);
      assert.ok(Number(payment.refundedAmount.value) + sandboxEscalated <= paid.amount, `round ${i}: Alipay+ refunded ${payment.refundedAmount.value} + escalated ${sandboxEscalated} > paid`);
      assert.equal(Number(payment.refundedAmount.value), refunded, `round ${i}: both sides agree on the refunds`);
      assert.equal(sandboxEscalated, escalatedNotWon, `round ${i}: both sides agree on the escalations`);
      let withdrawn = 0;
      for (const d of disputes) withdrawn += (await disputeTransactions(stack, key, d.id)).reduce((sum, t) => sum + t.amount, 0);
      assert.equal(withdrawn + escalatedNotWon, 0, `round ${i}: withdrawals match the escalations not won`);
      outcomes.push(`${refund.status === 200 ? refund.body.status : refund.body.error?.code}/${escalation.status === 201 ? escalation.body.state : escalation.body.error?.code}`);
    }
    // Each round ended with the money in one place; the log shows which side won which race.
    t.diagnostic(`refund/escalation outcomes: ${outcomes.join(', ')}`);
    assert.equal(outcomes.length, ROUNDS, outcomes.join(', '));
  });

  it('a refund of a charge under an open escalation → 400 charge_disputed; after the escalation is won, refunds work again', async () => {
    const paid = await paidCharge(stack, { amount: 600 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation', amount: 200 });
    const refused = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { charge: paid.chargeId, amount: 100 } });
    assert.deepEqual([refused.status, refused.body.error?.code, refused.body.error?.param], [400, 'charge_disputed', 'charge'], refused.text);
    await judge(stack, opened.disputeId, 'won');
    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: paid.intentId } });
    assert.deepEqual([refund.status, refund.body.amount, refund.body.status], [200, 600, 'succeeded'], refund.text);
  });
});

/** Dispute deliveries the gateway refuses, retried on the sandbox notifier's schedule (one manual clock). */
describe('dispute deliveries with a bad signature are refused, and the retry is recorded', () => {
  let ws: WorkerStack;
  let stack: PaymentStack;
  let key = '';
  before(async () => {
    ws = await startWorkerStack();
    stack = ws.stack;
    key = stack.gateway.secretKey;
  });
  after(async () => {
    await stack.stop();
  });

  it('bad_signature on disputeNotification: the first initiate and the first result are refused; the retries are recorded', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    const balance = await balanceIn(stack, key, 'HKD');
    await addFault(stack, { target: 'disputeNotification', kind: 'bad_signature', count: 1 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation' });
    assert.deepEqual(opened.deliveries.map((d: { ackStatus: string; ackCode: string }) => [d.ackStatus, d.ackCode]), [['F', 'INVALID_SIGNATURE']]);
    assert.deepEqual(await disputesOf(stack, key, paid.intentId), [], 'the gateway refused the badly signed call');
    assert.equal(await balanceIn(stack, key, 'HKD'), balance);

    ws.clock.advance(2 * MINUTE + 1000);
    await stack.sandbox.notifier.tick();
    const retried = await waitForSandboxDispute(stack, opened.disputeId, (v) => v.deliveries.length >= 2, 'the retry');
    assert.deepEqual(retried.deliveries.map((d: { ackStatus: string }) => d.ackStatus), ['F', 'S']);
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    assert.equal(await balanceIn(stack, key, 'HKD'), balance - 1000);

    await addFault(stack, { target: 'disputeNotification', kind: 'bad_signature', count: 1 });
    const judged = await judge(stack, opened.disputeId, 'won');
    assert.deepEqual([judged.deliveries.at(-1).api, judged.deliveries.at(-1).ackStatus], ['notifyDisputeResult', 'F']);
    assert.equal((await retrieveDispute(stack, key, dispute.id)).status, 'needs_response');
    ws.clock.advance(2 * MINUTE + 1000);
    await stack.sandbox.notifier.tick();
    await waitForSandboxDispute(stack, opened.disputeId, (v) => v.deliveries.at(-1).ackStatus === 'S', 'the result retry');
    assert.equal((await retrieveDispute(stack, key, dispute.id)).status, 'won');
    assert.equal(await balanceIn(stack, key, 'HKD'), balance);
    assert.deepEqual(await disputeEventTypes(stack, key, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed', 'charge.dispute.funds_reinstated']);
  });

  it('a merchant who accepts a case Alipay+ already decided for them (its result still on the way) ends won, as Alipay+ has it', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    const balance = await balanceIn(stack, key, 'HKD');
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation' });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    await addFault(stack, { target: 'disputeNotification', kind: 'drop', count: 1 });
    const judged = await judge(stack, opened.disputeId, 'won');
    assert.equal(judged.state, 'WON');
    assert.equal((await retrieveDispute(stack, key, dispute.id)).status, 'needs_response', 'the result was dropped on the way');
    // The merchant, not knowing, concedes: the gateway records lost and sends ACCEPT_REFUND, which Alipay+ refuses.
    const closed = await closeDispute(stack, key, dispute.id);
    assert.equal(closed.status, 200, closed.text);
    ws.clock.advance(2 * MINUTE + 1000);
    await stack.sandbox.notifier.tick();
    const view = await waitForSandboxDispute(stack, opened.disputeId, (v) => v.deliveries.filter((d: { api: string }) => d.api === 'notifyDisputeResult').length >= 2, 'the result retry');
    const final = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual(
      [view.state, final.status, await balanceIn(stack, key, 'HKD')],
      ['WON', 'won', balance],
      `Alipay+ decided WON; the gateway has ${final.status} (deliveries ${JSON.stringify(view.deliveries.map((d: { api: string; ackStatus: string; ackCode: string }) => [d.api, d.ackStatus, d.ackCode]))})`,
    );
  });

  it('a case judged before its initiate call got through ends the same at both sides (or cannot be judged yet)', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    const balance = await balanceIn(stack, key, 'HKD');
    await addFault(stack, { target: 'disputeNotification', kind: 'drop', count: 1 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation' });
    assert.deepEqual(await disputesOf(stack, key, paid.intentId), [], 'the initiate call was dropped');
    const judged = await stack.control('POST', `/sandbox/v1/disputes/${opened.disputeId}/judge`, { outcome: 'won' });
    // Either Alipay+ will not decide a case the acquirer has not acknowledged (409), or it decides and
    // must get the result through once the case is known.
    const refusedFirst = judged.status === 409;
    if (refusedFirst) assert.ok(['DISPUTE_NOT_JUDGEABLE', 'DISPUTE_NOT_ACKNOWLEDGED'].includes(judged.body.error?.code), judged.text);
    else assert.equal(judged.status, 200, judged.text);
    // The notifier retries whatever is due (the initiate after 2 min, then anything else) until nothing is.
    for (const minutes of [2, 10, 10, 60, 120, 360, 900]) {
      ws.clock.advance(minutes * MINUTE + 1000);
      await stack.sandbox.notifier.tick();
    }
    if (refusedFirst) {
      assert.equal((await disputesOf(stack, key, paid.intentId))[0]?.status, 'needs_response', 'the retried initiate is recorded');
      await judge(stack, opened.disputeId, 'won');
    }
    const view = await sandboxDispute(stack, opened.disputeId);
    const [dispute] = await disputesOf(stack, key, paid.intentId);
    assert.deepEqual(
      [view.state, dispute?.status, await balanceIn(stack, key, 'HKD')],
      ['WON', 'won', balance],
      `Alipay+ has the case WON; the gateway has ${dispute?.status} (deliveries: ${JSON.stringify(view.deliveries.map((d: { api: string; ackStatus: string; ackCode: string }) => [d.api, d.ackStatus, d.ackCode]))})`,
    );
  });
});
