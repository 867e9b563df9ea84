import { readFileSync } from 'node:fs';

// Small statistics and formatting helpers for the benchmark.

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export const median = (values: number[]) => percentile(values, 50);

export const ms = (value: number, digits = 2) => `${value.toFixed(digits)} ms`;

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Runs `fn` `times` times in sequence. */
export async function repeat(times: number, fn: (index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < times; i++) await fn(i);
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux; undefined elsewhere). CPU per
 * request is steadier than requests/s on a shared machine: other people's work steals wall time, not CPU time.
 */
export function cpuMsOf(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return undefined;
  }
}

/** User and system CPU time (ms) of a process so far, separately (Linux /proc; undefined elsewhere). */
export function cpuSplitOf(pid: number | undefined): { user: number; system: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { user: (Number(fields[11]) * 1000) / 100, system: (Number(fields[12]) * 1000) / 100 };
  } catch {
    return undefined;
  }
}
