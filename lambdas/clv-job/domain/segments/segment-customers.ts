import type { SegmentSummary } from '../../schemas/summary-segments.js';
import type { CustomerScores, CustomerSegments, CustomerTable } from '../customers.js';
import { channelTable } from './channels.js';
import { cohortTable } from './cohorts.js';
import { concentration } from './concentration.js';
import { RFM_SEGMENTS, rfmColumns, rfmTextColumns } from './rfm.js';
import { groupTotals, namesOf, overallOf, segmentRows, type GroupedColumns } from './segment-table.js';
import type { SegmentSettings } from './settings.js';
import { sortedAscending, TIER_ORDER, tierCodes } from './tiers.js';
import { orderedFromSorted } from './value-counts.js';
import { VALUE_LOYALTY_CELLS, valueLoyaltyCodes } from './value-loyalty.js';

export interface SegmentedCustomers {
  /** Per customer, index-aligned with the table. */
  readonly columns: CustomerSegments;
  readonly summary: SegmentSummary;
}

/**
 * Every segmentation of every customer, and the summary tables, in a handful of O(n) passes
 * after two sorts (ranking CLV and revenue, whose ordered sums the concentration reads); every
 * cut point is decided on an ordered column (those two, and value counts of RFM recency and
 * frequency, counted over whole days without a sort), and customers are assigned by comparison
 * with the cut points. O(n log n) overall.
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
): SegmentedCustomers => {
  const clv = scores.rankingClv;
  // The concentration's ordered sums need these two columns sorted; the cut points read them in place.
  const sortedClv = sortedAscending(clv);
  const sortedRevenue = sortedAscending(table.totalRevenue);
  const clvOrdered = orderedFromSorted(sortedClv);
  const overall = overallOf(clv);

  const tiers = tierCodes(clv, clvOrdered, settings.tiers);
  const rfm = rfmColumns(table, settings.rfm, settings.rfm.monetary === 'total_revenue' ? orderedFromSorted(sortedRevenue) : undefined);
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
      concentration: concentration(sortedRevenue, sortedClv, settings.concentration.lorenzPoints),
    },
  };
};
