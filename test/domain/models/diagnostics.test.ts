import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressBgNbdData, expectedPurchasesNewCustomer, probabilityAlive, type BgNbdData, type BgNbdParams } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import { SINCE_LAST_PURCHASE_EDGES_DAYS, bgnbdDiagnostics, paretoNbdDiagnostics, repeatPurchaseProbabilities } from '../../../lambdas/clv-job/domain/models/diagnostics.js';
import { expectedPurchasesNewCustomer as paretoNbdExpectedNewCustomer, probabilityAlive as paretoNbdProbabilityAlive, type ParetoNbdParams } from '../../../lambdas/clv-job/domain/models/pareto-nbd.js';
import { diagnosticsSchema } from '../../../lambdas/clv-job/schemas/summary-diagnostics.js';
import { seededUniform, simulateCustomers } from '../../support/simulate.js';
import { inUnits, loadCdnowSummary } from './cdnow-data.js';

/** BTYD's CDNOW fit (weeks), as printed in its walkthrough vignette §4.2. */
const CDNOW_FIT: BgNbdParams = { r: 0.2425982, alpha: 4.4136842, a: 0.7929899, b: 2.4261667 };

const sum = (values: ArrayLike<number>): number => Array.from(values).reduce((s, v) => s + v, 0);

describe('repeatPurchaseProbabilities (FHL 2005 eq. 8)', () => {
  it.each([1, 39, 78, 520])('sums to 1 over all counts at t = %d weeks', (t) => {
    const pmf = repeatPurchaseProbabilities(CDNOW_FIT, t, 2000);

    expect(sum(pmf)).toBeCloseTo(1, 9);
  });

  it.each([0.5, 39, 200])('has the mean E[X(t)] of eq. 9 at t = %d weeks', (t) => {
    const pmf = repeatPurchaseProbabilities(CDNOW_FIT, t, 5000);

    const mean = pmf.reduce((s, p, k) => s + k * p, 0);

    expect(mean).toBeCloseTo(expectedPurchasesNewCustomer(CDNOW_FIT, t), 7);
  });

  it('puts everyone at zero repeat purchases at t = 0', () => {
    expect(Array.from(repeatPurchaseProbabilities(CDNOW_FIT, 0, 3))).toEqual([1, 0, 0, 0]);
  });

  it('matches the frequencies of customers simulated from the same parameters', () => {
    // Prepare: 200,000 customers observed for 39 weeks; each proportion has a binomial standard error.
    const params: BgNbdParams = { r: 0.8, alpha: 6, a: 0.9, b: 3 };
    const n = 200_000;
    const simulated = simulateCustomers(seededUniform(20251231), params, { customers: n, tenure: () => 39 });

    const pmf = repeatPurchaseProbabilities(params, 39, 10);

    for (let k = 0; k <= 10; k++) {
      let observed = 0;
      for (let i = 0; i < n; i++) if (simulated.x[i] === k) observed += 1;
      const p = pmf[k]!;
      const se = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(observed / n - p), `P(X = ${k})`).toBeLessThan(4.5 * se + 1e-6);
    }
  });

  it('stays a sub-probability vector for any valid parameters and t', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.double({ min: 0.01, max: 500, noNaN: true }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 5000, noNaN: true }),
        (r, alpha, a, b, t) => {
          const pmf = repeatPurchaseProbabilities({ r, alpha, a, b }, t, 20);
          expect(pmf.every((p) => Number.isFinite(p) && p >= 0 && p <= 1 + 1e-12)).toBe(true);
          expect(sum(pmf)).toBeLessThanOrEqual(1 + 1e-9);
        },
      ),
    );
  });

  it.each([
    ['a parameter that is not positive', { ...CDNOW_FIT, a: 0 }, 1, 3],
    ['a negative t', CDNOW_FIT, -1, 3],
    ['an infinite t', CDNOW_FIT, Number.POSITIVE_INFINITY, 3],
    ['a fractional count', CDNOW_FIT, 1, 2.5],
  ])('throws a RangeError on %s', (_, params, t, max) => {
    expect(() => repeatPurchaseProbabilities(params, t, max)).toThrow(RangeError);
  });
});

