import type { ModelOptions } from '../config.js';
import { dayOf, isoDay } from '../domain/customers.js';
import { compareHoldout, expectedRepeatPurchaseTracking } from '../domain/models/backtest.js';
import { fitBgNbd } from '../domain/models/bg-nbd.js';
import { DAYS_PER_UNIT } from '../domain/models/clv.js';
import { ConfigurationError, EngineError } from '../errors.js';
import type { QueryEngine } from '../ports.js';
import type { Backtest } from '../schemas/summary-backtest.js';
import { decodeBgNbdPatterns, decodeCustomers } from './engine-results.js';

export interface BacktestRequest {
  readonly calibrationEnd: string;
  readonly holdoutEnd: string;
  readonly model: ModelOptions;
  readonly nonPurchaseStatuses: readonly string[];
}

const DAYS_PER_WEEK = 7;

/**
 * Fits the BG/NBD on the orders up to the calibration end, then compares its predictions with what
 * the same customers actually bought up to the holdout end: per calibration frequency, in total, and
 * week by week. Customers first seen in the holdout period are not part of the comparison.
 */
export const runBacktest = async (engine: QueryEngine, request: BacktestRequest): Promise<Backtest> => {
  const { calibrationEnd, holdoutEnd, model } = request;
  if (!(calibrationEnd < holdoutEnd)) {
    throw new ConfigurationError(`the calibration end (${calibrationEnd}) must come before the holdout end (${holdoutEnd})`);
  }
  const statuses = request.nonPurchaseStatuses;
  const calibration = { asOf: calibrationEnd, nonPurchaseStatuses: statuses };
  const customers = decodeCustomers(await engine.run('customers', calibration));
  const patterns = decodeBgNbdPatterns(await engine.run('bgnbdPatterns', calibration));
  const repeat = await engine.run('repeatPurchaseDays', { asOf: holdoutEnd, calibrationEnd, nonPurchaseStatuses: statuses });

  const unit = DAYS_PER_UNIT[model.timeUnit];
  const fit = fitBgNbd({
    x: patterns.frequency,
    tx: patterns.recencyDays.map((d) => d / unit),
    T: patterns.tenureDays.map((d) => d / unit),
    weight: patterns.customers,
  });
  const calEndDay = dayOf(calibrationEnd);
  const holdoutEndDay = dayOf(holdoutEnd);

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

  const comparison = compareHoldout(fit.params, {
    x: customers.frequency,
    tx: Float64Array.from(customers.recencyDays, (d) => d / unit),
    T: Float64Array.from(customers.tenureDays, (d) => d / unit),
    holdoutPurchases,
    holdoutLength: (holdoutEndDay - calEndDay) / unit,
  });

  // week k covers days origin + 7k ... origin + 7k + 6; a customer first seen on day s can repeat from day s + 1
  const origin = customers.firstOrderDay.reduce((min, d) => Math.min(min, d), Number.POSITIVE_INFINITY);
  const weeks = customers.size === 0 ? 0 : Math.ceil((holdoutEndDay - origin + 1) / DAYS_PER_WEEK);
  const expected = expectedRepeatPurchaseTracking(
    fit.params,
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
