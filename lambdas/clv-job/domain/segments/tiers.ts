import type { TierCuts } from './settings.js';
import type { Tier } from '../../schemas/tables.js';
import type { OrderedColumn } from './value-counts.js';

/** The tiers, best first: the order of every tier table. */
export const TIER_ORDER = ['high', 'mid', 'low'] as const satisfies readonly Tier[];

/**
 * The value a customer needs to be among the top `count` customers: a customer is in the top
 * when `value >= topCutValue(...)`; `column` is the ranking column, ordered.
 *
 * Tie rule: customers with equal values are never split. Rank everyone by value, highest first
 * (order inside a tie is irrelevant); a group of equal values goes wholly to the side of the cut
 * where its median member falls (on an even-sized group, the higher-ranked of the two middle
 * members). A group straddling the cut therefore moves at most half its size across it, the same
 * customers land on the same side in every run, and without ties the top holds exactly `count`.
 *
 * Returns +Infinity when nobody is in the top, -Infinity when everybody is. Two runs looked up.
 */
export const topCutValue = (column: OrderedColumn, count: number): number => {
  const n = column.size;
  if (count <= 0 || n === 0) return Number.POSITIVE_INFINITY;
  if (count >= n) return Number.NEGATIVE_INFINITY;
  // Ascending position n - count is the last customer inside the top under a plain cut by count.
  const run = column.runAt(n - count);
  if (run.start === n - count) return run.value;
  // Positions counted from the top (0 = highest value).
  const start = n - run.end;
  const end = n - 1 - run.start;
  const median = Math.floor((start + end) / 2);
  if (median < count) return run.value;
  return run.end < n ? column.runAt(run.end).value : Number.POSITIVE_INFINITY;
};

/** Customers in the top tier and in the top two tiers, before tie handling. */
export const tierCounts = (n: number, cuts: TierCuts): { readonly high: number; readonly highOrMid: number } => ({
  high: Math.round(cuts.high * n),
  highOrMid: Math.round((cuts.high + cuts.mid) * n),
});

/** The tiers' cut points: a CLV at least `high` is high, else at least `mid` mid, else low. */
export interface TierThresholds {
  readonly high: number;
  readonly mid: number;
}

/**
 * The cut points of the high and mid tiers, decided on the ranking CLV ordered (from its value
 * counts: distinct values and how many customers hold each) by {@link topCutValue}'s rule. O(log d).
 */
export const tierThresholds = (column: OrderedColumn, cuts: TierCuts): TierThresholds => {
  const top = tierCounts(column.size, cuts);
  return { high: topCutValue(column, top.high), mid: topCutValue(column, top.highOrMid) };
};

/**
 * Tier code (0 high, 1 mid, 2 low; see {@link TIER_ORDER}) of a ranking CLV: a comparison with the
 * cut points, nothing else, so that an engine can assign it as well (`CASE WHEN clv >= high ...`).
 */
export const tierOf = (value: number, thresholds: TierThresholds): number => (value >= thresholds.high ? 0 : value >= thresholds.mid ? 1 : 2);

/**
 * Tier code of every customer (0 high, 1 mid, 2 low; see {@link TIER_ORDER}): the top `cuts.high`
 * share of customers by ranking CLV is high, the next `cuts.mid` share mid, the rest low, with
 * ties kept together as {@link topCutValue} describes. Because the tier depends only on the value,
 * two customers with the same CLV always share a tier. `column` is `rankingClv` ordered.
 * O(n): two cut points ({@link tierThresholds}), two comparisons a customer ({@link tierOf}).
 */
export const tierCodes = (rankingClv: Float64Array, column: OrderedColumn, cuts: TierCuts): Uint8Array => {
  const thresholds = tierThresholds(column, cuts);
  const codes = new Uint8Array(rankingClv.length);
  for (let i = 0; i < rankingClv.length; i += 1) codes[i] = tierOf(rankingClv[i] as number, thresholds);
  return codes;
};
