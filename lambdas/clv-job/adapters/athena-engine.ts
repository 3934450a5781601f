import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClientConfig,
  type AthenaError,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pMap from 'p-map';
import { EngineError, firstLine } from '../errors.js';
import { READER_METADATA, SOURCE_BYTES_METADATA, isHidden } from '../ingest-layout.js';
import { COPY_READER } from '../ingest/reader-version.js';
import { RESULT_NUMBER_COLUMNS } from '../pipeline/engine-results.js';
import { parseAthenaCsv } from './athena-result-csv.js';
import { isMissing } from './s3-missing.js';
import { canonicalOrdersBinding, publishedCustomersBinding } from './canonical-orders-binding.js';
import type { InputDescription, NumberColumnKind, PreviousCustomers, QueryEngine, ResultColumns } from '../ports.js';
import { inlineQuery, NO_PREVIOUS_CUSTOMERS, type QueryName, type SqlParameters } from '../sql/index.js';

/**
 * Athena refused or gave up on a query: FAILED, CANCELLED, or still running at the deadline.
 * Carries what an operator needs to look the query up in the console.
 */
export class AthenaQueryError extends EngineError {
  constructor(
    readonly query: QueryName,
    /** Null when Athena refused the query before giving it an id. */
    readonly queryExecutionId: string | null,
    readonly state: string,
    readonly reason: string,
    options?: { cause?: unknown; athenaError?: AthenaError },
  ) {
    super(`Athena query ${query}${queryExecutionId ? ` (${queryExecutionId})` : ''} ${state}: ${reason}`, {
      cause: options?.cause,
      transient: isAthenaFailureOfTheMoment(state, reason, options?.athenaError),
    });
  }
}

/** Athena's ErrorCategory for a failure of the service, not of the query or its data (1 SYSTEM, 2 USER, 3 OTHER). */
const SYSTEM_ERROR_CATEGORY = 1;
/** ErrorType 0 to 8 all mean "Query exhausted resources at this scale factor" (the Athena error catalogue). */
const LAST_EXHAUSTED_RESOURCES_ERROR_TYPE = 8;

/**
 * Whether an Athena query ended for a reason of the moment (EngineError.transient) rather than of
 * the data it read. `state` is Athena's (or REFUSED, TIMED_OUT: see AthenaQueryError), `reason` its
 * StateChangeReason, `athenaError` the `Status.AthenaError` GetQueryExecution gives a query that
 * FAILED (the Athena API reference: ErrorCategory 1 SYSTEM, 2 USER, 3 OTHER; ErrorType; Retryable).
 * A query refused, cancelled or timed out never read its data to its end: of the moment. A FAILED one
 * is when Athena says it may succeed if resubmitted (Retryable), blames itself (SYSTEM), or ran out of
 * resources (ErrorType 0-8, or that message when Athena gives no AthenaError). Anything else it
 * failed on, a damaged file (HIVE_BAD_DATA ...) among them, says something of the data.
 */
export const isAthenaFailureOfTheMoment = (state: string, reason: string, athenaError?: AthenaError): boolean => {
  if (state === 'SUCCEEDED') return false;
  if (state !== 'FAILED') return true;
  const exhausted = athenaError?.ErrorType !== undefined && athenaError.ErrorType <= LAST_EXHAUSTED_RESOURCES_ERROR_TYPE;
  return athenaError?.Retryable === true || athenaError?.ErrorCategory === SYSTEM_ERROR_CATEGORY || exhausted || reason.includes('Query exhausted resources at this scale factor');
};

/**
 * Client settings for the job: the SDK's adaptive retry mode rate-limits the client itself once
 * Athena throttles (StartQueryExecution and GetQueryExecution have low per-account rates), and
 * retries throttling and transient errors with exponential backoff, up to `maxAttempts` calls.
 * The endpoint and credentials come from the SDK's standard chain (`AWS_ENDPOINT_URL_ATHENA`).
 */
export const ATHENA_CLIENT_DEFAULTS = { maxAttempts: 8, retryMode: 'adaptive' } as const satisfies AthenaClientConfig;

