import type { KeyObject } from 'node:crypto';
import { formatDateTime } from './datetime.js';
import { headerValue, signedHeaders, verifySignedMessage, type HeaderBag, type SignedHeaders } from './message.js';
import { result } from './result.js';
import { loadPrivateKey, loadPublicKey } from './signature.js';
import type { Result } from './wire.js';

/**
 * The receiving side of Alipay+ calls: the sandbox receiving pay/refund/…, and the gateway
 * receiving notifyPayment and dispute notifications. It verifies the inbound signature and
 * signs whatever it answers, so the caller can verify the response in turn.
 */
export interface ReceiverOptions {
  /** Our private key: signs every response. */
  privateKey: string | KeyObject;
  /** The signing peer's public key for each client id we accept. */
  peerPublicKeys: ReadonlyMap<string, string | KeyObject> | Record<string, string | KeyObject>;
  now?: () => number;
}

export type InboundOutcome =
  | { ok: true; clientId: string; body: Record<string, unknown> }
  | { ok: false; clientId: string | undefined; result: Result };

export interface SignedReply {
  headers: SignedHeaders;
  body: string;
}

export class SignedReceiver {
  private readonly privateKey: KeyObject;
  private readonly peers: Map<string, KeyObject>;
  private readonly now: () => number;
  /** The replies signed within the current Response-Time second (see `reply`). */
  private readonly recentReplies = new RecentReplies();

  constructor(options: ReceiverOptions) {
    this.privateKey = loadPrivateKey(options.privateKey);
    const entries = options.peerPublicKeys instanceof Map ? [...options.peerPublicKeys] : Object.entries(options.peerPublicKeys);
    this.peers = new Map(entries.map(([clientId, key]) => [clientId, loadPublicKey(key)]));
    this.now = options.now ?? Date.now;
  }

  /**
   * Verifies a signed inbound request and parses its JSON object body. Failures come back as the
   * Alipay+ result to answer with (`INVALID_SIGNATURE`, `INVALID_CLIENT`, `PARAM_ILLEGAL`).
   */
  verifyRequest(path: string, headers: HeaderBag, rawBody: string | Buffer): InboundOutcome {
    const verified = verifySignedMessage({ kind: 'request', path, headers, body: rawBody, publicKeyFor: (id) => this.peers.get(id) });
    if (!verified.ok) {
      const code = verified.failure === 'INVALID_CLIENT' ? 'INVALID_CLIENT' : 'INVALID_SIGNATURE';
      const clientId = verified.failure === 'INVALID_CLIENT' ? undefined : headerClientId(headers, this.peers);
      return { ok: false, clientId, result: result(code, verified.message) };
    }
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString());
    } catch {
      return { ok: false, clientId: verified.clientId, result: result('PARAM_ILLEGAL', 'request body is not valid JSON') };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { ok: false, clientId: verified.clientId, result: result('PARAM_ILLEGAL', 'request body must be a JSON object') };
    }
    return { ok: true, clientId: verified.clientId, body: body as Record<string, unknown> };
  }

  /**
   * Serializes and signs a response for `path`. An inbound request from an unknown client is
   * answered with our own signature under the Client-Id it claimed, so it can at least be parsed.
   */
  reply(path: string, clientId: string, body: object): SignedReply {
    const payload = JSON.stringify(body);
    const nowMs = this.now();
    // Response-Time has a resolution of one second and RSA PKCS#1 v1.5 signatures are
    // deterministic, so the same answer (a notification's SUCCESS, the bulk of what the gateway
    // signs) on the same path within one second has byte-identical headers: signed once, reused.
    const key = `${path}\n${clientId}\n${payload}`;
    const cached = this.recentReplies.get(formatDateTime(nowMs), key);
    if (cached !== undefined) return { headers: { ...cached }, body: payload };
    const headers = signedHeaders({ kind: 'response', path, clientId, body: payload, privateKey: this.privateKey, nowMs });
    this.recentReplies.set(headers['Response-Time']!, key, headers);
    return { headers: { ...headers }, body: payload };
  }

  /** The signed acknowledgement of a notification: its sender stops retrying on this. */
  acknowledge(path: string, clientId: string): SignedReply {
    return this.reply(path, clientId, { result: result('SUCCESS') });
  }
}

/**
 * Signed reply headers of one Response-Time second, by path, client and body: forgotten when the
 * second changes, and bounded so that many distinct answers in one second cost no memory.
 */
class RecentReplies {
  static readonly MAX_ENTRIES = 64;
  private time = '';
  private readonly entries = new Map<string, SignedHeaders>();

  get(time: string, key: string): SignedHeaders | undefined {
    return time === this.time ? this.entries.get(key) : undefined;
  }

  set(time: string, key: string, headers: SignedHeaders): void {
    if (time !== this.time) {
      this.time = time;
      this.entries.clear();
    }
    if (this.entries.size < RecentReplies.MAX_ENTRIES) this.entries.set(key, headers);
  }
}

function headerClientId(headers: HeaderBag, peers: Map<string, KeyObject>): string | undefined {
  const claimed = headerValue(headers, 'Client-Id');
  return claimed !== undefined && peers.has(claimed) ? claimed : undefined;
}
