import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ATHENA_CLIENT_DEFAULTS, AthenaQueryError } from '../lambdas/clv-job/adapters/athena-engine.js';
import { S3Store } from '../lambdas/clv-job/adapters/s3-store.js';
import { ConfigurationError } from '../lambdas/clv-job/errors.js';
import { qualityReportSchema } from '../lambdas/clv-job/schemas/quality-report.js';
import type { HandlerResult, createHandler as CreateHandler } from '../lambdas/clv-job/handler.js';
import { LAMBDA_ENV, METRIC, METRICS_NAMESPACE } from '../lambdas/clv-job/lambda-contract.js';
import { DEFAULT_GATE_SETTINGS } from '../lambdas/clv-job/domain/quality-gates.js';
import { DEFAULT_LOCK_TTL_SECONDS, loadLambdaSettings } from '../lambdas/clv-job/lambda-env.js';
import { startStackAthena, type AthenaStandIn } from './support/athena-stand-in.js';
import { lambdaEnvironment } from './support/lambda-environment.js';
import { repoRoot } from './support/files.js';
import {
  TEST_CREDENTIALS,
  TEST_REGION,
  createBucket,
  motoS3Client,
  motoS3ClientFailing,
  startMoto,
  type MotoServer,
} from './support/moto-server.js';
import { ingestOnMoto, s3Event, type IngestOnMoto } from './support/ingest-drop.js';
import { describeWith } from './support/services.js';
import { createOutputTables, motoGlueClient, partitionLocations } from './support/moto-glue.js';
import type { GlueClient } from '@aws-sdk/client-glue';

const BUCKET = 'clv-handler-test';
const SCHEDULER_EVENT = { source: 'aws.scheduler', scheduledTime: '2026-01-01T03:00:00Z', executionId: 'exec-1' };
const context = { functionName: 'clv-job', awsRequestId: 'req-1', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:clv-job', memoryLimitInMB: '4096' } as Context;

const GOOD_ENV = lambdaEnvironment(BUCKET);

/**
 * What the function writes while `work` runs: Powertools' JSON logs and EMF metrics (stdout;
 * warnings and errors go to stderr, and Lambda sends both to CloudWatch Logs).
 */
const captureStdout = async <T>(work: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; lines: Record<string, unknown>[] }> => {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  let result: T | undefined;
  let error: unknown;
  try {
    result = await work();
  } catch (e) {
    error = e;
  } finally {
    spy.mockRestore();
    errSpy.mockRestore();
  }
  const lines = chunks
    .join('')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { result, error, lines };
};

type EmfLine = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } };
const emfOf = (lines: Record<string, unknown>[]): EmfLine[] => lines.filter((l) => '_aws' in l) as EmfLine[];
const metricValues = (lines: Record<string, unknown>[]): Record<string, unknown> => {
  const emf = emfOf(lines);
  return Object.fromEntries(emf.flatMap((e) => e._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => [x.Name, e[x.Name]]))));
};
const logsOf = (lines: Record<string, unknown>[]) => lines.filter((l) => !('_aws' in l));

