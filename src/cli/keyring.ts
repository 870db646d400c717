import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateRsaKeyPair } from '../alipayplus/index.js';

/**
 * Key pairs generated on first start under `<data dir>/keys/`: the gateway's (it signs what it
 * sends to Alipay+) and the embedded sandbox's (it plays Alipay+). Each side is given the other's
 * public key. Private keys are written owner-only and never logged.
 */
export type KeyOwner = 'gateway' | 'alipayplus-sandbox';

export interface KeyPairFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  privateKey: string;
  publicKey: string;
  generated: boolean;
}

export function ensureKeyPair(dataDir: string, owner: KeyOwner): KeyPairFiles {
  const dir = join(dataDir, 'keys');
  const privateKeyPath = join(dir, `${owner}-private.pem`);
  const publicKeyPath = join(dir, `${owner}-public.pem`);
  let generated = false;
  if (!existsSync(privateKeyPath) || !existsSync(publicKeyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = generateRsaKeyPair();
    writeFileSync(privateKeyPath, pair.privateKey, { mode: 0o600 });
    chmodSync(privateKeyPath, 0o600);
    writeFileSync(publicKeyPath, pair.publicKey, { mode: 0o644 });
    generated = true;
  }
  return { privateKeyPath, publicKeyPath, privateKey: readFileSync(privateKeyPath, 'utf8'), publicKey: readFileSync(publicKeyPath, 'utf8'), generated };
}
