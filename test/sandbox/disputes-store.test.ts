import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RESULT_CODES, result } from '../../src/alipayplus/index.js';
import {
  DISPUTE_STATES,
  DISPUTE_TRANSITIONS,
  DISPUTE_WINDOW_MS,
  decideOpen,
  disputableMinor,
  judgement,
  responseDeadline,
  stateAfterResponse,
  type DisputeFacts,
  type PaymentFacts,
} from '../../src/sandbox/domain/dispute-rules.js';
import { MIGRATIONS, openSandboxDatabase } from '../../src/sandbox/store/database.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = Date.parse('2026-11-26T04:00:00Z');
const paid = (amountMinor = 10000, refundedMinor = 0): PaymentFacts => ({ status: 'SUCCESS', paidAt: NOW, amountMinor, refundedMinor });
const escalation = (state: DisputeFacts['state'], amountMinor: number): DisputeFacts => ({ type: 'ESCALATION', state, amountMinor });

describe('sandbox dispute rules (pure)', () => {
  it('disputable = paid − refunded − escalations not WON or REJECTED', () => {
    const disputes = [escalation('LOST', 1000), escalation('WON', 2000), escalation('REJECTED', 3000), escalation('ACCEPTED', 400), escalation('EXPIRED', 50), { type: 'RETRIEVAL', state: 'OPEN', amountMinor: null } as DisputeFacts];
    assert.equal(disputableMinor(paid(10000, 500), disputes), 10000 - 500 - 1000 - 400 - 50);
    assert.equal(disputableMinor(paid(1000, 1000), [escalation('OPEN', 10)]), 0, 'never negative');
  });

  it('refusals come in the order a shopper meets them, each with its code', () => {
    const at = (nowMs: number, over: Partial<Parameters<typeof decideOpen>[0]> = {}) => decideOpen({ payment: paid(), disputes: [], type: 'ESCALATION', nowMs, ...over });
    assert.deepEqual(at(NOW), { ok: true, amountMinor: 10000 });
    assert.equal((at(NOW, { payment: { ...paid(), status: 'CANCELLED' } }) as { code: string }).code, 'PAYMENT_NOT_PAID');
    assert.equal((at(NOW + DISPUTE_WINDOW_MS + 1) as { code: string }).code, 'DISPUTE_WINDOW_EXCEEDED');
    assert.ok(at(NOW + DISPUTE_WINDOW_MS).ok);
    assert.equal((at(NOW, { amountMinor: 10001 }) as { code: string }).code, 'DISPUTE_AMOUNT_EXCEED');
    assert.equal((at(NOW, { disputes: [escalation('RESPONDED', 1)] }) as { code: string }).code, 'DISPUTE_ONGOING');
    assert.equal((at(NOW, { disputes: [escalation('LOST', 1), escalation('WON', 1)] }) as { code: string }).code, 'ESCALATION_LIMIT_EXCEEDED');
    assert.ok(at(NOW, { disputes: [escalation('LOST', 1), escalation('REJECTED', 1)] }).ok, 'a rejected escalation does not count');
    const retrievals = (n: number, state: DisputeFacts['state']) => Array.from({ length: n }, (): DisputeFacts => ({ type: 'RETRIEVAL', state, amountMinor: null }));
    assert.equal((decideOpen({ payment: paid(), disputes: retrievals(5, 'CLOSED'), type: 'RETRIEVAL', nowMs: NOW }) as { code: string }).code, 'RETRIEVAL_LIMIT_EXCEEDED');
    assert.equal((decideOpen({ payment: paid(), disputes: retrievals(1, 'OPEN'), type: 'RETRIEVAL', nowMs: NOW }) as { code: string }).code, 'DISPUTE_ONGOING');
    assert.deepEqual(decideOpen({ payment: paid(), disputes: retrievals(4, 'EXPIRED'), type: 'RETRIEVAL', nowMs: NOW }), { ok: true, amountMinor: null });
  });

  it('deadlines, responses and judgements', () => {
    assert.equal(responseDeadline('RETRIEVAL', NOW), NOW + 20 * DAY_MS);
    assert.equal(responseDeadline('ESCALATION', NOW), NOW + 15 * DAY_MS);
    assert.equal(responseDeadline('ESCALATION', NOW, 0.5), NOW + DAY_MS / 2);
    assert.equal(stateAfterResponse('ACCEPT_REFUND'), 'ACCEPTED');
    assert.equal(stateAfterResponse('REFUSE_REFUND'), 'RESPONDED');
    assert.equal(stateAfterResponse(null), 'RESPONDED');
    assert.deepEqual(judgement('ESCALATION', 'OPEN', 'won'), { state: 'WON', result: 'MERCHANT_WON' });
    assert.deepEqual(judgement('ESCALATION', 'RESPONDED', 'lost'), { state: 'LOST', result: 'MERCHANT_LOST' });
    assert.deepEqual(judgement('RETRIEVAL', 'RESPONDED', 'closed'), { state: 'CLOSED', result: 'CLOSED' });
    assert.equal(judgement('RETRIEVAL', 'OPEN', 'won'), null);
    assert.equal(judgement('ESCALATION', 'ACCEPTED', 'lost'), null);
    assert.equal(judgement('ESCALATION', 'EXPIRED', 'won'), null);
  });

  it('every judgement and response leads along a declared transition; final states lead nowhere', () => {
    for (const state of DISPUTE_STATES) {
      for (const type of ['RETRIEVAL', 'ESCALATION'] as const) {
        for (const outcome of ['won', 'lost', 'closed'] as const) {
          const decided = judgement(type, state, outcome);
          if (decided) assert.ok(DISPUTE_TRANSITIONS[state].includes(decided.state), `${state} → ${decided.state}`);
        }
      }
    }
    for (const state of ['CLOSED', 'WON', 'LOST', 'ACCEPTED', 'EXPIRED', 'REJECTED'] as const) assert.deepEqual(DISPUTE_TRANSITIONS[state], []);
  });

  it('the dispute result codes are F results of the protocol library', () => {
    assert.equal(RESULT_CODES.RESPONSE_WINDOW_EXCEED, 'F');
    assert.equal(RESULT_CODES.DISPUTE_AMOUNT_EXCEED, 'F');
    assert.equal(result('RESPONSE_WINDOW_EXCEED').resultStatus, 'F');
  });
});

