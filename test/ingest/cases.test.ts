import { cp, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ingestReceiptSchema, type IngestReceipt } from '../../lambdas/clv-job/ingest/receipt.js';
import { summarySchema, type Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { fixture, tempDir, writeText } from '../support/files.js';

/*
 * Input that must not break or fool the night (issue 13) and the export read the same way on every
 * path (issue 14), through the CLI as an analyst runs it. Each case's right answer is counted by hand
 * from the file (see test/fixtures/cases/README.md and test/fixtures/ingest-adversarial/README.md).
 * The cases run with the default gates: a few rows with one or two bad is too few for the rejected
 * share to be held against its threshold (gates.minRowsForRejectedShare), so the night goes on.
 */

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly summary: Summary;
  readonly out: string;
  readonly cwd: string;
}

const runCase = async (folder: string, asOf: string, extra: string[] = []): Promise<Run> => {
  const cwd = await tempDir();
  await cp(folder, join(cwd, 'input'), { recursive: true });
  const result = await clv(['run', '--input', 'input', '--output', 'out', '--as-of', asOf, ...extra], cwd);
  expect(result.code, result.stderr).toBe(0);
  const out = join(cwd, 'out');
  const text = await readFile(join(out, 'summary', `run_date=${asOf}`, 'summary.json'), 'utf8').catch(() => {
    throw new Error(`no summary: ${result.stderr}`);
  });
  return { ...result, summary: summarySchema.parse(JSON.parse(text)), out, cwd };
};

const identityHolds = (s: Summary): void => {
  const c = s.counts;
  expect(c.input_rows).toBe(c.accepted_orders + c.duplicate_orders + c.non_purchase_orders + c.rejected_rows);
  expect(Object.values(c.rejected_by_reason).reduce((a, b) => a + b, 0)).toBe(c.rejected_rows);
};

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const rejectedRows = (run: Run, asOf: string) =>
  queryDuckDb(`SELECT * FROM read_parquet(${sqlString(join(run.out, 'rejected', `run_date=${asOf}`, '*.parquet'))}) ORDER BY source_file, source_row`);
const customers = async (run: Run, asOf: string) =>
  new Map(
    (
      await queryDuckDb(
        `SELECT customer_id, orders, total_revenue, acquisition_channel FROM read_parquet(${sqlString(join(run.out, 'customers', `run_date=${asOf}`, '*', '*.parquet'))})`,
      )
    ).map((r) => [String(r.customer_id), r]),
  );
const receipts = async (run: Run): Promise<IngestReceipt[]> => {
  const dir = join(run.out, 'ingested', '_receipts');
  return Promise.all((await readdir(dir)).sort().map(async (f) => ingestReceiptSchema.parse(JSON.parse(await readFile(join(dir, f), 'utf8')))));
};

beforeAll(requireCliBundle);

describe('athena-parity: one export as data teams write them, read by name, record by record', () => {
  const asOf = '2025-06-30';
  let run: Run;
  beforeAll(async () => {
    run = await runCase(fixture('cases', 'athena-parity'), asOf);
  });

  it('counts 18 input rows: a quoted line break does not split a record, a blank line is not a row', () => {
    expect(run.code).toBe(0);
    // orders-a: 16 records (O001..O016 with O013 twice, minus none; line 16 is blank); orders-b: 2
    expect(run.summary.counts).toMatchObject({
      input_rows: 18,
      // O001 O006 O007 O008 O009 O011 O012 O013 O014 O016 O020 O021
      accepted_orders: 12,
      // O013 again, with another date and amount: a conflicting duplicate
      duplicate_orders: 1,
      conflicting_duplicates: 1,
      // O002 (channel with a line break) and O003 ("cancelled" quoted)
      non_purchase_orders: 2,
      // O004 (7 fields), O005 (4 fields), the row without order_id
      rejected_rows: 3,
      customers: 11,
    });
    expect(run.summary.counts.rejected_by_reason).toMatchObject({ malformed_row: 2, missing_order_id: 1, invalid_amount: 0 });
    identityHolds(run.summary);
  });

  it('keeps the line-broken cancelled order a non-purchase, C07\\ and C07 apart, and reads the swapped-column file by name', async () => {
    const byId = await customers(run, asOf);
    expect(byId.has('C02')).toBe(false);
    expect(byId.get('C07\\')).toMatchObject({ orders: 1, total_revenue: 70 });
    expect(byId.get('C07')).toMatchObject({ orders: 1, total_revenue: 75 });
    expect(byId.get('C20')).toMatchObject({ orders: 1, total_revenue: 25 });
    expect(byId.get('C21')).toMatchObject({ orders: 1, total_revenue: 26 });
    expect([...byId.keys()].some((id) => id.startsWith('O'))).toBe(false);
    // a tab-padded amount is trimmed at ingest; the first order without a channel gives no channel
    expect(byId.get('C09')).toMatchObject({ total_revenue: 90 });
    expect(byId.get('C11')).toMatchObject({ acquisition_channel: null, orders: 2 });
  });

  it('shows each rejected row with the line it starts on and its raw text', async () => {
    const rows = await rejectedRows(run, asOf);
    expect(rows.map((r) => [r.source_row, r.reason, r.raw_line ?? r.customer_id])).toEqual([
      [6, 'malformed_row', 'O004,C04,2025-01-08,40.00,email,completed,EXTRA'],
      [7, 'malformed_row', 'O005,C05,2025-01-09,50.00'],
      [12, 'missing_order_id', 'C10'],
    ]);
  });

  it('writes one receipt per export with the header mapping it used', async () => {
    const [a, b] = await receipts(run);
    expect(a).toMatchObject({ rows: 16, malformed: 2, accepted_for_parsing: 14, bom: true, line_endings: 'crlf' });
    expect(b).toMatchObject({ rows: 2, malformed: 0, header: ['customer_id', 'order_id', 'order_date', 'amount', 'channel', 'status'] });
    expect(b?.mapping).toMatchObject({ order_id: 'order_id', customer_id: 'customer_id' });
  });
});

