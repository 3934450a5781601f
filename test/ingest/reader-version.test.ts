import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestExport, UnreadableExportError, type IngestRequest } from '../../lambdas/clv-job/ingest/ingest-export.js';
import { INGEST_READER_VERSION } from '../../lambdas/clv-job/ingest/reader-version.js';
import { parquetTypes, queryDuckDb } from '../support/duckdb-reader.js';
import { fixture, repoRoot, tempDir, writeText } from '../support/files.js';

/*
 * INGEST_READER_VERSION keys the local cache of canonical files: it must change whenever what the
 * reader makes of an export changes. This test fingerprints that output (every canonical row as
 * text, the column types, the receipt, the reason an export is refused) over the fixture exports
 * and a few configured readings, and holds it to the fingerprint recorded for the version.
 */
const FINGERPRINTS = fixture('ingest-reader-fingerprints.json');

const exportsUnder = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true })).filter((f) => /\.csv(\.gz)?$/.test(f)).map((f) => join(dir, f)).sort();

/** Readings that depend on the configuration: another delimiter, number and date formats, an order key. */
const CONFIGURED: { name: string; text: string; config: IngestRequest['config'] }[] = [
  {
    name: 'semicolon-decimal-comma.csv',
    text: 'order_id;customer_id;order_date;amount;status\nA1;C1;15.03.2025;1.234,56;paid\nA2; C2 ;31.02.2025;12,5;paid\nA3;C3;01.04.2025;1.23,4;Cancelled\n',
    config: { csv: { delimiter: ';', decimalSeparator: ',', thousandsSeparator: '.', dateFormat: '%d.%m.%Y' } },
  },
  {
    name: 'us-dates-order-key.csv',
    text: 'store,order_id,customer_id,order_date,amount\nS1,1001,C1,03/15/2025,10\nS2,1001,C2,3/15/2025,-4\n,1002,C3,12/31/1969,7.5\n',
    config: { csv: { dateFormat: '%m/%d/%Y' }, orderKey: ['store'] },
  },
  {
    name: 'zoned-timestamps.csv',
    text: 'order_id,customer_id,order_date,amount\nZ1,C1,2025-03-15T23:30:00-0500,10\nZ2,C2,2025-03-16T00:30:00+0500,10\n',
    config: { csv: { dateFormat: '%Y-%m-%dT%H:%M:%S%z' } },
  },
  { name: 'two-amount-columns.csv', text: 'order_id,customer_id,order_date,amount,Amount\nA1,C1,2025-03-15,10,20\n', config: { columns: { amount: 'AMOUNT' } } },
  {
    // a stray quote closed lines later (version 4: the rows between are read, not swallowed), a line of delimiters alone (blank), a NUL in an id (malformed)
    name: 'stray-quote-inch-mark.csv',
    text: 'order_id,customer_id,order_date,amount,product\nA1,C1,2025-01-05,10,"Gift card\nA2,C2,2025-01-06,20,Mug\nA3,C3,2025-01-07,30,Monitor 27"\nA4,C4,2025-01-08,40,"a\nb,c",x\n,,,,\nA5,C5\u0000,2025-01-09,50,Pen\nA6,C6,2025-01-10,60,"Gift\nA7,C7,2025-01-11,70,Monitor 27"\n',
    config: undefined,
  },
  {
    // version 6: a stray quote in the second column ends on a later line reaching that column; the Unix epoch is a placeholder
    name: 'stray-quote-second-column-epoch.csv',
    text: 'order_id,product,customer_id,order_date,amount\n1001,"Gift card,C1,2024-01-01,10\n1002,Monitor 27",C2,2024-01-02,20\n1003,Cable,C3,1970-01-01,30\n',
    config: undefined,
  },
  {
    // version 7: a genuine multi-line note in the second column, a delimiter before its closing quote, stays one record
    name: 'multi-line-note-second-column.csv',
    text: 'order_id,note,customer_id,order_date,amount\n1001,"Deliver to back door\nring twice, then wait",C1,2025-01-02,10.00\n1002,Pen,C2,2025-01-03,5.00\n',
    config: undefined,
  },
  {
    // version 8: ids an export writes for no value (NULL, \N, #N/A, ...) are missing ids
    name: 'placeholder-ids.csv',
    text: 'order_id,customer_id,order_date,amount\nA1,NULL,2025-01-02,10\nA2,\\N,2025-01-02,10\nN/A,C3,2025-01-02,10\nA4, #n/a ,2025-01-02,10\nA5,Nullable,2025-01-02,10\n',
    config: undefined,
  },
  {
    // version 8: an optional column the config names otherwise is required (here absent: refused)
    name: 'named-status-absent.csv',
    text: 'order_id,customer_id,order_date,amount,status\nA1,C1,2025-01-02,10,cancelled\n',
    config: { columns: { status: 'order_status' } },
  },
  {
    // version 9: a header ending in unnamed columns no row has is refused, saying so (every row was malformed)
    name: 'trailing-unnamed-header.csv',
    text: 'order_id,customer_id,order_date,amount,,\nA1,C1,2025-01-02,10\n',
    config: undefined,
  },
  {
    // version 10: R's NA is a missing id; a refusal's reason reads after "it" (has a header that ...)
    name: 'r-na-ids.csv',
    text: 'order_id,customer_id,order_date,amount\nA1,NA,2025-01-02,10\nA2,na,2025-01-02,10\n',
    config: undefined,
  },
  {
    // version 11: a CRLF export whose last line kept its CR and lost its LF reads that line (it was malformed)
    name: 'final-carriage-return.csv',
    text: 'order_id,customer_id,order_date,amount\r\nA1,C1,2025-01-02,10\r\nA2,C2,2025-01-03,20\r',
    config: undefined,
  },
  {
    // version 12: a record whose every field is empty once trimmed (spaces, a tab, `"",""`) is a blank line, not a malformed or id-less row
    name: 'empty-records.csv',
    text: 'order_id,customer_id,order_date,amount\nA1,C1,2025-01-02,10\n   \n\t\n"","","",""\n , "" ,\u00a0,\nA2,C2,2025-01-03,20\n',
    config: undefined,
  },
  {
    // version 13: a quoted field of spaces alone is as empty as `""`
    name: 'quoted-spaces.csv',
    text: 'order_id,customer_id,order_date,amount\nA1,C1,2025-01-02,10\n"  ",,,\n"\t", "" ,,\nA2,C2,2025-01-03,20\n',
    config: undefined,
  },
];


