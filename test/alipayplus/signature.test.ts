import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatSignatureHeader,
  loadPrivateKey,
  loadPublicKey,
  parseSignatureHeader,
  signMessage,
  stringToSign,
  verifyMessage,
  verifySignedMessage,
  signedHeaders,
  SignedReceiver,
  formatDateTime,
  parseDateTime,
} from '../../src/alipayplus/index.js';
import { fixtureKeys } from '../support/keys.js';

const keys = fixtureKeys();
const CLIENT_ID = '2022091453683376';
const PAY_PATH = '/aps/api/v1/payments/pay';

// Vectors produced independently with OpenSSL over the fixture keys:
//   printf 'POST <path>\n<client>.<time>.<body>' | openssl dgst -sha256 -sign <key> | base64 -w0
const REQUEST_VECTOR = {
  path: PAY_PATH,
  clientId: CLIENT_ID,
  time: '2026-11-26T12:01:01+08:00',
  body: '{"paymentRequestId":"pay_1","paymentAmount":{"currency":"CNY","value":"20"}}',
  signatureBase64:
    'azy+eE+oVwoktn/Q09+Ihx4SCQ67ydnHnIYp5o0pNNrmLi7r1rgbIqbBD6P5LTwo0mgQOAXC+jomegcsHHPo/PAlgYbubuV/a5nyX6219bD3lnm2OBgcokpj6hiZw8oCwsq2srPvHWhrcZgXY8qFs1RVDww3cnvgDlZ2IFW+FFE5g/KbzTkYULUU//IOwrtPh+o5aVG7fEqmHN/Z6+FLR6xIzBwuCGmJReJ8+36ffGfn3psY/2D0js2TBnY+QSWLnZA8DXCo7r86dvF3liTEujB7VbV8ImC+wNLaLdSQ6btCxgzHxABShyPS273oVf7NSnOvk9Cs18jJtVPuxsouwQ==',
};
const RESPONSE_VECTOR = {
  path: PAY_PATH,
  clientId: CLIENT_ID,
  time: '2026-11-26T12:01:02+08:00',
  body: '{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"payment in process"}}',
  signatureBase64:
    'CInyi+kgQnNmhPfRupwOUDdIoly2mQLhaYWfLGB3URr4NplKjfqE1APE1QomRiVYs0inwh+R8BCo2St9dB8Cge/PoAFtrp7VkoQXk4PE3UPjV8JvU+ZNznWmRsr0O00OMBPE1BPEhVJsrkpWAVGdK7ISoN+se4JxhEyLq58ZhIfyoGBXSmCFwtplBuko8qSPQnktnXyOaGVU1AxyIwUMULDTHMuavXoJykkXvc3E1WgEQRmJVuXsz9dZbJMvxAiRr2avptlTOQqUOhroZe3lQydG4/OjnQcyXmoSWKc/5sWhDcoo4WlRWm6FpDbC1OFLm0LDFVgzWGkZacWkItWz3w==',
};

describe('string to sign', () => {
  it('is "POST <path>\\n<client>.<time>.<body>" with one real newline', () => {
    const text = stringToSign({ path: PAY_PATH, clientId: 'C', time: 'T', body: '{"a":"1"}' }).toString('utf8');
    assert.equal(text, 'POST /aps/api/v1/payments/pay\nC.T.{"a":"1"}');
  });

  it('keeps the body bytes exactly, including non-ASCII text', () => {
    const body = '{"orderDescription":"台湾凤梨酥"}';
    const bytes = stringToSign({ path: PAY_PATH, clientId: 'C', time: 'T', body });
    assert.ok(bytes.subarray(bytes.length - Buffer.byteLength(body)).equals(Buffer.from(body, 'utf8')));
  });
});

