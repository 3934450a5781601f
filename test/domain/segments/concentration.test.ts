import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concentrationOf, gini, lorenzCurve, topShare } from '../../support/sorted-column.js';

const sorted = (values: readonly number[]): Float64Array => Float64Array.from(values).sort();

describe('revenue and equity concentration', () => {
  it.each([
    { case: 'one customer holding everything of four', values: [0, 0, 0, 1], gini: 0.75, top20: 0.8 },
    { case: 'equal values', values: [5, 5, 5, 5, 5], gini: 0, top20: 0.2 },
    { case: 'a single customer', values: [42], gini: 0, top20: 0.2 },
    { case: 'two customers, one with everything', values: [0, 10], gini: 0.5, top20: 0.4 },
    { case: '1..5', values: [1, 2, 3, 4, 5], gini: 4 / 15, top20: 1 / 3 },
    { case: 'all zero', values: [0, 0, 0], gini: 0, top20: 0 },
    { case: 'no customers', values: [], gini: 0, top20: 0 },
  ])('give $case a Gini of $gini and a top-20% share of $top20', ({ values, gini: expectedGini, top20 }) => {
    // Act
    const measure = concentrationOf(sorted(values), 101);

    // Assess
    expect(measure.gini).toBeCloseTo(expectedGini, 12);
    expect(measure.top20_share).toBeCloseTo(top20, 12);
  });

  it('draws the Lorenz curve at evenly spaced customer shares, from (0, 0) to (1, 1)', () => {
    // Act
    const curve = lorenzCurve(sorted([0, 0, 0, 1]), 5);

    // Assess
    expect(curve.map((p) => p.customer_share)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(curve.map((p) => p.value_share)).toEqual([0, 0, 0, 0, 1]);
  });

  it('interpolates the Lorenz curve between customers', () => {
    // Act
    const curve = lorenzCurve(sorted([1, 3]), 5);

    // Assess
    expect(curve.map((p) => p.value_share)).toEqual([0, 0.125, 0.25, 0.625, 1]);
  });

  it('draws the line of equality when there is nothing to share', () => {
    // Act
    const zero = lorenzCurve(sorted([0, 0]), 3);
    const none = lorenzCurve(sorted([]), 3);

    // Assess
    expect(zero.map((p) => p.value_share)).toEqual([0, 0.5, 1]);
    expect(none.map((p) => p.value_share)).toEqual([0, 0.5, 1]);
  });

  it('bounds the curve by the configured number of points, whatever the customer count', () => {
    // Act
    const curve = lorenzCurve(sorted(Array.from({ length: 10_000 }, (_, i) => i)), 101);

    // Assess
    expect(curve).toHaveLength(101);
    expect(curve[50]?.customer_share).toBe(0.5);
  });

  it('counts a negative value as 0, keeping the Gini in [0, 1]', () => {
    expect(gini(sorted([-5, 0, 10]))).toBeCloseTo(gini(sorted([0, 0, 10])), 12);
  });
});

describe('concentration, for any non-negative values', () => {
  const values = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })), { maxLength: 120 });

  it('has a Gini in [0, 1] and a top-20% share in [0, 1], at least 20% when there is anything to share', () => {
    fc.assert(
      fc.property(values, (xs) => {
        const s = sorted(xs);
        const g = gini(s);
        const top = topShare(s);
        expect(g).toBeGreaterThanOrEqual(0);
        expect(g).toBeLessThanOrEqual(1);
        expect(top).toBeGreaterThanOrEqual(0);
        expect(top).toBeLessThanOrEqual(1);
        if (xs.some((x) => x > 0)) expect(top).toBeGreaterThanOrEqual(0.2 - 1e-12);
      }),
    );
  });

  it('has a Gini of 0 when every value is equal', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.integer({ min: 1, max: 200 }), (x, n) => {
        expect(gini(sorted(Array<number>(n).fill(x)))).toBeCloseTo(0, 12);
      }),
    );
  });

  it('draws a non-decreasing, convex Lorenz curve under the diagonal, ending at (1, 1)', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 2, max: 101 }), (xs, points) => {
        const curve = lorenzCurve(sorted(xs), points);
        expect(curve).toHaveLength(points);
        expect(curve[0]).toEqual({ customer_share: 0, value_share: 0 });
        expect(curve[points - 1]).toEqual({ customer_share: 1, value_share: 1 });
        for (let j = 1; j < points; j += 1) {
          const p = curve[j] as { customer_share: number; value_share: number };
          const before = curve[j - 1] as typeof p;
          expect(p.value_share).toBeGreaterThanOrEqual(before.value_share - 1e-12);
          expect(p.value_share).toBeLessThanOrEqual(p.customer_share + 1e-12);
          if (j + 1 < points) {
            const after = curve[j + 1] as typeof p;
            // Convexity: slopes never decrease (equal spacing, so second differences are >= 0).
            expect(after.value_share - 2 * p.value_share + before.value_share).toBeGreaterThanOrEqual(-1e-9);
          }
        }
      }),
    );
  });

  it('reads the top-20% share off the same Lorenz curve', () => {
    fc.assert(
      fc.property(values, (xs) => {
        const s = sorted(xs);
        const curve = lorenzCurve(s, 101);
        if (!xs.some((x) => x > 0)) return;
        expect(topShare(s)).toBeCloseTo(1 - (curve[80]?.value_share as number), 9);
      }),
    );
  });
});
