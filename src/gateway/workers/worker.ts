import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { NetworkConnector } from '../connector/types.js';
import type { CoreDeps } from '../core/context.js';
import { ATTEMPT_WORKER_STATUSES } from '../domain/payment_attempts.js';
import { claimRow, findDueIds, renewLease, type LeasedTable } from '../store/leases.js';
import { releaseAttempt } from '../store/payment_attempts.js';
import { releaseRefund } from '../store/refunds.js';
import { releaseDispute } from '../store/disputes.js';
import { RESPONDING_STATUSES } from '../domain/disputes.js';
import type { DisputeRow, PaymentAttemptRow, RefundRow, Tables } from '../store/schema.js';
import { checkDisputeResponse, enforceDisputeDeadlines } from './disputes.js';
import { AttemptLeaseLost, checkAttempt, type AttemptWork } from './attempts.js';
import { expireCheckoutSessions } from './checkout_sessions.js';
import { checkRefund } from './refunds.js';
import { confirmStrandedCreates } from './stranded_confirms.js';
import { nextRetryAt } from '../domain/schedule.js';

export const WORKER_POLL_INTERVAL_MS = 500;
/** Attempts claimed per pass; a full batch starts the next pass at once. */
export const WORKER_BATCH_MAX = 50;
/** Attempts checked at once (each is a few Alipay+ calls). */
export const WORKER_CONCURRENCY_MAX = 8;
/**
 * How long a claim holds without a heartbeat. A row is claimed when its check starts (not when
 * the pass lists it) and its lease is renewed every WORKER_LEASE_MS / 3 while the check runs (an
 * inquiry, a cancel and a refund can take SENDS_MAX sends of 10 s each), so a live process never
 * loses a row mid-check, while a crashed one's rows come free within a minute.
 */
export const WORKER_LEASE_MS = 60_000;

export interface GatewayWorkerOptions {
  /** false: `start()` runs no loop; the owner calls `runOnce()` (tests with a manual clock). */
  autoStart?: boolean;
  pollIntervalMs?: number;
  batchMax?: number;
  concurrencyMax?: number;
  leaseMs?: number;
  /** Names this process in leases (default: host, pid and a random suffix). */
  owner?: string;
}

/**
 * The gateway's scheduler for payment attempts the request path left open (DESIGN.md
 * "Workers"): inquiry on a schedule kept in each attempt's row, closing at expiry, cancels that
 * did not reach the network, and returning money paid after a cancel. Everything it knows is in
 * the database, so a restarted or second process carries on; leases keep two processes off one
 * attempt, and no transaction is held across a network call.
 */
