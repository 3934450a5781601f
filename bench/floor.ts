import { availableParallelism } from 'node:os';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * The floor: DuckDB alone doing the least any version of this job must do with the same files:
 * read every CSV, keep one copy of each order_id (the last file's, as the job does) and aggregate
 * the orders to one row per customer (first and last purchase day, purchase days, orders, revenue).
 * No validation, no accounting, no model, no output: a lower bound for the job's wall time.
 * Of the formulations tried (a window with QUALIFY, arg_max per order_id, arg_max of a struct) the
 * window was the fastest, so the floor uses it. Same thread count as the job's engine.
 */
export const FLOOR_SQL = (files: readonly string[]): string => {
  const list = `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;
  return `CREATE TABLE customers AS
SELECT customer_id,
  MIN(TRY_CAST(order_date AS DATE)) AS first_day,
  MAX(TRY_CAST(order_date AS DATE)) AS last_day,
  COUNT(DISTINCT order_date) AS purchase_days,
  COUNT(*) AS orders,
  SUM(TRY_CAST(amount AS DOUBLE)) AS revenue
FROM (
  SELECT * FROM read_csv(${list}, header = true, all_varchar = true, filename = 'source_file')
  QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY source_file DESC) = 1
)
GROUP BY customer_id`;
};

/** Child-process mode: runs the floor over a dataset folder and prints `{ seconds, customers }` as JSON. */
export const runFloor = async (dir: string): Promise<void> => {
  const t0 = performance.now();
  const files = (await readdir(dir)).filter((f) => /\.csv(\.gz)?$/.test(f)).sort().map((f) => join(dir, f));
  const instance = await DuckDBInstance.create(':memory:', { threads: String(availableParallelism()) });
  const connection = await instance.connect();
  await connection.run(FLOOR_SQL(files));
  const customers = Number((await connection.runAndReadAll('SELECT COUNT(*) FROM customers')).getRows()[0]?.[0]);
  connection.closeSync();
  instance.closeSync();
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000, customers })}\n`);
};
