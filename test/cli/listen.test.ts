import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { api, startTestGateway, type TestGateway } from '../support/gateway-server.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('zhifu listen --forward-to', () => {
  let gateway: TestGateway;
  let app: Server;
  let appUrl: string;
  const received: Received[] = [];

  before(async () => {
    gateway = await startTestGateway();
    // The merchant's local app: records what listen forwards to it.
    app = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/webhooks`;
  });
  after(async () => {
    await gateway.stop();
    await new Promise((resolve) => app.close(resolve));
  });

  it('registers a temporary endpoint, prints and forwards each event with a fresh valid signature, removes the endpoint on exit', async () => {
    const child: ChildProcess = spawn(process.execPath, [CLI, 'listen', '--forward-to', appUrl, '--api-key', gateway.secretKey, '--gateway', gateway.url], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const secret = await until(() => /signing secret is (whsec_\w+)/.exec(output)?.[1], `listen to be ready:\n${output}`);

    const listed = await api(gateway, 'GET', '/v1/webhook_endpoints', { key: gateway.secretKey });
    const endpoint = listed.body.data.find((e: { description: string }) => e.description === 'zhifu listen (temporary)');
    assert.ok(endpoint, listed.text);
    assert.deepEqual(endpoint.enabled_events, ['*']);

    const created = await api(gateway, 'POST', '/v1/payment_intents', { key: gateway.secretKey, json: { amount: 1234, currency: 'hkd' } });
    assert.equal(created.status, 200, created.text);
    const forwarded = await until(() => received.find((r) => r.body.includes(created.body.id)), 'the event to be forwarded');

    const stripe = new Stripe('sk_test_unused');
    const event = stripe.webhooks.constructEvent(forwarded.body, forwarded.headers['stripe-signature'] as string, secret);
    assert.equal(event.type, 'payment_intent.created');
    assert.equal((event.data.object as { id: string; amount: number }).amount, 1234);
    assert.equal(forwarded.headers['wooshpay-signature'], forwarded.headers['stripe-signature']);
    await until(() => (/<--\s+\[200\] POST/.test(output) ? true : undefined), 'the progress line');
    assert.match(output, new RegExp(`--> payment_intent\\.created \\[${event.id}\\]`));

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    const gone = await api(gateway, 'GET', `/v1/webhook_endpoints/${endpoint.id}`, { key: gateway.secretKey });
    assert.equal(gone.status, 404);
  });

  it('refuses a live or missing key with a clear message', async () => {
    const child = spawn(process.execPath, [CLI, 'listen', '--forward-to', appUrl, '--api-key', 'sk_live_x', '--gateway', gateway.url], { env: { PATH: process.env.PATH } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /listen needs a test secret key/);
  });
});
