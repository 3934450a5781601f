import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RFM_SEGMENTS, rfmColumns, rfmScoreText, rfmSegment, rfmTextColumns } from '../../../lambdas/clv-job/domain/segments/rfm.js';
import { buildCustomers } from '../../support/customer-table.js';
import { quintileScores } from '../../support/sorted-column.js';

const ALL_SCORES = Array.from({ length: 125 }, (_, k) => ({ r: Math.floor(k / 25) + 1, f: (Math.floor(k / 5) % 5) + 1, m: (k % 5) + 1 }));

describe('RFM segments', () => {
  it('give every one of the 125 score combinations exactly one named segment', () => {
    // Act
    const segments = ALL_SCORES.map(({ r, f, m }) => rfmSegment(r, f, m));

    // Assess
    expect(segments).toHaveLength(125);
    for (const segment of segments) expect(RFM_SEGMENTS).toContain(segment);
  });

  it('reach every named segment from some score combination', () => {
    // Act
    const reached = new Set(ALL_SCORES.map(({ r, f, m }) => rfmSegment(r, f, m)));

    // Assess
    expect([...reached].sort()).toEqual([...RFM_SEGMENTS].sort());
  });

  it.each([
    { score: '555', segment: 'Champions' },
    { score: '541', segment: 'Champions' },
    { score: '445', segment: 'Loyal Customers' },
    { score: '355', segment: 'Loyal Customers' },
    { score: '522', segment: 'Potential Loyalist' },
    { score: '435', segment: 'Potential Loyalist' },
    { score: '515', segment: 'New Customers' },
    { score: '411', segment: 'Promising' },
    { score: '333', segment: 'Need Attention' },
    { score: '321', segment: 'About To Sleep' },
    { score: '243', segment: 'At Risk' },
    { score: '131', segment: 'At Risk' },
    { score: '155', segment: "Can't Lose Them" },
    { score: '251', segment: "Can't Lose Them" },
    { score: '222', segment: 'Hibernating' },
    { score: '125', segment: 'Hibernating' },
    { score: '111', segment: 'Lost' },
    { score: '115', segment: 'Lost' },
  ])('put the scores $score in $segment (R x F grid)', ({ score, segment }) => {
    // Prepare
    const [r, f, m] = [...score].map(Number) as [number, number, number];

    // Act, Assess
    expect(rfmSegment(r, f, m)).toBe(segment);
  });

  // The documented R x F grid (module doc of domain/segments/rfm.ts and README "RFM"), row by row
  // from R 5 down, F 1 to 5, written out here rather than read from RFM_GRID.
  const DOCUMENTED_GRID: readonly (readonly [r: number, f: number, segment: string])[] = [
    [5, 1, 'New Customers'], [5, 2, 'Potential Loyalist'], [5, 3, 'Potential Loyalist'], [5, 4, 'Champions'], [5, 5, 'Champions'],
    [4, 1, 'Promising'], [4, 2, 'Potential Loyalist'], [4, 3, 'Potential Loyalist'], [4, 4, 'Loyal Customers'], [4, 5, 'Loyal Customers'],
    [3, 1, 'About To Sleep'], [3, 2, 'About To Sleep'], [3, 3, 'Need Attention'], [3, 4, 'Loyal Customers'], [3, 5, 'Loyal Customers'],
    [2, 1, 'Hibernating'], [2, 2, 'Hibernating'], [2, 3, 'At Risk'], [2, 4, 'At Risk'], [2, 5, "Can't Lose Them"],
    [1, 1, 'Lost'], [1, 2, 'Hibernating'], [1, 3, 'At Risk'], [1, 4, 'At Risk'], [1, 5, "Can't Lose Them"],
  ];

  it('cover the 25 cells of the documented grid exactly once', () => {
    const cells = new Set(DOCUMENTED_GRID.map(([r, f]) => `${r}${f}`));
    expect(cells.size).toBe(25);
  });

  it.each(DOCUMENTED_GRID)('put R %i F %i in %s, whatever the monetary score', (r, f, segment) => {
    // The monetary score does not move customers between segments (module doc), so every M agrees.
    for (const m of [1, 2, 3, 4, 5]) expect(rfmSegment(r, f, m)).toBe(segment);
  });

  it('refuse scores outside 1-5', () => {
    expect(() => rfmSegment(0, 3, 3)).toThrow(RangeError);
    expect(() => rfmSegment(3, 6, 3)).toThrow(RangeError);
  });

  it('write the score as three digits, recency first', () => {
    expect(rfmScoreText(5, 4, 5)).toBe('545');
  });
});

