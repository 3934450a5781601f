/**
 * The per-customer intervals' work (uncertainty.ts `customerIntervals`) as four phases, each a
 * function over a range of indices that writes only its own part of caller-given arrays, so that
 * the ranges of a phase can run in any order, on any thread, and give the same numbers bit for bit
 * as one pass over the whole range:
 *
 *   1. per draw: the (x, tenure) pairs' discounted expectations while alive and the tuples' P(alive);
 *   2. per tuple: P(alive) and expected purchases under each draw, their percentiles (and the tuple's
 *      row of phase 1 turned into discounted expected purchases);
 *   3. per row: the CLV under each draw, its percentiles;
 *   4. per draw: the equity, Σ CLV over the customers added up in customer order.
 *
 * Phase k reads what phase k - 1 wrote over its whole range; 3 and 4 only read. The arrays may be
 * backed by a SharedArrayBuffer (the caller's business: this module is pure).
 */
import { distinctTuples } from './score-patterns.js';
import { checkSpendParams, indexPurchases, preparedOf, type ClvSettings, type PreparedPurchases, type PurchaseIndex, type ScoreInput } from './clv.js';
import { conditionalExpectedOrderValueUnchecked, type GammaGammaParams } from './gamma-gamma.js';
import type { TransactionModel } from './transaction-model.js';

/** Lower and upper percentile of the intervals: a central 90% interval. */
export const INTERVAL_LOWER = 0.05;
export const INTERVAL_UPPER = 0.95;

/** The q-quantile of sorted values, linear between order statistics (Hyndman & Fan type 7, R's default). */
export const quantileSorted = (sorted: Float64Array, q: number): number => {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
};

/**
 * Rearranges `v` so that v[k] holds the value a sort would put there, with no larger value before
 * it and no smaller one after (Hoare's FIND, as Wirth writes it). Expected O(length). Values must
 * not be NaN.
 */
