import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../support/gateway-server.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { disputesOf, escalationBody, newMerchant, paidPayment, sendSignedDisputeCall } from './disputes-support.js';

/**
 * A refund and an escalation of the same charge at the same moment (disputes-design.md "Money"):
 * both reserve on the charge row with one conditional UPDATE over the same sum, so whatever the
 * interleaving, refunds and escalations not won never together exceed what was paid. Run on
 * SQLite and PostgreSQL (ZHIFU_TEST_DATABASE_URL), where the two really run in parallel.
 */
describe('a refund racing an escalation', () => {
  let stack: PaymentStack;
  let key: string;
  before(async () => {
    stack = await startPaymentStack();
    key = await newMerchant(stack, 'EUR');
  });
  after(async () => {
    await stack.stop();
  });

  async function race(paid: number, refunds: number[], escalations: number[]) {
    const payment = await paidPayment(stack, key, paid);
    const outcomes = await Promise.all([
      ...refunds.map((amount) => api(stack.gateway, 'POST', '/v1/refunds', { key, json: { charge: payment.chargeId, amount } }).then((r) => ({ kind: 'refund' as const, amount, ok: r.status === 200, code: r.body.error?.code as string | undefined, status: r.body.status as string | undefined }))),
      ...escalations.map((amount) =>
        sendSignedDisputeCall(stack, 'initiateEscalation', escalationBody(payment, { escalationAmount: { currency: 'CNY', value: String(amount) } })).then((a) => ({ kind: 'escalation' as const, amount, ok: a.result.resultStatus === 'S', code: a.result.resultCode, status: undefined })),
      ),
    ]);
    const refunded = outcomes.filter((o) => o.kind === 'refund' && o.ok).reduce((sum, o) => sum + o.amount, 0);
    const escalated = outcomes.filter((o) => o.kind === 'escalation' && o.ok).reduce((sum, o) => sum + o.amount, 0);
    for (const o of outcomes.filter((o) => !o.ok)) {
      assert.ok(o.kind === 'refund' ? ['charge_disputed', 'amount_too_large', 'charge_already_refunded', 'lock_timeout'].includes(o.code ?? '') : o.code === 'DISPUTE_AMOUNT_EXCEED', `${o.kind} ${o.amount}: ${o.code}`);
    }
    for (const o of outcomes.filter((o) => o.kind === 'refund' && o.ok)) assert.equal(o.status, 'succeeded');
    assert.ok(refunded + escalated <= paid, `refunded ${refunded} + escalated ${escalated} must not exceed ${paid}`);
    assert.ok(refunded + escalated > 0, 'something won');

    const charge = await stack.gateway.database.db.selectFrom('charges').selectAll().where('id', '=', payment.chargeId).executeTakeFirstOrThrow();
    const storedRefunds = await stack.gateway.database.db.selectFrom('refunds').select(['amount', 'status']).where('charge_id', '=', payment.chargeId).execute();
    const disputes = await disputesOf(stack, key, payment.chargeId);
    assert.equal(charge.amount_refund_reserved, storedRefunds.filter((r) => r.status !== 'failed' && r.status !== 'canceled').reduce((sum, r) => sum + r.amount, 0));
    assert.equal(charge.amount_refunded, refunded);
    assert.equal(charge.amount_dispute_reserved, disputes.reduce((sum, d) => sum + d.amount, 0));
    assert.equal(charge.amount_dispute_reserved, escalated);
    assert.equal(charge.open_escalations, disputes.length);
    assert.ok(charge.amount_refund_reserved + charge.amount_dispute_reserved <= charge.amount_captured);
    return { refunded, escalated };
  }

  it('one of a full refund and a full escalation wins, never both', async () => {
    for (let round = 0; round < 4; round++) {
      const { refunded, escalated } = await race(1000, [1000], [1000]);
      assert.ok((refunded === 1000) !== (escalated === 1000), `round ${round}: exactly one of them (refunded ${refunded}, escalated ${escalated})`);
    }
  });

  it('many partial refunds and escalations at once stay within the payment', async () => {
    for (let round = 0; round < 3; round++) {
      await race(1000, [300, 300, 300, 300], [300, 300, 300, 300]);
    }
  });
});
