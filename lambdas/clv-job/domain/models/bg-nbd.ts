/**
 * BG/NBD: the beta-geometric / negative binomial distribution model of repeat buying
 * (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", Marketing Science 24(2)).
 *
 * Symbols, as in the paper, for one customer observed from their first purchase (time 0):
 * - x  — frequency: number of repeat purchases in (0, T]; the first purchase is not counted;
 * - tx — recency: time of the last repeat purchase (0 when x = 0);
 * - T  — tenure: time from the first purchase to the end of observation;
 * - r, alpha — shape and rate of the gamma distribution of the purchase rate λ;
 * - a, b — the beta distribution of the probability p of dropping out after each purchase.
 *
 * Time is in model units (weeks or days; the caller converts). Every function here is pure and
 * reports a fit that cannot be trusted through its diagnostics; only structurally invalid input
 * (arrays of different lengths, negative or non-finite values, tx > T, fractional x) throws a
 * RangeError, because that is a bug upstream rather than a property of the data.
 */
import { continueHypergeometric, digamma, lbetaRatio, lgammaDifference } from '../math/special.js';
import { minimiseBfgs, type ObjectiveWithGradient } from '../math/optimise.js';
import { CompensatedSum } from '../math/sum.js';
import { ScratchArena } from '../math/scratch-arena.js';
import { expectedPurchasesByMixture } from './bg-nbd-mixture.js';
import { concludeLogParameterFit, untrustedFit, type LogParameterFit } from './log-parameter-fit.js';
import type { TupleIndex } from './tuple-index.js';
import { counted, figure } from '../figure.js';

export type { FitDiagnostics } from './log-parameter-fit.js';

export interface BgNbdParams {
  readonly r: number;
  readonly alpha: number;
  readonly a: number;
  readonly b: number;
}

/** Distinct (x, t_x, T) patterns with how many customers share each: the compressed data the fit runs on. */
export interface BgNbdData {
  readonly x: Float64Array;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  readonly weight: Float64Array;
}

/** The fit; `logCovariance` is that of (ln r, ln α, ln a, ln b), unit-free (a change of time unit shifts ln α only). */
export type BgNbdFit = LogParameterFit<BgNbdParams>;

/** Below these counts the four parameters are not identified well enough to act on. */
export const BG_NBD_MIN_CUSTOMERS = 20;
export const BG_NBD_MIN_REPEAT_BUYERS = 5;

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** Throws a RangeError naming the first row that is not a customer pattern. */
export const validateBgNbdData = (data: BgNbdData): void => {
  const n = data.x.length;
  if (data.tx.length !== n || data.T.length !== n || data.weight.length !== n) {
    throw new RangeError(`BG/NBD data columns differ in length: x ${n}, tx ${data.tx.length}, T ${data.T.length}, weight ${data.weight.length}`);
  }
  for (let i = 0; i < n; i++) {
    const x = data.x[i]!;
    const tx = data.tx[i]!;
    const T = data.T[i]!;
    const w = data.weight[i]!;
    if (!(Number.isInteger(x) && x >= 0) || !(tx >= 0) || !(T >= tx) || !Number.isFinite(T) || !(w >= 0) || !Number.isFinite(w) || (x === 0 && tx !== 0)) {
      throw new RangeError(`BG/NBD data row ${i} is invalid: x=${x}, tx=${tx}, T=${T}, weight=${w} (need whole x >= 0, 0 <= tx <= T, tx = 0 when x = 0, finite weight >= 0)`);
    }
  }
};

/** Weighted totals of (x, t_x, T) patterns that both transaction models' fits start from. */
export interface TransactionDataSummary {
  /** Σ weight over patterns of positive weight. */
  readonly customers: number;
  /** Σ weight over those with x > 0. */
  readonly repeatBuyers: number;
  /** Σ weight · x (repeat purchases). */
  readonly sumX: number;
  /** Σ weight · T, in the data's time unit. */
  readonly sumT: number;
  /** The longest T among them (0 when none). */
  readonly maxT: number;
}

/** Totals of {@link TransactionDataSummary} in one pass; patterns of weight 0 do not count. */
export const summariseTransactionData = (data: BgNbdData): TransactionDataSummary => {
  let customers = 0;
  let repeatBuyers = 0;
  let sumX = 0;
  let sumT = 0;
  let maxT = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i]!;
    if (!(w > 0)) continue;
    customers += w;
    if (data.x[i]! > 0) repeatBuyers += w;
    sumX += w * data.x[i]!;
    sumT += w * data.T[i]!;
    maxT = Math.max(maxT, data.T[i]!);
  }
  return { customers, repeatBuyers, sumX, sumT, maxT };
};

/**
 * How a fit reads time. Given `unitDays`, the data's recencies and tenures are in days, and what the
 * fit reports (the rates α and β, the log-likelihood, its messages) is in units of `unitDays` days
 * (7: weeks). Why: the search runs on time divided by the longest tenure, and days divided by 7
 * beforehand reach it with other roundings; where the likelihood is flat (a ridge the data do not
 * identify) the search then ends elsewhere, trusted in weeks and not in days on the same orders.
 * Fitted on days, the search is the same bit for bit in either unit; only what it reports is converted.
 */
export interface FitTimeOptions {
  /** Days per time unit of the fit's parameters; the data are then in days. @default 1 (parameters in the data's own unit) */
  readonly unitDays?: number;
}

/** The data with recencies and tenures in units of `unitDays` days (the data itself when that is 1). */
export const dataInUnit = (data: BgNbdData, unitDays: number): BgNbdData =>
  unitDays === 1 ? data : { ...data, tx: data.tx.map((t) => t / unitDays), T: data.T.map((t) => t / unitDays) };

/**
 * Groups per-customer (x, tx, T) into distinct patterns with counts (or summed `weight`s).
 * Rows come out in order of first appearance. O(n) expected time.
 */
export const compressBgNbdData = (
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  T: ArrayLike<number>,
  weight?: ArrayLike<number>,
): BgNbdData => {
  const n = x.length;
  if (tx.length !== n || T.length !== n || (weight !== undefined && weight.length !== n)) throw new RangeError('compressBgNbdData: columns differ in length');
  const index = new Map<number, Map<number, Map<number, number>>>();
  const ox: number[] = [];
  const otx: number[] = [];
  const oT: number[] = [];
  const ow: number[] = [];
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const ti = tx[i]!;
    const Ti = T[i]!;
    const wi = weight === undefined ? 1 : weight[i]!;
    let byT = index.get(xi);
    if (byT === undefined) index.set(xi, (byT = new Map()));
    let byTx = byT.get(Ti);
    if (byTx === undefined) byT.set(Ti, (byTx = new Map()));
    const k = byTx.get(ti);
    if (k === undefined) {
      byTx.set(ti, ox.length);
      ox.push(xi);
      otx.push(ti);
      oT.push(Ti);
      ow.push(wi);
    } else {
      ow[k] = ow[k]! + wi;
    }
  }
  return { x: Float64Array.from(ox), tx: Float64Array.from(otx), T: Float64Array.from(oT), weight: Float64Array.from(ow) };
};

// ---------------------------------------------------------------------------------------------
// Likelihood
// ---------------------------------------------------------------------------------------------

