/**
 * Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: Using
 * Iso-Value Curves for Customer Base Analysis", JMR 42(4); Fader & Hardie 2013, "The Gamma-Gamma
 * Model of Monetary Value", note 025).
 *
 * Symbols, as in the papers, for one repeat buyer:
 * - x  — frequency: number of repeat transactions whose values are averaged;
 * - mx — monetary value: their mean value m_x (the first purchase excluded);
 * - p  — shape of the gamma distribution of a single transaction's value given the customer's ν;
 * - q, gamma — shape and rate of the gamma distribution of ν across customers.
 *
 * Transaction values are independent of the purchase process, so the model is fitted on repeat
 * buyers only and combined with BG/NBD's expected purchases for CLV.
 */
import { digamma, lgamma, lgammaDifference } from '../math/special.js';
import { minimiseBfgs, type ObjectiveWithGradient } from '../math/optimise.js';
import { CompensatedSum } from '../math/sum.js';
import { DistinctPairs } from './bg-nbd.js';
import { concludeLogParameterFit, untrustedFit, type LogParameterFit } from './log-parameter-fit.js';
import { counted, figure } from '../figure.js';

export interface GammaGammaParams {
  readonly p: number;
  readonly q: number;
  readonly gamma: number;
}

/** Repeat buyers: x > 0 and mx > 0 (rows that are not are left out of the fit; see {@link fitGammaGamma}). */
export interface GammaGammaData {
  readonly x: Float64Array;
  readonly mx: Float64Array;
  readonly weight: Float64Array;
}

/** The fit; `logCovariance` is that of (ln p, ln q, ln γ); `customers` is Σ weight of the rows used (repeat buyers with positive spend). */
export type GammaGammaFit = LogParameterFit<GammaGammaParams>;

/** Below this many repeat buyers the spread of spend across customers is not identified. */
export const GAMMA_GAMMA_MIN_CUSTOMERS = 10;
/** Above this many rows, a fit starts from a fit on a subsample of about this size. */
const WARM_START_ROWS = 25_000;

/** Throws the RangeError {@link fitGammaGamma} throws for data it cannot fit (columns of different lengths, a value that is not finite and >= 0). */
export const validateGammaGammaData = (data: GammaGammaData): void => {
  const n = data.x.length;
  if (data.mx.length !== n || data.weight.length !== n) {
    throw new RangeError(`Gamma-Gamma data columns differ in length: x ${n}, mx ${data.mx.length}, weight ${data.weight.length}`);
  }
  for (let i = 0; i < n; i++) {
    const x = data.x[i]!;
    const mx = data.mx[i]!;
    const w = data.weight[i]!;
    if (!(x >= 0) || !Number.isFinite(x) || !(mx >= 0) || !Number.isFinite(mx) || !(w >= 0) || !Number.isFinite(w)) {
      throw new RangeError(`Gamma-Gamma data row ${i} is invalid: x=${x}, mx=${mx}, weight=${w} (need finite values >= 0)`);
    }
  }
};

const usable = (data: GammaGammaData, i: number): boolean => data.x[i]! > 0 && data.mx[i]! > 0 && data.weight[i]! > 0;

/**
 * ln Γ(u + v) − ln Γ(u) − ln Γ(v) = −ln B(u, v), with the larger argument as the base of
 * {@link lgammaDifference}: at q = 6.6e7 the plain sum of three log-gammas of ~1e9 loses seven digits.
 */
const logGammaRatio = (u: number, v: number): number => (u >= v ? lgammaDifference(u, v) - lgamma(v) : lgammaDifference(v, u) - lgamma(u));

/**
 * ln f(m_x | p, q, γ, x), the density of a repeat buyer's mean spend (FHL 2005 JMR, eq. 3 of
 * Fader & Hardie 2013 written for the mean):
 *
 *   f = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m_x^(px−1) · x^(px) / (γ + m_x x)^(px+q)
 *
 * evaluated with s = m_x x as ln Γ-ratio − q log1p(s/γ) − px log1p(γ/s) − ln m_x: the powers of γ,
 * s and γ + s are of the size of the result only in this grouping.
 */
const logDensityOne = (p: number, q: number, gamma: number, x: number, mx: number): number => {
  const spend = mx * x;
  return logGammaRatio(p * x, q) - q * Math.log1p(spend / gamma) - p * x * Math.log1p(gamma / spend) - Math.log(mx);
};

/**
 * Σ w ln f(m_x | p, q, γ, x) over rows with x > 0 and m_x > 0: the mean-spend likelihood, as
 * CLVTools reports it (−4055.9177 on CDNOW at the MLE). The total-spend density (used in the JMR
 * paper) differs from it by Σ w ln x. NaN when a parameter is not positive.
 */
