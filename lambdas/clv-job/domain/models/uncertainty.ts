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
import { DAYS_PER_UNIT, scoreTuples, type ClvSettings, type ScoreInput } from './clv.js';
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
 * Intervals for every row of `input` (as {@link scoreTuples} takes it, in days), from one
 * transaction model and one Gamma-Gamma parameter set per draw (the same count of each).
 *
 * The rows are customers, or the customers' distinct patterns (score-patterns.ts) with `patternOf`
 * giving each customer's row: the intervals are then per pattern, and the equity interval still sums
 * over every customer, in customer order, so it is the same number either way, bit for bit.
 *
 * The transaction part — discounted and undiscounted expected purchases, P(alive) — depends on
 * (x, recency, tenure) only, so each draw scores the distinct tuples once; the Gamma-Gamma part is a
 * closed form per row. Cost: O(draws · (scoring the distinct tuples + rows · log draws + customers));
 * memory: 3 · draws · distinct tuples numbers. Throws a RangeError for invalid input (see
 * scoreTuples), when the draws differ in number, or when `patternOf` names a row `input` lacks.
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
  const n = input.x.length;
  // Distinct (x, recency, tenure): (x, recency) pairs, then (pair, tenure).
  const xr = new DistinctPairs();
  const tuples = new DistinctPairs();
  const tupleOf = new Int32Array(n);
  for (let i = 0; i < n; i++) tupleOf[i] = tuples.indexOf(xr.indexOf(input.x[i]!, input.recencyDays[i]!), input.tenureDays[i]!);
  const pairX = xr.firsts();
  const pairRecency = xr.seconds();
  const tuplePair = tuples.firsts();
  const m = tuples.size;
  const tupleInput: ScoreInput = {
    x: Float64Array.from(tuplePair, (p) => pairX[p]!),
    recencyDays: Float64Array.from(tuplePair, (p) => pairRecency[p]!),
    tenureDays: tuples.seconds(),
    monetaryValue: new Float64Array(m),
  };
  if (!(settings.timeUnit in DAYS_PER_UNIT)) throw new RangeError(`unknown time unit ${String(settings.timeUnit)}`);

  const discounted = new Float64Array(draws * m);
  const expected = new Float64Array(draws * m);
  const alive = new Float64Array(draws * m);
  for (let d = 0; d < draws; d++) {
    const scores = scoreTuples(transactions[d]!, spend[d]!, tupleInput, settings);
    discounted.set(scores.discountedPurchases, d * m);
    expected.set(scores.expectedPurchases, d * m);
    alive.set(scores.probabilityAlive, d * m);
  }

  // Per tuple: the percentiles of expected purchases and P(alive).
  const column = new Float64Array(draws);
  const tuplePercentiles = (values: Float64Array): { lo: Float64Array; hi: Float64Array } => {
    const lo = new Float64Array(m);
    const hi = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      for (let d = 0; d < draws; d++) column[d] = values[d * m + j]!;
      column.sort();
      lo[j] = quantileSorted(column, INTERVAL_LOWER);
      hi[j] = quantileSorted(column, INTERVAL_UPPER);
    }
    return { lo, hi };
  };
  const perCustomer = (t: { lo: Float64Array; hi: Float64Array }): Interval => ({
    p05: Float64Array.from(tupleOf, (j) => t.lo[j]!),
    p95: Float64Array.from(tupleOf, (j) => t.hi[j]!),
  });
  const expectedPurchases = perCustomer(tuplePercentiles(expected));
  const probabilityAlive = perCustomer(tuplePercentiles(alive));

  // Per row: CLV_d = margin · E(M | x, m_x; Gamma-Gamma draw d) · discounted purchases of draw d.
  const clvOf = (i: number, d: number): number => {
    const x = input.x[i]!;
    const g = spend[d]!;
    return settings.margin * conditionalExpectedOrderValueUnchecked(g.p, g.q, g.gamma, x, x > 0 ? input.monetaryValue[i]! : 0) * discounted[d * m + tupleOf[i]!]!;
  };
  const clvLo = new Float64Array(n);
  const clvHi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < draws; d++) column[d] = clvOf(i, d);
    column.sort();
    clvLo[i] = quantileSorted(column, INTERVAL_LOWER);
    clvHi[i] = quantileSorted(column, INTERVAL_UPPER);
  }
  // Per draw: equity = Σ CLV_d over the customers, added up in customer order.
  const equity = new Float64Array(draws);
  const rowClv = new Float64Array(n);
  for (let d = 0; d < draws; d++) {
    for (let i = 0; i < n; i++) rowClv[i] = clvOf(i, d);
    let sum = 0;
    if (patternOf === undefined) for (let i = 0; i < n; i++) sum += rowClv[i]!;
    else
      for (let c = 0; c < patternOf.length; c++) {
        const row = patternOf[c]!;
        if (!(row >= 0 && row < n)) throw new RangeError(`customer ${c}'s pattern ${row} is not a row of the ${n} patterns`);
        sum += rowClv[row]!;
      }
    equity[d] = sum;
  }
  equity.sort();
  return {
    expectedPurchases,
    probabilityAlive,
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
