/**
 * Special functions for the BG/NBD and Gamma-Gamma models: log-gamma, log-beta, digamma,
 * log-sum-exp, and the Gauss hypergeometric function 2F1 evaluated in log space.
 *
 * Everything here is pure and allocation-light; nothing throws but a {@link TermBudget} the caller
 * passes, once spent. Outside a function's documented domain the result is NaN, so a caller's own
 * validation decides what an invalid argument means.
 */
import gammaln from '@stdlib/math-base-special-gammaln';

const EPSILON = 2.220446049250313e-16;
/** Series partial sums are rescaled by this factor before they can overflow. */
const RESCALE = 1e-200;
const LOG_RESCALE = Math.log(RESCALE);

/** ln |Γ(x)|, from @stdlib (accurate to a few ulp over the positive axis). */
export const lgamma = (x: number): number => gammaln(x);

/** Below this, ln Γ is small enough that its plain differences lose no digit that matters. */
const STIRLING_MIN = 10;

/**
 * ln Γ(z) − [(z − ½) ln z − z + ½ ln 2π], Stirling's series to z^−13 (Abramowitz & Stegun 6.1.41):
 * error below 1e−17 for z ≥ 10.
 */
export const stirlingCorrection = (z: number): number => {
  const inv = 1 / z;
  const inv2 = inv * inv;
  return inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 * (1 / 1188 - inv2 * (691 / 360360 - inv2 / 156))))));
};

/**
 * ln Γ(x + h) − ln Γ(x) for x > 0, h ≥ 0, without the cancellation of the two log-gammas: at
 * x = 6.6e7 each is ~1.1e9, so their plain difference carries an absolute error of ~1e−7 whatever h is.
 * For x ≥ 10 Stirling's formula gives the difference as (x − ½) log1p(h/x) + h (ln(x + h) − 1) plus
 * the difference of {@link stirlingCorrection}s, every term of the size of the result; below, ln Γ(x)
 * is under ~18.4 (at x = 1e−8), and the plain difference is as accurate as ln Γ(x + h) itself.
 */
export const lgammaDifference = (x: number, h: number): number => {
  if (h === 0) return 0;
  if (x < STIRLING_MIN) return gammaln(x + h) - gammaln(x);
  const y = x + h;
  return (x - 0.5) * Math.log1p(h / x) + h * (Math.log(y) - 1) + (stirlingCorrection(y) - stirlingCorrection(x));
};

/**
 * ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0: with the larger argument as the base of
 * {@link lgammaDifference}, so a = 6.6e7 does not cost seven digits of ln B.
 */
export const lbeta = (a: number, b: number): number => (a >= b ? gammaln(b) - lgammaDifference(a, b) : gammaln(a) - lgammaDifference(b, a));

/** ln B(a, b + x) − ln B(a, b) = [ln Γ(b + x) − ln Γ(b)] − [ln Γ(a + b + x) − ln Γ(a + b)], for a, b > 0, x ≥ 0. */
export const lbetaRatio = (a: number, b: number, x: number): number => lgammaDifference(b, x) - lgammaDifference(a + b, x);

/**
 * Digamma ψ(x) = d ln Γ(x)/dx for x > 0 (NaN otherwise): the recurrence ψ(x) = ψ(x + 1) − 1/x lifts
 * the argument to x ≥ 8, where the asymptotic series to x^−14 is accurate to about 1e−15.
 * The likelihood gradients need it; @stdlib's digamma is not a dependency of this project.
 */
export const digamma = (x: number): number => {
  if (!(x > 0) || !Number.isFinite(x)) return Number.NaN;
  let shift = 0;
  let v = x;
  while (v < 8) {
    shift -= 1 / v;
    v += 1;
  }
  const inv = 1 / v;
  const inv2 = inv * inv;
  // Bernoulli numbers B_2k / (2k): 1/12, 1/120, 1/252, 1/240, 1/132, 691/32760, 1/12.
  const series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))));
  return shift + Math.log(v) - 0.5 * inv - series;
};

/** ln(e^a + e^b) without overflow; −Infinity only when both are −Infinity. */
export const logSumExp = (a: number, b: number): number => {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a >= b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
};

/** ln Σ e^(v_i) without overflow (−Infinity for an empty list). O(n). */
export const logSumExpAll = (values: ArrayLike<number>): number => {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i]! - max);
  return max + Math.log(sum);
};

/** Softplus ln(1 + e^u), exact for large |u| (e^u would overflow past u ≈ 709). */
export const log1pExp = (u: number): number => (u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u)));

/** Thrown by {@link TermBudget.spend}; `budget` is the one whose limit was passed. */
export class TermBudgetExceeded extends RangeError {
  constructor(readonly budget: TermBudget) {
    super(`hypergeometric term budget of ${budget.limit} exceeded (${budget.spent} spent)`);
  }
}

