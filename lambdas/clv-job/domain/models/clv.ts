/**
 * Predicted customer lifetime value: a transaction model's (BG/NBD or Pareto/NBD) expected purchases, discounted over a horizon, times
 * the Gamma-Gamma expected order value, times margin.
 *
 *   CLV_i = margin · E(M | x_i, m_x,i) · Σ_k [E(X(t_k) | x_i, tx_i, T_i) − E(X(t_(k−1)) | …)] · v_k
 *
 * Discounting is in calendar steps that do not depend on the model's time unit, and the fits search
 * on days whatever the unit (FitTimeOptions in bg-nbd.ts), so the same data fitted in days or in
 * weeks gives the same CLV (lifetimes' CLV example silently treats weeks as days; here the unit is
 * explicit and converted once).
 */
import type { TimeUnit } from '../../config.js';
import { DistinctPairs } from './bg-nbd.js';
import { conditionalExpectedOrderValueUnchecked, type GammaGammaParams } from './gamma-gamma.js';
import type { TransactionModel } from './transaction-model.js';
import { indexTuples, type TupleIndex } from './tuple-index.js';
import { gather } from '../math/gather.js';
import { ScratchArena } from '../math/scratch-arena.js';

/** Length of one model time unit in days. */
export const DAYS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { week: 7, day: 1 };

/** The calendar step purchases are discounted in, whatever the model's unit. */
export const DISCOUNT_STEP_DAYS = 7;
const DAYS_PER_YEAR = 365.25;

export interface ClvSettings {
  /** Unit the transaction model's parameters were fitted in. */
  readonly timeUnit: TimeUnit;
  /** Prediction horizon, in `timeUnit`s. */
  readonly horizon: number;
  /** Annual discount rate, e.g. 0.10. */
  readonly discountRate: number;
  /** Share of revenue that is profit, in (0, 1]. */
  readonly margin: number;
}

export interface DiscountSchedule {
  /** End of each step, in model units: t_1 < … < t_K = horizon. */
  readonly times: Float64Array;
  /** Discount factor of each step's purchases, v_k = (1 + d)^(−t_k in years). */
  readonly factors: Float64Array;
}

const checkSettings = (settings: ClvSettings): void => {
  const { timeUnit, horizon, discountRate, margin } = settings;
  if (!(timeUnit in DAYS_PER_UNIT)) throw new RangeError(`unknown time unit ${String(timeUnit)}`);
  if (!(horizon >= 0) || !Number.isFinite(horizon)) throw new RangeError(`horizon must be finite and >= 0, got ${horizon}`);
  if (!(discountRate > -1) || !Number.isFinite(discountRate)) throw new RangeError(`discountRate must be finite and > -1, got ${discountRate}`);
  if (!Number.isFinite(margin)) throw new RangeError(`margin must be finite, got ${margin}`);
};

/**
 * The horizon cut into 7-day steps (the last one partial when the horizon is not a whole number of
 * weeks), each discounted at its end: v_k = (1 + d_step)^(−t_k/7 days), with the annual rate
 * converted to the step as d_step = (1 + d)^(7/365.25) − 1. Equivalently v_k = (1 + d)^(−t_k/365.25 days).
 * Weekly steps keep the sum as cheap as a 52-term loop for a year and within ~0.1% of continuous
 * discounting, and because they are calendar steps the result does not depend on the time unit.
 */
export const discountSchedule = (horizon: number, timeUnit: TimeUnit, discountRate: number): DiscountSchedule => {
  checkSettings({ timeUnit, horizon, discountRate, margin: 1 });
  const daysPerUnit = DAYS_PER_UNIT[timeUnit];
  const horizonDays = horizon * daysPerUnit;
  // A horizon within rounding of a whole number of weeks has no sliver of a last step.
  const steps = Math.max(0, Math.ceil(horizonDays / DISCOUNT_STEP_DAYS - 1e-9));
  const times = new Float64Array(steps);
  const factors = new Float64Array(steps);
  const logRate = Math.log1p(discountRate);
  for (let k = 1; k <= steps; k++) {
    const days = k === steps ? horizonDays : k * DISCOUNT_STEP_DAYS;
    times[k - 1] = days / daysPerUnit;
    factors[k - 1] = Math.exp((-logRate * days) / DAYS_PER_YEAR);
  }
  return { times, factors };
};

