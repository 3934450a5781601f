import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      expect(tables.flat().sort()).toEqual(['customers', 'orders', 'rejected_rows']);
      const customers = await trinoStatement(trino.url, `DESCRIBE ${catalog}.clv.customers`);
      expect(customers.find((c) => c[0] === 'first_order_date')?.[1]).toBe('date');
      expect(customers.find((c) => c[0] === 'run_date')?.slice(1, 3)).toEqual(['date', 'partition key']);
    });

    it('reads the objects in moto through the table, with "$path"', async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'orders/a.csv',
          Body: `${ORDER_COLUMNS.join(',')}\no1,c1,2025-01-02,10.5,"web, ""beta""",\n`,
        }),
      );

      const rows = await trinoStatement(trino.url, `SELECT order_id, channel, "$path" FROM orders`, { catalog, schema: 'clv' });

      expect(rows).toEqual([['o1', 'web, "beta"', `s3://${BUCKET}/orders/a.csv`]]);
    });
  });
});