/**
 * ln L(r, α, a, b | x, tx, T) for one customer, FHL 2005 eq. (6):
 *
 *   L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / Γ(r) · [ (α+T)^−(r+x) + δ(x>0) a/(b+x−1) (α+tx)^−(r+x) ]
 *
 * with the bracket summed in log space (log-sum-exp) so neither term under- or overflows. The
 * log-gamma and log-beta ratios are taken as differences ({@link lgammaDifference}), and α^r with
 * each power of α + t as (1 + t/α)^−r: with r or a near 1e8 the plain terms are ~1e9 and cancel.
 */
const logLikelihoodOne = (r: number, alpha: number, a: number, b: number, x: number, tx: number, T: number): number => {
  const common = lgammaDifference(r, x) + lbetaRatio(a, b, x);
  const alive = -r * Math.log1p(T / alpha) - x * Math.log(alpha + T);
  if (x === 0) return common + alive;
  const dropped = Math.log(a) - Math.log(b + (x - 1)) - r * Math.log1p(tx / alpha) - x * Math.log(alpha + tx);
  const max = Math.max(alive, dropped);
  return common + max + Math.log1p(Math.exp(-Math.abs(alive - dropped)));
};

/**
 * The weighted log-likelihood Σ_i w_i ln L(params | x_i, tx_i, T_i) (FHL 2005 eq. 6), summed with
 * compensation. A direct per-row evaluation: the fit uses an equivalent, faster form, and the
 * tests hold the two together. NaN when a parameter is not positive.
 */
export const bgnbdLogLikelihood = (params: BgNbdParams, data: BgNbdData): number => {
  validateBgNbdData(data);
  const { r, alpha, a, b } = params;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return Number.NaN;
  const sum = new CompensatedSum();
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i]!;
    if (w > 0) sum.add(w * logLikelihoodOne(r, alpha, a, b, data.x[i]!, data.tx[i]!, data.T[i]!));
  }
  return sum.value;
};

const bits = new Float64Array(1);
const bitWords = new Uint32Array(bits.buffer);

