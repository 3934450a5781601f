import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_LIMIT_MB, DuckDbEngine, duckDbSettings, isDuckDbErrorOfTheMoment } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import { REJECTION_REASONS } from '../../lambdas/clv-job/domain/outcomes.js';
import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { EngineError, firstLine, InputFileError } from '../../lambdas/clv-job/errors.js';
import {
  decodeConflictingDuplicates,
  decodeCustomers,
  decodeLatestOrderDate,
  decodeOutcomeCounts,
  decodeRejectedRows,
} from '../../lambdas/clv-job/pipeline/engine-results.js';
import { REJECTED_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';
import { fixture, tempDir, writeText } from '../support/files.js';

const params = { asOf: '2024-06-30', nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES };

/**
 * test/fixtures/orders-small holds two exports with every outcome of SPEC's input contract:
 * orders-a.csv (UTF-8 BOM, CRLF, quoted commas and a quoted line break, a record with too few
 * fields) and orders-b.csv.gz (gzip, columns in another order), which re-sends A4 and A5.
 */
describe('the DuckDB engine running the shared SQL', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles([fixture('orders-small')]))).files });
  });
  afterAll(() => engine.close());

  it('gives every input row exactly one outcome, in the contract order', async () => {
    const inputRows = (await engine.run('inputRows', params)).columns.input_rows?.[0];
    const counts = decodeOutcomeCounts(await engine.run('outcomeCounts', params));
    const byKey = Object.fromEntries(counts.map((c) => [`${c.outcome}:${c.reason ?? ''}`, c.row_count]));

    expect(inputRows).toBe(20);
    expect(byKey).toEqual({
      'accepted:': 6,
      'duplicate:': 2,
      'non_purchase:': 4,
      'rejected:malformed_row': 1,
      'rejected:missing_order_id': 1,
      'rejected:missing_customer_id': 1,
      'rejected:invalid_order_date': 2,
      'rejected:invalid_amount': 1,
      'rejected:negative_amount': 1,
      'rejected:order_date_after_as_of': 1,
    });
  });

  it('lists each rejected row as read, with its file, the line it starts on and one reason', async () => {
    const rejected = decodeRejectedRows(await engine.run('rejectedRows', params), REJECTED_COLUMNS.map((c) => c.name));
    const rows = Array.from({ length: rejected.rowCount }, (_, i) =>
      Object.fromEntries(Object.entries(rejected.columns).map(([k, v]) => [k, v[i]])),
    );
    const byOrder = (id: string) => rows.find((r) => r.order_id === id);

    expect(rows).toHaveLength(8);
    expect(byOrder('A10')).toMatchObject({ reason: 'invalid_order_date', order_date: '31/02/2024', source_row: 11 });
    expect(byOrder('A11')).toMatchObject({ reason: 'invalid_order_date', order_date: '2024-02-30' });
    expect(byOrder('A12')).toMatchObject({ reason: 'invalid_amount', amount: '12.50 EUR' });
    expect(byOrder('A13')).toMatchObject({ reason: 'negative_amount', amount: '-3' });
    expect(byOrder('A14')).toMatchObject({ reason: 'order_date_after_as_of' });
    expect(byOrder('A9')).toMatchObject({ reason: 'missing_customer_id', customer_id: '  ' });
    expect(rows.find((r) => r.reason === 'missing_order_id')).toMatchObject({ customer_id: 'c3', source_row: 9 });
    const malformed = rows.find((r) => r.reason === 'malformed_row');
    expect(malformed?.raw_line).toBe('A15,c3,2024-01-05');
    expect(String(malformed?.source_file)).toMatch(/orders-a\.csv$/);
  });

  it('aggregates accepted orders to customers: same-day purchases merge, re-sent rows count once', async () => {
    const customers = decodeCustomers(await engine.run('customers', params));
    const row = (id: string) => {
      const i = customers.customerId.indexOf(id);
      return {
        orders: customers.orders[i],
        frequency: customers.frequency[i],
        recency: customers.recencyDays[i],
        tenure: customers.tenureDays[i],
        revenue: customers.totalRevenue[i],
        monetary: customers.monetaryValue[i],
        aov: customers.avgOrderValue[i],
        channel: customers.acquisitionChannel[i],
        cohort: customers.cohort[i],
      };
    };

    expect(customers.customerId).toEqual(['c1', 'c2', 'c4', 'c6']);
    // A1 + A2 share 2024-01-10 (one purchase day), A3 a timestamp on 2024-02-01; A4 was re-sent as returned
    expect(row('c1')).toEqual({ orders: 3, frequency: 1, recency: 22, tenure: 172, revenue: 35, monetary: 20, aov: 35 / 3, channel: 'email', cohort: '2024-01' });
    // the copy of A5 in the later file wins: 42 on 2024-05-01 via affiliate
    expect(row('c2')).toEqual({ orders: 1, frequency: 0, recency: 0, tenure: 60, revenue: 42, monetary: 0, aov: 42, channel: 'affiliate', cohort: '2024-05' });
    expect(row('c4')).toMatchObject({ tenure: 0, channel: 'multi\r\nline' });
    expect(row('c6')).toMatchObject({ channel: null, revenue: 1 });
  });

  it('frees its materialised relations on release, and builds them again for a later query with the same rows', async () => {
    const before = await engine.run('customers', params);
    const held = await engine.tableMemoryBytes();

    await engine.release();
    const released = await engine.tableMemoryBytes();
    const after = await engine.run('customers', params);

    expect(held).toBeGreaterThan(0);
    expect(released).toBe(0);
    expect(after).toEqual(before);
  });

  it("holds only the relations the query at hand reads, once those built on them are built", async () => {
    await engine.release();
    const held: Record<string, string[]> = {};
    for (const query of ['outcomeCounts', 'acquisitionMonths', 'customers', 'inputRows'] as const) {
      await engine.run(query, params);
      held[query] = await engine.heldRelations();
    }

    expect(held).toEqual({
      outcomeCounts: ['classified'],
      acquisitionMonths: ['customers', 'purchase_days'],
      customers: ['customers'],
      inputRows: ['customers'],
    });
  });

  it('gives the same results whatever the order it is asked in, building again a relation it dropped', async () => {
    await engine.release();
    const first = { outcomes: await engine.run('outcomeCounts', params), customers: await engine.run('customers', params) };
    const again = { outcomes: await engine.run('outcomeCounts', params), months: await engine.run('acquisitionMonths', params) };
    await engine.release();
    const fresh = await engine.run('acquisitionMonths', params);

    expect(again.outcomes).toEqual(first.outcomes);
    expect(again.months).toEqual(fresh);
    expect(await engine.run('customers', params)).toEqual(first.customers);
  });

  it('finds the latest valid order date, ignoring rows dated after the as-of date', async () => {
    expect(decodeLatestOrderDate(await engine.run('latestOrderDate', params))).toBe('2024-06-30');
  });

  it('finds the latest valid order date straight off the canonical rows, building no relation for the date it is asked with', async () => {
    await engine.release();

    const latest = decodeLatestOrderDate(await engine.run('latestOrderDate', params));

    expect(latest).toBe('2024-06-30');
    expect(await engine.tableMemoryBytes()).toBe(0);
  });
});

