import { ingestLocalFiles } from '../lambdas/clv-job/adapters/local-ingest.js';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ATHENA_CLIENT_DEFAULTS } from '../lambdas/clv-job/adapters/athena-engine.js';
import { DuckDbEngine } from '../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../lambdas/clv-job/adapters/input-files.js';
import { LocalFolderStore } from '../lambdas/clv-job/adapters/local-folder-store.js';
import { ParquetTableWriter } from '../lambdas/clv-job/adapters/parquet-table-writer.js';
import { resolveRunConfig } from '../lambdas/clv-job/cli-options.js';
import type { HandlerResult, createHandler as CreateHandler } from '../lambdas/clv-job/handler.js';
import { METRICS_NAMESPACE } from '../lambdas/clv-job/lambda-contract.js';
import { loadLambdaSettings } from '../lambdas/clv-job/lambda-env.js';
import { runPipeline } from '../lambdas/clv-job/pipeline/run.js';
import { renderReport } from '../lambdas/clv-job/report/render-report.js';
import type { Summary } from '../lambdas/clv-job/schemas/summary.js';
import { startStackAthena, type AthenaStandIn } from './support/athena-stand-in.js';
import { lambdaEnvironment } from './support/lambda-environment.js';
import { genOrders } from './support/pipeline.js';
import { queryDuckDb } from './support/duckdb-reader.js';
import { TEST_CREDENTIALS, TEST_REGION, createBucket, startMoto, uploadFolder, type MotoServer } from './support/moto-server.js';
import { describeWith } from './support/services.js';

/*
 * The same orders export through both composition roots: the CLI's (DuckDB over local files, a
 * local folder) and the Lambda's (Athena over the Glue table, S3). The output contract must not
 * depend on where the job ran. Equal by design: customer rows (every column, and the segment
 * partition each lands in), counts, model parameters and every other summary section but `run`.
 * Different by design: `run` (ids, timings, engine, input location); rejected rows' `source_row`
 * (Athena cannot tell line numbers: NULL there) and `source_file` (a local path vs an s3:// URI,
 * compared by file name).
 *
 * Equal means: strings, dates, integers and every count exactly; doubles to 1e-6 relative (1e-9
 * absolute near zero). Engines sum doubles in their own order (Athena's and DuckDB's parallel
 * aggregations both do), so sums may differ in the last bits, which the model fit then carries
 * into its parameters' last digits; a difference beyond that is a bug.
 */
const RELATIVE = 1e-6;
const ABSOLUTE = 1e-9;

