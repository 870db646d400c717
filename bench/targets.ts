/**
 * Issue 13's performance targets, checked against one run's figures: each line says what was
 * measured, what the target is, and whether it was met. Ratios are against the bare Fastify
 * baseline of the same run, so they mean the same on any machine of this kind.
 */
import { fixed, ratio } from './stats.js';

/** What the targets need from the run, all optional: a scenario left out prints as "not run". */
export interface TargetFigures {
  baseline: { perSecond: number; cpuMsPerOp: number | null };
  create?: { perSecond: number; cpuMsPerOp: number | null; p99Ms: number };
  payment?: { perSecond: number; gatewayCpuMsPerOp: number | null };
  /** The paced webhooks run (creates per second as asked), and what the worker kept up with. */
  webhooksPaced?: { rate: number; producedPerSecond: number; deliveredPerSecond: number; lagP99Ms: number; missing: number; duplicates: number };
  /** Events delivered per second by the worker alone, with a backlog and no creates competing. */
  drainPerSecond?: number | null;
  /** Each lookup's time at the largest size over its time at the smallest. */
  lookups?: Array<{ side: string; name: string; ratio: number }>;
  /** The gateway process's peak resident set size over the run's scenarios, MB; and the sandbox process's. */
  rssMaxMb?: number;
  sandboxRssMaxMb?: number;
}

export interface TargetLine {
  met: boolean | null;
  text: string;
}

export const TARGETS = {
  createVsBare: 0.2,
  createCpuMs: 0.2,
  createP99Ms: 10,
  paymentsPerSecond: 600,
  paymentGatewayCpuMs: 1.2,
  webhookRate: 1000,
  webhookLagP99Ms: 250,
  drainPerSecond: 5000,
  lookupRatioMax: 1.2,
  rssMb: 250,
} as const;

const notRun = (what: string): TargetLine => ({ met: null, text: `${what}: not run in this invocation` });

export function checkTargets(f: TargetFigures): TargetLine[] {
  const lines: TargetLine[] = [];
  const c = f.create;
  if (c) {
    const r = c.perSecond / f.baseline.perSecond;
    lines.push({ met: r >= TARGETS.createVsBare, text: `durable create (Idempotency-Key) ${ratio(c.perSecond, f.baseline.perSecond)} bare Fastify (target ≥ ${TARGETS.createVsBare}×)` });
    lines.push({ met: c.cpuMsPerOp === null ? null : c.cpuMsPerOp <= TARGETS.createCpuMs, text: `durable create server CPU ${c.cpuMsPerOp === null ? '—' : fixed(c.cpuMsPerOp, 3)} ms/request (target ≤ ${TARGETS.createCpuMs})` });
    lines.push({ met: c.p99Ms < TARGETS.createP99Ms, text: `durable create p99 ${fixed(c.p99Ms, 2)} ms at the run's connections (target < ${TARGETS.createP99Ms} ms at 20)` });
  } else lines.push(notRun('durable create'));
  const p = f.payment;
  if (p) {
    lines.push({ met: p.perSecond >= TARGETS.paymentsPerSecond, text: `full payment ${fixed(p.perSecond, 0)} payments/s (target ≥ ${TARGETS.paymentsPerSecond})` });
    lines.push({ met: p.gatewayCpuMsPerOp === null ? null : p.gatewayCpuMsPerOp <= TARGETS.paymentGatewayCpuMs, text: `full payment gateway CPU ${p.gatewayCpuMsPerOp === null ? '—' : fixed(p.gatewayCpuMsPerOp, 3)} ms/payment (target ≤ ${TARGETS.paymentGatewayCpuMs})` });
  } else lines.push(notRun('full payment'));
  const w = f.webhooksPaced;
  if (w) {
    const pace = w.rate >= TARGETS.webhookRate && w.producedPerSecond >= 0.95 * w.rate && w.deliveredPerSecond >= 0.95 * w.producedPerSecond;
    lines.push({
      met: pace && w.lagP99Ms < TARGETS.webhookLagP99Ms && w.missing === 0 && w.duplicates === 0,
      text: `webhooks at ${w.rate} creates/s: produced ${fixed(w.producedPerSecond, 0)}/s, delivered ${fixed(w.deliveredPerSecond, 0)}/s during the load, lag p99 ${fixed(w.lagP99Ms, 1)} ms, ${w.missing} missing, ${w.duplicates} duplicates (target: keep pace with ${TARGETS.webhookRate}/s, lag p99 < ${TARGETS.webhookLagP99Ms} ms, exactly once)`,
    });
  } else lines.push(notRun(`webhooks at ${TARGETS.webhookRate} creates/s`));
  if (f.drainPerSecond !== undefined) {
    lines.push({ met: f.drainPerSecond === null ? null : f.drainPerSecond >= TARGETS.drainPerSecond, text: `webhook backlog drained at ${f.drainPerSecond === null ? '— (no backlog to measure)' : fixed(f.drainPerSecond, 0)} events/s (target ≥ ${TARGETS.drainPerSecond})` });
  } else lines.push(notRun('webhook drain'));
  if (f.lookups && f.lookups.length > 0) {
    for (const side of [...new Set(f.lookups.map((l) => l.side))]) {
      const rows = f.lookups.filter((l) => l.side === side);
      const worst = rows.reduce((a, b) => (b.ratio > a.ratio ? b : a));
      const over = rows.filter((l) => l.ratio > TARGETS.lookupRatioMax);
      lines.push({
        met: over.length === 0,
        text: `${side} lookups: worst ${worst.name} ${fixed(worst.ratio, 2)}× from the smallest to the largest store (target ≤ ${TARGETS.lookupRatioMax}×)${over.length > 0 ? `; over: ${over.map((l) => `${l.name} ${fixed(l.ratio, 2)}×`).join(', ')}` : ''}`,
      });
    }
  } else lines.push(notRun('lookups flat from 10k to 1M'));
  if (f.rssMaxMb !== undefined) lines.push({ met: f.rssMaxMb < TARGETS.rssMb, text: `gateway process peak resident memory ${fixed(f.rssMaxMb, 0)} MB${f.sandboxRssMaxMb === undefined ? '' : ` (the sandbox process: ${fixed(f.sandboxRssMaxMb, 0)} MB)`} (target < ${TARGETS.rssMb} MB)` });
  else lines.push(notRun('resident memory'));
  return lines;
}

export function formatTargets(lines: TargetLine[]): string[] {
  return lines.map((l) => `${l.met === null ? '  ·' : l.met ? '  ✔' : '  ✘'} ${l.text}`);
}