describe('the rejection reasons, judged once on the way from ingest to the engine', () => {
  it('gives each contract reason to its row: ingest\'s parse reasons pass through, the SQL judges the as-of date (the day itself counts)', async () => {
    const dir = await tempDir();
    const path = await writeText(
      dir,
      'one-of-each.csv',
      [
        'order_id,customer_id,order_date,amount',
        'R1,c1,2024-06-30,5', // on the as-of date: accepted
        'R2,c1,2024-07-01,5', // the day after
        ',c1,2024-01-01,5',
        'R4,,2024-01-01,5',
        'R5,c1,2024-13-01,5',
        'R6,c1,1970-01-01,5', // the day before the default floor, validation.minOrderDate 1970-01-02: the Unix epoch, a placeholder
        'R7,c1,2024-01-01,five',
        'R8,c1,2024-01-01,-1',
        'R9,c1',
      ].join('\n') + '\n',
    );
    const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles([{ path, bytes: 0 }])).files });

    const rejected = decodeRejectedRows(await engine.run('rejectedRows', params), REJECTED_COLUMNS.map((c) => c.name));
    const counts = decodeOutcomeCounts(await engine.run('outcomeCounts', params));
    await engine.close();

    expect(Object.fromEntries(Array.from({ length: rejected.rowCount }, (_, i) => [rejected.columns.source_row?.[i], rejected.columns.reason?.[i]]))).toEqual({
      3: 'order_date_after_as_of',
      4: 'missing_order_id',
      5: 'missing_customer_id',
      6: 'invalid_order_date',
      7: 'implausible_order_date',
      8: 'invalid_amount',
      9: 'negative_amount',
      10: 'malformed_row',
    });
    expect(new Set(rejected.columns.reason)).toEqual(new Set(REJECTION_REASONS));
    expect(counts.filter((c) => c.outcome === 'accepted')).toEqual([{ outcome: 'accepted', reason: null, row_count: 1, conflicting: 0, dated_after_as_of: 0, dated_in_future: 0 }]);
    // dated after the as-of date: the day after (R2) alone; R8's negative amount is dated inside the window
    expect(Object.fromEntries(counts.filter((c) => c.dated_after_as_of > 0).map((c) => [c.reason, c.dated_after_as_of]))).toEqual({ order_date_after_as_of: 1 });
  });
});

