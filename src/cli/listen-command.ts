import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { request } from 'undici';
import { signatureHeader } from '../gateway/webhooks/signing.js';
import { verifySignatureHeader } from '../gateway/webhooks/verification.js';
import { onShutdown } from './sandbox-command.js';

const EVENT_BYTES_MAX = 1024 * 1024;
const FORWARD_TIMEOUT_MS = 10_000;

interface ListenOptions {
  forwardTo: string;
  apiKey?: string;
  gateway: string;
  events: string;
  host: string;
}

interface Endpoint {
  id: string;
  secret: string;
}

/**
 * `zhifu listen --forward-to <url>`, like `stripe listen`: a temporary test-mode webhook endpoint
 * pointing at this process, which prints each event and forwards it to a local app with a fresh
 * signature. The endpoint is removed on exit.
 */
export function registerListenCommand(program: Command): void {
  const port = process.env.ZHIFU_PORT?.trim() || '4242';
  program
    .command('listen')
    .description('receive test-mode events through a temporary webhook endpoint and forward them to a local URL')
    .requiredOption('--forward-to <url>', 'where to POST each event, e.g. http://localhost:3000/webhooks')
    .option('--api-key <key>', 'a test secret key (ZHIFU_TEST_SECRET_KEY)', process.env.ZHIFU_TEST_SECRET_KEY)
    .option('--gateway <url>', 'the gateway base URL (ZHIFU_PUBLIC_URL)', process.env.ZHIFU_PUBLIC_URL?.trim() || `http://127.0.0.1:${port}`)
    .option('--events <types>', 'comma-separated event types to receive', '*')
    .option('--host <host>', 'interface this command listens on for the gateway', '127.0.0.1')
    .action(async (options: ListenOptions) => listen(options));
}

async function listen(options: ListenOptions): Promise<void> {
  const apiKey = options.apiKey?.trim() ?? '';
  if (!apiKey.startsWith('sk_test_')) throw new Error('listen needs a test secret key: --api-key sk_test_… or ZHIFU_TEST_SECRET_KEY (it registers a test-mode endpoint)');
  if (!/^https?:\/\//.test(options.forwardTo)) throw new Error(`--forward-to must be an http(s) URL, got ${options.forwardTo}`);
  const gateway = options.gateway.replace(/\/+$/, '');
  const counts = { received: 0, forwarded: 0, failed: 0 };
  let endpoint: Endpoint | null = null;
  const server = createServer((req, res) => {
    if (!endpoint) return void res.writeHead(503).end();
    receive(req, res, endpoint, options.forwardTo, counts).catch((error: unknown) => {
      console.error(`${timestamp()}  could not handle a delivery: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  endpoint = await createEndpoint(gateway, apiKey, `http://${options.host}:${port}/webhooks`, options.events.split(',').map((type) => type.trim()).filter(Boolean));
  console.log(`Ready! Forwarding ${options.events} events from ${gateway} to ${options.forwardTo}`);
  console.log(`Your webhook signing secret is ${endpoint.secret} (^C to quit)`);
  const created = endpoint;
  onShutdown(() => removeEndpoint(gateway, apiKey, created, server));
}

async function receive(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, forwardTo: string, counts: Record<'received' | 'forwarded' | 'failed', number>): Promise<void> {
  const body = await readBody(req);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const header = req.headers['wooshpay-signature'];
  if (body === null || !verifySignatureHeader(endpoint.secret, Array.isArray(header) ? header[0] : header, body, nowSeconds)) {
    res.writeHead(400).end('signature does not verify');
    return;
  }
  const event = JSON.parse(body) as { id: string; type: string };
  counts.received += 1;
  console.log(`${timestamp()}   --> ${event.type} [${event.id}]`);
  const status = await forward(forwardTo, endpoint.secret, body);
  if (status !== null && status >= 200 && status < 300) counts.forwarded += 1;
  else counts.failed += 1;
  console.log(`${timestamp()}  <--  [${status ?? 'no answer'}] POST ${forwardTo} [${event.id}]  (${counts.forwarded} forwarded, ${counts.failed} failed of ${counts.received})`);
  // The gateway retries on its schedule when the local app did not take the event.
  res.writeHead(status !== null && status >= 200 && status < 300 ? 200 : 502).end();
}

/** Forwards the exact bytes with a fresh signature (t = now), as the gateway itself would. */
async function forward(url: string, secret: string, body: string): Promise<number | null> {
  const signature = signatureHeader(secret, Math.floor(Date.now() / 1000), body);
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'wooshpay-signature': signature, 'stripe-signature': signature },
      body,
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    await response.body.dump();
    return response.statusCode;
  } catch (error) {
    console.error(`${timestamp()}  forward failed: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

async function createEndpoint(gateway: string, apiKey: string, url: string, events: string[]): Promise<Endpoint> {
  const response = await request(`${gateway}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, enabled_events: events, description: 'zhifu listen (temporary)' }),
  });
  const payload = (await response.body.json()) as { id?: string; secret?: string; error?: { message?: string } };
  if (response.statusCode !== 200 || !payload.id || !payload.secret) {
    throw new Error(`could not register a webhook endpoint at ${gateway}: ${payload.error?.message ?? `HTTP ${response.statusCode}`}`);
  }
  return { id: payload.id, secret: payload.secret };
}

async function removeEndpoint(gateway: string, apiKey: string, endpoint: Endpoint, server: Server): Promise<void> {
  try {
    const response = await request(`${gateway}/v1/webhook_endpoints/${endpoint.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${apiKey}` } });
    await response.body.dump();
    console.log(`Removed webhook endpoint ${endpoint.id}`);
  } finally {
    server.close();
  }
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > EVENT_BYTES_MAX) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function timestamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}
