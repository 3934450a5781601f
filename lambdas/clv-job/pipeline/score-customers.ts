import type { ModelOptions } from '../config.js';
import type { CustomerScores, CustomerTable } from '../domain/customers.js';
import { gather } from '../domain/math/gather.js';
import { neumaierSum } from '../domain/math/sum.js';
import { fitBgNbd } from '../domain/models/bg-nbd.js';
import {
  checkSpendInput,
  DAYS_PER_UNIT,
  indexPurchases,
  scorePurchasesOn,
  withSpend,
  type ClvSettings,
  type PurchaseIndex,
  type PurchaseScores,
  type Scores,
} from '../domain/models/clv.js';
import { fitGammaGamma } from '../domain/models/gamma-gamma.js';
import { bgnbdDiagnostics, paretoNbdDiagnostics, SINCE_LAST_PURCHASE_EDGES_DAYS } from '../domain/models/diagnostics.js';
import { distinctScorePatterns, spreadToCustomers } from '../domain/models/score-patterns.js';
import { historicalClvColumn } from '../domain/models/historical.js';
import { intervalIndexOn } from '../domain/models/interval-phases.js';
import { fitParetoNbd } from '../domain/models/pareto-nbd.js';
import { intervalsFinite, intervalsInThread, parameterDraws, type CustomerIntervals, type ParameterDraws } from '../domain/models/uncertainty.js';
import { bgnbdTransactionModel, paretoNbdTransactionModel, type TransactionModel } from '../domain/models/transaction-model.js';
import type { ModelParameter } from '../domain/segments/changes.js';
import { configuredChoice, modelsSummaryOf, type ModelChoiceSummary, type ModelsSummary } from '../schemas/summary-models.js';
import type { Diagnostics } from '../schemas/summary-diagnostics.js';
import type { RunWarning, TotalsSection } from '../schemas/summary-run.js';
import type { PatternScoreColumn } from '../schemas/tables.js';
import type { IntervalRunner } from '../ports.js';
import type { BgNbdPatterns, SpendPatterns } from './engine-results.js';

export interface ScoredCustomers {
  readonly scores: CustomerScores;
  /**
   * The model scores per distinct scoring pattern, and each customer's pattern: what the customers
   * table is written from. Only what segmentation reads is spread per customer.
   */
  readonly byPattern: {
    /** Customer i's row in the columns. */
    readonly patternOf: Int32Array;
    /** Distinct patterns (rows of the columns). */
    readonly size: number;
    /** A column is null when the run has none (a fit not trusted, intervals off). */
    readonly columns: Readonly<Record<PatternScoreColumn, Float64Array | null>>;
  };
  readonly models: ModelsSummary;
  readonly totals: TotalsSection;
  readonly warnings: RunWarning[];
  /** One line for progress output. */
  readonly statusMessage: string;
  /** The predicting transaction model's fit against its own data, for the report; null when that fit is not trusted. */
  readonly diagnostics: Diagnostics | null;
}

const divide = (values: Float64Array, by: number): Float64Array => (by === 1 ? values : values.map((v) => v / by));

/** Both fits, with what the summary says about them: the first half of the model stage. */
export interface FittedModels {
  readonly bgnbd: ReturnType<typeof fitBgNbd>;
  /** Fitted when `model.transactions` is pnbd or auto. */
  readonly paretoNbd: ReturnType<typeof fitParetoNbd> | null;
  /** The transaction model the predictions use, from the chosen fit. */
  readonly transactions: TransactionModel;
  readonly gammaGamma: ReturnType<typeof fitGammaGamma>;
  readonly settings: ClvSettings;
  readonly models: ModelsSummary;
  readonly warnings: readonly RunWarning[];
  /** The predicting transaction model's fit against its own data, for the report; null when that fit is not trusted. */
  readonly diagnostics: Diagnostics | null;
}

