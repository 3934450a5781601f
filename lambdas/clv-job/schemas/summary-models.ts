/**
 * The `models` section of `summary.json`: what was fitted, how well, and with which settings the
 * predictions were made. Field names are snake_case like the rest of the summary. zod 4 numbers
 * reject NaN and ±Infinity, which is the point: a fit never reports a non-finite value.
 */
import { z } from 'zod';
import { timeUnitSchema } from '../config.js';
import type { BgNbdFit } from '../domain/models/bg-nbd.js';
import type { ClvSettings } from '../domain/models/clv.js';
import type { GammaGammaFit } from '../domain/models/gamma-gamma.js';

const positive = z.number().positive();

export const convergenceSchema = z.strictObject({
  /** False when the fit must not be used for predictions (see `message`). */
  converged: z.boolean(),
  iterations: z.number().int().nonnegative(),
  /** max |gradient| of the mean log-likelihood in log-parameters at the estimate. */
  gradient_norm: z.number().nonnegative(),
  message: z.string(),
});
export type ConvergenceSummary = z.infer<typeof convergenceSchema>;

const bgnbdParamsSchema = z.strictObject({ r: positive, alpha: positive, a: positive, b: positive });

export const bgnbdSummarySchema = z.strictObject({
  ...bgnbdParamsSchema.shape,
  log_likelihood: z.number(),
  /** Asymptotic standard errors; null when the information matrix is not positive definite or the fit is not trusted. */
  standard_errors: bgnbdParamsSchema.nullable(),
  /** Customers the fit saw (Σ weights of the distinct patterns). */
  customers: z.number().nonnegative(),
  convergence: convergenceSchema,
});
export type BgNbdSummary = z.infer<typeof bgnbdSummarySchema>;

const gammaGammaParamsSchema = z.strictObject({ p: positive, q: positive, gamma: positive });

export const gammaGammaSummarySchema = z.strictObject({
  ...gammaGammaParamsSchema.shape,
  log_likelihood: z.number(),
  standard_errors: gammaGammaParamsSchema.nullable(),
  /** Repeat buyers with positive spend the fit used. */
  customers: z.number().nonnegative(),
  convergence: convergenceSchema,
  /** p γ / (q − 1); null when q ≤ 1 (infinite). */
  population_mean_order_value: z.number().nonnegative().nullable(),
});
export type GammaGammaSummary = z.infer<typeof gammaGammaSummarySchema>;

export const modelsSummarySchema = z.strictObject({
  /** Unit of the BG/NBD time parameters (alpha) and of `horizon`. */
  time_unit: timeUnitSchema,
  horizon: z.number().nonnegative(),
  /** Annual. */
  discount_rate: z.number(),
  margin: z.number(),
  /** Both fits converged: the predictive columns are filled. */
  trusted: z.boolean(),
  bgnbd: bgnbdSummarySchema,
  gamma_gamma: gammaGammaSummarySchema,
});
export type ModelsSummary = z.infer<typeof modelsSummarySchema>;

const convergenceOf = (d: { converged: boolean; iterations: number; gradientNorm: number; message: string }): ConvergenceSummary => ({
  converged: d.converged,
  iterations: d.iterations,
  gradient_norm: d.gradientNorm,
  message: d.message,
});

/** The `models` section for two fits and the settings predictions used. */
export const modelsSummaryOf = (bgnbd: BgNbdFit, gammaGamma: GammaGammaFit, settings: ClvSettings): ModelsSummary => {
  const { p, q, gamma } = gammaGamma.params;
  return {
    time_unit: settings.timeUnit,
    horizon: settings.horizon,
    discount_rate: settings.discountRate,
    margin: settings.margin,
    trusted: bgnbd.diagnostics.converged && gammaGamma.diagnostics.converged,
    bgnbd: {
      ...bgnbd.params,
      log_likelihood: bgnbd.logLikelihood,
      standard_errors: bgnbd.standardErrors,
      customers: bgnbd.customers,
      convergence: convergenceOf(bgnbd.diagnostics),
    },
    gamma_gamma: {
      p,
      q,
      gamma,
      log_likelihood: gammaGamma.logLikelihood,
      standard_errors: gammaGamma.standardErrors,
      customers: gammaGamma.customers,
      convergence: convergenceOf(gammaGamma.diagnostics),
      population_mean_order_value: q > 1 ? (p * gamma) / (q - 1) : null,
    },
  };
};
