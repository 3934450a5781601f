import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestExport, UnreadableExportError } from '../../lambdas/clv-job/ingest/ingest-export.js';
import { ingestReceiptSchema } from '../../lambdas/clv-job/ingest/receipt.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { fixture, repoRoot, tempDir, writeText } from '../support/files.js';
import { queryDuckDb } from '../support/duckdb-reader.js';

const cases = join(repoRoot, 'test', 'fixtures', 'cases');
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ingest-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const rowsOf = async (canonical: string) =>
  queryDuckDb(`SELECT source_line, parse_reason, order_id, customer_id, CAST(order_date AS VARCHAR) AS order_date, CAST(amount AS VARCHAR) AS amount, channel, status, raw_line
               FROM read_parquet(${sqlString(canonical)}) ORDER BY source_line`);

/** Writes `text` (or bytes) to a file of its own and ingests it. */
const ingestText = async (name: string, content: string | Buffer, config?: Parameters<typeof ingestExport>[0]['config']) => {
  const path = join(work, name);
  await writeFile(path, content);
  return ingestExport({ source: path, sourceName: name, config, output: join(work, `${name}.parquet`) });
};

describe('ingestExport: one export into canonical rows and a receipt', () => {
  it('reads athena-parity/orders-a.csv (BOM, CRLF, quoted commas and line breaks, ragged rows, a blank line) record by record, with physical line numbers', async () => {
    const { canonical, receipt } = await ingestExport({
      source: join(cases, 'athena-parity', 'orders-a.csv'),
      sourceName: 'athena-parity/orders-a.csv',
      output: join(work, 'parity-a.parquet'),
    });
    // 16 records after the header: 14 split into the header's 6 fields, 2 did not (lines 6 and 7); the blank line 16 is not a row
    expect(receipt).toMatchObject({ rows: 16, accepted_for_parsing: 14, malformed: 2, parsed: 13, bom: true, line_endings: 'crlf' });
    expect(receipt.rejected_by_reason).toMatchObject({ malformed_row: 2, missing_order_id: 1 });
    expect(receipt.problems).toContainEqual(expect.objectContaining({ code: 'wrong_field_count', count: 2, lines: [6, 7] }));
    expect(receipt.problems).toContainEqual(expect.objectContaining({ code: 'blank_lines', count: 1 }));
    expect(() => ingestReceiptSchema.parse(receipt)).not.toThrow();

    const rows = await rowsOf(canonical);
    expect(rows.map((r) => Number(r.source_line))).toEqual([2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19]);
    const byOrder = new Map(rows.map((r) => [r.order_id, r]));
    expect(byOrder.get('O002')).toMatchObject({ channel: 'line one\nline two', status: 'cancelled' });
    expect(byOrder.get('O007')).toMatchObject({ customer_id: 'C07\\' });
    expect(byOrder.get('O008')).toMatchObject({ customer_id: 'C07' });
    // a tab-padded amount is trimmed (tab is in the trimmed set) and parsed
    expect(byOrder.get('O009')).toMatchObject({ amount: '90.000000', parse_reason: null });
    expect(rows.find((r) => Number(r.source_line) === 6)).toMatchObject({ parse_reason: 'malformed_row', raw_line: 'O004,C04,2025-01-08,40.00,email,completed,EXTRA' });
  });

  it('maps the header by name in each file: a file with customer_id and order_id swapped reads the same', async () => {
    const { canonical, receipt } = await ingestExport({ source: join(cases, 'athena-parity', 'orders-b.csv'), sourceName: 'b.csv', output: join(work, 'b.parquet') });
    expect(receipt.mapping).toMatchObject({ order_id: 'order_id', customer_id: 'customer_id' });
    expect(receipt.header.slice(0, 2)).toEqual(['customer_id', 'order_id']);
    const rows = await rowsOf(canonical);
    expect(rows.map((r) => [r.order_id, r.customer_id])).toEqual([
      ['O020', 'C20'],
      ['O021', 'C21'],
    ]);
  });

  it('turns text after a closing quote into malformed rows with their raw text and line, and keeps the good rows (stray-quote)', async () => {
    const { canonical, receipt } = await ingestExport({ source: join(cases, 'stray-quote', 'orders.csv'), sourceName: 'stray.csv', output: join(work, 'stray.parquet') });
    expect(receipt).toMatchObject({ rows: 4, malformed: 2, parsed: 2 });
    const rows = await rowsOf(canonical);
    expect(rows.map((r) => [Number(r.source_line), r.parse_reason, r.order_id ?? r.raw_line])).toEqual([
      [2, null, 'S1'],
      [3, 'malformed_row', 'S2,C1,2025-02-02,12,"back\\"slash'],
      [4, 'malformed_row', 'S3,C2,2025-03-01,5,"we"b'],
      [5, null, 'S4'],
    ]);
  });

  it('does not let a stray quote, closed lines later by an inch mark, swallow the orders between (every row counted)', async () => {
    const text = [
      'order_id,customer_id,order_date,amount,product,status',
      'A1,C1,2025-01-05,10.00,"Gift card,completed',
      'A2,C2,2025-01-06,20.00,Mug,completed',
      'A3,C3,2025-01-07,30.00,Lamp,completed',
      'A4,C4,2025-01-08,40.00,Monitor 27",completed',
      '',
    ].join('\n');
    const { canonical, receipt } = await ingestText('inch.csv', text);
    expect(receipt).toMatchObject({ rows: 4, malformed: 1, parsed: 3 });
    const rows = await rowsOf(canonical);
    expect(rows.map((r) => [Number(r.source_line), r.parse_reason, r.order_id ?? r.raw_line])).toEqual([
      [2, 'malformed_row', 'A1,C1,2025-01-05,10.00,"Gift card,completed'],
      [3, null, 'A2'],
      [4, null, 'A3'],
      [5, null, 'A4'],
    ]);
  });

  it('names the line a header below a title line is on, not the title as a header lacking every column, gzipped or not', async () => {
    const titled = 'Orders export 2025\norder_id,customer_id,order_date,amount\no1,c1,2025-01-02,10.00\n';

    await expect(ingestText('titled.csv', titled)).rejects.toThrow(/^titled\.csv: has its header on line 2, not line 1: the line above it \("Orders export 2025"\) looks like a title/);
    await expect(ingestText('titled.csv.gz', gzipSync(titled))).rejects.toThrow(/^titled\.csv\.gz: has its header on line 2, not line 1/);
  });

  it('fails an unreadable file with a typed error naming the reason', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('order_id,customer_id\n', 'utf16le')]);
    await expect(ingestText('utf16.csv', utf16)).rejects.toThrow(UnreadableExportError);
    await expect(ingestText('utf16.csv', utf16)).rejects.toThrow(/UTF-16LE/);
    await expect(ingestText('empty.csv', '')).rejects.toThrow(/is empty \(0 bytes\)/);
    // gzip of nothing: the listing shows its stored bytes, so "0 bytes" would contradict what the user sees
    const nothing = gzipSync(Buffer.alloc(0));
    await expect(ingestText('nothing.csv.gz', nothing)).rejects.toThrow(`is a gzip file of ${nothing.length} bytes that holds nothing (0 bytes once uncompressed)`);
    // the tester's bzip2 file named .csv was told to set a tab delimiter
    await expect(ingestText('bz.csv', await readFile(fixture('not-text', 'orders.csv.bz2')))).rejects.toThrow(/^bz\.csv: is bzip2-compressed, not CSV text/);
    // gunzipped once, the text is gzip again: named for it, not "looks pipe-separated" as the tester's was
    await expect(ingestText('twice.csv.gz', await readFile(fixture('not-text', 'orders-gzipped-twice.csv.gz')))).rejects.toThrow(
      /^twice\.csv\.gz: is gzip-compressed twice \(a gzip file inside the gzip file\), not CSV text/,
    );
    await expect(ingestText('semicolon.csv', 'order_id;customer_id;order_date;amount\n1;2;2025-01-01;3\n')).rejects.toThrow(/"delimiter": ";"/);
    // told from the decompressed bytes, whatever the file is called
    await expect(ingestText('semicolon.bin', gzipSync('order_id;customer_id;order_date;amount\n1;2;2025-01-01;3\n'))).rejects.toThrow(/semicolon-separated/);
    // Excel's plain CSV (Windows-1252): the header's é is one byte, 0xE9, which is not UTF-8
    const cp1252 = Buffer.concat([Buffer.from('order_id,customer_id,order_date,amount,cat'), Buffer.from([0xe9]), Buffer.from('gorie\nA1,C1,2025-01-01,3,x\n')]);
    await expect(ingestText('cp1252.csv', cp1252)).rejects.toThrow(/^cp1252\.csv: is not UTF-8 text .*Windows-1252.*iconv -f WINDOWS-1252 -t UTF-8/);
    const whole = gzipSync(Buffer.from('order_id,customer_id,order_date,amount\n' + Array.from({ length: 2000 }, (_, i) => `A${i},B${i % 7},2025-01-01,${i}\n`).join('')));
    const cut = whole.subarray(0, whole.length - 100);
    await expect(ingestText('cut.csv.gz', cut)).rejects.toThrow(/not a complete gzip file/);
  });

  it('reads a gzip file padded with zero bytes after its last member, as GNU gzip does, its receipt of every byte as stored', async () => {
    const text = 'order_id,customer_id,order_date,amount\n' + Array.from({ length: 50_000 }, (_, i) => `P${i},C${i % 97},2025-01-01,${i}\n`).join('');
    const padded = Buffer.concat([gzipSync(text.slice(0, 400_000)), gzipSync(text.slice(400_000)), Buffer.alloc(4096)]);

    const { receipt } = await ingestText('padded.csv.gz', padded);

    expect(receipt).toMatchObject({ compression: 'gzip', rows: 50_000, bytes: padded.length, sha256: createHash('sha256').update(padded).digest('hex') });
  });
});

