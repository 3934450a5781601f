import { describe, expect, it } from 'vitest';
import { moversSince, NO_MOVERS, type PreviousSegments } from '../../../lambdas/clv-job/domain/segments/movers.js';
import type { Tier } from '../../../lambdas/clv-job/schemas/tables.js';

/** Rows as `customer movement previous->current`, for reading at a glance. */
const rowsOf = (ids: readonly string[], m: ReturnType<typeof moversSince>): string[] =>
  Array.from(m.customer, (i, k) => `${ids[i]} ${m.movement[k]} ${m.previousSegment[k] ?? 'new'}->${m.currentSegment[k]}`);

describe('movers since the previous run', () => {
  // Prepare: five customers who were there before, one new
  const previous: PreviousSegments = {
    tiers: new Map<string, Tier>([
      ['stays-high', 'high'],
      ['rises', 'mid'],
      ['falls', 'high'],
      ['falls-and-sleeps', 'high'],
      ['quiet', 'low'],
    ]),
    rfmSegments: new Map([
      ['stays-high', 'Champions'],
      ['rises', 'Potential Loyalist'],
      ['falls', 'At Risk'],
      ['falls-and-sleeps', 'Loyal Customers'],
      ['quiet', 'Hibernating'],
    ]),
  };
  const ids = ['stays-high', 'rises', 'falls', 'falls-and-sleeps', 'quiet', 'newcomer'];
  const tiers: Tier[] = ['high', 'high', 'mid', 'low', 'low', 'high'];
  const rfm = ['Champions', 'Champions', 'At Risk', 'At Risk', 'Hibernating', 'New Customers'];

  it('lists who entered the high tier (a newcomer with no previous segment), who left it, and who became At Risk; one row per movement', () => {
    // Act
    const movers = moversSince(ids, tiers, rfm, previous);

    // Assess
    expect(rowsOf(ids, movers)).toEqual([
      'rises entered_high mid->high',
      'newcomer entered_high new->high',
      'falls left_high high->mid',
      'falls-and-sleeps left_high high->low',
      'falls-and-sleeps became_at_risk Loyal Customers->At Risk',
    ]);
    expect(movers.size).toBe(5);
  });

  it('does not call a customer who was At Risk already a mover, nor a previous customer missing tonight', () => {
    const movers = moversSince(['falls'], ['mid'], ['At Risk'], previous);

    expect(rowsOf(['falls'], movers)).toEqual(['falls left_high high->mid']);
  });

  it('leaves became_at_risk out when the previous run\'s RFM segments are unknown, rather than calling every At Risk customer new to it', () => {
    const movers = moversSince(ids, tiers, rfm, { tiers: previous.tiers, rfmSegments: null });

    expect(movers.movement).not.toContain('became_at_risk');
    expect(movers.movement.filter((m) => m === 'entered_high')).toHaveLength(2);
  });

  it('has no rows without a previous run', () => {
    expect(NO_MOVERS.size).toBe(0);
    expect(NO_MOVERS.customer).toHaveLength(0);
  });
});
