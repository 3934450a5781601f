import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { DuckDBInstance } from '@duckdb/node-api';
import { makeScratchFolder } from '../adapters/scratch-folder.js';
import {
  CLI_CONFIG_PLACE,
  EXPORT_HEAD_BYTES,
  ID_PLACEHOLDERS,
  OPTIONAL_ORDER_COLUMNS,
  diagnoseExportHead,
  emptyExportProblem,
  headerColumnsText,
  matchHeader,
  missingColumnsProblem,
  misplacedHeaderProblem,
  missingRequiredColumns,
} from '../adapters/export-diagnostics.js';
import { ClvError, UnreadableExportError, firstLine } from '../errors.js';
import { INGEST_REJECTION_REASONS, type RejectionReason } from '../domain/outcomes.js';
import { TRIMMED_CHARACTERS } from '../domain/trimmed-text.js';
import { CANONICAL_ORDER_COLUMNS, ORDER_COLUMNS, type OrderColumn } from '../schemas/tables.js';
import { ingestConfigSchema, type IngestConfig, type IngestConfigInput } from './ingest-config.js';
import { ingestReceiptSchema, type IngestProblem, type IngestReceipt } from './receipt.js';
import { READ_CHUNK_BYTES, readPieces } from './read-pieces.js';
import { RecordFramer, splitRecord, type MalformedProblem } from './record-framer.js';

export { UnreadableExportError } from '../errors.js';
export type { IngestReceipt } from './receipt.js';

export interface IngestRequest {
  /** The export on the local disk: CSV, or gzip-compressed CSV (told by its first bytes, not its name). */
  readonly source: string;
  /** The key or path recorded in every row's `source_file` and in the receipt, e.g. `drop/2025/orders-07.csv.gz`. */
  readonly sourceName: string;
  /** Parsed with ingestConfigSchema; every field has a default. */
  readonly config?: IngestConfigInput;
  /** Where to write the canonical Parquet file. @default a new file under os.tmpdir() (the caller moves or removes it) */
  readonly output?: string;
  /** DuckDB's buffer memory; beyond it DuckDB spills to a temporary folder. @default '1GB' */
  readonly memoryLimit?: string;
  /**
   * DuckDB worker threads, or a function asked for them when DuckDB starts on the framed records
   * (after the framing pass), so a caller reading several exports can hand a read the cores that the
   * reads finished meanwhile have left. @default DuckDB's own (the cores)
   */
  readonly threads?: number | (() => number);
  /**
   * Runs the framing pass (the bytes to framed records, JavaScript on the event loop) and returns what
   * it returns. @default runs it at once. A caller reading several exports at once passes one that runs
   * them one at a time: framings side by side only take turns on the one JavaScript thread, so each
   * ends later, and with it the DuckDB parse that could have run on another core meanwhile.
   */
  readonly framing?: <T>(pass: () => Promise<T>) => Promise<T>;
  /** Where the reader's configuration is set, as the advice to change a setting names it. @default CLI_CONFIG_PLACE (the CLI's --config) */
  readonly configPlace?: string;
}

export interface IngestResult {
  /** The canonical Parquet file (columns: CANONICAL_ORDER_COLUMNS, one row per record of the export). */
  readonly canonical: string;
  readonly receipt: IngestReceipt;
}

/**
 * Exports read at once by the paths that read many (`clv run`/`clv ingest`, the ingest function's
 * re-ingest): one is framed on the event loop while another's DuckDB scan runs on the other cores.
 * More would only share the same cores. Each read gets an equal part of DuckDB's memory budget.
 */
export const INGEST_CONCURRENCY = 2;

/**
 * DuckDB threads for each of `readsAtOnce` exports read side by side: the cores shared out among
 * them, at least one each. A read's scan, casts and Parquet write cost ~30% more CPU on two threads
 * than on one (one 11 MB export of the bench: 0.27-0.30 s of CPU against 0.20-0.21 s, the same
 * bytes written), so reads that already keep the cores busy together do not each take them all.
 */
export const threadsPerRead = (readsAtOnce: number, cores: number = availableParallelism()): number =>
  Math.max(1, Math.floor(cores / Math.max(1, readsAtOnce)));

/** Longest record passed on; a longer one is `malformed_row` (record_too_long). */
const MAX_RECORD_BYTES = 2 ** 20;
const RAW_TEXT_BYTES = 4096;
/** The write buffer of the framed records (and of the malformed ones). */
const BUFFER_BYTES = 1 << 20;
const EXAMPLE_LINES = 10;

/**
 * How the canonical Parquet file is written (zstd: read by Athena too, which bills the bytes scanned).
 * DICTIONARY_SIZE_LIMIT, in distinct values per row group (122,880 rows): DuckDB's own limit is far
 * above any low-cardinality column, so for order_id and customer_id (distinct per row) it hashed
 * that many values into a dictionary it then threw away. 8192 keeps a dictionary for every column
 * that gets one today (channel, status, parse_reason, source_file, and order_date up to 22 years of
 * days in a row group) and gives up on the others sooner. The rows written are the same; of the
 * bench's 1 M-customer exports 5 of 7 files come out byte for byte the same, in the other 2 a last
 * row group of fewer than 8192 rows dictionary-encodes its ids. The COPY of one 25 MB export on
 * one thread takes 0.33-0.36 s of CPU against 0.37-0.47 s.
 */