describe('ingestExport when its canonical copy cannot be written', () => {
  it('fails naming the copy, not the export: the export is readable, so it is never skipped (--skip-bad-files) or quarantined as unreadable', async () => {
    const path = join(work, 'good.csv');
    await writeFile(path, 'order_id,customer_id,order_date,amount\nA1,C1,2025-01-01,10\n');

    const error = await ingestExport({ source: path, sourceName: 'good.csv', output: join(work, 'no-such-folder', 'good.parquet') }).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(UnreadableExportError);
    expect((error as Error).message).toMatch(/^good\.csv: its canonical copy could not be written \(IO Error: .*\): the folder or disk the copy goes to failed, not the export$/);
  });
});

describe('ingestExport on arbitrary bytes after a good header', () => {
  const pieces = ['O1', 'C1', '2025-01-05', '12.50', ',', '"', '""', '\n', '\r\n', '\r', '\t', ' ', 'x"y', '"a,b"', '\u00e9', '\uFEFF', 'é'.repeat(3)];
  it('never fails the file: every record becomes a canonical row, and the receipt adds up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), fc.boolean(), async (parts, latin1) => {
        const body = Buffer.from(parts.join(''), latin1 ? 'latin1' : 'utf8');
        const { canonical, receipt } = await ingestText('fuzz.csv', Buffer.concat([Buffer.from('order_id,customer_id,order_date,amount\n'), body]));
        const [row] = await queryDuckDb(`SELECT COUNT(*) AS n, COUNT(source_line) AS lines, COUNT(*) FILTER (parse_reason = 'malformed_row') AS malformed FROM read_parquet(${sqlString(canonical)})`);
        expect(Number(row?.n)).toBe(receipt.rows);
        expect(Number(row?.lines)).toBe(receipt.rows);
        expect(Number(row?.malformed)).toBe(receipt.malformed);
        expect(receipt.rows).toBe(receipt.parsed + Object.values(receipt.rejected_by_reason).reduce((a, b) => a + b, 0));
      }),
      { numRuns: 40 },
    );
  });
});

