import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressBgNbdData, type BgNbdData } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import {
  conditionalExpectedPurchases,
  expectedPurchasesNewCustomer,
  fitParetoNbd,
  paretoNbdLogLikelihood,
  probabilityAlive,
  probabilityOfPurchases,
  type ParetoNbdFit,
  type ParetoNbdParams,
} from '../../../lambdas/clv-job/domain/models/pareto-nbd.js';
import { seededUniform, simulateParetoNbdCustomers } from '../../support/simulate.js';
import { inUnits, loadCdnowSummary } from './cdnow-data.js';

const PARAMS = ['r', 'alpha', 's', 'beta'] as const;
/** fast-check seed, pinned so a failure reproduces; fast-check prints it with any counterexample. */
const SEED = 20_261_130;

const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

const cdnow = loadCdnowSummary();
const cdnowWeeks = (): BgNbdData => compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7));
let cdnowFitCache: ParetoNbdFit | undefined;
const cdnowFit = (): ParetoNbdFit => (cdnowFitCache ??= fitParetoNbd(cdnowWeeks()));

/** BTYD's CDNOW fit as its walkthrough vignette prints it (§2.2: 0.5534 10.5802 0.6061 11.6562). */
const BTYD: ParetoNbdParams = { r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6562 };

describe('Pareto/NBD fit on CDNOW (2,357 customers, 39-week calibration to 1997-09-30, in weeks)', () => {
  it.each([
    ['r', 0.553277],
    ['alpha', 10.57768],
    ['s', 0.60624],
    ['beta', 11.66873],
  ] as const)('estimates %s = %s, the maximum-likelihood value of the datasets README (§2.2) recomputation, to 1e-5', (name, expected) => {
    expect(relative(cdnowFit().params[name], expected)).toBeLessThan(1e-5);
  });

  it.each([
    ['r', 0.553],
    ['alpha', 10.578],
    ['s', 0.606],
    ['beta', 11.669],
  ] as const)('rounds %s to the published %s (Fader, Hardie & Lee 2005, as CLVTools and lifetimes quote it)', (name, published) => {
    expect(cdnowFit().params[name].toFixed(3)).toBe(published.toFixed(3));
  });

  it('agrees with CLVTools (r 0.55315, alpha 10.57633, s 0.60625, beta 11.67150) to its own tolerance, 1e-3 relative', () => {
    const clvtools: ParetoNbdParams = { r: 0.55315, alpha: 10.57633, s: 0.60625, beta: 11.6715 };
    for (const name of PARAMS) expect(relative(cdnowFit().params[name], clvtools[name]), name).toBeLessThan(1e-3);
  });

  it('reaches log-likelihood −9594.9762 (BTYD and CLVTools print −9594.976, the paper −9595.0)', () => {
    expect(cdnowFit().logLikelihood).toBeCloseTo(-9594.9762, 4);
    expect(cdnowFit().logLikelihood.toFixed(1)).toBe('-9595.0');
  });

  it('finds beta poorly determined (standard error about 6.2, as the README notes) and r, alpha, s well determined', () => {
    const se = cdnowFit().standardErrors!;
    expect(se.beta).toBeGreaterThan(5.5);
    expect(se.beta).toBeLessThan(7);
    expect(se.r / cdnowFit().params.r).toBeLessThan(0.1);
    expect(se.alpha / cdnowFit().params.alpha).toBeLessThan(0.1);
  });

  it('is a maximum: the published and BTYD parameters have a lower likelihood', () => {
    const data = cdnowWeeks();
    expect(paretoNbdLogLikelihood(BTYD, data)).toBeLessThan(cdnowFit().logLikelihood);
    expect(paretoNbdLogLikelihood({ r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 }, data)).toBeLessThan(cdnowFit().logLikelihood);
  });

  it('gives the same fit on the 1,016 compressed patterns as on the 2,357 customers one by one', () => {
    const one = { x: cdnow.x, tx: inUnits(cdnow.txDays, 7), T: inUnits(cdnow.TDays, 7), weight: new Float64Array(cdnow.x.length).fill(1) };
    const full = fitParetoNbd(one);
    expect(cdnowWeeks().x.length).toBe(1016);
    for (const name of PARAMS) expect(relative(full.params[name], cdnowFit().params[name]), name).toBeLessThan(1e-6);
    expect(full.logLikelihood).toBeCloseTo(cdnowFit().logLikelihood, 6);
  });

  it('gives the same parameters in days as in weeks, with alpha and beta 7 times larger', () => {
    const days = fitParetoNbd(compressBgNbdData(cdnow.x, cdnow.txDays, cdnow.TDays));
    expect(relative(days.params.r, cdnowFit().params.r)).toBeLessThan(1e-5);
    expect(relative(days.params.s, cdnowFit().params.s)).toBeLessThan(1e-5);
    expect(relative(days.params.alpha / 7, cdnowFit().params.alpha)).toBeLessThan(1e-5);
    expect(relative(days.params.beta / 7, cdnowFit().params.beta)).toBeLessThan(1e-5);
  });
});

