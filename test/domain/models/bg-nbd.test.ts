import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DistinctPairs,
  bgnbdLogLikelihood,
  bgnbdLogLikelihoodWithGradient,
  compressBgNbdData,
  conditionalExpectedPurchases,
  expectedPurchasesNewCustomer,
  expectedPurchasesWhileAlive,
  fitBgNbd,
  makeExpectedPurchasesIfAliveOnGrid,
  probabilityAlive,
  type BgNbdData,
  type BgNbdFit,
  type BgNbdParams,
} from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import { ScratchArena } from '../../../lambdas/clv-job/domain/math/scratch-arena.js';
import { seededUniform, simulateCustomers } from '../../support/simulate.js';
import { inUnits, loadCdnowSummary, shiftedCopies } from './cdnow-data.js';

const PARAMS = ['r', 'alpha', 'a', 'b'] as const;

/** BTYD's CDNOW fit, as printed in its walkthrough vignette §4.2. */
const BTYD: BgNbdParams = { r: 0.2425982, alpha: 4.4136842, a: 0.7929899, b: 2.4261667 };
/** CLVTools' CDNOW fit (test_correctness_bgnbd.R, "our estimates"). */
const CLVTOOLS: BgNbdParams = { r: 0.2425945, alpha: 4.4136019, a: 0.7929199, b: 2.4258881 };

const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

const cdnow = loadCdnowSummary();
const cdnowWeeks = (): BgNbdData => compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7));
const expanded = (data: BgNbdData): BgNbdData => {
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  data.weight.forEach((w, i) => {
    for (let k = 0; k < w; k++) {
      x.push(data.x[i]!);
      tx.push(data.tx[i]!);
      T.push(data.T[i]!);
    }
  });
  return { x: Float64Array.from(x), tx: Float64Array.from(tx), T: Float64Array.from(T), weight: new Float64Array(x.length).fill(1) };
};

let cdnowFitCache: BgNbdFit | undefined;
const cdnowFit = (): BgNbdFit => (cdnowFitCache ??= fitBgNbd(cdnowWeeks()));

