import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  AlipayPlusClient,
  AlipayPlusError,
  API_PATHS,
  CLIENT_TIMEOUT_MS_DEFAULT,
  SignedReceiver,
  result,
  signedHeaders,
  verifySignedMessage,
  type PayRequest,
} from '../../src/alipayplus/index.js';
import { fixtureKeys } from '../support/keys.js';

const keys = fixtureKeys();
const CLIENT_ID = '2022091453683376';

/** How the fake Alipay+ answers one request. */
type Responder = (path: string, body: Record<string, unknown>, res: ServerResponse) => void;

/** Alipay+'s side: verifies our signed request, answers signed with the Alipay+ key. */
const alipay = new SignedReceiver({ privateKey: keys.alipayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.gatewayPublic } });
/** Signs with the gateway's key instead: a response Alipay+ did not sign. */
const impostor = new SignedReceiver({ privateKey: keys.gatewayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.gatewayPublic } });

function signedReply(res: ServerResponse, path: string, body: object, signer = alipay, clientId = CLIENT_ID): void {
  const reply = signer.reply(path, clientId, body);
  res.writeHead(200, { ...reply.headers });
  res.end(reply.body);
}

class FakeAlipay {
  connections = 0;
  requests = 0;
  invalidRequests = 0;
  responder: Responder = (path, _body, res) => signedReply(res, path, { result: result('SUCCESS') });
  private constructor(readonly server: Server) {}

  static async start(): Promise<FakeAlipay> {
    const fake = new FakeAlipay(createServer());
    fake.server.on('connection', () => (fake.connections += 1));
    fake.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        fake.requests += 1;
        const raw = Buffer.concat(chunks).toString('utf8');
        const inbound = alipay.verifyRequest(req.url ?? '', req.headers, raw);
        if (!inbound.ok) {
          fake.invalidRequests += 1;
          return signedReply(res, req.url ?? '', { result: inbound.result });
        }
        fake.responder(req.url ?? '', inbound.body, res);
      });
    });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function newClient(baseUrl: string, timeoutMs?: number): AlipayPlusClient {
  return new AlipayPlusClient({ baseUrl, clientId: CLIENT_ID, privateKey: keys.gatewayPrivatePem, alipayPublicKey: keys.alipayPublicPem, timeoutMs });
}

const PAY_REQUEST: PayRequest = {
  paymentRequestId: 'pay_client_1',
  paymentAmount: { currency: 'CNY', value: '20' },
  order: {
    referenceOrderId: 'order_1',
    orderDescription: 'tea',
    orderAmount: { currency: 'CNY', value: '20' },
    merchant: { referenceMerchantId: 'M1' },
    env: { terminalType: 'WEB' },
  },
  paymentMethod: { paymentMethodType: 'ALIPAY_CN' },
};

