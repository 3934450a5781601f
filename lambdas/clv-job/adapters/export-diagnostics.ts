/**
 * Why an orders export cannot be read, said the way its owner can act on: an empty file, a binary
 * file (an archive, a workbook, another compression than gzip), JSON, a file in
 * UTF-16 or UTF-32 (Excel's "Unicode text"), a file separated by something other than the configured
 * delimiter, a title line above the header, a header that lacks required columns. The one reader of exports (ingestExport, on both
 * paths) calls these on the file's first (decompressed) bytes and its header before it reads rows,
 * so a newcomer's first mistake gets one specific sentence instead of a CSV reader's symptom.
 *
 * The delimiter is guessed for the message only: a file is never re-read with a guessed delimiter,
 * since a wrong guess would score the wrong columns silently.
 */
import { splitRecord } from '../ingest/record-framer.js';
import type { OrderColumn } from '../schemas/tables.js';

/** Enough of a file to see its byte-order mark, its header and a few rows: what diagnoseExportHead is given. */
export const EXPORT_HEAD_BYTES = 64 * 1024;

/** The required columns of an export, in the order messages name them (SPEC "Input contract"). */
export const REQUIRED_ORDER_COLUMNS: readonly OrderColumn[] = ['order_id', 'customer_id', 'order_date', 'amount'];
/** The columns an export may lack: without them no customer has a channel, every order is a purchase. */
export const OPTIONAL_ORDER_COLUMNS: readonly OrderColumn[] = ['channel', 'status'];

/**
 * What an export writes in an id field for "no value" (compared in upper case, after trimming): SQL's
 * NULL, MySQL's and PostgreSQL's `\N`, R's NA, spreadsheets' N/A and #N/A, pandas' NaN and None. Such
 * an id is missing, as an empty one is.
 */
export const ID_PLACEHOLDERS: readonly string[] = ['NULL', '\\N', 'NA', 'N/A', '#N/A', 'NAN', 'NONE', 'NIL', 'UNDEFINED'];

/** Byte-order marks, longest first: UTF-32LE's mark starts with UTF-16LE's. */
const BYTE_ORDER_MARKS = [
  { encoding: 'UTF-32LE', bytes: [0xff, 0xfe, 0x00, 0x00] },
  { encoding: 'UTF-32BE', bytes: [0x00, 0x00, 0xfe, 0xff] },
  { encoding: 'UTF-16LE', bytes: [0xff, 0xfe] },
  { encoding: 'UTF-16BE', bytes: [0xfe, 0xff] },
] as const;
export type WideEncoding = (typeof BYTE_ORDER_MARKS)[number]['encoding'];

/**
 * Files that are not text, by their first bytes (each format's magic number): what is dropped by
 * mistake beside the exports. Gzip is read (and told by its own bytes), once: gzip's magic in the
 * text that gunzip gave is a file compressed twice.
 */
const BINARY_FORMATS = [
  { magic: [0x50, 0x4b, 0x03, 0x04], what: 'a zip archive (an Excel .xlsx workbook is one)', fix: 'unzip it, or export the sheet as CSV' },
  { magic: [0x42, 0x5a, 0x68], what: 'bzip2-compressed', fix: 'decompress it (`bunzip2`), or compress it with gzip' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: 'xz-compressed', fix: 'decompress it (`unxz`), or compress it with gzip' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed', fix: 'decompress it (`unzstd`), or compress it with gzip' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: 'a 7-Zip archive', fix: 'extract the CSV from it' },
  { magic: [0x50, 0x41, 0x52, 0x31], what: 'a Parquet file', fix: 'export the orders as CSV' },
  { magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], what: 'an old Excel .xls workbook', fix: 'export the sheet as CSV' },
  // only ever seen after one gunzip: a file that starts so is read as gzip
  { magic: [0x1f, 0x8b], what: 'gzip-compressed twice (a gzip file inside the gzip file)', fix: 'compress the CSV once (`gunzip` it once more)' },
  { magic: [0x25, 0x50, 0x44, 0x46, 0x2d], what: 'a PDF document', fix: 'export the orders as CSV' },
] as const;

/** Delimiters exports use, named as the message says them; any but the configured one is "other". */
export const DELIMITERS = [
  { char: ',', name: 'comma', json: ',' },
  { char: ';', name: 'semicolon', json: ';' },
  { char: '\t', name: 'tab', json: '\\t' },
  { char: '|', name: 'pipe', json: '|' },
] as const;

