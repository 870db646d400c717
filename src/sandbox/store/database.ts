import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SandboxDatabase = Database.Database;

/**
 * The sandbox's own SQLite store (never the gateway's): payments, refunds, pending notifications
 * and faults survive a restart. better-sqlite3 is synchronous, so each transaction runs to the end
 * without interleaving: concurrent requests cannot half-write or double-refund.
 */
export function openSandboxDatabase(path: string): SandboxDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // Foreign keys are enforced only after migrating: a migration that rebuilds a referenced table
  // (SQLite cannot alter a CHECK) must drop it, and checks the references itself instead.
  // better-sqlite3 turns them on by default, so they are turned off explicitly first.
  db.pragma('foreign_keys = OFF');
  migrate(db);
  db.pragma('foreign_keys = ON');
  return db;
}

/** Every schema change in order; a database at version n has run the first n. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE payments (
     payment_id TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     payment_request_id TEXT NOT NULL,
     request_fingerprint TEXT NOT NULL,
     code_value TEXT NOT NULL UNIQUE,
     currency TEXT NOT NULL,
     amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
     terminal_type TEXT NOT NULL,
     os_type TEXT,
     payment_method_type TEXT NOT NULL,
     reference_order_id TEXT NOT NULL,
     order_description TEXT NOT NULL,
     merchant_name TEXT NOT NULL,
     reference_merchant_id TEXT NOT NULL,
     settlement_currency TEXT NOT NULL,
     notify_url TEXT,
     redirect_url TEXT,
     status TEXT NOT NULL CHECK (status IN ('PROCESSING', 'SUCCESS', 'FAIL', 'CANCELLED')),
     result_code TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     paid_at INTEGER,
     closed_at INTEGER,
     customer_id TEXT,
     wallet_brand TEXT,
     settlement_amount_minor INTEGER,
     settlement_quote_json TEXT,
     refunded_minor INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
     pay_response_json TEXT NOT NULL,
     UNIQUE (client_id, payment_request_id)
   )`,
  `CREATE TABLE refunds (
     refund_id TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     refund_request_id TEXT NOT NULL,
     payment_id TEXT NOT NULL REFERENCES payments (payment_id),
     request_fingerprint TEXT NOT NULL,
     currency TEXT NOT NULL,
     amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
     reason TEXT,
     created_at INTEGER NOT NULL,
     response_json TEXT NOT NULL,
     UNIQUE (client_id, refund_request_id)
   )`,
  `CREATE INDEX refunds_by_payment ON refunds (payment_id, created_at)`,
  `CREATE TABLE notifications (
     notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
     payment_id TEXT NOT NULL REFERENCES payments (payment_id),
     client_id TEXT NOT NULL,
     url TEXT NOT NULL,
     body TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'acknowledged', 'exhausted')),
     sends INTEGER NOT NULL DEFAULT 0,
     next_send_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
  `CREATE INDEX notifications_due ON notifications (status, next_send_at)`,
  `CREATE TABLE notification_sends (
     send_id INTEGER PRIMARY KEY AUTOINCREMENT,
     notification_id INTEGER NOT NULL REFERENCES notifications (notification_id),
     sent_at INTEGER NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('acknowledged', 'rejected', 'failed', 'dropped')),
     http_status INTEGER,
     detail TEXT
   )`,
  `CREATE INDEX notification_sends_by_notification ON notification_sends (notification_id, send_id)`,
  `CREATE TABLE faults (
     fault_id INTEGER PRIMARY KEY AUTOINCREMENT,
     target TEXT NOT NULL,
     kind TEXT NOT NULL,
     remaining INTEGER NOT NULL CHECK (remaining >= 0),
     delay_ms INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   )`,
  // Disputes (issue 10): a retrieval or escalation Alipay+ raised on a paid payment. A
  // disputeRequestId is not unique here: the control API may reuse one on purpose, to provoke the
  // acquirer's REPEAT_REQ_INCONSISTENT; responses are matched by disputeRequestId and paymentRequestId.
  `CREATE TABLE disputes (
     dispute_id TEXT PRIMARY KEY,
     dispute_request_id TEXT NOT NULL,
     payment_id TEXT NOT NULL REFERENCES payments (payment_id),
     client_id TEXT NOT NULL,
     payment_request_id TEXT NOT NULL,
     type TEXT NOT NULL CHECK (type IN ('RETRIEVAL', 'ESCALATION')),
     state TEXT NOT NULL CHECK (state IN ('OPEN', 'RESPONDED', 'CLOSED', 'WON', 'LOST', 'ACCEPTED', 'EXPIRED', 'REJECTED')),
     amount_minor INTEGER CHECK (amount_minor > 0),
     currency TEXT NOT NULL,
     reason_code TEXT NOT NULL,
     reason_message TEXT,
     occurred_at INTEGER NOT NULL,
     response_deadline INTEGER NOT NULL,
     response_api TEXT CHECK (response_api IN ('responseRetrieval', 'responseEscalation')),
     response_body TEXT,
     response_received_at INTEGER,
     result TEXT CHECK (result IN ('CLOSED', 'MERCHANT_WON', 'MERCHANT_LOST')),
     judged_at INTEGER,
     rejected_code TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     CHECK ((type = 'ESCALATION') = (amount_minor IS NOT NULL))
   )`,
  `CREATE INDEX disputes_by_request_id ON disputes (dispute_request_id, created_at)`,
  `CREATE INDEX disputes_by_payment ON disputes (payment_id, created_at)`,
  `CREATE INDEX disputes_by_state_deadline ON disputes (state, response_deadline)`,
  // The outbox carries the dispute calls too (one notifier, one retry schedule): each row names its
  // API and, for dispute calls, its dispute. A verified F answer ends a row as `refused`. SQLite
  // cannot alter a CHECK, so both outbox tables are rebuilt (foreign keys are off while migrating).
  `CREATE TABLE notification_sends_v2 (
     send_id INTEGER PRIMARY KEY AUTOINCREMENT,
     notification_id INTEGER NOT NULL REFERENCES notifications (notification_id),
     attempt INTEGER,
     sent_at INTEGER NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('acknowledged', 'refused', 'rejected', 'failed', 'dropped')),
     http_status INTEGER,
     ack_status TEXT CHECK (ack_status IN ('S', 'F', 'U')),
     ack_code TEXT,
     detail TEXT
   )`,
  `INSERT INTO notification_sends_v2 (send_id, notification_id, sent_at, outcome, http_status, ack_status, detail)
     SELECT send_id, notification_id, sent_at, outcome, http_status, CASE outcome WHEN 'acknowledged' THEN 'S' END, detail FROM notification_sends`,
  `DROP TABLE notification_sends`,
  `ALTER TABLE notification_sends_v2 RENAME TO notification_sends`,
  `CREATE INDEX notification_sends_by_notification ON notification_sends (notification_id, send_id)`,
  `CREATE TABLE notifications_v2 (
     notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
     payment_id TEXT NOT NULL REFERENCES payments (payment_id),
     client_id TEXT NOT NULL,
     api TEXT NOT NULL DEFAULT 'notifyPayment' CHECK (api IN ('notifyPayment', 'initiateRetrieval', 'initiateEscalation', 'notifyDisputeResult')),
     dispute_id TEXT REFERENCES disputes (dispute_id),
     url TEXT NOT NULL,
     body TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'acknowledged', 'refused', 'exhausted')),
     sends INTEGER NOT NULL DEFAULT 0,
     next_send_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     CHECK ((api = 'notifyPayment') = (dispute_id IS NULL))
   )`,
  `INSERT INTO notifications_v2 (notification_id, payment_id, client_id, api, url, body, status, sends, next_send_at, created_at, updated_at)
     SELECT notification_id, payment_id, client_id, 'notifyPayment', url, body, status, sends, next_send_at, created_at, updated_at FROM notifications`,
  `DROP TABLE notifications`,
  `ALTER TABLE notifications_v2 RENAME TO notifications`,
  `CREATE INDEX notifications_due ON notifications (status, next_send_at)`,
  `CREATE INDEX notifications_by_payment ON notifications (payment_id, notification_id)`,
  `CREATE INDEX notifications_by_dispute ON notifications (dispute_id, notification_id)`,
  // Issue 13: the expiry sweep runs before every read of payment state; without this it scanned
  // the whole table (16.7 ms at 200k payments). Only open payments are indexed, so it stays small.
  `CREATE INDEX payments_processing_by_expiry ON payments (expires_at) WHERE status = 'PROCESSING'`,
  // Every protocol request looks up its armed fault by target; used-up faults stay as history.
  `CREATE INDEX faults_armed_by_target ON faults (target, fault_id) WHERE remaining > 0`,
  // Issue 13: each outbox index holds only the rows it is searched for, so a payment's notification
  // writes fewer index pages (its insert and its acknowledgement each touched both indexes). The
  // notifier asks only for pending rows: acknowledged ones left the due index only to be filed
  // again under their new status. Only dispute calls are looked up by dispute.
  `DROP INDEX notifications_due`,
  `CREATE INDEX notifications_pending_by_due ON notifications (next_send_at) WHERE status = 'pending'`,
  `DROP INDEX notifications_by_dispute`,
  `CREATE INDEX notifications_by_dispute ON notifications (dispute_id, notification_id) WHERE dispute_id IS NOT NULL`,
];

function migrate(db: SandboxDatabase): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current >= MIGRATIONS.length) return;
  db.transaction(() => {
    for (const statement of MIGRATIONS.slice(current)) db.exec(statement);
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) throw new Error(`sandbox migration left ${broken.length} broken reference(s): ${JSON.stringify(broken.slice(0, 3))}`);
    if (row) db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
    else db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
  })();
}