describe('BG/NBD fit on CDNOW (FHL 2005: 2,357 customers, 39-week calibration, in weeks)', () => {
  it('runs on the 1,016 distinct (x, t_x, T) patterns of the 2,357 customers', () => {
    // Act
    const data = cdnowWeeks();
    // Assess
    expect(data.x.length).toBe(1016);
    expect(data.weight.reduce((s, w) => s + w, 0)).toBe(2357);
    expect(cdnowFit().customers).toBe(2357);
  });

  it.each([
    ['r', 0.242595],
    ['alpha', 4.4136],
    ['a', 0.792922],
    ['b', 2.42591],
  ] as const)('estimates %s = %s, the maximum-likelihood value of the datasets README recomputation, to 1e-5', (name, expected) => {
    expect(relative(cdnowFit().params[name], expected)).toBeLessThan(1e-5);
  });

  it.each(PARAMS)('agrees with BTYD (vignette §4.2) and CLVTools on %s within 2e-4 relative: their optimisers stop earlier on a flat ridge', (name) => {
    expect(relative(cdnowFit().params[name], BTYD[name])).toBeLessThan(2e-4);
    expect(relative(cdnowFit().params[name], CLVTOOLS[name])).toBeLessThan(2e-4);
  });

  it('reaches log-likelihood −9582.4292 (BTYD and CLVTools print −9582.429; the paper −9582.4)', () => {
    expect(cdnowFit().logLikelihood).toBeCloseTo(-9582.4292, 4);
    expect(cdnowFit().logLikelihood).toBeCloseTo(-9582.43, 2);
  });

  it('is at least as high a maximum as the published estimates, so the small differences are theirs', () => {
    // Prepare
    const data = cdnowWeeks();
    // Act
    const ours = cdnowFit().logLikelihood;
    // Assess
    expect(ours).toBeGreaterThanOrEqual(bgnbdLogLikelihood(BTYD, data));
    expect(ours).toBeGreaterThanOrEqual(bgnbdLogLikelihood(CLVTOOLS, data));
  });

  it("rounds to the paper's r, alpha, a, b = 0.243, 4.414, 0.793, 2.426", () => {
    const { r, alpha, a, b } = cdnowFit().params;
    expect([r, alpha, a, b].map((v) => v.toFixed(3))).toEqual(['0.243', '4.414', '0.793', '2.426']);
  });

  it('converges to a vanishing gradient and reports positive, finite standard errors', () => {
    const fit = cdnowFit();
    expect(fit.diagnostics.converged).toBe(true);
    expect(fit.diagnostics.gradientNorm).toBeLessThan(1e-9);
    expect(fit.diagnostics.message).toMatch(/gradient norm/);
    for (const name of PARAMS) {
      expect(fit.standardErrors![name]).toBeGreaterThan(0);
      expect(fit.standardErrors![name]).toBeLessThan(fit.params[name]);
    }
  });

  // Published standard errors of the CDNOW fit: lifetimes' BetaGeoFitter summary, se(coef) (printed
  // there to 6 decimals as 0.012557, 0.378221, 0.185719, 0.705345; r to 7 significant digits as quoted in
  // issue 20), at lifetimes' estimate r, alpha, a, b = 0.242593, 4.413532, 0.792886, 2.425752. Our SEs
  // come from the inverse of the observed information (central differences of the gradient) at our own
  // optimum. Measured relative deviations: r 6.2e-6, alpha 8.1e-6, a 8.0e-5, b 9.8e-5. a and b sit on
  // the flat a-b ridge where the two optimisers stop at points 4.5e-5 (a) and 6.4e-5 (b) apart, so
  // their SEs are pinned to 1.5e-4, r and alpha to 1e-5.
  it.each([
    ['r', 0.0125573, 1e-5],
    ['alpha', 0.378221, 1e-5],
    ['a', 0.185719, 1.5e-4],
    ['b', 0.705345, 1.5e-4],
  ] as const)('reports the published standard error of %s, %s, within %s relative', (name, published, tolerance) => {
    expect(relative(cdnowFit().standardErrors![name], published)).toBeLessThan(tolerance);
  });

  it('lands on a stationary point of the independent per-row likelihood (central differences)', () => {
    // Prepare
    const data = cdnowWeeks();
    const { params } = cdnowFit();
    // Act: d LL / d ln θ by central differences of bgnbdLogLikelihood.
    const slopes = PARAMS.map((name) => {
      const h = 1e-5;
      const up = bgnbdLogLikelihood({ ...params, [name]: params[name] * Math.exp(h) }, data);
      const down = bgnbdLogLikelihood({ ...params, [name]: params[name] * Math.exp(-h) }, data);
      return (up - down) / (2 * h);
    });
    // Assess: zero up to the differencing noise (~1e−11 · |LL| / h).
    for (const slope of slopes) expect(Math.abs(slope)).toBeLessThan(1e-4);
  });
});

describe('BG/NBD predictions with BTYD parameters (BTYD vignette §4.3, customer 1516)', () => {
  // Customer 1516: x = 26, t_x = 216 days, T = 217 days (cdnow_summary_cal39.csv).
  const row = Array.from(cdnow.customerId).indexOf(1516);
  const x = cdnow.x[row]!;
  const tx = cdnow.txDays[row]! / 7;
  const T = cdnow.TDays[row]! / 7;

  it('reads customer 1516 as x = 26, t_x = 216/7, T = 217/7 = 31 weeks', () => {
    expect([x, cdnow.txDays[row], cdnow.TDays[row]]).toEqual([26, 216, 217]);
  });

  // Exact values for these (rounded) parameters, from mpmath at 30 digits of FHL 2005 eqs. 9-11.
  // BTYD prints 0.9688523, 25.75659 and 1.444004: the same to 2e−6, BTYD's own rounding.
  it.each([
    ['P(alive)', () => probabilityAlive(BTYD, x, tx, T), 0.968852151048746, 0.9688523],
    ['E[X(52) | x, t_x, T]', () => conditionalExpectedPurchases(BTYD, 52, x, tx, T), 25.7565377465056, 25.75659],
    ['E[X(52)] of a new customer', () => expectedPurchasesNewCustomer(BTYD, 52), 1.44400480103593, 1.444004],
  ])('%s matches its exact value to 1e-12 and BTYD to 3e-6', (_, act, exact, btyd) => {
    // Act
    const value = act();
    // Assess
    expect(relative(value, exact)).toBeLessThan(1e-12);
    expect(relative(value, btyd)).toBeLessThan(3e-6);
  });
});

