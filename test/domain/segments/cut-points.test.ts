import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompensatedSum } from '../../../lambdas/clv-job/domain/math/sum.js';
import { concentrationOfCounts } from '../../../lambdas/clv-job/domain/segments/concentration.js';
import { binCuts, binOf, frequencyCuts, frequencyScoreOf, rfmColumns } from '../../../lambdas/clv-job/domain/segments/rfm.js';
import { segmentCustomers } from '../../../lambdas/clv-job/domain/segments/segment-customers.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../../lambdas/clv-job/domain/segments/settings.js';
import { tierCodes, tierOf, tierThresholds } from '../../../lambdas/clv-job/domain/segments/tiers.js';
import { valueLoyaltyCodes } from '../../../lambdas/clv-job/domain/segments/value-loyalty.js';
import {
  integerValueCounts,
  orderedFromCounts,
  valueCountsByPattern,
  valueCountsOfColumn,
  valueCountsOfSorted,
  valueCountsOfWeighted,
  type OrderedColumn,
} from '../../../lambdas/clv-job/domain/segments/value-counts.js';
import { buildCustomers } from '../../support/customer-table.js';
import { orderedFromSorted, quantileScores, sortedAscending } from '../../support/sorted-column.js';

/**
 * The segments' cut points decided on value counts (distinct values with how many customers hold
 * each, found by hashing or per scoring pattern: no customer sorted) against the same rules read
 * on the column sorted and read in place, the way the segment stage worked before: the same
 * assignment of every customer, and the same concentration figures bit for bit.
 */

/** A column with many ties: a handful of values (-0 and 0 among them) each held by many customers, and a few values of their own. */
const tiedColumn = (maxLength: number): fc.Arbitrary<Float64Array> =>
  fc
    .tuple(fc.array(fc.oneof(fc.constant(-0), fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength }))
    .chain(([pool, picks]) =>
      fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 4 }).map((own) => Float64Array.from([...picks.map((k) => pool[k % pool.length] as number), ...own])),
    );

const sortedColumn = (values: Float64Array): OrderedColumn => orderedFromSorted(sortedAscending(values));
const countedColumn = (values: Float64Array): OrderedColumn => orderedFromCounts(valueCountsOfColumn(values));

/**
 * The concentration as the segment stage computed it on the sorted column, position by position, a
 * sum a measure (the code before value counts, written plainly): the reference for bits.
 */
const positionalConcentration = (sortedAsc: Float64Array, points: number) => {
  const n = sortedAsc.length;
  const largest = n === 0 ? 0 : (sortedAsc[n - 1] as number);
  const at = (i: number): number => {
    const x = sortedAsc[i] as number;
    return x > 0 ? x / (largest > 0 ? largest : 1) : 0;
  };
  const sum = (from: number, to: number, term: (i: number) => number): number => {
    const s = new CompensatedSum();
    for (let i = from; i < to; i += 1) s.add(term(i));
    return s.value;
  };
  const total = sum(0, n, at);
  const nothing = n === 0 || total <= 0;
  const steps = Math.max(1, points - 1);
  const lorenz = Array.from({ length: steps + 1 }, (_, j) => {
    if (nothing) return { customer_share: j / steps, value_share: j / steps };
    const whole = Math.floor((j * n) / steps);
    const partial = whole < n ? ((j * n - whole * steps) / steps) * at(whole) : 0;
    return { customer_share: j / steps, value_share: j === steps ? 1 : Math.min(1, Math.max(0, (sum(0, whole, at) + partial) / total)) };
  });
  const position = 0.8 * n;
  const whole = Math.min(n, Math.floor(position));
  const boundary = whole < n ? (1 - (position - whole)) * at(whole) : 0;
  return {
    total: largest > 0 ? total * largest : 0,
    top20_share: nothing ? 0 : Math.min(1, Math.max(0, (boundary + sum(whole + 1, n, at)) / total)),
    gini: n < 2 || nothing ? 0 : Math.min(1, Math.max(0, sum(0, n, (i) => (2 * i - n + 1) * at(i)) / (n * total))),
    lorenz,
  };
};

/** `patterns` scoring patterns taking their values from `values`, and customer i's pattern, one pattern every `stride` customers. */
const patternsOver = (values: Float64Array, patterns: number, stride: number): { readonly patternValues: Float64Array; readonly patternOf: Int32Array } => ({
  patternValues: Float64Array.from({ length: patterns }, (_, p) => values[p % Math.max(1, values.length)] ?? 0),
  patternOf: Int32Array.from(values, (_, i) => (i * stride) % patterns),
});

