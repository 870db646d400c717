import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { AlipayPlusClient, result, signedHeaders } from '../../src/alipayplus/index.js';
import { nodeWalSyncIo, WalGroupCommit, type WalSyncIo } from '../../src/gateway/store/durability.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { CLIENT_ID, keys, NotificationReceiver, PAY_PATH, payRequest, rawPost, waitUntil } from '../support/sandbox-harness.js';

/**
 * The sandbox with a group commit (as `zhifu sandbox` runs it): commits are not fsync'd inside
 * COMMIT, so every answer and every notification must wait for the fsync that covers it.
 * The WAL's fsync is held or failed here to see that nothing leaves the process before it.
 */
class HeldFsync implements WalSyncIo {
  readonly pending: Array<() => void> = [];
  hold = true;
  fail: Error | null = null;
  fsyncs = 0;
  inodeOf = nodeWalSyncIo.inodeOf;
  open = nodeWalSyncIo.open;
  close = nodeWalSyncIo.close;
  syncDirectory = nodeWalSyncIo.syncDirectory;

  async fsync(fd: number): Promise<void> {
    this.fsyncs += 1;
    if (this.fail) throw this.fail;
    if (this.hold) await new Promise<void>((resolve) => this.pending.push(resolve));
    await nodeWalSyncIo.fsync(fd);
  }

  release(): void {
    this.hold = false;
    for (const resolve of this.pending.splice(0)) resolve();
  }
}

