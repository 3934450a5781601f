import { concentrationOfCounts } from '../../lambdas/clv-job/domain/segments/concentration.js';
import { binCuts, quantileScoreOf } from '../../lambdas/clv-job/domain/segments/rfm.js';
import { namesOf } from '../../lambdas/clv-job/domain/segments/segment-table.js';
import type { TierCuts } from '../../lambdas/clv-job/domain/segments/settings.js';
import { TIER_ORDER, tierCodes } from '../../lambdas/clv-job/domain/segments/tiers.js';
import { orderedFromCounts, valueCountsOfColumn, valueCountsOfSorted, type OrderedColumn } from '../../lambdas/clv-job/domain/segments/value-counts.js';
import type { ConcentrationMeasure, LorenzPoint } from '../../lambdas/clv-job/schemas/summary-segments.js';
import type { Tier } from '../../lambdas/clv-job/schemas/tables.js';

/**
 * The segment rules read on a column sorted ascending, the way the segment stage worked before it
 * decided its cut points on value counts: the plain reading the value-count path is tested
 * against, and the hand-worked examples' shape (a column in, every customer's answer out).
 */

/** An ascending copy (-0 before +0, NaNs last: the native order); the input is left alone. */
export const sortedAscending = (values: Float64Array): Float64Array => Float64Array.from(values).sort();

/** Index of the first value >= x (`strict` false) or > x (`strict` true) in an ascending array. */
const bound = (sorted: Float64Array, x: number, strict: boolean): number => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] as number;
    if (v < x || (strict && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** A column already sorted ascending, read in place: a run's ends by binary search. */
export const orderedFromSorted = (sortedAsc: Float64Array): OrderedColumn => ({
  size: sortedAsc.length,
  runAt: (position) => {
    const value = sortedAsc[position] as number;
    return { value, highest: value, start: bound(sortedAsc, value, false), end: bound(sortedAsc, value, true) };
  },
});

/** The tier of every customer by ranking CLV, the column ordered by sorting it unless given. */
export const clvTiers = (rankingClv: Float64Array, cuts: TierCuts, column: OrderedColumn = orderedFromSorted(sortedAscending(rankingClv))): Tier[] =>
  namesOf(tierCodes(rankingClv, column, cuts), TIER_ORDER);

/** Total, top-20% share, Gini and Lorenz curve of one column, given its ascending copy. */
export const concentrationOf = (sortedAsc: Float64Array, lorenzPoints: number): ConcentrationMeasure => concentrationOfCounts(valueCountsOfSorted(sortedAsc), lorenzPoints);

/** Lorenz curve at `points` evenly spaced customer shares, from the column sorted ascending. */
export const lorenzCurve = (sortedAsc: Float64Array, points: number): LorenzPoint[] => concentrationOf(sortedAsc, points).lorenz;

/** Share of the total held by the top 20% of customers, from the column sorted ascending. */
export const topShare = (sortedAsc: Float64Array): number => concentrationOf(sortedAsc, 2).top20_share;

/** Gini coefficient of the column sorted ascending. */
export const gini = (sortedAsc: Float64Array): number => concentrationOf(sortedAsc, 2).gini;

/**
 * Score 1..`bins` of every value, higher values better: `1 + floor(bins * share strictly lower)`,
 * or the middle score for everyone when all values are equal. `column` is `values` ordered (from
 * their value counts when not given).
 */
export const quantileScores = (
  values: Float64Array | Int32Array,
  bins: number,
  column: OrderedColumn = orderedFromCounts(valueCountsOfColumn(values)),
): Int8Array => {
  const cuts = binCuts(column, bins);
  const scores = new Int8Array(values.length);
  for (let i = 0; i < values.length; i += 1) scores[i] = quantileScoreOf(values[i] as number, cuts, bins);
  return scores;
};

/** Quintile scores 1-5, as the recency and monetary measures use them. */
export const quintileScores = (values: Float64Array | Int32Array, column?: OrderedColumn): Int8Array => quantileScores(values, 5, column);
