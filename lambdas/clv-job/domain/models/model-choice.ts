/**
 * Choosing between the BG/NBD and the Pareto/NBD by how well each forecasts a holdout period of the
 * run's own data: both are fitted on the calibration period's patterns, each predicts every
 * calibration customer's holdout purchases (the conditional expectation), and the model with the
 * smaller root-mean-squared error per customer wins. Squared error is the loss whose best forecast
 * is the conditional mean, which is what both models predict; mean absolute error would reward the
 * median instead and on simulated data favours the Pareto/NBD whichever model made the data.
 */
import { compareHoldout, type HoldoutInput } from './backtest.js';
import { fitBgNbd, type BgNbdData, type BgNbdFit, type FitTimeOptions } from './bg-nbd.js';
import { fitParetoNbd, type ParetoNbdFit } from './pareto-nbd.js';
import { bgnbdTransactionModel, paretoNbdTransactionModel, type TransactionModelName } from './transaction-model.js';

export interface CandidateResult {
  readonly converged: boolean;
  /** Per-customer root-mean-squared error of holdout purchases; null when the fit is not trusted. */
  readonly rootMeanSquaredError: number | null;
  readonly meanAbsoluteError: number | null;
}

export interface TransactionModelChoice {
  readonly chosen: TransactionModelName;
  readonly reason: string;
  readonly bgnbd: CandidateResult;
  readonly pnbd: CandidateResult;
  /** The calibration fits, for the caller to report. */
  readonly fits: { readonly bgnbd: BgNbdFit; readonly pnbd: ParetoNbdFit };
}

const evaluate = (converged: boolean, errors: () => { rootMeanSquaredError: number; meanAbsoluteError: number }): CandidateResult => {
  if (!converged) return { converged, rootMeanSquaredError: null, meanAbsoluteError: null };
  const e = errors();
  return { converged, rootMeanSquaredError: e.rootMeanSquaredError, meanAbsoluteError: e.meanAbsoluteError };
};

/**
 * Fits both models on `calibration` (patterns in days given `time.unitDays`, else in model units: see
 * FitTimeOptions) and compares their predictions with `holdout` (the same customers, one row each, in
 * model units). Ties and the case where neither fit is trusted keep the BG/NBD, the default; a model
 * whose fit is not trusted never wins.
 * Throws a RangeError for invalid data (see compareHoldout and the fits).
 */
export const chooseTransactionModel = (calibration: BgNbdData, holdout: HoldoutInput, time: FitTimeOptions = {}): TransactionModelChoice => {
  const bgnbd = fitBgNbd(calibration, time);
  const pnbd = fitParetoNbd(calibration, time);
  const bg = evaluate(bgnbd.diagnostics.converged, () => compareHoldout(bgnbdTransactionModel(bgnbd.params), holdout).errors);
  const pn = evaluate(pnbd.diagnostics.converged, () => compareHoldout(paretoNbdTransactionModel(pnbd.params), holdout).errors);
  const fits = { bgnbd, pnbd };
  if (bg.rootMeanSquaredError === null && pn.rootMeanSquaredError === null) {
    return { chosen: 'bgnbd', reason: 'neither calibration fit could be trusted: kept the default, BG/NBD', bgnbd: bg, pnbd: pn, fits };
  }
  if (pn.rootMeanSquaredError === null) return { chosen: 'bgnbd', reason: 'the Pareto/NBD calibration fit could not be trusted', bgnbd: bg, pnbd: pn, fits };
  if (bg.rootMeanSquaredError === null) return { chosen: 'pnbd', reason: 'the BG/NBD calibration fit could not be trusted', bgnbd: bg, pnbd: pn, fits };
  const chosen: TransactionModelName = pn.rootMeanSquaredError < bg.rootMeanSquaredError ? 'pnbd' : 'bgnbd';
  const fmt = (v: number): string => v.toPrecision(5);
  return {
    chosen,
    reason: `holdout RMSE per customer: BG/NBD ${fmt(bg.rootMeanSquaredError)}, Pareto/NBD ${fmt(pn.rootMeanSquaredError)}; the smaller wins`,
    bgnbd: bg,
    pnbd: pn,
    fits,
  };
};
