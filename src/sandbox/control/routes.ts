import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../core/context.js';
import { expireDuePayments } from '../core/outcomes.js';
import { expireDueDisputes, judgeDispute, openDispute, resendDispute, type DisputeChange } from '../core/disputes.js';
import { actInWallet, type WalletActionResult, type WalletOutcome } from '../core/wallet.js';
import type { JudgeOutcome } from '../domain/dispute-rules.js';
import { TEST_SHOPPERS } from '../domain/shoppers.js';
import { faultKindsFor, type FaultRow, type FaultTarget } from '../store/faults.js';
import { bodyValidator, faultSchema, judgeDisputeSchema, openDisputeSchema, resendDisputeSchema, walletPaySchema, type BodyValidator, type FieldError } from './schemas.js';
import { disputeView, faultView, notificationView, paymentView, refundView, shopperView } from './views.js';

/** `timeout` must outlast the caller's 10 s timeout to be one; `delay` is noticeable but short. */
export const TIMEOUT_FAULT_DELAY_MS_DEFAULT = 12_000;
export const DELAY_FAULT_DELAY_MS_DEFAULT = 2_000;
const PAYMENT_ID_CHARS_MAX = 64;

interface WalletPayBody {
  codeValue?: string;
  paymentId?: string;
  outcome: WalletOutcome;
  shopper?: string;
  resultCode?: string;
}

interface FaultBody {
  target: FaultTarget;
  kind: FaultRow['kind'];
  count?: number;
  delayMs?: number;
}

interface OpenDisputeBody {
  type: 'retrieval' | 'escalation';
  amount?: number;
  reasonCode?: string;
  reasonMessage?: string;
  dueInDays?: number;
  disputeRequestId?: string;
}

/** A client mistake: answered as `{ error: { code, message, param? } }` with a 4xx status. */
class ControlError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

/**
 * The sandbox's control API for tests and scripts (alipayplus.md §10): act as the shopper's
 * wallet, read a payment's full state, and inject faults. Bodies arrive as raw strings (the
 * sandbox parses nothing itself, for the protocol's sake), so they are parsed and validated here.
 */
export function registerControlRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const walletPay = bodyValidator(walletPaySchema);
  const newFault = bodyValidator(faultSchema);
  app.post('/sandbox/v1/wallet/pay', (request, reply) => handle(reply, 200, () => payInWallet(ctx, parseBody<WalletPayBody>(request, walletPay))));
  app.get('/sandbox/v1/payments/:paymentId', (request, reply) => handle(reply, 200, () => paymentState(ctx, (request.params as { paymentId: string }).paymentId)));
  app.post('/sandbox/v1/faults', (request, reply) => handle(reply, 201, () => addFault(ctx, parseBody<FaultBody>(request, newFault))));
  app.get('/sandbox/v1/faults', (_request, reply) => handle(reply, 200, () => ({ faults: ctx.faults.listActive().map(faultView) })));
  app.delete('/sandbox/v1/faults', (_request, reply) =>
    handle(reply, 200, () => {
      const cleared = ctx.faults.listActive().length;
      ctx.faults.clear();
      return { cleared };
    }),
  );
  registerDisputeRoutes(app, ctx);
  app.get('/sandbox/v1/shoppers', (_request, reply) => handle(reply, 200, () => ({ shoppers: TEST_SHOPPERS.map(shopperView) })));
}

/**
 * Disputes (alipayplus.md §10): open one on a paid payment, read it, judge it, resend its initiate
 * call. A change answers after its call's first delivery attempt, so when it returns an acquirer
 * that acknowledged has recorded it; later retries follow the notifier's schedule. Bad input is
 * 400 `PARAM_ILLEGAL`; a refusal by the network's rules is 409 with the rule's code.
 */
function registerDisputeRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const open = bodyValidator(openDisputeSchema);
  const judge = bodyValidator(judgeDisputeSchema);
  const resend = bodyValidator(resendDisputeSchema);
  app.post('/sandbox/v1/payments/:paymentId/disputes', (request, reply) =>
    handleAsync(reply, 201, async () => {
      const body = parseBody<OpenDisputeBody>(request, open, 'PARAM_ILLEGAL');
      if (body.type === 'retrieval' && body.amount !== undefined) throw new ControlError(400, 'PARAM_ILLEGAL', 'amount applies only to escalations', 'amount');
      const change = openDispute(ctx, {
        paymentId: (request.params as { paymentId: string }).paymentId,
        type: body.type === 'retrieval' ? 'RETRIEVAL' : 'ESCALATION',
        amountMinor: body.amount,
        reasonCode: body.reasonCode,
        reasonMessage: body.reasonMessage,
        dueInDays: body.dueInDays,
        disputeRequestId: body.disputeRequestId,
      });
      return deliverAndView(ctx, change);
    }),
  );
  app.get('/sandbox/v1/disputes/:disputeId', (request, reply) =>
    handle(reply, 200, () => {
      expireDueDisputes(ctx);
      return disputeState(ctx, (request.params as { disputeId: string }).disputeId);
    }),
  );
  app.post('/sandbox/v1/disputes/:disputeId/judge', (request, reply) =>
    handleAsync(reply, 200, async () => {
      const body = parseBody<{ outcome: JudgeOutcome }>(request, judge, 'PARAM_ILLEGAL');
      return deliverAndView(ctx, judgeDispute(ctx, (request.params as { disputeId: string }).disputeId, body.outcome));
    }),
  );
  app.post('/sandbox/v1/disputes/:disputeId/resend', (request, reply) =>
    handleAsync(reply, 200, async () => {
      const body = isEmptyBody(request) ? {} : parseBody<{ paymentRequestId?: string }>(request, resend, 'PARAM_ILLEGAL');
      return deliverAndView(ctx, resendDispute(ctx, (request.params as { disputeId: string }).disputeId, body.paymentRequestId));
    }),
  );
}

