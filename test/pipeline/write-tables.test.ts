/**
 * The run's tables are written by the engine itself where it can (DuckDB's COPY into the local run
 * folder), else by the pipeline's Parquet writer from the columns in memory (the Lambda with Athena).
 * Readers must not be able to tell: the same files, columns, types, rows and values, row by row.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER_COLUMNS, REJECTED_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';
import { parquetTypes, queryDuckDb } from '../support/duckdb-reader.js';
import { tempDir } from '../support/files.js';
import { genOrders, runLocal, withoutTableWriting } from '../support/pipeline.js';

const AS_OF = '2025-12-31';

const parquetFiles = async (root: string): Promise<string[]> =>
  (await readdir(root, { recursive: true }))
    .filter((f) => f.endsWith('.parquet') && (f.startsWith('customers/') || f.startsWith('rejected/')))
    .sort();

/** Rows of `a` not in `b`, row position included (set difference keeps duplicates apart; NULL matches NULL). */
const rowsMissing = async (a: string, b: string): Promise<number> => {
  const [row] = await queryDuckDb(
    `SELECT COUNT(*)::INTEGER AS n FROM (SELECT * FROM read_parquet('${a}', file_row_number = true, hive_partitioning = false) EXCEPT ALL SELECT * FROM read_parquet('${b}', file_row_number = true, hive_partitioning = false))`,
  );
  return Number(row?.n);
};

describe('writing the run tables in the engine or in the pipeline', () => {
  let engineOut: string;
  let pipelineOut: string;
  let customers: number;

  beforeAll(async () => {
    // Prepare: 3,000 generated customers with every defect the generator makes; one run each way
    const dir = await tempDir();
    await genOrders(join(dir, 'exports'), ['--customers', '3000', '--seed', '11']);
    engineOut = join(dir, 'engine');
    pipelineOut = join(dir, 'pipeline');
    const engineRun = await runLocal([join(dir, 'exports')], engineOut, { asOf: AS_OF });
    await runLocal([join(dir, 'exports')], pipelineOut, { asOf: AS_OF }, { engine: withoutTableWriting });
    customers = engineRun.summary.counts.customers;
  }, 120_000);

  it('writes the same files under the same keys, one per tier and one of rejected rows', async () => {
    const files = await parquetFiles(engineOut);

    expect(files).toEqual(await parquetFiles(pipelineOut));
    expect(files).toEqual([
      `customers/run_date=${AS_OF}/segment=high/part-00000.parquet`,
      `customers/run_date=${AS_OF}/segment=low/part-00000.parquet`,
      `customers/run_date=${AS_OF}/segment=mid/part-00000.parquet`,
      `rejected/run_date=${AS_OF}/part-00000.parquet`,
    ]);
  });

  it('gives every file the contract columns in order with the same types', async () => {
    for (const file of await parquetFiles(engineOut)) {
      const types = await parquetTypes(join(engineOut, file));
      const contract = file.startsWith('customers/') ? CUSTOMER_COLUMNS : REJECTED_COLUMNS;

      expect(Object.keys(types), file).toEqual(contract.map((c) => c.name));
      expect(types, file).toEqual(await parquetTypes(join(pipelineOut, file)));
    }
  });

  it('writes every customer and every rejected row with the same values in the same order', async () => {
    const files = await parquetFiles(engineOut);
    let rows = 0;
    for (const file of files) {
      const [a, b] = [join(engineOut, file), join(pipelineOut, file)];
      const [count] = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS n FROM read_parquet('${a}')`);
      if (file.startsWith('customers/')) rows += Number(count?.n);

      expect([await rowsMissing(a, b), await rowsMissing(b, a)], relative(engineOut, a)).toEqual([0, 0]);
    }
    expect(rows).toBe(customers);
  });
});
