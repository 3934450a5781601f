import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { DEFAULT_NON_PURCHASE_STATUSES, resolveModelOptions } from '../../lambdas/clv-job/config.js';
import { ConfigurationError } from '../../lambdas/clv-job/errors.js';
import { runBacktest } from '../../lambdas/clv-job/pipeline/backtest.js';
import type { Backtest } from '../../lambdas/clv-job/schemas/summary-backtest.js';
import { fixture, sampleData, tempDir } from '../support/files.js';
import { runLocal } from '../support/pipeline.js';

const cdnow = fixture('datasets', 'cdnow');
const request = {
  calibrationEnd: '1997-09-30',
  holdoutEnd: '1998-06-30',
  model: resolveModelOptions({}),
  nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES,
};

/** CDNOW as FHL (2005) backtested it: 39 calibration weeks, 39 holdout weeks (datasets/README.md §1.4). */
describe('the backtest on CDNOW: calibration to 1997-09-30, holdout to 1998-06-30', () => {
  let engine: DuckDbEngine;
  let backtest: Backtest;
  beforeAll(async () => {
    engine = await DuckDbEngine.open({ files: (await ingestLocalFiles([{ path: join(cdnow, 'cdnow_orders.csv'), bytes: 0 }])).files });
    backtest = await runBacktest(engine, request);
  });
  afterAll(() => engine.close());

  it('tracks actual repeat purchases week by week exactly as BTYD counts them', async () => {
    const weekly = (await readFile(join(cdnow, 'cdnow_weekly_repeat_transactions.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => Number(line.split(',').at(-1)));

    expect(backtest.tracking.map((w) => w.actual)).toEqual(weekly);
  });

  it('counts the 1,882 holdout repeat purchases of the 2,357 calibration customers, by calibration frequency', async () => {
    // the literature's per-customer calibration summary, bucketed 0 ... 7+ as the backtest does
    const rows = (await readFile(join(cdnow, 'cdnow_summary_cal39.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    const bucket = (x: number) => Math.min(x, 7);
    const customers = new Array<number>(8).fill(0);
    const holdout = new Array<number>(8).fill(0);
    for (const row of rows) {
      customers[bucket(Number(row[3]))]! += 1;
      holdout[bucket(Number(row[3]))]! += Number(row[8]);
    }

    expect(backtest.customers).toBe(2357);
    expect(backtest.totals.actual).toBe(1882);
    expect(backtest.by_frequency.map((b) => b.customers)).toEqual(customers);
    expect(backtest.by_frequency.map((b) => b.actual)).toEqual(holdout);
  });

  it('fits the calibration BG/NBD to the published parameters', () => {
    expect(backtest.bgnbd.r).toBeCloseTo(0.243, 3);
    expect(backtest.bgnbd.alpha).toBeCloseTo(4.414, 3);
    expect(backtest.holdout_length).toBeCloseTo(39, 9);
  });

  it('keeps its figures consistent: buckets add up to the totals, expectations never decrease week on week', () => {
    expect(backtest.by_frequency.reduce((s, b) => s + b.expected, 0)).toBeCloseTo(backtest.totals.expected, 6);
    backtest.tracking.slice(1).forEach((w, k) => expect(w.expected).toBeGreaterThanOrEqual(backtest.tracking[k]!.expected));
    expect(backtest.errors.total_percentage_error).toBeCloseTo((100 * (backtest.totals.expected - 1882)) / 1882, 9);
  });

  it('refuses a holdout that ends before the calibration does', async () => {
    await expect(runBacktest(engine, { ...request, holdoutEnd: '1997-01-01' })).rejects.toThrow(ConfigurationError);
  });
});

describe('a nightly run configured to backtest', () => {
  it('carries the backtest of its last holdout days in the summary', async () => {
    const out = await tempDir();

    const { summary } = await runLocal([sampleData], out, { asOf: '2025-12-31', backtestHoldoutDays: 91 });

    expect(summary.backtest?.calibration_end).toBe('2025-10-01');
    expect(summary.backtest?.holdout_end).toBe('2025-12-31');
    expect(summary.backtest?.holdout_length).toBe(13);
  });
});
