/**
 * Pure rules of hosted checkout (api.md §6): what a Checkout Session may contain, what it costs,
 * when it expires, and what its hosted page shows. No I/O, clock or ids: `now` is passed in.
 */
import { AMOUNT_MAX_MINOR, AMOUNT_MIN_MINOR } from './money.js';

export const CHECKOUT_SESSION_STATUSES = ['open', 'complete', 'expired'] as const;
export type CheckoutSessionStatus = (typeof CHECKOUT_SESSION_STATUSES)[number];

/** `expires_at` bounds (Stripe's and WooshPay's): 30 minutes to 24 hours after creation. */
export const SESSION_EXPIRY_MIN_MS = 30 * 60_000;
export const SESSION_EXPIRY_MAX_MS = 24 * 60 * 60_000;
export const SESSION_EXPIRY_DEFAULT_MS = SESSION_EXPIRY_MAX_MS;
/** Line items per session and units per line (Stripe's bounds). */
export const LINE_ITEMS_MAX = 100;
export const LINE_ITEM_QUANTITY_MAX = 999_999;
/**
 * `expires_at` below this is read as Unix seconds (what stripe-node users send), at or above it as
 * milliseconds (api.md's timestamps): 10^12 s is the year 33658, 10^12 ms is 2001, so no real
 * expiry is ambiguous.
 */
const SECONDS_BELOW = 1_000_000_000_000;

export type RuleResult<T> = { ok: true; value: T } | { ok: false; code: string; param: string; message: string };

const refuse = (code: string, param: string, message: string): RuleResult<never> => ({ ok: false, code, param, message });

/** The session's expiry in ms, within 30 min … 24 h of `nowMs` (default 24 h). */
export function sessionExpiry(requested: number | null | undefined, nowMs: number): RuleResult<number> {
  if (requested == null) return { ok: true, value: nowMs + SESSION_EXPIRY_DEFAULT_MS };
  const atMs = requested < SECONDS_BELOW ? requested * 1000 : requested;
  const inMs = atMs - nowMs;
  if (inMs < SESSION_EXPIRY_MIN_MS || inMs > SESSION_EXPIRY_MAX_MS) {
    return refuse('parameter_invalid', 'expires_at', `expires_at must be between 30 minutes and 24 hours after the session is created; got ${requested} (${Math.round(inMs / 60_000)} minutes from now).`);
  }
  return { ok: true, value: atMs };
}

/** One line as priced: where its price came from (for error messages) and what it costs. */
export interface PricedLine {
  /** `line_items[i]` as the merchant sent it. */
  param: string;
  currency: string;
  unitAmount: number;
  quantity: number;
  type: 'one_time' | 'recurring';
}

export interface SessionAmounts {
  currency: string;
  /** Per line, unit_amount × quantity, in the smallest currency unit. */
  lineAmounts: number[];
  total: number;
}

/**
 * Alipay's Checkout rules from the seed: one-time prices only, every line in one currency; and the
 * amounts computed exactly (integers, never beyond 2^53−1), the total at least 0.01.
 */
export function priceSession(lines: readonly PricedLine[]): RuleResult<SessionAmounts> {
  const first = lines[0];
  if (first === undefined) return refuse('parameter_missing', 'line_items', 'line_items must hold at least one item.');
  const recurring = lines.find((line) => line.type === 'recurring');
  if (recurring !== undefined) {
    return refuse('parameter_invalid', recurring.param, `${recurring.param} uses a recurring price; Alipay Checkout Sessions take one-time prices only (mode=payment).`);
  }
  const other = lines.find((line) => line.currency !== first.currency);
  if (other !== undefined) {
    const byCurrency = lines.map((line) => `${line.param} is ${line.currency}`).join(', ');
    return refuse('parameter_invalid', other.param, `All line items must use the same currency for Alipay (${byCurrency}); create one Checkout Session per currency.`);
  }
  const lineAmounts: number[] = [];
  let total = 0n;
  for (const line of lines) {
    const amount = BigInt(line.unitAmount) * BigInt(line.quantity);
    if (amount > BigInt(AMOUNT_MAX_MINOR)) return refuse('amount_too_large', line.param, `${line.param} costs ${amount} (unit_amount × quantity), more than the largest amount ${AMOUNT_MAX_MINOR}.`);
    lineAmounts.push(Number(amount));
    total += amount;
  }
  if (total > BigInt(AMOUNT_MAX_MINOR)) return refuse('amount_too_large', 'line_items', `The session's total ${total} is more than the largest amount ${AMOUNT_MAX_MINOR} in the smallest currency unit.`);
  if (total < BigInt(AMOUNT_MIN_MINOR)) return refuse('amount_too_small', 'line_items', `The session's total must be at least ${AMOUNT_MIN_MINOR} in the smallest currency unit (0.01 CNY); got ${total}.`);
  return { ok: true, value: { currency: first.currency, lineAmounts, total: Number(total) } };
}

/** `success_url` with Stripe's `{CHECKOUT_SESSION_ID}` template filled in. */
export function successRedirect(successUrl: string, sessionId: string): string {
  return browserHref(successUrl.replaceAll('{CHECKOUT_SESSION_ID}', sessionId));
}

/** A merchant URL as a link: bare hosts (the seed's `www.baidu.com`) get https://. */
export function browserHref(url: string): string {
  return /^https?:\/\//i.test(url) ? url : `https://${url}`;
}

export type ShopperDevice = { terminal: 'WEB' } | { terminal: 'WAP'; os: 'IOS' | 'ANDROID' };

/** Desktop browsers get a QR code (WEB); phones go on to the Alipay app (WAP with their OS). */
export function shopperDevice(userAgent: string | undefined): ShopperDevice {
  const ua = userAgent ?? '';
  if (/iPhone|iPad|iPod/i.test(ua)) return { terminal: 'WAP', os: 'IOS' };
  if (/Android/i.test(ua)) return { terminal: 'WAP', os: 'ANDROID' };
  return { terminal: 'WEB' };
}

export type PageLanguage = 'zh' | 'en';

/**
 * The hosted page's language: the shopper's switch first, then the session's `locale`, then the
 * browser's Accept-Language; Chinese when nothing says otherwise (the shoppers are Chinese).
 */
export function pageLanguage(chosen: string | undefined, sessionLocale: string | null, acceptLanguage: string | undefined): PageLanguage {
  if (chosen === 'zh' || chosen === 'en') return chosen;
  if (sessionLocale !== null && sessionLocale !== 'auto') return sessionLocale.startsWith('zh') ? 'zh' : 'en';
  const first = (acceptLanguage ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'zh';
}
