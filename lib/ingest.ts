import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Size, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Runtime, type Architecture } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ingestConfigSchema, type IngestConfigInput } from '../lambdas/clv-job/ingest/ingest-config.js';
import { INGEST_ENV, INGEST_METRIC, METRICS_NAMESPACE } from '../lambdas/clv-job/lambda-contract.js';
import { FUNCTION_ARCHITECTURE, findProjectRoot, nativeModuleBundling } from './bundling.js';
import type { ClvStorage } from './storage.js';
import { failOnProblems } from './validation.js';

export const INGEST_HANDLER_ENTRY = 'lambdas/clv-job/ingest-handler.ts';
export const DEFAULT_INGEST_SERVICE_NAME = 'clv-ingest';
export const DEFAULT_INGEST_MEMORY_SIZE_MB = 4096;
/** Room for the export, its canonical copy and DuckDB's spill files of one large export at once. */
export const DEFAULT_INGEST_EPHEMERAL_STORAGE = Size.gibibytes(10);

export interface ClvIngestProps {
  readonly storage: ClvStorage;
  /** Topic of the operators' alarms (failed ingests, quarantined files). */
  readonly alarmTopic: ITopic;
  /**
   * The ingest handler's source file.
   * @default '<project root>/lambdas/clv-job/ingest-handler.ts'
   */
  readonly entry?: string;
  /**
   * The function's architecture; DuckDB's native binding is installed for it.
   * @default FUNCTION_ARCHITECTURE (arm64, as the nightly function)
   */
  readonly architecture?: Architecture;
  /**
   * Memory in MB (1024-10240): DuckDB reads an export with the CPU this buys.
   * @default 4096
   */
  readonly memorySize?: number;
  /**
   * Ephemeral storage (/tmp) for the export, its canonical copy and DuckDB's spill files, 1-10 GiB.
   * @default Size.gibibytes(10)
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * How exports are read: the config file's `columns` (and reading options), as JSON in the environment.
   * @default - the default column names
   */
  readonly ingestConfig?: IngestConfigInput;
  /**
   * An address the quarantine topic e-mails when an export cannot be read (confirm from the mail).
   * @default - no subscription; subscribe the data team to the topic yourself
   */
  readonly quarantineEmail?: string;
  /**
   * Powertools service name: the `service` dimension of the ingest metrics.
   * @default 'clv-ingest'
   */
  readonly serviceName?: string;
  /**
   * Retention of the function's logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/**
 * Ingest on drop (SPEC "Pipeline", step 0): an EventBridge rule sends every Object Created and
 * Object Deleted event of the drop prefix to the ingest function, which writes each export's
 * canonical Parquet copy and receipt, or quarantines it and publishes to the quarantine topic.
 * Events that fail after the retries land in a dead-letter queue; alarms watch it and the
 * quarantine count. docs/deploy.md describes the flow, docs/lambda.md the function's contract.
 */
export class ClvIngest extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;
  public readonly rule: Rule;
  /** Events the function failed on after every retry, and events EventBridge could not deliver. */
  public readonly deadLetterQueue: Queue;
  /** Told of every quarantined export, within a minute: subscribe the data team. */
  public readonly quarantineTopic: Topic;
  public readonly serviceName: string;
  public readonly failedEvents: IAlarm;
  public readonly filesQuarantined: IAlarm;

  constructor(scope: Construct, id: string, props: ClvIngestProps) {
    super(scope, id);
    const { storage } = props;
    const architecture = props.architecture ?? FUNCTION_ARCHITECTURE;
    const memorySize = props.memorySize ?? DEFAULT_INGEST_MEMORY_SIZE_MB;
    const ephemeral = props.ephemeralStorageSize ?? DEFAULT_INGEST_EPHEMERAL_STORAGE;
    this.serviceName = props.serviceName ?? DEFAULT_INGEST_SERVICE_NAME;
    const config = ingestConfigSchema.safeParse(props.ingestConfig ?? {});
    failOnProblems('ClvIngest', [
      ...(Number.isInteger(memorySize) && memorySize >= 1024 && memorySize <= 10240
        ? []
        : [`memorySize must be a whole number of MB from 1024 to 10240, got ${memorySize}`]),
      ...(ephemeral.toMebibytes() >= 1024 && ephemeral.toMebibytes() <= 10240
        ? []
        : [`ephemeralStorageSize must be from 1 to 10 GiB, got ${ephemeral.toMebibytes()} MiB`]),
      ...(/^[A-Za-z0-9._-]{1,64}$/.test(this.serviceName)
        ? []
        : [`serviceName must be 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(this.serviceName)}`]),
      ...(props.quarantineEmail === undefined || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.quarantineEmail)
        ? []
        : [`quarantineEmail must be an e-mail address, got ${JSON.stringify(props.quarantineEmail)}`]),
      ...(config.success ? [] : config.error.issues.map((i) => `ingestConfig.${i.path.join('.') || '?'}: ${i.message}`)),
    ]);

