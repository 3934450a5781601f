import type { Concentration, ConcentrationMeasure, LorenzPoint } from '../../schemas/summary-segments.js';
import { CompensatedSum } from '../math/sum.js';

/**
 * How concentrated value is: the share held by the top 20% of customers, the Gini coefficient
 * and the Lorenz curve, over any non-negative column (revenue to date, CLV).
 *
 * Every function takes the column sorted ascending (the caller sorts once and shares the copy).
 * The Lorenz curve is taken as piecewise linear between customers, the usual convention, so the
 * top-20% share is read off the same curve even when 20% of the customers is not a whole number.
 * Negative values cannot occur in revenue or CLV; should one appear it counts as 0, which keeps
 * the Gini in [0, 1]. With nothing to share (no customers, or a total of 0) the curve is the line
 * of equality, the Gini 0 and the top-20% share 0.
 */

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/** Compensated sum of `term(i)` for i in [from, to). */
const sumOver = (from: number, to: number, term: (i: number) => number): number => {
  const sum = new CompensatedSum();
  for (let i = from; i < to; i += 1) sum.add(term(i));
  return sum.value;
};

/**
 * The column as counted: negatives as 0 (sorting survives, the map is monotone), and divided by
 * the largest value. Shares and the Gini do not depend on scale, and in [0, 1] neither tiny
 * (subnormal) values underflow nor huge ones overflow on the way.
 */
const countedColumn = (sortedAsc: Float64Array): ((i: number) => number) => {
  const largest = sortedAsc.length === 0 ? 0 : (sortedAsc[sortedAsc.length - 1] as number);
  const scale = largest > 0 ? largest : 1;
  return (i) => {
    const x = sortedAsc[i] as number;
    return x > 0 ? x / scale : 0;
  };
};

/** Sum of the counted values, compensated, in the column's own unit. */
export const countedTotal = (sortedAsc: Float64Array): number => {
  const largest = sortedAsc.length === 0 ? 0 : (sortedAsc[sortedAsc.length - 1] as number);
  return largest > 0 ? sumOver(0, sortedAsc.length, countedColumn(sortedAsc)) * largest : 0;
};

/** Sum of the counted values in units of the largest value: what every share divides by. */
const scaledTotal = (sortedAsc: Float64Array): number => sumOver(0, sortedAsc.length, countedColumn(sortedAsc));

/**
 * Lorenz curve at `points` evenly spaced customer shares 0, 1/(points-1), ..., 1: the share of the
 * total held by the poorest customers. Non-decreasing and convex, from (0, 0) to (1, 1). O(n).
 */
export const lorenzCurve = (sortedAsc: Float64Array, points: number): LorenzPoint[] => {
  const n = sortedAsc.length;
  const countedAt = countedColumn(sortedAsc);
  const total = scaledTotal(sortedAsc);
  const steps = Math.max(1, points - 1);
  const equality = n === 0 || total <= 0;
  const cumulative = new CompensatedSum();
  const curve: LorenzPoint[] = [];
  let i = 0;
  for (let j = 0; j <= steps; j += 1) {
    const customerShare = j / steps;
    if (equality) {
      curve.push({ customer_share: customerShare, value_share: customerShare });
      continue;
    }
    // Integer arithmetic for the position j*n/steps keeps the points exact at any n.
    const whole = Math.floor((j * n) / steps);
    const fraction = (j * n - whole * steps) / steps;
    for (; i < whole; i += 1) cumulative.add(countedAt(i));
    const partial = whole < n ? fraction * countedAt(whole) : 0;
    curve.push({ customer_share: customerShare, value_share: j === steps ? 1 : clamp01((cumulative.value + partial) / total) });
  }
  return curve;
};

/**
 * Share of the total held by the top `share` of customers (default 20%), on the piecewise-linear
 * Lorenz curve. Summed from the top rather than as 1 - L(0.8), so a small share stays accurate.
 */
export const topShare = (sortedAsc: Float64Array, share = 0.2): number => {
  const n = sortedAsc.length;
  const countedAt = countedColumn(sortedAsc);
  const total = scaledTotal(sortedAsc);
  if (n === 0 || total <= 0) return 0;
  const position = (1 - share) * n;
  const whole = Math.min(n, Math.floor(position));
  const fraction = position - whole;
  const boundary = whole < n ? (1 - fraction) * countedAt(whole) : 0;
  return clamp01((boundary + sumOver(whole + 1, n, countedAt)) / total);
};

/**
 * Gini coefficient: the sum over customers i = 0..n-1 (ascending) of (2i - n + 1) x_i, over n
 * times the total. 0 when everyone holds the same (and for one customer); at most (n-1)/n. O(n).
 */
export const gini = (sortedAsc: Float64Array): number => {
  const n = sortedAsc.length;
  const countedAt = countedColumn(sortedAsc);
  const total = scaledTotal(sortedAsc);
  if (n < 2 || total <= 0) return 0;
  return clamp01(sumOver(0, n, (i) => (2 * i - n + 1) * countedAt(i)) / (n * total));
};

/** Total, top-20% share, Gini and Lorenz curve of one column, given its ascending copy. */
export const concentrationOf = (sortedAsc: Float64Array, lorenzPoints: number): ConcentrationMeasure => {
  return {
    total: countedTotal(sortedAsc),
    top20_share: topShare(sortedAsc, 0.2),
    gini: gini(sortedAsc),
    lorenz: lorenzCurve(sortedAsc, lorenzPoints),
  };
};

/** Revenue concentration over total_revenue and equity concentration over the ranking CLV. */
export const concentration = (sortedRevenueAsc: Float64Array, sortedClvAsc: Float64Array, lorenzPoints: number): Concentration => ({
  revenue: concentrationOf(sortedRevenueAsc, lorenzPoints),
  equity: concentrationOf(sortedClvAsc, lorenzPoints),
});
