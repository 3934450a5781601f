import { describe, expect, it } from 'vitest';
import { moversSince, NO_MOVERS, summariseMovers, type PreviousSegments } from '../../../lambdas/clv-job/domain/segments/movers.js';
import type { Tier } from '../../../lambdas/clv-job/schemas/tables.js';
import { previousSegmentsOf } from '../../support/previous-segments.js';

/** Rows as `customer movement previous->current`, for reading at a glance. */
const rowsOf = (ids: readonly string[], m: ReturnType<typeof moversSince>): string[] =>
  Array.from(m.customer, (i, k) => `${ids[i]} ${m.movement[k]} ${m.previousSegment[k] ?? 'new'}->${m.currentSegment[k]}`);

describe('movers since the previous run', () => {
  // Prepare: five customers who were there before, one new
  const ids = ['stays-high', 'rises', 'falls', 'falls-and-sleeps', 'quiet', 'newcomer'];
  const previousTiers = new Map<string, Tier>([
    ['stays-high', 'high'],
    ['rises', 'mid'],
    ['falls', 'high'],
    ['falls-and-sleeps', 'high'],
    ['quiet', 'low'],
  ]);
  const previousRfm = new Map([
    ['stays-high', 'Champions'],
    ['rises', 'Potential Loyalist'],
    ['falls', 'At Risk'],
    ['falls-and-sleeps', 'Loyal Customers'],
    ['quiet', 'Hibernating'],
  ]);
  const previous: PreviousSegments = previousSegmentsOf(ids, previousTiers, previousRfm);
  const tiers: Tier[] = ['high', 'high', 'mid', 'low', 'low', 'high'];
  const rfm = ['Champions', 'Champions', 'At Risk', 'At Risk', 'Hibernating', 'New Customers'];

  it('lists who entered the high tier (a newcomer with no previous segment), who left it, and who became At Risk; one row per movement', () => {
    // Act
    const movers = moversSince(tiers, rfm, previous);

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
    const movers = moversSince(['mid'], ['At Risk'], previousSegmentsOf(['falls'], previousTiers, previousRfm));

    expect(rowsOf(['falls'], movers)).toEqual(['falls left_high high->mid']);
  });

  it('leaves became_at_risk out when tonight\'s customers have no RFM segments', () => {
    const movers = moversSince(tiers, null, previous);

    expect(movers.movement).not.toContain('became_at_risk');
    expect(movers.movement.filter((m) => m === 'entered_high')).toHaveLength(2);
  });

  it('has no row for a movement not counted, and carries why', () => {
    const notCounted = [{ movement: 'entered_high' as const, reason: 'the tiers are not cut as they were' }];

    const movers = moversSince(tiers, rfm, previous, notCounted);

    expect(rowsOf(ids, movers)).toEqual([
      'falls left_high high->mid',
      'falls-and-sleeps left_high high->low',
      'falls-and-sleeps became_at_risk Loyal Customers->At Risk',
    ]);
    expect(movers.notCounted).toEqual(notCounted);
  });

  it('has no rows without a previous run', () => {
    expect(NO_MOVERS.size).toBe(0);
    expect(NO_MOVERS.customer).toHaveLength(0);
  });
});

describe('the movers summed up for the summary and the report', () => {
  // Prepare: five customers entered the high tier, one left it; ranking CLV decides the examples
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  const previous: PreviousSegments = previousSegmentsOf(ids, new Map<string, Tier>([['a', 'mid'], ['b', 'low'], ['c', 'mid'], ['f', 'high']]));
  const tiers: Tier[] = ['high', 'high', 'high', 'high', 'high', 'mid'];
  const movers = moversSince(tiers, ['Champions', 'Champions', 'Champions', 'Champions', 'Champions', 'Champions'], previous);
  const scores = {
    rankingClv: Float64Array.from([10, 30, 30, 50, 20, 40]),
    predictedClv: Float64Array.from([10, 30, 30, 50, 20, 40]),
    probabilityAlive: Float64Array.from([0.9, 0.8, 0.7, 0.95, 0.6, 0.3]),
  };

  it('counts every movement, 0 included, and keeps the customers worth most per movement, ties by customer id', () => {
    const summary = summariseMovers(movers, ids, scores, '2025-06-30', 3);

    expect(summary.previous_run_date).toBe('2025-06-30');
    expect(summary.counts).toEqual([
      { movement: 'entered_high', customers: 5 },
      { movement: 'left_high', customers: 1 },
      { movement: 'became_at_risk', customers: 0 },
    ]);
    // d (50), then b and c tied at 30 (b first by id); a (10) and e (20) fall beyond the three
    expect(summary.examples.map((e) => `${e.movement} ${e.customer_id} ${e.previous_segment ?? 'new'}->${e.current_segment} ${e.predicted_clv} ${e.probability_alive}`)).toEqual([
      'entered_high d new->high 50 0.95',
      'entered_high b low->high 30 0.8',
      'entered_high c mid->high 30 0.7',
      'left_high f high->mid 40 0.3',
    ]);
    expect(summary.examples_per_movement).toBe(3);
  });

  it('gives null predicted CLV and P(alive) without a trusted fit, and nothing but zero counts on a first run', () => {
    const historical = summariseMovers(movers, ids, { rankingClv: scores.rankingClv, predictedClv: null, probabilityAlive: null }, '2025-06-30');
    expect(historical.examples[0]).toMatchObject({ customer_id: 'd', predicted_clv: null, probability_alive: null });

    const first = summariseMovers(NO_MOVERS, ids, scores, null);
    expect(first).toEqual({ previous_run_date: null, counts: first.counts.map((c) => ({ ...c, customers: 0 })), examples: [], examples_per_movement: 5, not_counted: [] });
  });
});
