import { describe, expect, it } from 'vitest';
import { acquisitionEconomics, type AcquisitionInput } from '../../../lambdas/clv-job/domain/acquisition/economics.js';
import { DEFAULT_ACQUISITION_SETTINGS } from '../../../lambdas/clv-job/domain/acquisition/settings.js';
import { judgeSpend } from '../../../lambdas/clv-job/domain/acquisition/spend.js';
import { dayOf } from '../../../lambdas/clv-job/domain/customers.js';
import { buildCustomers } from '../../support/customer-table.js';

/**
 * Channel "a": two customers acquired 2025-01 (revenue 40 + 60 in months 0 and 1, and 50 in month 0;
 * predicted 10 and 30) and one 2025-05 (20 in month 0, predicted 5); as of 2025-06-15 the cohorts are
 * 5 and 1 months old. Margin 0.5. The run's earliest order (of another channel, not listed) is taken
 * to be in 2024-12. Every expected figure below is worked out by hand in the comments.
 */
const inputWith = (spend: string[][] | null): AcquisitionInput => {
  const { table, scores } = buildCustomers([
    { channel: 'a', cohort: '2025-01', totalRevenue: 100, predictedClv: 10, clv: 10, frequency: 1, probabilityAlive: 0.9 },
    { channel: 'a', cohort: '2025-01', totalRevenue: 50, predictedClv: 30, clv: 30, frequency: 0, probabilityAlive: 0.3 },
    { channel: 'a', cohort: '2025-05', totalRevenue: 20, predictedClv: 5, clv: 5, frequency: 0, probabilityAlive: 0.6 },
  ]);
  return {
    table,
    scores,
    segments: { clvTier: ['mid', 'high', 'low'], valueLoyalty: null, rfmR: null, rfmF: null, rfmM: null, rfmScore: null, rfmSegment: null },
    months: [
      { channel: 'a', cohort: '2025-01', ageMonth: 0, revenue: 90, firstRepeats: 0, firstDayRevenue: 90 },
      { channel: 'a', cohort: '2025-01', ageMonth: 1, revenue: 60, firstRepeats: 1, firstDayRevenue: 0 },
      { channel: 'a', cohort: '2025-05', ageMonth: 0, revenue: 20, firstRepeats: 0, firstDayRevenue: 20 },
    ],
    spend:
      spend === null
        ? null
        : judgeSpend(
            spend.map(([channel, month, amount], i) => ({ source: 's.csv', line: i + 2, text: '', wellFormed: true, channel: channel ?? null, month: month ?? null, spend: amount ?? null })),
            { asOfMonth: '2025-06', firstOrderMonth: '2024-12' },
          ),
    margin: 0.5,
    asOfDay: dayOf('2025-06-15'),
    missingLabel: '(none)',
    settings: DEFAULT_ACQUISITION_SETTINGS,
  };
};

