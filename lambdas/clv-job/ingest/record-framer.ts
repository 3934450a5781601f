import { isUtf8 } from 'node:buffer';

/**
 * Splits a CSV byte stream into records (RFC 4180: quoted fields may hold delimiters, doubled quotes
 * and line breaks) and tells which physical line each record starts on. DuckDB then splits the
 * records into fields; this pass exists because DuckDB's strict reader fails a whole file on a
 * stray carriage return and cannot say on which line a good row stood, and because a structurally
 * broken record must cost one row, not the rest of the file.
 *
 * The state machine agrees with DuckDB's strict mode on every record it passes on (a quote inside an
 * unquoted field is a literal, as DuckDB reads it), so DuckDB never disagrees on where a record ends.
 * Broken records are handed to `malformed`, never to DuckDB:
 * - text after a closing quote (`"we"b`): the record up to the end of its line;
 * - a carriage return not followed by a line feed outside quotes;
 * - a quote still open at the end of the file, or a multi-line record with one of the faults above,
 *   with another number of fields than the header's (once read), or with a whole line inside its
 *   quotes that has a record's delimiters and no quote (a stray quote that a later `27"` closed):
 *   only the record's FIRST line is malformed and reading resumes on the next line, so a stray
 *   quote never swallows the rows after it;
 * - a record longer than `maxRecordBytes` (its first line holding no line break of a quoted field):
 *   malformed, and skipped to its natural end without being held in memory;
 * - once `expectFields` is set (after the header), a record with another number of fields, whose
 *   bytes are not UTF-8, or that holds a control character (a C0 control but tab, line feed, form
 *   feed and carriage return, or DEL; a NUL in a customer id would reach the audiences' CSVs, which
 *   many readers refuse): malformed, so DuckDB reads every record it is given in one pass.
 * Line endings: LF or CRLF, mixed freely; the CR of a CRLF ending is dropped. Empty lines are skipped
 * and counted, and so, after the header, are lines of delimiters alone (Excel's cleared rows). Memory: the current record is held up to `maxRecordBytes`, never the file.
 *
 * Speed: most records of an export are one line without quotes or stray carriage returns; those
 * are framed by a tight loop that only counts delimiters (the state machine takes over at the first
 * quote or carriage return), and UTF-8 is checked once per chunk, per record only when the chunk
 * holds bytes that are not UTF-8. Records are handed over as offsets into the chunk, never copied.
 */
export interface RecordFramerOptions {
  /** The field delimiter, one byte (e.g. 0x2c for `,`). */
  readonly delimiter: number;
  /** @default 1 MiB */
  readonly maxRecordBytes?: number;
  /** How many bytes of a malformed record are kept as its raw text. @default 4096 */
  readonly rawTextBytes?: number;
  /**
   * Characters a reader trims from both ends of a field (see `needsTrim`). @default none
   */
  readonly trimmedCharacters?: readonly string[];
  /**
   * A complete, well-formed record, without its line ending: `data[start, end)`, only valid during
   * the call. `needsTrim` is false only when no field of the record can start or end with one of
   * `trimmedCharacters` (told from the fields' first and last bytes, so it may be true for a record
   * that has none: it is a hint that lets the reader skip the check, never a judgement).
   */
  readonly record: (line: number, data: Buffer, start: number, end: number, needsTrim: boolean) => void;
  /** A record that cannot be split: its first line, its raw text (capped), its full length (> raw's only when capped) and why. */
  readonly malformed: (line: number, raw: Buffer, totalBytes: number, problem: MalformedProblem) => void;
}

export const MALFORMED_PROBLEMS = [
  'text_after_closing_quote',
  'unterminated_quote',
  'stray_carriage_return',
  'record_too_long',
  'wrong_field_count',
  'invalid_encoding',
  'control_character',
] as const;
export type MalformedProblem = (typeof MALFORMED_PROBLEMS)[number];

export interface FramerStatistics {
  /** Physical lines read (a final line without a line ending counts). */
  lines: number;
  blankLines: number;
  crlfLines: number;
  lfLines: number;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: the next byte decides (quote: escaped; delimiter or line end: closed). */
  QuoteInQuoted,
  /** A fault was found on the record's first line: skip to the end of that line. */
  SkipLine,
  /** A record too long to keep: follow it to its end without holding it. */
  SkipRecord,
}

