import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { LocalSpendSource } from '../../lambdas/clv-job/adapters/local-spend.js';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { LocalFolderStore } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { ParquetTableWriter } from '../../lambdas/clv-job/adapters/parquet-table-writer.js';
import { DEFAULT_NON_PURCHASE_STATUSES, resolveModelOptions } from '../../lambdas/clv-job/config.js';
import { DEFAULT_ACQUISITION_SETTINGS } from '../../lambdas/clv-job/domain/acquisition/settings.js';
import { DEFAULT_GATE_SETTINGS } from '../../lambdas/clv-job/domain/quality-gates.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../lambdas/clv-job/domain/segments/settings.js';
import type { AudienceCsvBuilder, OutputStore, QueryEngine, TableWriter } from '../../lambdas/clv-job/ports.js';
import { runPipeline, type PipelineDeps, type RunConfig, type RunResult } from '../../lambdas/clv-job/pipeline/run.js';
import { generateOrders, parseGenArgs, type Truth } from './gen-orders.js';

export const defaultRunConfig = (overrides: Partial<RunConfig> = {}): RunConfig => ({
  model: resolveModelOptions({}),
  nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES,
  segments: DEFAULT_SEGMENT_SETTINGS,
  acquisition: DEFAULT_ACQUISITION_SETTINGS,
  lockTtlSeconds: 3600,
  gates: DEFAULT_GATE_SETTINGS,
  acceptFailedGates: false,
  ...overrides,
});

/** The local composition, as the CLI wires it, with room to swap the store, writer or engine for a faulty one. */
export const runLocal = async (
  inputs: readonly string[],
  output: string,
  config: Partial<RunConfig> = {},
  wrap: {
    store?: (s: OutputStore) => OutputStore;
    tables?: (t: TableWriter) => TableWriter;
    engine?: (e: QueryEngine) => QueryEngine;
    now?: () => Date;
    /** A spend file or folder, read as the CLI reads `--spend`. */
    spend?: string;
    /** Builds the audience CSVs (e.g. a WorkerAudiences kept between runs, as a warm Lambda keeps it); in this thread when left out. */
    audiences?: AudienceCsvBuilder;
    /** The exports left out, as the composition roots tell them (PipelineDeps.skippedInputs). */
    skippedInputs?: PipelineDeps['skippedInputs'];
  } = {},
): Promise<RunResult> => {
  const duckdb = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles(inputs))).files });
  const engine = wrap.engine ? wrap.engine(duckdb) : duckdb;
  let runs = 0;
  try {
    const store = new LocalFolderStore(output);
    const tables = new ParquetTableWriter();
    return await runPipeline(
      {
        engine,
        store: wrap.store ? wrap.store(store) : store,
        tables: wrap.tables ? wrap.tables(tables) : tables,
        now: wrap.now ?? (() => new Date('2026-11-23T03:00:00Z')),
        ...(wrap.spend === undefined ? {} : { spend: new LocalSpendSource(wrap.spend) }),
        ...(wrap.audiences === undefined ? {} : { audiences: wrap.audiences }),
        ...(wrap.skippedInputs === undefined ? {} : { skippedInputs: wrap.skippedInputs }),
        newRunId: () => `run-${(runs += 1)}-${Math.random().toString(36).slice(2, 8)}`,
      },
      defaultRunConfig(config),
    );
  } finally {
    await duckdb.close();
  }
};

/**
 * Writes synthetic exports from known parameters into `out`, with the truth a run must report
 * (test/support/gen-orders.ts); `args` are the generator's command-line flags, `--out` aside.
 */
export const genOrders = (out: string, args: readonly string[]): Promise<Truth> => generateOrders({ ...parseGenArgs(args), out });