describe('the value of an acquired customer', () => {
  it('adds margin x realised revenue to predicted CLV per customer acquired, with fixed-age values over complete months only', () => {
    const { summary } = acquisitionEconomics(inputWith(null));

    expect(summary.acquisition).toEqual([
      {
        channel: 'a',
        customers_acquired: 3,
        realised_value_per_customer: (0.5 * 170) / 3,
        predicted_clv_per_customer: 45 / 3,
        ltv_per_customer: (0.5 * 170) / 3 + 15,
        repeat_rate: 1 / 3,
        // only 2025-01 is 3 months old: (90 + 60) / 2 customers
        value_3m: 75,
        value_6m: null,
        value_12m: null,
        repeat_rate_3m: 0.5,
        first_cohort: '2025-01',
        last_cohort: '2025-05',
        mean_age_months: (2 * 5 + 1) / 3,
      },
    ]);
    expect(summary.acquisition_cohorts.map((r) => [r.cohort, r.age_months, r.value_3m, r.customers_acquired])).toEqual([
      ['2025-01', 5, 75, 2],
      ['2025-05', 1, null, 1],
    ]);
  });

  it('gives CAC, LTV:CAC and the payback month (months until margin x cumulative revenue per customer reaches CAC)', () => {
    const { summary, warnings } = acquisitionEconomics(inputWith([['a', '2025-01', '60'], ['a', '2025-05', '10']]));
    const channel = summary.acquisition[0];

    // CAC 70 / 3; month 0 of both cohorts: 0.5 x 110 / 3 = 18.33 < 23.33; month 1 (2025-01 only): + 0.5 x 60 / 2 = 33.33
    expect(channel).toMatchObject({ spend: 70, cac: 70 / 3, payback_months: 2, below_ltv_to_cac_line: true, ltv_to_cac_falling: false });
    expect(channel?.ltv_to_cac).toBeCloseTo(((0.5 * 170) / 3 + 15) / (70 / 3), 14);
    // 2025-01: CAC 30, 0.5 x 90 / 2 = 22.5 in month 0, + 15 = 37.5 in month 1; 2025-05: CAC 10, reached in month 0
    expect(summary.acquisition_cohorts.map((r) => [r.cohort, r.cac, r.payback_months])).toEqual([
      ['2025-01', 30, 2],
      ['2025-05', 10, 1],
    ]);
    expect(warnings.map((w) => w.code)).toEqual(['ltv_to_cac_below_line']);
    expect(warnings[0]?.message).toBe('a: an acquired customer is worth 1.86 times what it cost (LTV 43.33, CAC 23.33), below the line of 3');
  });

  it('charges a channel its spend in months it acquired nobody inside the run\'s window, before its first customer or between two', () => {
    // 2024-12 (before a's first customer, after the run's first order) and 2025-03 (between its cohorts) count: CAC (60 + 30 + 10) / 3
    const { summary } = acquisitionEconomics(inputWith([['a', '2024-12', '60'], ['a', '2025-03', '30'], ['a', '2025-05', '10']]));
    expect(summary.acquisition[0]).toMatchObject({ spend: 100, cac: 100 / 3, first_cohort: '2025-01' });
    expect(summary.acquisition_cohorts.map((r) => [r.cohort, r.customers_acquired, r.spend, r.cac])).toEqual([
      ['2024-12', 0, 60, null],
      ['2025-01', 2, null, null],
      ['2025-03', 0, 30, null],
      ['2025-05', 1, 10, 10],
    ]);
  });

  it('charges no spend dated after the as-of month or before the run\'s first order to CAC', () => {
    // 2025-07 lies after the as-of month 2025-06 and 2024-11 before the first order: CAC 10 / 3 from 2025-05 alone
    const { summary } = acquisitionEconomics(inputWith([['a', '2025-07', '900'], ['a', '2024-11', '500'], ['a', '2025-05', '10']]));
    expect(summary.acquisition[0]).toMatchObject({ spend: 10, cac: 10 / 3 });
    expect(summary.acquisition_cohorts.map((r) => r.cohort)).toEqual(['2025-01', '2025-05']);
  });

  it('pays back in the month the realised value reaches CAC exactly, whatever the last bits of the sums', () => {
    // CAC 100 / 3 = 33.333333333333336; month 0: 0.5 x 110 / 3, month 1: + 0.5 x 60 / 2, which sums to 33.33333333333333
    const { summary } = acquisitionEconomics(inputWith([['a', '2025-01', '100']]));

    expect(summary.acquisition[0]).toMatchObject({ cac: 100 / 3, payback_months: 2 });
  });

  it('has no payback month while the realised value stays below CAC in the complete months', () => {
    const { summary } = acquisitionEconomics(inputWith([['a', '2025-01', '1000']]));
    expect(summary.acquisition_cohorts[0]).toMatchObject({ cohort: '2025-01', cac: 500, payback_months: null });
    // 2025-05 acquired customers in a month without spend: no CAC for that month
    expect(summary.acquisition_cohorts[1]).toMatchObject({ cohort: '2025-05', spend: null, cac: null, ltv_to_cac: null, payback_months: null });
  });

  it('with a spend input that held no file, gives exactly the run without spend plus one warning naming where', () => {
    const without = acquisitionEconomics(inputWith(null));
    const missing = acquisitionEconomics({ ...inputWith(null), spendMissingAt: 's3://b/spend/' });

    expect(missing.summary).toEqual(without.summary);
    expect(missing.warnings).toEqual([
      ...without.warnings,
      expect.objectContaining({ code: 'spend_input_missing', metric: 'spend_input.sources', current: 0, message: expect.stringContaining('s3://b/spend/') as string }),
    ]);
  });

  it('with a spend input that holds a header and no row, warns that no channel has a CAC', () => {
    const headerOnly = acquisitionEconomics(inputWith([]));

    expect(headerOnly.warnings).toContainEqual(
      expect.objectContaining({ code: 'spend_input_missing', metric: 'spend_input.input_rows', current: 0, message: expect.stringContaining('no spend row') as string }),
    );
    expect(acquisitionEconomics(inputWith([['a', '2025-01', '100']])).warnings.map((w) => w.code)).not.toContain('spend_input_missing');
  });

  it('counts churn risk per segment from P(alive)', () => {
    const { summary } = acquisitionEconomics(inputWith(null));
    expect(summary.churn.find((r) => r.segment === 'high')).toMatchObject({ customers: 1, at_risk_customers: 1, expected_customers_lost: expect.closeTo(0.7, 12) as number });
  });
});