/** What a byte is to the fast path (RecordFramer.classes). */
const enum Kind {
  Plain,
  Delimiter,
  LineFeed,
  Quote,
  CarriageReturn,
  /** A control character a record must not hold (see the class comment). */
  Control,
}

export class RecordFramer {
  readonly statistics: FramerStatistics = { lines: 0, blankLines: 0, crlfLines: 0, lfLines: 0 };
  private readonly maxRecordBytes: number;
  private readonly rawTextBytes: number;
  /** Bytes of the current, incomplete record (from its first byte). */
  private carry: Buffer = Buffer.alloc(0);
  /** Where scanning resumes inside carry (bytes before it are already judged). */
  private scanned = 0;
  private state = State.FieldStart;
  /** The physical line the current record starts on (1-based). */
  private recordLine = 1;
  /** The physical line the scanner is on. */
  private line = 1;
  /** Offset in the current record of its first line feed inside quotes, or -1. */
  private firstLineBreak = -1;
  private fault: MalformedProblem = 'record_too_long';
  /** A record being skipped: its raw text (capped) and its length so far; it is not held. */
  private skipRaw: Buffer | null = null;
  private skippedBytes = 0;
  private skipQuoted = false;
  private skipQuoteSeen = false;
  private ended = false;
  /** Delimiters seen outside quotes in the current record. */
  private delimiters = 0;
  /** Delimiters on the current line inside a quoted field, after its first line break; -1 once the line holds a quote. */
  private innerDelimiters = -1;
  /** Delimiters inside quotes on the current record's first line (before any line break in it). */
  private quotedFirstLineDelimiters = 0;
  /**
   * Whether a line inside a quoted field reads as a record, so the quote that opened it was stray: a whole
   * line with a record's delimiters and no quote, or a line that reaches the quoted field's column
   * (its delimiters) before its first quote.
   */
  private recordInsideQuotes = false;
  /** Fields every record must have; 0 until the header is read. */
  expectFields = 0;
  /** In the data being scanned, every byte before this offset is known to be UTF-8. */
  private utf8Until = 0;
  /** 1 per byte that is the first (or, in lastBytes, the last) byte of a trimmed character. */
  private readonly firstBytes = new Uint8Array(256);
  private readonly lastBytes = new Uint8Array(256);
  /** TRIMMED_CHARACTERS as UTF-8 bytes. */
  private readonly trimmedBytes: readonly Buffer[];
  /** 1 once a field of the current record may start or end with a trimmed character. */
  private edgy = 0;
  /** 1 once the current record holds a control character (Kind.Control). */
  private control = 0;
  /**
   * Kind per byte value: the fast path tells the common byte (Plain) by one load and one compare
   * rather than three to four compares (framing the bench's 1 M-customer exports: 0.32-0.34 s of CPU
   * against 0.33-0.36 s).
   */
  private readonly classes = new Uint8Array(256);

  constructor(private readonly options: RecordFramerOptions) {
    for (let byte = 0; byte < 0x20; byte++) if (byte !== 0x09 && byte !== 0x0c) this.classes[byte] = Kind.Control;
    this.classes[0x7f] = Kind.Control;
    this.classes[LF] = Kind.LineFeed;
    this.classes[CR] = Kind.CarriageReturn;
    this.classes[QUOTE] = Kind.Quote;
    this.classes[options.delimiter] = Kind.Delimiter;
    this.maxRecordBytes = options.maxRecordBytes ?? 2 ** 20;
    this.rawTextBytes = options.rawTextBytes ?? 4096;
    this.trimmedBytes = (options.trimmedCharacters ?? []).map((character) => Buffer.from(character));
    for (const bytes of this.trimmedBytes) {
      this.firstBytes[bytes[0]!] = 1;
      this.lastBytes[bytes[bytes.length - 1]!] = 1;
    }
  }