describe('the input cases of issue 13: never a failed run, never a silent drop', () => {
  it('amount-overflow: a 400-digit amount is invalid_amount, no Infinity reaches a sum, the run goes on', async () => {
    const run = await runCase(fixture('cases', 'amount-overflow'), '2024-12-31');
    expect(run.code).toBe(0);
    expect(run.summary.counts).toMatchObject({ input_rows: 2, accepted_orders: 1, rejected_rows: 1, customers: 1 });
    expect(run.summary.counts.rejected_by_reason.invalid_amount).toBe(1);
    expect(run.summary.totals.revenue).toBe(10);
    const [row] = await rejectedRows(run, '2024-12-31');
    expect(row).toMatchObject({ source_row: 3, reason: 'invalid_amount', order_id: 'O2' });
    expect(String(row?.amount)).toHaveLength(400);
    identityHolds(run.summary);
  });

  it('amount-overflow: validation.maxAmount bounds what counts as a plausible amount', async () => {
    const dir = await tempDir();
    await writeText(dir, 'orders.csv', 'order_id,customer_id,order_date,amount\nO1,C1,2024-08-01,10\nO2,C1,2024-08-02,500.01\nO3,C1,2024-08-03,500\n');
    const config = await writeText(dir, 'config.json', JSON.stringify({ validation: { maxAmount: 500 } }));
    const run = await runCase(dir, '2024-12-31', ['--config', config]);
    expect(run.summary.counts).toMatchObject({ accepted_orders: 2, rejected_rows: 1 });
    expect(run.summary.counts.rejected_by_reason.invalid_amount).toBe(1);
  });

  it('amount-overflow: 150 orders of one customer at the largest maxAmount (1e18) sum without overflow; just above it is invalid_amount', async () => {
    const dir = await tempDir();
    const atCap = Array.from({ length: 150 }, (_, j) => `X${j},C1,2025-03-0${(j % 9) + 1},1000000000000000000`);
    const small = Array.from({ length: 30 }, (_, i) => `S${i},C${i % 10},2025-0${(i % 9) + 1}-1${i % 9},${i * 3}.5`);
    const above = ['A1,C2,2025-04-01,1000000000000000000.000001', 'A2,C3,2025-04-01,-1000000000000000001'];
    await writeText(dir, 'orders.csv', ['order_id,customer_id,order_date,amount', ...small, ...atCap, ...above].join('\n') + '\n');
    const config = await writeText(dir, 'config.json', JSON.stringify({ validation: { maxAmount: 1e18 } }));
    const run = await runCase(dir, '2025-12-31', ['--config', config]);
    expect(run.summary.counts).toMatchObject({ input_rows: 182, accepted_orders: 180, rejected_rows: 2 });
    expect(run.summary.counts.rejected_by_reason.invalid_amount).toBe(2);
    const c1 = (await queryDuckDb(`SELECT orders, total_revenue FROM read_parquet(${sqlString(join(run.out, 'customers', 'run_date=2025-12-31', '*', '*.parquet'))}) WHERE customer_id = 'C1'`))[0];
    // C1's small orders: S1, S11, S21 at 3.5 + 33.5 + 63.5 = 100.5, beside 150 · 1e18
    expect(c1).toMatchObject({ orders: 153, total_revenue: 1.5e20 + 100.5 });
    identityHolds(run.summary);
  });

  it('placeholder-date: 1900-01-01 is implausible_order_date, counted and shown; C1 keeps its real cohort', async () => {
    const run = await runCase(fixture('cases', 'placeholder-date'), '2024-12-31');
    expect(run.summary.counts).toMatchObject({ input_rows: 4, accepted_orders: 3, rejected_rows: 1, customers: 2 });
    expect(run.summary.counts.rejected_by_reason.implausible_order_date).toBe(1);
    const [row] = await rejectedRows(run, '2024-12-31');
    expect(row).toMatchObject({ source_row: 5, reason: 'implausible_order_date', order_date: '1900-01-01', order_id: 'BAD1' });
    const c1 = (await queryDuckDb(`SELECT cohort, tenure_days FROM read_parquet(${sqlString(join(run.out, 'customers', 'run_date=2024-12-31', '*', '*.parquet'))}) WHERE customer_id = 'C1'`))[0];
    // first real order 2024-07-28: 156 days to 2024-12-31
    expect(c1).toMatchObject({ cohort: '2024-07', tenure_days: 156 });
    identityHolds(run.summary);
  });

  it('placeholder-date: validation.minOrderDate moves the floor, and a timestamp at T25:00 is invalid', async () => {
    const dir = await tempDir();
    await writeText(dir, 'orders.csv', 'order_id,customer_id,order_date,amount\nA,C1,2019-12-31,1\nB,C1,2020-01-01T23:59:59Z,1\nC,C1,2020-01-02T25:00,1\nD,C1,2020-01-03T10:60,1\n');
    const config = await writeText(dir, 'config.json', JSON.stringify({ validation: { minOrderDate: '2020-01-01' } }));
    const run = await runCase(dir, '2024-12-31', ['--config', config]);
    expect(run.summary.counts).toMatchObject({ accepted_orders: 1, rejected_rows: 3 });
    expect(run.summary.counts.rejected_by_reason).toMatchObject({ implausible_order_date: 1, invalid_order_date: 2 });
  });

  it('reused-order-numbers: order 1001 of two stores is a conflicting duplicate, with an example and a warning', async () => {
    const run = await runCase(fixture('cases', 'reused-order-numbers'), '2024-12-31');
    expect(run.summary.counts).toMatchObject({ input_rows: 3, accepted_orders: 2, duplicate_orders: 1, conflicting_duplicates: 1 });
    expect(run.summary.conflicting_duplicate_examples).toEqual([
      {
        order_id: '1001',
        order_key: null,
        repeat: { source_file: 'input/store-a.csv', source_line: 2, customer_id: 'A1', order_date: '2024-01-05', amount: 20 },
        kept: { source_file: 'input/store-b.csv', source_line: 2, customer_id: 'B1', order_date: '2024-02-07', amount: 30 },
      },
    ]);
    expect(run.summary.warnings.map((w) => w.code)).toContain('conflicting_duplicates');
    expect(run.stdout).toMatch(/warning: 1 order reuses an order key .*orderKey/);
    const report = await readFile(join(run.out, 'report', 'run_date=2024-12-31', 'index.html'), 'utf8');
    expect(report).toContain('Conflicting duplicates');
    expect(report).toContain('input/store-a.csv');
    identityHolds(run.summary);
  });

  it('reused-order-numbers: a repeat that differs in its amount only shows both amounts and where each copy is in the warning', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', 'order_id,customer_id,order_date,amount\nO1,C1,2024-01-05,10\n');
    await writeText(dir, 'b.csv', 'order_id,customer_id,order_date,amount\nO1,C1,2024-01-05,12.5\n');
    const run = await runCase(dir, '2024-12-31');
    expect(run.summary.counts).toMatchObject({ duplicate_orders: 1, conflicting_duplicates: 1 });
    expect(run.stdout).toMatch(/\(e\.g\. order O1: C1 2024-01-05 10 \(\S*a\.csv line 2\) vs C1 2024-01-05 12\.5 \(\S*b\.csv line 2\), kept\)/);
  });

  it('reused-order-numbers: a store column named in orderKey keeps each store\'s numbers apart; a re-sent copy is still a plain duplicate', async () => {
    const dir = await tempDir();
    await writeText(dir, 'store-a.csv', 'order_id,store,customer_id,order_date,amount\n1001,A,A1,2024-01-05,20\n1002,A,A2,2024-03-09,25\n');
    await writeText(dir, 'store-b.csv', 'order_id,store,customer_id,order_date,amount\n1001, B ,B1,2024-02-07,30\n1002,A,A2,2024-03-09,25\n');
    const config = await writeText(dir, 'config.json', JSON.stringify({ orderKey: ['store'] }));
    const run = await runCase(dir, '2024-12-31', ['--config', config]);
    expect(run.summary.counts).toMatchObject({ input_rows: 4, accepted_orders: 3, duplicate_orders: 1, conflicting_duplicates: 0, customers: 3 });
    expect(run.summary.warnings.map((w) => w.code)).not.toContain('conflicting_duplicates');
  });

  it('bom-mix: a UTF-8 file with a BOM and CRLF beside a plain file: both read, 3 orders, 2 customers', async () => {
    const run = await runCase(fixture('cases', 'bom-mix'), '2025-06-30');
    expect(run.summary.counts).toMatchObject({ input_rows: 3, accepted_orders: 3, rejected_rows: 0, customers: 2 });
    identityHolds(run.summary);
  });

  it('stray-quote: the broken records are malformed_row with their raw text and line; the good rows count', async () => {
    const run = await runCase(fixture('cases', 'stray-quote'), '2025-06-30');
    expect(run.summary.counts).toMatchObject({ input_rows: 4, accepted_orders: 2, rejected_rows: 2, customers: 2 });
    expect(run.summary.counts.rejected_by_reason.malformed_row).toBe(2);
    const rows = await rejectedRows(run, '2025-06-30');
    expect(rows.map((r) => [r.source_row, r.raw_line])).toEqual([
      [3, 'S2,C1,2025-02-02,12,"back\\"slash'],
      [4, 'S3,C2,2025-03-01,5,"we"b'],
    ]);
    identityHolds(run.summary);
  });
});

