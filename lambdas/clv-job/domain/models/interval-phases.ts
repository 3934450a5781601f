/**
 * The per-customer intervals' work (uncertainty.ts `customerIntervals`) as two phases, each a
 * function over a range of indices that writes only its own part of caller-given arrays, so that
 * the ranges of a phase can run in any order, on any thread, and give the same numbers bit for bit
 * as one pass over the whole range:
 *
 *   1. per draw: the (x, tenure) pairs' discounted expectations while alive, and the table P(alive)
 *      of any tuple is formed from (TransactionModel.aliveTable: logarithms per distinct value);
 *   2. per block of `tupleBlock` tuples (tuples numbered as the index numbers them): the block's
 *      tuples' P(alive) and expected purchases under each draw and their percentiles; the CLV of
 *      the rows of those tuples under each draw and its percentiles; and the block's partial sums
 *      of the equity, per draw Σ CLV over the customers whose tuple is in the block, added up in
 *      (tuple, customer index) order.
 *
 * The equity of a draw is the sum of the blocks' partial sums in block order ({@link equityOfPartials}).
 * A block's draws live only while the block is worked on, in its thread's scratch memory: what grows
 * with the tuples is one number per tuple and row, not one per tuple and draw (at 5 M customers
 * the tuples' draws were 800 MB). The block size is part of the equity's definition (the order of
 * its additions), so it is a constant of the index, never derived from the thread count.
 *
 * Phase 2 reads what phase 1 wrote over its whole range. The arrays may be backed by a
 * SharedArrayBuffer (the caller's business: this module is pure).
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
 * Draws handled together where a pass per draw over many tuples would touch memory one number at a
 * time: storing a block's tuples' P(alive) (memory: tuples of a block · this many numbers). Eight
 * doubles are one 64-byte cache line: the per-draw matrices' rows are padded to a
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
 * Tuples per block of phase 2 by default (see {@link IntervalIndex.tupleBlock}): a thread holds
 * this many tuples' draws and their rows' CLV (~30 MB at 100 draws). Blocks of 4 k, 16 k and 64 k
 * tuples took the same CPU at 1 M customers, 64 k ~100 MB more memory; 16 k leaves ~18 blocks at
 * 1 M customers and ~59 at 5 M for the threads to share.
 */
export const TUPLE_BLOCK = 16_384;

/**
 * What every phase reads that does not depend on the draws: the rows indexed into distinct
 * (x, recency, tenure) tuples and (x, tenure) pairs, the rows and the customers ordered by tuple.
 * Plain arrays and numbers, so that it is built once and sent to the threads that share the phases
 * ({@link planOnIndex} there).
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
  readonly margin: number;
  /**
   * Tuples per block of phase 2: tuples [b · tupleBlock, (b + 1) · tupleBlock) make block b. Fixes
   * the order in which the equity adds the customers up, so the same for every thread count.
   */
  readonly tupleBlock: number;
  /**
   * The rows by tuple (ascending; rows of one tuple in row order): the order the per-row work
   * visits them in, a block's rows one run of it; tuple j's rows are at [rowStart[j], rowStart[j + 1]).
   */
  readonly rowsByTuple: Int32Array;
  readonly rowStart: Int32Array;
  /**
   * What a row's CLV reads of it, in the order of rowsByTuple (entry k is row rowsByTuple[k]'s):
   * its tuple and its monetary value where x > 0 (else 0: what E(M | x, m_x) reads); its x is its
   * tuple's. Read one after another rather than at random (at 5 M customers, trips to memory that
   * took a third of the equity's time).
   */
  readonly rowColumns: { readonly tuple: Int32Array; readonly monetaryValue: Float64Array };
  /**
   * The customers in (tuple, customer index) order, each as the place of its row in rowsByTuple;
   * tuple j's customers are at [customerStart[j], customerStart[j + 1]).
   */
  readonly customerRowAt: Int32Array;
  readonly customerStart: Int32Array;
}

