/**
 * The Lambda composition root (SPEC "Lambda contract"), the twin of cli.ts: wires Athena, S3 and
 * the Parquet writer into the same pipeline, and turns the outcome into logs, metrics and a
 * result or a rethrown error. Settings are read once, at cold start.
 */
import { randomUUID } from 'node:crypto';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { AthenaEngine, AthenaQueryError } from './adapters/athena-engine.js';
import { athenaClientFromEnvironment, s3ClientFromEnvironment } from './aws-clients.js';
import { ParquetTableWriter } from './adapters/parquet-table-writer.js';
import { listQuarantined } from './adapters/s3-quarantine.js';
import { REASONS_DIR } from './ingest-layout.js';
import { S3Store } from './adapters/s3-store.js';
import { defaultThreads, isIntervalWorker, serveIntervalWorker, WorkerIntervals } from './adapters/worker-intervals.js';
import { isAudienceWorker, serveAudienceWorker, WorkerAudiences } from './adapters/worker-audiences.js';
import type { IntervalRunner } from './ports.js';
import { asOfDateSchema, isoDateSchema } from './config.js';
import { ConfigurationError, QualityGateError, RunLockedError } from './errors.js';
import { METRIC, METRICS_NAMESPACE } from './lambda-contract.js';
import { CATALOG_TABLES } from './layout.js';
import { loadLambdaSettings, type LambdaSettings } from './lambda-env.js';
import { S3SpendSource } from './adapters/s3-spend.js';
import { recoverPublishing, rollbackNight, runPipeline, underLock, type ProgressListener } from './pipeline/run.js';
import { renderReport } from './report/render-report.js';
import { buildRunConfig } from './run-config.js';
import type { Summary } from './schemas/summary.js';

/**
 * The scheduler's event (anything without `runDate` or `action`: as-of = the latest valid order
 * date), `{ "runDate": "YYYY-MM-DD" }` (a manual re-run of that night, as-of = runDate),
 * A manual run may add `"acceptFailedGates": true` to
 * publish although a data-quality gate fails, on purpose. `{ "action": "rollback", "runDate": "YYYY-MM-DD" }` (switch that night back to the version its
 * current one replaced) or `{ "action": "recover" }` (finish or undo a publish a crash
 * interrupted; every run does this first anyway).
 */
export const lambdaEventSchema = (now: Date) =>
  z
    .looseObject({ action: z.enum(['run', 'rollback', 'recover']).optional(), runDate: isoDateSchema.optional(), acceptFailedGates: z.boolean().optional() })
    .refine((e) => e.action !== 'rollback' || e.runDate !== undefined, { message: 'a rollback needs runDate', path: ['runDate'] })
    // a run's as-of date is bounded (latestAsOf); a rollback may name any night a run left behind
    .superRefine((e, ctx) => {
      if (e.action === 'rollback' || e.runDate === undefined) return;
      for (const issue of asOfDateSchema(now).safeParse(e.runDate).error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: ['runDate'] });
    })
    .nullish();
export type LambdaEvent = z.input<ReturnType<typeof lambdaEventSchema>>;

export type HandlerResult =
  | {
      readonly status: 'succeeded';
      readonly runId: string;
      readonly runDate: string;
      readonly output: string;
      readonly counts: Summary['counts'];
      readonly files: number;
      readonly durationSeconds: number;
      /** Published; clean-up after the switch that did not happen (the next run finishes it). */
      readonly warnings: readonly string[];
    }
  | { readonly status: 'skipped'; readonly reason: 'already running' }
  | { readonly status: 'rolled_back'; readonly runDate: string; readonly runId: string; readonly warnings: readonly string[] }
  | { readonly status: 'recovered'; readonly actions: readonly string[]; readonly warnings: readonly string[] };

export interface HandlerDeps {
  readonly settings: LambdaSettings;
  /** @default a client from the SDK's standard chain, path-style when an endpoint override is set */
  readonly s3?: S3Client;
  /** @default a client from the SDK's standard chain, adaptive retries */
  readonly athena?: AthenaClient;
  /** Registers the output's Glue partitions. @default a client from the SDK's standard chain (`AWS_ENDPOINT_URL_GLUE`) */
  readonly glue?: GlueClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  readonly newRunId?: () => string;
  /** @default worker threads on every vCPU the function has (model.threads), started from this bundle */
  readonly intervals?: IntervalRunner;
}

/** The failure's AthenaQueryError, when an Athena query is what failed (possibly wrapped). */
const athenaFailure = (error: unknown): AthenaQueryError | null => {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof AthenaQueryError) return e;
  }
  return null;
};

