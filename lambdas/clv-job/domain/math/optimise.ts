/**
 * A small quasi-Newton minimiser for the model fits: BFGS with a strong-Wolfe line search
 * (Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithms 6.1, 3.5 and 3.6), plus the
 * finite-difference Hessian and Cholesky inverse that turn a fit into standard errors.
 *
 * The models have 3 or 4 parameters, so dense n×n algebra is the simple and fast choice.
 * Nothing here throws or logs: a run that does not converge says so in its result.
 */

/**
 * An objective that writes its gradient at `x` into `gradient` and returns its value. It may return
 * a non-finite value where it is undefined; the line search then steps back.
 */
export type ObjectiveWithGradient = (x: Float64Array, gradient: Float64Array) => number;

export interface MinimiseOptions {
  /** @default 200 */
  readonly maxIterations?: number;
  /** Stop when max_i |g_i| falls to this. @default 1e-9 */
  readonly gradientTolerance?: number;
  /**
   * Stop when |f_k − f_(k+1)| ≤ functionTolerance · max(|f_k|, |f_(k+1)|, 1) on two iterations in
   * a row: the objective has stopped changing at the level of its own rounding. @default 1e-15
   */
  readonly functionTolerance?: number;
  /**
   * When the line search can no longer decrease f, the point still counts as a minimum if it is an
   * interior strict minimum (the finite-difference Hessian is positive definite) whose Newton step
   * would lower f by at most stallTolerance · max(|f|, 1), i.e. ½ gᵀH⁻¹g: the remaining decrease
   * is below what f's rounding lets a line search see (~1e−13 relative), so the search cannot go on,
   * and nothing is left to gain. On a flat likelihood (e.g. a Gamma-Gamma whose q and γ grow
   * together) the gradient stalls between 1e−7 and 1e−5 this way, and whether it happens to reach
   * gradientTolerance first depends on the data's last bits. @default 1e-10
   */
  readonly stallTolerance?: number;
  /**
   * Starting approximation of the inverse Hessian (n×n, row-major, symmetric positive definite),
   * e.g. from a fit on a subsample: a good one saves most of the iterations spent learning the
   * curvature. @default the identity, rescaled after the first step
   */
  readonly initialInverseHessian?: ArrayLike<number>;
}

export interface MinimiseResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly converged: boolean;
  readonly iterations: number;
  readonly evaluations: number;
  /** max_i |g_i| at `x`. */
  readonly gradientNorm: number;
  /** Why it stopped, in words. */
  readonly message: string;
  /** The final BFGS approximation of the inverse Hessian (n×n, row-major). */
  readonly inverseHessian: Float64Array;
}

/** Sufficient-decrease (Armijo) and curvature constants, the usual values for quasi-Newton methods. */
const C1 = 1e-4;
const C2 = 0.9;

const dot = (u: Float64Array, v: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i]! * v[i]!;
  return s;
};

const maxAbs = (v: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
};

const identity = (n: number): Float64Array => {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
};

/** Relative size of the objective's rounding noise, below which value comparisons are meaningless. */
const NOISE = 1e-13;

interface LineSearchOutcome {
  /** Step length accepted, 0 if none was found. */
  readonly step: number;
  readonly value: number;
}

/**
 * Line search along `direction` from `x` (value f0, gradient g0) for a step meeting the strong
 * Wolfe conditions (Nocedal & Wright Algorithms 3.5 and 3.6, cubic interpolation in the zoom), or
 * Hager & Zhang's approximate Wolfe conditions (SIAM J. Optim. 16, 2005): the curvature condition
 * together with f ≤ f0 + 1e−13 |f0| instead of Armijo's decrease. Near a minimum the decrease Armijo
 * asks for falls below the rounding noise of f while the gradient is still accurate; bracketing
 * on the sign of the directional derivative lets the search keep going there.
 * On success `xOut` and `gOut` hold the accepted point and its gradient. Non-finite values count
 * as "too far".
 */
