import { LocalSpendSource } from '../../lambdas/clv-job/adapters/local-spend.js';
import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { LocalFolderStore } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { ParquetTableWriter } from '../../lambdas/clv-job/adapters/parquet-table-writer.js';
import { runPipeline, type RunConfig, type RunResult } from '../../lambdas/clv-job/pipeline/run.js';
import { renderReport } from '../../lambdas/clv-job/report/render-report.js';
import { sampleData } from '../support/files.js';
import { defaultRunConfig } from '../support/pipeline.js';

/** The CLI's composition with the report wired in, as `clv run` has it, with a fixed clock. */
export const runWithReport = async (output: string, config: Partial<RunConfig> = {}, spend?: string): Promise<RunResult> => {
  const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles([sampleData]))).files });
  try {
    return await runPipeline(
      {
        engine,
        store: new LocalFolderStore(output),
        tables: new ParquetTableWriter(),
        now: () => new Date('2026-11-23T03:00:00Z'),
        newRunId: () => `run-${config.asOf ?? 'latest'}`,
        renderReport,
        ...(spend === undefined ? {} : { spend: new LocalSpendSource(spend) }),
      },
      defaultRunConfig(config),
    );
  } finally {
    await engine.close();
  }
};

/** The text of every element with this data-testid, and its exact value, from a page's HTML. */
export const shownValues = (html: string, testId: string): { text: string; value: number }[] =>
  [...html.matchAll(new RegExp(`<span data-testid="${testId}" data-value="([^"]*)">([^<]*)</span>`, 'g'))].map((m) => ({ value: Number(m[1]), text: m[2]! }));
