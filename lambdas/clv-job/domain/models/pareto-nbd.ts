/**
 * Pareto/NBD: the model of repeat buying in continuous time with unobserved dropout
 * (Schmittlein, Morrison & Colombo 1987), in the formulation of Fader & Hardie (2005), "A Note on
 * Deriving the Pareto/NBD Model and Related Expressions" (brucehardie.com/notes/009).
 *
 * Symbols, as in the note, for one customer observed from their first purchase (time 0):
 * - x  — frequency: number of repeat purchases in (0, T];
 * - tx — recency: time of the last repeat purchase (0 when x = 0);
 * - T  — tenure: time from the first purchase to the end of observation;
 * - r, alpha — shape and rate of the gamma distribution of the purchase rate λ;
 * - s, beta  — shape and rate of the gamma distribution of the dropout rate μ (lifetime ~ Exp(μ)).
 *
 * Time is in model units (weeks or days; the caller converts). The data are the same compressed
 * (x, tx, T, weight) patterns the BG/NBD fits on ({@link BgNbdData}). Every function is pure; only
 * structurally invalid input throws a RangeError.
 */
import { minimiseBfgs, type ObjectiveWithGradient } from '../math/optimise.js';
import { digamma, lgamma, lgammaDifference, log1pExp, log2F1Next, log2F1NextWithPartials, logSumExp, TermBudget, TermBudgetExceeded } from '../math/special.js';
import { CompensatedSum } from '../math/sum.js';
import {
  DistinctPairs,
  repeatBuyerSubsample,
  summariseTransactionData,
  validateBgNbdData,
  WARM_START_ROWS,
  type BgNbdData,
  dataInUnit,
  type FitTimeOptions,
} from './bg-nbd.js';
import { concludeLogParameterFit, untrustedFit, type LogParameterFit } from './log-parameter-fit.js';
import type { TupleIndex } from './tuple-index.js';
import { counted, figure } from '../figure.js';

export interface ParetoNbdParams {
  readonly r: number;
  readonly alpha: number;
  readonly s: number;
  readonly beta: number;
}

/**
 * The fit; `logCovariance` is that of (ln r, ln α, ln s, ln β) in the caller's time unit (a change of
 * unit shifts ln α and ln β only, so it is unit-free).
 */
export type ParetoNbdFit = LogParameterFit<ParetoNbdParams>;

/** Patterns the Pareto/NBD fits on: the BG/NBD's (x, tx, T, weight), same validation and compression. */
export type ParetoNbdData = BgNbdData;

export const PARETO_NBD_MIN_CUSTOMERS = 20;
export const PARETO_NBD_MIN_REPEAT_BUYERS = 5;

// ---------------------------------------------------------------------------------------------
// Likelihood
// ---------------------------------------------------------------------------------------------

/**
 * ln A(t): the dropout term of the note's eq. (22) at time t, without its factor s/(r+s+x),
 *
 *   α ≥ β:  A(t) = 2F1(r+s+x, s+1;   r+s+x+1; (α−β)/(α+t)) / (α+t)^(r+s+x)
 *   α < β:  A(t) = 2F1(r+s+x, r+x;   r+s+x+1; (β−α)/(β+t)) / (β+t)^(r+s+x)
 *
 * Both are ∫_t^∞ (α+u)^−(r+x) (β+u)^−(s+1) du · (r+s+x); picking the branch by the sign of α − β keeps
 * the argument in [0, 1) with every series term positive, and {@link log2F1Next} works in log space at a bounded cost, so
 * large x and T neither overflow nor underflow. 1 − z, (β+t)/(α+t) or (α+t)/(β+t), goes with z: where
 * one of α + t, β + t is thousands of times the other, z rounded to an ulp of 1 no longer carries it.
 */
const logA = (r: number, alpha: number, s: number, beta: number, x: number, t: number): number =>
  logHypergeometricPart(r, alpha, s, beta, x, t) - (r + s + x) * Math.log(Math.max(alpha, beta) + t);

/** ln A(t) + (r+s+x) ln(max(α, β) + t): the 2F1 of {@link logA} alone. */
const logHypergeometricPart = (r: number, alpha: number, s: number, beta: number, x: number, t: number): number => {
  const a = r + s + x;
  if (alpha >= beta) return log2F1Next(a, s + 1, (alpha - beta) / (alpha + t), (beta + t) / (alpha + t));
  return log2F1Next(a, r + x, (beta - alpha) / (beta + t), (alpha + t) / (beta + t));
};

/**
 * ln((small + T)/(big + T)), small and big the lesser and greater of α and β: log1p of
 * −(big − small)/(big + T) where that is small, the log of the quotient otherwise; a few ulps either way.
 */
const logTenureShare = (alpha: number, beta: number, T: number): number => {
  const big = Math.max(alpha, beta);
  const gap = (big - Math.min(alpha, beta)) / (big + T);
  return gap < 0.5 ? Math.log1p(-gap) : Math.log((Math.min(alpha, beta) + T) / (big + T));
};

/** Above this r + s + x, {@link aliveOfParts} takes ln((big+tx)/(big+T)) by log1p rather than from tabulated logs. */
const LOG1P_MIN_SHAPE = 1e4;

/**
 * ln P(alive | x, tx, T) for tx < T (the note's eq. 18) from F(t) = e^(logHypergeometricPart):
 *
 *   ln P = −softplus(d),  d = died − alive = base + ln(F(tx) ((big+tx)/(big+T))^−(r+s+x) − F(T)),
 *   base = ln s − ln(r+s+x) + e ln((small+T)/(big+T))        ({@link aliveOddsBase}),
 *
 * with e = r + x when α < β (big = β), s otherwise. That is eq. (22)'s two terms divided by the
 * alive one before taking logs: alive and died are each ~(r+s+x) ln(big + T), 1e9 with parameters
 * near 1e8, and their difference taken from them carried an error of ~1e−7; here every term is of
 * the size of the result. ln((big+tx)/(big+T)) is log1p((tx − T)/(big + T)) where r + s + x exceeds
 * {@link LOG1P_MIN_SHAPE}, and the difference of `logBigTx` = ln(big + tx) and `logBigT` = ln(big + T)
 * below (its error, ~1e−16 ln(big + T), times r + s + x stays under ~1e−10 there). Callers may
 * tabulate these per distinct time, x or (x, T).
 *
 * With first = ln F(tx) − (r+s+x) ln((big+tx)/(big+T)), the odds of having dropped out are
 * e^d = e^(base + first) − e^(base + ln F(T)), and the second term depends on (x, T) only:
 * `oddsAtT` = e^(base + ln F(T)), which callers may tabulate per (x, T). Where that difference
 * stays in range (base + first ≤ {@link LINEAR_ODDS_MAX_LOG}) and base is of the size of the logs
 * it is added to (|base| ≤ {@link LINEAR_ODDS_MAX_BASE}), ln P = −log1p(e^(base + first) − oddsAtT):
 * one exp and one log1p per customer instead of expm1, log, exp and log1p. Its cancellation, as
 * tx → T, is that of the logarithmic form: both lose the digits of 1 − F(T)/F(tx) e^(…), and the
 * roundings of base + first and base + ln F(T) add at most ~1e−16 (|base| + |first| + |ln F(T)|)
 * to the ~1e−16 (|first| + |ln F(T)|) of the logs themselves, relative to 1 − e^(ln F(T) − first).
 * Elsewhere the logarithmic form (|base| > 64 needs e ln((small+T)/(big+T)) or ln((r+s+x)/s) beyond 64:
 * parameters far from any fit on real data; no reference point needs the guard, which bounds the added error).
 * Returns ln P when `inLogs`, else P itself: 1/(1 + e^d), one exp per customer where the odds are
 * numbers (P from ln P took another log1p and exp; the two agree to the rounding of ln P).
 */
