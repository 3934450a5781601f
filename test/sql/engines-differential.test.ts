import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalOrdersBinding } from '../../lambdas/clv-job/adapters/canonical-orders-binding.js';
import { TRINO_FUNCTION_MACROS } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import type { IngestConfigInput } from '../../lambdas/clv-job/ingest/ingest-config.js';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import { CANONICAL_ORDER_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';
import { QUERIES, inlineQuery, type QueryName, type SqlParameters } from '../../lambdas/clv-job/sql/index.js';
import { fixture, tempDir } from '../support/files.js';
import { FIRST_PURCHASE_CONFIG, writeFirstPurchaseExport } from '../support/first-purchase-export.js';
import { createBucket, startMoto, type MotoServer } from '../support/moto-server.js';
import { describeWith } from '../support/services.js';
import { seededUniform } from '../support/simulate.js';
import { createGlueParquetTable, createMotoHiveCatalog, deployStackGlueTables, dropCatalog, trinoStatement } from '../support/trino-catalog.js';
import { sharedTrino, type TrinoServerInfo } from '../support/trino-server.js';

/**
 * Every query of the shared SQL on both engines over the very same canonical orders: each data set
 * is ingested once (the one ingest, into canonical Parquet), DuckDB reads those files locally and
 * Trino reads them from moto's S3 through a Glue table of the canonical columns. Integers, strings
 * and dates must be identical; doubles are compared exactly too, since money is summed as DECIMAL
 * before it becomes a double.
 */
const BUCKET = 'clv-differential';

/** An export written to stress the SQL: ties, NULL channels, equal dates, large and fractional amounts, re-sent and conflicting copies. */
const adversarialExport = async (dir: string): Promise<void> => {
  const u = seededUniform(16);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(u() * xs.length)]!;
  const header = 'order_id,customer_id,order_date,amount,channel,status';
  const files: string[][] = [[header], [header]];
  const days = ['2024-01-31', '2024-02-29', '2024-03-01', '2024-06-15', '2024-12-31', '2025-01-01', '2025-03-15', '2025-06-30', '2025-07-01'];
  const amounts = ['0.1', '0.2', '0.3', '10', '19.99', '0', '-0', '999999999.99', '123456789012.345678', '0.000001', '0.0000005', '2.5000005', '\t42.50 ', ' 7 ', `1${'0'.repeat(40)}`, '-3'];
  const channels = ['', '', 'web', 'email', 'search', ' partner ', '"a, b"'];
  const statuses = ['', 'completed', 'Cancelled', ' refunded', 'void'];
  let order = 0;
  for (let c = 0; c < 240; c++) {
    const customer = `C${String(c % 200).padStart(4, '0')}`;
    const orders = 1 + Math.floor(u() * 6);
    for (let k = 0; k < orders; k++) {
      order += 1;
      // equal dates and order ids that tie on the day: several orders a day
      const line = [`O${String(order).padStart(6, '0')}`, customer, pick(days), pick(amounts), pick(channels), pick(statuses)].join(',');
      files[0]!.push(line);
      if (u() < 0.1) files[1]!.push(line); // re-sent
      if (u() < 0.03) files[1]!.push(line.replace(/,[^,]*,/, `,${customer}X,`)); // conflicting copy
    }
  }
  await writeFile(join(dir, 'orders-1.csv'), files[0]!.join('\n') + '\n');
  await writeFile(join(dir, 'orders-2.csv'), files[1]!.join('\r\n') + '\r\n');
};

/** A value as both engines' JSON results can be compared: numbers as numbers, everything else as text. */
const comparable = (value: unknown): number | string | null => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return String(value);
};

interface Difference {
  readonly query: QueryName;
  readonly row: number;
  readonly column: string;
  readonly duckdb: unknown;
  readonly trino: unknown;
}

const differences = (query: QueryName, columns: readonly string[], duck: unknown[][], trino: unknown[][]): Difference[] => {
  const out: Difference[] = [];
  for (let r = 0; r < Math.max(duck.length, trino.length); r++) {
    columns.forEach((column, c) => {
      const a = comparable(duck[r]?.[c]);
      const b = comparable(trino[r]?.[c]);
      // a DECIMAL or BIGINT may come back as text from one client and a number from the other
      const same = a === b || (a !== null && b !== null && Number(a) === Number(b) && !Number.isNaN(Number(a)));
      if (!same || duck[r] === undefined || trino[r] === undefined) out.push({ query, row: r + 1, column, duckdb: duck[r]?.[c], trino: trino[r]?.[c] });
    });
  }
  return out;
};

