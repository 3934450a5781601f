/**
 * The ingest function's wiring: S3 events of the drop prefix (through EventBridge) in, canonical
 * Parquet, receipts and quarantine entries out (pipeline/ingest-drop.ts); logs and metrics through
 * Powertools as the nightly handler's. ingest-handler.ts instantiates it at cold start.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { S3DropBucket } from './adapters/s3-drop-bucket.js';
import { s3ClientFromEnvironment } from './aws-clients.js';
import { SnsNotifier } from './adapters/sns-notifier.js';
import { ConfigurationError, UnreadableExportError } from './errors.js';
import type { IngestSettings } from './ingest-env.js';
import type { IngestConfig } from './ingest/ingest-config.js';
import { INGEST_CONCURRENCY, ingestExport } from './ingest/ingest-export.js';
import { INGEST_ENV, INGEST_METRIC, METRICS_NAMESPACE } from './lambda-contract.js';
import { ReingestError, droppedKey, ingestDropped, reingestAll, removeDropped, type IngestDropDeps, type IngestExport, type IngestOutcome } from './pipeline/ingest-drop.js';

/** S3's events as EventBridge delivers them (the bucket's `eventBridgeEnabled`); the object key URL-encoded (see droppedKey). */
const s3EventSchema = z.looseObject({
  source: z.literal('aws.s3'),
  'detail-type': z.enum(['Object Created', 'Object Deleted']),
  detail: z.looseObject({
    bucket: z.looseObject({ name: z.string().min(1) }),
    object: z.looseObject({ key: z.string().min(1) }),
  }),
});

/** `{ "reingest": true }`: read every export again (a backfill, a changed reading configuration). */
const reingestEventSchema = z.strictObject({ reingest: z.literal(true) });

export const ingestEventSchema = z.union([s3EventSchema, reingestEventSchema]);
export type IngestEvent = z.input<typeof ingestEventSchema>;

export interface IngestHandlerResult {
  readonly outcomes: readonly IngestOutcome[];
}

export interface IngestHandlerDeps {
  readonly settings: IngestSettings;
  /** @default ingestExport, the one reader the CLI uses too, with DuckDB's memory bounded for the function */
  readonly ingest?: IngestExport<IngestConfig>;
  /** @default a client from the SDK's standard chain, path-style when an endpoint override is set */
  readonly s3?: S3Client;
  /** @default a client from the SDK's standard chain (`AWS_ENDPOINT_URL_SNS`) */
  readonly sns?: SNSClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  /** Parent of the per-export scratch folders. @default os.tmpdir() */
  readonly scratch?: string;
}

/**
 * DuckDB's buffer memory for one read: half the function's memory (the rest is Node's heap, the
 * streams, and DuckDB's working memory outside its buffer pool, ~120 MB for a scan into Parquet on
 * two threads, measured by test/ingest-handler.test.ts), shared equally by the `readsAtOnce` exports being read (a re-ingest reads
 * INGEST_CONCURRENCY at once), spilling to /tmp beyond it. Outside Lambda, ingestExport's default.
 */
const ingestMemoryLimit = (readsAtOnce: number): string | undefined => {
  const mb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isFinite(mb) && mb > 0 ? `${Math.floor(mb / 2 / Math.max(1, readsAtOnce))}MB` : undefined;
};

const parseEvent = (event: unknown): z.output<typeof ingestEventSchema> => {
  const parsed = ingestEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new ConfigurationError(
      'the event is neither an S3 "Object Created" or "Object Deleted" event from EventBridge nor { "reingest": true }',
    );
  }
  return parsed.data;
};

/** Where this function's reading configuration is set, for the quarantine reasons that advise a setting (the CLI's says --config). */
const INGEST_CONFIG_PLACE = `the ingest function's ${INGEST_ENV.ingestConfig} (the stack's ingestConfig context)`;

