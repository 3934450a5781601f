/**
 * The CDNOW sample as the model tests use it: `test/fixtures/datasets/cdnow/` (see its README), read
 * relative to this file so the tests run from any working directory.
 */
import { readFileSync } from 'node:fs';
import type { BgNbdData } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';

const datasets = new URL('../../fixtures/datasets/cdnow/', import.meta.url);

export interface CdnowSummary {
  readonly customerId: Int32Array;
  /** Days from 1997-01-01 to the first purchase. */
  readonly firstPurchaseDay: Int32Array;
  readonly x: Float64Array;
  readonly txDays: Float64Array;
  readonly TDays: Float64Array;
  /** Repeat purchases in the 39-week holdout, 1997-10-01 … 1998-06-30. */
  readonly xStar: Float64Array;
  /** Mean repeat-purchase value; 0 when x = 0. */
  readonly mx: Float64Array;
}

const ORIGIN = Date.UTC(1997, 0, 1);

/** `cdnow_summary_cal39.csv`: one row per customer of the 2,357 in the sample. */
export const loadCdnowSummary = (): CdnowSummary => {
  const lines = readFileSync(new URL('cdnow_summary_cal39.csv', datasets), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const col = (name: string): number => {
    const k = header.indexOf(name);
    if (k < 0) throw new Error(`cdnow_summary_cal39.csv has no column ${name}`);
    return k;
  };
  const [id, first, x, txDays, TDays, xStar, mx] = ['customer_id', 'first_purchase_date', 'x', 't_x_days', 'T_days', 'x_star', 'm_x'].map(col) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const rows = lines.slice(1).map((line) => line.split(','));
  const numbers = (k: number): Float64Array => Float64Array.from(rows, (r) => Number(r[k]));
  return {
    customerId: Int32Array.from(rows, (r) => Number(r[id])),
    firstPurchaseDay: Int32Array.from(rows, (r) => Math.round((Date.parse(`${r[first]}T00:00:00Z`) - ORIGIN) / 86_400_000)),
    x: numbers(x),
    txDays: numbers(txDays),
    TDays: numbers(TDays),
    xStar: numbers(xStar),
    mx: numbers(mx),
  };
};

/** `cdnow_weekly_repeat_transactions.csv`: actual cumulative repeat transactions at the end of weeks 1–78. */
export const loadCdnowWeeklyCumulative = (): Float64Array => {
  const lines = readFileSync(new URL('cdnow_weekly_repeat_transactions.csv', datasets), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const k = header.indexOf('cumulative_repeat_transactions');
  return Float64Array.from(lines.slice(1), (line) => Number(line.split(',')[k]));
};

/** Divides a column of days by the days in a model unit. */
export const inUnits = (days: Float64Array, daysPerUnit: number): Float64Array => days.map((d) => d / daysPerUnit);

/**
 * `copies` copies of the patterns, copy k shifted by k · 1e-9 in tx (when x > 0) and T: a data set
 * whose likelihood is `copies` times the original's up to ~1e-9, but none of whose patterns group.
 * What the fits' warm start from a subsample is tested on.
 */
export const shiftedCopies = (data: BgNbdData, copies: number): BgNbdData => {
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  const weight: number[] = [];
  for (let copy = 0; copy < copies; copy++) {
    data.x.forEach((v, i) => {
      const shift = copy * 1e-9;
      x.push(v);
      tx.push(v === 0 ? 0 : data.tx[i]! + shift);
      T.push(data.T[i]! + shift);
      weight.push(data.weight[i]!);
    });
  }
  return { x: Float64Array.from(x), tx: Float64Array.from(tx), T: Float64Array.from(T), weight: Float64Array.from(weight) };
};