/**
 * A budget of work for the hypergeometric functions below that take one: every series term,
 * continued-fraction step and Taylor step of a continuation is spent from it (and from its `parent`,
 * first), and the spend that takes the total past `limit` throws a {@link TermBudgetExceeded} naming
 * this budget. A series stops where the budget runs out and a continuation spends step by step, so
 * the limit is passed by at most one continuation step (40 halvings of up to 2,000 coefficients) or
 * one continued fraction (1,001 partial numerators). It bounds a computation's cost in terms rather
 * than seconds: a test's bound on a computation, or a Pareto/NBD fit's on its search (whose parent
 * is then the test's).
 */
export class TermBudget {
  /** Terms spent so far. */
  spent = 0;
  constructor(
    readonly limit: number,
    readonly parent: TermBudget | null = null,
  ) {}
  /** Terms that may still be spent here and in every parent before a spend throws. */
  get remaining(): number {
    const own = this.limit - this.spent;
    return this.parent === null ? own : Math.min(own, this.parent.remaining);
  }
  spend(terms: number): void {
    this.parent?.spend(terms);
    this.spent += terms;
    if (this.spent > this.limit) throw new TermBudgetExceeded(this);
  }
}

// ---------------------------------------------------------------------------------------------
// Gauss hypergeometric function
// ---------------------------------------------------------------------------------------------

/** The Gauss series at one point: ln of its value and derivative, and how well it went. */
interface GaussSeries {
  /** ln F, where F is the (positive) sum. */
  readonly logValue: number;
  /** F'(z) / F(z). */
  readonly logDerivative: number;
  readonly converged: boolean;
  /** Σ|t_n| / |Σ t_n|: digits lost to cancellation are about log10 of it. */
  readonly condition: number;
}

/**
 * Sums Σ (a)_n (b)_n / ((c)_n n!) z^n for c > 0 and 0 ≤ z < 1, rescaling the partial sums so
 * terms far beyond 1e308 (large a, b at z near 1) stay representable: the caller gets ln F.
 * Stops when the tail, bounded by the last term times ρ/(1 − ρ) with ρ the larger of the current
 * term ratio and z (the limit of the ratios), is below machine precision, or after maxTerms.
 *
 * With `partials` (a, b, c > 0 only), also ∂ln F/∂a, ∂ln F/∂b, ∂ln F/∂c into partials[0..2]: term n
 * is t_n and ∂t_n/∂a = t_n h_n(a) with h_n(a) = Σ_{k<n} 1/(a+k) (likewise b, and −h_n(c) for c), so
 * each is a second positive series summed alongside. Since h grows by at most 1/(m+n) a term
 * (m = min(a, b, c)), its tail is at most t_n [h_n ρ/(1 − ρ) + ρ/((1 − ρ)² (m + n))], and the series
 * runs on until that too is below machine precision.
 */
const gaussSeries = (a: number, b: number, c: number, z: number, maxTerms: number, partials: Float64Array | null = null, budget: TermBudget | null = null): GaussSeries => {
  let term = 1;
  let sum = 1;
  let absSum = 1;
  let dsum = 0;
  let logScale = 0;
  let converged = false;
  // Running harmonic sums h_n(a), h_n(b), h_n(c) and the sums Σ t_n h_n.
  let ha = 0;
  let hb = 0;
  let hc = 0;
  let sa = 0;
  let sb = 0;
  let sc = 0;
  const m = Math.min(a, b, c);
  // Past what the budget has left, the spend below throws: stop there rather than after maxTerms.
  const limit = budget === null ? maxTerms : Math.min(maxTerms, Math.max(0, budget.remaining));
  let n = 0;
  for (; n < limit; n++) {
    const ratio = ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    dsum += (n + 1) * term;
    if (partials !== null) {
      ha += 1 / (a + n);
      hb += 1 / (b + n);
      hc += 1 / (c + n);
      sa += term * ha;
      sb += term * hb;
      sc += term * hc;
    }
    const absTerm = Math.abs(term);
    absSum += absTerm;
    if (absSum > 1e200) {
      term *= RESCALE;
      sum *= RESCALE;
      dsum *= RESCALE;
      absSum *= RESCALE;
      sa *= RESCALE;
      sb *= RESCALE;
      sc *= RESCALE;
      logScale -= LOG_RESCALE;
    }
    if (term === 0) {
      converged = true;
      break;
    }
    const rho = Math.max(Math.abs(ratio), z);
    if (rho < 1 && n >= 1) {
      const tail = (Math.abs(term) * rho) / (1 - rho);
      // The derivative's tail carries an extra factor n, and decays at the same rate.
      if (tail <= EPSILON * Math.abs(sum) && tail * (n + 2 + rho / (1 - rho)) <= EPSILON * Math.abs(dsum) + EPSILON * Math.abs(sum)) {
        if (partials === null) {
          converged = true;
          break;
        }
        const growth = (term * rho) / ((1 - rho) * (1 - rho) * (m + n));
        if (tail * ha + growth <= EPSILON * sa && tail * hb + growth <= EPSILON * sb && tail * hc + growth <= EPSILON * sc) {
          converged = true;
          break;
        }
      }
    }
  }
  budget?.spend(n + 1);
  if (partials !== null) {
    partials[0] = sa / sum;
    partials[1] = sb / sum;
    partials[2] = -sc / sum;
  }
  return {
    logValue: logScale + Math.log(Math.abs(sum)),
    logDerivative: z > 0 ? dsum / z / sum : (a * b) / c,
    converged,
    condition: absSum / Math.abs(sum),
  };
};