/** Where the CLI's reading configuration is set, as the advice to change a setting names it. */
export const CLI_CONFIG_PLACE = 'the config file given with --config';

/** The problem found and the sentence that explains it (it follows the file's name in a message). */
export interface ExportProblem {
  readonly kind: 'empty' | 'binary' | 'json' | 'encoding' | 'line_endings' | 'delimiter' | 'missing_columns';
  readonly message: string;
}

/**
 * The wide encoding a file is in: by its byte-order mark, or, without one, by the NUL bytes ASCII
 * text gets in UTF-16 (every other byte); null for UTF-8 and its subsets.
 */
export const wideEncodingOf = (head: Buffer): WideEncoding | null => {
  for (const bom of BYTE_ORDER_MARKS) {
    if (head.length >= bom.bytes.length && bom.bytes.every((b, i) => head[i] === b)) return bom.encoding;
  }
  const sample = head.subarray(0, 256);
  if (sample.length < 4) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < sample.length; i += 1) if (sample[i] === 0) i % 2 === 0 ? (evenNul += 1) : (oddNul += 1);
  const half = sample.length / 2;
  if (oddNul > 0.8 * half && evenNul < 0.1 * half) return 'UTF-16LE';
  if (evenNul > 0.8 * half && oddNul < 0.1 * half) return 'UTF-16BE';
  return null;
};

/**
 * Control bytes in a file's first bytes: NUL and the C0 controls but tab, line feed, form feed and
 * carriage return, and DEL. Text has none, or a stray one; a program, an image or random bytes have
 * them everywhere (about one byte in eight of random data).
 */
const controlBytes = (head: Buffer): { readonly control: number; readonly nulInHeader: boolean } => {
  let control = 0;
  let nulInHeader = false;
  let inHeader = true;
  for (const byte of head) {
    if (byte === 0x0a) inHeader = false;
    if (byte === 0 && inHeader) nulInHeader = true;
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) || byte === 0x7f) control += 1;
  }
  return { control, nulInHeader };
};

/**
 * A head is binary data when more than this share of its bytes, and at least BINARY_MIN_CONTROL, are
 * control bytes, or its first line holds a NUL: a stray NUL or control character in an order row is
 * that row's problem (a malformed row, counted), not the file's.
 */
const BINARY_CONTROL_SHARE = 0.01;
const BINARY_MIN_CONTROL = 8;

/** The head's first `limit` lines as text (all by default), without a UTF-8 byte-order mark; CRLF, LF and a lone CR each end a line. */
const headLines = (head: Buffer, limit?: number): string[] => head.toString('utf8').replace(/^\uFEFF/, '').split(/\r\n|\n|\r/, limit);

/** The header line as text: the first line that is not blank. */
const headerLine = (head: Buffer): string | null => headLines(head).find((line) => line.trim() !== '') ?? null;

/** Text for a message: cut at `max` characters, control characters written as \\u escapes so that none reaches a terminal raw. */
const shorten = (text: string, max = 80): string =>
  (text.length > max ? `${text.slice(0, max - 3)}...` : text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** `\t` as a reader of the message types it in JSON. */
const showDelimiter = (delimiter: string): string => JSON.stringify(delimiter);

/** The advice that sets delimiter `d` in `configPlace`. */
const delimiterSetting = (d: (typeof DELIMITERS)[number], configPlace: string): string => `set "csv": { "delimiter": "${d.json}" } in ${configPlace}`;

/** The opening of a message naming an export split by `d`: `looks semicolon-separated: its header "..."`. */
const looksSeparated = (d: (typeof DELIMITERS)[number], line: string): string => `looks ${d.name}-separated: its header "${shorten(line.replaceAll('\t', '\\t'))}"`;

/**
 * A header line with each quoted text ("channel, source") emptied: a delimiter inside quotes separates
 * nothing, whichever delimiter the line turns out to be split by.
 */
const outsideQuotes = (line: string): string => line.replace(/"(?:[^"]|"")*"/g, '""');

/**
 * The delimiter a header line is split by, with the fields it makes, when it is not the configured
 * one; null when the configured one splits it (outside quotes) or no other does.
 */
