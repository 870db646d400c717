import type { DisputeState, DisputeType } from '../domain/dispute-rules.js';
import type { SandboxDatabase } from './database.js';

export type DisputeResponseApi = 'responseRetrieval' | 'responseEscalation';
export type DisputeResultCode = 'CLOSED' | 'MERCHANT_WON' | 'MERCHANT_LOST';

export interface DisputeRow {
  dispute_id: string;
  dispute_request_id: string;
  payment_id: string;
  client_id: string;
  /** The payment's paymentRequestId, as the initiate call carried it. */
  payment_request_id: string;
  type: DisputeType;
  state: DisputeState;
  /** The escalated amount; null for a retrieval (no money moves). */
  amount_minor: number | null;
  currency: string;
  reason_code: string;
  reason_message: string | null;
  occurred_at: number;
  response_deadline: number;
  response_api: DisputeResponseApi | null;
  /** The acquirer's response body as received (JSON), and when. */
  response_body: string | null;
  response_received_at: number | null;
  result: DisputeResultCode | null;
  judged_at: number | null;
  /** The result code of the verified F that rejected the initiate call. */
  rejected_code: string | null;
  created_at: number;
  updated_at: number;
}

export type NewDispute = Omit<DisputeRow, 'state' | 'response_api' | 'response_body' | 'response_received_at' | 'result' | 'judged_at' | 'rejected_code' | 'updated_at'>;

/**
 * Dispute storage, one named intent per state change; each change names the state(s) it leaves
 * from, so a change that lost a race changes nothing (and says so by returning false).
 */
export class DisputeRepository {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly byRequestIdStmt;
  private readonly byPaymentStmt;
  private readonly expireStmt;
  private readonly respondStmt;
  private readonly judgeStmt;
  private readonly rejectStmt;

  constructor(db: SandboxDatabase) {
    this.insertStmt = db.prepare(`INSERT INTO disputes (dispute_id, dispute_request_id, payment_id, client_id, payment_request_id, type, state,
        amount_minor, currency, reason_code, reason_message, occurred_at, response_deadline, created_at, updated_at)
      VALUES (@dispute_id, @dispute_request_id, @payment_id, @client_id, @payment_request_id, @type, 'OPEN',
        @amount_minor, @currency, @reason_code, @reason_message, @occurred_at, @response_deadline, @created_at, @created_at)`);
    this.byIdStmt = db.prepare('SELECT * FROM disputes WHERE dispute_id = ?');
    this.byRequestIdStmt = db.prepare('SELECT * FROM disputes WHERE dispute_request_id = ? ORDER BY created_at, rowid');
    this.byPaymentStmt = db.prepare('SELECT * FROM disputes WHERE payment_id = ? ORDER BY created_at, rowid');
    this.expireStmt = db.prepare(`UPDATE disputes SET state = 'EXPIRED', updated_at = @now WHERE state = 'OPEN' AND response_deadline < @now`);
    this.respondStmt = db.prepare(`UPDATE disputes SET state = @state, response_api = @api, response_body = @body, response_received_at = @now, updated_at = @now
      WHERE dispute_id = @disputeId AND state = 'OPEN' AND response_body IS NULL`);
    this.judgeStmt = db.prepare(`UPDATE disputes SET state = @state, result = @result, judged_at = @now, updated_at = @now
      WHERE dispute_id = @disputeId AND state IN ('OPEN', 'RESPONDED')`);
    this.rejectStmt = db.prepare(`UPDATE disputes SET state = 'REJECTED', rejected_code = @code, updated_at = @now WHERE dispute_id = @disputeId AND state = 'OPEN'`);
  }

  insert(dispute: NewDispute): void {
    this.insertStmt.run(dispute);
  }

  findById(disputeId: string): DisputeRow | undefined {
    return this.byIdStmt.get(disputeId) as DisputeRow | undefined;
  }

  /** Every dispute raised with this disputeRequestId, oldest first (normally one). */
  listByRequestId(disputeRequestId: string): DisputeRow[] {
    return this.byRequestIdStmt.all(disputeRequestId) as DisputeRow[];
  }

  listByPaymentId(paymentId: string): DisputeRow[] {
    return this.byPaymentStmt.all(paymentId) as DisputeRow[];
  }

  /** OPEN disputes whose response deadline has passed become EXPIRED. Returns how many did. */
  expireDue(nowMs: number): number {
    return this.expireStmt.run({ now: nowMs }).changes;
  }

  recordResponse(disputeId: string, state: 'RESPONDED' | 'ACCEPTED', api: DisputeResponseApi, body: string, nowMs: number): boolean {
    return this.respondStmt.run({ disputeId, state, api, body, now: nowMs }).changes === 1;
  }

  judge(disputeId: string, state: 'CLOSED' | 'WON' | 'LOST', result: DisputeResultCode, nowMs: number): boolean {
    return this.judgeStmt.run({ disputeId, state, result, now: nowMs }).changes === 1;
  }

  reject(disputeId: string, code: string, nowMs: number): boolean {
    return this.rejectStmt.run({ disputeId, code, now: nowMs }).changes === 1;
  }
}
