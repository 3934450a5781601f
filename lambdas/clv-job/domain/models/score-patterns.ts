/**
 * Scoring on distinct patterns rather than on customers. Every prediction of the models is a
 * function of a customer's (x, t_x, T, m_x) alone — frequency, recency and tenure in days, monetary
 * value — so customers who share the four share every score, bit for bit. A customer base has far
 * fewer distinct patterns than customers (every one-time buyer of a day is one pattern), so scoring
 * the patterns and spreading the results back costs a fraction of scoring every customer. The
 * transaction model's part depends on (x, t_x, T) alone: the patterns' distinct tuples come with
 * them, found in the same pass, so that it is scored once per tuple without hashing them again.
 */
import { DistinctPairs } from './bg-nbd.js';
import type { ScoreInput } from './clv.js';
import { gather } from '../math/gather.js';

/** Rows of (x, recencyDays, tenureDays), as {@link ScoreInput} has them. */
export type TupleInput = Omit<ScoreInput, 'monetaryValue'>;

export interface ScoreTuples {
  /** One row per distinct (x, recencyDays, tenureDays), in order of first appearance. */
  readonly tuples: TupleInput;
  /** Row i's row in `tuples`. */
  readonly tupleOf: Int32Array;
}

export interface ScorePatterns {
  /** One row per distinct (x, recencyDays, tenureDays, monetaryValue), in order of first appearance. */
  readonly patterns: ScoreInput;
  /** Customer i's row in `patterns`. */
  readonly patternOf: Int32Array;
  /** The patterns' distinct (x, recencyDays, tenureDays), in order of first appearance (among customers or patterns: the same). */
  readonly tuples: TupleInput;
  /** Pattern p's row in `tuples`. */
  readonly tupleOf: Int32Array;
}

/**
 * The cascade that finds distinct tuples: (x, recency) pairs, then (pair, tenure). `tupleOf(i)`
 * gives row i's tuple (rows asked for in any order); `tuples()` the tuples found so far.
 */
const tupleFinder = (input: TupleInput): { readonly tupleOf: (i: number) => number; readonly tuples: () => TupleInput } => {
  const xr = new DistinctPairs();
  const xrt = new DistinctPairs();
  return {
    tupleOf: (i) => xrt.indexOf(xr.indexOf(input.x[i]!, input.recencyDays[i]!), input.tenureDays[i]!),
    tuples: () => {
      const pairOfTuple = xrt.firsts();
      return { x: gather(xr.firsts(), pairOfTuple), recencyDays: gather(xr.seconds(), pairOfTuple), tenureDays: xrt.seconds() };
    },
  };
};

const checkLengths = (input: TupleInput & { readonly monetaryValue?: Float64Array }): void => {
  const n = input.x.length;
  if (input.recencyDays.length !== n || input.tenureDays.length !== n || (input.monetaryValue !== undefined && input.monetaryValue.length !== n)) {
    const monetary = input.monetaryValue === undefined ? '' : `, monetaryValue ${input.monetaryValue.length}`;
    throw new RangeError(`score input columns differ in length: x ${n}, recencyDays ${input.recencyDays.length}, tenureDays ${input.tenureDays.length}${monetary}`);
  }
};

/**
 * The distinct (x, recencyDays, tenureDays) tuples of `input` and each row's tuple, compared as
 * numbers as {@link distinctScorePatterns} does. O(n) expected time, O(tuples) memory beyond the
 * index. Throws a RangeError when the columns differ in length.
 */
export const distinctTuples = (input: TupleInput): ScoreTuples => {
  checkLengths(input);
  const finder = tupleFinder(input);
  const tupleOf = new Int32Array(input.x.length);
  for (let i = 0; i < tupleOf.length; i++) tupleOf[i] = finder.tupleOf(i);
  return { tuples: finder.tuples(), tupleOf };
};

/**
 * The distinct scoring patterns of `input`, each customer's pattern, and the patterns' distinct
 * (x, recency, tenure) tuples with each pattern's tuple. Values are compared as numbers (so -0 is
 * 0, and a NaN never matches anything: such a row keeps a pattern of its own and fails validation
 * where it is scored, as it would have unpatterned). The monetary value is kept as given even where
 * x = 0 (where no score reads it), so scoring validates exactly what it did per customer. O(n)
 * expected time, O(patterns) memory beyond the index.
 * Throws a RangeError when the columns differ in length.
 */
export const distinctScorePatterns = (input: ScoreInput): ScorePatterns => {
  checkLengths(input);
  const n = input.x.length;
  // (x, recency), then (that, tenure), then (that, monetary value): one hash probe each
  const finder = tupleFinder(input);
  const all = new DistinctPairs();
  const patternOf = new Int32Array(n);
  for (let i = 0; i < n; i++) patternOf[i] = all.indexOf(finder.tupleOf(i), input.monetaryValue[i]!);
  const tupleOf = new Int32Array(all.firsts());
  const tuples = finder.tuples();
  const patterns: ScoreInput = {
    x: gather(tuples.x, tupleOf),
    recencyDays: gather(tuples.recencyDays, tupleOf),
    tenureDays: gather(tuples.tenureDays, tupleOf),
    monetaryValue: all.seconds(),
  };
  return { patterns, patternOf, tuples, tupleOf };
};

/** Per-customer values from per-pattern ones: out[i] = values[patternOf[i]]. */
export const spreadToCustomers = (values: Float64Array, patternOf: Int32Array): Float64Array => gather(values, patternOf);
