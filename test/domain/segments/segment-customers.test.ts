import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayOf } from '../../../lambdas/clv-job/domain/customers.js';
import { segmentCustomers } from '../../../lambdas/clv-job/domain/segments/segment-customers.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../../lambdas/clv-job/domain/segments/settings.js';
import { segmentSummarySchema, type SegmentSummary } from '../../../lambdas/clv-job/schemas/summary-segments.js';
import { buildCustomers, type CustomerSpec } from '../../support/customer-table.js';

const AS_OF = dayOf('2024-06-30');
const SETTINGS = DEFAULT_SEGMENT_SETTINGS;

/** Rows of every scheme that must each cover every customer exactly once. */
const schemes = (summary: SegmentSummary) =>
  ({
    clv_tiers: summary.clv_tiers,
    value_loyalty: summary.value_loyalty,
    rfm: summary.rfm,
    channels: summary.channels,
    cohorts: summary.cohorts,
  }) as const;

/** Every number anywhere in a value. */
const numbersIn = (value: unknown): number[] =>
  typeof value === 'number'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(numbersIn)
      : value !== null && typeof value === 'object'
        ? Object.values(value).flatMap(numbersIn)
        : [];

const customer: fc.Arbitrary<CustomerSpec> = fc
  .record({
    clv: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 }).map((x) => x * 25), fc.double({ min: 0, max: 1e5, noNaN: true })),
    probabilityAlive: fc.double({ min: 0, max: 1, noNaN: true }),
    channel: fc.constantFrom('web', 'email', 'store', null),
    cohort: fc.constantFrom('2023-01', '2023-07', '2024-02'),
    frequency: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
    tenureDays: fc.integer({ min: 0, max: 900 }),
    recencyShare: fc.double({ min: 0, max: 1, noNaN: true }),
    totalRevenue: fc.double({ min: 0, max: 1e4, noNaN: true }),
  })
  .map(({ recencyShare, ...c }) => ({ ...c, recencyDays: c.frequency === 0 ? 0 : Math.floor(recencyShare * c.tenureDays) }));

describe('segmentCustomers', () => {
  it('gives every customer a tier, a value x loyalty cell and RFM scores and segment', () => {
    // Prepare
    const { table, scores } = buildCustomers([
      { clv: 900, frequency: 9, daysSinceLastPurchase: 2, totalRevenue: 2_000, probabilityAlive: 0.95, channel: 'email' },
      { clv: 10, frequency: 0, daysSinceLastPurchase: 300, totalRevenue: 15, probabilityAlive: 0.1, channel: null },
      { clv: 300, frequency: 2, daysSinceLastPurchase: 40, totalRevenue: 400, probabilityAlive: 0.7, channel: 'web' },
      { clv: 200, frequency: 1, daysSinceLastPurchase: 90, totalRevenue: 150, probabilityAlive: 0.3, channel: 'web' },
      { clv: 50, frequency: 0, daysSinceLastPurchase: 10, totalRevenue: 50, probabilityAlive: 0.9, channel: 'email' },
    ]);

    // Act
    const { columns } = segmentCustomers(table, scores, SETTINGS, AS_OF);

    // Assess
    expect(columns.clvTier).toEqual(['high', 'low', 'mid', 'mid', 'mid']);
    expect(columns.valueLoyalty).toEqual([
      'high_value_high_loyalty',
      'low_value_low_loyalty',
      'high_value_high_loyalty',
      'high_value_low_loyalty',
      'low_value_low_loyalty',
    ]);
    expect(columns.rfmScore).toEqual(['545', '111', '334', '223', '412']);
    expect(columns.rfmSegment).toEqual(['Champions', 'Lost', 'Need Attention', 'Hibernating', 'Promising']);
    expect(Array.from(columns.rfmR ?? [])).toEqual([5, 1, 3, 2, 4]);
  });

  it('lists every segment of each scheme in a fixed order, empty ones included, with their actions', () => {
    // Prepare
    const { table, scores } = buildCustomers([{ clv: 1, frequency: 1 }]);

    // Act
    const { summary } = segmentCustomers(table, scores, SETTINGS, AS_OF);

    // Assess
    expect(summary.clv_tiers.map((r) => r.segment)).toEqual(['high', 'mid', 'low']);
    expect(summary.value_loyalty).toHaveLength(4);
    expect(summary.rfm).toHaveLength(11);
    expect(summary.value_loyalty[0]?.actions).toEqual([...SETTINGS.actions.valueLoyalty.high_value_high_loyalty]);
  });

  it('still segments everyone when the predictive fit failed (no P(alive))', () => {
    // Prepare
    const { table, scores } = buildCustomers(
      [
        { clv: 100, frequency: 3, daysSinceLastPurchase: 5 },
        { clv: 50, frequency: 3, daysSinceLastPurchase: 400 },
      ],
      { predictive: false },
    );

    // Act
    const { columns, summary } = segmentCustomers(table, scores, SETTINGS, AS_OF);

    // Assess
    expect(columns.valueLoyalty).toEqual(['high_value_high_loyalty', 'low_value_low_loyalty']);
    expect(summary.channels[0]?.mean_probability_alive).toBeNull();
    expect(summary.cohorts[0]?.mean_probability_alive).toBeNull();
  });

  it.each([
    { case: 'no customers', customers: [] },
    { case: 'a single customer', customers: [{ clv: 10, frequency: 2 }] },
    { case: 'all CLV zero', customers: [{ clv: 0 }, { clv: 0 }, { clv: 0, frequency: 3 }] },
    { case: 'all customers equal', customers: Array.from({ length: 7 }, () => ({ clv: 5, frequency: 1, totalRevenue: 9 })) },
  ])('produces finite numbers and a valid summary for $case', ({ customers }) => {
    // Prepare
    const { table, scores } = buildCustomers(customers);

    // Act
    const { summary } = segmentCustomers(table, scores, SETTINGS, AS_OF);

    // Assess
    expect(numbersIn(summary).every(Number.isFinite)).toBe(true);
    expect(segmentSummarySchema.parse(summary)).toEqual(summary);
  });

  it('never splits customers whose values are one number held as doubles a rounding apart (tier, value x loyalty, RFM M)', () => {
    // two customers of CLV 77.97, one of them as 25.99 / 3 x 3 x 3 = 77.96999999999998 (no rule may see
    // it as lower); average order values 5.10 and 15.30 / 3 = 5.1000000000000005 (none may see it higher)
    const spread = 77.97 - (25.99 / 3) * 3 * 3;
    expect(spread).toBeGreaterThan(0);
    const others = Array.from({ length: 7 }, (_, i) => ({ clv: 10, avgOrderValue: 2 + i / 10 }));
    const { table, scores } = buildCustomers([{ clv: 100, avgOrderValue: 9 }, { clv: 77.97, avgOrderValue: 5.1 }, { clv: (25.99 / 3) * 3 * 3, avgOrderValue: 15.3 / 3 }, ...others]);
    const settings = { ...SETTINGS, rfm: { ...SETTINGS.rfm, monetary: 'avg_order_value' as const } };

    const { columns } = segmentCustomers(table, scores, settings, AS_OF);

    // ten customers, the top 20% is two: the pair's middle member is the second, inside
    expect(columns.clvTier.slice(0, 3)).toEqual(['high', 'high', 'high']);
    expect(columns.valueLoyalty?.[1]).toBe(columns.valueLoyalty?.[2]);
    expect(columns.rfmM?.[1]).toBe(columns.rfmM?.[2]);
  });

  it('leaves its inputs untouched', () => {
    // Prepare
    const { table, scores } = buildCustomers([{ clv: 3, totalRevenue: 1 }, { clv: 1, totalRevenue: 3 }, { clv: 2, totalRevenue: 2 }]);
    const before = JSON.stringify([Array.from(scores.rankingClv), Array.from(table.totalRevenue), Array.from(table.frequency)]);

    // Act
    segmentCustomers(table, scores, SETTINGS, AS_OF);

    // Assess
    expect(JSON.stringify([Array.from(scores.rankingClv), Array.from(table.totalRevenue), Array.from(table.frequency)])).toBe(before);
  });
});

