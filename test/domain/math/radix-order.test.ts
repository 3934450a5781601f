import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { radixOrder } from '../../../lambdas/clv-job/domain/math/radix-order.js';

/** The reference: a stable comparison sort of the non-NaN positions, -0 and +0 told apart as their bits are. */
const comparisonOrder = (values: Float64Array, descending: boolean): number[] => {
  const sign = descending ? -1 : 1;
  return [...values.keys()]
    .filter((i) => !Number.isNaN(values[i]))
    .sort((a, b) => {
      const [x, y] = [values[a]!, values[b]!];
      if (Object.is(x, y)) return a - b;
      if (x === y) return sign * (Object.is(x, -0) ? -1 : 1);
      return sign * (x < y ? -1 : 1);
    });
};

describe('radixOrder', () => {
  const special = fc.constantFrom(-0, 0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1);

  it.each([false, true])('is the stable order of a comparison sort, NaNs left out, -0 before +0 ascending (descending: %s)', (descending) => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), special, fc.integer({ min: -3, max: 3 })), { maxLength: 300 }), (xs) => {
        const values = Float64Array.from(xs);
        expect(Array.from(radixOrder(values, descending))).toEqual(comparisonOrder(values, descending));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a view at an offset into a larger buffer, and gives nothing for nothing or only NaNs', () => {
    const buffer = Float64Array.from([9, 3, -2, 7, 3, 1]);
    expect(Array.from(radixOrder(buffer.subarray(1, 5)))).toEqual([1, 0, 3, 2]);
    expect(Array.from(radixOrder(buffer.subarray(1, 5), true))).toEqual([2, 0, 3, 1]);
    expect(radixOrder(new Float64Array(0))).toHaveLength(0);
    expect(radixOrder(Float64Array.of(Number.NaN, Number.NaN))).toHaveLength(0);
  });
});