    const entry = resolve(props.entry ?? join(findProjectRoot(dirname(fileURLToPath(import.meta.url))), INGEST_HANDLER_ENTRY));
    const projectRoot = findProjectRoot(dirname(entry));

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter store of the ingest: the Lambda on-failure destination and the EventBridge target\'s dead-letter queue. Operators read it and re-drive with { "reingest": true }.',
    });

    // SSE with the AWS managed SNS key: the publisher is this account's function (IAM grants it),
    // not a service principal, so no key policy of our own is needed.
    this.quarantineTopic = new Topic(this, 'QuarantineTopic', {
      displayName: 'CLV exports quarantined',
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    if (props.quarantineEmail) this.quarantineTopic.addSubscription(new EmailSubscription(props.quarantineEmail));

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.THREE_MONTHS });
    // An own role instead of the default one, which attaches the AWS managed AWSLambdaBasicExecutionRole.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'CLV ingest: reads dropped exports, writes canonical copies, receipts and quarantine entries.',
    });
    this.logGroup.grants.write(this.role);

    const settings: Record<keyof typeof INGEST_ENV, string> = {
      bucket: storage.bucket.bucketName,
      inputPrefix: storage.inputPrefix,
      ingestedPrefix: storage.ingestedPrefix,
      quarantinePrefix: storage.quarantinePrefix,
      quarantineTopicArn: this.quarantineTopic.topicArn,
      ingestConfig: JSON.stringify(props.ingestConfig ?? {}),
    };
    this.function = new NodejsFunction(this, 'Function', {
      description: 'CLV ingest: one export per S3 event, read by DuckDB into canonical Parquet and a receipt, or quarantined.',
      entry,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture,
      memorySize,
      ephemeralStorageSize: ephemeral,
      timeout: Duration.minutes(15),
      role: this.role,
      logGroup: this.logGroup,
      onFailure: new SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      environment: {
        ...Object.fromEntries((Object.keys(settings) as (keyof typeof INGEST_ENV)[]).map((key) => [INGEST_ENV[key], settings[key]])),
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: nativeModuleBundling(architecture),
    });

    this.rule = new Rule(this, 'OnDrop', {
      description: 'Every export created or deleted under the drop prefix goes to the CLV ingest function.',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created', 'Object Deleted'],
        detail: { bucket: { name: [storage.bucket.bucketName] }, object: { key: [{ prefix: storage.inputPrefix }] } },
      },
      targets: [
        new LambdaFunction(this.function, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(6) }),
      ],
    });

    storage.bucket.grants.read(this.function, `${storage.inputPrefix}*`);
    storage.bucket.grants.readWrite(this.function, `${storage.ingestedPrefix}*`);
    storage.bucket.grants.readWrite(this.function, `${storage.quarantinePrefix}*`);
    // sns:Publish alone: the AWS managed SNS key's own policy lets this account use it through SNS,
    // and grants.publish would add kms:GenerateDataKey* on every key of the account (the alias
    // does not resolve to a key ARN at synth time).
    this.function.addToRolePolicy(
      new PolicyStatement({ sid: 'AnnounceQuarantinedExports', actions: ['sns:Publish'], resources: [this.quarantineTopic.topicArn] }),
    );

    const bucketId = `${Stack.of(this).getLogicalId(storage.bucket.node.defaultChild as CfnElement)}.Arn`;
    const wildcardFindings: Record<string, string> = {
      'Action::s3:GetObject*': 'grants.read/readWrite: GetObject plus its version, ACL-free variants; scoped to the drop, ingested and quarantine prefixes.',
      'Action::s3:GetBucket*': 'grants.read: bucket metadata (location, versioning) the SDK asks for.',
      'Action::s3:List*': 'grants.read: listing the drop, ingested and quarantine prefixes for a re-ingest (S3 scopes ListBucket by condition only).',
      'Action::s3:DeleteObject*': 'grants.readWrite on the ingested and quarantine prefixes: a deleted or re-dropped export takes its copy, receipt or quarantine entry with it.',
      'Action::s3:Abort*': 'grants.readWrite: aborting the multipart upload of a large canonical copy when an ingest fails.',
      [`Resource::<${bucketId}>/${storage.inputPrefix}*`]: 'Every export under the drop prefix is input; file names are chosen by the data teams.',
      [`Resource::<${bucketId}>/${storage.ingestedPrefix}*`]: 'Canonical copies and receipts are named after the exports, chosen by the data teams.',
      [`Resource::<${bucketId}>/${storage.quarantinePrefix}*`]: 'Quarantined copies and their records are named after the exports, chosen by the data teams.',
    };
    for (const [finding, reason] of Object.entries(wildcardFindings)) {
      Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x on purpose, as the nightly function: the project is built and tested on Node 20/22 and nodejs22.x is supported by Lambda.',
    });

    const alarm = (alarmId: string, description: string, metric: Metric): IAlarm => {
      const a = new Alarm(this, alarmId, {
        alarmDescription: `${description} See docs/deploy.md, "Alarms".`,
        metric,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new SnsAction(props.alarmTopic));
      a.addOkAction(new SnsAction(props.alarmTopic));
      return a;
    };
    this.failedEvents = alarm(
      'FailedEvents',
      'An export event failed ingest after every retry and waits in the ingest dead-letter queue.',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
    );
    this.filesQuarantined = alarm(
      'FilesQuarantined',
      'An export could not be read and was quarantined; the nightly run leaves it out.',
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: INGEST_METRIC.filesQuarantined,
        dimensionsMap: { service: this.serviceName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
    );
  }
}
