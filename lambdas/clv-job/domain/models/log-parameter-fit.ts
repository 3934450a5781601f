/**
 * What the three maximum-likelihood fits (BG/NBD, Pareto/NBD, Gamma-Gamma) do once their optimiser
 * has stopped: decide whether the estimate can be trusted, and turn the observed information into
 * standard errors. Each fit minimises −LL/N over θ = the logs of its (rescaled) parameters, so one
 * set of rules serves all three.
 */
import { figure } from '../figure.js';
import { hessianFromGradient, invertSymmetricPositiveDefinite, type MinimiseResult, type ObjectiveWithGradient } from '../math/optimise.js';

export interface FitDiagnostics {
  readonly converged: boolean;
  readonly iterations: number;
  /** max |∂(−LL/N)/∂ ln θ| at the estimate: the mean log-likelihood's gradient in log-parameters. */
  readonly gradientNorm: number;
  readonly message: string;
}

/** A fit's result: parameters P (an object of named positive numbers), in the caller's units. */
export interface LogParameterFit<P> {
  readonly params: P;
  readonly logLikelihood: number;
  /** Delta-method standard errors from the inverse observed information; null when the fit is not trusted. */
  readonly standardErrors: P | null;
  /** Asymptotic covariance of the log-parameters, k×k row-major in the order of the parameters; null with the standard errors. */
  readonly logCovariance: Float64Array | null;
  readonly diagnostics: FitDiagnostics;
  /** Σ weight: customers the fit saw. */
  readonly customers: number;
}

/** A scaled log-parameter beyond ±LOG_PARAM_LIMIT means the likelihood keeps rising toward a boundary. */
export const LOG_PARAM_LIMIT = 18;

/**
 * A log standard error above MAX_LOG_STANDARD_ERROR means the data do not identify that parameter:
 * its 95% interval spans a factor of more than e^(1.96 × 5) ≈ 18,000 either way. The fits of the
 * published data sets stay below 1 (CDNOW below 0.6, apparel 0.93), those of the equity-coverage
 * test's 200 simulated bases of 600 customers below 3.5, while fits on a likelihood ridge (e.g. BG/NBD
 * a, b ~ 2e7 on 44 customers) show 5.2 to several hundred, or no positive-definite information at
 * all: the curvature along the ridge is lost in the rounding of the numerical Hessian.
 */
export const MAX_LOG_STANDARD_ERROR = 5;

/** A fit reported as not trusted: the given parameters, their log-likelihood (0 when not finite), no standard errors. */
export const untrustedFit = <P>(params: P, logLikelihood: number, customers: number, message: string, iterations = 0, gradientNorm = Number.NaN): LogParameterFit<P> => ({
  params,
  logLikelihood: Number.isFinite(logLikelihood) ? logLikelihood : 0,
  standardErrors: null,
  logCovariance: null,
  diagnostics: { converged: false, iterations, gradientNorm: Number.isFinite(gradientNorm) ? gradientNorm : 0, message },
  customers,
});

export interface ConcludeFitOptions<K extends string> {
  /** Parameter names, in the order of θ. */
  readonly names: readonly K[];
  /** The optimiser's run on the objective. */
  readonly run: MinimiseResult;
  /** −LL/N and its gradient in θ: the Hessian of the standard errors is taken on it. */
  readonly objective: ObjectiveWithGradient;
  /** N: the objective is a mean over this many customers. */
  readonly totalWeight: number;
  readonly customers: number;
  /** The starting point, reported when the optimiser ends outside the parameter space. */
  readonly guess: Readonly<Record<K, number>>;
  /** θ → the parameters in the caller's units (undoing the rescaling). */
  readonly paramsOf: (theta: Float64Array) => Record<K, number>;
  /** The log-likelihood in the caller's units, from the objective's minimum −LL/N. */
  readonly logLikelihoodOf: (meanNegativeLogLikelihood: number) => number;
  /** The exact log-likelihood of parameters reported as untrusted. */
  readonly logLikelihoodAt: (params: Readonly<Record<K, number>>) => number;
  /** A model's own reason not to trust a converged estimate (e.g. an infinite mean), or null. */
  readonly reject?: (params: Readonly<Record<K, number>>) => string | null;
}