describe('Pareto/NBD worked example: CDNOW customer 1516 (x = 26, t_x = 30.86, T = 31), BTYD walkthrough §2.3', () => {
  // BTYD prints pnbd.ConditionalExpectedTransactions(params, T.star = 52, 26, 30.86, 31) as 25.46 and
  // pnbd.PAlive(...) as 0.9979, with its fitted parameters (printed 0.5534 10.5802 0.6061 11.6562).
  it('expects 25.46 purchases in the next 52 weeks and P(alive) 0.9979 with BTYD’s parameters, within their printed rounding', () => {
    // Every corner of the box the printed parameters were rounded from (± half a unit of the last digit).
    const half = { r: 0.00005, alpha: 0.00005, s: 0.00005, beta: 0.00005 };
    const expected: number[] = [];
    const alive: number[] = [];
    for (let corner = 0; corner < 16; corner++) {
      const p = Object.fromEntries(PARAMS.map((name, k) => [name, BTYD[name] + ((corner >> k) & 1 ? half[name] : -half[name])])) as unknown as ParetoNbdParams;
      expected.push(conditionalExpectedPurchases(p, 52, 26, 30.86, 31));
      alive.push(probabilityAlive(p, 26, 30.86, 31));
    }
    // The printed value's rounding interval overlaps the range our values span.
    expect(Math.max(...expected)).toBeGreaterThanOrEqual(25.455);
    expect(Math.min(...expected)).toBeLessThan(25.465);
    expect(Math.max(...alive)).toBeGreaterThanOrEqual(0.99785);
    expect(Math.min(...alive)).toBeLessThan(0.99795);
    expect(probabilityAlive(BTYD, 26, 30.86, 31).toFixed(4)).toBe('0.9979');
  });

  it('prints the same digits with our own maximum-likelihood parameters', () => {
    const fit = cdnowFit().params;
    expect(conditionalExpectedPurchases(fit, 52, 26, 30.86, 31).toFixed(2)).toBe('25.46');
    expect(probabilityAlive(fit, 26, 30.86, 31).toFixed(4)).toBe('0.9979');
  });

  it('gives a customer without repeat purchases at T = 39 P(alive) 0.294 (BTYD pnbd.PAlive example: 0.2941633 at its estimate)', () => {
    expect(probabilityAlive(BTYD, 0, 0, 39).toFixed(3)).toBe('0.294');
  });
});

interface ConditionalCase {
  readonly r: number;
  readonly alpha: number;
  readonly s: number;
  readonly beta: number;
  readonly x: number;
  readonly tx: number;
  readonly T: number;
  readonly t: number;
  readonly log_likelihood: string;
  readonly probability_alive: string;
  readonly conditional_expected_purchases: string;
}
interface UnconditionalCase {
  readonly r: number;
  readonly alpha: number;
  readonly s: number;
  readonly beta: number;
  readonly t: number;
  readonly n: number;
  readonly expected_purchases: string;
  readonly probability_of_n: string;
}
const reference = JSON.parse(readFileSync(new URL('../../fixtures/pareto-nbd/reference.json', import.meta.url), 'utf8')) as {
  readonly conditional: readonly ConditionalCase[];
  readonly unconditional: readonly UnconditionalCase[];
};

