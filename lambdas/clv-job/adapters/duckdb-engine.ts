import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnMapping } from '../config.js';
import { EngineError, InputFileError, firstLine } from '../errors.js';
import type { InputDescription, QueryEngine, ResultColumns } from '../ports.js';
import { ORDER_COLUMNS, type OrderColumn } from '../schemas/tables.js';
import { QUERIES, RELATIONS, RELATIONS_OF, renderSql, type QueryName, type RelationName, type SqlParameters } from '../sql/index.js';
import { readResultColumns } from './duckdb-result.js';
import { diagnoseExportHead, matchHeader, missingColumnsProblem, missingRequiredColumns, readExportHead } from './export-diagnostics.js';
import { verifyGzipFiles, type InputFile } from './input-files.js';

/** The one delimiter exports are read with (SPEC: RFC 4180). */
const DELIMITER = ',';

/** RFC 4180 as SPEC fixes it; only the header row is sniffed, so a `;` file is not silently re-read. */
const CSV_OPTIONS = `header = true, all_varchar = true, delim = '${DELIMITER}', quote = '"', escape = '"'`;

/** The type of `orders.source_file` (see bindOrders). */
const SOURCE_FILE_TYPE = 'source_file_name';

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const identifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export interface DuckDbEngineOptions {
  readonly files: readonly InputFile[];
  readonly columns: ColumnMapping;
  /** DuckDB worker threads. @default the cores Node may use (os.availableParallelism()) */
  readonly threads?: number;
  /**
   * e.g. `'2GB'`: bounds DuckDB's buffer memory, spilling to a temporary folder beyond it.
   * @default half the machine's memory (DuckDB's own default, 80%, leaves too little for the
   * JavaScript heap that holds the customer columns after the queries)
   */
  readonly memoryLimit?: string;
  /** Where DuckDB spills. @default a folder of its own under os.tmpdir(), removed on close (DuckDB's default is `.tmp` in the working directory) */
  readonly tempDirectory?: string;
}

/** The engine's settings when the options leave them out (see DuckDbEngineOptions). */
export const duckDbSettings = (options: Pick<DuckDbEngineOptions, 'threads' | 'memoryLimit' | 'tempDirectory'>): Record<string, string> => ({
  threads: String(options.threads ?? availableParallelism()),
  memory_limit: options.memoryLimit ?? `${Math.floor(totalmem() / 2 / 2 ** 20)}MB`,
  temp_directory: options.tempDirectory ?? join(tmpdir(), `clv-duckdb-${process.pid}-${Date.now()}`),
});

/**
 * The local engine. Binds the input files as `orders`, with each file's header mapped to the
 * logical columns (so exports may order or name their columns differently), and runs the shared
 * SQL. Trino functions DuckDB lacks are defined as macros of the same name, never by forking the SQL.
 */
