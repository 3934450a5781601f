/**
 * Calibration / holdout checks of a transaction model's fit (BG/NBD or Pareto/NBD), as in FHL 2005 §4 (Figures 2–4): conditional
 * expectations against actual holdout purchases by calibration frequency, and the unconditional
 * expected cumulative repeat purchases of a cohort for a tracking chart. Pure functions of a fit
 * and customers; time in model units throughout.
 */
import { DistinctPairs } from './bg-nbd.js';
import type { TransactionModel } from './transaction-model.js';
import { CompensatedSum } from '../math/sum.js';

export interface HoldoutInput {
  /** Calibration frequency, recency and tenure per customer, in model units. */
  readonly x: ArrayLike<number>;
  readonly tx: ArrayLike<number>;
  readonly T: ArrayLike<number>;
  /** Actual repeat purchases per customer in the holdout period. */
  readonly holdoutPurchases: ArrayLike<number>;
  /** Length of the holdout period, in model units. */
  readonly holdoutLength: number;
}

export interface FrequencyBucket {
  /** Calibration frequency; the last bucket holds every x >= this. */
  readonly frequency: number;
  /** "0", "1", …, "7+". */
  readonly label: string;
  readonly customers: number;
  readonly actual: number;
  readonly expected: number;
  /** Per customer; null for an empty bucket. */
  readonly actualMean: number | null;
  readonly expectedMean: number | null;
}

export interface HoldoutComparison {
  readonly byFrequency: readonly FrequencyBucket[];
  readonly totals: { readonly customers: number; readonly actual: number; readonly expected: number };
  readonly errors: {
    /** Per customer: mean |actual − expected|. */
    readonly meanAbsoluteError: number;
    /** Per customer: √ mean (actual − expected)². */
    readonly rootMeanSquaredError: number;
    /** 100 (expected − actual) / actual for the totals; null when there were no actual purchases. */
    readonly totalPercentageError: number | null;
  };
  /** E(X(T, T + holdoutLength] | x, tx, T) per customer, in input order. */
  readonly expected: Float64Array;
}

export interface HoldoutOptions {
  /** Frequencies from this one up share the last bucket. @default 7 */
  readonly topFrequency?: number;
}

/**
 * Compares each customer's conditional expectation of holdout purchases (FHL 2005 eq. 10) with what
 * they actually bought, grouped by calibration frequency (FHL 2005 Figure 4). Expectations are
 * computed once per distinct (x, T) and scaled by each customer's P(alive).
 * Throws a RangeError for columns of different lengths or invalid customers.
 */
export const compareHoldout = (model: TransactionModel, input: HoldoutInput, options: HoldoutOptions = {}): HoldoutComparison => {
  const top = options.topFrequency ?? 7;
  if (!(Number.isInteger(top) && top >= 1)) throw new RangeError(`topFrequency must be a whole number >= 1, got ${top}`);
  const n = input.x.length;
  if (input.tx.length !== n || input.T.length !== n || input.holdoutPurchases.length !== n) throw new RangeError('holdout input columns differ in length');
  const t = input.holdoutLength;
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`holdoutLength must be finite and >= 0, got ${t}`);

  // Validate, and index the distinct (x, T) pairs: E(X(t) | alive, x, T) is computed once per pair.
  const pairs = new DistinctPairs();
  const slotOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = input.x[i]!;
    const tx = input.tx[i]!;
    const T = input.T[i]!;
    const actual = input.holdoutPurchases[i]!;
    if (!(Number.isInteger(x) && x >= 0) || !(tx >= 0) || !(T >= tx) || !Number.isFinite(T) || (x === 0 && tx !== 0) || !(actual >= 0) || !Number.isFinite(actual)) {
      throw new RangeError(`holdout row ${i} is invalid: x=${x}, tx=${tx}, T=${T}, holdout purchases=${actual}`);
    }
    slotOf[i] = pairs.indexOf(x, T);
  }
  const pairX = pairs.firsts();
  const pairT = pairs.seconds();
  const ifAlive = new Float64Array(pairX.length);
  const onGrid = model.makeExpectedIfAliveOnGrid([t]);
  const window = new Float64Array(1);
  for (let j = 0; j < pairX.length; j++) {
    onGrid(pairX[j]!, pairT[j]!, window);
    ifAlive[j] = window[0]!;
  }
  const logAlive = model.makeLogProbabilityAlive();

  const expected = new Float64Array(n);
  const customers = new Float64Array(top + 1);
  const actualSums = Array.from({ length: top + 1 }, () => new CompensatedSum());
  const expectedSums = Array.from({ length: top + 1 }, () => new CompensatedSum());
  const absError = new CompensatedSum();
  const squaredError = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    const x = input.x[i]!;
    const j = slotOf[i]!;
    const actual = input.holdoutPurchases[i]!;
    const e = Math.exp(logAlive(x, input.tx[i]!, input.T[i]!)) * ifAlive[j]!;
    expected[i] = e;
    const bucket = Math.min(x, top);
    customers[bucket] = customers[bucket]! + 1;
    actualSums[bucket]!.add(actual);
    expectedSums[bucket]!.add(e);
    absError.add(Math.abs(actual - e));
    squaredError.add((actual - e) ** 2);
  }

  const byFrequency: FrequencyBucket[] = [];
  const totalActual = new CompensatedSum();
  const totalExpected = new CompensatedSum();
  for (let k = 0; k <= top; k++) {
    const count = customers[k]!;
    const actual = actualSums[k]!.value;
    const exp = expectedSums[k]!.value;
    totalActual.add(actual);
    totalExpected.add(exp);
    byFrequency.push({
      frequency: k,
      label: k === top ? `${k}+` : String(k),
      customers: count,
      actual,
      expected: exp,
      actualMean: count > 0 ? actual / count : null,
      expectedMean: count > 0 ? exp / count : null,
    });
  }
  const actual = totalActual.value;
  const exp = totalExpected.value;
  return {
    byFrequency,
    totals: { customers: n, actual, expected: exp },
    errors: {
      meanAbsoluteError: n > 0 ? absError.value / n : 0,
      rootMeanSquaredError: n > 0 ? Math.sqrt(squaredError.value / n) : 0,
      totalPercentageError: actual > 0 ? (100 * (exp - actual)) / actual : null,
    },
    expected,
  };
};

