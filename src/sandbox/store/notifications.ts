import type { SandboxDatabase } from './database.js';

/** `refused`: the acquirer answered a dispute call with a verified, signed F — final, never retried. */
export type NotificationStatus = 'pending' | 'acknowledged' | 'refused' | 'exhausted';
/**
 * One send's outcome: `acknowledged` (verified S), `refused` (verified F, dispute calls only),
 * `rejected` (an answer that is not a valid acknowledgement), `failed` (no answer), `dropped` (fault).
 */
export type SendOutcome = 'acknowledged' | 'refused' | 'rejected' | 'failed' | 'dropped';
/** What an outbox row sends: the payment's result, or one of the dispute calls to the acquirer. */
export type OutboundApi = 'notifyPayment' | 'initiateRetrieval' | 'initiateEscalation' | 'notifyDisputeResult';

export interface NotificationRow {
  notification_id: number;
  payment_id: string;
  client_id: string;
  api: OutboundApi;
  dispute_id: string | null;
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
  /** Which send of its row this was (1-based); null for sends recorded before it was kept. */
  attempt: number | null;
  sent_at: number;
  outcome: SendOutcome;
  http_status: number | null;
  /** The result status and code of a verified, signed answer; null when there was none. */
  ack_status: 'S' | 'F' | 'U' | null;
  ack_code: string | null;
  detail: string | null;
}

export interface SendRecord {
  attempt: number;
  sentAt: number;
  outcome: SendOutcome;
  httpStatus: number | null;
  ackStatus: 'S' | 'F' | 'U' | null;
  ackCode: string | null;
  detail: string | null;
}

/** A dispute call's send, with the API it was for. */
export type DisputeSendRow = NotificationSendRow & { api: OutboundApi };

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
  private readonly byDisputeStmt;
  private readonly disputeSendsStmt;

  constructor(db: SandboxDatabase) {
    this.insertStmt = db.prepare(`INSERT INTO notifications (payment_id, client_id, api, dispute_id, url, body, status, sends, next_send_at, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`);
    this.dueStmt = db.prepare(`SELECT * FROM notifications WHERE status = 'pending' AND next_send_at <= ? ORDER BY next_send_at, notification_id LIMIT ?`);
    this.byIdStmt = db.prepare('SELECT * FROM notifications WHERE notification_id = ?');
    this.byPaymentStmt = db.prepare(`SELECT * FROM notifications WHERE payment_id = ? AND api = 'notifyPayment' ORDER BY notification_id`);
    this.byDisputeStmt = db.prepare('SELECT * FROM notifications WHERE dispute_id = ? ORDER BY notification_id');
    this.disputeSendsStmt = db.prepare(`SELECT s.*, n.api AS api FROM notification_sends s JOIN notifications n ON n.notification_id = s.notification_id
      WHERE n.dispute_id = ? ORDER BY s.send_id`);
    this.sendsStmt = db.prepare('SELECT * FROM notification_sends WHERE notification_id = ? ORDER BY send_id');
    this.recordSendStmt = db.prepare(`INSERT INTO notification_sends (notification_id, attempt, sent_at, outcome, http_status, ack_status, ack_code, detail)
      VALUES (@notificationId, @attempt, @sentAt, @outcome, @httpStatus, @ackStatus, @ackCode, @detail)`);
    this.rescheduleStmt = db.prepare(`UPDATE notifications SET sends = sends + 1, next_send_at = ?, updated_at = ? WHERE notification_id = ? AND status = 'pending' AND sends = ?`);
    this.finishStmt = db.prepare(`UPDATE notifications SET sends = sends + 1, status = ?, updated_at = ? WHERE notification_id = ? AND status = 'pending' AND sends = ?`);
    this.nextDueStmt = db.prepare(`SELECT MIN(next_send_at) AS at FROM notifications WHERE status = 'pending'`);
  }

  /** Queues a notifyPayment, due at once. */
  enqueue(paymentId: string, clientId: string, url: string, body: string, nowMs: number): number {
    return Number(this.insertStmt.run(paymentId, clientId, 'notifyPayment', null, url, body, nowMs, nowMs, nowMs).lastInsertRowid);
  }

  /** Queues a dispute call to the acquirer, due at once. */
  enqueueDisputeCall(api: Exclude<OutboundApi, 'notifyPayment'>, disputeId: string, paymentId: string, clientId: string, url: string, body: string, nowMs: number): number {
    return Number(this.insertStmt.run(paymentId, clientId, api, disputeId, url, body, nowMs, nowMs, nowMs).lastInsertRowid);
  }

  listByDisputeId(disputeId: string): NotificationRow[] {
    return this.byDisputeStmt.all(disputeId) as NotificationRow[];
  }

  /** Every send of every call made for a dispute, oldest first. */
  listDisputeSends(disputeId: string): DisputeSendRow[] {
    return this.disputeSendsStmt.all(disputeId) as DisputeSendRow[];
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

  recordSend(notificationId: number, send: SendRecord): void {
    this.recordSendStmt.run({ notificationId, ...send });
  }

  /**
   * Counts a send and sets the next one's time, only if the row is still pending at `sendsSeen`
   * sends (the count its send was made at); false otherwise: another pass already counted it.
   */
  scheduleNextSend(notificationId: number, sendsSeen: number, nextSendAt: number, nowMs: number): boolean {
    return this.rescheduleStmt.run(nextSendAt, nowMs, notificationId, sendsSeen).changes === 1;
  }

  /** Counts a send and ends the row, with the same guard as scheduleNextSend. */
  finish(notificationId: number, sendsSeen: number, status: Exclude<NotificationStatus, 'pending'>, nowMs: number): boolean {
    return this.finishStmt.run(status, nowMs, notificationId, sendsSeen).changes === 1;
  }
}
