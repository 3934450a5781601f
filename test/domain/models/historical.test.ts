import { describe, expect, it } from 'vitest';
import { historicalClv, historicalClvColumn, purchasesPerYear } from '../../../lambdas/clv-job/domain/models/historical.js';

/*
 * Historical CLV = average order value x purchases per year x lifespan in years, where purchases per
 * year = orders / (years observed), years observed = max(tenure + 1 day, 365.25 days) / 365.25.
 * Every expected value below is worked out by hand from that definition, written as the arithmetic.
 */
describe('historical CLV', () => {
  it('is order value x purchases per year x lifespan for a customer observed over a year', () => {
    // Tenure 730 days: observed 731 days = 731/365.25 years, so 4 orders are 4 x 365.25/731 a year;
    // 50 per order over 3 years: 50 x 4 x 365.25/731 x 3 = 219150/731 = 299.79480...
    expect(historicalClv(200, 730, 3)).toBeCloseTo((50 * 4 * 365.25 * 3) / 731, 10);
    expect(historicalClv(200, 730, 3)).toBeCloseTo(299.7948016, 6);
    expect(purchasesPerYear(4, 730)).toBeCloseTo((4 * 365.25) / 731, 12);
  });

  it('counts a tenure under one year as one full year', () => {
    // Tenure 99 days is 100 days observed, under a year: read as 1 year, so 4 orders are 4 a year,
    // and 50 x 4 x 3 = 600 (not 50 x 4 x 365.25/100 x 3 = 2191.5).
    expect(historicalClv(200, 99, 3)).toBeCloseTo(600, 10);
    expect(purchasesPerYear(4, 99)).toBeCloseTo(4, 12);
    // First-day customer: tenure 0 is 1 day observed, still one year.
    expect(historicalClv(200, 0, 3)).toBeCloseTo(600, 10);
    // Tenure 364 days is 365 days observed, still under 365.25: one year.
    expect(historicalClv(200, 364, 3)).toBeCloseTo(600, 10);
  });

  it('uses the observed rate from the first tenure past a year', () => {
    // Tenure 365 days is 366 days observed, over 365.25: 50 x 4 x 365.25/366 x 3 = 598.7704...
    expect(historicalClv(200, 365, 3)).toBeCloseTo((50 * 4 * 365.25 * 3) / 366, 10);
    expect(historicalClv(200, 365, 3)).toBeLessThan(600);
  });

  it('reads a tenure of exactly four years as four years', () => {
    // 20 x 2 x 365.25/1461 x 5 with tenure 1460 days (1461 days = 4 years exactly): 20 x 0.5 x 5 = 50.
    expect(historicalClv(40, 1460, 5)).toBeCloseTo(50, 10);
  });

  it('gives customers of equal revenue and tenure the same value, however the revenue was split into orders', () => {
    // 25.99 in one order or in three of 8.66, 8.66, 8.67: 25.99 / 3 x 3 is not 25.99 in floating point,
    // and the tiers must never tell such customers apart
    // (as order value x purchases a year x lifespan, three orders gave 25.99 / 3 x 3 x 3 = 77.96999999999998
    // and one 77.97: a tier apart at the cut); it is read from the revenue, whose sum is exact (DECIMAL)
    expect(historicalClv(25.99, 0, 3)).toBe(77.97);
  });

  it('computes the column customer by customer', () => {
    const out = historicalClvColumn(Float64Array.of(200, 200, 40), Int32Array.of(99, 730, 1460), 3);
    expect(out).toHaveLength(3);
    expect(out[0]).toBeCloseTo(600, 10);
    expect(out[1]).toBeCloseTo((50 * 4 * 365.25 * 3) / 731, 10);
    expect(out[2]).toBeCloseTo(20 * 0.5 * 3, 10);
  });
});
