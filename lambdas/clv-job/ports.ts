/**
 * The small interfaces the pipeline needs from the outside world. Adapters implement them: DuckDB
 * or Athena for the engine, a local folder or S3 for the store, a Parquet library for tables.
 */
import type { SpendRecord } from './domain/acquisition/spend.js';
import type { ManifestRead } from './schemas/manifest.js';
import type { ColumnSpec } from './schemas/tables.js';
import type { QueryName, SqlParameters } from './sql/index.js';
import type { CustomerIntervals, IntervalJob } from './domain/models/uncertainty.js';
import type { FitTimeOptions } from './domain/models/bg-nbd.js';
import type { ParetoNbdData, ParetoNbdFit } from './domain/models/pareto-nbd.js';
import type { GammaGammaData, GammaGammaFit } from './domain/models/gamma-gamma.js';
import type { AudienceChunk, AudienceLists, PatternScores } from './pipeline/audience-csv.js';

/**
 * A query's result as columns: index i of every column is row i. An engine may hand a numeric
 * column without nulls over as a typed array (DuckDB does: no boxed number per value).
 */
export interface ResultColumns {
  readonly rowCount: number;
  readonly columns: Readonly<Record<string, ArrayLike<unknown>>>;
}

/** A number column's type, as the SQL casts it: INTEGER (Int32Array) or DOUBLE (Float64Array). */
export type NumberColumnKind = 'int32' | 'float64';

/** Runs the shared SQL over the input orders, bound as the relation `orders`. */
export interface QueryEngine {
  readonly name: 'duckdb' | 'athena' | 'trino';
  /** Human-readable description of what `orders` is bound to (files, table), for the summary. */
  describeInput(): Promise<InputDescription>;
  /**
   * What identifies the input the queries read now: the exports' canonical copies, each with its
   * version. The same before and after the night's queries unless an export was dropped, replaced or
   * removed in between (ingest runs whenever a file lands); null when the engine cannot tell (a
   * team's own Trino table), and then nothing is checked.
   */
  inputVersion(): Promise<string | null>;
  run(query: QueryName, params: SqlParameters): Promise<ResultColumns>;
  /**
   * Binds `previous_customers` (sql/index.ts) to the previous published run's customers, or to the
   * empty relation (null: no previous run, or one without customers; the binding an engine starts
   * with). Queries asked afterwards read it.
   * Throws EngineError when the engine cannot read them where the store keeps them (then, or at
   * the first query that reads them).
   */
  bindPrevious(previous: PreviousCustomers | null): Promise<void>;
  /**
   * Frees what the engine keeps between queries, once a run has read what it needs (DuckDB's
   * materialised relations: `customers`, ~140 MB at 1 M customers after the query stage's last
   * query, held otherwise through the model and write stages); a later query builds again what it
   * needs. An engine that keeps nothing does nothing.
   */
  release(): Promise<void>;
  close(): Promise<void>;
}

/** Where the previous published run's customers are: its run date and its `customers` files. */
export interface PreviousCustomers {
  readonly runDate: string;
  /**
   * Each published customers file's location as PublishedNight.locationOf gives it (a path or an
   * `s3://` URL); at least one: a run without customers has none to bind (null).
   */
  readonly files: readonly [string, ...string[]];
}

export interface InputDescription {
  readonly files: number;
  /** The exports' bytes as read from disk or dropped (not their canonical copies': those vary with DuckDB's threads); null when unknown. */
  readonly bytes: number | null;
  readonly location: string;
  /**
   * Inputs read by another version of the ingest's reader than this job's (their keys), which this
   * version may read otherwise: on S3, canonical copies made before a deploy that changed the reader.
   * Left out where every input is read by this job (locally: the cache is keyed by the reader).
   */
  readonly staleCopies?: readonly string[];
}

/** Bytes going somewhere, in order: a file, an S3 multipart upload. */
export interface ByteSink {
  /**
   * Resolves once the sink is done with `chunk` (unless {@link keepsChunks}): the caller may then
   * change or reuse its memory (e.g. a worker's shared buffer, adapters/worker-audiences.ts)
   * without the change reaching the output.
   */
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /**
   * True when the sink may still read a chunk after its write resolved (an S3 upload keeps what it
   * reads until its part is sent): a caller that reuses a chunk's memory writes a copy instead.
   */
  readonly keepsChunks?: boolean;
}

/**
 * Where a run's output goes. A run writes its files once, under a run-scoped location, and they
 * become visible through one switch per run date in `publish` (SPEC "Output contract"), so a
 * reader sees the previous version of a night or the new one, never half of either.
 */
