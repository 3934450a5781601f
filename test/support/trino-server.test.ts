import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestExport } from '../../lambdas/clv-job/ingest/ingest-export.js';
import { CATALOG_TABLES } from '../../lambdas/clv-job/layout.js';
import { ORDER_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';
import { createBucket, startMoto, type MotoServer } from './moto-server.js';
import { describeWith } from './services.js';
import { createMotoHiveCatalog, deployStackGlueTables, dropCatalog, trinoStatement } from './trino-catalog.js';
import { sharedTrino, type TrinoServerInfo } from './trino-server.js';

const BUCKET = 'clv-trino-harness';

describeWith(['moto', 'trino'], 'the test Trino', () => {
  let trino: TrinoServerInfo;
  let moto: MotoServer;
  let s3: S3Client;
  let catalog: string;

  beforeAll(async () => {
    [trino, moto] = await Promise.all([sharedTrino(), startMoto()]);
    s3 = await createBucket(moto.endpoint, BUCKET);
    await deployStackGlueTables(moto.endpoint, BUCKET);
    catalog = await createMotoHiveCatalog(trino.url, moto.endpoint);
  });
  afterAll(async () => {
    if (catalog) await dropCatalog(trino.url, catalog);
    await moto?.stop();
  });

  it('answers on 127.0.0.1 well within a minute of being started', () => {
    expect(trino.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(trino.startSeconds).toBeLessThan(45);
  });

  it('is the one server of the run: asking again gives the same process', async () => {
    expect(await sharedTrino()).toEqual(trino);
  });

  describe('a Hive catalog over moto', () => {
    it('sees the Glue tables the stack deploys, with the types tables.ts gives them', async () => {
      const tables = await trinoStatement(trino.url, `SHOW TABLES FROM ${catalog}.clv`);
      expect(tables.flat().sort()).toEqual(['orders', ...CATALOG_TABLES.map(({ table }) => table)].sort());
      const customers = await trinoStatement(trino.url, `DESCRIBE ${catalog}.clv.customers`);
      expect(customers.find((c) => c[0] === 'first_order_date')?.[1]).toBe('date');
      expect(customers.find((c) => c[0] === 'run_date')?.slice(1, 3)).toEqual(['date', 'partition key']);
    });

    it('reads the canonical Parquet copies in moto through the orders table, by column name, with "$path"', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'clv-trino-harness-'));
      try {
        await writeFile(join(dir, 'a.csv'), `${ORDER_COLUMNS.join(',')}\no1,c1,2025-01-02,10.5,"web, ""beta""",\n`);
        const { canonical } = await ingestExport({ source: join(dir, 'a.csv'), sourceName: `s3://${BUCKET}/orders/a.csv`, output: join(dir, 'a.parquet') });
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ingested/a.csv.parquet', Body: await readFile(canonical) }));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }

      const rows = await trinoStatement(trino.url, `SELECT order_id, channel, CAST(order_date AS VARCHAR), source_file, "$path" FROM orders`, { catalog, schema: 'clv' });

      expect(rows).toEqual([['o1', 'web, "beta"', '2025-01-02', `s3://${BUCKET}/orders/a.csv`, `s3://${BUCKET}/ingested/a.csv.parquet`]]);
    });
  });
});
