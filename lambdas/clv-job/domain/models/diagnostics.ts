/**
 * In-sample fit diagnostics of the transaction model that predicts (BG/NBD or Pareto/NBD), for the
 * report: how many customers made 0, 1, 2, … repeat purchases against how many the model expects
 * (FHL 2005 Figure 3), and P(alive) by frequency and time since the last purchase. Pure functions
 * of a fit's parameters and the same distinct (x, t_x, T, weight) patterns the fit ran on; time in
 * model units throughout. The report shows them beside the customers' P(alive) column, so they must
 * come from the same model.
 *
 * Symbols as in bg-nbd.ts: x frequency (repeat purchases), t_x recency (time of the last repeat
 * purchase), T tenure (time since the first purchase); r, α, a, b the fitted parameters.
 */
import type { Diagnostics, FrequencyHistogramRow, ProbabilityAliveCell } from '../../schemas/summary-diagnostics.js';
import { lbeta, lgamma } from '../math/special.js';
import { CompensatedSum } from '../math/sum.js';
import { logProbabilityAliveUnchecked, validateBgNbdData, type BgNbdData, type BgNbdParams } from './bg-nbd.js';
import { checkParetoNbdParams, makeLogProbabilityAlive, probabilityOfPurchases, type ParetoNbdParams } from './pareto-nbd.js';

/** Edges of the time-since-last-purchase buckets in days: 4, 13, 26 and 52 weeks. */
export const SINCE_LAST_PURCHASE_EDGES_DAYS: readonly number[] = [28, 91, 182, 364];

export interface DiagnosticsOptions {
  /** Frequencies from this one up share the last bucket ("7+"). @default 7 */
  readonly topFrequency?: number;
  /**
   * Upper edges of the time-since-last-purchase buckets, in model units, increasing; the last
   * bucket is open. @default 4, 13, 26, 52 (weeks: pass `SINCE_LAST_PURCHASE_EDGES_DAYS` divided by
   * the days per unit when the model runs in another unit)
   */
  readonly sinceLastPurchaseEdges?: readonly number[];
}

const checkParams = (params: BgNbdParams): void => {
  const { r, alpha, a, b } = params;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0) || !Number.isFinite(r + alpha + a + b)) {
    throw new RangeError(`BG/NBD parameters must be positive and finite: r=${r}, alpha=${alpha}, a=${a}, b=${b}`);
  }
};

/**
 * P(X(t) = k) for k = 0 … maxPurchases: the probability that a customer makes k repeat purchases
 * in the first t time units after their first purchase, FHL 2005 eq. (8):
 *
 *   P(X(t) = x) = B(a, b+x)/B(a, b) · NB(x)
 *               + δ(x>0) B(a+1, b+x−1)/B(a, b) · [1 − Σ_{j<x} NB(j)],
 *   NB(j)       = Γ(r+j)/(Γ(r) j!) · (α/(α+t))^r · (t/(α+t))^j,
 *
 * the negative binomial count of a customer still alive at t, and the probability of having
 * dropped out right after the x-th purchase. Every term is formed in log space; the bracket, a
 * negative binomial tail, is clamped at 0 against rounding. For t = 0 every customer has made no
 * repeat purchase yet. O(maxPurchases).
 */
