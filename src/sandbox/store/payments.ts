import type { SandboxDatabase } from './database.js';

export type PaymentStatus = 'PROCESSING' | 'SUCCESS' | 'FAIL' | 'CANCELLED';

export interface PaymentRow {
  payment_id: string;
  client_id: string;
  payment_request_id: string;
  request_fingerprint: string;
  code_value: string;
  currency: string;
  amount_minor: number;
  terminal_type: string;
  os_type: string | null;
  payment_method_type: string;
  reference_order_id: string;
  order_description: string;
  merchant_name: string;
  reference_merchant_id: string;
  settlement_currency: string;
  notify_url: string | null;
  redirect_url: string | null;
  status: PaymentStatus;
  result_code: string | null;
  created_at: number;
  expires_at: number;
  paid_at: number | null;
  closed_at: number | null;
  customer_id: string | null;
  wallet_brand: string | null;
  settlement_amount_minor: number | null;
  settlement_quote_json: string | null;
  refunded_minor: number;
  pay_response_json: string;
}

export type NewPayment = Omit<
  PaymentRow,
  'status' | 'result_code' | 'paid_at' | 'closed_at' | 'customer_id' | 'wallet_brand' | 'settlement_amount_minor' | 'settlement_quote_json' | 'refunded_minor'
>;

export interface PaidOutcome {
  paidAt: number;
  customerId: string;
  walletBrand: string;
  settlementAmountMinor: number;
  settlementQuoteJson: string;
}

/** Payment storage, one named intent per state change. Callers wrap related writes in one transaction. */
export class PaymentRepository {
  private readonly insertStmt;
  private readonly byRequestIdStmt;
  private readonly byIdStmt;
  private readonly byCodeValueStmt;
  private readonly markPaidStmt;
  private readonly markFailedStmt;
  private readonly markCancelledStmt;
  private readonly addRefundedStmt;
  private readonly dueExpiryStmt;
  private readonly anyDueExpiryStmt;

  constructor(db: SandboxDatabase) {
    this.insertStmt = db.prepare(`INSERT INTO payments (
        payment_id, client_id, payment_request_id, request_fingerprint, code_value, currency, amount_minor,
        terminal_type, os_type, payment_method_type, reference_order_id, order_description, merchant_name,
        reference_merchant_id, settlement_currency, notify_url, redirect_url, status, created_at, expires_at, pay_response_json)
      VALUES (@payment_id, @client_id, @payment_request_id, @request_fingerprint, @code_value, @currency, @amount_minor,
        @terminal_type, @os_type, @payment_method_type, @reference_order_id, @order_description, @merchant_name,
        @reference_merchant_id, @settlement_currency, @notify_url, @redirect_url, 'PROCESSING', @created_at, @expires_at, @pay_response_json)`);
    this.byRequestIdStmt = db.prepare('SELECT * FROM payments WHERE client_id = ? AND payment_request_id = ?');
    this.byIdStmt = db.prepare('SELECT * FROM payments WHERE payment_id = ?');
    this.byCodeValueStmt = db.prepare('SELECT * FROM payments WHERE code_value = ?');
    this.markPaidStmt = db.prepare(`UPDATE payments SET status = 'SUCCESS', result_code = 'SUCCESS', paid_at = @paidAt,
        customer_id = @customerId, wallet_brand = @walletBrand, settlement_amount_minor = @settlementAmountMinor,
        settlement_quote_json = @settlementQuoteJson WHERE payment_id = @paymentId AND status = 'PROCESSING'`);
    this.markFailedStmt = db.prepare(`UPDATE payments SET status = 'FAIL', result_code = @resultCode, closed_at = @closedAt,
        customer_id = @customerId, wallet_brand = @walletBrand WHERE payment_id = @paymentId AND status = 'PROCESSING'`);
    this.markCancelledStmt = db.prepare(`UPDATE payments SET status = 'CANCELLED', result_code = 'ORDER_IS_CLOSED', closed_at = @closedAt
        WHERE payment_id = @paymentId AND status IN ('PROCESSING', 'SUCCESS')`);
    this.addRefundedStmt = db.prepare(`UPDATE payments SET refunded_minor = refunded_minor + @amountMinor
        WHERE payment_id = @paymentId AND status = 'SUCCESS' AND refunded_minor + @amountMinor <= amount_minor`);
    this.dueExpiryStmt = db.prepare(`SELECT * FROM payments WHERE status = 'PROCESSING' AND expires_at <= ? ORDER BY expires_at LIMIT ?`);
    this.anyDueExpiryStmt = db.prepare(`SELECT 1 FROM payments WHERE status = 'PROCESSING' AND expires_at <= ? LIMIT 1`).pluck();
  }

  insert(payment: NewPayment): void {
    this.insertStmt.run(payment);
  }

  findByClientAndPaymentRequestId(clientId: string, paymentRequestId: string): PaymentRow | undefined {
    return this.byRequestIdStmt.get(clientId, paymentRequestId) as PaymentRow | undefined;
  }

  findByPaymentId(paymentId: string): PaymentRow | undefined {
    return this.byIdStmt.get(paymentId) as PaymentRow | undefined;
  }

  findByCodeValue(codeValue: string): PaymentRow | undefined {
    return this.byCodeValueStmt.get(codeValue) as PaymentRow | undefined;
  }

  /** Returns false when the payment was no longer in process (already paid, failed, closed). */
  markPaid(paymentId: string, outcome: PaidOutcome): boolean {
    return this.markPaidStmt.run({ paymentId, ...outcome }).changes === 1;
  }

  markFailed(paymentId: string, resultCode: string, closedAt: number, shopper?: { customerId: string; walletBrand: string }): boolean {
    return this.markFailedStmt.run({ paymentId, resultCode, closedAt, customerId: shopper?.customerId ?? null, walletBrand: shopper?.walletBrand ?? null }).changes === 1;
  }

  markCancelled(paymentId: string, closedAt: number): boolean {
    return this.markCancelledStmt.run({ paymentId, closedAt }).changes === 1;
  }

  /** Adds to the refunded total only while it stays within the paid amount (also a CHECK in the table). */
  addRefunded(paymentId: string, amountMinor: number): boolean {
    return this.addRefundedStmt.run({ paymentId, amountMinor }).changes === 1;
  }

  anyDueForExpiry(nowMs: number): boolean {
    return this.anyDueExpiryStmt.get(nowMs) !== undefined;
  }

  findDueForExpiry(nowMs: number, limit: number): PaymentRow[] {
    return this.dueExpiryStmt.all(nowMs, limit) as PaymentRow[];
  }
}
