/**
 * The retry schedule of api.md §5 (WooshPay's "18 attempts over 72 hours"): the first attempt is
 * due when the event happens; after failed attempt n (1 ≤ n ≤ 17) the next is due
 * WEBHOOK_RETRY_DELAYS_MS[n − 1] later, ± WEBHOOK_RETRY_JITTER_RATIO. Nominal delays (minutes):
 *
 *   1, 2, 4, 8, 16, 32, 64, 128, 256, then 480 (8 h) eight times
 *
 * i.e. doubling from one minute, capped at eight hours: the 18th attempt comes 72 h 31 min after
 * the event (65 h 16 min … 79 h 46 min with jitter). After it fails the delivery is `failed`.
 */
export const WEBHOOK_ATTEMPTS_MAX = 18;
export const WEBHOOK_RETRY_BASE_MS = 60_000;
export const WEBHOOK_RETRY_CAP_MS = 8 * 60 * 60_000;
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = Array.from({ length: WEBHOOK_ATTEMPTS_MAX - 1 }, (_, i) => Math.min(WEBHOOK_RETRY_BASE_MS * 2 ** i, WEBHOOK_RETRY_CAP_MS));
/** Spreads retries of many deliveries that failed together (a receiver outage) so they do not return in one burst. */
export const WEBHOOK_RETRY_JITTER_RATIO = 0.1;

/** A source of uniform numbers in [0, 1): `Math.random` in production, scripted in tests. */
export type RandomSource = () => number;

/**
 * The delay before the attempt after failed attempt `attemptNumber` (1-based), or null when that
 * was the last one. Whole milliseconds, so the stored due times are exact.
 */
export function retryDelayMs(attemptNumber: number, random: RandomSource): number | null {
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) throw new RangeError(`attempt numbers start at 1, got ${attemptNumber}`);
  const nominal = WEBHOOK_RETRY_DELAYS_MS[attemptNumber - 1];
  if (nominal === undefined) return null;
  return Math.round(nominal * (1 + WEBHOOK_RETRY_JITTER_RATIO * (2 * random() - 1)));
}