describe('segmentCustomers, for any customers', () => {
  const customers = fc.array(customer, { maxLength: 60 });
  const predictive = fc.boolean();

  it('puts every customer in exactly one row of each scheme, the rows adding up to the customers and the equity', () => {
    fc.assert(
      fc.property(customers, predictive, (specs, fit) => {
        const { table, scores } = buildCustomers(specs, { predictive: fit });
        const { columns, summary } = segmentCustomers(table, scores, SETTINGS, AS_OF);
        const equity = specs.reduce((s, c) => s + (c.clv ?? 0), 0);
        for (const rows of Object.values(schemes(summary))) {
          expect(rows.reduce((s, r) => s + r.customers, 0)).toBe(specs.length);
          expect(rows.reduce((s, r) => s + r.equity, 0)).toBeCloseTo(equity, 6);
          if (specs.length > 0) expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 9);
          if (equity > 0) expect(rows.reduce((s, r) => s + r.equity_share, 0)).toBeCloseTo(1, 9);
        }
        // Per-customer columns agree with the tables.
        const tally = (values: readonly string[]) => values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>());
        const tiers = tally(columns.clvTier);
        for (const r of summary.clv_tiers) expect(tiers.get(r.segment) ?? 0).toBe(r.customers);
        const rfm = tally(columns.rfmSegment ?? []);
        for (const r of summary.rfm) expect(rfm.get(r.segment) ?? 0).toBe(r.customers);
        const cells = tally(columns.valueLoyalty ?? []);
        for (const r of summary.value_loyalty) expect(cells.get(r.segment) ?? 0).toBe(r.customers);
      }),
      { numRuns: 150 },
    );
  });

  it('produce only finite numbers and a summary the schema accepts', () => {
    fc.assert(
      fc.property(customers, predictive, (specs, fit) => {
        const { table, scores } = buildCustomers(specs, { predictive: fit });
        const { summary } = segmentCustomers(table, scores, SETTINGS, AS_OF);
        expect(numbersIn(summary).every(Number.isFinite)).toBe(true);
        segmentSummarySchema.parse(summary);
      }),
      { numRuns: 100 },
    );
  });

  it('do not depend on the order of the rows', () => {
    fc.assert(
      fc.property(customers, fc.integer(), (specs, seed) => {
        const ids = specs.map((c, i) => ({ ...c, id: `id${i}` }));
        // A deterministic shuffle from the seed.
        const shuffled = [...ids].sort((a, b) => (((Number(a.id.slice(2)) * 2654435761) ^ seed) >>> 0) - (((Number(b.id.slice(2)) * 2654435761) ^ seed) >>> 0));
        const byId = (list: CustomerSpec[]) => {
          const { table, scores } = buildCustomers(list);
          const { columns } = segmentCustomers(table, scores, SETTINGS, AS_OF);
          return new Map(table.customerId.map((id, i) => [id, `${columns.clvTier[i]} ${columns.valueLoyalty?.[i]} ${columns.rfmScore?.[i]}`]));
        };
        expect(byId(shuffled)).toEqual(byId(ids));
      }),
      { numRuns: 60 },
    );
  });
});
