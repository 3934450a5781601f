import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Trino } from 'trino-client';
import { createMotoHiveCatalog, deployStackGlueTables, dropCatalog } from './trino-catalog.js';
import { sharedTrino } from './trino-server.js';

/**
 * A stand-in for Amazon Athena speaking its JSON protocol (`X-Amz-Target: AmazonAthena.<Operation>`,
 * `application/x-amz-json-1.1`), which the real `@aws-sdk/client-athena` accepts through an
 * endpoint override. The SQL runs as given on Trino (the engine Athena's SQL is), over the Glue
 * database and tables the CDK stack deploys, created in moto's Glue and read by Trino's Hive
 * connector from moto's S3 (see trino-catalog.ts). The stand-in only translates the protocol: it
 * writes each result as Athena does, to `<OutputLocation>/<id>.csv` in the S3 stand-in, and reports
 * QUEUED / RUNNING / SUCCEEDED or FAILED with Trino's error as the reason (`ERROR_NAME: message`,
 * Athena's own format).
 */
export interface AthenaStandInOptions {
  /** A client of the S3 stand-in (moto): results are written with it, and its endpoint serves the Glue catalog. */
  readonly s3: S3Client;
  /** The bucket the stack's tables are deployed over. */
  readonly bucket: string;
  /** The Glue database queries run in when they name none. */
  readonly database: string;
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
  /** Status.AthenaError of a failure a test injected with one. */
  athenaError?: InjectedAthenaError;
  completed?: number;
  polls: number;
  /** Trino's id of the running statement, to cancel it. */
  trinoQueryId?: string;
  columns?: { name: string; type: string }[];
  rows?: (string | null)[][];
  bytesScanned?: number;
}

/** Status.AthenaError as Athena's API reference gives it, but ErrorMessage, which is the failure's reason. */
export interface InjectedAthenaError {
  /** 1 SYSTEM, 2 USER, 3 OTHER */
  readonly ErrorCategory: 1 | 2 | 3;
  /** The Athena error catalogue's type, e.g. 0-8 "Query exhausted resources at this scale factor", 1001 "Data error". */
  readonly ErrorType: number;
  /** True if the query might succeed if resubmitted. */
  readonly Retryable: boolean;
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

const csvField = (value: string | null): string => (value === null ? '' : `"${value.replaceAll('"', '""')}"`);

/** Trino's type names as Athena reports them in ColumnInfo: without parameters (`varchar(7)` is `varchar`). */
const athenaType = (trinoType: string): string => trinoType.replace(/\(.*$/, '');

/** A value of Trino's JSON result as Athena's result CSV writes it: text, or NULL. */
const athenaValue = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

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
  private failures: { reason: string; state: 'FAILED' | 'CANCELLED'; athenaError: InjectedAthenaError | undefined }[] = [];
  /** GetQueryExecution reports a non-terminal state at least this many times per query. */
  minimumPolls: number;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: AthenaStandInOptions,
    private readonly server: Server,
    readonly endpoint: string,
    private readonly trinoUrl: string,
    /** The Trino catalog over this stand-in's moto: Athena's `awsdatacatalog`. */
    private readonly catalog: string,
  ) {
    this.minimumPolls = options.minimumPolls ?? 1;
  }

