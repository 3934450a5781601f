import type { SizeResult } from './report.js';

/** The largest Lambda: 10,240 MB of memory (about 6 vCPUs), 15 minutes. */
export const LAMBDA = { memoryMb: 10_240, seconds: 900 } as const;

/**
 * Margins: the Lambda's own work may use 60% of the memory (V8's heap grows in steps and a
 * bigger export has longer strings than these) and half of the 15 minutes; the other half is
 * left to Athena running the run's queries and to S3 transfers, neither of which the profile
 * measures.
 */
export const MARGIN = { memoryShare: 0.6, timeShare: 0.5 } as const;

export interface Line {
  /** Fixed part (seconds or MB). */
  readonly intercept: number;
  /** Per million customers. */
  readonly perMillion: number;
}

/** Least-squares line through (millions of customers, value); through the single point's ratio when there is one. */
export const fitLine = (points: readonly (readonly [number, number])[]): Line => {
  if (points.length === 1) return { intercept: 0, perMillion: points[0]![1] / points[0]![0] };
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, perMillion: slope };
};

export interface LambdaSizing {
  readonly basis: string;
  readonly time: Line;
  readonly memory: Line;
  readonly budget: { readonly memory_mb: number; readonly seconds: number };
  readonly rows: readonly { customers: number; seconds: number; peak_rss_mb: number; measured: boolean }[];
  /** Largest customer base (rounded down to 0.5M) inside both budgets. */
  readonly max_customers: number;
  readonly limited_by: 'memory' | 'time';
}

const at = (line: Line, millions: number): number => line.intercept + line.perMillion * millions;
const solve = (line: Line, budget: number): number => (line.perMillion <= 0 ? Number.POSITIVE_INFINITY : (budget - line.intercept) / line.perMillion);

/** Lines through the Lambda profile's measurements, the projected table, and the largest base with margin. */
export const projectLambda = (sizes: readonly SizeResult[]): LambdaSizing | null => {
  const measured = sizes.filter((s) => s.lambda !== null);
  if (measured.length === 0) return null;
  const time = fitLine(measured.map((s) => [s.customers / 1e6, s.lambda!.seconds] as const));
  const memory = fitLine(measured.map((s) => [s.customers / 1e6, s.lambda!.peak_rss_mb] as const));
  const budget = { memory_mb: LAMBDA.memoryMb * MARGIN.memoryShare, seconds: LAMBDA.seconds * MARGIN.timeShare };
  const byMemory = solve(memory, budget.memory_mb);
  const byTime = solve(time, budget.seconds);
  const max = Math.floor(Math.min(byMemory, byTime) * 2) / 2;
  const projected = [2, 5, 10, 20, 50].filter((m) => !measured.some((s) => Math.abs(s.customers / 1e6 - m) < 0.05 * m));
  return {
    basis: `Lambda profile (recorded Athena results, local disk) at ${measured.map((s) => s.customers.toLocaleString('en-US')).join(', ')} customers`,
    time,
    memory,
    budget,
    rows: [
      ...measured.map((s) => ({ customers: s.customers, seconds: s.lambda!.seconds, peak_rss_mb: s.lambda!.peak_rss_mb, measured: true })),
      ...projected.map((m) => ({ customers: m * 1e6, seconds: at(time, m), peak_rss_mb: at(memory, m), measured: false })),
    ].sort((a, b) => a.customers - b.customers),
    max_customers: max * 1e6,
    limited_by: byMemory <= byTime ? 'memory' : 'time',
  };
};
