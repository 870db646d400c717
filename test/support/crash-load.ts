import { randomBytes } from 'node:crypto';
import { sleep, type CrashStack } from './crash-stack.js';

/**
 * Test-only: merchant clients and shoppers driving a gateway that is being killed. Every POST
 * carries an Idempotency-Key; a request that gets no answer (connection reset by the kill, refused
 * while the gateway is down, timed out) is retried with the same key until it answers, the way a
 * Stripe client does. Every answer of every key is kept for the checks.
 */

/** One client request's wait for an answer; longer than anything the gateway does without faults. */
export const REQUEST_TIMEOUT_MS = 20_000;
/**
 * A key that still answers 409 `idempotency_key_in_use` this long after the gateway came up is
 * stranded: its first request died with the killed process, so nothing is running it any more,
 * and issue 9 wants a retry answered within the client's request timeout once the gateway is up.
 */
export const STRANDED_AFTER_MS = REQUEST_TIMEOUT_MS;

/** A key with no HTTP answer at all for this long is left unanswered (counted by the final resend). */
const UNANSWERED_GIVE_UP_MS = 90_000;

/** mulberry32: a small seeded generator, so a run's choices (and crash times) repeat for a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Answer {
  status: number;
  /** The object's id in the body (`id`), or null for an error envelope. */
  id: string | null;
  code: string | null;
  replayed: boolean;
}

export type KeyKind = 'create' | 'confirm' | 'refund';

export interface KeyRecord {
  key: string;
  kind: KeyKind;
  method: 'POST';
  path: string;
  body: Record<string, unknown>;
  /** The PaymentIntent the request is about (known for confirm and refund, learnt for create). */
  paymentIntent: string | null;
  /** The answer the client got (first non-409 answer); null while it has none. */
  answer: Answer | null;
  /** Sends that got no HTTP answer (reset, refused, timed out). */
  transportErrors: number;
  /** 409 idempotency_key_in_use answers. */
  conflicts: number;
  /** True when the client had to send it more than once. */
  retried: boolean;
  /** Still 409 STRANDED_AFTER_MS after the gateway was up: the client gave up on it. */
  stranded: boolean;
}

export interface LoadStats {
  requests: number;
  retries: number;
  transportErrors: number;
  conflicts: number;
  shopperPays: number;
  shopperDeclines: number;
  stories: number;
  unexpected: string[];
}

export class LoadDriver {
  readonly keys: KeyRecord[] = [];
  readonly stats: LoadStats = { requests: 0, retries: 0, transportErrors: 0, conflicts: 0, shopperPays: 0, shopperDeclines: 0, stories: 0, unexpected: [] };
  /** Set when the load phase ends: clients finish their story and stop. */
  stopping = false;

  constructor(private readonly stack: CrashStack, private readonly seed: number) {}

  /** Runs `clients` merchant clients until `stopping`; resolves when all have stopped. */
  async run(clients: number): Promise<void> {
    await Promise.all(Array.from({ length: clients }, (_unused, index) => this.client(seededRandom(this.seed * 1000 + index + 1), index)));
  }