describe('BG/NBD log-likelihood', () => {
  it('of grouped patterns equals the sum over the customers they stand for', () => {
    // Prepare
    const grouped = cdnowWeeks();
    const perCustomer = expanded(grouped);
    // Act
    const weighted = bgnbdLogLikelihood(BTYD, grouped);
    const summed = bgnbdLogLikelihood(BTYD, perCustomer);
    // Assess
    expect(perCustomer.x.length).toBe(2357);
    expect(weighted).toBeCloseTo(summed, 8);
    expect(weighted).toBeCloseTo(-9582.429206788556, 8);
  });

  it('is additive over disjoint sets of customers', () => {
    const data = cdnowWeeks();
    const half = (keep: (i: number) => boolean): BgNbdData => ({
      x: data.x.filter((_, i) => keep(i)),
      tx: data.tx.filter((_, i) => keep(i)),
      T: data.T.filter((_, i) => keep(i)),
      weight: data.weight.filter((_, i) => keep(i)),
    });
    const total = bgnbdLogLikelihood(BTYD, data);
    const parts = bgnbdLogLikelihood(BTYD, half((i) => i % 2 === 0)) + bgnbdLogLikelihood(BTYD, half((i) => i % 2 === 1));
    expect(parts).toBeCloseTo(total, 8);
  });

  it('evaluated the fast way (one pass, shared per-x and per-T terms) equals the per-row evaluation', () => {
    fc.assert(
      fc.property(
        fc.record({
          r: fc.double({ min: 0.01, max: 20, noNaN: true }),
          alpha: fc.double({ min: 0.01, max: 100, noNaN: true }),
          a: fc.double({ min: 0.01, max: 20, noNaN: true }),
          b: fc.double({ min: 0.01, max: 50, noNaN: true }),
        }),
        (params) => {
          const data = cdnowWeeks();
          const reference = bgnbdLogLikelihood(params, data);
          expect(bgnbdLogLikelihoodWithGradient(params, data).value).toBeCloseTo(reference, 6);
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each([
    ['near the estimate', BTYD],
    ['far from it', { r: 2, alpha: 0.5, a: 3, b: 0.4 }],
  ])('has an analytic gradient that matches central differences %s', (_, params) => {
    // Prepare
    const data = cdnowWeeks();
    // Act
    const { gradient } = bgnbdLogLikelihoodWithGradient(params, data);
    // Assess
    for (const name of PARAMS) {
      const h = 1e-6 * params[name];
      const numeric = (bgnbdLogLikelihood({ ...params, [name]: params[name] + h }, data) - bgnbdLogLikelihood({ ...params, [name]: params[name] - h }, data)) / (2 * h);
      expect(Math.abs(gradient[name] - numeric)).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
    }
  });

  it('is NaN, not a number that looks valid, for parameters that are not positive', () => {
    expect(bgnbdLogLikelihood({ ...BTYD, a: 0 }, cdnowWeeks())).toBeNaN();
    expect(bgnbdLogLikelihood({ ...BTYD, r: -1 }, cdnowWeeks())).toBeNaN();
  });
});

describe('BG/NBD fit invariances', () => {
  it('gives the same estimates from grouped patterns as from one row per customer', () => {
    // Act
    const grouped = cdnowFit();
    const perCustomer = fitBgNbd(expanded(cdnowWeeks()));
    // Assess
    for (const name of PARAMS) expect(relative(perCustomer.params[name], grouped.params[name])).toBeLessThan(1e-6);
    expect(perCustomer.logLikelihood).toBeCloseTo(grouped.logLikelihood, 6);
  });

  it('gives alpha x 7 and the same r, a, b when fitted in days instead of weeks', () => {
    // Prepare
    const days = compressBgNbdData(cdnow.x, cdnow.txDays, cdnow.TDays);
    // Act
    const inDays = fitBgNbd(days);
    const inWeeks = cdnowFit();
    // Assess
    expect(relative(inDays.params.alpha, 7 * inWeeks.params.alpha)).toBeLessThan(1e-5);
    for (const name of ['r', 'a', 'b'] as const) expect(relative(inDays.params[name], inWeeks.params[name])).toBeLessThan(1e-5);
    // A density in days is 1/7 of one in weeks per purchase: LL_days = LL_weeks − Σx ln 7.
    const sumX = cdnow.x.reduce((s, v) => s + v, 0);
    expect(inDays.logLikelihood).toBeCloseTo(inWeeks.logLikelihood - sumX * Math.log(7), 6);
  });

  it('reaches the same estimate on >100,000 patterns, where it warm-starts from a subsample', () => {
    // Prepare: every CDNOW pattern 120 times, none of them grouped (see shiftedCopies).
    const large = shiftedCopies(cdnowWeeks(), 120);
    // Act
    const fit = fitBgNbd(large);
    // Assess
    expect(large.x.filter((v) => v > 0).length).toBeGreaterThan(100_000);
    expect(fit.diagnostics.converged).toBe(true);
    for (const name of PARAMS) expect(relative(fit.params[name], cdnowFit().params[name])).toBeLessThan(1e-6);
    expect(fit.logLikelihood / 120).toBeCloseTo(cdnowFit().logLikelihood, 4);
    for (const name of PARAMS) expect(relative(fit.standardErrors![name] * Math.sqrt(120), cdnowFit().standardErrors![name])).toBeLessThan(1e-3);
  });

  it('does not modify the data it is given', () => {
    const data = cdnowWeeks();
    const copy = { x: data.x.slice(), tx: data.tx.slice(), T: data.T.slice(), weight: data.weight.slice() };
    fitBgNbd(data);
    expect(data).toEqual(copy);
  });
});

describe('BG/NBD parameter recovery from simulated customers', () => {
  it('recovers (r, alpha, a, b) from 50,000 customers over 104 weeks within 3 reported standard errors', () => {
    // Prepare: acquisition spread over the first year, calibration to week 104.
    const truth: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
    const simulated = simulateCustomers(seededUniform(20_240_601), truth, { customers: 50_000, tenure: (u) => 52 + 52 * u() });
    const data = compressBgNbdData(simulated.x, simulated.tx, simulated.T);
    // Act
    const fit = fitBgNbd(data);
    // Assess
    expect(fit.diagnostics.converged).toBe(true);
    expect(fit.standardErrors).not.toBeNull();
    for (const name of PARAMS) {
      const z = (fit.params[name] - truth[name]) / fit.standardErrors![name];
      expect(Math.abs(z), `${name}: estimate ${fit.params[name]}, se ${fit.standardErrors![name]}`).toBeLessThan(3);
    }
  });
});

describe('BG/NBD predictions', () => {
  const params = fc.record({
    r: fc.double({ min: 0.01, max: 20, noNaN: true }),
    alpha: fc.double({ min: 0.01, max: 500, noNaN: true }),
    a: fc.double({ min: 0.01, max: 20, noNaN: true }),
    b: fc.double({ min: 0.01, max: 50, noNaN: true }),
  });
  /** Extreme but valid customers: x up to 1e4, T up to 1e4 (days), tx in [0, T]. */
  const customer = fc
    .record({
      x: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 10_000 })),
      T: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 10_000, noNaN: true })),
      share: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ x, T, share }) => ({ x, T, tx: x === 0 ? 0 : T * share }));

  it('gives P(alive) in [0, 1], and exactly 1 for customers without repeat purchases', () => {
    fc.assert(
      fc.property(params, customer, (p, { x, tx, T }) => {
        const alive = probabilityAlive(p, x, tx, T);
        expect(alive).toBeGreaterThanOrEqual(0);
        expect(alive).toBeLessThanOrEqual(1);
        if (x === 0) expect(alive).toBe(1);
      }),
    );
  });

  it('gives finite conditional expected purchases that never decrease as the horizon grows', () => {
    fc.assert(
      fc.property(params, customer, fc.double({ min: 0, max: 10_000, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (p, { x, tx, T }, t, f) => {
        const later = conditionalExpectedPurchases(p, t, x, tx, T);
        const earlier = conditionalExpectedPurchases(p, t * f, x, tx, T);
        expect(Number.isFinite(later)).toBe(true);
        expect(earlier).toBeGreaterThanOrEqual(0);
        expect(earlier).toBeLessThanOrEqual(later * (1 + 1e-10) + 1e-300);
      }),
    );
  });

  it('gives a new customer expected purchases that grow with t and start at 0', () => {
    fc.assert(
      fc.property(params, fc.double({ min: 0, max: 1e5, noNaN: true }), (p, t) => {
        const value = expectedPurchasesNewCustomer(p, t);
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeLessThanOrEqual(expectedPurchasesNewCustomer(p, 2 * t) * (1 + 1e-10) + 1e-300);
      }),
    );
    expect(expectedPurchasesNewCustomer(BTYD, 0)).toBe(0);
  });

  it('on a grid of 52 windows, with the series cut before summing (a <= 2, r < a + b - 1), equals the per-window evaluation that tests every term, to 1e-11', () => {
    // The grid's rule: stop at the least N with (w_N/A) z^N / (1 - z) <= 1e-17, a bound on the
    // tail known in advance; expectedPurchasesWhileAlive adds terms until the last is negligible.
    // z = t/(alpha + T + t) runs up to 0.998 here, where the tabulated 800 terms no longer suffice.
    const fastRegime = fc.record({
      r: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
      alpha: fc.double({ min: 0.01, max: 500, noNaN: true }),
      a: fc.double({ min: 0.01, max: 2, noNaN: true }),
      b: fc.double({ min: 1.5, max: 50, noNaN: true }),
    });
    fc.assert(
      fc.property(fastRegime, fc.integer({ min: 0, max: 200 }), fc.double({ min: 0, max: 500, noNaN: true }), fc.double({ min: 0.1, max: 20, noNaN: true }), (p, x, T, step) => {
        const times = Float64Array.from({ length: 52 }, (_, k) => (k + 1) * step);
        const out = new Float64Array(52);
        makeExpectedPurchasesIfAliveOnGrid(p, times)(x, T, out);
        times.forEach((t, k) => {
          const expected = expectedPurchasesWhileAlive(p.r + x, p.alpha + T, p.a, p.b + x, t);
          expect(Math.abs(out[k]! - expected)).toBeLessThanOrEqual(1e-11 * expected);
        });
      }),
    );
  });

  it('on a grid whose tables come from an arena reused across parameter sets (left holding other numbers), gives the numbers of a fresh grid bit for bit', () => {
    // as clv.ts preparedOf scores one draw after another: the arena reset between them, not cleared
    const arena = new ScratchArena();
    const times = Float64Array.from({ length: 52 }, (_, k) => k + 1);
    const sets: BgNbdParams[] = [BTYD, { r: 0.6, alpha: 9, a: 1.7, b: 0.8 }, { r: 0.3, alpha: 3, a: 3.5, b: 6 }, CLVTOOLS];
    for (const p of sets) {
      arena.reset();
      for (let k = 0; k < 4; k++) arena.take(997).fill(Number.NaN);
      arena.reset();
      arena.take(13).fill(1e300);
      const reused = makeExpectedPurchasesIfAliveOnGrid(p, times, arena);
      for (const [x, T] of [[0, 30], [3, 30], [0, 52], [40, 78], [3, 52]] as const) {
        const fresh = new Float64Array(52);
        const out = new Float64Array(52);
        makeExpectedPurchasesIfAliveOnGrid(p, times)(x, T, fresh);
        reused(x, T, out);
        expect(Array.from(out)).toEqual(Array.from(fresh));
      }
    }
  });

  it('says a customer who bought 1000 times by t_x = 10 and not since, at T = 100, is almost surely gone (0, not NaN)', () => {
    // Act
    const alive = probabilityAlive(BTYD, 1000, 10, 100);
    const expected = conditionalExpectedPurchases(BTYD, 52, 1000, 10, 100);
    // Assess
    expect(alive).toBeGreaterThanOrEqual(0);
    expect(alive).toBeLessThan(1e-300);
    expect(Number.isFinite(expected)).toBe(true);
    expect(expected).toBeLessThan(1e-290);
  });

  it('stays finite at a = 1 and at a + b < 1, where eq. (9) reads 0/0 or has c = a + b − 1 <= 0', () => {
    for (const p of [
      { r: 0.5, alpha: 2, a: 1, b: 0.5 },
      { r: 0.5, alpha: 2, a: 0.3, b: 0.4 },
    ]) {
      const value = expectedPurchasesNewCustomer(p, 100);
      expect(Number.isFinite(value) && value > 0).toBe(true);
      expect(conditionalExpectedPurchases(p, 100, 0, 0, 10)).toBeGreaterThan(0);
    }
  });

  it.each([
    ['x not a whole number', 1.5, 1, 2],
    ['t_x after T', 2, 3, 2],
    ['negative t_x', 2, -1, 2],
    ['t_x > 0 with x = 0', 0, 1, 2],
    ['T not finite', 1, 1, Number.POSITIVE_INFINITY],
  ])('rejects an invalid customer (%s) with a RangeError', (_, x, tx, T) => {
    expect(() => probabilityAlive(BTYD, x, tx, T)).toThrow(RangeError);
    expect(() => conditionalExpectedPurchases(BTYD, 10, x, tx, T)).toThrow(RangeError);
  });
});

