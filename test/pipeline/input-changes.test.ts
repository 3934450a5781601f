import { describe, expect, it } from 'vitest';
import { EngineError } from '../../lambdas/clv-job/errors.js';
import type { QueryEngine, ResultColumns } from '../../lambdas/clv-job/ports.js';
import { INPUT_READ_ATTEMPTS } from '../../lambdas/clv-job/pipeline/run.js';
import { publishedFiles, sampleData, tempDir } from '../support/files.js';
import { runLocal } from '../support/pipeline.js';

/**
 * A night reads one set of exports. Ingest runs whenever a file lands, and each query reads what is
 * there when it runs: an export dropped between two queries would give the night counts from one set
 * and customers from another. The run reads again when the engine's input version changed under it,
 * and gives up, publishing nothing, when it keeps changing. The engine port is the seam: the DuckDB
 * engine's input version is made to change, as an S3 listing does when a drop lands.
 */

const AS_OF = { asOf: '2025-12-31' };

/**
 * The engine with its input version told by `versionAt(look)` (looks counted from 1), its queries
 * counted, and `alter` applied to the results of the first read's queries.
 */
const changing =
  (versionAt: (look: number) => string | null, asked: string[], alter?: (query: string, result: ResultColumns, look: number) => ResultColumns) =>
  (engine: QueryEngine): QueryEngine => {
    let looks = 0;
    return {
      name: engine.name,
      describeInput: () => engine.describeInput(),
      inputVersion: async () => versionAt(++looks),
      bindPrevious: (previous) => engine.bindPrevious(previous),
      release: () => engine.release(),
      close: () => engine.close(),
      run: async (query, params) => {
        asked.push(query);
        const result = await engine.run(query, params);
        return alter ? alter(query, result, looks) : result;
      },
    };
  };

const reads = (asked: readonly string[]): number => asked.filter((q) => q === 'inputRows').length;

describe('the exports changing while a night reads them', () => {
  it('read again when an export lands between the queries, and published from the second read', async () => {
    const asked: string[] = [];
    const once = await runLocal([sampleData], await tempDir(), AS_OF);

    // the version seen after the first read differs from the one before it; stable from then on
    const result = await runLocal([sampleData], await tempDir(), AS_OF, { engine: changing((look) => (look === 1 ? 'v1' : 'v2'), asked) });

    expect(reads(asked)).toBe(2);
    expect(result.summary.counts).toEqual(once.summary.counts);
    expect(result.summary.totals).toEqual(once.summary.totals);
  });

  it('read again when the change broke the first read (a row counted in one query and not the next)', async () => {
    const asked: string[] = [];
    const out = await tempDir();
    // the first read's outcome counts lose a row, as counts taken before a drop landed would against the rows after it
    const loseARow = (query: string, result: ResultColumns, look: number): ResultColumns =>
      query === 'outcomeCounts' && look === 1 ? { ...result, columns: { ...result.columns, row_count: Array.from(result.columns.row_count!, (n, i) => (i === 0 ? Number(n) - 1 : n)) } } : result;

    const result = await runLocal([sampleData], out, AS_OF, { engine: changing((look) => (look === 1 ? 'v1' : 'v2'), asked, loseARow) });

    expect(reads(asked)).toBe(2);
    expect(result.summary.counts.input_rows).toBe(result.summary.counts.accepted_orders + result.summary.counts.duplicate_orders + result.summary.counts.non_purchase_orders + result.summary.counts.rejected_rows);
    expect(await publishedFiles(out)).not.toEqual([]);
  });

  it(`give up after ${INPUT_READ_ATTEMPTS} reads when exports keep landing: a transient failure, nothing published`, async () => {
    const asked: string[] = [];
    const out = await tempDir();

    const run = runLocal([sampleData], out, AS_OF, { engine: changing((look) => `v${look}`, asked) });

    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ transient: true });
    expect((error as Error).message).toMatch(/^the exports changed while the night read them, 3 times in a row .*nothing published; run the night again once the drops have settled$/);
    expect(reads(asked)).toBe(INPUT_READ_ATTEMPTS);
    expect(await publishedFiles(out)).toEqual([]);
  });

  it('fail as the read failed when the exports did not change, reading once', async () => {
    const asked: string[] = [];
    const out = await tempDir();
    const breakCustomers = (query: string, result: ResultColumns): ResultColumns => (query === 'customers' ? { rowCount: result.rowCount, columns: {} } : result);

    const error = await runLocal([sampleData], out, AS_OF, { engine: changing(() => 'v1', asked, breakCustomers) }).then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(EngineError);
    expect((error as Error).message).toMatch(/^query result lacks column \w+ \(has: \)$/);
    expect(reads(asked)).toBe(1);
  });

  it('name the exports left out as they stood during the read that counts (on AWS, a drop being read has a record only meanwhile)', async () => {
    const asked: string[] = [];
    let lists = 0;
    // during the first read an export is being read again (its copy gone, its record there); by the second, it is back
    const skippedInputs = async () => ((lists += 1) === 1 ? [{ source: 's3://drop/orders/late.csv', reason: 'is not ingested yet: its read started at 2026-11-23T02:59:00Z' }] : []);

    const result = await runLocal([sampleData], await tempDir(), AS_OF, { engine: changing((look) => (look === 1 ? 'v1' : 'v2'), asked), skippedInputs });

    expect(reads(asked)).toBe(2);
    expect(lists).toBe(2);
    expect(result.summary.warnings.map((w) => w.code)).not.toContain('unreadable_file');

    // with the input unchanged, the one list stands
    lists = 0;
    const steady = await runLocal([sampleData], await tempDir(), AS_OF, { engine: changing(() => 'v1', []), skippedInputs });
    expect(steady.summary.warnings).toContainEqual({ code: 'unreadable_file', message: 's3://drop/orders/late.csv was left out: it is not ingested yet: its read started at 2026-11-23T02:59:00Z' });
  });

  it('read once with an engine that cannot tell its input version (a team\'s Trino table)', async () => {
    const asked: string[] = [];

    await runLocal([sampleData], await tempDir(), AS_OF, { engine: changing(() => null, asked) });

    expect(reads(asked)).toBe(1);
  });
});
