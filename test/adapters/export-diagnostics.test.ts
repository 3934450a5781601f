import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  diagnoseExportHead,
  misplacedHeaderProblem,
  missingColumnsProblem,
  missingRequiredColumns,
  wideEncodingOf,
} from '../../lambdas/clv-job/adapters/export-diagnostics.js';
import { columnMappingSchema } from '../../lambdas/clv-job/config.js';
import { fixture } from '../support/files.js';

const defaults = columnMappingSchema.parse({});
const utf16le = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

describe('diagnoseExportHead', () => {
  it('passes a plain comma-separated export, with or without a UTF-8 byte-order mark', () => {
    expect(diagnoseExportHead(Buffer.from('order_id,customer_id,order_date,amount\nO1,c1,2025-01-01,5\n'))).toBeNull();
    expect(diagnoseExportHead(Buffer.from('\uFEFForder_id,customer_id,order_date,amount\r\n'))).toBeNull();
  });

  it('names an empty file and a file of blank lines, with the header an export needs', () => {
    expect(diagnoseExportHead(Buffer.alloc(0))).toEqual({ kind: 'empty', message: expect.stringMatching(/^is empty \(0 bytes\).*"order_id,customer_id,order_date,amount"/) });
    expect(diagnoseExportHead(Buffer.from('\n\r\n  \n'))).toEqual({ kind: 'empty', message: expect.stringMatching(/^holds only blank lines/) });
  });

  it.each([
    ['orders.csv.bz2', /^is bzip2-compressed, not CSV text \(gzip is the one compression read\): decompress it/],
    ['orders.csv.xz', /^is xz-compressed, not CSV text/],
    ['orders.csv.zst', /^is zstd-compressed, not CSV text/],
    ['orders.zip', /^is a zip archive \(an Excel \.xlsx workbook is one\), not CSV text .*: unzip it, or export the sheet as CSV$/],
  ])('names %s (made by its own tool) for what it is, not for a delimiter its bytes happen to hold', async (name, message) => {
    const head = await readFile(fixture('not-text', name));
    expect(diagnoseExportHead(head)).toEqual({ kind: 'binary', message: expect.stringMatching(message) });
  });

  it('names the encoding of the Excel "Unicode text" case (UTF-16LE with a byte-order mark)', async () => {
    const head = await readFile(fixture('cases', 'utf16', 'orders.csv'));

    const problem = diagnoseExportHead(head);

    expect(problem?.kind).toBe('encoding');
    expect(problem?.message).toMatch(/^is encoded as UTF-16LE .*not UTF-8/);
    expect(problem?.message).toContain('iconv -f UTF-16LE -t UTF-8');
  });

  it.each([
    ['UTF-16LE with a mark', utf16le('order_id,amount\n'), 'UTF-16LE'],
    ['UTF-16BE with a mark', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('order_id,amount\n', 'utf16le').swap16()]), 'UTF-16BE'],
    ['UTF-16LE without a mark', Buffer.from('order_id,amount\n', 'utf16le'), 'UTF-16LE'],
    ['UTF-16BE without a mark', Buffer.from('order_id,amount\n', 'utf16le').swap16(), 'UTF-16BE'],
    ['UTF-32LE with a mark', Buffer.from([0xff, 0xfe, 0x00, 0x00, 0x6f, 0, 0, 0]), 'UTF-32LE'],
    ['UTF-32BE with a mark', Buffer.from([0x00, 0x00, 0xfe, 0xff, 0, 0, 0, 0x6f]), 'UTF-32BE'],
    ['UTF-8', Buffer.from('order_id,amount\nÉ,1\n'), null],
  ])('tells %s', (_, head, encoding) => {
    expect(wideEncodingOf(head)).toBe(encoding);
  });

  it.each([
    ['semicolon', 'order_id;customer_id;order_date;amount\n1;c;2025-01-01;5,5\n', '";"', '"delimiter": ";"'],
    ['tab', 'order_id\tcustomer_id\torder_date\tamount\n', '"\\t"', '"delimiter": "\\t"'],
    ['pipe', 'order_id|customer_id|order_date|amount\n', '"|"', '"delimiter": "|"'],
  ])('says a %s-separated file looks so and which config key to set', (name, text, shown, setting) => {
    const problem = diagnoseExportHead(Buffer.from(text));

    expect(problem?.kind).toBe('delimiter');
    expect(problem?.message).toMatch(new RegExp(`^looks ${name}-separated: .* has 4 fields split by ${shown.replace('|', '\\|').replace('\\t', '\\\\t')}`));
    expect(problem?.message).toContain(`set "csv": { ${setting} }`);
  });

  it('names a semicolon-separated header whose quoted column holds a comma semicolon-separated: the comma inside quotes splits nothing', () => {
    // five columns split by ";", the fifth "channel, source": its comma is inside the quotes
    const problem = diagnoseExportHead(Buffer.from('order_id;customer_id;order_date;amount;"channel, source"\no1;c1;2025-01-02;10.00;web\n'));

    expect(problem?.kind).toBe('delimiter');
    expect(problem?.message).toMatch(/^looks semicolon-separated: .* has 5 fields split by ";" and none by the configured delimiter "," outside quotes; set "csv": \{ "delimiter": ";" \}/);
    // a comma-separated header with a semicolon in a quoted name is what the configured delimiter reads
    expect(diagnoseExportHead(Buffer.from('order_id,customer_id,order_date,amount,"channel; source"\n'))).toBeNull();
  });

  it('names a title holding ";" or "|" above the header as a title, given the columns mapping, not the file as split by it', () => {
    for (const title of ['Orders export; Q4 2025', 'Orders export | all channels']) {
      const head = Buffer.from(`${title}\norder_id,customer_id,order_date,amount\no1,c1,2025-01-02,10.00\n`);

      expect(diagnoseExportHead(head, ',', 'the config', defaults)?.message).toMatch(/^has its header on line 2, not line 1: the line above it \(".*"\) looks like a title/);
      // without the mapping, nothing tells a header below from a title: line 1 is judged alone
      expect(diagnoseExportHead(head, ',', 'the config')?.kind).toBe('delimiter');
    }
  });

  it('advises a setting where the caller says its configuration is set (the CLI\'s --config by default)', () => {
    const semicolons = Buffer.from('order_id;customer_id;order_date;amount\n');

    expect(diagnoseExportHead(semicolons)?.message).toMatch(/set "csv": \{ "delimiter": ";" \} in the config file given with --config$/);
    expect(diagnoseExportHead(semicolons, ',', 'CLV_INGEST_CONFIG')?.message).toMatch(/set "csv": \{ "delimiter": ";" \} in CLV_INGEST_CONFIG$/);
    expect(missingColumnsProblem(['a'], missingRequiredColumns(['a'], defaults), [], 'CLV_INGEST_CONFIG').message).toContain('map them with "columns" in CLV_INGEST_CONFIG, e.g.');
  });

  it('names an export without a header row for what it is: its first line holds values (a date, a number), not column names', () => {
    const first = ['O1', 'C1', '2025-01-01', '10.00'];

    expect(missingColumnsProblem(first, missingRequiredColumns(first, defaults)).message).toBe(
      'has no header row: its first line ("O1", "C1", "2025-01-01", "10.00") holds values, not column names ("2025-01-01", "10.00"); ' +
        'an orders export needs a header row naming its columns first, e.g. "order_id,customer_id,order_date,amount"',
    );
    // a header of other names is a header: the mapping advice stays
    expect(missingColumnsProblem(['OrderNo', 'Client'], missingRequiredColumns(['OrderNo', 'Client'], defaults)).message).toMatch(/^lacks the required columns/);
  });

  it('names a file full of control bytes binary data (a program, random bytes), whatever it seems split by', () => {
    // a linear congruential generator: the same "random" bytes on every run
    let state = 12345;
    const noise = Buffer.from(Array.from({ length: 20_000 }, () => ((state = (state * 1103515245 + 12345) % 2 ** 31) >>> 16) & 0xff));
    const program = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(56)]);

    for (const head of [noise, program]) {
      expect(diagnoseExportHead(head)?.kind).toBe('binary');
      expect(diagnoseExportHead(head)?.message).toMatch(/^is binary data, not CSV text: \d+ of its first \d+ bytes are control characters, which text does not hold; .*was the wrong file picked\?$/);
    }
  });

  it('leaves a stray control character in an order row to that row (a malformed row, counted), and shows none raw in a message', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `O${i},c${i},2025-01-01,5`);
    rows[7] = 'O7,c\u0000\u0007,2025-01-01,5';

    expect(diagnoseExportHead(Buffer.from(`order_id,customer_id,order_date,amount\n${rows.join('\n')}\n`))).toBeNull();
    // a header with a control character, split by another delimiter: named, escaped
    const message = diagnoseExportHead(Buffer.from('order_id;cust\u0007omer_id;order_date;amount\n'))?.message ?? '';
    expect(message).toContain('"order_id;cust\\u0007omer_id;order_date;amount"');
    expect(message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('measures the header against the configured delimiter', () => {
    expect(diagnoseExportHead(Buffer.from('order_id;customer_id;order_date;amount\n'), ';')).toBeNull();
    expect(diagnoseExportHead(Buffer.from('order_id,customer_id,order_date,amount\n'), ';')?.message).toMatch(/^looks comma-separated: .*"delimiter": ","/);
  });

  it("names Excel's separator line before the header (sep=;) for what it is, and the delimiter to set when it is not the configured one", () => {
    const export_ = 'sep=;\r\norder_id;customer_id;order_date;amount\r\nO1;c1;2025-01-01;5,00\r\n';
    expect(diagnoseExportHead(Buffer.from(export_))).toEqual({
      kind: 'delimiter',
      message: expect.stringMatching(/^starts with Excel's separator line "sep=;", not a header: delete that first line so the header comes first, and set "csv": \{ "delimiter": ";" \}/),
    });
    expect(diagnoseExportHead(Buffer.from('sep=\t\norder_id\tcustomer_id\torder_date\tamount\n'))?.message).toMatch(/separator line "sep=\\t".*"delimiter": "\\t"/);
    // already configured: only the line is in the way
    expect(diagnoseExportHead(Buffer.from(export_), ';')?.message).toMatch(/delete that first line so the header comes first$/);
  });

  it('names lines ended by a carriage return alone (classic Mac OS), which the reader does not take as line breaks', () => {
    const message = diagnoseExportHead(Buffer.from('order_id,customer_id,order_date,amount\rO1,c1,2025-01-01,5\rO2,c1,2025-02-01,6\r'))?.message;
    expect(message).toMatch(/^ends its lines with a carriage return alone \(classic Mac OS line endings\).*CRLF.*LF/);
    // a header alone ending in one is a header, and CRLF lines are lines
    expect(diagnoseExportHead(Buffer.from('order_id,customer_id,order_date,amount\r'))).toBeNull();
    expect(diagnoseExportHead(Buffer.from('order_id,customer_id,order_date,amount\r\nO1,c1,2025-01-01,5\r\n'))).toBeNull();
  });

  it('names JSON for what it is (an array of objects, pretty-printed or not, or one object per line), and leaves a header that begins with a brace to the CSV checks', () => {
    for (const json of ['[{"order_id":"O1","customer_id":"C1"}]', '[\n  {\n    "order_id": "O1"\n  }\n]\n', '{"order_id":"O1"}\n{"order_id":"O2"}\n', '\uFEFF {"order_id": 1}']) {
      expect(diagnoseExportHead(Buffer.from(json))).toMatchObject({ kind: 'json', message: expect.stringMatching(/^is JSON .*not CSV text: export the orders as CSV/) as string });
    }
    expect(diagnoseExportHead(Buffer.from('{order_id},customer_id,order_date,amount\nO1,C1,2025-01-01,1\n'))?.kind).not.toBe('json');
  });
});

