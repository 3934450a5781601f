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
import { hessianFromGradient, invertSymmetricPositiveDefinite, minimiseBfgs, type ObjectiveWithGradient } from '../math/optimise.js';
import { lgamma, log2F1, logSumExp } from '../math/special.js';
import { CompensatedSum } from '../math/sum.js';
import { DistinctPairs, summariseTransactionData, validateBgNbdData, type BgNbdData, type FitDiagnostics } from './bg-nbd.js';

export interface ParetoNbdParams {
  readonly r: number;
  readonly alpha: number;
  readonly s: number;
  readonly beta: number;
}

export interface ParetoNbdFit {
  readonly params: ParetoNbdParams;
  readonly logLikelihood: number;
  /** Delta-method standard errors from the inverse observed information; null if it is not positive definite. */
  readonly standardErrors: ParetoNbdParams | null;
  /**
   * Asymptotic covariance of (ln r, ln α, ln s, ln β), 4×4 row-major, in the caller's time unit
   * (a change of unit shifts ln α and ln β only, so it is unit-free); null with the standard errors.
   */
  readonly logCovariance: Float64Array | null;
  readonly diagnostics: FitDiagnostics;
  /** Σ weight: customers the fit saw. */
  readonly customers: number;
}

/** Patterns the Pareto/NBD fits on: the BG/NBD's (x, tx, T, weight), same validation and compression. */
export type ParetoNbdData = BgNbdData;

export const PARETO_NBD_MIN_CUSTOMERS = 20;
export const PARETO_NBD_MIN_REPEAT_BUYERS = 5;
/** A scaled log-parameter beyond ±LOG_PARAM_LIMIT means the likelihood keeps rising toward a boundary. */
const LOG_PARAM_LIMIT = 18;

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
 * the argument in [0, 1) with every series term positive, and {@link log2F1} works in log space, so
 * large x and T neither overflow nor underflow.
 */
const logA = (r: number, alpha: number, s: number, beta: number, x: number, t: number): number => {
  const a = r + s + x;
  if (alpha >= beta) return log2F1(a, s + 1, a + 1, (alpha - beta) / (alpha + t)) - a * Math.log(alpha + t);
  return log2F1(a, r + x, a + 1, (beta - alpha) / (beta + t)) - a * Math.log(beta + t);
};

/** ln(e^a − e^b) for a ≥ b, −Infinity when they are equal. */
const logDiffExp = (a: number, b: number): number => (b === Number.NEGATIVE_INFINITY ? a : a + Math.log(-Math.expm1(b - a)));

/**
 * The pieces of eq. (22) for one customer: ln L = common + logSumExp(alive, died), with
 *   common = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β,
 *   alive  = −(r+x) ln(α+T) − s ln(β+T)                        (still alive at T),
 *   died   = ln s − ln(r+s+x) + ln(A(tx) − A(T))                (dropped out in (tx, T]).
 * A(tx) ≥ A(T) since A decreases in t; the difference is taken in log space (−Infinity at tx = T).
 */
const alivePart = (r: number, alpha: number, s: number, beta: number, x: number, T: number): number => -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
const diedPart = (s: number, r: number, x: number, logATx: number, logAT: number): number =>
  Math.log(s) - Math.log(r + s + x) + logDiffExp(logATx, Math.min(logAT, logATx));

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
  /** Per pattern (w > 0): weight, x index, pair of (x, tx), pair of (x, T). */
  readonly rowW: Float64Array;
  readonly rowX: Int32Array;
  readonly rowTxPair: Int32Array;
  readonly rowTPair: Int32Array;
  /** Per pattern: tx ≥ T (no dropout term). */
  readonly rowAtEnd: Uint8Array;
}

const prepare = (data: ParetoNbdData, timeScale: number): PreparedData => {
  const n = data.x.length;
  const xs = new DistinctPairs();
  const pairs = new DistinctPairs();
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (data.weight[i]! > 0) keep.push(i);
  const m = keep.length;
  const rowW = new Float64Array(m);
  const rowX = new Int32Array(m);
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
    rowW,
    rowX,
    rowTxPair,
    rowTPair,
    rowAtEnd,
  };
};

