import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Alipay+ message signatures (docs/alipayplus.md §2).
 *
 * String to sign: `POST <path>\n<Client-Id>.<Request-Time or Response-Time>.<body>`, where body is
 * the exact bytes sent. Algorithm SHA256withRSA (RSA 2048, PKCS#1 v1.5 padding); private keys
 * PKCS#8, public keys X.509 SubjectPublicKeyInfo. The signature is base64, then URL-encoded, and
 * travels as `Signature: algorithm=RSA256,keyVersion=1,signature=<urlencoded base64>`.
 *
 * Test vectors: test/alipayplus/signature.test.ts signs fixed strings with the fixed key pair in
 * test/fixtures and compares against recorded signatures (RSA PKCS#1 v1.5 is deterministic).
 */

export const SIGNATURE_ALGORITHM = 'RSA256';
export const DEFAULT_KEY_VERSION = '1';

export interface SignedMessage {
  method?: 'POST';
  path: string;
  clientId: string;
  /** The value of `Request-Time` (requests) or `Response-Time` (responses). */
  time: string;
  /** Exact body bytes as sent; never a re-serialization. */
  body: string | Buffer;
}

export function stringToSign(message: SignedMessage): Buffer {
  const head = `${message.method ?? 'POST'} ${message.path}\n${message.clientId}.${message.time}.`;
  const body = typeof message.body === 'string' ? Buffer.from(message.body, 'utf8') : message.body;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** Returns the URL-encoded base64 signature of `message`. */
export function signMessage(message: SignedMessage, privateKey: KeyObject): string {
  const signature = sign('sha256', stringToSign(message), privateKey);
  return encodeURIComponent(signature.toString('base64'));
}

/** Verifies a URL-encoded (or plain) base64 signature; any malformed input is simply `false`. */
export function verifyMessage(message: SignedMessage, signature: string, publicKey: KeyObject): boolean {
  let raw: Buffer;
  try {
    raw = Buffer.from(decodeURIComponent(signature), 'base64');
  } catch {
    return false;
  }
  if (raw.length === 0) return false;
  try {
    return verify('sha256', stringToSign(message), publicKey, raw);
  } catch {
    return false;
  }
}

export interface SignatureHeader {
  algorithm: string;
  keyVersion: string;
  signature: string;
}

export function formatSignatureHeader(signature: string, keyVersion = DEFAULT_KEY_VERSION): string {
  return `algorithm=${SIGNATURE_ALGORITHM},keyVersion=${keyVersion},signature=${signature}`;
}

/**
 * Parses a `Signature` header tolerantly: spaces around commas and `=`, any order of the parts,
 * parameter names in any case. Returns null when there is no usable `signature` part or the
 * algorithm is not RSA256.
 */
export function parseSignatureHeader(header: string | undefined | null): SignatureHeader | null {
  if (typeof header !== 'string' || header.length === 0 || header.length > 8192) return null;
  const parts = new Map<string, string>();
  for (const piece of header.split(',')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    // Values may themselves contain '=' (unencoded base64 padding): split at the first one only.
    parts.set(piece.slice(0, eq).trim().toLowerCase(), piece.slice(eq + 1).trim());
  }
  const signature = parts.get('signature');
  if (!signature) return null;
  const algorithm = parts.get('algorithm') ?? SIGNATURE_ALGORITHM;
  if (algorithm.toUpperCase() !== SIGNATURE_ALGORITHM) return null;
  return { algorithm: SIGNATURE_ALGORITHM, keyVersion: parts.get('keyversion') ?? DEFAULT_KEY_VERSION, signature };
}

/**
 * Loads a private key given as PKCS#8 PEM, or as the bare base64 DER that Alipay+'s portal hands
 * out (no PEM armour).
 */
export function loadPrivateKey(key: string | Buffer | KeyObject): KeyObject {
  if (typeof key === 'object' && 'asymmetricKeyType' in key) return key;
  const text = key.toString().trim();
  if (text.startsWith('-----BEGIN')) return createPrivateKey({ key: text, format: 'pem' });
  return createPrivateKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'pkcs8' });
}

/** Loads a public key given as X.509 SubjectPublicKeyInfo PEM, or as bare base64 DER. */
export function loadPublicKey(key: string | Buffer | KeyObject): KeyObject {
  if (typeof key === 'object' && 'asymmetricKeyType' in key) {
    return key.type === 'private' ? createPublicKey(key) : key;
  }
  const text = key.toString().trim();
  if (text.startsWith('-----BEGIN')) return createPublicKey({ key: text, format: 'pem' });
  return createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
}

export interface PemKeyPair {
  /** PKCS#8 PEM. */
  privateKey: string;
  /** X.509 SubjectPublicKeyInfo PEM. */
  publicKey: string;
}

/** A fresh RSA 2048 key pair in the formats Alipay+ uses. */
export function generateRsaKeyPair(): PemKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKey, publicKey };
}