describe('payback over the months complete on the as-of date', () => {
  /**
   * One customer of channel "b" with revenue 4, 3 and 5 in months of age 0, 1 and 2 of its cohort,
   * margin 1, spend 10 in its acquisition month: CAC 10; cumulative revenue 4, 7, 12, so CAC is
   * covered in the third month (payback 3) once that month is complete, and not before.
   */
  const input = (cohort: string, asOf: string): AcquisitionInput => {
    const { table, scores } = buildCustomers([{ channel: 'b', cohort, totalRevenue: 12, predictedClv: 0, clv: 0, frequency: 2 }]);
    return {
      table,
      scores,
      segments: { clvTier: ['mid'], valueLoyalty: null, rfmR: null, rfmF: null, rfmM: null, rfmScore: null, rfmSegment: null },
      months: [4, 3, 5].map((revenue, ageMonth) => ({ channel: 'b', cohort, ageMonth, revenue, firstRepeats: ageMonth === 1 ? 1 : 0, firstDayRevenue: ageMonth === 0 ? 4 : 0 })),
      spend: judgeSpend([{ source: 's.csv', line: 2, text: '', wellFormed: true, channel: 'b', month: cohort, spend: '10' }], { asOfMonth: asOf.slice(0, 7), firstOrderMonth: cohort }),
      margin: 1,
      asOfDay: dayOf(asOf),
      missingLabel: '(none)',
      settings: DEFAULT_ACQUISITION_SETTINGS,
    };
  };

  it.each([
    ['the last day of May completes May', '2025-03', '2025-05-31', 3],
    ['with May 31 still to come, May is not complete', '2025-03', '2025-05-30', null],
    ['February 29 ends a leap year\'s February', '2023-12', '2024-02-29', 3],
    ['February 28 of a leap year leaves a day to come', '2023-12', '2024-02-28', null],
    ['February 28 ends a common year\'s February', '2024-12', '2025-02-28', 3],
    ['December 31 ends the year', '2025-10', '2025-12-31', 3],
    ['the first day of the next month adds nothing beyond the month just ended', '2025-03', '2025-06-01', 3],
  ] as const)('%s (cohort %s as of %s: payback %s)', (_, cohort, asOf, payback) => {
    const { summary } = acquisitionEconomics(input(cohort, asOf));
    expect(summary.acquisition_cohorts).toEqual([expect.objectContaining({ cohort, cac: 10, payback_months: payback })]);
    expect(summary.acquisition[0]).toMatchObject({ cac: 10, payback_months: payback });
  });

  it.each([
    ['2025-10', '2025-12-31', 12, 1],
    ['2025-10', '2025-12-30', null, null],
    ['2023-12', '2024-02-29', 12, 1],
    ['2023-12', '2024-02-28', null, null],
    ['2025-03', '2025-06-01', 12, 1],
  ] as const)('counts cohort %s as of %s in the 3-month value only once its first 3 months are complete (value_3m %s, repeat_rate_3m %s)', (cohort, asOf, value3m, repeat3m) => {
    // revenue 4 + 3 + 5 in months of age 0..2 by one customer, who came back in month 1
    const { summary } = acquisitionEconomics(input(cohort, asOf));
    expect(summary.acquisition[0]).toMatchObject({ value_3m: value3m, repeat_rate_3m: repeat3m, value_6m: null });
    expect(summary.acquisition_cohorts[0]).toMatchObject({ value_3m: value3m, repeat_rate_3m: repeat3m });
  });

  it('keeps age_months the calendar months from the cohort to the as-of month, whether or not that month is complete', () => {
    const ages = ['2025-05-30', '2025-05-31', '2025-06-01'].map((asOf) => acquisitionEconomics(input('2025-03', asOf)).summary.acquisition_cohorts[0]?.age_months);
    expect(ages).toEqual([2, 2, 3]);
  });
});