/** 32-bit mix of a double's bit pattern (−0 is folded into 0 by the caller). */
const hashDouble = (v: number, seed: number): number => {
  bits[0] = v;
  let h = Math.imul(bitWords[0]! ^ seed, 0x85ebca6b) ^ Math.imul(bitWords[1]!, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
};

/** Single values are stored as (v, 0): skip hashing the constant half. */
const pairHash = (a: number, b: number): number => (b === 0 ? hashDouble(a, 0x9e3779b9) : hashDouble(a, 0x9e3779b9) ^ hashDouble(b, 0x7f4a7c15));

/**
 * Distinct pairs of numbers, each with the index of its first appearance: open addressing on the
 * doubles' bit patterns. `Map<number, …>` boxes non-integer keys, which made de-duplicating a few
 * hundred thousand (x, T) or T values cost as much as a likelihood evaluation; this costs a few
 * nanoseconds per lookup. −0 and 0 are one key; keys must not be NaN.
 */
export class DistinctPairs {
  private first = new Float64Array(16);
  private second = new Float64Array(16);
  private slots = new Int32Array(32);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Index of (a, b), added if it is new. Amortised O(1). */
  indexOf(a: number, b: number): number {
    const x = a + 0;
    const y = b + 0;
    const mask = this.slots.length - 1;
    let slot = pairHash(x, y) & mask;
    for (;;) {
      const id = this.slots[slot]! - 1;
      if (id < 0) break;
      if (this.first[id] === x && this.second[id] === y) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.count++;
    if (id === this.first.length) {
      const grow = (old: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
        const next = new Float64Array(2 * old.length);
        next.set(old);
        return next;
      };
      this.first = grow(this.first);
      this.second = grow(this.second);
    }
    this.first[id] = x;
    this.second[id] = y;
    this.slots[slot] = id + 1;
    if (2 * this.count > this.slots.length) this.rehash();
    return id;
  }

  /** First components, in order of first appearance. */
  firsts(): Float64Array {
    return this.first.slice(0, this.count);
  }

  seconds(): Float64Array {
    return this.second.slice(0, this.count);
  }

  private rehash(): void {
    const slots = new Int32Array(2 * this.slots.length);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = pairHash(this.first[id]!, this.second[id]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
  }
}

/**
 * The likelihood's data, arranged so that one evaluation costs O(distinct x) special functions,
 * O(distinct T + distinct tx) logarithms, and one exp + one log1p per repeat-buyer pattern:
 *
 *   ln L_i = K(x_i) − (r + x_i) ln(α + T_i) + δ(x_i>0) softplus(u_i),
 *   K(x)   = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b),
 *   u_i    = ln a − ln(b + x_i − 1) + (r + x_i) [ln(α + T_i) − ln(α + tx_i)],
 *
 * where softplus(u) = ln(1 + e^u) is the log-sum-exp of eq. (6)'s two terms, factored by its first.
 * Customers with x = 0 need no per-row work at all: they enter only through K(0) and the T sums.
 */
interface PreparedData {
  readonly totalWeight: number;
  /** Σ w x: converts the time-scaled log-likelihood back to the caller's unit. */
  readonly weightedX: number;
  readonly xValues: Float64Array;
  readonly xWeight: Float64Array;
  readonly tValues: Float64Array;
  /** Σ w and Σ w x per distinct T. */
  readonly tWeight: Float64Array;
  readonly tWeightX: Float64Array;
  readonly txValues: Float64Array;
  /** Repeat-buyer patterns (x > 0), grouped by x: group k is rows [groupStart[k], groupStart[k+1]). */
  readonly groupStart: Int32Array;
  readonly rowW: Float64Array;
  readonly rowTIndex: Int32Array;
  readonly rowTxIndex: Int32Array;
}

/** Grows a Float64Array-backed list when index k reaches its length. */
const ensure = (v: Float64Array<ArrayBuffer>, k: number): Float64Array<ArrayBuffer> => {
  if (k < v.length) return v;
  const next = new Float64Array(2 * v.length);
  next.set(v);
  return next;
};

/** One pass to index distinct x, T and t_x and accumulate their weights, one to group rows by x. O(n). */
const prepare = (data: BgNbdData, timeScale: number): PreparedData => {
  const n = data.x.length;
  const xs = new DistinctPairs();
  const Ts = new DistinctPairs();
  const txs = new DistinctPairs();
  const rowX = new Int32Array(n);
  const rowT = new Int32Array(n);
  const rowTx = new Int32Array(n).fill(-1);
  let xWeight = new Float64Array(64);
  let xRows = new Float64Array(64);
  let tWeight = new Float64Array(1024);
  let tWeightX = new Float64Array(1024);
  let totalWeight = 0;
  let weightedX = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight[i]!;
    if (!(w > 0)) {
      rowX[i] = -1;
      continue;
    }
    const x = data.x[i]!;
    const xi = xs.indexOf(x, 0);
    const ti = Ts.indexOf(data.T[i]!, 0);
    xWeight = ensure(xWeight, xi);
    xRows = ensure(xRows, xi);
    tWeight = ensure(tWeight, ti);
    tWeightX = ensure(tWeightX, ti);
    xWeight[xi] += w;
    tWeight[ti] += w;
    tWeightX[ti] += w * x;
    totalWeight += w;
    weightedX += w * x;
    rowX[i] = xi;
    rowT[i] = ti;
    if (x > 0) {
      rowTx[i] = txs.indexOf(data.tx[i]!, 0);
      xRows[xi]++;
    }
  }
  const nx = xs.size;
  const groupStart = new Int32Array(nx + 1);
  for (let k = 0; k < nx; k++) groupStart[k + 1] = groupStart[k]! + xRows[k]!;
  const rows = groupStart[nx]!;
  const next = groupStart.slice(0, nx);
  const rowW = new Float64Array(rows);
  const rowTIndex = new Int32Array(rows);
  const rowTxIndex = new Int32Array(rows);
  for (let i = 0; i < n; i++) {
    if (rowTx[i]! < 0) continue;
    const at = next[rowX[i]!]!++;
    rowW[at] = data.weight[i]!;
    rowTIndex[at] = rowT[i]!;
    rowTxIndex[at] = rowTx[i]!;
  }
  const scale = (v: Float64Array): Float64Array => v.map((t) => t / timeScale);
  return {
    totalWeight,
    weightedX,
    xValues: xs.firsts(),
    xWeight: xWeight.slice(0, nx),
    tValues: scale(Ts.firsts()),
    tWeight: tWeight.slice(0, Ts.size),
    tWeightX: tWeightX.slice(0, Ts.size),
    txValues: scale(txs.firsts()),
    groupStart,
    rowW,
    rowTIndex,
    rowTxIndex,
  };
};

/**
 * −LL/N and its gradient with respect to θ = (ln r, ln α, ln a, ln b), on prepared (time-scaled)
 * data. Analytic derivatives of the decomposition above, with s_i = logistic(u_i) the posterior
 * probability that customer i dropped out after the last purchase:
 *
 *   ∂/∂r = Σ w[ψ(r+x) − ψ(r) + ln α − ln(α+T) + s d],        d = ln(α+T) − ln(α+tx)
 *   ∂/∂α = Σ w[r/α − (r+x)/(α+T) + s (r+x)(1/(α+T) − 1/(α+tx))]
 *   ∂/∂a = Σ w[ψ(a+b) − ψ(a+b+x) + s/a]
 *   ∂/∂b = Σ w[ψ(b+x) − ψ(b) + ψ(a+b) − ψ(a+b+x) − s/(b+x−1)]
 *
 * The returned closure owns its scratch buffers (so it allocates nothing per call) but keeps no
 * state between calls.
 */
const makeObjective = (prep: PreparedData): ObjectiveWithGradient => {
  const nx = prep.xValues.length;
  const nT = prep.tValues.length;
  const nTx = prep.txValues.length;
  const logT = new Float64Array(nT);
  const invT = new Float64Array(nT);
  const logTx = new Float64Array(nTx);
  const invTx = new Float64Array(nTx);
  const W = prep.totalWeight;
  const { xValues, xWeight, tValues, tWeight, tWeightX, txValues, groupStart, rowW, rowTIndex, rowTxIndex } = prep;

  return (theta, gradient) => {
    for (let i = 0; i < 4; i++) {
      if (!(Math.abs(theta[i]!) <= 40)) {
        gradient.fill(0);
        return Number.POSITIVE_INFINITY;
      }
    }
    const r = Math.exp(theta[0]!);
    const alpha = Math.exp(theta[1]!);
    const a = Math.exp(theta[2]!);
    const b = Math.exp(theta[3]!);
    const logAlpha = Math.log(alpha);
    const ll = new CompensatedSum();

    // Terms that depend on T only; with the x-only r ln α below, r ln α − r ln(α + T) is taken as
    // −r log1p(T/α), which does not cancel when α ≫ T.
    let dR = 0;
    let dAlpha = 0;
    for (let j = 0; j < nT; j++) {
      const v = alpha + tValues[j]!;
      const lv = Math.log(v);
      logT[j] = lv;
      invT[j] = 1 / v;
      const coef = r * tWeight[j]! + tWeightX[j]!;
      ll.add(-r * tWeight[j]! * Math.log1p(tValues[j]! / alpha) - tWeightX[j]! * lv);
      dR -= tWeight[j]! * lv;
      dAlpha -= coef / v;
    }
    for (let j = 0; j < nTx; j++) {
      const v = alpha + txValues[j]!;
      logTx[j] = Math.log(v);
      invTx[j] = 1 / v;
    }

    const psiR = digamma(r);
    const psiB = digamma(b);
    const psiAB = digamma(a + b);
    const logA = Math.log(a);
    let dA = 0;
    let dB = 0;
    let sR = 0;
    let sAlpha = 0;
    for (let k = 0; k < nx; k++) {
      // Terms that depend on x only.
      const x = xValues[k]!;
      const wx = xWeight[k]!;
      dR += wx * logAlpha;
      dAlpha += (wx * r) / alpha;
      if (x === 0) continue;
      const psiABx = digamma(a + b + x);
      ll.add(wx * (lgammaDifference(r, x) + lbetaRatio(a, b, x)));
      dR += wx * (digamma(r + x) - psiR);
      dA += wx * (psiAB - psiABx);
      dB += wx * (digamma(b + x) - psiB + psiAB - psiABx);

      // The only per-row work: the repeat buyers with this x. Plain sums within a group (blocks
      // of at most 256 rows), compensated across blocks: ~1e−14 relative, at a fraction of the
      // cost of compensating every row.
      const rx = r + x;
      const cx = logA - Math.log(b + (x - 1));
      let sx = 0;
      let block = 0;
      const end = groupStart[k + 1]!;
      for (let i = groupStart[k]!; i < end; i++) {
        const ti = rowTIndex[i]!;
        const txi = rowTxIndex[i]!;
        const w = rowW[i]!;
        const d = logT[ti]! - logTx[txi]!;
        const u = cx + rx * d;
        const e = Math.exp(-Math.abs(u));
        const s = (w * (u > 0 ? 1 : e)) / (1 + e);
        block += w * ((u > 0 ? u : 0) + Math.log1p(e));
        sR += s * d;
        sAlpha += s * rx * (invT[ti]! - invTx[txi]!);
        sx += s;
        if ((i & 255) === 255) {
          ll.add(block);
          block = 0;
        }
      }
      ll.add(block);
      dA += sx / a;
      dB -= sx / (b + (x - 1));
    }
    dR += sR;
    dAlpha += sAlpha;

    const value = -ll.value / W;
    gradient[0] = (-r * dR) / W;
    gradient[1] = (-alpha * dAlpha) / W;
    gradient[2] = (-a * dA) / W;
    gradient[3] = (-b * dB) / W;
    return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
  };
};

/**
 * The weighted log-likelihood and its gradient with respect to (r, α, a, b), by the same one-pass
 * evaluation the fit runs (see the decomposition above {@link makeObjective}), in the data's own
 * time unit. NaN value and gradient when a parameter is not positive.
 */
export const bgnbdLogLikelihoodWithGradient = (params: BgNbdParams, data: BgNbdData): { readonly value: number; readonly gradient: BgNbdParams } => {
  validateBgNbdData(data);
  const { r, alpha, a, b } = params;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return { value: Number.NaN, gradient: { r: Number.NaN, alpha: Number.NaN, a: Number.NaN, b: Number.NaN } };
  const prep = prepare(data, 1);
  if (prep.totalWeight === 0) return { value: 0, gradient: { r: 0, alpha: 0, a: 0, b: 0 } };
  const g = new Float64Array(4);
  const mean = makeObjective(prep)(Float64Array.of(Math.log(r), Math.log(alpha), Math.log(a), Math.log(b)), g);
  const W = prep.totalWeight;
  return {
    value: -mean * W,
    gradient: { r: (-g[0]! * W) / r, alpha: (-g[1]! * W) / alpha, a: (-g[2]! * W) / a, b: (-g[3]! * W) / b },
  };
};

// ---------------------------------------------------------------------------------------------
// Fit
// ---------------------------------------------------------------------------------------------

export interface FitBgNbdOptions extends FitTimeOptions {
  /** @default 200 */
  readonly maxIterations?: number;
  /** Starting point, in the parameters' time unit. @default a crude moment guess */
  readonly initial?: BgNbdParams;
}

/** Above four times this many repeat-buyer patterns, a fit starts from a fit on a subsample of about this size. */
export const WARM_START_ROWS = 25_000;

/**
 * A deterministic subsample for a warm start: every pattern with x = 0 (few and cheap) and every
 * k-th repeat-buyer pattern with its weight multiplied by k, so that about `rows` repeat-buyer
 * patterns remain. The fits minimise a per-customer mean, so a fit on the subsample has nearly the
 * full data's estimate and curvature, and the full fit then needs a few iterations instead of ~25.
 * Null when there are no more than 4 · rows repeat-buyer patterns (the full fit is cheap enough).
 */
export const repeatBuyerSubsample = (data: BgNbdData, rows: number): BgNbdData | null => {
  let repeatRows = 0;
  for (let i = 0; i < data.x.length; i++) if (data.weight[i]! > 0 && data.x[i]! > 0) repeatRows++;
  if (repeatRows <= 4 * rows) return null;
  const k = Math.ceil(repeatRows / rows);
  const keep: number[] = [];
  let repeat = 0;
  for (let i = 0; i < data.x.length; i++) {
    if (!(data.weight[i]! > 0)) continue;
    if (data.x[i]! === 0 || repeat++ % k === 0) keep.push(i);
  }
  return {
    x: Float64Array.from(keep, (i) => data.x[i]!),
    tx: Float64Array.from(keep, (i) => data.tx[i]!),
    T: Float64Array.from(keep, (i) => data.T[i]!),
    weight: Float64Array.from(keep, (i) => (data.x[i]! === 0 ? 1 : k) * data.weight[i]!),
  };
};

/** The subsample fit's estimate and BFGS inverse Hessian, to start the full fit; null when the data are small or it fails. */
const warmStart = (data: BgNbdData, scale: number, start: readonly number[], maxIterations: number): { x: Float64Array; inverseHessian: Float64Array } | null => {
  const sample = repeatBuyerSubsample(data, WARM_START_ROWS);
  if (sample === null) return null;
  const run = minimiseBfgs(makeObjective(prepare(sample, scale)), start, { maxIterations, gradientTolerance: 1e-6 });
  return run.converged ? { x: run.x, inverseHessian: run.inverseHessian } : null;
};

const untrusted = (params: BgNbdParams, data: BgNbdData, customers: number, message: string): BgNbdFit =>
  untrustedFit(params, customers > 0 ? bgnbdLogLikelihood(params, data) : 0, customers, message);

/**
 * Maximum-likelihood BG/NBD fit on weighted distinct patterns.
 *
 * Optimises θ = ln(r, α, a, b) by BFGS with analytic gradients, on time divided by the largest T
 * (so α and the ln(α + t) terms are of order 1 whatever the unit, as lifetimes does); α is scaled
 * back, so the parameters and the log-likelihood are in the caller's unit.
 *
 * Minimum data: at least {@link BG_NBD_MIN_CUSTOMERS} customers, of whom at least
 * {@link BG_NBD_MIN_REPEAT_BUYERS} are repeat buyers, and some T > 0. With less, or when the
 * optimiser does not converge, or a parameter runs off toward 0 or infinity (the likelihood is then
 * maximised on a boundary, e.g. no evidence of dropout at all), the fit comes back with
 * `diagnostics.converged = false` and a message, finite parameters (the last iterate, or the
 * starting point) and no standard errors — never NaN, never an exception.
 *
 * Cost: O(n) to prepare, then O(patterns with x > 0) per evaluation: ~25 evaluations on small data;
 * above 100,000 repeat-buyer patterns, a warm start from a ~25,000-pattern subsample and then
 * typically 5–10 full evaluations. Standard errors take 8 more (central differences of the gradient).
 * `diagnostics.iterations` counts the iterations on the full data.
 */
export const fitBgNbd = (data: BgNbdData, options: FitBgNbdOptions = {}): BgNbdFit => {
  validateBgNbdData(data);
  const unitDays = options.unitDays ?? 1;
  const { customers, repeatBuyers, sumX, sumT, maxT } = summariseTransactionData(data);
  const scale = maxT > 0 ? maxT : 1;
  // α in the data's time, where the search runs, and in the unit reported
  const inDataTime = (p: BgNbdParams): BgNbdParams => ({ ...p, alpha: p.alpha * unitDays });
  const reported = (p: BgNbdParams): BgNbdParams => ({ ...p, alpha: p.alpha / unitDays });
  // Crude start: r = 1, E[λ] = r/α ≈ Σx / ΣT, and a mean dropout probability a/(a+b) of 1/4.
  const guess: BgNbdParams = options.initial === undefined ? { r: 1, alpha: sumX > 0 ? sumT / sumX : scale, a: 1, b: 3 } : inDataTime(options.initial);
  if (customers < BG_NBD_MIN_CUSTOMERS || repeatBuyers < BG_NBD_MIN_REPEAT_BUYERS || maxT <= 0) {
    return untrusted(
      reported(guess),
      dataInUnit(data, unitDays),
      customers,
      `not enough data: ${counted(customers, 'customer')}, ${counted(repeatBuyers, 'repeat buyer')}, longest tenure ${figure(maxT / unitDays)} (need >= ${BG_NBD_MIN_CUSTOMERS} customers, >= ${BG_NBD_MIN_REPEAT_BUYERS} repeat buyers, tenure > 0)`,
    );
  }

  const prep = prepare(data, scale);
  const objective = makeObjective(prep);
  const maxIterations = options.maxIterations ?? 200;
  let start = [Math.log(guess.r), Math.log(guess.alpha / scale), Math.log(guess.a), Math.log(guess.b)];
  let initialInverseHessian: Float64Array | undefined;
  const warm = warmStart(data, scale, start, maxIterations);
  if (warm !== null) {
    start = Array.from(warm.x);
    initialInverseHessian = warm.inverseHessian;
  }
  const run = minimiseBfgs(objective, start, { maxIterations, initialInverseHessian });
  return concludeLogParameterFit({
    names: ['r', 'alpha', 'a', 'b'],
    run,
    objective,
    totalWeight: prep.totalWeight,
    customers,
    guess: reported(guess),
    paramsOf: (theta) => ({ r: Math.exp(theta[0]!), alpha: (Math.exp(theta[1]!) * scale) / unitDays, a: Math.exp(theta[2]!), b: Math.exp(theta[3]!) }),
    // The objective is −LL/N on time divided by `scale` (in units of `unitDays`: scale / unitDays),
    // where each purchase's density is that many times larger: LL = −N f − Σ w x ln(scale / unitDays).
    logLikelihoodOf: (f) => -f * prep.totalWeight - prep.weightedX * Math.log(scale / unitDays),
    logLikelihoodAt: (params) => bgnbdLogLikelihood(params, dataInUnit(data, unitDays)),
  });
};

// ---------------------------------------------------------------------------------------------
// Predictions
// ---------------------------------------------------------------------------------------------

const checkParams = (params: BgNbdParams): void => {
  const { r, alpha, a, b } = params;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0) || !Number.isFinite(r + alpha + a + b)) {
    throw new RangeError(`BG/NBD parameters must be positive and finite: r=${r}, alpha=${alpha}, a=${a}, b=${b}`);
  }
};

