import { Agent } from 'undici';
import type { SandboxContext } from '../core/context.js';
import { applyDisputeCallRefusal } from '../core/disputes.js';
import { expireDuePayments } from '../core/outcomes.js';
import type { FaultRow } from '../store/faults.js';
import type { NotificationRow } from '../store/notifications.js';
import { deliverNotification, type DeliveryResult } from './delivery.js';
import { Semaphore } from './semaphore.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * When each send of a notification is due, counted from the previous send (alipayplus.md §4):
 * the first at once, then 2 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h — at most 8 sends.
 */
export const NOTIFY_RETRY_INTERVALS_MS: readonly number[] = [0, 2 * MINUTE_MS, 10 * MINUTE_MS, 10 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, 6 * HOUR_MS, 15 * HOUR_MS];
export const NOTIFY_SENDS_MAX = NOTIFY_RETRY_INTERVALS_MS.length;
export const NOTIFIER_POLL_INTERVAL_MS_DEFAULT = 250;
export const NOTIFIER_SEND_TIMEOUT_MS_DEFAULT = 10_000;
export const NOTIFIER_CONCURRENCY_MAX_DEFAULT = 16;
/** An `out_of_order` notification waits for the next one at most this long, so it is never stuck. */
export const OUT_OF_ORDER_HOLD_MS_MAX_DEFAULT = 30_000;
/** Due rows read per pass; the rest are picked up by the next pass. */
const DUE_BATCH_MAX = 1000;

export interface NotifierOptions {
  pollIntervalMs?: number;
  sendTimeoutMs?: number;
  concurrencyMax?: number;
  outOfOrderHoldMsMax?: number;
  /**
   * `false`: `start()` runs no background loop; the owner drives `tick()`/`runDue()` itself
   * (tests with a manual clock, which must decide exactly when each retry happens).
   */
  autoStart?: boolean;
}

/** A send waiting on a `delay` or `out_of_order` fault: released early, or cancelled by stop(). */
interface Waiter {
  release(proceed: boolean): void;
}

/**
 * Sends queued notifyPayment messages and the dispute calls (initiateRetrieval, initiateEscalation,
 * notifyDisputeResult), and retries them on the schedule above. The schedule lives
 * only in the database (each row's next send time), so a restarted sandbox resumes where it was.
 * A row is claimed in memory while it is being sent, so overlapping passes never send it twice.
 */
export class Notifier {
  private readonly pollIntervalMs: number;
  private readonly sendTimeoutMs: number;
  private readonly holdMsMax: number;
  private readonly autoStart: boolean;
  private readonly agent: Agent;
  private readonly slots: Semaphore;
  private readonly claimed = new Set<number>();
  /** Sends a pass is making, by row: deliverNow waits on one instead of sending the row again. */
  private readonly passSends = new Map<number, Promise<unknown>>();
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly delayed = new Set<Waiter>();
  private held: Waiter[] = [];
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private running = false;
  private wakeUp: (() => void) | null = null;
  private wokenEarly = false;