describe('misplacedHeaderProblem', () => {
  it('names the line a header below a title is on, the title, and the line to delete', () => {
    const head = Buffer.from('Orders export 2025\norder_id,customer_id,order_date,amount,channel\no1,c1,2025-01-02,10.00,web\n');

    expect(misplacedHeaderProblem(head, ',', defaults)).toEqual({
      kind: 'missing_columns',
      message:
        'has its header on line 2, not line 1: the line above it ("Orders export 2025") looks like a title, not column names; ' +
        'delete line 1 so that the header comes first (the header is read from line 1; no setting skips lines)',
    });
  });

  it('counts lines as an editor does (a blank one and a byte-order mark included) and quotes every non-blank line above the header', () => {
    const head = Buffer.from('\uFEFFOrders export 2025\r\nExported by shop admin\r\n\r\norder_id;customer_id;order_date;amount\r\no1;c1;2025-01-02;10,00\r\n');

    expect(misplacedHeaderProblem(head, ';', defaults)?.message).toMatch(
      /^has its header on line 4, not line 1: the 2 lines above it \("Orders export 2025", "Exported by shop admin"\) look like a title, not column names; delete lines 1 to 3 so that/,
    );
  });

  it('finds the header by the columns mapping, and finds none where no line below the first names every required column', () => {
    const mapped = columnMappingSchema.parse({ order_id: 'Order No', customer_id: 'Client', order_date: 'Date', amount: 'Total' });
    const renamed = Buffer.from('Shop report\nOrder No,Client,Date,Total\n1,c,2025-01-01,5\n');

    expect(misplacedHeaderProblem(renamed, ',', mapped)?.message).toMatch(/^has its header on line 2, not line 1/);
    expect(misplacedHeaderProblem(renamed, ',', defaults)).toBeNull();
    expect(misplacedHeaderProblem(Buffer.from('OrderNo,Client\n1,c\n'), ',', defaults)).toBeNull();
  });

  it('names the delimiter a header is split by when the configured one occurs in it too: a semicolon export whose header holds "channel, source" unquoted', () => {
    const head = Buffer.from('order_id;customer_id;order_date;amount;channel, source;status\no1;c1;2025-01-02;10,00;web;paid\n');

    expect(misplacedHeaderProblem(head, ',', defaults, 'the config')).toEqual({
      kind: 'delimiter',
      message: 'looks semicolon-separated: its header "order_id;customer_id;order_date;amount;channel, source;status" holds every required column split by ";"; set "csv": { "delimiter": ";" } in the config',
    });
    // read as configured, the same header is no problem of this kind
    expect(misplacedHeaderProblem(head, ';', defaults)).toBeNull();
  });

  it('names both a title above the header and the delimiter the header is split by', () => {
    const head = Buffer.from('Orders export 2025\norder_id;customer_id;order_date;amount\no1;c1;2025-01-02;10,00\n');

    expect(misplacedHeaderProblem(head, ',', defaults, 'the config')?.message).toBe(
      'has its header on line 2, not line 1: the line above it ("Orders export 2025") looks like a title, not column names; ' +
        'delete line 1 so that the header comes first (the header is read from line 1; no setting skips lines), ' +
        'and set "csv": { "delimiter": ";" } in the config: the header is semicolon-separated',
    );
  });
});