export const repeatPurchaseProbabilities = (params: BgNbdParams, t: number, maxPurchases: number): Float64Array => {
  checkParams(params);
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be finite and >= 0, got ${t}`);
  if (!(Number.isInteger(maxPurchases) && maxPurchases >= 0)) throw new RangeError(`maxPurchases must be a whole number >= 0, got ${maxPurchases}`);
  const { r, alpha, a, b } = params;
  const out = new Float64Array(maxPurchases + 1);
  if (t === 0) {
    out[0] = 1;
    return out;
  }
  const logStay = -Math.log1p(t / alpha); // ln(α/(α+t))
  const logGo = Math.log(t) - Math.log(alpha + t); // ln(t/(α+t))
  const lgR = lgamma(r);
  const lbetaAB = lbeta(a, b);
  let cumulative = 0;
  for (let x = 0; x <= maxPurchases; x++) {
    const logNb = lgamma(r + x) - lgR - lgamma(x + 1) + r * logStay + x * logGo;
    let p = Math.exp(lbeta(a, b + x) - lbetaAB + logNb);
    if (x > 0) p += Math.exp(lbeta(a + 1, b + x - 1) - lbetaAB) * Math.max(0, 1 - cumulative);
    out[x] = p;
    cumulative += Math.exp(logNb);
  }
  return out;
};

const frequencyLabel = (k: number, top: number): string => (k === top ? `${k}+` : String(k));

const sinceLabel = (from: number, to: number | null): string => (to === null ? `${formatEdge(from)}+` : `${formatEdge(from)}–${formatEdge(to)}`);
const formatEdge = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3))));

/**
 * The report's `diagnostics` section from a fit's parameters and its distinct patterns:
 *
 * - `frequency_histogram`: customers by repeat purchases 0, 1, …, top+ (actual: Σ w_i [x_i = k];
 *   expected: Σ w_i P(X(T_i) = k), eq. 8, since a customer's frequency is X at their own tenure
 *   T_i; the open bucket takes 1 − Σ_{k<top} P). Both columns sum to Σ w_i.
 * - `probability_alive_grid`: the weighted mean P(alive | x, t_x, T) (eq. 11) by frequency bucket
 *   and time since the last purchase, T − t_x; only cells with customers.
 *
 * Cost: O(distinct T · top) special functions for the histogram and one P(alive) per pattern.
 * Throws a RangeError for invalid parameters, options, columns of different lengths or invalid rows.
 */
export const bgnbdDiagnostics = (params: BgNbdParams, data: BgNbdData, options: DiagnosticsOptions = {}): Diagnostics => {
  checkParams(params);
  const { r, alpha, a, b } = params;
  return diagnosticsOf(
    { repeatPurchaseProbabilities: (t, max) => repeatPurchaseProbabilities(params, t, max), logProbabilityAlive: (x, tx, T) => logProbabilityAliveUnchecked(r, alpha, a, b, x, tx, T) },
    data,
    options,
  );
};

/**
 * The same diagnostics under a Pareto/NBD fit: expected customers Σ w_i P(X(T_i) = k) from the
 * Pareto/NBD's P(X(t) = n) (Fader & Hardie 2006, eq. 20, see probabilityOfPurchases), P(alive) from
 * its eq. (11) of the 2005 note. Same shapes, cost (one integral per distinct T and k < top) and errors.
 */
export const paretoNbdDiagnostics = (params: ParetoNbdParams, data: BgNbdData, options: DiagnosticsOptions = {}): Diagnostics => {
  checkParetoNbdParams(params);
  return diagnosticsOf(
    {
      repeatPurchaseProbabilities: (t, max) => Float64Array.from({ length: max + 1 }, (_, n) => probabilityOfPurchases(params, t, n)),
      logProbabilityAlive: makeLogProbabilityAlive(params),
    },
    data,
    options,
  );
};

/**
 * Relative slack under a bucket edge: T and t_x are whole days divided by the model unit (7 for
 * weeks), so T − t_x can fall an ulp short of an edge it lies on (291/7 − 200/7 = 12.999999999999996
 * weeks for 91 days), which would put a customer 13 weeks out in the 4–13 bucket in weeks and in
 * 91–182 in days. Days apart are at least 1/7 of a week, far beyond this slack.
 */
const ON_EDGE = 1e-9;

/** What the diagnostics need of a fitted transaction model. */
interface DiagnosedModel {
  /** P(X(t) = k) for k = 0 … max: repeat purchases in a new customer's first t units. */
  readonly repeatPurchaseProbabilities: (t: number, max: number) => Float64Array;
  /** ln P(alive | x, t_x, T) of a validated customer. */
  readonly logProbabilityAlive: (x: number, tx: number, T: number) => number;
}

const diagnosticsOf = (model: DiagnosedModel, data: BgNbdData, options: DiagnosticsOptions): Diagnostics => {
  const top = options.topFrequency ?? 7;
  if (!(Number.isInteger(top) && top >= 1)) throw new RangeError(`topFrequency must be a whole number >= 1, got ${top}`);
  const edges = options.sinceLastPurchaseEdges ?? [4, 13, 26, 52];
  if (edges.some((e, i) => !(e > 0) || !Number.isFinite(e) || (i > 0 && !(e > edges[i - 1]!)))) {
    throw new RangeError(`sinceLastPurchaseEdges must be finite, positive and increasing, got ${edges.join(', ')}`);
  }
  validateBgNbdData(data);
  const n = data.x.length;

  const buckets = edges.length + 1;
  const actual = Array.from({ length: top + 1 }, () => new CompensatedSum());
  const weightByT = new Map<number, number>();
  const cellWeight = new Float64Array((top + 1) * buckets);
  const cellAlive = Array.from({ length: (top + 1) * buckets }, () => new CompensatedSum());
  for (let i = 0; i < n; i++) {
    const x = data.x[i]!;
    const tx = data.tx[i]!;
    const T = data.T[i]!;
    const w = data.weight[i]!;
    if (w === 0) continue;
    const k = Math.min(x, top);
    actual[k]!.add(w);
    weightByT.set(T, (weightByT.get(T) ?? 0) + w);
    const since = T - tx;
    let bucket = 0;
    while (bucket < edges.length && since >= edges[bucket]! * (1 - ON_EDGE)) bucket++;
    const cell = k * buckets + bucket;
    cellWeight[cell] = cellWeight[cell]! + w;
    cellAlive[cell]!.add(w * Math.exp(model.logProbabilityAlive(x, tx, T)));
  }

  // A customer's frequency is X(T_i): the pmf depends on T only, so it is evaluated once per distinct T.
  const expected = Array.from({ length: top + 1 }, () => new CompensatedSum());
  for (const [T, w] of weightByT) {
    const pmf = model.repeatPurchaseProbabilities(T, top - 1);
    let below = 0;
    for (let k = 0; k < top; k++) {
      expected[k]!.add(w * pmf[k]!);
      below += pmf[k]!;
    }
    expected[top]!.add(w * Math.max(0, 1 - below));
  }

  const frequencyHistogram: FrequencyHistogramRow[] = actual.map((sum, k) => ({
    frequency: frequencyLabel(k, top),
    actual_customers: sum.value,
    expected_customers: Math.max(0, expected[k]!.value),
  }));
  const grid: ProbabilityAliveCell[] = [];
  for (let k = 0; k <= top; k++) {
    for (let j = 0; j < buckets; j++) {
      const w = cellWeight[k * buckets + j]!;
      if (!(w > 0)) continue;
      const from = j === 0 ? 0 : edges[j - 1]!;
      const to = j < edges.length ? edges[j]! : null;
      grid.push({
        frequency: frequencyLabel(k, top),
        since_last_purchase: sinceLabel(from, to),
        since_last_purchase_from: from,
        since_last_purchase_to: to,
        probability_alive: Math.min(1, Math.max(0, cellAlive[k * buckets + j]!.value / w)),
        customers: w,
      });
    }
  }
  return { frequency_histogram: frequencyHistogram, probability_alive_grid: grid };
};
