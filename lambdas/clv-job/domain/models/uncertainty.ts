/**
 * How sure each prediction is, as far as the fitted parameters are uncertain: 90% intervals for a
 * customer's expected purchases, P(alive) and predicted CLV, and for total customer equity, from
 * draws of the parameters' estimated sampling distribution.
 *
 * Each draw takes the transaction model's log-parameters (BG/NBD or Pareto/NBD) and the
 * Gamma-Gamma's from the asymptotic normal N(θ̂, I(θ̂)⁻¹) of their maximum-likelihood estimates
 * (the two fits are independent: different likelihoods), re-scores every customer with them, and the
 * interval is the 5th to 95th percentile of the draws. This covers parameter uncertainty only: not the
 * Poisson noise of what a customer will actually buy, and not the chance that the model is the wrong
 * model for the data.
 *
 * Pure and deterministic: the normal deviates come from a seeded generator.
 */
import { choleskyLower } from '../math/optimise.js';
import { normal, seededUniform } from '../math/random.js';
import { DistinctPairs } from './bg-nbd.js';
import { checkSpendParams, DAYS_PER_UNIT, preparePurchases, type ClvSettings, type ScoreInput } from './clv.js';
import { conditionalExpectedOrderValueUnchecked, type GammaGammaParams } from './gamma-gamma.js';
import type { BgNbdFit } from './bg-nbd.js';
import type { ParetoNbdFit } from './pareto-nbd.js';
import { bgnbdTransactionModel, paretoNbdTransactionModel, type TransactionModel } from './transaction-model.js';

/** Lower and upper percentile of the intervals: a central 90% interval. */
export const INTERVAL_LOWER = 0.05;
export const INTERVAL_UPPER = 0.95;

export interface IntervalSettings {
  /** Parameter draws; the percentiles' own Monte Carlo error shrinks like 1/√draws. @default 200 */
  readonly draws?: number;
  /** Seed of the normal deviates. @default 1 */
  readonly seed?: number;
}

export interface Interval {
  readonly p05: Float64Array;
  readonly p95: Float64Array;
}

export interface CustomerIntervals {
  readonly expectedPurchases: Interval;
  readonly probabilityAlive: Interval;
  readonly predictedClv: Interval;
  /** 5th and 95th percentile of Σ predicted CLV over the draws. */
  readonly equity: { readonly p05: number; readonly p95: number };
  readonly draws: number;
}

/**
 * `draws` vectors exp(θ̂ + L z), z ~ N(0, I), L Lᵀ = `logCovariance` (k×k row-major): parameters
 * drawn from the asymptotic normal of their logarithms, so every draw is positive. `accept` may
 * reject a draw (e.g. a Gamma-Gamma q ≤ 1, whose mean spend is infinite); rejected draws are drawn
 * again, which truncates the normal to where the model is defined.
 * Throws a RangeError when the covariance is not positive definite or nothing is accepted.
 */
export const drawParameters = (
  estimate: readonly number[],
  logCovariance: ArrayLike<number>,
  draws: number,
  deviate: () => number,
  accept: (values: Float64Array) => boolean = () => true,
): Float64Array[] => {
  const k = estimate.length;
  const l = choleskyLower(logCovariance, k);
  if (l === null) throw new RangeError('the parameters’ covariance is not positive definite: no draws');
  const out: Float64Array[] = [];
  const z = new Float64Array(k);
  for (let attempts = 0; out.length < draws; attempts++) {
    if (attempts > 100 * draws) throw new RangeError(`fewer than ${draws} acceptable parameter draws in ${attempts} attempts`);
    for (let i = 0; i < k; i++) z[i] = deviate();
    const values = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let v = Math.log(estimate[i]!);
      for (let j = 0; j <= i; j++) v += l[i * k + j]! * z[j]!;
      values[i] = Math.exp(v);
    }
    if (accept(values)) out.push(values);
  }
  return out;
};

/** A seeded standard normal generator: one stream per purpose, so adding draws of one model does not shift another's. */
export const seededNormal = (seed: number): (() => number) => {
  const u = seededUniform(seed);
  return () => normal(u);
};