describe('sandbox store migration to disputes', () => {
  it('an existing sandbox database keeps its payments, notifications and sends, which become notifyPayment rows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhifu-sandbox-migrate-'));
    const path = join(dir, 'sandbox.db');
    try {
      // The schema as it was before disputes: the first eight migrations.
      const old = new Database(path);
      for (const statement of MIGRATIONS.slice(0, 8)) old.exec(statement);
      old.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (8)');
      old.exec(`INSERT INTO payments (payment_id, client_id, payment_request_id, request_fingerprint, code_value, currency, amount_minor, terminal_type,
          payment_method_type, reference_order_id, order_description, merchant_name, reference_merchant_id, settlement_currency, status, created_at, expires_at, pay_response_json)
        VALUES ('P1', 'C', 'R1', 'f', 'CV1', 'CNY', 100, 'WEB', 'ALIPAY_CN', 'O1', 'tea', 'Tea House', 'M1', 'GBP', 'SUCCESS', 1, 2, '{}')`);
      old.exec(`INSERT INTO notifications (payment_id, client_id, url, body, status, sends, next_send_at, created_at, updated_at)
        VALUES ('P1', 'C', 'http://acquirer/notify', '{"a":1}', 'pending', 1, 120001, 1, 1)`);
      old.exec(`INSERT INTO notification_sends (notification_id, sent_at, outcome, http_status, detail) VALUES (1, 1, 'rejected', 500, 'HTTP 500'), (1, 2, 'acknowledged', 200, NULL)`);
      old.close();

      const db = openSandboxDatabase(path);
      try {
        assert.deepEqual(db.prepare('SELECT version FROM schema_version').get(), { version: MIGRATIONS.length });
        assert.deepEqual(db.prepare('SELECT notification_id, api, dispute_id, status, sends, next_send_at FROM notifications').all(), [
          { notification_id: 1, api: 'notifyPayment', dispute_id: null, status: 'pending', sends: 1, next_send_at: 120001 },
        ]);
        assert.deepEqual(db.prepare('SELECT outcome, http_status, ack_status, detail FROM notification_sends ORDER BY send_id').all(), [
          { outcome: 'rejected', http_status: 500, ack_status: null, detail: 'HTTP 500' },
          { outcome: 'acknowledged', http_status: 200, ack_status: 'S', detail: null },
        ]);
        assert.deepEqual(db.pragma('foreign_keys'), [{ foreign_keys: 1 }], 'references are enforced again after migrating');
        assert.throws(() => db.prepare(`INSERT INTO notification_sends (notification_id, sent_at, outcome) VALUES (99, 1, 'failed')`).run(), /FOREIGN KEY/);
        const next = db.prepare(`INSERT INTO notifications (payment_id, client_id, url, body, status, next_send_at, created_at, updated_at) VALUES ('P1', 'C', 'u', '{}', 'pending', 1, 1, 1)`).run();
        assert.equal(Number(next.lastInsertRowid), 2, 'ids continue after the rebuilt table');
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
