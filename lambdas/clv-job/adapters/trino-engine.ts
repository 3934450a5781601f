import type { QueryError, QueryResult, Trino } from 'trino-client';
import { EngineError, firstLine } from '../errors.js';
import type { InputDescription, PreviousCustomers, QueryEngine, ResultColumns } from '../ports.js';
import { inlineQuery, NO_PREVIOUS_CUSTOMERS, type QueryName, type SqlParameters } from '../sql/index.js';
import { canonicalOrdersBinding, publishedCustomersBinding, sqlIdentifier } from './canonical-orders-binding.js';

/** Trino refused or failed a query: carries Trino's query id and error name for the operator. */
export class TrinoQueryError extends EngineError {
  constructor(
    /** The shared query's name, or what else was asked (e.g. `describeInput`). */
    readonly query: string,
    /** Null when the server never gave the query an id (unreachable, refused the request). */
    readonly trinoQueryId: string | null,
    /** Trino's error name, e.g. `TABLE_NOT_FOUND`, or `CONNECTION` when the server could not be reached. */
    readonly errorName: string,
    message: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(`Trino query ${query}${trinoQueryId ? ` (${trinoQueryId})` : ''} failed: ${errorName}: ${message}`, options);
  }
}

/**
 * Trino's errors of the moment outside its INSUFFICIENT_RESOURCES type (StandardErrorCode in
 * trino-spi): the cluster's nodes or its traffic between them (INTERNAL_ERROR), and a query killed,
 * cancelled or abandoned by someone else than its SQL (USER_ERROR).
 */
const TRINO_ERRORS_OF_THE_MOMENT: ReadonlySet<string> = new Set([
  'TOO_MANY_REQUESTS_FAILED',
  'PAGE_TRANSPORT_ERROR',
  'PAGE_TRANSPORT_TIMEOUT',
  'NO_NODES_AVAILABLE',
  'REMOTE_TASK_ERROR',
  'SERVER_SHUTTING_DOWN',
  'SERVER_STARTING_UP',
  'ABANDONED_TASK',
  'OUT_OF_SPILL_SPACE',
  'REMOTE_HOST_GONE',
  'USER_CANCELED',
  'ADMINISTRATIVELY_KILLED',
  'ABANDONED_QUERY',
]);

/**
 * Whether Trino failed a query for a reason of the moment (EngineError.transient) rather than of the
 * data it read. `error` is the `error` of trino-client's QueryResult, Trino's QueryError as its REST
 * protocol sends it: `errorType` is USER_ERROR, INTERNAL_ERROR, INSUFFICIENT_RESOURCES or EXTERNAL.
 * Every INSUFFICIENT_RESOURCES error is of the moment (memory, time, CPU or queue limits:
 * EXCEEDED_GLOBAL_MEMORY_LIMIT, CLUSTER_OUT_OF_MEMORY, QUERY_QUEUE_FULL ...), and so are the names
 * of TRINO_ERRORS_OF_THE_MOMENT. EXTERNAL is not: the Hive connector reports a damaged or missing
 * file under it (HIVE_BAD_DATA, HIVE_CANNOT_OPEN_SPLIT, HIVE_FILE_NOT_FOUND), and its metastore
 * and file system errors may be either: taken for damage they cost one night its movers, with a
 * warning; damage taken for the moment would fail every night after it.
 */
export const isTrinoErrorOfTheMoment = (error: Pick<QueryError, 'errorName' | 'errorType'>): boolean =>
  error.errorType === 'INSUFFICIENT_RESOURCES' || TRINO_ERRORS_OF_THE_MOMENT.has(error.errorName);

export interface TrinoEngineOptions {
  /** The coordinator, e.g. `http://trino.internal:8080` or `https://...`. */
  readonly url: string;
  /** The catalog holding the orders table, e.g. `hive` (the Glue or Hive metastore the stack's tables live in). */
  readonly catalog: string;
  /** The schema (Glue database) holding the orders table, e.g. `clv`. */
  readonly schema: string;
  /**
   * The canonical orders table: the Glue table the stack deploys over `ingested/`, or one with the
   * same columns (CANONICAL_ORDER_COLUMNS).
   * @default 'orders'
   */
  readonly table?: string;
  /**
   * The Glue table of published customers the stack deploys over an S3 output's `customers/`: the
   * previous run's customers are read through its partitions of that run date.
   * @default 'customers'
   */
  readonly customersTable?: string;
  /**
   * The user the queries run as (`X-Trino-User`).
   * @default 'clv-job'
   */
  readonly user?: string;
}