const otherDelimiter = (line: string, delimiter: string): { readonly d: (typeof DELIMITERS)[number]; readonly fields: number } | null => {
  const bare = outsideQuotes(line);
  if (bare.includes(delimiter)) return null;
  const counts = DELIMITERS.filter((d) => d.char !== delimiter).map((d) => ({ d, fields: bare.split(d.char).length })).filter((x) => x.fields > 1);
  counts.sort((a, b) => b.fields - a.fields);
  return counts[0] ?? null;
};

/**
 * An export with no text: 0 bytes as stored, or a gzip file of `storedBytes` that uncompresses to
 * nothing (a compressor run on an empty file leaves about 20 bytes; "0 bytes" would not be what the
 * user sees in a listing).
 */
export const emptyExportProblem = (delimiter = ',', storedBytes = 0): ExportProblem => ({
  kind: 'empty',
  message: `${storedBytes === 0 ? 'is empty (0 bytes)' : `is a gzip file of ${storedBytes} bytes that holds nothing (0 bytes once uncompressed)`}: an orders export needs a header row and one row per order, e.g. "${REQUIRED_ORDER_COLUMNS.join(delimiter)}"; was the export cut off or the wrong file picked?`,
});

/**
 * Checks a file's first bytes (up to EXPORT_HEAD_BYTES) before any CSV reader sees them: an empty file,
 * a binary one (BINARY_FORMATS, or any other full of control bytes: a program, random bytes), a UTF-16 or UTF-32 file, Excel's
 * `sep=` line before the header, JSON, lines ended by a carriage return alone, a header split by another delimiter than `delimiter` (or,
 * given the columns `mapping`, a title above the header whose text that delimiter splits: misplacedHeaderProblem). Returns the problem,
 * or null when the file looks like a CSV export the reader can take. `configPlace` is where the advice says to set a delimiter.
 */