export const gammaGammaLogLikelihood = (params: GammaGammaParams, data: GammaGammaData): number => {
  validateGammaGammaData(data);
  const { p, q, gamma } = params;
  if (!(p > 0 && q > 0 && gamma > 0)) return Number.NaN;
  const sum = new CompensatedSum();
  for (let i = 0; i < data.x.length; i++) {
    if (usable(data, i)) sum.add(data.weight[i]! * logDensityOne(p, q, gamma, data.x[i]!, data.mx[i]!));
  }
  return sum.value;
};

interface PreparedData {
  readonly totalWeight: number;
  readonly xValues: Float64Array;
  readonly xWeight: Float64Array;
  /** Per row: x, total spend s = m_x x (in scaled money), weight. */
  readonly rowX: Float64Array;
  readonly rowSpend: Float64Array;
  readonly rowW: Float64Array;
  /** Σ w ln m_x: the data-only part of the likelihood. */
  readonly sumLogMx: number;
}

const prepare = (data: GammaGammaData, moneyScale: number): PreparedData => {
  const n = data.x.length;
  let rows = 0;
  for (let i = 0; i < n; i++) if (usable(data, i)) rows++;
  const rowX = new Float64Array(rows);
  const rowSpend = new Float64Array(rows);
  const rowW = new Float64Array(rows);
  const xs = new DistinctPairs();
  let xWeight = new Float64Array(64);
  // Plain sums within blocks of 256 rows, compensated across blocks.
  const b = new CompensatedSum();
  let bBlock = 0;
  let totalWeight = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!usable(data, i)) continue;
    const x = data.x[i]!;
    const mx = data.mx[i]! / moneyScale;
    const w = data.weight[i]!;
    rowX[k] = x;
    rowSpend[k] = mx * x;
    rowW[k] = w;
    totalWeight += w;
    const logMx = Math.log(mx);
    bBlock += w * logMx;
    if ((k & 255) === 255) {
      b.add(bBlock);
      bBlock = 0;
    }
    k++;
    const j = xs.indexOf(x, 0);
    if (j === xWeight.length) {
      const grown = new Float64Array(2 * xWeight.length);
      grown.set(xWeight);
      xWeight = grown;
    }
    xWeight[j] = xWeight[j]! + w;
  }
  b.add(bBlock);
  return {
    totalWeight,
    xValues: xs.firsts(),
    xWeight: xWeight.slice(0, xs.size),
    rowX,
    rowSpend,
    rowW,
    sumLogMx: b.value,
  };
};

/**
 * −LL/N and its gradient in θ = (ln p, ln q, ln γ). With s_i = m_x x (total spend), grouped as in
 * {@link logDensityOne} so that no two terms cancel when p x, q or γ/s is large:
 *
 *   LL = Σ_x W_x [ln Γ(px+q) − ln Γ(px) − ln Γ(q)] − q Σ w log1p(s/γ) − p Σ w x log1p(γ/s) − Σ w ln m_x
 *   ∂/∂p = Σ_x W_x x [ψ(px+q) − ψ(px)] − Σ w x log1p(γ/s)
 *   ∂/∂q = Σ_x W_x [ψ(px+q) − ψ(q)] − Σ w log1p(s/γ)
 *   ∂/∂γ = W q/γ − Σ w (px + q)/(γ + s)
 *
 * so a row costs two log1p and three divisions per evaluation.
 */
const makeObjective = (prep: PreparedData): ObjectiveWithGradient => {
  const W = prep.totalWeight;
  const rows = prep.rowX.length;
  const { rowX, rowSpend, rowW } = prep;
  return (theta, gradient) => {
    for (let i = 0; i < 3; i++) {
      if (!(Math.abs(theta[i]!) <= 40)) {
        gradient.fill(0);
        return Number.POSITIVE_INFINITY;
      }
    }
    const p = Math.exp(theta[0]!);
    const q = Math.exp(theta[1]!);
    const g = Math.exp(theta[2]!);
    // Plain sums within blocks of 256 rows, compensated across blocks: near the optimum the
    // gradient is a difference of sums ~1e4 times larger than itself, so their rounding matters.
    const spendSum = new CompensatedSum();
    const gammaSum = new CompensatedSum();
    let spendBlock = 0;
    let gammaBlock = 0;
    let xInv = 0;
    let inv = 0;
    for (let i = 0; i < rows; i++) {
      const w = rowW[i]!;
      const x = rowX[i]!;
      const spend = rowSpend[i]!;
      const iv = w / (g + spend);
      spendBlock += w * Math.log1p(spend / g);
      gammaBlock += w * x * Math.log1p(g / spend);
      xInv += x * iv;
      inv += iv;
      if ((i & 255) === 255) {
        spendSum.add(spendBlock);
        gammaSum.add(gammaBlock);
        spendBlock = 0;
        gammaBlock = 0;
      }
    }
    spendSum.add(spendBlock);
    gammaSum.add(gammaBlock);
    const spendTerm = spendSum.value;
    const gammaTerm = gammaSum.value;
    const ll = new CompensatedSum();
    let dp = -gammaTerm;
    let dq = -spendTerm;
    const psiQ = digamma(q);
    for (let k = 0; k < prep.xValues.length; k++) {
      const x = prep.xValues[k]!;
      const wx = prep.xWeight[k]!;
      ll.add(wx * logGammaRatio(p * x, q));
      const psi = digamma(p * x + q);
      dp += wx * x * (psi - digamma(p * x));
      dq += wx * (psi - psiQ);
    }
    ll.add(-q * spendTerm);
    ll.add(-p * gammaTerm);
    ll.add(-prep.sumLogMx);
    const dg = (W * q) / g - (p * xInv + q * inv);
    const value = -ll.value / W;
    gradient[0] = (-p * dp) / W;
    gradient[1] = (-q * dq) / W;
    gradient[2] = (-g * dg) / W;
    return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
  };
};

