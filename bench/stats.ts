/** Small numeric helpers for the benchmark: percentiles of raw samples and table formatting. */

/** Nearest-rank percentile (0 < p ≤ 100) of samples in milliseconds; NaN when there are none. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** Collects latency samples (ms, fractional) up to a fixed count, so memory stays bounded. */
export class Samples {
  private values: Float64Array;
  private length = 0;
  /** Samples offered after the buffer was full (not kept; the percentiles then cover the first `max`). */
  dropped = 0;

  constructor(private readonly max = 5_000_000) {
    this.values = new Float64Array(Math.min(max, 65_536));
  }

  add(ms: number): void {
    if (this.length === this.values.length) {
      if (this.length >= this.max) {
        this.dropped += 1;
        return;
      }
      const grown = new Float64Array(Math.min(this.max, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ms;
  }

  get count(): number {
    return this.length;
  }

  summary(): { count: number; p50: number; p90: number; p99: number; max: number; mean: number } {
    const sorted = this.values.slice(0, this.length).sort();
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
      mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    };
  }
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** `0.42×` style; `—` when either side is missing. */
export function ratio(value: number, baseline: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return '—';
  const r = value / baseline;
  return `${r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toFixed(3)}×`;
}

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/** Renders rows as a plain-text table with a header rule; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