/** Largest growth, in e-folds, that one Taylor step may carry (bounds the terms it needs). */
const STEP_GROWTH = 6;

/**
 * Advances a solution w of the (possibly inhomogeneous) hypergeometric equation
 *
 *     z(1 − z) w'' + [c − (a + b + 1) z] w' − a b w = k
 *
 * from z0 to z1 (0 < z0 ≤ z1 < 1) by Taylor re-expansion: at each point the local power series
 * converges within the distance to the nearest singular point (0 or 1), so a step of half that
 * distance needs ~50 terms, and z1 = 1 − 1e−6 is reached from 1/2 in about 20 steps. Steps are
 * also shortened so that |c − (a+b+1)z| h / (z(1 − z)) and |ab| h² / (z(1 − z)) stay below e^6:
 * with large parameters the solution changes by many orders of magnitude over a step, and this
 * keeps the number of terms, and their size, bounded.
 *
 * This is the analytic continuation that keeps 2F1 cheap where its own series converges slowly
 * (z near 1 with c − a − b small), with no special case when c − a − b is an integer, where the
 * textbook 1 − z connection formulas have poles that cancel. Following the solution towards z = 1
 * is stable: the component that behaves like (1 − z)^(c−a−b) either dominates (c − a − b < 0) or
 * decays.
 *
 * `state` holds [w, w'] on entry and on return. With `normalise` (homogeneous equation, k = 0
 * only) the state is divided by |w| after every step and the function returns the accumulated
 * ln|w|, so solutions that grow like (1 − z)^(c−a−b) never overflow; otherwise it returns 0.
 * Returns NaN if a step fails even when shortened. `budget`, optional: spent one term per Taylor
 * coefficient, after each step ({@link TermBudget}).
 */
export const continueHypergeometric = (
  a: number,
  b: number,
  c: number,
  k: number,
  z0: number,
  z1: number,
  state: Float64Array,
  normalise: boolean,
  budget: TermBudget | null = null,
): number => {
  let z = z0;
  let logScale = 0;
  let w = state[0]!;
  let dw = state[1]!;
  const ab1 = a + b + 1;
  const abAbs = Math.abs(a * b);
  while (z < z1) {
    const p0 = z * (1 - z);
    const p1 = 1 - 2 * z;
    const q0 = c - ab1 * z;
    let h = Math.min(z1 - z, 0.5 * Math.min(z, 1 - z), (STEP_GROWTH * p0) / Math.abs(q0), STEP_GROWTH * Math.sqrt(p0 / abAbs));
    let stepped = false;
    let terms = 0;
    for (let attempt = 0; attempt < 40 && !stepped; attempt++) {
      // Step to a representable point and use the exact difference as h (Sterbenz: exact for
      // z, zNext in [1/2, 1]); rounded steps would drift in z, and near z = 1 the solution is
      // sensitive to z itself (ln F changes by |c−a−b| δz/(1−z)).
      const zNext = z + h >= z1 ? z1 : z + h;
      h = zNext - z;
      // e_j = d_j h^j, the scaled Taylor coefficients of w(z + h) about z.
      let e0 = w;
      let e1 = dw * h;
      let value = e0 + e1;
      let slope = e1;
      let small = 0;
      for (let j = 0; j < 2000; j++) {
        terms++;
        const e2 = ((j === 0 ? k * h * h : 0) - (j + 1) * (p1 * j + q0) * h * e1 + (j + a) * (j + b) * h * h * e0) / (p0 * (j + 1) * (j + 2));
        value += e2;
        slope += (j + 2) * e2;
        if (!Number.isFinite(value) || !Number.isFinite(slope)) break;
        // Two negligible coefficients in a row: a three-term recurrence can pass near zero once.
        small = Math.abs(e2) * (j + 2) <= EPSILON * (Math.abs(value) + Math.abs(slope)) ? small + 1 : 0;
        if (small >= 2 && j >= 3) {
          stepped = true;
          break;
        }
        e0 = e1;
        e1 = e2;
      }
      if (stepped) {
        w = value;
        dw = slope / h;
        z = zNext;
      } else {
        h /= 2;
      }
    }
    // Spent step by step: a budget stops a continuation of 10^5 steps where it runs out, not at z1.
    budget?.spend(terms);
    if (!stepped) return Number.NaN;
    if (normalise) {
      const scale = Math.abs(w);
      if (!(scale > 0) || !Number.isFinite(scale)) return Number.NaN;
      logScale += Math.log(scale);
      w /= scale;
      dw /= scale;
    }
  }
  state[0] = w;
  state[1] = dw;
  return logScale;
};

