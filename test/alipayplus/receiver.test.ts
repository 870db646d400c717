import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignedReceiver, result, verifySignedMessage } from '../../src/alipayplus/index.js';
import { loadPublicKey } from '../../src/alipayplus/signature.js';
import { fixtureKeys } from '../support/keys.js';

const keys = fixtureKeys();
const CLIENT_ID = '2022091453683376';
const NOTIFY_PATH = '/alipayplus/notify/test';
const alipayPublic = loadPublicKey(keys.gatewayPublic);

/** What the peer checks: the reply's signature over its path, Client-Id, Response-Time and exact body. */
function verifies(path: string, reply: { headers: Record<string, string | undefined>; body: string }): boolean {
  return verifySignedMessage({ kind: 'response', path, headers: reply.headers, body: reply.body, publicKeyFor: (id) => (id === CLIENT_ID ? alipayPublic : undefined) }).ok;
}

describe('SignedReceiver.reply', () => {
  it('signs every reply so that it verifies, within one second and across seconds, for each path and body', () => {
    let nowMs = Date.UTC(2026, 10, 30, 3, 0, 0, 100);
    const receiver = new SignedReceiver({ privateKey: keys.gatewayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.alipayPublic }, now: () => nowMs });
    const ack = { result: result('SUCCESS') };
    const first = receiver.reply(NOTIFY_PATH, CLIENT_ID, ack);
    nowMs += 800; // the same Response-Time second
    const again = receiver.reply(NOTIFY_PATH, CLIENT_ID, ack);
    assert.deepEqual(again, first);
    assert.ok(verifies(NOTIFY_PATH, again));

    // A caller that changes the headers it got (a corrupted-reply fault) does not change later replies.
    again.headers.Signature = 'algorithm=RSA256,keyVersion=1,signature=AAAA';
    assert.ok(verifies(NOTIFY_PATH, receiver.reply(NOTIFY_PATH, CLIENT_ID, ack)));

    const refused = receiver.reply(NOTIFY_PATH, CLIENT_ID, { result: result('ORDER_NOT_EXIST', 'no payment attempt x') });
    assert.notEqual(refused.headers.Signature, first.headers.Signature);
    assert.ok(verifies(NOTIFY_PATH, refused));
    const otherPath = receiver.reply('/alipayplus/notify/live', CLIENT_ID, ack);
    assert.notEqual(otherPath.headers.Signature, first.headers.Signature);
    assert.ok(verifies('/alipayplus/notify/live', otherPath));
    assert.ok(!verifies(NOTIFY_PATH, otherPath), 'a reply signed for one path must not verify for another');

    nowMs += 300; // the next second: a new Response-Time, signed anew
    const later = receiver.reply(NOTIFY_PATH, CLIENT_ID, ack);
    assert.notEqual(later.headers['Response-Time'], first.headers['Response-Time']);
    assert.notEqual(later.headers.Signature, first.headers.Signature);
    assert.ok(verifies(NOTIFY_PATH, later));
  });

  it('signs many distinct replies within one second, each verifying', () => {
    const nowMs = Date.UTC(2026, 10, 30, 3, 0, 0, 0);
    const receiver = new SignedReceiver({ privateKey: keys.gatewayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.alipayPublic }, now: () => nowMs });
    const signatures = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const reply = receiver.reply(NOTIFY_PATH, CLIENT_ID, { result: result('PARAM_ILLEGAL', `reason ${i}`) });
      assert.ok(verifies(NOTIFY_PATH, reply));
      signatures.add(reply.headers.Signature);
    }
    assert.equal(signatures.size, 100);
  });
});
