import type { SandboxDatabase } from './database.js';

/**
 * Where a fault applies: one of the protocol APIs, the notifyPayment notifications, or the dispute
 * calls the sandbox sends (`disputeNotification`: initiateRetrieval, initiateEscalation, notifyDisputeResult).
 */
export const FAULT_TARGETS = ['pay', 'inquiryPayment', 'cancelPayment', 'refund', 'responseRetrieval', 'responseEscalation', 'notifyPayment', 'disputeNotification'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

/**
 * API faults: `unknown` answers U / UNKNOWN_EXCEPTION without processing; `timeout` processes the
 * request and answers only after `delay_ms` (longer than the caller's timeout); `bad_signature`
 * processes it and answers with a signature that does not verify.
 * Notification faults: `drop` loses the send (the sandbox retries on schedule as with no ack),
 * `duplicate` sends it twice, `delay` sends it `delay_ms` late, `out_of_order` holds it until the
 * next notification has been sent. A dispute call can also be sent with a `bad_signature` (one that
 * cannot verify): the acquirer must refuse it, and the retry, correctly signed, goes through.
 */
export const API_FAULT_KINDS = ['unknown', 'timeout', 'bad_signature'] as const;
export const NOTIFICATION_FAULT_KINDS = ['drop', 'duplicate', 'delay', 'out_of_order'] as const;
export const DISPUTE_NOTIFICATION_FAULT_KINDS = [...NOTIFICATION_FAULT_KINDS, 'bad_signature'] as const;

/** The fault kinds that apply to a target. */
export function faultKindsFor(target: FaultTarget): readonly string[] {
  if (target === 'notifyPayment') return NOTIFICATION_FAULT_KINDS;
  if (target === 'disputeNotification') return DISPUTE_NOTIFICATION_FAULT_KINDS;
  return API_FAULT_KINDS;
}
export type ApiFaultKind = (typeof API_FAULT_KINDS)[number];
export type NotificationFaultKind = (typeof NOTIFICATION_FAULT_KINDS)[number];

export interface FaultRow {
  fault_id: number;
  target: FaultTarget;
  kind: ApiFaultKind | NotificationFaultKind;
  remaining: number;
  delay_ms: number;
  created_at: number;
}

export class FaultRepository {
  private readonly insertStmt;
  private readonly nextStmt;
  private readonly consumeStmt;
  private readonly listStmt;
  private readonly clearStmt;
  private readonly takeTx;

  constructor(db: SandboxDatabase) {
    this.insertStmt = db.prepare('INSERT INTO faults (target, kind, remaining, delay_ms, created_at) VALUES (?, ?, ?, ?, ?)');
    this.nextStmt = db.prepare('SELECT * FROM faults WHERE target = ? AND remaining > 0 ORDER BY fault_id LIMIT 1');
    this.consumeStmt = db.prepare('UPDATE faults SET remaining = remaining - 1 WHERE fault_id = ? AND remaining > 0');
    this.listStmt = db.prepare('SELECT * FROM faults WHERE remaining > 0 ORDER BY fault_id');
    this.clearStmt = db.prepare('DELETE FROM faults');
    this.takeTx = db.transaction((target: FaultTarget): FaultRow | undefined => {
      const fault = this.nextStmt.get(target) as FaultRow | undefined;
      if (!fault) return undefined;
      this.consumeStmt.run(fault.fault_id);
      return fault;
    });
  }

  add(target: FaultTarget, kind: FaultRow['kind'], count: number, delayMs: number, nowMs: number): number {
    return Number(this.insertStmt.run(target, kind, count, delayMs, nowMs).lastInsertRowid);
  }

  /** Consumes one use of the oldest active fault for `target`, if any. */
  take(target: FaultTarget): FaultRow | undefined {
    // Almost always none is armed: one index probe, without a transaction.
    if (this.nextStmt.get(target) === undefined) return undefined;
    return this.takeTx(target);
  }

  listActive(): FaultRow[] {
    return this.listStmt.all() as FaultRow[];
  }

  clear(): void {
    this.clearStmt.run();
  }
}
