import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AlipayPlusError, API_PATHS, verifySignedMessage, type ResponseEscalationRequest, type ResponseRetrievalRequest } from '../../src/alipayplus/index.js';
import { CLIENT_ID, SandboxHarness, START_MS, isoAt, keys } from '../support/sandbox-harness.js';
import { DisputeReceiver, NOTIFY_PATH, disputeControls } from './dispute-receiver.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const isError = (kind: string, code: string) => (error: AlipayPlusError) => error.kind === kind && error.resultCode === code;

/**
 * The Alipay+ side of disputes, driven over HTTP: the control API opens and judges, the sandbox
 * sends signed dispute calls to a stand-in acquirer, and the acquirer answers over the protocol.
 */
describe('sandbox disputes: open → deliver → respond → judge', () => {
  let h: SandboxHarness;
  let acquirer: DisputeReceiver;
  const { paidPayment, open, view, judge } = disputeControls(() => h, () => acquirer);

  before(async () => {
    acquirer = await DisputeReceiver.start();
    h = await SandboxHarness.start({ notifier: { autoStart: false, sendTimeoutMs: 500 } });
  });
  beforeEach(() => {
    h.clock.set(START_MS);
    acquirer.reset();
  });
  after(async () => {
    await h.close();
    await acquirer.close();
  });



  it('a retrieval is sent, signed, to disputes/initiateRetrieval beside the notify URL, and answered after the first attempt', async () => {
    const { paymentId, paymentRequestId } = await paidPayment();
    const opened = await open(paymentId, { type: 'retrieval', reasonCode: 'FRAUD', reasonMessage: 'I do not know this shop' });
    assert.equal(opened.status, 201);
    const dispute = opened.body;
    assert.match(dispute.disputeId, /^DSP\d{24}$/);
    assert.deepEqual(
      [dispute.type, dispute.state, dispute.paymentId, dispute.paymentRequestId, dispute.amount, dispute.reasonCode, dispute.reasonMessage],
      ['RETRIEVAL', 'OPEN', paymentId, paymentRequestId, null, 'FRAUD', 'I do not know this shop'],
    );
    assert.equal(dispute.occurredAt, isoAt(START_MS));
    assert.equal(dispute.responseDeadline, isoAt(START_MS + 20 * DAY_MS));
    assert.deepEqual(dispute.deliveries, [
      { api: 'initiateRetrieval', attempt: 1, sentAt: isoAt(START_MS), outcome: 'acknowledged', ackStatus: 'S', ackCode: 'SUCCESS', httpStatus: 200, error: null },
    ]);

    const [call] = acquirer.forDispute(dispute.disputeRequestId);
    assert.ok(call);
    assert.equal(call.path, NOTIFY_PATH.replace('notify', 'disputes/initiateRetrieval'));
    assert.deepEqual(call.body, {
      disputeRequestId: dispute.disputeRequestId,
      paymentRequestId,
      paymentId,
      disputeOccurTime: isoAt(START_MS),
      retrievalReasonCode: 'FRAUD',
      responseDeadline: isoAt(START_MS + 20 * DAY_MS),
      retrievalReasonMessage: 'I do not know this shop',
    });
    // Signed by Alipay+ over that path: verify independently with the sandbox's public key.
    const verified = verifySignedMessage({ kind: 'request', path: call.path, headers: call.headers, body: call.raw, publicKeyFor: (id) => (id === CLIENT_ID ? keys.alipayPublic : undefined) });
    assert.deepEqual(verified, { ok: true, clientId: CLIENT_ID });
    assert.equal(call.headers['client-id'], CLIENT_ID);
  });

  it('an escalation withholds all that is disputable by default and carries escalationAmount', async () => {
    const { paymentId } = await paidPayment('8800');
    const opened = await open(paymentId, { type: 'escalation' });
    assert.equal(opened.status, 201);
    assert.deepEqual([opened.body.type, opened.body.state, opened.body.amount, opened.body.reasonCode], ['ESCALATION', 'OPEN', { currency: 'CNY', value: '8800' }, 'GOODS_NOT_RECEIVED']);
    assert.equal(opened.body.responseDeadline, isoAt(START_MS + 15 * DAY_MS));
    const [call] = acquirer.forDispute(opened.body.disputeRequestId);
    assert.equal(call?.path, '/alipayplus/test/disputes/initiateEscalation');
    assert.deepEqual(call?.body.escalationAmount, { currency: 'CNY', value: '8800' });
    assert.equal(call?.body.escalationReasonCode, 'GOODS_NOT_RECEIVED');
    assert.equal(opened.body.deliveries[0].ackStatus, 'S');
  });

  it('retrieval: answered with responseRetrieval (recorded, idempotent), then closed with notifyDisputeResult CLOSED', async () => {
    const { paymentId, paymentRequestId } = await paidPayment();
    const dispute = (await open(paymentId, { type: 'retrieval' })).body;
    const answer: ResponseRetrievalRequest = {
      disputeRequestId: dispute.disputeRequestId,
      paymentRequestId,
      responseCode: '0001',
      otherDocumentation: [{ documentType: 'PRODUCT_DESCRIPTION', documentContent: 'Green tea, 2 boxes, shipped 26 Nov' }],
    };
    h.clock.advance(DAY_MS);
    assert.equal((await h.client.responseRetrieval(answer)).result.resultCode, 'SUCCESS');
    let state = await view(dispute.disputeId);
    assert.equal(state.state, 'RESPONDED');
    assert.deepEqual(state.response, { api: 'responseRetrieval', body: answer, receivedAt: isoAt(START_MS + DAY_MS) });
    // The same answer again (a retry whose reply was lost) is S and changes nothing.
    h.clock.advance(MINUTE_MS);
    assert.equal((await h.client.responseRetrieval({ ...answer })).result.resultCode, 'SUCCESS');
    assert.equal((await view(dispute.disputeId)).response.receivedAt, isoAt(START_MS + DAY_MS));
    // Another answer is inconsistent with the one recorded.
    await assert.rejects(h.client.responseRetrieval({ ...answer, responseCode: '0003', otherDocumentation: [] }), isError('F', 'REPEAT_REQ_INCONSISTENT'));

    const judged = await judge(dispute.disputeId, 'closed');
    assert.equal(judged.status, 200);
    assert.deepEqual([judged.body.state, judged.body.result], ['CLOSED', 'CLOSED']);
    const resultCall = acquirer.forDispute(dispute.disputeRequestId).find((call) => call.api === 'notifyDisputeResult');
    assert.equal(resultCall?.path, '/alipayplus/test/disputes/notifyDisputeResult');
    assert.deepEqual(resultCall?.body, {
      disputeRequestId: dispute.disputeRequestId,
      paymentRequestId,
      paymentId,
      disputeType: 'RETRIEVAL',
      disputeResult: 'CLOSED',
      resultTime: isoAt(START_MS + DAY_MS + MINUTE_MS),
    });
    assert.ok(resultCall?.verified);
    state = await view(dispute.disputeId);
    assert.deepEqual(
      state.deliveries.map((d: { api: string; ackStatus: string }) => [d.api, d.ackStatus]),
      [
        ['initiateRetrieval', 'S'],
        ['notifyDisputeResult', 'S'],
      ],
    );
    assert.equal((await judge(dispute.disputeId, 'closed')).body.error.code, 'DISPUTE_NOT_JUDGEABLE');
  });

  it('escalation defended with REFUSE_REFUND and won: notifyDisputeResult MERCHANT_WON with the amount', async () => {
    const { paymentId, paymentRequestId } = await paidPayment('5000');
    const dispute = (await open(paymentId, { type: 'escalation', amount: 3000 })).body;
    const defence: ResponseEscalationRequest = {
      disputeRequestId: dispute.disputeRequestId,
      paymentRequestId,
      refundType: 'REFUSE_REFUND',
      defenseDocumentation: [{ documentType: 'SHIPPING_TRACKING_NUMBER', documentContent: 'SF1234567890' }],
    };
    assert.equal((await h.client.responseEscalation(defence)).result.resultStatus, 'S');
    assert.equal((await view(dispute.disputeId)).state, 'RESPONDED');
    const wrongType = await judge(dispute.disputeId, 'closed');
    assert.deepEqual([wrongType.status, wrongType.body.error.code], [409, 'DISPUTE_NOT_JUDGEABLE']);
    const judged = await judge(dispute.disputeId, 'won');
    assert.deepEqual([judged.status, judged.body.state, judged.body.result], [200, 'WON', 'MERCHANT_WON']);
    const resultCall = acquirer.forDispute(dispute.disputeRequestId).find((call) => call.api === 'notifyDisputeResult');
    assert.deepEqual([resultCall?.body.disputeType, resultCall?.body.disputeResult, resultCall?.body.disputeAmount], ['ESCALATION', 'MERCHANT_WON', { currency: 'CNY', value: '3000' }]);
    assert.equal((await judge(dispute.disputeId, 'lost')).status, 409);
  });

  it('escalation judged lost without an answer: MERCHANT_LOST; a late answer is then refused', async () => {
    const { paymentId, paymentRequestId } = await paidPayment();
    const dispute = (await open(paymentId, { type: 'escalation' })).body;
    const judged = await judge(dispute.disputeId, 'lost');
    assert.deepEqual([judged.body.state, judged.body.result], ['LOST', 'MERCHANT_LOST']);
    assert.equal(acquirer.forDispute(dispute.disputeRequestId).find((call) => call.api === 'notifyDisputeResult')?.body.disputeResult, 'MERCHANT_LOST');
    await assert.rejects(
      h.client.responseEscalation({ disputeRequestId: dispute.disputeRequestId, paymentRequestId, refundType: 'REFUSE_REFUND' }),
      isError('F', 'REPEAT_REQ_INCONSISTENT'),
    );
  });

  it('escalation conceded with ACCEPT_REFUND of the whole amount is ACCEPTED and cannot be judged', async () => {
    const { paymentId, paymentRequestId } = await paidPayment('4200');
    const dispute = (await open(paymentId, { type: 'escalation' })).body;
    const base = { disputeRequestId: dispute.disputeRequestId, paymentRequestId };
    await assert.rejects(h.client.responseEscalation({ ...base, refundType: 'ACCEPT_REFUND', refundAmount: { currency: 'CNY', value: '4000' } }), isError('F', 'PARAM_ILLEGAL'));
    await assert.rejects(h.client.responseEscalation({ ...base, refundType: 'ACCEPT_REFUND', refundAmount: { currency: 'USD', value: '4200' } }), isError('F', 'PARAM_ILLEGAL'));
    assert.equal((await view(dispute.disputeId)).state, 'OPEN', 'refused answers record nothing');
    const accept: ResponseEscalationRequest = { ...base, refundType: 'ACCEPT_REFUND', refundAmount: { currency: 'CNY', value: '4200' } };
    assert.equal((await h.client.responseEscalation(accept)).result.resultCode, 'SUCCESS');
    const state = await view(dispute.disputeId);
    assert.deepEqual([state.state, state.response.api, state.response.body], ['ACCEPTED', 'responseEscalation', accept]);
    assert.equal((await h.client.responseEscalation(accept)).result.resultCode, 'SUCCESS', 'the same concession again is idempotent');
    assert.equal((await judge(dispute.disputeId, 'won')).body.error.code, 'DISPUTE_NOT_JUDGEABLE');
  });

  it('ACCEPT_PARTIAL_REFUND needs a refundAmount within the escalation', async () => {
    const { paymentId, paymentRequestId } = await paidPayment('6000');
    const dispute = (await open(paymentId, { type: 'escalation', amount: 5000 })).body;
    const base = { disputeRequestId: dispute.disputeRequestId, paymentRequestId, refundType: 'ACCEPT_PARTIAL_REFUND' as const };
    await assert.rejects(h.client.responseEscalation(base), isError('F', 'PARAM_ILLEGAL'));
    await assert.rejects(h.client.responseEscalation({ ...base, refundAmount: { currency: 'CNY', value: '5001' } }), isError('F', 'PARAM_ILLEGAL'));
    assert.equal((await h.client.responseEscalation({ ...base, refundAmount: { currency: 'CNY', value: '2000' } })).result.resultCode, 'SUCCESS');
    const state = await view(dispute.disputeId);
    assert.equal(state.state, 'RESPONDED', 'a partial concession still awaits the judgement');
    assert.deepEqual(state.response.body.refundAmount, { currency: 'CNY', value: '2000' });
  });

  describe('response API rules', () => {
    it('unknown disputeRequestId → ORDER_NOT_EXIST; another paymentRequestId → REPEAT_REQ_INCONSISTENT; wrong API → PARAM_ILLEGAL', async () => {
      const { paymentId, paymentRequestId } = await paidPayment();
      const retrieval = (await open(paymentId, { type: 'retrieval' })).body;
      await assert.rejects(h.client.responseRetrieval({ disputeRequestId: 'nope-123', paymentRequestId, responseCode: '0003' }), isError('F', 'ORDER_NOT_EXIST'));
      await assert.rejects(
        h.client.responseRetrieval({ disputeRequestId: retrieval.disputeRequestId, paymentRequestId: 'someone-else', responseCode: '0003' }),
        isError('F', 'REPEAT_REQ_INCONSISTENT'),
      );
      await assert.rejects(
        h.client.responseEscalation({ disputeRequestId: retrieval.disputeRequestId, paymentRequestId, refundType: 'REFUSE_REFUND' }),
        isError('F', 'PARAM_ILLEGAL'),
      );
      assert.deepEqual([(await view(retrieval.disputeId)).state, (await view(retrieval.disputeId)).response], ['OPEN', null]);
    });

    it('an answer after the response deadline → RESPONSE_WINDOW_EXCEED, and the dispute reads as EXPIRED', async () => {
      const { paymentId, paymentRequestId } = await paidPayment();
      const dispute = (await open(paymentId, { type: 'escalation', dueInDays: 1 })).body;
      assert.equal(dispute.responseDeadline, isoAt(START_MS + DAY_MS));
      h.clock.set(START_MS + DAY_MS);
      assert.equal((await view(dispute.disputeId)).state, 'OPEN', 'still open at the deadline itself');
      h.clock.advance(1);
      assert.equal((await view(dispute.disputeId)).state, 'EXPIRED');
      await assert.rejects(
        h.client.responseEscalation({ disputeRequestId: dispute.disputeRequestId, paymentRequestId, refundType: 'REFUSE_REFUND' }),
        isError('F', 'RESPONSE_WINDOW_EXCEED'),
      );
      assert.equal((await judge(dispute.disputeId, 'lost')).status, 409, 'an expired dispute is not judged');
    });

    it('a response already recorded is still S when repeated after the deadline', async () => {
      const { paymentId, paymentRequestId } = await paidPayment();
      const dispute = (await open(paymentId, { type: 'retrieval', dueInDays: 0.5 })).body;
      const answer: ResponseRetrievalRequest = { disputeRequestId: dispute.disputeRequestId, paymentRequestId, responseCode: '0003' };
      assert.equal((await h.client.responseRetrieval(answer)).result.resultCode, 'SUCCESS');
      h.clock.advance(DAY_MS);
      assert.equal((await h.client.responseRetrieval(answer)).result.resultCode, 'SUCCESS');
      assert.equal((await view(dispute.disputeId)).state, 'RESPONDED');
    });

    it('a response signed with the wrong key → F INVALID_SIGNATURE (signed), nothing recorded', async () => {
      const { paymentId, paymentRequestId } = await paidPayment();
      const dispute = (await open(paymentId, { type: 'retrieval' })).body;
      const body = JSON.stringify({ disputeRequestId: dispute.disputeRequestId, paymentRequestId, responseCode: '0003' });
      const forged = await h.signedPost(API_PATHS.responseRetrieval, body, { privateKey: keys.alipayPrivate });
      assert.equal(forged.status, 200);
      assert.ok(forged.signedByAlipay);
      assert.deepEqual([forged.json.result.resultStatus, forged.json.result.resultCode], ['F', 'INVALID_SIGNATURE']);
      assert.equal((await view(dispute.disputeId)).state, 'OPEN');
      const genuine = await h.signedPost(API_PATHS.responseRetrieval, body);
      assert.equal(genuine.json.result.resultCode, 'SUCCESS');
    });

    it('a body missing a required field → F PARAM_ILLEGAL naming it', async () => {
      const { paymentId, paymentRequestId } = await paidPayment();
      const dispute = (await open(paymentId, { type: 'escalation' })).body;
      const answer = await h.signedPost(API_PATHS.responseEscalation, JSON.stringify({ disputeRequestId: dispute.disputeRequestId, paymentRequestId }));
      assert.deepEqual([answer.json.result.resultCode, answer.json.result.resultMessage], ['PARAM_ILLEGAL', 'refundType is required']);
    });

    it('faults on responseRetrieval / responseEscalation: unknown → U and nothing recorded; bad_signature → recorded, reply does not verify', async () => {
      const { paymentId, paymentRequestId } = await paidPayment();
      const retrieval = (await open(paymentId, { type: 'retrieval' })).body;
      const answer: ResponseRetrievalRequest = { disputeRequestId: retrieval.disputeRequestId, paymentRequestId, responseCode: '0003' };
      assert.equal((await h.addFault({ target: 'responseRetrieval', kind: 'unknown' })).status, 201);
      await assert.rejects(h.client.responseRetrieval(answer), isError('U', 'UNKNOWN_EXCEPTION'));
      assert.equal((await view(retrieval.disputeId)).state, 'OPEN');
      assert.equal((await h.client.responseRetrieval(answer)).result.resultCode, 'SUCCESS');

      const escalation = (await open(paymentId, { type: 'escalation' })).body;
      assert.equal((await h.addFault({ target: 'responseEscalation', kind: 'bad_signature' })).status, 201);
      const defence: ResponseEscalationRequest = { disputeRequestId: escalation.disputeRequestId, paymentRequestId, refundType: 'REFUSE_REFUND' };
      await assert.rejects(h.client.responseEscalation(defence), isError('U', 'RESPONSE_SIGNATURE_INVALID'));
      assert.equal((await view(escalation.disputeId)).state, 'RESPONDED', 'processed; only the reply was corrupted');
      assert.equal((await h.client.responseEscalation(defence)).result.resultCode, 'SUCCESS', 'the retry with the same body is S');
    });
  });
});