const CANONICAL_PARQUET = 'FORMAT parquet, COMPRESSION zstd, DICTIONARY_SIZE_LIMIT 8192';

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
/** A character as a literal inside an RE2 pattern. */
const reChar = (c: string): string => (/[A-Za-z0-9]/.test(c) ? c : `\\x{${c.codePointAt(0)!.toString(16)}}`);
const trimSet = sqlString(TRIMMED_CHARACTERS.join(''));
const trimClass = `[${TRIMMED_CHARACTERS.map((c) => reChar(c)).join('')}]`;
/** A value that starts or ends with a trimmed character (RE2). */
const TRIM_EDGE = `^${trimClass}|${trimClass}$`;

/**
 * Reads ONE orders export into a canonical Parquet file plus a receipt: the one reader both paths
 * use (the CLI per input file, cached by content hash; the ingest Lambda per dropped object).
 *
 * What it does, in one streaming pass over the bytes (never the whole file in memory):
 * gunzip when the bytes are gzip (a truncated stream is an error: zlib checks the end and CRC);
 * a UTF-8 BOM is dropped; records are framed (RFC 4180, LF or CRLF; see RecordFramer: a broken
 * quote, a wrong field count or bytes that are not UTF-8 cost one `malformed_row` with its line and
 * raw text, never the file); the header is mapped to the logical columns by name (exact, then
 * case-insensitive and trimmed), per file. DuckDB then splits the records into fields in one scan
 * streamed into the Parquet file, trims them (TRIMMED_CHARACTERS), parses dates (ISO 8601 with the time part checked, or
 * `csv.dateFormat`) and amounts (`csv.decimalSeparator`, `csv.thousandsSeparator`, into
 * DECIMAL(38,6)), and judges each row: missing_order_id, missing_customer_id, invalid_order_date,
 * implausible_order_date (before `validation.minOrderDate`), invalid_amount (not a plain number, or
 * beyond `validation.maxAmount` in absolute value), negative_amount, in that order.
 *
 * @throws UnreadableExportError (with `reason`) when the file cannot be read at all: missing, not
 *   UTF-8 text (e.g. UTF-16, binary), a broken gzip stream, no header, or a required or configured
 *   order-key column missing. Never for bad rows: those are counted and kept.
 */
