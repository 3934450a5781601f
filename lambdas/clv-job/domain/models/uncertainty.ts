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
import { gather } from '../math/gather.js';
import { choleskyLower } from '../math/optimise.js';
import { normal, seededUniform } from '../math/random.js';
import type { ClvSettings, ScoreInput } from './clv.js';
import type { GammaGammaParams } from './gamma-gamma.js';
import {
  allocateIntervalBuffers,
  equityOfPartials,
  INTERVAL_LOWER,
  INTERVAL_PHASES,
  INTERVAL_UPPER,
  planIntervals,
  planOnIndex,
  type IntervalIndex,
  quantileSorted,
  TUPLE_BLOCK,
  type IntervalBuffers,
  type IntervalPlan,
} from './interval-phases.js';
import type { BgNbdFit } from './bg-nbd.js';
import type { ParetoNbdFit } from './pareto-nbd.js';
import { transactionModelOf, type TransactionModel, type TransactionParams } from './transaction-model.js';

export { INTERVAL_LOWER, INTERVAL_UPPER } from './interval-phases.js';

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
  /** 5th and 95th percentile of Σ predicted CLV over the draws (summed in the order {@link customerIntervals} gives). */
  readonly equity: { readonly p05: number; readonly p95: number };
  readonly draws: number;
}

/**
 * `draws` vectors exp(θ̂ + L z), z ~ N(0, I), L Lᵀ = `logCovariance` (k×k row-major): parameters
 * drawn from the asymptotic normal of their logarithms, so every draw is positive. `accept` may
 * reject a draw (e.g. a Gamma-Gamma q ≤ 1, whose mean spend is infinite); rejected draws are drawn
 * again, which truncates the normal to where the model is defined. So is a draw whose exponential
 * left the doubles (0 or Infinity: a fit so uncertain that a log-parameter's standard error is in
 * the hundreds), which no model takes.
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
    if (values.every((v) => v > 0 && v < Number.POSITIVE_INFINITY) && accept(values)) out.push(values);
  }
  return out;
};

/** A seeded standard normal generator: one stream per purpose, so adding draws of one model does not shift another's. */
export const seededNormal = (seed: number): (() => number) => {
  const u = seededUniform(seed);
  return () => normal(u);
};

/**
 * Intervals for every row of `input` (as {@link scoreTuples} takes it, in days), from one
 * transaction model and one Gamma-Gamma parameter set per draw (the same count of each).
 *
 * The rows are customers, or the customers' distinct patterns (score-patterns.ts) with `patternOf`
 * giving each customer's row: the intervals are then per pattern, and the equity still sums over
 * every customer, in the same order, so it is the same number either way, bit for bit.
 *
 * The equity under a draw is Σ predicted CLV over the customers, added up in this order: the
 * distinct (x, recency, tenure) tuples numbered in the order they first appear among the customers
 * (or the rows: the same order), cut into blocks of `tupleBlock` consecutive tuples; per block, a
 * partial sum from 0 over the customers whose tuple is in the block, in (tuple, customer index)
 * order; then the blocks' partial sums from 0 in block order. (Each block's draws exist only while
 * it is worked on; the order does not depend on the threads.) Plain sums, not compensated: every
 * term is ≥ 0, so nothing cancels and a sum of n terms is within (n − 1)·2⁻⁵³ of exact, relatively
 * (n at most the customers, as for one sum over them all; the blocks only shorten it): at 5 M
 * customers under 6e−10, against the percents that the 5th and 95th percentiles of 100 draws move
 * by from one seed to another. A compensated sum would add ~4 operations to each of the
 * draws × customers additions (500 M at 5 M customers) for digits the interval does not have.
 *
 * The transaction part depends on (x, recency, tenure) only, and within it the expensive factor —
 * expected purchases while alive, discounted over the horizon — on (x, tenure) only: per draw, that
 * factor is computed once per distinct (x, tenure) pair and P(alive) once per distinct tuple, from
 * logarithms tabulated per distinct value ({@link preparePurchases}, indexed once for all draws).
 * The Gamma-Gamma part is a closed form per row. Percentiles are found by selection, not sorting.
 * The numbers are those of scoring every draw with {@link scoreTuples} and sorting, bit for bit.
 * This runs the phases of interval-phases.ts over their whole ranges in this thread; an adapter may
 * run them over parts of their ranges on several threads ({@link intervalsFromBuffers} then reads
 * the result), with the same numbers.
 * Cost: O(draws · (distinct (x, tenure) pairs · horizon in weeks + tuples + rows + customers));
 * memory: draws · (2 · distinct pairs + a P(alive) table of distinct values) + tupleBlock · draws
 * + min(the most rows of a block, ROW_PIECE) · draws + ~5 numbers per tuple, row and customer.
 * Throws a RangeError for invalid input (see scoreTuples), when the draws differ in number, when
 * `patternOf` names a row `input` lacks, or when tupleBlock is not a whole number ≥ 1.
 */
