import { ApiError, invalidRequest, resourceMissing } from '../errors.js';
import { newClientSecret, randomAlphanumeric } from '../ids.js';
import { findAccountById, insertApiKey } from '../store/accounts.js';
import { hashApiKey } from './accounts.js';
import { priceSession, sessionExpiry } from '../domain/checkout_sessions.js';
import type { PricedLine, RuleResult } from '../domain/checkout_sessions.js';
import { transition } from '../domain/payment_intents.js';
import type { PaymentIntentStatus } from '../domain/payment_intents.js';
import { inTransaction } from '../store/database.js';
import {
  closeOpenSession,
  findDueOpenSessions,
  findLineItemsOfSession,
  findSessionByAccountAndId,
  findPageKey,
  findSessionById,
  insertCheckoutSession,
  insertPageKey,
  listSessionsByAccount,
} from '../store/checkout_sessions.js';
import { findOpenAttemptsForIntent } from '../store/payment_attempts.js';
import { findPaymentIntentById, insertPaymentIntent, markCanceled } from '../store/payment_intents.js';
import { findPricesByIds } from '../store/prices.js';
import { findProductsByIds } from '../store/products.js';
import type { CheckoutLineItemRow, CheckoutSessionRow, Executor, PaymentAttemptRow, PaymentIntentRow, PriceRow, ProductRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { recordEvent } from './events.js';
import { claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import { moveAttemptOrRetry } from './attempt_moves.js';
import { sessionView } from './checkout_completion.js';
import { inquireAndApply } from './network_outcomes.js';
import { cancelAtNetwork, confirmPaymentIntent, replaceAttempt } from './payment_attempts.js';
import type { ConfirmPaymentIntentParams } from './params.js';
import { applyMetadata, movedOrRetry, won, withCasRetries } from './payment_intent_rules.js';
import { createPriceInTx, findOwnedPrice, priceView } from './prices.js';
import type { PriceData } from './prices.js';
import { paymentIntentView } from './views.js';
import type { ApiObject } from './views.js';

export interface LineItemParams {
  price?: string | null;
  price_data?: PriceData | null;
  quantity: number;
}

/** POST /v1/checkout/sessions after HTTP validation (api.md §6). */
export interface CreateCheckoutSessionParams {
  mode: string;
  success_url: string;
  cancel_url?: string | null;
  line_items: LineItemParams[];
  payment_method_types?: string[] | null;
  client_reference_id?: string | null;
  customer_email?: string | null;
  customer?: string | null;
  metadata?: Record<string, string | null> | null;
  /** Epoch ms, or Unix seconds as stripe-node sends (see sessionExpiry). */
  expires_at?: number | null;
  locale?: string | null;
  billing_address_collection?: string | null;
}

type Ctx = Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>;

function orThrow<T>(result: RuleResult<T>): T {
  if (!result.ok) throw invalidRequest(result.code, result.message, result.param);
  return result.value;
}

/**
 * Creates a Checkout Session with its PaymentIntent (api.md §6): inline `price_data` /
 * `product_data` become real Prices and Products, amounts are computed exactly, and everything
 * (objects, events, idempotency record) commits in one transaction.
 * @param pageBaseUrl the gateway's public URL, for the session's `url`.
 */
export async function createCheckoutSession(deps: CoreDeps, ctx: RequestContext, params: CreateCheckoutSessionParams, pageBaseUrl: string): Promise<ApiObject> {
  if (params.mode !== 'payment') {
    throw invalidRequest('parameter_invalid', `Alipay Checkout Sessions support mode=payment only; got mode=${params.mode}.`, 'mode');
  }
  params.line_items.forEach((item, i) => {
    if (item.price != null && item.price_data != null) {
      throw invalidRequest('parameter_invalid', `You may only specify one of these parameters: line_items[${i}][price], line_items[${i}][price_data].`, `line_items[${i}][price_data]`);
    }
    if (item.price == null && item.price_data == null) {
      throw invalidRequest('parameter_missing', `line_items[${i}] needs a price (price_…) or price_data.`, `line_items[${i}][price]`);
    }
    if (item.price_data?.recurring != null) {
      throw invalidRequest('parameter_invalid', `line_items[${i}][price_data][recurring] makes a recurring price; Alipay Checkout Sessions take one-time prices only.`, `line_items[${i}][price_data][recurring]`);
    }
  });
  const now = deps.clock.now();
  const expiresAt = orThrow(sessionExpiry(params.expires_at, now));
  const id = deps.ids.next('cs');
  const piId = deps.ids.next('pi');
  return withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      await claimInTransaction(tx, deps, ctx);
      const lines = await resolveLines(tx, deps, ctx, params.line_items);
      const amounts = orThrow(priceSession(lines.map((line, i) => ({ param: `line_items[${i}]`, currency: line.price.currency, unitAmount: line.price.unit_amount, quantity: line.quantity, type: line.price.type }) satisfies PricedLine)));
      const key = await pageKeyFor(tx, deps, ctx.scope);
      const url = `${pageBaseUrl}/pay/${id}?key=${encodeURIComponent(key)}`;
      const intent = paymentIntentRow(deps, ctx.scope, piId, id, amounts.currency, amounts.total, params, now);
      await insertPaymentIntent(tx, intent);
      await recordEvent(tx, deps, ctx, 'payment_intent.created', paymentIntentView(intent));
      const session: CheckoutSessionRow = {
        id,
        account_id: ctx.scope.accountId,
        livemode: ctx.scope.livemode ? 1 : 0,
        created: now,
        updated: now,
        status: 'open',
        payment_status: 'unpaid',
        mode: 'payment',
        currency: amounts.currency,
        amount_subtotal: amounts.total,
        amount_total: amounts.total,
        payment_intent_id: piId,
        expires_at: expiresAt,
        success_url: params.success_url,
        cancel_url: params.cancel_url ?? null,
        url,
        payment_method_types: JSON.stringify(params.payment_method_types ?? ['alipay']),
        client_reference_id: params.client_reference_id ?? null,
        customer_email: params.customer_email ?? null,
        locale: params.locale ?? null,
        metadata: JSON.stringify(applyMetadata({}, params.metadata)),
      };
      const items: CheckoutLineItemRow[] = lines.map((line, position) => ({
        id: deps.ids.next('li'),
        session_id: id,
        position,
        price_id: line.price.id,
        description: line.product.name,
        quantity: line.quantity,
        currency: line.price.currency,
        amount_subtotal: amounts.lineAmounts[position] as number,
        amount_total: amounts.lineAmounts[position] as number,
      }));
      await insertCheckoutSession(tx, session, items);
      const view = sessionView(session, intent, lineItemsList(session.id, items, lines));
      await completeIdempotentRequest(tx, ctx, 200, view);
      return view;
    }),
  );
}

