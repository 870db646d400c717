import { randomFillSync, randomInt } from 'node:crypto';
import type { Clock } from './clock.js';

/** Object id prefixes of api.md §1, plus `pa_` for internal payment attempts. */
export type IdPrefix =
  | 'acct' | 'pi' | 'pm' | 'ch' | 're' | 'cs' | 'li' | 'prod' | 'price' | 'we' | 'evt' | 'dp' | 'txn'
  | 'cus' | 'req' | 'pa' | 'key' | 'usr' | 'aud';

/** Ids carry the creation millisecond followed by six digits: 13 + 6 = 19 digits until 2286. */
const SUFFIX_SPAN = 1_000_000n;
/**
 * Uniqueness across processes without coordination: each millisecond's sequence starts at a
 * random point in the lower half of the suffix span, and steps by a random 1–32, so two
 * processes minting in the same millisecond rarely meet even when their runs overlap. One
 * process still has ~30 000 ids per millisecond before it borrows from the next. The primary
 * keys reject the rare collision rather than overwrite anything.
 */
const RANDOM_START_MAX = 500_000;
const RANDOM_STEP_MAX = 32;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface IdGenerator {
  /** `<prefix>_<19 digits>`, strictly increasing within this generator. */
  next(prefix: IdPrefix): string;
}

export function createIdGenerator(clock: Clock): IdGenerator {
  let last = 0n;
  return {
    next(prefix) {
      const base = BigInt(clock.now()) * SUFFIX_SPAN;
      // A new millisecond starts afresh; within one (or when the clock stands still or steps
      // back: NTP, injected test clocks) the sequence moves on from the last id, so it is monotonic.
      const value = base > last ? base + BigInt(randomInt(RANDOM_START_MAX)) : last + 1n + BigInt(randomInt(RANDOM_STEP_MAX));
      last = value;
      return `${prefix}_${value.toString().padStart(19, '0')}`;
    },
  };
}

/**
 * Bytes from the CSPRNG drawn 4 KiB at a time and handed out once each, as Node's own randomUUID
 * and randomInt do: a synchronous randomBytes per client secret cost ~3 % of a create.
 */
const RANDOM_POOL_BYTES = 4096;
const randomPool = Buffer.alloc(RANDOM_POOL_BYTES);
let randomPoolNext = RANDOM_POOL_BYTES;

function randomByte(): number {
  if (randomPoolNext === RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolNext = 0;
  }
  return randomPool[randomPoolNext++]!;
}

/** Uniformly random characters from [A-Za-z0-9] (rejection sampling keeps the distribution flat). */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < 248) out += ALPHANUMERIC[byte % 62];
  }
  return out;
}

/** `<pi id>_secret_<24 alphanumerics>`: lets a browser read its own PaymentIntent. */
export function newClientSecret(paymentIntentId: string): string {
  return `${paymentIntentId}_secret_${randomAlphanumeric(24)}`;
}

/** The PaymentIntent id a client secret belongs to, or null when it has the wrong shape. */
export function paymentIntentIdOfClientSecret(clientSecret: string): string | null {
  const match = /^(pi_\d{19})_secret_[A-Za-z0-9]{24}$/.exec(clientSecret);
  return match ? match[1]! : null;
}
