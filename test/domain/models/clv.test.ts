import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bgnbdTransactionModel } from '../../../lambdas/clv-job/domain/models/transaction-model.js';
import { compressBgNbdData, conditionalExpectedPurchases, fitBgNbd, probabilityAlive, type BgNbdParams } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import { DAYS_PER_UNIT, discountSchedule, scoreTuples, type ClvSettings, type ScoreInput } from '../../../lambdas/clv-job/domain/models/clv.js';
import { conditionalExpectedOrderValue, fitGammaGamma, type GammaGammaParams } from '../../../lambdas/clv-job/domain/models/gamma-gamma.js';
import { modelsSummaryOf, modelsSummarySchema } from '../../../lambdas/clv-job/schemas/summary-models.js';
import { inUnits, loadCdnowSummary } from './cdnow-data.js';

const BTYD: BgNbdParams = { r: 0.2425982, alpha: 4.4136842, a: 0.7929899, b: 2.4261667 };
const GG: GammaGammaParams = { p: 6.249572271199454, q: 3.744224667071596, gamma: 15.443520962616471 };
const WEEKLY: ClvSettings = { timeUnit: 'week', horizon: 52, discountRate: 0.1, margin: 1 };

const cdnow = loadCdnowSummary();
const cdnowInput: ScoreInput = {
  x: Int32Array.from(cdnow.x),
  recencyDays: Int32Array.from(cdnow.txDays),
  tenureDays: Int32Array.from(cdnow.TDays),
  monetaryValue: cdnow.mx,
};
const one = (x: number, recencyDays: number, tenureDays: number, monetaryValue: number): ScoreInput => ({
  x: Float64Array.of(x),
  recencyDays: Float64Array.of(recencyDays),
  tenureDays: Float64Array.of(tenureDays),
  monetaryValue: Float64Array.of(monetaryValue),
});
const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

describe('time units', () => {
  it('are 7 days to the week and 1 to the day', () => {
    expect(DAYS_PER_UNIT).toEqual({ week: 7, day: 1 });
  });
});

describe('discount schedule: weekly calendar steps, each discounted at its end', () => {
  it('cuts 52 weeks, or 364 days, into the same 52 steps with the same factors', () => {
    // Act
    const weeks = discountSchedule(52, 'week', 0.1);
    const days = discountSchedule(364, 'day', 0.1);
    // Assess
    expect(weeks.times.length).toBe(52);
    expect(days.times.length).toBe(52);
    expect(Array.from(weeks.times, (t) => t * 7)).toEqual(Array.from(days.times));
    expect(Array.from(weeks.factors)).toEqual(Array.from(days.factors));
  });

  it('converts the annual rate to the step: v_k = (1 + d_step)^−k with d_step = (1 + d)^(7/365.25) − 1', () => {
    const stepRate = 1.1 ** (7 / 365.25) - 1;
    const { factors } = discountSchedule(52, 'week', 0.1);
    factors.forEach((v, k) => expect(v).toBeCloseTo((1 + stepRate) ** -(k + 1), 14));
    expect(factors[51]).toBeCloseTo(1.1 ** -(364 / 365.25), 14);
  });

  it('ends with a partial step when the horizon is not a whole number of weeks', () => {
    const { times, factors } = discountSchedule(10, 'day', 0.1);
    expect(Array.from(times)).toEqual([7, 10]);
    expect(factors[1]).toBeCloseTo(1.1 ** -(10 / 365.25), 14);
  });

  it.each([
    ['no discount', 52, 0, 52],
    ['no horizon', 0, 0.1, 0],
  ])('handles %s', (_, horizon, rate, steps) => {
    const { times, factors } = discountSchedule(horizon, 'week', rate);
    expect(times.length).toBe(steps);
    if (rate === 0) expect(Array.from(factors).every((v) => v === 1)).toBe(true);
  });
});