/**
 * A team's own Trino (or Starburst) cluster as the engine: the same SQL text Athena runs, each
 * query one statement with its relations inlined as common table expressions over the orders
 * table, sent through `trino-client` (Trino's REST protocol) and read page by page as it arrives.
 * Values come back as Trino's JSON gives them (numbers, strings, dates as `YYYY-MM-DD`); the
 * pipeline's decoders check and convert them as they do Athena's text. A Hive catalog over the
 * canonical copies must read sub-folders (`hive.recursive-directories=true`, off by default), as
 * Athena does: an export dropped in a sub-folder has its copy in one.
 */
export class TrinoEngine implements QueryEngine {
  readonly name = 'trino';
  /** Made on the first query: trino-client is loaded only by a run that uses Trino, not by every `clv`. */
  private client: Promise<Trino> | null = null;
  private readonly ordersBinding: string;
  /** `previous_customers` as bound by bindPrevious: none until a run binds its previous run. */
  private previousBinding = NO_PREVIOUS_CUSTOMERS;
  private readonly table: string;

  constructor(private readonly options: TrinoEngineOptions) {
    this.table = options.table ?? 'orders';
    this.ordersBinding = canonicalOrdersBinding(options.schema, this.table);
  }

  private connect(): Promise<Trino> {
    return (this.client ??= import('trino-client').then(({ Trino }) =>
      Trino.create({
        server: this.options.url.replace(/\/+$/, ''),
        catalog: this.options.catalog,
        schema: this.options.schema,
        source: 'clv-job',
        // trino-client's default user is $USER, which a scheduled job's environment may lack
        extraHeaders: { 'X-Trino-User': this.options.user ?? 'clv-job' },
      }),
    ));
  }

  /** A team's table may change under any writer, and listing it costs a scan: not told. */
  async inputVersion(): Promise<null> {
    return null;
  }

  /** The table, and how many files Trino reads under it (bytes are not known without listing the storage). */
  async describeInput(): Promise<InputDescription> {
    const table = `${this.options.catalog}.${this.options.schema}.${this.table}`;
    const result = await this.execute('describeInput', `SELECT COUNT(DISTINCT "$path") AS files FROM ${sqlIdentifier(this.options.schema)}.${sqlIdentifier(this.table)}`);
    return { files: Number(result.columns.files?.[0] ?? 0), bytes: null, location: `${table} (${this.options.url})` };
  }

  run(query: QueryName, params: SqlParameters): Promise<ResultColumns> {
    return this.execute(query, inlineQuery(query, params, this.ordersBinding, this.previousBinding));
  }

  /**
   * The Glue customers table's partitions of the previous run date, which point at the published
   * run of an S3 output (the stack's). Trino cannot read a local folder's files, and the table then
   * names another output's runs: throws an EngineError rather than compare with them.
   */
  async bindPrevious(previous: PreviousCustomers | null): Promise<void> {
    this.previousBinding = NO_PREVIOUS_CUSTOMERS;
    if (previous !== null && !previous.files.every((file) => file.startsWith('s3://'))) {
      throw new EngineError(`Trino cannot read the previous run's customers (${previous.runDate}) outside S3: ${previous.files[0]}`);
    }
    this.previousBinding = publishedCustomersBinding(this.options.schema, this.options.customersTable ?? 'customers', previous);
  }

  async release(): Promise<void> {
    // each query inlines its relations: nothing is kept between queries
  }

  async close(): Promise<void> {
    // a REST client: nothing stays open between queries
  }

  private async execute(query: string, sql: string): Promise<ResultColumns> {
    let names: string[] | null = null;
    let columns: unknown[][] = [];
    let rowCount = 0;
    let id: string | null = null;
    try {
      for await (const page of (await (await this.connect()).query(sql)) as AsyncIterable<QueryResult>) {
        id = page.id ?? id;
        if (page.error) throw new TrinoQueryError(query, id, page.error.errorName, firstLine(page.error.message), { transient: isTrinoErrorOfTheMoment(page.error) });
        if (names === null && page.columns) {
          names = page.columns.map((c) => c.name);
          columns = names.map(() => []);
        }
        for (const row of page.data ?? []) {
          for (let c = 0; c < columns.length; c++) columns[c]!.push((row as unknown[])[c] ?? null);
          rowCount += 1;
        }
      }
    } catch (error) {
      if (error instanceof TrinoQueryError) throw error;
      // the server unreachable, or an answer that is not Trino's protocol, says nothing of the data
      throw new TrinoQueryError(query, id, 'CONNECTION', `cannot run the query on ${this.options.url}: ${firstLine(error)}`, { cause: error, transient: true });
    }
    if (names === null) throw new TrinoQueryError(query, id, 'NO_RESULT', 'Trino finished the query without describing its columns');
    return { rowCount, columns: Object.fromEntries(names.map((name, c) => [name, columns[c]!])) };
  }
}

