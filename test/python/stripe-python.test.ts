import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AlipayPlusClient } from '../../src/alipayplus/index.js';
import { E2E_CLIENT_ID, attemptsOf, chargesOf, startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { api } from '../support/gateway-server.js';
import { fixtureKeys } from '../support/keys.js';
import { payRequest } from '../support/sandbox-harness.js';

/**
 * Debian's python3-stripe (the official Stripe Python library, installed by apt; CI's .ci/run
 * installs it) against a real gateway paying through the real sandbox, both listening on
 * ephemeral ports, with a webhook receiver the script reads deliveries back from. The script
 * (test/python/stripe_smoke.py) reports each step; this test checks the report and, from the
 * gateway's own store, that what the script saw is what happened.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../../test/python/stripe_smoke.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 120_000;

interface StepReport {
  name: string;
  ok: boolean;
  detail?: Record<string, unknown>;
  error?: string;
  http_status?: number;
  code?: string;
  param?: string;
}

interface Delivery {
  body: string;
  signature: string;
}

/** Records each webhook delivery's raw body and Stripe-Signature header; GET returns them as JSON. */
async function startWebhookReceiver(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(deliveries));
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      deliveries.push({ body, signature: String(req.headers['stripe-signature'] ?? '') });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
    },
  };
}

function runPython(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("Debian's python3-stripe against Zhifu (gateway + sandbox as real servers)", () => {
  let stack: PaymentStack;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  before(async () => {
    stack = await startPaymentStack();
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  it('runs the smoke script: pay, refund twice, auto-page, expand, a verified webhook and the error classes', { timeout: SCRIPT_TIMEOUT_MS + 30_000 }, async (t) => {
    assert.ok(existsSync(PYTHON), `${PYTHON} is missing (apt install python3-stripe)`);
    // A PaymentIntent whose confirm Alipay+ refuses: the sandbox already holds its first
    // paymentRequestId for another amount, so the pay answers F / REPEAT_REQ_INCONSISTENT (402).
    const key = stack.gateway.secretKey;
    const declined = await api(stack.gateway, 'POST', '/v1/payment_intents', { key, json: { amount: 700, currency: 'CNY', payment_method_data: { type: 'alipay' }, return_url: 'https://shop.test/r' } });
    assert.equal(declined.status, 200, declined.text);
    const keys = fixtureKeys();
    const client = new AlipayPlusClient({ baseUrl: stack.sandbox.url(), clientId: E2E_CLIENT_ID, privateKey: keys.gatewayPrivatePem, alipayPublicKey: keys.alipayPublicPem });
    try {
      assert.equal((await client.pay(payRequest({ paymentRequestId: `${declined.body.id}_1`, value: '999' }))).result.resultCode, 'PAYMENT_IN_PROCESS');
    } finally {
      await client.close();
    }

    const run = await runPython({
      ZHIFU_API_BASE: stack.gateway.url,
      ZHIFU_SECRET_KEY: key,
      ZHIFU_SANDBOX_URL: stack.sandbox.url(),
      ZHIFU_WEBHOOK_URL: receiver.url,
      ZHIFU_DECLINE_PAYMENT_INTENT: declined.body.id,
    });
    const lastLine = run.stdout.trim().split('\n').at(-1) ?? '';
    let report: { library: string; steps: StepReport[] };
    try {
      report = JSON.parse(lastLine) as typeof report;
    } catch {
      assert.fail(`no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
    for (const s of report.steps) t.diagnostic(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} ${JSON.stringify(s.ok ? s.detail : { error: s.error, http_status: s.http_status, code: s.code, param: s.param })}`);
    assert.match(report.library, /^stripe-python 5\./);
    const byName = new Map(report.steps.map((s) => [s.name, s]));
    const expected = [
      'webhook_endpoint', 'confirm_true', 'create_then_confirm', 'pay_in_sandbox', 'wait_succeeded', 'refund_twice',
      'refund_beyond_charge_is_invalid_request', 'auto_paging', 'expand_latest_charge', 'webhook_construct_event',
      'error_invalid_request_param', 'error_resource_missing', 'error_authentication', 'error_idempotency', 'error_card_declined',
    ];
    assert.deepEqual(report.steps.map((s) => s.name), expected);
    for (const s of report.steps) assert.equal(s.ok, true, `step ${s.name} failed: ${JSON.stringify(s)}\n${run.stderr}`);
    assert.equal(run.code, 0, run.stderr);

    // What the script saw, checked against the gateway's own records.
    const paidId = String(byName.get('wait_succeeded')!.detail!.id);
    const charges = await chargesOf(stack, paidId);
    assert.deepEqual(charges.map((c) => [c.amount, c.amount_refunded, c.status]), [[20, 20, 'succeeded']]);
    const refunds = await stack.gateway.database.db.selectFrom('refunds').select(['amount', 'status']).where('charge_id', '=', charges[0]!.id).orderBy('created').execute();
    assert.deepEqual(refunds.map((r) => [r.amount, r.status]), [[5, 'succeeded'], [15, 'succeeded']]);
    assert.deepEqual((await attemptsOf(stack, paidId)).map((a) => a.status), ['succeeded']);
    assert.ok(Number(byName.get('auto_paging')!.detail!.listed) > 100);
    const verified = byName.get('webhook_construct_event')!.detail!;
    const delivered = receiver.deliveries.map((d) => JSON.parse(d.body) as { id: string; type: string });
    assert.ok(delivered.some((e) => e.id === verified.event && e.type === 'payment_intent.succeeded'), 'the event the script verified is one the gateway delivered');
    assert.equal(byName.get('error_card_declined')!.detail!.decline_code, 'REPEAT_REQ_INCONSISTENT');
  });
});