const aliveOfParts = (
  r: number,
  alpha: number,
  s: number,
  beta: number,
  x: number,
  tx: number,
  T: number,
  logFTx: number,
  logFT: number,
  base: number,
  oddsAtT: number,
  logBigTx: number,
  logBigT: number,
  inLogs: boolean,
): number => {
  const a = r + s + x;
  const first = logFTx - a * (a > LOG1P_MIN_SHAPE ? Math.log1p((tx - T) / (Math.max(alpha, beta) + T)) : logBigTx - logBigT);
  const logOdds = base + first;
  if (logOdds <= LINEAR_ODDS_MAX_LOG && Math.abs(base) <= LINEAR_ODDS_MAX_BASE) {
    const odds = Math.exp(logOdds) - oddsAtT;
    if (!(odds > 0)) return inLogs ? 0 : 1;
    return inLogs ? -Math.log1p(odds) : 1 / (1 + odds);
  }
  const logAlive = -log1pExp(base + logDiffExp(first, Math.min(logFT, first)));
  return inLogs ? logAlive : Math.exp(logAlive);
};

/** Up to this ln of the odds e^(base + first), {@link aliveOfParts} takes them as numbers (e^700 ≈ 1e304). */
const LINEAR_ODDS_MAX_LOG = 700;
/** Up to this |base|, likewise: its rounding then adds to the odds' error no more than the logs' own. */
const LINEAR_ODDS_MAX_BASE = 64;

/**
 * ln s − ln(r+s+x) + e ln((small+T)/(big+T)), e = r + x when α < β, s otherwise: the part of
 * {@link aliveOfParts}' d that depends on (x, T) alone, from `logShare` = {@link logTenureShare}(α, β, T)
 * and `logRate` = ln s − ln(r+s+x).
 */
const aliveOddsBase = (r: number, alpha: number, s: number, beta: number, x: number, logShare: number, logRate: number): number =>
  logRate + (alpha < beta ? r + x : s) * logShare;

/** ln(e^a − e^b) for a ≥ b, −Infinity when they are equal. */
const logDiffExp = (a: number, b: number): number => (b === Number.NEGATIVE_INFINITY ? a : a + Math.log(-Math.expm1(b - a)));

/**
 * The pieces of eq. (22) for one customer: ln L = common + logSumExp(alive, died), with
 *   common = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β,
 *   alive  = −(r+x) ln(α+T) − s ln(β+T)                        (still alive at T),
 *   died   = ln s − ln(r+s+x) + ln(A(tx) − A(T))                (dropped out in (tx, T]).
 * A(tx) ≥ A(T) since A decreases in t; the difference is taken in log space (−Infinity at tx = T).
 */
const alivePart = (r: number, alpha: number, s: number, beta: number, x: number, T: number): number => alivePartOfLogs(r, s, x, Math.log(alpha + T), Math.log(beta + T));
const diedPart = (s: number, r: number, x: number, logATx: number, logAT: number): number => diedPartOfLogs(Math.log(s), Math.log(r + s + x), logATx, logAT);
/** The two parts from their logarithms ln(α+T), ln(β+T), ln s, ln(r+s+x), which callers may tabulate. */
const alivePartOfLogs = (r: number, s: number, x: number, logAlphaT: number, logBetaT: number): number => -(r + x) * logAlphaT - s * logBetaT;
const diedPartOfLogs = (logS: number, logRsx: number, logATx: number, logAT: number): number => logS - logRsx + logDiffExp(logATx, Math.min(logAT, logATx));

const logLikelihoodOne = (r: number, alpha: number, s: number, beta: number, x: number, tx: number, T: number): number => {
  const common = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  const alive = alivePart(r, alpha, s, beta, x, T);
  const died = tx >= T ? Number.NEGATIVE_INFINITY : diedPart(s, r, x, logA(r, alpha, s, beta, x, tx), logA(r, alpha, s, beta, x, T));
  return common + logSumExp(alive, died);
};

/**
 * The weighted log-likelihood Σ_i w_i ln L(params | x_i, tx_i, T_i) (Fader & Hardie 2005 note,
 * eq. 22), summed with compensation; a direct per-row evaluation. NaN when a parameter is not positive.
 */
export const paretoNbdLogLikelihood = (params: ParetoNbdParams, data: ParetoNbdData): number => {
  validateBgNbdData(data);
  const { r, alpha, s, beta } = params;
  if (!(r > 0 && alpha > 0 && s > 0 && beta > 0)) return Number.NaN;
  const sum = new CompensatedSum();
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i]!;
    if (w > 0) sum.add(w * logLikelihoodOne(r, alpha, s, beta, data.x[i]!, data.tx[i]!, data.T[i]!));
  }
  return sum.value;
};

/**
 * The data arranged so one evaluation costs one ln A per distinct (x, t) pair — t a recency or a
 * tenure — and one log-sum-exp per pattern. Customers with x = 0 have tx = 0: they share A(0)
 * per x, so they cost a tenure's ln A each, and those are shared by every pattern with that T.
 */
interface PreparedData {
  readonly totalWeight: number;
  readonly weightedX: number;
  /** Distinct x values, with Σ w per x. */
  readonly xValues: Float64Array;
  readonly xWeight: Float64Array;
  /** Distinct (x, t) pairs, t time-scaled. */
  readonly pairX: Float64Array;
  readonly pairT: Float64Array;
  /** Distinct T, time-scaled. */
  readonly tValues: Float64Array;
  /** Per pattern (w > 0): weight, x index, T index, pair of (x, tx), pair of (x, T). */
  readonly rowW: Float64Array;
  readonly rowX: Int32Array;
  readonly rowT: Int32Array;
  readonly rowTxPair: Int32Array;
  readonly rowTPair: Int32Array;
  /** Per pattern: tx ≥ T (no dropout term). */
  readonly rowAtEnd: Uint8Array;
}

