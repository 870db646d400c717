import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AlipayPlusGateway } from '../../src/gateway/connector/alipayplus/modes.js';
import type { Clock, GatewayConfig, GatewayWorkerOptions } from '../../src/gateway/index.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { NotifierOptions } from '../../src/sandbox/notifier/notifier.js';
import { api, startTestGateway, type ApiResponse, type TestGateway } from './gateway-server.js';
import { fixtureKeys } from './keys.js';
import type { ChargeRow, PaymentAttemptRow } from '../../src/gateway/store/schema.js';

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
  /**
   * The gateways the sandbox accepts (Client-Id → public key PEM); default: this gateway's real
   * key. A misconfigured pairing (a wrong key) makes every call answer F / INVALID_SIGNATURE.
   */
  sandboxClients?: Record<string, string>;
  /** Pause before the connector's n-th re-send is n × this (default 10 ms, to keep tests fast). */
  resendBackoffMs?: number;
  /** The gateway's attempt worker (default: started, polling every 500 ms); false: none. */
  worker?: GatewayWorkerOptions | false;
  /** Settings for the gateway over the test defaults (e.g. `metricsToken`). */
  config?: Partial<GatewayConfig>;
}

export async function startPaymentStack(options: PaymentStackOptions = {}): Promise<PaymentStack> {
  const keys = fixtureKeys();
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-e2e-'));
  const sandboxDatabasePath = options.sandboxDatabasePath ?? path.join(dir, 'sandbox.db');
  const sandbox = createSandbox({
    databasePath: sandboxDatabasePath,
    privateKey: keys.alipayPrivatePem,
    clients: options.sandboxClients ?? { [E2E_CLIENT_ID]: keys.gatewayPublicPem },
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
    { resendBackoffMs: options.resendBackoffMs ?? 10 },
  );
  const gateway = await startTestGateway({ alipayPlus, ...(options.clock ? { clock: options.clock } : {}), ...(options.worker === undefined ? {} : { worker: options.worker }), ...(options.config ? { config: options.config } : {}) });
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

/** Polls `check` until it returns something truthy, or throws naming `what` after the deadline. */
export async function waitUntil<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** GET /v1/payment_intents/:id with the default secret key; the body. */
export async function retrieveIntent(stack: PaymentStack, id: string): Promise<ApiResponse['body']> {
  const got = await api(stack.gateway, 'GET', `/v1/payment_intents/${id}`, { key: stack.gateway.secretKey });
  if (got.status !== 200) throw new Error(`retrieve ${id}: HTTP ${got.status} ${got.text}`);
  return got.body;
}

/** Waits until the PaymentIntent has `status` (throws with the last status seen otherwise). */
export async function waitForIntentStatus(stack: PaymentStack, id: string, status: string, timeoutMs = 5000): Promise<ApiResponse['body']> {
  let last = '';
  try {
    return await waitUntil(async () => {
      const intent = await retrieveIntent(stack, id);
      last = intent.status;
      return intent.status === status ? intent : null;
    }, `${id} to become ${status}`, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message} (last status ${last})`);
  }
}

/**
 * The code value of a `requires_action` PaymentIntent, read as a shopper's phone would: the QR
 * code (WEB), or the `qrcode` of the alipays:// link, bare or inside the app-link launcher (WAP/APP).
 */
export function codeValueOf(intent: { next_action: { alipay_handle_redirect: { url: string; native_url: string | null; qr_code: { data: string } | null } } }): string {
  const redirect = intent.next_action.alipay_handle_redirect;
  if (redirect.qr_code) return redirect.qr_code.data;
  const fromLink = (link: string | null | undefined): string | null => {
    if (!link) return null;
    const url = new URL(link);
    return url.searchParams.get('qrcode') ?? fromLink(url.searchParams.get('scheme'));
  };
  const code = fromLink(redirect.native_url) ?? fromLink(redirect.url);
  if (!code) throw new Error(`no code value in ${JSON.stringify(redirect)}`);
  return code;
}

/** The shopper acts in the wallet (the sandbox control API's wallet/pay). */
export function payInWallet(
  stack: PaymentStack,
  action: { codeValue?: string; paymentId?: string; outcome?: 'success' | 'decline'; shopper?: string; resultCode?: string },
): Promise<ApiResponse> {
  return stack.control('POST', '/sandbox/v1/wallet/pay', { outcome: 'success', ...action });
}

/** The gateway's payment attempts of one PaymentIntent, oldest first (read from its store). */
export function attemptsOf(stack: PaymentStack, paymentIntentId: string): Promise<PaymentAttemptRow[]> {
  return stack.gateway.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', paymentIntentId).orderBy('payment_request_id').execute();
}

/** The Charges of one PaymentIntent (read from the gateway's store). */
export function chargesOf(stack: PaymentStack, paymentIntentId: string): Promise<ChargeRow[]> {
  return stack.gateway.database.db.selectFrom('charges').selectAll().where('payment_intent_id', '=', paymentIntentId).execute();
}

/**
 * The types of the Events written about a PaymentIntent and its Charges, oldest first (read from
 * the gateway's `events` table: event ids are time-ordered).
 */
export async function eventTypesOf(stack: PaymentStack, paymentIntentId: string): Promise<string[]> {
  const rows = await stack.gateway.database.db.selectFrom('events').select(['id', 'type', 'data']).orderBy('id').execute();
  return rows
    .filter((row) => {
      const object = (JSON.parse(row.data) as { object: { id: string; payment_intent?: string } }).object;
      return object.id === paymentIntentId || object.payment_intent === paymentIntentId;
    })
    .map((row) => row.type);
}

/** The sandbox's payments for a PaymentIntent's attempts (`<pi>_<n>` request ids), from its store. */
export function sandboxPaymentIdsOf(stack: PaymentStack, paymentIntentId: string): string[] {
  const rows = stack.sandbox.context.db
    .prepare('SELECT payment_id, payment_request_id FROM payments WHERE payment_request_id LIKE ? ORDER BY payment_request_id')
    .all(`${paymentIntentId}%`) as { payment_id: string; payment_request_id: string }[];
  return rows.filter((row) => row.payment_request_id.startsWith(`${paymentIntentId}_`)).map((row) => row.payment_id);
}
