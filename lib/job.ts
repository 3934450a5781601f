import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { gateThresholdsSchema, modelOptionsSchema, resolveModelOptions } from '../lambdas/clv-job/config.js';
import type { GateSettings } from '../lambdas/clv-job/domain/quality-gates.js';
import { LAMBDA_ENV, METRICS_NAMESPACE } from '../lambdas/clv-job/lambda-contract.js';
import { FUNCTION_ARCHITECTURE, NATIVE_MODULES, findProjectRoot, sharedBundling } from './bundling.js';
import type { ClvCatalog } from './catalog.js';
import type { ClvQuery } from './query.js';
import type { ClvStorage } from './storage.js';
import { failOnProblems, overlappingPrefixProblems, prefixProblem } from './validation.js';

/** The model options the job runs with (CLI flags of the same names). */
export type ClvModelOptions = z.input<typeof modelOptionsSchema>;

/** Data-quality gate thresholds (config `gates` of the same names); null turns a gate off. */
export type ClvGateSettings = Partial<GateSettings>;

export const DEFAULT_SERVICE_NAME = 'clv-job';
export const DEFAULT_MEMORY_SIZE_MB = 4096;
export const DEFAULT_TIMEOUT = Duration.minutes(15);
/** Relative to the project root (the folder holding package-lock.json). */
export const HANDLER_ENTRY = 'lambdas/clv-job/handler.ts';

/**
 * Packages the handler must never bundle: `@duckdb/node-api` is the local CLI's engine and the
 * ingest function's reader, a native binary the nightly function (which queries Athena) does not use.
 */
export const EXTERNAL_MODULES = NATIVE_MODULES;

export interface ClvJobProps {
  readonly storage: ClvStorage;
  readonly catalog: ClvCatalog;
  readonly query: ClvQuery;
  /**
   * The handler's source file.
   * @default '<project root>/lambdas/clv-job/handler.ts'
   */
  readonly entry?: string;
  /**
   * Memory in MB (1024-10240). CPU grows with memory, and the model fit is CPU bound.
   * @default 4096
   */
  readonly memorySize?: number;
  /**
   * Maximum duration of a run (5-15 minutes). It is also the lock TTL: a lock older than the longest
   * possible run was left by a killed run and may be taken over.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * Model options, validated by the job's own schema.
   * @default - the job's defaults: week, 52 weeks, 10% discount rate, margin 1, 3-year lifespan
   */
  readonly modelOptions?: ClvModelOptions;
  /**
   * Data-quality gate thresholds, validated by the job's own schema; each one left out keeps its default.
   * @default - the job's defaults: at most 20% rejected rows, at least half the previous run's customers, at least 1 accepted order, no date bounds
   */
  readonly gates?: ClvGateSettings;
  /**
   * Prefix (in the job's bucket) of the marketing-spend CSVs (channel, month YYYY-MM, spend): gives
   * CAC, LTV:CAC and payback per channel. Must not lie under the drop prefix.
   * @default - no spend input
   */
  readonly spendPrefix?: string;
  /**
   * Powertools service name: the `service` dimension of the job's metrics, which the alarms watch.
   * @default 'clv-job'
   */
  readonly serviceName?: string;
  /**
   * Retention of the function's logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * How long a replaced version of a night is kept for rollback (`{"action":"rollback"}`) before
   * a run removes it; versioning then keeps its bytes for `noncurrentVersionExpiration`.
   * @default Duration.days(30)
   */
  readonly keepPreviousVersions?: Duration;
  /**
   * Retries of a failed asynchronous invocation. 0: a failed night goes straight to the failed-runs
   * queue and its alarm, since most failures (a malformed export, a bad setting) fail again a
   * minute later, and each retry may cost a full 15-minute run; the scheduler's own retries cover
   * delivery, and the SDK retries transient AWS errors inside the run.
   * @default 0
   */
  readonly retryAttempts?: number;
}