/** What every phase reads: the index, the tuples prepared for scoring ({@link preparedOf}), and the draws. Read only, but for its scratch memory. */
export interface IntervalPlan extends IntervalIndex {
  /** The index it was planned on, as built (what another thread plans the same phases on). */
  readonly index: IntervalIndex;
  readonly transactions: readonly TransactionModel[];
  readonly draws: number;
  /** Entries per row of the per-draw matrices: draws, padded up to a multiple of DRAW_BLOCK. */
  readonly stride: number;
  /** Blocks of phase 2: ⌈tuples / tupleBlock⌉. */
  readonly blocks: number;
  /** Numbers of a draw's P(alive) table ({@link TransactionModel.aliveTableLength}), and the same padded up to a multiple of DRAW_BLOCK. */
  readonly tableLength: number;
  readonly tableStride: number;
  readonly prepared: PreparedPurchases;
  /** The Gamma-Gamma draws, one array per parameter. */
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly gamma: Float64Array;
  /**
   * Scratch memory for one block at a time, the same memory each call (its contents are whatever
   * the last block left): the block's tuples' draws (tupleBlock · stride numbers), its rows' CLV
   * under each draw (at most ROW_PIECE · stride) and a block of draws of P(alive). A plan
   * is used by one thread (each builds its own), so no two blocks use it at once. Allocated at the
   * first call.
   */
  blockScratch(): BlockScratch;
}

/** {@link IntervalPlan.blockScratch}'s arrays. */
export interface BlockScratch {
  /** tupleBlock × stride: P(alive), then discounted expected purchases, per tuple and draw. */
  readonly perTuple: Float64Array;
  /** DRAW_BLOCK × tupleBlock: P(alive) of a block of draws, draw-major. */
  readonly alive: Float64Array;
  /** min(the most rows of a block, ROW_PIECE) × stride: each row's CLV per draw, a piece of rows at a time. */
  readonly clv: Float64Array;
  /** stride: one customer's CLV per draw (a tuple with more rows than a piece). */
  readonly row: Float64Array;
}

/**
 * Validates and indexes the input for the phases. Cost O(rows + customers) expected (hashing).
 * Throws a RangeError for invalid input (see scoreTuples), when `patternOf` names a row `input`
 * lacks, or when tupleBlock is not a whole number ≥ 1.
 */
export const indexIntervals = (input: ScoreInput, settings: ClvSettings, patternOf?: Int32Array, tupleBlock: number = TUPLE_BLOCK): IntervalIndex => {
  const n = input.x.length;
  if (patternOf !== undefined) {
    for (let c = 0; c < patternOf.length; c++) {
      const row = patternOf[c]!;
      if (!(row >= 0 && row < n)) throw new RangeError(`customer ${c}'s pattern ${row} is not a row of the ${n} patterns`);
    }
  }
  const { tuples, tupleOf } = distinctTuples(input);
  return intervalIndexOn(input, tupleOf, indexPurchases(tuples, settings), settings.margin, patternOf, tupleBlock);
};

/**
 * Starts of the groups of a stable counting sort by `keys` (each in [0, groups)): group g at
 * [start[g], start[g + 1]). O(keys + groups).
 */
const groupStarts = (keys: Int32Array, groups: number): Int32Array => {
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < keys.length; i++) start[keys[i]! + 1]! += 1;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  return start;
};

/**
 * The index of rows whose distinct (x, recency, tenure) tuples are indexed already: row i is tuple
 * `tupleOf[i]` of `purchases` ({@link indexPurchases} of the tuples, which validated them), and
 * customer c is row `patternOf[c]` (every entry a row of `rows`: e.g. from distinctScorePatterns,
 * not checked here). O(rows + customers + tuples): the rows and the customers ordered by tuple
 * (stable counting sorts). Throws a RangeError when tupleBlock is not a whole number ≥ 1.
 */