/**
 * Fits the BG/NBD (always: the summary and the diagnostics carry it), the Pareto/NBD when
 * `model.transactions` asks for it (pnbd, or auto), and the Gamma-Gamma, on the engine's distinct
 * patterns weighted by how many customers share each: the cost follows the number of patterns, not
 * of customers. `choice` says which transaction model predicts; by default the configured one
 * (auto without a comparison keeps the BG/NBD). The Pareto/NBD is fitted by `runner` when it can
 * (a worker thread, while this one fits the others: the same fit), else here; when no Pareto/NBD is
 * fitted, the Gamma-Gamma likewise, while this thread fits the BG/NBD.
 */
export const fitModels = async (
  bgnbdPatterns: BgNbdPatterns,
  spendPatterns: SpendPatterns,
  options: ModelOptions,
  requestedChoice: ModelChoiceSummary = configuredChoice(options.transactions === 'pnbd' ? 'pnbd' : 'bgnbd'),
  runner?: IntervalRunner,
): Promise<FittedModels> => {
  const unit = DAYS_PER_UNIT[options.timeUnit];
  const bgnbdData = {
    x: bgnbdPatterns.frequency,
    tx: divide(bgnbdPatterns.recencyDays, unit),
    T: divide(bgnbdPatterns.tenureDays, unit),
    weight: bgnbdPatterns.customers,
  };
  // the fits run on days and report in the unit: the same search, bit for bit, in weeks or in days (FitTimeOptions)
  const fitData = { x: bgnbdPatterns.frequency, tx: bgnbdPatterns.recencyDays, T: bgnbdPatterns.tenureDays, weight: bgnbdPatterns.customers };
  const fitTime = { unitDays: unit };
  const spendData = { x: spendPatterns.frequency, mx: spendPatterns.monetaryValue, weight: spendPatterns.customers };
  const wantParetoNbd = !(options.transactions === 'bgnbd' && requestedChoice.chosen === 'bgnbd');
  // asked for first, so that it runs beside the fits here; with no Pareto/NBD, the Gamma-Gamma does
  const pendingParetoNbd = wantParetoNbd ? (runner?.fitParetoNbd?.(fitData, fitTime) ?? Promise.resolve(fitParetoNbd(fitData, fitTime))) : null;
  const pendingGammaGamma = wantParetoNbd ? null : (runner?.fitGammaGamma?.(spendData) ?? null);
  // awaited below; until then a failure must not count as unhandled should a fit here throw first
  pendingParetoNbd?.catch(() => undefined);
  pendingGammaGamma?.catch(() => undefined);
  const bgnbd = fitBgNbd(fitData, fitTime);
  const gammaGamma = pendingGammaGamma === null ? fitGammaGamma(spendData) : await pendingGammaGamma;
  const paretoNbd = await pendingParetoNbd;
  const choice = settleChoice(requestedChoice, { bgnbd: bgnbd.diagnostics.converged, pnbd: paretoNbd?.diagnostics.converged ?? null });
  const settings: ClvSettings = {
    timeUnit: options.timeUnit,
    horizon: options.horizon,
    discountRate: options.discountRate,
    margin: options.margin,
  };
  const models = modelsSummaryOf(bgnbd, gammaGamma, settings, paretoNbd, choice);
  const warnings: RunWarning[] = [];
  if (!bgnbd.diagnostics.converged) warnings.push({ code: 'bgnbd_untrusted', message: `BG/NBD fit not trusted: ${bgnbd.diagnostics.message}` });
  if (paretoNbd !== null && !paretoNbd.diagnostics.converged) {
    warnings.push({ code: 'pareto_nbd_untrusted', message: `Pareto/NBD fit not trusted: ${paretoNbd.diagnostics.message}` });
  }
  if (!gammaGamma.diagnostics.converged) {
    warnings.push({ code: 'gamma_gamma_untrusted', message: `Gamma-Gamma fit not trusted: ${gammaGamma.diagnostics.message}` });
  }
  // Only a converged fit scores (models.trusted says so); an untrusted one still gets a placeholder here.
  const transactions = choice.chosen === 'pnbd' && paretoNbd?.diagnostics.converged === true ? paretoNbdTransactionModel(paretoNbd.params) : bgnbdTransactionModel(bgnbd.params);
  // the report shows these beside the customers' P(alive): they describe the model that predicts
  const diagnosticsOptions = { sinceLastPurchaseEdges: SINCE_LAST_PURCHASE_EDGES_DAYS.map((d) => d / unit) };
  const diagnostics =
    choice.chosen === 'pnbd'
      ? paretoNbd?.diagnostics.converged === true
        ? paretoNbdDiagnostics(paretoNbd.params, bgnbdData, diagnosticsOptions)
        : null
      : bgnbd.diagnostics.converged
        ? bgnbdDiagnostics(bgnbd.params, bgnbdData, diagnosticsOptions)
        : null;
  return { bgnbd, paretoNbd, transactions, gammaGamma, settings, models, warnings, diagnostics };
};

