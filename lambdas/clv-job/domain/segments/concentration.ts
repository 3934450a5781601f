import type { Concentration, ConcentrationMeasure, LorenzPoint } from '../../schemas/summary-segments.js';
import { CompensatedSum } from '../math/sum.js';
import { orderedFromCounts, type ValueCounts } from './value-counts.js';

/**
 * How concentrated value is: the share held by the top 20% of customers, the Gini coefficient
 * and the Lorenz curve, over any non-negative column (revenue to date, CLV).
 *
 * Every measure reads the column in ascending order, as its value counts (distinct values with how
 * many customers hold each: {@link ValueCounts}), so nobody is sorted; the functions over a column
 * sorted ascending take its counts. The sums run over the customers in ascending order, one term a
 * customer, a value held by c customers added c times: the very additions, in the same order, of
 * the sorted column written out, so the figures do not depend on how the order was found.
 * The Lorenz curve is taken as piecewise linear between customers, the usual convention, so the
 * top-20% share is read off the same curve even when 20% of the customers is not a whole number.
 * Negative values cannot occur in revenue or CLV; should one appear it counts as 0, which keeps
 * the Gini in [0, 1]. With nothing to share (no customers, or a total of 0) the curve is the line
 * of equality, the Gini 0 and the top-20% share 0.
 */

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/**
 * A value as counted: negatives as 0 (the order survives, the map is monotone), and divided by the
 * largest value. Shares and the Gini do not depend on scale, and in [0, 1] neither tiny (subnormal)
 * values underflow nor huge ones overflow on the way.
 */
const countedBy = (scale: number) => (x: number): number => (x > 0 ? x / scale : 0);

/** The largest value of the counts, or 0 without customers. */
const largestOf = (counts: ValueCounts): number => (counts.values.length === 0 ? 0 : (counts.values[counts.values.length - 1] as number));

/**
 * Every measure of one column at once, in one pass over its customers in ascending order (position
 * i = 0..n-1), each sum compensated and started at its first term:
 * - total: sum of counted(i) over all i (in units of the largest value: what every share divides by);
 * - Lorenz: the same running sum read before position floor(j n / steps), for each point j;
 * - Gini: sum of (2i - n + 1) counted(i);
 * - top share: sum of counted(i) for i past the position (1 - share) n.
 */
const measuresOf = (counts: ValueCounts, points: number, share: number) => {
  const n = counts.starts[counts.starts.length - 1] as number;
  const largest = largestOf(counts);
  const counted = countedBy(largest > 0 ? largest : 1);
  const steps = Math.max(1, points - 1);
  // Integer arithmetic for the positions j*n/steps keeps the points exact at any n.
  const lorenzAt = Float64Array.from({ length: steps + 1 }, (_, j) => Math.floor((j * n) / steps));
  const before = new Float64Array(steps + 1);
  const topPosition = (1 - share) * n;
  const topWhole = Math.min(n, Math.floor(topPosition));
  const running = new CompensatedSum();
  const weighted = new CompensatedSum();
  const top = new CompensatedSum();
  let j = 0;
  for (let k = 0; k < counts.values.length; k += 1) {
    const x = counted(counts.values[k] as number);
    const end = counts.starts[k + 1] as number;
    for (let i = counts.starts[k] as number; i < end; i += 1) {
      for (; j <= steps && lorenzAt[j] === i; j += 1) before[j] = running.value;
      running.add(x);
      weighted.add((2 * i - n + 1) * x);
      if (i > topWhole) top.add(x);
    }
  }
  for (; j <= steps; j += 1) before[j] = running.value;
  const total = running.value;
  const column = orderedFromCounts(counts);
  const countedAt = (position: number): number => (position < n ? counted(column.runAt(position).value) : 0);
  const nothing = n === 0 || total <= 0;
  const lorenz: LorenzPoint[] = [];
  for (let p = 0; p <= steps; p += 1) {
    const customerShare = p / steps;
    if (nothing) {
      lorenz.push({ customer_share: customerShare, value_share: customerShare });
      continue;
    }
    const whole = lorenzAt[p] as number;
    const fraction = (p * n - whole * steps) / steps;
    const partial = whole < n ? fraction * countedAt(whole) : 0;
    lorenz.push({ customer_share: customerShare, value_share: p === steps ? 1 : clamp01(((before[p] as number) + partial) / total) });
  }
  const boundary = topWhole < n ? (1 - (topPosition - topWhole)) * countedAt(topWhole) : 0;
  return {
    total: largest > 0 ? total * largest : 0,
    topShare: nothing ? 0 : clamp01((boundary + top.value) / total),
    gini: n < 2 || nothing ? 0 : clamp01(weighted.value / (n * total)),
    lorenz,
  };
};

/**
 * Total (in the column's unit), top-20% share, Gini and Lorenz curve (`lorenzPoints` points) of one
 * column, from its value counts. O(n + d) for n customers and d distinct values, one pass.
 */
export const concentrationOfCounts = (counts: ValueCounts, lorenzPoints: number): ConcentrationMeasure => {
  const measures = measuresOf(counts, lorenzPoints, 0.2);
  return { total: measures.total, top20_share: measures.topShare, gini: measures.gini, lorenz: measures.lorenz };
};

/** Revenue concentration over total_revenue and equity concentration over the ranking CLV, from their value counts. */
export const concentration = (revenueCounts: ValueCounts, clvCounts: ValueCounts, lorenzPoints: number): Concentration => ({
  revenue: concentrationOfCounts(revenueCounts, lorenzPoints),
  equity: concentrationOfCounts(clvCounts, lorenzPoints),
});
