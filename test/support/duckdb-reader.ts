import { DuckDBInstance } from '@duckdb/node-api';

/**
 * DuckDB as the independent reader of what the job writes: if DuckDB reads our Parquet with the
 * contract's types and values, so will Athena, Spark and pandas.
 */
export const queryDuckDb = async (sql: string): Promise<Record<string, unknown>[]> => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
};

export const parquetTypes = async (path: string): Promise<Record<string, string>> =>
  Object.fromEntries(
    (await queryDuckDb(`DESCRIBE SELECT * FROM read_parquet('${path}', hive_partitioning = false)`)).map((r) => [String(r.column_name), String(r.column_type)]),
  );