/**
 * The model that predicts, once both fits on the whole data are known. `auto` chose by the
 * calibration fits; when the chosen model's fit on all the data cannot be trusted and the other's
 * can, the other predicts (a run asked to pick a model should not lose its predictions while one is
 * there), and `reason` says so. A configured model is kept as configured: its failure is reported.
 * `converged.pnbd` is null when the Pareto/NBD was not fitted.
 */
export const settleChoice = (choice: ModelChoiceSummary, converged: { readonly bgnbd: boolean; readonly pnbd: boolean | null }): ModelChoiceSummary => {
  if (choice.requested !== 'auto') return choice;
  const name = { bgnbd: 'BG/NBD', pnbd: 'Pareto/NBD' } as const;
  const other = choice.chosen === 'bgnbd' ? 'pnbd' : 'bgnbd';
  if (converged[choice.chosen] === true || converged[other] !== true) return choice;
  return {
    ...choice,
    chosen: other,
    reason: `${choice.reason}; but the ${name[choice.chosen]} fit on all the data could not be trusted, so the ${name[other]} predicts`,
  };
};

const TOO_UNCERTAIN = 'the fits are too uncertain to draw parameters from';

/**
 * The parameter draws, or why there are none: no positive-definite information matrix, or too few
 * draws any model takes (a fit whose draws leave the doubles). Either way the night is published,
 * without intervals; any other error is a fault and is thrown.
 */
const drawsOrProblem = (draw: () => ParameterDraws | null): ParameterDraws | string => {
  try {
    return draw() ?? 'a fit has no positive-definite information matrix to draw parameters from';
  } catch (error) {
    if (error instanceof RangeError) return `${TOO_UNCERTAIN} (${error.message})`;
    throw error;
  }
};

/** Whether the transaction model the predictions use (FittedModels.transactions) comes from a converged fit. */
const transactionModelTrusted = (fitted: FittedModels): boolean =>
  fitted.models.transactions === 'pnbd' ? fitted.paretoNbd?.diagnostics.converged === true : fitted.bgnbd.diagnostics.converged;

/**
 * The model stage's second half: every customer scored with the fitted models, computed once per
 * distinct (frequency, recency, tenure, monetary value) pattern and spread back to the customers
 * who share it (the same numbers, bit for bit, at a fraction of the cost). A trusted transaction
 * model fills expected purchases and P(alive) even when the Gamma-Gamma cannot be trusted (it does
 * not need the spend model); expected order value and predicted CLV need both. What a fit cannot
 * support stays null (never NaN), the summary says why, and without predicted CLV tiers rank on
 * historical CLV. The intervals are computed by `runner` (in this thread by default; worker threads
 * give the same numbers).
 */
