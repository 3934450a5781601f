import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import type { QueryName } from '../../lambdas/clv-job/sql/index.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { fixture, tempDir, writeText } from '../support/files.js';
import { generateOrders } from '../support/gen-orders.js';

/**
 * SPEC "Model": the same input gives the same output, bit for bit. test/fixtures/cases/determinism
 * holds 150 customers whose order values hardly differ: a flat Gamma-Gamma likelihood on which the
 * optimiser used to stop at a gradient just above or just below its threshold depending on the last
 * bits of DuckDB's parallel sums, publishing equity 6,357 (predicted) or 67,973 (historical) at random.
 */

/** What readers see: the published files (links into the live run), not the job's own `_` folders, whose names carry the run id. */
const listFiles = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((path) => !path.startsWith('_'))
    .sort();
};

/**
 * A file's bytes with what legitimately differs between runs written out: the run id, the wall-clock
 * timestamps, the stage timings and the output folder. Everything else must match byte for byte.
 */
const normalised = (text: string, runId: string, output: string): string =>
  text
    .replaceAll(runId, '<run id>')
    .replaceAll(output, '<output>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<timestamp>')
    .replace(/"timings": \{[^}]*\}/g, '"timings": <timings>')
    .replace(/<dd>lock [^<]*<\/dd>/g, '<dd><timings></dd>')
    // the manifest lists the bytes of the summary and the report, whose timings differ in length
    .replace(/"bytes": \d+/g, '"bytes": <bytes>');

const TEXT = /\.(json|html)$|_SUCCESS$/;

const outputHashes = async (output: string): Promise<Record<string, string>> => {
  const files = await listFiles(output);
  const manifestKey = files.find((f) => f.endsWith('_manifest.json'));
  if (manifestKey === undefined) throw new Error(`no manifest under ${output}`);
  const runId = (JSON.parse(await readFile(join(output, manifestKey), 'utf8')) as { runId: string }).runId;
  const hashes: Record<string, string> = {};
  for (const file of files) {
    const bytes = await readFile(join(output, file));
    const content = TEXT.test(file) ? normalised(bytes.toString('utf8'), runId, output) : bytes;
    hashes[file] = createHash('sha256').update(content).digest('hex');
  }
  return hashes;
};