/**
 * The weighted mean-spend log-likelihood and its gradient with respect to (p, q, γ), by the same
 * evaluation the fit runs (see {@link makeObjective}), in the data's own money unit. NaN value and
 * gradient when a parameter is not positive.
 */
export const gammaGammaLogLikelihoodWithGradient = (
  params: GammaGammaParams,
  data: GammaGammaData,
): { readonly value: number; readonly gradient: GammaGammaParams } => {
  validateGammaGammaData(data);
  const { p, q, gamma } = params;
  if (!(p > 0 && q > 0 && gamma > 0)) return { value: Number.NaN, gradient: { p: Number.NaN, q: Number.NaN, gamma: Number.NaN } };
  const prep = prepare(data, 1);
  if (prep.totalWeight === 0) return { value: 0, gradient: { p: 0, q: 0, gamma: 0 } };
  const g = new Float64Array(3);
  const mean = makeObjective(prep)(Float64Array.of(Math.log(p), Math.log(q), Math.log(gamma)), g);
  const W = prep.totalWeight;
  return { value: -mean * W, gradient: { p: (-g[0]! * W) / p, q: (-g[1]! * W) / q, gamma: (-g[2]! * W) / gamma } };
};

export interface FitGammaGammaOptions {
  /** @default 200 */
  readonly maxIterations?: number;
  /** Starting point, in the caller's money unit. @default p = 2, q = 3 and γ matching the mean spend */
  readonly initial?: GammaGammaParams;
}

/**
 * Maximum-likelihood Gamma-Gamma fit on the mean-spend density, by BFGS on ln(p, q, γ) with
 * analytic gradients and money divided by the mean m_x (γ is scaled back).
 *
 * Rows with x = 0 or m_x = 0 carry no information about spend per transaction and are left out
 * (`customers` counts the rows used). Minimum data: {@link GAMMA_GAMMA_MIN_CUSTOMERS} repeat
 * buyers whose m_x are not all equal. The fit is reported as not trusted (`converged: false`, with
 * a message; finite parameters, no standard errors) with less data, on non-convergence, when a
 * parameter runs toward 0 or infinity, and when q ≤ 1, where the mean spend p γ/(q − 1) is infinite.
 *
 * Cost: one log and one division per row per evaluation; above 100,000 rows, a warm start from a
 * ~25,000-row subsample, then typically 5–10 full evaluations, plus 6 for the standard errors.
 */