/**
 * The nightly job: the Lambda function (bundled by the local esbuild), its log group, its role
 * with least-privilege grants, and the failed-runs queue its failed invocations land in.
 */
export class ClvJob extends Construct {
  public readonly function: NodejsFunction;
  /** Failed invocations (on-failure destination) and undeliverable schedule events. */
  public readonly failedRuns: Queue;
  public readonly serviceName: string;
  public readonly role: Role;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ClvJobProps) {
    super(scope, id);
    const { storage, catalog, query } = props;
    const memorySize = props.memorySize ?? DEFAULT_MEMORY_SIZE_MB;
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    const retryAttempts = props.retryAttempts ?? 0;
    const keepPreviousDays = (props.keepPreviousVersions ?? Duration.days(30)).toDays({ integral: false });
    this.serviceName = props.serviceName ?? DEFAULT_SERVICE_NAME;
    const modelOptions = modelOptionsSchema.safeParse(props.modelOptions ?? {});
    const gates = gateThresholdsSchema.safeParse(props.gates ?? {});
    failOnProblems('ClvJob', [
      ...(Number.isInteger(memorySize) && memorySize >= 1024 && memorySize <= 10240
        ? []
        : [`memorySize must be a whole number of MB from 1024 to 10240, got ${memorySize}`]),
      ...(timeout.toSeconds() >= 300 && timeout.toSeconds() <= 900
        ? []
        : [`timeout must be from 5 to 15 minutes, got ${timeout.toHumanString()}`]),
      ...(retryAttempts === 0 || retryAttempts === 1 || retryAttempts === 2
        ? []
        : [`retryAttempts must be 0, 1 or 2, got ${retryAttempts}`]),
      ...(/^[A-Za-z0-9._-]{1,64}$/.test(this.serviceName)
        ? []
        : [`serviceName must be 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(this.serviceName)}`]),
      ...(Number.isInteger(keepPreviousDays) && keepPreviousDays <= 3650 ? [] : [`keepPreviousVersions must be a whole number of days up to 3650, got ${keepPreviousDays}`]),
      ...(modelOptions.success
        ? []
        : modelOptions.error.issues.map((i) => `modelOptions.${i.path.join('.') || '?'}: ${i.message}`)),
      ...(gates.success ? [] : gates.error.issues.map((i) => `gates.${i.path.join('.') || '?'}: ${i.message}`)),
      ...spendPrefixProblems(props.spendPrefix, storage),
    ]);
    const gateSettings = gateThresholdsSchema.parse(props.gates ?? {});
    // the variables' text: `off` where null turns a gate off (lambda-env.ts reads it back)
    const gateText = (value: number | string | null): string => (value === null ? 'off' : String(value));
    const model = resolveModelOptions(props.modelOptions ?? {});

    const entry = resolve(props.entry ?? join(findProjectRoot(dirname(fileURLToPath(import.meta.url))), HANDLER_ENTRY));
    // The lockfile and node_modules the bundler resolves against are the entry's own project's.
    const projectRoot = findProjectRoot(dirname(entry));

    this.failedRuns = new Queue(this, 'FailedRuns', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failedRuns).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter store of the job: the Lambda on-failure destination and the schedule\'s dead-letter queue. Operators read it; nothing consumes it automatically.',
    });

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.THREE_MONTHS });
    // An own role instead of the default one: the default attaches the AWS managed
    // AWSLambdaBasicExecutionRole, which may write to every log group of the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Nightly CLV job: reads the canonical orders, queries Athena, publishes under the output prefix.',
    });
    this.logGroup.grants.write(this.role);

    const settings: Record<keyof typeof LAMBDA_ENV, string> = {
      bucket: storage.bucket.bucketName,
      inputPrefix: storage.inputPrefix,
      ingestedPrefix: storage.ingestedPrefix,
      quarantinePrefix: storage.quarantinePrefix,
      outputPrefix: storage.outputPrefix,
      athenaDatabase: catalog.databaseName,
      athenaTable: catalog.ordersTableName,
      athenaWorkgroup: query.workgroupName,
      timeUnit: model.timeUnit,
      transactions: model.transactions,
      horizon: String(model.horizon),
      discountRate: String(model.discountRate),
      margin: String(model.margin),
      lifespanYears: String(model.lifespanYears),
      intervalDraws: String(model.intervalDraws),
      intervalSeed: String(model.intervalSeed),
      lockTtlSeconds: String(timeout.toSeconds()),
      keepPreviousDays: String(keepPreviousDays),
      gateMaxRejectedShare: gateText(gateSettings.maxRejectedShare),
      gateMinRowsForRejectedShare: gateText(gateSettings.minRowsForRejectedShare),
      gateMinCustomersVsPrevious: gateText(gateSettings.minCustomersVsPrevious),
      gateMinRevenueVsPrevious: gateText(gateSettings.minRevenueVsPrevious),
      gateMaxDaysLatestOrderBeforePrevious: gateText(gateSettings.maxDaysLatestOrderBeforePrevious),
      gateMinAcceptedOrders: gateText(gateSettings.minAcceptedOrders),
      gateEarliestOrderDate: gateText(gateSettings.earliestOrderDate),
      gateMaxDaysSinceLatestOrder: gateText(gateSettings.maxDaysSinceLatestOrder),
      spendPrefix: props.spendPrefix ?? '',
    };

    this.function = new NodejsFunction(this, 'Function', {
      description: 'Nightly customer-lifetime-value job (Athena aggregates, BG/NBD + Gamma-Gamma, Parquet).',
      entry,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize,
      timeout,
      // One run at a time: a manual re-run during the nightly run waits in Lambda's async queue.
      reservedConcurrentExecutions: 1,
      role: this.role,
      logGroup: this.logGroup,
      onFailure: new SqsDestination(this.failedRuns),
      retryAttempts,
      maxEventAge: Duration.hours(6),
      environment: {
        ...Object.fromEntries(
          (Object.keys(settings) as (keyof typeof LAMBDA_ENV)[]).map((key) => [LAMBDA_ENV[key], settings[key]]),
        ),
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: { ...sharedBundling, externalModules: [...EXTERNAL_MODULES] },
    });

    // S3 by hand rather than grants.read/readWrite: those also give s3:DeleteObjectVersion (which
    // could erase the 30-day undo that versioning keeps) and the Object Lock actions
    // (PutObjectRetention, PutObjectLegalHold), which the job never needs.
    const objects = (prefix: string) => storage.bucket.arnForObjects(`${prefix}*`);
    this.function.addToRolePolicy(
      // Athena reads the canonical copies as the caller; the run reads the quarantine records into its warnings.
      new PolicyStatement({
        sid: 'ReadTheCanonicalCopiesAndQuarantine',
        actions: ['s3:GetObject'],
        resources: [objects(storage.ingestedPrefix), objects(storage.quarantinePrefix), ...(props.spendPrefix ? [objects(props.spendPrefix)] : [])],
      }),
    );
    // Each run's files, the run dates' manifests, latest.json, the publishing records and the lock.
    // DeleteObject adds a delete marker on this versioned bucket: the bytes stay recoverable.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'PublishUnderTheOutputPrefix',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [objects(storage.outputPrefix)],
      }),
    );
    // Athena writes results as the caller; the job reads large results from the file.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'AthenaResults',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [objects(storage.athenaResultsPrefix)],
      }),
    );
    // ListBucket cannot be scoped to a prefix by resource, only by the s3:prefix condition.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ListTheJobPrefixesOnly',
        actions: ['s3:ListBucket'],
        resources: [storage.bucket.bucketArn],
        conditions: {
          StringLike: {
            's3:prefix': [storage.ingestedPrefix, storage.quarantinePrefix, storage.outputPrefix, storage.athenaResultsPrefix, ...(props.spendPrefix ? [props.spendPrefix] : [])].map((p) => `${p}*`),
          },
        },
      }),
    );
    // Removing a run's staging or an expired version first aborts its unfinished uploads. The
    // s3:prefix condition key exists for ListBucket and ListBucketVersions only (the Service
    // Authorization Reference): a ListMultipartUploads request never carries it, so under the
    // condition above every listing was denied, and recovery with it every night after a failed
    // or re-published one. Unconditioned, it lists upload ids and keys, never object contents.
    this.function.addToRolePolicy(
      new PolicyStatement({ sid: 'ListUnfinishedUploads', actions: ['s3:ListBucketMultipartUploads'], resources: [storage.bucket.bucketArn] }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({ sid: 'LocateTheBucket', actions: ['s3:GetBucketLocation'], resources: [storage.bucket.bucketArn] }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'QueryThroughTheJobWorkgroup',
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
        resources: [query.workgroupArn],
      }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadTheJobTables',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
        resources: [catalog.catalogArn, catalog.databaseArn, ...catalog.tableArns],
      }),
    );
    // The switch for catalog readers: the output tables' run-date partitions point at a run's prefix.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'SwitchTheOutputPartitions',
        actions: ['glue:BatchCreatePartition', 'glue:BatchUpdatePartition', 'glue:BatchDeletePartition'],
        resources: [catalog.catalogArn, catalog.databaseArn, ...catalog.outputTableArns],
      }),
    );

    const bucketId = `${Stack.of(this).getLogicalId(storage.bucket.node.defaultChild as CfnElement)}.Arn`;
    const wildcardFindings: Record<string, string> = {
      [`Resource::<${bucketId}>/${storage.ingestedPrefix}*`]: 'Every canonical copy under the ingested prefix is input; their names follow the exports, chosen by the data teams.',
      [`Resource::<${bucketId}>/${storage.quarantinePrefix}*`]: 'The quarantine records are named after the exports, chosen by the data teams; the run lists them into its warnings.',
      [`Resource::<${bucketId}>/${storage.outputPrefix}*`]: 'Every key under the output prefix belongs to the job (runs, manifests, publishing records, lock, latest.json).',
      [`Resource::<${bucketId}>/${storage.athenaResultsPrefix}*`]: 'Athena names result files by query execution id.',
      ...(props.spendPrefix
        ? { [`Resource::<${bucketId}>/${props.spendPrefix}*`]: 'Every spend CSV under the spend prefix is input; their names are chosen by the marketing team (read only).' }
        : {}),
    };
    for (const [finding, reason] of Object.entries(wildcardFindings)) {
      Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x on purpose: the project is built and tested on Node 20/22 (DEPENDENCIES.md), and nodejs22.x is supported by Lambda; move to the newest runtime together with the toolchain.',
    });
  }
}

/**
 * The spend prefix, when given: a relative prefix ending in "/" that neither contains nor lies in
 * one of the storage prefixes (spend files under the drop prefix would be ingested as orders; under
 * the output prefix they would be the job's to replace). The function checks the same at cold start;
 * here it fails at synth time instead.
 */
const spendPrefixProblems = (spendPrefix: string | undefined, storage: ClvStorage): string[] => {
  if (spendPrefix === undefined) return [];
  const shape = prefixProblem('spendPrefix', spendPrefix);
  if (shape !== undefined) return [shape];
  return overlappingPrefixProblems({
    spendPrefix,
    inputPrefix: storage.inputPrefix,
    ingestedPrefix: storage.ingestedPrefix,
    quarantinePrefix: storage.quarantinePrefix,
    outputPrefix: storage.outputPrefix,
    athenaResultsPrefix: storage.athenaResultsPrefix,
  }).filter((problem) => problem.startsWith('spendPrefix '));
};