export const customerIntervals = (
  transactions: readonly TransactionModel[],
  spend: readonly GammaGammaParams[],
  input: ScoreInput,
  settings: ClvSettings,
  patternOf?: Int32Array,
  tupleBlock: number = TUPLE_BLOCK,
): CustomerIntervals => {
  const plan = planIntervals(transactions, spend, input, settings, patternOf, tupleBlock);
  return runPhases(plan);
};

/** Every phase over its whole range, in this thread. */
const runPhases = (plan: IntervalPlan): CustomerIntervals => {
  const buffers = allocateIntervalBuffers(plan);
  for (const phase of INTERVAL_PHASES) phase.run(plan, buffers, 0, phase.extent(plan));
  return intervalsFromBuffers(plan, buffers);
};

/** The intervals once every phase has run over its whole range; `buffers` is left as it was. */
export const intervalsFromBuffers = (plan: IntervalPlan, buffers: IntervalBuffers): CustomerIntervals => {
  const perRow = (lo: Float64Array, hi: Float64Array): Interval => ({ p05: gather(lo, plan.tupleOf), p95: gather(hi, plan.tupleOf) });
  const equity = equityOfPartials(plan, buffers).sort();
  return {
    expectedPurchases: perRow(buffers.expectedLo, buffers.expectedHi),
    probabilityAlive: perRow(buffers.aliveLo, buffers.aliveHi),
    predictedClv: { p05: Float64Array.from(buffers.clvLo), p95: Float64Array.from(buffers.clvHi) },
    equity: { p05: quantileSorted(equity, INTERVAL_LOWER), p95: quantileSorted(equity, INTERVAL_UPPER) },
    draws: plan.draws,
  };
};

/** Seeds of the two streams, apart so that neither model's draws depend on the other's dimension. */
const TRANSACTION_STREAM = 0x51;
const SPEND_STREAM = 0xa3;

/** Draws of both models' parameters, the same number of each. */
export interface ParameterDraws {
  readonly transactions: TransactionModel[];
  /** The same draws as plain data. */
  readonly transactionParams: TransactionParams[];
  readonly spend: GammaGammaParams[];
}

/**
 * Everything {@link customerIntervals} needs, as plain data that can be sent to another thread:
 * the draws and the rows indexed ({@link indexIntervals}, or {@link intervalIndexOn} on rows whose
 * tuples were indexed already).
 */
export interface IntervalJob {
  readonly transactions: readonly TransactionParams[];
  readonly spend: readonly GammaGammaParams[];
  readonly index: IntervalIndex;
}

/**
 * Whether every interval is finite. Draws far out in a very uncertain fit (a and b of the BG/NBD at
 * 1e-23 on a likelihood ridge) give some customers infinite expected purchases: such intervals say
 * nothing, and the caller publishes the night without them.
 */
export const intervalsFinite = (intervals: CustomerIntervals): boolean => {
  const finite = (values: Float64Array): boolean => values.every(Number.isFinite);
  const { expectedPurchases, probabilityAlive, predictedClv, equity } = intervals;
  return (
    Number.isFinite(equity.p05) &&
    Number.isFinite(equity.p95) &&
    [expectedPurchases, probabilityAlive, predictedClv].every((interval) => finite(interval.p05) && finite(interval.p95))
  );
};

/** The plan of a job: the same plan in whichever thread builds it. Throws a RangeError as {@link planOnIndex} does. */
export const planOfJob = (job: IntervalJob): IntervalPlan => planOnIndex(job.transactions.map(transactionModelOf), job.spend, job.index);

/** {@link customerIntervals} of a job, in this thread. */
export const intervalsInThread = (job: IntervalJob): CustomerIntervals => runPhases(planOfJob(job));

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
): ParameterDraws | null => {
  const draws = settings.draws ?? 200;
  const seed = settings.seed ?? 1;
  if (!(Number.isInteger(draws) && draws >= 2)) throw new RangeError(`draws must be a whole number >= 2, got ${draws}`);
  const covariance = transactions.fit.logCovariance;
  if (covariance === null || spend.logCovariance === null) return null;
  const txNormal = seededNormal(seed * 0x10000 + TRANSACTION_STREAM);
  const ggNormal = seededNormal(seed * 0x10000 + SPEND_STREAM);
  let transactionParams: TransactionParams[];
  if (transactions.name === 'bgnbd') {
    const { r, alpha, a, b } = transactions.fit.params;
    transactionParams = drawParameters([r, alpha, a, b], covariance, draws, txNormal).map((v) => ({ name: 'bgnbd', params: { r: v[0]!, alpha: v[1]!, a: v[2]!, b: v[3]! } }));
  } else {
    const { r, alpha, s, beta } = transactions.fit.params;
    transactionParams = drawParameters([r, alpha, s, beta], covariance, draws, txNormal).map((v) => ({ name: 'pnbd', params: { r: v[0]!, alpha: v[1]!, s: v[2]!, beta: v[3]! } }));
  }
  const { p, q, gamma } = spend.params;
  const spendDraws = drawParameters([p, q, gamma], spend.logCovariance, draws, ggNormal, (v) => v[1]! > 1).map((v) => ({ p: v[0]!, q: v[1]!, gamma: v[2]! }));
  return { transactions: transactionParams.map(transactionModelOf), transactionParams, spend: spendDraws };
};
