/**
 * What the three maximum-likelihood fits (BG/NBD, Pareto/NBD, Gamma-Gamma) do once their optimiser
 * has stopped: decide whether the estimate can be trusted, and turn the observed information into
 * standard errors. Each fit minimises −LL/N over θ = the logs of its (rescaled) parameters, so one
 * set of rules serves all three.
 */
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
  /** Delta-method standard errors from the inverse observed information; null if it is not positive definite or the fit is not trusted. */
  readonly standardErrors: P | null;
  /** Asymptotic covariance of the log-parameters, k×k row-major in the order of the parameters; null with the standard errors. */
  readonly logCovariance: Float64Array | null;
  readonly diagnostics: FitDiagnostics;
  /** Σ weight: customers the fit saw. */
  readonly customers: number;
}

/** A scaled log-parameter beyond ±LOG_PARAM_LIMIT means the likelihood keeps rising toward a boundary. */
export const LOG_PARAM_LIMIT = 18;

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
 * data do not identify the model), the run converged, `reject` finds nothing and the log-likelihood
 * is finite. Otherwise it says why (`diagnostics.message`) with finite parameters and no standard
 * errors. A trusted fit's standard errors are the delta method on the inverse observed information
 * in θ: N times the Hessian of −LL/N by central differences of its analytic gradient (2k gradient
 * evaluations, ~1e−10 relative), se(p_k) = p_k √(Σ_kk).
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
  let standardErrors: Record<K, number> | null = null;
  if (covariance !== null) {
    const se = { ...params };
    names.forEach((k, i) => {
      se[k] = params[k] * Math.sqrt(covariance[i * n + i]!);
    });
    standardErrors = se;
  }
  return {
    params,
    logLikelihood,
    standardErrors,
    logCovariance: covariance,
    diagnostics: { converged: true, iterations: run.iterations, gradientNorm: run.gradientNorm, message: run.message },
    customers,
  };
};
