import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { EngineError, firstLine } from '../errors.js';
import type { InputDescription, PreviousCustomers, QueryEngine, ResultColumns } from '../ports.js';
import { CANONICAL_ORDER_COLUMNS, type CanonicalColumnType } from '../schemas/tables.js';
import {
  INPUTS_OF,
  NO_PREVIOUS_CUSTOMERS,
  QUERIES,
  READS_OF,
  RELATIONS,
  relationsFor,
  renderSql,
  type QueryName,
  type RelationName,
  type SqlParameters,
} from '../sql/index.js';
import { readResultColumns } from './duckdb-result.js';
import { removeAbandonedScratch, scratchName } from './scratch-folder.js';
import { compareUtf8 } from './utf8-order.js';

/** The spill folders the engine makes for itself under os.tmpdir() (see scratch-folder.ts). */
const DUCKDB_SCRATCH_PREFIX = 'clv-duckdb-';

/** The type of `orders.source_file` (see bindOrders). */
const SOURCE_FILE_TYPE = 'source_file_name';

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** Trino functions the shared SQL uses that DuckDB lacks, defined under Trino's names. */
export const TRINO_FUNCTION_MACROS = [
  'CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)',
  'CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
] as const;

/** One ingested export: its canonical Parquet file and what it was ingested from. */
export interface CanonicalFile {
  /** The canonical Parquet file ingestExport wrote. */
  readonly path: string;
  /** The export's key or path, as its rows record it in `source_file`. */
  readonly source: string;
  /** Bytes of the export as dropped (for the summary's inputs). */
  readonly bytes: number;
}

export interface DuckDbEngineOptions {
  /** The ingested exports: `orders` is the union of their canonical rows. */
  readonly files: readonly CanonicalFile[];
  /** DuckDB worker threads. @default the cores Node may use (os.availableParallelism()) */
  readonly threads?: number;
  /**
   * e.g. `'2GB'`: bounds DuckDB's buffer memory, spilling to a temporary folder beyond it.
   * @default half the machine's memory, at most {@link DEFAULT_MEMORY_LIMIT_MB} (DuckDB's own
   * default, 80%, leaves too little for the JavaScript heap that holds the customer columns after the queries)
   */
  readonly memoryLimit?: string;
  /** Where DuckDB spills. @default a folder of its own under os.tmpdir(), removed on close (DuckDB's default is `.tmp` in the working directory) */
  readonly tempDirectory?: string;
}

/**
 * DuckDB's buffer memory at most, by default (MB). Unbounded (half of a 24 GB machine) the query
 * stage took 3.0-3.1 GB of RSS at 5 M customers (bench data c5000000-s1: `classified`, then
 * `purchase_days` and `customers` built from it), over the issue's 2.5 GB for the whole run;
 * bounded here DuckDB spills the rest to its temporary folder and the stage's peak, the customers'
 * columns decoded while DuckDB holds `customers` included, is ~2.2 GB (the queries ~15% more CPU
 * there). At 1 M customers DuckDB stays below it (the run's peak is ~0.9 GB): nothing spills.
 */
export const DEFAULT_MEMORY_LIMIT_MB = 2048;

/**
 * The engine's settings: the options' (see DuckDbEngineOptions), or their defaults, and
 * `allocator_background_threads`. DuckDB's allocator keeps the pages it frees (the relations
 * release() drops) until a later allocation of its own purges them, and the run allocates nothing
 * in DuckDB after its queries: what the query stage had used stayed in the process through the
 * model, segment and write stages, under the JavaScript columns (~700 MB at 1 M customers when this
 * was measured; the write stage's RSS as high as the query stage's). A background thread returns
 * it to the OS within a second.
 */
export const duckDbSettings = (options: Pick<DuckDbEngineOptions, 'threads' | 'memoryLimit' | 'tempDirectory'>): Record<string, string> => ({
  threads: String(options.threads ?? availableParallelism()),
  memory_limit: options.memoryLimit ?? `${Math.min(DEFAULT_MEMORY_LIMIT_MB, Math.floor(totalmem() / 2 / 2 ** 20))}MB`,
  temp_directory: options.tempDirectory ?? join(tmpdir(), `${scratchName(DUCKDB_SCRATCH_PREFIX)}${Date.now()}`),
  allocator_background_threads: 'true',
});