/** Makes the change's first delivery attempt (after its transaction committed), then reads the dispute as it now stands. */
async function deliverAndView(ctx: SandboxContext, change: DisputeChange) {
  if (!change.ok) throw new ControlError(change.status, change.code, change.message);
  if (change.notificationId !== null) await ctx.deliverNow(change.notificationId);
  return disputeState(ctx, change.dispute.dispute_id);
}

export function disputeState(ctx: SandboxContext, disputeId: string) {
  const dispute = disputeId.length <= PAYMENT_ID_CHARS_MAX ? ctx.disputes.findById(disputeId) : undefined;
  if (!dispute) throw new ControlError(404, 'DISPUTE_NOT_FOUND', `no dispute ${disputeId}`, 'disputeId');
  return disputeView(dispute, ctx.notifications.listDisputeSends(dispute.dispute_id));
}

function isEmptyBody(request: FastifyRequest): boolean {
  return typeof request.body !== 'string' || request.body.trim() === '';
}

async function handleAsync(reply: FastifyReply, statusCode: number, run: () => Promise<object>): Promise<FastifyReply> {
  try {
    return reply.code(statusCode).send(await run());
  } catch (error) {
    return sendControlError(reply, error);
  }
}

function handle(reply: FastifyReply, statusCode: number, run: () => object): FastifyReply {
  try {
    return reply.code(statusCode).send(run());
  } catch (error) {
    return sendControlError(reply, error);
  }
}

function sendControlError(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof ControlError)) throw error;
  const body: FieldError & { code: string } = { code: error.code, message: error.message };
  if (error.param !== undefined) body.param = error.param;
  return reply.code(error.statusCode).send({ error: body });
}

/** `code`: what bad input is called; the dispute endpoints use the network's `PARAM_ILLEGAL`. */
function parseBody<T>(request: FastifyRequest, validate: BodyValidator, code = 'invalid_request'): T {
  const raw = typeof request.body === 'string' ? request.body : '';
  if (raw.trim() === '') throw new ControlError(400, code, 'a JSON object body is required');
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new ControlError(400, code === 'invalid_request' ? 'invalid_json' : code, 'request body is not valid JSON');
  }
  const invalid = validate(body);
  if (invalid) throw new ControlError(400, code, invalid.message, invalid.param);
  return body as T;
}

function payInWallet(ctx: SandboxContext, body: WalletPayBody) {
  if ((body.codeValue === undefined) === (body.paymentId === undefined)) {
    throw new ControlError(400, 'invalid_request', 'give exactly one of codeValue and paymentId', 'paymentId');
  }
  if (body.resultCode !== undefined && body.outcome !== 'decline') {
    throw new ControlError(400, 'invalid_request', 'resultCode applies only to outcome decline', 'resultCode');
  }
  const acted = actInWallet(ctx, { paymentId: body.paymentId, codeValue: body.codeValue, outcome: body.outcome, shopperId: body.shopper, resultCode: body.resultCode });
  if (!acted.ok) throw walletError(acted);
  return { payment: paymentView(acted.payment), shopper: acted.shopper.id, redirectUrl: acted.redirectUrl };
}

function walletError(failed: Extract<WalletActionResult, { ok: false }>): ControlError {
  switch (failed.error) {
    case 'payment_not_found':
      return new ControlError(404, failed.error, failed.message);
    case 'payment_not_in_process':
      return new ControlError(409, failed.error, failed.message);
    case 'shopper_not_found':
      return new ControlError(400, failed.error, failed.message, 'shopper');
    case 'invalid_result_code':
      return new ControlError(400, failed.error, failed.message, 'resultCode');
  }
}

function paymentState(ctx: SandboxContext, paymentId: string) {
  // Reads are exact to the clock: a payment past its expiry shows as closed, with its notification.
  expireDuePayments(ctx);
  expireDueDisputes(ctx);
  const payment = paymentId.length <= PAYMENT_ID_CHARS_MAX ? ctx.payments.findByPaymentId(paymentId) : undefined;
  if (!payment) throw new ControlError(404, 'payment_not_found', `no payment ${paymentId}`, 'paymentId');
  return {
    ...paymentView(payment),
    refunds: ctx.refunds.listByPaymentId(paymentId).map(refundView),
    notifications: ctx.notifications.listByPaymentId(paymentId).map((row) => notificationView(row, ctx.notifications.listSends(row.notification_id))),
    disputes: ctx.disputes.listByPaymentId(paymentId).map((dispute) => disputeView(dispute, ctx.notifications.listDisputeSends(dispute.dispute_id))),
  };
}

function addFault(ctx: SandboxContext, body: FaultBody) {
  const kinds = faultKindsFor(body.target);
  if (!kinds.includes(body.kind)) {
    throw new ControlError(400, 'invalid_request', `kind ${body.kind} does not apply to target ${body.target}; use one of ${kinds.join(', ')}`, 'kind');
  }
  const delayMsDefault = body.kind === 'timeout' ? TIMEOUT_FAULT_DELAY_MS_DEFAULT : body.kind === 'delay' ? DELAY_FAULT_DELAY_MS_DEFAULT : null;
  if (delayMsDefault === null && body.delayMs !== undefined) {
    throw new ControlError(400, 'invalid_request', `delayMs applies only to kinds timeout and delay`, 'delayMs');
  }
  const faultId = ctx.faults.add(body.target, body.kind, body.count ?? 1, body.delayMs ?? delayMsDefault ?? 0, ctx.clock.now());
  const fault = ctx.faults.listActive().find((row) => row.fault_id === faultId) as FaultRow;
  return faultView(fault);
}
