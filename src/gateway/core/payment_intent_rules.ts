import { timingSafeEqual } from 'node:crypto';
import { ApiError, invalidRequest, parameterMissing, resourceMissing } from '../errors.js';
import { METADATA_KEYS_MAX, mergeMetadata } from '../domain/metadata.js';
import type { Metadata } from '../domain/metadata.js';
import { findPaymentMethodByAccountAndId } from '../store/payment_methods.js';
import { findByAccountAndId } from '../store/payment_intents.js';
import { isUniqueViolation } from '../store/database.js';
import type { Executor, PaymentIntentRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import { ConcurrentUpdate } from './context.js';
import type { CoreDeps } from './context.js';
import type { AlipayOptions, PaymentFields, PaymentMethodOptions } from './params.js';
import { createPaymentMethodInTx } from './payment_methods.js';

/* Rules and lookups shared by the PaymentIntent operations (payment_intents.ts, payment_attempts.ts). */

/** Lost compare-and-set races are retried this many times before the client gets a 409. */
const CAS_ATTEMPTS_MAX = 5;

/** Runs a unit of work again when it lost a race on a row's version (see writeIfUnchanged). */
export async function withCasRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      // A unique-key collision inside a read-then-write unit is the same lost race, seen by the index;
      // so is a transaction PostgreSQL aborted as a deadlock victim or serialization failure.
      if (!(error instanceof ConcurrentUpdate) && !isUniqueViolation(error) && !isAbortedByDatabase(error)) throw error;
      if (attempt >= CAS_ATTEMPTS_MAX) {
        throw new ApiError({ status: 409, type: 'invalid_request_error', code: 'lock_timeout', message: 'This object is being changed by another request; retry shortly.' });
      }
    }
  }
}

/**
 * PostgreSQL's deadlock_detected (40P01) and serialization_failure (40001): the database rolled
 * the whole transaction back to settle a race with another one, and running it again is the
 * documented remedy — exactly like a lost compare-and-set.
 */
const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40P01', '40001']);

export function isAbortedByDatabase(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/** Unwraps a compare-and-set result: null means another writer got there first. */
export function won<T>(row: T | null): T {
  if (row === null) throw new ConcurrentUpdate();
  return row;
}

/** For moves that report success as a boolean: false means another writer moved the row first. */
export function movedOrRetry(moved: boolean): void {
  if (!moved) throw new ConcurrentUpdate();
}

export async function findOwnedIntent(ex: Executor, scope: Scope, id: string, param = 'id'): Promise<PaymentIntentRow> {
  const row = await findByAccountAndId(ex, scope, id);
  if (row === undefined) throw resourceMissing('payment_intent', id, param);
  return row;
}

/** Checks rules across payment fields that a per-field schema cannot express. */
export function checkPaymentFields(fields: PaymentFields): void {
  if (fields.payment_method != null && fields.payment_method_data != null) {
    throw invalidRequest('parameter_invalid', 'You may only specify one of these parameters: payment_method, payment_method_data.', 'payment_method_data');
  }
}

/** The stored `payment_method_options` after applying an update (terminal_type defaults to WEB). */
export function mergeAlipayOptions(currentJson: string | null, update: PaymentMethodOptions | null | undefined): string {
  const current = currentJson === null ? null : (JSON.parse(currentJson) as { alipay: Required<AlipayOptions> }).alipay;
  const base: Required<AlipayOptions> = current ?? { terminal_type: 'WEB', os_type: null, client_ip: null };
  const given = update === null ? { terminal_type: null, os_type: null, client_ip: null } : (update?.alipay ?? {});
  const merged: Required<AlipayOptions> = {
    terminal_type: given.terminal_type === undefined ? base.terminal_type : (given.terminal_type ?? 'WEB'),
    os_type: given.os_type === undefined ? base.os_type : given.os_type,
    client_ip: given.client_ip === undefined ? base.client_ip : given.client_ip,
  };
  if ((merged.terminal_type === 'WAP' || merged.terminal_type === 'APP') && merged.os_type === null) {
    throw parameterMissing('payment_method_options[alipay][os_type]', `os_type (IOS or ANDROID) is required when terminal_type is ${merged.terminal_type}.`);
  }
  return JSON.stringify({ alipay: merged });
}

export function applyMetadata(current: Metadata, update: Record<string, string | null> | null | undefined): Metadata {
  const next = update === undefined ? current : mergeMetadata(current, update);
  if (Object.keys(next).length > METADATA_KEYS_MAX) {
    throw invalidRequest('parameter_invalid', `metadata can have at most ${METADATA_KEYS_MAX} keys; this request would leave ${Object.keys(next).length}.`, 'metadata');
  }
  return next;
}

/**
 * The payment method id to set: an existing `pm_…` of the same account and mode, or a new one
 * from `payment_method_data`. Undefined when neither is given.
 */
export async function resolvePaymentMethod(tx: Executor, deps: Pick<CoreDeps, 'clock' | 'ids'>, scope: Scope, fields: PaymentFields): Promise<string | undefined> {
  if (fields.payment_method != null) {
    const row = await findPaymentMethodByAccountAndId(tx, scope, fields.payment_method);
    if (row === undefined) throw invalidRequest('resource_missing', `No such payment_method: '${fields.payment_method}'`, 'payment_method');
    return row.id;
  }
  if (fields.payment_method_data != null) return createPaymentMethodInTx(tx, deps, scope, fields.payment_method_data);
  return undefined;
}

export function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