describe('bgnbdDiagnostics', () => {
  const cdnow = loadCdnowSummary();
  const cdnowWeeks = (): BgNbdData => compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7));

  it('counts the CDNOW calibration histogram and the fitted model expects about the same (FHL 2005 Figure 3)', () => {
    const diagnostics = bgnbdDiagnostics(CDNOW_FIT, cdnowWeeks());
    const histogram = diagnostics.frequency_histogram;

    expect(histogram.map((h) => h.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    // 1,411 of the 2,357 customers made no repeat purchase in the 39-week calibration period.
    expect(histogram[0]!.actual_customers).toBe(1411);
    expect(sum(histogram.map((h) => h.actual_customers))).toBe(2357);
    expect(sum(histogram.map((h) => h.expected_customers))).toBeCloseTo(2357, 6);
    // The model tracks the histogram closely: no bucket is off by more than 1% of all customers.
    for (const row of histogram) {
      expect(Math.abs(row.expected_customers - row.actual_customers), `frequency ${row.frequency}`).toBeLessThan(0.01 * 2357);
    }
    expect(diagnosticsSchema.parse(diagnostics)).toEqual(diagnostics);
  });

  it('gives the same answer on compressed patterns as on one row per customer', () => {
    const x = inUnits(cdnow.txDays, 7);
    const perCustomer: BgNbdData = { x: cdnow.x, tx: x, T: inUnits(cdnow.TDays, 7), weight: new Float64Array(cdnow.x.length).fill(1) };

    const compressed = bgnbdDiagnostics(CDNOW_FIT, cdnowWeeks());
    const expanded = bgnbdDiagnostics(CDNOW_FIT, perCustomer);

    expect(compressed.frequency_histogram.map((h) => h.actual_customers)).toEqual(expanded.frequency_histogram.map((h) => h.actual_customers));
    compressed.frequency_histogram.forEach((h, k) => expect(h.expected_customers).toBeCloseTo(expanded.frequency_histogram[k]!.expected_customers, 8));
    expect(compressed.probability_alive_grid.length).toBe(expanded.probability_alive_grid.length);
    compressed.probability_alive_grid.forEach((cell, k) => expect(cell.probability_alive).toBeCloseTo(expanded.probability_alive_grid[k]!.probability_alive, 12));
  });

  it('averages P(alive) of eq. 11 by frequency and time since the last purchase', () => {
    // Prepare: two customers in one cell (x = 2, 13–26 weeks since the last purchase), one elsewhere.
    const data: BgNbdData = {
      x: Float64Array.of(2, 2, 0, 9),
      tx: Float64Array.of(10, 20, 0, 30),
      T: Float64Array.of(30, 35, 8, 31),
      weight: Float64Array.of(1, 3, 2, 1),
    };

    const grid = bgnbdDiagnostics(CDNOW_FIT, data, { topFrequency: 7 }).probability_alive_grid;

    expect(grid.map((c) => [c.frequency, c.since_last_purchase, c.customers])).toEqual([
      ['0', '4–13', 2],
      ['2', '13–26', 4],
      ['7+', '0–4', 1],
    ]);
    expect(grid[0]!.probability_alive).toBe(1);
    expect(grid[1]!.probability_alive).toBeCloseTo((probabilityAlive(CDNOW_FIT, 2, 10, 30) + 3 * probabilityAlive(CDNOW_FIT, 2, 20, 35)) / 4, 14);
    expect(grid[1]!.since_last_purchase_from).toBe(13);
    expect(grid[1]!.since_last_purchase_to).toBe(26);
    expect(grid[2]!.probability_alive).toBeCloseTo(probabilityAlive(CDNOW_FIT, 9, 30, 31), 14);
  });

  it('takes bucket edges in the model unit, with an open last bucket', () => {
    const data: BgNbdData = { x: Float64Array.of(1, 1), tx: Float64Array.of(10, 10), T: Float64Array.of(20, 500), weight: Float64Array.of(1, 1) };

    const grid = bgnbdDiagnostics(CDNOW_FIT, data, { sinceLastPurchaseEdges: [28, 91, 182, 364] }).probability_alive_grid;

    expect(grid.map((c) => [c.since_last_purchase, c.since_last_purchase_to])).toEqual([
      ['0–28', 28],
      ['364+', null],
    ]);
  });

  it('puts a customer exactly on an edge in the bucket that starts there, in weeks as in days', () => {
    // 91 days (13 weeks) since the last purchase: 291/7 - 200/7 falls an ulp short of 13 in floating point
    const days = { x: Float64Array.of(1), tx: Float64Array.of(200), T: Float64Array.of(291), weight: Float64Array.of(1) };
    const weeks = { ...days, tx: days.tx.map((d) => d / 7), T: days.T.map((d) => d / 7) };

    const inDays = bgnbdDiagnostics(CDNOW_FIT, days, { sinceLastPurchaseEdges: SINCE_LAST_PURCHASE_EDGES_DAYS }).probability_alive_grid;
    const inWeeks = bgnbdDiagnostics(CDNOW_FIT, weeks, { sinceLastPurchaseEdges: SINCE_LAST_PURCHASE_EDGES_DAYS.map((d) => d / 7) }).probability_alive_grid;

    expect(inDays.map((c) => c.since_last_purchase)).toEqual(['91–182']);
    expect(inWeeks.map((c) => c.since_last_purchase)).toEqual(['13–26']);
  });

  it('keeps every frequency bucket, even empty ones, and skips patterns of weight 0', () => {
    const data: BgNbdData = { x: Float64Array.of(0, 3), tx: Float64Array.of(0, 5), T: Float64Array.of(10, 10), weight: Float64Array.of(5, 0) };

    const diagnostics = bgnbdDiagnostics(CDNOW_FIT, data, { topFrequency: 3 });

    expect(diagnostics.frequency_histogram.map((h) => [h.frequency, h.actual_customers])).toEqual([
      ['0', 5],
      ['1', 0],
      ['2', 0],
      ['3+', 0],
    ]);
    expect(sum(diagnostics.frequency_histogram.map((h) => h.expected_customers))).toBeCloseTo(5, 12);
    expect(diagnostics.probability_alive_grid).toHaveLength(1);
  });

  it.each([
    ['columns of different lengths', { x: Float64Array.of(1), tx: Float64Array.of(), T: Float64Array.of(1), weight: Float64Array.of(1) }, {}],
    ['recency after tenure', { x: Float64Array.of(1), tx: Float64Array.of(5), T: Float64Array.of(1), weight: Float64Array.of(1) }, {}],
    ['a negative weight', { x: Float64Array.of(1), tx: Float64Array.of(1), T: Float64Array.of(1), weight: Float64Array.of(-1) }, {}],
    ['edges that do not increase', { x: Float64Array.of(1), tx: Float64Array.of(1), T: Float64Array.of(1), weight: Float64Array.of(1) }, { sinceLastPurchaseEdges: [4, 4] }],
    ['a top frequency of 0', { x: Float64Array.of(1), tx: Float64Array.of(1), T: Float64Array.of(1), weight: Float64Array.of(1) }, { topFrequency: 0 }],
  ])('throws a RangeError on %s', (_, data, options) => {
    expect(() => bgnbdDiagnostics(CDNOW_FIT, data, options)).toThrow(RangeError);
  });
});

