import { radixOrder } from '../math/radix-order.js';
import { DistinctPairs } from '../models/bg-nbd.js';
/**
 * A column as its distinct values in ascending order, each with how many customers hold it: the
 * sorted column, run-length encoded. It is what an engine answers to
 * `SELECT v, COUNT(*) FROM customers GROUP BY v ORDER BY v`, and all the segment rules need: they
 * read positions of the sorted column (the value the k-th customer from the bottom holds, where a
 * run of equal values starts and ends: {@link OrderedColumn}), and a position is found here by
 * binary search on the running counts. Deciding a cut point then costs O(log d) for d distinct
 * values, and assigning customers compares each with the cut points: nobody is sorted.
 *
 * Equal values form one run; as in the comparisons of the rules, -0 and +0 are equal.
 */
export interface ValueCounts {
  /** The distinct values, strictly ascending, finite. */
  readonly values: Float64Array;
  /**
   * `starts[k]`: how many customers hold a value below `values[k]`, i.e. the position of the sorted
   * column where the run of `values[k]` starts. One longer than `values`: the last entry is the
   * customer count.
   */
  readonly starts: Float64Array;
}

/** How many customers the counts cover. */
export const customerCount = (counts: ValueCounts): number => counts.starts[counts.starts.length - 1] as number;

/**
 * Value counts from distinct values and their counts (an engine's GROUP BY answer, in value order).
 * Throws a RangeError naming the first offence when the values are not finite and strictly
 * ascending, a count is not a positive whole number, or the lengths differ. O(d).
 */
export const valueCountsOf = (values: ArrayLike<number>, counts: ArrayLike<number>): ValueCounts => {
  if (values.length !== counts.length) throw new RangeError(`value counts: ${values.length} values but ${counts.length} counts`);
  const starts = new Float64Array(values.length + 1);
  for (let k = 0; k < values.length; k += 1) {
    const value = values[k] as number;
    const count = counts[k] as number;
    if (!Number.isFinite(value)) throw new RangeError(`value counts: value ${value} at ${k} is not finite`);
    if (k > 0 && !(value > (values[k - 1] as number))) throw new RangeError(`value counts: values must be strictly ascending, ${values[k - 1]} then ${value} at ${k}`);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`value counts: the count of ${value} must be a positive whole number, got ${count}`);
    starts[k + 1] = (starts[k] as number) + count;
  }
  return { values: Float64Array.from(values), starts };
};

/** Value counts of a column already sorted ascending. O(n), two passes (the runs are counted first). */
export const valueCountsOfSorted = (sortedAsc: Float64Array): ValueCounts => {
  let runs = 0;
  for (let i = 0; i < sortedAsc.length; i += 1) if (i === 0 || sortedAsc[i] !== sortedAsc[i - 1]) runs += 1;
  const values = new Float64Array(runs);
  const starts = new Float64Array(runs + 1);
  let k = 0;
  for (let i = 0; i < sortedAsc.length; i += 1) {
    if (i > 0 && sortedAsc[i] === sortedAsc[i - 1]) continue;
    values[k] = sortedAsc[i] as number;
    starts[k] = i;
    k += 1;
  }
  starts[runs] = sortedAsc.length;
  return { values, starts };
};

/**
 * Value counts of values held by `weights[k]` customers each, given in any order and not
 * necessarily distinct (one value per scoring pattern, say, with how many customers share the
 * pattern): the values sorted ({@link radixOrder}, O(d) for d values) and equal ones merged, their
 * weights added. A value nobody holds (weight 0) is left out. -0 and +0 are one value.
 * Throws a RangeError when the lengths differ, a weight is not a whole number >= 0, or a value
 * someone holds is not finite.
 */
