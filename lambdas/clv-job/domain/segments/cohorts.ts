import type { CohortRow } from '../../schemas/summary-segments.js';
import { isoDay, type CustomerScores, type CustomerTable } from '../customers.js';
import { codesOf, groupMeasures, groupTotals, overallOf, shareOf, type Overall } from './segment-table.js';

/** Whole calendar months from `YYYY-MM` to the month of `asOfDay`. */
export const monthsBetween = (cohort: string, asOfDay: number): number => {
  const asOf = isoDay(asOfDay);
  const months = (text: string): number => Number(text.slice(0, 4)) * 12 + Number(text.slice(5, 7)) - 1;
  return months(asOf) - months(cohort);
};

/**
 * Calendar months of age of a `YYYY-MM` cohort that are complete on `asOfDay`: every month before
 * the as-of month, and the as-of month itself when the as-of date is its last day (nothing of it is
 * left to come). So `monthsBetween(cohort, asOfDay)` or one more; months of age 0 .. result - 1 are
 * complete. Kept apart from the published `age_months` (= monthsBetween), whose meaning stays.
 */
export const completeMonthsBetween = (cohort: string, asOfDay: number): number =>
  monthsBetween(cohort, asOfDay) + (isoDay(asOfDay + 1).endsWith('-01') ? 1 : 0);

/**
 * Acquisition cohorts by month, oldest first (`YYYY-MM` sorts as text). Each row's age is counted
 * to the as-of month, so older cohorts' higher repeat rates read as age, not as quality.
 * O(n) plus a sort of the months.
 */
export const cohortTable = (
  table: CustomerTable,
  scores: CustomerScores,
  asOfDay: number,
  overall: Overall = overallOf(scores.rankingClv),
): CohortRow[] => {
  const { codes, names } = codesOf(table.cohort, '');
  const totals = groupTotals(codes, names.length, {
    clv: scores.rankingClv,
    revenue: table.totalRevenue,
    frequency: table.frequency,
    probabilityAlive: scores.probabilityAlive,
  });
  return names
    .map((cohort, g): CohortRow => {
      const measures = groupMeasures(totals, g, overall);
      return {
        cohort,
        age_months: monthsBetween(cohort, asOfDay),
        customers: measures.customers,
        share: measures.share,
        revenue: totals.revenue[g] as number,
        equity: measures.equity,
        equity_share: measures.equity_share,
        average_clv: measures.average_clv,
        repeat_rate: shareOf(totals.repeatBuyers[g] as number, measures.customers),
        mean_probability_alive: totals.probabilityAlive === null ? null : shareOf(totals.probabilityAlive[g] as number, measures.customers),
      };
    })
    .sort((a, b) => (a.cohort < b.cohort ? -1 : a.cohort > b.cohort ? 1 : 0));
};