export const scoreCustomers = async (
  customers: CustomerTable,
  fitted: FittedModels,
  options: ModelOptions,
  runner: IntervalRunner = { intervals: async (job) => intervalsInThread(job) },
): Promise<ScoredCustomers> => {
  const historicalClv = historicalClvColumn(customers.totalRevenue, customers.tenureDays, options.lifespanYears);
  const { transactions, gammaGamma, settings, models, diagnostics } = fitted;
  const warnings: RunWarning[] = [...fitted.warnings];

  // every score is a function of (x, recency, tenure, monetary value): score each distinct pattern
  // once, and its transaction part once per distinct (x, recency, tenure) tuple; indexed once for
  // the scores and the intervals alike
  const { patterns, patternOf, tuples, tupleOf } = distinctScorePatterns({
    x: customers.frequency,
    recencyDays: customers.recencyDays,
    tenureDays: customers.tenureDays,
    monetaryValue: customers.monetaryValue,
  });
  const spread = (values: Float64Array): Float64Array => spreadToCustomers(values, patternOf);
  // indexed when first scored: it validates the tuples, and a run without a trusted model scores none
  let tupleIndex: PurchaseIndex | null = null;
  const indexedTuples = (): PurchaseIndex => (tupleIndex ??= indexPurchases(tuples, settings));
  const patternPurchases = (): PurchaseScores => {
    const perTuple = scorePurchasesOn(transactions, indexedTuples());
    return {
      expectedPurchases: gather(perTuple.expectedPurchases, tupleOf),
      probabilityAlive: gather(perTuple.probabilityAlive, tupleOf),
      discountedPurchases: gather(perTuple.discountedPurchases, tupleOf),
    };
  };
  let predicted: Scores | null = null;
  if (models.trusted) {
    try {
      // scoreTuples on the patterns: the same checks in the same order, the same numbers
      checkSpendInput(gammaGamma.params, patterns);
      predicted = withSpend(gammaGamma.params, patterns, patternPurchases(), settings.margin);
    } catch (error) {
      // e.g. q <= 1: a converged fit whose mean spend is infinite cannot price a customer
      warnings.push({ code: 'scoring_failed', message: `predictive CLV not computed: ${(error as Error).message}` });
    }
  }
  const purchases: PurchaseScores | null = predicted ?? (transactionModelTrusted(fitted) ? patternPurchases() : null);
  let intervals: CustomerIntervals | null = null;
  if (predicted !== null && options.intervalDraws > 0) {
    const { bgnbd, paretoNbd } = fitted;
    const chosen = transactions.name === 'pnbd' && paretoNbd !== null ? { name: 'pnbd' as const, fit: paretoNbd } : { name: 'bgnbd' as const, fit: bgnbd };
    const draws = drawsOrProblem(() => parameterDraws(chosen, gammaGamma, { draws: options.intervalDraws, seed: options.intervalSeed }));
    if (typeof draws === 'string') {
      warnings.push({ code: 'no_intervals', message: `no prediction intervals: ${draws}` });
    } else {
      const index = intervalIndexOn(patterns, tupleOf, indexedTuples(), settings.margin, patternOf);
      intervals = await runner.intervals({ transactions: draws.transactionParams, spend: draws.spend, index });
      if (!intervalsFinite(intervals)) {
        intervals = null;
        warnings.push({ code: 'no_intervals', message: `no prediction intervals: ${TOO_UNCERTAIN} (some draws gave customers infinite expected purchases)` });
      }
    }
  }
  if (predicted === null) {
    warnings.push({ code: 'ranking_on_historical_clv', message: 'CLV tiers and equity rank on historical CLV because the predictive models could not be trusted' });
  }
  const predictedClv = predicted === null ? null : spread(predicted.predictedClv);

  const rankingClv = predictedClv ?? historicalClv;
  const scores: CustomerScores = {
    historicalClv,
    probabilityAlive: purchases && spread(purchases.probabilityAlive),
    predictedClv,
    rankingClv,
  };
  const byPattern: ScoredCustomers['byPattern'] = {
    patternOf,
    size: patterns.x.length,
    columns: {
      expected_purchases: purchases?.expectedPurchases ?? null,
      probability_alive: purchases?.probabilityAlive ?? null,
      expected_order_value: predicted?.expectedOrderValue ?? null,
      predicted_clv: predicted?.predictedClv ?? null,
      predicted_clv_p05: intervals?.predictedClv.p05 ?? null,
      predicted_clv_p95: intervals?.predictedClv.p95 ?? null,
      expected_purchases_p05: intervals?.expectedPurchases.p05 ?? null,
      expected_purchases_p95: intervals?.expectedPurchases.p95 ?? null,
      probability_alive_p05: intervals?.probabilityAlive.p05 ?? null,
      probability_alive_p95: intervals?.probabilityAlive.p95 ?? null,
    },
  };
  let repeatCustomers = 0;
  for (let i = 0; i < customers.size; i++) if (customers.frequency[i]! > 0) repeatCustomers += 1;
  const totals: TotalsSection = {
    customers: customers.size,
    revenue: neumaierSum(customers.totalRevenue),
    historical_clv: neumaierSum(historicalClv),
    predicted_clv: predictedClv ? neumaierSum(predictedClv) : null,
    predicted_clv_p05: intervals?.equity.p05 ?? null,
    predicted_clv_p95: intervals?.equity.p95 ?? null,
    ranking_clv: predicted ? 'predicted_clv' : 'historical_clv',
    equity: neumaierSum(rankingClv),
    repeat_customers: repeatCustomers,
  };
  // from the fits: only reached when every fit used converged
  const { r, alpha, a, b } = fitted.bgnbd.params;
  const pn = fitted.paretoNbd?.params;
  const { p, q, gamma } = gammaGamma.params;
  const transactionText =
    models.transactions === 'pnbd' && pn !== undefined
      ? `Pareto/NBD r=${pn.r.toPrecision(4)} alpha=${pn.alpha.toPrecision(4)} s=${pn.s.toPrecision(4)} beta=${pn.beta.toPrecision(4)}`
      : `BG/NBD r=${r.toPrecision(4)} alpha=${alpha.toPrecision(4)} a=${a.toPrecision(4)} b=${b.toPrecision(4)}`;
  const statusMessage = predicted
    ? `${transactionText}; Gamma-Gamma p=${p.toPrecision(4)} q=${q.toPrecision(4)} gamma=${gamma.toPrecision(4)}`
    : 'predictive models not trusted: ranking on historical CLV';
  const drawn = intervals === null ? null : { draws: intervals.draws, seed: options.intervalSeed };
  return { scores, byPattern, models: { ...models, intervals: drawn }, totals, warnings, statusMessage, diagnostics };
};

