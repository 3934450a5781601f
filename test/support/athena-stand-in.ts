import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ORDER_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';

/**
 * A stand-in for Amazon Athena speaking its JSON protocol (`X-Amz-Target: AmazonAthena.<Operation>`,
 * `application/x-amz-json-1.1`), which the real `@aws-sdk/client-athena` accepts through an
 * endpoint override. The SQL runs on DuckDB, as given: the stand-in exposes the Glue table of the
 * drop prefix as `"<database>"."<table>"` (the order columns as strings, by position like the CSV
 * SerDe, plus `$path`), writes each result as Athena does, to `<OutputLocation>/<id>.csv` in the S3
 * stand-in, and reports QUEUED / RUNNING / SUCCEEDED or FAILED with a reason.
 */
export interface AthenaStandInOptions {
  /** A client of the S3 stand-in: the table's files are read from it and results written to it. */
  readonly s3: S3Client;
  readonly database: string;
  readonly table: string;
  /** The table's LOCATION, `s3://bucket/prefix/`. */
  readonly location: string;
  /** The workgroups' enforced result location, `s3://bucket/prefix/`; a request's own is used only without it. */
  readonly outputLocation?: string;
  /** Known workgroups; StartQueryExecution in another one is refused as Athena does. @default ['primary'] */
  readonly workgroups?: readonly string[];
  /** GetQueryExecution reports a non-terminal state at least this many times per query, so clients must poll. @default 1 */
  readonly minimumPolls?: number;
}

interface Execution {
  readonly id: string;
  readonly sql: string;
  readonly workgroup: string;
  readonly database: string | undefined;
  readonly outputLocation: string;
  readonly submitted: number;
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  reason?: string;
  completed?: number;
  polls: number;
  columns?: { name: string; type: string }[];
  rows?: (string | null)[][];
  bytesScanned?: number;
}

class AthenaException extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const identifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const csvField = (value: string | null): string => (value === null ? '' : `"${value.replaceAll('"', '""')}"`);

/** DuckDB's type names as Athena reports them in ColumnInfo. */
const athenaType = (duckType: string): string =>
  duckType.startsWith('DECIMAL')
    ? 'decimal'
    : (({ VARCHAR: 'varchar', INTEGER: 'integer', BIGINT: 'bigint', DOUBLE: 'double', DATE: 'date', BOOLEAN: 'boolean' }) as Record<string, string>)[duckType] ??
      duckType.toLowerCase();

/** DuckDB's error, dressed as Athena's StateChangeReason (`ERROR_CODE: message`). */
const athenaReason = (error: unknown): string => {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (/Catalog Error: Table with name/i.test(message)) return `TABLE_NOT_FOUND: ${message}`;
  if (/Catalog Error/i.test(message)) return `COLUMN_NOT_FOUND: ${message}`;
  if (/Parser Error/i.test(message)) return `SYNTAX_ERROR: ${message}`;
  if (/Conversion Error|Invalid Input Error/i.test(message)) return `INVALID_CAST_ARGUMENT: ${message}`;
  return `GENERIC_INTERNAL_ERROR: ${message}`;
};

/** Athena, like Hive, ignores objects whose path under the location has a part starting with `_` or `.`. */
const isHidden = (relativeKey: string): boolean =>
  relativeKey === '' || relativeKey.endsWith('/') || relativeKey.split('/').some((part) => part.startsWith('_') || part.startsWith('.'));

const s3Parts = (uri: string): { bucket: string; key: string } => {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match?.[1]) throw new AthenaException('InvalidRequestException', `${uri} is not an s3:// location`);
  return { bucket: match[1], key: match[2] ?? '' };
};

export class AthenaStandIn {
  /** Calls received per operation, throttled ones included. */
  readonly calls: Record<string, number> = {};
  readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<string, string>();
  private throttles: { remaining: number; operation: string | undefined; type: string }[] = [];
  private failures: { reason: string; state: 'FAILED' | 'CANCELLED' }[] = [];
  /** GetQueryExecution reports a non-terminal state at least this many times per query. */
  minimumPolls: number;
  private queue: Promise<void> = Promise.resolve();
  private loadedListing: string | null = null;