export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb';
  private readonly materialised = new Map<RelationName, string>();

  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly instance: DuckDBInstance,
    private readonly files: readonly InputFile[],
    /** The spill folder the engine made up for itself, removed on close; null when the caller chose it. */
    private readonly ownTempDirectory: string | null,
  ) {}

  static async open(options: DuckDbEngineOptions): Promise<DuckDbEngine> {
    const config = duckDbSettings(options);
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    const engine = new DuckDbEngine(connection, instance, options.files, options.tempDirectory === undefined ? config.temp_directory! : null);
    try {
      await connection.run(`CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)`);
      await connection.run(`CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`);
      const verified = verifyGzipFiles(options.files);
      // both settle before either failure is reported, so a truncated file is named, not its symptom
      const [gzip, bound] = await Promise.allSettled([verified, engine.bindOrders(options.columns)]);
      if (gzip.status === 'rejected') throw gzip.reason;
      if (bound.status === 'rejected') throw bound.reason;
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  async describeInput(): Promise<InputDescription> {
    return {
      files: this.files.length,
      bytes: this.files.reduce((sum, f) => sum + f.bytes, 0),
      location: this.files.length === 1 ? (this.files[0]?.path ?? '') : `${this.files.length} local files`,
    };
  }

  async run(query: QueryName, params: SqlParameters): Promise<ResultColumns> {
    await this.materialise(RELATIONS_OF[query], params);
    try {
      return await readResultColumns(await this.connection.stream(renderSql(QUERIES[query], params)));
    } catch (error) {
      throw new EngineError(`DuckDB failed on query ${query}: ${firstLine(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    if (this.ownTempDirectory !== null) await rm(this.ownTempDirectory, { recursive: true, force: true });
  }

  /** Each relation is computed once per parameter set and reused by every query that needs it. */
  private async materialise(relations: readonly RelationName[], params: SqlParameters): Promise<void> {
    let upstreamChanged = false;
    for (const relation of relations) {
      const sql = renderSql(RELATIONS[relation], params);
      if (!upstreamChanged && this.materialised.get(relation) === sql) continue;
      upstreamChanged = true;
      try {
        await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${relation} AS ${sql}`);
      } catch (error) {
        throw await this.explainReadFailure(error);
      }
      this.materialised.set(relation, sql);
    }
  }

  /**
   * `orders` unions one CSV scan per header layout. Records the CSV reader cannot split into the
   * header's columns are kept, as rows with their raw line, so the shared SQL rejects and counts them.
   */
  private async bindOrders(mapping: ColumnMapping): Promise<void> {
    const layouts = new Map<string, { columns: Map<OrderColumn, string | null>; files: string[] }>();
    for (const file of this.files) {
      // an empty, UTF-16 or `;`-separated file is named for what it is before DuckDB misreads it
      // (a file that cannot be opened is left to the reader, which names it)
      const head = await readExportHead(file.path).catch(() => null);
      const shape = head === null ? null : diagnoseExportHead(head, DELIMITER);
      if (shape !== null) throw new InputFileError(file.path, shape.message);
      const header = await this.readHeader(file.path);
      const columns = new Map<OrderColumn, string | null>(ORDER_COLUMNS.map((column) => [column, matchHeader(header, mapping[column]) ?? null]));
      const missing = missingRequiredColumns(header, mapping);
      if (missing.length > 0) {
        const mapped = [...columns.values()].filter((h): h is string => h !== null);
        throw new InputFileError(file.path, missingColumnsProblem(header, missing, mapped).message);
      }
      // files share a scan only when their headers are identical, names and order alike
      const key = JSON.stringify(header);
      const layout = layouts.get(key) ?? { columns, files: [] };
      layout.files.push(file.path);
      layouts.set(key, layout);
    }

    // source_file is an ENUM of the paths in byte order, which is how DuckDB orders the strings: it
    // sorts the same as the path (the de-duplication orders copies by it) but is one byte a row
    // rather than a copy of the path in every row of every relation and sort built on `orders`.
    const paths = this.files.map((f) => f.path).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    await this.run_(`CREATE TYPE ${SOURCE_FILE_TYPE} AS ENUM (${paths.map(sqlString).join(', ')})`);

    const parts: string[] = [];
    let index = 0;
    for (const { columns, files } of layouts.values()) {
      const raw = `raw_orders_${index}`;
      const fileList = `[${files.map(sqlString).join(', ')}]`;
      const headers = [...new Set([...columns.values()].filter((h): h is string => h !== null))];
      // only the mapped columns are kept: an export's other columns are never read again
      await this.run_(
        `CREATE TEMP TABLE ${raw} AS SELECT ${headers.map(identifier).join(', ')}, CAST(source_file AS ${SOURCE_FILE_TYPE}) AS source_file ` +
          `FROM read_csv(${fileList}, ${CSV_OPTIONS}, filename = 'source_file', ` +
          `store_rejects = true, rejects_table = 'rejects_${index}', rejects_scan = 'reject_scans_${index}')`,
      );
      const fields = ORDER_COLUMNS.map((c) => {
        const header = columns.get(c);
        return `${header ? identifier(header) : 'CAST(NULL AS VARCHAR)'} AS ${c}`;
      });
      // rowid follows the read order (DuckDB preserves insertion order), so it numbers records in a file
      parts.push(
        `SELECT ${fields.join(', ')}, source_file, ` +
          `CAST(rowid - MIN(rowid) OVER (PARTITION BY source_file) + 1 AS INTEGER) AS source_row, ` +
          `CAST(NULL AS VARCHAR) AS raw_line FROM ${raw}`,
      );
      // one row per malformed record (the reader may report several errors for one line)
      parts.push(
        `SELECT ${ORDER_COLUMNS.map((c) => `CAST(NULL AS VARCHAR) AS ${c}`).join(', ')}, CAST(s.file_path AS ${SOURCE_FILE_TYPE}) AS source_file, ` +
          `CAST(e.line AS INTEGER) AS source_row, trim(MIN(e.csv_line), chr(13) || chr(10)) AS raw_line ` +
          `FROM rejects_${index} e JOIN reject_scans_${index} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id ` +
          `GROUP BY s.file_path, e.line`,
      );
      index += 1;
    }
    await this.run_(`CREATE TEMP VIEW orders AS ${parts.join('\nUNION ALL\n')}`);
  }

  private async readHeader(path: string): Promise<string[]> {
    try {
      const reader = await this.connection.runAndReadAll(`DESCRIBE SELECT * FROM read_csv(${sqlString(path)}, ${CSV_OPTIONS}, ignore_errors = true)`);
      return (reader.getColumnsObjectJS().column_name ?? []).map(String);
    } catch (error) {
      throw new InputFileError(path, `cannot be read as a CSV file (${firstLine(error)})`, { cause: error });
    }
  }

  private async run_(sql: string): Promise<void> {
    try {
      await this.connection.run(sql);
    } catch (error) {
      throw await this.explainReadFailure(error);
    }
  }

  /** A scan over many files may fail without naming the file: read them one by one to find it. */
  private async explainReadFailure(error: unknown): Promise<Error> {
    for (const file of this.files) {
      try {
        await this.connection.run(`SELECT COUNT(*) FROM read_csv(${sqlString(file.path)}, ${CSV_OPTIONS}, ignore_errors = true)`);
      } catch (fileError) {
        return new InputFileError(file.path, `cannot be read as a CSV file (${firstLine(fileError)})`, { cause: error });
      }
    }
    return new EngineError(`DuckDB failed: ${firstLine(error)}`, { cause: error });
  }
}