export const intervalIndexOn = (
  rows: Pick<ScoreInput, 'x' | 'monetaryValue'>,
  tupleOf: Int32Array,
  purchases: PurchaseIndex,
  margin: number,
  patternOf?: Int32Array,
  tupleBlock: number = TUPLE_BLOCK,
): IntervalIndex => {
  if (!(Number.isInteger(tupleBlock) && tupleBlock >= 1)) throw new RangeError(`tupleBlock must be a whole number >= 1, got ${tupleBlock}`);
  const n = rows.x.length;
  const tuples = purchases.size;
  const rowStart = groupStarts(tupleOf, tuples);
  const next = rowStart.slice(0, tuples);
  const rowsByTuple = new Int32Array(n);
  const placeOfRow = new Int32Array(n);
  const rowColumns = { tuple: new Int32Array(n), monetaryValue: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const tuple = tupleOf[i]!;
    const at = next[tuple]!++;
    rowsByTuple[at] = i;
    placeOfRow[i] = at;
    rowColumns.tuple[at] = tuple;
    rowColumns.monetaryValue[at] = rows.x[i]! > 0 ? rows.monetaryValue[i]! : 0;
  }
  const customers = patternOf?.length ?? n;
  const customerTuple = new Int32Array(customers);
  for (let c = 0; c < customers; c++) customerTuple[c] = tupleOf[patternOf === undefined ? c : patternOf[c]!]!;
  const customerStart = groupStarts(customerTuple, tuples);
  next.set(customerStart.subarray(0, tuples));
  const customerRowAt = new Int32Array(customers);
  for (let c = 0; c < customers; c++) customerRowAt[next[customerTuple[c]!]!++] = placeOfRow[patternOf === undefined ? c : patternOf[c]!]!;
  return { rows: n, customers, tuples, tupleOf, purchases, margin, tupleBlock, rowsByTuple, rowStart, rowColumns, customerRowAt, customerStart };
};

/** The number of draws; throws a RangeError unless there are as many of each model, at least one, and every Gamma-Gamma draw has a finite mean spend. */
const checkDraws = (transactions: readonly TransactionModel[], spend: readonly GammaGammaParams[]): number => {
  const draws = transactions.length;
  if (draws === 0 || spend.length !== draws) throw new RangeError(`need as many Gamma-Gamma draws as transaction draws (at least one): ${draws} and ${spend.length}`);
  for (const g of spend) checkSpendParams(g);
  return draws;
};

/** Tuples [from, to) of block b. */
const blockTuples = (plan: Pick<IntervalPlan, 'tuples' | 'tupleBlock'>, b: number): [number, number] => [b * plan.tupleBlock, Math.min(plan.tuples, (b + 1) * plan.tupleBlock)];

/** The most rows any block has. O(blocks). */
const mostRowsOfABlock = (index: IntervalIndex, blocks: number): number => {
  let most = 0;
  for (let b = 0; b < blocks; b++) {
    const [from, to] = blockTuples(index, b);
    most = Math.max(most, index.rowStart[to]! - index.rowStart[from]!);
  }
  return most;
};

/**
 * The plan of the draws on an index: O(draws + horizon in weeks + blocks). Throws a RangeError when the
 * draws differ in number or a Gamma-Gamma draw has no finite mean spend.
 */
export const planOnIndex = (transactions: readonly TransactionModel[], spend: readonly GammaGammaParams[], index: IntervalIndex): IntervalPlan => {
  const draws = checkDraws(transactions, spend);
  const stride = Math.ceil(draws / DRAW_BLOCK) * DRAW_BLOCK;
  const blocks = Math.ceil(index.tuples / index.tupleBlock);
  const tableLength = transactions[0]!.aliveTableLength(index.purchases.tuples);
  let scratch: BlockScratch | null = null;
  return {
    ...index,
    index,
    transactions,
    draws,
    stride,
    blocks,
    tableLength,
    tableStride: Math.ceil(tableLength / DRAW_BLOCK) * DRAW_BLOCK,
    prepared: preparedOf(index.purchases),
    p: Float64Array.from(spend, (g) => g.p),
    q: Float64Array.from(spend, (g) => g.q),
    gamma: Float64Array.from(spend, (g) => g.gamma),
    blockScratch: () =>
      (scratch ??= {
        perTuple: new Float64Array(Math.min(index.tupleBlock, index.tuples) * stride),
        alive: new Float64Array(Math.min(index.tupleBlock, index.tuples) * Math.min(DRAW_BLOCK, draws)),
        clv: new Float64Array(Math.min(ROW_PIECE, mostRowsOfABlock(index, blocks)) * stride),
        row: new Float64Array(stride),
      }),
  };
};