/**
 * The fit from a finished run, trusted only when every parameter is positive and finite, no scaled
 * log-parameter is beyond ±{@link LOG_PARAM_LIMIT} (the likelihood rising toward a boundary: the
 * data do not identify the model), the run converged, `reject` finds nothing, the log-likelihood
 * is finite, and the data identify every parameter: the observed information is positive definite
 * and no log standard error √(Σ_kk) exceeds {@link MAX_LOG_STANDARD_ERROR} (an estimate on a ridge of
 * the likelihood). Otherwise it says why (`diagnostics.message`) with finite parameters and no
 * standard errors. A trusted fit's standard errors are the delta method on the inverse observed
 * information in θ: Σ = (N times the Hessian of −LL/N by central differences of its analytic
 * gradient: 2k gradient evaluations, ~1e−10 relative)⁻¹, se(p_k) = p_k √(Σ_kk).
 */
export const concludeLogParameterFit = <K extends string>(options: ConcludeFitOptions<K>): LogParameterFit<Record<K, number>> => {
  const { names, run, customers } = options;
  const theta = run.x;
  const params = options.paramsOf(theta);
  const untrusted = (reported: Readonly<Record<K, number>>, message: string): LogParameterFit<Record<K, number>> =>
    untrustedFit({ ...reported }, options.logLikelihoodAt(reported), customers, message, run.iterations, run.gradientNorm);
  if (!names.every((k) => Number.isFinite(params[k]) && params[k] > 0)) return untrusted(options.guess, `optimiser left the parameter space (${run.message})`);
  const runaway = names.filter((_, i) => Math.abs(theta[i]!) > LOG_PARAM_LIMIT);
  if (runaway.length > 0) {
    return untrusted(params, `${runaway.join(', ')} ran toward the boundary of the parameter space: the data do not identify the model (${run.message})`);
  }
  if (!run.converged) return untrusted(params, run.message);
  const rejected = options.reject?.(params) ?? null;
  if (rejected !== null) return untrusted(params, rejected);
  const logLikelihood = options.logLikelihoodOf(run.value);
  if (!Number.isFinite(logLikelihood)) return untrusted(options.guess, 'log-likelihood is not finite at the estimate');

  const n = names.length;
  const covariance = invertSymmetricPositiveDefinite(
    hessianFromGradient(options.objective, theta).map((v) => v * options.totalWeight),
    n,
  );
  if (covariance === null) return untrusted(params, `the observed information is not positive definite at the estimate: the data do not identify the model (${run.message})`);
  const logStandardErrors = names.map((_, i) => Math.sqrt(covariance[i * n + i]!));
  const vague = names.flatMap((k, i) => (logStandardErrors[i]! <= MAX_LOG_STANDARD_ERROR ? [] : [{ k, se: figure(logStandardErrors[i]!) }]));
  if (vague.length > 0) {
    return untrusted(
      params,
      `the data do not identify ${vague.map((v) => v.k).join(', ')}, on a ridge of the likelihood: log standard error${vague.length > 1 ? 's' : ''} ${vague.map((v) => v.se).join(', ')} > ${MAX_LOG_STANDARD_ERROR} (${run.message})`,
    );
  }
  const standardErrors = { ...params };
  names.forEach((k, i) => {
    standardErrors[k] = params[k] * logStandardErrors[i]!;
  });
  return {
    params,
    logLikelihood,
    standardErrors,
    logCovariance: covariance,
    diagnostics: { converged: true, iterations: run.iterations, gradientNorm: run.gradientNorm, message: run.message },
    customers,
  };
};