describe('scoring customers', () => {
  it('gives customer 1516 (x = 26, 216 and 217 days) the BG/NBD and Gamma-Gamma values of the single-customer functions', () => {
    // Act
    const scores = scoreTuples(bgnbdTransactionModel(BTYD), GG, one(26, 216, 217, 39.97), WEEKLY);
    // Assess
    expect(scores.expectedPurchases[0]).toBeCloseTo(25.7565377465056, 10);
    expect(scores.expectedPurchases[0]).toBeCloseTo(conditionalExpectedPurchases(BTYD, 52, 26, 216 / 7, 31), 10);
    expect(scores.probabilityAlive[0]).toBeCloseTo(probabilityAlive(BTYD, 26, 216 / 7, 31), 14);
    expect(scores.expectedOrderValue[0]).toBeCloseTo(conditionalExpectedOrderValue(GG, 26, 39.97), 12);
    expect(scores.predictedClv[0]).toBeCloseTo(scores.expectedOrderValue[0]! * scores.discountedPurchases[0]!, 8);
    expect(scores.discountedPurchases[0]).toBeLessThan(scores.expectedPurchases[0]!);
  });

  it('without discounting, discounted purchases are the expected purchases', () => {
    const scores = scoreTuples(bgnbdTransactionModel(BTYD), GG, cdnowInput, { ...WEEKLY, discountRate: 0 });
    scores.expectedPurchases.forEach((e, i) => expect(scores.discountedPurchases[i]).toBeCloseTo(e, 10));
  });

  it('values new-ish customers without repeat purchases at the population mean spend', () => {
    const scores = scoreTuples(bgnbdTransactionModel(BTYD), GG, one(0, 0, 30, 0), WEEKLY);
    expect(scores.probabilityAlive[0]).toBe(1);
    expect(scores.expectedOrderValue[0]).toBeCloseTo((GG.p * GG.gamma) / (GG.q - 1), 12);
  });

  it('scales CLV with the margin and nothing else', () => {
    const full = scoreTuples(bgnbdTransactionModel(BTYD), GG, cdnowInput, WEEKLY);
    const part = scoreTuples(bgnbdTransactionModel(BTYD), GG, cdnowInput, { ...WEEKLY, margin: 0.3 });
    full.predictedClv.forEach((v, i) => expect(part.predictedClv[i]).toBeCloseTo(0.3 * v, 10));
  });

  it('gives identical scores to identical customers, whatever else is scored with them', () => {
    const all = scoreTuples(bgnbdTransactionModel(BTYD), GG, cdnowInput, WEEKLY);
    const single = scoreTuples(bgnbdTransactionModel(BTYD), GG, one(cdnow.x[1515]!, cdnow.txDays[1515]!, cdnow.TDays[1515]!, cdnow.mx[1515]!), WEEKLY);
    expect(single.predictedClv[0]).toBe(all.predictedClv[1515]);
  });

  it('does not modify its input', () => {
    const input = one(3, 50, 100, 20);
    scoreTuples(bgnbdTransactionModel(BTYD), GG, input, WEEKLY);
    expect(Array.from(input.x)).toEqual([3]);
    expect(Array.from(input.recencyDays)).toEqual([50]);
  });
});

