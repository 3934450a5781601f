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
 * (x, recency, tenure) packed into one double, x · 2^42 + recency · 2^21 + tenure, exact and one to
 * one while x < 2^11 and recency, tenure < 2^21 (days: 5,700 years) are whole numbers ≥ 0: then a
 * pattern is one pair (packed tuple, monetary value), found by one hash probe rather than three.
 */
const PACK_LOW = 2 ** 21;
const PACK_HIGH = 2 ** 42;
const PACK_X_LIMIT = 2 ** 11;

const packable = (v: number, limit: number): boolean => Number.isInteger(v) && v >= 0 && v < limit;

/** Whether every row of `input` packs (see {@link PACK_LOW}); O(n), sequential reads only. */
const packsAll = (input: TupleInput): boolean => {
  for (let i = 0; i < input.x.length; i++) {
    if (!(packable(input.x[i]!, PACK_X_LIMIT) && packable(input.recencyDays[i]!, PACK_LOW) && packable(input.tenureDays[i]!, PACK_LOW))) return false;
  }
  return true;
};

/**
 * distinctScorePatterns on rows that all pack: patterns are pairs (packed tuple, monetary value),
 * and a tuple is looked up only when its pattern is new. Ids in order of first appearance, as the
 * cascade gives them.
 */
const packedScorePatterns = (input: ScoreInput): ScorePatterns => {
  const n = input.x.length;
  const all = new DistinctPairs();
  const packedTuples = new DistinctPairs();
  const patternOf = new Int32Array(n);
  let tupleOf = new Int32Array(1024);
  for (let i = 0; i < n; i++) {
    const packed = input.x[i]! * PACK_HIGH + input.recencyDays[i]! * PACK_LOW + input.tenureDays[i]!;
    const size = all.size;
    const pattern = all.indexOf(packed, input.monetaryValue[i]!);
    patternOf[i] = pattern;
    if (pattern === size) {
      if (size === tupleOf.length) {
        const grown = new Int32Array(2 * size);
        grown.set(tupleOf);
        tupleOf = grown;
      }
      tupleOf[size] = packedTuples.indexOf(packed, 0);
    }
  }
  const keys = packedTuples.firsts();
  const tuples = { x: new Float64Array(keys.length), recencyDays: new Float64Array(keys.length), tenureDays: new Float64Array(keys.length) };
  for (let t = 0; t < keys.length; t++) {
    const k = keys[t]!;
    tuples.x[t] = Math.floor(k / PACK_HIGH);
    tuples.recencyDays[t] = Math.floor(k / PACK_LOW) % PACK_LOW;
    tuples.tenureDays[t] = k % PACK_LOW;
  }
  return patternsOn(tuples, tupleOf.slice(0, all.size), patternOf, all.seconds());
};

/** The patterns' columns from their tuples. */
const patternsOn = (tuples: TupleInput, tupleOf: Int32Array, patternOf: Int32Array, monetaryValue: Float64Array): ScorePatterns => ({
  patterns: { x: gather(tuples.x, tupleOf), recencyDays: gather(tuples.recencyDays, tupleOf), tenureDays: gather(tuples.tenureDays, tupleOf), monetaryValue },
  patternOf,
  tuples,
  tupleOf,
});

/**
 * The distinct scoring patterns of `input`, each customer's pattern, and the patterns' distinct
 * (x, recency, tenure) tuples with each pattern's tuple. Values are compared as numbers (so -0 is
 * 0, and a NaN never matches anything: such a row keeps a pattern of its own and fails validation
 * where it is scored, as it would have unpatterned). The monetary value is kept as given even where
 * x = 0 (where no score reads it), so scoring validates exactly what it did per customer. O(n)
 * expected time, O(patterns) memory beyond the index: one hash probe per customer when x, recency
 * and tenure are whole days in range (as the engine gives them), else three.
 * Throws a RangeError when the columns differ in length.
 */
export const distinctScorePatterns = (input: ScoreInput): ScorePatterns => {
  checkLengths(input);
  if (packsAll(input)) return packedScorePatterns(input);
  const n = input.x.length;
  // (x, recency), then (that, tenure), then (that, monetary value): one hash probe each
  const finder = tupleFinder(input);
  const all = new DistinctPairs();
  const patternOf = new Int32Array(n);
  for (let i = 0; i < n; i++) patternOf[i] = all.indexOf(finder.tupleOf(i), input.monetaryValue[i]!);
  return patternsOn(finder.tuples(), new Int32Array(all.firsts()), patternOf, all.seconds());
};

/** Per-customer values from per-pattern ones: out[i] = values[patternOf[i]]. */
export const spreadToCustomers = (values: Float64Array, patternOf: Int32Array): Float64Array => gather(values, patternOf);
