import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { AthenaClient, paginateGetQueryResults, StartQueryExecutionCommand, type AthenaClientConfig } from '@aws-sdk/client-athena';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ATHENA_CLIENT_DEFAULTS, AthenaEngine, AthenaQueryError, readResultCsv } from '../../lambdas/clv-job/adapters/athena-engine.js';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import { EngineError } from '../../lambdas/clv-job/errors.js';
import {
  decodeBgNbdPatterns,
  decodeCustomers,
  decodeLatestOrderDate,
  decodeOutcomeCounts,
  decodeRejectedRows,
} from '../../lambdas/clv-job/pipeline/engine-results.js';
import { CANONICAL_ORDER_COLUMNS, REJECTED_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';
import { startStackAthena, type AthenaStandIn, type InjectedAthenaError } from '../support/athena-stand-in.js';
import { TEST_CREDENTIALS, TEST_REGION, createBucket, startMoto, type MotoServer } from '../support/moto-server.js';
import { ingestOnMoto } from '../support/ingest-drop.js';
import { describeWith } from '../support/services.js';

const BUCKET = 'clv-engine-test';
const params = { asOf: '2025-01-10', nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES };
const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

/** Every outcome once or twice; the second file re-sends o1 and is gzipped, as drops often are. */
const FILE_A = [
  'order_id,customer_id,order_date,amount,channel,status',
  'o1,c1,2025-01-01,10.00,web,completed',
  'o2,c1,2025-01-05T10:30:00Z,20.00,web,completed',
  'o3,c2,2025-01-03,5.50,"partner, ""beta""",completed',
  'o4,c2,2025-01-03,4.50,email,completed',
  'o5,,2025-01-02,3.00,web,completed',
  'o6,c3,2025-02-30,1,web,completed',
  'o7,c3,2025-01-04,7,web,cancelled',
  'o8,c4,2025-01-20,7,web,completed',
].join('\n');
const FILE_B = ['order_id,customer_id,order_date,amount,channel,status', 'o1,c1,2025-01-01,10.00,web,completed', 'o9,c5,2025-01-09,-1,,'].join('\r\n');

const athenaClient = (endpoint: string, extra: Partial<AthenaClientConfig> = {}): AthenaClient =>
  new AthenaClient({ ...ATHENA_CLIENT_DEFAULTS, endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, ...extra });

describeWith(['moto', 'trino'], 'the Athena engine against the Athena stand-in', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let standIn: AthenaStandIn;
  let athena: AthenaClient;
  const engine = (overrides: Partial<ConstructorParameters<typeof AthenaEngine>[0]> = {}) =>
    new AthenaEngine({
      athena,
      s3,
      database: 'clv',
      table: 'orders',
      workgroup: 'clv-job',
      inputLocation: `s3://${BUCKET}/ingested/`,
      pollInitialMs: 5,
      pollMaxMs: 20,
      ...overrides,
    });

  beforeAll(async () => {
    moto = await startMoto();
    s3 = await createBucket(moto.endpoint, BUCKET);
    // dropped and ingested as on AWS: the engine reads the canonical copies under ingested/
    const ingest = await ingestOnMoto(moto.endpoint, s3, BUCKET);
    await ingest.drop('2025/orders-a.csv', FILE_A);
    await ingest.drop('2025/orders-b.csv.gz', gzipSync(FILE_B));
    // hidden, as from Hive: never ingested, never input
    await ingest.drop('_SUCCESS', new Uint8Array(0));
    await ingest.drop('_tmp/orders-c.csv', FILE_A);
    standIn = await startStackAthena(s3, BUCKET);
    athena = athenaClient(standIn.endpoint);
  });
  afterAll(async () => {
    await standIn?.stop();
    await moto?.stop();
  });
  beforeEach(() => {
    for (const key of Object.keys(standIn.calls)) delete standIn.calls[key];
  });

  describe('a query that succeeds', () => {
    it('comes back as rows the pipeline decoders type: customers with days, counts, and dates', async () => {
      const athenaEngine = engine();

      const customers = decodeCustomers(await athenaEngine.run('customers', params));
      const latest = decodeLatestOrderDate(await athenaEngine.run('latestOrderDate', params));
      const patterns = decodeBgNbdPatterns(await athenaEngine.run('bgnbdPatterns', params));

      expect(customers.size).toBe(2);
      expect(customers.customerId).toEqual(['c1', 'c2']);
      expect([...customers.firstOrderDay]).toEqual([day('2025-01-01'), day('2025-01-03')]);
      expect([...customers.lastOrderDay]).toEqual([day('2025-01-05'), day('2025-01-03')]);
      expect(customers.acquisitionChannel).toEqual(['web', 'partner, "beta"']);
      expect(customers.cohort).toEqual(['2025-01', '2025-01']);
      expect([...customers.orders]).toEqual([2, 2]);
      expect([...customers.frequency]).toEqual([1, 0]);
      expect([...customers.recencyDays]).toEqual([4, 0]);
      expect([...customers.tenureDays]).toEqual([9, 7]);
      expect([...customers.totalRevenue]).toEqual([30, 10]);
      expect([...customers.monetaryValue]).toEqual([20, 0]);
      expect([...customers.avgOrderValue]).toEqual([15, 5]);
      // o8 is after the as-of date and o9 is rejected; o2's timestamp counts by its date
      expect(latest).toBe('2025-01-05');
      expect([...patterns.customers].reduce((a, b) => a + b, 0)).toBe(2);
    });

    it('accounts for every row, with the de-duplication and rejections of the shared SQL', async () => {
      const athenaEngine = engine();

      const inputRows = (await athenaEngine.run('inputRows', params)).columns.input_rows?.[0];
      const counts = decodeOutcomeCounts(await athenaEngine.run('outcomeCounts', params));

      expect(inputRows).toBe('10');
      expect(Object.fromEntries(counts.map((c) => [`${c.outcome}:${c.reason ?? ''}`, c.row_count]))).toEqual({
        'accepted:': 4,
        'duplicate:': 1,
        'non_purchase:': 1,
        'rejected:missing_customer_id': 1,
        'rejected:invalid_order_date': 1,
        'rejected:negative_amount': 1,
        'rejected:order_date_after_as_of': 1,
      });
    });

    it('lists rejected rows with their s3:// source file and the line ingest found them on', async () => {
      const rejected = decodeRejectedRows(await engine().run('rejectedRows', params), REJECTED_COLUMNS.map((c) => c.name));
      const row = (orderId: string) => {
        const i = rejected.columns.order_id!.indexOf(orderId);
        return Object.fromEntries(Object.entries(rejected.columns).map(([k, v]) => [k, v[i]]));
      };

      expect(rejected.rowCount).toBe(4);
      expect(row('o9')).toEqual({
        source_file: `s3://${BUCKET}/orders/2025/orders-b.csv.gz`,
        // the header is line 1, o1 line 2
        source_row: 3,
        raw_line: null,
        reason: 'negative_amount',
        order_id: 'o9',
        customer_id: 'c5',
        order_date: '2025-01-09',
        amount: '-1',
        channel: null,
        status: null,
      });
      expect(row('o6')).toMatchObject({ reason: 'invalid_order_date', order_date: '2025-02-30', source_file: `s3://${BUCKET}/orders/2025/orders-a.csv` });
    });

    it('runs the shared SQL over the Glue table with its relations inlined, in the configured workgroup', async () => {
      const athenaEngine = engine();

      await athenaEngine.run('rejectedRows', params);
      const sql = standIn.queries.at(-1)!;

      // the canonical columns of the Parquet copies, by name
      expect(sql.startsWith(`WITH orders AS (\nSELECT ${CANONICAL_ORDER_COLUMNS.map((c) => c.name).join(', ')} FROM "clv"."orders"\n),\nclassified AS`)).toBe(true);
      expect([...standIn.executions.values()].at(-1)?.workgroup).toBe('clv-job');
    });

    it('reads the result file Athena writes to S3 and never pages GetQueryResults', async () => {
      await engine().run('customers', params);

      expect(standIn.calls.StartQueryExecution).toBe(1);
      expect(standIn.calls.GetQueryExecution).toBeGreaterThanOrEqual(2);
      expect(standIn.calls.GetQueryResults).toBeUndefined();
    });

    it('describes its input as the table and its S3 location: the canonical files Athena reads, and their exports\' bytes as the local run counts them', async () => {
      const described = await engine().describeInput();

      expect(described).toEqual({
        // the receipts under ingested/_receipts/ are hidden from the table, as are the hidden drops never ingested
        files: 2,
        // the exports as dropped, not their Parquet copies, whose bytes vary with DuckDB's threads
        bytes: Buffer.byteLength(FILE_A) + gzipSync(FILE_B).length,
        location: `clv.orders (s3://${BUCKET}/ingested/)`,
        // every copy names this version's reader
        staleCopies: [],
      });
    });

    it('leaves the bytes unknown, and names the copy as another reader\'s, when a file under the table was not written by the ingest function', async () => {
      const copy = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ingested/2025/orders-a.csv.parquet' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ingested/foreign.parquet', Body: await copy.Body!.transformToByteArray() }));
      try {
        // nor names its reader: another reader's rows, which the night warns of (a laptop would read that export again)
        expect(await engine().describeInput()).toMatchObject({ files: 3, bytes: null, staleCopies: ['ingested/foreign.parquet'] });
      } finally {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'ingested/foreign.parquet' }));
      }
    });
  });

  describe('its input version', () => {
    it('stays while nothing lands under the table, and changes when a copy is added, replaced or removed (hidden keys aside)', async () => {
      const before = await engine().inputVersion();
      const copy = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ingested/2025/orders-a.csv.parquet' }))).Body!.transformToByteArray();
      const put = (key: string, body: Uint8Array) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      try {
        expect(await engine().inputVersion()).toBe(before);
        // a receipt or a hidden file is no input
        await put('ingested/_receipts/late.json', new TextEncoder().encode('{}'));
        expect(await engine().inputVersion()).toBe(before);
        await put('ingested/late.parquet', copy);
        const added = await engine().inputVersion();
        expect(added).not.toBe(before);
        // the same key with other bytes: a re-drop replaced it
        await put('ingested/late.parquet', copy.subarray(0, copy.length - 1));
        expect(await engine().inputVersion()).not.toBe(added);
      } finally {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'ingested/late.parquet' }));
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'ingested/_receipts/late.json' }));
      }
      expect(await engine().inputVersion()).toBe(before);
    });

    it('changes when a copy is removed and written again with the same bytes (a night reading in between missed that export)', async () => {
      const copy = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ingested/2025/orders-a.csv.parquet' }))).Body!.transformToByteArray();
      const key = 'ingested/again.parquet';
      try {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: copy }));
        const first = await engine().inputVersion();
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
        // S3 tells the time an object was written to the second
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: copy }));
        expect(await engine().inputVersion()).not.toBe(first);
      } finally {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      }
    });

    it('changes when an object under a watched location comes or goes (the quarantine record of an export being read)', async () => {
      const watched = () => engine({ watchedLocations: [`s3://${BUCKET}/quarantine/_reasons/`] });
      const record = 'quarantine/_reasons/late.csv.json';
      const before = await watched().inputVersion();
      const unwatched = await engine().inputVersion();
      try {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: record, Body: '{}' }));
        expect(await watched().inputVersion()).not.toBe(before);
        // an engine not told to watch it reads the table's copies only
        expect(await engine().inputVersion()).toBe(unwatched);
      } finally {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: record }));
      }
      expect(await watched().inputVersion()).toBe(before);
    });
  });

  describe('a query that fails', () => {
    it('throws an AthenaQueryError carrying the query id and Athena\'s reason when the query FAILED', async () => {
      const error = await engine({ table: 'no_such_table' })
        .run('customers', params)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AthenaQueryError);
      expect(error).toBeInstanceOf(EngineError);
      const failed = error as AthenaQueryError;
      expect(failed.state).toBe('FAILED');
      expect(failed.transient).toBe(false);
      expect(failed.reason).toMatch(/^TABLE_NOT_FOUND: .*no_such_table/);
      expect(standIn.executions.has(failed.queryExecutionId!)).toBe(true);
      expect(failed.message).toContain(failed.queryExecutionId!);
      expect(failed.message).toContain('TABLE_NOT_FOUND');
    });

    it.each(['FAILED', 'CANCELLED'] as const)('reports Athena\'s reason for a query that ended %s while running', async (state) => {
      standIn.failNextQuery('Query exhausted resources at this scale factor', state);

      const error = (await engine().run('customers', params).catch((e: unknown) => e)) as AthenaQueryError;

      expect(error).toBeInstanceOf(AthenaQueryError);
      expect(error.state).toBe(state);
      // cancelled, or out of resources (Athena's message, without an AthenaError), it says nothing of the data it read
      expect(error.transient).toBe(true);
      expect(error.message).toMatch(new RegExp(`Athena query customers \\([0-9a-f-]{36}\\) ${state}: Query exhausted resources`));
    });

    // Status.AthenaError as the Athena API reference and its error catalogue describe it, read by the SDK
    it.each<[string, boolean, string, InjectedAthenaError]>([
      ['Athena says may succeed if resubmitted', true, 'GENERIC_INTERNAL_ERROR: the query engine failed', { ErrorCategory: 3, ErrorType: 200, Retryable: true }],
      ['Athena blames on itself (SYSTEM)', true, 'Amazon Athena had an internal error', { ErrorCategory: 1, ErrorType: 100, Retryable: false }],
      ['exhausted its resources (ErrorType 0-8)', true, 'EXCEEDED_LOCAL_MEMORY_LIMIT: Query exceeded per-node memory limit', { ErrorCategory: 3, ErrorType: 4, Retryable: false }],
      ['found a damaged file (a data error)', false, 'HIVE_BAD_DATA: Malformed Parquet file. Expected magic number: PAR1', { ErrorCategory: 2, ErrorType: 1001, Retryable: false }],
    ])('a FAILED query that %s is transient: %s', async (_, transient, reason, athenaError) => {
      standIn.failNextQuery(reason, 'FAILED', athenaError);

      const error = (await engine().run('customers', params).catch((e: unknown) => e)) as AthenaQueryError;

      expect(error).toBeInstanceOf(AthenaQueryError);
      expect(error.state).toBe('FAILED');
      expect(error.reason).toBe(reason);
      expect(error.transient).toBe(transient);
    });

    it('stops a query still running at the deadline and fails with TIMED_OUT', async () => {
      const original = standIn.minimumPolls;
      standIn.minimumPolls = 1_000;
      try {
        const error = (await engine({ queryTimeoutMs: 60 }).run('inputRows', params).catch((e: unknown) => e)) as AthenaQueryError;

        expect(error).toBeInstanceOf(AthenaQueryError);
        expect(error.state).toBe('TIMED_OUT');
        expect(error.transient).toBe(true);
        expect(standIn.calls.StopQueryExecution).toBe(1);
      } finally {
        standIn.minimumPolls = original;
      }
    });

    it('stops a query still running at the invocation\'s deadline, the earlier of it and queryTimeoutMs (no query outlives the Lambda)', async () => {
      const original = standIn.minimumPolls;
      standIn.minimumPolls = 1_000;
      try {
        // the default queryTimeoutMs (10 minutes) is far off; the function ends in 60 ms
        const ends = Date.now() + 60;
        const error = (await engine({ deadline: () => ends }).run('inputRows', params).catch((e: unknown) => e)) as AthenaQueryError;

        expect(error).toBeInstanceOf(AthenaQueryError);
        expect(error.state).toBe('TIMED_OUT');
        expect(standIn.calls.StopQueryExecution).toBe(1);
      } finally {
        standIn.minimumPolls = original;
      }
    });

    it('names the workgroup problem when Athena refuses to start the query', async () => {
      const error = (await engine({ workgroup: 'nope' }).run('inputRows', params).catch((e: unknown) => e)) as AthenaQueryError;

      expect(error).toBeInstanceOf(AthenaQueryError);
      expect(error.queryExecutionId).toBeNull();
      expect(error.message).toMatch(/WorkGroup nope is not found/);
    });
  });

  describe('throttling', () => {
    it('is retried with backoff by the SDK (adaptive retry mode), and the query runs once', async () => {
      const attempts: { attempts?: number; totalRetryDelay?: number }[] = [];
      const client = athenaClient(standIn.endpoint);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'StartQueryExecutionCommand') attempts.push(result.output.$metadata);
          return result;
        },
        { step: 'initialize', name: 'recordAttempts' },
      );
      const executionsBefore = standIn.executions.size;
      standIn.throttleNext(2, 'StartQueryExecution');

      const result = await engine({ athena: client }).run('inputRows', params);

      expect(result.columns.input_rows).toEqual(['10']);
      expect(standIn.calls.StartQueryExecution).toBe(3);
      expect(attempts).toEqual([expect.objectContaining({ attempts: 3 })]);
      expect(attempts[0]!.totalRetryDelay).toBeGreaterThan(0);
      expect(standIn.executions.size).toBe(executionsBefore + 1);
    });

    it('retries throttled polls as well', async () => {
      standIn.throttleNext(2, 'GetQueryExecution', 'TooManyRequestsException');

      const result = await engine().run('inputRows', params);

      expect(result.columns.input_rows).toEqual(['10']);
      expect(standIn.calls.GetQueryExecution).toBeGreaterThanOrEqual(4);
    });

    it('gives up after maxAttempts with an AthenaQueryError naming the throttling', async () => {
      standIn.throttleNext(2, 'StartQueryExecution');

      const error = await engine({ athena: athenaClient(standIn.endpoint, { maxAttempts: 2 }) })
        .run('inputRows', params)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AthenaQueryError);
      expect((error as Error).message).toMatch(/REFUSED: Rate exceeded/);
    });
  });

  describe('the stand-in itself', () => {
    it('pages GetQueryResults as Athena does: 1000 rows a page, the header row on the first page only, every value a string', async () => {
      const { QueryExecutionId } = await athena.send(
        new StartQueryExecutionCommand({ QueryString: 'SELECT i, CASE WHEN i % 2 = 0 THEN NULL ELSE i * 1.5 END AS x FROM UNNEST(sequence(0, 2499)) t(i) ORDER BY i', WorkGroup: 'clv-job' }),
      );
      await expect.poll(() => standIn.executions.get(QueryExecutionId!)?.state).toBe('SUCCEEDED');
      const pages = [];
      for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId })) pages.push(page);

      expect(pages.map((p) => p.ResultSet?.Rows?.length)).toEqual([1000, 1000, 501]);
      expect(pages[0]?.ResultSet?.Rows?.[0]?.Data).toEqual([{ VarCharValue: 'i' }, { VarCharValue: 'x' }]);
      expect(pages[1]?.ResultSet?.Rows?.[0]?.Data).toEqual([{ VarCharValue: '999' }, { VarCharValue: '1498.5' }]);
      expect(pages[0]?.ResultSet?.Rows?.[1]?.Data).toEqual([{ VarCharValue: '0' }, {}]);
      expect(pages[0]?.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => [c.Name, c.Type])).toEqual([
        ['i', 'bigint'],
        ['x', 'decimal'],
      ]);
    });
  });
});

describe('reading an Athena result file', () => {
  it('tells NULL (an empty unquoted field) from an empty string (a quoted one)', async () => {
    const csv = '"id","name","note"\n"1","","x"\n"2",,"say ""hi"", twice"\n';

    const result = await readResultCsv(Readable.from([Buffer.from(csv.slice(0, 17)), Buffer.from(csv.slice(17))]));

    expect(result).toEqual({
      rowCount: 2,
      columns: { id: ['1', '2'], name: ['', null], note: ['x', 'say "hi", twice'] },
    });
  });

  it('reads a header-only file as zero rows', async () => {
    expect(await readResultCsv(Readable.from(['"a","b"\n']))).toEqual({ rowCount: 0, columns: { a: [], b: [] } });
  });

  it('fails clearly on an empty file', async () => {
    await expect(readResultCsv(Readable.from([]))).rejects.toThrow(/empty/);
  });
});