const checkCustomer = (x: number, tx: number, T: number): void => {
  if (!(Number.isInteger(x) && x >= 0) || !(tx >= 0) || !(T >= tx) || !Number.isFinite(T) || (x === 0 && tx !== 0)) {
    throw new RangeError(`invalid customer: x=${x}, tx=${tx}, T=${T} (need whole x >= 0, 0 <= tx <= T, tx = 0 when x = 0)`);
  }
};

/**
 * Above this r + x, ln((α+T)/(α+tx)) in P(alive) is taken as log1p((T − tx)/(α + tx)) rather than as
 * the difference of the two logarithms (tabulated per distinct time by {@link probabilityAliveOn}):
 * that difference carries an absolute error of ~1e−16 ln(α + T), which r + x multiplies into P(alive)
 * (3e−8 relative at r + x = 4e7); up to 1e4 it stays below ~2e−10, and the tabulated form is kept.
 */
const LOG1P_RATIO_MIN_SHAPE = 1e4;

/**
 * ln P(alive | x, tx, T), FHL 2005 eq. (11) in log space:
 *   P = 1 / (1 + δ(x>0) a/(b+x−1) ((α+T)/(α+tx))^(r+x)) = exp(−softplus(v)).
 * Unchecked: for callers that validated their inputs.
 */