export const createIngestHandler = (deps: IngestHandlerDeps) => {
  const { settings } = deps;
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE });
  const drop: IngestDropDeps<IngestConfig> = {
    bucket: new S3DropBucket(deps.s3 ?? s3ClientFromEnvironment(), settings.bucket),
    prefixes: settings.prefixes,
    notifier: new SnsNotifier(deps.sns ?? new SNSClient({ maxAttempts: 5 }), settings.quarantineTopicArn),
    ingest: deps.ingest ?? (({ readsAtOnce, ...request }) => ingestExport({ ...request, memoryLimit: ingestMemoryLimit(readsAtOnce), configPlace: INGEST_CONFIG_PLACE })),
    unreadableReason: (error) => (error instanceof UnreadableExportError ? error.reason : null),
    config: settings.config,
    now: deps.now ?? (() => new Date()),
    scratch: deps.scratch,
    concurrency: INGEST_CONCURRENCY,
  };

  const record = (outcome: IngestOutcome, seconds: number): void => {
    switch (outcome.status) {
      case 'ingested':
        metrics.addMetric(INGEST_METRIC.filesIngested, MetricUnit.Count, 1);
        metrics.addMetric(INGEST_METRIC.ingestedBytes, MetricUnit.Bytes, outcome.bytes);
        if (outcome.rows !== null) metrics.addMetric(INGEST_METRIC.ingestedRows, MetricUnit.Count, outcome.rows);
        metrics.addMetric(INGEST_METRIC.ingestSeconds, MetricUnit.Seconds, seconds);
        logger.info('export ingested', { ...outcome, seconds });
        return;
      case 'quarantined':
        metrics.addMetric(INGEST_METRIC.filesQuarantined, MetricUnit.Count, 1);
        logger.warn('export quarantined: it cannot be read', { ...outcome });
        return;
      case 'removed':
        metrics.addMetric(INGEST_METRIC.filesRemoved, MetricUnit.Count, 1);
        logger.info('export deleted: its canonical copy is removed', { ...outcome });
        return;
      case 'ignored':
        metrics.addMetric(INGEST_METRIC.objectsIgnored, MetricUnit.Count, 1);
        logger.info('object ignored', { ...outcome });
    }
  };

  return async (event: unknown, context?: Context): Promise<IngestHandlerResult> => {
    logger.resetKeys();
    if (context) logger.addContext(context);
    try {
      const parsed = parseEvent(event);
      if ('reingest' in parsed) {
        logger.info('re-ingesting every export', { prefix: settings.prefixes.input });
        const started = performance.now();
        const recordAll = (outcomes: readonly IngestOutcome[]): void => {
          const seconds = (performance.now() - started) / 1000;
          for (const outcome of outcomes) record(outcome, seconds / Math.max(1, outcomes.length));
        };
        try {
          const outcomes = await reingestAll(drop);
          recordAll(outcomes);
          return { outcomes };
        } catch (error) {
          // the exports handled are counted and logged as ever; the failures are the error's, logged once below
          if (error instanceof ReingestError) recordAll(error.outcomes);
          throw error;
        }
      }
      const { bucket, object } = parsed.detail;
      logger.appendKeys({ source: object.key });
      if (bucket.name !== settings.bucket) {
        const outcome: IngestOutcome = { status: 'ignored', source: object.key, reason: `an event of bucket ${bucket.name}, not ${settings.bucket}` };
        record(outcome, 0);
        return { outcomes: [outcome] };
      }
      const started = performance.now();
      const source = await droppedKey(drop, object.key);
      logger.appendKeys({ source });
      const outcome = parsed['detail-type'] === 'Object Created' ? await ingestDropped(drop, source) : await removeDropped(drop, source);
      record(outcome, (performance.now() - started) / 1000);
      return { outcomes: [outcome] };
    } catch (error) {
      // logged once here; the rethrow lets EventBridge's retries and the dead-letter queue take over
      logger.error('ingest failed', { error });
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
};
