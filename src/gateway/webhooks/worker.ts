import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { IdGenerator } from '../ids.js';
import { newDeliveryAttemptId } from '../core/webhook_deliveries.js';
import type { GatewayMetrics } from '../metrics/registry.js';
import { inTransaction } from '../store/database.js';
import type { Database } from '../store/database.js';
import { adjustPendingWebhooks } from '../store/events.js';
import { cancelLeasedDelivery, claimDeliveries, findDeliveriesWork, findDueDeliveries, insertDeliveryAttempts, lowerPendingWebhooks, recordDeliveryOutcomes } from '../store/webhook_deliveries.js';
import type { WebhookDeliveryAttemptRow } from '../store/schema.js';
import type { WebhookDeliveryStatus } from '../store/schema.js';
import { retryDelayMs } from './schedule.js';
import type { RandomSource } from './schedule.js';
import { signatureHeader } from './signing.js';

export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Longer than any attempt (timeout plus recording), so a live worker never loses its lease. */
export const WEBHOOK_LEASE_MS = 60_000;
export const WEBHOOK_CONCURRENCY_MAX = 128;
export const WEBHOOK_ENDPOINT_CONCURRENCY_MAX = 32;
export const WEBHOOK_POLL_INTERVAL_MS = 100;
/**
 * A commit that wrote events (or a freed slot) wakes the worker this soon rather than at once:
 * under load the events of many commits then share one claim round (one UPDATE, one fsync on
 * SQLite) instead of each create paying a claim of its own.
 */
export const WEBHOOK_GATHER_MS = 5;
/**
 * Deliveries claimed per POST slot (overall and per endpoint): rounds claim ahead of the POSTs in
 * flight, so a POST that ends starts the next claimed delivery at once instead of waiting for the
 * next round (its gather delay, its claim, the claim's fsync). A claimed delivery waits for at
 * most 3 attempts per slot before its own: 4 × the timeout, inside the lease.
 */
const CLAIMED_PER_SLOT = 4;
/**
 * A freed slot wakes a claim round only once fewer than this many claimed attempts per POST slot
 * are left waiting: a backlog is then claimed in rounds of about 2 sets of slots (one UPDATE, one
 * commit each) rather than a few rows per freed slot.
 */
const REFILL_BELOW_PER_SLOT = 1;
/** Due rows read per claim round, per free slot: some are taken by other processes or held back per endpoint. */
const CANDIDATES_PER_SLOT = 2;
/** runOnce keeps claiming while work is due, at most this many rounds. */
const RUN_ONCE_ROUNDS_MAX = 100;
/** Outcomes recorded in one transaction at most. */
const RECORD_BATCH_MAX = 256;
/**
 * How long an outcome waits for others to share its commit. It delays only the bookkeeping, never
 * a POST (the receiver has the event already); on SQLite a commit blocks the loop for its fsync,
 * so without a window nothing else can finish meanwhile and every attempt paid its own fsync.
 */
export const WEBHOOK_RECORD_WINDOW_MS = 5;
/** Attempts answered but not yet recorded, per allowed POST in flight, before claiming pauses. */
const RECORDING_BACKLOG_PER_SLOT = 4;
/** How much of a receiver's answer is kept: the attempt's response body, and a refusal's error text. */
const ERROR_TEXT_MAX = 500;
/** A receiver's answer beyond this is not read to its end (the connection is closed instead). */
const DRAIN_MAX = 128 * 1024;

export interface WebhookWorkerOptions {
  /** Attempts in flight in this process (default WEBHOOK_CONCURRENCY_MAX). */
  concurrency?: number;
  /** Attempts in flight to one endpoint in this process (default WEBHOOK_ENDPOINT_CONCURRENCY_MAX). */
  endpointConcurrency?: number;
  timeoutMs?: number;
  leaseMs?: number;
  pollIntervalMs?: number;
  /** How long an answered attempt waits for others to share its commit (default WEBHOOK_RECORD_WINDOW_MS). */
  recordWindowMs?: number;
  /** Jitter source (default Math.random); tests pass a constant to know every due time. */
  random?: RandomSource;
  /** HTTP client; by default a keep-alive undici Agent owned (and closed) by the worker. */
  dispatcher?: Dispatcher;
}