describe('a conflicting duplicate, beside the copy kept', () => {
  it('gives the kept copy as it was typed: its file, line, customer, date and amount', async () => {
    const dir = await tempDir();
    const path = await writeText(
      dir,
      'conflicts.csv',
      [
        'order_id,customer_id,order_date,amount',
        'D1,c1,2024-01-05,10.5', // the repeat: an earlier line of the same key
        'D2,c3,2024-02-01,7',
        'D1,c2,2024-01-06,99999999.25', // the copy kept: the key's last line
      ].join('\n') + '\n',
    );
    const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles([{ path, bytes: 0 }])).files });

    const conflicting = decodeConflictingDuplicates(await engine.run('conflictingDuplicates', params));
    await engine.close();

    expect(conflicting).toEqual([
      {
        order_id: 'D1',
        order_key: null,
        repeat: { source_file: path, source_line: 2, customer_id: 'c1', order_date: '2024-01-05', amount: 10.5 },
        kept: { source_file: path, source_line: 4, customer_id: 'c2', order_date: '2024-01-06', amount: 99999999.25 },
      },
    ]);
  });
});

describe('reading exports through ingest before the engine sees them', () => {
  it.each([
    ['a binary file', Buffer.from([0x00, 0xff, 0xfe, 0x00, 0x13, 0x37, 0x00, 0x00, 0xc3, 0x28]), /is binary data, not CSV text/],
    ['a file without the amount column', 'order_id,customer_id,order_date\n1,a,2024-01-01\n', /lacks the required column "amount"; the header has "order_id", "customer_id", "order_date"/],
  ])('fails on %s, naming the file', async (_, content, message) => {
    const dir = await tempDir();
    const path = await writeText(dir, 'export.csv', content);

    const opening = ingestLocalFiles([{ path, bytes: 0 }]);

    await expect(opening).rejects.toThrow(InputFileError);
    await expect(opening).rejects.toThrow(path);
    await expect(opening).rejects.toThrow(message);
  });

  it('maps configured header names onto the logical columns', async () => {
    const dir = await tempDir();
    const path = await writeText(dir, 'erp.csv', 'OrderNo,Client,Date,Total\nX1,k1,2024-01-01,3.5\n');
    const columns = { order_id: 'OrderNo', customer_id: 'Client', order_date: 'Date', amount: 'Total' };

    const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles([{ path, bytes: 0 }], { config: { columns } })).files });
    const customers = decodeCustomers(await engine.run('customers', params));
    await engine.close();

    expect(customers.customerId).toEqual(['k1']);
    expect(customers.totalRevenue[0]).toBe(3.5);
  });
});

