import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelSegmentTable, churnTable, CHANNEL_SEGMENT_SCHEMES } from '../../../lambdas/clv-job/domain/acquisition/channel-segments.js';
import { RFM_SEGMENTS } from '../../../lambdas/clv-job/domain/segments/rfm.js';
import { TIER_ORDER } from '../../../lambdas/clv-job/domain/segments/tiers.js';
import { VALUE_LOYALTY_CELLS } from '../../../lambdas/clv-job/domain/segments/value-loyalty.js';
import { segmentsOf } from '../../support/customer-table.js';


describe('the channel x segment map', () => {
  it('lists every channel in every segment of each scheme, with its mix against the overall mix', () => {
    // Prepare: email has 2 of the 4 customers, both high tier; search one high, one low
    const channels = ['email', 'search'];
    const channelOf = [0, 0, 1, 1];
    const clv = Float64Array.from([10, 20, 30, 1]);
    const segments = segmentsOf(
      ['high', 'high', 'high', 'low'],
      ['high_value_high_loyalty', 'high_value_low_loyalty', 'high_value_high_loyalty', 'low_value_low_loyalty'],
      ['Champions', 'Champions', 'Lost', 'Lost'],
    );

    // Act
    const rows = channelSegmentTable(channels, channelOf, clv, segments);

    // Assess
    const tier = rows.filter((r) => r.scheme === 'clv_tier');
    expect(tier).toHaveLength(channels.length * TIER_ORDER.length);
    expect(tier.find((r) => r.channel === 'email' && r.segment === 'high')).toEqual({
      channel: 'email', scheme: 'clv_tier', segment: 'high', customers: 2, equity: 30,
      channel_share: 1, overall_share: 0.75, representation_index: 1 / 0.75,
    });
    expect(tier.find((r) => r.channel === 'search' && r.segment === 'low')).toMatchObject({ customers: 1, equity: 1, channel_share: 0.5, overall_share: 0.25, representation_index: 2 });
    expect(tier.find((r) => r.channel === 'email' && r.segment === 'mid')).toMatchObject({ customers: 0, equity: 0, overall_share: 0, representation_index: null });
    expect(rows.filter((r) => r.scheme === 'rfm')).toHaveLength(channels.length * RFM_SEGMENTS.length);
    expect(rows.filter((r) => r.scheme === 'value_loyalty')).toHaveLength(channels.length * VALUE_LOYALTY_CELLS.length);
  });

  it('adds up, in every scheme, to the customer count and the total equity, and each channel to its own customers', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            channel: fc.integer({ min: 0, max: 3 }),
            clv: fc.double({ min: 0, max: 1e4, noNaN: true }),
            tier: fc.constantFrom(...TIER_ORDER),
            cell: fc.constantFrom(...VALUE_LOYALTY_CELLS),
            rfm: fc.constantFrom(...RFM_SEGMENTS),
          }),
          { maxLength: 200 },
        ),
        (customers) => {
          const channels = ['a', 'b', 'c', 'd'];
          const clv = Float64Array.from(customers, (c) => c.clv);
          const rows = channelSegmentTable(channels, customers.map((c) => c.channel), clv, segmentsOf(customers.map((c) => c.tier), customers.map((c) => c.cell), customers.map((c) => c.rfm)));
          const total = customers.reduce((s, c) => s + c.clv, 0);
          for (const scheme of CHANNEL_SEGMENT_SCHEMES) {
            const of = rows.filter((r) => r.scheme === scheme);
            expect(of.reduce((s, r) => s + r.customers, 0)).toBe(customers.length);
            expect(of.reduce((s, r) => s + r.equity, 0)).toBeCloseTo(total, 6);
            channels.forEach((channel, c) => {
              expect(of.filter((r) => r.channel === channel).reduce((s, r) => s + r.customers, 0)).toBe(customers.filter((x) => x.channel === c).length);
            });
          }
        },
      ),
    );
  });
});

describe('churn by segment', () => {
  it('counts the customers with P(alive) below 0.5 and sums 1 - P(alive) per segment', () => {
    // Prepare
    const p = Float64Array.from([0.9, 0.2, 0.5, 0.1]);
    const segments = segmentsOf(['high', 'high', 'low', 'low'], VALUE_LOYALTY_CELLS.slice(0, 4), ['Champions', 'Lost', 'Lost', 'Lost']);

    // Act
    const rows = churnTable(p, segments);

    // Assess
    expect(rows.find((r) => r.scheme === 'clv_tier' && r.segment === 'high')).toEqual({
      scheme: 'clv_tier', segment: 'high', customers: 2, at_risk_customers: 1, at_risk_share: 0.5, expected_customers_lost: expect.closeTo(0.9, 12) as number,
    });
    // exactly 0.5 is not below 0.5
    expect(rows.find((r) => r.scheme === 'clv_tier' && r.segment === 'low')).toMatchObject({ at_risk_customers: 1, expected_customers_lost: expect.closeTo(1.4, 12) as number });
    expect(rows.find((r) => r.scheme === 'clv_tier' && r.segment === 'mid')).toEqual({
      scheme: 'clv_tier', segment: 'mid', customers: 0, at_risk_customers: 0, at_risk_share: 0, expected_customers_lost: 0,
    });
    expect(rows.find((r) => r.scheme === 'rfm' && r.segment === 'Lost')).toMatchObject({ customers: 3, at_risk_customers: 2 });
  });

  it('gives null risk figures, but still the customers, when the predictive fit was not trusted', () => {
    const rows = churnTable(null, segmentsOf(['high'], ['high_value_high_loyalty'], ['Champions']));
    expect(rows.find((r) => r.scheme === 'clv_tier' && r.segment === 'high')).toEqual({
      scheme: 'clv_tier', segment: 'high', customers: 1, at_risk_customers: null, at_risk_share: null, expected_customers_lost: null,
    });
  });
});