describe('discounting customer 1516 over 52 weeks at 10% a year, against an independent sum (BTYD CDNOW parameters)', () => {
  // Customer 1516 of CDNOW: x = 26, t_x = 216/7, T = 217/7 = 31 weeks.
  const [x, tx, T] = [26, 216 / 7, 31];
  const mx = 39.97;

  // E(X(t) | x, t_x, T), FHL 2005 eq. 10, written out here with its own Gauss 2F1 series (all terms
  // positive at z < 1, so the plain series is accurate), not the product's hypergeometric code.
  const hyp2f1 = (a: number, b: number, c: number, z: number): number => {
    let term = 1;
    let sum = 1;
    for (let n = 0; n < 100_000 && term > 1e-17 * sum; n++) {
      term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
      sum += term;
    }
    return sum;
  };
  const expectedBy = (t: number): number => {
    const { r, alpha, a, b } = BTYD;
    const growth = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t));
    return (((a + b + x - 1) / (a - 1)) * growth) / (1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x));
  };
  // Discount factor of a purchase `weeks` from now at 10% a year: 1.1^(−days / 365.25).
  const discount = (weeks: number): number => 1.1 ** -((weeks * 7) / 365.25);
  // Σ over steps of `width` weeks of [E(X(t_k)) − E(X(t_(k−1)))] · v(t_k + shift·width), shift −1 = at the step's start.
  const discountedSum = (width: number, shift: number): number => {
    let sum = 0;
    for (let k = 1; k * width <= 52 + 1e-9; k++) sum += (expectedBy(k * width) - expectedBy((k - 1) * width)) * discount((k + shift) * width);
    return sum;
  };
  const scores = scoreTuples(bgnbdTransactionModel(BTYD), GG, one(x, 216, 217, mx), { ...WEEKLY, margin: 0.25 });

  it('has the independent E(X(52)) agree with the mpmath value pinned above (25.7565377465056)', () => {
    expect(expectedBy(52)).toBeCloseTo(25.7565377465056, 9);
  });

  it('discounts each week’s expected purchases at the end of that week (documented schedule), to 1e-10', () => {
    // A purchase in week k is discounted by 1.1^(−7k/365.25); one week later or earlier moves the sum ~0.18%.
    expect(relative(scores.discountedPurchases[0]!, discountedSum(1, 0))).toBeLessThan(1e-10);
    expect(relative(discountedSum(1, -1), discountedSum(1, 0))).toBeGreaterThan(1e-3);
  });

  it('lies just under continuous discounting (a sum over 1/100-week steps), within the half week the step costs', () => {
    // End-of-week factors are the smallest over each week, start-of-week ones the largest, so the
    // fine sum (≈ ∫ v dE) is bracketed by them; ours is the lower bracket, ~0.09% under.
    const continuous = discountedSum(0.01, -0.5);
    expect(scores.discountedPurchases[0]!).toBeLessThan(continuous);
    expect(continuous).toBeLessThan(discountedSum(1, -1));
    expect(relative(scores.discountedPurchases[0]!, continuous)).toBeLessThan(1.2e-3);
  });

  it('values the customer at margin · E(M | x, m_x) · discounted purchases, E(M) = p(γ + m_x x)/(p x + q − 1)', () => {
    const orderValue = (GG.p * (GG.gamma + mx * x)) / (GG.p * x + GG.q - 1);
    expect(relative(scores.predictedClv[0]!, 0.25 * orderValue * discountedSum(1, 0))).toBeLessThan(1e-10);
  });
});

describe('time-unit invariance of CLV', () => {
  it('gives the same CLV from a fit in weeks scored over 52 weeks as from a fit in days scored over 364 days (1e-6)', () => {
    // Prepare
    const weeks = fitBgNbd(compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7)));
    const days = fitBgNbd(compressBgNbdData(cdnow.x, cdnow.txDays, cdnow.TDays));
    // Act
    const inWeeks = scoreTuples(bgnbdTransactionModel(weeks.params), GG, cdnowInput, WEEKLY);
    const inDays = scoreTuples(bgnbdTransactionModel(days.params), GG, cdnowInput, { ...WEEKLY, timeUnit: 'day', horizon: 364 });
    // Assess
    inWeeks.predictedClv.forEach((v, i) => expect(relative(inDays.predictedClv[i]!, v)).toBeLessThan(1e-6));
    inWeeks.expectedPurchases.forEach((v, i) => expect(relative(inDays.expectedPurchases[i]!, v)).toBeLessThan(1e-6));
  });

  it('is not fooled by weeks read as days (lifetimes’ CLV example): the same parameters in the wrong unit give another answer', () => {
    const right = scoreTuples(bgnbdTransactionModel(BTYD), GG, cdnowInput, WEEKLY);
    const wrong = scoreTuples(bgnbdTransactionModel(BTYD), GG, cdnowInput, { ...WEEKLY, timeUnit: 'day', horizon: 52 });
    const total = (v: Float64Array): number => v.reduce((s, x) => s + x, 0);
    expect(total(wrong.predictedClv)).toBeLessThan(0.5 * total(right.predictedClv));
  });
});

