import type { SegmentSummary } from '../../schemas/summary-segments.js';
import type { CustomerScores, CustomerSegments, CustomerTable } from '../customers.js';
import { channelTable } from './channels.js';
import { cohortTable } from './cohorts.js';
import { concentration } from './concentration.js';
import { RFM_SEGMENTS, rfmColumns, rfmTextColumns } from './rfm.js';
import { groupTotals, namesOf, overallOf, segmentRows, type GroupedColumns } from './segment-table.js';
import type { SegmentSettings } from './settings.js';
import { TIER_ORDER, tierCodes } from './tiers.js';
import { customerCount, rankedFromCounts, valueCountsOfColumn, type ValueCounts } from './value-counts.js';
import { VALUE_LOYALTY_CELLS, valueLoyaltyCodes } from './value-loyalty.js';

export interface SegmentedCustomers {
  /** Per customer, index-aligned with the table. */
  readonly columns: CustomerSegments;
  readonly summary: SegmentSummary;
}

/**
 * Every segmentation of every customer, and the summary tables, in a handful of O(n) passes and no
 * sort of the customers. The cut points are decided on value counts (distinct values, each with
 * how many customers hold it: {@link ValueCounts}) of the ranking CLV, revenue, and RFM recency and
 * frequency; customers are then assigned by comparison with the cut points; the concentration's
 * ordered sums read the same counts of CLV and revenue. `clvCounts`, the value counts of
 * `scores.rankingClv`, may come from the caller (from one value per scoring pattern:
 * `valueCountsByPattern`); they are counted here otherwise. Throws a RangeError when they do not
 * cover the customers, or when a CLV or revenue is not finite.
 *
 * Equity is the sum of `scores.rankingClv`: predicted CLV when the predictive fit is trusted,
 * historical otherwise. When the fit failed (`scores.probabilityAlive` null) everything still
 * works: loyalty falls back to recency, and P(alive) columns of the tables are null.
 * `asOfDay` (days since 1970-01-01) dates the cohorts' ages.
 *
 * Every scheme's table lists every segment (empty ones too, in a fixed order), covers every
 * customer exactly once, and adds up to the customer count and the total equity. Inputs are not
 * modified.
 */
export const segmentCustomers = (
  table: CustomerTable,
  scores: CustomerScores,
  settings: SegmentSettings,
  asOfDay: number,
  clvCounts: ValueCounts = valueCountsOfColumn(scores.rankingClv),
): SegmentedCustomers => {
  const clv = scores.rankingClv;
  if (customerCount(clvCounts) !== clv.length) throw new RangeError(`segments: the CLV's value counts cover ${customerCount(clvCounts)} customers, not ${clv.length}`);
  const revenueCounts = valueCountsOfColumn(table.totalRevenue);
  const clvOrdered = rankedFromCounts(clvCounts);
  const overall = overallOf(clv);

  const tiers = tierCodes(clv, clvOrdered, settings.tiers);
  const rfm = rfmColumns(table, settings.rfm, settings.rfm.monetary === 'total_revenue' ? rankedFromCounts(revenueCounts) : undefined);
  const cells = valueLoyaltyCodes(
    clv,
    clvOrdered,
    { frequency: table.frequency, probabilityAlive: scores.probabilityAlive, recencyScore: rfm.r },
    settings.valueLoyalty,
  );

  const grouped: GroupedColumns = {
    clv,
    revenue: table.totalRevenue,
    frequency: table.frequency,
    probabilityAlive: scores.probabilityAlive,
  };
  const text = rfmTextColumns(rfm);

  return {
    columns: {
      clvTier: namesOf(tiers, TIER_ORDER),
      valueLoyalty: namesOf(cells, VALUE_LOYALTY_CELLS),
      rfmR: rfm.r,
      rfmF: rfm.f,
      rfmM: rfm.m,
      rfmScore: text.score,
      rfmSegment: text.segment,
    },
    summary: {
      clv_tiers: segmentRows(TIER_ORDER, groupTotals(tiers, TIER_ORDER.length, grouped), overall, settings.actions.clvTiers),
      value_loyalty: segmentRows(VALUE_LOYALTY_CELLS, groupTotals(cells, VALUE_LOYALTY_CELLS.length, grouped), overall, settings.actions.valueLoyalty),
      rfm: segmentRows(RFM_SEGMENTS, groupTotals(rfm.segmentCode, RFM_SEGMENTS.length, grouped), overall, settings.actions.rfm),
      channels: channelTable(table, scores, settings.channels, overall),
      cohorts: cohortTable(table, scores, asOfDay, overall),
      concentration: concentration(revenueCounts, clvCounts, settings.concentration.lorenzPoints),
    },
  };
};
