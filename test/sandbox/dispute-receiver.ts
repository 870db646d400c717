import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignedReceiver, result, type ResultCode } from '../../src/alipayplus/index.js';
import assert from 'node:assert/strict';
import { CLIENT_ID, keys, payRequest, type SandboxHarness } from '../support/sandbox-harness.js';

/** The acquirer's notify URL the test payments carry; dispute calls go to `disputes/<api>` beside it. */
export const NOTIFY_PATH = '/alipayplus/test/notify';

export interface ReceivedDisputeCall {
  api: string;
  path: string;
  raw: string;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the wire body as sent
  body: any;
  /** Whether the call's signature verified with the sandbox's (Alipay+) public key. */
  verified: boolean;
  answer: Answer['kind'];
}

/** How the receiver answers one call. */
export type Answer =
  | { kind: 'ack' }
  | { kind: 'http500' }
  | { kind: 'unsigned_ack' }
  | { kind: 'hang' }
  /** A signed result other than S: the acquirer decided against the call (F) or could not decide (U). */
  | { kind: 'result'; code: ResultCode };

/**
 * A stand-in for the acquirer's dispute endpoints: a real HTTP server that verifies each signed
 * dispute call with the sandbox's public key and answers with a result signed by the gateway's key,
 * as the gateway does. A call that does not verify is answered `F / INVALID_SIGNATURE` (signed).
 * Like the gateway, it remembers each disputeRequestId's paymentRequestId and answers a conflicting
 * one `F / REPEAT_REQ_INCONSISTENT`. It can be told how to answer its next calls.
 */
export class DisputeReceiver {
  readonly calls: ReceivedDisputeCall[] = [];
  private readonly planned: Answer[] = [];
  private readonly known = new Map<string, string>();
  private readonly receiver = new SignedReceiver({ privateKey: keys.gatewayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.alipayPublic } });
  private baseUrl = '';

  private constructor(private readonly server: Server) {}

  static async start(): Promise<DisputeReceiver> {
    const server = createServer();
    const receiver = new DisputeReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => receiver.answer(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return receiver;
  }

  notifyUrl(): string {
    return this.baseUrl + NOTIFY_PATH;
  }

  /** Answers the next calls in this order (then `ack` again). */
  plan(...answers: Answer[]): void {
    this.planned.push(...answers);
  }

  reset(): void {
    this.planned.length = 0;
  }

  forDispute(disputeRequestId: string): ReceivedDisputeCall[] {
    return this.calls.filter((call) => call.body?.disputeRequestId === disputeRequestId);
  }

  async waitFor(disputeRequestId: string, count: number, timeoutMs = 5000): Promise<ReceivedDisputeCall[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.forDispute(disputeRequestId).length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} call(s) for ${disputeRequestId}, got ${this.forDispute(disputeRequestId).length}`);
      await sleep(10);
    }
    return this.forDispute(disputeRequestId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(path: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse): void {
    const inbound = this.receiver.verifyRequest(path, headers, raw);
    let body: unknown = null;
    try {
      body = JSON.parse(raw);
    } catch {
      body = null;
    }
    const api = path.split('/').pop() ?? '';
    if (!inbound.ok) {
      this.calls.push({ api, path, raw, headers, body, verified: false, answer: 'result' });
      return this.send(res, 200, this.receiver.reply(path, CLIENT_ID, { result: inbound.result }));
    }
    const planned = this.planned.shift() ?? this.idempotency(api, inbound.body);
    this.calls.push({ api, path, raw, headers, body, verified: true, answer: planned.kind });
    switch (planned.kind) {
      case 'ack':
        return this.send(res, 200, this.receiver.acknowledge(path, CLIENT_ID));
      case 'http500':
        return this.send(res, 500, { headers: { 'Content-Type': 'text/plain' }, body: 'database unavailable' });
      case 'unsigned_ack':
        return this.send(res, 200, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ result: result('SUCCESS') }) });
      case 'result':
        return this.send(res, 200, this.receiver.reply(path, CLIENT_ID, { result: result(planned.code) }));
      case 'hang':
        return;
    }
  }

  /** The gateway's rule: a disputeRequestId seen before must come with the same paymentRequestId. */
  private idempotency(api: string, body: Record<string, unknown>): Answer {
    if (api !== 'initiateRetrieval' && api !== 'initiateEscalation') return { kind: 'ack' };
    const id = String(body.disputeRequestId);
    const paymentRequestId = String(body.paymentRequestId);
    const seen = this.known.get(id);
    if (seen !== undefined && seen !== paymentRequestId) return { kind: 'result', code: 'REPEAT_REQ_INCONSISTENT' };
    this.known.set(id, paymentRequestId);
    return { kind: 'ack' };
  }

  private send(res: ServerResponse, status: number, reply: { headers: object; body: string }): void {
    res.writeHead(status, { ...(reply.headers as Record<string, string>) });
    res.end(reply.body);
  }
}

/**
 * The control-API calls the sandbox dispute tests make, bound to one sandbox and its stand-in
 * acquirer: a paid payment whose own notifyPayment has already gone out (so only dispute calls
 * remain due), and open / view / judge. Getters, because the harnesses start in `before`.
 */
export function disputeControls(sandbox: () => SandboxHarness, acquirer: () => DisputeReceiver) {
  const h = {
    get client() { return sandbox().client; },
    get sandbox() { return sandbox().sandbox; },
    walletPay: (...args: Parameters<SandboxHarness['walletPay']>) => sandbox().walletPay(...args),
    control: (...args: Parameters<SandboxHarness['control']>) => sandbox().control(...args),
  };
  return {
    async paidPayment(value = '10000'): Promise<{ paymentId: string; paymentRequestId: string }> {
      const request = payRequest({ notifyUrl: acquirer().notifyUrl(), value });
      const created = await h.client.pay(request);
      assert.equal((await h.walletPay({ paymentId: created.paymentId, outcome: 'success' })).status, 200);
      await h.sandbox.notifier.runDue();
      return { paymentId: created.paymentId as string, paymentRequestId: request.paymentRequestId };
    },
    open: (paymentId: string, body: unknown) => h.control('POST', `/sandbox/v1/payments/${paymentId}/disputes`, body),
    view: async (disputeId: string) => (await h.control('GET', `/sandbox/v1/disputes/${disputeId}`)).body,
    judge: (disputeId: string, outcome: string) => h.control('POST', `/sandbox/v1/disputes/${disputeId}/judge`, { outcome }),
  };
}
