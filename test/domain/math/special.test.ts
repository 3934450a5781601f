import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeWith } from '../../support/services.js';
import {
  continueHypergeometric,
  digamma,
  hyp2f1,
  lbeta,
  lgamma,
  log1pExp,
  log2F1,
  log2F1Next,
  log2F1NextWithPartials,
  log2F1WithPartials,
  logSumExp,
  logSumExpAll,
  TermBudget,
  TermBudgetExceeded,
} from '../../../lambdas/clv-job/domain/math/special.js';

const EULER_GAMMA = 0.5772156649015329;

/** |actual − expected| ≤ tolerance · max(1, |expected|). */
const expectClose = (actual: number, expected: number, tolerance: number): void => {
  expect(Number.isFinite(actual)).toBe(true);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
};

// ---------------------------------------------------------------------------------------------
// An independent reference: the Gauss series summed exactly in BigInt fixed point (50 digits),
// with each double argument converted to its exact binary fraction.
// ---------------------------------------------------------------------------------------------

const rational = (v: number): [bigint, bigint] => {
  let m = v;
  let k = 0n;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  return [BigInt(m), 1n << k];
};

const lnBig = (v: bigint, scaleDigits: number): number => {
  const digits = v.toString();
  const head = Number(`${digits.slice(0, 17)}`);
  return Math.log(head) + (digits.length - 17 - scaleDigits) * Math.LN10;
};

/**
 * ln of Σ (a)_n (b)_n / ((c)_n n!) z^n for positive parameters, summed until the tail is below
 * 1e−30 of the sum. Past the largest term the ratios t_(n+1)/t_n approach z monotonically, so the
 * tail is at most t_n ρ/(1 − ρ) with ρ the larger of the last ratio and z.
 */
const log2F1BigSeries = (a: number, b: number, c: number, z: number): number => {
  const P = 50;
  const [aN, aD] = rational(a);
  const [bN, bD] = rational(b);
  const [cN, cD] = rational(c);
  const [zN, zD] = rational(z);
  let term = 10n ** BigInt(P);
  let sum = term;
  for (let n = 0n; ; n++) {
    const previous = term;
    term = (term * (aN + n * aD) * (bN + n * bD) * zN * cD) / (aD * bD * zD * (cN + n * cD) * (n + 1n));
    sum += term;
    if (term === 0n) return lnBig(sum, P);
    const rho = Math.max(Number((term * 1_000_000n) / previous) / 1e6, z);
    if (rho < 1 && Number((term * 10n ** 30n) / sum) * (rho / (1 - rho)) < 1) return lnBig(sum, P);
  }
};

describe('lgamma and lbeta', () => {
  it.each([
    [0.5, 0.5 * Math.log(Math.PI)],
    [1, 0],
    [2, 0],
    [10, Math.log(362880)],
    [1e-8, -Math.log(1e-8) - EULER_GAMMA * 1e-8],
  ])('lgamma(%s) = %s', (x, expected) => {
    // Act
    const value = lgamma(x);
    // Assess
    expectClose(value, expected, 1e-14);
  });

  it.each([
    [1, 7, -Math.log(7)],
    [2, 3, Math.log(1 / 12)],
    [0.5, 0.5, Math.log(Math.PI)],
  ])('lbeta(%s, %s) = %s', (a, b, expected) => {
    expectClose(lbeta(a, b), expected, 1e-14);
  });
});

describe('digamma', () => {
  it.each([
    [1, -EULER_GAMMA],
    [0.5, -EULER_GAMMA - 2 * Math.LN2],
    [11, 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6 + 1 / 7 + 1 / 8 + 1 / 9 + 1 / 10 - EULER_GAMMA],
    [1e6, Math.log(1e6) - 1 / 2e6 - 1 / (12 * 1e12)],
  ])('ψ(%s) = %s', (x, expected) => {
    expectClose(digamma(x), expected, 2e-15);
  });

  it('satisfies the recurrence ψ(x + 1) = ψ(x) + 1/x', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e5, noNaN: true }), (x) => {
        expectClose(digamma(x + 1), digamma(x) + 1 / x, 1e-13 * (1 + 1 / x));
      }),
    );
  });

  it('is NaN outside x > 0, so callers cannot mistake a pole for a number', () => {
    expect(digamma(0)).toBeNaN();
    expect(digamma(-1.5)).toBeNaN();
  });
});

