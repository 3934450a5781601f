/**
 * Compensated (Neumaier) summation. Log-likelihoods and expected totals are sums of hundreds of
 * thousands of terms of mixed size; plain `+=` loses the small ones, and a fit whose objective is
 * noisy in the 12th digit cannot be driven to a tight gradient tolerance.
 *
 * Neumaier's variant of Kahan summation also stays exact when a new term is larger than the running
 * sum, which Kahan's does not. Error bound: about 2 eps |sum| + O(n eps^2) sum |x_i|, independent of n
 * to first order.
 */

/** A running compensated sum. `add` is O(1) and allocation-free, so it can sit in hot loops. */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const s = this.sum;
    const t = s + x;
    this.compensation += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.compensation;
  }
}

/** Neumaier sum of `values`. O(n), no allocation. */
export const neumaierSum = (values: ArrayLike<number>): number => {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return sum + compensation;
};

/** Neumaier sum of `values[i] * weights[i]`; the arrays must have the same length. O(n). */
export const weightedSum = (values: ArrayLike<number>, weights: ArrayLike<number>): number => {
  if (values.length !== weights.length) throw new RangeError(`weightedSum: ${values.length} values but ${weights.length} weights`);
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]! * weights[i]!;
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return sum + compensation;
};