  constructor(
    private readonly ctx: SandboxContext,
    options: NotifierOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? NOTIFIER_POLL_INTERVAL_MS_DEFAULT;
    this.sendTimeoutMs = options.sendTimeoutMs ?? NOTIFIER_SEND_TIMEOUT_MS_DEFAULT;
    this.holdMsMax = options.outOfOrderHoldMsMax ?? OUT_OF_ORDER_HOLD_MS_MAX_DEFAULT;
    this.autoStart = options.autoStart ?? true;
    this.slots = new Semaphore(options.concurrencyMax ?? NOTIFIER_CONCURRENCY_MAX_DEFAULT);
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: options.concurrencyMax ?? NOTIFIER_CONCURRENCY_MAX_DEFAULT });
  }

  start(): void {
    if (this.running || !this.autoStart) return;
    this.running = true;
    this.loop = this.runLoop();
  }

  /** Ends the loop, cancels sends still waiting on a fault (their rows stay due), awaits the rest. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    // Abort first: a pass still running may not start new sends or waits after this point.
    this.stopping.abort();
    for (const waiter of [...this.delayed, ...this.held]) waiter.release(false);
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    await this.agent.close();
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wokenEarly = true;
  }

  /** One pass of the loop: close expired payments (which queues their notifications), then send what is due. */
  async tick(): Promise<number> {
    expireDuePayments(this.ctx);
    return this.runDue();
  }

  /**
   * Makes the first send of a row just queued, now, and resolves when it is recorded (or, under a
   * `delay`/`out_of_order` fault, when it has been handed to the background). A row a pass of the
   * loop is already sending is waited on, not sent again; a row not due is left to the schedule.
   */
  async deliverNow(notificationId: number): Promise<void> {
    if (this.stopping.signal.aborted) return;
    // A pass of the loop may have taken the row first: then its send is the first attempt to wait for.
    const running = this.passSends.get(notificationId);
    if (running) return void (await running);
    if (this.claimed.has(notificationId)) return;
    const row = this.ctx.notifications.findById(notificationId);
    if (!row || row.status !== 'pending' || row.next_send_at > this.ctx.clock.now()) return;
    this.claimed.add(notificationId);
    await this.track(this.process(row));
  }

  /**
   * Sends every notification due at the clock's now once, at most `concurrencyMax` at a time.
   * Resolves when those sends are recorded; sends held back by a `delay` or `out_of_order` fault
   * go on in the background. Returns how many notifications were taken.
   */
  async runDue(): Promise<number> {
    if (this.stopping.signal.aborted) return 0;
    const now = this.ctx.clock.now();
    const due = this.ctx.notifications.findDue(now, DUE_BATCH_MAX + this.claimed.size).filter((row) => !this.claimed.has(row.notification_id));
    const rows = due.slice(0, DUE_BATCH_MAX);
    for (const row of rows) this.claimed.add(row.notification_id);
    await Promise.all(
      rows.map((row) => {
        const send = this.track(this.process(row));
        this.passSends.set(row.notification_id, send);
        void send.finally(() => this.passSends.delete(row.notification_id));
        return send;
      }),
    );
    return rows.length;
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      // Not awaited: a slow receiver must not hold back notifications that come due meanwhile.
      void this.track(this.tick());
      await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    if (this.wokenEarly) {
      this.wokenEarly = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      this.wakeUp = done;
    });
  }

  private track<T>(task: Promise<T>): Promise<T | undefined> {
    const guarded = task.catch((error: unknown) => {
      this.ctx.log.error({ err: error }, 'notifier task failed');
      return undefined;
    });
    this.tasks.add(guarded);
    void guarded.finally(() => this.tasks.delete(guarded));
    return guarded;
  }

  /** Applies the notification fault (if any) for this send, then sends and records the outcome. */
  private async process(row: NotificationRow): Promise<void> {
    const fault = this.ctx.faults.take(row.api === 'notifyPayment' ? 'notifyPayment' : 'disputeNotification');
    if (fault?.kind === 'delay' || fault?.kind === 'out_of_order') {
      // Waiting happens in the background: the pass, and every other notification, goes on.
      void this.track(this.sendAfterWait(row, fault));
      return;
    }
    try {
      await this.sendNow(row, fault);
    } finally {
      this.claimed.delete(row.notification_id);
    }
  }

  private async sendAfterWait(row: NotificationRow, fault: FaultRow): Promise<void> {
    try {
      const proceed = fault.kind === 'delay' ? await this.waitDelay(fault.delay_ms) : await this.waitForNextSend();
      if (proceed) await this.sendNow(row, undefined);
    } finally {
      this.claimed.delete(row.notification_id);
    }
  }

  private waitDelay(delayMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        release: (proceed) => {
          clearTimeout(timer);
          this.delayed.delete(waiter);
          resolve(proceed);
        },
      };
      const timer = setTimeout(() => waiter.release(true), delayMs);
      this.delayed.add(waiter);
      if (this.stopping.signal.aborted) waiter.release(false);
    });
  }

  /** Holds an out-of-order notification until another one has been sent (or the hold cap passes). */
  private waitForNextSend(): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        release: (proceed) => {
          clearTimeout(timer);
          this.held = this.held.filter((other) => other !== waiter);
          resolve(proceed);
        },
      };
      const timer = setTimeout(() => waiter.release(true), this.holdMsMax);
      this.held.push(waiter);
      if (this.stopping.signal.aborted) waiter.release(false);
    });
  }

  private async sendNow(row: NotificationRow, fault: FaultRow | undefined): Promise<void> {
    // Stopping: the row stays due as it is, and the next start sends it.
    if (this.stopping.signal.aborted) return;
    // The row (and the state change it reports) may be in a commit whose fsync is still to come:
    // nothing is sent that a power loss could take back. A failed fsync throws: the row stays due.
    await this.ctx.durable();
    if (this.stopping.signal.aborted) return;
    const sentAt = this.ctx.clock.now();
    if (fault?.kind === 'drop') {
      this.record(row, sentAt, [{ outcome: 'dropped', httpStatus: null, ackStatus: null, ackCode: null, detail: 'dropped by an injected fault' }]);
      return;
    }
    const copies = fault?.kind === 'duplicate' ? 2 : 1;
    // Only notifications held before this one starts may follow it: "out of order" means after the next send.
    const heldBefore = [...this.held];
    const results = await this.slots.run(() =>
      deliverNotification(row, {
        ctx: this.ctx,
        agent: this.agent,
        nowMs: sentAt,
        copies,
        badSignature: fault?.kind === 'bad_signature',
        timeoutMs: this.sendTimeoutMs,
        stopSignal: this.stopping.signal,
      }),
    );
    for (const waiter of heldBefore) waiter.release(true);
    this.record(row, sentAt, results);
  }

  /**
   * Records the send(s) and the row's next state in one transaction. The row must still be at the
   * send count it was read with, so a send is never counted, finished or rescheduled twice. A
   * verified F to a dispute call ends the row (and may reject its dispute) in the same transaction.
   */
  private record(row: NotificationRow, sentAt: number, results: DeliveryResult[]): void {
    const acknowledged = results.some((result) => result.outcome === 'acknowledged');
    const refusal = acknowledged ? undefined : results.find((result) => result.outcome === 'refused');
    const attempt = row.sends + 1;
    const { notifications } = this.ctx;
    const id = row.notification_id;
    this.ctx.db.transaction(() => {
      // The guarded UPDATE is the check: it changes nothing (and nothing is recorded) unless the row is still pending at row.sends.
      const counted = acknowledged
        ? notifications.finish(id, row.sends, 'acknowledged', sentAt)
        : refusal
          ? notifications.finish(id, row.sends, 'refused', sentAt)
          : attempt >= NOTIFY_SENDS_MAX
            ? notifications.finish(id, row.sends, 'exhausted', sentAt)
            : notifications.scheduleNextSend(id, row.sends, sentAt + (NOTIFY_RETRY_INTERVALS_MS[attempt] as number), sentAt);
      if (!counted) return;
      for (const result of results) {
        const { outcome, httpStatus, ackStatus, ackCode, detail } = result;
        notifications.recordSend(id, { attempt, sentAt, outcome, httpStatus, ackStatus, ackCode, detail });
      }
      // After the sends are recorded: whether the acquirer ever accepted the call is read from them.
      if (refusal) applyDisputeCallRefusal(this.ctx, row, refusal.ackCode ?? 'UNKNOWN', sentAt);
    })();
    if (!acknowledged) this.logUnacknowledged(row, results, attempt, refusal !== undefined);
  }

  private logUnacknowledged(row: NotificationRow, results: DeliveryResult[], sends: number, refused: boolean): void {
    const last = results[results.length - 1];
    const fields = { notificationId: row.notification_id, api: row.api, paymentId: row.payment_id, disputeId: row.dispute_id, url: row.url, outcome: last?.outcome, httpStatus: last?.httpStatus, ackCode: last?.ackCode, detail: last?.detail, sends };
    if (refused) this.ctx.log.warn(fields, `${row.api} refused by the acquirer (verified F); not retried`);
    else this.ctx.log.warn(fields, sends >= NOTIFY_SENDS_MAX ? `${row.api} not acknowledged; retries exhausted` : `${row.api} not acknowledged; will retry`);
  }
}