describe('the Lambda environment', () => {
  it('is read into settings, prefixes ending with a slash, defaults for what is unset', () => {
    const settings = loadLambdaSettings({
      ...GOOD_ENV,
      [LAMBDA_ENV.outputPrefix]: 'clv',
      [LAMBDA_ENV.horizon]: undefined,
      [LAMBDA_ENV.lockTtlSeconds]: '',
      [LAMBDA_ENV.timeUnit]: 'day',
    });

    expect(settings).toEqual({
      bucket: BUCKET,
      inputPrefix: 'orders/',
      ingestedPrefix: 'ingested/',
      quarantinePrefix: 'quarantine/',
      outputPrefix: 'clv/',
      athena: { database: 'clv', table: 'orders', workgroup: 'clv-job' },
      model: { timeUnit: 'day', transactions: 'bgnbd', intervalDraws: 100, intervalSeed: 1, horizon: 364, discountRate: 0.1, margin: 1, lifespanYears: 3 },
      lockTtlSeconds: DEFAULT_LOCK_TTL_SECONDS,
      keepPreviousDays: 30,
      gates: DEFAULT_GATE_SETTINGS,
      spendPrefix: null,
    });
  });

  it('reads the interval draws and their seed, 0 draws turning the intervals off', () => {
    const model = (draws: string, seed: string) => loadLambdaSettings({ ...GOOD_ENV, [LAMBDA_ENV.intervalDraws]: draws, [LAMBDA_ENV.intervalSeed]: seed }).model;

    expect(model('250', '7')).toMatchObject({ intervalDraws: 250, intervalSeed: 7 });
    expect(model('0', '')).toMatchObject({ intervalDraws: 0, intervalSeed: 1 });
  });

  it.each([
    ['too few draws to read a 5th percentile from', { [LAMBDA_ENV.intervalDraws]: '5' }, /CLV_INTERVAL_DRAWS: .*\(got "5"\)/],
    ['a fractional seed', { [LAMBDA_ENV.intervalSeed]: '1.5' }, /CLV_INTERVAL_SEED: .*\(got "1.5"\)/],
    ['a seed past 65535, whose draws would repeat a smaller seed’s', { [LAMBDA_ENV.intervalSeed]: '65537' }, /CLV_INTERVAL_SEED: .*\(got "65537"\)/],
    ['a seed that is not a number', { [LAMBDA_ENV.intervalSeed]: 'abc' }, /CLV_INTERVAL_SEED must be a number/],
  ])('refuses %s', (_what, change, message) => {
    expect(() => loadLambdaSettings({ ...GOOD_ENV, ...change })).toThrow(message);
  });

  it('reads the gate thresholds, `off` turning a gate off and unset keeping its default', () => {
    const settings = loadLambdaSettings({
      ...GOOD_ENV,
      [LAMBDA_ENV.gateMaxRejectedShare]: '0.05',
      [LAMBDA_ENV.gateMinCustomersVsPrevious]: 'OFF',
      [LAMBDA_ENV.gateMinAcceptedOrders]: undefined,
      [LAMBDA_ENV.gateEarliestOrderDate]: '2020-01-01',
      [LAMBDA_ENV.gateMaxDaysSinceLatestOrder]: '3',
      [LAMBDA_ENV.gateMinRowsForRejectedShare]: '50',
      [LAMBDA_ENV.gateMinRevenueVsPrevious]: '0.25',
      [LAMBDA_ENV.gateMaxDaysLatestOrderBeforePrevious]: 'off',
    });

    expect(settings.gates).toEqual({
      maxRejectedShare: 0.05,
      minRowsForRejectedShare: 50,
      minCustomersVsPrevious: null,
      minRevenueVsPrevious: 0.25,
      maxDaysLatestOrderBeforePrevious: null,
      minAcceptedOrders: DEFAULT_GATE_SETTINGS.minAcceptedOrders,
      earliestOrderDate: '2020-01-01',
      maxDaysSinceLatestOrder: 3,
    });
  });

  it('reads a gate threshold written with an exponent, as the number flags and variables are read', () => {
    const settings = loadLambdaSettings({ ...GOOD_ENV, [LAMBDA_ENV.gateMaxDaysSinceLatestOrder]: '1e1', [LAMBDA_ENV.gateMaxRejectedShare]: '5E-2' });

    expect(settings.gates).toMatchObject({ maxDaysSinceLatestOrder: 10, maxRejectedShare: 0.05 });
  });

  it('names every bad gate threshold with the range the config file enforces', () => {
    const bad = {
      [LAMBDA_ENV.gateMaxRejectedShare]: '1.5',
      [LAMBDA_ENV.gateMinCustomersVsPrevious]: 'half',
      [LAMBDA_ENV.gateMinAcceptedOrders]: 'off',
      [LAMBDA_ENV.gateEarliestOrderDate]: '2020-02-30',
      [LAMBDA_ENV.gateMaxDaysSinceLatestOrder]: '2.5',
    };

    const message = (() => {
      try {
        loadLambdaSettings({ ...GOOD_ENV, ...bad });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();

    for (const variable of Object.keys(bad)) expect(message).toContain(variable);
    expect(message).toContain('CLV_GATE_MAX_REJECTED_SHARE: ');
    expect(message).toContain('(got "1.5")');
    expect(message).toContain('CLV_GATE_MIN_CUSTOMERS_VS_PREVIOUS must be a number or off');
    expect(message).toContain('CLV_GATE_MIN_ACCEPTED_ORDERS must be a number');
    expect(message).toContain('is not a calendar date');
  });

  it('reports every missing and malformed variable in one ConfigurationError', () => {
    const env = {
      ...GOOD_ENV,
      [LAMBDA_ENV.bucket]: undefined,
      [LAMBDA_ENV.athenaTable]: undefined,
      [LAMBDA_ENV.athenaWorkgroup]: '  ',
      [LAMBDA_ENV.timeUnit]: 'month',
      [LAMBDA_ENV.horizon]: 'abc',
      [LAMBDA_ENV.margin]: '2',
      [LAMBDA_ENV.lockTtlSeconds]: '-5',
    };

    const error = (() => {
      try {
        loadLambdaSettings(env);
      } catch (e) {
        return e as Error;
      }
    })();

    expect(error).toBeInstanceOf(ConfigurationError);
    for (const variable of ['CLV_BUCKET is missing', 'CLV_ATHENA_TABLE is missing', 'CLV_ATHENA_WORKGROUP is empty', 'CLV_TIME_UNIT must be week or day', 'CLV_HORIZON must be a number', 'CLV_MARGIN: ', 'CLV_LOCK_TTL_SECONDS must be a whole number']) {
      expect(error?.message).toContain(variable);
    }
    expect(error?.message.match(/CLV_/g)?.length).toBe(7);
  });

  it.each([
    ['an output prefix inside the drop prefix', { [LAMBDA_ENV.outputPrefix]: 'orders/clv/' }, /must not contain one another/],
    ['a bucket name with capitals', { [LAMBDA_ENV.bucket]: 'My_Bucket' }, /CLV_BUCKET must be an S3 bucket name/],
    ['a discount rate out of range', { [LAMBDA_ENV.discountRate]: '11' }, /CLV_DISCOUNT_RATE: .*\(got "11"\)/],
    ['a leading slash', { [LAMBDA_ENV.inputPrefix]: '/orders/' }, /CLV_INPUT_PREFIX must not start with "\/"/],
    ['a spend prefix inside the drop prefix, where its files would be ingested as orders', { [LAMBDA_ENV.spendPrefix]: 'orders/spend/' }, /CLV_INPUT_PREFIX \(orders\/\) and CLV_SPEND_PREFIX \(orders\/spend\/\) must not contain one another/],
  ])('refuses %s', (_what, change, message) => {
    expect(() => loadLambdaSettings({ ...GOOD_ENV, ...change })).toThrow(message);
  });
});

describe("the Athena queries' deadline in an invocation", () => {
  const saved = { ...process.env };
  let deadlineOf: typeof import('../lambdas/clv-job/handler.js').queryDeadlineOf;
  beforeAll(async () => {
    Object.assign(process.env, GOOD_ENV, { AWS_REGION: TEST_REGION });
    vi.resetModules();
    ({ queryDeadlineOf: deadlineOf } = await import('../lambdas/clv-job/handler.js'));
  });
  afterAll(() => {
    process.env = saved;
  });

  it('leaves a quarter of the time left, at least a minute, to fit, write and publish', () => {
    expect(deadlineOf(0, 15 * 60_000)).toBe(15 * 60_000 - 225_000);
    expect(deadlineOf(1_000, 3 * 60_000)).toBe(1_000 + 2 * 60_000);
  });
});

describe('the Lambda event', () => {
  // late on 2 December in UTC: 3 December already in time zones ahead of UTC, and no later
  const now = new Date('2026-12-02T23:59:59Z');
  const saved = { ...process.env };
  let eventSchema: typeof import('../lambdas/clv-job/handler.js').lambdaEventSchema;
  beforeAll(async () => {
    // the module builds its handler from the environment when imported
    Object.assign(process.env, GOOD_ENV, { AWS_REGION: TEST_REGION });
    vi.resetModules();
    ({ lambdaEventSchema: eventSchema } = await import('../lambdas/clv-job/handler.js'));
  });
  afterAll(() => {
    process.env = saved;
  });

  it('takes a run\'s runDate up to tomorrow in UTC, and refuses a later one, which would stay the newest night', () => {
    expect(eventSchema(now).safeParse({ runDate: '2026-12-03' }).success).toBe(true);
    expect(eventSchema(now).safeParse({ runDate: '2026-12-04' }).error?.issues.map((i) => `${i.path.join('.')} ${i.message}`)).toEqual([
      'runDate 2026-12-04 is in the future: the latest accepted is 2026-12-03 (today in UTC, plus a day for time zones ahead of it)',
    ]);
  });

  it('lets a rollback name any night, as a run may have left one behind', () => {
    expect(eventSchema(now).safeParse({ action: 'rollback', runDate: '2099-01-01' }).success).toBe(true);
  });
});

describeWith(['moto', 'trino'], 'the Lambda handler against moto and the Athena stand-in', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let standIn: AthenaStandIn;
  let glue: GlueClient;
  let ingest: IngestOnMoto;
  let handler: (event: unknown, context?: Context) => Promise<HandlerResult>;
  let createHandler: typeof CreateHandler;
  const saved = { ...process.env };

  const outputKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'clv/', ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice('clv/'.length)));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  };

  const outputSnapshot = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const key of await outputKeys()) {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `clv/${key}` }));
      out[key] = Buffer.from(await object.Body!.transformToByteArray()).toString('base64');
    }
    return out;
  };
  /** A published key as readers see it: through the run date's manifest into the live run. */
  const readJson = async (key: string) =>
    JSON.parse(Buffer.from((await new S3Store({ client: s3, bucket: BUCKET, prefix: 'clv/' }).read(key))!).toString()) as Record<string, any>;
  /** A second deployment of the function: its own module state, logger and clients. */
  const anotherInstance = (s3Client: S3Client = motoS3Client(moto.endpoint), env: Record<string, string> = GOOD_ENV) =>
    createHandler({
      settings: loadLambdaSettings(env),
      s3: s3Client,
      glue: motoGlueClient(moto.endpoint),
      athena: new AthenaClient({ ...ATHENA_CLIENT_DEFAULTS, endpoint: standIn.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS }),
      logger: new Logger({ serviceName: 'clv-job-test' }),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'clv-job-test' }),
    });

  beforeAll(async () => {
    moto = await startMoto();
    s3 = await createBucket(moto.endpoint, BUCKET);
    ingest = await ingestOnMoto(moto.endpoint, s3, BUCKET);
    await ingest.dropFolder(join(repoRoot, 'sample-data'));
    standIn = await startStackAthena(s3, BUCKET);
    glue = motoGlueClient(moto.endpoint);
    await createOutputTables(glue, BUCKET, 'clv/');
    // the handler finds everything through the SDK's standard chains, as on AWS
    Object.assign(process.env, GOOD_ENV, {
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: TEST_REGION,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_ENDPOINT_URL_ATHENA: standIn.endpoint,
      AWS_ENDPOINT_URL_GLUE: moto.endpoint,
      POWERTOOLS_SERVICE_NAME: 'clv-job-test',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    delete process.env.POWERTOOLS_DEV;
    delete process.env.AWS_PROFILE;
    vi.resetModules();
    ({ handler, createHandler } = await import('../lambdas/clv-job/handler.js'));
  });
  afterAll(async () => {
    process.env = saved;
    await standIn?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    const old = await outputKeys();
    if (old.length) await new S3Store({ client: s3, bucket: BUCKET, prefix: 'clv/' }).deleteKeys(old.map((k) => `clv/${k}`));
  });

  describe('at cold start', () => {
    afterEach(() => {
      Object.assign(process.env, GOOD_ENV);
    });

    it('fails with one message naming every missing or malformed variable', async () => {
      delete process.env[LAMBDA_ENV.bucket];
      delete process.env[LAMBDA_ENV.athenaDatabase];
      process.env[LAMBDA_ENV.horizon] = 'fifty-two';
      process.env[LAMBDA_ENV.margin] = '1.5';
      vi.resetModules();

      const coldStart = import('../lambdas/clv-job/handler.js');

      // a fresh module graph: its error classes are not this file's, so the name is compared
      await expect(coldStart).rejects.toMatchObject({ name: 'ConfigurationError' });
      await expect(coldStart).rejects.toThrow(
        /^the Lambda environment is not usable: CLV_BUCKET is missing; CLV_ATHENA_DATABASE is missing; CLV_HORIZON must be a number; CLV_MARGIN: .*\(got "1\.5"\)$/,
      );
    });
  });

  describe('a scheduled night', () => {
    it('scores as of the latest valid order date, publishes through S3, and honours AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_ATHENA', async () => {
      const callsBefore = standIn.calls.StartQueryExecution ?? 0;

      const { result, lines } = await captureStdout(() => handler(SCHEDULER_EVENT, context));

      expect(result).toMatchObject({ status: 'succeeded', output: `s3://${BUCKET}/clv/` });
      const succeeded = result as Extract<HandlerResult, { status: 'succeeded' }>;
      const summary = await readJson(`summary/run_date=${succeeded.runDate}/summary.json`);
      expect(summary.run).toMatchObject({ run_id: succeeded.runId, engine: 'athena', as_of_source: 'latest_order_date', as_of: succeeded.runDate });
      // the three exports' canonical copies, read through the Glue table over ingested/; bytes are the exports', as a local run counts them
      const exportBytes = (await readdir(join(repoRoot, 'sample-data')))
        .filter((name) => /\.csv(\.gz)?$/.test(name))
        .reduce(async (sum, name) => (await sum) + (await stat(join(repoRoot, 'sample-data', name))).size, Promise.resolve(0));
      expect(summary.run.inputs).toEqual({ files: 3, bytes: await exportBytes, location: `clv.orders (s3://${BUCKET}/ingested/)` });
      expect(summary.counts).toEqual(succeeded.counts);
      expect(standIn.calls.StartQueryExecution! - callsBefore).toBeGreaterThanOrEqual(6);
      const keys = await outputKeys();
      const run = `_runs/${succeeded.runId}`;
      expect(keys).toEqual(
        expect.arrayContaining([
          'latest.json',
          `summary/run_date=${succeeded.runDate}/_manifest.json`,
          `${run}/summary/run_date=${succeeded.runDate}/_SUCCESS`,
          `${run}/summary/run_date=${succeeded.runDate}/_manifest.json`,
          `${run}/summary/run_date=${succeeded.runDate}/summary.json`,
          `${run}/report/run_date=${succeeded.runDate}/index.html`,
        ]),
      );
      const runKeys = keys.filter((k) => k.startsWith(`${run}/customers/`));
      expect(runKeys.length).toBeGreaterThan(0);
      expect(runKeys.every((k) => new RegExp(`^${run}/customers/run_date=${succeeded.runDate}/segment=(high|mid|low)/part-[^/]+\\.parquet$`).test(k))).toBe(true);
      expect(keys.some((k) => k.startsWith(`${run}/rejected/run_date=${succeeded.runDate}/`))).toBe(true);
      // catalog readers (Athena through AWS_ENDPOINT_URL_GLUE) see the run's prefix
      expect(Object.values(await partitionLocations(glue, 'customers', succeeded.runDate)).every((l) => l.startsWith(`s3://${BUCKET}/clv/${run}/customers/`))).toBe(true);
      expect(keys.filter((k) => k.startsWith('_publish/intent') || k.startsWith('_lock/'))).toEqual([]);
      expect(succeeded.warnings).toEqual([]);
      expect(logsOf(lines).find((l) => l.message === 'run started')).toMatchObject({ event: SCHEDULER_EVENT });
    });

    it('emits EMF metrics in the ClvJob namespace and JSON logs carrying the run id', async () => {
      const { result, lines } = await captureStdout(() => handler(SCHEDULER_EVENT, context));

      const succeeded = result as Extract<HandlerResult, { status: 'succeeded' }>;
      const [emf] = emfOf(lines);
      expect(emfOf(lines)).toHaveLength(1);
      expect(emf!._aws.CloudWatchMetrics[0]!.Namespace).toBe(METRICS_NAMESPACE);
      expect(emf!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
      expect(emf!.service).toBe('clv-job-test');
      expect(metricValues(lines)).toEqual({
        [METRIC.inputRows]: succeeded.counts.input_rows,
        [METRIC.rejectedRows]: succeeded.counts.rejected_rows,
        [METRIC.customers]: succeeded.counts.customers,
        [METRIC.durationSeconds]: succeeded.durationSeconds,
        [METRIC.runSucceeded]: 1,
      });
      const logs = logsOf(lines);
      expect(logs.length).toBeGreaterThanOrEqual(3);
      expect(logs.every((l) => l.runId === succeeded.runId && l.service === 'clv-job-test')).toBe(true);
      expect(logs.find((l) => l.message === 'run succeeded')).toMatchObject({
        level: 'INFO',
        function_request_id: 'req-1',
        counts: succeeded.counts,
        runDate: succeeded.runDate,
      });
      expect(logs.filter((l) => l.message === 'stage finished').map((l) => l.stage)).toEqual(['lock', 'recover', 'query', 'gate', 'model', 'segment', 'write', 'publish']);
    });
  });

  describe('a manual re-run of a night, { runDate }', () => {
    it('scores as of that date and replaces that night, leaving exactly the same keys', async () => {
      const first = await captureStdout(() => handler({ runDate: '2025-12-31' }, context));
      const keysAfterFirst = await outputKeys();

      const second = await captureStdout(() => handler({ runDate: '2025-12-31' }, context));

      expect(first.result).toMatchObject({ status: 'succeeded', runDate: '2025-12-31' });
      expect(second.result).toMatchObject({ status: 'succeeded', runDate: '2025-12-31' });
      const summary = await readJson('summary/run_date=2025-12-31/summary.json');
      expect(summary.run).toMatchObject({ as_of: '2025-12-31', as_of_source: 'given', run_id: (second.result as { runId: string }).runId });
      // the sample's four future-dated defects lie after this as-of date
      expect(summary.counts.rejected_by_reason.order_date_after_as_of).toBe(4);
      // the night's manifest names the second run; the first stays, for rollback, under its own prefix
      expect((await readJson('summary/run_date=2025-12-31/_manifest.json')).runId).toBe((second.result as { runId: string }).runId);
      expect((await outputKeys()).filter((k) => !k.startsWith('_runs/') && !k.startsWith('_publish/'))).toEqual(keysAfterFirst.filter((k) => !k.startsWith('_runs/') && !k.startsWith('_publish/')));
      expect((await readJson('latest.json')).run_date).toBe('2025-12-31');
    });

    it('rolls a night back on { action: "rollback", runDate }, for file and catalog readers', async () => {
      const first = await captureStdout(() => handler({ runDate: '2025-12-31' }, context));
      await captureStdout(() => handler({ runDate: '2025-12-31' }, context));
      const firstRunId = (first.result as { runId: string }).runId;

      const { result } = await captureStdout(() => handler({ action: 'rollback', runDate: '2025-12-31' }, context));

      expect(result).toMatchObject({ status: 'rolled_back', runDate: '2025-12-31', runId: firstRunId, warnings: [] });
      expect((await readJson('summary/run_date=2025-12-31/summary.json')).run.run_id).toBe(firstRunId);
      expect(Object.values(await partitionLocations(glue, 'customers', '2025-12-31')).every((l) => l.includes(`/_runs/${firstRunId}/`))).toBe(true);
    });

    it('rejects a rollback without a runDate as a bad event', async () => {
      const { error } = await captureStdout(() => handler({ action: 'rollback' }, context));

      expect((error as Error).message).toMatch(/runDate a rollback needs runDate/);
    });

    it('rejects a runDate in the future, which would stay the newest night: nothing written', async () => {
      const { error } = await captureStdout(() => handler({ runDate: '2099-01-01' }, context));

      expect(error).toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/runDate 2099-01-01 is in the future: the latest accepted is \d{4}-\d{2}-\d{2} /) });
      expect(await outputKeys()).toEqual([]);
    });

    it('rejects a malformed runDate: logged once, RunFailed, rethrown', async () => {
      const { error, lines } = await captureStdout(() => handler({ runDate: '2025-02-30' }, context));

      expect(error).toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/runDate is not a calendar date/) });
      expect(logsOf(lines).filter((l) => l.level === 'ERROR')).toHaveLength(1);
      expect(metricValues(lines)).toMatchObject({ [METRIC.runFailed]: 1 });
      expect(await outputKeys()).toEqual([]);
    });
  });

  describe('the run lock', () => {
    it('lets exactly one of two concurrent invocations run; the other returns skipped, cleanly', async () => {
      const [a, b] = [anotherInstance(), anotherInstance()];

      const { lines, result } = await captureStdout(() => Promise.all([a(SCHEDULER_EVENT, context), b(SCHEDULER_EVENT, context)]));

      expect(result!.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
      expect(result!.find((r) => r.status === 'skipped')).toEqual({ status: 'skipped', reason: 'already running' });
      const metrics = emfOf(lines).map((e) => Object.keys(e).filter((k) => k.startsWith('Run')));
      expect(metrics.sort()).toEqual([[METRIC.runSkippedLocked], [METRIC.runSucceeded]].sort());
      expect(logsOf(lines).filter((l) => l.level === 'ERROR')).toEqual([]);
    });

    it('steps aside while another run holds the lock, publishing nothing', async () => {
      const held = await new S3Store({ client: s3, bucket: BUCKET, prefix: 'clv/' }).lock('nightly-run', 900);

      const { result, lines } = await captureStdout(() => handler(SCHEDULER_EVENT, context));
      await held.release();

      expect(result).toEqual({ status: 'skipped', reason: 'already running' });
      expect(metricValues(lines)).toEqual({ [METRIC.runSkippedLocked]: 1 });
      expect(logsOf(lines).find((l) => l.level === 'WARN')?.reason).toMatch(/another run \(nightly-run\) holds the lock/);
      expect(await outputKeys()).toEqual([]);
    });

    it('takes over a lock left by a killed run (older than CLV_LOCK_TTL_SECONDS)', async () => {
      const longAgo = new Date(Date.now() - (DEFAULT_LOCK_TTL_SECONDS + 60) * 1000);
      await new S3Store({ client: s3, bucket: BUCKET, prefix: 'clv/', now: () => longAgo }).lock('killed-run', 900);

      const { result } = await captureStdout(() => handler(SCHEDULER_EVENT, context));

      expect(result).toMatchObject({ status: 'succeeded' });
      expect((await outputKeys()).filter((k) => k.startsWith('_lock/'))).toEqual([]);
    });
  });

  describe('a spend prefix (CLV_SPEND_PREFIX)', () => {
    const withSpend = () => anotherInstance(motoS3Client(moto.endpoint), { ...GOOD_ENV, [LAMBDA_ENV.spendPrefix]: 'spend/' });
    afterEach(async () => {
      const keys = (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'spend/' }))).Contents ?? [];
      for (const { Key } of keys) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
    });

    it('with no spend file under it, runs the night without spend and names the prefix in changes.warnings', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'spend/README.txt', Body: 'spend lands here' }));

      const { result, lines } = await captureStdout(() => withSpend()({ runDate: '2025-12-31' }, context));

      expect(result).toMatchObject({ status: 'succeeded', runDate: '2025-12-31' });
      const summary = await readJson('summary/run_date=2025-12-31/summary.json');
      // exactly as a run without a spend prefix: no spend_input, no spend column on any row
      expect(summary.spend_input).toBeUndefined();
      for (const row of [...summary.acquisition, ...summary.acquisition_cohorts]) {
        for (const column of ['spend', 'cac', 'ltv_to_cac', 'payback_months']) expect(row).not.toHaveProperty(column);
      }
      const missing = (summary.changes.warnings as { code: string; message: string }[]).filter((w) => w.code === 'spend_input_missing');
      expect(missing).toHaveLength(1);
      expect(missing[0]!.message).toContain(`s3://${BUCKET}/spend/`);
      expect(logsOf(lines).find((l) => l.message === 'run went on without spend')).toMatchObject({ spendPrefix: `s3://${BUCKET}/spend/` });
    });

    it('with a spend file holding a bad row, counts the row as rejected and keeps the rest', async () => {
      const csv = 'channel,month,spend\nsearch,2025-01,100\nsearch,2025-02,-5\n';
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'spend/2025.csv', Body: csv }));

      const { result } = await captureStdout(() => withSpend()({ runDate: '2025-12-31' }, context));

      expect(result).toMatchObject({ status: 'succeeded' });
      const summary = await readJson('summary/run_date=2025-12-31/summary.json');
      expect(summary.spend_input).toMatchObject({ sources: [`s3://${BUCKET}/spend/2025.csv`], input_rows: 2, accepted_rows: 1, rejected_rows: 1, total_spend: 100 });
      expect(summary.spend_input.rejected_by_reason).toMatchObject({ negative_spend: 1 });
      expect((summary.changes.warnings as { code: string }[]).map((w) => w.code)).not.toContain('spend_input_missing');
    });
  });

  describe('a failed run', () => {
    it('logs an Athena failure once with the run id and query id, counts AthenaQueryFailed and RunFailed, and rethrows', async () => {
      standIn.failNextQuery('HIVE_BAD_DATA: Error parsing field value');

      const { error, lines } = await captureStdout(() => handler(SCHEDULER_EVENT, context));

      expect(error).toMatchObject({ name: 'AthenaQueryError', state: 'FAILED' });
      const errors = logsOf(lines).filter((l) => l.level === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        message: 'run failed, nothing published',
        runId: expect.any(String),
        athenaQueryExecutionId: (error as AthenaQueryError).queryExecutionId,
        athenaReason: 'HIVE_BAD_DATA: Error parsing field value',
        error: expect.objectContaining({ name: 'AthenaQueryError' }),
      });
      expect(metricValues(lines)).toMatchObject({ [METRIC.runFailed]: 1, [METRIC.athenaQueryFailed]: 1 });
      expect(metricValues(lines)).not.toHaveProperty(METRIC.runSucceeded);
      expect(await outputKeys()).toEqual([]);
    });

    it('stops at a failed data-quality gate: previous night untouched, quality report under _quality/, QualityGateFailed, rethrown', async () => {
      await captureStdout(() => handler({ runDate: '2025-12-31' }, context));
      const before = await outputSnapshot();
      // a broken drop lands beside the good exports: 6,000 rows whose dates nobody can read
      const broken = ['order_id,customer_id,order_date,amount', ...Array.from({ length: 6000 }, (_, i) => `X${i},CX${i},31.02.2026,10.00`)].join('\n');
      await ingest.drop('zz-broken.csv', broken);

      let outcome;
      try {
        outcome = await captureStdout(() => handler({ runDate: '2026-01-15' }, context));
      } finally {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'orders/zz-broken.csv' }));
        await ingest.handle(s3Event(BUCKET, 'Object Deleted', 'orders/zz-broken.csv'));
      }
      const { error, lines } = outcome;

      expect(error).toMatchObject({ name: 'QualityGateError' });
      const after = await outputSnapshot();
      const quality = 'quality/run_date=2026-01-15/quality.json'.replace(/^/, '_');
      expect(Object.keys(after).filter((k) => !(k in before))).toEqual([quality]);
      for (const [key, body] of Object.entries(before)) expect(after[key], key).toBe(body);
      expect((await readJson('latest.json')).run_date).toBe('2025-12-31');
      const report = qualityReportSchema.parse(await readJson(quality));
      expect(report).toMatchObject({ passed: false, published: false, run_date: '2026-01-15' });
      expect(report.gates.find((g) => g.gate === 'rejected_share')).toMatchObject({ passed: false, threshold: 0.2 });
      const previous = await readJson('summary/run_date=2025-12-31/summary.json');
      expect(report.top_reasons[0]).toMatchObject({ reason: 'invalid_order_date', rows: 6000 + previous.counts.rejected_by_reason.invalid_order_date });
      expect(report.top_reasons[0]!.samples).toHaveLength(3);
      expect(report.top_reasons[0]!.samples.every((s) => s.reason === 'invalid_order_date' && typeof s.source_file === 'string')).toBe(true);
      expect(metricValues(lines)).toMatchObject({ [METRIC.runFailed]: 1, [METRIC.qualityGateFailed]: 1 });
      const errors = logsOf(lines).filter((l) => l.level === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ message: 'run stopped by a data-quality gate, nothing published', qualityReport: `s3://${BUCKET}/clv/${quality}` });

      // the broken drop gone, the night runs again and is published: the failed run's report goes with it
      const again = await captureStdout(() => handler({ runDate: '2026-01-15' }, context));
      expect(again.result).toMatchObject({ status: 'succeeded' });
      expect(await outputKeys()).not.toContain(quality);
    });

    it('holds the night against the gate thresholds of its environment', async () => {
      const strict = anotherInstance(motoS3Client(moto.endpoint), { ...GOOD_ENV, [LAMBDA_ENV.gateMinAcceptedOrders]: '1000000000' });

      const { error } = await captureStdout(() => strict({ runDate: '2025-12-31' }, context));

      expect(error).toMatchObject({ name: 'QualityGateError' });
      const quality = 'quality/run_date=2025-12-31/quality.json'.replace(/^/, '_');
      expect(await outputKeys()).toEqual([quality]);
      const report = qualityReportSchema.parse(await readJson(quality));
      expect(report.gates.filter((g) => !g.passed)).toEqual([expect.objectContaining({ gate: 'accepted_orders', threshold: 1_000_000_000 })]);
    });

    it('goes on without an export in quarantine and names it, with the reason, in the summary\'s warnings', async () => {
      const excel = await readFile(join(repoRoot, 'test', 'fixtures', 'cases', 'utf16', 'orders.csv'));
      const quarantined = await ingest.drop('zz-excel.csv', excel);
      expect(quarantined).toMatchObject({ status: 'quarantined' });

      let outcome;
      try {
        outcome = await captureStdout(() => handler({ runDate: '2025-12-31' }, context));
      } finally {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'orders/zz-excel.csv' }));
        await ingest.handle(s3Event(BUCKET, 'Object Deleted', 'orders/zz-excel.csv'));
      }

      expect(outcome.result).toMatchObject({ status: 'succeeded', runDate: '2025-12-31' });
      const summary = await readJson('summary/run_date=2025-12-31/summary.json');
      expect(summary.run.inputs.files).toBe(3);
      const reason = (quarantined as { reason: string }).reason;
      expect(summary.warnings).toContainEqual({ code: 'unreadable_file', message: `s3://${BUCKET}/orders/zz-excel.csv was left out: it ${reason}` });
      expect(logsOf(outcome.lines).find((l) => l.message === 'exports in quarantine are left out')).toMatchObject({
        quarantined: [{ source: `s3://${BUCKET}/orders/zz-excel.csv`, reason }],
      });
    });

    it('keeps the previous run of the night for every reader when the switch fails, and says the run failed', async () => {
      const first = await captureStdout(() => handler({ runDate: '2025-12-31' }, context));
      const previous = (first.result as { runId: string }).runId;
      // the commit: the PUT of the night's manifest (not the run's own copy under _runs/)
      const failing = anotherInstance(motoS3ClientFailing(moto.endpoint, (command, key) => command === 'PutObjectCommand' && key === 'clv/summary/run_date=2025-12-31/_manifest.json'));

      const { error, lines } = await captureStdout(() => failing({ runDate: '2025-12-31' }, context));

      expect(error).toMatchObject({ name: 'PublishError' });
      expect((error as Error).message).toContain(`readers still see run ${previous}`);
      expect((await readJson('summary/run_date=2025-12-31/_manifest.json')).runId).toBe(previous);
      expect(Object.values(await partitionLocations(glue, 'customers', '2025-12-31')).every((l) => l.includes(`/_runs/${previous}/`))).toBe(true);
      const errors = logsOf(lines).filter((l) => l.level === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(metricValues(lines)).toMatchObject({ [METRIC.runFailed]: 1 });
      expect((await outputKeys()).filter((k) => k.startsWith('_runs/')).map((k) => k.split('/')[1])).toEqual(expect.not.arrayContaining([errors[0]!.runId]));
    });
  });
});