describe('value counts, for any column with many ties', () => {
  it('by hashing and by scoring pattern hold the runs of the sorted column', () => {
    fc.assert(
      fc.property(tiedColumn(200), fc.integer({ min: 1, max: 40 }), (values, patterns) => {
        // Prepare: customers share patterns, a pattern's customers its value
        const { patternValues, patternOf } = patternsOver(values, patterns, 7);
        const spread = Float64Array.from(patternOf, (p) => patternValues[p] as number);

        // Act
        const byPattern = orderedFromCounts(valueCountsByPattern(patternValues, patternOf));
        const hashed = countedColumn(values);

        // Assess: the same run at every position (-0 and 0 one value: the runs compare as numbers)
        const sortedSpread = sortedColumn(spread);
        const sorted = sortedColumn(values);
        expect(byPattern.size).toBe(spread.length);
        expect(hashed.size).toBe(values.length);
        const same = (a: OrderedColumn, b: OrderedColumn, p: number): void => {
          const [x, y] = [a.runAt(p), b.runAt(p)];
          expect([x.value === y.value, x.start, x.end]).toEqual([true, y.start, y.end]);
        };
        for (let p = 0; p < spread.length; p += 1) same(byPattern, sortedSpread, p);
        for (let p = 0; p < values.length; p += 1) same(hashed, sorted, p);
      }),
    );
  });

  it('merge values given more than once and leave out values nobody holds', () => {
    // Act
    const counts = valueCountsOfWeighted(Float64Array.from([3, 1, 3, 2, -0, 0]), [1, 2, 4, 0, 1, 1]);

    // Assess
    expect(Array.from(counts.values)).toEqual([-0, 1, 3]);
    expect(Array.from(counts.starts)).toEqual([0, 2, 4, 9]);
  });

  it.each([
    [[1, 2], [1], 'value counts: 2 values but 1 weights'],
    [[1, 2], [1, -1], 'value counts: the weight of 2 must be a whole number >= 0, got -1'],
    [[1, 2], [0.5, 1], 'value counts: the weight of 1 must be a whole number >= 0, got 0.5'],
    [[1, Number.NaN], [1, 1], 'value counts: value NaN at 1 is not finite'],
    [[Number.POSITIVE_INFINITY], [1], 'value counts: value Infinity at 0 is not finite'],
  ])('refuse weighted values %j with weights %j', (values, weights, message) => {
    expect(() => valueCountsOfWeighted(Float64Array.from(values), weights)).toThrow(new RangeError(message));
  });

  it('refuse a column holding a value that is not finite, and a pattern out of range', () => {
    expect(() => valueCountsOfColumn(Float64Array.from([1, Number.NaN]))).toThrow(new RangeError('value counts: value NaN at 1 is not finite'));
    expect(() => valueCountsByPattern(Float64Array.from([1, 2]), Int32Array.from([0, 2]))).toThrow(new RangeError("value counts: customer 1's pattern 2 is not one of 2"));
  });
});

