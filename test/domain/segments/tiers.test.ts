import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topCutValue } from '../../../lambdas/clv-job/domain/segments/tiers.js';
import { clvTiers, orderedFromSorted, sortedAscending } from '../../support/sorted-column.js';

const CUTS = { high: 0.2, mid: 0.5 };
const countOf = (tiers: readonly string[], tier: string): number => tiers.filter((t) => t === tier).length;

describe('CLV tiers', () => {
  it.each([
    { customers: 10, high: 2, mid: 5, low: 3 },
    { customers: 100, high: 20, mid: 50, low: 30 },
    { customers: 3, high: 1, mid: 1, low: 1 },
    { customers: 1, high: 0, mid: 1, low: 0 },
    { customers: 0, high: 0, mid: 0, low: 0 },
  ])('splits $customers customers with distinct CLV into $high high, $mid mid and $low low', ({ customers, high, mid, low }) => {
    // Prepare
    const clv = Float64Array.from({ length: customers }, (_, i) => customers - i);

    // Act
    const tiers = clvTiers(clv, CUTS);

    // Assess
    expect([countOf(tiers, 'high'), countOf(tiers, 'mid'), countOf(tiers, 'low')]).toEqual([high, mid, low]);
  });

  it('ranks by CLV, highest first, whatever the row order', () => {
    // Prepare
    const clv = Float64Array.from([5, 100, 1, 50, 30, 20, 10, 40, 2, 60]);

    // Act
    const tiers = clvTiers(clv, CUTS);

    // Assess
    expect(tiers).toEqual(['low', 'high', 'low', 'mid', 'mid', 'mid', 'mid', 'mid', 'low', 'high']);
  });

  it.each([
    {
      rule: 'a tie group whose median falls below the cut goes wholly to the lower tier',
      clv: [100, 50, 50, 50, 40, 30, 20, 10, 5, 1],
      expected: ['high', 'mid', 'mid', 'mid', 'mid', 'mid', 'mid', 'low', 'low', 'low'],
    },
    {
      rule: 'a tie group whose median falls above the cut goes wholly to the higher tier',
      clv: [90, 90, 90, 50, 40, 30, 20, 10, 5, 1],
      expected: ['high', 'high', 'high', 'mid', 'mid', 'mid', 'mid', 'low', 'low', 'low'],
    },
    {
      rule: 'an even tie group split evenly by the cut goes to the higher tier',
      clv: [100, 90, 90, 50, 40, 30, 20, 10, 5, 1],
      expected: ['high', 'high', 'high', 'mid', 'mid', 'mid', 'mid', 'low', 'low', 'low'],
    },
    {
      rule: 'when every customer is worth the same, all are mid (the middle of the distribution)',
      clv: [7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
      expected: Array<string>(10).fill('mid'),
    },
  ])('$rule', ({ clv, expected }) => {
    // Act
    const tiers = clvTiers(Float64Array.from(clv), CUTS);

    // Assess
    expect(tiers).toEqual(expected);
  });

  it('takes its cut points from the settings', () => {
    // Prepare
    const clv = Float64Array.from({ length: 10 }, (_, i) => 10 - i);

    // Act
    const tiers = clvTiers(clv, { high: 0.1, mid: 0.3 });

    // Assess
    expect([countOf(tiers, 'high'), countOf(tiers, 'mid'), countOf(tiers, 'low')]).toEqual([1, 3, 6]);
  });

  it('leaves its input untouched', () => {
    // Prepare
    const clv = Float64Array.from([3, 1, 2]);

    // Act
    clvTiers(clv, CUTS);

    // Assess
    expect(Array.from(clv)).toEqual([3, 1, 2]);
  });

  it('needs no customer to be in the top when the count is 0, and lets everyone in when it is all', () => {
    // Prepare
    const column = orderedFromSorted(sortedAscending(Float64Array.from([1, 2, 3])));

    // Act, Assess
    expect(topCutValue(column, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(topCutValue(column, 3)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('CLV tiers, for any customers', () => {
  // Few distinct values, so ties are common.
  const clvColumn = fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 80 }).map((xs) => Float64Array.from(xs, (x) => x * 10));

  it('never split customers with equal CLV, and never rank a higher CLV in a lower tier', () => {
    fc.assert(
      fc.property(clvColumn, (clv) => {
        const rank = { high: 0, mid: 1, low: 2 } as const;
        const tiers = clvTiers(clv, CUTS);
        for (let i = 0; i < clv.length; i += 1) {
          for (let j = 0; j < clv.length; j += 1) {
            if (clv[i] === clv[j]) expect(tiers[i]).toBe(tiers[j]);
            if ((clv[i] as number) > (clv[j] as number)) expect(rank[tiers[i] as 'high']).toBeLessThanOrEqual(rank[tiers[j] as 'high']);
          }
        }
      }),
    );
  });

  it('match the cut points up to half the tie group at each cut', () => {
    fc.assert(
      fc.property(clvColumn, (clv) => {
        const n = clv.length;
        const tiers = clvTiers(clv, CUTS);
        const largestTie = Math.max(0, ...Array.from(clv, (v) => clv.filter((w) => w === v).length));
        const slack = Math.ceil(largestTie / 2);
        expect(Math.abs(countOf(tiers, 'high') - Math.round(0.2 * n))).toBeLessThanOrEqual(slack);
        expect(Math.abs(countOf(tiers, 'high') + countOf(tiers, 'mid') - Math.round(0.7 * n))).toBeLessThanOrEqual(slack);
      }),
    );
  });

  it('match the cut points exactly when CLVs are distinct', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 200 }), (values) => {
        const n = values.length;
        const tiers = clvTiers(Float64Array.from(values), CUTS);
        expect(countOf(tiers, 'high')).toBe(Math.round(0.2 * n));
        expect(countOf(tiers, 'mid')).toBe(Math.round(0.7 * n) - Math.round(0.2 * n));
      }),
    );
  });
});

describe('sortedAscending', () => {
  const bytesOf = (values: Float64Array): Buffer => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const special = fc.constantFrom(-0, 0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1);

  it('orders as the native sort does, byte for byte: -0 before +0, infinities at the ends, NaNs last, ties kept', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), special, fc.integer({ min: -3, max: 3 })), { maxLength: 300 }), (xs) => {
        const values = Float64Array.from(xs);
        const before = Buffer.from(bytesOf(values));
        expect(bytesOf(sortedAscending(values))).toEqual(bytesOf(Float64Array.from(values).sort()));
        expect(bytesOf(values)).toEqual(before);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a view at an offset into a larger buffer, and a column of one value (every pass skipped)', () => {
    const buffer = Float64Array.from([9, 3, -2, 7, 3, 1]);
    expect(Array.from(sortedAscending(buffer.subarray(1, 5)))).toEqual([-2, 3, 3, 7]);
    expect(Array.from(sortedAscending(new Float64Array(5).fill(2.5)))).toEqual([2.5, 2.5, 2.5, 2.5, 2.5]);
    expect(sortedAscending(new Float64Array(0))).toHaveLength(0);
  });
});