describe('a header naming a column twice', () => {
  it.each([
    ['the same name twice', 'order_id,customer_id,order_date,amount,amount\nA1,C1,2025-03-15,10,20\n', undefined, /has 2 columns named "amount" \(columns 4, 5 of the header\)/],
    ['two spellings of a mapped name', 'order_id,customer_id,order_date,Amount,AMOUNT \nA1,C1,2025-03-15,10,20\n', undefined, /has 2 columns named "amount" \(columns 4, 5 of the header\)/],
    ['an order-key column twice', 'store,order_id,customer_id,order_date,amount,store\nS1,A1,C1,2025-03-15,10,S2\n', { orderKey: ['store'] }, /has 2 columns named "store" \(columns 1, 6 of the header\)/],
  ])('is refused, naming the columns, rather than read from the first of them: %s', async (_, text, config, message) => {
    // it used to read the first (10) and note the other only as an unused column in the receipt
    await expect(ingestText(`twice-${text.length}.csv`, text, config)).rejects.toThrow(message);
    await expect(ingestText(`twice-${text.length}.csv`, text, config)).rejects.toBeInstanceOf(UnreadableExportError);
  });

  it('reads a header whose one exact match stands beside other spellings', async () => {
    const { canonical } = await ingestText('exact-beside-loose.csv', 'order_id,customer_id,order_date,amount,Amount\nA1,C1,2025-03-15,10,20\n');
    expect((await rowsOf(canonical)).map((r) => r.amount)).toEqual(['10.000000']);
  });
});