/** −LL/N on prepared (time-scaled) data at θ = ln(r, α, s, β); +Infinity outside |θ| ≤ 40. */
const makeMeanNegativeLogLikelihood = (prep: PreparedData): ((theta: ArrayLike<number>) => number) => {
  const logAOfPair = new Float64Array(prep.pairX.length);
  const { xValues, xWeight, pairX, pairT, rowW, rowX, rowTxPair, rowTPair, rowAtEnd, totalWeight } = prep;
  return (theta) => {
    for (let i = 0; i < 4; i++) if (!(Math.abs(theta[i]!) <= 40)) return Number.POSITIVE_INFINITY;
    const r = Math.exp(theta[0]!);
    const alpha = Math.exp(theta[1]!);
    const s = Math.exp(theta[2]!);
    const beta = Math.exp(theta[3]!);
    const ll = new CompensatedSum();
    const base = r * Math.log(alpha) + s * Math.log(beta) - lgamma(r);
    for (let k = 0; k < xValues.length; k++) ll.add(xWeight[k]! * (base + lgamma(r + xValues[k]!)));
    for (let j = 0; j < pairX.length; j++) logAOfPair[j] = logA(r, alpha, s, beta, pairX[j]!, pairT[j]!);
    const logS = Math.log(s);
    let block = 0;
    for (let k = 0; k < rowW.length; k++) {
      const x = xValues[rowX[k]!]!;
      const jT = rowTPair[k]!;
      const alive = alivePart(r, alpha, s, beta, x, pairT[jT]!);
      let value = alive;
      if (rowAtEnd[k] === 0) {
        const a = logAOfPair[rowTxPair[k]!]!;
        const died = logS - Math.log(r + s + x) + logDiffExp(a, Math.min(logAOfPair[jT]!, a));
        value = logSumExp(alive, died);
      }
      block += rowW[k]! * value;
      if ((k & 255) === 255) {
        ll.add(block);
        block = 0;
      }
    }
    ll.add(block);
    const mean = -ll.value / totalWeight;
    return Number.isFinite(mean) ? mean : Number.POSITIVE_INFINITY;
  };
};

/** Central-difference step in the log-parameters: ~eps^(1/3), balancing truncation against rounding. */
const GRADIENT_STEP = 5e-6;

/**
 * The objective with a central-difference gradient (8 evaluations): the hypergeometric terms'
 * derivatives in r and s have no closed form worth its cost, and the fit needs only ~1e−9 accuracy.
 */
const withNumericalGradient = (f: (theta: ArrayLike<number>) => number): ObjectiveWithGradient => {
  const point = new Float64Array(4);
  return (theta, gradient) => {
    const value = f(theta);
    if (!Number.isFinite(value)) {
      gradient.fill(0);
      return Number.POSITIVE_INFINITY;
    }
    point.set(theta);
    for (let i = 0; i < 4; i++) {
      const h = GRADIENT_STEP * Math.max(1, Math.abs(theta[i]!));
      point[i] = theta[i]! + h;
      const up = f(point);
      point[i] = theta[i]! - h;
      const down = f(point);
      point[i] = theta[i]!;
      gradient[i] = (up - down) / (2 * h);
    }
    return gradient.every(Number.isFinite) ? value : Number.POSITIVE_INFINITY;
  };
};

// ---------------------------------------------------------------------------------------------
// Fit
// ---------------------------------------------------------------------------------------------

export interface FitParetoNbdOptions {
  /** @default 200 */
  readonly maxIterations?: number;
  /** Starting point, in the caller's time unit. @default a crude moment guess */
  readonly initial?: ParetoNbdParams;
}

const NAMES = ['r', 'alpha', 's', 'beta'] as const;

const untrusted = (params: ParetoNbdParams, data: ParetoNbdData, customers: number, message: string, iterations = 0, gradientNorm = Number.NaN): ParetoNbdFit => {
  const ll = customers > 0 ? paretoNbdLogLikelihood(params, data) : 0;
  return {
    params,
    logLikelihood: Number.isFinite(ll) ? ll : 0,
    standardErrors: null,
    logCovariance: null,
    diagnostics: { converged: false, iterations, gradientNorm: Number.isFinite(gradientNorm) ? gradientNorm : 0, message },
    customers,
  };
};

/**
 * Maximum-likelihood Pareto/NBD fit on weighted distinct patterns.
 *
 * Optimises θ = ln(r, α, s, β) by BFGS ({@link minimiseBfgs}) on time divided by the largest T (so
 * α, β and the ln(α + t) terms are of order 1 whatever the unit); α and β are scaled back, so the
 * parameters and the log-likelihood are in the caller's unit. Standard errors come from the inverse
 * observed information in θ (finite differences), by the delta method.
 *
 * Minimum data as for the BG/NBD ({@link PARETO_NBD_MIN_CUSTOMERS} customers, of whom
 * {@link PARETO_NBD_MIN_REPEAT_BUYERS} repeat buyers, some T > 0). Below it, without convergence,
 * or with a parameter running toward 0 or infinity, the fit comes back with
 * `diagnostics.converged = false`, a message, finite parameters and no standard errors.
 *
 * Cost per evaluation: one log-space 2F1 per distinct (x, t) pair (t a recency or a tenure), one
 * log-sum-exp per pattern; a gradient is 9 evaluations.
 */