export const diagnoseExportHead = (
  head: Buffer,
  delimiter = ',',
  configPlace = CLI_CONFIG_PLACE,
  mapping?: Readonly<Record<OrderColumn, string>>,
): ExportProblem | null => {
  if (head.length === 0) return emptyExportProblem(delimiter);
  const binary = BINARY_FORMATS.find((f) => head.length >= f.magic.length && f.magic.every((b, i) => head[i] === b));
  if (binary !== undefined) {
    return { kind: 'binary', message: `is ${binary.what}, not CSV text (gzip is the one compression read): ${binary.fix}` };
  }
  const encoding = wideEncodingOf(head);
  if (encoding !== null) {
    return {
      kind: 'encoding',
      message:
        `is encoded as ${encoding} (as Excel's "Unicode text" export writes), not UTF-8: ` +
        `save it as "CSV UTF-8 (Comma delimited)", or convert it, e.g. \`iconv -f ${encoding} -t UTF-8 in.csv > out.csv\``,
    };
  }
  const { control, nulInHeader } = controlBytes(head);
  if (nulInHeader || (control >= BINARY_MIN_CONTROL && control > BINARY_CONTROL_SHARE * head.length)) {
    return {
      kind: 'binary',
      message:
        `is binary data, not CSV text: ${control} of its first ${head.length} bytes are control characters, which text does not hold; ` +
        'an orders export is CSV text in UTF-8 (gzip is the one compression read): was the wrong file picked?',
    };
  }
  const line = headerLine(head);
  if (line === null) {
    return {
      kind: 'empty',
      message: `holds only blank lines: an orders export needs a header row and one row per order, e.g. "${REQUIRED_ORDER_COLUMNS.join(delimiter)}"`,
    };
  }
  // Excel's separator hint (`sep=;`, written by some exporters so that Excel splits the file): a line
  // for Excel, not the header; read as one, it would be named "semicolon-separated" or lack every column
  // trimmed of spaces only: `sep=<tab>` names the tab
  const hintText = line.replace(/^ +| +$/g, '');
  const hint = /^sep=(.?)$/i.exec(hintText);
  if (hint !== null) {
    const hinted = hint[1] ?? '';
    const setting = DELIMITERS.find((d) => d.char === hinted && d.char !== delimiter);
    return {
      kind: 'delimiter',
      message:
        `starts with Excel's separator line "${shorten(hintText.replaceAll('\t', '\\t'))}", not a header: delete that first line so the header comes first` +
        (setting === undefined ? '' : `, and ${delimiterSetting(setting, configPlace)}`),
    };
  }
  // a JSON array of objects, or JSON lines: an export from an API rather than a spreadsheet or a database's CSV
  if (/^(\[\s*)?\{\s*"/.test(head.toString('utf8').replace(/^[\s\uFEFF]+/, ''))) {
    return { kind: 'json', message: 'is JSON (an array of objects, or one object per line), not CSV text: export the orders as CSV, one header row and one row per order' };
  }
  // lines ended by a carriage return alone (classic Mac OS): no line feed in the head, yet lines
  if (!head.includes(0x0a) && /\r(?!$)/.test(head.toString('latin1').replace(/\r+$/, ''))) {
    return {
      kind: 'line_endings',
      message:
        'ends its lines with a carriage return alone (classic Mac OS line endings), which are not read as line breaks: ' +
        "save it with Windows (CRLF) or Unix (LF) line endings, e.g. `tr '\\r' '\\n' < in.csv > out.csv`",
    };
  }
  const other = otherDelimiter(line, delimiter);
  if (other !== null) {
    // a title holding ";" or "|" ("Orders export; Q4 2025") is not a header split by it: the header below it is named, and how it is split
    const below = mapping === undefined ? null : misplacedHeaderProblem(head, delimiter, mapping, configPlace);
    if (below !== null && below.kind === 'missing_columns') return below;
    return {
      kind: 'delimiter',
      message:
        `${looksSeparated(other.d, line)} has ${other.fields} fields split by ${showDelimiter(other.d.char)} ` +
        `and none by the configured delimiter ${showDelimiter(delimiter)}${line.includes(delimiter) ? ' outside quotes' : ''}; ${delimiterSetting(other.d, configPlace)}`,
    };
  }
  return null;
};

/** A required column the header lacks: its logical name and the header name the mapping looks for. */
export interface MissingColumn {
  readonly column: OrderColumn;
  readonly wanted: string;
}

/** Words that suggest which header column holds a logical column, for the example mapping only. */
const HINTS: Readonly<Record<OrderColumn, RegExp>> = {
  order_id: /order|invoice|transaction|^id$/i,
  customer_id: /cust|client|buyer|user|member|account/i,
  order_date: /date|time|day|created|placed/i,
  amount: /amount|total|value|price|revenue|sales|sum/i,
  channel: /channel|source|medium/i,
  status: /status|state/i,
};

/**
 * The message for a header that lacks required columns: every missing column at once, the columns
 * the file has, and the config's `columns` mapping with an example built from the file's own header
 * where a name suggests the column (else a placeholder to fill in). `mapped` are the header names the
 * mapping already matched, which the example does not offer again; `configPlace` is where the mapping is set.
 */
export const missingColumnsProblem = (
  header: readonly string[],
  missing: readonly MissingColumn[],
  mapped: readonly string[] = [],
  configPlace = CLI_CONFIG_PLACE,
): ExportProblem => {
  // a header that names none of the columns and holds a date or a number is a first row of data
  const values = header.filter((h) => LOOKS_LIKE_DATA.test(h.trim()));
  if (missing.length === REQUIRED_ORDER_COLUMNS.length && values.length > 0) {
    return {
      kind: 'missing_columns',
      message:
        `has no header row: its first line (${headerColumnsText(header)}) holds values, not column names (${values.slice(0, 2).map((v) => `"${v.trim()}"`).join(', ')}); ` +
        `an orders export needs a header row naming its columns first, e.g. "${REQUIRED_ORDER_COLUMNS.join(',')}"`,
    };
  }
  const taken = new Set(mapped);
  const example: Record<string, string> = {};
  for (const { column } of missing) {
    const guess = header.find((h) => !taken.has(h) && HINTS[column].test(h));
    if (guess !== undefined) taken.add(guess);
    example[column] = guess ?? `<your ${column.replace('_', ' ')} column>`;
  }
  const names = missing.map((m) => (m.wanted === m.column ? `"${m.column}"` : `"${m.wanted}" (${m.column})`));
  const has = headerColumnsText(header);
  return {
    kind: 'missing_columns',
    message:
      `lacks the required column${missing.length === 1 ? '' : 's'} ${names.join(', ')}; ` +
      `the header has ${has}. If the export names them differently, map them with "columns" in ${configPlace}, ` +
      `e.g. { "columns": { ${Object.entries(example).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')} } }`,
  };
};

/** How many lines below the first a header is looked for: a title, a date line, a blank line, with room to spare. */
const TITLE_LINES = 10;

/**
 * An export whose header is not where, or not split as, the reader takes it: a title ("Orders export
 * 2025") or a few lines of notes above it, as report-style exports write (the reader takes line 1 as
 * the header, and no setting skips lines), or a header split by another delimiter than `delimiter`
 * though the configured one occurs in it (a semicolon export whose header holds "channel, source"), or
 * both. `head` is the file's first (decompressed) bytes; the header is the first line among the first
 * TITLE_LINES + 1 that, split by the configured delimiter or else by another of DELIMITERS, holds every
 * required column under `mapping`. Returns the problem naming that line (1-based, as an editor counts),
 * the lines above it and the delimiter to set in `configPlace`, or null when no such line is found or
 * line 1 split by `delimiter` is it.
 */
export const misplacedHeaderProblem = (
  head: Buffer,
  delimiter: string,
  mapping: Readonly<Record<OrderColumn, string>>,
  configPlace = CLI_CONFIG_PLACE,
): ExportProblem | null => {
  const lines = headLines(head, TITLE_LINES + 1);
  const candidates = [...DELIMITERS.filter((d) => d.char === delimiter), ...DELIMITERS.filter((d) => d.char !== delimiter)];
  // the delimiter that splits each line into a header holding every required column, if any does
  const splits = lines.map((line) => candidates.find((d) => missingRequiredColumns(splitRecord(line, d.char), mapping).length === 0));
  const at = splits.findIndex((d) => d !== undefined);
  if (at < 0) return null;
  const split = splits[at]!;
  const above = lines.slice(0, at).filter((line) => line.trim() !== '');
  const setting = split.char === delimiter ? null : delimiterSetting(split, configPlace);
  if (above.length === 0) {
    return setting === null
      ? null
      : { kind: 'delimiter', message: `${looksSeparated(split, lines[at]!)} holds every required column split by ${showDelimiter(split.char)}; ${setting}` };
  }
  return {
    kind: 'missing_columns',
    message:
      `has its header on line ${at + 1}, not line 1: ${above.length === 1 ? 'the line' : `the ${above.length} lines`} above it (${above.map((line) => `"${shorten(line)}"`).join(', ')}) ` +
      `${above.length === 1 ? 'looks' : 'look'} like a title, not column names; delete ${at === 1 ? 'line 1' : `lines 1 to ${at}`} so that the header comes first (the header is read from line 1; no setting skips lines)` +
      (setting === null ? '' : `, and ${setting}: the header is ${split.name}-separated`),
  };
};

/** A value no column is named: a date (2025-01-31, 31.01.2025, 1/31/2025) or a number (10, -4.5, 1,234.50). */
const LOOKS_LIKE_DATA = /^(\d{4}-\d{1,2}-\d{1,2}.*|\d{1,2}[./]\d{1,2}[./]\d{2,4}|[+-]?\d[\d,.]*)$/;

/** How many of a header's columns a message names: a file that is not an orders export may have thousands (its reason goes into SNS, 256 KB at most). */
const NAMED_COLUMNS = 30;

/** A header's columns as a message names them: each quoted and cut at 40 characters, the first NAMED_COLUMNS of them, then how many more. */
export const headerColumnsText = (header: readonly string[]): string =>
  header.length === 0
    ? 'no columns'
    : header.slice(0, NAMED_COLUMNS).map((h) => `"${shorten(h, 40)}"`).join(', ') + (header.length > NAMED_COLUMNS ? ` and ${header.length - NAMED_COLUMNS} more` : '');

/**
 * The required columns a header lacks under a mapping (logical column -> header name), matched as
 * the readers match them: the exact name, else the same name trimmed and case-insensitively.
 */
export const missingRequiredColumns = (header: readonly string[], mapping: Readonly<Record<OrderColumn, string>>): MissingColumn[] =>
  REQUIRED_ORDER_COLUMNS.filter((column) => matchHeader(header, mapping[column]) === undefined).map((column) => ({ column, wanted: mapping[column] }));

/** The header name that holds a wanted column: exact first, else trimmed and case-insensitive. */
export const matchHeader = (header: readonly string[], wanted: string): string | undefined =>
  header.find((h) => h === wanted) ?? header.find((h) => h.trim().toLowerCase() === wanted.toLowerCase());