describe('cut points decided on value counts, for any column with many ties', () => {
  it('assign every customer the tier the sorted column gives', () => {
    fc.assert(
      fc.property(tiedColumn(200), fc.double({ min: 0, max: 0.6, noNaN: true }), fc.double({ min: 0, max: 0.4, noNaN: true }), (clv, high, mid) => {
        const cuts = { high, mid };
        const thresholds = tierThresholds(countedColumn(clv), cuts);
        expect(Array.from(clv, (v) => tierOf(v, thresholds))).toEqual(Array.from(tierCodes(clv, sortedColumn(clv), cuts)));
      }),
    );
  });

  it('assign every customer the value x loyalty cell the sorted column gives', () => {
    fc.assert(
      fc.property(tiedColumn(200), fc.double({ min: 0, max: 1, noNaN: true }), (clv, highValueShare) => {
        const settings = { ...DEFAULT_SEGMENT_SETTINGS.valueLoyalty, highValueShare };
        const loyalty = { frequency: Int32Array.from(clv, (_, i) => i % 3), probabilityAlive: Float64Array.from(clv, (_, i) => (i % 5) / 4), recencyScore: new Int8Array(clv.length).fill(3) };
        expect(valueLoyaltyCodes(clv, countedColumn(clv), loyalty, settings)).toEqual(valueLoyaltyCodes(clv, sortedColumn(clv), loyalty, settings));
      }),
    );
  });

  it('give every customer the quantile score the sorted column gives, ties sharing a score', () => {
    fc.assert(
      fc.property(tiedColumn(200), fc.integer({ min: 2, max: 7 }), (values, bins) => {
        const cuts = binCuts(countedColumn(values), bins);
        const scores = Array.from(values, (v) => (cuts === null ? Math.ceil(bins / 2) : binOf(v, cuts)));
        expect(scores).toEqual(Array.from(quantileScores(values, bins, sortedColumn(values))));
      }),
    );
  });

  it('give every customer the frequency score the sorted repeat buyers give', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 400 })), { maxLength: 200 }), (days) => {
        const frequency = Int32Array.from(days);
        const cuts = frequencyCuts(orderedFromCounts(integerValueCounts(frequency, 1)));
        const repeatBuyers = Float64Array.from(days.filter((d) => d >= 1));
        const sortedCuts = frequencyCuts(sortedColumn(repeatBuyers));
        expect(days.map((d) => frequencyScoreOf(d, cuts))).toEqual(days.map((d) => frequencyScoreOf(d, sortedCuts)));
      }),
    );
  });

  it('score RFM monetary from revenue counts as from revenue sorted', () => {
    fc.assert(
      fc.property(tiedColumn(120), (revenue) => {
        const { table } = buildCustomers(Array.from(revenue, (totalRevenue, i) => ({ totalRevenue, frequency: i % 4, daysSinceLastPurchase: (i * 37) % 90 })));
        expect(rfmColumns(table, { monetary: 'total_revenue' }, countedColumn(revenue))).toEqual(rfmColumns(table, { monetary: 'total_revenue' }, sortedColumn(revenue)));
      }),
    );
  });
});

describe('concentration from value counts, for any column with many ties', () => {
  it('gives the figures the sorted column gives position by position, bit for bit', () => {
    fc.assert(
      fc.property(tiedColumn(300), fc.integer({ min: 2, max: 101 }), (values, points) => {
        const sorted = sortedAscending(values);
        expect(concentrationOfCounts(valueCountsOfColumn(values), points)).toEqual(positionalConcentration(sorted, points));
        expect(concentrationOfCounts(valueCountsOfSorted(sorted), points)).toEqual(positionalConcentration(sorted, points));
      }),
      { numRuns: 300 },
    );
  });

  it('and at thousands of customers, where the total taken a run at once (value x count) would differ in its last bits', () => {
    fc.assert(
      fc.property(tiedColumn(5_000), fc.integer({ min: 2, max: 101 }), (values, points) => {
        expect(concentrationOfCounts(valueCountsOfColumn(values), points)).toEqual(positionalConcentration(sortedAscending(values), points));
      }),
      { numRuns: 40 },
    );
  });
});

describe('segmentCustomers with the CLV counted per scoring pattern', () => {
  it('segments and sums exactly as with the CLV counted per customer', () => {
    fc.assert(
      fc.property(tiedColumn(120), fc.integer({ min: 1, max: 30 }), (values, patterns) => {
        // Prepare: the ranking CLV is one value per pattern, spread to the customers
        const { patternValues, patternOf } = patternsOver(values, patterns, 5);
        const { table, scores } = buildCustomers(Array.from(patternOf, (p, i) => ({ clv: patternValues[p] as number, totalRevenue: values[i] as number, frequency: i % 3 })));

        // Act
        const perPattern = segmentCustomers(table, scores, DEFAULT_SEGMENT_SETTINGS, 20_000, valueCountsByPattern(patternValues, patternOf));
        const perCustomer = segmentCustomers(table, scores, DEFAULT_SEGMENT_SETTINGS, 20_000);

        // Assess
        expect(perPattern).toEqual(perCustomer);
      }),
    );
  });

  it('refuses CLV counts that do not cover the customers', () => {
    const { table, scores } = buildCustomers([{ clv: 1 }, { clv: 2 }]);
    expect(() => segmentCustomers(table, scores, DEFAULT_SEGMENT_SETTINGS, 20_000, valueCountsOfColumn(Float64Array.of(1)))).toThrow(
      new RangeError('segments: the CLV\'s value counts cover 1 customers, not 2'),
    );
  });
});
