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
import type { ParetoNbdFit } from '../domain/models/pareto-nbd.js';
import { TRANSACTION_MODELS } from '../domain/models/transaction-model.js';
import { TRANSACTION_MODEL_OPTIONS } from '../config.js';

const positive = z.number().positive();

export const convergenceSchema = z.object({
  /** False when the fit must not be used for predictions (see `message`). */
  converged: z.boolean(),
  iterations: z.number().int().nonnegative(),
  /** max |gradient| of the mean log-likelihood in log-parameters at the estimate. */
  gradient_norm: z.number().nonnegative(),
  message: z.string(),
});
export type ConvergenceSummary = z.infer<typeof convergenceSchema>;

/**
 * A fitted parameter, or null when the fit is not trusted: where an optimiser stopped without
 * converging (often its starting point) is never shown as an estimate.
 */
const estimate = positive.nullable();
/** The log-likelihood at the estimate; null when the fit is not trusted. */
const logLikelihood = z.number().nullable();

const bgnbdParamsSchema = z.object({ r: positive, alpha: positive, a: positive, b: positive });

export const bgnbdSummarySchema = z.object({
  r: estimate,
  alpha: estimate,
  a: estimate,
  b: estimate,
  log_likelihood: logLikelihood,
  /** Asymptotic standard errors; null when the information matrix is not positive definite or the fit is not trusted. */
  standard_errors: bgnbdParamsSchema.nullable(),
  /** Customers the fit saw (Σ weights of the distinct patterns). */
  customers: z.number().nonnegative(),
  convergence: convergenceSchema,
});
export type BgNbdSummary = z.infer<typeof bgnbdSummarySchema>;

const gammaGammaParamsSchema = z.object({ p: positive, q: positive, gamma: positive });

export const gammaGammaSummarySchema = z.object({
  p: estimate,
  q: estimate,
  gamma: estimate,
  log_likelihood: logLikelihood,
  standard_errors: gammaGammaParamsSchema.nullable(),
  /** Repeat buyers with positive spend the fit used. */
  customers: z.number().nonnegative(),
  convergence: convergenceSchema,
  /** p γ / (q − 1); null when q ≤ 1 (infinite) or the fit is not trusted. */
  population_mean_order_value: z.number().nonnegative().nullable(),
});
export type GammaGammaSummary = z.infer<typeof gammaGammaSummarySchema>;

const paretoNbdParamsSchema = z.object({ r: positive, alpha: positive, s: positive, beta: positive });

export const paretoNbdSummarySchema = z.object({
  r: estimate,
  alpha: estimate,
  s: estimate,
  beta: estimate,
  log_likelihood: logLikelihood,
  /** Asymptotic standard errors; null when the information matrix is not positive definite or the fit is not trusted. */
  standard_errors: paretoNbdParamsSchema.nullable(),
  customers: z.number().nonnegative(),
  convergence: convergenceSchema,
});
export type ParetoNbdSummary = z.infer<typeof paretoNbdSummarySchema>;

const candidateSchema = z.object({
  converged: z.boolean(),
  /** Per-customer root-mean-squared error of holdout purchases; null when the calibration fit was not trusted. */
  root_mean_squared_error: z.number().nonnegative().nullable(),
  mean_absolute_error: z.number().nonnegative().nullable(),
});

/** How the transaction model was chosen: as configured, or (`auto`) by the smaller holdout error. */
export const modelChoiceSchema = z.object({
  requested: z.enum(TRANSACTION_MODEL_OPTIONS),
  chosen: z.enum(TRANSACTION_MODELS),
  reason: z.string(),
  /** The calibration / holdout comparison behind an `auto` choice; null when none was run. */
  holdout: z
    .object({
      calibration_end: z.string(),
      holdout_end: z.string(),
      /** In `time_unit`s. */
      holdout_length: z.number().nonnegative(),
      customers: z.number().int().nonnegative(),
      metric: z.literal('root_mean_squared_error'),
      bgnbd: candidateSchema,
      pnbd: candidateSchema,
    })
    .nullable(),
});
export type ModelChoiceSummary = z.infer<typeof modelChoiceSchema>;