/** Random characters of a minted page key, as for every API key (about 190 bits). */
const PAGE_KEY_RANDOM_LENGTH = 32;

/**
 * The publishable key the account's session URLs carry. API keys are stored only as hashes, so
 * the first session of an account and mode mints a publishable key for its hosted pages and keeps
 * it in plaintext (publishable keys are public: every session URL shows it). It authenticates like
 * any other publishable key. Two first sessions racing collide on the table's primary key, and the
 * loser retries and reads the winner's.
 */
async function pageKeyFor(tx: Executor, deps: Pick<CoreDeps, 'clock' | 'ids'>, scope: Scope): Promise<string> {
  const existing = await findPageKey(tx, scope);
  if (existing !== undefined) return existing;
  const mode = scope.livemode ? 'live' : 'test';
  const key = `pk_${mode}_${randomAlphanumeric(PAGE_KEY_RANDOM_LENGTH)}`;
  const now = deps.clock.now();
  await insertApiKey(tx, { key_hash: hashApiKey(key), id: deps.ids.next('key'), account_id: scope.accountId, livemode: scope.livemode ? 1 : 0, kind: 'publishable', last4: key.slice(-4), created: now, revoked_at: null });
  await insertPageKey(tx, scope, key, now);
  return key;
}

interface ResolvedLine {
  price: PriceRow;
  product: ProductRow;
  quantity: number;
}