const prepare = (data: ParetoNbdData, timeScale: number): PreparedData => {
  const n = data.x.length;
  const xs = new DistinctPairs();
  const pairs = new DistinctPairs();
  const Ts = new DistinctPairs();
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (data.weight[i]! > 0) keep.push(i);
  const m = keep.length;
  const rowW = new Float64Array(m);
  const rowX = new Int32Array(m);
  const rowT = new Int32Array(m);
  const rowTxPair = new Int32Array(m);
  const rowTPair = new Int32Array(m);
  const rowAtEnd = new Uint8Array(m);
  let xWeight = new Float64Array(64);
  let totalWeight = 0;
  let weightedX = 0;
  for (let k = 0; k < m; k++) {
    const i = keep[k]!;
    const w = data.weight[i]!;
    const x = data.x[i]!;
    const xi = xs.indexOf(x, 0);
    if (xi >= xWeight.length) {
      const grown = new Float64Array(2 * xWeight.length);
      grown.set(xWeight);
      xWeight = grown;
    }
    xWeight[xi] = xWeight[xi]! + w;
    totalWeight += w;
    weightedX += w * x;
    rowW[k] = w;
    rowX[k] = xi;
    rowT[k] = Ts.indexOf(data.T[i]! / timeScale, 0);
    rowTxPair[k] = pairs.indexOf(x, data.tx[i]! / timeScale);
    rowTPair[k] = pairs.indexOf(x, data.T[i]! / timeScale);
    rowAtEnd[k] = data.tx[i]! >= data.T[i]! ? 1 : 0;
  }
  return {
    totalWeight,
    weightedX,
    xValues: xs.firsts(),
    xWeight: xWeight.slice(0, xs.size),
    pairX: pairs.firsts(),
    pairT: pairs.seconds(),
    tValues: Ts.firsts(),
    rowW,
    rowX,
    rowT,
    rowTxPair,
    rowTPair,
    rowAtEnd,
  };
};

/**
 * ln A(t) as {@link logA}, and its gradient with respect to (r, α, s, β) into `out[0..3]`, by the
 * chain rule through {@link log2F1NextWithPartials} (F_a its derivative in a = r+s+x with c = a+1
 * moving along, F_b, F_z the others):
 *
 *   α ≥ β, z = (α−β)/(α+t):  ∂r = F_a − ln(α+t),        ∂s = F_a + F_b − ln(α+t),
 *                            ∂α = F_z (β+t)/(α+t)² − a/(α+t), ∂β = −F_z/(α+t);
 *   α < β,  z = (β−α)/(β+t):  ∂r = F_a + F_b − ln(β+t),  ∂s = F_a − ln(β+t),
 *                            ∂α = −F_z/(β+t),                 ∂β = F_z (α+t)/(β+t)² − a/(β+t).
 *
 * At α = β both give the same values (z = 0 and A(t) is smooth in α and β), so the gradient is
 * continuous across the switch. `partials` is scratch of length 4; `budget` as log2F1NextWithPartials'.
 */
const logAWithGradient = (
  r: number,
  alpha: number,
  s: number,
  beta: number,
  x: number,
  t: number,
  partials: Float64Array,
  out: Float64Array,
  at: number,
  budget: TermBudget | null,
): number => {
  const a = r + s + x;
  if (alpha >= beta) {
    const v = alpha + t;
    const lv = Math.log(v);
    const value = log2F1NextWithPartials(a, s + 1, (alpha - beta) / v, partials, (beta + t) / v, budget) - a * lv;
    const [fa, fb, fz] = partials as unknown as [number, number, number];
    out[at] = fa - lv;
    out[at + 1] = (fz * (beta + t)) / (v * v) - a / v;
    out[at + 2] = fa + fb - lv;
    out[at + 3] = -fz / v;
    return value;
  }
  const v = beta + t;
  const lv = Math.log(v);
  const value = log2F1NextWithPartials(a, r + x, (beta - alpha) / v, partials, (alpha + t) / v, budget) - a * lv;
  const [fa, fb, fz] = partials as unknown as [number, number, number];
  out[at] = fa + fb - lv;
  out[at + 1] = -fz / v;
  out[at + 2] = fa - lv;
  out[at + 3] = (fz * (alpha + t)) / (v * v) - a / v;
  return value;
};

/**
 * −LL/N and its gradient with respect to θ = ln(r, α, s, β), on prepared (time-scaled) data; value
 * +Infinity (gradient 0) outside |θ| ≤ 40 or where the likelihood is not finite.
 *
 * Per pattern, with ln L = common + ln(e^alive + e^died) (see {@link diedPart}) and
 * π = e^(died − ln(e^alive + e^died)) the posterior probability that the customer dropped out in (tx, T]:
 *
 *   ∇ln L = ∇common + (1 − π) ∇alive + π ∇died,
 *   ∇common = (ψ(r+x) − ψ(r) + ln α,  r/α,  ln β,  s/β),
 *   ∇alive  = (−ln(α+T),  −(r+x)/(α+T),  −ln(β+T),  −s/(β+T)),
 *   ∇died   = (−1/(r+s+x), 0, 1/s − 1/(r+s+x), 0) + [∇ln A(tx) − q ∇ln A(T)]/(1 − q),  q = A(T)/A(tx),
 *
 * the last the derivative of ln(A(tx) − A(T)) (in (r, α, s, β); ∇ln A from {@link logAWithGradient},
 * once per distinct (x, t) pair). Then ∂/∂θ_k = p_k ∂/∂p_k. The closure owns its scratch buffers and
 * keeps no state between calls but `allowance`'s record. `budget`, optional, spends every
 * hypergeometric term ({@link TermBudget}). `allowance`, optional, is a fit's own budget, spent
 * likewise (its parent being `budget`): the evaluation that overspends it, and every one after, is
 * +Infinity (as outside the domain) and recorded there instead of throwing.
 */