export const modelsSummarySchema = z.object({
  /** Unit of the BG/NBD time parameters (alpha) and of `horizon`. */
  time_unit: timeUnitSchema,
  horizon: z.number().nonnegative(),
  /** Annual. */
  discount_rate: z.number(),
  margin: z.number(),
  /** The transaction model and the Gamma-Gamma converged: the predictive columns are filled. */
  trusted: z.boolean(),
  /** The transaction model the predictions use. */
  transactions: z.enum(TRANSACTION_MODELS),
  choice: modelChoiceSchema,
  bgnbd: bgnbdSummarySchema,
  /** Present when the Pareto/NBD was fitted (`model.transactions` pnbd or auto). */
  pareto_nbd: paretoNbdSummarySchema.optional(),
  gamma_gamma: gammaGammaSummarySchema,
  /**
   * How the 90% prediction intervals (`predicted_clv_p05`/`p95` and the other bounds, `totals`'
   * equity interval) were drawn: `draws` parameter draws (`model.intervalDraws`) from the seed
   * `seed` (`model.intervalSeed`); the same seed and input give the same intervals. Null when the
   * run has no intervals (`model.intervalDraws` 0, a fit not trusted, or no information matrix to
   * draw from). Absent before schema 2.4.0.
   */
  intervals: z.object({ draws: z.number().int().min(1), seed: z.number().int().nonnegative() }).nullable().optional(),
});
export type ModelsSummary = z.infer<typeof modelsSummarySchema>;

const convergenceOf = (d: { converged: boolean; iterations: number; gradientNorm: number; message: string }): ConvergenceSummary => ({
  converged: d.converged,
  iterations: d.iterations,
  gradient_norm: d.gradientNorm,
  message: d.message,
});

/** The configured choice, when no holdout comparison ran. */
export const configuredChoice = (requested: 'bgnbd' | 'pnbd'): ModelChoiceSummary => ({
  requested,
  chosen: requested,
  reason: `configured: model.transactions = ${requested}`,
  holdout: null,
});

/** The `models` section for the fits and the settings predictions used; BG/NBD choice by default. */
export const modelsSummaryOf = (
  bgnbd: BgNbdFit,
  gammaGamma: GammaGammaFit,
  settings: ClvSettings,
  paretoNbd: ParetoNbdFit | null = null,
  choice: ModelChoiceSummary = configuredChoice('bgnbd'),
): ModelsSummary => {
  // a fit that did not converge shows no parameters, log-likelihood or standard errors: only why
  const shown = <T extends object>(fit: { diagnostics: { converged: boolean }; params: T; logLikelihood: number; standardErrors: T | null }) =>
    fit.diagnostics.converged
      ? { ...fit.params, log_likelihood: fit.logLikelihood, standard_errors: fit.standardErrors }
      : { ...(Object.fromEntries(Object.keys(fit.params).map((k) => [k, null])) as { [K in keyof T]: null }), log_likelihood: null, standard_errors: null };
  const { p, q, gamma } = gammaGamma.params;
  const transactions = choice.chosen;
  const transactionsConverged = transactions === 'pnbd' ? paretoNbd?.diagnostics.converged === true : bgnbd.diagnostics.converged;
  return {
    time_unit: settings.timeUnit,
    horizon: settings.horizon,
    discount_rate: settings.discountRate,
    margin: settings.margin,
    trusted: transactionsConverged && gammaGamma.diagnostics.converged,
    transactions,
    choice,
    ...(paretoNbd === null
      ? {}
      : {
          pareto_nbd: {
            ...shown(paretoNbd),
            customers: paretoNbd.customers,
            convergence: convergenceOf(paretoNbd.diagnostics),
          },
        }),
    bgnbd: {
      ...shown(bgnbd),
      customers: bgnbd.customers,
      convergence: convergenceOf(bgnbd.diagnostics),
    },
    gamma_gamma: {
      ...shown(gammaGamma),
      customers: gammaGamma.customers,
      convergence: convergenceOf(gammaGamma.diagnostics),
      population_mean_order_value: gammaGamma.diagnostics.converged && q > 1 ? (p * gamma) / (q - 1) : null,
    },
  };
};
