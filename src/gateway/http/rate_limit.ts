import { hash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Database } from '../store/database.js';
import { deleteRateLimitWindowsBefore, grantRateLimitBlock } from '../store/rate_limits.js';

const WINDOW_MS = 1000;
/** Shared windows older than this are deleted (by whichever process notices first, at most once a minute each). */
const WINDOW_RETENTION_MS = 60_000;
/** Keys whose allowance this process remembers; past it the oldest is dropped (its window is as good as over). */
const KEYS_MAX = 10_000;

/**
 * Where the processes' grants for a key and window are counted: `granted` of up to `block` more
 * requests, never past `limit` in total (0 once the window is used up).
 */
export interface RateLimitCounter {
  grant(keyHash: string, windowStart: number, block: number, limit: number): Promise<number>;
  /** Forgets windows that started before `beforeMs`. */
  forgetBefore(beforeMs: number): Promise<void>;
}

/** The counter shared by every gateway process: a row per key and window (store/rate_limits.ts). */
export function databaseCounter(database: Database): RateLimitCounter {
  return {
    grant: (keyHash, windowStart, block, limit) => grantRateLimitBlock(database.db, keyHash, windowStart, block, limit),
    forgetBefore: (beforeMs) => deleteRateLimitWindowsBefore(database.db, beforeMs),
  };
}

/**
 * One process's counter in memory. SQLite runs one gateway process (cluster mode refuses it), so
 * there is nobody to share with, and a counter row would cost a synchronous commit and fsync on
 * the event loop once per block.
 */
export function memoryCounter(): RateLimitCounter {
  const windows = new Map<string, { windowStart: number; granted: number }>();
  return {
    grant: async (keyHash, windowStart, block, limit) => {
      const current = windows.get(keyHash);
      const window = current !== undefined && current.windowStart === windowStart ? current : { windowStart, granted: 0 };
      windows.set(keyHash, window);
      const granted = Math.max(0, Math.min(block, limit - window.granted));
      window.granted += granted;
      return granted;
    },
    forgetBefore: async (beforeMs) => {
      for (const [keyHash, window] of windows) if (window.windowStart < beforeMs) windows.delete(keyHash);
    },
  };
}

/** This process's allowance for one key in its current window. */
interface Allowance {
  windowStart: number;
  /** Requests granted to this process and not yet used. */
  tokens: number;
  /** The shared total granted for the window, as of this process's last claim. */
  sharedGranted: number;
  /** The window is used up across all processes: refuse without asking the database again. */
  exhausted: boolean;
  /** The claim in flight, so concurrent requests of one key wait on one round trip. */
  claiming: Promise<void> | null;
}

/**
 * Requests per second per API key on /v1 (api.md §1: 429 when exceeded), shared by every gateway
 * process through the database without a round trip per request: each process claims blocks of
 * requests from a counter row per key and one-second window (store/rate_limits.ts) and spends
 * them locally. A request waits on the database only when its process's block is spent, once per
 * `block` requests. Precision: together the processes are never granted more than the limit in a
 * window; they may refuse a little early, by at most the unspent part of the other processes'
 * blocks (under `processes × block` requests, block = limit/16 rounded up). It protects the
 * database from one runaway client; it is not a quota. On SQLite (one process) the counter is in
 * memory (memoryCounter).
 */
export class SharedRateLimiter {
  readonly #counter: RateLimitCounter;
  readonly #limit: number;
  readonly #block: number;
  readonly #allowances = new Map<string, Allowance>();
  #lastCleanup = 0;

  constructor(counter: RateLimitCounter, limit: number) {
    this.#counter = counter;
    this.#limit = limit;
    this.#block = Math.max(1, Math.ceil(limit / 16));
  }

  get limit(): number {
    return this.#limit;
  }

  /**
   * Takes one request from the tokens this process holds, without waiting: true (granted) or
   * false (the window is used up) when that decides it, null when a block must be claimed first
   * (`take`). Nearly every request is decided here.
   */
  takeHeld(keyHash: string, nowMs: number): boolean | null {
    const allowance = this.#allowanceOf(keyHash, nowMs - (nowMs % WINDOW_MS));
    if (allowance.tokens > 0) {
      allowance.tokens -= 1;
      return true;
    }
    return allowance.exhausted ? false : null;
  }