export const logProbabilityAliveUnchecked = (r: number, alpha: number, a: number, b: number, x: number, tx: number, T: number): number => {
  if (x === 0) return 0;
  const shape = r + x;
  const logRatio = shape > LOG1P_RATIO_MIN_SHAPE ? Math.log1p((T - tx) / (alpha + tx)) : Math.log(alpha + T) - Math.log(alpha + tx);
  return logAliveOfOdds(Math.log(a) - Math.log(b + (x - 1)) + shape * logRatio);
};

/** −softplus(v) = −ln(1 + e^v): ln P(alive) from v, the log-odds of having dropped out, without overflow. */
const logAliveOfOdds = (v: number): number => (v > 0 ? -v - Math.log1p(Math.exp(-v)) : -Math.log1p(Math.exp(v)));

/**
 * The numbers {@link aliveFromTable} reads under `params` for the tuples of `index`, per distinct
 * value rather than per tuple: [ln a, ln(b + x − 1) per distinct frequency, ln(α + t) per distinct
 * time] ({@link aliveTableLength}(index) numbers, into `table`). O(distinct frequencies + times).
 */
export const aliveTable = (params: BgNbdParams, index: TupleIndex, table: Float64Array): void => {
  const { alpha, a, b } = params;
  const { xs, times } = index;
  table[0] = Math.log(a);
  for (let k = 0; k < xs.length; k++) table[1 + k] = Math.log(b + (xs[k]! - 1));
  const at = 1 + xs.length;
  for (let k = 0; k < times.length; k++) table[at + k] = Math.log(alpha + times[k]!);
};

/** The length of {@link aliveTable}'s table for `index`: 1 + distinct frequencies + distinct times. */
export const aliveTableLength = (index: TupleIndex): number => 1 + index.xs.length + index.times.length;

/**
 * P(alive | x, tx, T) of tuples [from, to) of `index` into out[0 … to − from): 1/(1 + e^v) with the
 * log-odds v of {@link logProbabilityAliveUnchecked}, bit for bit, its logarithms ln a, ln(b + x − 1)
 * and ln(α + t) read from `table` ({@link aliveTable} under the same `params`; the last only where
 * r + x ≤ {@link LOG1P_RATIO_MIN_SHAPE}). One exp per tuple: the probability itself, not its
 * logarithm, is what scoring uses (e^(−softplus(v)) took three transcendental functions; the two agree
 * to the rounding of ln P, ~1e−16 (1 + |ln P|) relative). The same numbers for a tuple whatever
 * range it is in. Unchecked: for validated parameters and tuples (in model units).
 */
export const aliveFromTable = (params: BgNbdParams, index: TupleIndex, table: Float64Array, from: number, to: number, out: Float64Array): void => {
  const { r, alpha } = params;
  const logA = table[0]!;
  const timesAt = 1 + index.xs.length;
  const { x, xOf, txOf, TOf } = index;
  for (let j = from; j < to; j++) {
    const xj = x[j]!;
    if (xj === 0) {
      out[j - from] = 1;
      continue;
    }
    const shape = r + xj;
    const logRatio =
      shape > LOG1P_RATIO_MIN_SHAPE ? Math.log1p((index.T[j]! - index.tx[j]!) / (alpha + index.tx[j]!)) : table[timesAt + TOf[j]!]! - table[timesAt + txOf[j]!]!;
    // e^v overflows to Infinity past v ≈ 709, where P(alive) < 1e−308 is 0
    out[j - from] = 1 / (1 + Math.exp(logA - table[1 + xOf[j]!]! + shape * logRatio));
  }
};

/** P(alive | x, tx, T) of every tuple of `index` into `out` (length index.x.length): {@link aliveFromTable} over them all. */
export const probabilityAliveOn = (params: BgNbdParams, index: TupleIndex, out: Float64Array): void => {
  const table = new Float64Array(aliveTableLength(index));
  aliveTable(params, index, table);
  aliveFromTable(params, index, table, 0, index.x.length, out);
};

/**
 * P(alive | x, tx, T): the probability that a customer with frequency x, recency tx and tenure T
 * has not dropped out (FHL 2005 eq. 11). In [0, 1] for every valid input, 1 when x = 0; computed
 * in log space, so P(alive | x = 1000, tx = 10, T = 100) underflows to 0 rather than to NaN.
 */
export const probabilityAlive = (params: BgNbdParams, x: number, tx: number, T: number): number => {
  checkParams(params);
  checkCustomer(x, tx, T);
  return Math.exp(logProbabilityAliveUnchecked(params.r, params.alpha, params.a, params.b, x, tx, T));
};

/** Above this many series terms, W(z) is continued along its differential equation instead. */
const SERIES_BUDGET = 400;
/** Scratch for [W, W'], so the hot path allocates nothing; every use fills it before reading it. */
const scratch = new Float64Array(2);

/**
 * W(z) = c [2F1(A, a−1; c; z) − 1]/(a − 1) = Σ_{n≥1} (A)_n (a)_(n−1) zⁿ / ((c+1)_(n−1) n!),
 * continuous at a = 1 and at c = 0 (the series has no pole while c > −1, which always holds).
 * It solves the inhomogeneous hypergeometric equation with parameters (A, a−1; c) and right-hand
 * side cA, which is how it is continued where the series converges slowly (z near 1 with few
 * purchases) or cancels (A ≪ 0, i.e. r much larger than a + b).
 * Writes [W, W'] into `out`; returns false if the series at this z is not usable.
 */
