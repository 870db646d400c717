import { readFileSync } from 'node:fs';
import type { AlipayPlusEndpoint } from '../gateway/connector/alipayplus/modes.js';

type Env = Record<string, string | undefined>;

/**
 * A real Alipay+ endpoint from the environment: `<PREFIX>BASE_URL`, `<PREFIX>CLIENT_ID`,
 * `<PREFIX>PRIVATE_KEY_FILE` (our PKCS#8 PEM) and `<PREFIX>PUBLIC_KEY_FILE` (Alipay+'s X.509 PEM).
 * All four or none: a partial configuration is an error, never a silent fallback.
 */
export function endpointFromEnv(env: Env, prefix: string): AlipayPlusEndpoint | null {
  const names = ['BASE_URL', 'CLIENT_ID', 'PRIVATE_KEY_FILE', 'PUBLIC_KEY_FILE'].map((name) => prefix + name);
  const values = names.map((name) => env[name]?.trim() || undefined);
  if (values.every((value) => value === undefined)) return null;
  const missing = names.filter((_name, i) => values[i] === undefined);
  if (missing.length > 0) throw new Error(`incomplete Alipay+ configuration: set ${missing.join(', ')} too (or none of ${names.join(', ')})`);
  const [baseUrl, clientId, privateKeyFile, publicKeyFile] = values as [string, string, string, string];
  if (!/^https?:\/\//.test(baseUrl)) throw new Error(`${prefix}BASE_URL must be an http(s) URL, got ${baseUrl}`);
  return { baseUrl, clientId, privateKey: readFileSync(privateKeyFile, 'utf8'), alipayPublicKey: readFileSync(publicKeyFile, 'utf8') };
}
