import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompensatedSum, neumaierSum, weightedSum } from '../../../lambdas/clv-job/domain/math/sum.js';

/** Exact sum of k_i · 2^e_i, for values built that way, as a double. */
const exactSum = (terms: readonly { k: number; e: number }[]): number => {
  const shift = 64;
  let total = 0n;
  for (const { k, e } of terms) total += BigInt(k) << BigInt(e + shift);
  const negative = total < 0n;
  const magnitude = negative ? -total : total;
  // Number() of a BigInt rounds to nearest; scaling by a power of two is then exact.
  const value = Number(magnitude) / 2 ** shift;
  return negative ? -value : value;
};

describe('compensated summation', () => {
  it.each([
    [[1e100, 1, -1e100], 1],
    [[1, 1e100, 1, -1e100], 2],
    // The doubles nearest 0.1, 0.2, 0.3 and 0.6 sum exactly to 2^−55; plain addition gives 2^−54.
    [[0.1, 0.2, 0.3, -0.6], 2 ** -55],
    [[], 0],
  ])('sums %j to %s where plain addition loses the small terms', (values, expected) => {
    // Act
    const total = neumaierSum(values);
    // Assess
    expect(total).toBe(expected);
  });

  it('gives the same total through the running accumulator as through the one-shot sum', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e12, max: 1e12, noNaN: true })), (values) => {
        const running = new CompensatedSum();
        for (const v of values) running.add(v);
        expect(running.value).toBe(neumaierSum(values));
      }),
    );
  });

  it('is within one rounding of the exact sum, whatever the order and cancellation', () => {
    const term = fc.record({ k: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), e: fc.integer({ min: -60, max: 60 }) });
    fc.assert(
      fc.property(fc.array(term, { maxLength: 200 }), (terms) => {
        // Prepare
        const values = terms.map(({ k, e }) => k * 2 ** e);
        const exact = exactSum(terms);
        const absolute = values.reduce((s, v) => s + Math.abs(v), 0);
        // Act
        const total = neumaierSum(values);
        // Assess: Neumaier's bound, 2 eps |S| + n eps² Σ|x_i|.
        const eps = 2 ** -52;
        expect(Math.abs(total - exact)).toBeLessThanOrEqual(2 * eps * Math.abs(exact) + values.length * eps * eps * absolute);
      }),
    );
  });

  it('weights each value, and refuses columns of different lengths', () => {
    expect(weightedSum([1e100, 1, -1e100], [1, 3, 1])).toBe(3);
    expect(() => weightedSum([1, 2], [1])).toThrow(RangeError);
  });
});