export const ingestExport = async (request: IngestRequest): Promise<IngestResult> => {
  const parsedConfig = ingestConfigSchema.safeParse(request.config ?? {});
  if (!parsedConfig.success) throw new Error(`invalid ingest config: ${parsedConfig.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const config = parsedConfig.data;
  // named for this process: a run killed mid-read leaves it, and the next read removes it
  const work = await makeScratchFolder(tmpdir(), 'clv-ingest-');
  try {
    const frame = (): Promise<Framed> => frameExport(request, config, work);
    const framed = await (request.framing === undefined ? frame() : request.framing(frame));
    const output = request.output ?? join(await makeScratchFolder(tmpdir(), 'clv-canonical-'), 'orders.parquet');
    const counts = await parseRecords(request, config, framed, work, output);
    const problems: IngestProblem[] = [...framed.problems, ...counts.problems];
    if (framed.statistics.blankLines > 0) {
      problems.push({ code: 'blank_lines', count: framed.statistics.blankLines, lines: [], message: `${framed.statistics.blankLines} blank lines skipped (not rows)` });
    }
    if (framed.statistics.crlfLines > 0 && framed.statistics.lfLines > 0) {
      problems.push({
        code: 'mixed_line_endings',
        count: Math.min(framed.statistics.crlfLines, framed.statistics.lfLines),
        lines: [],
        message: `${framed.statistics.crlfLines} lines end in CRLF and ${framed.statistics.lfLines} in LF; both are read`,
      });
    }
    if (framed.unmapped.length > 0) {
      problems.push({ code: 'unmapped_columns', count: framed.unmapped.length, lines: [], message: `columns not used: ${framed.unmapped.join(', ')}` });
    }
    const rejectedByReason = Object.fromEntries(INGEST_REJECTION_REASONS.map((r) => [r, counts.rejected[r] ?? 0])) as IngestReceipt['rejected_by_reason'];
    const rejected = Object.values(rejectedByReason).reduce((a, b) => a + b, 0);
    const receipt = ingestReceiptSchema.parse({
      schema_version: 1,
      source: request.sourceName,
      sha256: framed.sha256,
      bytes: framed.bytes,
      compression: framed.gzip ? 'gzip' : 'none',
      csv_bytes: framed.csvBytes,
      encoding: 'utf-8',
      bom: framed.bom,
      line_endings:
        framed.statistics.crlfLines > 0 && framed.statistics.lfLines > 0
          ? 'mixed'
          : framed.statistics.crlfLines > 0
            ? 'crlf'
            : framed.statistics.lfLines > 0
              ? 'lf'
              : 'none',
      delimiter: config.csv.delimiter,
      header: framed.header,
      mapping: { ...framed.mapping, order_key: framed.orderKeyHeaders },
      rows: counts.rows,
      accepted_for_parsing: counts.rows - counts.rejected.malformed_row,
      malformed: counts.rejected.malformed_row,
      parsed: counts.rows - rejected,
      rejected_by_reason: rejectedByReason,
      problems,
    } satisfies IngestReceipt);
    return { canonical: output, receipt };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};

interface Framed {
  readonly sha256: string;
  readonly bytes: number;
  readonly csvBytes: number;
  readonly gzip: boolean;
  readonly bom: boolean;
  readonly header: string[];
  readonly mapping: Record<OrderColumn, string | null>;
  /** Field index per logical column (null: not in this file). */
  readonly positions: Record<OrderColumn, number | null>;
  readonly orderKeyHeaders: string[];
  readonly orderKeyPositions: number[];
  readonly unmapped: string[];
  readonly fieldCount: number;
  /** `<line><delimiter><needs trim: 0|1><delimiter><record>\n` per well-formed record. */
  readonly prepared: string;
  /** line, problem, bytes, raw text (CSV, comma, RFC 4180) per record the framer could not split. */
  readonly malformed: string;
  readonly statistics: RecordFramer['statistics'];
  readonly problems: IngestProblem[];
}

/**
 * Buffered appends to a file: records are small, writes are not. One buffer is reused for the whole
 * file (written out, awaited, then filled again), so appending allocates nothing per record.
 */
class BufferedFile {
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  /** Buffers filled within one chunk before the next flush (only when a chunk outgrows the buffer). */
  private readonly full: Buffer[] = [];
  private constructor(private readonly handle: FileHandle) {}
  static async create(path: string): Promise<BufferedFile> {
    return new BufferedFile(await open(path, 'w'));
  }
  append(text: string): void {
    this.reserve(Buffer.byteLength(text));
    this.used += this.buffer.write(text, this.used);
  }
  /**
   * `<line><delimiter><0|1><delimiter><data[start, end)>\n` (1: the record needs trimming), the line
   * number written as digits in place: no string is made per record.
   */
  appendRecord(line: number, needsTrim: boolean, delimiter: number, data: Buffer, start: number, end: number): void {
    this.reserve(end - start + 20);
    const buffer = this.buffer;
    let at = this.used;
    let digits = 1;
    for (let rest = line; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    at += digits;
    for (let rest = line, k = at - 1; k >= this.used; k--, rest = Math.floor(rest / 10)) buffer[k] = 48 + (rest % 10);
    buffer[at++] = delimiter;
    buffer[at++] = needsTrim ? 0x31 : 0x30;
    buffer[at++] = delimiter;
    at += data.copy(buffer, at, start, end);
    buffer[at++] = 0x0a;
    this.used = at;
  }
  private reserve(length: number): void {
    if (this.used + length > this.buffer.length) {
      this.full.push(this.buffer.subarray(0, this.used));
      this.buffer = Buffer.allocUnsafe(Math.max(BUFFER_BYTES, length));
      this.used = 0;
    }
  }
  /** Writes out what is buffered once it is worth a write (or always, with `all`). */
  async flush(all = false): Promise<void> {
    if (!all && this.full.length === 0 && this.used < BUFFER_BYTES / 2) return;
    for (const piece of this.full.splice(0)) await this.handle.write(piece);
    if (this.used > 0) await this.handle.write(this.buffer, 0, this.used);
    this.used = 0;
  }
  async close(): Promise<void> {
    try {
      await this.flush(true);
    } finally {
      await this.handle.close();
    }
  }
}


const csvQuote = (text: string): string => `"${text.replaceAll('"', '""')}"`;

/** Decoded raw text of a malformed record: invalid UTF-8 shows as U+FFFD, NUL as U+FFFD too. */
const rawText = (raw: Buffer, total: number): string => {
  const text = raw.toString('utf8').replaceAll('\u0000', '\ufffd');
  return total > raw.length ? `${text}… [${total} bytes]` : text;
};

const readMagic = async (path: string, sourceName: string): Promise<Buffer> => {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new UnreadableExportError(sourceName, 'cannot be opened (no such file, or no permission)', { cause: error });
  }
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
};

/** First pass: bytes -> framed records on disk, the header, the malformed records, the hash. */
const frameExport = async (request: IngestRequest, config: IngestConfig, work: string): Promise<Framed> => {
  const { sourceName } = request;
  const magic = await readMagic(request.source, sourceName);
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  const delimiter = config.csv.delimiter;
  if (Buffer.byteLength(delimiter) !== 1) throw new Error('csv.delimiter must be a one-byte character');
  const prepared = await BufferedFile.create(join(work, 'records.csv'));
  const malformed = await BufferedFile.create(join(work, 'malformed.csv'));
  malformed.append('line,problem,bytes,raw\n');
  const hash = createHash('sha256');
  let bytes = 0;
  let csvBytes = 0;
  let bom = false;
  let first = true;
  /** The file's first (decompressed) bytes: where a header below a title line is looked for. */
  let head: Buffer = Buffer.alloc(0);
  let header: string[] | null = null;
  /** Records of the header's field count, passed to DuckDB. */
  let wellFormedRecords = 0;
  let headerProblem: string | null = null;
  const problemCounts = new Map<MalformedProblem, { count: number; lines: number[] }>();
  const delimiterByte = Buffer.from(delimiter)[0]!;

  const framer = new RecordFramer({
    delimiter: delimiterByte,
    maxRecordBytes: MAX_RECORD_BYTES,
    rawTextBytes: RAW_TEXT_BYTES,
    trimmedCharacters: TRIMMED_CHARACTERS,
    record: (line, data, start, end, needsTrim) => {
      if (header === null) {
        const record = data.subarray(start, end);
        if (!isUtf8(record) || record.includes(0)) headerProblem =
            'is not UTF-8 text (the header holds bytes that are not UTF-8; Excel\'s plain "CSV (Comma delimited)" is Windows-1252): ' +
            'save it as "CSV UTF-8 (Comma delimited)", or convert it, e.g. `iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv`';
        header = splitRecord(record.toString('utf8'), delimiter);
        framer.expectFields = header.length;
        return;
      }
      wellFormedRecords += 1;
      prepared.appendRecord(line, needsTrim, delimiterByte, data, start, end);
    },
    malformed: (line, raw, total, problem) => {
      if (header === null) {
        // a reason reads after "it" (`x.csv was left out: it has ...`)
        const limit = problem === 'record_too_long' ? `: a record is at most ${MAX_RECORD_BYTES / 2 ** 20} MiB` : '';
        headerProblem = `has a header that cannot be read (${problem.replaceAll('_', ' ')} on line ${line}${limit})`;
        header = [];
        return;
      }
      const entry = problemCounts.get(problem) ?? { count: 0, lines: [] };
      entry.count += 1;
      if (entry.lines.length < EXAMPLE_LINES) entry.lines.push(line);
      problemCounts.set(problem, entry);
      malformed.append(`${line},${problem},${total},${csvQuote(rawText(raw, total))}\n`);
    },
  });

  /** The export's bytes as stored (before gunzip): hashed and counted for the receipt. */
  const count = (piece: Buffer): void => {
    hash.update(piece);
    bytes += piece.length;
  };
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      count(chunk);
      done(null, chunk);
    },
  });
  // thrown inside the pipeline, where it arrives wrapped as an abort: kept to be rethrown as is
  let unreadable: UnreadableExportError | null = null;
  const refuse = (reason: string): never => {
    unreadable = new UnreadableExportError(sourceName, reason);
    throw unreadable;
  };
  const frame = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (let chunk of source) {
      csvBytes += chunk.length;
      if (first) {
        first = false;
        // an empty, UTF-16/32 or otherwise-delimited file is named for what it is before any row is read
        // a copy: the first chunk (up to READ_CHUNK_BYTES) is not held while the rest of the file is read
        head = Buffer.from(chunk.subarray(0, EXPORT_HEAD_BYTES));
        const shape = diagnoseExportHead(head, delimiter, request.configPlace, config.columns);
        if (shape !== null) refuse(shape.message);
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          bom = true;
          chunk = chunk.subarray(3);
        }
      }
      framer.push(chunk);
      if (headerProblem !== null) refuse(headerProblem);
      await prepared.flush();
      await malformed.flush();
    }
    if (first) refuse(emptyExportProblem(delimiter, bytes).message);
    framer.end();
  };
  const counted = async function* (pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const piece of pieces) {
      count(piece);
      yield piece;
    }
  };
  const gunzipped = async (): Promise<void> => {
    const source = createReadStream(request.source, { highWaterMark: READ_CHUNK_BYTES });
    const gunzip = createGunzip({ chunkSize: READ_CHUNK_BYTES });
    // not stream.pipeline: gunzip ends at the last gzip member, before the zero bytes some tools pad a file
    // with (GNU gzip ignores them too), and pipeline takes that end for an abort; every byte still passes
    // the tap, which the receipt counts and hashes. A read error reaches the frame through gunzip.
    // tap too: once gunzip has ended, the tail read into nothing still fails the read (a read error after the last member)
    for (const stream of [source, tap]) stream.on('error', (error: Error) => (gunzip.destroy(error), tap.destroy(error)));
    source.pipe(tap).pipe(gunzip);
    try {
      await frame(gunzip);
      // what follows the last member still passes the tap, to be counted and hashed, into nothing
      tap.unpipe(gunzip);
      tap.resume();
      await finished(tap);
    } finally {
      source.destroy();
    }
  };
  try {
    if (gzip) await gunzipped();
    else await frame(counted(readPieces(request.source)));
  } catch (error) {
    if (unreadable !== null) throw unreadable;
    if (error instanceof UnreadableExportError) throw error;
    const message = firstLine(error);
    throw new UnreadableExportError(sourceName, gzip ? `is not a complete gzip file (${message})` : `cannot be read (${message})`, { cause: error });
  } finally {
    await prepared.close();
    await malformed.close();
  }
  if (headerProblem !== null) throw new UnreadableExportError(sourceName, headerProblem);
  const names: string[] = header ?? [];
  if (names.length === 0 || (names.length === 1 && names[0] === '')) throw new UnreadableExportError(sourceName, 'has no header row');
  // Excel keeps columns in the header once cells right of the data were filled (`status,,`), the rows
  // not: every row would be a malformed_row the run fails on, with nothing saying why
  const unnamedTail = names.length - names.findLastIndex((name) => name.trim() !== '') - 1;
  const wrongFieldCount = problemCounts.get('wrong_field_count')?.count ?? 0;
  if (unnamedTail > 0 && wellFormedRecords === 0 && wrongFieldCount > 0) {
    throw new UnreadableExportError(
      sourceName,
      `has a header ending in ${unnamedTail} column${unnamedTail === 1 ? '' : 's'} without a name (${headerColumnsText(names.slice(-unnamedTail - 1))}), and none of its rows has the header's ${names.length} fields ` +
        `(${wrongFieldCount} rows have another number): spreadsheets leave such columns in the header when cells beside the data were once filled; remove the trailing delimiters from the header line`,
    );
  }

  const find = (wanted: string): number | null => {
    const name = matchHeader(names, wanted);
    return name === undefined ? null : names.indexOf(name);
  };
  const mapping = {} as Record<OrderColumn, string | null>;
  const positions = {} as Record<OrderColumn, number | null>;
  for (const column of ORDER_COLUMNS) {
    const at = find(config.columns[column]);
    positions[column] = at;
    mapping[column] = at === null ? null : names[at]!;
  }
  // two header columns answering to one wanted name (`amount,amount`, `Amount,AMOUNT`): taking the first
  // would silently read one of two different figures, so the export is refused, naming them
  for (const wanted of [...ORDER_COLUMNS.map((c) => config.columns[c]), ...config.orderKey]) {
    const exact = names.flatMap((h, i) => (h === wanted ? [i] : []));
    const loose = names.flatMap((h, i) => (h.trim().toLowerCase() === wanted.toLowerCase() ? [i] : []));
    const clash = exact.length > 1 ? exact : exact.length === 0 && loose.length > 1 ? loose : [];
    if (clash.length > 0) {
      throw new UnreadableExportError(
        sourceName,
        `has ${clash.length} columns named "${wanted}" (columns ${clash.map((i) => i + 1).join(', ')} of the header): which one to read is not clear; rename or remove the others`,
      );
    }
  }
  const missing = missingRequiredColumns(names, config.columns);
  if (missing.length > 0) {
    const mapped = Object.values(mapping).filter((h): h is string => h !== null);
    const problem = misplacedHeaderProblem(head, delimiter, config.columns, request.configPlace) ?? missingColumnsProblem(names, missing, mapped, request.configPlace);
    throw new UnreadableExportError(sourceName, problem.message);
  }
  const orderKeyPositions: number[] = [];
  const missingKeys: string[] = [];
  for (const wanted of config.orderKey) {
    const at = find(wanted);
    if (at === null) missingKeys.push(`"${wanted}"`);
    else orderKeyPositions.push(at);
  }
  if (missingKeys.length > 0) {
    throw new UnreadableExportError(sourceName, `lacks the order-key column${missingKeys.length > 1 ? 's' : ''} ${missingKeys.join(', ')} named in orderKey; the header has ${headerColumnsText(names)}`);
  }
  // An optional column under its own name may be absent (an export without statuses); one the config
  // names otherwise is one the data team said the exports have: read as empty, every cancelled order
  // would count as a purchase, or every customer lose its channel, without a word
  const missingNamed = OPTIONAL_ORDER_COLUMNS.filter((column) => config.columns[column] !== column && positions[column] === null);
  if (missingNamed.length > 0) {
    throw new UnreadableExportError(
      sourceName,
      `lacks ${missingNamed.map((c) => `the ${c} column "${config.columns[c]}" (columns.${c})`).join(' and ')} named in ${request.configPlace ?? CLI_CONFIG_PLACE}; ` +
        `the header has ${headerColumnsText(names)}. Name the column as this export does, or, for exports without it, leave it out of "columns" (it is optional)`,
    );
  }
  const used = new Set([...Object.values(positions), ...orderKeyPositions]);
  const problems: IngestProblem[] = [...problemCounts].map(([code, { count, lines }]) => ({
    code,
    count,
    lines,
    message:
      code === 'wrong_field_count'
        ? `${count} record${count > 1 ? 's' : ''} without the header's ${names.length} fields`
        : code === 'invalid_encoding'
          ? `${count} record${count > 1 ? 's' : ''} not valid UTF-8`
          : code === 'control_character'
            ? `${count} record${count > 1 ? 's' : ''} holding a control character (a NUL, an escape: not text a CSV reader takes)`
            : `${count} record${count > 1 ? 's' : ''}: ${code.replaceAll('_', ' ')}`,
  }));
  return {
    sha256: hash.digest('hex'),
    bytes,
    csvBytes,
    gzip,
    bom,
    header: names,
    mapping,
    positions,
    orderKeyHeaders: orderKeyPositions.map((p) => names[p]!),
    orderKeyPositions,
    unmapped: names.filter((_, i) => !used.has(i)),
    fieldCount: names.length,
    prepared: join(work, 'records.csv'),
    malformed: join(work, 'malformed.csv'),
    statistics: framer.statistics,
    problems,
  };
};