export const fitParetoNbd = (data: ParetoNbdData, options: FitParetoNbdOptions = {}): ParetoNbdFit => {
  validateBgNbdData(data);
  const { customers, repeatBuyers, sumX, sumT, maxT } = summariseTransactionData(data);
  const scale = maxT > 0 ? maxT : 1;
  // Crude start: r = s = 1, E[λ] = r/α ≈ Σx/ΣT, and a mean lifetime β/(s − 1) of about the longest tenure.
  const guess: ParetoNbdParams = options.initial ?? { r: 1, alpha: sumX > 0 ? sumT / sumX : scale, s: 1, beta: scale };
  if (customers < PARETO_NBD_MIN_CUSTOMERS || repeatBuyers < PARETO_NBD_MIN_REPEAT_BUYERS || maxT <= 0) {
    return untrusted(
      guess,
      data,
      customers,
      `not enough data: ${customers} customers, ${repeatBuyers} repeat buyers, longest tenure ${maxT} (need >= ${PARETO_NBD_MIN_CUSTOMERS} customers, >= ${PARETO_NBD_MIN_REPEAT_BUYERS} repeat buyers, tenure > 0)`,
    );
  }
  const prep = prepare(data, scale);
  const meanNll = makeMeanNegativeLogLikelihood(prep);
  const objective = withNumericalGradient(meanNll);
  const start = [Math.log(guess.r), Math.log(guess.alpha / scale), Math.log(guess.s), Math.log(guess.beta / scale)];
  // The numerical gradient is good to ~1e−10; asking for less than that would never stop on it.
  const run = minimiseBfgs(objective, start, { maxIterations: options.maxIterations ?? 200, gradientTolerance: 1e-8 });
  const theta = run.x;
  const params: ParetoNbdParams = {
    r: Math.exp(theta[0]!),
    alpha: Math.exp(theta[1]!) * scale,
    s: Math.exp(theta[2]!),
    beta: Math.exp(theta[3]!) * scale,
  };
  if (!NAMES.every((k) => Number.isFinite(params[k]) && params[k] > 0)) {
    return untrusted(guess, data, customers, `optimiser left the parameter space (${run.message})`, run.iterations, run.gradientNorm);
  }
  const runaway = NAMES.filter((_, i) => Math.abs(theta[i]!) > LOG_PARAM_LIMIT);
  if (runaway.length > 0) {
    return untrusted(
      params,
      data,
      customers,
      `${runaway.join(', ')} ran toward the boundary of the parameter space: the data do not identify the model (${run.message})`,
      run.iterations,
      run.gradientNorm,
    );
  }
  if (!run.converged) return untrusted(params, data, customers, run.message, run.iterations, run.gradientNorm);

  // −LL/N on time divided by `scale`; each purchase's density is `scale` times larger there.
  const logLikelihood = -run.value * prep.totalWeight - prep.weightedX * Math.log(scale);
  if (!Number.isFinite(logLikelihood)) return untrusted(guess, data, customers, 'log-likelihood is not finite at the estimate', run.iterations, run.gradientNorm);

  // A wider step than the gradient's: the gradient itself is a difference, good to ~1e−10.
  const hessian = hessianFromGradient(objective, theta, 1e-4).map((v) => v * prep.totalWeight);
  const logCovariance = invertSymmetricPositiveDefinite(hessian, 4);
  const se = (k: number): number => Math.sqrt(logCovariance![k * 4 + k]!);
  const standardErrors: ParetoNbdParams | null =
    logCovariance === null ? null : { r: params.r * se(0), alpha: params.alpha * se(1), s: params.s * se(2), beta: params.beta * se(3) };
  return {
    params,
    logLikelihood,
    standardErrors,
    logCovariance,
    diagnostics: { converged: true, iterations: run.iterations, gradientNorm: run.gradientNorm, message: run.message },
    customers,
  };
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
 * eq. 18 in the terms of eq. 22) that caches ln A per distinct (x, t), so scoring many customers
 * costs a hypergeometric function per distinct recency and tenure, not per customer.
 * Unchecked: the caller validated parameters and customers.
 */