const seriesW = (A: number, a: number, c: number, z: number, budget: number, out: Float64Array): boolean => {
  let term = A * z;
  let sum = term;
  let absSum = Math.abs(term);
  let dsum = term;
  for (let n = 1; n < budget; n++) {
    const ratio = ((A + n) * (a + n - 1) * z) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    absSum += Math.abs(term);
    dsum += (n + 1) * term;
    const rho = Math.max(Math.abs(ratio), z);
    if (term === 0 || (rho < 1 && (Math.abs(term) * (n + 2)) / (1 - rho) / (1 - rho) <= 1e-17 * (Math.abs(sum) + Math.abs(dsum)))) {
      out[0] = sum;
      out[1] = z > 0 ? dsum / z : A;
      return absSum <= 1e3 * Math.abs(sum) || absSum < 1e-300;
    }
  }
  return false;
};

const evaluateW = (A: number, a: number, c: number, z: number): number => {
  if (seriesW(A, a, c, z, SERIES_BUDGET, scratch)) return scratch[0]!;
  let z0 = Math.min(z, 0.5);
  while (!seriesW(A, a, c, z0, 20 * SERIES_BUDGET, scratch) && z0 > 1e-3) z0 /= 2;
  if (z0 >= z) return scratch[0]!;
  continueHypergeometric(A, a - 1, c, c * A, z0, z, scratch, false);
  return scratch[0]!;
};

/**
 * W(z) by its series with the term ratios (A+n)(a+n−1)/((c+n)(n+1)) precomputed: no division per
 * term. NaN when the table is too short for this z or the sum cancels, so the caller falls back to
 * {@link evaluateW}. The tail after a term is at most |term| ρ/(1 − ρ) with ρ ≥ every later ratio.
 */
const seriesWFromRatios = (A: number, ratios: Float64Array, z: number): number => {
  let term = A * z;
  let sum = term;
  let absSum = Math.abs(term);
  for (let n = 1; n < ratios.length; n++) {
    const rz = ratios[n]! * z;
    term *= rz;
    sum += term;
    const absTerm = Math.abs(term);
    absSum += absTerm;
    const rho = Math.max(Math.abs(rz), z);
    if (absTerm <= 1e-17 * Math.abs(sum) * (1 - rho) || term === 0) {
      return absSum <= 1e3 * Math.abs(sum) || absSum < 1e-300 ? sum : Number.NaN;
    }
  }
  return Number.NaN;
};

/** The largest double below 1: beyond t/α ≈ 9e15, z = t/(α+t) would round to exactly 1. */
const Z_MAX = 1 - 2 ** -53;

/**
 * Below this (a − 1) ln(1 − z), (1 − z)^(a−1) is under 1e−260 and W(z) correspondingly huge: their
 * product, the Euler form's second term, is then taken from eq. (9) directly (see {@link expectedDirect}).
 */
const EULER_LIMIT = -600;
/** Terms the direct series may take before it gives up (it needs ~ (r b z/c) + a few dozen for the large a it serves). */
const DIRECT_BUDGET = 1_000_000;
const RESCALE = 1e250;
const LOG_RESCALE = Math.log(RESCALE);

/**
 * Eq. (9) as written, c/(a − 1) · [1 − (1 − z)^r 2F1(r, b; c; z)], with the bracket as
 * −expm1(r ln(1 − z)) − (1 − z)^r [2F1 − 1], for large a, where the Euler form's (1 − z)^(a−1)
 * underflows (a = 300, t/α = 12 gives e^−760) while c = a + b − 1 makes 2F1's series converge fast.
 * Its terms r_(n) b_(n) zⁿ / (c_(n) n!) are all positive, so 2F1 − 1 has no cancellation; the sum is
 * carried with a running power-of-e scale so that neither 2F1 (up to (1 − z)^−r) nor (1 − z)^r
 * leaves the double range. The subtraction in the bracket loses ~log2(1/(1 − b/c)) bits, at most a
 * few unless b ≫ a. NaN if the series does not converge within {@link DIRECT_BUDGET} terms.
 */
const expectedDirect = (r: number, a: number, b: number, c: number, z: number, logY: number): number => {
  let term = (r * b * z) / c;
  let sum = term;
  let scale = 0;
  for (let n = 1; n < DIRECT_BUDGET; n++) {
    const ratio = ((r + n) * (b + n) * z) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    if (sum > RESCALE) {
      sum /= RESCALE;
      term /= RESCALE;
      scale += LOG_RESCALE;
    }
    const rho = Math.max(ratio, z);
    if (term === 0 || (rho < 1 && term * rho <= 1e-17 * sum * (1 - rho))) {
      const rest = Math.log(sum) + scale + r * logY;
      const bracket = -Math.expm1(r * logY) - Math.exp(rest);
      const value = (c / (a - 1)) * bracket;
      return Number.isFinite(value) && value > 0 ? value : 0;
    }
  }
  return Number.NaN;
};

/** Terms {@link expectedPositiveSeries} may take: enough for z up to ~1 − 1e−4. */
const POSITIVE_SERIES_BUDGET = 500_000;
/** The Euler form's bracket may cancel to this share of its first term before the positive series takes over (~1e−11 error left). */
const CANCELLATION_LIMIT = 1e-5;

/**
 * Eq. (9) as a series of positive terms, for r ≤ c = a + b − 1, where the Euler form's two terms
 * (each of order c φ) cancel to a result of order r: with a small r, or a = 1 and b ≫ r.
 * Since 2F1(c, a−1; c; z) = (1 − z)^(1−a), the Euler form's bracket c/(a−1) [1 − y 2F1(c − r, a − 1; c; z)]
 * (y = (1 − z)^(a−1)) equals c y Σ_{n≥1} (a)_(n−1) zⁿ/n! · Q_n with Q_n = 1 − Π_{k<n} (1 − r/(c+k)),
 * the difference of the two 2F1s term by term. For r ≤ c every factor is in [0, 1), so Q_n ∈ [0, 1]
 * is accumulated without cancellation (Q_(n+1) = Q_n + P_n r/(c+n), P the product), and every
 * term is positive. The tail after term n is at most t_n [Q_n ρ/(1−ρ) + P_n r/(c+n) ρ/(1−ρ)²], with
 * ρ ≥ every later term ratio. NaN beyond {@link POSITIVE_SERIES_BUDGET} terms.
 */
const expectedPositiveSeries = (r: number, a: number, c: number, z: number, logY: number): number => {
  let term = z;
  let product = 1 - r / c;
  let q = r / c;
  let sum = term * q;
  for (let n = 1; n < POSITIVE_SERIES_BUDGET; n++) {
    const ratio = ((a + n - 1) * z) / (n + 1);
    term *= ratio;
    const step = r / (c + n);
    q += product * step;
    product *= 1 - step;
    sum += term * q;
    const rho = Math.max(ratio, z);
    if (term === 0 || (rho < 1 && term * ((q * rho) / (1 - rho) + (product * step * rho) / ((1 - rho) * (1 - rho))) <= 1e-17 * sum)) {
      return c * Math.exp((a - 1) * logY) * sum;
    }
  }
  return Number.NaN;
};