/** The q-quantile of sorted values, linear between order statistics (Hyndman & Fan type 7, R's default). */
const quantileSorted = (sorted: Float64Array, q: number): number => {
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
 * time: storing the tuples' draws, summing the equity over the customers (memory: rows · this many numbers).
 */
const DRAW_BLOCK = 8;

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
 * Intervals for every row of `input` (as {@link scoreTuples} takes it, in days), from one
 * transaction model and one Gamma-Gamma parameter set per draw (the same count of each).
 *
 * The rows are customers, or the customers' distinct patterns (score-patterns.ts) with `patternOf`
 * giving each customer's row: the intervals are then per pattern, and the equity interval still sums
 * over every customer, in customer order, so it is the same number either way, bit for bit.
 *
 * The transaction part depends on (x, recency, tenure) only, and within it the expensive factor —
 * expected purchases while alive, discounted over the horizon — on (x, tenure) only: per draw, that
 * factor is computed once per distinct (x, tenure) pair and P(alive) once per distinct tuple, from
 * logarithms tabulated per distinct value ({@link preparePurchases}, indexed once for all draws).
 * The Gamma-Gamma part is a closed form per row. Percentiles are found by selection, not sorting.
 * The numbers are those of scoring every draw with {@link scoreTuples} and sorting, bit for bit.
 * Cost: O(draws · (distinct (x, tenure) pairs · horizon in weeks + tuples + rows + customers));
 * memory: draws · (distinct tuples + 2 · distinct pairs) + 8 · (distinct tuples + rows) numbers.
 * Throws a RangeError for invalid input (see scoreTuples), when the draws differ in number, or
 * when `patternOf` names a row `input` lacks.
 */
export const customerIntervals = (
  transactions: readonly TransactionModel[],
  spend: readonly GammaGammaParams[],
  input: ScoreInput,
  settings: ClvSettings,
  patternOf?: Int32Array,
): CustomerIntervals => {
  const draws = transactions.length;
  if (draws === 0 || spend.length !== draws) throw new RangeError(`need as many Gamma-Gamma draws as transaction draws (at least one): ${draws} and ${spend.length}`);
  for (const g of spend) checkSpendParams(g);
  const n = input.x.length;
  if (patternOf !== undefined) {
    for (let c = 0; c < patternOf.length; c++) {
      const row = patternOf[c]!;
      if (!(row >= 0 && row < n)) throw new RangeError(`customer ${c}'s pattern ${row} is not a row of the ${n} patterns`);
    }
  }
  // Distinct (x, recency, tenure): (x, recency) pairs, then (pair, tenure).
  const xr = new DistinctPairs();
  const tuples = new DistinctPairs();
  const tupleOf = new Int32Array(n);
  for (let i = 0; i < n; i++) tupleOf[i] = tuples.indexOf(xr.indexOf(input.x[i]!, input.recencyDays[i]!), input.tenureDays[i]!);
  const pairX = xr.firsts();
  const pairRecency = xr.seconds();
  const tuplePair = tuples.firsts();
  const m = tuples.size;
  if (!(settings.timeUnit in DAYS_PER_UNIT)) throw new RangeError(`unknown time unit ${String(settings.timeUnit)}`);
  const prepared = preparePurchases(
    {
      x: Float64Array.from(tuplePair, (p) => pairX[p]!),
      recencyDays: Float64Array.from(tuplePair, (p) => pairRecency[p]!),
      tenureDays: tuples.seconds(),
    },
    settings,
  );

  // Per draw: the (x, tenure) pairs' factors and the tuples' P(alive), stored draw-minor
  // (entry [row · draws + d]) so that each tuple's draws are contiguous for its percentiles.
  const pairs = prepared.pairs;
  const horizonIfAlive = new Float64Array(pairs * draws);
  const discountedIfAlive = new Float64Array(pairs * draws);
  const perTuple = new Float64Array(m * draws);
  const pairHorizon = new Float64Array(pairs);
  const pairDiscounted = new Float64Array(pairs);
  // a block of draws at a time, so that each tuple's entries are written a cache line at once
  const blockAlive = new Float64Array(m * DRAW_BLOCK);
  for (let from = 0; from < draws; from += DRAW_BLOCK) {
    const width = Math.min(DRAW_BLOCK, draws - from);
    for (let k = 0; k < width; k++) {
      const d = from + k;
      prepared.ifAlive(transactions[d]!, pairHorizon, pairDiscounted);
      for (let p = 0; p < pairs; p++) {
        horizonIfAlive[p * draws + d] = pairHorizon[p]!;
        discountedIfAlive[p * draws + d] = pairDiscounted[p]!;
      }
      prepared.alive(transactions[d]!, blockAlive.subarray(k * m, (k + 1) * m));
    }
    for (let j = 0; j < m; j++) for (let k = 0; k < width; k++) perTuple[j * draws + from + k] = blockAlive[k * m + j]!;
  }

  // Per tuple: P(alive) and expected purchases of every draw, their percentiles; perTuple then
  // holds the discounted expected purchases, what CLV needs.
  const aliveLo = new Float64Array(m);
  const aliveHi = new Float64Array(m);
  const expectedLo = new Float64Array(m);
  const expectedHi = new Float64Array(m);
  const aliveColumn = new Float64Array(draws);
  const expectedColumn = new Float64Array(draws);
  const intervalOf = makeIntervalOf(draws);
  const bounds = new Float64Array(2);
  for (let j = 0; j < m; j++) {
    const row = j * draws;
    const pair = prepared.pairOf[j]! * draws;
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
  const perRow = (lo: Float64Array, hi: Float64Array): Interval => ({
    p05: Float64Array.from(tupleOf, (j) => lo[j]!),
    p95: Float64Array.from(tupleOf, (j) => hi[j]!),
  });

  // Per row and draw: CLV_d = margin · E(M | x, m_x; Gamma-Gamma draw d) · discounted purchases of draw d.
  const p = Float64Array.from(spend, (g) => g.p);
  const q = Float64Array.from(spend, (g) => g.q);
  const gamma = Float64Array.from(spend, (g) => g.gamma);
  /** Row i's CLV under draws [from, from + width), into out[at …]. */
  const rowClv = (i: number, from: number, width: number, out: Float64Array, at: number): void => {
    const x = input.x[i]!;
    const mx = x > 0 ? input.monetaryValue[i]! : 0;
    const row = tupleOf[i]! * draws + from;
    for (let k = 0; k < width; k++) {
      const d = from + k;
      out[at + k] = settings.margin * conditionalExpectedOrderValueUnchecked(p[d]!, q[d]!, gamma[d]!, x, mx) * perTuple[row + k]!;
    }
  };
  const clvLo = new Float64Array(n);
  const clvHi = new Float64Array(n);
  const column = new Float64Array(draws);
  for (let i = 0; i < n; i++) {
    rowClv(i, 0, draws, column, 0);
    intervalOf(column, bounds);
    clvLo[i] = bounds[0]!;
    clvHi[i] = bounds[1]!;
  }
  // Per draw: equity = Σ CLV_d over the customers, added up in customer order. A block of draws at
  // a time: every row's CLV under the block once, then one pass over the customers for the block.
  const equity = new Float64Array(draws);
  const customers = patternOf?.length ?? n;
  const blockClv = new Float64Array(n * DRAW_BLOCK);
  for (let from = 0; from < draws; from += DRAW_BLOCK) {
    const width = Math.min(DRAW_BLOCK, draws - from);
    for (let i = 0; i < n; i++) rowClv(i, from, width, blockClv, i * width);
    for (let c = 0; c < customers; c++) {
      const at = (patternOf === undefined ? c : patternOf[c]!) * width;
      for (let k = 0; k < width; k++) equity[from + k] += blockClv[at + k]!;
    }
  }
  equity.sort();
  return {
    expectedPurchases: perRow(expectedLo, expectedHi),
    probabilityAlive: perRow(aliveLo, aliveHi),
    predictedClv: { p05: clvLo, p95: clvHi },
    equity: { p05: quantileSorted(equity, INTERVAL_LOWER), p95: quantileSorted(equity, INTERVAL_UPPER) },
    draws,
  };
};

/** Seeds of the two streams, apart so that neither model's draws depend on the other's dimension. */
const TRANSACTION_STREAM = 0x51;
const SPEND_STREAM = 0xa3;

/**
 * The parameter draws behind {@link customerIntervals}: the chosen transaction fit's (BG/NBD or
 * Pareto/NBD) log-parameters and the Gamma-Gamma's, each from its asymptotic normal; Gamma-Gamma
 * draws with q ≤ 1 (infinite mean spend) are drawn again. Null when either fit has no covariance
 * (not converged, or an information matrix that is not positive definite): then there is nothing to
 * draw from, and the caller says so.
 */
export const parameterDraws = (
  transactions: { readonly name: 'bgnbd'; readonly fit: BgNbdFit } | { readonly name: 'pnbd'; readonly fit: ParetoNbdFit },
  spend: { readonly params: GammaGammaParams; readonly logCovariance: Float64Array | null },
  settings: IntervalSettings = {},
): { readonly transactions: TransactionModel[]; readonly spend: GammaGammaParams[] } | null => {
  const draws = settings.draws ?? 200;
  const seed = settings.seed ?? 1;
  if (!(Number.isInteger(draws) && draws >= 2)) throw new RangeError(`draws must be a whole number >= 2, got ${draws}`);
  const covariance = transactions.fit.logCovariance;
  if (covariance === null || spend.logCovariance === null) return null;
  const txNormal = seededNormal(seed * 0x10000 + TRANSACTION_STREAM);
  const ggNormal = seededNormal(seed * 0x10000 + SPEND_STREAM);
  let models: TransactionModel[];
  if (transactions.name === 'bgnbd') {
    const { r, alpha, a, b } = transactions.fit.params;
    models = drawParameters([r, alpha, a, b], covariance, draws, txNormal).map((v) => bgnbdTransactionModel({ r: v[0]!, alpha: v[1]!, a: v[2]!, b: v[3]! }));
  } else {
    const { r, alpha, s, beta } = transactions.fit.params;
    models = drawParameters([r, alpha, s, beta], covariance, draws, txNormal).map((v) => paretoNbdTransactionModel({ r: v[0]!, alpha: v[1]!, s: v[2]!, beta: v[3]! }));
  }
  const { p, q, gamma } = spend.params;
  const spendDraws = drawParameters([p, q, gamma], spend.logCovariance, draws, ggNormal, (v) => v[1]! > 1).map((v) => ({ p: v[0]!, q: v[1]!, gamma: v[2]! }));
  return { transactions: models, spend: spendDraws };
};
