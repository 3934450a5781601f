import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResultColumns } from '../../lambdas/clv-job/adapters/duckdb-result.js';

describe('reading a DuckDB result into columns', () => {
  let instance: DuckDBInstance;
  const read = async (sql: string) => {
    const connection = await instance.connect();
    try {
      return await readResultColumns(await connection.stream(sql));
    } finally {
      connection.closeSync();
    }
  };
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => instance.closeSync());

  it('hands INTEGER and DOUBLE columns over as typed arrays, across many chunks', async () => {
    const result = await read('SELECT CAST(i AS INTEGER) AS n, i / 4 AS x, CAST(i AS VARCHAR) AS s FROM range(5000) t(i) ORDER BY i');

    expect(result.rowCount).toBe(5000);
    expect(result.columns.n).toBeInstanceOf(Int32Array);
    expect(result.columns.x).toBeInstanceOf(Float64Array);
    expect(Array.from(result.columns.n!).slice(4997)).toEqual([4997, 4998, 4999]);
    expect(result.columns.x![4999]).toBe(1249.75);
    expect(result.columns.s![2049]).toBe('2049');
  });

  it('keeps a numeric column with a NULL as numbers and nulls, in order', async () => {
    const result = await read('SELECT CASE WHEN i = 3000 THEN NULL ELSE CAST(i AS INTEGER) END AS n FROM range(3002) t(i) ORDER BY i');
    const n = result.columns.n!;

    expect(Array.isArray(n)).toBe(true);
    expect([n[0], n[2999], n[3000], n[3001]]).toEqual([0, 2999, null, 3001]);
    expect(n.length).toBe(3002);
  });

  it('converts other types as @duckdb/node-api does (BIGINT as bigint), and reads an empty result', async () => {
    const one = await read(`SELECT COUNT(*) AS c, CAST(NULL AS VARCHAR) AS v FROM range(3)`);
    const none = await read('SELECT CAST(1 AS INTEGER) AS n WHERE false');

    expect(one).toEqual({ rowCount: 1, columns: { c: [3n], v: [null] } });
    expect(none.rowCount).toBe(0);
    expect(Array.from(none.columns.n!)).toEqual([]);
  });
});
