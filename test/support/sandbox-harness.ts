import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import {
  AlipayPlusClient,
  API_PATHS,
  SignedReceiver,
  formatDateTime,
  result,
  signedHeaders,
  verifySignedMessage,
  type NotifyPaymentRequest,
  type PayRequest,
  type TerminalType,
} from '../../src/alipayplus/index.js';
import type { Clock } from '../../src/sandbox/clock.js';
import type { NotifierOptions } from '../../src/sandbox/notifier/notifier.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { fixtureKeys } from './keys.js';

export const keys = fixtureKeys();
/** The acquirer (gateway) Client-Id the test sandbox accepts. */
export const CLIENT_ID = '2022091453683376';
/** 2026-11-26T12:00:00+08:00: a fixed, mid-day start so cancel-window arithmetic is predictable. */
export const START_MS = Date.parse('2026-11-26T04:00:00Z');

/** A clock the test moves by hand: expiries, windows and notification retries without sleeping. */
export class ManualClock implements Clock {
  constructor(private ms: number = START_MS) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

export interface SandboxHarnessOptions {
  clock?: ManualClock;
  notifier?: NotifierOptions;
  clientTimeoutMs?: number;
}

export interface ControlResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
}

/** A sandbox on an ephemeral port over a temporary SQLite file, with a client for it. */
export class SandboxHarness {
  sandbox!: Sandbox;
  client!: AlipayPlusClient;
  url = '';
  readonly clock: ManualClock;
  readonly dir = mkdtempSync(join(tmpdir(), 'zhifu-sandbox-'));
  readonly databasePath = join(this.dir, 'sandbox.db');

  private constructor(private readonly options: SandboxHarnessOptions) {
    this.clock = options.clock ?? new ManualClock();
  }

  static async start(options: SandboxHarnessOptions = {}): Promise<SandboxHarness> {
    const harness = new SandboxHarness(options);
    await harness.open();
    return harness;
  }

  private async open(): Promise<void> {
    this.sandbox = createSandbox({
      databasePath: this.databasePath,
      privateKey: keys.alipayPrivatePem,
      clients: { [CLIENT_ID]: keys.gatewayPublicPem },
      port: 0,
      clock: this.clock,
      notifier: this.options.notifier,
    });
    this.url = await this.sandbox.listen();
    this.client = this.newClient();
  }

  newClient(overrides: { timeoutMs?: number } = {}): AlipayPlusClient {
    return new AlipayPlusClient({
      baseUrl: this.url,
      clientId: CLIENT_ID,
      privateKey: keys.gatewayPrivate,
      alipayPublicKey: keys.alipayPublic,
      timeoutMs: overrides.timeoutMs ?? this.options.clientTimeoutMs,
      now: () => this.clock.now(),
    });
  }

