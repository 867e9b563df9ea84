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
