import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  customerCount,
  integerValueCounts,
  orderedFromCounts,
  rankedFromCounts,
  TIE_TOLERANCE,
  valueCountsOf,
  valueCountsOfSorted,
} from '../../../lambdas/clv-job/domain/segments/value-counts.js';
import { orderedFromSorted } from '../../support/sorted-column.js';

/** The sorted column the counts stand for, written out: value k repeated count k times. */
const expanded = (counts: { values: Float64Array; starts: Float64Array }): number[] =>
  Array.from(counts.values).flatMap((v, k) => Array.from({ length: (counts.starts[k + 1] as number) - (counts.starts[k] as number) }, () => v));

describe('value counts', () => {
  it('run-length encode a sorted column: distinct values ascending, where each run starts, the total last', () => {
    // Prepare
    const sorted = Float64Array.from([1, 1, 2, 5, 5, 5]);

    // Act
    const counts = valueCountsOfSorted(sorted);

    // Assess
    expect(Array.from(counts.values)).toEqual([1, 2, 5]);
    expect(Array.from(counts.starts)).toEqual([0, 2, 3, 6]);
    expect(customerCount(counts)).toBe(6);
  });

  it('give the run of equal values at any position of the sorted column without writing the column out', () => {
    // Prepare
    const column = orderedFromCounts(valueCountsOf([10, 20, 30], [2, 1, 3]));

    // Act
    const runs = [0, 1, 2, 3, 4, 5].map((position) => column.runAt(position));

    // Assess
    expect(column.size).toBe(6);
    expect(runs.map((r) => r.value)).toEqual([10, 10, 20, 30, 30, 30]);
    expect(runs.map((r) => [r.start, r.end])).toEqual([[0, 2], [0, 2], [2, 3], [3, 6], [3, 6], [3, 6]]);
  });

  it('and a column already sorted reads the same runs in place as its value counts do', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 60 }), (values) => {
        const sorted = Float64Array.from(values).sort();
        const inPlace = orderedFromSorted(sorted);
        const counted = orderedFromCounts(valueCountsOfSorted(sorted));
        expect(inPlace.size).toBe(counted.size);
        for (let p = 0; p < sorted.length; p += 1) expect(inPlace.runAt(p)).toEqual(counted.runAt(p));
      }),
    );
  });

  it('ordered for the rank rules, hold values that differ by rounding alone in one run, from its lowest to its highest', () => {
    // 5.10 / 1 and 15.30 / 3: one number, two doubles
    const column = rankedFromCounts(valueCountsOf([1, 5.1, 15.3 / 3, 6], [1, 1, 2, 1]));

    expect(15.3 / 3).not.toBe(5.1);
    expect(column.size).toBe(5);
    expect([0, 1, 2, 3, 4].map((p) => column.runAt(p))).toEqual([
      { value: 1, highest: 1, start: 0, end: 1 },
      { value: 5.1, highest: 15.3 / 3, start: 1, end: 4 },
      { value: 5.1, highest: 15.3 / 3, start: 1, end: 4 },
      { value: 5.1, highest: 15.3 / 3, start: 1, end: 4 },
      { value: 6, highest: 6, start: 4, end: 5 },
    ]);
  });

  it('ordered for the rank rules, keep apart values a cent or a billionth apart, and let no run span more than the tolerance', () => {
    const near = (x: number) => x * (1 + 0.6 * TIE_TOLERANCE);
    // each neighbour is within the tolerance of the one before, not of the run's lowest
    const chain = [100, near(100), near(near(100)), near(near(near(100)))];
    const column = rankedFromCounts(valueCountsOf([1e-9, 2e-9, 77.96, 77.97, ...chain], [1, 1, 1, 1, 1, 1, 1, 1]));

    expect(Array.from({ length: 8 }, (_, p) => column.runAt(p).start)).toEqual([0, 1, 2, 3, 4, 4, 6, 6]);
  });

  it('treat -0 and +0 as one value, as every comparison of the rules does', () => {
    expect(Array.from(valueCountsOfSorted(Float64Array.from([-0, 0, 0, 1])).starts)).toEqual([0, 3, 4]);
  });

  it.each([
    [[1, 2], [1], 'value counts: 2 values but 1 counts'],
    [[2, 1], [1, 1], 'value counts: values must be strictly ascending, 2 then 1 at 1'],
    [[1, 1], [1, 1], 'value counts: values must be strictly ascending, 1 then 1 at 1'],
    [[1, Number.NaN], [1, 1], 'value counts: value NaN at 1 is not finite'],
    [[1, 2], [1, 0], 'value counts: the count of 2 must be a positive whole number, got 0'],
    [[1, 2], [1.5, 1], 'value counts: the count of 1 must be a positive whole number, got 1.5'],
  ])('refuse an engine answer that is not value counts: %j with counts %j', (values, counts, message) => {
    expect(() => valueCountsOf(values, counts)).toThrow(new RangeError(message));
  });

  it('count whole numbers into the same runs a sort would give, from a lowest value on', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -40, max: 40 }), { maxLength: 120 }), fc.integer({ min: -50, max: 50 }), (values, lowest) => {
        const column = Int32Array.from(values);
        const counted = integerValueCounts(column, lowest);
        const kept = Float64Array.from(values.filter((v) => v >= lowest)).sort();
        expect(expanded(counted)).toEqual(Array.from(kept));
        expect(counted).toEqual(valueCountsOfSorted(kept));
      }),
    );
  });

  it('sort instead of counting when the values spread far wider than the column is long', () => {
    // Prepare: three customers two billion days apart would need a count array of two billion slots
    const column = Int32Array.from([2_000_000_000, -2_000_000_000, 2_000_000_000]);

    // Act
    const counts = integerValueCounts(column);

    // Assess
    expect(Array.from(counts.values)).toEqual([-2_000_000_000, 2_000_000_000]);
    expect(Array.from(counts.starts)).toEqual([0, 1, 3]);
  });

  it('are empty for a column with no value at or above the lowest', () => {
    const counts = integerValueCounts(Int32Array.from([0, 0]), 1);
    expect(counts.values.length).toBe(0);
    expect(customerCount(counts)).toBe(0);
  });
});
