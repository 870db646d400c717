/**
 * Alipay+ datetimes are ISO 8601 with an explicit offset (`2026-11-26T12:01:01+08:00`).
 * Alipay+ works in China Standard Time, so that is the offset we write.
 */
export const CHINA_OFFSET_MINUTES = 8 * 60;

export function formatDateTime(epochMs: number, offsetMinutes = CHINA_OFFSET_MINUTES): string {
  const shifted = new Date(epochMs + offsetMinutes * 60_000);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${shifted.toISOString().slice(0, 19)}${offset}`;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an ISO 8601 datetime that carries an offset; returns null for anything else. */
export function parseDateTime(value: unknown): number | null {
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
