/**
 * The small interfaces the pipeline needs from the outside world. Adapters implement them: DuckDB
 * or Athena for the engine, a local folder or S3 for the store, a Parquet library for tables.
 */
import type { ColumnSpec } from './schemas/tables.js';
import type { QueryName, SqlParameters } from './sql/index.js';

/**
 * A query's result as columns: index i of every column is row i. An engine may hand a numeric
 * column without nulls over as a typed array (DuckDB does: no boxed number per value).
 */
export interface ResultColumns {
  readonly rowCount: number;
  readonly columns: Readonly<Record<string, ArrayLike<unknown>>>;
}

/** Runs the shared SQL over the input orders, bound as the relation `orders`. */
export interface QueryEngine {
  readonly name: 'duckdb' | 'athena' | 'trino';
  /** Human-readable description of what `orders` is bound to (files, table), for the summary. */
  describeInput(): Promise<InputDescription>;
  run(query: QueryName, params: SqlParameters): Promise<ResultColumns>;
  close(): Promise<void>;
}

export interface InputDescription {
  readonly files: number;
  readonly bytes: number | null;
  readonly location: string;
}

/** Bytes going somewhere, in order: a file, an S3 multipart upload. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where a run's output goes. Everything is written to a staging area first and becomes visible
 * only through `publish`, so a reader never sees half a run (SPEC "Output contract").
 */
export interface OutputStore {
  /** Human-readable root, e.g. `s3://bucket/clv/` or a folder path. */
  readonly location: string;
  /** Starts a run's staging area. Keys given to it are relative to the output root. */
  stage(runId: string): Promise<StagedRun>;
  /** Reads a published object, or null when it does not exist. */
  read(key: string): Promise<Uint8Array | null>;
  /**
   * Writes one object straight under the output root, outside any run and visible at once (a
   * reader sees the old object or the new one): a failed run's quality report, which must be seen
   * although nothing is published.
   */
  putReport(key: string, body: string): Promise<void>;
  /** Run dates that have a published summary, ascending. */
  publishedRunDates(): Promise<string[]>;
  /**
   * Takes the output's run lock so two runs never overlap; throws RunLockedError when another
   * live run holds it. A lock older than `ttlSeconds` is taken over.
   */
  lock(runId: string, ttlSeconds: number): Promise<RunLock>;
}

export interface RunLock {
  release(): Promise<void>;
}

export interface StagedRun {
  /** Opens a sink for a key; the bytes land in staging until publish. */
  open(key: string): Promise<ByteSink>;
  put(key: string, body: Uint8Array | string): Promise<void>;
  /**
   * Makes the staged keys the run date's output: replaces the run date's partitions of every
   * dataset staged, then writes the manifest, the success marker and `latest.json`, last.
   */
  publish(runDate: string, manifest: RunManifest): Promise<void>;
  /** Removes the staging area; the published output is untouched. */
  discard(): Promise<void>;
}

export interface RunManifest {
  readonly runId: string;
  readonly runDate: string;
  readonly files: readonly { readonly key: string; readonly bytes: number; readonly rows: number | null }[];
}

/** Column data for a table: index i of every column is row i; null marks a missing value. */
export type ColumnValues = ArrayLike<number | null> | readonly (string | null)[];

/** Writes tables of the output contract's columns in a columnar file format. */
export interface TableWriter {
  readonly extension: string;
  /** Opens a table file on the sink; rows may be appended in several batches. */
  open(sink: ByteSink, columns: readonly ColumnSpec[]): TableFile;
}

export interface TableFile {
  append(batch: Readonly<Record<string, ColumnValues>>, rows: number): Promise<void>;
  close(): Promise<{ readonly rows: number; readonly bytes: number }>;
}