describe('log-sum-exp and softplus', () => {
  it.each([
    [1000, 1000, 1000 + Math.LN2],
    [-1000, -1000, -1000 + Math.LN2],
    [Number.NEGATIVE_INFINITY, 3, 3],
    [2, Number.NEGATIVE_INFINITY, 2],
    [0, -800, Math.log1p(Math.exp(-800))],
  ])('logSumExp(%s, %s) = %s without overflow', (a, b, expected) => {
    expect(logSumExp(a, b)).toBeCloseTo(expected, 12);
  });

  it('sums a whole list in log space', () => {
    expectClose(logSumExpAll([800, 800, 800]), 800 + Math.log(3), 1e-15);
    expect(logSumExpAll([])).toBe(Number.NEGATIVE_INFINITY);
  });

  it.each([
    [800, 800],
    [-800, 0],
    [0, Math.LN2],
    [1e-20, Math.LN2],
  ])('log1pExp(%s) = %s', (u, expected) => {
    expect(log1pExp(u)).toBeCloseTo(expected, 14);
  });
});

describe('Gauss hypergeometric 2F1', () => {
  describe('closed forms', () => {
    it.each([0.1, 0.5, 0.9, 0.999, 1 - 1e-6, 1 - 1e-12])('2F1(1, 1; 2; z) = −ln(1 − z)/z at z = %s (c − a − b = 0)', (z) => {
      expectClose(log2F1(1, 1, 2, z), Math.log(-Math.log1p(-z) / z), 1e-13);
    });

    it.each([
      [5000, 3000, 0.999],
      [1e4, 2e4, 0.999],
      [0.3, 7, 0.999999],
      [1, 1, 0.9],
      [2.5, 1e-3, 0.5],
    ])('2F1(a, b; b; z) = (1 − z)^−a for a = %s, b = %s, z = %s, in log space far past 1e308', (a, b, z) => {
      expectClose(log2F1(a, b, b, z), -a * Math.log1p(-z), 1e-13);
    });

    it.each([0.5, 0.9, 0.999, 0.99999])('2F1(1/2, 1/2; 3/2; z²) = arcsin(z)/z at z = %s', (z) => {
      expectClose(log2F1(0.5, 0.5, 1.5, z * z), Math.log(Math.asin(z) / z), 1e-13);
    });

    it.each([
      [0.75, 0.9],
      [3, 0.999],
      [40, 0.99],
    ])('2F1(a, a + 1/2; 1/2; z²) = [(1 + z)^−2a + (1 − z)^−2a]/2 for a = %s, z = %s', (a, z) => {
      const expected = Math.log(0.5) + logSumExp(-2 * a * Math.log1p(z), -2 * a * Math.log1p(-z));
      expectClose(log2F1(a, a + 0.5, 0.5, z * z), expected, 1e-13);
    });

    it('is exactly 1 at z = 0 and when a or b is 0', () => {
      expect(log2F1(3, 4, 5, 0)).toBe(0);
      expect(log2F1(0, 4, 5, 0.9)).toBe(0);
      expect(hyp2f1(3, 0, 5, 0.9)).toBe(1);
    });
  });

  describe('against references computed independently', () => {
    it.each([
      ['c − a − b = 1/2, z near 1', 0.3, 0.7, 1.5, 0.999],
      ['c − a − b = 1 (an integer: the log case of the 1 − z formula)', 2, 3, 6, 0.999],
      ['large parameters, c − a − b = 500', 1000, 2000, 3500, 0.999],
      ['BG/NBD shape with x = 26', 26.2425982, 28.4261667, 28.2191566, 0.9],
    ])('matches the exact BigInt series: %s', (_, a, b, c, z) => {
      // Prepare
      const reference = log2F1BigSeries(a, b, c, z);
      // Act
      const value = log2F1(a, b, c, z);
      // Assess
      expectClose(value, reference, 1e-13);
    });

    // ln 2F1 from mpmath 1.3.0 at 40 significant digits (mp.hyp2f1, maxterms 1e8), for the exact
    // doubles written here. The BG/NBD rows use the BTYD CDNOW fit: (r + x, b + x; a + b + x − 1; z).
    it.each([
      ['BG/NBD x=0', 0.24259820000000001, 2.4261667, 2.2191565999999998, 0.5, 0.18790786366813467],
      ['BG/NBD x=0', 0.24259820000000001, 2.4261667, 2.2191565999999998, 0.999, 2.4032639757918935],
      ['BG/NBD x=1', 1.2425982, 3.4261667, 3.2191565999999998, 0.5, 0.92650380221720372],
      ['BG/NBD x=1', 1.2425982, 3.4261667, 3.2191565999999998, 0.999, 9.7737025531211567],
      ['BG/NBD x=26', 26.2425982, 28.4261667, 28.219156599999998, 0.5, 18.326041551681188],
      ['BG/NBD x=26', 26.2425982, 28.4261667, 28.219156599999998, 0.999, 182.69218434719199],
      ['BG/NBD x=1000', 1000.2425982, 1002.4261667, 1002.2191566, 0.5, 693.45862101359427],
      ['BG/NBD x=1000', 1000.2425982, 1002.4261667, 1002.2191566, 0.999, 6910.8606546727923],
      ['BG/NBD x=10000', 10000.2425982, 10002.426166699999, 10002.2191566, 0.5, 6931.7834298696996],
      ['BG/NBD x=10000', 10000.2425982, 10002.426166699999, 10002.2191566, 0.999, 69080.658533056734],
      ['large, c-a-b = 1/2', 5000, 5000, 10000.5, 0.999, 6619.8100737556909],
      ['a >> c >> b near 1', 9217.3614786339313, 3.982878898055799, 387.04152095370972, 0.9998620592178209, 76951.935682717915],
      ['a, b >> c', 10000, 10000, 1, 0.3, 15862.826423759611],
      ['a >> b, c', 2500, 0.5, 4000, 0.9999, 0.49048751448071917],
      ['c-a-b = 0 (log case)', 0.5, 0.25, 0.75, 0.999999, 1.2795148609998278],
      ['c-a-b = -3 (pole case)', 1.5, 2.5, 1, 0.9999, 28.160230162479347],
      ['tiny parameters', 0.001, 0.002, 0.005, 0.99, 0.0018319568869781591],
    ])('matches mpmath: %s, 2F1(%s, %s; %s; %s)', (_, a, b, c, z, reference) => {
      expectClose(log2F1(a, b, c, z), reference, 1e-13);
    });
  });

  describe('properties', () => {
    const bgnbdShape = fc
      .record({
        r: fc.double({ min: 0.01, max: 10, noNaN: true }),
        a: fc.double({ min: 0.05, max: 10, noNaN: true }),
        b: fc.double({ min: 0.05, max: 50, noNaN: true }),
        x: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 10_000 })),
        z: fc.oneof(fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.constantFrom(0.99, 0.999, 0.9999, 0.999999)),
      })
      .filter(({ a, b, x }) => a + b + x - 1 > 0);

    it('is finite and >= 1 for BG/NBD arguments: x up to 1e4, z up to 1 − 1e−6', () => {
      fc.assert(
        fc.property(bgnbdShape, ({ r, a, b, x, z }) => {
          const value = log2F1(r + x, b + x, a + b + x - 1, z);
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
        }),
      );
    });

    it('is non-decreasing in z (every term of the series is positive)', () => {
      fc.assert(
        fc.property(bgnbdShape, fc.double({ min: 0, max: 1, noNaN: true }), ({ r, a, b, x, z }, f) => {
          const lower = z * f;
          expect(log2F1(r + x, b + x, a + b + x - 1, lower)).toBeLessThanOrEqual(log2F1(r + x, b + x, a + b + x - 1, z) * (1 + 1e-12) + 1e-300);
        }),
      );
    });

    it('is symmetric in a and b', () => {
      fc.assert(
        fc.property(
          fc.double({ min: 0.01, max: 200, noNaN: true }),
          fc.double({ min: 0.01, max: 200, noNaN: true }),
          fc.double({ min: 0.01, max: 300, noNaN: true }),
          fc.double({ min: 0, max: 0.999, noNaN: true }),
          (a, b, c, z) => {
            expectClose(log2F1(a, b, c, z), log2F1(b, a, c, z), 1e-12);
          },
        ),
      );
    });

    it.each([
      [-1, 1, 1, 0.5],
      [1, 1, 0, 0.5],
      [1, 1, 1, 1],
      [1, 1, 1, -0.1],
      [Number.NaN, 1, 1, 0.5],
    ])('is NaN outside its documented domain: 2F1(%s, %s; %s; %s)', (a, b, c, z) => {
      expect(log2F1(a, b, c, z)).toBeNaN();
    });
  });
});