/**
 * Σ_k [E(X(t_k)) − E(X(t_(k−1)))] v_k from E(X(t_k)) of a customer alive now: multiply by
 * P(alive) for the conditional value. Writes [E(X(horizon)), discounted sum] to `out`.
 */
const discountIncrements = (expected: Float64Array, schedule: DiscountSchedule, out: Float64Array): void => {
  let previous = 0;
  let discounted = 0;
  for (let k = 0; k < expected.length; k++) {
    const e = expected[k]!;
    // E(X(t)) is non-decreasing in t; rounding must not turn an increment negative.
    discounted += Math.max(0, e - previous) * schedule.factors[k]!;
    previous = Math.max(previous, e);
  }
  out[0] = previous;
  out[1] = discounted;
};

export interface ScoreInput {
  /** Repeat purchase days (frequency). */
  readonly x: Float64Array | Int32Array;
  /** Days from the first to the last purchase (t_x in days). */
  readonly recencyDays: Float64Array | Int32Array;
  /** Days from the first purchase to the as-of date (T in days). */
  readonly tenureDays: Float64Array | Int32Array;
  /** Mean revenue per repeat purchase (m_x); ignored when x = 0. */
  readonly monetaryValue: Float64Array;
}

/** What the transaction model alone predicts per customer. */
export interface PurchaseScores {
  /** E(X(horizon) | x, tx, T): undiscounted expected purchases over the horizon. */
  readonly expectedPurchases: Float64Array;
  readonly probabilityAlive: Float64Array;
  /** Expected purchases over the horizon, each discounted to today. */
  readonly discountedPurchases: Float64Array;
}

export interface Scores extends PurchaseScores {
  /** E(M | x, m_x): Gamma-Gamma expected revenue per purchase. */
  readonly expectedOrderValue: Float64Array;
  /** margin · expectedOrderValue · discountedPurchases. */
  readonly predictedClv: Float64Array;
}

/**
 * Customers (or distinct (x, recency, tenure) tuples) validated and indexed once, for scoring
 * under one transaction model or many (the intervals' draws): their distinct (x, T) pairs, whose
 * discounted expectation while alive they share, and a {@link TupleIndex} for P(alive).
 */
export interface PreparedPurchases {
  /** Tuples. */
  readonly size: number;
  /** Distinct (x, T) pairs, and tuple j's among them. */
  readonly pairs: number;
  readonly pairOf: Int32Array;
  /** What it was prepared from. */
  readonly index: PurchaseIndex;
  /**
   * Per pair: E(X(horizon) | alive, x, T) into `horizon` and its weekly-discounted sum into
   * `discounted` (each of length `pairs`), under `model`.
   */
  ifAlive(model: TransactionModel, horizon: Float64Array, discounted: Float64Array): void;
  /** Per tuple: P(alive | x, tx, T) under `model`, into `out` (length `size`). */
  alive(model: TransactionModel, out: Float64Array): void;
}

/**
 * {@link PreparedPurchases}' data: plain arrays and numbers, so that it can be sent to another
 * thread and prepared there ({@link preparedOf}) without indexing the tuples again.
 */
export interface PurchaseIndex {
  /** Tuples. */
  readonly size: number;
  /** Tuple j's distinct (x, T) pair, and the pairs' x and T (model units). */
  readonly pairOf: Int32Array;
  readonly pairX: Float64Array;
  readonly pairT: Float64Array;
  /** The tuples in model units, indexed for P(alive). */
  readonly tuples: TupleIndex;
  /** The discounting's settings: horizon (model units), unit and annual rate. */
  readonly horizon: number;
  readonly timeUnit: TimeUnit;
  readonly discountRate: number;
}

/**
 * Validates and indexes tuples for {@link scorePurchases} (inputs in DAYS, converted to the
 * model's unit here). Cost O(n) expected (hashing). Throws a RangeError for invalid settings,
 * columns of different lengths, or a row that is not a valid customer (fractional or negative x,
 * recency outside [0, tenure], recency ≠ 0 when x = 0, non-finite or negative values).
 */
