import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { LocalFolderStore } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { ParquetTableWriter } from '../../lambdas/clv-job/adapters/parquet-table-writer.js';
import { DEFAULT_NON_PURCHASE_STATUSES, resolveModelOptions } from '../../lambdas/clv-job/config.js';
import { DEFAULT_GATE_SETTINGS } from '../../lambdas/clv-job/domain/quality-gates.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../lambdas/clv-job/domain/segments/settings.js';
import type { OutputStore, TableWriter } from '../../lambdas/clv-job/ports.js';
import { runPipeline, type RunConfig, type RunResult } from '../../lambdas/clv-job/pipeline/run.js';
import { sharedDir } from './files.js';

export const defaultRunConfig = (overrides: Partial<RunConfig> = {}): RunConfig => ({
  model: resolveModelOptions({}),
  nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES,
  segments: DEFAULT_SEGMENT_SETTINGS,
  lockTtlSeconds: 3600,
  gates: DEFAULT_GATE_SETTINGS,
  acceptFailedGates: false,
  ...overrides,
});

/** The local composition, as the CLI wires it, with room to swap the store or writer for a faulty one. */
export const runLocal = async (
  inputs: readonly string[],
  output: string,
  config: Partial<RunConfig> = {},
  wrap: { store?: (s: OutputStore) => OutputStore; tables?: (t: TableWriter) => TableWriter } = {},
): Promise<RunResult> => {
  const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles(inputs))).files });
  let runs = 0;
  try {
    const store = new LocalFolderStore(output);
    const tables = new ParquetTableWriter();
    return await runPipeline(
      {
        engine,
        store: wrap.store ? wrap.store(store) : store,
        tables: wrap.tables ? wrap.tables(tables) : tables,
        now: () => new Date('2026-11-23T03:00:00Z'),
        newRunId: () => `run-${(runs += 1)}-${Math.random().toString(36).slice(2, 8)}`,
      },
      defaultRunConfig(config),
    );
  } finally {
    await engine.close();
  }
};

export interface Truth {
  readonly asOf: string;
  readonly rowsWritten: number;
  readonly validOrders: number;
  readonly cancelledOrders: number;
  readonly resentDuplicates: number;
  readonly defects: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<'r' | 'alpha' | 'a' | 'b' | 'p' | 'q' | 'gamma', number>>;
}

/** gen-orders writes synthetic exports from known parameters, and a truth.json of what a run must count. */
export const genOrders = async (out: string, args: readonly string[]): Promise<Truth> => {
  await promisify(execFile)(process.execPath, [join(sharedDir, 'tools', 'gen-orders.mjs'), '--out', out, ...args]);
  return JSON.parse(await readFile(join(out, 'truth.json'), 'utf8')) as Truth;
};

/** gen-orders' defect kinds, as the input contract names their reasons. */
export const REASON_OF_DEFECT: Readonly<Record<string, string>> = {
  missing_order_id: 'missing_order_id',
  missing_customer_id: 'missing_customer_id',
  unparsable_date: 'invalid_order_date',
  unparsable_amount: 'invalid_amount',
  negative_amount: 'negative_amount',
  future_date: 'order_date_after_as_of',
};