export interface WebhookWorkerDeps {
  database: Database;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** The gateway's metrics: each attempt's outcome and latency, each pass. */
  metrics?: GatewayMetrics;
}

interface Claimed {
  id: string;
  endpointId: string;
  token: string;
  /** Its POST is over (or was never made): its slot counts no more against the bounds. */
  released: boolean;
  /** The delivery, its endpoint and the event's bytes, read with the round's claims. */
  work: DeliveryWork | undefined;
}

type DeliveryWork = Awaited<ReturnType<typeof findDeliveriesWork>>[number];

/** One attempt's outcome waiting to be recorded with others in one transaction. */
interface Outcome {
  claim: Claimed;
  eventId: string;
  status: WebhookDeliveryStatus;
  nextAttemptAtMs: number | null;
  attempt: WebhookDeliveryAttemptRow;
  settle: { resolve: (moved: boolean) => void; reject: (error: unknown) => void };
}

interface AttemptResult {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** The start of the receiver's answer as received (null: no answer). */
  responseBody: string | null;
}

/**
 * Delivers webhooks from the database (DESIGN.md workers): claims due deliveries with a lease,
 * POSTs the event's stored bytes signed for this attempt, and records every attempt with the
 * next due time of the schedule (schedule.ts). Several gateway processes over one database share
 * the work: the compare-and-set claim gives each attempt to one of them.
 */
export class WebhookDeliveryWorker {
  readonly #deps: WebhookWorkerDeps;
  readonly #concurrency: number;
  readonly #endpointConcurrency: number;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  readonly #pollIntervalMs: number;
  readonly #recordWindowMs: number;
  readonly #random: RandomSource;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #workerId = randomUUID();
  #claims = 0;
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Claimed deliveries whose POST is not over yet (waiting for a slot, or sending); recording is not counted. */
  #sending = 0;
  readonly #perEndpoint = new Map<string, number>();
  /** POSTs on the wire: what WEBHOOK_CONCURRENCY_MAX and WEBHOOK_ENDPOINT_CONCURRENCY_MAX bound. */
  #posting = 0;
  readonly #postingPerEndpoint = new Map<string, number>();
  /** Claimed attempts waiting for a POST slot, in claim order. */
  readonly #waiting: { endpointId: string; start: () => void }[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #wokenSoon = false;
  /** poke() arrived while a tick was claiming: tick again at once when it ends. */
  #pokedDuringTick = false;
  /** Outcomes waiting for the next recording transaction, and the batch being committed. */
  #outcomes: Outcome[] = [];
  #recording: Promise<void> | null = null;
  /** When a claim round last read past the endpoints at their bound (performance.now()). */
  #skippedFullAt = Number.NEGATIVE_INFINITY;

  constructor(deps: WebhookWorkerDeps, options: WebhookWorkerOptions = {}) {
    this.#deps = deps;
    this.#concurrency = options.concurrency ?? WEBHOOK_CONCURRENCY_MAX;
    this.#endpointConcurrency = options.endpointConcurrency ?? WEBHOOK_ENDPOINT_CONCURRENCY_MAX;
    this.#timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.#leaseMs = options.leaseMs ?? WEBHOOK_LEASE_MS;
    this.#pollIntervalMs = options.pollIntervalMs ?? WEBHOOK_POLL_INTERVAL_MS;
    this.#recordWindowMs = options.recordWindowMs ?? WEBHOOK_RECORD_WINDOW_MS;
    this.#random = options.random ?? Math.random;
    this.#ownsDispatcher = options.dispatcher === undefined;
    // Keep-alive pool per receiver origin, as wide as the per-endpoint bound.
    this.#dispatcher = options.dispatcher ?? new Agent({ connections: this.#endpointConcurrency, keepAliveTimeout: 30_000 });
  }

