import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { DEFAULT_NON_PURCHASE_STATUSES, resolveModelOptions } from '../../lambdas/clv-job/config.js';
import { ConfigurationError, UntrustedBacktestError } from '../../lambdas/clv-job/errors.js';
import { runBacktest } from '../../lambdas/clv-job/pipeline/backtest.js';
import type { Backtest } from '../../lambdas/clv-job/schemas/summary-backtest.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
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

  it.each([
    // BTYD walkthrough §4.2, as in the CDNOW pipeline test: BTYD stops short of the maximum on the flat
    // a-b ridge; measured, ours differ by 1.5e-5 (r), 1.9e-5 (alpha), 8.6e-5 (a), 1.07e-4 (b)
    ['r', 0.2425982, 3e-5],
    ['alpha', 4.4136842, 3e-5],
    ['a', 0.7929899, 1.5e-4],
    ['b', 2.4261667, 1.5e-4],
  ] as const)('fits the calibration BG/NBD %s to the published %f, within the %f BTYD\'s optimiser leaves', (name, published, tolerance) => {
    expect(Math.abs(backtest.bgnbd[name] - published) / published).toBeLessThan(tolerance);
    expect(backtest.holdout_length).toBe(39);
  });

  it('keeps its figures consistent: buckets add up to the totals, expectations never decrease week on week', () => {
    expect(backtest.by_frequency.reduce((s, b) => s + b.expected, 0)).toBeCloseTo(backtest.totals.expected, 6);
    backtest.tracking.slice(1).forEach((w, k) => expect(w.expected).toBeGreaterThanOrEqual(backtest.tracking[k]!.expected));
    expect(backtest.errors.total_percentage_error).toBeCloseTo((100 * (backtest.totals.expected - 1882)) / 1882, 9);
  });

  it('refuses a holdout that ends before the calibration does', async () => {
    await expect(runBacktest(engine, { ...request, holdoutEnd: '1997-01-01' })).rejects.toThrow(ConfigurationError);
  });

  it('gives no backtest when the calibration fit cannot be trusted, rather than its starting values as estimates', async () => {
    // CDNOW's first orders are of 1997-01-01: no customer by the end of 1996, nothing to fit; the
    // backtest used to print r=1, alpha=1, a=1, b=3 "(not converged)" and expected purchases from them
    await expect(runBacktest(engine, { ...request, calibrationEnd: '1996-12-31' })).rejects.toThrow(
      new UntrustedBacktestError('no backtest: the BG/NBD fit on the orders up to 1996-12-31 cannot be trusted (not enough data: 0 customers, 0 repeat buyers, longest tenure 0 (need >= 20 customers, >= 5 repeat buyers, tenure > 0))'),
    );
  });
});

describe('a nightly run configured to backtest', () => {
  it('carries the backtest of its last holdout days, its actual purchases as DuckDB counts them from the raw files', async () => {
    const out = await tempDir();

    const { summary } = await runLocal([sampleData], out, { asOf: '2025-12-31', backtestHoldoutDays: 91 });
    // written independently of the shared SQL, from the sample's CSV files: the last file's copy of each
    // order, valid and purchased by 2025-12-31, merged by day; customers acquired by the calibration end,
    // bucketed by their repeat purchase days up to it, and their purchase days after it
    const files = (await readdir(sampleData)).map((f) => `'${join(sampleData, f)}'`).join(', ');
    const buckets = await queryDuckDb(`
      WITH raw AS (SELECT * FROM read_csv([${files}], all_varchar = true, filename = true)),
      latest AS (SELECT * FROM raw WHERE order_id IS NOT NULL AND customer_id IS NOT NULL
                   AND regexp_full_match(order_date, '\\d{4}-\\d{2}-\\d{2}') AND regexp_full_match(amount, '[0-9]+(\\.[0-9]+)?')
                   AND order_date::DATE <= DATE '2025-12-31'
                 QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY filename DESC) = 1),
      days AS (SELECT DISTINCT customer_id, order_date::DATE AS day FROM latest WHERE status NOT IN ('cancelled', 'refunded')),
      per_customer AS (SELECT customer_id, COUNT(*) FILTER (WHERE day <= DATE '2025-10-01') - 1 AS x,
                              COUNT(*) FILTER (WHERE day > DATE '2025-10-01') AS holdout
                       FROM days GROUP BY customer_id HAVING MIN(day) <= DATE '2025-10-01')
      SELECT LEAST(x, 7)::INTEGER AS bucket, COUNT(*)::INTEGER AS customers, SUM(holdout)::INTEGER AS actual
      FROM per_customer GROUP BY ALL ORDER BY bucket`);
    const counted = Array.from({ length: 8 }, (_, k) => buckets.find((b) => b.bucket === k) ?? { customers: 0, actual: 0 });
    const backtest = summary.backtest!;

    expect(backtest).toMatchObject({ calibration_end: '2025-10-01', holdout_end: '2025-12-31', holdout_length: 13 });
    expect(backtest.by_frequency.map((b) => b.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    expect(backtest.by_frequency.map((b) => b.customers)).toEqual(counted.map((b) => b.customers));
    expect(backtest.by_frequency.map((b) => b.actual)).toEqual(counted.map((b) => b.actual));
    expect(backtest.customers).toBe(counted.reduce((s, b) => s + Number(b.customers), 0));
    expect(backtest.totals.actual).toBe(counted.reduce((s, b) => s + Number(b.actual), 0));
    expect(backtest.totals.actual).toBeGreaterThan(0);
    expect(backtest.bgnbd.converged).toBe(true);
    expect(backtest.by_frequency.reduce((s, b) => s + b.expected, 0)).toBeCloseTo(backtest.totals.expected, 6);
    expect(backtest.tracking.at(-1)?.week_end).toBe('2025-12-31');
  });

  it('leaves the backtest out, with a warning saying why, when its calibration fit cannot be trusted', async () => {
    const out = await tempDir();

    // the sample's orders start in January 2024: 800 days before 2025-12-31 no customer had bought yet
    const { summary } = await runLocal([sampleData], out, { asOf: '2025-12-31', backtestHoldoutDays: 800 });

    expect(summary.backtest).toBeUndefined();
    expect(summary.warnings.filter((w) => w.code === 'backtest_not_trusted').map((w) => w.message)).toEqual([
      expect.stringMatching(/^no backtest: the BG\/NBD fit on the orders up to 2023-10-23 cannot be trusted \(not enough data: 0 customers/),
    ]);
    // the transaction model of the night itself is fitted on all the orders, and trusted
    expect(summary.models.bgnbd.r).not.toBeNull();
  });
});