  /** Closes the sandbox and opens a new one over the same SQLite file (a process restart). */
  async restart(): Promise<void> {
    await this.client.close();
    await this.sandbox.close();
    await this.open();
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.sandbox.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async control(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<ControlResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const response = await request(this.url + path, {
      method,
      body: payload,
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: text ? JSON.parse(text) : null };
  }

  /** Presses Pay (or Decline) in the wallet through the control API. */
  walletPay(body: Record<string, unknown>): Promise<ControlResponse> {
    return this.control('POST', '/sandbox/v1/wallet/pay', body);
  }

  async payment(paymentId: string): Promise<ControlResponse['body']> {
    const response = await this.control('GET', `/sandbox/v1/payments/${paymentId}`);
    if (response.status !== 200) throw new Error(`payment ${paymentId}: HTTP ${response.status}`);
    return response.body;
  }

  addFault(fault: Record<string, unknown>): Promise<ControlResponse> {
    return this.control('POST', '/sandbox/v1/faults', fault);
  }

  /** POSTs `body` to a protocol path exactly as given, signed with `privateKey` (default: the gateway's). */
  signedPost(path: string, body: string, options: { clientId?: string; privateKey?: typeof keys.gatewayPrivate; headers?: Record<string, string> } = {}) {
    const headers = signedHeaders({ kind: 'request', path, clientId: options.clientId ?? CLIENT_ID, body, privateKey: options.privateKey ?? keys.gatewayPrivate, nowMs: this.clock.now() });
    return rawPost(this.url + path, body, { ...headers, ...options.headers });
  }
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Whether the response is signed by the sandbox (Alipay+) key for our client id. */
  signedByAlipay: boolean;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
}

export async function rawPost(url: string, body: string, headers: Record<string, string>): Promise<RawResponse> {
  const response = await request(url, { method: 'POST', body, headers });
  const text = await response.body.text();
  const path = new URL(url).pathname;
  const verified = verifySignedMessage({ kind: 'response', path, headers: response.headers, body: text, publicKeyFor: (id) => (id === CLIENT_ID ? keys.alipayPublic : undefined) });
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.statusCode, headers: response.headers as IncomingHttpHeaders, text, signedByAlipay: verified.ok, json };
}

let requestSeq = 0;
export function uniqueId(prefix: string): string {
  requestSeq += 1;
  return `${prefix}_${process.pid}_${Date.now()}_${requestSeq}`;
}

export interface PayRequestOptions {
  paymentRequestId?: string;
  currency?: string;
  value?: string;
  terminalType?: TerminalType;
  osType?: 'IOS' | 'ANDROID';
  settlementCurrency?: string;
  notifyUrl?: string;
  redirectUrl?: string;
  expiryTime?: string;
  paymentMethodType?: string;
}

/** A valid cashier pay request; each option overrides one field. */
export function payRequest(options: PayRequestOptions = {}): PayRequest {
  const currency = options.currency ?? 'CNY';
  const value = options.value ?? '12345';
  const terminalType = options.terminalType ?? 'WEB';
  const request: PayRequest = {
    paymentRequestId: options.paymentRequestId ?? uniqueId('pay'),
    paymentAmount: { currency, value },
    order: {
      referenceOrderId: uniqueId('order'),
      orderDescription: 'Green tea, 2 boxes',
      orderAmount: { currency, value },
      merchant: { referenceMerchantId: 'M0001', merchantName: 'Tea House', merchantMCC: '5499', merchantDisplayName: 'Tea House London' },
      env: terminalType === 'WEB' ? { terminalType } : { terminalType, osType: options.osType ?? 'IOS' },
    },
    paymentFactor: { isCashierPayment: 'true' },
    paymentMethod: { paymentMethodType: options.paymentMethodType ?? 'ALIPAY_CN' },
    paymentRedirectUrl: options.redirectUrl ?? 'https://shop.example/return',
    settlementStrategy: { settlementCurrency: options.settlementCurrency ?? 'GBP' },
  };
  if (options.notifyUrl) request.paymentNotifyUrl = options.notifyUrl;
  if (options.expiryTime) request.paymentExpiryTime = options.expiryTime;
  return request;
}

export function isoAt(ms: number): string {
  return formatDateTime(ms);
}

export interface ReceivedNotification {
  path: string;
  raw: string;
  headers: IncomingHttpHeaders;
  body: NotifyPaymentRequest;
  /** Whether the notification's signature verified with the sandbox's (Alipay+) public key. */
  verified: boolean;
  /** What this receiver answered. */
  answer: 'ack' | FailureMode;
  receivedAtMs: number;
}

/** How the receiver misbehaves on a failing turn. */
export type FailureMode = 'http500' | 'unsigned_ack' | 'wrong_key_ack' | 'result_f' | 'hang';

/**
 * A gateway's notification endpoint: a real HTTP server that verifies each signed notifyPayment
 * with the sandbox's public key and answers with an acknowledgement signed by the gateway key.
 * It can be told to fail its next N answers.
 */
export class NotificationReceiver {
  readonly received: ReceivedNotification[] = [];
  private failures: Array<{ mode: FailureMode; paymentId: string | undefined }> = [];
  private readonly receiver = new SignedReceiver({ privateKey: keys.gatewayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.alipayPublic } });
  private readonly wrongKeyReceiver = new SignedReceiver({ privateKey: keys.alipayPrivate, peerPublicKeys: { [CLIENT_ID]: keys.alipayPublic } });
  connections = 0;
  /** Real-time wait before every answer, to observe how many sends run at once. */
  answerDelayMs = 0;
  inFlight = 0;
  inFlightMax = 0;
  private baseUrl = '';

