import { StringDecoder } from 'node:string_decoder';
import { EngineError } from '../errors.js';
import type { ResultColumns } from '../ports.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Distinct values a column keeps one shared copy of (e.g. channels, cohorts, small counts). */
const INTERN_LIMIT = 4096;
/** A column whose first this-many values barely repeat stops looking its values up (ids, amounts). */
const INTERN_PROBE = 8192;

/**
 * One column's values. Values that repeat (a channel, a cohort, a frequency) share one string, so a
 * million rows of a low-cardinality column cost a million pointers, not a million strings.
 */
class ColumnBuilder {
  readonly values: (string | null)[] = [];
  private readonly seen = new Map<string, string>();
  private hits = 0;
  private interning = true;

  push(value: string | null): void {
    if (value !== null && this.interning) {
      const shared = this.seen.get(value);
      if (shared !== undefined) {
        value = shared;
        this.hits += 1;
      } else if (this.seen.size < INTERN_LIMIT) this.seen.set(value, value);
      if (this.values.length === INTERN_PROBE && this.hits < INTERN_PROBE / 2) {
        this.interning = false;
        this.seen.clear();
      }
    }
    this.values.push(value);
  }
}

/**
 * Parses the CSV result file Athena writes to S3 into columns, streaming, in one pass. Athena quotes
 * every value and writes NULL as an empty unquoted field, so the two stay apart: `""` is an empty
 * string, an empty unquoted field is null. Quotes inside a value are doubled; a value may hold
 * commas and line breaks. A byte order mark is skipped; lines end in LF or CRLF. Values stay
 * strings: the pipeline's decoders check and convert them.
 *
 * Written for this one dialect: csv-parse took ~80 s and ~2 GB per million customers, most of the
 * Lambda's time and memory. Each chunk is decoded to text once and scanned with indexOf and
 * charCodeAt. A record with a different number of fields than the header, or an unterminated
 * quote, fails rather than guessing.
 */
export const parseAthenaCsv = async (source: AsyncIterable<Uint8Array | string>): Promise<ResultColumns> => {
  let columns: ColumnBuilder[] | null = null;
  let names: string[] = [];
  let rowCount = 0;
  let records = 0;
  const record: (string | null)[] = [];

  const endRecord = (): void => {
    records += 1;
    if (columns === null) {
      names = record.map((name) => name ?? '');
      columns = names.map(() => new ColumnBuilder());
    } else {
      if (record.length !== columns.length) {
        throw new EngineError(`Athena result record ${records}: ${record.length} fields where the header has ${columns.length}`);
      }
      for (let c = 0; c < columns.length; c++) columns[c]!.push(record[c]!);
      rowCount += 1;
    }
    record.length = 0;
  };

  /**
   * Parses the complete records of `text`; returns where the first incomplete one starts (its text
   * is carried over to the next chunk), or text.length. At the end of input nothing is incomplete.
   */
  const parse = (text: string, final: boolean): number => {
    const n = text.length;
    let i = 0;
    let recordStart = 0;
    const incomplete = (): number => {
      record.length = 0;
      return recordStart;
    };
    while (i < n) {
      let value: string | null;
      if (text.charCodeAt(i) === QUOTE) {
        // quoted: up to the closing quote; a doubled quote is a quote in the value
        let from = i + 1;
        let j = text.indexOf('"', from);
        let pieces: string | null = null;
        for (;;) {
          if (j < 0) {
            if (final) throw new EngineError(`Athena result record ${records + 1}: a quoted value is not closed`);
            return incomplete();
          }
          if (j + 1 >= n && !final) return incomplete(); // the quote may be the first of a doubled pair
          if (text.charCodeAt(j + 1) !== QUOTE) break;
          pieces = (pieces ?? '') + text.slice(from, j + 1);
          from = j + 2;
          j = text.indexOf('"', from);
        }
        value = pieces === null ? text.slice(from, j) : pieces + text.slice(from, j);
        i = j + 1;
      } else {
        let j = i;
        for (; j < n; j++) {
          const ch = text.charCodeAt(j);
          if (ch === COMMA || ch === LF || ch === CR) break;
        }
        if (j >= n && !final) return incomplete();
        value = j === i ? null : text.slice(i, j);
        i = j;
      }
      record.push(value);
      // after a field: a comma, a line end, or the end of the input
      const next = i < n ? text.charCodeAt(i) : -1;
      if (next === COMMA) {
        i += 1;
        if (i >= n) {
          if (!final) return incomplete();
          record.push(null);
          endRecord();
        }
        continue;
      }
      if (next === CR) {
        if (i + 1 >= n && !final) return incomplete();
        i += 1;
      }
      if (i < n) {
        if (text.charCodeAt(i) !== LF) throw new EngineError(`Athena result record ${records + 1}: unexpected text after a quoted value`);
        i += 1;
      } else if (!final) return incomplete();
      endRecord();
      recordStart = i;
    }
    return n;
  };

  const decoder = new StringDecoder('utf8');
  let carry = '';
  let first = true;
  for await (const chunk of source) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (carry.length > 0) text = carry + text;
    const done = parse(text, false);
    carry = done < text.length ? text.slice(done) : '';
  }
  carry += decoder.end();
  if (carry.length > 0) parse(carry, true);
  if (columns === null) throw new EngineError('the Athena result file is empty: not even a header row');
  const built: ColumnBuilder[] = columns;
  return { rowCount, columns: Object.fromEntries(names.map((name, c) => [name, built[c]!.values])) };
};
