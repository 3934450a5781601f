import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarySchema } from '../../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { fixture, tempDir } from '../support/files.js';

/*
 * A BG/NBD estimate on a ridge of the likelihood (test/fixtures/uncertain-fits/README.md: a and b
 * grow together, or b toward 0, with log standard errors in the tens or more) is one the data do not
 * identify: the fit is not trusted, whatever the as-of day, and the night ranks on historical CLV and
 * says why, instead of publishing predictions that mean nothing (or failing on their intervals).
 */
beforeAll(requireCliBundle);

describe('a night whose BG/NBD estimate lies on a ridge of the likelihood', () => {
  it.each([
    ['small-shop', '2025-12-30'],
    ['small-shop', '2025-12-31'],
    ['ridge', '2025-12-31'],
  ])('%s as of %s: publishes, does not trust the BG/NBD, naming a and b, and ranks on historical CLV', { timeout: 120_000 }, async (name, asOf) => {
    const cwd = await tempDir();
    await cp(fixture('uncertain-fits', name), join(cwd, 'input'), { recursive: true });

    const result = await clv(['run', '--input', 'input', '--output', 'out', '--as-of', asOf], cwd);

    expect(result.code, result.stderr).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out', 'summary', `run_date=${asOf}`, 'summary.json'), 'utf8')));
    expect(summary.models.trusted).toBe(false);
    expect(summary.models.bgnbd.convergence.converged).toBe(false);
    expect(summary.models.bgnbd.convergence.message).toMatch(/^the data do not identify a, b, on a ridge of the likelihood: log standard errors \S+, \S+ > 5 /);
    expect(summary.models.bgnbd.a).toBeNull();
    expect(summary.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['bgnbd_untrusted', 'ranking_on_historical_clv']));
    expect(summary.totals.ranking_clv).toBe('historical_clv');
    expect(summary.totals.predicted_clv).toBeNull();
    const rows = await queryDuckDb(`SELECT count(*) AS n, count(predicted_clv) AS scored
                                    FROM read_parquet('${join(cwd, 'out', 'customers', `run_date=${asOf}`)}/*/*.parquet')`);
    const { n, scored } = rows[0] as Record<string, bigint>;
    expect(Number(n)).toBe(summary.counts.customers);
    expect(Number(scored)).toBe(0);
  });
});
