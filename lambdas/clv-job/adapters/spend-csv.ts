import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import type { SpendRecord } from '../domain/acquisition/spend.js';
import { trimField } from '../domain/trimmed-text.js';
import { InputFileError } from '../errors.js';
import { DELIMITERS } from './export-diagnostics.js';

/** The spend file's columns, matched by header name (case and surrounding spaces ignored). */
export const SPEND_COLUMNS = ['channel', 'month', 'spend'] as const;

/**
 * One spend file's records, every data row of it (blank lines and lines of delimiters alone aside), each with the line it starts
 * on and its raw text: the domain's `judgeSpend` decides what is accepted. RFC 4180 quoting, LF or
 * CRLF, a UTF-8 BOM, gzip (by the `.gz` name); extra columns are ignored. A record whose field count
 * differs from the header's is kept as not well formed (rejected and counted, never dropped).
 * @throws InputFileError naming the file when it is not gzip/UTF-8 CSV text or its header lacks a column.
 */
export const parseSpendCsv = (source: string, bytes: Uint8Array): SpendRecord[] => {
  let buffer: Buffer;
  try {
    buffer = /\.gz$/i.test(source) ? gunzipSync(bytes) : Buffer.from(bytes);
  } catch (error) {
    throw new InputFileError(source, 'is named .gz but is not gzip data', { cause: error });
  }
  if (!isUtf8(buffer)) throw new InputFileError(source, 'is not UTF-8 text: save the spend file as UTF-8 CSV');
  let parsed: { record: string[]; info: { bytes: number } }[];
  try {
    // relax_quotes: a quote inside an unquoted field (`27" display`, `1"00`) is text, so the row is judged
    // (rejected with its reason when it is in a column read), not the whole file refused with the night
    parsed = parse(buffer, { relax_column_count: true, relax_quotes: true, info: true, skip_empty_lines: true, bom: true }) as unknown as typeof parsed;
  } catch (error) {
    throw new InputFileError(source, `is not readable CSV (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
  const header = parsed[0]?.record.map((name) => name.trim().toLowerCase());
  if (header === undefined) throw new InputFileError(source, `is empty: a spend file needs a header (${SPEND_COLUMNS.join(',')}) and rows`);
  const missing = SPEND_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    // a spend file saved by the same Excel locale as `;`-separated exports: its one header field holds every column
    const other = DELIMITERS.find((d) => d.char !== ',' && header.length === 1 && SPEND_COLUMNS.every((c) => header[0]!.split(d.char).map((h) => h.trim()).includes(c)));
    throw new InputFileError(
      source,
      other === undefined
        ? `has no ${missing.join(', ')} column (header: ${header.join(',')}); a spend file has the columns ${SPEND_COLUMNS.join(', ')}`
        : `looks ${other.name}-separated (header: ${JSON.stringify(parsed[0]!.record[0])}): a spend file is read ` +
            'comma-separated with a dot before decimals, whatever the config\'s csv settings (those are the orders exports\'); save it as channel,month,spend',
    );
  }
  const at = Object.fromEntries(SPEND_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof SPEND_COLUMNS)[number], number>;
  const records: SpendRecord[] = [];
  let end = parsed[0]?.info.bytes ?? 0;
  let line = 1 + countNewlines(buffer, 0, end);
  for (const { record, info } of parsed.slice(1)) {
    let start = end;
    // blank lines before the record belong to no record
    while (start < info.bytes && (buffer[start] === 0x0a || buffer[start] === 0x0d)) {
      if (buffer[start] === 0x0a) line += 1;
      start += 1;
    }
    // a line of delimiters alone (`,,`: the rows Excel leaves when cells are cleared) is no row, as in the orders exports
    if (record.every((field) => trimField(field) === '')) {
      line += countNewlines(buffer, start, info.bytes);
      end = info.bytes;
      continue;
    }
    records.push({
      source,
      line,
      text: buffer.subarray(start, info.bytes).toString('utf8').replace(/\r?\n$/, ''),
      wellFormed: record.length === header.length,
      channel: record[at.channel] ?? null,
      month: record[at.month] ?? null,
      spend: record[at.spend] ?? null,
    });
    line += countNewlines(buffer, start, info.bytes);
    end = info.bytes;
  }
  return records;
};

const countNewlines = (buffer: Buffer, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i += 1) if (buffer[i] === 0x0a) n += 1;
  return n;
};

const isUtf8 = (buffer: Buffer): boolean => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buffer);
    return true;
  } catch {
    return false;
  }
};