const makeObjective = (prep: PreparedData, budget: TermBudget | null = null, allowance: FitAllowance | null = null): ObjectiveWithGradient => {
  const { xValues, xWeight, pairX, pairT, tValues, rowW, rowX, rowT, rowTxPair, rowTPair, rowAtEnd, totalWeight } = prep;
  const nPairs = pairX.length;
  const logAOfPair = new Float64Array(nPairs);
  const gradAOfPair = new Float64Array(4 * nPairs);
  const partials = new Float64Array(4);
  // Per distinct T: ln(α+T), ln(β+T), 1/(α+T), 1/(β+T); per distinct x: ln(r+s+x), 1/(r+s+x).
  const nT = tValues.length;
  const logVAlpha = new Float64Array(nT);
  const logVBeta = new Float64Array(nT);
  const invVAlpha = new Float64Array(nT);
  const invVBeta = new Float64Array(nT);
  const logRsx = new Float64Array(xValues.length);
  const invRsx = new Float64Array(xValues.length);
  const infinite = (gradient: Float64Array): number => {
    gradient.fill(0);
    return Number.POSITIVE_INFINITY;
  };
  return (theta, gradient) => {
    for (let i = 0; i < 4; i++) if (!(Math.abs(theta[i]!) <= 40)) return infinite(gradient);
    const r = Math.exp(theta[0]!);
    const alpha = Math.exp(theta[1]!);
    const s = Math.exp(theta[2]!);
    const beta = Math.exp(theta[3]!);
    const logAlpha = Math.log(alpha);
    const logBeta = Math.log(beta);
    const logS = Math.log(s);
    const ll = new CompensatedSum();
    const base = r * logAlpha + s * logBeta - lgamma(r);
    const psiR = digamma(r);
    let gR = 0;
    for (let k = 0; k < xValues.length; k++) {
      const w = xWeight[k]!;
      const x = xValues[k]!;
      ll.add(w * (base + lgamma(r + x)));
      gR += w * (digamma(r + x) - psiR + logAlpha);
      logRsx[k] = Math.log(r + s + x);
      invRsx[k] = 1 / (r + s + x);
    }
    let gAlpha = (totalWeight * r) / alpha;
    let gS = totalWeight * logBeta;
    let gBeta = (totalWeight * s) / beta;
    for (let j = 0; j < nT; j++) {
      const va = alpha + tValues[j]!;
      const vb = beta + tValues[j]!;
      logVAlpha[j] = Math.log(va);
      logVBeta[j] = Math.log(vb);
      invVAlpha[j] = 1 / va;
      invVBeta[j] = 1 / vb;
    }
    const logAOfPairs = (spend: TermBudget | null): void => {
      for (let j = 0; j < nPairs; j++) logAOfPair[j] = logAWithGradient(r, alpha, s, beta, pairX[j]!, pairT[j]!, partials, gradAOfPair, 4 * j, spend);
    };
    if (allowance === null) logAOfPairs(budget);
    else if (!withinAllowance(allowance, theta, () => logAOfPairs(allowance.budget))) return infinite(gradient);
    let block = 0;
    for (let k = 0; k < rowW.length; k++) {
      const xi = rowX[k]!;
      const x = xValues[xi]!;
      const ti = rowT[k]!;
      const w = rowW[k]!;
      const alive = -(r + x) * logVAlpha[ti]! - s * logVBeta[ti]!;
      let value = alive;
      let wAlive = w;
      if (rowAtEnd[k] === 0) {
        const jTx = rowTxPair[k]!;
        const jT = rowTPair[k]!;
        const aTx = logAOfPair[jTx]!;
        const gap = Math.min(logAOfPair[jT]!, aTx) - aTx;
        // 1 − q = −expm1(gap), q = A(T)/A(tx); q = 1 (tx and T too close to tell apart) leaves no dropout term.
        const oneMinusQ = -Math.expm1(gap);
        if (oneMinusQ > 0) {
          const died = logS - logRsx[xi]! + aTx + (oneMinusQ === 1 ? 0 : Math.log(oneMinusQ));
          // ln(e^alive + e^died) and the posterior weights of the two, from one exp.
          const e = Math.exp(-Math.abs(alive - died));
          const share = 1 / (1 + e);
          value = Math.max(alive, died) + (e < 1e-17 ? e : Math.log1p(e));
          const pDied = died > alive ? share : e * share;
          wAlive = w * (died > alive ? e * share : share);
          const q = 1 - oneMinusQ;
          const wd = (w * pDied) / oneMinusQ;
          const at = 4 * jTx;
          const bt = 4 * jT;
          gR += wd * (gradAOfPair[at]! - q * gradAOfPair[bt]! - oneMinusQ * invRsx[xi]!);
          gAlpha += wd * (gradAOfPair[at + 1]! - q * gradAOfPair[bt + 1]!);
          gS += wd * (gradAOfPair[at + 2]! - q * gradAOfPair[bt + 2]! + oneMinusQ * (1 / s - invRsx[xi]!));
          gBeta += wd * (gradAOfPair[at + 3]! - q * gradAOfPair[bt + 3]!);
        }
      }
      gR -= wAlive * logVAlpha[ti]!;
      gAlpha -= wAlive * (r + x) * invVAlpha[ti]!;
      gS -= wAlive * logVBeta[ti]!;
      gBeta -= wAlive * s * invVBeta[ti]!;
      block += w * value;
      if ((k & 255) === 255) {
        ll.add(block);
        block = 0;
      }
    }
    ll.add(block);
    const mean = -ll.value / totalWeight;
    gradient[0] = (-r * gR) / totalWeight;
    gradient[1] = (-alpha * gAlpha) / totalWeight;
    gradient[2] = (-s * gS) / totalWeight;
    gradient[3] = (-beta * gBeta) / totalWeight;
    if (!Number.isFinite(mean) || !gradient.every(Number.isFinite)) return infinite(gradient);
    return mean;
  };
};

/**
 * The weighted log-likelihood and its gradient with respect to (r, α, s, β), by the same evaluation
 * the fit runs ({@link makeObjective}), in the data's own time unit. NaN value and gradient when a
 * parameter is not positive.
 */
export const paretoNbdLogLikelihoodWithGradient = (
  params: ParetoNbdParams,
  data: ParetoNbdData,
): { readonly value: number; readonly gradient: ParetoNbdParams } => {
  validateBgNbdData(data);
  const { r, alpha, s, beta } = params;
  if (!(r > 0 && alpha > 0 && s > 0 && beta > 0)) return { value: Number.NaN, gradient: { r: Number.NaN, alpha: Number.NaN, s: Number.NaN, beta: Number.NaN } };
  const prep = prepare(data, 1);
  if (prep.totalWeight === 0) return { value: 0, gradient: { r: 0, alpha: 0, s: 0, beta: 0 } };
  const g = new Float64Array(4);
  const mean = makeObjective(prep)(Float64Array.of(Math.log(r), Math.log(alpha), Math.log(s), Math.log(beta)), g);
  const W = prep.totalWeight;
  return {
    value: -mean * W,
    gradient: { r: (-g[0]! * W) / r, alpha: (-g[1]! * W) / alpha, s: (-g[2]! * W) / s, beta: (-g[3]! * W) / beta },
  };
};

// ---------------------------------------------------------------------------------------------
// Fit
// ---------------------------------------------------------------------------------------------