async function resolveLines(tx: Executor, deps: CoreDeps, ctx: Ctx, items: LineItemParams[]): Promise<ResolvedLine[]> {
  const lines: ResolvedLine[] = [];
  for (const [i, item] of items.entries()) {
    if (item.price_data != null) {
      const created = await createPriceInTx(tx, deps, ctx, item.price_data, `line_items[${i}][price_data]`);
      lines.push({ ...created, quantity: item.quantity });
      continue;
    }
    const price = await findOwnedPrice(tx, ctx.scope, item.price as string, `line_items[${i}][price]`);
    if (price.active !== 1) throw invalidRequest('parameter_invalid', `line_items[${i}][price] ${price.id} is archived (active=false) and cannot be sold.`, `line_items[${i}][price]`);
    if (price.type === 'recurring') {
      throw invalidRequest('parameter_invalid', `line_items[${i}][price] ${price.id} is a recurring price; Alipay Checkout Sessions take one-time prices only.`, `line_items[${i}][price]`);
    }
    const [product] = await findProductsByIds(tx, [price.product_id]);
    if (product === undefined) throw new Error(`price ${price.id} names a missing product ${price.product_id}`);
    lines.push({ price, product, quantity: item.quantity });
  }
  return lines;
}

function paymentIntentRow(deps: CoreDeps, scope: Scope, id: string, sessionId: string, currency: string, amount: number, params: CreateCheckoutSessionParams, now: number): PaymentIntentRow {
  return {
    id,
    account_id: scope.accountId,
    livemode: scope.livemode ? 1 : 0,
    created: now,
    updated: now,
    version: 1,
    status: 'requires_payment_method',
    amount,
    amount_received: 0,
    currency,
    client_secret: newClientSecret(id),
    capture_method: 'automatic',
    confirmation_method: 'automatic',
    payment_method_types: JSON.stringify(params.payment_method_types ?? ['alipay']),
    payment_method_options: JSON.stringify({ alipay: { terminal_type: 'WEB', os_type: null, client_ip: null } }),
    payment_method: null,
    return_url: null,
    description: null,
    metadata: JSON.stringify(applyMetadata({}, params.metadata)),
    merchant_order_id: params.client_reference_id ?? null,
    merchant_user_id: null,
    shipping: null,
    receipt_email: params.customer_email ?? null,
    statement_descriptor: null,
    customer: params.customer ?? null,
    next_action: null,
    last_payment_error: null,
    latest_charge: null,
    canceled_at: null,
    cancellation_reason: null,
    checkout_session: sessionId,
  };
}

function lineItemView(item: CheckoutLineItemRow, price: PriceRow | undefined, product: ProductRow | undefined): ApiObject {
  return {
    id: item.id,
    object: 'item',
    currency: item.currency,
    description: item.description,
    price: price === undefined ? null : priceView(price, product),
    quantity: item.quantity,
    amount_subtotal: item.amount_subtotal,
    amount_total: item.amount_total,
    amount_discount: 0,
    amount_tax: 0,
  };
}

function lineItemsList(sessionId: string, items: CheckoutLineItemRow[], lines: { price: PriceRow; product: ProductRow }[]): ApiObject {
  return {
    object: 'list',
    url: `/v1/checkout/sessions/${sessionId}/line_items`,
    has_more: false,
    data: items.map((item, i) => lineItemView(item, lines[i]?.price, lines[i]?.product)),
  };
}

async function loadLineItems(ex: Executor, session: CheckoutSessionRow): Promise<ApiObject> {
  const items = await findLineItemsOfSession(ex, session.id);
  const prices = new Map((await findPricesByIds(ex, [...new Set(items.map((item) => item.price_id))])).map((price) => [price.id, price]));
  const products = new Map((await findProductsByIds(ex, [...new Set([...prices.values()].map((price) => price.product_id))])).map((product) => [product.id, product]));
  const lines = items.map((item) => {
    const price = prices.get(item.price_id) as PriceRow;
    return { price, product: products.get(price.product_id) as ProductRow };
  });
  return lineItemsList(session.id, items, lines);
}

