import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPrivateKey, loadPublicKey } from '../../src/alipayplus/index.js';

/** Fixed RSA 2048 key pairs for tests (test/fixtures/*.test.pem); never used outside tests. */
export function fixtureKeys() {
  const read = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}.test.pem`, import.meta.url)), 'utf8');
  const gatewayPrivatePem = read('gateway-private');
  const gatewayPublicPem = read('gateway-public');
  const alipayPrivatePem = read('alipayplus-private');
  const alipayPublicPem = read('alipayplus-public');
  return {
    gatewayPrivatePem,
    gatewayPublicPem,
    alipayPrivatePem,
    alipayPublicPem,
    gatewayPrivate: loadPrivateKey(gatewayPrivatePem),
    gatewayPublic: loadPublicKey(gatewayPublicPem),
    alipayPrivate: loadPrivateKey(alipayPrivatePem),
    alipayPublic: loadPublicKey(alipayPublicPem),
  };
}