/** ISO 8601: a date, optionally a time (hours < 24, minutes and seconds < 60) and a zone. */
const ISO_DATE = String.raw`^(\d{4}-\d{2}-\d{2})(?:[T ]([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?$`;

/** ISO_DATE on a text of exactly 10 characters: a bare date (the time part, when there is one, makes it longer). */
const ISO_DAY_GLOB = '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]';

/**
 * The SQL expression of the order date (a DATE, or NULL when the text is not a valid date).
 * Without a dateFormat, the text must match ISO_DATE and its first 10 characters be a real day.
 * Two shortcuts, each giving the same answer, for the common bare date (a third of the parse's
 * CPU went to dates: 0.06 s per 25 MB export): a 10-character text is tested by a GLOB, not the
 * regex; and the day is read by a cast to DATE rather than strptime('%Y-%m-%d'), which agree on
 * all 10^8 texts `dddd-dd-dd` (checked in DuckDB 1.5.5: the same 3,652,425 days, year 0000 to
 * 9999, and NULL for the rest; test/ingest/ingest-export.test.ts holds a grid of them). A text of
 * 10 characters is its own first 10: it is cast as it is, for left() makes a new string per value
 * (the date's CPU on one 25 MB export of the bench: 22 ms against 37-44 ms).
 */