describe('Pareto/NBD against 40-digit references (test/fixtures/pareto-nbd/make_reference.py: the definitions integrated by mpmath)', () => {
  const label = (c: ConditionalCase): string => `r=${c.r.toPrecision(3)} α=${c.alpha.toPrecision(3)} s=${c.s.toPrecision(3)} β=${c.beta.toPrecision(3)} x=${c.x} tx=${c.tx.toPrecision(4)} T=${c.T.toPrecision(4)}`;
  const single = (c: ConditionalCase): BgNbdData => ({ x: Float64Array.of(c.x), tx: Float64Array.of(c.tx), T: Float64Array.of(c.T), weight: Float64Array.of(1) });

  it(`covers both branches of the hypergeometric term (alpha < beta and alpha >= beta), x up to 500 and T up to 2000`, () => {
    expect(reference.conditional.some((c) => c.alpha < c.beta)).toBe(true);
    expect(reference.conditional.some((c) => c.alpha >= c.beta)).toBe(true);
    expect(Math.max(...reference.conditional.map((c) => c.x))).toBe(500);
    expect(Math.max(...reference.conditional.map((c) => c.T))).toBeGreaterThan(1900);
  });

  it('matches ln L, P(alive) and the 52-period conditional expectation on every reference case (fast-check draws them, seed pinned)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...reference.conditional), (c) => {
        const params = { r: c.r, alpha: c.alpha, s: c.s, beta: c.beta };
        const ll = Number(c.log_likelihood);
        expect(Math.abs(paretoNbdLogLikelihood(params, single(c)) - ll) / Math.max(1, Math.abs(ll)), label(c)).toBeLessThan(1e-10);
        // P(alive) from 1e-739 to 1: absolute error against 1, relative where it is not tiny.
        const alive = Number(c.probability_alive);
        const ours = probabilityAlive(params, c.x, c.tx, c.T);
        expect(Math.abs(ours - alive), label(c)).toBeLessThan(1e-12 + 1e-9 * alive);
        const expected = Number(c.conditional_expected_purchases);
        expect(Math.abs(conditionalExpectedPurchases(params, c.t, c.x, c.tx, c.T) - expected), label(c)).toBeLessThan(1e-300 + 1e-8 * expected);
      }),
      { seed: SEED, numRuns: 4 * reference.conditional.length },
    );
  });

  it('matches E[X(t)] and P(X(t) = n) of a new customer on every reference case', () => {
    fc.assert(
      fc.property(fc.constantFrom(...reference.unconditional), (c) => {
        const params = { r: c.r, alpha: c.alpha, s: c.s, beta: c.beta };
        const what = JSON.stringify(c);
        expect(relative(expectedPurchasesNewCustomer(params, c.t), Number(c.expected_purchases)), what).toBeLessThan(1e-12);
        // The pmf's second term is a difference of positive terms: relative accuracy where P is not tiny.
        const p = Number(c.probability_of_n);
        expect(Math.abs(probabilityOfPurchases(params, c.t, c.n) - p), what).toBeLessThan(1e-15 + 1e-8 * p);
      }),
      { seed: SEED, numRuns: 4 * reference.unconditional.length },
    );
  });
});

