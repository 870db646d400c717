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
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

const MIGRATIONS: readonly string[] = [
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
];

function migrate(db: SandboxDatabase): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current >= MIGRATIONS.length) return;
  db.transaction(() => {
    for (const statement of MIGRATIONS.slice(current)) db.exec(statement);
    if (row) db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
    else db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
  })();
}
