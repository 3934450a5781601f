import type { TierCuts } from './settings.js';
import type { Tier } from '../../schemas/tables.js';

/** The tiers, best first: the order of every tier table. */
export const TIER_ORDER = ['high', 'mid', 'low'] as const satisfies readonly Tier[];

/** An ascending copy; the input is left alone. Native numeric sort: O(n log n), one allocation. */
export const sortedAscending = (values: Float64Array): Float64Array => Float64Array.from(values).sort();

/** Index of the first value >= x in an ascending array. */
const lowerBound = (sorted: Float64Array, x: number): number => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** Index of the first value > x in an ascending array. */
const upperBound = (sorted: Float64Array, x: number): number => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/**
 * The value a customer needs to be among the top `count` customers: a customer is in the top
 * when `value >= topCutValue(...)`.
 *
 * Tie rule: customers with equal values are never split. Rank everyone by value, highest first
 * (order inside a tie is irrelevant); a group of equal values goes wholly to the side of the cut
 * where its median member falls (on an even-sized group, the higher-ranked of the two middle
 * members). A group straddling the cut therefore moves at most half its size across it, the same
 * customers land on the same side in every run, and without ties the top holds exactly `count`.
 *
 * Returns +Infinity when nobody is in the top, -Infinity when everybody is. O(log n).
 */
export const topCutValue = (sortedAsc: Float64Array, count: number): number => {
  const n = sortedAsc.length;
  if (count <= 0 || n === 0) return Number.POSITIVE_INFINITY;
  if (count >= n) return Number.NEGATIVE_INFINITY;
  // Ascending index n - count is the last customer inside the top under a plain cut by count.
  const inside = sortedAsc[n - count] as number;
  if ((sortedAsc[n - count - 1] as number) !== inside) return inside;
  const first = lowerBound(sortedAsc, inside);
  const last = upperBound(sortedAsc, inside) - 1;
  // Positions counted from the top (0 = highest value).
  const start = n - 1 - last;
  const end = n - 1 - first;
  const median = Math.floor((start + end) / 2);
  if (median < count) return inside;
  return last + 1 < n ? (sortedAsc[last + 1] as number) : Number.POSITIVE_INFINITY;
};

/** Customers in the top tier and in the top two tiers, before tie handling. */
export const tierCounts = (n: number, cuts: TierCuts): { readonly high: number; readonly highOrMid: number } => ({
  high: Math.round(cuts.high * n),
  highOrMid: Math.round((cuts.high + cuts.mid) * n),
});

/** The value thresholds of the high and mid tiers for a ranking CLV column, already sorted. */
export const tierThresholds = (sortedAsc: Float64Array, cuts: TierCuts): { readonly high: number; readonly mid: number } => {
  const counts = tierCounts(sortedAsc.length, cuts);
  return { high: topCutValue(sortedAsc, counts.high), mid: topCutValue(sortedAsc, counts.highOrMid) };
};

/**
 * Tier code of every customer (0 high, 1 mid, 2 low; see {@link TIER_ORDER}): the top `cuts.high`
 * share of customers by ranking CLV is high, the next `cuts.mid` share mid, the rest low, with
 * ties kept together as {@link topCutValue} describes. Because the tier depends only on the value,
 * two customers with the same CLV always share a tier. O(n) after the sort.
 */
export const tierCodes = (rankingClv: Float64Array, sortedAsc: Float64Array, cuts: TierCuts): Uint8Array => {
  const threshold = tierThresholds(sortedAsc, cuts);
  const codes = new Uint8Array(rankingClv.length);
  for (let i = 0; i < rankingClv.length; i += 1) {
    const v = rankingClv[i] as number;
    codes[i] = v >= threshold.high ? 0 : v >= threshold.mid ? 1 : 2;
  }
  return codes;
};

/** The tier of every customer by ranking CLV. O(n log n). */
export const clvTiers = (rankingClv: Float64Array, cuts: TierCuts, sortedAsc: Float64Array = sortedAscending(rankingClv)): Tier[] =>
  Array.from(tierCodes(rankingClv, sortedAsc, cuts), (code) => TIER_ORDER[code] as Tier);