describe('an optional column the config names', () => {
  it('is required of every export, named in the refusal: read as empty, every cancelled order would count as a purchase', async () => {
    const text = 'order_id,customer_id,order_date,amount,status\nA1,C1,2025-03-15,10,cancelled\n';

    await expect(ingestText('renamed-status.csv', text, { columns: { status: 'order_status' } })).rejects.toThrow(
      /lacks the status column "order_status" \(columns\.status\) named in the config file given with --config; the header has "order_id", "customer_id", "order_date", "amount", "status"/,
    );
    await expect(ingestText('renamed-channel.csv', text, { columns: { channel: 'source' } })).rejects.toBeInstanceOf(UnreadableExportError);
  });

  it('under its own name may be absent: an export without statuses or channels is read', async () => {
    const { receipt } = await ingestText('no-status.csv', 'order_id,customer_id,order_date,amount\nA1,C1,2025-03-15,10\n', { columns: { status: 'status' } });
    expect(receipt.parsed).toBe(1);
  });
});

describe('a header ending in columns without a name (a spreadsheet\'s, once cells beside the data were filled)', () => {
  it('is refused, saying so, when no row has those columns: every row would be malformed with nothing saying why', async () => {
    const text = 'order_id,customer_id,order_date,amount,status,,\nA1,C1,2025-03-15,10,paid\nA2,C2,2025-03-16,20,paid\n';

    await expect(ingestText('trailing-unnamed.csv', text)).rejects.toThrow(
      /has a header ending in 2 columns without a name \("status", "", ""\), and none of its rows has the header's 7 fields \(2 rows have another number\)/,
    );
  });

  it('is read when rows have them, empty or not', async () => {
    const { receipt } = await ingestText('trailing-unnamed-kept.csv', 'order_id,customer_id,order_date,amount,,\nA1,C1,2025-03-15,10,,\nA2,C2,2025-03-16,20\n');
    expect([receipt.parsed, receipt.malformed]).toEqual([1, 1]);
  });
});

describe('an id an export writes for no value', () => {
  it('is a missing id, as an empty one is: NULL, \\N, NA, N/A, #N/A, NaN, None in any case, trimmed', async () => {
    const ids = ['NULL', 'null', '\\N', 'NA', 'N/A', ' #N/A ', 'NaN', 'None', 'nil', 'undefined'];
    const text = ['order_id,customer_id,order_date,amount', ...ids.map((id, i) => `A${i},${id},2025-03-15,10`), 'NULL,C1,2025-03-15,10', 'A9,Nullable,2025-03-15,10', 'A10,\\n2,2025-03-15,10'].join('\n') + '\n';

    const { canonical, receipt } = await ingestText('placeholder-ids.csv', text);

    expect(receipt.rejected_by_reason).toMatchObject({ missing_customer_id: ids.length, missing_order_id: 1 });
    // a real id that merely begins like one is an id
    expect((await rowsOf(canonical)).filter((r) => r.parse_reason === null).map((r) => r.customer_id)).toEqual(['Nullable', '\\n2']);
  });
});