  static async start(options: AthenaStandInOptions): Promise<AthenaStandIn> {
    const endpoint = await options.s3.config.endpoint?.();
    if (!endpoint) throw new Error('the Athena stand-in needs an S3 client with an endpoint (moto)');
    const motoEndpoint = `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}`;
    const [trino] = await Promise.all([sharedTrino(), deployStackGlueTables(motoEndpoint, options.bucket)]);
    const catalog = await createMotoHiveCatalog(trino.url, motoEndpoint);
    let standIn: AthenaStandIn | undefined;
    const server = createServer((request, response) => {
      void standIn!.handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    standIn = new AthenaStandIn(options, server, `http://127.0.0.1:${port}`, trino.url, catalog);
    return standIn;
  }

  /** The next `count` calls (of `operation`, or any) answer 400 with a throttling error, as Athena does under load. */
  throttleNext(count: number, operation?: string, type = 'ThrottlingException'): void {
    this.throttles.push({ remaining: count, operation, type });
  }

  /**
   * The next query to run ends FAILED (or CANCELLED) with this StateChangeReason, whatever its SQL,
   * and with this Status.AthenaError (its ErrorMessage the reason) when given. The stand-in gives none
   * for the failures of the SQL it runs on Trino: their ErrorType would be made up.
   */
  failNextQuery(reason: string, state: 'FAILED' | 'CANCELLED' = 'FAILED', athenaError?: InjectedAthenaError): void {
    this.failures.push({ reason, state, athenaError });
  }

  /** The SQL texts received, in order. */
  get queries(): string[] {
    return [...this.executions.values()].map((e) => e.sql);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.queue.catch(() => undefined);
    await dropCatalog(this.trinoUrl, this.catalog);
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
          ...(shown && e.athenaError ? { AthenaError: { ...e.athenaError, ErrorMessage: e.reason } } : {}),
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
      if (e.trinoQueryId) void this.trino(e).cancel(e.trinoQueryId).catch(() => undefined);
      e.state = 'CANCELLED';
      e.reason = 'Query cancelled by user';
      e.completed = Date.now();
    }
    return {};
  }

  private trino(e: Execution): Trino {
    return Trino.create({
      server: this.trinoUrl,
      catalog: this.catalog,
      schema: e.database ?? this.options.database,
      extraHeaders: { 'X-Trino-User': 'athena-stand-in' },
    });
  }

  private async execute(e: Execution): Promise<void> {
    if (e.state !== 'QUEUED') return;
    e.state = 'RUNNING';
    const injected = this.failures.shift();
    try {
      if (injected !== undefined) {
        e.athenaError = injected.athenaError;
        throw Object.assign(new Error(injected.reason), { injected: injected.state });
      }
      let columns: { name: string; type: string }[] = [];
      const rows: (string | null)[][] = [];
      for await (const result of await this.trino(e).query(e.sql)) {
        e.trinoQueryId = result.id;
        if (result.error) throw Object.assign(new Error(result.error.message), { reason: `${result.error.errorName}: ${result.error.message}` });
        if (result.columns) columns = result.columns.map((c) => ({ name: c.name, type: athenaType(c.type) }));
        for (const row of result.data ?? []) rows.push((row as unknown[]).map(athenaValue));
        if (result.stats) e.bytesScanned = result.stats.physicalInputBytes;
      }
      const csv = [columns.map((c) => csvField(c.name)).join(','), ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n';
      const { bucket, key } = s3Parts(e.outputLocation);
      await this.options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: csv, ContentType: 'text/csv' }));
      if ((e.state as string) === 'CANCELLED') return;
      e.columns = columns;
      e.rows = rows;
      e.state = 'SUCCEEDED';
    } catch (error) {
      if ((e.state as string) === 'CANCELLED') return;
      const { injected, reason } = error as { injected?: 'FAILED' | 'CANCELLED'; reason?: string };
      e.state = injected ?? 'FAILED';
      e.reason = injected ? (error as Error).message : (reason ?? `GENERIC_INTERNAL_ERROR: ${(error as Error).message}`);
    } finally {
      e.completed = Date.now();
    }
  }
}

/**
 * The stand-in laid out as the CDK stack lays out Athena: the stack's Glue database `clv` and its
 * tables over `bucket`, results under `athena-results/`, workgroup `clv-job`.
 */
export const startStackAthena = (s3: S3Client, bucket: string, options: Partial<AthenaStandInOptions> = {}): Promise<AthenaStandIn> =>
  AthenaStandIn.start({
    s3,
    bucket,
    database: 'clv',
    outputLocation: `s3://${bucket}/athena-results/`,
    workgroups: ['clv-job'],
    ...options,
  });
