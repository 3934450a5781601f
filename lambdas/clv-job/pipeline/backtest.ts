import { latestAsOf, type ModelOptions } from '../config.js';
import { dayOf, isoDay } from '../domain/customers.js';
import { compareHoldout, expectedRepeatPurchaseTracking } from '../domain/models/backtest.js';
import { fitBgNbd, type BgNbdData } from '../domain/models/bg-nbd.js';
import { DAYS_PER_UNIT } from '../domain/models/clv.js';
import { chooseTransactionModel } from '../domain/models/model-choice.js';
import { bgnbdTransactionModel } from '../domain/models/transaction-model.js';
import type { ModelChoiceSummary } from '../schemas/summary-models.js';
import { ConfigurationError, EngineError, UntrustedBacktestError } from '../errors.js';
import type { QueryEngine } from '../ports.js';
import type { Backtest } from '../schemas/summary-backtest.js';
import { decodeBgNbdPatterns, decodeCustomers, decodeLatestOrderDate } from './engine-results.js';

export interface BacktestRequest {
  readonly calibrationEnd: string;
  readonly holdoutEnd: string;
  readonly model: ModelOptions;
  readonly nonPurchaseStatuses: readonly string[];
}

const DAYS_PER_WEEK = 7;

/** A calibration period's customers and patterns and what they bought in the holdout, in model units. */
interface HoldoutData {
  readonly customers: Awaited<ReturnType<typeof decodeCustomers>>;
  /** The calibration patterns in days, for the fits, which report in units of `unit` days (FitTimeOptions). */
  readonly patterns: BgNbdData;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  readonly holdoutPurchases: Float64Array;
  /** Every repeat purchase day of the calibration customers, up to the holdout end. */
  readonly repeatDays: readonly number[];
  readonly holdoutLength: number;
  readonly unit: number;
}

const checkPeriodsInOrder = ({ calibrationEnd, holdoutEnd }: BacktestRequest): void => {
  if (!(calibrationEnd < holdoutEnd)) {
    throw new ConfigurationError(`the calibration end (${calibrationEnd}) must come before the holdout end (${holdoutEnd})`);
  }
};

/**
 * Queries the calibration customers and patterns (orders up to the calibration end) and counts each
 * customer's repeat purchase days in the holdout. Customers first seen in the holdout are not part
 * of it. Throws a ConfigurationError when the dates are not in order.
 */
const loadHoldout = async (engine: QueryEngine, request: BacktestRequest): Promise<HoldoutData> => {
  const { calibrationEnd, holdoutEnd, model } = request;
  checkPeriodsInOrder(request);
  const statuses = request.nonPurchaseStatuses;
  const calibration = { asOf: calibrationEnd, nonPurchaseStatuses: statuses };
  const customers = decodeCustomers(await engine.run('customers', calibration));
  const patterns = decodeBgNbdPatterns(await engine.run('bgnbdPatterns', calibration));
  const repeat = await engine.run('repeatPurchaseDays', { asOf: holdoutEnd, calibrationEnd, nonPurchaseStatuses: statuses });
  await engine.release();
  const unit = DAYS_PER_UNIT[model.timeUnit];
  const calEndDay = dayOf(calibrationEnd);

  const indexOf = new Map(customers.customerId.map((id, i) => [id, i]));
  const holdoutPurchases = new Float64Array(customers.size);
  const repeatDays: number[] = [];
  const ids = repeat.columns.customer_id ?? [];
  const days = repeat.columns.order_day ?? [];
  for (let k = 0; k < repeat.rowCount; k++) {
    const i = indexOf.get(String(ids[k]));
    const day = Number(days[k]);
    if (i === undefined || !Number.isInteger(day)) throw new EngineError(`repeat purchase row ${k + 1} does not match a calibration customer`);
    repeatDays.push(day);
    if (day > calEndDay) holdoutPurchases[i]! += 1;
  }
  return {
    customers,
    patterns: {
      x: patterns.frequency,
      tx: patterns.recencyDays,
      T: patterns.tenureDays,
      weight: patterns.customers,
    },
    tx: Float64Array.from(customers.recencyDays, (d) => d / unit),
    T: Float64Array.from(customers.tenureDays, (d) => d / unit),
    holdoutPurchases,
    repeatDays,
    holdoutLength: (dayOf(holdoutEnd) - calEndDay) / unit,
    unit,
  };
};