/**
 * A fit's own budget of hypergeometric terms for its objective ({@link makeObjective}), and what the
 * objective declined once it was spent: how many evaluations, and θ = ln(r, α, s, β) (time-scaled)
 * of the first.
 */
interface FitAllowance {
  readonly budget: TermBudget;
  declined: number;
  readonly at: Float64Array;
}

/**
 * Hypergeometric terms a fit's search may spend per distinct (x, t) pair of its data, over all its
 * evaluations: 200 evaluations (the optimiser's default iterations) at 1,000 terms a pair. The fits of
 * CDNOW and of 20,000 simulated customers spend ~750 a pair in all (~30 an evaluation); a trusted fit
 * of 60 customers with s = 39, where the 2F1 costs ~1,000 a pair, 50,000 in 37 iterations. A search
 * that wanders along a ridge the data do not pin down (s and β growing together: one common dropout
 * rate) takes the 2F1 where its series need thousands of terms and its continuation far more (s in
 * the thousands; 1.8e8 terms for one pair with r near 0 and s near 6e6): 58 customers' 70 pairs cost
 * 1e7 terms an evaluation there, and a fit took minutes.
 */
const FIT_TERMS_PER_PAIR = 200_000;

const fitAllowance = (prep: PreparedData, budget: TermBudget | null): FitAllowance => ({
  budget: new TermBudget(FIT_TERMS_PER_PAIR * prep.pairX.length, budget),
  declined: 0,
  at: new Float64Array(4),
});

/**
 * Runs `work`, which spends from `allowance.budget`, unless that budget is spent: false, with the
 * decline recorded (θ where it is the first), when it was spent before or by the work.
 */
const withinAllowance = (allowance: FitAllowance, theta: Float64Array, work: () => void): boolean => {
  try {
    if (allowance.budget.spent < allowance.budget.limit) {
      work();
      return true;
    }
  } catch (error) {
    if (!(error instanceof TermBudgetExceeded && error.budget === allowance.budget)) throw error;
  }
  if (allowance.declined++ === 0) allowance.at.set(theta);
  return false;
};

export interface FitParetoNbdOptions extends FitTimeOptions {
  /** @default 200 */
  readonly maxIterations?: number;
  /** Starting point, in the parameters' time unit. @default a crude moment guess */
  readonly initial?: ParetoNbdParams;
  /**
   * Spent every term of the likelihood's hypergeometric functions, in the fit and its standard errors;
   * throws once exhausted. For tests that bound a fit's cost without a clock. @default none
   */
  readonly termBudget?: TermBudget;
}

const PARAMETER_NAMES = ['r', 'alpha', 's', 'beta'] as const;

const untrusted = (params: ParetoNbdParams, data: ParetoNbdData, customers: number, message: string): ParetoNbdFit =>
  untrustedFit(params, customers > 0 ? paretoNbdLogLikelihood(params, data) : 0, customers, message);

/**
 * Maximum-likelihood Pareto/NBD fit on weighted distinct patterns.
 *
 * Optimises θ = ln(r, α, s, β) by BFGS ({@link minimiseBfgs}) with the analytic gradient
 * ({@link makeObjective}) on time divided by the largest T (so α, β and the ln(α + t) terms are of
 * order 1 whatever the unit); α and β are scaled back, so the parameters and the log-likelihood are
 * in the caller's unit. Standard errors come from the inverse observed information in θ (central
 * differences of the analytic gradient, ~1e−10 relative), by the delta method.
 *
 * Start: the crude moment guess below, or `options.initial`. Above 4 · 25,000 repeat-buyer
 * patterns, first a fit on a deterministic subsample ({@link repeatBuyerSubsample}, the BG/NBD's
 * warm start), whose estimate and BFGS inverse Hessian start the full fit: the objective is a
 * per-customer mean, so both carry over and the full fit needs ~5 iterations instead of ~25. It
 * changes where the search starts, not what it converges to (the tests fit 120 shifted copies of
 * CDNOW both ways). The BG/NBD estimate was not used as the start: its (r, α) describe a different
 * purchase-rate mixture (CDNOW: r 0.24 vs 0.55), and its (a, b) map to no (s, β).
 *
 * Minimum data as for the BG/NBD ({@link PARETO_NBD_MIN_CUSTOMERS} customers, of whom
 * {@link PARETO_NBD_MIN_REPEAT_BUYERS} repeat buyers, some T > 0). Below it, without convergence,
 * or with a parameter running toward 0 or infinity, the fit comes back with
 * `diagnostics.converged = false`, a message, finite parameters and no standard errors. So it does
 * when the search has spent its budget of hypergeometric terms ({@link FIT_TERMS_PER_PAIR} per
 * distinct (x, t) pair) before it stopped: the likelihood could not be evaluated near where it was
 * heading (the parameters named in the message), in every case seen along a ridge the data do not
 * identify. That bounds a fit's cost by the data, not by where the optimiser wanders; the standard
 * errors of a search that stopped within it are taken whatever it had left.
 *
 * Cost per evaluation (value and gradient): one log-space 2F1 with its partial derivatives per
 * distinct (x, t) pair (t a recency or a tenure), one exp, expm1, log and log1p per pattern. One
 * million simulated customers (~300,000 patterns): ~40 evaluations in all, 14 of them on the full
 * data (6 for the fit, 8 for the standard errors).
 */
