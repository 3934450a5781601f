import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ingestReceiptSchema, type IngestReceipt } from '../../lambdas/clv-job/ingest/receipt.js';
import { summarySchema, type Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { fixture, tempDir, writeText } from '../support/files.js';

/*
 * test/fixtures/ingest-adversarial: three exports with every quirk ingest must survive (see its
 * README). Every figure below was counted by hand from the bytes, line by line, as of 2025-02-28.
 */
const AS_OF = '2025-02-28';
const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

describe('an adversarial drop of three exports (CSV with BOM and CRLF, two gzip files), as of 2025-02-28', () => {
  let cwd: string;
  let summary: Summary;
  let stdout: string;
  let receipts: Map<string, IngestReceipt>;
  const out = () => join(cwd, 'out');

  beforeAll(async () => {
    await requireCliBundle();
    cwd = await tempDir();
    const result = await clv(['run', '--input', fixture('ingest-adversarial'), '--output', 'out', '--as-of', AS_OF, '--accept-failed-gates'], cwd);
    expect(result.stderr).toBe('');
    stdout = result.stdout;
    summary = summarySchema.parse(JSON.parse(await readFile(join(out(), 'summary', `run_date=${AS_OF}`, 'summary.json'), 'utf8')));
    const dir = join(out(), 'ingested', '_receipts');
    receipts = new Map(
      await Promise.all(
        (await readdir(dir)).map(async (f) => {
          const receipt = ingestReceiptSchema.parse(JSON.parse(await readFile(join(dir, f), 'utf8')));
          return [receipt.source.split('/').pop()!, receipt] as const;
        }),
      ),
    );
  });

  it('accounts for all 25 records, each with one outcome, and the identity holds', () => {
    expect(summary.counts).toEqual({
      input_rows: 25,
      // A12 A14 (a); A01 A02 B02 (b); C03 C04 (c)
      accepted_orders: 7,
      // A01 of a (re-sent unchanged in b) and A02 of a (reused in b for K7)
      duplicate_orders: 2,
      conflicting_duplicates: 1,
      // A03: cancelled, its channel holding a CRLF
      non_purchase_orders: 1,
      rejected_rows: 15,
      rejected_by_reason: {
        // A09 A10 A11 (a); B01 B03 (b); C01 C02 (c)
        malformed_row: 7,
        missing_order_id: 0,
        missing_customer_id: 1, // C05
        invalid_order_date: 2, // A04 (T25:00), C06 (02/05/2025)
        implausible_order_date: 1, // A05 (1900-01-01)
        invalid_amount: 2, // A06 (1e400), A07 (2,000,000,000 > maxAmount)
        negative_amount: 1, // A08
        order_date_after_as_of: 1, // A13
      },
      customers: 6,
    });
  });

  it('scores the customers from the copies kept, trimmed and typed', async () => {
    const rows = await queryDuckDb(
      `SELECT customer_id, orders, total_revenue, acquisition_channel FROM read_parquet(${sqlString(join(out(), 'customers', `run_date=${AS_OF}`, '*', '*.parquet'))}) ORDER BY customer_id`,
    );
    expect(rows.map((r) => [r.customer_id, r.orders, r.total_revenue, r.acquisition_channel])).toEqual([
      // A01 from b (10.00, email) and A14 (11.00, no channel); a's A02 (5.50) was replaced by b's copy for K7
      ['K1', 2, 21, 'email'],
      ['K10', 1, 8, 'shop "north"'],
      ['K5', 1, 8.25, 'email'],
      ['K7', 1, 12, 'email'],
      ['K8', 1, 6, 'search'],
      ['K9', 1, 7, 'shop'],
    ]);
  });

  it('lists every rejected row with its file, the line it starts on, its reason and its raw text', async () => {
    const rows = await queryDuckDb(`SELECT * FROM read_parquet(${sqlString(join(out(), 'rejected', `run_date=${AS_OF}`, '*.parquet'))}) ORDER BY source_file, source_row`);
    const seen = rows.map((r) => [String(r.source_file).split('/').pop(), r.source_row, r.reason]);
    expect(seen).toEqual([
      ['2025-01-a.csv', 6, 'invalid_order_date'],
      ['2025-01-a.csv', 7, 'implausible_order_date'],
      ['2025-01-a.csv', 8, 'invalid_amount'],
      ['2025-01-a.csv', 9, 'invalid_amount'],
      ['2025-01-a.csv', 10, 'negative_amount'],
      ['2025-01-a.csv', 12, 'malformed_row'],
      ['2025-01-a.csv', 13, 'malformed_row'],
      ['2025-01-a.csv', 14, 'malformed_row'],
      ['2025-01-a.csv', 16, 'order_date_after_as_of'],
      ['2025-01-b.csv.gz', 4, 'malformed_row'],
      ['2025-01-b.csv.gz', 6, 'malformed_row'],
      ['2025-02-c.csv.gz', 2, 'malformed_row'],
      ['2025-02-c.csv.gz', 3, 'malformed_row'],
      ['2025-02-c.csv.gz', 6, 'missing_customer_id'],
      ['2025-02-c.csv.gz', 7, 'invalid_order_date'],
    ]);
    const at = (file: string, line: number) => rows.find((r) => String(r.source_file).endsWith(file) && r.source_row === line);
    expect(at('2025-01-a.csv', 6)).toMatchObject({ order_date: '2025-01-07T25:00', order_id: 'A04' });
    expect(at('2025-01-a.csv', 14)?.raw_line).toBe('A11,"K5"x,2025-01-10,3.00,email,completed');
    expect(at('2025-01-b.csv.gz', 4)?.raw_line).toBe('completed,4.00,2025-01-22,K8,B01,"unterminated');
    expect(at('2025-01-b.csv.gz', 6)?.raw_line).toBe('completed,1.00,2025-01-24,K8,B03,we\rb');
    // a 3 MiB record keeps 4 KiB of raw text and says how long it was
    const long = String(at('2025-02-c.csv.gz', 2)?.raw_line);
    expect(long.startsWith('C01,K9,2025-02-01,5.00,xxxx')).toBe(true);
    expect(long.endsWith(`… [${23 + 3 * 1024 * 1024} bytes]`)).toBe(true);
    expect(long.length).toBeLessThan(4200);
    // the Latin-1 byte shows as U+FFFD
    expect(at('2025-02-c.csv.gz', 3)?.raw_line).toMatch(/^C02,K9,2025-02-02,6\.00,caf/);
    // after the as-of date: shown as parsed
    expect(at('2025-01-a.csv', 16)).toMatchObject({ order_id: 'A13', order_date: '2025-03-01' });
  });

  it('shows the conflicting duplicate beside the copy kept, and warns', () => {
    expect(summary.conflicting_duplicate_examples).toHaveLength(1);
    expect(summary.conflicting_duplicate_examples[0]).toMatchObject({
      order_id: 'A02',
      repeat: { source_line: 3, customer_id: 'K1', order_date: '2025-01-05', amount: 5.5 },
      kept: { source_line: 3, customer_id: 'K7', order_date: '2025-01-21', amount: 12 },
    });
    expect(stdout).toMatch(/warning: 1 order reuses an order key/);
  });

  it('writes a receipt per export: rows, malformed, the header mapping used and the problems, with lines', () => {
    expect(receipts.get('2025-01-a.csv')).toMatchObject({
      compression: 'none',
      bom: true,
      line_endings: 'crlf',
      rows: 14,
      accepted_for_parsing: 11,
      malformed: 3,
      parsed: 6,
      rejected_by_reason: { malformed_row: 3, invalid_order_date: 1, implausible_order_date: 1, invalid_amount: 2, negative_amount: 1 },
    });
    expect(receipts.get('2025-01-a.csv')?.problems).toEqual([
      expect.objectContaining({ code: 'wrong_field_count', count: 2, lines: [12, 13] }),
      expect.objectContaining({ code: 'text_after_closing_quote', count: 1, lines: [14] }),
      expect.objectContaining({ code: 'blank_lines', count: 1 }),
    ]);
    const b = receipts.get('2025-01-b.csv.gz');
    expect(b).toMatchObject({ compression: 'gzip', line_endings: 'mixed', rows: 5, malformed: 2, parsed: 3 });
    expect(b?.header).toEqual(['status', 'amount', 'order_date', 'customer_id', 'order_id', 'channel']);
    expect(b?.mapping).toEqual({ order_id: 'order_id', customer_id: 'customer_id', order_date: 'order_date', amount: 'amount', channel: 'channel', status: 'status', order_key: [] });
    expect(b?.problems.map((p) => [p.code, p.lines])).toEqual([
      ['unterminated_quote', [4]],
      ['stray_carriage_return', [6]],
      ['mixed_line_endings', []],
    ]);
    const c = receipts.get('2025-02-c.csv.gz');
    expect(c).toMatchObject({ rows: 6, malformed: 2, parsed: 2, line_endings: 'lf' });
    expect(c?.mapping.status).toBeNull();
    expect(c?.problems.map((p) => [p.code, p.lines])).toEqual([
      ['record_too_long', [2]],
      ['invalid_encoding', [3]],
    ]);
  });

  it('does not parse unchanged exports again on the next run', async () => {
    const again = await clv(['run', '--input', fixture('ingest-adversarial'), '--output', 'out', '--as-of', AS_OF, '--accept-failed-gates'], cwd);
    expect(again.stdout).toMatch(/ingested: 3 files \(0 read, 3 unchanged\)/);
    const ingest = await clv(['ingest', '--input', fixture('ingest-adversarial'), '--output', 'out'], cwd);
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toMatch(/2025-01-a\.csv: 14 rows, 3 malformed, 6 parsed -> out\/ingested\/2025-01-a\.csv-[0-9a-f]{8}-[0-9a-f]{20}\.parquet/);
  });
});

describe('unreadable exports on a local run', () => {
  it('fail the run, naming the file, unless --skip-bad-files leaves them out with a warning', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'in'));
    await writeText(cwd, 'in/good.csv', 'order_id,customer_id,order_date,amount\nO1,C1,2025-01-01,5\n');
    await writeText(cwd, 'in/bad.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('order_id,customer_id\n', 'utf16le')]));

    const failed = await clv(['run', '--input', 'in', '--output', 'out', '--as-of', '2025-01-31'], cwd);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/in\/bad\.csv: is encoded as UTF-16LE/);

    const skipped = await clv(['run', '--input', 'in', '--output', 'out', '--as-of', '2025-01-31', '--skip-bad-files'], cwd);
    expect(skipped.code).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out', 'summary', 'run_date=2025-01-31', 'summary.json'), 'utf8')));
    expect(summary.counts.input_rows).toBe(1);
    expect(summary.warnings).toContainEqual(expect.objectContaining({ code: 'unreadable_file', message: expect.stringMatching(/^in\/bad\.csv was left out: it is encoded as UTF-16LE/) }));
  });
});
