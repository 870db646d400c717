import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AlipayPlusGateway } from '../../src/gateway/connector/alipayplus/modes.js';
import type { Clock } from '../../src/gateway/index.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { NotifierOptions } from '../../src/sandbox/notifier/notifier.js';
import { api, startTestGateway, type ApiResponse, type TestGateway } from './gateway-server.js';
import { fixtureKeys } from './keys.js';

/** The Client-Id the test gateway has at the test sandbox. */
export const E2E_CLIENT_ID = '2026000000000042';

/**
 * The whole payment path for end-to-end tests: a real sandbox (own SQLite file) and a real
 * gateway (SQLite or PostgreSQL, see gateway-server.ts) paying through the real Alipay+
 * connector over signed HTTP. Nothing is faked; tests drive the shopper with the sandbox's
 * control API, as a person would with the wallet's buttons.
 */
export interface PaymentStack {
  gateway: TestGateway;
  sandbox: Sandbox;
  alipayPlus: AlipayPlusGateway;
  sandboxDatabasePath: string;
  /** POST/GET the sandbox's control API as JSON. */
  control(method: 'GET' | 'POST' | 'DELETE', pathAndQuery: string, json?: unknown): Promise<ApiResponse>;
  /** Creates a PaymentIntent (by default the seed's WEB request) with the default test key. */
  createPaymentIntent(body: Record<string, unknown>, headers?: Record<string, string>): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export interface PaymentStackOptions {
  /** One clock for both sides, so expiries agree. */
  clock?: Clock;
  /** The connector's Alipay+ client timeout (default 10 s; fault tests use less). */
  clientTimeoutMs?: number;
  notifier?: NotifierOptions;
  /** Reuse a sandbox database file (a restarted sandbox). */
  sandboxDatabasePath?: string;
}

export async function startPaymentStack(options: PaymentStackOptions = {}): Promise<PaymentStack> {
  const keys = fixtureKeys();
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-e2e-'));
  const sandboxDatabasePath = options.sandboxDatabasePath ?? path.join(dir, 'sandbox.db');
  const sandbox = createSandbox({
    databasePath: sandboxDatabasePath,
    privateKey: keys.alipayPrivatePem,
    clients: { [E2E_CLIENT_ID]: keys.gatewayPublicPem },
    port: 0,
    ...(options.clock ? { clock: options.clock } : {}),
    notifier: { pollIntervalMs: 50, ...options.notifier },
  });
  const sandboxUrl = await sandbox.listen();
  let gatewayUrl = '';
  const alipayPlus = new AlipayPlusGateway(
    {
      test: {
        baseUrl: sandboxUrl,
        clientId: E2E_CLIENT_ID,
        privateKey: keys.gatewayPrivatePem,
        alipayPublicKey: keys.alipayPublicPem,
        ...(options.clientTimeoutMs ? { timeoutMs: options.clientTimeoutMs } : {}),
      },
    },
    () => gatewayUrl,
    { resendBackoffMs: 10 },
  );
  const gateway = await startTestGateway({ alipayPlus, ...(options.clock ? { clock: options.clock } : {}) });
  gatewayUrl = gateway.url;
  return {
    gateway,
    sandbox,
    alipayPlus,
    sandboxDatabasePath,
    control: (method, pathAndQuery, json) => api({ url: sandboxUrl }, method, pathAndQuery, json === undefined ? {} : { json }),
    createPaymentIntent: (body, headers) => api(gateway, 'POST', '/v1/payment_intents', { key: gateway.secretKey, json: body, ...(headers ? { headers } : {}) }),
    async stop() {
      await gateway.stop();
      await alipayPlus.close();
      await sandbox.close();
      if (!options.sandboxDatabasePath) rmSync(dir, { recursive: true, force: true });
    },
  };
}
