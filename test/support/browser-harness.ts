import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// jsqr is CommonJS with an ES-style `default` in its types: the function is `.default` of module.exports.
import jsQRModule from 'jsqr';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { AlipayPlusClient, formatDateTime, type PayRequest, type PayResponse, type TerminalType } from '../../src/alipayplus/index.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { fixtureKeys } from './keys.js';

/**
 * What the browser tests share: Debian's Chromium (never a downloaded browser), a real sandbox on
 * an ephemeral port with its own SQLite file, a real signed Alipay+ client, and a stand-in for
 * the merchant's site that paymentRedirectUrl points at.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
export const CLIENT_ID = '2022091453683376';
const ARTIFACTS_DIR = fileURLToPath(new URL('../../../test-artifacts/browser/', import.meta.url));

/** Launches Chromium; a failure to start propagates, so the tests fail rather than skip. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Opens a URL in a new tab of the context and requires it to answer 200. */
export async function openPageIn(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  const response = await page.goto(url);
  if (response?.status() !== 200) throw new Error(`${url} answered ${response?.status()}`);
  return page;
}

/** A clock the test moves by hand, so expiry is tested without waiting 14 minutes. */
export class ManualClock {
  constructor(public nowMs = Date.now()) {}
  now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export interface SandboxHarness {
  sandbox: Sandbox;
  url: string;
  client: AlipayPlusClient;
  close(): Promise<void>;
}

export async function startSandbox(clock?: ManualClock): Promise<SandboxHarness> {
  const keys = fixtureKeys();
  const dir = mkdtempSync(join(tmpdir(), 'zhifu-browser-'));
  const sandbox = createSandbox({
    databasePath: join(dir, 'sandbox.sqlite'),
    privateKey: keys.alipayPrivatePem,
    clients: { [CLIENT_ID]: keys.gatewayPublicPem },
    port: 0,
    ...(clock ? { clock } : {}),
  });
  const url = await sandbox.listen();
  const client = new AlipayPlusClient({ baseUrl: url, clientId: CLIENT_ID, privateKey: keys.gatewayPrivatePem, alipayPublicKey: keys.alipayPublicPem, ...(clock ? { now: clock.now } : {}) });
  return {
    sandbox,
    url,
    client,
    async close() {
      await client.close();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface MerchantSite {
  url: string;
  /** Paths (with query) the browser was sent to. */
  visits: string[];
  close(): Promise<void>;
}

/** The merchant's return page: records each visit and answers with a small HTML page. */
export async function startMerchantSite(): Promise<MerchantSite> {
  const visits: string[] = [];
  const server: Server = createServer((request, response) => {
    visits.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Merchant</title><h1 id="merchant-return">Thanks for your order</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    visits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface PaymentSpec {
  terminalType: TerminalType;
  redirectUrl?: string;
  merchantName?: string;
  description?: string;
  currency?: string;
  amountMinor?: number;
  /** Absolute expiry (epoch ms); the sandbox's default of 14 minutes otherwise. */
  expiresAtMs?: number;
}

/** A signed pay request through the real client; resolves with the verified PAYMENT_IN_PROCESS response. */
export function createPayment(client: AlipayPlusClient, spec: PaymentSpec): Promise<PayResponse> {
  const amount = { currency: spec.currency ?? 'CNY', value: String(spec.amountMinor ?? 20) };
  const request: PayRequest = {
    paymentRequestId: `browser-${randomUUID()}`,
    paymentAmount: amount,
    order: {
      referenceOrderId: `order-${randomUUID().slice(0, 8)}`,
      orderDescription: spec.description ?? 'Green tea 绿茶 ×1',
      orderAmount: amount,
      merchant: { referenceMerchantId: 'M0001', merchantName: spec.merchantName ?? '茶馆 Tea House', merchantMCC: '5812' },
      env: spec.terminalType === 'WEB' ? { terminalType: 'WEB' } : { terminalType: spec.terminalType, osType: 'IOS' },
    },
    paymentFactor: { isCashierPayment: 'true' },
    paymentMethod: { paymentMethodType: 'ALIPAY_CN' },
    settlementStrategy: { settlementCurrency: 'HKD' },
  };
  if (spec.redirectUrl) request.paymentRedirectUrl = spec.redirectUrl;
  if (spec.expiresAtMs !== undefined) request.paymentExpiryTime = formatDateTime(spec.expiresAtMs);
  return client.pay(request);
}

export function codeValueOf(response: PayResponse): string {
  const code = response.orderCodeForm?.codeDetails[0]?.codeValue;
  if (!code) throw new Error('pay response has no orderCodeForm code value');
  return code;
}

/** Saves a full-page screenshot under test-artifacts/browser/ (git-ignored) for a human to look at. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

/** Screenshots an element and decodes the QR code in it, as a phone's camera would from the screen. */
export async function decodeQrFrom(element: Locator, artifactName: string): Promise<string | null> {
  const png = await element.screenshot();
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  writeFileSync(join(ARTIFACTS_DIR, `${artifactName}.png`), png);
  const image = PNG.sync.read(png);
  const decoded = jsQRModule.default(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height);
  return decoded?.data ?? null;
}