describe('missingColumnsProblem', () => {
  it('names the first 30 columns of a header of thousands, and how many more: the reason goes into an SNS message', () => {
    const header = Array.from({ length: 30_000 }, (_, i) => `col${i}`);

    const { message } = missingColumnsProblem(header, missingRequiredColumns(header, defaults));

    expect(message).toContain('"col28", "col29" and 29970 more.');
    expect(message).not.toContain('"col30"');
    expect(message.length).toBeLessThan(2_000);
  });

  it('names every missing column at once, the columns the file has and a columns mapping from its own header', () => {
    const header = ['id', 'cust', 'date', 'total', 'note'];

    const problem = missingColumnsProblem(header, missingRequiredColumns(header, defaults));

    expect(problem.kind).toBe('missing_columns');
    expect(problem.message).toBe(
      'lacks the required columns "order_id", "customer_id", "order_date", "amount"; the header has "id", "cust", "date", "total", "note". ' +
        'If the export names them differently, map them with "columns" in the config file given with --config, ' +
        'e.g. { "columns": { "order_id": "id", "customer_id": "cust", "order_date": "date", "amount": "total" } }',
    );
  });

  it('names a mapped column by its header name and leaves a placeholder where the header suggests nothing', () => {
    const mapping = { ...defaults, amount: 'Betrag' };
    const header = ['order_id', 'customer_id', 'order_date', 'x'];

    const problem = missingColumnsProblem(header, missingRequiredColumns(header, mapping), ['order_id', 'customer_id', 'order_date']);

    expect(problem.message).toMatch(/^lacks the required column "Betrag" \(amount\); the header has "order_id", "customer_id", "order_date", "x"\./);
    expect(problem.message).toContain('{ "columns": { "amount": "<your amount column>" } }');
  });

  it('matches header names as the readers do: exact, else trimmed and case-insensitive', () => {
    expect(missingRequiredColumns([' Order_ID ', 'CUSTOMER_ID', 'order_date', 'amount'], defaults)).toEqual([]);
  });
});
