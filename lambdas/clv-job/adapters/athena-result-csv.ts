import { StringDecoder } from 'node:string_decoder';
import { EngineError } from '../errors.js';
import type { NumberColumnKind, ResultColumns } from '../ports.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Distinct values a column keeps one shared copy of (e.g. channels, cohorts, small counts). */
const INTERN_LIMIT = 4096;
/** A column whose first this-many values barely repeat stops looking its values up (ids, amounts). */
const INTERN_PROBE = 8192;

interface ColumnBuilder {
  push(value: string | null): void;
  /** The values, once every record is in. */
  finish(): ArrayLike<unknown>;
}

/**
 * One column's values as text. Values that repeat (a channel, a cohort, a frequency) share one
 * string, so a million rows of a low-cardinality column cost a million pointers, not a million strings.
 */
class TextColumn implements ColumnBuilder {
  private readonly values: (string | null)[] = [];
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

  finish(): (string | null)[] {
    return this.values;
  }
}

/**
 * One column's values as numbers in a typed array (8 or 4 bytes a value, where text costs a string
 * and a pointer: ~40 bytes), for a column the caller knows holds numbers. A value goes in only when
 * it is exactly what the pipeline's decoders (pipeline/engine-results.ts) make of its text:
 * `Number(text)` of a text that is not blank, finite, and for int32 an integer that fits. From the
 * first value that is not (NULL, blank, not a number, out of range), the column is kept as an array
 * of the numbers so far and then the texts as they come, so the decoders see that value as they
 * would have and fail on it (or convert it) the same way.
 */
class NumberColumn implements ColumnBuilder {
  private typed: Int32Array | Float64Array;
  private length = 0;
  private mixed: (number | string | null)[] | null = null;

  constructor(private readonly kind: NumberColumnKind) {
    this.typed = kind === 'int32' ? new Int32Array(1024) : new Float64Array(1024);
  }

  push(value: string | null): void {
    if (this.mixed === null) {
      const n = value === null ? Number.NaN : Number(value);
      // Number('') and Number(' ') are 0, where the decoders refuse a blank text
      const fits = this.kind === 'int32' ? (n | 0) === n : Number.isFinite(n);
      if (fits && (n !== 0 || value!.trim() !== '')) {
        if (this.length === this.typed.length) {
          const grown = this.kind === 'int32' ? new Int32Array(this.length * 2) : new Float64Array(this.length * 2);
          grown.set(this.typed);
          this.typed = grown;
        }
        this.typed[this.length++] = n;
        return;
      }
      this.mixed = Array.from(this.typed.subarray(0, this.length));
      this.typed = new Int32Array(0);
    }
    this.mixed.push(value);
  }

  finish(): Int32Array | Float64Array | (number | string | null)[] {
    return this.mixed ?? this.typed.slice(0, this.length);
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
 *
 * `numbers` names the columns known to hold numbers, and how to keep them (see NumberColumn): as
 * text they cost up to ~40 bytes a value (a string and a pointer) until the decoders convert them:
 * the customers result at a million customers held ~355 MB of heap read and decoded, ~100 MB with
 * its number columns typed.
 */
export const parseAthenaCsv = async (
  source: AsyncIterable<Uint8Array | string>,
  numbers: Readonly<Record<string, NumberColumnKind>> = {},
): Promise<ResultColumns> => {
  let columns: ColumnBuilder[] | null = null;
  let names: string[] = [];
  let rowCount = 0;
  let records = 0;
  const record: (string | null)[] = [];

  const endRecord = (): void => {
    records += 1;
    if (columns === null) {
      names = record.map((name) => name ?? '');
      columns = names.map((name) => (Object.hasOwn(numbers, name) ? new NumberColumn(numbers[name]!) : new TextColumn()));
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
  return { rowCount, columns: Object.fromEntries(names.map((name, c) => [name, built[c]!.finish()])) };
};