describe('sandbox group commit: nothing leaves before its commit is durable', { timeout: 30_000 }, () => {
  let dir = '';
  let sandbox: Sandbox | null = null;
  let receiver: NotificationReceiver | null = null;
  let client: AlipayPlusClient | null = null;
  let held: HeldFsync | null = null;

  async function start(io: WalSyncIo = nodeWalSyncIo): Promise<string> {
    if (io instanceof HeldFsync) held = io;
    dir = mkdtempSync(join(tmpdir(), 'zhifu-sandbox-gc-'));
    receiver = await NotificationReceiver.start();
    sandbox = createSandbox({
      databasePath: join(dir, 'sandbox.db'),
      privateKey: keys.alipayPrivatePem,
      clients: { [CLIENT_ID]: keys.gatewayPublicPem },
      port: 0,
      notifier: { pollIntervalMs: 20 },
      groupCommit: (file, writtenSince) => new WalGroupCommit(file, writtenSince, io),
    });
    const url = await sandbox.listen();
    client = new AlipayPlusClient({ baseUrl: url, clientId: CLIENT_ID, privateKey: keys.gatewayPrivate, alipayPublicKey: keys.alipayPublic });
    return url;
  }

  async function control(url: string, method: 'GET' | 'POST', path: string, body?: unknown) {
    const response = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  afterEach(async () => {
    // A failed assertion may leave an fsync held: closing would wait for it forever.
    held?.release();
    held = null;
    await client?.close();
    await sandbox?.close().catch(() => {});
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
    sandbox = null;
    client = null;
    receiver = null;
  });

  it('commits without an fsync inside COMMIT, and a full payment works over HTTP and survives a restart', async () => {
    const url = await start();
    assert.equal(sandbox?.context.db.pragma('synchronous', { simple: true }), 1, 'synchronous = NORMAL: the barrier does the fsync');
    const request = payRequest({ notifyUrl: receiver?.url() });
    const created = await client!.pay(request);
    assert.deepEqual(created.result, result('PAYMENT_IN_PROCESS', 'payment in process'));
    const code = created.orderCodeForm?.codeDetails[0]?.codeValue as string;
    const pressed = await control(url, 'POST', '/sandbox/v1/wallet/pay', { codeValue: code, outcome: 'success' });
    assert.equal(pressed.status, 200);
    assert.equal(pressed.body.payment.status, 'SUCCESS');
    const [notification] = await receiver!.waitFor(created.paymentId as string);
    assert.equal(notification?.verified, true);
    assert.deepEqual(notification?.body.paymentResult, result('SUCCESS'));
    const inquiry = await client!.inquiryPayment({ paymentRequestId: request.paymentRequestId });
    assert.deepEqual(inquiry.paymentResult, result('SUCCESS'));

    await client!.close();
    await sandbox!.close();
    sandbox = createSandbox({
      databasePath: join(dir, 'sandbox.db'),
      privateKey: keys.alipayPrivatePem,
      clients: { [CLIENT_ID]: keys.gatewayPublicPem },
      port: 0,
      groupCommit: (file, writtenSince) => new WalGroupCommit(file, writtenSince),
    });
    const again = await sandbox.listen();
    client = new AlipayPlusClient({ baseUrl: again, clientId: CLIENT_ID, privateKey: keys.gatewayPrivate, alipayPublicKey: keys.alipayPublic });
    const afterRestart = await control(again, 'GET', `/sandbox/v1/payments/${created.paymentId}`);
    assert.equal(afterRestart.status, 200);
    assert.equal(afterRestart.body.status, 'SUCCESS');
    assert.equal(afterRestart.body.notifications[0]?.status, 'acknowledged');
  });

  it('answers pay and the wallet pay, and sends the notification, only once the fsync covering them has completed', async () => {
    const io = new HeldFsync();
    const url = await start(io);
    const request = payRequest({ notifyUrl: receiver?.url() });
    let payAnswered = false;
    const paying = client!.pay(request).then((answer) => {
      payAnswered = true;
      return answer;
    });
    await waitUntil(() => io.pending.length > 0, 'the barrier to fsync the pay commit');
    await sleep(100);
    assert.equal(payAnswered, false, 'pay was answered before its commit was fsync\'d');
    const stored = sandbox!.context.payments.findByClientAndPaymentRequestId(CLIENT_ID, request.paymentRequestId);
    assert.equal(stored?.status, 'PROCESSING', 'the payment is committed, waiting only for the fsync');
    io.release();
    const created = await paying;
    assert.deepEqual(created.result, result('PAYMENT_IN_PROCESS', 'payment in process'));

    io.hold = true;
    let walletAnswered = false;
    const pressing = control(url, 'POST', '/sandbox/v1/wallet/pay', { paymentId: created.paymentId, outcome: 'success' }).then((answer) => {
      walletAnswered = true;
      return answer;
    });
    await waitUntil(() => io.pending.length > 0, 'the barrier to fsync the wallet pay commit');
    await sleep(150);
    assert.equal(walletAnswered, false, 'the wallet pay was answered before its commit was fsync\'d');
    assert.equal(receiver!.received.length, 0, 'notifyPayment was sent before the payment\'s SUCCESS was fsync\'d');
    assert.equal(sandbox!.context.notifications.listByPaymentId(created.paymentId as string)[0]?.status, 'pending');
    io.release();
    const pressed = await pressing;
    assert.equal(pressed.status, 200);
    assert.equal(pressed.body.payment.status, 'SUCCESS');
    const [notification] = await receiver!.waitFor(created.paymentId as string);
    assert.deepEqual(notification?.body.paymentResult, result('SUCCESS'));
    assert.equal(receiver!.forPayment(created.paymentId as string).length, 1);
  });

  it('a failed fsync: the answer is an unsigned 500, nothing is notified, and later answers fail too', async () => {
    const io = new HeldFsync();
    io.hold = false;
    io.fail = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const url = await start(io);
    const request = payRequest({ notifyUrl: receiver?.url() });
    const body = JSON.stringify(request);
    const headers = signedHeaders({ kind: 'request', path: PAY_PATH, clientId: CLIENT_ID, body, privateKey: keys.gatewayPrivate, nowMs: Date.now() });
    const answered = await rawPost(url + PAY_PATH, body, { ...headers });
    assert.equal(answered.status, 500);
    assert.equal(answered.signedByAlipay, false, 'a payment that may not survive is not vouched for with a signature');
    assert.equal(answered.headers.signature, undefined);
    assert.equal(answered.json?.error?.code, 'storage_unavailable');
    assert.equal(io.fsyncs, 1);

    // The row was committed (not durable): the shopper pays it, but the outcome is never told.
    const stored = sandbox!.context.payments.findByClientAndPaymentRequestId(CLIENT_ID, request.paymentRequestId);
    assert.ok(stored);
    const pressed = await control(url, 'POST', '/sandbox/v1/wallet/pay', { paymentId: stored.payment_id, outcome: 'success' });
    assert.equal(pressed.status, 500);
    assert.equal(pressed.body.error.code, 'storage_unavailable');
    await sleep(200);
    assert.equal(receiver!.received.length, 0, 'a notification left the process although its state may be lost');
    assert.equal(sandbox!.context.notifications.listByPaymentId(stored.payment_id)[0]?.status, 'pending', 'the notification stays due');
  });
});