/**
 * Whether DuckDB failed for a reason of the moment (EngineError.transient) rather than of the files
 * it read. DuckDB names its error type first, and these were seen by causing them (DuckDB 1.5):
 * - `Out of Memory Error: could not allocate block ...` past `memory_limit`, and `Out of Memory
 *   Error: failed to offload data block ...` when the spill folder's disk has no room left when
 *   DuckDB starts to spill (it caps its spill at the free space it sees then);
 * - `IO Error: Could not write file "<spill file>": No space left on device` when the disk fills
 *   while DuckDB spills (another process writing to it: a full /tmp is of the moment).
 * A damaged Parquet file is not of the moment: `Invalid Input Error: No magic bytes found at end of
 * file ...` (cut short), `... too small to be a Parquet file` (empty), `Invalid Input Error: Failed
 * to read file ...: Snappy decompression failure` (overwritten pages); nor is a missing one
 * (`IO Error: No files found that match the pattern ...`).
 */
export const isDuckDbErrorOfTheMoment = (error: unknown): boolean => {
  const message = firstLine(error);
  return message.startsWith('Out of Memory Error') || (message.startsWith('IO Error') && message.endsWith('No space left on device'));
};

/** `what` failed: an EngineError saying why in DuckDB's first line, transient when isDuckDbErrorOfTheMoment. */
const duckDbFailure = (what: string, error: unknown): EngineError =>
  new EngineError(`${what}: ${firstLine(error)}`, { cause: error, transient: isDuckDbErrorOfTheMoment(error) });

/**
 * The local engine. Binds the canonical files ingest wrote as `orders` and runs the shared SQL.
 * Trino functions DuckDB lacks are defined as macros of the same name, never by forking the SQL.
 * The relations are materialised as temporary tables, and a query that reads relations keeps only
 * those (see hold): a run asks `classified`'s queries first, then those of the relations built on it.
 */