describe('ln 2F1 with its partial derivatives (the Pareto/NBD gradient)', () => {
  // ln F and ∂/∂a, ∂/∂b, ∂/∂c, ∂/∂z of ln F from mpmath 1.3.0 at 40 digits (mp.diff of ln mp.hyp2f1),
  // for the exact doubles written here (test/fixtures/pareto-nbd/make_partials_reference.py).
  it.each([
      ['direct series, small z', 27.1595, 1.6061, 28.1595, 0.05, [0.079389835002535799, 0.0029897986861187309, 0.049432780168976491, -0.0028838558676664677, 1.6278353699897477]],
      ['Euler route (c - a - b < 0), CDNOW-like alpha < beta', 27.1595, 26.5534, 28.1595, 0.3, [9.1316914026688409, 0.33915241561307686, 0.34572986021873339, -0.32883770749468965, 36.564084824994526]],
      ['Euler route, z near 1', 2.5, 3.5, 4.0, 0.99, [9.5093765265128054, 4.3356133799429071, 3.9449673408116794, -3.7965928837082955, 200.67600516019834]],
      ['continuation (c - a - b = 1/2, z near 1)', 0.3, 0.7, 1.5, 0.999, [0.36775009460247004, 1.5195754757898103, 0.87126873172530909, -0.56163662248186892, 8.444686562963776]],
      ['large parameters', 500.2, 501.3, 501.5, 0.9, [1151.2930141461456, 2.3022249421046623, 2.3002464269558452, -2.2998872106631967, 5000.000520780653]],
      ['tiny parameters', 0.01, 0.02, 0.05, 0.7, [0.0047497672033297158, 0.47662454082342598, 0.23967695278960563, -0.097457117758871523, 0.012967752009085566]],
      ['continuation (c - a - b = 0, z = 1 - 1e-6)', 0.5, 0.25, 0.75, 0.999999, [1.2795148609998278, 6.1010141171255041, 7.7144964408100144, -5.4851296069054115, 53044.552320249716]],
      ['a >> c >> b near 1', 2500.0, 0.5, 4000.0, 0.9999, [0.49048751448071917, 0.00033341105544633825, 0.98107921959363961, -0.00020842097516657425, 0.83402813412042391]],
  ] as const)('matches mpmath: %s, 2F1(%s, %s; %s; %s)', (name, a, b, c, z, reference) => {
    // Prepare
    const partials = new Float64Array(4);
    // Act
    const value = log2F1WithPartials(a, b, c, z, partials);
    // Assess: the value is log2F1's; the series' partials to 1e-11, the continuation's differences to 1e-8.
    expect(value).toBe(log2F1(a, b, c, z));
    expectClose(value, reference[0], 1e-13);
    const tolerance = name.startsWith('continuation') ? 1e-8 : 1e-11;
    for (let k = 0; k < 4; k++) expect(Math.abs(partials[k]! - reference[k + 1]!), `partial ${k}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(reference[k + 1]!)));
  });

  it('agrees with central differences of log2F1 over positive parameters and z < 0.999 (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 300, noNaN: true }),
        fc.double({ min: 0.05, max: 300, noNaN: true }),
        fc.double({ min: 0.05, max: 300, noNaN: true }),
        fc.double({ min: 1e-3, max: 0.999, noNaN: true }),
        (a, b, c, z) => {
          const partials = new Float64Array(4);
          const value = log2F1WithPartials(a, b, c, z, partials);
          const args = [a, b, c, z];
          for (let k = 0; k < 4; k++) {
            const h = 1e-5 * (k === 3 ? Math.min(z, 1 - z) : Math.max(1, args[k]!));
            const at = (d: number): number => log2F1(...(args.map((v, i) => (i === k ? v + d : v)) as [number, number, number, number]));
            const difference = (at(h) - at(-h)) / (2 * h);
            // The difference's own error: rounding of ln F (~1e-13 |ln F|) over h, and h² truncation.
            expect(Math.abs(partials[k]! - difference), `partial ${k} at ${args}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(difference)) + (1e-12 * Math.max(1, Math.abs(value))) / h);
          }
        },
      ),
      { seed: 20_261_130, numRuns: 200 },
    );
  });

  it('gives ∂/∂z = a b / c and zero parameter derivatives at z = 0, and NaN outside a, b, c > 0', () => {
    const partials = new Float64Array(4);
    expect(log2F1WithPartials(2, 3, 4, 0, partials)).toBe(0);
    expect(Array.from(partials)).toEqual([0, 0, 0, 1.5]);
    expect(log2F1WithPartials(0, 3, 4, 0.5, partials)).toBeNaN();
    expect(partials.every(Number.isNaN)).toBe(true);
  });
});

