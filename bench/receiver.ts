/**
 * The merchant's side of the webhooks benchmark: an HTTP receiver on 127.0.0.1 (in the load
 * thread, not the gateway's) that verifies every delivery's `Wooshpay-Signature` with the
 * endpoint's secret, answers 200 (400 to a bad signature, as a merchant following api.md §5
 * would, so the gateway would retry it), and records when each event arrived and how often.
 *
 * Times are absolute milliseconds with sub-millisecond resolution (`performance.timeOrigin +
 * performance.now()`), comparable with an Event's `created` (Date.now() in the gateway's thread,
 * whole milliseconds) and with the load generator's send and response times.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Stripe's default tolerance for the signature's `t` (api.md §5; `constructEvent`). */
const TOLERANCE_S = 300;
/** Bodies larger than this are refused (the benchmark's events are ~1 KiB). */
const BODY_MAX = 1 << 20;

/** Absolute wall-clock ms with the monotonic clock's resolution. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface Arrival {
  eventId: string;
  type: string;
  /** The Event's `created` (ms since the epoch, set inside the state change's transaction). */
  created: number;
  /** `data.object.id`: the PaymentIntent the event is about. */
  objectId: string;
  /** First arrival with a valid signature (nowMs()). */
  receivedAt: number;
  /** Arrivals with a valid signature, answered 200: more than 1 = delivered more than once. */
  count: number;
}

export interface WebhookReceiver {
  url: string;
  /** Set once the endpoint exists (its `whsec_` secret is returned by the create call only). */
  secret: string;
  /** Every event that arrived with a valid signature, by id. */
  readonly arrivals: Map<string, Arrival>;
  /** First arrival by the event's `data.object.id`. */
  readonly byObject: Map<string, Arrival>;
  /** Requests in total, and the refused ones by reason. */
  requests: number;
  badSignatures: number;
  badBodies: number;
  /** The first few refusals, for the log. */
  readonly problems: string[];
  /** Deliveries beyond the first of an event (summed over all events). */
  duplicates(): number;
  close(): Promise<void>;
}

function parseSignature(header: string | string[] | undefined): { t: number; v1: string } | null {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined) return null;
  let t = Number.NaN;
  let v1 = '';
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') t = Number(value);
    else if (key === 'v1' && v1 === '') v1 = value;
  }
  return Number.isInteger(t) && /^[0-9a-f]{64}$/.test(v1) ? { t, v1 } : null;
}

/** The plain HMAC check of api.md §5: hex(HMAC-SHA256(secret, "<t>.<body>")) within the tolerance. */
export function verifySignature(secret: string, header: string | string[] | undefined, body: string, atMs: number): string | null {
  const parsed = parseSignature(header);
  if (parsed === null) return `malformed Wooshpay-Signature ${JSON.stringify(header ?? null)}`;
  if (Math.abs(atMs / 1000 - parsed.t) > TOLERANCE_S) return `signature t=${parsed.t} outside the ${TOLERANCE_S} s tolerance`;
  const expected = createHmac('sha256', secret).update(`${parsed.t}.${body}`, 'utf8').digest();
  const given = Buffer.from(parsed.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? null : 'Wooshpay-Signature does not match the endpoint secret';
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const arrivals = new Map<string, Arrival>();
  const byObject = new Map<string, Arrival>();
  const receiver: WebhookReceiver = {
    url: '',
    secret: '',
    arrivals,
    byObject,
    requests: 0,
    badSignatures: 0,
    badBodies: 0,
    problems: [],
    duplicates() {
      let extra = 0;
      for (const arrival of arrivals.values()) extra += arrival.count - 1;
      return extra;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const refuse = (res: ServerResponse, status: number, why: string) => {
    if (receiver.problems.length < 5) receiver.problems.push(why);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(why);
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const receivedAt = nowMs();
    const signatureProblem =
      receiver.secret === ''
        ? 'no endpoint secret yet'
        : (verifySignature(receiver.secret, req.headers['wooshpay-signature'], body, receivedAt) ??
          (req.headers['stripe-signature'] === req.headers['wooshpay-signature'] ? null : 'Stripe-Signature differs from Wooshpay-Signature'));
    if (signatureProblem !== null) {
      receiver.badSignatures += 1;
      refuse(res, 400, signatureProblem);
      return;
    }
    let event: { id?: unknown; type?: unknown; created?: unknown; data?: { object?: { id?: unknown } } };
    try {
      event = JSON.parse(body) as typeof event;
    } catch {
      event = {};
    }
    const objectId = event.data?.object?.id;
    if (typeof event.id !== 'string' || typeof event.type !== 'string' || typeof event.created !== 'number' || typeof objectId !== 'string') {
      receiver.badBodies += 1;
      refuse(res, 400, `not an event: ${body.slice(0, 200)}`);
      return;
    }
    const seen = arrivals.get(event.id);
    if (seen) {
      seen.count += 1;
    } else {
      const arrival: Arrival = { eventId: event.id, type: event.type, created: event.created, objectId, receivedAt, count: 1 };
      arrivals.set(event.id, arrival);
      if (!byObject.has(objectId)) byObject.set(objectId, arrival);
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  };
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    receiver.requests += 1;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_MAX) chunks.push(chunk);
    });
    req.on('end', () => {
      if (req.method !== 'POST' || size > BODY_MAX) {
        receiver.badBodies += 1;
        refuse(res, req.method !== 'POST' ? 405 : 413, `${req.method ?? '?'} with ${size} bytes`);
        return;
      }
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('webhook receiver: no TCP address');
  receiver.url = `http://127.0.0.1:${address.port}/webhooks`;
  return receiver;
}