  /**
   * Feeds the next bytes of the (decompressed) file. `chunk` is only read during the call (the
   * caller may reuse it). The record left over from the previous chunk is completed first with the
   * chunk's bytes up to its first line feed (where that record ends, unless it holds a quoted line
   * break), so a chunk is not copied whole behind it: that copy was 8% of the main thread's time in
   * a cold ingest of the bench's 1 M customers, and a 1 MiB allocation per chunk for the GC.
   * Not when the record with that first line is over the length limit: judged on that part alone, a
   * quoted field's line break would make it a stray quote (each later line then malformed), where
   * seen with the whole chunk it is one record too long.
   */
  push(chunk: Buffer): void {
    if (this.ended) throw new Error('RecordFramer: push after end');
    if (this.carry.length > 0) {
      const head = chunk.indexOf(LF) + 1;
      if (head === 0 || head === chunk.length || this.carry.length + head > this.maxRecordBytes) {
        this.scan(Buffer.concat([this.carry, chunk]), false);
        return;
      }
      this.scan(Buffer.concat([this.carry, chunk.subarray(0, head)]), false);
      chunk = chunk.subarray(head);
      if (this.carry.length > 0) {
        this.scan(Buffer.concat([this.carry, chunk]), false);
        return;
      }
    }
    this.scan(chunk, false);
  }