  /** Polls for due deliveries until stop(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#wake(0);
  }

  /** Stops claiming, waits for attempts in flight (bounded by the timeout), closes the HTTP pool. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    // A round that was claiming when stop() came launches its attempts; wait for those too.
    await this.#ticking;
    await this.#idle();
    await this.#recording;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /**
   * Makes every attempt due now (by the injected clock) and waits for their outcomes: tests drive
   * the schedule with a manual clock through this. Returns how many attempts were made.
   */
  async runOnce(): Promise<number> {
    let attempts = 0;
    for (let round = 0; round < RUN_ONCE_ROUNDS_MAX; round++) {
      const launched = await this.#launchDue();
      await this.#idle();
      if (launched === 0) break;
      attempts += launched;
    }
    return attempts;
  }

  /**
   * A state change was just committed (an API write, a notification): look for new deliveries now
   * rather than at the next poll, so a webhook follows its event by milliseconds.
   */
  poke(): void {
    if (!this.#running) return;
    if (this.#ticking !== null) this.#pokedDuringTick = true;
    else if (!this.#wokenSoon) this.#wake(WEBHOOK_GATHER_MS);
  }

  #wake(delayMs: number): void {
    if (!this.#running) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#wokenSoon = delayMs <= WEBHOOK_GATHER_MS;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#wokenSoon = false;
      if (this.#ticking === null) this.#ticking = this.#tick().finally(() => (this.#ticking = null));
    }, delayMs);
  }

  async #tick(): Promise<void> {
    let launched = 0;
    try {
      launched = await this.#launchDue(true);
    } catch (error) {
      this.#deps.logger.error({ err: error }, 'webhook worker could not claim deliveries');
    }
    // A full round may have left more due work; otherwise completions wake the loop early.
    const more = (this.#pokedDuringTick || (launched > 0 && this.#wantsRefill())) && this.#freeSlots() > 0;
    this.#pokedDuringTick = false;
    if (this.#timer === null) this.#wake(more ? WEBHOOK_GATHER_MS : this.#pollIntervalMs);
  }

  /** Claims what is due within the concurrency bounds and starts those attempts. */
  async #launchDue(throttled = false): Promise<number> {
    this.#deps.metrics?.workerPass('webhooks');
    const claimed = await this.#claimDue(throttled);
    // One barrier for the round: it covers the claim's commit and every event committed before it.
    const durable = claimed.length > 0 ? this.#deps.database.durable() : Promise.resolve();
    // Its failure is each attempt's (awaited there); this copy only keeps it from going unhandled.
    durable.catch(() => undefined);
    for (const claim of claimed) {
      this.#perEndpoint.set(claim.endpointId, (this.#perEndpoint.get(claim.endpointId) ?? 0) + 1);
      this.#sending++;
      const attempt = this.#attempt(claim, durable)
        .catch((error: unknown) => this.#deps.logger.error({ err: error, delivery: claim.id }, 'webhook attempt could not be recorded; it is retried when its lease expires'))
        .finally(() => this.#settle(claim));
      this.#inFlight.set(claim.id, attempt);
    }
    return claimed.length;
  }

  async #claimDue(throttled: boolean): Promise<Claimed[]> {
    const free = this.#freeSlots();
    if (free <= 0) return [];
    const { database, clock } = this.#deps;
    const now = clock.now();
    // Endpoints already at their bound are left out of the scan, so one endpoint's backlog (an
    // outage) cannot fill every candidate slot and hold up the other endpoints' deliveries.
    const endpointHeldMax = this.#endpointConcurrency * CLAIMED_PER_SLOT;
    let full = [...this.#perEndpoint].filter(([, busy]) => busy >= endpointHeldMax).map(([endpointId]) => endpointId);
    // Leaving them out reads past their whole due backlog (every row of it, each round): the
    // running loop does that at most once per poll interval, and otherwise reads the head of the
    // order, where a freed slot's endpoint finds its next deliveries.
    if (throttled && full.length > 0) {
      const at = performance.now();
      if (at - this.#skippedFullAt < this.#pollIntervalMs) full = [];
      else this.#skippedFullAt = at;
    }
    // One endpoint's backlog fills the head of the order: more rows than its room would be read for nothing.
    const candidates = await findDueDeliveries(database.db, now, Math.min(free, endpointHeldMax) * CANDIDATES_PER_SLOT, full);
    const chosen: { id: string; endpoint_id: string }[] = [];
    const held = new Map(this.#perEndpoint);
    for (const candidate of candidates) {
      if (chosen.length >= free) break;
      const busy = held.get(candidate.endpoint_id) ?? 0;
      if (busy >= endpointHeldMax || this.#inFlight.has(candidate.id)) continue;
      held.set(candidate.endpoint_id, busy + 1);
      chosen.push(candidate);
    }
    if (chosen.length === 0) return [];
    // One compare-and-set UPDATE for the round (one commit, one fsync on SQLite): the rows another
    // process took meanwhile are not returned. One token per round: outcomes are written by id
    // and token, and this process never claims a delivery it still has in flight.
    const token = `${this.#workerId}:${++this.#claims}`;
    const claimedIds = new Set(await claimDeliveries(database.db, database.kind, chosen.map((c) => c.id), now, now + this.#leaseMs, token));
    if (claimedIds.size === 0) return [];
    const works = new Map((await findDeliveriesWork(database.db, [...claimedIds])).map((work) => [work.id, work]));
    return chosen.filter((c) => claimedIds.has(c.id)).map((c) => ({ id: c.id, endpointId: c.endpoint_id, token, released: false, work: works.get(c.id) }));
  }

  /** Deliveries that may be claimed now: the bounds, and a recording backlog that pauses claiming while it is long. */
  #freeSlots(): number {
    const recordingRoom = this.#concurrency * RECORDING_BACKLOG_PER_SLOT - this.#inFlight.size;
    return Math.min(this.#concurrency * CLAIMED_PER_SLOT - this.#sending, recordingRoom);
  }

  /**
   * Few claimed attempts are left waiting for a POST slot (of this endpoint, when given: another
   * endpoint's queue stuck behind a slow receiver must not keep this one from refilling): time
   * for the next claim round.
   */
  #wantsRefill(endpointId?: string): boolean {
    const posting = endpointId === undefined ? this.#posting : (this.#postingPerEndpoint.get(endpointId) ?? 0);
    const waiting = endpointId === undefined ? this.#waiting.length : (this.#perEndpoint.get(endpointId) ?? 0) - posting;
    return waiting <= 0 || waiting < posting * REFILL_BELOW_PER_SLOT;
  }

  /** Resolves when this endpoint's attempt may go on the wire (within both bounds), claim order kept. */
  #postSlot(endpointId: string): Promise<void> {
    if (this.#waiting.length === 0 && this.#mayPost(endpointId)) {
      this.#takePost(endpointId);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push({ endpointId, start: resolve }));
  }

  #mayPost(endpointId: string): boolean {
    return this.#posting < this.#concurrency && (this.#postingPerEndpoint.get(endpointId) ?? 0) < this.#endpointConcurrency;
  }

  #takePost(endpointId: string): void {
    this.#posting++;
    this.#postingPerEndpoint.set(endpointId, (this.#postingPerEndpoint.get(endpointId) ?? 0) + 1);
  }

  /** A POST ended: the first waiting attempts that fit the bounds go now (an endpoint at its bound does not hold up the others). */
  #freePost(endpointId: string): void {
    this.#posting--;
    const left = (this.#postingPerEndpoint.get(endpointId) ?? 1) - 1;
    if (left > 0) this.#postingPerEndpoint.set(endpointId, left);
    else this.#postingPerEndpoint.delete(endpointId);
    for (let i = 0; i < this.#waiting.length && this.#posting < this.#concurrency; ) {
      const next = this.#waiting[i]!;
      if (!this.#mayPost(next.endpointId)) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#takePost(next.endpointId);
      next.start();
    }
  }

  /** The attempt's POST is over: its slot goes to the next due delivery while the outcome is recorded. */
  #release(claim: Claimed): void {
    if (claim.released) return;
    claim.released = true;
    this.#sending--;
    const left = (this.#perEndpoint.get(claim.endpointId) ?? 1) - 1;
    if (left > 0) this.#perEndpoint.set(claim.endpointId, left);
    else this.#perEndpoint.delete(claim.endpointId);
    // A freed slot may let held-back work go now rather than at the next poll.
    if (this.#running && this.#ticking === null && !this.#wokenSoon && this.#wantsRefill(claim.endpointId)) this.#wake(WEBHOOK_GATHER_MS);
  }

  #settle(claim: Claimed): void {
    this.#inFlight.delete(claim.id);
    this.#release(claim);
  }

  async #idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight.values()]);
  }

  /** One attempt: send outside any transaction, then record the outcome in one. */
  async #attempt(claim: Claimed, durable: Promise<void>): Promise<void> {
    const { database, clock } = this.#deps;
    const work = claim.work;
    if (work === undefined) return;
    if (work.url === null || work.secret === null || work.endpoint_status !== 'enabled' || work.body === null) {
      const reason = work.url === null ? 'endpoint deleted' : work.body === null ? 'event has no stored body' : 'endpoint disabled';
      await inTransaction(database, async (tx) => {
        if (await cancelLeasedDelivery(tx, claim.id, claim.token, reason)) await adjustPendingWebhooks(tx, work.event_id, -1);
      });
      return;
    }
    // The event (and this delivery's claim) must be durable before the merchant hears of it.
    await durable;
    await this.#postSlot(claim.endpointId);
    const attemptedAtMs = clock.now();
    let result: AttemptResult;
    try {
      result = await this.#send(work.url, work.secret, work.body, attemptedAtMs);
    } finally {
      this.#freePost(claim.endpointId);
    }
    this.#release(claim);
    await this.#record(claim, { eventId: work.event_id, endpointId: work.endpoint_id, attemptNumber: work.attempt_count + 1, attemptedAtMs }, result);
  }

  /** POSTs the exact stored bytes; never throws (a refused or timed-out call is a failed attempt). */
  async #send(url: string, secret: string, body: string, attemptedAtMs: number): Promise<AttemptResult> {
    const signature = signatureHeader(secret, Math.floor(attemptedAtMs / 1000), body);
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    try {
      const response = await request(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'user-agent': 'Zhifu-Webhooks/1.0', 'wooshpay-signature': signature, 'stripe-signature': signature },
        dispatcher: this.#dispatcher,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      const received = await readSnippet(response.body);
      const text = received.replace(/\s+/g, ' ').trim();
      return { statusCode: response.statusCode, latencyMs: latency(), error: ok ? null : `HTTP ${response.statusCode}${text === '' ? '' : `: ${text}`}`, responseBody: received };
    } catch (error) {
      return { statusCode: null, latencyMs: latency(), error: describeNetworkError(error, this.#timeoutMs), responseBody: null };
    }
  }

  async #record(claim: Claimed, at: { eventId: string; endpointId: string; attemptNumber: number; attemptedAtMs: number }, result: AttemptResult): Promise<void> {
    const { ids, logger } = this.#deps;
    const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const delayMs = delivered ? null : retryDelayMs(at.attemptNumber, this.#random);
    const status: WebhookDeliveryStatus = delivered ? 'delivered' : delayMs === null ? 'failed' : 'pending';
    const nextAttemptAtMs = delayMs === null ? null : at.attemptedAtMs + delayMs;
    const attempt: WebhookDeliveryAttemptRow = {
      id: newDeliveryAttemptId(ids),
      delivery_id: claim.id,
      attempted_at: at.attemptedAtMs,
      status_code: result.statusCode,
      latency_ms: result.latencyMs,
      error: result.error,
      next_retry_at: nextAttemptAtMs,
      response_body: result.responseBody,
    };
    await new Promise<boolean>((resolve, reject) => {
      this.#outcomes.push({ claim, eventId: at.eventId, status, nextAttemptAtMs, attempt, settle: { resolve, reject } });
      this.#recording ??= this.#recordQueued().finally(() => (this.#recording = null));
    });
    this.#deps.metrics?.webhookAttempt(status === 'pending' ? 'retrying' : status, result.latencyMs / 1000);
    if (!delivered) {
      logger.warn({ delivery: claim.id, event: at.eventId, webhook_endpoint: at.endpointId, attempt: at.attemptNumber, status_code: result.statusCode, error: result.error, next_retry_at: nextAttemptAtMs }, 'webhook attempt failed');
    }
  }

  /**
   * Records the queued outcomes, many per transaction: outcomes that finish while one batch
   * commits wait for the next, so under load a commit (an fsync on SQLite) carries many attempts
   * rather than one each. Every attempt was already sent, so a crash before its batch commits
   * only means it is sent again when its lease runs out (delivery is at least once).
   */
  async #recordQueued(): Promise<void> {
    while (this.#outcomes.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.#recordWindowMs));
      const batch = this.#outcomes.splice(0, RECORD_BATCH_MAX);
      try {
        const moved = await this.#recordBatch(batch);
        batch.forEach((outcome, i) => outcome.settle.resolve(moved[i] === true));
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.settle.reject(error);
          continue;
        }
        // One bad outcome (or a deadlock between processes on PostgreSQL) must not sink the others: each alone.
        for (const outcome of batch) {
          try {
            outcome.settle.resolve((await this.#recordBatch([outcome]))[0] === true);
          } catch (alone) {
            outcome.settle.reject(alone);
          }
        }
      }
    }
  }

  /** One transaction: each delivery's next state (by its lease token), the attempts, the events' pending counts. */
  async #recordBatch(batch: Outcome[]): Promise<boolean[]> {
    // Deliveries in id order, then events in id order: concurrent batches lock rows in one order.
    const order = batch.map((outcome, i) => ({ outcome, i })).sort((a, b) => (a.outcome.claim.id < b.outcome.claim.id ? -1 : a.outcome.claim.id > b.outcome.claim.id ? 1 : 0));
    return inTransaction(this.#deps.database, async (tx) => {
      const movedIds = await recordDeliveryOutcomes(tx, this.#deps.database.kind, order.map(({ outcome }) => ({
        id: outcome.claim.id,
        token: outcome.claim.token,
        attempt: { attemptedAtMs: outcome.attempt.attempted_at, statusCode: outcome.attempt.status_code, latencyMs: outcome.attempt.latency_ms, error: outcome.attempt.error },
        next: { status: outcome.status, nextAttemptAtMs: outcome.nextAttemptAtMs },
      })));
      const moved: boolean[] = new Array<boolean>(batch.length).fill(false);
      const attempts: WebhookDeliveryAttemptRow[] = [];
      const deliveredPerEvent = new Map<string, number>();
      for (const { outcome, i } of order) {
        const { attempt } = outcome;
        moved[i] = movedIds.has(outcome.claim.id);
        // A lost lease: the attempt is still logged, but it schedules nothing.
        attempts.push(moved[i] ? attempt : { ...attempt, next_retry_at: null });
        if (moved[i] && outcome.status === 'delivered') deliveredPerEvent.set(outcome.eventId, (deliveredPerEvent.get(outcome.eventId) ?? 0) + 1);
      }
      await insertDeliveryAttempts(tx, attempts);
      const byCount = new Map<number, string[]>();
      for (const [eventId, count] of deliveredPerEvent) byCount.set(count, [...(byCount.get(count) ?? []), eventId]);
      for (const [count, eventIds] of byCount) await lowerPendingWebhooks(tx, eventIds, count);
      return moved;
    });
  }
}

/** The start of a receiver's answer, for the delivery log (and a refusal's error text); the rest is discarded. */
async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // The rest is read and dropped up to undici's own dump limit, so a kept-alive connection stays reusable.
  for await (const chunk of body) {
    if (size < ERROR_TEXT_MAX) chunks.push(chunk);
    size += chunk.length;
    if (size >= DRAIN_MAX) break;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, ERROR_TEXT_MAX);
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'HeadersTimeoutError' || name === 'BodyTimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string } } | null)?.cause;
  const code = (error as { code?: string } | null)?.code ?? cause?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (code !== undefined && !message.includes(code) ? `${code}: ${message}` : message).slice(0, ERROR_TEXT_MAX);
}