describe('configured formats: an export written the European way reads by configuration', () => {
  it('reads `15.03.2025;1.234,56` with csv.delimiter, csv.dateFormat and the separators, and rejects what does not fit', async () => {
    const dir = await tempDir();
    await writeText(dir, 'eu.csv', 'order_id;customer_id;order_date;amount\nE1;K1;15.03.2025;1.234,56\nE2;K1;16.03.2025;7,5\nE3;K2;2025-03-17;3,00\nE4;K2;17.03.2025;12.34,5\n');
    const config = await writeText(
      dir,
      'config.json',
      JSON.stringify({ csv: { delimiter: ';', dateFormat: '%d.%m.%Y', decimalSeparator: ',', thousandsSeparator: '.' } }),
    );
    const run = await runCase(dir, '2025-06-30', ['--config', config]);
    expect(run.summary.counts).toMatchObject({ accepted_orders: 2, rejected_rows: 2, customers: 1 });
    expect(run.summary.counts.rejected_by_reason).toMatchObject({ invalid_order_date: 1, invalid_amount: 1 });
    expect(run.summary.totals.revenue).toBe(1242.06);
  });

  it('reads the US spreadsheet\'s `"1,250.00"` in a comma-separated export with csv.thousandsSeparator ",": quoted, the amount is one field', async () => {
    const dir = await tempDir();
    await writeText(dir, 'us.csv', 'order_id,customer_id,order_date,amount\nU1,K1,2025-03-15,"1,250.00"\nU2,K1,2025-03-16,45.00\nU3,K2,2025-03-17,"2,000"\nU4,K2,2025-03-18,1,250.00\n');
    const config = await writeText(dir, 'config.json', JSON.stringify({ csv: { thousandsSeparator: ',' } }));
    const run = await runCase(dir, '2025-06-30', ['--config', config]);
    // the unquoted one has a field too many: a malformed row, counted, never a wrong amount
    expect(run.summary.counts).toMatchObject({ input_rows: 4, accepted_orders: 3, rejected_rows: 1, customers: 2 });
    expect(run.summary.counts.rejected_by_reason).toMatchObject({ malformed_row: 1 });
    expect(run.summary.totals.revenue).toBe(3295);
  });
});