async function rejection(promise: Promise<unknown>): Promise<AlipayPlusError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AlipayPlusError, `expected AlipayPlusError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('AlipayPlusClient', () => {
  let fake: FakeAlipay;
  let client: AlipayPlusClient;

  before(async () => {
    fake = await FakeAlipay.start();
    client = newClient(fake.url);
  });
  after(async () => {
    await client.close();
    await fake.close();
  });

  it('resolves an S result with the verified body, having sent a validly signed request', async () => {
    fake.responder = (path, body, res) => signedReply(res, path, { result: result('SUCCESS'), paymentId: `pid_for_${String(body.paymentId)}`, paymentResult: result('SUCCESS') });
    const invalidBefore = fake.invalidRequests;
    const response = await client.inquiryPayment({ paymentId: 'P1' });
    assert.equal(response.result.resultStatus, 'S');
    assert.equal(response.paymentId, 'pid_for_P1');
    assert.equal(fake.invalidRequests, invalidBefore, 'the fake Alipay+ verified the request signature');
  });

  it('rejects an F result as kind F carrying the result code and the response', async () => {
    fake.responder = (path, _body, res) => signedReply(res, path, { result: result('CANCEL_WINDOW_EXCEED') });
    const error = await rejection(client.cancelPayment({ paymentId: 'P1' }));
    assert.equal(error.kind, 'F');
    assert.equal(error.resultCode, 'CANCEL_WINDOW_EXCEED');
    assert.equal(error.retryable, false);
    assert.equal(error.response?.result.resultStatus, 'F');
  });

  it('rejects a U result as kind U (retry with the same request id)', async () => {
    fake.responder = (path, _body, res) => signedReply(res, path, { result: result('UNKNOWN_EXCEPTION') });
    const error = await rejection(client.refund({ refundRequestId: 'r1', paymentId: 'P1', refundAmount: { currency: 'CNY', value: '1' } }));
    assert.equal(error.kind, 'U');
    assert.equal(error.resultCode, 'UNKNOWN_EXCEPTION');
    assert.equal(error.retryable, true);
  });

  it('resolves pay with U / PAYMENT_IN_PROCESS when the response carries a URL', async () => {
    fake.responder = (path, _body, res) =>
      signedReply(res, path, { result: result('PAYMENT_IN_PROCESS'), paymentId: 'P9', normalUrl: 'https://cashier.example/checkout.htm?codeValue=abc' });
    const response = await client.pay(PAY_REQUEST);
    assert.equal(response.result.resultCode, 'PAYMENT_IN_PROCESS');
    assert.equal(response.paymentId, 'P9');
  });

  it('rejects pay with U / PAYMENT_IN_PROCESS without any URL or code as kind U', async () => {
    fake.responder = (path, _body, res) => signedReply(res, path, { result: result('PAYMENT_IN_PROCESS'), paymentId: 'P9' });
    const error = await rejection(client.pay(PAY_REQUEST));
    assert.equal(error.kind, 'U');
    assert.equal(error.resultCode, 'PAYMENT_IN_PROCESS');
  });

  it('treats an unsigned response as U, never as its result', async () => {
    fake.responder = (_path, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ result: result('SUCCESS') }));
    };
    const error = await rejection(client.inquiryPayment({ paymentId: 'P1' }));
    assert.equal(error.kind, 'U');
    assert.equal(error.resultCode, 'RESPONSE_SIGNATURE_INVALID');
    assert.equal(error.response, undefined);
  });

  it('treats a response signed with the wrong key as U', async () => {
    fake.responder = (path, _body, res) => signedReply(res, path, { result: result('SUCCESS') }, impostor);
    const error = await rejection(client.inquiryPayment({ paymentId: 'P1' }));
    assert.equal(error.kind, 'U');
    assert.equal(error.resultCode, 'RESPONSE_SIGNATURE_INVALID');
  });

  it('treats a response signed under another Client-Id as U', async () => {
    fake.responder = (path, _body, res) => signedReply(res, path, { result: result('SUCCESS') }, alipay, 'SOMEONE_ELSE');
    const error = await rejection(client.inquiryPayment({ paymentId: 'P1' }));
    assert.equal(error.kind, 'U');
    assert.match(error.message, /INVALID_CLIENT/);
  });

  it('treats a response whose body was altered after signing as U', async () => {
    fake.responder = (path, _body, res) => {
      const reply = alipay.reply(path, CLIENT_ID, { result: result('PROCESS_FAIL') });
      res.writeHead(200, { ...reply.headers });
      res.end(reply.body.replace('PROCESS_FAIL', 'SUCCESS').replace('"F"', '"S"'));
    };
    const error = await rejection(client.cancelPayment({ paymentId: 'P1' }));
    assert.equal(error.kind, 'U');
  });

  it('treats a non-2xx answer as a transport failure', async () => {
    fake.responder = (path, _body, res) => {
      const reply = alipay.reply(path, CLIENT_ID, { result: result('SUCCESS') });
      res.writeHead(502, { ...reply.headers });
      res.end(reply.body);
    };
    const error = await rejection(client.inquiryPayment({ paymentId: 'P1' }));
    assert.equal(error.kind, 'transport');
    assert.equal(error.resultCode, 'HTTP_STATUS');
  });

  it('treats a validly signed body that is not JSON as a transport failure', async () => {
    fake.responder = (path, _body, res) => {
      const body = '<html>gateway error</html>';
      res.writeHead(200, { ...signedHeaders({ kind: 'response', path, clientId: CLIENT_ID, body, privateKey: keys.alipayPrivate, nowMs: Date.now() }) });
      res.end(body);
    };
    const error = await rejection(client.inquiryPayment({ paymentId: 'P1' }));
    assert.equal(error.kind, 'transport');
    assert.equal(error.resultCode, 'INVALID_RESPONSE');
  });

  it('times out as a transport failure with code TIMEOUT', async () => {
    fake.responder = () => undefined; // never answers
    const slowClient = newClient(fake.url, 300);
    const started = Date.now();
    const error = await rejection(slowClient.inquiryPayment({ paymentId: 'P1' }));
    await slowClient.close();
    assert.equal(error.kind, 'transport');
    assert.equal(error.resultCode, 'TIMEOUT');
    assert.ok(Date.now() - started < 5000, 'gave up near its 300 ms timeout');
  });

  it('reports a refused connection as a transport failure', async () => {
    const closed = await FakeAlipay.start();
    const url = closed.url;
    await closed.close();
    const deadClient = newClient(url);
    const error = await rejection(deadClient.inquiryPayment({ paymentId: 'P1' }));
    await deadClient.close();
    assert.equal(error.kind, 'transport');
    assert.equal(error.resultCode, 'CONNECTION_FAILED');
  });

  it('defaults to a 10 s timeout', () => {
    assert.equal(CLIENT_TIMEOUT_MS_DEFAULT, 10_000);
    const probe = newClient(fake.url) as unknown as { timeoutMs: number };
    assert.equal(probe.timeoutMs, 10_000);
  });

  it('reuses connections across calls (keep-alive)', async () => {
    fake.responder = (path, _body, res) => signedReply(res, path, { result: result('SUCCESS') });
    const pooled = newClient(fake.url);
    const before = fake.connections;
    for (let i = 0; i < 8; i++) await pooled.inquiryPayment({ paymentId: `P${i}` });
    await pooled.close();
    // Without keep-alive each call would open its own connection; undici may warm a second one.
    const opened = fake.connections - before;
    assert.ok(opened >= 1 && opened <= 2, `eight sequential calls opened ${opened} connections`);
  });

  it('signs requests for the exact path and body it sends', async () => {
    let seen: { ok: boolean } | undefined;
    fake.server.prependOnceListener('request', (req: IncomingMessage) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen = verifySignedMessage({ kind: 'request', path: API_PATHS.refund, headers: req.headers, body: Buffer.concat(chunks), publicKeyFor: () => keys.gatewayPublic });
      });
    });
    fake.responder = (path, _body, res) => signedReply(res, path, { result: result('SUCCESS'), refundId: 'R1' });
    const response = await client.refund({ refundRequestId: 'r2', paymentId: 'P1', refundAmount: { currency: 'CNY', value: '5' } });
    assert.equal(response.refundId, 'R1');
    assert.deepEqual(seen, { ok: true, clientId: CLIENT_ID });
  });
});

