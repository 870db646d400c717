import type { KeyObject } from 'node:crypto';
import { formatDateTime } from './datetime.js';
import { formatSignatureHeader, parseSignatureHeader, signMessage, verifyMessage } from './signature.js';

/**
 * Signed Alipay+ messages: the three headers that travel with every request and response.
 * Requests carry `Request-Time`, responses `Response-Time`; both carry `Client-Id` and `Signature`.
 * In Alipay+ the Client-Id is always the acquirer's (ours): it names the relationship, while the
 * key that signs depends on the direction.
 */

export type MessageKind = 'request' | 'response';

export type HeaderBag = Record<string, string | string[] | undefined> | Headers;

export type SignedHeaders = {
  'Content-Type': string;
  'Client-Id': string;
  'Request-Time'?: string;
  'Response-Time'?: string;
  Signature: string;
};

export const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

const TIME_HEADER: Record<MessageKind, 'Request-Time' | 'Response-Time'> = {
  request: 'Request-Time',
  response: 'Response-Time',
};

export interface SignInput {
  kind: MessageKind;
  path: string;
  clientId: string;
  body: string;
  privateKey: KeyObject;
  nowMs: number;
}

export function signedHeaders(input: SignInput): SignedHeaders {
  const time = formatDateTime(input.nowMs);
  const signature = signMessage({ path: input.path, clientId: input.clientId, time, body: input.body }, input.privateKey);
  return {
    'Content-Type': JSON_CONTENT_TYPE,
    'Client-Id': input.clientId,
    [TIME_HEADER[input.kind]]: time,
    Signature: formatSignatureHeader(signature),
  } as SignedHeaders;
}

/** Reads one header by name, case-insensitively, from Node's, undici's or Fetch's header shapes. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const wanted = name.toLowerCase();
  for (const key of Object.keys(bag)) {
    if (key.toLowerCase() !== wanted) continue;
    const value = bag[key];
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export type VerifyFailure = 'MISSING_HEADERS' | 'INVALID_CLIENT' | 'INVALID_SIGNATURE';

export type VerifyOutcome = { ok: true; clientId: string } | { ok: false; failure: VerifyFailure; message: string };

export interface VerifyInput {
  kind: MessageKind;
  path: string;
  headers: HeaderBag;
  body: string | Buffer;
  /** The public key of the peer that signed for this client id, or undefined for an unknown client. */
  publicKeyFor: (clientId: string) => KeyObject | undefined;
}

/** Checks the signature of an inbound message; never throws on malformed input. */
export function verifySignedMessage(input: VerifyInput): VerifyOutcome {
  const timeHeader = TIME_HEADER[input.kind];
  const clientId = headerValue(input.headers, 'Client-Id');
  const time = headerValue(input.headers, timeHeader);
  const rawSignature = headerValue(input.headers, 'Signature');
  if (!clientId || !time || !rawSignature) {
    return { ok: false, failure: 'MISSING_HEADERS', message: `Client-Id, ${timeHeader} and Signature headers are required` };
  }
  const publicKey = input.publicKeyFor(clientId);
  if (!publicKey) return { ok: false, failure: 'INVALID_CLIENT', message: `unknown Client-Id ${clientId}` };
  const parsed = parseSignatureHeader(rawSignature);
  if (!parsed) return { ok: false, failure: 'INVALID_SIGNATURE', message: 'Signature header is not algorithm=RSA256,...,signature=...' };
  const valid = verifyMessage({ path: input.path, clientId, time, body: input.body }, parsed.signature, publicKey);
  if (!valid) return { ok: false, failure: 'INVALID_SIGNATURE', message: 'signature does not verify' };
  return { ok: true, clientId };
}