  /** POSTs `record` until it answers with something other than 409 in_use, or is stranded. */
  async send(record: KeyRecord): Promise<Answer | null> {
    let conflictSince: number | null = null;
    // Bounded even if the gateway never comes back (the test then fails on its restart, not by hanging).
    const giveUpAt = Date.now() + UNANSWERED_GIVE_UP_MS;
    for (let sends = 0; ; sends++) {
      if (Date.now() > giveUpAt) return null;
      if (sends > 0) {
        record.retried = true;
        this.stats.retries++;
      }
      this.stats.requests++;
      let response: Response;
      let text: string;
      try {
        response = await fetch(this.stack.gatewayUrl + record.path, {
          method: record.method,
          headers: { authorization: `Bearer ${this.stack.secretKey}`, 'content-type': 'application/json', 'idempotency-key': record.key },
          body: JSON.stringify(record.body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        text = await response.text();
      } catch {
        record.transportErrors++;
        this.stats.transportErrors++;
        conflictSince = null;
        await sleep(100);
        continue;
      }
      const body = parseJson(text);
      const answer: Answer = {
        status: response.status,
        id: typeof body?.id === 'string' ? body.id : null,
        code: typeof body?.error?.code === 'string' ? body.error.code : null,
        replayed: response.headers.get('idempotent-replayed') === 'true',
      };
      if (answer.status === 409 && answer.code === 'idempotency_key_in_use') {
        record.conflicts++;
        this.stats.conflicts++;
        const up = this.stack.upSince();
        // Time counts only while the gateway is up: a 409 right after a restart is expected.
        if (up !== null) {
          conflictSince = Math.max(conflictSince ?? Date.now(), up);
          if (Date.now() - conflictSince > STRANDED_AFTER_MS) {
            record.stranded = true;
            return null;
          }
        }
        await sleep(250);
        continue;
      }
      record.answer = answer;
      record.stranded = false;
      return answer;
    }
  }

  /** Sends a recorded key once more (the replay check): the answer, or null when the gateway gave none. */
  async resend(record: KeyRecord): Promise<Answer | null> {
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(this.stack.gatewayUrl + record.path, {
          method: record.method,
          headers: { authorization: `Bearer ${this.stack.secretKey}`, 'content-type': 'application/json', 'idempotency-key': record.key },
          body: JSON.stringify(record.body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const body = parseJson(await response.text());
        return {
          status: response.status,
          id: typeof body?.id === 'string' ? body.id : null,
          code: typeof body?.error?.code === 'string' ? body.error.code : null,
          replayed: response.headers.get('idempotent-replayed') === 'true',
        };
      } catch {
        await sleep(100);
      }
    }
    return null;
  }

  /** GET on the gateway, retried across crashes; null if it never answered in time. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async get(path: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ status: number; body: any } | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(this.stack.gatewayUrl + path, { headers: { authorization: `Bearer ${this.stack.secretKey}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        return { status: response.status, body: parseJson(await response.text()) };
      } catch {
        await sleep(100);
      }
    }
    return null;
  }

  private newKey(kind: KeyKind, path: string, body: Record<string, unknown>, paymentIntent: string | null): KeyRecord {
    const record: KeyRecord = {
      key: `crash_${kind}_${randomBytes(8).toString('hex')}`, kind, method: 'POST', path, body, paymentIntent,
      answer: null, transportErrors: 0, conflicts: 0, retried: false, stranded: false,
    };
    // The key is also in the object's metadata, so the checks can count the objects each key made.
    if (kind !== 'confirm') record.body = { ...body, metadata: { crash_key: record.key } };
    this.keys.push(record);
    return record;
  }

  private unexpected(what: string, record: KeyRecord | null, answer: unknown): void {
    this.stats.unexpected.push(`${what}${record ? ` (key ${record.key})` : ''}: ${JSON.stringify(answer)}`);
  }

  private async client(random: () => number, index: number): Promise<void> {
    while (!this.stopping) {
      this.stats.stories++;
      await this.story(random, index);
    }
  }

  /** One payment's life: create and confirm, the shopper pays (or declines), then refunds. */
  private async story(random: () => number, index: number): Promise<void> {
    const amount = 100 + Math.floor(random() * 9_900);
    const confirmInCreate = random() < 0.5;
    const create = this.newKey('create', '/v1/payment_intents', {
      amount, currency: 'CNY', payment_method_types: ['alipay'], payment_method_data: { type: 'alipay' },
      payment_method_options: { alipay: { terminal_type: 'WEB', client_ip: `10.0.0.${index + 1}` } },
      return_url: 'https://shop.example/return', ...(confirmInCreate ? { confirm: true } : {}),
    }, null);
    const created = await this.send(create);
    if (created === null) return;
    if (created.status !== 200 || created.id === null) return this.unexpected('create', create, created);
    const pi = created.id;
    create.paymentIntent = pi;
    if (!confirmInCreate) {
      const confirm = this.newKey('confirm', `/v1/payment_intents/${pi}/confirm`, {}, pi);
      const confirmed = await this.send(confirm);
      if (confirmed === null) return;
      if (confirmed.status !== 200 || confirmed.id !== pi) return this.unexpected('confirm', confirm, confirmed);
    }
    // The shopper reads the code from the PaymentIntent, as a checkout page would.
    const intent = await this.get(`/v1/payment_intents/${pi}`);
    if (intent === null || intent.status !== 200) return this.unexpected('retrieve', null, intent);
    if (intent.body.status !== 'requires_action') {
      if (intent.body.status !== 'processing') this.unexpected(`${pi} after confirm`, null, intent.body.status);
      return;
    }
    const codeValue = intent.body.next_action?.alipay_handle_redirect?.qr_code?.data as string | undefined;
    if (codeValue === undefined) return this.unexpected(`${pi} has no code value`, null, intent.body.next_action);
    const decline = random() < 0.1;
    const paid = await fetch(`${this.stack.sandboxUrl}/sandbox/v1/wallet/pay`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ codeValue, outcome: decline ? 'decline' : 'success' }),
    });
    const paidText = await paid.text();
    if (paid.status !== 200) return this.unexpected(`wallet pay of ${pi}`, null, { status: paid.status, body: paidText });
    if (decline) {
      this.stats.shopperDeclines++;
      return;
    }
    this.stats.shopperPays++;
    if (random() < 0.15) return; // some payments are never refunded
    const succeeded = await this.waitForStatus(pi, 'succeeded');
    if (!succeeded) return this.unexpected(`${pi} paid in the wallet but not succeeded within 30 s`, null, null);
    const refundBody = (refundAmount: number | null) => ({ payment_intent: pi, ...(refundAmount === null ? {} : { amount: refundAmount }) });
    const pattern = random();
    if (pattern < 0.3) {
      await this.refund(this.newKey('refund', '/v1/refunds', refundBody(null), pi));
    } else if (pattern < 0.6) {
      for (let i = 0; i < 2; i++) await this.refund(this.newKey('refund', '/v1/refunds', refundBody(Math.max(1, Math.floor(amount * (0.2 + random() * 0.3)))), pi));
    } else {
      // Concurrent partial refunds of one charge: together more than it holds, so some must be refused.
      const shares = [0.4, 0.4, 0.35].map((share) => Math.max(1, Math.floor(amount * share)));
      const records = shares.map((share) => this.newKey('refund', '/v1/refunds', refundBody(share), pi));
      if (random() < 0.3) records.push(this.newKey('refund', '/v1/refunds', refundBody(null), pi));
      await Promise.all(records.map((record) => this.refund(record)));
    }
  }

  private async refund(record: KeyRecord): Promise<void> {
    const answer = await this.send(record);
    if (answer === null) return;
    const refused = answer.status === 400 && (answer.code === 'amount_too_large' || answer.code === 'charge_already_refunded');
    if (!(answer.status === 200 && answer.id?.startsWith('re_')) && !refused) this.unexpected('refund', record, answer);
  }

  private async waitForStatus(pi: string, status: string): Promise<boolean> {
    // Across a crash and restart: the worker's inquiry or the sandbox's notification retry finishes it.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const got = await this.get(`/v1/payment_intents/${pi}`, Math.max(1, deadline - Date.now()));
      if (got?.status === 200 && got.body.status === status) return true;
      await sleep(200);
    }
    return false;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function parseJson(text: string): any {
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return null;
  }
}