  private constructor(
    private readonly options: AthenaStandInOptions,
    private readonly server: Server,
    readonly endpoint: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly workDir: string,
  ) {
    this.minimumPolls = options.minimumPolls ?? 1;
  }

  static async start(options: AthenaStandInOptions): Promise<AthenaStandIn> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await instance.connect();
    // Trino's regexp_like; the job's SQL is run as given
    await connection.run('CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)');
    await connection.run('CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)');
    const workDir = await mkdtemp(join(tmpdir(), 'athena-stand-in-'));
    let standIn: AthenaStandIn | undefined;
    const server = createServer((request, response) => {
      void standIn!.handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    standIn = new AthenaStandIn(options, server, `http://127.0.0.1:${port}`, instance, connection, workDir);
    return standIn;
  }

  /** The next `count` calls (of `operation`, or any) answer 400 with a throttling error, as Athena does under load. */
  throttleNext(count: number, operation?: string, type = 'ThrottlingException'): void {
    this.throttles.push({ remaining: count, operation, type });
  }

  /** The next query to run ends FAILED (or CANCELLED) with this StateChangeReason, whatever its SQL. */
  failNextQuery(reason: string, state: 'FAILED' | 'CANCELLED' = 'FAILED'): void {
    this.failures.push({ reason, state });
  }

  /** The SQL texts received, in order. */
  get queries(): string[] {
    return [...this.executions.values()].map((e) => e.sql);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.queue.catch(() => undefined);
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.workDir, { recursive: true, force: true });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonAthena.') ? target.slice('AmazonAthena.'.length) : target;
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    const send = (status: number, body: unknown, type?: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
        ...(type ? { 'x-amzn-errortype': type } : {}),
      });
      response.end(JSON.stringify(body));
    };
    try {
      const throttle = this.throttles.find((t) => t.remaining > 0 && (t.operation === undefined || t.operation === operation));
      if (throttle) {
        throttle.remaining -= 1;
        throw new AthenaException(throttle.type, 'Rate exceeded');
      }
      const input = (chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}) as Record<string, unknown>;
      switch (operation) {
        case 'StartQueryExecution':
          return send(200, this.startQueryExecution(input));
        case 'GetQueryExecution':
          return send(200, this.getQueryExecution(input));
        case 'GetQueryResults':
          return send(200, this.getQueryResults(input));
        case 'StopQueryExecution':
          return send(200, this.stopQueryExecution(input));
        default:
          throw new AthenaException('UnknownOperationException', `the stand-in does not implement ${operation || 'this request'}`);
      }
    } catch (error) {
      if (error instanceof AthenaException) return send(error.status, { __type: error.type, Message: error.message }, error.type);
      return send(500, { __type: 'InternalServerException', Message: String(error) }, 'InternalServerException');
    }
  }

  private execution(input: Record<string, unknown>): Execution {
    const id = String(input.QueryExecutionId ?? '');
    const execution = this.executions.get(id);
    if (!execution) throw new AthenaException('InvalidRequestException', `QueryExecution ${id} was not found`);
    return execution;
  }

  private startQueryExecution(input: Record<string, unknown>): { QueryExecutionId: string } {
    const sql = input.QueryString;
    if (typeof sql !== 'string' || sql.trim() === '') throw new AthenaException('InvalidRequestException', 'QueryString is required');
    const workgroup = typeof input.WorkGroup === 'string' ? input.WorkGroup : 'primary';
    if (!(this.options.workgroups ?? ['primary']).includes(workgroup)) {
      throw new AthenaException('InvalidRequestException', `WorkGroup ${workgroup} is not found.`);
    }
    // Athena's idempotency: a retried start with the same token is the same query
    const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
    const known = token ? this.tokens.get(token) : undefined;
    if (known) return { QueryExecutionId: known };
    const requested = (input.ResultConfiguration as { OutputLocation?: string } | undefined)?.OutputLocation;
    const outputLocation = this.options.outputLocation ?? requested;
    if (!outputLocation) {
      throw new AthenaException('InvalidRequestException', 'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.');
    }
    const id = randomUUID();
    if (token) this.tokens.set(token, id);
    const execution: Execution = {
      id,
      sql,
      workgroup,
      database: (input.QueryExecutionContext as { Database?: string } | undefined)?.Database,
      outputLocation: `${outputLocation.replace(/\/*$/, '/')}${id}.csv`,
      submitted: Date.now(),
      state: 'QUEUED',
      polls: 0,
    };
    this.executions.set(id, execution);
    this.queue = this.queue.then(() => this.execute(execution));
    return { QueryExecutionId: id };
  }

  private getQueryExecution(input: Record<string, unknown>): unknown {
    const e = this.execution(input);
    e.polls += 1;
    const terminal = e.state === 'SUCCEEDED' || e.state === 'FAILED' || e.state === 'CANCELLED';
    const state = terminal && e.polls <= this.minimumPolls && e.state !== 'CANCELLED' ? 'RUNNING' : e.state;
    const shown = state === e.state;
    return {
      QueryExecution: {
        QueryExecutionId: e.id,
        Query: e.sql,
        StatementType: 'DML',
        WorkGroup: e.workgroup,
        ResultConfiguration: { OutputLocation: e.outputLocation },
        QueryExecutionContext: { Database: e.database, Catalog: 'awsdatacatalog' },
        Status: {
          State: state,
          ...(shown && e.reason ? { StateChangeReason: e.reason } : {}),
          SubmissionDateTime: e.submitted / 1000,
          ...(shown && e.completed ? { CompletionDateTime: e.completed / 1000 } : {}),
        },
        Statistics: {
          DataScannedInBytes: e.bytesScanned ?? 0,
          EngineExecutionTimeInMillis: e.completed ? e.completed - e.submitted : 0,
          TotalExecutionTimeInMillis: e.completed ? e.completed - e.submitted : 0,
        },
      },
    };
  }

  /** Pages of at most 1000 rows; the first page starts with the header row, as Athena's do. */
  private getQueryResults(input: Record<string, unknown>): unknown {
    const e = this.execution(input);
    if (e.state !== 'SUCCEEDED') {
      throw new AthenaException('InvalidRequestException', `Query has not yet finished. Current state: ${e.state}`);
    }
    const max = input.MaxResults === undefined ? 1000 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw new AthenaException('InvalidRequestException', 'MaxResults must be from 1 to 1000');
    const offset = typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8')) : 0;
    const columns = e.columns ?? [];
    const table: (string | null)[][] = [columns.map((c) => c.name), ...(e.rows ?? [])];
    const page = table.slice(offset, offset + max);
    const next = offset + max < table.length ? Buffer.from(String(offset + max)).toString('base64') : undefined;
    return {
      UpdateCount: 0,
      ResultSet: {
        Rows: page.map((row) => ({ Data: row.map((value) => (value === null ? {} : { VarCharValue: value })) })),
        ResultSetMetadata: {
          ColumnInfo: columns.map((c) => ({ CatalogName: 'hive', SchemaName: '', TableName: '', Name: c.name, Label: c.name, Type: c.type, Precision: 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: c.type === 'varchar' })),
        },
      },
      ...(next ? { NextToken: next } : {}),
    };
  }

  private stopQueryExecution(input: Record<string, unknown>): unknown {
    const e = this.execution(input);
    if (e.state === 'QUEUED' || e.state === 'RUNNING') {
      e.state = 'CANCELLED';
      e.reason = 'Query cancelled by user';
      e.completed = Date.now();
    }
    return {};
  }

  private async execute(e: Execution): Promise<void> {
    if (e.state !== 'QUEUED') return;
    e.state = 'RUNNING';
    const injected = this.failures.shift();
    try {
      if (injected !== undefined) throw Object.assign(new Error(injected.reason), { injected: injected.state });
      await this.loadTable();
      const result = `result_${e.id.replaceAll('-', '_')}`;
      await this.connection.run(`CREATE TEMP TABLE ${result} AS ${e.sql}`);
      try {
        const described = (await this.connection.runAndReadAll(`DESCRIBE ${result}`)).getRowObjectsJS();
        const columns = described.map((d) => ({ name: String(d.column_name), type: athenaType(String(d.column_type)) }));
        const reader = await this.connection.runAndReadAll(
          columns.length === 0 ? `SELECT 1 WHERE false` : `SELECT ${columns.map((c) => `CAST(${identifier(c.name)} AS VARCHAR)`).join(', ')} FROM ${result}`,
        );
        const rows = reader.getRowsJS() as (string | null)[][];
        const csv = [columns.map((c) => csvField(c.name)).join(','), ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n';
        const { bucket, key } = s3Parts(e.outputLocation);
        await this.options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: csv, ContentType: 'text/csv' }));
        if ((e.state as string) === 'CANCELLED') return;
        e.columns = columns;
        e.rows = rows;
        e.state = 'SUCCEEDED';
      } finally {
        await this.connection.run(`DROP TABLE IF EXISTS ${result}`);
      }
    } catch (error) {
      if ((e.state as string) === 'CANCELLED') return;
      const injected = (error as { injected?: 'FAILED' | 'CANCELLED' }).injected;
      e.state = injected ?? 'FAILED';
      e.reason = injected ? (error as Error).message : athenaReason(error);
    } finally {
      e.completed = Date.now();
    }
  }

  /**
   * The table as Athena sees it at query time: every object under the location (names starting
   * with `_` or `.` are hidden, as for Hive), columns by position after the header line. Loaded
   * again only when the objects changed.
   */
  private async loadTable(): Promise<void> {
    const { bucket, key: prefix } = s3Parts(this.options.location);
    const objects: { key: string; etag: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (!o.Key || isHidden(o.Key.slice(prefix.length))) continue;
        objects.push({ key: o.Key, etag: o.ETag ?? '', size: o.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const listing = JSON.stringify(objects);
    if (listing === this.loadedListing) return;

    const scans: string[] = [];
    for (const [index, object] of objects.entries()) {
      const body = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
      // the extension tells DuckDB whether to gunzip
      const local = join(this.workDir, `${index}-${randomUUID()}${object.key.endsWith('.gz') ? '.csv.gz' : extname(object.key) || '.csv'}`);
      await writeFile(local, await body.Body!.transformToByteArray());
      const names = `[${ORDER_COLUMNS.map(sqlString).join(', ')}]`;
      scans.push(
        `SELECT ${ORDER_COLUMNS.join(', ')}, ${sqlString(`s3://${bucket}/${object.key}`)} AS "$path" FROM read_csv(${sqlString(local)}, ` +
          `header = true, all_varchar = true, delim = ',', quote = '"', escape = '"', null_padding = true, names = ${names})`,
      );
    }
    const qualified = `${identifier(this.options.database)}.${identifier(this.options.table)}`;
    await this.connection.run(`CREATE SCHEMA IF NOT EXISTS ${identifier(this.options.database)}`);
    await this.connection.run(
      scans.length === 0
        ? `CREATE OR REPLACE TABLE ${qualified} (${ORDER_COLUMNS.map((c) => `${c} VARCHAR`).join(', ')}, "$path" VARCHAR)`
        : `CREATE OR REPLACE TABLE ${qualified} AS ${scans.join('\nUNION ALL\n')}`,
    );
    this.loadedListing = listing;
    for (const e of this.executions.values()) if (e.state === 'RUNNING') e.bytesScanned = objects.reduce((s, o) => s + o.size, 0);
  }
}

/**
 * The stand-in laid out as the CDK stack lays out Athena: Glue table `clv.orders` over the bucket's
 * `orders/` prefix, results under `athena-results/`, workgroup `clv-job`.
 */
export const startStackAthena = (s3: S3Client, bucket: string, options: Partial<AthenaStandInOptions> = {}): Promise<AthenaStandIn> =>
  AthenaStandIn.start({
    s3,
    database: 'clv',
    table: 'orders',
    location: `s3://${bucket}/orders/`,
    outputLocation: `s3://${bucket}/athena-results/`,
    workgroups: ['clv-job'],
    ...options,
  });