/**
 * {@link planOnIndex} {@link indexIntervals}. Throws a RangeError for invalid input (see
 * scoreTuples), when the draws differ in number, when `patternOf` names a row `input` lacks, or
 * when tupleBlock is not a whole number ≥ 1.
 */
export const planIntervals = (
  transactions: readonly TransactionModel[],
  spend: readonly GammaGammaParams[],
  input: ScoreInput,
  settings: ClvSettings,
  patternOf?: Int32Array,
  tupleBlock: number = TUPLE_BLOCK,
): IntervalPlan => {
  // the draws first: bad draws fail before the rows are indexed
  checkDraws(transactions, spend);
  return planOnIndex(transactions, spend, indexIntervals(input, settings, patternOf, tupleBlock));
};

/**
 * The arrays the phases write (and later phases read). The per-draw matrices are stored draw-minor
 * (entry [row · stride + d]).
 */
export interface IntervalBuffers {
  /** pairs × stride: E(X(horizon) | alive, x, T) (phase 1). */
  readonly horizonIfAlive: Float64Array;
  /** pairs × stride: its weekly-discounted sum (phase 1). */
  readonly discountedIfAlive: Float64Array;
  /** draws × tableStride: each draw's P(alive) table, at d · tableStride (phase 1). */
  readonly aliveTables: Float64Array;
  /** Per tuple (phase 2). */
  readonly aliveLo: Float64Array;
  readonly aliveHi: Float64Array;
  readonly expectedLo: Float64Array;
  readonly expectedHi: Float64Array;
  /** Per row (phase 2). */
  readonly clvLo: Float64Array;
  readonly clvHi: Float64Array;
  /** blocks × stride: per block and draw, Σ CLV over the block's customers (phase 2). */
  readonly equityPartials: Float64Array;
}

/** The length of each of {@link IntervalBuffers}' arrays under `plan`. */
export const intervalBufferLengths = (plan: IntervalPlan): Record<keyof IntervalBuffers, number> => ({
  horizonIfAlive: plan.prepared.pairs * plan.stride,
  discountedIfAlive: plan.prepared.pairs * plan.stride,
  aliveTables: plan.draws * plan.tableStride,
  aliveLo: plan.tuples,
  aliveHi: plan.tuples,
  expectedLo: plan.tuples,
  expectedHi: plan.tuples,
  clvLo: plan.rows,
  clvHi: plan.rows,
  equityPartials: plan.blocks * plan.stride,
});

/** Buffers for `plan`, each array from `allocate(length)` (plain Float64Arrays by default). */
export const allocateIntervalBuffers = (plan: IntervalPlan, allocate: (length: number) => Float64Array = (length) => new Float64Array(length)): IntervalBuffers => {
  const lengths = intervalBufferLengths(plan);
  return Object.fromEntries(Object.entries(lengths).map(([name, length]) => [name, allocate(length)])) as unknown as IntervalBuffers;
};

/**
 * Phase 1, draws [from, to): the pairs' factors and each draw's P(alive) table. Cost
 * O((to - from) · (pairs · horizon in weeks + distinct values of the tuples)). Ranges run side by
 * side should start at multiples of DRAW_BLOCK (see there).
 */
export const drawFactors = (plan: IntervalPlan, buffers: IntervalBuffers, from: number, to: number): void => {
  const { stride, prepared, transactions, tableLength, tableStride } = plan;
  const { horizonIfAlive, discountedIfAlive, aliveTables } = buffers;
  const pairs = prepared.pairs;
  const pairHorizon = new Float64Array(pairs);
  const pairDiscounted = new Float64Array(pairs);
  for (let d = from; d < to; d++) {
    prepared.ifAlive(transactions[d]!, pairHorizon, pairDiscounted);
    for (let p = 0; p < pairs; p++) {
      horizonIfAlive[p * stride + d] = pairHorizon[p]!;
      discountedIfAlive[p * stride + d] = pairDiscounted[p]!;
    }
    transactions[d]!.aliveTable(plan.purchases.tuples, aliveTables.subarray(d * tableStride, d * tableStride + tableLength));
  }
};