/**
 * Eq. (9) through Euler's transformation (see {@link expectedPurchasesWhileAlive}) from
 * ln(1 − z) = −ln(1 + t/α) and W(z); where its two terms cancel (r ≤ c only), the positive series.
 */
const combine = (r: number, a: number, c: number, z: number, logY: number, w: number): number => {
  const k = a - 1;
  const kL = k * logY;
  const y = Math.exp(kL);
  // 1 − e^(kL) loses digits for small kL; expm1 is only needed there.
  const phi = Math.abs(kL) < 0.5 ? (kL === 0 ? -logY : -Math.expm1(kL) / k) : (1 - y) / k;
  return settle(r, a, c, z, logY, c * phi, y * w);
};

/**
 * c φ − y W, the Euler form's value, unless it cancelled beyond {@link CANCELLATION_LIMIT} with
 * r ≤ c, when {@link expectedPositiveSeries} gives it instead. The exact value is positive and finite:
 * rounding at t → 0 is clamped to 0.
 */
const settle = (r: number, a: number, c: number, z: number, logY: number, first: number, second: number): number => {
  const value = first - second;
  if (r <= c && !(value > CANCELLATION_LIMIT * Math.abs(first))) {
    const positive = expectedPositiveSeries(r, a, c, z, logY);
    if (Number.isFinite(positive)) return positive;
  }
  return Number.isFinite(value) && value > 0 ? value : 0;
};

/** From this purchase-rate shape r on, when r > c = a + b − 1 (see {@link beyondHypergeometric}). */
const MIXTURE_MIN_R = 1e5;
/** Above this t/α (z = t/(α + t) within 1e−4 of 1), likewise. */
const MIXTURE_MIN_U = 1e4;

/**
 * Where eq. (9) is not summed to 1e−9 in doubles, so E[X(t)] is taken from its mixture over p
 * ({@link expectedPurchasesByMixture}) instead:
 * - r ≥ 1e5 above c = a + b − 1: the Euler form's W has the numerator parameter c − r ≪ 0 and its
 *   series cancels, while the direct series needs ~r z/(1 − z) terms (values were off entirely or NaN);
 * - u = t/α > 1e4: W is continued along its differential equation from z = 1/2 to within 1e−4 of
 *   z = 1, and the steps leave errors of 1e−9 and more (up to 100% where a is large and b ≫ a).
 * Everywhere else the hypergeometric evaluation stays, bit for bit.
 */
const beyondHypergeometric = (r: number, c: number, u: number): boolean => (r >= MIXTURE_MIN_R && r > c) || u > MIXTURE_MIN_U;

/**
 * E[X(t)] for a customer who is alive at the start of the window, with BG/NBD parameters
 * (r, α, a, b) describing their (posterior) purchase rate and dropout probability — FHL 2005
 * eq. (9):
 *
 *   E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))].
 *
 * Evaluated through Euler's transformation, 2F1(r, b; c; z) = (1−z)^(a−1−r) 2F1(c−r, a−1; c; z)
 * with c = a+b−1, which turns the bracket into c φ(a−1, ln(1−z)) − (1−z)^(a−1) W(z)
 * (φ(k, L) = (1 − e^(kL))/k, → −L as k → 0; W as in {@link evaluateW}). The numerator parameters
 * c − r and a − 1 no longer grow with the customer's x, so the series needs a handful of terms for
 * heavy buyers, and the formula has no 0/0 at a = 1 and no pole at a + b = 1.
 */
export const expectedPurchasesWhileAlive = (r: number, alpha: number, a: number, b: number, t: number): number => {
  if (!(t > 0)) return 0;
  const u = t / alpha;
  const c = a + b - 1;
  if (beyondHypergeometric(r, c, u)) return expectedPurchasesByMixture(r, alpha, a, b, t);
  const logY = -Math.log1p(u);
  const z = Math.min(u / (1 + u), Z_MAX);
  if ((a - 1) * logY < EULER_LIMIT) {
    const direct = expectedDirect(r, a, b, c, z, logY);
    // beyond the direct series' budget (r in the hundreds of thousands), the Euler form, whose
    // (1 − z)^(a−1) W is then negligible next to c φ: E[X(t)] tends to E[1/p] = c/(a − 1) as r grows
    if (!Number.isNaN(direct)) return direct;
  }
  return combine(r, a, c, z, logY, evaluateW(c - r, a, c, z));
};

/** Series terms tabulated per x: enough for z ≈ 0.95 at x = 0; beyond, the general evaluation takes over. */
const RATIO_TABLE_TERMS = 800;
/** Relative truncation error allowed the tabulated series of W: what {@link seriesWFromRatios} allows. */
const LOG_TRUNCATION = Math.log(1e-17);

/**
 * W(z) = z Σ_{n=0}^{N} w_n zⁿ, the series of {@link seriesW} with its coefficients w_n (w_0 = A,
 * w_n = w_(n−1) × the n-th term ratio) tabulated, by Horner's rule in z² on the even and odd
 * coefficients (two independent chains). `last` ≥ N is odd and below w's length.
 */
const hornerW = (w: Float64Array, last: number, z: number): number => {
  const z2 = z * z;
  const z4 = z2 * z2;
  let c0 = w[last - 3]!;
  let c1 = w[last - 2]!;
  let c2 = w[last - 1]!;
  let c3 = w[last]!;
  for (let n = last - 7; n >= 0; n -= 4) {
    c0 = c0 * z4 + w[n]!;
    c1 = c1 * z4 + w[n + 1]!;
    c2 = c2 * z4 + w[n + 2]!;
    c3 = c3 * z4 + w[n + 3]!;
  }
  return z * (c0 + z * c1 + z2 * (c2 + z * c3));
};

/**
 * E[X(T, T+t_k] | alive at T, x, T] on a fixed grid of windows t_1 … t_K, for many (x, T) at fixed
 * parameters — what scoring needs at every discount step of every customer.
 *
 * With posterior parameters (r+x, α+T, a, b+x), eq. (9) in the form of
 * {@link expectedPurchasesWhileAlive} splits into parts that depend on (T, t_k) only — z, ln(1 − z),
 * (1 − z)^(a−1) and φ: every logarithm and exponential — and a series W(z) whose coefficients
 * depend on x only (A = a + b − 1 − r is the same for every customer, c = a + b + x − 1). The
 * returned function caches the first per distinct T and the second per distinct x, so a (x, T)
 * pair costs K short series and no transcendental function once its T has been seen.
 *
 * Where A > 0 and a ≤ 2, every coefficient w_n of W = z Σ wₙ zⁿ is positive and every term ratio
 * (A+n)(a+n−1)/((c+n)(n+1)) is below 1 (A < c since c − A = r + x > 0), so the tail after w_N z^(N+1)
 * is at most w_N z^(N+1) z/(1 − z), and W ≥ A z. The series is then cut at the least N with
 * (w_N/A) z^N / (1 − z) ≤ 1e−17 — a relative truncation error below 1e−17 known before summing,
 * from ln(w_N/A) tabulated per x and ln z, ln(1 − z) per (T, t_k) — and summed by Horner's rule
 * ({@link hornerW}) without a test per term; N only grows with z, so the search goes on from
 * the previous window's. Otherwise (a > 2, or r ≥ a + b − 1) each term is tested as it is added
 * ({@link seriesWFromRatios}). Where the tabulated series is too short (z very close to 1) or
 * cancels, the general evaluation takes over. Caches live as long as the function; results do not
 * depend on them. Their tables are taken from `arena` (a fresh one by default): a caller that makes
 * a grid function per parameter draw can hand each the same arena, reset between draws, so the
 * tables reuse one block of memory; the function must then not be called after that reset.
 *
 * `out[k]` receives the expectation for window t_k (length K).
 */