  private constructor(private readonly server: Server) {}

  static async start(): Promise<NotificationReceiver> {
    const server = createServer();
    const receiver = new NotificationReceiver(server);
    server.on('connection', () => (receiver.connections += 1));
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      receiver.inFlight += 1;
      receiver.inFlightMax = Math.max(receiver.inFlightMax, receiver.inFlight);
      res.on('close', () => (receiver.inFlight -= 1));
      req.on('end', () => {
        const answer = () => receiver.answer(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res);
        if (receiver.answerDelayMs > 0) setTimeout(answer, receiver.answerDelayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return receiver;
  }

  url(path = '/alipayplus/notify'): string {
    return this.baseUrl + path;
  }

  /** Fails the next `count` notifications (only those of `paymentId`, when given). */
  failNext(count: number, mode: FailureMode = 'http500', paymentId?: string): void {
    for (let i = 0; i < count; i++) this.failures.push({ mode, paymentId });
  }

  private takeFailure(paymentId: string | undefined): FailureMode | null {
    const index = this.failures.findIndex((failure) => failure.paymentId === undefined || failure.paymentId === paymentId);
    if (index < 0) return null;
    const [failure] = this.failures.splice(index, 1);
    return failure?.mode ?? null;
  }

  forPayment(paymentId: string): ReceivedNotification[] {
    return this.received.filter((notification) => notification.body.paymentId === paymentId);
  }

  /** Waits (in real time) until `count` notifications for the payment arrived. */
  async waitFor(paymentId: string, count = 1, timeoutMs = 5000): Promise<ReceivedNotification[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.forPayment(paymentId).length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} notification(s) for ${paymentId}, got ${this.forPayment(paymentId).length}`);
      await sleep(10);
    }
    return this.forPayment(paymentId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(path: string, headers: IncomingHttpHeaders, raw: string, res: import('node:http').ServerResponse): void {
    const inbound = this.receiver.verifyRequest(path, headers, raw);
    const body = JSON.parse(raw) as NotifyPaymentRequest;
    const mode = inbound.ok ? this.takeFailure(body.paymentId) : null;
    this.received.push({ path, raw, headers, body, verified: inbound.ok, answer: mode ?? 'ack', receivedAtMs: Date.now() });
    if (!inbound.ok) return this.reply(res, 200, this.receiver.reply(path, CLIENT_ID, { result: inbound.result }));
    switch (mode) {
      case null:
        return this.reply(res, 200, this.receiver.acknowledge(path, CLIENT_ID));
      case 'http500':
        return this.reply(res, 500, { headers: { 'Content-Type': 'text/plain' }, body: 'database unavailable' });
      case 'unsigned_ack':
        return this.reply(res, 200, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ result: result('SUCCESS') }) });
      case 'wrong_key_ack':
        return this.reply(res, 200, this.wrongKeyReceiver.acknowledge(path, CLIENT_ID));
      case 'result_f':
        return this.reply(res, 200, this.receiver.reply(path, CLIENT_ID, { result: result('PROCESS_FAIL') }));
      case 'hang':
        return;
    }
  }

  private reply(res: import('node:http').ServerResponse, status: number, reply: { headers: object; body: string }): void {
    res.writeHead(status, { ...(reply.headers as Record<string, string>) });
    res.end(reply.body);
  }
}

export const PAY_PATH = API_PATHS.pay;

/** Polls `check` in real time until it returns a truthy value. */
export async function waitUntil<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits until the sandbox has recorded the given status for the payment's (first) notification. */
export function waitForNotificationStatus(harness: SandboxHarness, paymentId: string, status: string) {
  return waitUntil(async () => {
    const payment = await harness.payment(paymentId);
    return payment.notifications[0]?.status === status ? payment : null;
  }, `notification of ${paymentId} to become ${status}`);
}