const dateExpression = (text: string, format: string | undefined): string =>
  format === undefined
    ? `CASE WHEN length(${text}) = 10 THEN CASE WHEN ${text} GLOB ${sqlString(ISO_DAY_GLOB)} THEN TRY_CAST(${text} AS DATE) END
         WHEN regexp_full_match(${text}, ${sqlString(ISO_DATE)}) THEN TRY_CAST(left(${text}, 10) AS DATE) END`
    : `CAST(try_strptime(${text}, ${sqlString(format)}) AS DATE)`;

/** The SQL expression of the amount as DECIMAL(38,6), or NULL when the text is not a plain number. */
const amountExpression = (text: string, decimal: string, thousands: string | undefined): string => {
  const d = reChar(decimal);
  const plain = String.raw`^[+-]?(\d+(${d}\d*)?|${d}\d+)$`;
  const grouped = thousands === undefined ? null : String.raw`^[+-]?\d{1,3}(${reChar(thousands)}\d{3})+(${d}\d*)?$`;
  const valid = grouped === null ? `regexp_full_match(${text}, ${sqlString(plain)})` : `(regexp_full_match(${text}, ${sqlString(plain)}) OR regexp_full_match(${text}, ${sqlString(grouped)}))`;
  let normalised = text;
  if (thousands !== undefined) normalised = `replace(${normalised}, ${sqlString(thousands)}, '')`;
  if (decimal !== '.') normalised = `replace(${normalised}, ${sqlString(decimal)}, '.')`;
  // DuckDB casts text to DECIMAL(18,6) (64-bit) ~150x faster than to DECIMAL(38,6) (128-bit): the wide
  // cast runs only for the rare amount beyond 12 integer digits
  return `CASE WHEN ${valid} THEN COALESCE(CAST(TRY_CAST(${normalised} AS DECIMAL(18,6)) AS DECIMAL(38,6)), TRY_CAST(${normalised} AS DECIMAL(38,6))) END`;
};

