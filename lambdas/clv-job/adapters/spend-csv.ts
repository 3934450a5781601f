import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import type { SpendRecord } from '../domain/acquisition/spend.js';
import { trimField } from '../domain/trimmed-text.js';
import { InputFileError } from '../errors.js';
import { RecordFramer, splitRecord } from '../ingest/record-framer.js';
import { DELIMITERS } from './export-diagnostics.js';

/** The spend file's columns, matched by header name (case and surrounding spaces ignored). */
export const SPEND_COLUMNS = ['channel', 'month', 'spend'] as const;

const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * One spend file's records, every data row of it (blank lines and lines of delimiters alone aside),
 * each with the line it starts on and its raw text: the domain's `judgeSpend` decides what is
 * accepted. Framed by the orders' reader (RecordFramer): RFC 4180 quoting, LF or CRLF (or CR alone,
 * a classic Mac file), a UTF-8 BOM; a broken record (a stray quote, another number of fields than
 * the header's) is kept as not well formed, one per broken line, so it never swallows the rows after
 * it nor refuses the file. Gzip is told by its first bytes. Extra columns are ignored.
 * @throws InputFileError naming the file when it is not gzip/UTF-8 CSV text, or its header lacks a
 *   column, names one twice or cannot be read.
 */
export const parseSpendCsv = (source: string, bytes: Uint8Array): SpendRecord[] => {
  const buffer = textOf(source, bytes);
  const records: SpendRecord[] = [];
  let header: string[] | null = null;
  let headerProblem: string | null = null;
  let at: Record<(typeof SPEND_COLUMNS)[number], number> | null = null;
  const add = (line: number, text: string, wellFormed: boolean): void => {
    // after a header that cannot be read, nothing is: the file is refused
    if (at === null) return;
    const fields = splitRecord(text, ',');
    // a line of delimiters (and spaces) alone, the rows Excel leaves when cells are cleared, is no row, as in the orders exports
    if (fields.every((field) => trimField(field) === '')) return;
    records.push({ source, line, text, wellFormed, channel: fields[at.channel] ?? null, month: fields[at.month] ?? null, spend: fields[at.spend] ?? null });
  };
  const framer = new RecordFramer({
    delimiter: COMMA,
    record: (line, data, start, end) => {
      const text = data.toString('utf8', start, end);
      if (header !== null) return add(line, text, true);
      header = splitRecord(text, ',').map((name) => name.trim().toLowerCase());
      framer.expectFields = header.length;
      at = headerColumns(source, header, text);
    },
    malformed: (line, raw, _total, problem) => {
      if (header === null) {
        headerProblem ??= `has a header that cannot be read (${problem.replaceAll('_', ' ')} on line ${line})`;
        header = [];
        return;
      }
      add(line, raw.toString('utf8'), false);
    },
  });
  framer.push(buffer);
  framer.end();
  if (headerProblem !== null) throw new InputFileError(source, headerProblem);
  if (header === null) throw new InputFileError(source, `is empty: a spend file needs a header (${SPEND_COLUMNS.join(',')}) and rows`);
  return records;
};

/** The file's text: gunzipped when it is gzip (by its first bytes), without a BOM, CR line endings as LF; UTF-8 or refused. */
const textOf = (source: string, bytes: Uint8Array): Buffer => {
  let buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer[0] === 0x1f && buffer[1] === 0x8b) {
    try {
      buffer = gunzipSync(buffer);
    } catch (error) {
      throw new InputFileError(source, `is not a complete gzip file (${(error as Error).message})`, { cause: error });
    }
  }
  if (!isUtf8(buffer)) throw new InputFileError(source, 'is not UTF-8 text: save the spend file as UTF-8 CSV');
  if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) buffer = buffer.subarray(3);
  // a file with carriage returns and no line feed (a classic Mac file) ends its lines with them
  if (!buffer.includes(LF) && buffer.includes(CR)) buffer = Buffer.from(buffer.map((byte) => (byte === CR ? LF : byte)));
  return buffer;
};

/**
 * Where each spend column is in the header.
 * @throws InputFileError when the header lacks one (naming another delimiter it looks split by) or has one twice
 */
const headerColumns = (source: string, header: readonly string[], text: string): Record<(typeof SPEND_COLUMNS)[number], number> => {
  const missing = SPEND_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    // a spend file saved by the same Excel locale as `;`-separated exports: its one header field holds every column
    const other = DELIMITERS.find((d) => d.char !== ',' && header.length === 1 && SPEND_COLUMNS.every((c) => header[0]!.split(d.char).map((h) => h.trim()).includes(c)));
    throw new InputFileError(
      source,
      other === undefined
        ? `has no ${missing.join(', ')} column (header: ${header.join(',')}); a spend file has the columns ${SPEND_COLUMNS.join(', ')}`
        : `looks ${other.name}-separated (header: ${JSON.stringify(text)}): a spend file is read ` +
            'comma-separated with a dot before decimals, whatever the config\'s csv settings (those are the orders exports\'); save it as channel,month,spend',
    );
  }
  const twice = SPEND_COLUMNS.filter((c) => header.indexOf(c) !== header.lastIndexOf(c));
  if (twice.length > 0) {
    throw new InputFileError(source, `has ${twice.map((c) => `the column "${c}"`).join(' and ')} twice (header: ${JSON.stringify(text)}): which one to read is not clear; rename or remove the other`);
  }
  return Object.fromEntries(SPEND_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof SPEND_COLUMNS)[number], number>;
};
