/**
 * BG/NBD E[X(t)] from the model's mixture over the dropout probability, by quadrature: the route for
 * the parameters where eq. (9)'s hypergeometric form cannot be summed in doubles (see
 * {@link expectedPurchasesByMixture}). Pure; allocates nothing.
 */
import { lbeta, lgammaDifference, stirlingCorrection } from '../math/special.js';

/** Trapezoid step in y = logit p, at most: the integrand is analytic in a strip of half-width ≥ π/2 (below). */
const MAX_STEP = 0.2;
/** A node is negligible below this share of Σ|node|; the tails are cut after three in a row. */
const NEGLIGIBLE = 1e-17;
/** Outward decay rate of the Beta density (per unit of y) from which its log-concavity bounds the tail alone. */
const STEEP = 4;
/** Nodes per side before giving up (NaN): the features lie within ~±100 of each other, ≥ 500 steps apart at most. */
const MAX_NODES = 100_000;

/** ln(v/(v + w)) to a few ulps: the quotient where it is small, log1p of its complement where it is near 1. */
const logShare = (v: number, w: number): number => (v <= w ? Math.log(v / (v + w)) : Math.log1p(-w / (v + w)));

/**
 * ln of the Beta(a, b) density of y = ln(p/(1 − p)) at its mode y* = ln(a/b), p* = a/(a + b):
 * a ln p* + b ln q* − ln B(a, b). With a, b ≥ 10 both terms are ~1e8 at a, b = 6.6e7 and would cancel
 * to ~1e−8; Stirling's series for each log-gamma leaves ½ ln(ab/(2π(a+b))) − ω(a) − ω(b) + ω(a+b),
 * ω(z) = ln Γ(z) − (z − ½) ln z + z − ½ ln 2π ({@link stirlingCorrection}; the terms in z ln z cancel exactly).
 */
const logDensityAtMode = (a: number, b: number): number => {
  if (a < 10 || b < 10) return a * logShare(a, b) + b * logShare(b, a) - lbeta(a, b);
  return 0.5 * (Math.log(a) + Math.log(b) - Math.log(a + b) - Math.log(2 * Math.PI)) - stirlingCorrection(a) - stirlingCorrection(b) + stirlingCorrection(a + b);
};

/**
 * E[X(t)] for a customer alive at the window's start with BG/NBD parameters (r, α, a, b), t > 0, as
 *
 *   E[X(t)] = E_p[h(p)],  h(p) = (1 − (α/(α + p t))^r)/p,  p ~ Beta(a, b),
 *
 * the definition eq. (9) integrates in closed form (FHL 2005 §3, and their technical note "A Note on
 * Deriving the BG/NBD Expected Value", eq. (1)): given p, a Gamma(r, α) customer who may drop out with
 * probability p after each purchase makes on average (1 − E_λ[e^(−λ p t)])/p purchases in (0, t], and
 * E_λ[e^(−λ p t)] = (α/(α + p t))^r. h is evaluated as −expm1(−r log1p(p t/α))/p, with h(0) = r t/α.
 *
 * The average over p is the trapezoidal rule in y = ln(p/(1 − p)), where the Beta density,
 * e^(a y)/(1 + e^y)^(a+b)/B(a, b), is log-concave with mode ln(a/b) and width σ = (1/a + 1/b)^½, and h
 * is a smooth step of width O(1) around y = −ln(r t/α): the integrand is analytic in a strip of
 * half-width ≥ π/2 (the nearest singularities are at Im y = ±π, and exp(−r t e^y/α) stays bounded
 * for |Im y| ≤ π/2), so steps of min(0.2, σ/2) leave an error of order e^(−π²/0.2) ≈ 1e−21 and, for a
 * narrow density, e^(−2π²·4) (Trefethen & Weideman 2014, "The exponentially convergent trapezoidal
 * rule", SIAM Review 56(3), §5). The nodes run from the mode outwards until the integrand is below
 * 1e−17 of what was summed, three nodes in a row, past every feature (the mode, the step of h at
 * y = −ln(r t/α) and its bend at −ln(t/α), and p = ½), or where the density falls steeply enough that
 * its log-concavity bounds the tail.
 *
 * Tails: for a < 1 the density decays only like e^(a y) as y → −∞ (mass down to p ~ e^(−1/a)), so
 * h(0)(1 − p)^m with m = max(1, (r + 1) t/α) is subtracted and added back exactly,
 * E[(1 − p)^m] = B(a, b + m)/B(a, b) = exp(ln Γ(b + m) − ln Γ(a + b + m) − ln Γ(b) + ln Γ(a + b)); for
 * b < 1 likewise h(1) p, E[p] = a/(a + b). What remains is O(p) at 0 and O(1 − p) at 1 and decays at
 * least like e^(−|y|) (m ≥ 1 makes (1 − p)^m vanish at p = 1). Both subtracted terms lie between 0 and
 * h (h(p) ≥ r t/α (1 + p t/α)^−(r+1) ≥ h(0)(1 − p)^m by the mean value theorem and ln(1 − p) ≤ −p;
 * h decreases, so h(p) ≥ h(1) ≥ h(1) p),
 * so the subtraction cancels at most a factor 3.
 *
 * Cost: a few hundred nodes of an exp, an expm1 and three log1p each (fewer for a narrow density).
 * Accuracy: ~1e−13 relative against 40-digit references over the fitter's whole range
 * (test/domain/models/closed-forms.test.ts). NaN only if the nodes ran out (not seen).
 */