describe('paretoNbdDiagnostics', () => {
  const cdnow = loadCdnowSummary();
  const data = compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7));
  /** The Pareto/NBD on CDNOW (weeks), as Fader, Hardie & Lee publish it (r, α, s, β). */
  const CDNOW_PNBD: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };

  it('expects as many repeat purchases in all as the Pareto/NBD’s E[X(t)] (eq. 17), another closed form, at each customer’s tenure', () => {
    // Prepare: an open bucket far past CDNOW's largest frequency (29), so the histogram is the whole pmf
    const top = 80;

    // Act
    const histogram = paretoNbdDiagnostics(CDNOW_PNBD, data, { topFrequency: top }).frequency_histogram;

    // Assess
    const meanFromHistogram = sum(histogram.map((h, k) => k * h.expected_customers));
    let meanFromEq17 = 0;
    for (let i = 0; i < data.x.length; i++) meanFromEq17 += data.weight[i]! * paretoNbdExpectedNewCustomer(CDNOW_PNBD, data.T[i]!);
    expect(Math.abs(meanFromHistogram - meanFromEq17) / meanFromEq17).toBeLessThan(1e-9);
    expect(sum(histogram.map((h) => h.actual_customers))).toBe(2357);
    expect(Math.abs(sum(histogram.map((h) => h.expected_customers)) - 2357)).toBeLessThan(1e-9 * 2357);
  });

  it('averages the Pareto/NBD’s P(alive) in each cell, so never-repeaters long gone count as likely lost', () => {
    const diagnostics = paretoNbdDiagnostics(CDNOW_PNBD, data);
    const grid = diagnostics.probability_alive_grid;
    const weighted = sum(grid.map((c) => c.probability_alive * c.customers));
    let expected = 0;
    for (let i = 0; i < data.x.length; i++) expected += data.weight[i]! * paretoNbdProbabilityAlive(CDNOW_PNBD, data.x[i]!, data.tx[i]!, data.T[i]!);

    expect(Math.abs(weighted - expected)).toBeLessThan(1e-9 * expected);
    // unlike the BG/NBD's, a customer with no repeat purchase is not certainly alive
    expect(grid.filter((c) => c.frequency === '0').every((c) => c.probability_alive < 1)).toBe(true);
    expect(diagnosticsSchema.parse(diagnostics)).toEqual(diagnostics);
  });
});