/** Where two values differ beyond the tolerance above, as `path: a != b` lines. */
const differences = (a: unknown, b: unknown, path = ''): string[] => {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) && Number.isInteger(b)) return a === b ? [] : [`${path}: ${a} != ${b}`];
    return Math.abs(a - b) <= ABSOLUTE + RELATIVE * Math.max(Math.abs(a), Math.abs(b)) ? [] : [`${path}: ${a} != ${b}`];
  }
  if (typeof a === 'bigint' || typeof b === 'bigint') return differences(Number(a), Number(b), path);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime() ? [] : [`${path}: ${a.toISOString()} != ${b.toISOString()}`];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${a.length} items != ${b.length} items`];
    return a.flatMap((x, i) => differences(x, b[i], `${path}[${i}]`));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return Object.is(a, b) ? [] : [`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`];
};

// gen-orders: some dirty rows of every kind, re-sent orders across files
const GENERATOR = ['--customers', '2000', '--files', '3', '--dirty', '0.03', '--overlap', '0.05', '--seed', '5'];
const BUCKET = 'clv-parity-test';
const LAMBDA_SETTINGS = lambdaEnvironment(BUCKET);
const settings = loadLambdaSettings(LAMBDA_SETTINGS);

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** Output rows read back with DuckDB, as any BI tool would, with each file's key relative to the output root. */
const customerRows = async (root: string, runDate: string) =>
  (
    await queryDuckDb(
      `SELECT * EXCLUDE (filename), regexp_extract(filename, 'segment=[a-z]+') AS partition
       FROM read_parquet(${sqlString(`${root}/customers/run_date=${runDate}/*/*.parquet`)}, filename = true, hive_partitioning = false)
       ORDER BY customer_id`,
    )
  ).map((row) => ({ ...row }));

const rejectedRows = async (root: string, runDate: string) =>
  (await queryDuckDb(`SELECT * FROM read_parquet(${sqlString(`${root}/rejected/run_date=${runDate}/*.parquet`)})`))
    .map(({ source_row: _row, source_file, ...rest }) => ({ ...rest, file: basename(String(source_file)) }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** A summary without its `run` section: what must not depend on the engine. */
const engineIndependent = ({ run: _run, ...rest }: Summary) => rest;

describeWith(['moto', 'trino'], 'parity of the CLI path (DuckDB, local folder) and the Lambda path (Athena, S3)', () => {
  let work: string;
  let input: string;
  let moto: MotoServer;
  let s3: S3Client;
  let standIn: AthenaStandIn;
  let createHandler: typeof CreateHandler;

  /** The CLI's run, wired as cli.ts wires it. */
  const runLocally = async (asOf: string | undefined, output: string) => {
    const config = await resolveRunConfig({ input: [input], output, ...(asOf ? { asOf } : {}) });
    const files = await findInputFiles(config.inputs);
    const engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(files, { config: config.ingest })).files });
    try {
      return await runPipeline(
        {
          engine,
          store: new LocalFolderStore(config.output),
          tables: new ParquetTableWriter(),
          now: () => new Date(),
          newRunId: randomUUID,
          renderReport,
        },
        config.run,
      );
    } finally {
      await engine.close();
    }
  };

  /** The Lambda's run: the handler, its clients pointed at the stand-ins. */
  const runOnAws = async (event: unknown): Promise<Extract<HandlerResult, { status: 'succeeded' }>> => {
    const handler = createHandler({
      settings,
      s3,
      athena: new AthenaClient({ ...ATHENA_CLIENT_DEFAULTS, endpoint: standIn.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS }),
      logger: new Logger({ serviceName: 'clv-parity', logLevel: 'ERROR' }),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'clv-parity' }),
    });
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const result = await handler(event);
      if (result.status !== 'succeeded') throw new Error(`the Lambda run was ${result.status}`);
      return result;
    } finally {
      quiet.mockRestore();
    }
  };

  /** The S3 output prefix, downloaded as it is laid out. */
  const download = async (target: string): Promise<void> => {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'clv/', ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const path = join(target, object.Key!.slice('clv/'.length));
        await mkdir(dirname(path), { recursive: true });
        const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: object.Key! }));
        await writeFile(path, await body.Body!.transformToByteArray());
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  };

  beforeAll(async () => {
    // the module reads its environment when loaded, as at a cold start; the clients are passed in below
    Object.assign(process.env, LAMBDA_SETTINGS, { AWS_REGION: TEST_REGION });
    ({ createHandler } = await import('../lambdas/clv-job/handler.js'));
    work = await mkdtemp(join(tmpdir(), 'clv-parity-'));
    input = join(work, 'input');
    await genOrders(input, GENERATOR);
    moto = await startMoto();
    s3 = await createBucket(moto.endpoint, BUCKET);
    await uploadFolder(s3, BUCKET, 'orders/', input);
    standIn = await startStackAthena(s3, BUCKET, { minimumPolls: 0 });
  });
  afterAll(async () => {
    await standIn?.stop();
    await moto?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each([
    ['a night re-run with { runDate }', '2025-12-31', { runDate: '2025-12-31' }],
    ['a scheduled night (as-of: the latest valid order date)', undefined, { source: 'aws.scheduler' }],
  ])('gives identical customers, counts, model parameters and segments for %s', async (_what, asOf, event) => {
    // one output per path, shared by both nights, so `changes` compares with the same previous run
    const localRoot = join(work, 'local');
    const awsRoot = join(work, 'aws');

    const local = await runLocally(asOf, localRoot);
    const aws = await runOnAws(event);
    await download(awsRoot);
    const runDate = local.summary.run.run_date;
    const awsSummary = JSON.parse(await readFile(join(awsRoot, `summary/run_date=${aws.runDate}/summary.json`), 'utf8')) as Summary;

    expect(aws.runDate).toBe(runDate);
    expect(awsSummary.run).toMatchObject({ engine: 'athena', as_of: local.summary.run.as_of, as_of_source: local.summary.run.as_of_source });
    expect(local.summary.run.engine).toBe('duckdb');
    expect(awsSummary.counts).toEqual(local.summary.counts);
    expect(awsSummary.counts.rejected_rows).toBeGreaterThan(0);
    expect(awsSummary.counts.duplicate_orders).toBeGreaterThan(0);
    expect(differences(awsSummary.models, local.summary.models)).toEqual([]);
    expect(differences(engineIndependent(awsSummary), engineIndependent(local.summary))).toEqual([]);
    const localCustomers = await customerRows(localRoot, runDate);
    expect(localCustomers).toHaveLength(local.summary.counts.customers);
    expect(differences(await customerRows(awsRoot, runDate), localCustomers)).toEqual([]);
    const localRejected = await rejectedRows(localRoot, runDate);
    expect(localRejected).toHaveLength(local.summary.counts.rejected_rows);
    expect(await rejectedRows(awsRoot, runDate)).toEqual(localRejected);
    expect((await readFile(join(awsRoot, `report/run_date=${runDate}/index.html`), 'utf8')).length).toBeGreaterThan(1000);
  });
});