describe('continuing a hypergeometric solution along its equation', () => {
  it('carries 2F1 from z = 1/2 to z = 0.999 999 without series (2F1(1, 1; 2; z) = −ln(1 − z)/z)', () => {
    // Prepare: F and F' at 1/2, where F = 2 ln 2 and F' = (1/(1 − z) − F)/z.
    const f = 2 * Math.LN2;
    const state = Float64Array.of(f, (2 - f) / 0.5);
    const z = 1 - 1e-6;
    // Act
    const logScale = continueHypergeometric(1, 1, 2, 0, 0.5, z, state, false);
    // Assess
    expect(logScale).toBe(0);
    expectClose(state[0]!, -Math.log1p(-z) / z, 1e-13);
  });

  it('solves the inhomogeneous equation too: w = z when a = b = −1 and k = c', () => {
    // Prepare: with a = b = −1 the equation is z(1 − z)w″ + (c + z)w′ − w = k, and w = z gives k = c.
    const c = 2.5;
    const state = Float64Array.of(0.3, 1);
    // Act
    continueHypergeometric(-1, -1, c, c, 0.3, 0.95, state, false);
    // Assess
    expectClose(state[0]!, 0.95, 1e-14);
    expectClose(state[1]!, 1, 1e-13);
  });
});

describe('ln 2F1(a, b; a + 1; z) at a bounded cost (the Pareto/NBD likelihood)', () => {
  it('is log2F1, and d/da its ∂/∂a + ∂/∂c, wherever the Gauss series converges (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 300, noNaN: true }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        (a, share, z) => {
          // Prepare: 0 < b < a + 1, as the Pareto/NBD's s + 1 and r + x are.
          const b = share * (a + 1) * (1 - 1e-9);
          const partials = new Float64Array(4);
          const expected = new Float64Array(4);
          // Act
          const value = log2F1NextWithPartials(a, b, z, partials);
          // Assess
          expect(value).toBe(log2F1WithPartials(a, b, a + 1, z, expected));
          expect(log2F1Next(a, b, z)).toBe(log2F1(a, b, a + 1, z));
          expect([partials[0], partials[1], partials[2]]).toEqual([expected[0]! + expected[2]!, expected[1], expected[3]]);
        },
      ),
      { seed: 20_261_201, numRuns: 300 },
    );
  });

  it('spends at most the series, fraction and continuation bounds, where the series alone took 10^8 terms', () => {
    // Prepare: the runaway fit's parameters (r = 1.5e8, s = 8.3e4, alpha/beta = 830) and beyond.
    const cases: [number, number, number][] = [
      [1.5e8 + 8.3e4 + 3, 8.3e4 + 1, 1 - 1.2e-3],
      [1.5e8 + 8.3e4 + 3, 1.5e8 + 3, 1 - 1.2e-3],
      [1e8, 2, 1 - 1e-8],
      [3e6, 40, 1 - 1e-9],
    ];
    for (const [a, b, z] of cases) {
      const budget = new TermBudget(MAX_TERMS);
      // Act
      const value = log2F1NextWithPartials(a, b, z, new Float64Array(4), 1 - z, budget);
      // Assess: a value (or NaN, beyond what the bounded methods reach), never more terms than the bound.
      expect(Number.isFinite(value) || Number.isNaN(value)).toBe(true);
      expect(budget.spent).toBeLessThanOrEqual(MAX_TERMS);
    }
  });

  it('stops where a budget runs out, mid-series or mid-continuation, not after it (a = 5.8e6, b = 5e-5, 1 - z = 1e-7)', () => {
    // Prepare: a Pareto/NBD search heading to r -> 0, s -> infinity; a b = 290 sends this one to the continuation
    // from z = 1/2, whose steps shrink like 1/a, and to series of up to 5000 + 10 (a + b) terms: 1.8e8 terms in all.
    const limit = 1e6;
    const budget = new TermBudget(limit);
    // Act
    const call = (): number => log2F1NextWithPartials(5.8e6, 5e-5, 1 - 1e-7, new Float64Array(4), 1e-7, budget);
    // Assess: the budget's own error, past its limit by at most one continuation step (40 halvings of up to 2,000 coefficients).
    expect(call).toThrow(TermBudgetExceeded);
    expect(budget.spent).toBeGreaterThan(limit);
    expect(budget.spent).toBeLessThanOrEqual(limit + 40 * 2_000);
  });

  it('spends from a budget and its parent alike, and throws naming the one whose limit was passed', () => {
    // Prepare: a parent of 1,000 terms, a child of 100 and a child of 10,000.
    const parent = new TermBudget(1_000);
    const small = new TermBudget(100, parent);
    const large = new TermBudget(10_000, parent);
    const thrownBy = (spend: () => void): unknown => {
      try {
        spend();
      } catch (error) {
        return error;
      }
      return null;
    };
    // Act
    small.spend(60);
    const overSmall = thrownBy(() => small.spend(60));
    const overParent = thrownBy(() => large.spend(900));
    // Assess: 60 + 60 = 120 > 100 names the child; 120 + 900 = 1,020 > 1,000 the parent.
    expect(overSmall).toBeInstanceOf(TermBudgetExceeded);
    expect((overSmall as TermBudgetExceeded).budget).toBe(small);
    expect(overParent).toBeInstanceOf(TermBudgetExceeded);
    expect((overParent as TermBudgetExceeded).budget).toBe(parent);
    expect([small.remaining, large.remaining, parent.remaining]).toEqual([-20, -20, -20]);
  });

  it('is NaN outside 0 < a < 2^53, 0 < b < a + 1, 0 <= z < 1, and 0 with d/dz = a b/(a + 1) at z = 0', () => {
    const partials = new Float64Array(4);
    for (const [a, b, z] of [
      [0, 0.5, 0.5],
      [2, 3, 0.5],
      [2, 1, 1],
      [2 ** 53, 1, 0.5],
      [2, 1, -0.1],
    ] as const) {
      expect(log2F1NextWithPartials(a, b, z, partials)).toBeNaN();
      expect(partials.every(Number.isNaN)).toBe(true);
    }
    expect(log2F1NextWithPartials(2, 1.5, 0, partials)).toBe(0);
    expect(Array.from(partials.slice(0, 3))).toEqual([0, 0, 1]);
  });
});