export const valueCountsOfWeighted = (values: Float64Array, weights: ArrayLike<number>): ValueCounts => {
  if (values.length !== weights.length) throw new RangeError(`value counts: ${values.length} values but ${weights.length} weights`);
  for (let k = 0; k < values.length; k += 1) {
    const weight = weights[k] as number;
    if (!Number.isInteger(weight) || weight < 0) throw new RangeError(`value counts: the weight of ${values[k]} must be a whole number >= 0, got ${weight}`);
    if (weight > 0 && !Number.isFinite(values[k] as number)) throw new RangeError(`value counts: value ${values[k]} at ${k} is not finite`);
  }
  // NaNs are left out of the order: none is held by anyone (checked above)
  const order = radixOrder(values);
  const distinct = new Float64Array(order.length);
  const starts = new Float64Array(order.length + 1);
  let runs = 0;
  let held = 0;
  for (let k = 0; k < order.length; k += 1) {
    const value = values[order[k] as number] as number;
    const weight = weights[order[k] as number] as number;
    if (weight === 0) continue;
    if (runs === 0 || value !== distinct[runs - 1]) {
      distinct[runs] = value;
      starts[runs] = held;
      runs += 1;
    }
    held += weight;
  }
  starts[runs] = held;
  return { values: distinct.slice(0, runs), starts: starts.slice(0, runs + 1) };
};

/**
 * Value counts of a column with one value per customer, without sorting the column: its distinct
 * values are found by hashing ({@link DistinctPairs}) and counted in one pass, and only they are
 * sorted: O(n) expected for n customers, plus O(d) for the d distinct values (revenue to date has
 * ~58 k at 1 M customers). Throws a RangeError naming the first value that is not finite.
 */
export const valueCountsOfColumn = (column: ArrayLike<number>): ValueCounts => {
  const distinct = new DistinctPairs();
  let held = new Float64Array(1024);
  for (let i = 0; i < column.length; i += 1) {
    const value = column[i] as number;
    if (!Number.isFinite(value)) throw new RangeError(`value counts: value ${value} at ${i} is not finite`);
    const id = distinct.indexOf(value, 0);
    if (id === held.length) {
      const grown = new Float64Array(2 * held.length);
      grown.set(held);
      held = grown;
    }
    held[id] = (held[id] as number) + 1;
  }
  return valueCountsOfWeighted(distinct.firsts(), held.subarray(0, distinct.size));
};

/**
 * Value counts of a column that holds one value per scoring pattern (`patternValues[p]`), customer
 * i holding pattern `patternOf[i]`'s: the customers of each pattern counted in one pass, and the
 * patterns' values sorted, not the customers'. The same counts as {@link valueCountsOfColumn} of
 * the column spread to the customers. Throws a RangeError when a pattern is out of range, or as
 * {@link valueCountsOfWeighted} does.
 */
export const valueCountsByPattern = (patternValues: Float64Array, patternOf: Int32Array): ValueCounts => {
  const customers = new Float64Array(patternValues.length);
  for (let i = 0; i < patternOf.length; i += 1) {
    const p = patternOf[i] as number;
    if (!(p >= 0 && p < customers.length)) throw new RangeError(`value counts: customer ${i}'s pattern ${p} is not one of ${customers.length}`);
    customers[p] = (customers[p] as number) + 1;
  }
  return valueCountsOfWeighted(patternValues, customers);
};

/**
 * Value counts of the whole-number values of `column` that are at least `lowest`, by counting
 * (no sort): O(n + range), where range is the spread of the counted values. A column whose values
 * spread far wider than it is long (more than four slots a customer) is sorted instead, so the
 * count array never outgrows the column. Day counts and repeat purchase days are the intended use.
 */