  /** The end of the file: a last record without a line ending is complete; an open quote is a fault. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const partial = this.carry.length > 0 || this.skipRaw !== null;
    this.scan(this.carry, true);
    this.statistics.lines = this.line - 1 + (partial ? 1 : 0);
  }

  private scan(data: Buffer, atEnd: boolean): void {
    const delimiter = this.options.delimiter;
    const n = data.length;
    // every record that ends by here lies in bytes that are all UTF-8 (records start and end at ASCII bytes)
    const lastLineFeed = atEnd ? n : data.lastIndexOf(LF);
    this.utf8Until = lastLineFeed > 0 && isUtf8(data.subarray(0, lastLineFeed)) ? lastLineFeed : 0;
    let start = 0; // first byte of the current record in data
    let i = this.scanned;
    let state = this.state;
    scanning: for (;;) {
      if (i === start && state === State.FieldStart) {
        // the fast path: one record per line, no quote, no stray carriage return
        const { firstBytes, lastBytes } = this;
        let delimiters = 0;
        let edgy = 0;
        let k = i;
        const classes = this.classes;
        for (; k < n; k++) {
          const kind = classes[data[k]!]!;
          if (kind === Kind.Plain) continue;
          if (kind === Kind.Delimiter) {
            delimiters += 1;
            // the field ending here and the one starting after it (past the chunk's end: undefined, and
            // such a record goes on to the state machine, which marks it)
            edgy |= lastBytes[data[k - 1]!]! | firstBytes[data[k + 1]!]!;
          } else if (kind === Kind.Control) {
            this.control = 1;
          } else if (kind === Kind.LineFeed) {
            this.delimiters = delimiters;
            this.edgy = edgy;
            this.completeRecord(data, start, k);
            delimiters = 0;
            edgy = 0;
            start = k + 1;
          } else if (kind === Kind.Quote || k + 1 >= n || data[k + 1] !== LF) break;
        }
        // the state machine goes on from the first byte the fast path does not take, in the state it was
        // in; it does not look at field edges, so the record may need trimming
        this.delimiters = delimiters;
        this.edgy = 1;
        i = k;
        state = k === start || data[k - 1] === delimiter ? State.FieldStart : State.Unquoted;
      }
      for (; i < n; i++) {
        const byte = data[i]!;
        if (this.classes[byte] === Kind.Control) this.control = 1;
        switch (state) {
          case State.FieldStart:
          case State.Unquoted:
          case State.QuoteInQuoted:
            if (byte === LF) {
              const problem = this.multiLineFault();
              if (problem !== null) {
                start = i = this.fault_(data, start, problem);
                state = State.FieldStart;
                continue scanning;
              }
              this.completeRecord(data, start, i);
              start = i + 1;
              state = State.FieldStart;
              i += 1;
              continue scanning;
            } else if (byte === delimiter) {
              state = State.FieldStart;
              this.delimiters += 1;
            } else if (byte === QUOTE) {
              if (state === State.FieldStart) state = State.Quoted;
              else if (state === State.QuoteInQuoted) state = State.Quoted; // an escaped quote
              // a quote inside an unquoted field is a literal, as DuckDB's strict mode reads it
            } else if (byte === CR) {
              if (i + 1 >= n && !atEnd) break scanning; // decided when the next byte is there
              // before a line feed, or as the file's last byte (a CRLF file whose last line lost its LF), it ends the line
              if (i + 1 >= n || data[i + 1] === LF) state = State.Unquoted;
              else {
                const restart = this.fault_(data, start, 'stray_carriage_return');
                if (restart < 0) state = State.SkipLine;
                else {
                  start = i = restart;
                  state = State.FieldStart;
                  continue scanning;
                }
              }
            } else if (state === State.QuoteInQuoted) {
              const restart = this.fault_(data, start, 'text_after_closing_quote');
              if (restart < 0) state = State.SkipLine;
              else {
                start = i = restart;
                state = State.FieldStart;
                continue scanning;
              }
            } else state = State.Unquoted;
            break;
          case State.Quoted:
            if (byte === QUOTE) {
              state = State.QuoteInQuoted;
              // a later line that reaches the quoted field's column before its first quote (`A2,C2,...,Monitor 27"`
              // closing, in the same column, a quote left open on the line before) began a record of its own:
              // this.delimiters is the field's index. In the first two columns so short a reach is common in
              // genuine notes (`ring twice, then wait"`), so there the quote's first line must also hold the
              // rest of a record (`1001,"Gift card,C1,2024-01-01,10`): the header maps columns by name, and
              // free text may come first
              if (
                this.expectFields > 0 &&
                this.innerDelimiters >= this.delimiters &&
                (this.delimiters >= 2 || this.quotedFirstLineDelimiters === this.expectFields - 1 - this.delimiters)
              ) {
                this.recordInsideQuotes = true;
              }
              this.innerDelimiters = -1;
            } else if (byte === LF) {
              if (this.firstLineBreak < 0) this.firstLineBreak = i - start;
              else if (this.innerDelimiters === this.expectFields - 1) this.recordInsideQuotes = true;
              this.innerDelimiters = 0;
              this.line += 1;
            } else if (byte === delimiter) {
              if (this.innerDelimiters >= 0) this.innerDelimiters += 1;
              else if (this.firstLineBreak < 0) this.quotedFirstLineDelimiters += 1;
            }
            break;
          case State.SkipLine:
            if (byte === LF) {
              this.emitMalformed(data, start, i);
              start = i + 1;
              state = State.FieldStart;
              i += 1;
              continue scanning;
            }
            break;
          case State.SkipRecord:
            if (this.skipEnds(byte)) {
              this.emitMalformed(data, start, i);
              start = i + 1;
              state = State.FieldStart;
              i += 1;
              continue scanning;
            } else if (byte === LF) this.line += 1;
            break;
        }
      }
      break;
    }
    if (!atEnd) {
      this.keep(data, start, i, state);
      return;
    }
    if (start < n || this.skipRaw !== null) {
      const problem = state === State.Quoted ? 'unterminated_quote' : state === State.SkipLine || state === State.SkipRecord ? null : this.multiLineFault();
      if (problem !== null && this.firstLineBreak >= 0) {
        // a quote still open at the end of the file, or a last record judged as in multiLineFault:
        // its first line is malformed, the rest is read again
        const restart = this.fault_(data, start, problem);
        this.carry = data.subarray(restart);
        this.scanned = 0;
        this.state = State.FieldStart;
        this.scan(this.carry, true);
        return;
      }
      if (state === State.Quoted) {
        this.fault = 'unterminated_quote';
        this.emitMalformed(data, start, n);
      } else if (state === State.SkipLine || state === State.SkipRecord) this.emitMalformed(data, start, n);
      else this.completeRecord(data, start, n);
    }
    this.carry = Buffer.alloc(0);
    this.scanned = 0;
    this.state = State.FieldStart;
  }

  /**
   * Why the record ending here, which spans lines through a quoted field, is read as a stray quote
   * (its first line malformed, the rest read again), or null when it is one record: with another
   * number of fields than the header's, or with a later line inside the quotes that has a record's
   * delimiters before any quote (a product named `27"` closing a quote left open on a line before,
   * with orders between or on that very line), the quote that opened it was a stray one; taken whole, the orders on the lines
   * it spans would vanish into one field, or one malformed row. Only once the header is read.
   */
  private multiLineFault(): MalformedProblem | null {
    if (this.firstLineBreak < 0 || this.expectFields === 0) return null;
    if (this.delimiters + 1 !== this.expectFields) return 'wrong_field_count';
    return this.recordInsideQuotes ? 'unterminated_quote' : null;
  }

