import { ingestLocalFiles } from '../lambdas/clv-job/adapters/local-ingest.js';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { readResultCsv } from '../lambdas/clv-job/adapters/athena-engine.js';
import { DuckDbEngine } from '../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../lambdas/clv-job/adapters/input-files.js';
import { LocalFolderStore } from '../lambdas/clv-job/adapters/local-folder-store.js';
import { ParquetTableWriter } from '../lambdas/clv-job/adapters/parquet-table-writer.js';
import { WorkerAudiences } from '../lambdas/clv-job/adapters/worker-audiences.js';
import { WorkerIntervals } from '../lambdas/clv-job/adapters/worker-intervals.js';
import { DEFAULT_NON_PURCHASE_STATUSES, resolveModelOptions } from '../lambdas/clv-job/config.js';
import type { InputDescription, PreviousCustomers, QueryEngine, ResultColumns } from '../lambdas/clv-job/ports.js';
import { runPipeline } from '../lambdas/clv-job/pipeline/run.js';
import { renderReport } from '../lambdas/clv-job/report/render-report.js';
import { buildRunConfig } from '../lambdas/clv-job/run-config.js';
import { inlineQuery, type QueryName, type SqlParameters } from '../lambdas/clv-job/sql/index.js';

/** The queries a run with a given as-of date asks, in the order it asks them. */
export const RUN_QUERIES: readonly QueryName[] = ['inputRows', 'customers', 'outcomeCounts', 'rejectedRows', 'bgnbdPatterns', 'spendPatterns', 'acquisitionMonths'];

export const AS_OF = '2025-12-31';
const params: SqlParameters = { asOf: AS_OF, nonPurchaseStatuses: [...DEFAULT_NON_PURCHASE_STATUSES] };

/** What a recording was made with: each query's SQL text (its relations inlined) by its SHA-256, so a changed query is recorded again. */
const RECORDING_FILE = 'recording.json';
const sqlHashes = (): Record<string, string> =>
  Object.fromEntries(RUN_QUERIES.map((query) => [query, createHash('sha256').update(inlineQuery(query, params)).digest('hex')]));

/** True when `results` holds a recording of every query the run asks, made with their SQL text as it is now. */
export const recordingIsCurrent = (results: string): boolean => {
  const file = join(results, RECORDING_FILE);
  if (!existsSync(file) || !RUN_QUERIES.every((query) => existsSync(join(results, `${query}.csv`)))) return false;
  return JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))) === JSON.stringify(sqlHashes());
};

/** A CSV field as Athena writes its results: every value quoted, NULL as an empty unquoted field. */
const field = (value: unknown): string => (value === null || value === undefined ? '' : `"${String(value).replaceAll('"', '""')}"`);

/**
 * Child-process mode `--record`: runs the run's queries once with DuckDB over the dataset and keeps
 * each result as the CSV Athena would leave in S3, so the Lambda's side can be replayed without AWS.
 */
export const recordAthenaResults = async (dataset: string, out: string): Promise<void> => {
  const partial = `${out}.partial-${process.pid}`;
  await mkdir(partial, { recursive: true });
  const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles([dataset]))).files });
  try {
    for (const query of RUN_QUERIES) {
      const result = await engine.run(query, params);
      const names = Object.keys(result.columns);
      const file = createWriteStream(join(partial, `${query}.csv`));
      const write = async (line: string) => {
        if (!file.write(`${line}\n`)) await once(file, 'drain');
      };
      await write(names.map(field).join(','));
      for (let i = 0; i < result.rowCount; i++) await write(names.map((n) => field(result.columns[n]![i])).join(','));
      file.end();
      await once(file, 'finish');
    }
  } finally {
    await engine.close();
  }
  await writeFile(join(partial, RECORDING_FILE), JSON.stringify(sqlHashes()));
  await rm(out, { recursive: true, force: true });
  await rename(partial, out);
};

/** Serves recorded result files as the Athena engine serves S3 result objects: through readResultCsv. */
class RecordedAthenaEngine implements QueryEngine {
  readonly name = 'athena';
  constructor(private readonly dir: string) {}
  async describeInput(): Promise<InputDescription> {
    return { files: 1, bytes: null, location: `recorded Athena results in ${this.dir}` };
  }
  /** One recording: its input never changes. */
  async inputVersion(): Promise<string> {
    return this.dir;
  }
  async run(query: QueryName, asked: SqlParameters): Promise<ResultColumns> {
    if (asked.asOf !== AS_OF) throw new Error(`the recorded results are as of ${AS_OF}, not ${asked.asOf}`);
    return readResultCsv(createReadStream(join(this.dir, `${query}.csv`)), query);
  }
  /** The recording holds a first night's results (no previous run joined): a second night cannot be replayed from it. */
  async bindPrevious(previous: PreviousCustomers | null): Promise<void> {
    if (previous !== null) throw new Error(`the recorded results hold no previous run to join (${previous.runDate}); replay into an empty output`);
  }
  async release(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Child-process mode `--lambda-profile`: the Lambda's own work at a given scale, measured without
 * AWS. The handler's pipeline, writer and report with Athena's results replayed from files (decoded
 * by the Athena adapter's reader) and a local folder in place of S3, on the threads the handler
 * starts: interval workers on every core but this thread's (CLV_MODEL_THREADS's default: the cores,
 * at most 8) and, with more than one thread, the audiences' CSV built on a worker. `script` is the
 * running bundle, which must serve those workers (as handler.ts does). What it leaves out: the time
 * Athena spends running the queries, and S3's network transfers. Prints the summary's timings and
 * the threads.
 */
export const runLambdaProfile = async (results: string, output: string, script: URL): Promise<void> => {
  if (!existsSync(join(results, 'customers.csv'))) throw new Error(`no recorded results in ${results}`);
  const t0 = performance.now();
  // the summary's timings end before publishing (the summary is published); the listener sees it too
  const stages: Record<string, number> = {};
  const progress = { stageStarted: () => undefined, stageFinished: (stage: string, seconds: number) => void (stages[stage] = seconds) };
  const model = resolveModelOptions({});
  // as handler.ts wires them
  const intervals = new WorkerIntervals({ threads: model.threads, script });
  const audiences = new WorkerAudiences({ script, worker: intervals.threads > 1 });
  const result = await runPipeline(
    {
      engine: new RecordedAthenaEngine(results),
      store: new LocalFolderStore(output),
      tables: new ParquetTableWriter(),
      now: () => new Date(),
      newRunId: () => 'bench',
      renderReport,
      progress,
      intervals,
      audiences,
    },
    buildRunConfig({ asOf: AS_OF, model, lockTtlSeconds: 900 }),
  );
  const timings = { ...result.summary.run.timings, publish: stages.publish ?? 0 };
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000, timings, threads: intervals.threads })}\n`);
};