describe('SHA256withRSA signatures against fixed vectors', () => {
  it('signs a request exactly as OpenSSL does, URL-encoded', () => {
    const signature = signMessage(REQUEST_VECTOR, keys.gatewayPrivate);
    assert.equal(signature, encodeURIComponent(REQUEST_VECTOR.signatureBase64));
    assert.match(signature, /%2B|%2F|%3D/, 'base64 + / = are URL-encoded');
  });

  it('signs a response exactly as OpenSSL does', () => {
    assert.equal(signMessage(RESPONSE_VECTOR, keys.alipayPrivate), encodeURIComponent(RESPONSE_VECTOR.signatureBase64));
  });

  it('verifies the vectors with the matching public keys, encoded or not', () => {
    assert.equal(verifyMessage(REQUEST_VECTOR, encodeURIComponent(REQUEST_VECTOR.signatureBase64), keys.gatewayPublic), true);
    assert.equal(verifyMessage(REQUEST_VECTOR, REQUEST_VECTOR.signatureBase64, keys.gatewayPublic), true);
    assert.equal(verifyMessage(RESPONSE_VECTOR, RESPONSE_VECTOR.signatureBase64, keys.alipayPublic), true);
  });

  it('rejects a tampered body, path, client id or time', () => {
    const sig = REQUEST_VECTOR.signatureBase64;
    assert.equal(verifyMessage({ ...REQUEST_VECTOR, body: REQUEST_VECTOR.body.replace('"20"', '"21"') }, sig, keys.gatewayPublic), false);
    assert.equal(verifyMessage({ ...REQUEST_VECTOR, body: REQUEST_VECTOR.body + ' ' }, sig, keys.gatewayPublic), false);
    assert.equal(verifyMessage({ ...REQUEST_VECTOR, path: '/aps/api/v1/payments/refund' }, sig, keys.gatewayPublic), false);
    assert.equal(verifyMessage({ ...REQUEST_VECTOR, clientId: '2022091453683377' }, sig, keys.gatewayPublic), false);
    assert.equal(verifyMessage({ ...REQUEST_VECTOR, time: '2026-11-26T12:01:02+08:00' }, sig, keys.gatewayPublic), false);
  });

  it('rejects the wrong key and garbage signatures without throwing', () => {
    assert.equal(verifyMessage(REQUEST_VECTOR, REQUEST_VECTOR.signatureBase64, keys.alipayPublic), false);
    for (const garbage of ['', '%%%', 'not base64 at all!', 'AAAA', '%E0%A4%A']) {
      assert.equal(verifyMessage(REQUEST_VECTOR, garbage, keys.gatewayPublic), false, garbage);
    }
  });
});

describe('keys', () => {
  it('loads PKCS#8 / X.509 PEM and bare base64 DER alike', () => {
    const pem = keys.gatewayPrivatePem;
    const der = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const fromDer = loadPrivateKey(der);
    assert.equal(signMessage(REQUEST_VECTOR, fromDer), encodeURIComponent(REQUEST_VECTOR.signatureBase64));
    const publicDer = keys.gatewayPublicPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    assert.equal(verifyMessage(REQUEST_VECTOR, REQUEST_VECTOR.signatureBase64, loadPublicKey(publicDer)), true);
    // A private key given where a public one is expected yields its public half.
    assert.equal(verifyMessage(REQUEST_VECTOR, REQUEST_VECTOR.signatureBase64, loadPublicKey(fromDer)), true);
  });
});

describe('Signature header', () => {
  it('formats as algorithm=RSA256,keyVersion=1,signature=...', () => {
    assert.equal(formatSignatureHeader('abc%2B'), 'algorithm=RSA256,keyVersion=1,signature=abc%2B');
  });

  it('parses tolerantly: spaces, any order, any case, unencoded padding', () => {
    assert.deepEqual(parseSignatureHeader('algorithm=RSA256, keyVersion=2, signature=ab%2Fc'), { algorithm: 'RSA256', keyVersion: '2', signature: 'ab%2Fc' });
    assert.deepEqual(parseSignatureHeader(' Signature = x+y== ,ALGORITHM=rsa256'), { algorithm: 'RSA256', keyVersion: '1', signature: 'x+y==' });
  });

  it('refuses headers without a signature or with another algorithm', () => {
    for (const bad of [undefined, '', 'garbage', 'algorithm=RSA256,keyVersion=1', 'algorithm=HMAC,signature=abc', '=,=,', 'signature=']) {
      assert.equal(parseSignatureHeader(bad), null, String(bad));
    }
  });
});