export interface OutputStore {
  /** Human-readable root, e.g. `s3://bucket/clv/` or a folder path. */
  readonly location: string;
  /** Opens a run's run-scoped write area. Keys given to it are relative to the output root. */
  stage(runId: string): Promise<StagedRun>;
  /** Reads a published object (as readers see it), or null when it does not exist. */
  read(key: string): Promise<Uint8Array | null>;
  /**
   * A published night as readers see it now, its manifest read once (on S3 the commit point, which
   * names the run its files are in): the manifest or what is wrong with it, and its files' reader.
   */
  publishedNight(runDate: string): Promise<PublishedNight>;
  /**
   * Writes one object straight under the output root, outside any run and visible at once (a
   * reader sees the old object or the new one): a failed run's quality report, which must be seen
   * although nothing is published.
   */
  putReport(key: string, body: string): Promise<void>;
  /** Removes an object putReport wrote (a failed run's report, once its night is published after all); nothing when it is not there. */
  removeReport(key: string): Promise<void>;
  /** Run dates that have a published version, ascending. */
  publishedRunDates(): Promise<string[]>;
  /** Run dates that have a quality report (`_quality/run_date=D/`, written by putReport), ascending; one listing. */
  qualityReportDates(): Promise<string[]>;
  /**
   * Takes the output's run lock so two runs never overlap; throws RunLockedError when another
   * live run holds it. A lock whose holder is gone, or older than `ttlSeconds`, is taken over.
   */
  lock(runId: string, ttlSeconds: number): Promise<RunLock>;
  /**
   * Rolls a publish that a crash interrupted forward (its switch happened) or back (it did not),
   * then removes dead staging and previous versions past their retention. Call it holding the
   * lock, before anything else.
   */
  recover(): Promise<RecoveryReport>;
  /**
   * Switches a run date back to the version its current one replaced. Holding the lock.
   * Throws ClvError when no previous version is kept.
   */
  rollback(runDate: string): Promise<PublishOutcome>;
}

/** A published night, through its manifest as read once (OutputStore.publishedNight). */
export type PublishedNight = ManifestRead & {
  /** One of its files' bytes (a key relative to the output root); null when absent, or when its files cannot be found without its manifest (S3). */
  read(key: string): Promise<Uint8Array | null>;
  /** Where an engine reads one of its files (a path, or an `s3://` URL); null when they cannot be found without its manifest (S3). Nothing is read. */
  locationOf(key: string): string | null;
};

export interface RunLock {
  release(): Promise<void>;
}

export interface StagedRun {
  readonly runId: string;
  /**
   * The run-scoped location of a key (a folder path or an `s3://` URL): where this run's copy of
   * the key goes, so an engine can write a dataset there itself (DuckDB COPY, Athena UNLOAD).
   */
  locationOf(key: string): string;
  /** Opens a sink for a key; the bytes land in the run-scoped location, invisible until publish. */
  open(key: string): Promise<ByteSink>;
  put(key: string, body: Uint8Array | string): Promise<void>;
  /**
   * Writes the manifest and `_SUCCESS` into the run, then switches the run date over to it.
   * Throws PublishError when the switch did not happen (the previous version stays as it was);
   * a failure after the switch is returned as a warning: the run is published.
   */
  publish(runDate: string, manifest: RunManifest): Promise<PublishOutcome>;
  /** Removes the run's files when it was not published; the published output is untouched. */
  discard(): Promise<void>;
}

/** A publish or rollback whose switch happened; warnings name clean-up that did not. */
export interface PublishOutcome {
  readonly runId: string;
  readonly runDate: string;
  readonly warnings: readonly string[];
}

/** What recovery did (one line each) and what it could not do. */
export interface RecoveryReport {
  readonly actions: readonly string[];
  readonly warnings: readonly string[];
  /** The run dates whose interrupted publish or rollback this recovery finished (rolled forward): their clean-up is the caller's too. */
  readonly switched?: readonly string[];
  /** True when an interrupted publish or rollback could be neither finished nor undone (its intent stays): no run may publish until one is. */
  readonly unfinished?: boolean;
}

export interface RunManifest {
  readonly runId: string;
  readonly runDate: string;
  readonly files: readonly { readonly key: string; readonly bytes: number; readonly rows: number | null }[];
}

/** Column data for a table: index i of every column is row i; null marks a missing value. */
export type ColumnValues = ArrayLike<number | null> | readonly (string | null)[] | readonly (boolean | null)[];

/**
 * A column read through row numbers: row i of the batch is `values[rows[i]]`, so a subset or a
 * reordering of a column is written without a copy of it. `values` null: the column is null in
 * every row.
 */
export interface ColumnRows {
  readonly values: ColumnValues | null;
  readonly rows: Int32Array;
}

/** Writes tables of the output contract's columns in a columnar file format. */
export interface TableWriter {
  readonly extension: string;
  /** Opens a table file on the sink; rows may be appended in several batches. */
  open(sink: ByteSink, columns: readonly ColumnSpec[]): TableFile;
}

export interface TableFile {
  /** Throws when a column has not `rows` values, or reads a row number outside its values. */
  append(batch: Readonly<Record<string, ColumnValues | ColumnRows>>, rows: number): Promise<void>;
  close(): Promise<{ readonly rows: number; readonly bytes: number }>;
}

