import { describe, expect, it } from 'vitest';
import {
  hessianFromGradient,
  invertSymmetricPositiveDefinite,
  minimiseBfgs,
  type ObjectiveWithGradient,
} from '../../../lambdas/clv-job/domain/math/optimise.js';

const rosenbrock: ObjectiveWithGradient = (x, g) => {
  const [a, b] = [x[0]!, x[1]!];
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};

/** ½ xᵀAx − cᵀx with a fixed, badly conditioned symmetric positive-definite A (condition ~1e4). */
const A = [
  [1e4, 10, 0, 1],
  [10, 50, 2, 0],
  [0, 2, 3, 0.5],
  [1, 0, 0.5, 1],
];
const c = [1, -2, 3, 0.5];
const quadratic: ObjectiveWithGradient = (x, g) => {
  let f = 0;
  for (let i = 0; i < 4; i++) {
    let ax = 0;
    for (let j = 0; j < 4; j++) ax += A[i]![j]! * x[j]!;
    g[i] = ax - c[i]!;
    f += 0.5 * x[i]! * ax - c[i]! * x[i]!;
  }
  return f;
};

describe('BFGS minimiser', () => {
  it('finds the minimum of the Rosenbrock function from the classic start (−1.2, 1)', () => {
    // Act
    const result = minimiseBfgs(rosenbrock, [-1.2, 1]);
    // Assess
    expect(result.converged).toBe(true);
    expect(result.message).toMatch(/gradient norm/);
    expect(result.x[0]).toBeCloseTo(1, 8);
    expect(result.x[1]).toBeCloseTo(1, 8);
    expect(result.gradientNorm).toBeLessThanOrEqual(1e-9);
    expect(result.iterations).toBeLessThan(100);
  });

  it('solves a badly conditioned quadratic, whose minimiser is A⁻¹c', () => {
    // Prepare
    const inverse = invertSymmetricPositiveDefinite(A.flat(), 4)!;
    const solution = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].reduce((s, j) => s + inverse[i * 4 + j]! * c[j]!, 0));
    // Act
    const result = minimiseBfgs(quadratic, [0, 0, 0, 0], { gradientTolerance: 1e-12 });
    // Assess
    expect(result.converged).toBe(true);
    solution.forEach((v, i) => expect(result.x[i]).toBeCloseTo(v, 10));
  });

  it('steps back from where the objective is not finite (f = x − ln x, undefined for x <= 0)', () => {
    // Prepare
    const barrier: ObjectiveWithGradient = (x, g) => {
      g[0] = 1 - 1 / x[0]!;
      return x[0]! > 0 ? x[0]! - Math.log(x[0]!) : Number.POSITIVE_INFINITY;
    };
    // Act
    const result = minimiseBfgs(barrier, [20]);
    // Assess
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 8);
  });

  it('says it did not converge when the iteration budget runs out', () => {
    const result = minimiseBfgs(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBe(3);
    expect(result.message).toMatch(/no convergence in 3 iterations/);
  });

  it('says it did not converge when the objective is not finite at the start, without throwing', () => {
    const result = minimiseBfgs(() => Number.NaN, [1, 2]);
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/not finite at the starting point/);
  });

  it('stops on the relative change of the objective when that is all that is left to measure', () => {
    // Prepare: |x|^1.5 has a gradient that vanishes only at 0, where its curvature is infinite.
    const cusp: ObjectiveWithGradient = (x, g) => {
      const v = x[0]!;
      g[0] = 1.5 * Math.sign(v) * Math.sqrt(Math.abs(v));
      return Math.abs(v) ** 1.5;
    };
    // Act
    const result = minimiseBfgs(cusp, [3], { gradientTolerance: 0, functionTolerance: 1e-12 });
    // Assess
    expect(result.converged).toBe(true);
    expect(result.message).toMatch(/relative change/);
    expect(Math.abs(result.x[0]!)).toBeLessThan(1e-3);
  });

  it('leaves the starting point it was given untouched', () => {
    const start = Float64Array.of(-1.2, 1);
    minimiseBfgs(rosenbrock, start);
    expect(Array.from(start)).toEqual([-1.2, 1]);
  });
});

/**
 * ½(x₀² + 10⁴ x₁²) with its gradient off by up to 1e−4, a different amount at every point, as the
 * gradient of a likelihood summed over many rows is near its optimum (a difference of sums far larger
 * than itself, rounded). Value and gradient disagree by less than f can resolve, so the line search
 * stalls with max|g| ~1e−5, far above the gradient tolerance.
 */
const noisyValley =
  (amplitude: number): ObjectiveWithGradient =>
  (x, g) => {
    const noise = (i: number): number => {
      const s = Math.sin(x[0]! * 12_345.678 + x[1]! * 98_765.4321 + i * 7.7) * 43_758.5453;
      return amplitude * (s - Math.floor(s) - 0.5);
    };
    g[0] = x[0]! + noise(0);
    g[1] = 1e4 * x[1]! + noise(1);
    return 0.5 * (x[0]! ** 2 + 1e4 * x[1]! ** 2);
  };
/** Only a stall can end these runs: the gradient never reaches 0 and f's change is not looked at. */
const stallOnly = { gradientTolerance: 0, functionTolerance: 0 } as const;

describe('BFGS minimiser at a minimum the objective cannot resolve', () => {
  it('counts a stall as converged when the Newton step would gain nothing f can show', () => {
    // Act
    const result = minimiseBfgs(noisyValley(1e-4), [1, 1], stallOnly);
    // Assess
    expect(result.gradientNorm).toBeGreaterThan(1e-9);
    expect(result.converged).toBe(true);
    expect(result.message).toMatch(/no further decrease at an interior minimum/);
    expect(Math.abs(result.x[0]!)).toBeLessThan(1e-4);
    expect(Math.abs(result.x[1]!)).toBeLessThan(1e-6);
  });

  it('reports the same stall as not converged when no gain at all is tolerated', () => {
    const result = minimiseBfgs(noisyValley(1e-4), [1, 1], { ...stallOnly, stallTolerance: 0 });
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/line search found no decrease/);
  });
});

describe('Hessian by central differences of the gradient', () => {
  it('recovers the matrix of a quadratic', () => {
    // Act
    const hessian = hessianFromGradient(quadratic, [0.3, -0.2, 1, 2]);
    // Assess
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(hessian[i * 4 + j]).toBeCloseTo(A[i]![j]!, 6);
  });

  it('matches the analytic Hessian of the Rosenbrock function at its minimum', () => {
    const hessian = hessianFromGradient(rosenbrock, [1, 1]);
    expect(Array.from(hessian).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([802, -400, -400, 200]);
  });
});

describe('inverse of a symmetric positive-definite matrix', () => {
  it('gives A A⁻¹ = I', () => {
    // Act
    const inverse = invertSymmetricPositiveDefinite(A.flat(), 4)!;
    // Assess
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const product = [0, 1, 2, 3].reduce((s, k) => s + A[i]![k]! * inverse[k * 4 + j]!, 0);
        expect(product).toBeCloseTo(i === j ? 1 : 0, 10);
      }
    }
  });

  it.each([
    ['indefinite', [1, 2, 2, 1]],
    ['singular', [1, 1, 1, 1]],
    ['not finite', [1, Number.NaN, Number.NaN, 1]],
  ])('returns null for a %s matrix (no standard errors rather than wrong ones)', (_, matrix) => {
    expect(invertSymmetricPositiveDefinite(matrix, 2)).toBeNull();
  });
});