describe('CLV properties', () => {
  const customer = fc
    .record({
      x: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 10_000 })),
      tenure: fc.integer({ min: 0, max: 10_000 }),
      share: fc.double({ min: 0, max: 1, noNaN: true }),
      spend: fc.double({ min: 0, max: 1e5, noNaN: true }),
    })
    .map(({ x, tenure, share, spend }) => ({ x, tenure, recency: x === 0 ? 0 : Math.floor(tenure * share), spend }));

  it('never increases with the discount rate', () => {
    fc.assert(
      fc.property(customer, fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }), (c, d1, d2) => {
        const [low, high] = d1 <= d2 ? [d1, d2] : [d2, d1];
        const input = one(c.x, c.recency, c.tenure, c.spend);
        const atLow = scoreTuples(bgnbdTransactionModel(BTYD), GG, input, { ...WEEKLY, discountRate: low }).predictedClv[0]!;
        const atHigh = scoreTuples(bgnbdTransactionModel(BTYD), GG, input, { ...WEEKLY, discountRate: high }).predictedClv[0]!;
        expect(atHigh).toBeLessThanOrEqual(atLow * (1 + 1e-12) + 1e-300);
      }),
    );
  });

  it('is finite and non-negative for extreme customers (x up to 1e4, tenure up to 1e4 days), in both units and long horizons', () => {
    fc.assert(
      fc.property(
        customer,
        fc.constantFrom<ClvSettings>(WEEKLY, { timeUnit: 'day', horizon: 3650, discountRate: 0.1, margin: 1 }, { timeUnit: 'week', horizon: 520, discountRate: 0, margin: 0.5 }),
        (c, settings) => {
          const scores = scoreTuples(bgnbdTransactionModel(BTYD), GG, one(c.x, c.recency, c.tenure, c.spend), settings);
          for (const column of [scores.expectedPurchases, scores.probabilityAlive, scores.expectedOrderValue, scores.predictedClv, scores.discountedPurchases]) {
            expect(Number.isFinite(column[0]!)).toBe(true);
            expect(column[0]).toBeGreaterThanOrEqual(0);
          }
          expect(scores.probabilityAlive[0]).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('scoring refuses what it cannot score', () => {
  it.each([
    ['columns of different lengths', { ...one(1, 1, 2, 5), x: Float64Array.of(1, 2) }],
    ['recency after tenure', one(1, 3, 2, 5)],
    ['a fractional frequency', one(1.5, 1, 2, 5)],
    ['negative spend', one(1, 1, 2, -5)],
  ])('throws a RangeError for %s', (_, input) => {
    expect(() => scoreTuples(bgnbdTransactionModel(BTYD), GG, input, WEEKLY)).toThrow(RangeError);
  });

  it.each([
    ['q <= 1 (infinite mean spend)', BTYD, { ...GG, q: 0.9 }, WEEKLY],
    ['a non-positive BG/NBD parameter', { ...BTYD, a: 0 }, GG, WEEKLY],
    ['a negative horizon', BTYD, GG, { ...WEEKLY, horizon: -1 }],
    ['a discount rate <= −100%', BTYD, GG, { ...WEEKLY, discountRate: -1 }],
  ])('throws a RangeError for %s', (_, bgnbd, gg, settings) => {
    expect(() => scoreTuples(bgnbdTransactionModel(bgnbd), gg, one(1, 1, 2, 5), settings)).toThrow(RangeError);
  });
});

describe('the models section of the summary', () => {
  it('validates for the CDNOW fits and carries their values', () => {
    // Prepare
    const bgnbd = fitBgNbd(compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7)));
    const gg = fitGammaGamma({ x: cdnow.x, mx: cdnow.mx, weight: new Float64Array(cdnow.x.length).fill(1) });
    // Act
    const section = modelsSummarySchema.parse(JSON.parse(JSON.stringify(modelsSummaryOf(bgnbd, gg, WEEKLY))));
    // Assess
    expect(section.trusted).toBe(true);
    expect(section.time_unit).toBe('week');
    expect(section.bgnbd.r).toBe(bgnbd.params.r);
    expect(section.bgnbd.convergence.converged).toBe(true);
    expect(section.gamma_gamma.population_mean_order_value).toBeCloseTo(35.1704, 4);
  });

  it('marks the section untrusted when a fit did not converge, and rejects non-finite numbers', () => {
    const bgnbd = fitBgNbd({ x: Float64Array.of(0), tx: Float64Array.of(0), T: Float64Array.of(1), weight: Float64Array.of(3) });
    const gg = fitGammaGamma({ x: cdnow.x, mx: cdnow.mx, weight: new Float64Array(cdnow.x.length).fill(1) });
    const section = modelsSummaryOf(bgnbd, gg, WEEKLY);
    expect(modelsSummarySchema.parse(section).trusted).toBe(false);
    expect(modelsSummarySchema.safeParse({ ...section, bgnbd: { ...section.bgnbd, log_likelihood: Number.NaN } }).success).toBe(false);
  });
});
