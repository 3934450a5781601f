import { describe, expect, it } from 'vitest';
import { bgnbdTransactionModel } from '../../../lambdas/clv-job/domain/models/transaction-model.js';
import { compareHoldout, expectedRepeatPurchaseTracking } from '../../../lambdas/clv-job/domain/models/backtest.js';
import { conditionalExpectedPurchases, expectedPurchasesNewCustomer, type BgNbdParams } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import { inUnits, loadCdnowSummary, loadCdnowWeeklyCumulative } from './cdnow-data.js';

/** Our maximum-likelihood CDNOW fit in weeks (see bg-nbd.test.ts), fixed here so these figures do not move with the optimiser. */
const FITTED: BgNbdParams = { r: 0.24259452253187416, alpha: 4.41360202105916, a: 0.7929220173284367, b: 2.425906778311786 };

const cdnow = loadCdnowSummary();
const tx = inUnits(cdnow.txDays, 7);
const T = inUnits(cdnow.TDays, 7);
const holdout = () => compareHoldout(bgnbdTransactionModel(FITTED), { x: cdnow.x, tx, T, holdoutPurchases: cdnow.xStar, holdoutLength: 39 });

describe('calibration / holdout comparison on CDNOW (calibration to 1997-09-30, 39-week holdout to 1998-06-30)', () => {
  it('counts the 1,882 actual holdout repeat purchases of the 2,357 customers', () => {
    const { totals } = holdout();
    expect(totals.customers).toBe(2357);
    expect(totals.actual).toBe(1882);
  });

  it('groups customers by calibration frequency 0, 1, …, 6 and 7+ (1,411 with none; 946 repeat buyers)', () => {
    // Act
    const { byFrequency } = holdout();
    // Assess
    expect(byFrequency.map((b) => b.label)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    expect(byFrequency.map((b) => b.customers)).toEqual([1411, 439, 214, 100, 62, 38, 29, 64]);
    expect(byFrequency.map((b) => b.actual)).toEqual([334, 306, 298, 156, 157, 112, 112, 407]);
  });

  it('expects 1,653.409 holdout purchases in total (eq. 10 summed; the same to 1e-10 by an independent mpmath evaluation)', () => {
    expect(holdout().totals.expected).toBeCloseTo(1653.4086981838, 6);
  });

  it('is internally consistent: buckets add up to the totals, and each customer gets eq. (10)', () => {
    // Act
    const result = holdout();
    // Assess
    expect(result.byFrequency.reduce((s, b) => s + b.actual, 0)).toBe(result.totals.actual);
    expect(result.byFrequency.reduce((s, b) => s + b.expected, 0)).toBeCloseTo(result.totals.expected, 8);
    for (const i of [0, 1, 2, 100, 1515, 2356]) {
      expect(result.expected[i]).toBeCloseTo(conditionalExpectedPurchases(FITTED, 39, cdnow.x[i]!, tx[i]!, T[i]!), 12);
    }
    for (const b of result.byFrequency) {
      expect(b.actualMean).toBeCloseTo(b.actual / b.customers, 12);
      expect(b.expectedMean).toBeCloseTo(b.expected / b.customers, 12);
    }
  });

  it('reports MAE, RMSE and the percentage error of the total as defined', () => {
    // Prepare
    const result = holdout();
    const errors = Array.from(cdnow.xStar, (actual, i) => actual - result.expected[i]!);
    // Assess
    expect(result.errors.meanAbsoluteError).toBeCloseTo(errors.reduce((s, e) => s + Math.abs(e), 0) / 2357, 12);
    expect(result.errors.rootMeanSquaredError).toBeCloseTo(Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / 2357), 12);
    expect(result.errors.totalPercentageError).toBeCloseTo((100 * (result.totals.expected - 1882)) / 1882, 12);
  });

  it('leaves empty buckets with null means, and a period without purchases with a null percentage error', () => {
    const result = compareHoldout(bgnbdTransactionModel(FITTED), { x: [0, 1], tx: [0, 1], T: [2, 2], holdoutPurchases: [0, 0], holdoutLength: 1 }, { topFrequency: 3 });
    expect(result.byFrequency.map((b) => b.label)).toEqual(['0', '1', '2', '3+']);
    expect(result.byFrequency[2]!.actualMean).toBeNull();
    expect(result.errors.totalPercentageError).toBeNull();
  });

  it('throws a RangeError for columns of different lengths or an invalid customer', () => {
    expect(() => compareHoldout(bgnbdTransactionModel(FITTED), { x: [1], tx: [1, 2], T: [2], holdoutPurchases: [0], holdoutLength: 1 })).toThrow(RangeError);
    expect(() => compareHoldout(bgnbdTransactionModel(FITTED), { x: [1], tx: [3], T: [2], holdoutPurchases: [0], holdoutLength: 1 })).toThrow(RangeError);
  });
});

describe('expected cumulative repeat purchases for a tracking chart (FHL 2005 Figure 2)', () => {
  // A first purchase on day d (from 1997-01-01) puts the end of week k at (7k − 1 − d)/7 weeks of the
  // customer's time, the convention of T = (272 − d)/7 at the end of week 39 (1997-09-30).
  const offsets = Array.from(cdnow.firstPurchaseDay, (d) => (d + 1) / 7);
  const tracking = () => expectedRepeatPurchaseTracking(bgnbdTransactionModel(FITTED), offsets, 78);

  it('is non-decreasing, with weekly increments that add up to it', () => {
    const { cumulative, incremental, periodEnd } = tracking();
    expect(periodEnd[77]).toBe(78);
    let running = 0;
    for (let k = 0; k < 78; k++) {
      expect(incremental[k]).toBeGreaterThanOrEqual(0);
      running += incremental[k]!;
      expect(cumulative[k]).toBeCloseTo(running, 8);
    }
  });

  it('equals Σ E[X(T_i)] over the customers at the end of calibration (week 39)', () => {
    const expected = Array.from(T, (t) => expectedPurchasesNewCustomer(FITTED, t)).reduce((s, v) => s + v, 0);
    expect(tracking().cumulative[38]).toBeCloseTo(expected, 8);
  });

  it('counts nobody before their first purchase', () => {
    const { cumulative } = expectedRepeatPurchaseTracking(bgnbdTransactionModel(FITTED), [5.5], 8);
    expect(Array.from(cumulative.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(cumulative[5]).toBeCloseTo(expectedPurchasesNewCustomer(FITTED, 0.5), 12);
  });

  it('stays within 5% of the actual cumulative repeat purchases at weeks 39 (2,457) and 78 (4,339), a sanity check of the fit', () => {
    const actual = loadCdnowWeeklyCumulative();
    const { cumulative } = tracking();
    expect([actual[38], actual[77]]).toEqual([2457, 4339]);
    for (const k of [38, 77]) expect(Math.abs(cumulative[k]! - actual[k]!) / actual[k]!).toBeLessThan(0.05);
  });
});