async function fullView(ex: Executor, session: CheckoutSessionRow): Promise<ApiObject> {
  const intent = await findPaymentIntentById(ex, session.payment_intent_id);
  if (intent === undefined) throw new Error(`session ${session.id} lost its PaymentIntent`);
  return sessionView(session, intent, await loadLineItems(ex, session));
}

export async function findOwnedSession(ex: Executor, scope: Scope, id: string): Promise<CheckoutSessionRow> {
  const row = await findSessionByAccountAndId(ex, scope, id);
  if (row === undefined) throw resourceMissing('checkout.session', id);
  return row;
}

export async function retrieveCheckoutSession(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  const db = deps.database.db;
  return fullView(db, await findOwnedSession(db, scope, id));
}

export interface LineItemPage {
  limit?: number | null;
  starting_after?: string | null;
  ending_before?: string | null;
}

/** Line items a page at a time, like every list. A session has at most 100, so they are paged in memory. */
export async function listCheckoutSessionLineItems(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string, page: LineItemPage = {}): Promise<ApiObject> {
  const db = deps.database.db;
  const all = (await loadLineItems(db, await findOwnedSession(db, scope, id))) as ApiObject & { data: Array<{ id: string }> };
  return { ...all, ...pageLineItems(all.data, page) };
}

const LINE_ITEMS_PAGE_DEFAULT = 10;

function pageLineItems(items: Array<{ id: string }>, page: LineItemPage): { data: Array<{ id: string }>; has_more: boolean } {
  if (page.starting_after && page.ending_before) {
    throw invalidRequest('parameter_invalid', 'starting_after and ending_before cannot be used together.', 'ending_before');
  }
  const limit = page.limit ?? LINE_ITEMS_PAGE_DEFAULT;
  const cursor = page.starting_after ?? page.ending_before ?? null;
  const at = cursor === null ? -1 : items.findIndex((item) => item.id === cursor);
  if (cursor !== null && at < 0) throw resourceMissing('line_item', cursor, page.starting_after ? 'starting_after' : 'ending_before');
  if (page.ending_before) {
    const start = Math.max(0, at - limit);
    return { data: items.slice(start, at), has_more: start > 0 };
  }
  const start = at + 1;
  return { data: items.slice(start, start + limit), has_more: start + limit < items.length };
}

export interface ListCheckoutSessionsParams extends ListParams {
  status?: string | null;
  payment_intent?: string | null;
}

export async function listCheckoutSessions(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListCheckoutSessionsParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'checkout.session', (id) => findSessionByAccountAndId(db, scope, id));
  const page = await listSessionsByAccount(db, scope, window, {
    ...(params.status == null ? {} : { status: params.status }),
    ...(params.payment_intent == null ? {} : { payment_intent: params.payment_intent }),
  });
  const intents = new Map<string, PaymentIntentRow>();
  for (const row of page.rows) {
    const intent = await findPaymentIntentById(db, row.payment_intent_id);
    if (intent !== undefined) intents.set(row.id, intent);
  }
  return { data: page.rows.map((row) => sessionView(row, intents.get(row.id) as PaymentIntentRow)), hasMore: page.hasMore };
}

/**
 * Expires an open session in the caller's transaction: the session, its PaymentIntent canceled
 * and its open attempts moved to `canceling` (the cancel reaches Alipay+ after the commit, or by
 * the worker), with their events. Returns the attempts to cancel at the network, or null when the
 * session is no longer open.
 */