describe('signed messages', () => {
  const publicKeyFor = (id: string) => (id === CLIENT_ID ? keys.gatewayPublic : undefined);

  it('round-trips a request through headers, with header names in any case', () => {
    const body = '{"paymentRequestId":"p1"}';
    const headers = signedHeaders({ kind: 'request', path: PAY_PATH, clientId: CLIENT_ID, body, privateKey: keys.gatewayPrivate, nowMs: Date.UTC(2026, 10, 26, 4, 1, 1) });
    assert.equal(headers['Request-Time'], '2026-11-26T12:01:01+08:00');
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(verifySignedMessage({ kind: 'request', path: PAY_PATH, headers: lower, body, publicKeyFor }), { ok: true, clientId: CLIENT_ID });
  });

  it('names what is wrong: missing headers, unknown client, bad signature, wrong path', () => {
    const body = '{}';
    const headers = signedHeaders({ kind: 'request', path: PAY_PATH, clientId: CLIENT_ID, body, privateKey: keys.gatewayPrivate, nowMs: 0 });
    const check = (h: Record<string, string | undefined>, path = PAY_PATH) => {
      const outcome = verifySignedMessage({ kind: 'request', path, headers: h, body, publicKeyFor });
      return outcome.ok ? 'ok' : outcome.failure;
    };
    assert.equal(check({ ...headers, Signature: undefined }), 'MISSING_HEADERS');
    assert.equal(check({ ...headers, 'Request-Time': undefined }), 'MISSING_HEADERS');
    assert.equal(check({ ...headers, 'Client-Id': 'someone-else' }), 'INVALID_CLIENT');
    assert.equal(check({ ...headers, Signature: 'garbage' }), 'INVALID_SIGNATURE');
    assert.equal(check(headers, '/aps/api/v1/payments/refund'), 'INVALID_SIGNATURE');
    // A response's signature is over Response-Time: a request header set does not verify as one.
    assert.equal(verifySignedMessage({ kind: 'response', path: PAY_PATH, headers, body, publicKeyFor }).ok, false);
  });

  it('a receiver verifies requests and signs replies the caller can verify', () => {
    const receiver = new SignedReceiver({ privateKey: keys.alipayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.gatewayPublicPem } });
    const body = '{"paymentRequestId":"p1"}';
    const headers = signedHeaders({ kind: 'request', path: PAY_PATH, clientId: CLIENT_ID, body, privateKey: keys.gatewayPrivate, nowMs: 0 });
    const inbound = receiver.verifyRequest(PAY_PATH, headers, body);
    assert.deepEqual(inbound, { ok: true, clientId: CLIENT_ID, body: { paymentRequestId: 'p1' } });

    const forged = receiver.verifyRequest(PAY_PATH, headers, body.replace('p1', 'p2'));
    assert.equal(forged.ok, false);
    assert.equal(!forged.ok && forged.result.resultCode, 'INVALID_SIGNATURE');
    assert.equal(!forged.ok && forged.result.resultStatus, 'F');

    const reply = receiver.acknowledge(PAY_PATH, CLIENT_ID);
    assert.equal(reply.body, '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}');
    const verified = verifySignedMessage({ kind: 'response', path: PAY_PATH, headers: { ...reply.headers }, body: reply.body, publicKeyFor: () => keys.alipayPublic });
    assert.equal(verified.ok, true);
  });

  it('a receiver answers malformed JSON with PARAM_ILLEGAL after verifying the signature', () => {
    const receiver = new SignedReceiver({ privateKey: keys.alipayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.gatewayPublic } });
    for (const body of ['{not json', '[1,2]', '"text"']) {
      const headers = signedHeaders({ kind: 'request', path: PAY_PATH, clientId: CLIENT_ID, body, privateKey: keys.gatewayPrivate, nowMs: 0 });
      const outcome = receiver.verifyRequest(PAY_PATH, headers, body);
      assert.equal(!outcome.ok && outcome.result.resultCode, 'PARAM_ILLEGAL', body);
    }
  });
});

describe('datetimes', () => {
  it('formats in UTC+8 and parses only datetimes with an offset', () => {
    assert.equal(formatDateTime(Date.UTC(2026, 10, 25, 16, 15, 0)), '2026-11-26T00:15:00+08:00');
    assert.equal(parseDateTime('2026-11-26T00:15:00+08:00'), Date.UTC(2026, 10, 25, 16, 15, 0));
    assert.equal(parseDateTime('2026-11-26T00:15:00'), null);
    assert.equal(parseDateTime('tomorrow'), null);
    assert.equal(parseDateTime(12), null);
  });
});