/**
 * Fitted parameters with their standard errors, by name, for night-over-night comparison; only
 * trusted estimates. The BG/NBD's and the Gamma-Gamma's under their own names (r, alpha, a, b, p, q,
 * gamma); the Pareto/NBD's, when it was fitted (`model.transactions` pnbd or auto) and converged, as
 * `pareto_nbd.r`, `pareto_nbd.alpha`, `pareto_nbd.s`, `pareto_nbd.beta` (its r and alpha are not the
 * BG/NBD's).
 */
export const modelParameters = (models: ModelsSummary): Record<string, ModelParameter> => {
  if (!models.trusted) return {};
  const bg = models.bgnbd;
  const gg = models.gamma_gamma;
  const pn = models.pareto_nbd;
  const entries: [string, number | null, number | null][] = [
    ['r', bg.r, bg.standard_errors?.r ?? null],
    ['alpha', bg.alpha, bg.standard_errors?.alpha ?? null],
    ['a', bg.a, bg.standard_errors?.a ?? null],
    ['b', bg.b, bg.standard_errors?.b ?? null],
    ['p', gg.p, gg.standard_errors?.p ?? null],
    ['q', gg.q, gg.standard_errors?.q ?? null],
    ['gamma', gg.gamma, gg.standard_errors?.gamma ?? null],
    ...(pn === undefined ? [] : (['r', 'alpha', 's', 'beta'] as const).map((k): [string, number | null, number | null] => [`pareto_nbd.${k}`, pn[k], pn.standard_errors?.[k] ?? null])),
  ];
  return Object.fromEntries(entries.flatMap(([name, value, standardError]) => (value === null ? [] : [[name, { value, standardError }]])));
};