const lineSearch = (
  fg: ObjectiveWithGradient,
  x: Float64Array,
  f0: number,
  g0: Float64Array,
  direction: Float64Array,
  initialStep: number,
  xOut: Float64Array,
  gOut: Float64Array,
  counter: { evaluations: number },
): LineSearchOutcome => {
  const n = x.length;
  const d0 = dot(g0, direction);
  const tolerance = NOISE * Math.max(1, Math.abs(f0));
  const xTrial = new Float64Array(n);
  const gTrial = new Float64Array(n);

  const evaluate = (step: number): { f: number; d: number } => {
    for (let i = 0; i < n; i++) xTrial[i] = x[i]! + step * direction[i]!;
    counter.evaluations++;
    const f = fg(xTrial, gTrial);
    return Number.isFinite(f) ? { f, d: dot(gTrial, direction) } : { f: Number.NaN, d: Number.NaN };
  };
  const acceptable = (step: number, f: number, d: number): boolean =>
    Math.abs(d) <= -C2 * d0 && (f <= f0 + C1 * step * d0 || f <= f0 + tolerance);
  const accept = (step: number, f: number): LineSearchOutcome => {
    xOut.set(xTrial);
    gOut.set(gTrial);
    return { step, value: f };
  };
  /** A point past which the minimum along the line must lie: still descending, not above f0. */
  const descending = (f: number, d: number): boolean => d < 0 && f <= f0 + tolerance;

  // Zoom: lo is descending, hi is not (it ascends, went up, or is not finite).
  const zoom = (lo: number, fLo: number, dLo: number, hi: number, fHi: number, dHi: number): LineSearchOutcome => {
    for (let j = 0; j < 60; j++) {
      const width = hi - lo;
      let trial = Number.NaN;
      if (Number.isFinite(fHi)) {
        // Minimiser of the cubic interpolating f and f' at both ends.
        const d1 = dLo + dHi - (3 * (fLo - fHi)) / (lo - hi);
        const disc = d1 * d1 - dLo * dHi;
        if (disc >= 0) {
          const d2 = Math.sign(hi - lo) * Math.sqrt(disc);
          trial = hi - (hi - lo) * ((dHi + d2 - d1) / (dHi - dLo + 2 * d2));
        }
      }
      const low = Math.min(lo, hi) + 0.1 * Math.abs(width);
      const high = Math.max(lo, hi) - 0.1 * Math.abs(width);
      if (!Number.isFinite(trial) || trial < low || trial > high) trial = lo + 0.5 * width;
      const { f, d } = evaluate(trial);
      if (Number.isFinite(f) && acceptable(trial, f, d)) return accept(trial, f);
      if (Number.isFinite(f) && descending(f, d)) {
        lo = trial;
        fLo = f;
        dLo = d;
      } else {
        hi = trial;
        fHi = f;
        dHi = d;
      }
      if (Math.abs(hi - lo) <= 1e-16 * Math.max(1, Math.abs(lo))) break;
    }
    if (lo > 0 && fLo < f0) {
      // No Wolfe point found, but lo decreased f: take it (BFGS skips an update without curvature).
      const { f } = evaluate(lo);
      if (f === fLo) return accept(lo, f);
    }
    return { step: 0, value: f0 };
  };

  let previous = 0;
  let fPrevious = f0;
  let dPrevious = d0;
  let step = initialStep;
  for (let i = 0; i < 60; i++) {
    const { f, d } = evaluate(step);
    if (Number.isFinite(f) && acceptable(step, f, d)) return accept(step, f);
    if (!Number.isFinite(f) || !descending(f, d) || f > f0 + C1 * step * d0) {
      // Bracketed: the search overshot (ascending, above f0, or short of Armijo's decrease).
      return zoom(previous, fPrevious, dPrevious, step, f, d);
    }
    previous = step;
    fPrevious = f;
    dPrevious = d;
    step *= 2;
  }
  return { step: 0, value: f0 };
};

