import { NEW_SINCE, type PreviousSegments } from '../../lambdas/clv-job/domain/segments/movers.js';
import { TIER_ORDER } from '../../lambdas/clv-job/domain/segments/tiers.js';
import type { Tier } from '../../lambdas/clv-job/schemas/tables.js';

/**
 * What the engine's join hands the domain (PreviousSegments), built from the previous run's
 * customers by id, as a test states them: tonight's customers `ids` looked up in them, the tier
 * sizes counted over every previous customer (those missing tonight included).
 */
export const previousSegmentsOf = (
  ids: readonly string[],
  tiers: ReadonlyMap<string, Tier>,
  rfmSegments: ReadonlyMap<string, string> = new Map(),
): PreviousSegments => {
  const rfmNames = [...new Set(rfmSegments.values())];
  return {
    tier: Int8Array.from(ids, (id) => {
      const tier = tiers.get(id);
      return tier === undefined ? NEW_SINCE : TIER_ORDER.indexOf(tier);
    }),
    rfmSegment: Int8Array.from(ids, (id) => {
      const segment = rfmSegments.get(id);
      return segment === undefined ? -1 : rfmNames.indexOf(segment);
    }),
    rfmNames,
    tierSizes: TIER_ORDER.map((tier) => [...tiers.values()].filter((t) => t === tier).length),
  };
};