const selectInPlace = (v: Float64Array, k: number): void => {
  let left = 0;
  let right = v.length - 1;
  while (left < right) {
    const pivot = v[k]!;
    let i = left;
    let j = right;
    do {
      while (v[i]! < pivot) i++;
      while (pivot < v[j]!) j--;
      if (i <= j) {
        const swap = v[i]!;
        v[i] = v[j]!;
        v[j] = swap;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) left = i;
    if (k < i) right = j;
  }
};

/**
 * {@link quantileSorted} of `values` without sorting them: the two order statistics it reads, by
 * selection (the next one up is the least value after the selected one). `values` is left rearranged.
 */
const quantileBySelection = (values: Float64Array, q: number): number => {
  const at = (values.length - 1) * q;
  const lo = Math.floor(at);
  selectInPlace(values, lo);
  let next = values[lo]!;
  if (lo + 1 < values.length) {
    next = values[lo + 1]!;
    for (let i = lo + 2; i < values.length; i++) if (values[i]! < next) next = values[i]!;
  }
  return values[lo]! + (at - lo) * (next - values[lo]!);
};

/**
 * Draws handled together where a pass per draw over many rows would touch memory one number at a
 * time: storing the tuples' draws, summing the equity over the customers (memory: rows · this many
 * numbers). Eight doubles are one 64-byte cache line: the per-draw matrices' rows are padded to a
 * multiple of it, so that ranges of draws starting at multiples of it never write the same line
 * (threads writing one line in turns would pass it back and forth).
 */
export const DRAW_BLOCK = 8;

/** Tails longer than this are found by selection rather than kept in a sorted buffer. */
const TAIL_BUFFER = 8;

/**
 * The central interval of `draws` values, as {@link quantileSorted} gives it on the sorted values
 * at INTERVAL_LOWER and INTERVAL_UPPER, bit for bit: each quantile reads two order statistics, and
 * those do not depend on how they are found. With short tails (100 draws: the 6 least and the 6
 * greatest values) one pass keeps each tail in a small sorted buffer — two comparisons a value;
 * otherwise by selection. Values must be finite (they are: every score is); `values` may be
 * rearranged. Writes [lower, upper] to `out`.
 */
const makeIntervalOf = (draws: number): ((values: Float64Array, out: Float64Array) => void) => {
  const atLo = (draws - 1) * INTERVAL_LOWER;
  const kLo = Math.floor(atLo);
  const atHi = (draws - 1) * INTERVAL_UPPER;
  const kHi = Math.floor(atHi);
  // the least values up to sorted[kLo + 1], the greatest from sorted[kHi]
  const lowLength = Math.min(kLo + 2, draws);
  const highLength = draws - kHi;
  if (lowLength > TAIL_BUFFER || highLength > TAIL_BUFFER) {
    return (values, out) => {
      out[0] = quantileBySelection(values, INTERVAL_LOWER);
      out[1] = quantileBySelection(values, INTERVAL_UPPER);
    };
  }
  const low = new Float64Array(lowLength);
  const high = new Float64Array(highLength);
  return (values, out) => {
    for (let i = 0; i < draws; i++) {
      const v = values[i]!;
      // low ascending, the least values seen; high ascending, the greatest (equal values are interchangeable)
      if (i < lowLength || v < low[lowLength - 1]!) {
        let j = Math.min(i, lowLength - 1);
        while (j > 0 && low[j - 1]! > v) {
          low[j] = low[j - 1]!;
          j--;
        }
        low[j] = v;
      }
      if (i < highLength) {
        let j = i;
        while (j > 0 && high[j - 1]! > v) {
          high[j] = high[j - 1]!;
          j--;
        }
        high[j] = v;
      } else if (v > high[0]!) {
        let j = 0;
        while (j < highLength - 1 && high[j + 1]! < v) {
          high[j] = high[j + 1]!;
          j++;
        }
        high[j] = v;
      }
    }
    const lo0 = low[kLo]!;
    const lo1 = low[Math.min(kLo + 1, lowLength - 1)]!;
    const hi0 = high[0]!;
    const hi1 = high[Math.min(1, highLength - 1)]!;
    out[0] = lo0 + (atLo - kLo) * (lo1 - lo0);
    out[1] = hi0 + (atHi - kHi) * (hi1 - hi0);
  };
};


/**
 * What every phase reads that does not depend on the draws: the rows indexed into distinct
 * (x, recency, tenure) tuples and (x, tenure) pairs. Plain arrays and numbers, so that it is built
 * once and sent to the threads that share the phases ({@link planOnIndex} there).
 */
export interface IntervalIndex {
  /** Rows of the input (customers, or distinct patterns). */
  readonly rows: number;
  /** Customers the equity sums over: patternOf's length, or the rows. */
  readonly customers: number;
  /** Distinct (x, recency, tenure) tuples, and row i's. */
  readonly tuples: number;
  readonly tupleOf: Int32Array;
  /** The tuples indexed for scoring ({@link indexPurchases}). */
  readonly purchases: PurchaseIndex;
  readonly x: ScoreInput['x'];
  readonly monetaryValue: Float64Array;
  readonly patternOf: Int32Array | undefined;
  readonly margin: number;
}

/** What every phase reads: the index, the tuples prepared for scoring ({@link preparedOf}), and the draws. Read only, but for its scratch memory. */
export interface IntervalPlan extends IntervalIndex {
  /** The index it was planned on, as built (what another thread plans the same phases on). */
  readonly index: IntervalIndex;
  readonly transactions: readonly TransactionModel[];
  readonly draws: number;
  /** Entries per row of the per-draw matrices: draws, padded up to a multiple of DRAW_BLOCK. */
  readonly stride: number;
  /**
   * The rows by tuple (ascending; rows of one tuple in row order): the order the per-row phases
   * visit them in, so that they read the tuples' rows of the per-tuple matrix one after another
   * rather than at random (the matrix is hundreds of megabytes at a million customers: a random
   * row is a trip to memory).
   */
  readonly rowsByTuple: Int32Array;
  /**
   * What a row's CLV reads of it, in the order of rowsByTuple (entry k is row rowsByTuple[k]'s):
   * its tuple and its monetary value where x > 0 (else 0: what E(M | x, m_x) reads); its x is its
   * tuple's. The per-row phases read these one after another rather than at random (at 5 M
   * customers, trips to memory that took a third of the equity phase).
   */
  readonly rowColumns: { readonly tuple: Int32Array; readonly monetaryValue: Float64Array };
  readonly prepared: PreparedPurchases;
  /** The Gamma-Gamma draws, one array per parameter. */
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly gamma: Float64Array;
  /**
   * `length` numbers of scratch memory for one phase range at a time, the same memory each call
   * (its contents are whatever the last range left): a range of draws needs tens of megabytes at a
   * million customers, and allocating them afresh for every range cost ~0.1 s per job. A plan is
   * used by one thread (each builds its own), so no two ranges use it at once. Allocated once, at
   * the first call, for the longest any phase asks for ({@link scratchLength}).
   */
  scratch(length: number): Float64Array;
}

/**
 * Validates and indexes the input for the phases. Cost O(rows + customers) expected (hashing).
 * Throws a RangeError for invalid input (see scoreTuples), or when `patternOf` names a row `input`
 * lacks.
 */
export const indexIntervals = (input: ScoreInput, settings: ClvSettings, patternOf?: Int32Array): IntervalIndex => {
  const n = input.x.length;
  if (patternOf !== undefined) {
    for (let c = 0; c < patternOf.length; c++) {
      const row = patternOf[c]!;
      if (!(row >= 0 && row < n)) throw new RangeError(`customer ${c}'s pattern ${row} is not a row of the ${n} patterns`);
    }
  }
  const { tuples, tupleOf } = distinctTuples(input);
  return intervalIndexOn(input, tupleOf, indexPurchases(tuples, settings), settings.margin, patternOf);
};

/**
 * The index of rows whose distinct (x, recency, tenure) tuples are indexed already: row i is tuple
 * `tupleOf[i]` of `purchases` ({@link indexPurchases} of the tuples, which validated them), and
 * customer c is row `patternOf[c]` (every entry a row of `rows`: e.g. from distinctScorePatterns,
 * not checked here). O(1): nothing is copied.
 */
export const intervalIndexOn = (
  rows: Pick<ScoreInput, 'x' | 'monetaryValue'>,
  tupleOf: Int32Array,
  purchases: PurchaseIndex,
  margin: number,
  patternOf?: Int32Array,
): IntervalIndex => ({
  rows: rows.x.length,
  customers: patternOf?.length ?? rows.x.length,
  tuples: purchases.size,
  tupleOf,
  purchases,
  x: rows.x,
  monetaryValue: rows.monetaryValue,
  patternOf,
  margin,
});

/** The number of draws; throws a RangeError unless there are as many of each model, at least one, and every Gamma-Gamma draw has a finite mean spend. */
const checkDraws = (transactions: readonly TransactionModel[], spend: readonly GammaGammaParams[]): number => {
  const draws = transactions.length;
  if (draws === 0 || spend.length !== draws) throw new RangeError(`need as many Gamma-Gamma draws as transaction draws (at least one): ${draws} and ${spend.length}`);
  for (const g of spend) checkSpendParams(g);
  return draws;
};

/**
 * The rows of `index` ordered by tuple, stably (a counting sort), and {@link IntervalPlan.rowColumns}
 * in that order, placed as the rows are read in row order: O(rows + tuples).
 */
const rowsByTupleOf = (index: IntervalIndex): Pick<IntervalPlan, 'rowsByTuple' | 'rowColumns'> => {
  const start = new Int32Array(index.tuples + 1);
  for (let i = 0; i < index.rows; i++) start[index.tupleOf[i]! + 1]! += 1;
  for (let j = 0; j < index.tuples; j++) start[j + 1]! += start[j]!;
  const rows = new Int32Array(index.rows);
  const rowColumns = { tuple: new Int32Array(index.rows), monetaryValue: new Float64Array(index.rows) };
  for (let i = 0; i < index.rows; i++) {
    const tuple = index.tupleOf[i]!;
    const at = start[tuple]!++;
    rows[at] = i;
    rowColumns.tuple[at] = tuple;
    rowColumns.monetaryValue[at] = index.x[i]! > 0 ? index.monetaryValue[i]! : 0;
  }
  return { rowsByTuple: rows, rowColumns };
};

/**
 * The most scratch numbers a phase range asks for: a block of draws for every tuple (phase 1) or
 * every row (phase 4). Sized for phase 1 alone, the scratch was allocated again for phase 4 while
 * phase 1's waited for the collector, on every thread: at 5 M customers 62 MB then 131 MB a thread,
 * the run's RSS peak (+250 MB for a second).
 */
export const scratchLength = (index: Pick<IntervalIndex, 'rows' | 'tuples'>, draws: number): number => Math.max(index.rows, index.tuples) * Math.min(DRAW_BLOCK, draws);

/**
 * The plan of the draws on an index: O(draws + horizon in weeks + rows + tuples). Throws a RangeError when the
 * draws differ in number or a Gamma-Gamma draw has no finite mean spend.
 */
export const planOnIndex = (transactions: readonly TransactionModel[], spend: readonly GammaGammaParams[], index: IntervalIndex): IntervalPlan => {
  const draws = checkDraws(transactions, spend);
  let scratch = new Float64Array(0);
  return {
    ...index,
    index,
    transactions,
    draws,
    stride: Math.ceil(draws / DRAW_BLOCK) * DRAW_BLOCK,
    ...rowsByTupleOf(index),
    prepared: preparedOf(index.purchases),
    p: Float64Array.from(spend, (g) => g.p),
    q: Float64Array.from(spend, (g) => g.q),
    gamma: Float64Array.from(spend, (g) => g.gamma),
    scratch: (length) => (scratch.length >= length ? scratch : (scratch = new Float64Array(Math.max(length, scratchLength(index, draws))))).subarray(0, length),
  };
};

/**
 * {@link planOnIndex} {@link indexIntervals}. Throws a RangeError for invalid input (see
 * scoreTuples), when the draws differ in number, or when `patternOf` names a row `input` lacks.
 */
export const planIntervals = (
  transactions: readonly TransactionModel[],
  spend: readonly GammaGammaParams[],
  input: ScoreInput,
  settings: ClvSettings,
  patternOf?: Int32Array,
): IntervalPlan => {
  // the draws first: bad draws fail before the rows are indexed
  checkDraws(transactions, spend);
  return planOnIndex(transactions, spend, indexIntervals(input, settings, patternOf));
};

/**
 * The arrays the phases write (and later phases read). The per-draw matrices are stored draw-minor
 * (entry [row · stride + d]) so that each tuple's draws are contiguous for its percentiles.
 */
export interface IntervalBuffers {
  /** pairs × stride: E(X(horizon) | alive, x, T) (phase 1). */
  readonly horizonIfAlive: Float64Array;
  /** pairs × stride: its weekly-discounted sum (phase 1). */
  readonly discountedIfAlive: Float64Array;
  /** tuples × stride: P(alive) (phase 1), then discounted expected purchases (phase 2). */
  readonly perTuple: Float64Array;
  /** Per tuple (phase 2). */
  readonly aliveLo: Float64Array;
  readonly aliveHi: Float64Array;
  readonly expectedLo: Float64Array;
  readonly expectedHi: Float64Array;
  /** Per row (phase 3). */
  readonly clvLo: Float64Array;
  readonly clvHi: Float64Array;
  /** Per draw: Σ CLV over the customers (phase 4). */
  readonly equity: Float64Array;
}

/** The length of each of {@link IntervalBuffers}' arrays under `plan`. */
export const intervalBufferLengths = (plan: IntervalPlan): Record<keyof IntervalBuffers, number> => ({
  horizonIfAlive: plan.prepared.pairs * plan.stride,
  discountedIfAlive: plan.prepared.pairs * plan.stride,
  perTuple: plan.tuples * plan.stride,
  aliveLo: plan.tuples,
  aliveHi: plan.tuples,
  expectedLo: plan.tuples,
  expectedHi: plan.tuples,
  clvLo: plan.rows,
  clvHi: plan.rows,
  equity: plan.draws,
});

/** Buffers for `plan`, each array from `allocate(length)` (plain Float64Arrays by default). */
export const allocateIntervalBuffers = (plan: IntervalPlan, allocate: (length: number) => Float64Array = (length) => new Float64Array(length)): IntervalBuffers => {
  const lengths = intervalBufferLengths(plan);
  return Object.fromEntries(Object.entries(lengths).map(([name, length]) => [name, allocate(length)])) as unknown as IntervalBuffers;
};

/**
 * Phase 1, draws [from, to): the pairs' factors and the tuples' P(alive) under each draw. Cost
 * O((to - from) · (pairs · horizon in weeks + tuples)). Ranges run side by side should start at
 * multiples of DRAW_BLOCK (see there).
 */
export const drawFactors = (plan: IntervalPlan, buffers: IntervalBuffers, from: number, to: number): void => {
  const { stride, prepared, tuples: m, transactions } = plan;
  const { horizonIfAlive, discountedIfAlive, perTuple } = buffers;
  const pairs = prepared.pairs;
  const pairHorizon = new Float64Array(pairs);
  const pairDiscounted = new Float64Array(pairs);
  // a block of draws at a time, so that each tuple's entries are written a cache line at once
  // every entry read below is written first
  const blockAlive = plan.scratch(m * Math.min(DRAW_BLOCK, to - from));
  for (let start = from; start < to; start += DRAW_BLOCK) {
    const width = Math.min(DRAW_BLOCK, to - start);
    for (let k = 0; k < width; k++) {
      const d = start + k;
      prepared.ifAlive(transactions[d]!, pairHorizon, pairDiscounted);
      for (let p = 0; p < pairs; p++) {
        horizonIfAlive[p * stride + d] = pairHorizon[p]!;
        discountedIfAlive[p * stride + d] = pairDiscounted[p]!;
      }
      prepared.alive(transactions[d]!, blockAlive.subarray(k * m, (k + 1) * m));
    }
    for (let j = 0; j < m; j++) for (let k = 0; k < width; k++) perTuple[j * stride + start + k] = blockAlive[k * m + j]!;
  }
};

/**
 * Phase 2, tuples [from, to): P(alive) and expected purchases of every draw and their percentiles;
 * the tuples' rows of perTuple then hold the discounted expected purchases, what CLV needs.
 */
export const tupleIntervals = (plan: IntervalPlan, buffers: IntervalBuffers, from: number, to: number): void => {
  const { draws, stride, prepared } = plan;
  const { horizonIfAlive, discountedIfAlive, perTuple, aliveLo, aliveHi, expectedLo, expectedHi } = buffers;
  const aliveColumn = new Float64Array(draws);
  const expectedColumn = new Float64Array(draws);
  const intervalOf = makeIntervalOf(draws);
  const bounds = new Float64Array(2);
  for (let j = from; j < to; j++) {
    const row = j * stride;
    const pair = prepared.pairOf[j]! * stride;
    for (let d = 0; d < draws; d++) {
      const alive = perTuple[row + d]!;
      aliveColumn[d] = alive;
      expectedColumn[d] = alive * horizonIfAlive[pair + d]!;
      perTuple[row + d] = alive * discountedIfAlive[pair + d]!;
    }
    intervalOf(aliveColumn, bounds);
    aliveLo[j] = bounds[0]!;
    aliveHi[j] = bounds[1]!;
    intervalOf(expectedColumn, bounds);
    expectedLo[j] = bounds[0]!;
    expectedHi[j] = bounds[1]!;
  }
};

/**
 * The CLV of row rowsByTuple[sorted] under draws [from, from + width), into out[at …]: margin · E(M | x, m_x;
 * Gamma-Gamma draw d) · discounted purchases of draw d.
 */
const rowClv = (plan: IntervalPlan, perTuple: Float64Array, sorted: number, from: number, width: number, out: Float64Array, at: number): void => {
  const { stride, p, q, gamma, margin, rowColumns } = plan;
  const tuple = rowColumns.tuple[sorted]!;
  // a row's x is its tuple's (the tuples are its distinct (x, recency, tenure))
  const x = plan.purchases.tuples.x[tuple]!;
  const mx = rowColumns.monetaryValue[sorted]!;
  const row = tuple * stride + from;
  for (let k = 0; k < width; k++) {
    const d = from + k;
    out[at + k] = margin * conditionalExpectedOrderValueUnchecked(p[d]!, q[d]!, gamma[d]!, x, mx) * perTuple[row + k]!;
  }
};

/** Phase 3, rows rowsByTuple[from, to): each row's CLV under every draw, its percentiles. */
export const rowClvIntervals = (plan: IntervalPlan, buffers: IntervalBuffers, from: number, to: number): void => {
  const { draws, rowsByTuple } = plan;
  const { perTuple, clvLo, clvHi } = buffers;
  const intervalOf = makeIntervalOf(draws);
  const bounds = new Float64Array(2);
  const column = new Float64Array(draws);
  for (let at = from; at < to; at++) {
    const i = rowsByTuple[at]!;
    rowClv(plan, perTuple, at, 0, draws, column, 0);
    intervalOf(column, bounds);
    clvLo[i] = bounds[0]!;
    clvHi[i] = bounds[1]!;
  }
};

/**
 * Phase 4, draws [from, to): equity = Σ CLV_d over the customers, added up in customer order
 * whatever the range. A block of draws at a time: every row's CLV under the block once, then one
 * pass over the customers for the block (memory: rows · DRAW_BLOCK numbers). Rows in tuple order,
 * as phase 3 visits them.
 */
export const equityOfDraws = (plan: IntervalPlan, buffers: IntervalBuffers, from: number, to: number): void => {
  const { rows: n, customers, patternOf, rowsByTuple } = plan;
  const { perTuple, equity } = buffers;
  // every entry read below is written first
  const blockClv = plan.scratch(n * Math.min(DRAW_BLOCK, to - from));
  // summed here, not in `equity`, whose line other threads write
  const sums = new Float64Array(DRAW_BLOCK);
  for (let start = from; start < to; start += DRAW_BLOCK) {
    const width = Math.min(DRAW_BLOCK, to - start);
    for (let at = 0; at < n; at++) {
      rowClv(plan, perTuple, at, start, width, blockClv, rowsByTuple[at]! * width);
    }
    sums.fill(0);
    for (let c = 0; c < customers; c++) {
      const at = (patternOf === undefined ? c : patternOf[c]!) * width;
      for (let k = 0; k < width; k++) sums[k] += blockClv[at + k]!;
    }
    for (let k = 0; k < width; k++) equity[start + k] = sums[k]!;
  }
};

/**
 * The phases in order: what each one's range runs over, and how many indices it covers under
 * `plan`. Ranges over draws run side by side should start at multiples of DRAW_BLOCK.
 */
export const INTERVAL_PHASES = [
  { name: 'draw-factors', over: 'draws', run: drawFactors, extent: (plan: IntervalPlan): number => plan.draws },
  { name: 'tuple-intervals', over: 'tuples', run: tupleIntervals, extent: (plan: IntervalPlan): number => plan.tuples },
  { name: 'row-clv-intervals', over: 'rows', run: rowClvIntervals, extent: (plan: IntervalPlan): number => plan.rows },
  { name: 'equity', over: 'draws', run: equityOfDraws, extent: (plan: IntervalPlan): number => plan.draws },
] as const;
