import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParquetTableWriter } from '../../lambdas/clv-job/adapters/parquet-table-writer.js';
import type { ByteSink } from '../../lambdas/clv-job/ports.js';
import type { ColumnSpec } from '../../lambdas/clv-job/schemas/tables.js';
import { parquetTypes, queryDuckDb } from '../support/duckdb-reader.js';
import { tempDir } from '../support/files.js';

const fileSink = async (path: string): Promise<ByteSink> => {
  const stream = createWriteStream(path);
  return {
    async write(chunk) {
      if (!stream.write(chunk)) await once(stream, 'drain');
    },
    async close() {
      stream.end();
      await once(stream, 'finish');
    },
  };
};

describe('the Parquet table writer, read back by DuckDB', () => {
  it('writes each contract type as DuckDB reads it, nulls included', async () => {
    const path = join(await tempDir(), 't.parquet');
    const columns: ColumnSpec[] = [
      { name: 's', type: 'string', comment: '' },
      { name: 'i', type: 'int', comment: '' },
      { name: 'd', type: 'double', comment: '' },
      { name: 'day', type: 'date', comment: '' },
    ];
    const file = new ParquetTableWriter().open(await fileSink(path), columns);

    await file.append({ s: ['a', null, 'ü, "q"'], i: Int32Array.from([1, -2, 2147483647]), d: [0.1, null, 1e300], day: [0, 19723, null] }, 3);
    const written = await file.close();
    const rows = await queryDuckDb(`SELECT s, i, d, CAST(day AS VARCHAR) AS day FROM read_parquet('${path}')`);

    expect(written.rows).toBe(3);
    expect(await parquetTypes(path)).toEqual({ s: 'VARCHAR', i: 'INTEGER', d: 'DOUBLE', day: 'DATE' });
    expect(rows).toEqual([
      { s: 'a', i: 1, d: 0.1, day: '1970-01-01' },
      { s: null, i: -2, d: null, day: '2024-01-01' },
      { s: 'ü, "q"', i: 2147483647, d: 1e300, day: null },
    ]);
  });

  it('streams many row groups to the sink and keeps every row', async () => {
    const path = join(await tempDir(), 'big.parquet');
    const columns: ColumnSpec[] = [{ name: 'n', type: 'int', comment: '' }];
    const file = new ParquetTableWriter().open(await fileSink(path), columns);
    const batch = 120_000;

    for (let b = 0; b < 3; b++) await file.append({ n: Int32Array.from({ length: batch }, (_, i) => b * batch + i) }, batch);
    await file.close();
    const [stats] = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS n, SUM(n)::DOUBLE AS total FROM read_parquet('${path}')`);
    const groups = await queryDuckDb(`SELECT COUNT(DISTINCT row_group_id)::INTEGER AS g FROM parquet_metadata('${path}')`);

    expect(stats).toEqual({ n: 3 * batch, total: ((3 * batch - 1) * 3 * batch) / 2 });
    expect(groups[0]?.g).toBeGreaterThan(3);
  });
});