export interface Tracking {
  /** End of each period, in model units from the common origin: periodLength · k. */
  readonly periodEnd: Float64Array;
  /** Expected repeat purchases of the whole cohort from the origin to each period's end. */
  readonly cumulative: Float64Array;
  /** Expected repeat purchases within each period. */
  readonly incremental: Float64Array;
}

/**
 * Expected cumulative repeat purchases of a cohort whose customers made their first purchase at
 * `firstPurchaseOffset[i]` (model units after a common origin), at the end of each of `periods`
 * periods: Σ_i E[X(τ_k − s_i)] with E[X(t)] the model's unconditional expectation (FHL 2005 eq. 9), and
 * 0 for customers not yet acquired (FHL 2005 Figure 2). Customers sharing an offset are computed once.
 * Cost: O(n + distinct offsets · periods) evaluations of E[X(t)].
 */
export const expectedRepeatPurchaseTracking = (
  model: TransactionModel,
  firstPurchaseOffset: ArrayLike<number>,
  periods: number,
  periodLength = 1,
): Tracking => {
  if (!(Number.isInteger(periods) && periods >= 0)) throw new RangeError(`periods must be a whole number >= 0, got ${periods}`);
  if (!(periodLength > 0) || !Number.isFinite(periodLength)) throw new RangeError(`periodLength must be finite and > 0, got ${periodLength}`);
  const offsets = new DistinctPairs();
  let counts = new Float64Array(64);
  for (let i = 0; i < firstPurchaseOffset.length; i++) {
    const s = firstPurchaseOffset[i]!;
    if (!Number.isFinite(s)) throw new RangeError(`firstPurchaseOffset[${i}] is not finite: ${s}`);
    const k = offsets.indexOf(s, 0);
    if (k === counts.length) {
      const grown = new Float64Array(2 * counts.length);
      grown.set(counts);
      counts = grown;
    }
    counts[k] = counts[k]! + 1;
  }
  const starts = offsets.firsts();
  // Period ends and first purchases usually sit on a lattice (weeks, days), so the same lags
  // τ_k − s recur across offsets: E[X(lag)] is computed once per distinct lag.
  const lags = new DistinctPairs();
  let lagValues = new Float64Array(256);
  let known = 0;
  const periodEnd = new Float64Array(periods);
  const cumulative = new Float64Array(periods);
  const incremental = new Float64Array(periods);
  for (let k = 0; k < periods; k++) {
    const end = periodLength * (k + 1);
    const total = new CompensatedSum();
    for (let j = 0; j < starts.length; j++) {
      const lag = end - starts[j]!;
      if (!(lag > 0)) continue;
      const id = lags.indexOf(lag, 0);
      if (id === known) {
        // A lag not seen before (ids are handed out in order).
        if (id === lagValues.length) {
          const grown = new Float64Array(2 * lagValues.length);
          grown.set(lagValues);
          lagValues = grown;
        }
        lagValues[id] = model.expectedNewCustomer(lag);
        known++;
      }
      total.add(counts[j]! * lagValues[id]!);
    }
    periodEnd[k] = end;
    // Each term is non-decreasing in k; keep the sum so against rounding.
    cumulative[k] = Math.max(total.value, k > 0 ? cumulative[k - 1]! : 0);
    incremental[k] = cumulative[k]! - (k > 0 ? cumulative[k - 1]! : 0);
  }
  return { periodEnd, cumulative, incremental };
};