export const expectedPurchasesByMixture = (r: number, alpha: number, a: number, b: number, t: number): number => {
  if (!(t > 0)) return 0;
  const u = t / alpha;
  const atZero = r * u;
  const atOne = -Math.expm1(-r * Math.log1p(u));
  const left = a < 1;
  const right = b < 1;
  const m = Math.max(1, (r + 1) * u);
  const pStar = a / (a + b);
  const qStar = b / (a + b);
  const yStar = Math.log(a) - Math.log(b);
  const logMode = logDensityAtMode(a, b);
  const step = Math.min(MAX_STEP, 0.5 * Math.sqrt(1 / a + 1 / b));
  const features = [yStar, -Math.log(atZero), -Math.log(u), 0].filter(Number.isFinite);
  const lowest = Math.min(...features) - 1;
  const highest = Math.max(...features) + 1;

  let sum = 0;
  let absSum = 0;
  /** The node at y* + d: its value, and (in `envelope`) an upper bound 3 h f of |value| for the steep-tail test. */
  let envelope = 0;
  const node = (d: number): number => {
    const y = yStar + d;
    // p and 1 − p without cancellation on either side of y = 0
    const e = Math.exp(-Math.abs(y));
    const p = y < 0 ? e / (1 + e) : 1 / (1 + e);
    const logQ = y < 0 ? -Math.log1p(e) : -y - Math.log1p(e);
    // ln f(y* + d) − ln f(y*) = −a ln(1 + q*(e^−d − 1)) − b ln(1 + p*(e^d − 1)): no cancellation of large logs
    const density = Math.exp(logMode - a * Math.log1p(qStar * Math.expm1(-d)) - b * Math.log1p(pStar * Math.expm1(d)));
    const h = p === 0 ? atZero : -Math.expm1(-r * Math.log1p(p * u)) / p;
    envelope = 3 * h * density;
    let g = h;
    if (left) g -= atZero * Math.exp(m * logQ);
    if (right) g -= atOne * p;
    return g * density;
  };

  const centre = node(0);
  sum += centre;
  absSum += Math.abs(centre);
  for (const direction of [-1, 1]) {
    let quiet = 0;
    for (let k = 1; ; k++) {
      if (k > MAX_NODES) return Number.NaN;
      const d = direction * k * step;
      const value = node(d);
      sum += value;
      absSum += Math.abs(value);
      const y = yStar + d;
      const p = 1 / (1 + Math.exp(-y));
      // the density's log-slope a(1 − p) − b p, outwards
      const steep = direction * (a * (1 - p) - b * p) < -STEEP && envelope <= NEGLIGIBLE * step * absSum;
      const past = direction < 0 ? y < lowest : y > highest;
      quiet = past && Math.abs(value) <= NEGLIGIBLE * absSum ? quiet + 1 : 0;
      if (steep || quiet >= 3) break;
    }
  }
  let value = step * sum;
  if (left) value += atZero * Math.exp(lgammaDifference(b, a) - lgammaDifference(b + m, a));
  if (right) value += atOne * pStar;
  return value;
};
