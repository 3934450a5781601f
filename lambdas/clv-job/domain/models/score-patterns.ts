/**
 * Scoring on distinct patterns rather than on customers. Every prediction of the models is a
 * function of a customer's (x, t_x, T, m_x) alone — frequency, recency and tenure in days, monetary
 * value — so customers who share the four share every score, bit for bit. A customer base has far
 * fewer distinct patterns than customers (every one-time buyer of a day is one pattern), so scoring
 * the patterns and spreading the results back costs a fraction of scoring every customer.
 */
import { DistinctPairs } from './bg-nbd.js';
import type { ScoreInput } from './clv.js';
import { gather } from '../math/gather.js';

export interface ScorePatterns {
  /** One row per distinct (x, recencyDays, tenureDays, monetaryValue), in order of first appearance. */
  readonly patterns: ScoreInput;
  /** Customer i's row in `patterns`. */
  readonly patternOf: Int32Array;
}

/**
 * The distinct scoring patterns of `input` and each customer's pattern. Values are compared as
 * numbers (so -0 is 0, and a NaN never matches anything: such a row keeps a pattern of its own and
 * fails validation where it is scored, as it would have unpatterned). The monetary value is kept as
 * given even where x = 0 (where no score reads it), so scoring validates exactly what it did per
 * customer. O(n) expected time, O(patterns) memory beyond the index.
 * Throws a RangeError when the columns differ in length.
 */
export const distinctScorePatterns = (input: ScoreInput): ScorePatterns => {
  const n = input.x.length;
  if (input.recencyDays.length !== n || input.tenureDays.length !== n || input.monetaryValue.length !== n) {
    throw new RangeError(
      `score input columns differ in length: x ${n}, recencyDays ${input.recencyDays.length}, tenureDays ${input.tenureDays.length}, monetaryValue ${input.monetaryValue.length}`,
    );
  }
  // (x, recency), then (that, tenure), then (that, monetary value): one hash probe each
  const xr = new DistinctPairs();
  const xrt = new DistinctPairs();
  const all = new DistinctPairs();
  const patternOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    patternOf[i] = all.indexOf(xrt.indexOf(xr.indexOf(input.x[i]!, input.recencyDays[i]!), input.tenureDays[i]!), input.monetaryValue[i]!);
  }
  const xrOf = xrt.firsts();
  const tenure = xrt.seconds();
  const xOf = xr.firsts();
  const recency = xr.seconds();
  const xrtOf = all.firsts();
  const xrOfPattern = gather(xrOf, xrtOf);
  const patterns: ScoreInput = {
    x: gather(xOf, xrOfPattern),
    recencyDays: gather(recency, xrOfPattern),
    tenureDays: gather(tenure, xrtOf),
    monetaryValue: all.seconds(),
  };
  return { patterns, patternOf };
};

/** Per-customer values from per-pattern ones: out[i] = values[patternOf[i]]. */
export const spreadToCustomers = (values: Float64Array, patternOf: Int32Array): Float64Array => gather(values, patternOf);
