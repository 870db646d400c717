/**
 * Calendar days as the gateway counts them: UTC, from midnight to midnight. Reports, filters and
 * charts all speak of days this way, so an operator's "2026-11-29" means the same everywhere.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC midnight a `YYYY-MM-DD` date starts at, or null when it is not a calendar date (2026-02-30). */
export function utcDayStart(text: string): number | null {
  const match = DATE.exec(text);
  if (match === null) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(ms).toISOString().slice(0, 10) === text ? ms : null;
}

/** The UTC date (`YYYY-MM-DD`) of a moment. */
export function utcDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
