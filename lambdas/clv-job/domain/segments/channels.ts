import type { ChannelRow } from '../../schemas/summary-segments.js';
import type { CustomerScores, CustomerTable } from '../customers.js';
import { codesOf, groupMeasures, groupTotals, overallOf, ratio, shareOf, type Overall } from './segment-table.js';
import type { ChannelSettings } from './settings.js';

/**
 * Customer equity by acquisition channel, largest equity first (ties by name), so the report
 * leads with the channels that matter. Customers without a channel share `missingLabel`
 * ("(none)" by default; the run passes another when a real channel bears it: missingChannelLabel).
 *
 * `below_average` flags a channel whose average CLV is below the average over all customers by
 * more than a rounding error: when every customer is worth the same, no channel is flagged.
 * O(n) plus a sort of the channels.
 */
export const channelTable = (
  table: CustomerTable,
  scores: CustomerScores,
  settings: ChannelSettings,
  overall: Overall = overallOf(scores.rankingClv),
): ChannelRow[] => {
  const { codes, names } = codesOf(table.acquisitionChannel, settings.missingLabel);
  const totals = groupTotals(codes, names.length, {
    clv: scores.rankingClv,
    revenue: table.totalRevenue,
    frequency: table.frequency,
    probabilityAlive: scores.probabilityAlive,
  });
  const overallAverage = ratio(overall.equity, overall.customers);
  const tolerance = 1e-9 * Math.abs(overallAverage);
  return names
    .map((channel, g): ChannelRow => {
      const measures = groupMeasures(totals, g, overall);
      return {
        channel,
        ...measures,
        revenue: totals.revenue[g] as number,
        repeat_rate: shareOf(totals.repeatBuyers[g] as number, measures.customers),
        mean_probability_alive: totals.probabilityAlive === null ? null : shareOf(totals.probabilityAlive[g] as number, measures.customers),
        below_average: measures.average_clv < overallAverage - tolerance,
      };
    })
    .sort((a, b) => b.equity - a.equity || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
};
