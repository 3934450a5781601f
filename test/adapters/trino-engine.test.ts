import { readFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { isTrinoErrorOfTheMoment, TrinoEngine, TrinoQueryError } from '../../lambdas/clv-job/adapters/trino-engine.js';
import { decodeCustomers, decodeOutcomeCounts } from '../../lambdas/clv-job/pipeline/engine-results.js';
import type { Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { CANONICAL_ORDER_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { sampleData, tempDir } from '../support/files.js';
import { createBucket, startMoto, type MotoServer } from '../support/moto-server.js';
import { describeWith } from '../support/services.js';
import { createGlueDatabase, createGlueParquetTable, createMotoHiveCatalog, dropCatalog } from '../support/trino-catalog.js';
import { sharedTrino, type TrinoServerInfo } from '../support/trino-server.js';

const BUCKET = 'clv-trino-engine';
const AS_OF = '2025-12-31';
const params = { asOf: AS_OF, nonPurchaseStatuses: ['cancelled', 'canceled', 'refunded', 'returned', 'void'] };

const readSummary = async (output: string): Promise<Summary> =>
  JSON.parse(await readFile(join(output, `summary/run_date=${AS_OF}/summary.json`), 'utf8')) as Summary;

/** An HTTP proxy to the Trino at `target` adding `headers` to every request; Trino's next URIs name the proxy (the Host it was asked at). */
const trinoProxy = async (target: string, headers: Record<string, string>): Promise<{ url: string; close: () => Promise<void> }> => {
  const { hostname, port } = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const upstream = request({ hostname, port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, ...headers } }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
};

describeWith(['moto', 'trino'], "the Trino engine against a team's own Trino (a Glue table of canonical orders over S3)", () => {
  let trino: TrinoServerInfo;
  let moto: MotoServer;
  let s3: S3Client;
  let catalog: string;
  const engine = (overrides: Partial<ConstructorParameters<typeof TrinoEngine>[0]> = {}) =>
    new TrinoEngine({ url: trino.url, catalog, schema: 'clv', ...overrides });

  beforeAll(async () => {
    await requireCliBundle();
    [trino, moto] = await Promise.all([sharedTrino(), startMoto()]);
    s3 = await createBucket(moto.endpoint, BUCKET);
    // the team's Trino holds the canonical orders its ingest wrote: the sample's exports, ingested
    const { files } = await ingestLocalFiles(await findInputFiles([sampleData]), { directory: join(await tempDir(), 'ingested') });
    for (const file of files) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `ingested/${basename(file.path)}`, Body: await readFile(file.path) }));
    }
    await createGlueDatabase(moto.endpoint, 'clv');
    await createGlueParquetTable(moto.endpoint, 'clv', 'orders', `s3://${BUCKET}/ingested/`, CANONICAL_ORDER_COLUMNS);
    catalog = await createMotoHiveCatalog(trino.url, moto.endpoint);
  });
  afterAll(async () => {
    if (catalog) await dropCatalog(trino.url, catalog);
    await moto?.stop();
  });

  describe('a query', () => {
    it('comes back as columns the pipeline decoders type, every input row accounted for', async () => {
      const trinoEngine = engine();

      const inputRows = Number((await trinoEngine.run('inputRows', params)).columns.input_rows?.[0]);
      const counts = decodeOutcomeCounts(await trinoEngine.run('outcomeCounts', params));
      const customers = decodeCustomers(await trinoEngine.run('customers', params));

      const counted = counts.reduce((sum, c) => sum + c.row_count, 0);
      expect(inputRows).toBeGreaterThan(0);
      expect(counted).toBe(inputRows);
      expect(customers.size).toBeGreaterThan(300);
      expect(customers.customerId).toEqual([...customers.customerId].sort());
    });

    it('describes its input as the table, counting the files Trino reads', async () => {
      const input = await engine().describeInput();

      expect(input).toEqual({ files: 3, bytes: null, location: `${catalog}.clv.orders (${trino.url})` });
    });

    it("fails with Trino's error name and the query's id when the table is not there", async () => {
      const error = await engine({ table: 'no_such_table' })
        .run('customers', params)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TrinoQueryError);
      expect(error).toMatchObject({ query: 'customers', errorName: 'TABLE_NOT_FOUND', trinoQueryId: expect.stringMatching(/^\d{8}_/), transient: false });
      expect((error as Error).message).toMatch(/no_such_table/);
    });

    it('fails naming the server when it cannot be reached, a failure of the moment', async () => {
      const error = await engine({ url: 'http://127.0.0.1:9' })
        .run('inputRows', params)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TrinoQueryError);
      expect(error).toMatchObject({ errorName: 'CONNECTION', trinoQueryId: null, transient: true });
      expect((error as Error).message).toMatch(/127\.0\.0\.1:9/);
    });
  });

  describe('a failure of the moment, told apart from damaged files', () => {
    it('is not transient when a file of the table is damaged', async () => {
      // a table over one canonical file cut short: the Hive connector reports it under EXTERNAL, as it does
      // what is of the moment in its metastore or file system
      const [ingested] = (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'ingested/' }))).Contents ?? [];
      const bytes = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: ingested!.Key! }))).Body!.transformToByteArray();
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'damaged/orders.parquet', Body: bytes.subarray(0, bytes.length >> 1) }));
      await createGlueParquetTable(moto.endpoint, 'clv', 'damaged_orders', `s3://${BUCKET}/damaged/`, CANONICAL_ORDER_COLUMNS);

      const error = await engine({ table: 'damaged_orders' })
        .run('inputRows', params)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TrinoQueryError);
      expect(error).toMatchObject({ errorName: 'HIVE_BAD_DATA', transient: false });
      // Trino quotes the four bytes it found where the magic number should be: any bytes, a line feed among them
      expect((error as Error).message).toMatch(/Malformed Parquet file[\s\S]*damaged\/orders\.parquet/);
    });

    it('is transient when Trino runs out of memory', async () => {
      // the sample never exceeds the test's Trino: a proxy lowers the memory limit of every session, as a
      // team's cluster may (a resource group's limits), and the engine meets Trino's own error. The limit is
      // the per-node one, which Trino enforces on every reservation: the cluster-wide query_max_memory is
      // only checked when Trino samples memory, so a small query could end before it is ever exceeded
      const proxy = await trinoProxy(trino.url, { 'X-Trino-Session': 'query_max_memory_per_node=1kB' });
      try {
        const error = await engine({ url: proxy.url })
          .run('customers', params)
          .catch((e: unknown) => e);

        expect(error).toBeInstanceOf(TrinoQueryError);
        expect(error).toMatchObject({ errorName: 'EXCEEDED_LOCAL_MEMORY_LIMIT', transient: true });
      } finally {
        await proxy.close();
      }
    });
  });

  describe('clv run --engine trino', () => {
    it('runs the nightly job on the Trino table and publishes what the DuckDB run of the same exports publishes', async () => {
      const cwd = await tempDir();

      const onTrino = await clv(
        ['run', '--engine', 'trino', '--trino-url', trino.url, '--trino-catalog', catalog, '--trino-schema', 'clv', '--output', 'trino', '--as-of', AS_OF],
        cwd,
      );
      const onDuckDb = await clv(['run', '--input', sampleData, '--output', 'duckdb', '--as-of', AS_OF], cwd);

      expect(onTrino.stderr).toBe('');
      expect(onTrino.code).toBe(0);
      expect(onDuckDb.code).toBe(0);
      const [trinoSummary, duckDbSummary] = await Promise.all([readSummary(join(cwd, 'trino')), readSummary(join(cwd, 'duckdb'))]);
      expect(trinoSummary.run.engine).toBe('trino');
      expect(trinoSummary.counts).toEqual(duckDbSummary.counts);
      expect(trinoSummary.models).toEqual(duckDbSummary.models);
      expect(trinoSummary.segments).toEqual(duckDbSummary.segments);
      expect(trinoSummary.totals).toEqual(duckDbSummary.totals);
    });
  });
});