interface ParseCounts {
  readonly rows: number;
  readonly rejected: Partial<Record<RejectionReason, number>> & { malformed_row: number };
  readonly problems: IngestProblem[];
}

/** Second pass: DuckDB splits, trims, parses and judges the framed records into the canonical Parquet file. */
const parseRecords = async (request: IngestRequest, config: IngestConfig, framed: Framed, work: string, output: string): Promise<ParseCounts> => {
  const settings: Record<string, string> = { memory_limit: request.memoryLimit ?? '1GB', temp_directory: join(work, 'spill') };
  const threads = typeof request.threads === 'function' ? request.threads() : request.threads;
  if (threads !== undefined) settings.threads = String(threads);
  const instance = await DuckDBInstance.create(':memory:', settings);
  const connection = await instance.connect();
  try {
    // A csv.dateFormat with a zone (%z, %Z) parses to a TIMESTAMP WITH TIME ZONE, whose cast to DATE
    // takes the session's zone, by default the machine's: a laptop in Tokyo and the Lambda (UTC) gave
    // the same export different purchase days. The day of such a timestamp is its UTC day, everywhere.
    // (Set here, not in `settings`: the ICU extension that owns the setting loads with the connection.)
    await connection.run(`SET TimeZone = 'UTC'`);
    const fields = Array.from({ length: framed.fieldCount }, (_, i) => `f${i}`);
    const columns = `{'line': 'BIGINT', 'needs_trim': 'BOOLEAN', ${fields.map((f) => `'${f}': 'VARCHAR'`).join(', ')}}`;
    const raw = (column: OrderColumn): string => {
      const at = framed.positions[column];
      return at === null ? 'CAST(NULL AS VARCHAR)' : `f${at}`;
    };
    // trim() with a character set is slow in DuckDB (~5x a plain trim): it runs only on the rare
    // value that starts or ends with one of the characters, and even that check (a regex per value)
    // only on the records the framer could not vouch for (needs_trim: see RecordFramer)
    const trimmed = (expression: string): string =>
      `NULLIF(CASE WHEN NOT needs_trim THEN ${expression} WHEN regexp_matches(${expression}, ${sqlString(TRIM_EDGE)}) THEN trim(${expression}, ${trimSet}) ELSE ${expression} END, '')`;
    const orderKey =
      framed.orderKeyPositions.length === 0
        ? 'CAST(NULL AS VARCHAR)'
        : `CAST(to_json([${framed.orderKeyPositions.map((p) => `coalesce(trim(f${p}, ${trimSet}), '')`).join(', ')}]) AS VARCHAR)`;
    const { csv, validation } = config;
    // an id an export writes for "no value" (SQL's NULL, MySQL's \N, Excel's #N/A) is none: read as an
    // id, every guest checkout would be one customer, high tier and Champion, in every audience
    const placeholder = (column: string): string => `upper(${column}) IN (${ID_PLACEHOLDERS.map(sqlString).join(', ')})`;
    const judged = `WITH source AS (
         SELECT * FROM read_csv(${sqlString(framed.prepared)}, header = false, auto_detect = false, columns = ${columns},
           delim = ${sqlString(csv.delimiter)}, quote = '"', escape = '"', new_line = '\\n', strict_mode = true,
           all_varchar = false, null_padding = false, store_rejects = true, rejects_table = 'rejects', rejects_scan = 'reject_scans',
           max_line_size = ${MAX_RECORD_BYTES * 2}, encoding = 'utf-8', parallel = true)
       ),
       texts AS (
         SELECT line,
           ${ORDER_COLUMNS.map((c) => `${raw(c)} AS raw_${c}`).join(', ')},
           ${trimmed(raw('order_id'))} AS order_id,
           ${orderKey} AS order_key_extra,
           ${trimmed(raw('customer_id'))} AS customer_id,
           ${trimmed(raw('order_date'))} AS date_text,
           ${trimmed(raw('amount'))} AS amount_text,
           ${trimmed(raw('channel'))} AS channel,
           lower(${trimmed(raw('status'))}) AS status
         FROM source
       ),
       typed AS (
         SELECT *, ${dateExpression('date_text', csv.dateFormat)} AS order_date,
           ${amountExpression('amount_text', csv.decimalSeparator, csv.thousandsSeparator)} AS amount
         FROM texts
       )
       SELECT *,
         CASE
           WHEN order_id IS NULL OR ${placeholder('order_id')} THEN 'missing_order_id'
           WHEN customer_id IS NULL OR ${placeholder('customer_id')} THEN 'missing_customer_id'
           WHEN order_date IS NULL THEN 'invalid_order_date'
           WHEN order_date < DATE ${sqlString(validation.minOrderDate)} THEN 'implausible_order_date'
           WHEN amount IS NULL OR abs(amount) > ${validation.maxAmount} THEN 'invalid_amount'
           WHEN amount < 0 THEN 'negative_amount'
         END AS parse_reason
       FROM typed`;
    const source = sqlString(request.sourceName);
    const select = (parts: Record<string, string>): string => CANONICAL_ORDER_COLUMNS.map((c) => `${parts[c.name] ?? 'NULL'} AS ${c.name}`).join(', ');
    // The texts as read, for the rows the night may reject (any row can be dated after a given
    // as-of date): the date, amount and status always (few distinct values, or short), an id or the
    // channel where it differs from its trimmed value (else the value is the text as read).
    const KEPT_AS_READ: readonly OrderColumn[] = ['order_date', 'amount', 'status'];
    const rawOf = (c: OrderColumn) =>
      KEPT_AS_READ.includes(c) ? `raw_${c}` : `CASE WHEN parse_reason IS NOT NULL OR raw_${c} IS DISTINCT FROM ${c} THEN raw_${c} END`;
    const good = select({
      source_file: source,
      source_line: 'line',
      parse_reason: 'parse_reason',
      order_id: 'order_id',
      order_key_extra: 'order_key_extra',
      customer_id: 'customer_id',
      order_date: 'order_date',
      amount: 'amount',
      channel: 'channel',
      status: 'status',
      raw_line: 'CAST(NULL AS VARCHAR)',
      ...Object.fromEntries(ORDER_COLUMNS.map((c) => [`raw_${c}`, rawOf(c)])),
    });
    const malformedPart = (line: string, text: string) =>
      select({
        source_file: source,
        source_line: line,
        parse_reason: `'malformed_row'`,
        order_id: 'CAST(NULL AS VARCHAR)',
        order_key_extra: 'CAST(NULL AS VARCHAR)',
        customer_id: 'CAST(NULL AS VARCHAR)',
        order_date: 'CAST(NULL AS DATE)',
        amount: 'CAST(NULL AS DECIMAL(38,6))',
        channel: 'CAST(NULL AS VARCHAR)',
        status: 'CAST(NULL AS VARCHAR)',
        raw_line: text,
        ...Object.fromEntries(ORDER_COLUMNS.map((c) => [`raw_${c}`, 'CAST(NULL AS VARCHAR)'])),
      });
    const malformedFile = `SELECT ${malformedPart('line', 'raw')} FROM read_csv(${sqlString(framed.malformed)}, header = true, auto_detect = false,
           columns = {'line': 'BIGINT', 'problem': 'VARCHAR', 'bytes': 'BIGINT', 'raw': 'VARCHAR'}, delim = ',', quote = '"', escape = '"',
           new_line = '\\n', strict_mode = true, max_line_size = ${RAW_TEXT_BYTES * 8})`;
    // one pass: the framer has already set aside every record DuckDB could not split, so the scan
    // streams straight into the Parquet file, never materialised
    await connection.run(`COPY (SELECT ${good} FROM (${judged}) UNION ALL ${malformedFile}) TO ${sqlString(output)} (${CANONICAL_PARQUET})`);
    // Should DuckDB still refuse a record the framer passed, it is kept as a malformed row: the file
    // is written again with DuckDB's rejects (one row per record; it may report several errors for one).
    const problems: IngestProblem[] = [];
    const refused = Number((await connection.runAndReadAll('SELECT COUNT(*) FROM rejects')).getRows()[0]?.[0] ?? 0);
    if (refused > 0) {
      const rejectLine = `CAST(split_part(ltrim(csv_line, chr(10) || chr(13)), ${sqlString(csv.delimiter)}, 1) AS BIGINT)`;
      // past `<line><delimiter><needs_trim><delimiter>`
      const rejectText = `substr(ltrim(csv_line, chr(10) || chr(13)), length(split_part(ltrim(csv_line, chr(10) || chr(13)), ${sqlString(csv.delimiter)}, 1)) + 4, ${RAW_TEXT_BYTES})`;
      await connection.run(`CREATE TEMP TABLE split_rejects AS SELECT ${rejectLine} AS line, MIN(${rejectText}) AS text FROM rejects GROUP BY 1`);
      const rewritten = `${output}.rejects`;
      await connection.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(output)}) UNION ALL SELECT ${malformedPart('line', 'text')} FROM split_rejects) TO ${sqlString(rewritten)} (${CANONICAL_PARQUET})`,
      );
      await rename(rewritten, output);
      const [n, lines] = (await connection.runAndReadAll(`SELECT COUNT(*), list(line ORDER BY line)[1:${EXAMPLE_LINES}] FROM split_rejects`)).getRows()[0] ?? [0, null];
      const count = Number(n);
      problems.push({ code: 'refused_by_reader', count, lines: ((lines as { items?: unknown[] } | null)?.items ?? []).map(Number), message: `${count} record${count > 1 ? 's' : ''} the CSV reader could not split` });
    }
    const rejected: ParseCounts['rejected'] = { malformed_row: 0 };
    let rows = 0;
    for (const [reason, n] of (await connection.runAndReadAll(`SELECT parse_reason, COUNT(*) FROM read_parquet(${sqlString(output)}) GROUP BY 1`)).getRows()) {
      rows += Number(n);
      if (reason !== null) rejected[String(reason) as RejectionReason] = Number(n);
    }
    return { rows, rejected, problems };
  } catch (error) {
    if (error instanceof UnreadableExportError) throw error;
    // the engine reads only files the framer wrote: an IO or memory failure is this machine's (the
    // canonical copy's folder not writable, a full disk), not the export's, and must not have the
    // export skipped (--skip-bad-files) or quarantined as unreadable
    if (/^(IO|Out of Memory|Permission) Error/i.test(firstLine(error))) {
      throw new ClvError(`${request.sourceName}: its canonical copy could not be written (${firstLine(error)}): the folder or disk the copy goes to failed, not the export`, { cause: error });
    }
    throw new UnreadableExportError(request.sourceName, `cannot be parsed (${firstLine(error)})`, { cause: error });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
};
