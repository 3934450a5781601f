/**
 * Customers' (x, tx, T) tuples indexed once for scoring them under many parameter sets (the
 * intervals' draws): the distinct frequencies and the distinct times among recencies and tenures,
 * and each tuple's place in them. P(alive)'s logarithms — ln(α + t), ln(b + x − 1), the
 * Pareto/NBD's hypergeometric ln A(x, t) — depend on one of these each, so a parameter set costs
 * them once per distinct value rather than once per tuple, and no hashing at all.
 */
import { DistinctPairs } from './bg-nbd.js';

export interface TupleIndex {
  /** Tuples, in model units: frequency, recency, tenure (validated by the caller). */
  readonly x: Float64Array | Int32Array;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  /** Distinct frequencies, and tuple j's among them. */
  readonly xs: Float64Array;
  readonly xOf: Int32Array;
  /** Distinct times among recencies and tenures, and tuple j's recency and tenure among them. */
  readonly times: Float64Array;
  readonly txOf: Int32Array;
  readonly TOf: Int32Array;
  /**
   * Distinct (x, t) pairs of the tuples with tx < T (those whose P(alive) is not 1 for the
   * Pareto/NBD), and tuple j's (x, tx) and (x, T) among them; −1 where tx ≥ T.
   */
  readonly pairX: Float64Array;
  readonly pairT: Float64Array;
  readonly pairOfTx: Int32Array;
  readonly pairOfT: Int32Array;
  /** Each (x, t) pair's x among the distinct frequencies and t among the distinct times. */
  readonly pairXOf: Int32Array;
  readonly pairTimeOf: Int32Array;
}

/**
 * Indexes tuples (x, tx, T) given in model units. O(n) expected time; throws a RangeError when
 * the columns differ in length (values are the caller's to validate: NaN would never match).
 */
export const indexTuples = (x: Float64Array | Int32Array, tx: Float64Array, T: Float64Array): TupleIndex => {
  const n = x.length;
  if (tx.length !== n || T.length !== n) throw new RangeError(`tuple columns differ in length: x ${n}, tx ${tx.length}, T ${T.length}`);
  const xs = new DistinctPairs();
  const times = new DistinctPairs();
  const pairs = new DistinctPairs();
  const xOf = new Int32Array(n);
  const txOf = new Int32Array(n);
  const TOf = new Int32Array(n);
  const pairOfTx = new Int32Array(n);
  const pairOfT = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    xOf[j] = xs.indexOf(x[j]!, 0);
    txOf[j] = times.indexOf(tx[j]!, 0);
    TOf[j] = times.indexOf(T[j]!, 0);
    const open = tx[j]! < T[j]!;
    pairOfTx[j] = open ? pairs.indexOf(x[j]!, tx[j]!) : -1;
    pairOfT[j] = open ? pairs.indexOf(x[j]!, T[j]!) : -1;
  }
  const pairX = pairs.firsts();
  const pairXOf = new Int32Array(pairX.length);
  const pairTimeOf = new Int32Array(pairX.length);
  for (let j = 0; j < n; j++) {
    if (pairOfT[j]! < 0) continue;
    pairXOf[pairOfTx[j]!] = xOf[j]!;
    pairTimeOf[pairOfTx[j]!] = txOf[j]!;
    pairXOf[pairOfT[j]!] = xOf[j]!;
    pairTimeOf[pairOfT[j]!] = TOf[j]!;
  }
  return { x, tx, T, xs: xs.firsts(), xOf, times: times.firsts(), txOf, TOf, pairX, pairT: pairs.seconds(), pairOfTx, pairOfT, pairXOf, pairTimeOf };
};