async function expireSessionInTx(tx: Executor, deps: CoreDeps, ctx: Ctx, session: CheckoutSessionRow): Promise<{ view: ApiObject; attempts: PaymentAttemptRow[] } | null> {
  if (session.status !== 'open') return null;
  const intent = await findPaymentIntentById(tx, session.payment_intent_id);
  if (intent === undefined) throw new Error(`session ${session.id} lost its PaymentIntent`);
  const next = transition(intent.status as PaymentIntentStatus, { kind: 'cancel', createdByCheckoutSession: false });
  // Succeeded: the completion is committing in another transaction; the session is theirs.
  if (!next.ok) return null;
  const now = deps.clock.now();
  const attempts = await findOpenAttemptsForIntent(tx, intent.id);
  for (const attempt of attempts) await moveAttemptOrRetry(tx, attempt, { kind: 'close' }, now);
  const canceled = won(await markCanceled(tx, intent, 'abandoned', now));
  for (const type of next.events) await recordEvent(tx, deps, ctx, type, paymentIntentView(canceled), { status: intent.status });
  movedOrRetry(await closeOpenSession(tx, session.id, { status: 'expired', payment_status: 'unpaid' }, now));
  const expired: CheckoutSessionRow = { ...session, status: 'expired', updated: now };
  const view = sessionView(expired, canceled);
  await recordEvent(tx, deps, ctx, 'checkout.session.expired', view, { status: 'open' });
  return { view, attempts };
}

/** POST /v1/checkout/sessions/:id/expire: only an open session can be expired (Stripe). */
export async function expireCheckoutSession(deps: CoreDeps, ctx: RequestContext, id: string): Promise<ApiObject> {
  const { view, attempts } = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      await claimInTransaction(tx, deps, ctx);
      const session = await findOwnedSession(tx, ctx.scope, id);
      const expired = await expireSessionInTx(tx, deps, ctx, session);
      if (expired === null) {
        throw invalidRequest('checkout_session_unexpected_state', `You cannot expire the Checkout Session ${id} because it has a status of ${session.status}; only an open session can be expired.`, 'id');
      }
      const full = { ...expired.view, line_items: await loadLineItems(tx, session) };
      await completeIdempotentRequest(tx, ctx, 200, full);
      return { view: full, attempts: expired.attempts };
    }),
  );
  // The session's PaymentIntent was canceled with it (counted after the commit).
  deps.metrics?.paymentOutcome('canceled', ctx.scope.livemode);
  for (const attempt of attempts) await cancelAtNetwork(deps, attempt);
  return view;
}

/** Expires a session found past its expiry (the worker, or the hosted page on a visit). Idempotent. */
export async function expireDueSession(deps: CoreDeps, sessionId: string): Promise<boolean> {
  const result = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      const session = await findSessionById(tx, sessionId);
      if (session === undefined || session.status !== 'open' || session.expires_at > deps.clock.now()) return null;
      const ctx = { scope: { accountId: session.account_id, livemode: session.livemode === 1 }, requestId: null, idempotency: null };
      const expired = await expireSessionInTx(tx, deps, ctx, session);
      return expired === null ? null : { ...expired, livemode: session.livemode === 1 };
    }),
  );
  if (result === null) return false;
  deps.metrics?.paymentOutcome('canceled', result.livemode);
  for (const attempt of result.attempts) await cancelAtNetwork(deps, attempt);
  return true;
}

/** Open sessions past their expiry, at most `limit` per call; each expired in its own transaction. */
export async function expireDueSessions(deps: CoreDeps, limit: number): Promise<string[]> {
  const due = await findDueOpenSessions(deps.database.db, deps.clock.now(), limit);
  const expired: string[] = [];
  for (const session of due) if (await expireDueSession(deps, session.id)) expired.push(session.id);
  return expired;
}

/** What the hosted page shows of a session: rows as stored, lines with their names. */
export interface CheckoutPageState {
  session: CheckoutSessionRow;
  intent: PaymentIntentRow;
  merchantName: string | null;
  lines: { description: string; quantity: number; amount: number }[];
}

/**
 * Loads a session for its hosted page within the key's scope (null: no such session there). A
 * session found past its expiry is expired now, so the page never offers a payment the worker is
 * about to cancel.
 */
export async function loadCheckoutPage(deps: CoreDeps, scope: Scope, id: string): Promise<CheckoutPageState | null> {
  const db = deps.database.db;
  let session = await findSessionByAccountAndId(db, scope, id);
  if (session === undefined) return null;
  if (session.status === 'open' && session.expires_at <= deps.clock.now()) {
    await expireDueSession(deps, id);
    session = (await findSessionByAccountAndId(db, scope, id)) ?? session;
  }
  const intent = await findPaymentIntentById(db, session.payment_intent_id);
  if (intent === undefined) throw new Error(`session ${id} lost its PaymentIntent`);
  const items = await findLineItemsOfSession(db, id);
  const account = await findAccountById(db, session.account_id);
  return { session, intent, merchantName: account?.name ?? null, lines: items.map((item) => ({ description: item.description, quantity: item.quantity, amount: item.amount_total })) };
}

