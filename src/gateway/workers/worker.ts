import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AlipayPlusGateway } from '../connector/alipayplus/modes.js';
import type { CoreDeps } from '../core/context.js';
import { inTransaction } from '../store/database.js';
import { claimDueAttempts, releaseAttempt } from '../store/payment_attempts.js';
import { claimDueRefunds, releaseRefund } from '../store/refunds.js';
import type { PaymentAttemptRow, RefundRow } from '../store/schema.js';
import { checkAttempt, type AttemptWork } from './attempts.js';
import { expireCheckoutSessions } from './checkout_sessions.js';
import { checkRefund } from './refunds.js';
import { confirmStrandedCreates } from './stranded_confirms.js';
import { nextRetryAt } from './schedule.js';

export const WORKER_POLL_INTERVAL_MS = 500;
/** Attempts claimed per pass; a full batch starts the next pass at once. */
export const WORKER_BATCH_MAX = 50;
/** Attempts checked at once (each is a few Alipay+ calls). */
export const WORKER_CONCURRENCY_MAX = 8;
/**
 * How long a claim holds: longer than the slowest check (an inquiry, a cancel and a refund, each
 * up to SENDS_MAX sends of 10 s), so a live process never loses its lease mid-check, while a
 * crashed one's attempts come free again within minutes.
 */
export const WORKER_LEASE_MS = 2 * 60_000;

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
    alipayPlus: AlipayPlusGateway,
    private readonly options: GatewayWorkerOptions = {},
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.work = { deps, alipayPlus };
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
    const now = this.deps.clock.now();
    const limit = this.options.batchMax ?? WORKER_BATCH_MAX;
    const leaseUntilMs = now + (this.options.leaseMs ?? WORKER_LEASE_MS);
    const claimed = await inTransaction(this.deps.database, (tx) => claimDueAttempts(tx, this.deps.database.kind, { owner: this.owner, nowMs: now, leaseUntilMs, limit }));
    await forEachBounded(claimed, this.options.concurrencyMax ?? WORKER_CONCURRENCY_MAX, (attempt) => this.checkOne(attempt));
    const refunds = await inTransaction(this.deps.database, (tx) => claimDueRefunds(tx, this.deps.database.kind, { owner: this.owner, nowMs: now, leaseUntilMs, limit }));
    await forEachBounded(refunds, this.options.concurrencyMax ?? WORKER_CONCURRENCY_MAX, (refund) => this.checkRefund(refund));
    await this.expireSessions();
    await confirmStrandedCreates(this.deps, this.owner);
    return [...claimed.map((attempt) => attempt.id), ...refunds.map((refund) => refund.id)];
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

  /** Checkout Sessions past their expiry (workers/checkout_sessions.ts); a failure waits for the next pass. */
  private async expireSessions(): Promise<void> {
    try {
      await expireCheckoutSessions(this.deps);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'checkout session expiry failed; retrying on the next pass');
    }
  }

  /** A check never throws out of the pass: a failure is logged and the attempt retried on the backoff. */
  private async checkOne(attempt: PaymentAttemptRow): Promise<void> {
    let next: number | null;
    try {
      next = await checkAttempt(this.work, attempt);
    } catch (error) {
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