export const indexPurchases = (input: Omit<ScoreInput, 'monetaryValue'>, settings: ClvSettings): PurchaseIndex => {
  checkSettings(settings);
  const n = input.x.length;
  if (input.recencyDays.length !== n || input.tenureDays.length !== n) {
    throw new RangeError(`score input columns differ in length: x ${n}, recencyDays ${input.recencyDays.length}, tenureDays ${input.tenureDays.length}`);
  }
  for (let i = 0; i < n; i++) {
    const x = input.x[i]!;
    const tx = input.recencyDays[i]!;
    const T = input.tenureDays[i]!;
    if (!(Number.isInteger(x) && x >= 0) || !(tx >= 0) || !(T >= tx) || !Number.isFinite(T) || (x === 0 && tx !== 0)) {
      throw new RangeError(`score input row ${i} is invalid: x=${x}, recencyDays=${tx}, tenureDays=${T}`);
    }
  }
  const daysPerUnit = DAYS_PER_UNIT[settings.timeUnit];

  // The distinct (x, T) pairs, T in model units.
  const pairs = new DistinctPairs();
  const pairOf = new Int32Array(n);
  for (let i = 0; i < n; i++) pairOf[i] = pairs.indexOf(input.x[i]!, input.tenureDays[i]! / daysPerUnit);
  const pairT = pairs.seconds();
  const recency = new Float64Array(n);
  for (let i = 0; i < n; i++) recency[i] = input.recencyDays[i]! / daysPerUnit;
  const tuples = indexTuples(input.x, recency, gather(pairT, pairOf));
  const { horizon, timeUnit, discountRate } = settings;
  return { size: n, pairOf, pairX: pairs.firsts(), pairT, tuples, horizon, timeUnit, discountRate };
};

/** {@link PreparedPurchases} on an index ({@link indexPurchases}, here or in another thread): O(horizon in weeks). */
export const preparedOf = (index: PurchaseIndex): PreparedPurchases => {
  const { pairX, pairT, tuples } = index;
  const schedule = discountSchedule(index.horizon, index.timeUnit, index.discountRate);
  const grid = new Float64Array(schedule.times.length);
  const pair = new Float64Array(2);
  // the grid's tables, the same memory for every model (draw) scored
  const arena = new ScratchArena();
  return {
    size: index.size,
    pairs: pairX.length,
    pairOf: index.pairOf,
    index,
    ifAlive: (model, horizon, discounted) => {
      // E(X(t_k) | alive) at every step, per pair
      arena.reset();
      const onGrid = model.makeExpectedIfAliveOnGrid(schedule.times, arena);
      for (let j = 0; j < pairX.length; j++) {
        onGrid(pairX[j]!, pairT[j]!, grid);
        discountIncrements(grid, schedule, pair);
        horizon[j] = pair[0]!;
        discounted[j] = pair[1]!;
      }
    },
    alive: (model, out) => model.probabilityAliveOn(tuples, out),
  };
};

/** {@link preparedOf} {@link indexPurchases}: throws as the latter does. */
export const preparePurchases = (input: Omit<ScoreInput, 'monetaryValue'>, settings: ClvSettings): PreparedPurchases => preparedOf(indexPurchases(input, settings));

/**
 * The transaction model's half of scoring, usable on its own when the spend model cannot be
 * trusted: P(alive), expected purchases over the horizon and their discounted sum, for many
 * customers (or distinct (x, recency, tenure) tuples) at once. Inputs are in DAYS and converted to
 * the model's unit here; outputs are per element, all finite. `monetaryValue` is not read.
 *
 * E(X(t) | x, tx, T) = P(alive | x, tx, T) · E(X(t) | alive, x, T) (FHL 2005 eq. 10; Fader & Hardie
 * 2005 note eq. 25 for the Pareto/NBD), and the second factor — for the BG/NBD the expensive one, a
 * hypergeometric function at every discount step — depends on (x, T) only, so it is computed once per
 * distinct (x, T) pair and shared by all customers with that pair; P(alive) is computed per customer
 * from logarithms taken once per distinct value (the Pareto/NBD's hypergeometric terms once per
 * distinct (x, recency) and (x, tenure)). Cost: O(n) plus O(distinct (x, T) · horizon in weeks)
 * evaluations of E(X(t)).
 *
 * Throws a RangeError as {@link preparePurchases} does.
 */