/**
 * Minimises `fg` from `x0` by BFGS on the inverse Hessian. The first inverse-Hessian guess is the
 * identity, rescaled after the first step by yᵀs / yᵀy (Nocedal & Wright eq. 6.20); the update is
 * skipped when yᵀs is not safely positive, and the approximation is reset to the identity when it
 * stops giving a descent direction.
 *
 * Stops, converged, when max|g| ≤ gradientTolerance, when the relative change of f has been at
 * most functionTolerance twice in a row, or when no step decreases f any more at an interior minimum
 * with nothing left to gain (see stallTolerance); not converged after maxIterations, when no step
 * along a fresh steepest-descent direction decreases f elsewhere, or when f is not finite at x0.
 * Cost: one objective evaluation per iteration in the common case (step 1 accepted), O(n²) algebra.
 */
export const minimiseBfgs = (fg: ObjectiveWithGradient, x0: ArrayLike<number>, options: MinimiseOptions = {}): MinimiseResult => {
  const maxIterations = options.maxIterations ?? 200;
  const gradientTolerance = options.gradientTolerance ?? 1e-9;
  const functionTolerance = options.functionTolerance ?? 1e-15;
  const stallTolerance = options.stallTolerance ?? 1e-10;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  const counter = { evaluations: 1 };
  let f = fg(x, g);
  const given = options.initialInverseHessian;
  const warm = given !== undefined && given.length === n * n && Array.from(given).every(Number.isFinite);
  let h = warm ? Float64Array.from(given) : identity(n);
  // `fresh`: h is the identity, to be rescaled by the first step's curvature.
  let fresh = !warm;
  const result = (converged: boolean, iterations: number, message: string): MinimiseResult => ({
    x,
    value: f,
    converged,
    iterations,
    evaluations: counter.evaluations,
    gradientNorm: maxAbs(g),
    message,
    inverseHessian: h,
  });
  if (!Number.isFinite(f) || !Number.isFinite(maxAbs(g))) return result(false, 0, 'objective or gradient is not finite at the starting point');

  let stalls = 0;
  const direction = new Float64Array(n);
  let xNext = new Float64Array(n);
  let gNext = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const hy = new Float64Array(n);

  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(g) <= gradientTolerance) return result(true, iteration, `gradient norm ${maxAbs(g).toExponential(2)} <= ${gradientTolerance}`);

    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v -= h[i * n + j]! * g[j]!;
      direction[i] = v;
    }
    if (!(dot(direction, g) < 0)) {
      h = identity(n);
      fresh = true;
      for (let i = 0; i < n; i++) direction[i] = -g[i]!;
    }
    // A first steepest-descent step of length 1 in x can be wild when |g| is large.
    const initialStep = fresh && iteration === 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g))) : 1;
    const search = lineSearch(fg, x, f, g, direction, initialStep, xNext, gNext, counter);
    if (search.step === 0) {
      if (!fresh) {
        // The curvature model may be stale; retry once from steepest descent before giving up.
        h = identity(n);
        fresh = true;
        iteration--;
        continue;
      }
      const decrease = newtonDecrease(fg, x, g);
      if (decrease <= stallTolerance * Math.max(Math.abs(f), 1)) {
        return result(
          true,
          iteration,
          `no further decrease at an interior minimum (gradient norm ${maxAbs(g).toExponential(2)}, Newton step would gain ${decrease.toExponential(2)})`,
        );
      }
      return result(false, iteration, `line search found no decrease (gradient norm ${maxAbs(g).toExponential(2)})`);
    }

    for (let i = 0; i < n; i++) {
      s[i] = xNext[i]! - x[i]!;
      y[i] = gNext[i]! - g[i]!;
    }
    const change = Math.abs(f - search.value) / Math.max(Math.abs(f), Math.abs(search.value), 1);
    [x, xNext] = [xNext, x];
    [g, gNext] = [gNext, g];
    f = search.value;

    const ys = dot(y, s);
    if (ys > 1e-12 * Math.sqrt(dot(y, y) * dot(s, s))) {
      if (fresh) {
        const scale = ys / dot(y, y);
        for (let i = 0; i < n * n; i++) h[i] = h[i]! * scale;
      }
      // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, expanded: H − ρ(s hyᵀ + hy sᵀ) + (ρ² yᵀHy + ρ) s sᵀ.
      const rho = 1 / ys;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += h[i * n + j]! * y[j]!;
        hy[i] = v;
      }
      const yhy = dot(y, hy);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          h[i * n + j] = h[i * n + j]! - rho * (s[i]! * hy[j]! + hy[i]! * s[j]!) + (rho * rho * yhy + rho) * s[i]! * s[j]!;
        }
      }
      fresh = false;
    }

    if (maxAbs(g) <= gradientTolerance) return result(true, iteration + 1, `gradient norm ${maxAbs(g).toExponential(2)} <= ${gradientTolerance}`);
    stalls = change <= functionTolerance ? stalls + 1 : 0;
    if (stalls >= 2) return result(true, iteration + 1, `relative change of the objective <= ${functionTolerance} twice in a row`);
  }
  return result(false, maxIterations, `no convergence in ${maxIterations} iterations (gradient norm ${maxAbs(g).toExponential(2)})`);
};