const LONG_SERIES = 50_000_000;

/**
 * ln 2F1(a, b; c; z), the natural log of the Gauss hypergeometric function.
 *
 * Domain: a ≥ 0, b ≥ 0, c > 0 and 0 ≤ z < 1 (NaN outside it). That covers BG/NBD, whose
 * parameters are all positive and whose argument is t/(α + T + t) ∈ [0, 1). There every term of
 * the series is positive, F ≥ 1, and the log cannot overflow even where F itself would
 * (F(a, b; b; z) = (1 − z)^−a is 10^30000 at a = 1e4, z = 0.999).
 *
 * Method, in order of preference:
 * 1. When c − a − b < 0, Euler's transformation F = (1 − z)^(c−a−b) F(c − a, c − b; c; z), whose
 *    terms decay like n^(c−a−b−1) z^n instead of growing like n^(a+b−c−1) z^n; used only when that
 *    series is well conditioned (its terms change sign when exactly one of c − a, c − b is < 0).
 * 2. The Gauss series itself, every term positive.
 * 3. For z > 1/2, when both would need more than ~5000 + 10(a + b) terms (c − a − b near 0, or
 *    a ≫ c ≫ b, with z near 1): the series at z = 1/2, continued to z along the hypergeometric
 *    equation ({@link continueHypergeometric}).
 *
 * Accuracy: |error of ln F| below ~1e−13 max(1, |ln F|) for parameters up to 1e4 and z ≤ 1 − 1e−6
 * (checked against closed forms and 40-digit references in the tests). Cost: a few dozen terms in
 * typical cases; O(a + b) terms for large parameters; O(log 1/(1 − z)) Taylor steps in step 3
 * (more, in proportion to |c − a − b|, when that is large).
 *
 * `oneMinusZ`, optional: 1 − z as the caller knows it. A double z within δ of 1 carries 1 − z only
 * to ~1e−16/δ relative, and step 1's factor (1 − z)^(c−a−b) turns that into an error of
 * |c − a − b| 1e−16/δ in ln F (1e−7 at c − a − b = −240, δ = 3e−8); when the argument is a quotient
 * like (β − α)/(β + t), its complement (α + t)/(β + t) is exact to an ulp. Used for z > 1/2 only.
 */
export const log2F1 = (a: number, b: number, c: number, z: number, oneMinusZ?: number): number => log2F1Core(a, b, c, z, null, oneMinusZ);

/**
 * ln 2F1(a, b; c; z), as {@link log2F1}, and its partial derivatives: `partials` gets
 * [∂/∂a, ∂/∂b, ∂/∂c, ∂/∂z] of ln F. Domain a > 0, b > 0, c > 0, 0 ≤ z < 1 (NaN value and partials
 * outside it).
 *
 * The parameter derivatives are the series differentiated term by term (see gaussSeries), through
 * Euler's transformation where {@link log2F1} takes it (only when c − a and c − b are positive, so
 * every term stays positive; otherwise the direct series):
 *   ln F = m ln(1 − z) + ln G(c − a, c − b; c; z), m = c − a − b,
 *   ∂a = −ln(1 − z) − ∂₁ln G,  ∂b = −ln(1 − z) − ∂₂ln G,  ∂c = ln(1 − z) + ∂₁ln G + ∂₂ln G + ∂₃ln G,
 *   ∂z = −m/(1 − z) + ∂z ln G.
 * Where neither series converges in its budget (the continuation of log2F1's step 3: z near 1 with
 * c − a − b near 0, rare for the Pareto/NBD), ∂z is exact, (a b / c) 2F1(a+1, b+1; c+1; z)/F, and the
 * parameter derivatives are central differences of log2F1 (step 1e−6 relative, ~1e−8 accurate).
 * Cost: about 1.5 times that of log2F1.
 */