export class GatewayWorker {
  readonly owner: string;
  private readonly work: AttemptWork;
  private readonly inFlight = new Set<Promise<unknown>>();
  private loop: Promise<void> | null = null;
  private running = false;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly deps: CoreDeps,
    connector: NetworkConnector,
    private readonly options: GatewayWorkerOptions = {},
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.work = { deps, connector };
  }

  start(): void {
    if (this.running || this.options.autoStart === false) return;
    this.running = true;
    this.loop = this.runLoop();
  }

  /** Ends the loop and waits for every check in flight (their outcomes are recorded, leases released). */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** One pass: claims the attempts and refunds due at the clock's now and checks them. Resolves with their ids. */
  runOnce(): Promise<string[]> {
    const pass = this.claimAndCheck();
    this.inFlight.add(pass);
    return pass.finally(() => this.inFlight.delete(pass));
  }

  private async claimAndCheck(): Promise<string[]> {
    this.deps.metrics?.workerPass('attempts');
    const limit = this.options.batchMax ?? WORKER_BATCH_MAX;
    const db = this.deps.database.db;
    const attemptIds = await findDueIds(db, 'payment_attempts', ATTEMPT_WORKER_STATUSES, this.deps.clock.now(), limit);
    const attempts = await this.checkEachLeased('payment_attempts', attemptIds, ATTEMPT_WORKER_STATUSES, (attempt, leaseHeld) => this.checkOne(attempt, leaseHeld));
    const refundIds = await findDueIds(db, 'refunds', ['pending'], this.deps.clock.now(), limit);
    const refunds = await this.checkEachLeased('refunds', refundIds, ['pending'], (refund) => this.checkRefund(refund));
    const disputeIds = await findDueIds(db, 'disputes', RESPONDING_STATUSES, this.deps.clock.now(), limit);
    const disputes = await this.checkEachLeased('disputes', disputeIds, RESPONDING_STATUSES, (dispute) => this.checkDisputeResponse(dispute));
    await this.enforceDisputeDeadlines();
    await this.expireSessions();
    await confirmStrandedCreates(this.deps, this.owner);
    return [...attempts, ...refunds, ...disputes];
  }

  /**
   * Checks the listed rows with bounded concurrency, each under its own lease: claimed with a
   * fresh `now` when its check starts, renewed while it runs, released with its next check.
   * Returns the ids this process checked (a row another process claimed first is skipped).
   */
  private async checkEachLeased<T extends LeasedTable>(
    table: T,
    ids: string[],
    statuses: readonly Tables[T]['status'][],
    check: (row: Tables[T], leaseHeld: () => Promise<boolean>) => Promise<void>,
  ): Promise<string[]> {
    const checked: string[] = [];
    const leaseMs = this.options.leaseMs ?? WORKER_LEASE_MS;
    await forEachBounded(ids, this.options.concurrencyMax ?? WORKER_CONCURRENCY_MAX, async (id) => {
      const db = this.deps.database.db;
      const now = this.deps.clock.now();
      let row: Tables[T] | null;
      try {
        row = await claimRow(db, table, id, statuses, this.owner, now, now + leaseMs);
      } catch (error) {
        this.deps.logger.error({ err: error, id }, 'could not claim a worker lease');
        return;
      }
      if (row === null) return;
      // A lease that ran out while it was being taken (the process stalled, or the clock moved on)
      // is no lease: another worker may claim the row now, so this one must not call the network.
      if (this.deps.clock.now() >= now + leaseMs) {
        this.deps.logger.warn({ id }, 'worker lease ran out while it was taken; check skipped');
        return;
      }
      checked.push(id);
      const heartbeat = setInterval(() => {
        renewLease(db, table, id, this.owner, this.deps.clock.now() + leaseMs).then(
          (held) => { if (!held) this.deps.logger.warn({ id }, 'worker lease lost mid-check'); },
          (error: unknown) => this.deps.logger.error({ err: error, id }, 'could not renew a worker lease'),
        );
      }, Math.max(1, Math.floor(leaseMs / 3)));
      heartbeat.unref();
      const leaseHeld = () => renewLease(db, table, id, this.owner, this.deps.clock.now() + leaseMs);
      try {
        await check(row, leaseHeld);
      } finally {
        clearInterval(heartbeat);
      }
    });
    return checked;
  }

  /** Re-sends a pending refund with its refundRequestId; like checkOne, never throws out of the pass. */
  private async checkRefund(refund: RefundRow): Promise<void> {
    let next: number | null;
    try {
      next = await checkRefund(this.deps, refund);
    } catch (error) {
      this.deps.logger.error({ err: error, refund_request_id: refund.refund_request_id }, 'worker refund check failed; retrying later');
      next = nextRetryAt(refund.checks, this.deps.clock.now());
    }
    try {
      await releaseRefund(this.deps.database.db, refund.id, this.owner, next);
    } catch (error) {
      this.deps.logger.error({ err: error, refund_request_id: refund.refund_request_id }, 'could not release a worker lease');
    }
  }

  /** Re-sends a stored dispute response with its disputeRequestId; like checkOne, never throws out of the pass. */
  private async checkDisputeResponse(dispute: DisputeRow): Promise<void> {
    let next: number | null;
    try {
      next = await checkDisputeResponse(this.deps, dispute);
    } catch (error) {
      this.deps.logger.error({ err: error, dispute_request_id: dispute.dispute_request_id }, 'worker dispute response re-send failed; retrying later');
      next = nextRetryAt(dispute.checks, this.deps.clock.now());
    }
    try {
      await releaseDispute(this.deps.database.db, dispute.id, this.owner, next);
    } catch (error) {
      this.deps.logger.error({ err: error, dispute_request_id: dispute.dispute_request_id }, 'could not release a worker lease');
    }
  }

  /** Disputes past due (workers/disputes.ts); a failure waits for the next pass. */
  private async enforceDisputeDeadlines(): Promise<void> {
    try {
      await enforceDisputeDeadlines(this.deps);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'dispute deadline check failed; retrying on the next pass');
    }
  }

  /** Checkout Sessions past their expiry (workers/checkout_sessions.ts); a failure waits for the next pass. */
  private async expireSessions(): Promise<void> {
    try {
      await expireCheckoutSessions(this.deps);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'checkout session expiry failed; retrying on the next pass');
    }
  }

  /** A check never throws out of the pass: a failure is logged and the attempt retried on the backoff. */
  private async checkOne(attempt: PaymentAttemptRow, leaseHeld: () => Promise<boolean>): Promise<void> {
    let next: number | null;
    try {
      next = await checkAttempt({ ...this.work, leaseHeld }, attempt);
    } catch (error) {
      if (error instanceof AttemptLeaseLost) {
        // Another worker holds the attempt now and finishes the check; its lease is not ours to release.
        this.deps.logger.warn({ payment_request_id: attempt.payment_request_id }, error.message);
        return;
      }
      this.deps.logger.error({ err: error, payment_request_id: attempt.payment_request_id }, 'worker check failed; retrying later');
      next = nextRetryAt(attempt.checks, this.deps.clock.now());
    }
    try {
      await releaseAttempt(this.deps.database.db, attempt.id, this.owner, next);
    } catch (error) {
      // The lease then simply runs out and the attempt is picked up again.
      this.deps.logger.error({ err: error, payment_request_id: attempt.payment_request_id }, 'could not release a worker lease');
    }
  }

  private async runLoop(): Promise<void> {
    const batchMax = this.options.batchMax ?? WORKER_BATCH_MAX;
    while (this.running) {
      let checked = 0;
      try {
        checked = (await this.runOnce()).length;
      } catch (error) {
        this.deps.logger.error({ err: error }, 'worker pass failed');
      }
      // A full batch means more is due: go again without waiting.
      if (this.running && checked < batchMax) await this.sleep(this.options.pollIntervalMs ?? WORKER_POLL_INTERVAL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