/**
 * ½ gᵀH⁻¹g: how much a Newton step from x would lower f, with H the finite-difference Hessian; +∞
 * when H is not positive definite (x is not a strict interior minimum). Cost: 2n gradient evaluations.
 */
const newtonDecrease = (fg: ObjectiveWithGradient, x: Float64Array, g: Float64Array): number => {
  const n = x.length;
  const inverse = invertSymmetricPositiveDefinite(hessianFromGradient(fg, x), n);
  if (inverse === null) return Number.POSITIVE_INFINITY;
  let quadratic = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) quadratic += g[i]! * inverse[i * n + j]! * g[j]!;
  return quadratic / 2;
};

/**
 * Hessian of f at x by central differences of its analytic gradient:
 * H_ij ≈ [g_j(x + h_i e_i) − g_j(x − h_i e_i)] / (2 h_i), then symmetrised. With h_i = step ·
 * max(1, |x_i|) and step ≈ eps^(1/3) the error is ~1e−10 relative for smooth objectives.
 * Returns the n×n matrix row-major; entries are NaN where the objective was not finite.
 * Cost: 2n gradient evaluations.
 */
export const hessianFromGradient = (fg: ObjectiveWithGradient, x: ArrayLike<number>, step = 6e-6): Float64Array => {
  const n = x.length;
  const hessian = new Float64Array(n * n);
  const point = Float64Array.from(x);
  const gPlus = new Float64Array(n);
  const gMinus = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const hi = step * Math.max(1, Math.abs(x[i]!));
    point[i] = x[i]! + hi;
    const fPlus = fg(point, gPlus);
    point[i] = x[i]! - hi;
    const fMinus = fg(point, gMinus);
    point[i] = x[i]!;
    const ok = Number.isFinite(fPlus) && Number.isFinite(fMinus);
    for (let j = 0; j < n; j++) hessian[i * n + j] = ok ? (gPlus[j]! - gMinus[j]!) / (2 * hi) : Number.NaN;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (hessian[i * n + j]! + hessian[j * n + i]!);
      hessian[i * n + j] = v;
      hessian[j * n + i] = v;
    }
  }
  return hessian;
};

/**
 * The lower-triangular Cholesky factor L of a symmetric positive-definite n×n matrix A = L Lᵀ
 * (row-major), or null when A is not positive definite or not finite. Also what turns independent
 * standard normals z into draws L z with covariance A.
 */
export const choleskyLower = (matrix: ArrayLike<number>, n: number): Float64Array | null => {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(sum > 0) || !Number.isFinite(sum)) return null;
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j]!;
      }
    }
  }
  return l;
};

/**
 * Inverse of a symmetric positive-definite n×n matrix (row-major) by Cholesky factorisation, or
 * null when the matrix is not positive definite (or not finite): at a maximum-likelihood estimate
 * that means the estimate is not a strict local optimum and has no standard errors.
 */
export const invertSymmetricPositiveDefinite = (matrix: ArrayLike<number>, n: number): Float64Array | null => {
  const l = choleskyLower(matrix, n);
  if (l === null) return null;
  // Invert L (lower triangular), then A^−1 = L^−T L^−1.
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    inv[i * n + i] = 1 / l[i * n + i]!;
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * n + k]! * inv[k * n + j]!;
      inv[i * n + j] = sum / l[i * n + i]!;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += inv[k * n + i]! * inv[k * n + j]!;
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
};
