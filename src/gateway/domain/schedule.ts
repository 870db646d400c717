import type { PaymentAttemptStatus } from './payment_attempts.js';

/**
 * When the worker looks at an attempt again (pure: times in, times out). alipayplus.md §5: a
 * notification normally arrives within seconds of the shopper paying, so an open attempt is not
 * polled while the shopper is on the cashier (Antom's "every 2 s" cost ~92 signed inquiries per
 * abandoned payment); the worker waits INQUIRY_FIRST_DELAY_MS for the notification first, then
 * inquires on a geometric backoff — each wait as long as the attempt's age, so inquiries come at
 * about 10 s, 20 s, 40 s, 80 s, 160 s, 320 s, then every INQUIRY_INTERVAL_MAX_MS — never later
 * than the expiry (inquire first, cancel second). An abandoned 14-minute payment costs 8
 * inquiries; a payment whose notification was lost is seen paid at most its age again later.
 * Cancels and refunds are retried with the same request id on a backoff until the network gives
 * a final answer.
 */

/** The first inquiry of a pending attempt: long enough for the notification to arrive first. */
export const INQUIRY_FIRST_DELAY_MS = 10_000;
/** The shortest wait between inquiries (the backoff's first step). */
export const INQUIRY_INTERVAL_MIN_MS = INQUIRY_FIRST_DELAY_MS;
export const INQUIRY_INTERVAL_MAX_MS = 5 * 60_000;

/**
 * How the request path talks to the network (the connector follows these): every request is sent
 * up to NETWORK_SENDS_MAX times with the same request id while the answer is unknown, waiting
 * NETWORK_RESEND_BACKOFF_MS × n after the n-th send, each send bounded by the request timeout.
 */
export const NETWORK_SENDS_MAX = 3;
export const NETWORK_RESEND_BACKOFF_MS = 200;
/** The request timeout unless ZHIFU_ALIPAYPLUS_TIMEOUT_MS says otherwise (the protocol client's default). */
export const NETWORK_TIMEOUT_MS_DEFAULT = 10_000;

/** The longest the request path can still be sending one request: every send times out, plus the backoff between them. */
export function sendWindowMs(timeoutMs: number): number {
  let backoff = 0;
  for (let send = 1; send < NETWORK_SENDS_MAX; send++) backoff += NETWORK_RESEND_BACKOFF_MS * send;
  return NETWORK_SENDS_MAX * timeoutMs + backoff;
}

/**
 * A `sending` attempt is left alone this long: the request path may still be re-sending the pay,
 * and an inquiry racing it would see ORDER_NOT_EXIST for an order that is about to exist. Twice
 * the sends' timeouts at the default timeout (60 s): the backoff and the request path's own
 * transactions fit in the other half.
 */
export const SENDING_CHECK_DELAY_MS = 2 * NETWORK_SENDS_MAX * NETWORK_TIMEOUT_MS_DEFAULT;
/** The same for a refund the request path recorded: it may still be sending it (same re-send rules). */
export const REFUND_SENDING_CHECK_DELAY_MS = SENDING_CHECK_DELAY_MS;
/** What the request path needs besides its sends (its transactions, the account lookup), at least. */
export const REQUEST_PATH_SLACK_MS = 10_000;

/**
 * Why a request timeout would break the delays above (the worker would inquire or re-send while
 * the request path is still sending), or null when it is consistent with them. Checked when the
 * configuration loads.
 */
export function timeoutInconsistency(timeoutMs: number): string | null {
  const needed = sendWindowMs(timeoutMs) + REQUEST_PATH_SLACK_MS;
  const delay = Math.min(SENDING_CHECK_DELAY_MS, REFUND_SENDING_CHECK_DELAY_MS);
  if (needed <= delay) return null;
  return `${NETWORK_SENDS_MAX} sends of ${timeoutMs} ms plus backoff and ${REQUEST_PATH_SLACK_MS} ms for the request path take ${needed} ms, longer than the ${delay} ms the worker waits before it looks at a payment or refund still being sent; use at most ${maxConsistentTimeoutMs()} ms`;
}

/** The longest request timeout consistent with SENDING_CHECK_DELAY_MS and REFUND_SENDING_CHECK_DELAY_MS. */
export function maxConsistentTimeoutMs(): number {
  const delay = Math.min(SENDING_CHECK_DELAY_MS, REFUND_SENDING_CHECK_DELAY_MS);
  return Math.floor((delay - REQUEST_PATH_SLACK_MS - (sendWindowMs(0))) / NETWORK_SENDS_MAX);
}

/** A `canceling` attempt waits this long first, so the request path's own cancel usually settles it. */
export const CANCEL_CHECK_DELAY_MS = 2_000;
/** Cancel and refund retries (same request ids), by the number of checks so far; the last repeats. */
export const RETRY_BACKOFF_MS: readonly number[] = [2_000, 10_000, 30_000, 60_000, 5 * 60_000];

/**
 * Bounded retries: an attempt or refund that got no final answer in this many worker checks of
 * one status moves to requires_attention. With the backoffs above that is more than a day of
 * retrying (the last steps repeat every 5 minutes), far past any outage the network recovers from.
 */
export const WORKER_CHECKS_MAX = 400;
/** A reversal (cancel or refund of money paid after a cancel) refused this many times is an operator's. */
export const REVERSAL_REFUSALS_MAX = 5;

/** A `sending` attempt with no expiry from the network gets the cashier's default (our pay request's paymentExpiryTime). */
export const SENDING_ATTEMPT_TTL_MS = 14 * 60_000;

/**
 * When the worker first looks at an attempt that just moved to `to` (null: the move leaves the
 * check time as it was — `sending` keeps its SENDING_CHECK_DELAY_MS, final statuses are never due).
 */
export function firstCheckAfterMove(to: PaymentAttemptStatus, nowMs: number): number | null {
  switch (to) {
    case 'pending':
      return nowMs + INQUIRY_FIRST_DELAY_MS;
    case 'canceling':
      return nowMs + CANCEL_CHECK_DELAY_MS;
    case 'sending':
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'requires_attention':
      return null;
  }
}

/**
 * The wait before the next inquiry of an attempt `ageMs` old: its age (so the inquiries double
 * the age each time: exponential backoff without a counter), within [INQUIRY_INTERVAL_MIN_MS,
 * INQUIRY_INTERVAL_MAX_MS].
 */
export function inquiryIntervalMs(ageMs: number): number {
  return Math.min(Math.max(ageMs, INQUIRY_INTERVAL_MIN_MS), INQUIRY_INTERVAL_MAX_MS);
}

/** The next inquiry of an open attempt: on the age-based backoff, but never later than its expiry. */
export function nextInquiryAt(createdMs: number, deadlineMs: number, nowMs: number): number {
  const next = nowMs + inquiryIntervalMs(nowMs - createdMs);
  return deadlineMs > nowMs ? Math.min(next, deadlineMs) : next;
}

export function nextRetryAt(checks: number, nowMs: number): number {
  const index = Math.min(Math.max(checks, 0), RETRY_BACKOFF_MS.length - 1);
  return nowMs + (RETRY_BACKOFF_MS[index] as number);
}

/** When an open attempt stops waiting for the shopper and is closed at the network. */
export function attemptDeadline(attempt: { expires_at: number | null; created: number }): number {
  return attempt.expires_at ?? attempt.created + SENDING_ATTEMPT_TTL_MS;
}
