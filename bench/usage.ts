/** What a benchmark's servers use: CPU time and peak memory, read from the OS (Linux). */
import { readFileSync } from 'node:fs';

/**
 * CPU time (user + system, ms) the calling thread has used so far, from /proc/thread-self/stat
 * (Linux; clock ticks assumed 100/s, so 10 ms resolution); null elsewhere. Node 20 has no
 * per-thread API.
 */
export function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system, ms) of the whole process so far: every thread. */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Peak resident set size of a process (VmHWM, Linux), MB; null when it cannot be read. */
export function peakRssMb(pid: number | 'self'): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    const kb = Number(line?.split(/\s+/)[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}