export const makeExpectedPurchasesIfAliveOnGrid = (
  params: BgNbdParams,
  times: ArrayLike<number>,
  arena: ScratchArena = new ScratchArena(),
): ((x: number, T: number, out: Float64Array) => void) => {
  checkParams(params);
  const { r, alpha, a, b } = params;
  const K = times.length;
  for (let k = 0; k < K; k++) if (!(times[k]! >= 0) || !Number.isFinite(times[k]!)) throw new RangeError(`window ${k} must be finite and >= 0, got ${times[k]}`);
  // one element kind in the loops below, whatever the caller passed (an array or a typed array)
  const windowTimes = Float64Array.from(times);
  const A = a + b - 1 - r;
  const km1 = a - 1;
  const positive = A > 0 && a <= 2;
  /** Per x: the term ratios, and (when `positive`) the coefficients w_n and ln(w_n/A). */
  const seriesTables = new Map<number, { ratios: Float64Array; w: Float64Array; logW: Float64Array }>();
  /** Per T: z_k, (1 − z_k)^(a−1), φ(a − 1, ln(1 − z_k)), ln(1 − z_k), ln z_k, u_k = t_k/(α + T) — 6K numbers. */
  const windowTables = new Map<number, Float64Array>();

  const windowsFor = (T: number): Float64Array => {
    let table = windowTables.get(T);
    if (table !== undefined) return table;
    table = arena.take(6 * K);
    for (let k = 0; k < K; k++) {
      const u = windowTimes[k]! / (alpha + T);
      const logY = -Math.log1p(u);
      const kL = km1 * logY;
      // 1 − e^(kL) loses digits for small kL; expm1 is only needed there.
      const small = Math.abs(kL) < 0.5;
      const em1 = small ? Math.expm1(kL) : 0;
      const y = small ? 1 + em1 : Math.exp(kL);
      const z = Math.min(u / (1 + u), Z_MAX);
      table[6 * k] = z;
      table[6 * k + 1] = y;
      table[6 * k + 2] = kL === 0 ? -logY : small ? -em1 / km1 : (1 - y) / km1;
      table[6 * k + 3] = logY;
      table[6 * k + 4] = positive ? Math.log(z) : 0;
      table[6 * k + 5] = u;
    }
    windowTables.set(T, table);
    return table;
  };
  const seriesFor = (x: number, c: number): { ratios: Float64Array; w: Float64Array; logW: Float64Array } => {
    let tables = seriesTables.get(x);
    if (tables !== undefined) return tables;
    const ratios = arena.take(RATIO_TABLE_TERMS);
    ratios[0] = 0;
    for (let n = 1; n < RATIO_TABLE_TERMS; n++) ratios[n] = ((A + n) * (a + n - 1)) / ((c + n) * (n + 1));
    const w = arena.take(positive ? RATIO_TABLE_TERMS : 0);
    const logW = arena.take(w.length);
    if (positive) {
      w[0] = A;
      logW[0] = 0;
      for (let n = 1; n < RATIO_TABLE_TERMS; n++) {
        w[n] = w[n - 1]! * ratios[n]!;
        logW[n] = logW[n - 1]! + Math.log(ratios[n]!);
      }
    }
    tables = { ratios, w, logW };
    seriesTables.set(x, tables);
    return tables;
  };

  return (x, T, out) => {
    const c = a + b + x - 1;
    const rx = r + x;
    // beyondHypergeometric(r + x, c, u) is this or u > MIXTURE_MIN_U
    const shapeBeyond = rx >= MIXTURE_MIN_R && rx > c;
    const windows = windowsFor(T);
    const { ratios, w, logW } = seriesFor(x, c);
    let terms = 0;
    for (let k = 0; k < K; k++) {
      if (!(windowTimes[k]! > 0)) {
        out[k] = 0;
        continue;
      }
      if (shapeBeyond || windows[6 * k + 5]! > MIXTURE_MIN_U) {
        out[k] = expectedPurchasesByMixture(rx, alpha + T, a, b + x, windowTimes[k]!);
        continue;
      }
      const z = windows[6 * k]!;
      const logY = windows[6 * k + 3]!;
      if (km1 * logY < EULER_LIMIT) {
        const direct = expectedDirect(rx, a, b + x, c, z, logY);
        if (!Number.isNaN(direct)) {
          out[k] = direct;
          continue;
        }
      }
      let value = Number.NaN;
      if (positive) {
        // the least N with ln(w_N/A) + (N+1) ln z − ln(1 − z) ≤ ln 1e−17, from the last window's
        const logZ = windows[6 * k + 4]!;
        const limit = LOG_TRUNCATION + logY - logZ;
        while (terms < RATIO_TABLE_TERMS - 1 && logW[terms]! + terms * logZ > limit) terms++;
        if (terms < RATIO_TABLE_TERMS - 3) value = hornerW(w, terms | 3, z);
      }
      if (Number.isNaN(value)) value = seriesWFromRatios(A, ratios, z);
      if (Number.isNaN(value)) value = evaluateW(A, a, c, z);
      out[k] = settle(rx, a, c, z, logY, c * windows[6 * k + 2]!, windows[6 * k + 1]! * value);
    }
  };
};

/**
 * E[X(T, T+t] | alive at T, x, T]: a customer alive at T has posterior parameters
 * (r + x, α + T, a, b + x), and E[X(t)] of eq. (9) applies with those. This factor depends on
 * (x, T) only, which is what lets scoring share it across customers with different recency.
 */
export const expectedPurchasesIfAlive = (params: BgNbdParams, t: number, x: number, T: number): number =>
  expectedPurchasesWhileAlive(params.r + x, params.alpha + T, params.a, params.b + x, t);

/**
 * E[X(T, T+t] | x, tx, T], FHL 2005 eq. (10): expected purchases of an existing customer in the
 * next t time units, = P(alive | x, tx, T) · E[X(t)] with posterior parameters (r+x, α+T, a, b+x).
 * Finite, non-negative and non-decreasing in t for every valid input.
 */
export const conditionalExpectedPurchases = (params: BgNbdParams, t: number, x: number, tx: number, T: number): number => {
  checkParams(params);
  checkCustomer(x, tx, T);
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be finite and >= 0, got ${t}`);
  const logAlive = logProbabilityAliveUnchecked(params.r, params.alpha, params.a, params.b, x, tx, T);
  return Math.exp(logAlive) * expectedPurchasesIfAlive(params, t, x, T);
};

/** E[X(t)], FHL 2005 eq. (9): expected repeat purchases in the first t time units of a new customer. */
export const expectedPurchasesNewCustomer = (params: BgNbdParams, t: number): number => {
  checkParams(params);
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be finite and >= 0, got ${t}`);
  return expectedPurchasesWhileAlive(params.r, params.alpha, params.a, params.b, t);
};
