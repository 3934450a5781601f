import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccountingError } from '../../lambdas/clv-job/errors.js';
import type { QueryEngine, ResultColumns } from '../../lambdas/clv-job/ports.js';
import { summarySchema, type Summary } from '../../lambdas/clv-job/schemas/summary.js';
import type { QueryName } from '../../lambdas/clv-job/sql/index.js';
import { publishedFiles, sampleData, tempDir } from '../support/files.js';
import { runLocal } from '../support/pipeline.js';

/**
 * The accounting identity (SPEC "Input contract"): input_rows = accepted + duplicate + non-purchase +
 * rejected. An engine whose answers do not add up (a lost row, a row counted twice, a rejected row
 * without its reason) must fail the run with a message that says which numbers disagree, and publish
 * nothing: the engine port is the seam, so the DuckDB engine's answers are altered on their way out.
 */

/** The engine with one query's result rewritten by `alter`; every other query untouched. */
const altering =
  (query: QueryName, alter: (result: ResultColumns) => ResultColumns) =>
  (engine: QueryEngine): QueryEngine => ({
    name: engine.name,
    describeInput: () => engine.describeInput(),
    inputVersion: () => engine.inputVersion(),
    bindPrevious: (previous) => engine.bindPrevious(previous),
    release: () => engine.release(),
    close: () => engine.close(),
    run: async (name, params) => {
      const result = await engine.run(name, params);
      return name === query ? alter(result) : result;
    },
  });

/** Rows as plain objects and back: the outcome-count result is a handful of rows. */
const rowsOf = (result: ResultColumns): Record<string, unknown>[] =>
  Array.from({ length: result.rowCount }, (_, i) => Object.fromEntries(Object.entries(result.columns).map(([name, values]) => [name, values[i]])));
const columnsOf = (rows: readonly Record<string, unknown>[], names: readonly string[]): ResultColumns => ({
  rowCount: rows.length,
  columns: Object.fromEntries(names.map((name) => [name, rows.map((row) => row[name])])),
});

const mapOutcomeRows =
  (change: (row: Record<string, unknown>) => Record<string, unknown>) =>
  (result: ResultColumns): ResultColumns =>
    columnsOf(rowsOf(result).map(change), Object.keys(result.columns));

const SAMPLE_AS_OF = { asOf: '2025-12-31' };

/** The two sides of the identity as the guard's message states them, every term named. */
const identityIn = (message: string): { input: number; judged: number } => {
  const match = /^row accounting does not add up: (\d+) input rows, but \d+ accepted \+ \d+ duplicate \+ \d+ non-purchase \+ \d+ rejected = (\d+)$/.exec(message);
  if (!match) throw new Error(`not the accounting guard's message: ${message}`);
  return { input: Number(match[1]), judged: Number(match[2]) };
};

const summaryOf = (text: string): Summary => summarySchema.parse(JSON.parse(text));

/** The message a run failed with, or 'published' when it did not fail. */
const failureOf = (run: Promise<unknown>): Promise<string> =>
  run.then(
    () => 'published',
    (e: Error) => e.message,
  );

describe('the accounting guard, fed inconsistent counts through the engine port', () => {
  it('fails a run whose outcome counts lose a row, naming every term of the identity, and publishes nothing', async () => {
    const out = await tempDir();
    let changed = 0;
    const loseOneAccepted = mapOutcomeRows((row) => {
      if (row.outcome !== 'accepted' || changed > 0) return row;
      changed += 1;
      return { ...row, row_count: Number(row.row_count) - 1 };
    });

    const run = runLocal([sampleData], out, SAMPLE_AS_OF, { engine: altering('outcomeCounts', loseOneAccepted) });

    await expect(run).rejects.toBeInstanceOf(AccountingError);
    const { input, judged } = identityIn(await failureOf(run));
    expect(judged).toBe(input - 1);
    expect(await publishedFiles(out)).toEqual([]);
  });

  it('fails a run that counts a row twice, and leaves the previous night exactly as it was', async () => {
    const out = await tempDir();
    await runLocal([sampleData], out, SAMPLE_AS_OF);
    const before = await publishedFiles(out);
    const summaryBefore = await readFile(join(out, 'summary/run_date=2025-12-31/summary.json'), 'utf8');
    const countARejectTwice = mapOutcomeRows((row) => (row.outcome === 'rejected' && row.reason === 'missing_customer_id' ? { ...row, row_count: Number(row.row_count) + 1 } : row));

    const message = await failureOf(runLocal([sampleData], out, SAMPLE_AS_OF, { engine: altering('outcomeCounts', countARejectTwice) }));

    expect(identityIn(message)).toEqual({ input: summaryOf(summaryBefore).counts.input_rows, judged: summaryOf(summaryBefore).counts.input_rows + 1 });

    expect(await publishedFiles(out)).toEqual(before);
    expect(await readFile(join(out, 'summary/run_date=2025-12-31/summary.json'), 'utf8')).toBe(summaryBefore);
  });

  it('fails a run whose engine dates an accepted order after the as-of date', async () => {
    const out = await tempDir();
    const dateAcceptedLater = mapOutcomeRows((row) => (row.outcome === 'accepted' ? { ...row, dated_after_as_of: 1 } : row));

    const message = await failureOf(runLocal([sampleData], out, SAMPLE_AS_OF, { engine: altering('outcomeCounts', dateAcceptedLater) }));

    expect(message).toBe('1 accepted rows are dated after the as-of date');
    expect(await publishedFiles(out)).toEqual([]);
  });

  it('fails a run whose rejected count has no reason', async () => {
    const out = await tempDir();
    const dropReasons = mapOutcomeRows((row) => (row.outcome === 'rejected' ? { ...row, reason: null } : row));

    await expect(runLocal([sampleData], out, SAMPLE_AS_OF, { engine: altering('outcomeCounts', dropReasons) })).rejects.toThrow(
      new AccountingError('a rejected row has no reason'),
    );
    expect(await publishedFiles(out)).toEqual([]);
  });

  it('fails a run whose listed rejected rows are fewer than the rows counted as rejected', async () => {
    const out = await tempDir();
    const listOneFewer = (result: ResultColumns): ResultColumns => ({
      rowCount: result.rowCount - 1,
      columns: Object.fromEntries(Object.entries(result.columns).map(([name, values]) => [name, Array.from(values).slice(1)])),
    });

    const run = runLocal([sampleData], out, SAMPLE_AS_OF, { engine: altering('rejectedRows', listOneFewer) });

    await expect(run).rejects.toBeInstanceOf(AccountingError);
    const message = await failureOf(run);
    const [, counted, listed] = /^(\d+) rows were counted as rejected but (\d+) were listed$/.exec(message) ?? [];
    expect(Number(listed)).toBe(Number(counted) - 1);
    expect(await publishedFiles(out)).toEqual([]);
  });
});