/** How the shopper's payment stands after the page asked for one. */
export type PagePayment =
  /** A live Alipay+ attempt (`attemptId`, for the page to notice when another device replaces it): show its QR code or app link. */
  | { kind: 'awaiting_shopper'; intent: PaymentIntentRow; attemptId: string | null }
  /** Being sent, or its outcome unknown: poll. */
  | { kind: 'processing'; intent: PaymentIntentRow }
  /** The last attempt was declined or closed: offer a retry. */
  | { kind: 'failed'; intent: PaymentIntentRow }
  /** Paid or canceled: the session is (about to be) complete or expired. */
  | { kind: 'closed'; intent: PaymentIntentRow };

export interface PagePaymentRequest {
  terminalType: 'WEB' | 'WAP';
  osType: 'IOS' | 'ANDROID' | null;
  clientIp: string | null;
  /** Where the wallet sends the shopper back: the hosted page itself. */
  returnUrl: string;
  /** The shopper asked for a new attempt after a failed one. */
  retry: boolean;
}

/**
 * Makes sure the session's PaymentIntent has a live Alipay+ attempt for the shopper's device,
 * creating one only when none is live for it: a reload or a second tab on the same kind of device
 * reuses the attempt awaiting the shopper, while another device (a phone after a desktop, a
 * desktop after a phone) replaces it (`switchDevice`). Two loads racing to create one meet at the
 * PaymentIntent's compare-and-set (confirm is only allowed from requires_payment_method, a
 * replacement only from requires_action), so at most one attempt is ever live; the loser shows
 * "processing" and polls.
 */
export async function preparePagePayment(deps: CoreDeps, page: CheckoutPageState, request: PagePaymentRequest): Promise<PagePayment> {
  const intent = page.intent;
  switch (intent.status as PaymentIntentStatus) {
    case 'requires_action': {
      const live = await liveAttemptOf(deps.database.db, intent.id);
      if (live === null || live.status !== 'pending' || sameDevice(live, request)) return { kind: 'awaiting_shopper', intent, attemptId: live?.id ?? null };
      return switchDevice(deps, page, live, request);
    }
    case 'processing':
      return { kind: 'processing', intent };
    case 'succeeded':
    case 'canceled':
      return { kind: 'closed', intent };
    case 'requires_payment_method':
    case 'requires_confirmation':
      // A declined attempt waits for the shopper to choose to retry; one that merely expired
      // (the QR code timed out while the session is still open) is replaced at once.
      if (intent.last_payment_error !== null && !request.retry && !attemptExpired(intent)) return { kind: 'failed', intent };
      return confirmForPage(deps, page, request);
  }
}

/** The attempt open at the network that the PaymentIntent awaits (at most one: see preparePagePayment). */
export async function liveAttemptOf(ex: Executor, paymentIntentId: string): Promise<PaymentAttemptRow | null> {
  const open = await findOpenAttemptsForIntent(ex, paymentIntentId);
  return open.sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1))[0] ?? null;
}

/** The same kind of device as the attempt was made for: a desktop's QR code, or a phone's app jump for its OS. */
function sameDevice(attempt: PaymentAttemptRow, request: PagePaymentRequest): boolean {
  return attempt.terminal_type === request.terminalType && (request.terminalType === 'WEB' || attempt.os_type === request.osType);
}

/**
 * The shopper opened the page on another device than the live attempt was made for: a desktop's
 * QR code is useless on the phone that would scan it, and a phone's app jump cannot open on a
 * desktop. First Alipay+ is asked whether the live attempt was paid meanwhile (a scan just before
 * the switch): then the payment succeeds through it, recorded exactly as a notification would
 * be, and no new attempt is made. Only an attempt Alipay+ holds as unpaid is replaced (closed and
 * cancelled, a new one for this device sent; replaceAttempt). Without an answer from Alipay+ the
 * page keeps the live attempt: replacing it blind could cancel (reverse) a payment just made.
 */
