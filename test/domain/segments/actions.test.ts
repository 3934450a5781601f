import { describe, expect, it } from 'vitest';
import { DEFAULT_ACTIONS, mergeActions } from '../../../lambdas/clv-job/domain/segments/actions.js';
import { RFM_SEGMENTS } from '../../../lambdas/clv-job/domain/segments/rfm.js';
import { TIER_ORDER } from '../../../lambdas/clv-job/domain/segments/tiers.js';
import { VALUE_LOYALTY_CELLS } from '../../../lambdas/clv-job/domain/segments/value-loyalty.js';

describe('recommended actions', () => {
  it.each([
    ...TIER_ORDER.map((segment) => ({ scheme: 'clvTiers' as const, segment })),
    ...VALUE_LOYALTY_CELLS.map((segment) => ({ scheme: 'valueLoyalty' as const, segment })),
    ...RFM_SEGMENTS.map((segment) => ({ scheme: 'rfm' as const, segment })),
  ])('recommend at least one action by default for $scheme $segment', ({ scheme, segment }) => {
    // Act
    const actions = (DEFAULT_ACTIONS[scheme] as Record<string, readonly string[]>)[segment];

    // Assess
    expect(actions?.length ?? 0).toBeGreaterThan(0);
  });

  it.each([
    { cell: 'high_value_high_loyalty', seed: /exclusive offers/i },
    { cell: 'high_value_high_loyalty', seed: /ambassador/i },
    { cell: 'high_value_low_loyalty', seed: /proactive account management/i },
    { cell: 'high_value_low_loyalty', seed: /loyalty incentives/i },
    { cell: 'low_value_high_loyalty', seed: /automated, low-cost retention/i },
    { cell: 'low_value_low_loyalty', seed: /minimal investment/i },
    { cell: 'low_value_low_loyalty', seed: /conversion focus/i },
  ] as const)('recommend $seed for $cell, as the product seeds it', ({ cell, seed }) => {
    expect(DEFAULT_ACTIONS.valueLoyalty[cell].some((a) => seed.test(a))).toBe(true);
  });

  it('replace the whole list of an overridden segment and keep every other default', () => {
    // Act
    const merged = mergeActions(DEFAULT_ACTIONS, { rfm: { Lost: ['Do nothing'] }, clvTiers: { high: ['Call them'] } });

    // Assess
    expect(merged.rfm.Lost).toEqual(['Do nothing']);
    expect(merged.clvTiers.high).toEqual(['Call them']);
    expect(merged.rfm.Champions).toEqual(DEFAULT_ACTIONS.rfm.Champions);
    expect(merged.valueLoyalty).toEqual(DEFAULT_ACTIONS.valueLoyalty);
  });

  it('ignore an override left undefined rather than erase the default', () => {
    // Act
    const merged = mergeActions(DEFAULT_ACTIONS, { rfm: { Lost: undefined } });

    // Assess
    expect(merged.rfm.Lost).toEqual(DEFAULT_ACTIONS.rfm.Lost);
  });
});