export const fitParetoNbd = (data: ParetoNbdData, options: FitParetoNbdOptions = {}): ParetoNbdFit => {
  validateBgNbdData(data);
  const unitDays = options.unitDays ?? 1;
  const { customers, repeatBuyers, sumX, sumT, maxT } = summariseTransactionData(data);
  const scale = maxT > 0 ? maxT : 1;
  // α and β in the data's time, where the search runs, and in the unit reported
  const inDataTime = (p: ParetoNbdParams): ParetoNbdParams => ({ ...p, alpha: p.alpha * unitDays, beta: p.beta * unitDays });
  const reported = (p: ParetoNbdParams): ParetoNbdParams => ({ ...p, alpha: p.alpha / unitDays, beta: p.beta / unitDays });
  // Crude start: r = s = 1, E[λ] = r/α ≈ Σx/ΣT, and a mean lifetime β/(s − 1) of about the longest tenure.
  const guess: ParetoNbdParams = options.initial === undefined ? { r: 1, alpha: sumX > 0 ? sumT / sumX : scale, s: 1, beta: scale } : inDataTime(options.initial);
  if (customers < PARETO_NBD_MIN_CUSTOMERS || repeatBuyers < PARETO_NBD_MIN_REPEAT_BUYERS || maxT <= 0) {
    return untrusted(
      reported(guess),
      dataInUnit(data, unitDays),
      customers,
      `not enough data: ${counted(customers, 'customer')}, ${counted(repeatBuyers, 'repeat buyer')}, longest tenure ${figure(maxT / unitDays)} (need >= ${PARETO_NBD_MIN_CUSTOMERS} customers, >= ${PARETO_NBD_MIN_REPEAT_BUYERS} repeat buyers, tenure > 0)`,
    );
  }
  const prep = prepare(data, scale);
  const budget = options.termBudget ?? null;
  const allowance = fitAllowance(prep, budget);
  const maxIterations = options.maxIterations ?? 200;
  let start = [Math.log(guess.r), Math.log(guess.alpha / scale), Math.log(guess.s), Math.log(guess.beta / scale)];
  let initialInverseHessian: Float64Array | undefined;
  const sample = repeatBuyerSubsample(data, WARM_START_ROWS);
  if (sample !== null) {
    const samplePrep = prepare(sample, scale);
    const warm = minimiseBfgs(makeObjective(samplePrep, budget, fitAllowance(samplePrep, budget)), start, { maxIterations, gradientTolerance: 1e-6 });
    if (warm.converged) {
      start = Array.from(warm.x);
      initialInverseHessian = warm.inverseHessian;
    }
  }
  const run = minimiseBfgs(makeObjective(prep, budget, allowance), start, { maxIterations, initialInverseHessian });
  const paramsOf = (theta: Float64Array): ParetoNbdParams =>
    reported({ r: Math.exp(theta[0]!), alpha: Math.exp(theta[1]!) * scale, s: Math.exp(theta[2]!), beta: Math.exp(theta[3]!) * scale });
  // −LL/N on time divided by `scale` (in units of `unitDays`: scale / unitDays); each purchase's density is that many times larger there.
  const logLikelihoodOf = (f: number): number => -f * prep.totalWeight - prep.weightedX * Math.log(scale / unitDays);
  if (allowance.declined > 0) {
    const near = paramsOf(allowance.at);
    const where = PARAMETER_NAMES.map((name) => `${name}=${figure(near[name])}`).join(', ');
    const message = `the likelihood could not be evaluated near ${where} within the fit's budget of ${counted(allowance.budget.limit, 'hypergeometric term')}: the data do not identify the model (${run.message})`;
    // The search's last point was evaluated within the budget: its log-likelihood costs nothing more.
    return untrustedFit(paramsOf(run.x), logLikelihoodOf(run.value), customers, message, run.iterations, run.gradientNorm);
  }
  return concludeLogParameterFit({
    names: PARAMETER_NAMES,
    run,
    // The standard errors' few evaluations at the estimate cost what the search's last did, whatever it had left.
    objective: makeObjective(prep, budget),
    totalWeight: prep.totalWeight,
    customers,
    guess: reported(guess),
    paramsOf,
    logLikelihoodOf,
    logLikelihoodAt: (params) => paretoNbdLogLikelihood(params, dataInUnit(data, unitDays)),
  });
};

// ---------------------------------------------------------------------------------------------
// Predictions
// ---------------------------------------------------------------------------------------------

/** Throws a RangeError unless every parameter is positive and finite. */
export const checkParetoNbdParams = (params: ParetoNbdParams): void => {
  const { r, alpha, s, beta } = params;
  if (!(r > 0 && alpha > 0 && s > 0 && beta > 0) || !Number.isFinite(r + alpha + s + beta)) {
    throw new RangeError(`Pareto/NBD parameters must be positive and finite: r=${r}, alpha=${alpha}, s=${s}, beta=${beta}`);
  }
};

const checkCustomer = (x: number, tx: number, T: number): void => {
  if (!(Number.isInteger(x) && x >= 0) || !(tx >= 0) || !(T >= tx) || !Number.isFinite(T) || (x === 0 && tx !== 0)) {
    throw new RangeError(`invalid customer: x=${x}, tx=${tx}, T=${T} (need whole x >= 0, 0 <= tx <= T, tx = 0 when x = 0)`);
  }
};

