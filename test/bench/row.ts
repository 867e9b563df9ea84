import type { BenchEnv } from './env.js';

export interface Measured {
  figure: string;
  /** null when the figure has no pass/fail reading (e.g. a sub-measure). */
  met: boolean | null;
  details?: Record<string, unknown>;
}

/** One line of the table: a small function that measures one thing. */
export interface Row {
  id: string;
  what: string;
  target: string;
  /** Routes ("METHOD route") the row needs; without them it prints "n/a (not built yet)". */
  needs?: string[];
  measure(env: BenchEnv): Promise<Measured>;
}

export interface RowResult extends Measured {
  id: string;
  what: string;
  target: string;
  seconds: number;
}