export const makeLogProbabilityAlive = (params: ParetoNbdParams): ((x: number, tx: number, T: number) => number) => {
  const { r, alpha, s, beta } = params;
  const pairs = new DistinctPairs();
  let cache = new Float64Array(256);
  const cachedLogA = (x: number, t: number): number => {
    const before = pairs.size;
    const id = pairs.indexOf(x, t);
    if (id === before) {
      if (id === cache.length) {
        const grown = new Float64Array(2 * cache.length);
        grown.set(cache);
        cache = grown;
      }
      cache[id] = logA(r, alpha, s, beta, x, t);
    }
    return cache[id]!;
  };
  return (x, tx, T) => {
    if (tx >= T) return 0;
    const alive = alivePart(r, alpha, s, beta, x, T);
    const died = diedPart(s, r, x, cachedLogA(x, tx), cachedLogA(x, T));
    return Math.min(0, alive - logSumExp(alive, died));
  };
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
 * P(X(t) = n) for a new customer (the note's eq. 21):
 *
 *   NB(n; t) (β/(β+t))^s
 *   + α^r β^s · B(r+n, s+1)/B(r, s) · [B1 − Σ_{j=0}^{n} (r+s)_j t^j/j! · B2_j],
 *
 * α ≥ β: B1 = 2F1(r+s, s+1; r+s+n+1; (α−β)/α) / α^(r+s), B2_j = 2F1(r+s+j, s+1; r+s+n+1; (α−β)/(α+t)) / (α+t)^(r+s+j);
 * α < β: the same with r+n for s+1 and β for α. Evaluated in log space; the bracket is a difference
 * of positive terms, so its relative accuracy falls where it is tiny next to the first term, which
 * then dominates.
 */
export const probabilityOfPurchases = (params: ParetoNbdParams, t: number, n: number): number => {
  checkParetoNbdParams(params);
  checkTime(t);
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a whole number >= 0, got ${n}`);
  const { r, alpha, s, beta } = params;
  if (t === 0) return n === 0 ? 1 : 0;
  const logNb = lgamma(r + n) - lgamma(r) - lgamma(n + 1) + r * Math.log(alpha / (alpha + t)) + (n === 0 ? 0 : n * Math.log(t / (alpha + t)));
  const first = logNb + s * Math.log(beta / (beta + t));
  const ge = alpha >= beta;
  const big = ge ? alpha : beta;
  const b = ge ? s + 1 : r + n;
  const c = r + s + n + 1;
  const logB1 = log2F1(r + s, b, c, Math.abs(alpha - beta) / big) - (r + s) * Math.log(big);
  const terms: number[] = [];
  let logPoch = 0;
  for (let j = 0; j <= n; j++) {
    if (j > 0) logPoch += Math.log(r + s + j - 1) + Math.log(t) - Math.log(j);
    terms.push(logPoch + log2F1(r + s + j, b, c, Math.abs(alpha - beta) / (big + t)) - (r + s + j) * Math.log(big + t));
  }
  let logSum = Number.NEGATIVE_INFINITY;
  for (const v of terms) logSum = logSumExp(logSum, v);
  const front = r * Math.log(alpha) + s * Math.log(beta) + lgamma(r + n) + lgamma(s + 1) - lgamma(r + s + n + 1) - (lgamma(r) + lgamma(s) - lgamma(r + s));
  const second = logB1 > logSum ? front + logDiffExp(logB1, logSum) : Number.NEGATIVE_INFINITY;
  const p = Math.exp(logSumExp(first, second));
  return Math.min(1, p);
};

/**
 * E[X(T, T+t_k] | alive at T, x, T] on a fixed grid of windows, for many (x, T): the shape
 * `clv.ts` scores with. Closed form (see {@link expectedPurchasesIfAlive}); `out[k]` gets window k.
 */
export const makeExpectedPurchasesIfAliveOnGrid = (params: ParetoNbdParams, times: ArrayLike<number>): ((x: number, T: number, out: Float64Array) => void) => {
  checkParetoNbdParams(params);
  for (let k = 0; k < times.length; k++) if (!(times[k]! >= 0) || !Number.isFinite(times[k]!)) throw new RangeError(`window ${k} must be finite and >= 0, got ${times[k]}`);
  const { r, alpha, s, beta } = params;
  return (x, T, out) => {
    const rate = (r + x) / (alpha + T);
    const b = beta + T;
    for (let k = 0; k < times.length; k++) out[k] = times[k]! > 0 ? rate * b * lifetimeFactor(s, b, times[k]!) : 0;
  };
};