describe('one input gives one answer', () => {
  beforeAll(requireCliBundle);

  it('ten runs of the determinism case publish the same files, byte for byte but for run id and timestamps', { timeout: 180_000 }, async () => {
    const work = await tempDir();
    const runs: Record<string, string>[] = [];
    const equities = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const output = join(work, `out-${i}`);
      const outcome = await clv(['run', '--input', fixture('cases', 'determinism'), '--output', output, '--as-of', '2024-12-31'], work);
      expect(outcome.code, outcome.stderr).toBe(0);
      runs.push(await outputHashes(output));
      const summary = JSON.parse(await readFile(join(output, 'summary', 'run_date=2024-12-31', 'summary.json'), 'utf8')) as {
        totals: { equity: number; ranking_clv: string };
      };
      equities.add(summary.totals.equity);
    }

    expect(Object.keys(runs[0]!)).toEqual(
      expect.arrayContaining(['summary/run_date=2024-12-31/summary.json', 'customers/run_date=2024-12-31/segment=high/part-00000.parquet']),
    );
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
    expect([...equities]).toHaveLength(1);
  });

  it.each(['bgnbd', 'pnbd'] as const)(
    'the same files, byte for byte but for run id and timestamps, whether the intervals run on 1, 2 or 3 threads (--threads, CLV_MODEL_THREADS; %s)',
    { timeout: 180_000 },
    async (transactions) => {
      // Prepare: 4,000 generated customers; each thread computes a chunk of its own in every phase of the intervals
      const work = await tempDir();
      const input = join(work, 'orders');
      await generateOrders({ out: input, customers: 4000, files: 2, seed: 19 });
      const runWith = async (threadArgs: readonly string[], env: Record<string, string>, name: string): Promise<Record<string, string>> => {
        const output = join(work, name);
        const outcome = await clv(['run', '--input', input, '--output', output, '--transactions', transactions, ...threadArgs], work, env);
        expect(outcome.code, outcome.stderr).toBe(0);
        return outputHashes(output);
      };

      // Act
      const one = await runWith(['--threads', '1'], { CLV_MODEL_THREADS: '3' }, 'one');
      const two = await runWith(['--threads', '2'], {}, 'two');
      const three = await runWith([], { CLV_MODEL_THREADS: '3' }, 'three');

      // Assess
      expect(Object.keys(one)).toEqual(expect.arrayContaining([expect.stringMatching(/^customers\/run_date=.*\/segment=high\/part-00000\.parquet$/)]));
      expect(two).toEqual(one);
      expect(three).toEqual(one);
    },
  );

  it('the fit of the determinism case is trusted, at the optimum the case names', { timeout: 60_000 }, async () => {
    const work = await tempDir();
    const output = join(work, 'out');
    const outcome = await clv(['run', '--input', fixture('cases', 'determinism'), '--output', output, '--as-of', '2024-12-31'], work);
    expect(outcome.code, outcome.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(output, 'summary', 'run_date=2024-12-31', 'summary.json'), 'utf8')) as {
      models: { trusted: boolean; gamma_gamma: { p: number; q: number; gamma: number; log_likelihood: number; convergence: { converged: boolean } } };
      totals: { ranking_clv: string };
    };

    // the optimum as the case's README states it, found independently of this fit's stopping rule
    const gg = summary.models.gamma_gamma;
    expect(gg.convergence.converged).toBe(true);
    expect(summary.models.trusted).toBe(true);
    expect(summary.totals.ranking_clv).toBe('predicted_clv');
    expect(gg.p).toBeCloseTo(4.88602, 4);
    expect(gg.q / 663.93).toBeCloseTo(1, 4);
    expect(gg.gamma / 5342.25).toBeCloseTo(1, 4);
    expect(gg.log_likelihood).toBeCloseTo(-478.39515, 4);
  });
});

/**
 * An export where every customer's orders are spread over the whole file, so that DuckDB's threads
 * each see part of every customer: amounts in cents from a fixed linear congruential sequence.
 */
const spreadOrders = (rows: number, customers: number): string => {
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  const lines = ['order_id,customer_id,order_date,amount'];
  for (let i = 0; i < rows; i++) {
    const day = 1 + (next() % 28);
    const month = 1 + (next() % 12);
    const cents = 100 + (next() % 99_900);
    lines.push(`O${i},C${i % customers},2024-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')},${(cents / 100).toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
};

const runQueries = async (files: string[], threads: number, queries: readonly QueryName[]): Promise<Record<string, unknown>> => {
  const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles(files))).files, threads });
  try {
    const out: Record<string, unknown> = {};
    for (const query of queries) {
      const result = await engine.run(query, { asOf: '2024-12-31', nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES });
      for (const [name, values] of Object.entries(result.columns)) {
        // compare doubles by their bits: toEqual would let -0 and 0, or two NaNs, pass
        out[`${query}.${name}`] = values instanceof Float64Array ? Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex') : Array.from(values);
      }
    }
    return out;
  } finally {
    await engine.close();
  }
};

describe('the money sums of the shared SQL', () => {
  it('are the same bit for bit on one DuckDB thread and on several', { timeout: 180_000 }, async () => {
    const dir = await tempDir();
    const file = await writeText(dir, 'orders.csv', spreadOrders(600_000, 3_000));
    const queries = ['customers', 'spendPatterns'] as const;

    const one = await runQueries([file], 1, queries);
    const several = await runQueries([file], 4, queries);
    const again = await runQueries([file], 4, queries);

    expect(Object.keys(one)).toContain('customers.total_revenue');
    expect(several).toEqual(one);
    expect(again).toEqual(one);
  });
});