export const log2F1WithPartials = (a: number, b: number, c: number, z: number, partials: Float64Array, oneMinusZ?: number): number => {
  if (!(a > 0 && b > 0 && c > 0 && z >= 0 && z < 1) || !Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) {
    partials.fill(Number.NaN, 0, 4);
    return Number.NaN;
  }
  return log2F1Core(a, b, c, z, partials, oneMinusZ);
};

/**
 * How far {@link log2F1Core} may go, when not as far as {@link log2F1} does: each series at most
 * `seriesTerms` terms (below the default budgets), step 3 only with `continuation`.
 */
interface SeriesLimits {
  readonly seriesTerms: number;
  readonly continuation: boolean;
}

/** Terms {@link log2F1} lets a series run at z: the long budget where it converges at least like 2^−n, else ~5000 + 10(a + b) before step 3. */
const seriesTermsAt = (a: number, b: number, z: number): number => (z <= 0.5 ? LONG_SERIES : 5_000 + 10 * (a + b));

/** 1 − z: the caller's own (`oneMinusZ`, see {@link log2F1}) for z > 1/2, where z has lost its digits; else computed. */
const oneMinus = (z: number, oneMinusZ: number | undefined): number => (oneMinusZ !== undefined && z > 0.5 ? oneMinusZ : 1 - z);

/** ln(1 − z) of the same 1 − z as {@link oneMinus}: log1p(−z) where that is computed. */
const logOneMinus = (z: number, oneMinusZ: number | undefined): number => (oneMinusZ !== undefined && z > 0.5 ? Math.log(oneMinusZ) : Math.log1p(-z));