  /**
   * A fault in the record starting at `start`. On the record's first line: returns -1 (the caller
   * skips to the end of the line). In a multi-line record: its first line is emitted as malformed
   * and the offset of its second line returned, where reading restarts.
   */
  private fault_(data: Buffer, start: number, problem: MalformedProblem): number {
    this.fault = problem;
    if (this.firstLineBreak < 0) return -1;
    const lineEnd = start + this.firstLineBreak;
    const second = this.recordLine + 1;
    this.line = this.recordLine; // emitMalformed moves past the line feed that ends the first line
    this.emitMalformed(data, start, lineEnd);
    this.line = second;
    this.recordLine = second;
    return lineEnd + 1;
  }

  /** Follows quoting in a record being skipped; true at its end (a line feed outside quotes). */
  private skipEnds(byte: number): boolean {
    if (this.skipQuoted) {
      if (byte === QUOTE) {
        this.skipQuoteSeen = !this.skipQuoteSeen;
        return false;
      }
      if (!this.skipQuoteSeen) return false;
      this.skipQuoted = false;
      this.skipQuoteSeen = false;
    }
    if (byte === QUOTE) this.skipQuoted = true;
    return byte === LF;
  }

  /** A record ended at a line feed (end < data.length) or at the end of the file. */
  private completeRecord(data: Buffer, start: number, end: number): void {
    const atLineFeed = end < data.length;
    let last = end;
    if (last > start && data[last - 1] === CR) {
      last -= 1;
      if (atLineFeed) this.statistics.crlfLines += 1;
    } else if (atLineFeed) this.statistics.lfLines += 1;
    const fields = this.delimiters + 1;
    this.delimiters = 0;
    // a line of delimiters alone (`,,,,,`: a row Excel leaves behind once its cells are cleared) is
    // blank too, once the header is read: as many bytes as delimiters, every byte is one; so is any
    // record whose every field is empty once trimmed (spaces, `"",""`: a tool that quotes every field)
    if (last === start || (this.expectFields > 0 && (last - start === fields - 1 || this.emptyFields(data, start, last)))) this.statistics.blankLines += 1;
    else {
      // the header itself is only bounded in length: the field count and the text are judged once it is known
      const fault =
        last - start > this.maxRecordBytes
          ? 'record_too_long'
          : this.expectFields === 0
            ? null
            : fields !== this.expectFields
              ? 'wrong_field_count'
              : last > this.utf8Until && !isUtf8(data.subarray(start, last))
                ? 'invalid_encoding'
                : this.control === 1
                  ? 'control_character'
                  : null;
      if (fault !== null) {
        this.fault = fault;
        this.emitMalformed(data, start, end);
        return;
      }
      const needsTrim = this.edgy === 1 || this.firstBytes[data[start]!] === 1 || this.lastBytes[data[last - 1]!] === 1;
      this.options.record(this.recordLine, data, start, last, needsTrim);
    }
    this.edgy = 0;
    this.control = 0;
    if (atLineFeed) this.line += 1;
    this.recordLine = this.line;
    this.firstLineBreak = -1;
    this.innerDelimiters = -1;
    this.quotedFirstLineDelimiters = 0;
    this.recordInsideQuotes = false;
  }

  /** The length of the trimmed character at `at` (TRIMMED_CHARACTERS' bytes), 0 when there is none. */
  private trimmedAt(data: Buffer, at: number, end: number): number {
    if (this.firstBytes[data[at]!] === 0) return 0;
    for (const bytes of this.trimmedBytes) {
      if (at + bytes.length <= end && data.compare(bytes, 0, bytes.length, at, at + bytes.length) === 0) return bytes.length;
    }
    return 0;
  }