/**
 * Block b's tuples' P(alive) under every draw into scratch.perTuple (tuple from + k at k · stride),
 * a block of draws at a time so that each tuple's entries are written a cache line at once.
 */
const blockAlive = (plan: IntervalPlan, buffers: IntervalBuffers, scratch: BlockScratch, from: number, to: number): void => {
  const { draws, stride, transactions, tableLength, tableStride } = plan;
  const m = to - from;
  const { perTuple, alive } = scratch;
  for (let start = 0; start < draws; start += DRAW_BLOCK) {
    const width = Math.min(DRAW_BLOCK, draws - start);
    for (let k = 0; k < width; k++) {
      const d = start + k;
      const table = buffers.aliveTables.subarray(d * tableStride, d * tableStride + tableLength);
      transactions[d]!.aliveFromTable(plan.purchases.tuples, table, from, to, alive.subarray(k * m, (k + 1) * m));
    }
    for (let j = 0; j < m; j++) for (let k = 0; k < width; k++) perTuple[j * stride + start + k] = alive[k * m + j]!;
  }
};

/**
 * Tuples [from, to) (those of scratch.perTuple): P(alive) and expected purchases of every draw and
 * their percentiles; the tuples' rows of scratch.perTuple then hold the discounted expected
 * purchases, what CLV needs.
 */