  /** Takes one request of the key's current window: true if granted. */
  async take(keyHash: string, nowMs: number, log: FastifyBaseLogger): Promise<boolean> {
    const windowStart = nowMs - (nowMs % WINDOW_MS);
    for (;;) {
      const allowance = this.#allowanceOf(keyHash, windowStart);
      if (allowance.tokens > 0) {
        allowance.tokens -= 1;
        return true;
      }
      if (allowance.exhausted) return false;
      allowance.claiming ??= this.#claim(keyHash, allowance, log);
      await allowance.claiming;
    }
  }

  /** Requests of the window not yet granted to any process, as far as this process knows. */
  remaining(keyHash: string): number {
    const allowance = this.#allowances.get(keyHash);
    if (allowance === undefined) return this.#limit;
    return allowance.exhausted ? allowance.tokens : allowance.tokens + Math.max(0, this.#limit - allowance.sharedGranted);
  }

  #allowanceOf(keyHash: string, windowStart: number): Allowance {
    let allowance = this.#allowances.get(keyHash);
    if (allowance === undefined || allowance.windowStart < windowStart) {
      if (allowance === undefined && this.#allowances.size >= KEYS_MAX) this.#allowances.delete(this.#allowances.keys().next().value as string);
      allowance = { windowStart, tokens: 0, sharedGranted: 0, exhausted: false, claiming: null };
      this.#allowances.set(keyHash, allowance);
    }
    return allowance;
  }

  async #claim(keyHash: string, allowance: Allowance, log: FastifyBaseLogger): Promise<void> {
    try {
      const granted = await this.#counter.grant(keyHash, allowance.windowStart, this.#block, this.#limit);
      allowance.tokens += granted;
      allowance.sharedGranted += granted === 0 ? this.#limit : granted;
      if (granted < this.#block) allowance.exhausted = true;
    } catch (error) {
      // The limit protects the database; when the database cannot even count, the request's own
      // work will fail on it anyway. Let this window through on this process rather than refuse.
      log.warn({ err: error }, 'rate limit: could not claim from the shared counter; not limiting this window');
      allowance.tokens = Number.MAX_SAFE_INTEGER;
    } finally {
      allowance.claiming = null;
    }
    this.#cleanUp(allowance.windowStart, log);
  }

  #cleanUp(nowMs: number, log: FastifyBaseLogger): void {
    if (nowMs - this.#lastCleanup < WINDOW_RETENTION_MS) return;
    this.#lastCleanup = nowMs;
    this.#counter.forgetBefore(nowMs - WINDOW_RETENTION_MS).catch((error: unknown) => log.warn({ err: error }, 'rate limit: could not delete old windows'));
  }
}

/**
 * Installs the limit on every keyed request. Call it after `installAuth`: only authenticated keys
 * are counted, so requests with made-up keys (401 anyway) never write to the shared counter.
 */
export function installRateLimit(app: FastifyInstance, perSecond: number, database: Database): void {
  const limiter = new SharedRateLimiter(database.kind === 'postgres' ? databaseCounter(database) : memoryCounter(), perSecond);
  // Callback style: a request the held tokens decide (nearly all) is answered without a promise.
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done) => {
    // By the route's declaration, not the raw URL (which the router decodes): `/%761/…` is limited too.
    if (req.is404 || req.routeOptions.config.auth === 'none') return done();
    // Keyed by a hash of the credential, so neither memory nor the database ever holds a secret key.
    const keyHash = hash('sha256', req.headers.authorization ?? `ip:${req.ip}`, 'base64url').slice(0, 22);
    const now = Date.now();
    const held = limiter.takeHeld(keyHash, now);
    if (held !== null) {
      answer(reply, keyHash, now, held);
      return done();
    }
    limiter.take(keyHash, now, req.log).then((granted) => {
      let refused: Error | undefined;
      try {
        answer(reply, keyHash, now, granted);
      } catch (error) {
        refused = error as Error;
      }
      done(refused);
    }, done);
  });

  /** Sets the rate limit headers, and throws the 429 when the request was not granted. */
  function answer(reply: FastifyReply, keyHash: string, now: number, granted: boolean): void {
    const resetSeconds = Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000);
    void reply.header('x-ratelimit-limit', perSecond).header('x-ratelimit-remaining', limiter.remaining(keyHash)).header('x-ratelimit-reset', resetSeconds);
    if (granted) return;
    void reply.header('retry-after', resetSeconds);
    throw new ApiError({
      status: 429,
      type: 'invalid_request_error',
      code: 'rate_limit',
      message: `Too many requests: at most ${perSecond} per second per API key. Retry after ${resetSeconds} s.`,
    });
  }
}
