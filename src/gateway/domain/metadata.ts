/** Metadata limits of api.md §1 (Stripe's). */
export const METADATA_KEYS_MAX = 50;
export const METADATA_KEY_LENGTH_MAX = 40;
export const METADATA_VALUE_LENGTH_MAX = 500;

export type Metadata = Record<string, string>;

/**
 * Applies a metadata update: a null update clears everything, a null value removes its key,
 * other values set theirs (Stripe's merge semantics for `metadata[k]=` and `metadata=`).
 */
export function mergeMetadata(current: Metadata, update: Record<string, string | null> | null): Metadata {
  if (update === null) return {};
  // A Map, then fromEntries: keys such as "__proto__" stay ordinary data keys.
  const next = new Map(Object.entries(current));
  for (const [key, value] of Object.entries(update)) {
    if (value === null) next.delete(key);
    else next.set(key, value);
  }
  return Object.fromEntries(next);
}
