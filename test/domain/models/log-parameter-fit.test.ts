import { describe, expect, it } from 'vitest';
import { minimiseBfgs, type ObjectiveWithGradient } from '../../../lambdas/clv-job/domain/math/optimise.js';
import { concludeLogParameterFit } from '../../../lambdas/clv-job/domain/models/log-parameter-fit.js';

const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

/** The estimate every objective below has its minimum at: (u, v) = (2, 3), θ = (ln 2, ln 3). */
const OPTIMUM = [Math.log(2), Math.log(3)] as const;

/**
 * −LL/N = ½ (d_u − d_v)² + ½ ε (d_u + d_v)², d = θ − ln(2, 3): a ridge along d_u = d_v whose
 * curvature ε → 0 leaves u and v together unidentified. Its Hessian is [[1 + ε, ε − 1], [ε − 1, 1 + ε]],
 * with inverse diagonal (1 + ε) / 4ε: with N = 1, the log standard error of u and of v is √((1 + ε) / 4ε).
 */
const ridge =
  (epsilon: number): ObjectiveWithGradient =>
  (theta, gradient) => {
    const du = theta[0]! - OPTIMUM[0];
    const dv = theta[1]! - OPTIMUM[1];
    gradient[0] = du - dv + epsilon * (du + dv);
    gradient[1] = dv - du + epsilon * (du + dv);
    return 0.5 * (du - dv) ** 2 + 0.5 * epsilon * (du + dv) ** 2;
  };

const conclude = (epsilon: number) => {
  const objective = ridge(epsilon);
  return concludeLogParameterFit({
    names: ['u', 'v'],
    run: minimiseBfgs(objective, [0, 0]),
    objective,
    totalWeight: 1,
    customers: 1,
    guess: { u: 1, v: 1 },
    paramsOf: (theta) => ({ u: Math.exp(theta[0]!), v: Math.exp(theta[1]!) }),
    logLikelihoodOf: (f) => -f,
    logLikelihoodAt: () => 0,
  });
};

describe('a fit on a ridge of the likelihood', () => {
  it('is trusted while every log standard error is at most 5: ε = 1/98 gives √(99/4) = 4.975, se(u) = 2 × 4.975', () => {
    const fit = conclude(1 / 98);
    expect(fit.diagnostics.converged, fit.diagnostics.message).toBe(true);
    expect(relative(fit.params.u, 2)).toBeLessThan(1e-8);
    expect(relative(fit.standardErrors!.u, 2 * Math.sqrt(99 / 4))).toBeLessThan(1e-6);
    expect(relative(fit.standardErrors!.v, 3 * Math.sqrt(99 / 4))).toBeLessThan(1e-6);
  });

  it.each([
    ['just past the limit: ε = 1/100 gives √(101/4) = 5.025', 1 / 100, '5.025'],
    ['far along: ε = 1e−4 gives √(10001/4) = 50.00', 1e-4, '50'],
  ])('is not trusted, naming the parameters and their log standard errors, %s', (_, epsilon, logSe) => {
    const fit = conclude(epsilon);
    expect(fit.diagnostics.converged).toBe(false);
    expect(fit.diagnostics.message).toMatch(new RegExp(`^the data do not identify u, v, on a ridge of the likelihood: log standard errors ${logSe}, ${logSe} > 5 \\(`));
    expect(fit.standardErrors).toBeNull();
    expect(fit.logCovariance).toBeNull();
    // the estimate is still reported (finite), as for a fit that ran toward the boundary
    expect(relative(fit.params.v, 3)).toBeLessThan(1e-6);
  });

  it('is not trusted when the ridge is exactly flat (ε = 0: the observed information is singular)', () => {
    const fit = conclude(0);
    expect(fit.diagnostics.converged).toBe(false);
    expect(fit.diagnostics.message).toMatch(/^the observed information is not positive definite at the estimate: the data do not identify the model/);
    expect(fit.standardErrors).toBeNull();
  });
});