const outputOf = async (source: string, sourceName: string, config: IngestRequest['config'], out: string): Promise<string> => {
  try {
    const { canonical, receipt } = await ingestExport({ source, sourceName, config, output: join(out, 'canonical.parquet') });
    const rows = await queryDuckDb(`SELECT * EXCLUDE (order_date, amount), CAST(order_date AS VARCHAR) AS order_date, CAST(amount AS VARCHAR) AS amount
                                    FROM read_parquet('${canonical}') ORDER BY source_line, raw_line`);
    return JSON.stringify({ receipt, types: await parquetTypes(canonical), rows: rows.map((r) => JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) });
  } catch (error) {
    if (error instanceof UnreadableExportError) return JSON.stringify({ source: sourceName, refused: error.reason });
    throw error;
  }
};

describe('INGEST_READER_VERSION', () => {
  it('is bumped whenever the reader\'s output changes: the output on the fixture exports is the one recorded for it', { timeout: 120_000 }, async () => {
    const out = await tempDir();
    const hash = createHash('sha256');
    const exports = [...(await exportsUnder(fixture('cases'))), ...(await exportsUnder(fixture('ingest-adversarial'))), ...(await exportsUnder(fixture('orders-small'))), ...(await exportsUnder(join(repoRoot, 'sample-data')))];
    for (const path of exports) hash.update(await outputOf(path, relative(repoRoot, path), {}, out)).update('\n');
    for (const { name, text, config } of CONFIGURED) hash.update(await outputOf(await writeText(out, name, text), name, config, out)).update('\n');
    const fingerprint = hash.digest('hex');

    const recorded = JSON.parse(await readFile(FINGERPRINTS, 'utf8')) as Record<string, string>;
    expect(
      recorded[String(INGEST_READER_VERSION)],
      `The reader's output changed (fingerprint ${fingerprint}). If that is intended, bump INGEST_READER_VERSION ` +
        `(lambdas/clv-job/ingest/reader-version.ts), so that cached canonical files are read again, and record ` +
        `"${INGEST_READER_VERSION + 1}": "${fingerprint}" in test/fixtures/ingest-reader-fingerprints.json. Never record it ` +
        `under the current version instead, even within one change: a build made with that version has cached its output under it.`,
    ).toBe(fingerprint);
  });

  it('names one output per version: no two recorded versions share a fingerprint, and the current one is the latest', async () => {
    const recorded = JSON.parse(await readFile(FINGERPRINTS, 'utf8')) as Record<string, string>;
    expect(new Set(Object.values(recorded)).size).toBe(Object.keys(recorded).length);
    expect(Math.max(...Object.keys(recorded).map(Number))).toBe(INGEST_READER_VERSION);
  });
});
