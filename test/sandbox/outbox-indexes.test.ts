import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, openSandboxDatabase } from '../../src/sandbox/store/database.js';
import { NotificationRepository } from '../../src/sandbox/store/notifications.js';

/** The migrations before the outbox indexes became partial (issue 13). */
const BEFORE = MIGRATIONS.length - 4;

describe('sandbox store migration: partial outbox indexes', () => {
  it('an existing sandbox file keeps every outbox row, and the notifier and dispute lookups find them through the new indexes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhifu-sandbox-outbox-'));
    const path = join(dir, 'sandbox.db');
    try {
      const old = new Database(path);
      old.pragma('foreign_keys = OFF');
      for (const statement of MIGRATIONS.slice(0, BEFORE)) old.exec(statement);
      old.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (${BEFORE})`);
      assert.ok(old.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'notifications_due'`).get(), 'the file has the old full index');
      old.exec(`INSERT INTO payments (payment_id, client_id, payment_request_id, request_fingerprint, code_value, currency, amount_minor, terminal_type,
          payment_method_type, reference_order_id, order_description, merchant_name, reference_merchant_id, settlement_currency, status, created_at, expires_at, pay_response_json)
        VALUES ('P1', 'C', 'R1', 'f', 'CV1', 'CNY', 100, 'WEB', 'ALIPAY_CN', 'O1', 'tea', 'Tea House', 'M1', 'GBP', 'SUCCESS', 1, 2, '{}')`);
      old.exec(`INSERT INTO disputes (dispute_id, dispute_request_id, payment_id, client_id, payment_request_id, type, state, currency, reason_code, occurred_at,
          response_deadline, created_at, updated_at) VALUES ('D1', 'DR1', 'P1', 'C', 'R1', 'RETRIEVAL', 'OPEN', 'CNY', '4853', 1, 9, 1, 1)`);
      const insert = old.prepare(`INSERT INTO notifications (payment_id, client_id, api, dispute_id, url, body, status, sends, next_send_at, created_at, updated_at)
        VALUES ('P1', 'C', ?, ?, 'http://acquirer/notify', '{}', ?, ?, ?, 1, 1)`);
      insert.run('notifyPayment', null, 'acknowledged', 1, 10);
      insert.run('notifyPayment', null, 'pending', 1, 300);
      insert.run('initiateRetrieval', 'D1', 'pending', 0, 200);
      insert.run('notifyPayment', null, 'exhausted', 8, 50);
      insert.run('notifyDisputeResult', 'D1', 'refused', 1, 20);
      old.close();

      const db = openSandboxDatabase(path);
      try {
        assert.deepEqual(db.prepare('SELECT version FROM schema_version').get(), { version: MIGRATIONS.length });
        assert.equal(db.prepare('SELECT COUNT(*) AS n FROM notifications').pluck().get(), 5, 'every row kept');
        const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'notifications' ORDER BY name`).all() as Array<{ name: string; sql: string }>;
        assert.deepEqual(
          indexes.map((index) => index.name),
          ['notifications_by_dispute', 'notifications_by_payment', 'notifications_pending_by_due'],
        );
        assert.match(indexes[0]!.sql, /WHERE dispute_id IS NOT NULL$/);
        assert.match(indexes[2]!.sql, /WHERE status = 'pending'$/);
        assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);

        const notifications = new NotificationRepository(db);
        assert.deepEqual(notifications.findDue(1_000, 10).map((row) => row.notification_id), [3, 2], 'pending rows only, earliest due first');
        assert.deepEqual(notifications.findDue(250, 10).map((row) => row.notification_id), [3]);
        assert.equal(notifications.nextDueAt(), 200);
        assert.deepEqual(notifications.listByDisputeId('D1').map((row) => row.notification_id), [3, 5]);
        assert.deepEqual(notifications.listByPaymentId('P1').map((row) => row.notification_id), [1, 2, 4]);
        // The notifier's query plan uses the new index, not a scan of every notification ever sent.
        const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM notifications WHERE status = 'pending' AND next_send_at <= ? ORDER BY next_send_at, notification_id LIMIT ?`).all(1, 1) as Array<{ detail: string }>;
        assert.deepEqual(plan.map((step) => step.detail), ['SEARCH notifications USING INDEX notifications_pending_by_due (next_send_at<?)']);

        // An acknowledgement takes the row out of the due index; a new row goes in.
        assert.equal(notifications.finish(2, 1, 'acknowledged', 400), true);
        const id = notifications.enqueue('P1', 'C', 'http://acquirer/notify', '{}', 150);
        assert.deepEqual(notifications.findDue(1_000, 10).map((row) => row.notification_id), [id, 3]);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