describe('order dates without a dateFormat', () => {
  /*
   * The rule (SPEC: ISO 8601, the time part checked): the text matches ISO_DATE below and its first
   * 10 characters are a day of the proleptic Gregorian calendar, years 0000 to 9999. Worked out here
   * in plain code, independently of the SQL that ingest runs (a GLOB and a cast for the common bare
   * date, the regex otherwise), over a grid of bare dates at the calendar's edges (month and day 00,
   * 13, 29 February in leap and common century years, 99) and texts that are almost dates.
   */
  const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?$/;
  /** Days since 1970-01-01 of the text's day, or null when the text is not a valid order date. */
  const expectedDay = (text: string): number | null => {
    const match = ISO_DATE.exec(text);
    if (match === null) return null;
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    if (monthDays === undefined || day < 1 || day > monthDays) return null;
    const at = new Date(0);
    at.setUTCFullYear(year, month - 1, day);
    return at.getTime() / 86_400_000;
  };
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const grid = [0, 1, 4, 100, 1582, 1600, 1899, 1900, 1969, 1970, 2000, 2023, 2024, 2025, 2100, 9999].flatMap((y) =>
    [0, 1, 2, 3, 4, 6, 9, 11, 12, 13, 99].flatMap((m) => [0, 1, 28, 29, 30, 31, 32, 99].map((d) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`)),
  );
  const almost = [
    '2024-1-05', '2024-01-5', '24-01-05', '2024/01/05', '2024.01.05', '20240105', '2024-01-05x', 'x2024-01-05', '+2024-01-05',
    '2024-0a-05', 'abcd-ef-gh', '2024-01-0\u0665', '\uff12\uff10\uff12\uff14-01-05', '2024-01-05\u00e9', '12024-01-05',
    '2024-01-05T10:00', '2024-01-05 23:59:59', '2024-01-05T24:00', '2024-01-05T10:60', '2024-01-05T10:00:00.5Z', '2024-01-05T10:00:00,25+05:30',
    '2024-01-05T10:00-0800', '2024-02-30T00:00', '2023-02-29 12:00', '2024-02-29 12:00', '0000-02-29T00:00Z', '2024-01-05T', '2024-01-05 ',
  ];
  it('reads a date exactly when it is ISO 8601 and its day exists, as the rule worked out in code says', async () => {
    const texts = [...grid, ...almost];
    const csv = `order_id,customer_id,order_date,amount\n${texts.map((t, i) => `O${i},C1,"${t}",1`).join('\n')}\n`;
    const { canonical } = await ingestText('iso-dates.csv', csv);
    const rows = await queryDuckDb(
      `SELECT order_id, CAST(order_date - DATE '1970-01-01' AS VARCHAR) AS day FROM read_parquet(${sqlString(canonical)}) ORDER BY source_line`,
    );
    expect(rows.map((r) => [texts[Number(String(r.order_id).slice(1))], r.day === null ? null : Number(r.day)])).toEqual(
      texts.map((t) => [t, expectedDay(t.trim())]),
    );
    // the grid reaches both sides of the rule
    expect(grid.filter((t) => expectedDay(t) !== null).length).toBeGreaterThan(300);
    expect(grid.filter((t) => expectedDay(t) === null).length).toBeGreaterThan(300);
  });
});

describe('csv.dateFormat with a zone', () => {
  /*
   * strptime with %z gives an instant; its day was the day in the session's zone, by default the
   * machine's, so the same export gave a laptop in Tokyo, one in Los Angeles and the Lambda (UTC)
   * different purchase days. Expected: the UTC day, worked out by hand from the offsets:
   * 2025-03-15 23:30 at -05:00 is 2025-03-16 04:30 UTC; 2025-03-16 00:30 at +05:00 is 2025-03-15 19:30 UTC.
   */
  it('gives the UTC day of the instant on every machine, whatever its time zone', { timeout: 60_000 }, async () => {
    await requireCliBundle();
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', 'order_id,customer_id,order_date,amount\nO1,C1,2025-03-15T23:30:00-0500,10\nO2,C2,2025-03-16T00:30:00+0500,10\n');
    await writeText(cwd, 'config.json', JSON.stringify({ csv: { dateFormat: '%Y-%m-%dT%H:%M:%S%z' } }));

    const daysIn = async (timeZone: string): Promise<Record<string, unknown>[]> => {
      const out = `out-${timeZone.replace('/', '-')}`;
      const result = await clv(['ingest', '--input', 'orders.csv', '--output', out, '--config', 'config.json'], cwd, { TZ: timeZone });
      expect(result.code, result.stderr).toBe(0);
      return queryDuckDb(`SELECT order_id, CAST(order_date AS VARCHAR) AS order_date FROM read_parquet(${sqlString(join(cwd, out, 'ingested', '*.parquet'))}) ORDER BY order_id`);
    };

    const expected = [
      { order_id: 'O1', order_date: '2025-03-16' },
      { order_id: 'O2', order_date: '2025-03-15' },
    ];
    expect(await daysIn('Asia/Tokyo')).toEqual(expected);
    expect(await daysIn('America/Los_Angeles')).toEqual(expected);
  });
});