/**
 * `model.transactions = auto`: fits the BG/NBD and the Pareto/NBD on the orders up to the
 * calibration end and keeps the one whose predictions of each customer's holdout purchases have
 * the smaller root-mean-squared error (see chooseTransactionModel), with both errors stated.
 */
export const compareTransactionModels = async (engine: QueryEngine, request: BacktestRequest): Promise<ModelChoiceSummary> => {
  const data = await loadHoldout(engine, request);
  const choice = chooseTransactionModel(data.patterns, {
    x: data.customers.frequency,
    tx: data.tx,
    T: data.T,
    holdoutPurchases: data.holdoutPurchases,
    holdoutLength: data.holdoutLength,
  }, { unitDays: data.unit });
  const candidate = (c: (typeof choice)['bgnbd']) => ({ converged: c.converged, root_mean_squared_error: c.rootMeanSquaredError, mean_absolute_error: c.meanAbsoluteError });
  return {
    requested: 'auto',
    chosen: choice.chosen,
    reason: choice.reason,
    holdout: {
      calibration_end: request.calibrationEnd,
      holdout_end: request.holdoutEnd,
      holdout_length: data.holdoutLength,
      customers: data.customers.size,
      metric: 'root_mean_squared_error',
      bgnbd: candidate(choice.bgnbd),
      pnbd: candidate(choice.pnbd),
    },
  };
};

export interface ChoiceRequest {
  readonly asOf: string;
  /** The run's customers' first purchase days (days since 1970-01-01). */
  readonly firstOrderDay: ArrayLike<number>;
  /** The configured backtest holdout, if any; else a third of the history, in whole weeks. */
  readonly holdoutDays: number | undefined;
  readonly model: ModelOptions;
  readonly nonPurchaseStatuses: readonly string[];
}

/** Below this much history (first order to as-of), there is no holdout worth choosing a model by. */
export const MIN_CHOICE_HISTORY_DAYS = 28;

/**
 * `auto`'s choice for a run: the holdout is the configured backtest holdout, or else the last third
 * of the history (first order to as-of) rounded down to whole weeks, at least one week. With less
 * than {@link MIN_CHOICE_HISTORY_DAYS} of history the BG/NBD is kept, and the summary says why.
 */
export const chooseByHoldout = async (engine: QueryEngine, request: ChoiceRequest): Promise<ModelChoiceSummary> => {
  const asOfDay = dayOf(request.asOf);
  let first = asOfDay;
  for (let i = 0; i < request.firstOrderDay.length; i++) first = Math.min(first, request.firstOrderDay[i]!);
  const history = asOfDay - first;
  if (history < MIN_CHOICE_HISTORY_DAYS) {
    return { requested: 'auto', chosen: 'bgnbd', reason: `only ${history} days of history (need ${MIN_CHOICE_HISTORY_DAYS}) for a holdout: kept the default, BG/NBD`, holdout: null };
  }
  const holdoutDays = Math.min(request.holdoutDays ?? Math.max(DAYS_PER_WEEK, DAYS_PER_WEEK * Math.floor(history / 3 / DAYS_PER_WEEK)), history - DAYS_PER_WEEK);
  return compareTransactionModels(engine, {
    calibrationEnd: isoDay(asOfDay - holdoutDays),
    holdoutEnd: request.asOf,
    model: request.model,
    nonPurchaseStatuses: request.nonPurchaseStatuses,
  });
};

/**
 * For a backtest asked for by dates (`clv backtest`): refuses a holdout that ends after the last valid
 * order, where the expected side would cover days the actual side cannot count (a holdout end typed
 * past the export, or in the future). The last valid order is looked for up to the latest date a run
 * may be as of (config.ts latestAsOf of `now`: today in UTC, plus a day), not up to the holdout
 * end: a holdout ending on a day without orders, orders after it, is within the orders. A run's own
 * backtest ends at its as-of date, which the run judges (and warns of when it lies long after the
 * last order), so it is not held to this.
 * @throws ConfigurationError naming the last valid order date to end the holdout on or before
 */
