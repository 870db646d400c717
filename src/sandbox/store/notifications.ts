import type { SandboxDatabase } from './database.js';

export type NotificationStatus = 'pending' | 'acknowledged' | 'exhausted';
export type SendOutcome = 'acknowledged' | 'rejected' | 'failed' | 'dropped';

export interface NotificationRow {
  notification_id: number;
  payment_id: string;
  client_id: string;
  url: string;
  body: string;
  status: NotificationStatus;
  sends: number;
  next_send_at: number;
  created_at: number;
  updated_at: number;
}

export interface NotificationSendRow {
  send_id: number;
  notification_id: number;
  sent_at: number;
  outcome: SendOutcome;
  http_status: number | null;
  detail: string | null;
}

/**
 * The notifier's outbox. A notification is a row with its next send time, so pending retries
 * survive a restart: the notifier only ever reads due rows from here.
 */
export class NotificationRepository {
  private readonly insertStmt;
  private readonly dueStmt;
  private readonly byIdStmt;
  private readonly byPaymentStmt;
  private readonly sendsStmt;
  private readonly recordSendStmt;
  private readonly rescheduleStmt;
  private readonly finishStmt;
  private readonly nextDueStmt;

  constructor(db: SandboxDatabase) {
    this.insertStmt = db.prepare(`INSERT INTO notifications (payment_id, client_id, url, body, status, sends, next_send_at, created_at, updated_at)
      VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`);
    this.dueStmt = db.prepare(`SELECT * FROM notifications WHERE status = 'pending' AND next_send_at <= ? ORDER BY next_send_at, notification_id LIMIT ?`);
    this.byIdStmt = db.prepare('SELECT * FROM notifications WHERE notification_id = ?');
    this.byPaymentStmt = db.prepare('SELECT * FROM notifications WHERE payment_id = ? ORDER BY notification_id');
    this.sendsStmt = db.prepare('SELECT * FROM notification_sends WHERE notification_id = ? ORDER BY send_id');
    this.recordSendStmt = db.prepare('INSERT INTO notification_sends (notification_id, sent_at, outcome, http_status, detail) VALUES (?, ?, ?, ?, ?)');
    this.rescheduleStmt = db.prepare(`UPDATE notifications SET sends = sends + 1, next_send_at = ?, updated_at = ? WHERE notification_id = ? AND status = 'pending'`);
    this.finishStmt = db.prepare(`UPDATE notifications SET sends = sends + 1, status = ?, updated_at = ? WHERE notification_id = ? AND status = 'pending'`);
    this.nextDueStmt = db.prepare(`SELECT MIN(next_send_at) AS at FROM notifications WHERE status = 'pending'`);
  }

  enqueue(paymentId: string, clientId: string, url: string, body: string, nowMs: number): number {
    return Number(this.insertStmt.run(paymentId, clientId, url, body, nowMs, nowMs, nowMs).lastInsertRowid);
  }

  findDue(nowMs: number, limit: number): NotificationRow[] {
    return this.dueStmt.all(nowMs, limit) as NotificationRow[];
  }

  findById(notificationId: number): NotificationRow | undefined {
    return this.byIdStmt.get(notificationId) as NotificationRow | undefined;
  }

  listByPaymentId(paymentId: string): NotificationRow[] {
    return this.byPaymentStmt.all(paymentId) as NotificationRow[];
  }

  listSends(notificationId: number): NotificationSendRow[] {
    return this.sendsStmt.all(notificationId) as NotificationSendRow[];
  }

  nextDueAt(): number | null {
    return (this.nextDueStmt.get() as { at: number | null }).at;
  }

  recordSend(notificationId: number, sentAt: number, outcome: SendOutcome, httpStatus: number | null, detail: string | null): void {
    this.recordSendStmt.run(notificationId, sentAt, outcome, httpStatus, detail);
  }

  scheduleNextSend(notificationId: number, nextSendAt: number, nowMs: number): void {
    this.rescheduleStmt.run(nextSendAt, nowMs, notificationId);
  }

  finish(notificationId: number, status: Exclude<NotificationStatus, 'pending'>, nowMs: number): void {
    this.finishStmt.run(status, nowMs, notificationId);
  }
}