export const scorePurchases = (model: TransactionModel, input: Omit<ScoreInput, 'monetaryValue'>, settings: ClvSettings): PurchaseScores =>
  scorePurchasesOn(model, indexPurchases(input, settings));

/** {@link scorePurchases} of the tuples `index` was made from ({@link indexPurchases}, validated there): one score per tuple. */
export const scorePurchasesOn = (model: TransactionModel, index: PurchaseIndex): PurchaseScores => {
  const prepared = preparedOf(index);
  const n = prepared.size;
  const horizonIfAlive = new Float64Array(prepared.pairs);
  const discountedIfAlive = new Float64Array(prepared.pairs);
  prepared.ifAlive(model, horizonIfAlive, discountedIfAlive);
  const probabilityAlive = new Float64Array(n);
  prepared.alive(model, probabilityAlive);
  const expectedPurchases = new Float64Array(n);
  const discountedPurchases = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = prepared.pairOf[i]!;
    const alive = probabilityAlive[i]!;
    expectedPurchases[i] = alive * horizonIfAlive[j]!;
    discountedPurchases[i] = alive * discountedIfAlive[j]!;
  }
  return { expectedPurchases, probabilityAlive, discountedPurchases };
};

/** Throws a RangeError unless the Gamma-Gamma parameters are finite with p, γ > 0 and q > 1 (a finite mean spend). */
export const checkSpendParams = (gg: GammaGammaParams): void => {
  const { p, q, gamma } = gg;
  if (!(p > 0 && q > 1 && gamma > 0) || !Number.isFinite(p + q + gamma)) {
    throw new RangeError(`Gamma-Gamma parameters must be finite with p, gamma > 0 and q > 1 (finite mean spend): p=${p}, q=${q}, gamma=${gamma}`);
  }
};

/**
 * Scores many customers with both models: {@link scorePurchases}, then the Gamma-Gamma expected
 * order value E(M | x, m_x) and predicted CLV = margin · E(M) · discounted expected purchases.
 * Outputs are per element, all finite.
 *
 * Throws a RangeError as {@link scorePurchases} does, and for Gamma-Gamma parameters without a
 * finite mean spend (q ≤ 1) or a monetary value that is negative or not finite: the pipeline
 * decides whether a fit is trusted enough to score.
 */
export const scoreTuples = (model: TransactionModel, gg: GammaGammaParams, input: ScoreInput, settings: ClvSettings): Scores => {
  checkSpendInput(gg, input);
  return withSpend(gg, input, scorePurchases(model, input, settings), settings.margin);
};

/**
 * Throws the RangeError {@link scoreTuples} throws before it scores purchases: Gamma-Gamma
 * parameters without a finite mean spend, columns of different lengths, or a monetary value that is
 * negative or not finite.
 */
export const checkSpendInput = (gg: GammaGammaParams, input: Pick<ScoreInput, 'x' | 'monetaryValue'>): void => {
  checkSpendParams(gg);
  const n = input.x.length;
  if (input.monetaryValue.length !== n) throw new RangeError(`score input columns differ in length: x ${n}, monetaryValue ${input.monetaryValue.length}`);
  for (let i = 0; i < n; i++) {
    const mx = input.monetaryValue[i]!;
    if (!(mx >= 0) || !Number.isFinite(mx)) throw new RangeError(`score input row ${i} is invalid: monetaryValue=${mx}`);
  }
};

/**
 * The rows' scores from their transaction scores (`purchases`, row by row) and the Gamma-Gamma:
 * E(M | x, m_x) and predicted CLV = margin · E(M) · discounted expected purchases. Inputs as
 * {@link checkSpendInput} accepts them (not checked here).
 */
export const withSpend = (gg: GammaGammaParams, input: Pick<ScoreInput, 'x' | 'monetaryValue'>, purchases: PurchaseScores, margin: number): Scores => {
  const { p, q, gamma } = gg;
  const n = input.x.length;
  const expectedOrderValue = new Float64Array(n);
  const predictedClv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = input.x[i]!;
    const value = conditionalExpectedOrderValueUnchecked(p, q, gamma, x, x > 0 ? input.monetaryValue[i]! : 0);
    expectedOrderValue[i] = value;
    predictedClv[i] = margin * value * purchases.discountedPurchases[i]!;
  }
  return { ...purchases, expectedOrderValue, predictedClv };
};