export const integerValueCounts = (column: Int32Array, lowest = Number.NEGATIVE_INFINITY): ValueCounts => {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let kept = 0;
  for (let i = 0; i < column.length; i += 1) {
    const v = column[i] as number;
    if (v < lowest) continue;
    kept += 1;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (kept === 0) return { values: new Float64Array(0), starts: new Float64Array(1) };
  const range = max - min + 1;
  if (range > 4 * kept + 1024) return valueCountsOfSorted(Float64Array.from(column.filter((v) => v >= lowest)).sort());
  const slots = new Float64Array(range);
  for (let i = 0; i < column.length; i += 1) {
    const v = column[i] as number;
    if (v >= lowest) slots[v - min] = (slots[v - min] as number) + 1;
  }
  const values: number[] = [];
  const starts: number[] = [0];
  for (let j = 0; j < range; j += 1) {
    const count = slots[j] as number;
    if (count === 0) continue;
    values.push(min + j);
    starts.push((starts[starts.length - 1] as number) + count);
  }
  return { values: Float64Array.from(values), starts: Float64Array.from(starts) };
};

/**
 * A run of equal values in a sorted column: the value and the positions `[start, end)` holding it.
 * In a column ordered for the rank rules ({@link rankedFromCounts}) a run may hold values that
 * differ by rounding alone, from `value` (the lowest) to `highest`; otherwise the two are one.
 */
export interface Run {
  readonly value: number;
  readonly highest: number;
  readonly start: number;
  readonly end: number;
}

/**
 * What the rank rules read of a column: how many customers, and the run of equal values at any
 * position of the column sorted ascending (0 = the lowest). Built from value counts, or from a
 * column already sorted for another reason; either way no rule sorts anything.
 */
export interface OrderedColumn {
  readonly size: number;
  /** The run holding `position`, 0 <= position < size. O(log d) or O(log n). */
  readonly runAt: (position: number) => Run;
}

/** The ordered column value counts stand for: a run is found by binary search on the starts. */
export const orderedFromCounts = (counts: ValueCounts): OrderedColumn => orderedFromRuns(counts.values, counts.values, counts.starts);

/** Runs `k` from `lowest[k]` to `highest[k]`, starting at `starts[k]` (one entry more: the size). */
const orderedFromRuns = (lowest: Float64Array, highest: Float64Array, starts: Float64Array): OrderedColumn => ({
  size: starts[starts.length - 1] as number,
  runAt: (position) => {
    // the last run that starts at or before the position
    let lo = 0;
    let hi = lowest.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((starts[mid] as number) <= position) lo = mid;
      else hi = mid - 1;
    }
    return { value: lowest[lo] as number, highest: highest[lo] as number, start: starts[lo] as number, end: starts[lo + 1] as number };
  },
});

/**
 * How far apart, relative to their size, two values may lie and still be one value to the rank
 * rules. Money is summed exactly (DECIMAL) but divided and multiplied as doubles: two customers
 * whose CLV or average order value is the same number can hold doubles a few units of the last
 * place apart (15.30 / 3 = 5.1000000000000005, 5.10 / 1 = 5.1), about 1e-16 of the value, and
 * such customers must not be split into two tiers or scores. 1e-12 is thousands of times that
 * noise, and far below any difference of money a segment could mean.
 */
export const TIE_TOLERANCE = 1e-12;

/**
 * The ordered column the rank rules (tiers, value x loyalty, the RFM scores) read: as
 * {@link orderedFromCounts}, but adjacent distinct values within {@link TIE_TOLERANCE} of the lowest
 * value of their run are one run, from its lowest value (`value`) to its highest (`highest`), so a
 * cut point never falls between values that differ by rounding alone. A run spans at most that
 * tolerance: no chain of near values grows without end. O(d) for d distinct values.
 */
export const rankedFromCounts = (counts: ValueCounts): OrderedColumn => {
  const d = counts.values.length;
  const lowest = new Float64Array(d);
  const highest = new Float64Array(d);
  const starts = new Float64Array(d + 1);
  let runs = 0;
  for (let k = 0; k < d; k += 1) {
    const value = counts.values[k] as number;
    const low = lowest[runs - 1] as number;
    if (runs > 0 && value - low <= TIE_TOLERANCE * Math.max(Math.abs(value), Math.abs(low))) highest[runs - 1] = value;
    else {
      lowest[runs] = value;
      highest[runs] = value;
      starts[runs] = counts.starts[k] as number;
      runs += 1;
    }
  }
  starts[runs] = customerCount(counts);
  return runs === d ? orderedFromCounts(counts) : orderedFromRuns(lowest.subarray(0, runs), highest.subarray(0, runs), starts.subarray(0, runs + 1));
};