/** The most terms one log2F1Next call may spend: two capped series, the capped fraction, the bounded continuation. */
const MAX_TERMS = 2 * 10_000 + 1_001 + 4e6;

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pareto-nbd');

describeWith('mpmath', 'ln 2F1(a, b; a + 1; z) against the integral at 40 digits, over the Pareto/NBD fits\' whole box', () => {
  it('matches value and derivatives, or is NaN only where a b > 1e5, spending at most the bound (fast-check draws)', () => {
    // Prepare: a = r + s + x, b = s + 1 (alpha >= beta) or r + x, r and s from 1e-3 to 1e9, 1 − z down to 1e-15.
    const logUniform = (lo: number, hi: number): fc.Arbitrary<number> => fc.double({ min: Math.log(lo), max: Math.log(hi), noNaN: true }).map(Math.exp);
    const points = fc.sample(
      fc.record({
        r: logUniform(1e-3, 1e9),
        s: logUniform(1e-3, 1e9),
        x: fc.constantFrom(0, 1, 4, 30, 1000),
        alphaAtLeastBeta: fc.boolean(),
        y: logUniform(1e-15, 0.5),
      }).map(({ r, s, x, alphaAtLeastBeta, y }) => {
        const a = r + s + x;
        return [a, alphaAtLeastBeta ? s + 1 : r + x, 1 - y] as [number, number, number];
      }),
      { seed: 20_261_201, numRuns: 60 },
    );
    // Act
    const script = spawnSync(process.env.MOTO_PYTHON ?? 'python3', [join(FIXTURES, 'hyp2f1_next_reference.py')], {
      input: JSON.stringify(points),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (script.status !== 0) throw new Error(`hyp2f1_next_reference.py failed: ${script.stderr}`);
    const references = (JSON.parse(script.stdout) as string[][]).map((row) => row.map(Number));
    // Assess: the series as log2F1; the fraction to ~3e-11 with z near 1; the continuation's differences to ~1e-6.
    const failures: string[] = [];
    points.forEach(([a, b, z], i) => {
      const partials = new Float64Array(4);
      const budget = new TermBudget(MAX_TERMS);
      const value = log2F1NextWithPartials(a, b, z, partials, 1 - z, budget);
      const reference = references[i]!;
      if (Number.isNaN(value)) {
        if (!(a * b > 1e5)) failures.push(`NaN at a=${a}, b=${b}, z=${z}`);
        return;
      }
      const off = (k: number, actual: number): number => Math.abs(actual - reference[k]!) / Math.max(1, Math.abs(reference[k]!));
      if (off(0, value) > 5e-11) failures.push(`ln F at a=${a}, b=${b}, z=${z}: ${value} vs ${reference[0]}`);
      for (let k = 0; k < 3; k++) if (off(k + 1, partials[k]!) > 2e-6) failures.push(`partial ${k} at a=${a}, b=${b}, z=${z}: ${partials[k]} vs ${reference[k + 1]}`);
    });
    expect(failures).toEqual([]);
  }, 600_000);
});
