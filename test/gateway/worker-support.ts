import assert from 'node:assert/strict';
import { seedWebRequest } from '../support/gateway-server.js';
import { ManualClock } from '../support/sandbox-harness.js';
import { attemptsOf, startPaymentStack, type PaymentStack, type PaymentStackOptions } from '../support/e2e-harness.js';
import type { GatewayWorker } from '../../src/gateway/index.js';

/**
 * Worker tests run the real sandbox and gateway on one manual clock, with the worker's loop off:
 * each test moves the clock and runs a pass itself, so every schedule is exact and no test sleeps.
 */
export interface WorkerStack {
  stack: PaymentStack;
  clock: ManualClock;
  /** The running gateway's worker (a new one after a restart). */
  worker(): GatewayWorker;
}

export async function startWorkerStack(options: PaymentStackOptions = {}): Promise<WorkerStack> {
  const clock = new ManualClock();
  const stack = await startPaymentStack({ clock, worker: { autoStart: false }, ...options });
  return {
    stack,
    clock,
    worker() {
      const worker = stack.gateway.running.worker;
      if (worker === null) throw new Error('the gateway runs no worker');
      return worker;
    },
  };
}

/** The seed's WEB request, confirmed: a PaymentIntent in requires_action with its cashier QR code. */
export async function requiresAction(stack: PaymentStack): Promise<{ id: string; codeValue: string; paymentId: string }> {
  const created = await stack.createPaymentIntent(seedWebRequest());
  assert.equal(created.status, 200, created.text);
  assert.equal(created.body.status, 'requires_action', created.text);
  const [attempt] = await attemptsOf(stack, created.body.id);
  return { id: created.body.id, codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data, paymentId: attempt!.external_payment_id! };
}

export async function addFault(stack: PaymentStack, fault: { target: string; kind: string; count: number; delayMs?: number }): Promise<void> {
  const added = await stack.control('POST', '/sandbox/v1/faults', fault);
  assert.equal(added.status, 201, added.text);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the sandbox's control API JSON
export async function sandboxPayment(stack: PaymentStack, paymentId: string): Promise<any> {
  const got = await stack.control('GET', `/sandbox/v1/payments/${paymentId}`);
  assert.equal(got.status, 200, got.text);
  return got.body;
}