export const checkHoldoutWithinOrders = async (engine: QueryEngine, request: BacktestRequest, now: Date): Promise<void> => {
  checkPeriodsInOrder(request);
  const latest = decodeLatestOrderDate(await engine.run('latestOrderDate', { asOf: latestAsOf(now), nonPurchaseStatuses: request.nonPurchaseStatuses }));
  if (latest !== null && latest < request.holdoutEnd) {
    throw new ConfigurationError(
      `the holdout ends ${request.holdoutEnd}, after the last valid order (${latest}): purchases the orders do not reach cannot be counted, ` +
        `so actual and expected would cover different days; end the holdout on or before ${latest}`,
    );
  }
};

/**
 * Fits the BG/NBD on the orders up to the calibration end, then compares its predictions with what
 * the same customers actually bought up to the holdout end: per calibration frequency, in total, and
 * week by week. Customers first seen in the holdout period are not part of the comparison.
 * @throws ConfigurationError when the holdout ends before the calibration does
 * @throws UntrustedBacktestError when that fit cannot be trusted: its parameters are then starting
 * values, never shown as estimates (issue 13).
 */
export const runBacktest = async (engine: QueryEngine, request: BacktestRequest): Promise<Backtest> => {
  const { calibrationEnd, holdoutEnd, model } = request;
  const data = await loadHoldout(engine, request);
  const { customers, unit, repeatDays } = data;
  const fit = fitBgNbd(data.patterns, { unitDays: unit });
  if (!fit.diagnostics.converged) {
    throw new UntrustedBacktestError(`no backtest: the BG/NBD fit on the orders up to ${calibrationEnd} cannot be trusted (${fit.diagnostics.message})`);
  }
  const transactions = bgnbdTransactionModel(fit.params);
  const calEndDay = dayOf(calibrationEnd);
  const holdoutEndDay = dayOf(holdoutEnd);
  const comparison = compareHoldout(transactions, {
    x: customers.frequency,
    tx: data.tx,
    T: data.T,
    holdoutPurchases: data.holdoutPurchases,
    holdoutLength: data.holdoutLength,
  });

  // week k covers days origin + 7k ... origin + 7k + 6; a customer first seen on day s can repeat from day s + 1
  const origin = customers.firstOrderDay.reduce((min, d) => Math.min(min, d), Number.POSITIVE_INFINITY);
  const weeks = customers.size === 0 ? 0 : Math.ceil((holdoutEndDay - origin + 1) / DAYS_PER_WEEK);
  const expected = expectedRepeatPurchaseTracking(
    transactions,
    Float64Array.from(customers.firstOrderDay, (d) => (d - origin + 1) / unit),
    weeks,
    DAYS_PER_WEEK / unit,
  );
  const actualPerWeek = new Float64Array(weeks);
  for (const day of repeatDays) actualPerWeek[Math.floor((day - origin) / DAYS_PER_WEEK)]! += 1;
  let running = 0;
  const tracking = Array.from({ length: weeks }, (_, k) => {
    running += actualPerWeek[k]!;
    return { week: k + 1, week_end: isoDay(origin + DAYS_PER_WEEK * (k + 1) - 1), actual: running, expected: expected.cumulative[k]! };
  });

  return {
    calibration_end: calibrationEnd,
    holdout_end: holdoutEnd,
    time_unit: model.timeUnit,
    holdout_length: (holdoutEndDay - calEndDay) / unit,
    customers: customers.size,
    bgnbd: { ...fit.params, converged: fit.diagnostics.converged },
    by_frequency: comparison.byFrequency.map((b) => ({
      frequency: b.label,
      customers: b.customers,
      actual: b.actual,
      expected: b.expected,
      actual_mean: b.actualMean,
      expected_mean: b.expectedMean,
    })),
    totals: { actual: comparison.totals.actual, expected: comparison.totals.expected },
    errors: {
      mean_absolute_error: comparison.errors.meanAbsoluteError,
      root_mean_squared_error: comparison.errors.rootMeanSquaredError,
      total_percentage_error: comparison.errors.totalPercentageError,
    },
    tracking,
  };
};
