import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { headerValue, result, type Result } from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import type { FaultTarget } from '../store/faults.js';
import type { WireValidator } from './wire-schema.js';

export type ProtocolHandler = (body: Record<string, unknown>, clientId: string) => { result: Result } & object;

export interface ProtocolRoute {
  path: string;
  faultTarget: FaultTarget;
  validate: WireValidator;
  handle: ProtocolHandler;
}

/**
 * Serves one Alipay+ API path: verify the signature, apply any injected fault, validate, run the
 * handler, sign the answer. Every answer is HTTP 200 with a signed Alipay+ result — bad input
 * included — as the real network does; only an unreadable request gets an unsigned one.
 */
export function registerProtocolRoute(app: FastifyInstance, ctx: SandboxContext, route: ProtocolRoute): void {
  app.post(route.path, async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : '';
    const inbound = ctx.receiver.verifyRequest(route.path, request.headers, raw);
    if (!inbound.ok) {
      return send(reply, ctx, route.path, inbound.clientId ?? claimedClientId(request), { result: inbound.result });
    }
    const fault = ctx.faults.take(route.faultTarget);
    if (fault?.kind === 'unknown') {
      return send(reply, ctx, route.path, inbound.clientId, { result: result('UNKNOWN_EXCEPTION', 'injected fault: outcome unknown, retry with the same request id') });
    }
    const response = answer(ctx, route, inbound.body, inbound.clientId);
    if (fault?.kind === 'timeout') await sleep(fault.delay_ms);
    return send(reply, ctx, route.path, inbound.clientId, response, fault?.kind === 'bad_signature');
  });
}

function answer(ctx: SandboxContext, route: ProtocolRoute, body: Record<string, unknown>, clientId: string): object {
  const invalid = route.validate(body);
  if (invalid) return { result: result('PARAM_ILLEGAL', invalid) };
  try {
    return route.handle(body, clientId);
  } catch (error) {
    ctx.log.error({ err: error, path: route.path }, 'sandbox handler failed');
    return { result: result('UNKNOWN_EXCEPTION', 'internal error; retry with the same request id') };
  }
}

function send(reply: FastifyReply, ctx: SandboxContext, path: string, clientId: string, body: object, corrupt = false) {
  const signed = ctx.receiver.reply(path, clientId, body);
  const headers: Record<string, string> = { ...signed.headers };
  // A "bad signature" fault signs something else: the response is well-formed but does not verify.
  if (corrupt) headers.Signature = ctx.receiver.reply(path, clientId, { tampered: true }).headers.Signature;
  return reply.code(200).headers(headers).send(signed.body);
}

function claimedClientId(request: FastifyRequest): string {
  return headerValue(request.headers, 'Client-Id') ?? '';
}