/** An object's identity when it was read: what a canonical copy was made from. */
export interface ObjectVersion {
  readonly bytes: number;
  readonly etag: string | null;
  readonly versionId: string | null;
}

/**
 * The bucket the exports are dropped in, as the ingest stage needs it. Whole objects travel between
 * it and local files as streams: an export of gigabytes never sits in memory.
 */
export interface DropBucket {
  /** Human-readable root, e.g. `s3://bucket/`; `location + key` names an object. */
  readonly location: string;
  /** Streams the object to a local file; null when it does not exist (any more). */
  download(key: string, path: string): Promise<ObjectVersion | null>;
  /** Streams a local file to the key, replacing what was there. */
  upload(key: string, path: string, metadata?: Readonly<Record<string, string>>): Promise<void>;
  putJson(key: string, value: unknown): Promise<void>;
  /** The object the key holds now (its size, ETag and version id), or null when it holds none. */
  head(key: string): Promise<ObjectVersion | null>;
  /** The user metadata (as `upload` was given it; names lower case) of the object the key holds now, or null when it holds none. */
  metadata(key: string): Promise<Readonly<Record<string, string>> | null>;
  /** Removes the keys; keys that do not exist are fine. */
  remove(keys: readonly string[]): Promise<void>;
  /** Every key under the prefix, ascending. */
  list(prefix: string): Promise<string[]>;
}

/** Tells people something now (an SNS topic the data team subscribes to). */
export interface Notifier {
  notify(subject: string, message: string): Promise<void>;
}

/** The spend files read (in the order their records come) and their records. */
export interface SpendRead {
  readonly sources: readonly string[];
  readonly records: readonly SpendRecord[];
}

/** The optional marketing-spend input (`channel`, `month`, `spend` CSV files): every record of every file, as text. */
export interface SpendSource {
  /** Where it is read from, for messages (a path or s3:// URL). */
  readonly location: string;
  /**
   * Every spend file's records; null when the location holds no spend file at all (a drop that has
   * not arrived: the run goes on without spend and says so). Throws InputFileError for a file that is
   * no spend CSV.
   */
  read(): Promise<SpendRead | null>;
}

/**
 * Computes the per-customer intervals of a job (domain/models/uncertainty.ts): in this thread, or
 * with its phases' ranges split over worker threads. The numbers are the same either way, bit for
 * bit. Rejects with the domain's RangeError for invalid input, or a clear error when a thread fails.
 */
export interface IntervalRunner {
  /** Gets ready ahead of the job (e.g. starts threads while the run queries), without keeping the process alive. */
  start?(): void;
  /**
   * fitParetoNbd(data, time) beside this thread (e.g. on one of the threads started ahead), while the
   * caller fits the other models: the same fit, bit for bit. Throws the domain's RangeError for
   * invalid data, or a clear error when a thread fails.
   */
  fitParetoNbd?(data: ParetoNbdData, time?: FitTimeOptions): Promise<ParetoNbdFit>;
  /** fitGammaGamma(data) likewise, when no Pareto/NBD is fitted beside this thread: the same fit, bit for bit. */
  fitGammaGamma?(data: GammaGammaData): Promise<GammaGammaFit>;
  intervals(job: IntervalJob): Promise<CustomerIntervals>;
}

/**
 * Builds the audience CSVs' bytes (pipeline/audience-csv.ts audienceChunks), in this thread or on a
 * worker thread while this one writes other files: the same chunks, byte for byte, either way. One
 * run's audiences are one job ({@link AudienceCsvJob}), started with the scores of its rows: a job
 * builds only from its own scores, so a builder kept between runs (a warm Lambda container's) cannot
 * serve a run the scores of another.
 */
export interface AudienceCsvBuilder {
  /**
   * Starts a run's job, given the scores per pattern of its rows (e.g. a thread started and turning
   * them to text while the run segments), without keeping the process alive. A builder has one job
   * at a time: starting one closes the job before it, if still open.
   */
  start(scores: PatternScores): AudienceCsvJob;
}

/**
 * One run's audiences (AudienceCsvBuilder.start). The chunks come as they are built; the builder may
 * wait for the caller to take them before building more, so the bytes in flight stay a few chunks.
 * A chunk's bytes are the caller's only until it asks for the next chunk (a worker's builder reuses
 * shared memory): write them first (ByteSink.write resolves once the sink is done with them).
 */
export interface AudienceCsvJob {
  /**
   * The rows' chunks, built with the job's scores (their own, given to `start`: not sent again).
   * Once per job. Rejects with a clear error when a thread fails, when a row's scoring pattern is
   * not one of the job's scores, and when the job's chunks were already asked for or it was closed.
   */
  chunks(rows: AudienceLists): AsyncIterable<AudienceChunk>;
  /** Ends the job whatever it did (e.g. the run failed before its chunks): its thread stops, and its `chunks` refuse. Never rejects. */
  close(): Promise<void>;
}