const checkTime = (t: number): void => {
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be finite and >= 0, got ${t}`);
};

/**
 * A function (x, tx, T) → ln P(alive | x, tx, T) = alive − logSumExp(alive, died) (the note's
 * eq. 18 in the terms of eq. 22, as {@link aliveOfParts}) that caches the 2F1 of ln A per distinct (x, t), so scoring many customers
 * costs a hypergeometric function per distinct recency and tenure, not per customer.
 * Unchecked: the caller validated parameters and customers.
 */
export const makeLogProbabilityAlive = (params: ParetoNbdParams): ((x: number, tx: number, T: number) => number) => {
  const { r, alpha, s, beta } = params;
  const pairs = new DistinctPairs();
  let cache = new Float64Array(256);
  const cachedLogF = (x: number, t: number): number => {
    const before = pairs.size;
    const id = pairs.indexOf(x, t);
    if (id === before) {
      if (id === cache.length) {
        const grown = new Float64Array(2 * cache.length);
        grown.set(cache);
        cache = grown;
      }
      cache[id] = logHypergeometricPart(r, alpha, s, beta, x, t);
    }
    return cache[id]!;
  };
  return (x, tx, T) => {
    if (tx >= T) return 0;
    const big = Math.max(alpha, beta);
    const logFT = cachedLogF(x, T);
    const base = aliveOddsBase(r, alpha, s, beta, x, logTenureShare(alpha, beta, T), Math.log(s) - Math.log(r + s + x));
    return aliveOfParts(r, alpha, s, beta, x, tx, T, cachedLogF(x, tx), logFT, base, Math.exp(base + logFT), Math.log(big + tx), Math.log(big + T), true);
  };
};

/**
 * The numbers {@link aliveFromTable} reads under `params` for the tuples of `index`, per distinct
 * value rather than per tuple: ln(max(α, β) + t) per distinct time; per distinct (x, t) of the
 * index's pairs the 2F1 part ln F(x, t) = ln A(x, t) of the odds and the (x, T) part of the odds of
 * {@link aliveOfParts} — base, from ln((min(α, β) + t)/(max(α, β) + t)) per distinct time and
 * ln s − ln(r+s+x) per distinct x (kept at the table's end), and e^(base + ln F(x, t)) — taken at
 * every pair (only those at a tuple's tenure are read). {@link aliveTableLength}(index) numbers,
 * into `table`. O(distinct times + frequencies + pairs).
 */
export const aliveTable = (params: ParetoNbdParams, index: TupleIndex, table: Float64Array): void => {
  const { r, alpha, s, beta } = params;
  const { times, xs, pairX, pairT, pairXOf, pairTimeOf } = index;
  const pairs = pairX.length;
  const logFAt = times.length;
  const shareAt = logFAt + 3 * pairs;
  const rateAt = shareAt + times.length;
  for (let k = 0; k < times.length; k++) {
    table[k] = Math.log(Math.max(alpha, beta) + times[k]!);
    table[shareAt + k] = logTenureShare(alpha, beta, times[k]!);
  }
  for (let k = 0; k < xs.length; k++) table[rateAt + k] = Math.log(s) - Math.log(r + s + xs[k]!);
  for (let p = 0; p < pairs; p++) {
    const x = pairX[p]!;
    const logF = logHypergeometricPart(r, alpha, s, beta, x, pairT[p]!);
    const base = aliveOddsBase(r, alpha, s, beta, x, table[shareAt + pairTimeOf[p]!]!, table[rateAt + pairXOf[p]!]!);
    table[logFAt + p] = logF;
    table[logFAt + pairs + p] = base;
    table[logFAt + 2 * pairs + p] = Math.exp(base + logF);
  }
};

/** The length of {@link aliveTable}'s table for `index`: 2 · distinct times + distinct frequencies + 3 · distinct (x, t) pairs. */
export const aliveTableLength = (index: TupleIndex): number => 2 * index.times.length + index.xs.length + 3 * index.pairX.length;

/**
 * P(alive | x, tx, T) of tuples [from, to) of `index` into out[0 … to − from): from the same odds,
 * bit for bit, as {@link makeLogProbabilityAlive}'s logarithm (so equal to its exponential to the
 * rounding of ln P), the 2F1 of ln A(x, t), ln(max(α, β) + t) and the (x, T) part of the odds read
 * from `table` ({@link aliveTable} under the same `params`): per tuple one exp. The same numbers for
 * a tuple whatever range it is in. Unchecked: for validated parameters and tuples (in model units).
 */
export const aliveFromTable = (params: ParetoNbdParams, index: TupleIndex, table: Float64Array, from: number, to: number, out: Float64Array): void => {
  const { r, alpha, s, beta } = params;
  const logFAt = index.times.length;
  const baseAt = logFAt + index.pairX.length;
  const oddsAt = baseAt + index.pairX.length;
  const { x, tx, T, txOf, TOf, pairOfTx, pairOfT } = index;
  for (let j = from; j < to; j++) {
    if (tx[j]! >= T[j]!) {
      out[j - from] = 1;
      continue;
    }
    const p = pairOfT[j]!;
    out[j - from] = aliveOfParts(r, alpha, s, beta, x[j]!, tx[j]!, T[j]!, table[logFAt + pairOfTx[j]!]!, table[logFAt + p]!, table[baseAt + p]!, table[oddsAt + p]!, table[txOf[j]!]!, table[TOf[j]!]!, false);
  }
};

/**
 * P(alive | x, tx, T) of every tuple of `index` into `out` (length index.x.length): {@link aliveFromTable}
 * over them all. Unchecked: for validated parameters and tuples (in model units).
 */
export const probabilityAliveOn = (params: ParetoNbdParams, index: TupleIndex, out: Float64Array): void => {
  const table = new Float64Array(aliveTableLength(index));
  aliveTable(params, index, table);
  aliveFromTable(params, index, table, 0, index.x.length, out);
};

/** P(alive | x, tx, T): in [0, 1], 1 when tx = T (a purchase at the end of observation). */
export const probabilityAlive = (params: ParetoNbdParams, x: number, tx: number, T: number): number => {
  checkParetoNbdParams(params);
  checkCustomer(x, tx, T);
  return Math.exp(makeLogProbabilityAlive(params)(x, tx, T));
};

/**
 * (1 − (b/(b+t))^(s−1)) / (s − 1) = −expm1(−(s−1) ln(1 + t/b)) / (s − 1), continuous at s = 1
 * (→ ln(1 + t/b)): the lifetime factor of every Pareto/NBD expectation, E[(1 − e^(−μt))/μ] · b/... .
 */
const lifetimeFactor = (s: number, b: number, t: number): number => {
  const L = Math.log1p(t / b);
  const k = s - 1;
  return Math.abs(k * L) < 1e-8 ? L * (1 - (k * L) / 2) : -Math.expm1(-k * L) / k;
};

/**
 * E[X(T, T+t] | alive at T, x, T]: with posterior λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T),
 *   (r+x)/(α+T) · (β+T) · [1 − ((β+T)/(β+T+t))^(s−1)] / (s−1)     (the note's eq. 25 over eq. 18).
 * Depends on (x, T) only; closed form, so a grid of windows costs one expm1 each.
 */
export const expectedPurchasesIfAlive = (params: ParetoNbdParams, t: number, x: number, T: number): number => {
  const { r, alpha, s, beta } = params;
  if (!(t > 0)) return 0;
  return ((r + x) / (alpha + T)) * (beta + T) * lifetimeFactor(s, beta + T, t);
};

/**
 * E[X(T, T+t] | x, tx, T] (the note's eq. 25) = P(alive | x, tx, T) · {@link expectedPurchasesIfAlive}.
 * Finite, non-negative and non-decreasing in t.
 */
export const conditionalExpectedPurchases = (params: ParetoNbdParams, t: number, x: number, tx: number, T: number): number => {
  checkParetoNbdParams(params);
  checkCustomer(x, tx, T);
  checkTime(t);
  return Math.exp(makeLogProbabilityAlive(params)(x, tx, T)) * expectedPurchasesIfAlive(params, t, x, T);
};

/** E[X(t)] (the note's eq. 17): r β / (α (s − 1)) · [1 − (β/(β+t))^(s−1)], continuous at s = 1. */
export const expectedPurchasesNewCustomer = (params: ParetoNbdParams, t: number): number => {
  checkParetoNbdParams(params);
  checkTime(t);
  return (params.r / params.alpha) * params.beta * lifetimeFactor(params.s, params.beta, t);
};

/**
 * P(X(t) = n) for a new customer, from the note's eq. (20) (Fader & Hardie, "Deriving an Expression
 * for P(X(t) = x) Under the Pareto/NBD Model", 2006):
 *
 *   P(X(t) = n) = NB(n; t) (β/(β+t))^s + ∫_0^t NB(n; u) s β^s (β+u)^−(s+1) du,
 *   NB(n; u) = Γ(r+n)/(Γ(r) n!) (α/(α+u))^r (u/(α+u))^n,
 *
 * alive through (0, t] plus dropped out at u. The integral is computed as it stands, not through
 * eq. (21)'s closed form, whose bracket B1 − Σ B2 is a difference of positive terms that cancelled
 * entirely for small probabilities or large r, s (see {@link logDroppedOutIntegral}). Every power is
 * taken relative to 1 (r ln(α/(α+t)) as −r log1p(t/α), Γ(r+n)/Γ(r) by {@link lgammaDifference}),
 * so parameters near 1e8 lose no digits to logarithms of size 1e9.
 */
export const probabilityOfPurchases = (params: ParetoNbdParams, t: number, n: number): number => {
  checkParetoNbdParams(params);
  checkTime(t);
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a whole number >= 0, got ${n}`);
  const { r, alpha, s, beta } = params;
  if (t === 0) return n === 0 ? 1 : 0;
  const logG = lgammaDifference(r, n) - lgamma(n + 1);
  const alive = logG - r * Math.log1p(t / alpha) - (n === 0 ? 0 : n * Math.log1p(alpha / t)) - s * Math.log1p(t / beta);
  return Math.min(1, Math.exp(alive) + Math.exp(logDroppedOutIntegral(r, alpha, s, beta, t, n, logG)));
};