type ParsedEvent = { readonly action: 'run'; readonly runDate?: string; readonly acceptFailedGates?: boolean } | { readonly action: 'rollback'; readonly runDate: string } | { readonly action: 'recover' };

const parseEvent = (event: unknown, now: Date): ParsedEvent => {
  const parsed = lambdaEventSchema(now).safeParse(event);
  if (!parsed.success) {
    throw new ConfigurationError(
      `the event is not a scheduler event, { "runDate": "YYYY-MM-DD" }, { "action": "rollback", "runDate": "YYYY-MM-DD" } or { "action": "recover" }: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'event'} ${i.message}`).join('; ')}`,
    );
  }
  const { action, runDate, acceptFailedGates } = parsed.data ?? {};
  if (action === 'rollback' && runDate) return { action, runDate };
  if (action === 'recover') return { action };
  return { action: 'run', ...(runDate ? { runDate } : {}), ...(acceptFailedGates ? { acceptFailedGates: true } : {}) };
};

const loggedProgress = (logger: Logger): ProgressListener => ({
  stageStarted: (stage) => logger.debug('stage started', { stage }),
  stageFinished: (stage, seconds, detail) => logger.info('stage finished', { stage, seconds: Math.round(seconds * 1000) / 1000, detail }),
});

/**
 * When the invocation's Athena queries must have ended (epoch ms), from `remainingMs` (the Lambda
 * context's getRemainingTimeInMillis at the start): a quarter of it, at least a minute, is left to
 * fit, write and publish (about 20 s at a million customers; docs/scale.md) and to fail cleanly.
 */
export const queryDeadlineOf = (now: number, remainingMs: number): number => now + remainingMs - Math.max(60_000, remainingMs / 4);

export const createHandler = (deps: HandlerDeps) => {
  const { settings } = deps;
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE });
  const s3 = deps.s3 ?? s3ClientFromEnvironment();
  const athena = deps.athena ?? athenaClientFromEnvironment();
  const newRunId = deps.newRunId ?? randomUUID;
  const now = deps.now ?? (() => new Date());
  // set per invocation: no Athena query outlives the function (AthenaEngineOptions.deadline)
  let queryDeadline: number | null = null;
  const engine = new AthenaEngine({
    athena,
    s3,
    database: settings.athena.database,
    table: settings.athena.table,
    workgroup: settings.athena.workgroup,
    inputLocation: `s3://${settings.bucket}/${settings.ingestedPrefix}`,
    deadline: () => queryDeadline,
    // a drop read during the night adds or removes its record there: the night reads again
    watchedLocations: [`s3://${settings.bucket}/${settings.quarantinePrefix}${REASONS_DIR}/`],
  });
  const glue = deps.glue ?? new GlueClient({ maxAttempts: 5 });
  const store = new S3Store({
    client: s3,
    bucket: settings.bucket,
    prefix: settings.outputPrefix,
    catalog: { client: glue, database: settings.athena.database, tables: CATALOG_TABLES },
    keepPreviousDays: settings.keepPreviousDays,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const tables = new ParquetTableWriter();
  const intervals = deps.intervals ?? new WorkerIntervals({ threads: settings.model.threads, script: new URL(import.meta.url) });
  const audiences = new WorkerAudiences({ script: new URL(import.meta.url), worker: (settings.model.threads ?? defaultThreads()) > 1 });
  const spend = settings.spendPrefix === null ? null : new S3SpendSource({ client: s3, bucket: settings.bucket, prefix: settings.spendPrefix });

  return async (event: unknown, context?: Context): Promise<HandlerResult> => {
    const started = performance.now();
    const runId = newRunId();
    logger.resetKeys();
    if (context) logger.addContext(context);
    logger.appendKeys({ runId });
    // a context without the method (a test's, an invocation outside Lambda) has no end to keep to
    queryDeadline = typeof context?.getRemainingTimeInMillis === 'function' ? queryDeadlineOf(Date.now(), context.getRemainingTimeInMillis()) : null;
    const seconds = () => Math.round(performance.now() - started) / 1000;
    try {
      const request = parseEvent(event, now());
      if (request.action !== 'run') {
        // rollback and recovery hold the run lock as a run does, and recover first
        const lock = await store.lock(runId, settings.lockTtlSeconds);
        const { result: report, warnings: lockWarnings } = await underLock(lock, async () => {
          const recovery = await recoverPublishing(store);
          for (const action of recovery.actions) logger.info('recovered', { action });
          return { recovery, rollback: request.action === 'rollback' ? await rollbackNight(store, request.runDate) : null };
        });
        const { recovery, rollback } = report;
        if (rollback === null) {
          const warnings = [...recovery.warnings, ...lockWarnings];
          if (warnings.length > 0) logger.warn('recovery left work undone', { warnings });
          return { status: 'recovered', actions: recovery.actions, warnings };
        }
        const warnings = [...recovery.warnings, ...rollback.warnings, ...lockWarnings];
        logger.info('rolled back', { runDate: rollback.runDate, liveRunId: rollback.runId, warnings });
        return { status: 'rolled_back', runDate: rollback.runDate, runId: rollback.runId, warnings };
      }
      const { runDate, acceptFailedGates } = request;
      logger.info('run started', { ...(runDate ? { requestedRunDate: runDate } : {}), event, output: store.location });
      // the exports ingest could not read (or is reading): the night goes on without them and names them in its warnings
      const skippedInputs = async () => {
        const quarantined = await listQuarantined(s3, settings.bucket, settings.quarantinePrefix);
        if (quarantined.length > 0) logger.warn('exports in quarantine are left out', { quarantined });
        return quarantined;
      };
      const result = await runPipeline(
        { engine, store, tables, now, newRunId: () => runId, progress: loggedProgress(logger), renderReport, intervals, audiences, skippedInputs, ...(spend ? { spend } : {}) },
        buildRunConfig({ asOf: runDate, model: settings.model, lockTtlSeconds: settings.lockTtlSeconds, gates: settings.gates, acceptFailedGates }),
      );
      const { counts } = result.summary;
      const durationSeconds = seconds();
      metrics.addMetric(METRIC.inputRows, MetricUnit.Count, counts.input_rows);
      metrics.addMetric(METRIC.rejectedRows, MetricUnit.Count, counts.rejected_rows);
      metrics.addMetric(METRIC.customers, MetricUnit.Count, counts.customers);
      metrics.addMetric(METRIC.durationSeconds, MetricUnit.Seconds, durationSeconds);
      metrics.addMetric(METRIC.runSucceeded, MetricUnit.Count, 1);
      for (const action of result.recovery.actions) logger.info('recovered', { action });
      const spendMissing = result.summary.changes.warnings.find((w) => w.code === 'spend_input_missing');
      if (spendMissing) logger.warn('run went on without spend', { spendPrefix: spend?.location, warning: spendMissing.message });
      // published: a clean-up failure after the switch is a warning, never a failed run
      if (result.publishWarnings.length > 0) logger.warn('run published, clean-up pending', { warnings: result.publishWarnings });
      logger.info('run succeeded', {
        runDate: result.summary.run.run_date,
        counts,
        files: result.files.length,
        durationSeconds,
        summary: `${store.location}summary/run_date=${result.summary.run.run_date}/summary.json`,
      });
      return {
        status: 'succeeded',
        runId,
        runDate: result.summary.run.run_date,
        output: store.location,
        counts,
        files: result.files.length,
        durationSeconds,
        warnings: result.publishWarnings,
      };
    } catch (error) {
      if (error instanceof RunLockedError) {
        // the other run is doing tonight's work: stepping aside is not a failure
        metrics.addMetric(METRIC.runSkippedLocked, MetricUnit.Count, 1);
        logger.warn('run skipped: another run holds the lock', { reason: error.message });
        return { status: 'skipped', reason: 'already running' };
      }
      const athenaError = athenaFailure(error);
      metrics.addMetric(METRIC.runFailed, MetricUnit.Count, 1);
      metrics.addMetric(METRIC.durationSeconds, MetricUnit.Seconds, seconds());
      if (error instanceof QualityGateError) {
        metrics.addMetric(METRIC.qualityGateFailed, MetricUnit.Count, 1);
        logger.error('run stopped by a data-quality gate, nothing published', {
          gates: error.report.gates.filter((g) => !g.passed),
          counts: error.report.counts,
          topReasons: error.report.top_reasons,
          qualityReport: `${store.location}${error.reportLocation}`,
        });
        throw error;
      }
      if (athenaError) metrics.addMetric(METRIC.athenaQueryFailed, MetricUnit.Count, 1);
      // logged here, once; the rethrow is for Lambda's error metric and the on-failure destination
      logger.error('run failed, nothing published', {
        error,
        ...(athenaError ? { athenaQueryExecutionId: athenaError.queryExecutionId, athenaState: athenaError.state, athenaReason: athenaError.reason } : {}),
      });
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
};

// Started again as an interval or audience worker thread (adapters/worker-intervals.ts, worker-audiences.ts): serve.
if (isIntervalWorker()) serveIntervalWorker();
if (isAudienceWorker()) serveAudienceWorker();

/** Read at cold start: a bad environment fails the initialisation, naming every bad variable. */
export const handler = createHandler({ settings: loadLambdaSettings() });
