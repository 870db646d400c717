import type { SandboxDatabase } from './database.js';

export interface RefundRow {
  refund_id: string;
  client_id: string;
  refund_request_id: string;
  payment_id: string;
  request_fingerprint: string;
  currency: string;
  amount_minor: number;
  reason: string | null;
  created_at: number;
  response_json: string;
}

export class RefundRepository {
  private readonly insertStmt;
  private readonly byRequestIdStmt;
  private readonly byPaymentStmt;

  constructor(db: SandboxDatabase) {
    this.insertStmt = db.prepare(`INSERT INTO refunds (refund_id, client_id, refund_request_id, payment_id, request_fingerprint,
        currency, amount_minor, reason, created_at, response_json)
      VALUES (@refund_id, @client_id, @refund_request_id, @payment_id, @request_fingerprint, @currency, @amount_minor, @reason,
        @created_at, @response_json)`);
    this.byRequestIdStmt = db.prepare('SELECT * FROM refunds WHERE client_id = ? AND refund_request_id = ?');
    this.byPaymentStmt = db.prepare('SELECT * FROM refunds WHERE payment_id = ? ORDER BY created_at, rowid');
  }

  insert(refund: RefundRow): void {
    this.insertStmt.run(refund);
  }

  findByClientAndRefundRequestId(clientId: string, refundRequestId: string): RefundRow | undefined {
    return this.byRequestIdStmt.get(clientId, refundRequestId) as RefundRow | undefined;
  }

  listByPaymentId(paymentId: string): RefundRow[] {
    return this.byPaymentStmt.all(paymentId) as RefundRow[];
  }
}