const tupleIntervals = (plan: IntervalPlan, buffers: IntervalBuffers, perTuple: Float64Array, from: number, to: number): void => {
  const { draws, stride, prepared } = plan;
  const { horizonIfAlive, discountedIfAlive, aliveLo, aliveHi, expectedLo, expectedHi } = buffers;
  const aliveColumn = new Float64Array(draws);
  const expectedColumn = new Float64Array(draws);
  const intervalOf = makeIntervalOf(draws);
  const bounds = new Float64Array(2);
  for (let j = from; j < to; j++) {
    const row = (j - from) * stride;
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
 * The most rows whose CLV under every draw a thread holds at once (ROW_PIECE · stride numbers, ~13 MB
 * at 100 draws). A block's rows are worked on in pieces of whole tuples up to this many rows, so the
 * scratch does not grow with the rows a block happens to hold: few distinct tuples with many spend
 * patterns each (a young shop: short histories, many customers) put nearly every row in one block.
 */
export const ROW_PIECE = 16_384;

/**
 * The CLV under every draw of the row at position `at` of rowsByTuple — a row of a tuple in
 * [firstTuple, …), whose discounted purchases are in perTuple (tuple firstTuple + k at k · stride) —
 * into out[offset, offset + draws): margin · E(M | x, m_x; Gamma-Gamma draw d) · discounted purchases
 * of draw d.
 */
const rowClv = (plan: IntervalPlan, perTuple: Float64Array, firstTuple: number, at: number, out: Float64Array, offset: number): void => {
  const { draws, stride, p, q, gamma, margin, rowColumns } = plan;
  const tuple = rowColumns.tuple[at]!;
  // a row's x is its tuple's (the tuples are its distinct (x, recency, tenure))
  const x = plan.purchases.tuples.x[tuple]!;
  const mx = rowColumns.monetaryValue[at]!;
  const row = (tuple - firstTuple) * stride;
  for (let d = 0; d < draws; d++) out[offset + d] = margin * conditionalExpectedOrderValueUnchecked(p[d]!, q[d]!, gamma[d]!, x, mx) * perTuple[row + d]!;
};

/**
 * Phase 2, blocks [from, to) of `tupleBlock` tuples each. For each block: its tuples' P(alive)
 * under every draw (from phase 1's tables), their intervals and discounted purchases; its rows'
 * CLV under every draw and their intervals; and into equityPartials[b · stride + d] the sum of
 * CLV under draw d over the customers whose tuple is in the block, added up from 0 in (tuple,
 * customer index) order, one addition a customer. The rows are taken in pieces of whole tuples
 * of at most ROW_PIECE rows; a tuple with more rows is a piece of its own, its customers' CLV
 * computed one customer at a time (the same numbers) and its rows' intervals ROW_PIECE rows at a
 * time. Cost O((to − from) · tupleBlock · draws) plus O(draws) per row and per customer of the
 * blocks; memory: the plan's block scratch.
 */
export const tupleBlocks = (plan: IntervalPlan, buffers: IntervalBuffers, from: number, to: number): void => {
  const { draws, stride, rowStart, rowsByTuple, customerRowAt, customerStart } = plan;
  const { clvLo, clvHi, equityPartials } = buffers;
  const scratch = plan.blockScratch();
  const { perTuple, clv } = scratch;
  const intervalOf = makeIntervalOf(draws);
  const bounds = new Float64Array(2);
  // summed here, not in `equityPartials`, whose lines other threads write
  const sums = new Float64Array(draws);
  /** The CLV of rows [firstRow, endRow) (at most ROW_PIECE) into clv, and their intervals after `addCustomers`. */
  const rowsOf = (firstTuple: number, firstRow: number, endRow: number, addCustomers: () => void): void => {
    for (let at = firstRow; at < endRow; at++) rowClv(plan, perTuple, firstTuple, at, clv, (at - firstRow) * stride);
    addCustomers();
    // after the sums: the percentiles may rearrange a row's draws
    for (let at = firstRow; at < endRow; at++) {
      const values = (at - firstRow) * stride;
      intervalOf(clv.subarray(values, values + draws), bounds);
      const i = rowsByTuple[at]!;
      clvLo[i] = bounds[0]!;
      clvHi[i] = bounds[1]!;
    }
  };
  for (let b = from; b < to; b++) {
    const [firstTuple, endTuple] = blockTuples(plan, b);
    blockAlive(plan, buffers, scratch, firstTuple, endTuple);
    tupleIntervals(plan, buffers, perTuple, firstTuple, endTuple);
    sums.fill(0);
    for (let t = firstTuple; t < endTuple; ) {
      let u = t + 1;
      while (u < endTuple && rowStart[u + 1]! - rowStart[t]! <= ROW_PIECE) u++;
      const firstRow = rowStart[t]!;
      const endRow = rowStart[u]!;
      if (endRow - firstRow <= ROW_PIECE) {
        rowsOf(firstTuple, firstRow, endRow, () => {
          for (let k = customerStart[t]!; k < customerStart[u]!; k++) {
            const at = (customerRowAt[k]! - firstRow) * stride;
            for (let d = 0; d < draws; d++) sums[d] += clv[at + d]!;
          }
        });
      } else {
        // one tuple, more rows than a piece: each customer's CLV on its own, in customer order
        const one = scratch.row;
        for (let k = customerStart[t]!; k < customerStart[u]!; k++) {
          rowClv(plan, perTuple, firstTuple, customerRowAt[k]!, one, 0);
          for (let d = 0; d < draws; d++) sums[d] += one[d]!;
        }
        for (let piece = firstRow; piece < endRow; piece += ROW_PIECE) rowsOf(firstTuple, piece, Math.min(piece + ROW_PIECE, endRow), () => undefined);
      }
      t = u;
    }
    equityPartials.set(sums, b * stride);
  }
};

/**
 * The equity under each draw once phase 2 has run over every block: per draw, the blocks' partial
 * sums added up from 0 in block order. O(blocks · draws).
 */
export const equityOfPartials = (plan: IntervalPlan, buffers: IntervalBuffers): Float64Array => {
  const equity = new Float64Array(plan.draws);
  for (let b = 0; b < plan.blocks; b++) for (let d = 0; d < plan.draws; d++) equity[d] += buffers.equityPartials[b * plan.stride + d]!;
  return equity;
};

/**
 * The phases in order: what each one's range runs over, and how many indices it covers under
 * `plan`. Ranges over draws run side by side should start at multiples of DRAW_BLOCK.
 */
export const INTERVAL_PHASES = [
  { name: 'draw-factors', over: 'draws', run: drawFactors, extent: (plan: IntervalPlan): number => plan.draws },
  { name: 'tuple-blocks', over: 'blocks', run: tupleBlocks, extent: (plan: IntervalPlan): number => plan.blocks },
] as const;