describe('RFM quintile scores', () => {
  it.each([
    { values: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], scores: [1, 1, 2, 2, 3, 3, 4, 4, 5, 5] },
    { values: [5, 4, 3, 2, 1], scores: [5, 4, 3, 2, 1] },
    { values: [1, 2, 3], scores: [1, 2, 4] },
    { values: [1, 1, 1, 2, 3, 4, 5, 6, 7, 8], scores: [1, 1, 1, 2, 3, 3, 4, 4, 5, 5] },
    { values: [0, 0, 0, 0, 0, 0, 1, 2, 3, 4], scores: [1, 1, 1, 1, 1, 1, 4, 4, 5, 5] },
    { values: [9, 9, 9, 9, 9], scores: [3, 3, 3, 3, 3] },
    { values: [42], scores: [3] },
    { values: [], scores: [] },
  ])('score $values as $scores (1 + quintile of the share strictly lower; ties equal)', ({ values, scores }) => {
    // Act
    const result = quintileScores(Float64Array.from(values));

    // Assess
    expect(Array.from(result)).toEqual(scores);
  });

  it('give equal values equal scores and never score a better value lower, for any column', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 60 }), (xs) => {
        const values = Float64Array.from(xs);
        const scores = quintileScores(values);
        for (let i = 0; i < xs.length; i += 1) {
          expect(scores[i]).toBeGreaterThanOrEqual(1);
          expect(scores[i]).toBeLessThanOrEqual(5);
          for (let j = 0; j < xs.length; j += 1) {
            if ((xs[i] as number) === (xs[j] as number)) expect(scores[i]).toBe(scores[j]);
            if ((xs[i] as number) > (xs[j] as number)) expect(scores[i] as number).toBeGreaterThanOrEqual(scores[j] as number);
          }
        }
      }),
    );
  });
});

describe('RFM columns', () => {
  it('score recency on days since the last purchase (tenure - recency), most recent 5', () => {
    // Prepare
    const { table } = buildCustomers([0, 10, 20, 30, 40].map((days) => ({ daysSinceLastPurchase: days, frequency: 1 })));

    // Act
    const rfm = rfmColumns(table, { monetary: 'total_revenue' });

    // Assess
    expect(Array.from(rfm.r)).toEqual([5, 4, 3, 2, 1]);
  });

  it('score every one-time buyer F = 1, even when they are most customers', () => {
    // Prepare
    const { table } = buildCustomers([0, 0, 0, 0, 0, 0, 0, 1, 2, 5].map((frequency) => ({ frequency })));

    // Act
    const rfm = rfmColumns(table, { monetary: 'total_revenue' });

    // Assess
    expect(Array.from(rfm.f)).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 3, 4]);
  });

  it.each([
    { frequencies: [0, 1, 2, 3, 4, 5, 6, 7, 8], scores: [1, 2, 2, 3, 3, 4, 4, 5, 5] },
    { frequencies: [0, 0, 3, 3, 3], scores: [1, 1, 3, 3, 3] },
    { frequencies: [2, 2, 9, 9], scores: [2, 2, 4, 4] },
  ])('score repeat buyers 2-5 by quartile among repeat buyers: $frequencies as $scores', ({ frequencies, scores }) => {
    // Prepare
    const { table } = buildCustomers(frequencies.map((frequency) => ({ frequency })));

    // Act
    const rfm = rfmColumns(table, { monetary: 'total_revenue' });

    // Assess
    expect(Array.from(rfm.f)).toEqual(scores);
  });

  it('score a lone customer as average, except that a one-time buyer stays F = 1', () => {
    // Prepare
    const { table } = buildCustomers([{ frequency: 0 }]);

    // Act
    const rfm = rfmColumns(table, { monetary: 'total_revenue' });
    const text = rfmTextColumns(rfm);

    // Assess
    expect([text.score[0], text.segment[0]]).toEqual(['313', 'About To Sleep']);
  });

  it.each([
    { monetary: 'total_revenue' as const, expected: [1, 2, 4] },
    { monetary: 'avg_order_value' as const, expected: [4, 2, 1] },
  ])('score monetary on $monetary', ({ monetary, expected }) => {
    // Prepare
    const { table } = buildCustomers([
      { totalRevenue: 100, avgOrderValue: 90 },
      { totalRevenue: 200, avgOrderValue: 50 },
      { totalRevenue: 300, avgOrderValue: 10 },
    ]);

    // Act
    const rfm = rfmColumns(table, { monetary });

    // Assess
    expect(Array.from(rfm.m)).toEqual(expected);
  });

  it('name a recent, frequent, big spender a Champion and a one-time buyer long gone Lost', () => {
    // Prepare
    const { table } = buildCustomers([
      { daysSinceLastPurchase: 1, frequency: 9, totalRevenue: 900 },
      { daysSinceLastPurchase: 300, frequency: 0, totalRevenue: 10 },
      { daysSinceLastPurchase: 50, frequency: 3, totalRevenue: 300 },
      { daysSinceLastPurchase: 100, frequency: 2, totalRevenue: 200 },
      { daysSinceLastPurchase: 200, frequency: 1, totalRevenue: 100 },
    ]);

    // Act
    const text = rfmTextColumns(rfmColumns(table, { monetary: 'total_revenue' }));

    // Assess
    expect(text.score[0]).toBe('555');
    expect(text.segment[0]).toBe('Champions');
    expect(text.score[1]).toBe('111');
    expect(text.segment[1]).toBe('Lost');
  });
});