describe('channel diagnostics', () => {
  /**
   * Three channels of 10 customers each, all acquired 2025-01 (5 months old as of 2025-06-15), every
   * repeat in the month after acquisition (within 3 months):
   * - "steady": first order 50, 5 of 10 come back (2 orders each, 100 revenue);
   * - "gap": first order 80 (above 50 x 1.1), 1 of 10 comes back: a conversion gap;
   * - "mismatch": first order 20, 1 of 10 comes back: low average order value and low repeat rate.
   * Overall 3-month repeat rate 7/30; overall first-order value 50; overall AOV = revenue / orders.
   */
  const channel = (name: string, first: number, repeaters: number) =>
    Array.from({ length: 10 }, (_, i) => ({ channel: name, cohort: '2025-01', frequency: i < repeaters ? 1 : 0, totalRevenue: i < repeaters ? 2 * first : first, predictedClv: 0, clv: 0 }));
  const specs = [...channel('steady', 50, 5), ...channel('gap', 80, 1), ...channel('mismatch', 20, 1)];
  const input = (): AcquisitionInput => {
    const { table, scores } = buildCustomers(specs);
    const months = ['steady', 'gap', 'mismatch'].map((name) => {
      const rows = specs.filter((c) => c.channel === name);
      const first = rows[0]!.totalRevenue / (rows[0]!.frequency + 1);
      const repeaters = rows.filter((c) => c.frequency > 0).length;
      return [
        { channel: name, cohort: '2025-01', ageMonth: 0, revenue: first * rows.length, firstRepeats: 0, firstDayRevenue: first * rows.length },
        { channel: name, cohort: '2025-01', ageMonth: 1, revenue: first * repeaters, firstRepeats: repeaters, firstDayRevenue: 0 },
      ];
    }).flat();
    return {
      table,
      scores,
      segments: { clvTier: specs.map(() => 'mid' as const), valueLoyalty: null, rfmR: null, rfmF: null, rfmM: null, rfmScore: null, rfmSegment: null },
      months,
      spend: null,
      margin: 1,
      asOfDay: dayOf('2025-06-15'),
      missingLabel: '(none)',
      settings: { ...DEFAULT_ACQUISITION_SETTINGS, minCustomers: 10 },
    };
  };

  it('names a conversion gap and an audience mismatch in plain words, and nothing for the steady channel', () => {
    const { warnings } = acquisitionEconomics(input());

    expect(warnings.map((w) => [w.code, w.metric])).toEqual([
      ['conversion_gap', 'acquisition[gap].repeat_rate_3m'],
      ['audience_mismatch', 'acquisition[mismatch].average_order_value'],
    ]);
    expect(warnings[0]?.message).toBe(
      'gap: conversion gap: its customers spend more on their first order (80.00 against 50.00 overall) but fewer come back within 3 months (10.0% against 23.3%, cohorts at least 3 months old)',
    );
    expect(warnings[1]?.message).toMatch(/^mismatch: audience mismatch: its customers order less \(average order 20\.00 against /);
  });

  it('judges no channel too young for a 3-month repeat rate, however few of its customers came back yet', () => {
    // the same customers as of 2025-03-15: the 2025-01 cohort is 2 months old, younger than 3
    const { warnings } = acquisitionEconomics({ ...input(), asOfDay: dayOf('2025-03-15') });
    expect(warnings.filter((w) => w.code === 'conversion_gap' || w.code === 'audience_mismatch')).toEqual([]);
  });

  it('says nothing about channels smaller than the configured minimum', () => {
    const { warnings } = acquisitionEconomics({ ...input(), settings: { ...DEFAULT_ACQUISITION_SETTINGS, minCustomers: 11 } });
    expect(warnings).toEqual([]);
  });
});