describe("the Trino engine's binding of the previous run's customers", () => {
  const engine = () => new TrinoEngine({ url: 'http://127.0.0.1:9', catalog: 'hive', schema: 'clv' });

  it("refuses a local output's files, which Trino cannot read (the Glue table would name another output's runs)", async () => {
    await expect(engine().bindPrevious({ runDate: '2025-06-30', files: ['/out/customers/run_date=2025-06-30/segment=high/part-00000.parquet'] })).rejects.toThrow(
      /Trino cannot read the previous run's customers \(2025-06-30\) outside S3/,
    );
  });
});

describe("Trino's errors of the moment, by the errorName and errorType of Trino's QueryError", () => {
  // names and types as trino-spi's StandardErrorCode and the Hive connector's HiveErrorCode declare them
  it.each([
    ['EXCEEDED_LOCAL_MEMORY_LIMIT', 'INSUFFICIENT_RESOURCES', true],
    ['CLUSTER_OUT_OF_MEMORY', 'INSUFFICIENT_RESOURCES', true],
    ['QUERY_QUEUE_FULL', 'INSUFFICIENT_RESOURCES', true],
    ['SERVER_SHUTTING_DOWN', 'INTERNAL_ERROR', true],
    ['TOO_MANY_REQUESTS_FAILED', 'INTERNAL_ERROR', true],
    ['NO_NODES_AVAILABLE', 'INTERNAL_ERROR', true],
    ['USER_CANCELED', 'USER_ERROR', true],
    ['ADMINISTRATIVELY_KILLED', 'USER_ERROR', true],
    ['GENERIC_INTERNAL_ERROR', 'INTERNAL_ERROR', false],
    ['TABLE_NOT_FOUND', 'USER_ERROR', false],
    ['HIVE_BAD_DATA', 'EXTERNAL', false],
    ['HIVE_CANNOT_OPEN_SPLIT', 'EXTERNAL', false],
    ['HIVE_FILE_NOT_FOUND', 'EXTERNAL', false],
  ] as const)('%s (%s) is of the moment: %s', (errorName, errorType, transient) => {
    expect(isTrinoErrorOfTheMoment({ errorName, errorType })).toBe(transient);
  });
});
