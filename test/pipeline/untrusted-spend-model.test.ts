import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarySchema, type Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { fixture, tempDir, writeText } from '../support/files.js';
import { queryDuckDb } from '../support/duckdb-reader.js';

/**
 * When only the spend model fails, the purchase model's columns stay filled, and no fit that failed
 * shows parameters. The grocery event log (test/fixtures/datasets/grocery) has dates and no amounts;
 * written out as an orders export with every order worth 10.00 the Gamma-Gamma has nothing to fit
 * (every repeat buyer spends the same), while the BG/NBD fits as usual.
 */
const constantAmountExport = (): string => {
  const lines = readFileSync(fixture('datasets', 'grocery', 'grocery_elog.csv'), 'utf8').trim().split('\n').slice(1);
  return ['order_id,customer_id,order_date,amount', ...lines.map((line, i) => `G${i + 1},${line},10.00`)].join('\n') + '\n';
};

describe('a night whose spend model cannot be trusted', () => {
  let out: string;
  let summary: Summary;
  let run: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    await requireCliBundle();
    const cwd = await tempDir();
    const input = await writeText(cwd, 'grocery-constant.csv', constantAmountExport());
    out = join(cwd, 'out');
    run = await clv(['run', '--input', input, '--output', out, '--as-of', '2006-12-31'], cwd);
    summary = summarySchema.parse(JSON.parse(await readFile(join(out, 'summary/run_date=2006-12-31/summary.json'), 'utf8')));
  }, 120_000);

  it('runs, with the BG/NBD trusted and the Gamma-Gamma not, and says why', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(summary.models.bgnbd.convergence.converged).toBe(true);
    expect(summary.models.gamma_gamma.convergence).toMatchObject({ converged: false, message: expect.stringMatching(/all with the same mean spend/) });
    expect(summary.models.trusted).toBe(false);
    expect(summary.totals.ranking_clv).toBe('historical_clv');
  });

  it('fills expected purchases and P(alive) for every customer, and leaves the spend columns null', async () => {
    const [row] = await queryDuckDb(
      `SELECT COUNT(*) AS customers, COUNT(expected_purchases) AS with_purchases, COUNT(probability_alive) AS with_alive,
              COUNT(expected_order_value) AS with_order_value, COUNT(predicted_clv) AS with_clv,
              MIN(probability_alive) AS min_alive, MAX(probability_alive) AS max_alive, MIN(expected_purchases) AS min_purchases
       FROM read_parquet('${out}/customers/run_date=2006-12-31/*/*.parquet')`,
    );
    expect(Number(row!.customers)).toBe(summary.counts.customers);
    expect(Number(row!.with_purchases)).toBe(summary.counts.customers);
    expect(Number(row!.with_alive)).toBe(summary.counts.customers);
    expect(Number(row!.with_order_value)).toBe(0);
    expect(Number(row!.with_clv)).toBe(0);
    expect(Number(row!.min_alive)).toBeGreaterThan(0);
    expect(Number(row!.max_alive)).toBeLessThanOrEqual(1);
    expect(Number(row!.min_purchases)).toBeGreaterThan(0);
  });

  it('shows no Gamma-Gamma parameters: null in the summary, "not estimated" in the report', async () => {
    const gg = summary.models.gamma_gamma;
    expect([gg.p, gg.q, gg.gamma, gg.log_likelihood, gg.standard_errors, gg.population_mean_order_value]).toEqual([null, null, null, null, null, null]);
    expect(summary.models.bgnbd.r).toBeGreaterThan(0);
    const html = await readFile(join(out, 'report/run_date=2006-12-31/index.html'), 'utf8');
    for (const name of ['p', 'q', 'gamma']) expect(html).toContain(`data-testid="param-${name}-not-estimated"`);
    // the starting values (p = 2, q = 3) never appear as estimates
    expect(html).not.toContain('data-testid="param-p"');
    expect(html).toContain('data-testid="param-r"');
  });
});