describe('the DuckDB engine settings', () => {
  it('uses every core, half the memory up to DEFAULT_MEMORY_LIMIT_MB and a spill folder of its own under the temp folder, unless told otherwise', () => {
    const settings = duckDbSettings({});

    expect(settings.threads).toBe(String(availableParallelism()));
    expect(Number(settings.memory_limit?.replace(/MB$/, ''))).toBeCloseTo(Math.min(DEFAULT_MEMORY_LIMIT_MB, totalmem() / 2 / 2 ** 20), -1);
    expect(settings.temp_directory?.startsWith(tmpdir())).toBe(true);
    expect(duckDbSettings({ threads: 1, memoryLimit: '1GB', tempDirectory: '/x' })).toMatchObject({ threads: '1', memory_limit: '1GB', temp_directory: '/x' });
  });

  it('returns the memory DuckDB frees to the OS in the background, whatever the options', () => {
    expect(duckDbSettings({}).allocator_background_threads).toBe('true');
    expect(duckDbSettings({ threads: 1, memoryLimit: '1GB', tempDirectory: '/x' }).allocator_background_threads).toBe('true');
  });
});

/**
 * What DuckDB says when it fails, caused for real: a failure of the moment (memory, a full disk) is
 * transient, so the previous run's probe fails the night rather than take the previous run for damaged.
 */
describe('a DuckDB failure of the moment, told apart from damaged files', () => {
  it('is transient when a query runs out of memory', async () => {
    // no spill folder, and too little memory for the relations the customers query reads
    const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles([fixture('orders-small')]))).files, threads: 1, memoryLimit: '1MB', tempDirectory: '' });
    try {
      const error = await engine.run('customers', params).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).message).toMatch(/^DuckDB failed on classified: Out of Memory Error: /);
      expect((error as EngineError).transient).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('is transient when the disk it spills to is full (every spill file it writes is /dev/full)', async () => {
    // DuckDB caps its spill at the free space it sees when it starts to spill; the disk filling after
    // that (another process writing) fails the write itself: /dev/full fails every write as a full disk does
    const spill = await tempDir();
    for (const kib of [16, 32, 64, 96, 128, 160, 192, 224, 256]) await symlink('/dev/full', join(spill, `duckdb_temp_storage_S${kib}K-0.tmp`));
    const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '30MB', temp_directory: spill });
    const connection = await instance.connect();

    const error = await connection
      .run('SELECT COUNT(*) FROM (SELECT i, md5(i::VARCHAR) AS s FROM range(3000000) t(i) ORDER BY s)')
      .catch((e: unknown) => e);
    connection.closeSync();
    instance.closeSync();

    expect(firstLine(error)).toMatch(/^IO Error: Could not write file ".*": No space left on device$/);
    expect(isDuckDbErrorOfTheMoment(error)).toBe(true);
  });

  it.each<[string, (file: string) => Promise<void>, RegExp]>([
    ['cut short', async (file) => writeFile(file, (await readFile(file)).subarray(0, 100)), /^Invalid Input Error: No magic bytes found at end of file/],
    ['empty', async (file) => writeFile(file, ''), /^Invalid Input Error: File '.*' too small to be a Parquet file/],
    ['gone', async (file) => rm(file), /^IO Error: No files found that match the pattern/],
  ])("is not transient when the previous run's customers file is %s", async (_, damage, said) => {
    const file = join(await tempDir(), 'part-00000.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`COPY (SELECT 'c' || i AS customer_id, 'high' AS clv_tier, 'Champions' AS rfm_segment FROM range(1000) t(i)) TO '${file}' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();
    await damage(file);
    const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles([fixture('orders-small')]))).files });
    try {
      const error = await engine.bindPrevious({ runDate: '2024-06-29', files: [file] }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(EngineError);
      expect(firstLine((error as EngineError).cause)).toMatch(said);
      expect((error as EngineError).transient).toBe(false);
    } finally {
      await engine.close();
    }
  });
});
