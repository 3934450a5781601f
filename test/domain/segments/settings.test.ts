import { describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_SETTINGS, resolveSegmentSettings } from '../../../lambdas/clv-job/domain/segments/settings.js';
import { segmentSettingsSchema } from '../../../lambdas/clv-job/schemas/summary-segments.js';

describe('segment settings', () => {
  it('default to a 20/50/30 tier split, a median value split and P(alive) 0.5 for loyalty', () => {
    expect(DEFAULT_SEGMENT_SETTINGS.tiers).toEqual({ high: 0.2, mid: 0.5 });
    expect(DEFAULT_SEGMENT_SETTINGS.valueLoyalty).toEqual({
      highValueShare: 0.5,
      minProbabilityAlive: 0.5,
      minRepeatPurchases: 1,
      fallbackMinRecencyScore: 3,
    });
    expect(DEFAULT_SEGMENT_SETTINGS.warnings.channelAverageClvDrop).toBe(0.1);
    expect(DEFAULT_SEGMENT_SETTINGS.warnings.parameterShiftStandardErrors).toBe(3);
  });

  it('parse an empty config block to the defaults', () => {
    expect(segmentSettingsSchema.parse({})).toEqual(DEFAULT_SEGMENT_SETTINGS);
  });

  it('merge a partial config block over the defaults, field by field', () => {
    // Act
    const settings = segmentSettingsSchema.parse({
      tiers: { high: 0.1 },
      warnings: { meanProbabilityAliveDrop: 0.02 },
      actions: { rfm: { Lost: ['Suppress'] } },
    });

    // Assess
    expect(settings.tiers).toEqual({ high: 0.1, mid: 0.5 });
    expect(settings.warnings).toEqual({ ...DEFAULT_SEGMENT_SETTINGS.warnings, meanProbabilityAliveDrop: 0.02 });
    expect(settings.actions.rfm.Lost).toEqual(['Suppress']);
    expect(settings.actions.rfm.Champions).toEqual(DEFAULT_SEGMENT_SETTINGS.actions.rfm.Champions);
  });

  it.each([
    { case: 'tier cuts leaving nothing for the low tier', input: { tiers: { high: 0.5, mid: 0.5 } }, path: 'tiers' },
    { case: 'a recency score above 5', input: { valueLoyalty: { fallbackMinRecencyScore: 6 } }, path: 'valueLoyalty.fallbackMinRecencyScore' },
    { case: 'an unknown RFM segment', input: { actions: { rfm: { Whales: ['x'] } } }, path: 'actions.rfm' },
    { case: 'an unknown setting', input: { tiers: { top: 0.1 } }, path: 'tiers' },
    { case: 'a single Lorenz point', input: { concentration: { lorenzPoints: 1 } }, path: 'concentration.lorenzPoints' },
  ])('reject $case', ({ input, path }) => {
    // Act
    const result = segmentSettingsSchema.safeParse(input);

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('resolve the same settings from the domain as from the schema', () => {
    // Prepare
    const overrides = { rfm: { monetary: 'avg_order_value' as const }, channels: { missingLabel: 'unknown' } };

    // Act, Assess
    expect(resolveSegmentSettings(overrides)).toEqual(segmentSettingsSchema.parse(overrides));
  });
});
