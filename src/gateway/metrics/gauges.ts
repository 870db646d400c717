import { Gauge } from 'prom-client';
import type { Clock } from '../clock.js';
import { RESPONDING_STATUSES } from '../domain/disputes.js';
import { ATTEMPT_WORKER_STATUSES } from '../domain/payment_attempts.js';
import type { Database } from '../store/database.js';
import { METRIC_PREFIX, type GatewayMetrics } from './registry.js';

/*
 * Gauges computed when Prometheus scrapes, never on the request path: each is one COUNT or MIN
 * over an index the workers already use to find due rows (status, next_check_at /
 * next_attempt_at), so a scrape costs a few index range reads whatever the table sizes.
 */

/** Registers the scrape-time gauges of one gateway's database on its metrics registry. */
export function installScrapeGauges(metrics: GatewayMetrics, database: Database, clock: Clock): void {
  const db = database.db;
  const registers = [metrics.registry];

  new Gauge({
    name: `${METRIC_PREFIX}webhook_delivery_backlog`,
    help: 'Webhook deliveries due now and not yet delivered (pending with next attempt at or before now).',
    registers,
    async collect() {
      const row = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'pending').where('next_attempt_at', '<=', clock.now()).executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}webhook_delivery_lag_seconds`,
    help: 'How long the oldest due webhook delivery has been waiting past its due time (0 when none is due).',
    registers,
    async collect() {
      const now = clock.now();
      const row = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.min<number | null>('next_attempt_at').as('oldest'))
        .where('status', '=', 'pending').where('next_attempt_at', '<=', now).executeTakeFirst();
      const oldest = row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest);
      this.set(oldest === null ? 0 : Math.max(0, now - oldest) / 1000);
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}worker_backlog`,
    help: 'Rows the attempt worker still has to settle: payment_attempts (sending, pending, canceling), refunds (pending), disputes (a response awaiting re-send).',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      const [attempts, refunds, disputes] = await Promise.all([
        db.selectFrom('payment_attempts').select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', 'in', [...ATTEMPT_WORKER_STATUSES]).where('next_check_at', 'is not', null).executeTakeFirst(),
        db.selectFrom('refunds').select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', 'pending').where('next_check_at', 'is not', null).executeTakeFirst(),
        db.selectFrom('disputes').select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', 'in', [...RESPONDING_STATUSES]).where('next_check_at', 'is not', null).executeTakeFirst(),
      ]);
      this.set({ queue: 'payment_attempts' }, Number(attempts?.n ?? 0));
      this.set({ queue: 'refunds' }, Number(refunds?.n ?? 0));
      this.set({ queue: 'disputes' }, Number(disputes?.n ?? 0));
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}requires_attention_items`,
    help: 'Payment attempts and refunds in requires_attention awaiting an operator (the attention_items list), by object.',
    labelNames: ['object'] as const,
    registers,
    async collect() {
      const rows = await db.selectFrom('attention_items').select(['object', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('object').execute();
      const counts = { payment_attempt: 0, refund: 0 };
      for (const row of rows) counts[row.object] = Number(row.n);
      this.set({ object: 'payment_attempt' }, counts.payment_attempt);
      this.set({ object: 'refund' }, counts.refund);
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}database_connections`,
    help: 'Database connections by state: total, idle and waiting (clients queued for a connection) of the PostgreSQL pool; SQLite has one connection.',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const pool = database.pool;
      this.set({ state: 'total' }, pool ? pool.totalCount : 1);
      this.set({ state: 'idle' }, pool ? pool.idleCount : 0);
      this.set({ state: 'waiting' }, pool ? pool.waitingCount : 0);
    },
  });
}
