import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarySchema } from '../../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { fixture, tempDir } from '../support/files.js';

/*
 * A fit so uncertain that its parameter draws leave the model (test/fixtures/uncertain-fits/README.md)
 * costs the night its intervals, never the night: the scores are published, the intervals are left
 * out, and the summary says why.
 */
beforeAll(requireCliBundle);

describe('a night whose fits are too uncertain to draw intervals from', () => {
  it.each(['small-shop', 'ridge'])('%s: publishes its scores, with intervals only where they are finite, and says when it has none', { timeout: 120_000 }, async (name) => {
    const cwd = await tempDir();
    await cp(fixture('uncertain-fits', name), join(cwd, 'input'), { recursive: true });

    const result = await clv(['run', '--input', 'input', '--output', 'out', '--as-of', '2025-12-31'], cwd);

    expect(result.code, result.stderr).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out', 'summary', 'run_date=2025-12-31', 'summary.json'), 'utf8')));
    expect(summary.totals.predicted_clv).toBeGreaterThan(0);
    const rows = await queryDuckDb(`SELECT count(*) AS n, count(predicted_clv) AS scored, count(predicted_clv_p95) AS with_interval,
                                      count(*) FILTER (WHERE isinf(predicted_clv_p95) OR isnan(predicted_clv_p95)) AS not_finite
                                    FROM read_parquet('${join(cwd, 'out', 'customers', 'run_date=2025-12-31')}/*/*.parquet')`);
    const { n, scored, with_interval, not_finite } = rows[0] as Record<string, bigint>;
    expect(Number(scored)).toBe(Number(n));
    expect(Number(not_finite)).toBe(0);
    const noIntervals = summary.warnings.some((w) => w.code === 'no_intervals');
    // all or nothing: either every customer has an interval, or none has and a warning says why
    expect(Number(with_interval)).toBe(noIntervals ? 0 : Number(n));
    expect(summary.totals.predicted_clv_p95 === null).toBe(noIntervals);
  });
});