describe('BG/NBD fits that cannot be trusted say so instead of failing', () => {
  const tiny = (rows: number, repeat: boolean): BgNbdData => ({
    x: Float64Array.from({ length: rows }, (_, i) => (repeat && i % 2 === 0 ? 2 : 0)),
    tx: Float64Array.from({ length: rows }, (_, i) => (repeat && i % 2 === 0 ? 5 : 0)),
    T: new Float64Array(rows).fill(10),
    weight: new Float64Array(rows).fill(1),
  });

  it('says how long the longest tenure is in a figure a person reads (4 significant digits), each count agreeing with its noun', () => {
    // 328 days in weeks: 46.857142857142854
    const fit = fitBgNbd({ x: Float64Array.of(1, 0), tx: Float64Array.of(1, 0), T: Float64Array.of(328 / 7, 2), weight: Float64Array.of(1, 1) });
    expect(fit.diagnostics.message).toBe('not enough data: 2 customers, 1 repeat buyer, longest tenure 46.86 (need >= 20 customers, >= 5 repeat buyers, tenure > 0)');
  });

  it.each([
    ['too few customers', tiny(5, true)],
    ['no repeat buyers', tiny(500, false)],
    ['no customers at all', tiny(0, false)],
  ])('%s: converged false, a message, finite parameters, no standard errors', (_, data) => {
    // Act
    const fit = fitBgNbd(data);
    // Assess
    expect(fit.diagnostics.converged).toBe(false);
    expect(fit.diagnostics.message).toMatch(/not enough data/);
    expect(fit.standardErrors).toBeNull();
    for (const name of PARAMS) expect(Number.isFinite(fit.params[name]) && fit.params[name] > 0).toBe(true);
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
  });

  it('reports a fit stopped by the iteration limit as not converged', () => {
    const fit = fitBgNbd(cdnowWeeks(), { maxIterations: 2 });
    expect(fit.diagnostics.converged).toBe(false);
    expect(fit.diagnostics.iterations).toBe(2);
    expect(fit.diagnostics.message).toMatch(/no convergence/);
    expect(fit.standardErrors).toBeNull();
  });

  it('reports a likelihood that rises toward a boundary (no evidence of dropout) as not identified', () => {
    // Prepare: everybody buys every week up to T, so nobody ever looks like they dropped out.
    const x: number[] = [];
    const T: number[] = [];
    for (let i = 0; i < 200; i++) {
      const tenure = 20 + (i % 30);
      x.push(tenure);
      T.push(tenure);
    }
    const data = compressBgNbdData(x, T, T);
    // Act
    const fit = fitBgNbd(data);
    // Assess
    expect(fit.diagnostics.converged).toBe(false);
    expect(fit.diagnostics.message).toMatch(/ran toward the boundary/);
    expect(fit.standardErrors).toBeNull();
    for (const name of PARAMS) expect(Number.isFinite(fit.params[name])).toBe(true);
  });

  it.each([
    ['columns of different lengths', { x: Float64Array.of(1), tx: Float64Array.of(1, 2), T: Float64Array.of(2), weight: Float64Array.of(1) }],
    ['t_x > T', { x: Float64Array.of(1), tx: Float64Array.of(3), T: Float64Array.of(2), weight: Float64Array.of(1) }],
    ['a negative weight', { x: Float64Array.of(1), tx: Float64Array.of(1), T: Float64Array.of(2), weight: Float64Array.of(-1) }],
    ['NaN', { x: Float64Array.of(Number.NaN), tx: Float64Array.of(1), T: Float64Array.of(2), weight: Float64Array.of(1) }],
  ])('throws a RangeError for structurally invalid data (%s): a bug upstream, not a property of the customers', (_, data) => {
    expect(() => fitBgNbd(data)).toThrow(RangeError);
  });
});