export const fitGammaGamma = (data: GammaGammaData, options: FitGammaGammaOptions = {}): GammaGammaFit => {
  validateGammaGammaData(data);
  let customers = 0;
  let spend = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < data.x.length; i++) {
    if (!usable(data, i)) continue;
    customers += data.weight[i]!;
    spend += data.weight[i]! * data.mx[i]!;
    min = Math.min(min, data.mx[i]!);
    max = Math.max(max, data.mx[i]!);
  }
  const moneyScale = customers > 0 ? spend / customers : 1;
  const guess: GammaGammaParams = options.initial ?? { p: 2, q: 3, gamma: moneyScale };
  const untrusted = (params: GammaGammaParams, message: string): GammaGammaFit => untrustedFit(params, gammaGammaLogLikelihood(params, data), customers, message);
  if (customers < GAMMA_GAMMA_MIN_CUSTOMERS || !(max > min)) {
    return untrusted(
      guess,
      `not enough data: ${counted(customers, 'repeat buyer')} with positive spend${max > min || customers === 0 ? '' : ', all with the same mean spend'} (need >= ${GAMMA_GAMMA_MIN_CUSTOMERS}, not all equal)`,
    );
  }

  const prep = prepare(data, moneyScale);
  const objective = makeObjective(prep);
  const maxIterations = options.maxIterations ?? 200;
  let start = [Math.log(guess.p), Math.log(guess.q), Math.log(guess.gamma / moneyScale)];
  let initialInverseHessian: Float64Array | undefined;
  const rows = prep.rowX.length;
  if (rows > 4 * WARM_START_ROWS) {
    // Start from a fit on every k-th usable row (weights × k): the objective is a per-customer
    // mean, so the subsample's estimate and curvature carry over and the full fit needs a few
    // iterations instead of ~20.
    const k = Math.ceil(rows / WARM_START_ROWS);
    const keep: number[] = [];
    let seen = 0;
    for (let i = 0; i < data.x.length; i++) if (usable(data, i) && seen++ % k === 0) keep.push(i);
    const sample: GammaGammaData = {
      x: Float64Array.from(keep, (i) => data.x[i]!),
      mx: Float64Array.from(keep, (i) => data.mx[i]!),
      weight: Float64Array.from(keep, (i) => k * data.weight[i]!),
    };
    const warm = minimiseBfgs(makeObjective(prepare(sample, moneyScale)), start, { maxIterations, gradientTolerance: 1e-6 });
    if (warm.converged) {
      start = Array.from(warm.x);
      initialInverseHessian = warm.inverseHessian;
    }
  }
  const run = minimiseBfgs(objective, start, { maxIterations, initialInverseHessian });
  return concludeLogParameterFit({
    names: ['p', 'q', 'gamma'],
    run,
    objective,
    totalWeight: prep.totalWeight,
    customers,
    guess,
    paramsOf: (theta) => ({ p: Math.exp(theta[0]!), q: Math.exp(theta[1]!), gamma: Math.exp(theta[2]!) * moneyScale }),
    // The objective is −LL/N on money divided by `moneyScale`, where the density of m_x is
    // `moneyScale` times larger: LL in the caller's unit = −N f − N ln(moneyScale).
    logLikelihoodOf: (f) => -f * prep.totalWeight - prep.totalWeight * Math.log(moneyScale),
    logLikelihoodAt: (params) => gammaGammaLogLikelihood(params, data),
    reject: ({ q }) => (q > 1 ? null : `q = ${figure(q)} <= 1: the mean spend per transaction is infinite`),
  });
};

const checkParams = (params: GammaGammaParams): void => {
  const { p, q, gamma } = params;
  if (!(p > 0 && q > 0 && gamma > 0) || !Number.isFinite(p + q + gamma)) {
    throw new RangeError(`Gamma-Gamma parameters must be positive and finite: p=${p}, q=${q}, gamma=${gamma}`);
  }
};

/** Unchecked form of {@link conditionalExpectedOrderValue} for callers that validated their inputs. */
export const conditionalExpectedOrderValueUnchecked = (p: number, q: number, gamma: number, x: number, mx: number): number =>
  // q − 1 first: it is exact for q near 1, where p x + q − 1 would lose p x's digits
  ((gamma + mx * x) * p) / (p * x + (q - 1));

/**
 * E(M | p, q, γ, m_x, x) = (γ + m_x x) p / (p x + q − 1) (Fader & Hardie 2013, eq. 5): the
 * customer's expected spend per transaction, a weighted mean of the population mean p γ/(q − 1)
 * and their own m_x, with weight p x/(p x + q − 1) on m_x. For x = 0 it is the population mean.
 * Throws a RangeError when it is infinite (q ≤ 1 and x = 0) or inputs are invalid.
 */
export const conditionalExpectedOrderValue = (params: GammaGammaParams, x: number, mx: number): number => {
  checkParams(params);
  if (!(x >= 0) || !Number.isFinite(x) || !(mx >= 0) || !Number.isFinite(mx)) throw new RangeError(`invalid customer: x=${x}, mx=${mx}`);
  if (!(params.p * x + params.q > 1)) throw new RangeError(`expected order value is infinite: p x + q = ${figure(params.p * x + params.q)} <= 1`);
  return conditionalExpectedOrderValueUnchecked(params.p, params.q, params.gamma, x, x > 0 ? mx : 0);
};

/** p γ / (q − 1): the population mean spend per transaction. Throws a RangeError when q ≤ 1 (infinite). */
export const populationMeanOrderValue = (params: GammaGammaParams): number => {
  checkParams(params);
  if (!(params.q > 1)) throw new RangeError(`population mean spend is infinite: q = ${figure(params.q)} <= 1`);
  return (params.p * params.gamma) / (params.q - 1);
};