export interface AthenaEngineOptions {
  readonly athena: AthenaClient;
  /** Reads the result files Athena writes, and lists the input location for describeInput. */
  readonly s3: S3Client;
  readonly database: string;
  /** The Glue table of canonical orders (Parquet over `ingested/`, CANONICAL_ORDER_COLUMNS). */
  readonly table: string;
  /**
   * The Glue table of published customers (the stack's, over the output's `customers/`): the
   * previous run's customers are read through its partitions of that run date.
   * @default 'customers'
   */
  readonly customersTable?: string;
  readonly workgroup: string;
  /** The table's LOCATION, `s3://bucket/prefix/`: described in the summary, never queried directly. */
  readonly inputLocation: string;
  /**
   * Further `s3://bucket/prefix/` locations whose objects are part of inputVersion: the quarantine's
   * records, which change as a drop is read (an export left out while it is read, back in after).
   * @default none
   */
  readonly watchedLocations?: readonly string[];
  /**
   * Where Athena writes results. Leave unset when the workgroup enforces its own (the CDK stack's does).
   * @default - the workgroup's result location
   */
  readonly resultLocation?: string;
  /** @default 200 ms, doubling */
  readonly pollInitialMs?: number;
  /** @default 5000 ms */
  readonly pollMaxMs?: number;
  /**
   * A query still running after this long is stopped and fails the run; it must leave the Lambda
   * time to fit, write and publish.
   * @default 10 minutes
   */
  readonly queryTimeoutMs?: number;
  /**
   * The time (epoch ms) by which every query must have ended, or null for none: the Lambda's end less
   * the time to fit, write and publish, set per invocation. A query still running then is stopped
   * (left, it would outlive the function and scan on, with the lock held until its time-to-live). The
   * earlier of this and queryTimeoutMs wins.
   * @default none
   */
  readonly deadline?: () => number | null;
  /** Passed in so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** An object as a listing gives it: what inputVersion hashes. */
interface ListedObject {
  readonly key: string;
  readonly etag: string;
  readonly modified: string;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
/** HEADs of canonical copies in flight at once when the input is described (one per export). */
const DESCRIBE_CONCURRENCY = 16;

export const parseS3Uri = (uri: string): { bucket: string; key: string } => {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match?.[1]) throw new EngineError(`${uri} is not an s3://bucket/key location`);
  return { bucket: match[1], key: match[2] ?? '' };
};

/**
 * The production engine. Runs each query of the shared SQL as one statement, its relations
 * inlined as common table expressions over the Glue table, and reads the result CSV Athena leaves
 * in S3 as a stream: paging GetQueryResults (1000 rows a call) would take minutes at a million
 * customers.
 */
export class AthenaEngine implements QueryEngine {
  readonly name = 'athena';
  /** `orders` as the shared SQL expects it: the canonical columns ingest wrote, by name. */
  readonly ordersBinding: string;
  /** `previous_customers` as bound by bindPrevious: none until a run binds its previous run. */
  private previousBinding = NO_PREVIOUS_CUSTOMERS;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AthenaEngineOptions) {
    this.ordersBinding = canonicalOrdersBinding(options.database, options.table);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * The table and its location, with the files Athena reads under it and their exports' bytes (each
   * canonical copy's SOURCE_BYTES_METADATA, one HEAD per file): what the local run counts, so the
   * summaries agree. Null bytes when a copy does not carry them (ingested by another tool).
   */
  async describeInput(): Promise<InputDescription> {
    const { bucket } = parseS3Uri(this.options.inputLocation);
    const keys = (await this.listInput()).map((object) => object.key);
    // a copy removed since the listing (a re-drop that quarantined) has no size to tell: the bytes are then unknown
    const metadata = await pMap(
      keys,
      async (key) =>
        (await this.options.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => (isMissing(error) ? null : Promise.reject(error))))
          ?.Metadata ?? null,
      { concurrency: DESCRIBE_CONCURRENCY },
    );
    const sizes = metadata.map((m) => Number(m?.[SOURCE_BYTES_METADATA] ?? Number.NaN));
    const bytes = sizes.every((size) => Number.isSafeInteger(size) && size >= 0) ? sizes.reduce((sum, size) => sum + size, 0) : null;
    // made by another reader (an older deploy's, or one that named none): the laptop would read those exports again
    const staleCopies = keys.filter((_, i) => metadata[i] !== null && metadata[i]?.[READER_METADATA] !== COPY_READER);
    return { files: keys.length, bytes, location: `${this.options.database}.${this.options.table} (${this.options.inputLocation})`, staleCopies };
  }

  /**
   * The canonical copies under the table's location, and the objects under `watchedLocations`, each
   * with its ETag and last-modified time, hashed: a drop, a re-drop or a removal changes it, and so
   * does a copy removed and written again with the same bytes (a night reading in between missed it).
   */
  async inputVersion(): Promise<string> {
    const hash = createHash('sha256');
    for (const location of [this.options.inputLocation, ...(this.options.watchedLocations ?? [])]) {
      const hidden = location === this.options.inputLocation;
      for (const { key, etag, modified } of await this.listObjects(location, hidden)) hash.update(`${key}\0${etag}\0${modified}\n`);
    }
    return hash.digest('hex');
  }

  /** The canonical copies under the table's location (hidden keys left out, as Athena leaves them), in key order. */
  private listInput(): Promise<readonly ListedObject[]> {
    return this.listObjects(this.options.inputLocation, true);
  }