describe('distinct pairs of numbers (the index behind grouping, fitting and scoring)', () => {
  it('gives each distinct pair one index, in order of first appearance, like a Map keyed by the pair', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 50 }).map((d) => d / 7)), { maxLength: 3000 }), (pairs) => {
        // Prepare
        const reference = new Map<string, number>();
        const index = new DistinctPairs();
        // Act & Assess
        for (const [a, b] of pairs) {
          const key = `${a}|${b}`;
          if (!reference.has(key)) reference.set(key, reference.size);
          expect(index.indexOf(a, b)).toBe(reference.get(key));
        }
        expect(index.size).toBe(reference.size);
        expect(Array.from(index.firsts(), (a, i) => `${a}|${index.seconds()[i]}`)).toEqual([...reference.keys()]);
      }),
    );
  });

  it('treats −0 as 0 and keeps values that differ in the last bit apart', () => {
    const index = new DistinctPairs();
    expect(index.indexOf(0, 1)).toBe(0);
    expect(index.indexOf(-0, 1)).toBe(0);
    expect(index.indexOf(0.1 + 0.2, 1)).toBe(1);
    expect(index.indexOf(0.3, 1)).toBe(2);
  });
});

describe('E[X(t)] of a new customer for large a (issue 13)', () => {
  // right values: eq. (9) summed term by term in mpmath at 40 digits; the Euler form's (1 − z)^(a − 1) underflowed here
  it.each([
    [300, 52, 0.463786352],
    [1e4, 1, 0.0483387009],
    [6e7, 52, 0.461059215385],
  ])('stays right: a = %d, t = %d gives %f (r 0.2426, alpha 4.4136, b 2.4)', (a, t, expected) => {
    expect(expectedPurchasesNewCustomer({ r: 0.2426, alpha: 4.4136, a, b: 2.4 }, t)).toBeCloseTo(expected, 9);
  });

  it('is continuous across the switch between the Euler form and the direct series (a near 600 / ln(1 + t/alpha))', () => {
    const params = (a: number) => ({ r: 0.2426, alpha: 4.4136, a, b: 2.4 });
    const switchAt = 1 + 600 / Math.log1p(52 / 4.4136);
    const below = expectedPurchasesNewCustomer(params(switchAt * (1 - 1e-9)), 52);
    const above = expectedPurchasesNewCustomer(params(switchAt * (1 + 1e-9)), 52);
    expect(Math.abs(above - below) / below).toBeLessThan(1e-10);
  });
});