describe('Pareto/NBD invariants (fast-check, seed pinned)', () => {
  const params = fc.record({
    r: fc.double({ min: 0.02, max: 20, noNaN: true }),
    alpha: fc.double({ min: 0.02, max: 500, noNaN: true }),
    s: fc.double({ min: 0.02, max: 20, noNaN: true }),
    beta: fc.double({ min: 0.02, max: 500, noNaN: true }),
  });
  const customer = fc
    .record({
      x: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 2_000 })),
      T: fc.double({ min: 0, max: 5_000, noNaN: true }),
      share: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ x, T, share }) => ({ x, T, tx: x === 0 ? 0 : T * share }));

  it('gives a finite log-likelihood and P(alive) in [0, 1] for extreme but valid customers', () => {
    fc.assert(
      fc.property(params, customer, (p, { x, tx, T }) => {
        const ll = paretoNbdLogLikelihood(p, { x: Float64Array.of(x), tx: Float64Array.of(tx), T: Float64Array.of(T), weight: Float64Array.of(1) });
        expect(Number.isFinite(ll)).toBe(true);
        const alive = probabilityAlive(p, x, tx, T);
        expect(alive).toBeGreaterThanOrEqual(0);
        expect(alive).toBeLessThanOrEqual(1);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('gives conditional expected purchases that are finite and never decrease as the horizon grows', () => {
    fc.assert(
      fc.property(params, customer, fc.double({ min: 0, max: 5_000, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (p, { x, tx, T }, t, f) => {
        const later = conditionalExpectedPurchases(p, t, x, tx, T);
        const earlier = conditionalExpectedPurchases(p, t * f, x, tx, T);
        expect(Number.isFinite(later)).toBe(true);
        expect(earlier).toBeGreaterThanOrEqual(0);
        expect(earlier).toBeLessThanOrEqual(later * (1 + 1e-12) + 1e-300);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('gives probabilities of n purchases that sum to 1 and whose mean is E[X(t)]', () => {
    fc.assert(
      fc.property(
        fc.record({ r: fc.double({ min: 0.1, max: 3, noNaN: true }), alpha: fc.double({ min: 1, max: 50, noNaN: true }), s: fc.double({ min: 0.2, max: 3, noNaN: true }), beta: fc.double({ min: 1, max: 50, noNaN: true }) }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        (p, t) => {
          let total = 0;
          let mean = 0;
          for (let n = 0; n < 400; n++) {
            const q = probabilityOfPurchases(p, t, n);
            total += q;
            mean += n * q;
          }
          expect(total).toBeCloseTo(1, 6);
          expect(relative(mean, expectedPurchasesNewCustomer(p, t))).toBeLessThan(1e-5);
        },
      ),
      { seed: SEED, numRuns: 25 },
    );
  });

  it('adds up: the log-likelihood of two halves of CDNOW sums to that of the whole', () => {
    const data = cdnowWeeks();
    const half = (k: number): BgNbdData => ({
      x: data.x.filter((_, i) => i % 2 === k),
      tx: data.tx.filter((_, i) => i % 2 === k),
      T: data.T.filter((_, i) => i % 2 === k),
      weight: data.weight.filter((_, i) => i % 2 === k),
    });
    expect(paretoNbdLogLikelihood(BTYD, half(0)) + paretoNbdLogLikelihood(BTYD, half(1))).toBeCloseTo(paretoNbdLogLikelihood(BTYD, data), 8);
  });

  it('throws a RangeError naming the problem for an impossible customer, and returns NaN for non-positive parameters', () => {
    expect(() => probabilityAlive(BTYD, 2, 5, 4)).toThrow(/invalid customer/);
    expect(() => probabilityAlive({ ...BTYD, s: 0 }, 2, 1, 4)).toThrow(/positive and finite/);
    expect(paretoNbdLogLikelihood({ ...BTYD, beta: -1 }, cdnowWeeks())).toBeNaN();
  });
});

describe('Pareto/NBD fit on small or degenerate data', () => {
  it('says why it does not trust a fit on too few customers, with finite parameters and no standard errors', () => {
    const fit = fitParetoNbd(compressBgNbdData([0, 1, 2], [0, 1, 2], [3, 3, 3]));
    expect(fit.diagnostics.converged).toBe(false);
    expect(fit.diagnostics.message).toMatch(/not enough data/);
    expect(fit.standardErrors).toBeNull();
    for (const name of PARAMS) expect(Number.isFinite(fit.params[name])).toBe(true);
  });
});

describe('Pareto/NBD parameter recovery from simulated customers', () => {
  it.each([1, 2, 3])('recovers (r, alpha, s, beta) from 20,000 customers within 2.5 reported standard errors (seed %i)', (seed) => {
    // Prepare: acquisition spread over a year, calibration to week 104.
    const truth: ParetoNbdParams = { r: 0.55, alpha: 10.5, s: 0.6, beta: 11.7 };
    const simulated = simulateParetoNbdCustomers(seededUniform(seed), truth, { customers: 20_000, tenure: (u) => 52 + 52 * u() });
    // Act
    const fit = fitParetoNbd(compressBgNbdData(simulated.x, simulated.tx, simulated.T));
    // Assess
    expect(fit.diagnostics.converged).toBe(true);
    for (const name of PARAMS) {
      const z = (fit.params[name] - truth[name]) / fit.standardErrors![name];
      expect(Math.abs(z), `${name}: estimate ${fit.params[name]}, se ${fit.standardErrors![name]}`).toBeLessThan(2.5);
    }
  });
});