const log2F1Core = (
  a: number,
  b: number,
  c: number,
  z: number,
  partials: Float64Array | null,
  oneMinusZ?: number,
  limits: SeriesLimits | null = null,
  budget: TermBudget | null = null,
): number => {
  if (!(a >= 0 && b >= 0 && c > 0 && z >= 0 && z < 1) || !Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return Number.NaN;
  if (z === 0 || a === 0 || b === 0) {
    if (partials !== null) {
      partials.fill(0, 0, 3);
      partials[3] = (a * b) / c;
    }
    return 0;
  }
  const m = c - a - b;
  const maxTerms = Math.min(seriesTermsAt(a, b, z), limits?.seriesTerms ?? Number.POSITIVE_INFINITY);

  if (m < 0 && (partials === null || (c > a && c > b))) {
    const euler = gaussSeries(c - a, c - b, c, z, maxTerms, partials, budget);
    if (euler.converged && euler.condition < 1e3) {
      // z near 1 has lost the digits of 1 − z (z = 1 − 3e−8 keeps ~8): a caller's own 1 − z keeps them
      const log1mz = logOneMinus(z, oneMinusZ);
      if (partials !== null) {
        const ga = partials[0]!;
        const gb = partials[1]!;
        partials[0] = -log1mz - ga;
        partials[1] = -log1mz - gb;
        partials[2] = log1mz + ga + gb + partials[2]!;
        partials[3] = -m / oneMinus(z, oneMinusZ) + euler.logDerivative;
      }
      return m * log1mz + euler.logValue;
    }
  }
  const direct = gaussSeries(a, b, c, z, maxTerms, partials, budget);
  if (direct.converged) {
    if (partials !== null) partials[3] = direct.logDerivative;
    return direct.logValue;
  }
  if (z <= 0.5 || (limits !== null && !limits.continuation)) return Number.NaN;
  return continuedWithPartials(a, b, c, z, partials, budget);
};

/**
 * Step 3 of {@link log2F1}, with the partials of {@link log2F1WithPartials} when asked: ∂z exact,
 * the parameters' by central differences.
 */
const continuedWithPartials = (a: number, b: number, c: number, z: number, partials: Float64Array | null, budget: TermBudget | null): number => {
  const value = continuedLog2F1(a, b, c, z, budget);
  if (partials !== null && Number.isFinite(value)) {
    const difference = (k: number): number => {
      const h = 1e-6 * Math.max(1, [a, b, c][k]!);
      const at = (d: number): number => continuedLog2F1(k === 0 ? a + d : a, k === 1 ? b + d : b, k === 2 ? c + d : c, z, budget);
      return (at(h) - at(-h)) / (2 * h);
    };
    partials[0] = difference(0);
    partials[1] = difference(1);
    partials[2] = difference(2);
    partials[3] = ((a * b) / c) * Math.exp(log2F1Core(a + 1, b + 1, c + 1, z, null, undefined, null, budget) - value);
  }
  return value;
};

/** Step 3 of {@link log2F1}: the series at z = 1/2 continued to z along the equation; NaN if that fails. */
const continuedLog2F1 = (a: number, b: number, c: number, z: number, budget: TermBudget | null): number => {
  const start = gaussSeries(a, b, c, 0.5, LONG_SERIES, null, budget);
  if (start.converged) {
    const state = new Float64Array([1, start.logDerivative]);
    const logScale = continueHypergeometric(a, b, c, 0, 0.5, z, state, true, budget);
    if (Number.isFinite(logScale) && state[0]! > 0) return start.logValue + logScale + Math.log(state[0]!);
  }
  const fallback = gaussSeries(a, b, c, z, LONG_SERIES, null, budget);
  return fallback.converged ? fallback.logValue : Number.NaN;
};

/** 2F1(a, b; c; z) = exp(log2F1): Infinity when the value itself exceeds ~1.8e308. Same domain. */
export const hyp2f1 = (a: number, b: number, c: number, z: number): number => Math.exp(log2F1(a, b, c, z));

// ---------------------------------------------------------------------------------------------
// 2F1(a, b; a + 1; z): the incomplete beta function's hypergeometric
// ---------------------------------------------------------------------------------------------

/**
 * ln 2F1(a, b; a + 1; z) and [d/da, ∂/∂b, ∂/∂z] of it (d/da along c = a + 1) into `partials[0..2]`,
 * by Gauss's continued fraction, evaluated forward by the modified Lentz method with its
 * derivatives carried along; NaN when it has not converged within `maxIterations` pairs of
 * partial numerators. Needs a > 0, 0 < b ≤ a + 1, 0 < z < 1 (not checked: see log2F1Next).
 *
 * 2F1(a, b; a + 1; z) = a z^−a B_z(a, 1 − b) = (1 − z)^(1−b) 2F1(a + 1 − b, 1; a + 1; z), and the
 * second factor is the continued fraction of the incomplete beta function B_x(p, q) with p = a,
 * q = 1 − b, x = z (DLMF 8.17.22; Numerical Recipes 3rd ed. §6.4, betacf):
 *
 *   2F1(p + q, 1; p + 1; x) = 1/(1 + d₁/(1 + d₂/(1 + …))),
 *   d_(2m+1) = −(p + m)(p + q + m) x / ((p + 2m)(p + 2m + 1)),   d_(2m) = m (q − m) x / ((p + 2m − 1)(p + 2m)).
 *
 * It converges quickly for x < (p + 1)/(p + q + 2), always the case here when b > 1 (q < 0), in
 * O(√max(p, |q|)) steps at worst, and in a handful when p and |q| are large: where the Gauss series
 * needs ~1/(1 − z) or ~a/(b − 1) terms. With u_k = d_k D_(k−1), v_k = d_k / C_(k−1) (Lentz's
 * D_k = 1/(1 + u_k), C_k = 1 + v_k, f_k = f_(k−1) C_k D_k) and g_k = ∇ln|d_k|, the derivatives
 * follow as ∇ln D_k = −u_k D_k (g_k + ∇ln D_(k−1)), ∇ln C_k = v_k / C_k (g_k − ∇ln C_(k−1)),
 * ∇ln f = Σ ∇ln C_k + ∇ln D_k. Stops when a step changes ln f and each derivative by less than
 * machine precision twice in a row. `budget`, optional: spent one term per partial numerator.
 */
const incompleteBetaFraction = (
  a: number,
  b: number,
  z: number,
  logOneMinusZ: number,
  oneMinusZ: number,
  maxIterations: number,
  partials: Float64Array | null,
  budget: TermBudget | null,
): number => {
  const pq = a + 1 - b;
  // k = 1: D₁ = 1/(1 + d₁), C₁ = 1 (C₀ = ∞), ∇ln C₁ = 0, ∇ln D₁ = −D₁ ∇d₁.
  const d1 = (-pq * z) / (a + 1);
  // 1 + d₁ = ((a + 1)(1 − z) + b z)/(a + 1), without the cancellation of 1 − (a + 1 − b) z/(a + 1) at z near 1.
  let dee = (a + 1) / ((a + 1) * oneMinusZ + b * z);
  let cee = 1;
  let f = dee;
  let dA = -dee * (-z / (a + 1) - d1 / (a + 1));
  let dB = -dee * (z / (a + 1));
  let dZ = -dee * (d1 / z);
  let cA = 0;
  let cB = 0;
  let cZ = 0;
  let fA = dA;
  let fB = dB;
  let fZ = dZ;
  let quiet = 0;
  for (let k = 2; k <= 2 * maxIterations + 1; k++) {
    const m = k >> 1;
    // d_k and ∇d_k = (∂a, ∂b, ∂z) d_k.
    let d: number;
    let gA: number;
    let gB: number;
    if ((k & 1) === 0) {
      const lo = a + 2 * m - 1;
      const hi = lo + 1;
      const unit = (m * z) / (lo * hi);
      d = unit * (1 - b - m);
      gA = -d * (1 / lo + 1 / hi);
      gB = -unit;
    } else {
      const lo = a + 2 * m;
      const hi = lo + 1;
      const unit = (-(a + m) * z) / (lo * hi);
      d = unit * (pq + m);
      gA = d * (1 / (a + m) - 1 / lo - 1 / hi) + unit;
      gB = -unit;
    }
    const gZ = d / z;
    const previousDee = dee;
    const previousCee = cee;
    const u = d * dee;
    const v = d / cee;
    dee = 1 / (1 + u);
    cee = 1 + v;
    const delta = cee * dee;
    f *= delta;
    // ∇ln D_k = −D_k (D_(k−1) ∇d_k + u_k ∇ln D_(k−1)), ∇ln C_k = (∇d_k / C_(k−1) − v_k ∇ln C_(k−1)) / C_k.
    dA = -dee * (previousDee * gA + u * dA);
    dB = -dee * (previousDee * gB + u * dB);
    dZ = -dee * (previousDee * gZ + u * dZ);
    cA = (gA / previousCee - v * cA) / cee;
    cB = (gB / previousCee - v * cB) / cee;
    cZ = (gZ / previousCee - v * cZ) / cee;
    const stepA = cA + dA;
    const stepB = cB + dB;
    const stepZ = cZ + dZ;
    fA += stepA;
    fB += stepB;
    fZ += stepZ;
    if (!Number.isFinite(f) || !(f > 0) || !Number.isFinite(fA + fB + fZ)) {
      budget?.spend(k);
      return Number.NaN;
    }
    const small =
      Math.abs(delta - 1) <= EPSILON &&
      Math.abs(stepA) <= EPSILON * Math.max(1, Math.abs(fA)) &&
      Math.abs(stepB) <= EPSILON * Math.max(1, Math.abs(fB)) &&
      Math.abs(stepZ) <= EPSILON * Math.max(1, Math.abs(fZ));
    quiet = small ? quiet + 1 : 0;
    if (quiet >= 2) {
      budget?.spend(k);
      if (partials !== null) {
        partials[0] = fA;
        partials[1] = fB - logOneMinusZ;
        partials[2] = fZ + (b - 1) / oneMinusZ;
      }
      return (1 - b) * logOneMinusZ + Math.log(f);
    }
  }
  budget?.spend(2 * maxIterations + 1);
  return Number.NaN;
};

/** Terms of the Gauss series {@link log2F1Next} sums before it turns to the continued fraction. */
const NEXT_SERIES_TERMS = 10_000;
const NEXT_SERIES_LIMITS: SeriesLimits = { seriesTerms: NEXT_SERIES_TERMS, continuation: false };
/** Steps (pairs of partial numerators) of the continued fraction before {@link log2F1Next} gives it up. */
const NEXT_FRACTION_STEPS = 500;
/** Up to this a·b, the continuation of {@link log2F1}'s step 3, with its differences, costs at most ~4e6 Taylor terms (~35 a·b). */
const NEXT_CONTINUATION_MAX_AB = 1e5;

/**
 * ln 2F1(a, b; a + 1; z) = ln(a z^−a B_z(a, 1 − b)), the hypergeometric function of the incomplete
 * beta function and of the Pareto/NBD likelihood (Fader & Hardie 2005, note 009, eq. 22), at a cost
 * bounded whatever the parameters. Domain: 0 < a < 2^53 (so that a + 1 is a different double),
 * 0 < b < a + 1, 0 ≤ z < 1: NaN outside it. The Pareto/NBD's b, s + 1 or r + x with a = r + s + x,
 * always is below a + 1; a at 2^53 (r or s near e^36.7) is far beyond any fit the data identify.
 *
 * Method, in order:
 * 1. {@link log2F1}'s series (Euler's transformation or the direct one), up to 10,000 terms: the same
 *    value as log2F1 wherever that converges within them. Skipped when b > 1 and the Euler series
 *    provably cannot converge within them (see eulerSeriesOutlasts).
 * 2. Gauss's continued fraction for 2F1(a + 1 − b, 1; a + 1; z) (see incompleteBetaFraction), up to
 *    500 steps: a handful where the series would need ~1/(1 − z) or ~a/(b − 1) terms (a and b in
 *    the millions, z within 1e−3 of 1: 10^5 to 10^9 terms), O(√a) where a(1 − z) is large.
 * 3. {@link log2F1}'s step 3, the continuation from z = 1/2, when a·b ≤ 1e5 (~35 a·b Taylor terms with
 *    its differences): smaller parameters with z within ~1/a of 1, where the fraction converges slowly.
 * Otherwise NaN: a above ~1e5 with b within a few units of 1 and 1 − z below ~1/a, parameters far
 * beyond anything a Pareto/NBD fit identifies, where a likelihood is better not finite than minutes long.
 *
 * Accuracy: step 1 as log2F1's; step 2 to ~1e−13 max(1, |ln F|) where z is well away from 1, down to
 * ~3e−11 where 1 − z is below 1e−5 (each step's 1 + d_k D_(k−1) cancels); derivatives to ~2e−8;
 * step 3 as log2F1's (its differences to ~1e−6 with z within 1e−9 of 1); all checked against the
 * integral at 40 digits in the tests. Cost: at most 2 × 10,000 series terms and 1,000 partial
 * numerators, or the bounded continuation. `oneMinusZ` as for log2F1; `budget`, optional, spends every
 * term ({@link TermBudget}).
 */
export const log2F1Next = (a: number, b: number, z: number, oneMinusZ?: number, budget: TermBudget | null = null): number =>
  log2F1NextCore(a, b, z, null, oneMinusZ, budget);

/**
 * ln 2F1(a, b; a + 1; z) as {@link log2F1Next}, and [d/da, ∂/∂b, ∂/∂z] of it into partials[0..2], where
 * d/da moves c = a + 1 with a (∂/∂a + ∂/∂c of {@link log2F1WithPartials}); `partials` needs length 4
 * (the fourth is scratch). Step 1's partials are log2F1WithPartials'; step 2 carries the derivatives
 * through the fraction; step 3 takes log2F1WithPartials' differences. NaN value and partials outside
 * the domain or where log2F1Next is NaN.
 */
export const log2F1NextWithPartials = (a: number, b: number, z: number, partials: Float64Array, oneMinusZ?: number, budget: TermBudget | null = null): number =>
  log2F1NextCore(a, b, z, partials, oneMinusZ, budget);

/**
 * True when the Euler series of 2F1(a, b; a + 1; z) with b > 1 cannot stop within n terms, so that
 * {@link log2F1Next} goes straight to the continued fraction. That series is
 * Σ t_k, t_k = Π_(j<k) z (1 − (b − 1)/(a + 1 + j)), its sum at most 1/(1 − z) and its tail after t_k
 * at least t_k z/(1 − z): it stops only once t_k ≤ ε/z. Since ln(1 − u) ≥ −u/(1 − u),
 * ln t_n ≥ n ln z − (b − 1) Σ_(j<n) 1/(A + j) ≥ n ln z − (b − 1) (1/A + ln((A + n − 1)/A)), A = a + 2 − b,
 * and while that bound is above ln(ε/z) (plus an e-fold for rounding) every term up to t_n is too.
 */
const eulerSeriesOutlasts = (a: number, b: number, z: number, n: number): boolean => {
  if (!(b > 1) || z <= 0.5) return false;
  const A = a + 2 - b;
  return n * Math.log(z) - (b - 1) * (1 / A + Math.log1p((n - 1) / A)) > Math.log(EPSILON / z) + 1;
};

const log2F1NextCore = (a: number, b: number, z: number, partials: Float64Array | null, oneMinusZ: number | undefined, budget: TermBudget | null): number => {
  const invalid = (): number => {
    partials?.fill(Number.NaN, 0, 4);
    return Number.NaN;
  };
  if (!(a > 0 && a < 2 ** 53 && b > 0 && b < a + 1 && z >= 0 && z < 1)) return invalid();
  const c = a + 1;
  const combine = (value: number): number => {
    if (partials !== null) {
      partials[0] = partials[0]! + partials[2]!;
      partials[2] = partials[3]!;
    }
    return value;
  };
  if (!eulerSeriesOutlasts(a, b, z, Math.min(NEXT_SERIES_TERMS, seriesTermsAt(a, b, z)))) {
    const series = log2F1Core(a, b, c, z, partials, oneMinusZ, NEXT_SERIES_LIMITS, budget);
    if (Number.isFinite(series)) return combine(series);
  }
  const fraction = incompleteBetaFraction(a, b, z, logOneMinus(z, oneMinusZ), oneMinus(z, oneMinusZ), NEXT_FRACTION_STEPS, partials, budget);
  if (Number.isFinite(fraction)) return fraction;
  if (a * b <= NEXT_CONTINUATION_MAX_AB) {
    const continued = continuedWithPartials(a, b, c, z, partials, budget);
    if (Number.isFinite(continued)) return combine(continued);
  }
  return invalid();
};