  /** The objects under an `s3://bucket/prefix/` location, in key order; with `hideHidden`, those Athena reads only. */
  private async listObjects(location: string, hideHidden: boolean): Promise<ListedObject[]> {
    const { bucket, key: prefix } = parseS3Uri(location);
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key && !(hideHidden && isHidden(object.Key.slice(prefix.length)))) {
          objects.push({ key: object.Key, etag: object.ETag ?? '', modified: object.LastModified?.toISOString() ?? '' });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async run(query: QueryName, params: SqlParameters): Promise<ResultColumns> {
    const sql = inlineQuery(query, params, this.ordersBinding, this.previousBinding);
    const id = await this.start(query, sql);
    const execution = await this.waitFor(query, id);
    const location = execution.ResultConfiguration?.OutputLocation;
    if (!location) throw new AthenaQueryError(query, id, 'SUCCEEDED', 'Athena reported no result location');
    try {
      const { bucket, key } = parseS3Uri(location);
      const object = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!object.Body) throw new Error('the result object has no body');
      return await readResultCsv(object.Body as Readable, query);
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw new EngineError(`cannot read the result of Athena query ${query} (${id}) at ${location}: ${firstLine(error)}`, { cause: error, transient: true });
    }
  }

  /** The Glue customers table's partitions of the previous run date (the files' locations are not needed: the partitions point at them). */
  async bindPrevious(previous: PreviousCustomers | null): Promise<void> {
    this.previousBinding = publishedCustomersBinding(this.options.database, this.options.customersTable ?? 'customers', previous);
  }

  async release(): Promise<void> {
    // each query inlines its relations: nothing is kept between queries
  }

  async close(): Promise<void> {
    // the clients belong to the composition root, which may share them
  }

  private async start(query: QueryName, sql: string): Promise<string> {
    try {
      // The SDK fills ClientRequestToken, so a retried start cannot launch the query twice.
      const started = await this.options.athena.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: this.options.workgroup,
          QueryExecutionContext: { Database: this.options.database },
          ...(this.options.resultLocation ? { ResultConfiguration: { OutputLocation: this.options.resultLocation } } : {}),
        }),
      );
      if (!started.QueryExecutionId) throw new Error('no query execution id in the response');
      return started.QueryExecutionId;
    } catch (error) {
      throw new AthenaQueryError(query, null, 'REFUSED', firstLine(error), { cause: error });
    }
  }

  /** Polls with exponential backoff until the query ends or the deadline passes. */
  private async waitFor(query: QueryName, id: string): Promise<QueryExecution> {
    const started = Date.now();
    const deadline = Math.min(started + (this.options.queryTimeoutMs ?? 10 * 60_000), this.options.deadline?.() ?? Number.POSITIVE_INFINITY);
    let delay = this.options.pollInitialMs ?? 200;
    const maxDelay = this.options.pollMaxMs ?? 5_000;
    for (;;) {
      const { QueryExecution: execution } = await this.options.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State ?? 'UNKNOWN';
      if (state === 'SUCCEEDED') return execution!;
      if (TERMINAL.has(state)) {
        const status = execution?.Status;
        throw new AthenaQueryError(query, id, state, status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage ?? 'no reason given', { athenaError: status?.AthenaError });
      }
      if (Date.now() + delay > deadline) {
        await this.options.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
        throw new AthenaQueryError(query, id, 'TIMED_OUT', `still ${state} after ${Math.round((Date.now() - started) / 1000)} s; stopped`);
      }
      await this.sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

/** RESULT_NUMBER_COLUMNS looked up by any query's name (most have no number columns kept as numbers). */
const NUMBER_COLUMNS: Partial<Record<QueryName, Readonly<Record<string, NumberColumnKind>>>> = RESULT_NUMBER_COLUMNS;

/**
 * An Athena result CSV as columns. Athena quotes every value and writes NULL as an empty unquoted
 * field, so the two stay apart: `""` is an empty string, an empty unquoted field is null. Values
 * stay strings, but for the number columns of `query`'s result (RESULT_NUMBER_COLUMNS,
 * pipeline/engine-results.ts: those of the results that grow with the customers), which come as
 * Int32Array or Float64Array, never held as text; the pipeline's decoders check and convert them alike.
 * Streaming: the body is parsed as it arrives, so a large result never sits whole in memory (see
 * parseAthenaCsv). Throws an EngineError for a malformed file.
 */
export const readResultCsv = (source: Readable | AsyncIterable<Uint8Array | string>, query?: QueryName): Promise<ResultColumns> =>
  parseAthenaCsv(source, query === undefined ? {} : NUMBER_COLUMNS[query]);