  /**
   * Whether every field of the record in [start, last) is empty once trimmed: trimmed characters
   * alone, or a quoted field of them alone (`""`, `"  "`) between them. A record of real text returns
   * at its first byte that is neither.
   */
  private emptyFields(data: Buffer, start: number, last: number): boolean {
    const delimiter = this.options.delimiter;
    let at = start;
    let quoted = false;
    for (;;) {
      for (let width = this.trimmedAt(data, at, last); width > 0; width = this.trimmedAt(data, at, last)) at += width;
      if (at === last) return true;
      const byte = data[at]!;
      if (byte === delimiter) {
        at += 1;
        quoted = false;
      } else if (byte === QUOTE && !quoted) {
        // one quoted field of trimmed characters alone, then only trimmed characters until its delimiter
        at += 1;
        for (let width = this.trimmedAt(data, at, last); width > 0; width = this.trimmedAt(data, at, last)) at += width;
        if (at === last || data[at] !== QUOTE) return false;
        at += 1;
        quoted = true;
      } else return false;
    }
  }

  /** Hands over a malformed record ending at `end` (its line feed, or the end of data) and moves past it. */
  private emitMalformed(data: Buffer, start: number, end: number): void {
    const raw = this.skipRaw ?? data.subarray(start, Math.min(end, start + this.rawTextBytes));
    const total = this.skipRaw === null ? end - start : this.skippedBytes + (end - start);
    const truncated = total > raw.length;
    let rawEnd = raw.length;
    if (rawEnd > 0 && raw[rawEnd - 1] === CR) rawEnd -= 1;
    this.options.malformed(this.recordLine, raw.subarray(0, rawEnd), truncated ? total : rawEnd, this.fault);
    if (end < data.length) this.line += 1;
    this.recordLine = this.line;
    this.firstLineBreak = -1;
    this.innerDelimiters = -1;
    this.quotedFirstLineDelimiters = 0;
    this.recordInsideQuotes = false;
    this.fault = 'record_too_long';
    this.delimiters = 0;
    this.edgy = 0;
    this.control = 0;
    this.skipRaw = null;
    this.skippedBytes = 0;
    this.skipQuoted = false;
    this.skipQuoteSeen = false;
  }

  /** Keeps the incomplete record for the next chunk, unless it has grown too long to keep. */
  private keep(data: Buffer, start: number, scannedTo: number, state: State): void {
    const length = data.length - start;
    const skipping = state === State.SkipLine || state === State.SkipRecord;
    if (skipping && (this.skipRaw !== null || length > this.rawTextBytes)) {
      // of a record being skipped only its raw text is kept
      this.skipRaw ??= Buffer.from(data.subarray(start, start + this.rawTextBytes));
      this.skippedBytes += length;
      this.carry = Buffer.alloc(0);
      this.scanned = 0;
      this.state = state;
      return;
    }
    if (!skipping && length > this.maxRecordBytes) {
      if (state === State.Quoted && this.firstLineBreak >= 0) {
        // a quote open across lines far beyond any real field: a stray quote
        const restart = this.fault_(data, start, 'unterminated_quote');
        this.carry = Buffer.alloc(0);
        this.scanned = 0;
        this.state = State.FieldStart;
        this.scan(data.subarray(restart), false);
        return;
      }
      this.fault = 'record_too_long';
      this.skipRaw = Buffer.from(data.subarray(start, start + this.rawTextBytes));
      this.skippedBytes = length;
      this.skipQuoted = state === State.Quoted || state === State.QuoteInQuoted;
      this.skipQuoteSeen = state === State.QuoteInQuoted;
      this.carry = Buffer.alloc(0);
      this.scanned = 0;
      this.state = State.SkipRecord;
      return;
    }
    this.carry = Buffer.from(data.subarray(start));
    this.scanned = scannedTo - start;
    this.state = state;
  }
}

/**
 * Splits a record the framer passed (its quoting is well-formed) into its fields, as DuckDB reads
 * them: a quoted field unquoted, a doubled quote inside it one quote, a quote inside an unquoted field
 * text (`27"`). The orders' header here; the spend files' records (adapters/spend-csv.ts).
 */
export const splitRecord = (record: string, delimiter: string): string[] => {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const c = record[i]!;
    if (quoted) {
      if (c === '"' && record[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
};