describeWith(['moto', 'trino'], 'the shared SQL on DuckDB and on Trino, over the same orders', () => {
  let trino: TrinoServerInfo;
  let moto: MotoServer;
  let s3: S3Client;
  let catalog: string;
  let duckdb: DuckDBInstance;
  let connection: DuckDBConnection;

  beforeAll(async () => {
    [trino, moto] = await Promise.all([sharedTrino(), startMoto()]);
    s3 = await createBucket(moto.endpoint, BUCKET);
    await deployStackGlueTables(moto.endpoint, BUCKET);
    catalog = await createMotoHiveCatalog(trino.url, moto.endpoint);
    duckdb = await DuckDBInstance.create(':memory:', { threads: '2' });
    connection = await duckdb.connect();
    for (const macro of TRINO_FUNCTION_MACROS) await connection.run(macro);
  });
  afterAll(async () => {
    connection?.closeSync();
    duckdb?.closeSync();
    if (catalog) await dropCatalog(trino.url, catalog);
    await moto?.stop();
  });

  /** Ingests the exports of `dir` and binds their canonical files on both engines: DuckDB locally, Trino through a Glue table over moto's S3. */
  const bindOrders = async (name: string, dir: string, config?: IngestConfigInput): Promise<{ duckdb: string; trino: string; rows: number }> => {
    const { files } = await ingestLocalFiles(await findInputFiles([dir]), { config, directory: join(await tempDir(), 'ingested') });
    for (const file of files) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `canonical/${name}/${basename(file.path)}`, Body: await readFile(file.path) }));
    }
    await createGlueParquetTable(moto.endpoint, 'clv', name, `s3://${BUCKET}/canonical/${name}/`, CANONICAL_ORDER_COLUMNS);
    const paths = `[${files.map((f) => `'${f.path.replaceAll("'", "''")}'`).join(', ')}]`;
    const duckdbBinding = `SELECT ${CANONICAL_ORDER_COLUMNS.map((c) => c.name).join(', ')} FROM read_parquet(${paths})`;
    const rows = Number((await connection.runAndReadAll(`SELECT COUNT(*) FROM read_parquet(${paths})`)).getRowsJson()[0]?.[0]);
    return { duckdb: duckdbBinding, trino: canonicalOrdersBinding('clv', name), rows };
  };

  const runBoth = async (orders: { duckdb: string; trino: string }, params: SqlParameters): Promise<Difference[]> => {
    const found: Difference[] = [];
    for (const query of Object.keys(QUERIES) as QueryName[]) {
      const local = await connection.runAndReadAll(inlineQuery(query, params, orders.duckdb));
      const columns = local.columnNames();
      const remote = await trinoStatement(trino.url, inlineQuery(query, params, orders.trino), { catalog, schema: 'clv' });
      found.push(...differences(query, columns, local.getRowsJson() as unknown[][], remote));
    }
    return found;
  };

  const params = (asOf: string): SqlParameters => ({ asOf, calibrationEnd: asOf, nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES });

  it.each([
    ['the adversarial exports of the parity case (quotes, line breaks, tabs, a first order without a channel)', 'athena_parity', '2025-06-30'],
    ['a generated export with ties, NULL channels, equal dates, large amounts, re-sent and conflicting copies', 'generated', '2025-03-31'],
    ['an export keyed by order id and store (orderKey) whose first orders tie on the day and on the order id', 'first_purchase', '2024-06-30'],
  ])('gives identical rows for every query over %s', async (_what, name, asOf) => {
    const dir = name === 'athena_parity' ? fixture('cases', 'athena-parity') : await tempDir();
    if (name === 'generated') await adversarialExport(dir);
    if (name === 'first_purchase') await writeFirstPurchaseExport(dir);
    const orders = await bindOrders(name, dir, name === 'first_purchase' ? FIRST_PURCHASE_CONFIG : undefined);

    const found = await runBoth(orders, params(asOf));

    expect(orders.rows).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });

  describe('the comparison itself', () => {
    it('notices a difference: Trino keeps the NULL that DuckDB\'s MIN_BY skips', async () => {
      const sql = `SELECT MIN_BY(channel, k) AS first_channel FROM (VALUES (CAST(NULL AS VARCHAR), 1), ('web', 2)) t(channel, k)`;

      const local = (await connection.runAndReadAll(sql)).getRowsJson() as unknown[][];
      const remote = await trinoStatement(trino.url, sql);

      expect(differences('customers', ['first_channel'], local, remote)).toEqual([{ query: 'customers', row: 1, column: 'first_channel', duckdb: 'web', trino: null }]);
    });
  });
});