/** Relative change of the trapezoidal sum when the step is halved, below which it has converged. */
const TRAPEZOID_AGREEMENT = 1e-13;
/** Nodes are summed while the integrand is above e^−46 ≈ 1e−20 of its peak. */
const NEGLIGIBLE_LOG = -46;

/**
 * ln ∫_0^t NB(n; u) s β^s (β+u)^−(s+1) du, `logG` = ln Γ(r+n) − ln Γ(r) − ln n!. With u = t σ(v),
 * σ the logistic function, the integrand in v is exp ψ(v),
 *
 *   ψ(v) = logG + ln(s/β) − n ln α + (n+1) ln u − (r+n) log1p(u/α) − (s+1) log1p(u/β) + ln(1 − σ(v)),
 *
 * which decays like e^((n+1)v) as v → −∞ and like e^−v as v → ∞. In w = ln u the part before
 * ln(1 − σ) is concave (a line minus softplus terms), so dψ/dv = ψ_w (1 − σ) − σ falls through 0
 * once: ψ is unimodal, its mode v* found by bisection. The trapezoidal rule on ℝ (Trefethen &
 * Weideman 2014, SIAM Review 56(3)) converges geometrically for such an analytic integrand; it
 * starts with a step of half the width 1/√(−ψ''(v*)) (at most 1/4) and is halved until the sum
 * changes by less than 1e−13; the nodes run from v* outwards until ψ is 46 below its peak.
 */
const logDroppedOutIntegral = (r: number, alpha: number, s: number, beta: number, t: number, n: number, logG: number): number => {
  const logT = Math.log(t);
  const base = logG + Math.log(s / beta) - n * Math.log(alpha) + (n + 1) * logT;
  /** ψ(v), and in `slope` its derivative dψ/dv, and in `curvature` −d²ψ/dv². */
  let slope = 0;
  let curvature = 0;
  const psi = (v: number): number => {
    // σ and 1 − σ and their logs without cancellation on either side of v = 0
    const e = Math.exp(-Math.abs(v));
    const sigma = v < 0 ? e / (1 + e) : 1 / (1 + e);
    const rest = v < 0 ? 1 / (1 + e) : e / (1 + e);
    const logSigma = v < 0 ? v - Math.log1p(e) : -Math.log1p(e);
    const logRest = v < 0 ? -Math.log1p(e) : -v - Math.log1p(e);
    const u = t * sigma;
    const qa = u / (alpha + u);
    const qb = u / (beta + u);
    const dw = n + 1 - (r + n) * qa - (s + 1) * qb;
    const d2w = (r + n) * qa * (1 - qa) + (s + 1) * qb * (1 - qb);
    slope = dw * rest - sigma;
    curvature = d2w * rest * rest + sigma;
    return base + (n + 1) * logSigma - (r + n) * Math.log1p(u / alpha) - (s + 1) * Math.log1p(u / beta) + logRest;
  };
  // bracket the mode (dψ/dv → n + 1 as v → −∞, → −1 as v → ∞), then bisect
  let lo = -1;
  let hi = 1;
  for (let width = 1; width < 1e4; width *= 2) {
    psi(lo);
    if (slope > 0) break;
    lo -= width;
  }
  for (let width = 1; width < 1e4; width *= 2) {
    psi(hi);
    if (slope < 0) break;
    hi += width;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-6 * Math.max(1, Math.abs(lo)); i++) {
    const mid = 0.5 * (lo + hi);
    psi(mid);
    if (slope > 0) lo = mid;
    else hi = mid;
  }
  const mode = 0.5 * (lo + hi);
  const peak = psi(mode);
  let step = Math.min(0.25, 0.5 / Math.sqrt(curvature));
  /** Σ_k e^(ψ(v0 + k step) − peak) over the nodes above the cut, from v0 outwards both ways. */
  const sweep = (v0: number): number => {
    let sum = 0;
    for (const direction of [1, -1]) {
      for (let k = direction === 1 ? 0 : 1; ; k++) {
        const relative = psi(v0 + direction * k * step) - peak;
        if (relative < NEGLIGIBLE_LOG && k > 0) break;
        sum += Math.exp(relative);
      }
    }
    return sum;
  };
  let total = step * sweep(mode);
  for (let halving = 0; halving < 8; halving++) {
    const refined = 0.5 * (total + step * sweep(mode + step / 2));
    step /= 2;
    const done = Math.abs(refined - total) <= TRAPEZOID_AGREEMENT * refined;
    total = refined;
    if (done) break;
  }
  return peak + Math.log(total);
};

/**
 * E[X(T, T+t_k] | alive at T, x, T] on a fixed grid of windows, for many (x, T): the shape
 * `clv.ts` scores with. Closed form (see {@link expectedPurchasesIfAlive}); `out[k]` gets window k.
 * The lifetime factor depends on T and the window only, not on x, so it is computed once per
 * distinct T (an expm1 and a log1p per window) and each (x, T) then costs two products a window.
 */
export const makeExpectedPurchasesIfAliveOnGrid = (params: ParetoNbdParams, times: ArrayLike<number>): ((x: number, T: number, out: Float64Array) => void) => {
  checkParetoNbdParams(params);
  for (let k = 0; k < times.length; k++) if (!(times[k]! >= 0) || !Number.isFinite(times[k]!)) throw new RangeError(`window ${k} must be finite and >= 0, got ${times[k]}`);
  const { r, alpha, s, beta } = params;
  const windows = times.length;
  const tenures = new DistinctPairs();
  let factors = new Float64Array(64 * windows);
  return (x, T, out) => {
    const known = tenures.size;
    const id = tenures.indexOf(T, 0);
    const b = beta + T;
    if (id === known) {
      if ((id + 1) * windows > factors.length) {
        const grown = new Float64Array(2 * factors.length);
        grown.set(factors);
        factors = grown;
      }
      for (let k = 0; k < windows; k++) factors[id * windows + k] = times[k]! > 0 ? lifetimeFactor(s, b, times[k]!) : 0;
    }
    const rate = (r + x) / (alpha + T);
    for (let k = 0; k < windows; k++) out[k] = times[k]! > 0 ? rate * b * factors[id * windows + k]! : 0;
  };
};