export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb';
  /** Each materialised relation, with the SQL it was built from (its own and its inputs', rendered). */
  private readonly materialised = new Map<RelationName, string>();

  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly instance: DuckDBInstance,
    private readonly files: readonly CanonicalFile[],
    /** The spill folder the engine made up for itself, removed on close; null when the caller chose it. */
    private readonly ownTempDirectory: string | null,
  ) {}

  static async open(options: DuckDbEngineOptions): Promise<DuckDbEngine> {
    // the spill folders of runs killed while DuckDB spilled (at 20 M customers, gigabytes each)
    if (options.tempDirectory === undefined) await removeAbandonedScratch(tmpdir(), DUCKDB_SCRATCH_PREFIX);
    const config = duckDbSettings(options);
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    const engine = new DuckDbEngine(connection, instance, options.files, options.tempDirectory === undefined ? config.temp_directory! : null);
    try {
      for (const macro of TRINO_FUNCTION_MACROS) await connection.run(macro);
      await engine.bindOrders();
      await engine.bindPrevious(null);
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
      location: this.files.length === 1 ? (this.files[0]?.source ?? '') : `${this.files.length} local files`,
    };
  }

  /** The canonical files are ingested before the engine opens, and it reads no other: one version. */
  async inputVersion(): Promise<string> {
    return this.files.map((f) => f.path).join('\n');
  }

  async run(query: QueryName, params: SqlParameters): Promise<ResultColumns> {
    await this.hold(READS_OF[query], params);
    try {
      return await readResultColumns(await this.connection.stream(renderSql(QUERIES[query], params)));
    } catch (error) {
      throw duckDbFailure(`DuckDB failed on query ${query}`, error);
    }
  }

  /**
   * `previous_customers` is a view over the previous run's published customers files, read by
   * column name when a query reads it (the join streams them: they never sit in JavaScript).
   * DuckDB reads the files' footers here: a missing or unreadable file throws an EngineError now.
   */
  async bindPrevious(previous: PreviousCustomers | null): Promise<void> {
    const relation =
      previous === null
        ? NO_PREVIOUS_CUSTOMERS
        : `SELECT customer_id, clv_tier, rfm_segment FROM read_parquet([${previous.files.map(sqlString).join(', ')}])`;
    try {
      await this.connection.run(`CREATE OR REPLACE TEMP VIEW previous_customers AS ${relation}`);
    } catch (error) {
      throw duckDbFailure(`DuckDB cannot read the previous run's customers (${previous?.runDate})`, error);
    }
  }

  /** Drops the materialised relations, returning their memory to DuckDB. */
  async release(): Promise<void> {
    await this.dropAllBut(new Set());
  }

  /** The relations materialised now, as DuckDB lists its temporary tables. */
  async heldRelations(): Promise<string[]> {
    const reader = await this.connection.runAndReadAll('SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY table_name');
    return reader.getRows().map((row) => String(row[0]));
  }

  /** Bytes DuckDB holds in in-memory tables (duckdb_memory(), tag IN_MEMORY_TABLE): what release() frees. */
  async tableMemoryBytes(): Promise<number> {
    const reader = await this.connection.runAndReadAll("SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'");
    return Number(reader.getRows()[0]?.[0] ?? 0);
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    if (this.ownTempDirectory !== null) await rm(this.ownTempDirectory, { recursive: true, force: true });
  }

  /**
   * Materialises the relations a query reads, each once per parameter set, and drops every other
   * one as soon as nothing left to build needs it: at 1 M customers `classified` is ~290 MB and
   * `purchase_days` ~150 MB of DuckDB's memory, which the customers' columns were read on top of.
   * A query that reads no relation (inputRows, latestOrderDate) leaves them all as they are.
   * A relation dropped and asked for again is built again: the results never depend on the order.
   */
  private async hold(reads: readonly RelationName[], params: SqlParameters): Promise<void> {
    if (reads.length === 0) return;
    const sqlOf = new Map(relationsFor(reads).map((relation) => [relation, renderSql(RELATIONS[relation], params)]));
    const keyOf = (relation: RelationName): string => relationsFor([relation]).map((r) => sqlOf.get(r)).join('\n');
    const current = (relation: RelationName): boolean => this.materialised.get(relation) === keyOf(relation);
    // what is read and not current, and what it is built from that is not current either, inputs first
    const build: RelationName[] = [];
    const need = (relation: RelationName): void => {
      if (current(relation) || build.includes(relation)) return;
      for (const input of INPUTS_OF[relation]) need(input);
      build.push(relation);
    };
    for (const relation of reads) need(relation);
    const wanted = (pending: readonly RelationName[]): Set<RelationName> =>
      new Set([...reads, ...pending.flatMap((relation) => INPUTS_OF[relation])].filter(current));
    await this.dropAllBut(wanted(build));
    for (const [i, relation] of build.entries()) {
      try {
        await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${relation} AS ${sqlOf.get(relation)}`);
      } catch (error) {
        throw duckDbFailure(`DuckDB failed on ${relation}`, error);
      }
      this.materialised.set(relation, keyOf(relation));
      await this.dropAllBut(wanted(build.slice(i + 1)));
    }
  }

  /** Drops the materialised relations not kept. */
  private async dropAllBut(kept: ReadonlySet<RelationName>): Promise<void> {
    for (const relation of [...this.materialised.keys()].reverse()) {
      if (kept.has(relation)) continue;
      try {
        await this.connection.run(`DROP TABLE ${relation}`);
      } catch (error) {
        throw duckDbFailure(`DuckDB failed to drop ${relation}`, error);
      }
      this.materialised.delete(relation);
    }
  }

  /**
   * `orders` is the canonical rows of every file, read by column name. source_file is an ENUM of
   * the sources in byte order, which is how DuckDB orders strings: it sorts the same as the name
   * (the de-duplication orders copies by it) but is one byte a row rather than a copy of the name
   * in every row of every relation and sort built on `orders`.
   */
  private async bindOrders(): Promise<void> {
    const sources = [...new Set(this.files.map((f) => f.source))].sort(compareUtf8);
    const columns = CANONICAL_ORDER_COLUMNS.map((c) => (c.name === 'source_file' ? `CAST(source_file AS ${SOURCE_FILE_TYPE}) AS source_file` : c.name));
    try {
      await this.connection.run(`CREATE TYPE ${SOURCE_FILE_TYPE} AS ENUM (${sources.map(sqlString).join(', ')})`);
      if (this.files.length === 0) {
        const empty = CANONICAL_ORDER_COLUMNS.map((c) => `CAST(NULL AS ${c.name === 'source_file' ? SOURCE_FILE_TYPE : duckType(c.type)}) AS ${c.name}`);
        await this.connection.run(`CREATE TEMP VIEW orders AS SELECT ${empty.join(', ')} WHERE false`);
        return;
      }
      const paths = `[${this.files.map((f) => sqlString(f.path)).join(', ')}]`;
      await this.connection.run(`CREATE TEMP VIEW orders AS SELECT ${columns.join(', ')} FROM read_parquet(${paths})`);
    } catch (error) {
      throw duckDbFailure('DuckDB cannot read the ingested files', error);
    }
  }
}

const duckType = (type: CanonicalColumnType): string =>
  ({ string: 'VARCHAR', bigint: 'BIGINT', date: 'DATE', 'decimal(38,6)': 'DECIMAL(38,6)' })[type];