async function switchDevice(deps: CoreDeps, page: CheckoutPageState, live: PaymentAttemptRow, request: PagePaymentRequest): Promise<PagePayment> {
  const keep: PagePayment = { kind: 'awaiting_shopper', intent: page.intent, attemptId: live.id };
  if (deps.connector.inquire === undefined) return keep;
  const applied = await inquireAndApply(deps, { inquire: deps.connector.inquire.bind(deps.connector) }, live);
  if (applied === 'unknown') return keep;
  if (applied !== 'pending') {
    // Paid, declined or closed meanwhile: the page shows what that left (a decline: the retry).
    const after = (await findPaymentIntentById(deps.database.db, page.intent.id)) ?? page.intent;
    return after.status === 'requires_action' ? keep : preparePagePayment(deps, { ...page, intent: after }, request);
  }
  const scope = { accountId: page.session.account_id, livemode: page.session.livemode === 1 };
  try {
    await replaceAttempt(deps, { scope, requestId: null, idempotency: null }, page.intent.id, live.id, pagePaymentParams(page, request));
  } catch (error) {
    // A decline is a 402 with last_payment_error; a lost race (another device switching or a
    // payment recorded first) is a 400 and changes nothing of ours. The stored state says which.
    if (!(error instanceof ApiError)) throw error;
  }
  return pagePaymentOf(deps, page.intent.id, page.intent);
}

/** Alipay+ closes an unpaid order at its expiry with ORDER_IS_CLOSED (the worker records it so). */
function attemptExpired(intent: PaymentIntentRow): boolean {
  const error = JSON.parse(intent.last_payment_error ?? 'null') as { decline_code?: string } | null;
  return error?.decline_code === 'ORDER_IS_CLOSED';
}

async function confirmForPage(deps: CoreDeps, page: CheckoutPageState, request: PagePaymentRequest): Promise<PagePayment> {
  const scope = { accountId: page.session.account_id, livemode: page.session.livemode === 1 };
  const ctx: RequestContext = { scope, requestId: null, idempotency: null };
  try {
    await confirmPaymentIntent(deps, ctx, page.intent.id, pagePaymentParams(page, request));
  } catch (error) {
    // A decline is a 402 and leaves the PaymentIntent with last_payment_error; a lost race (another
    // load confirming) is a 400/409 and leaves it processing. Either way the stored state says.
    if (!(error instanceof ApiError)) throw error;
  }
  return pagePaymentOf(deps, page.intent.id, page.intent);
}

function pagePaymentParams(page: CheckoutPageState, request: PagePaymentRequest): ConfirmPaymentIntentParams {
  return {
    // The shopper's e-mail given with the session is the payment method's (and so the charge's) billing e-mail, as on Stripe's checkout.
    payment_method_data: { type: 'alipay', ...(page.session.customer_email === null ? {} : { billing_details: { email: page.session.customer_email } }) },
    payment_method_options: { alipay: { terminal_type: request.terminalType, os_type: request.osType, client_ip: request.clientIp } },
    return_url: request.returnUrl,
  };
}

/** What the page shows after its confirm or replacement, read back from the store. */
async function pagePaymentOf(deps: CoreDeps, paymentIntentId: string, before: PaymentIntentRow): Promise<PagePayment> {
  const db = deps.database.db;
  const after = (await findPaymentIntentById(db, paymentIntentId)) ?? before;
  switch (after.status as PaymentIntentStatus) {
    case 'requires_action':
      return { kind: 'awaiting_shopper', intent: after, attemptId: (await liveAttemptOf(db, after.id))?.id ?? null };
    case 'processing':
      return { kind: 'processing', intent: after };
    case 'succeeded':
    case 'canceled':
      return { kind: 'closed', intent: after };
    case 'requires_payment_method':
    case 'requires_confirmation':
      return { kind: 'failed', intent: after };
  }
}
