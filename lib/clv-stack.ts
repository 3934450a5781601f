import { CfnOutput, Stack, type Duration, type Size, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ClvAlarms } from './alarms.js';
import { ClvCatalog } from './catalog.js';
import type { IngestConfigInput } from '../lambdas/clv-job/ingest/ingest-config.js';
import { ClvIngest } from './ingest.js';
import { ClvJob, type ClvGateSettings, type ClvModelOptions } from './job.js';
import { ClvQuery } from './query.js';
import { ClvSchedule } from './schedule.js';
import { ClvStorage } from './storage.js';

export interface ClvStackProps extends StackProps {
  /**
   * Drop prefix of the order exports.
   * @default 'orders/'
   */
  readonly inputPrefix?: string;
  /**
   * Prefix of the canonical Parquet copies and receipts.
   * @default 'ingested/'
   */
  readonly ingestedPrefix?: string;
  /**
   * Prefix of the quarantined exports.
   * @default 'quarantine/'
   */
  readonly quarantinePrefix?: string;
  /**
   * Output prefix of the job.
   * @default 'clv/'
   */
  readonly outputPrefix?: string;
  /**
   * Athena results prefix.
   * @default 'athena-results/'
   */
  readonly athenaResultsPrefix?: string;
  /**
   * Days Athena result files are kept.
   * @default Duration.days(7)
   */
  readonly athenaResultsExpiration?: Duration;
  /**
   * Days overwritten or deleted object versions are kept.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * How the ingest function reads exports: the config file's `columns` and reading options.
   * @default - the default column names
   */
  readonly ingestConfig?: IngestConfigInput;
  /**
   * The ingest handler's source file.
   * @default '<project root>/lambdas/clv-job/ingest-handler.ts'
   */
  readonly ingestHandlerEntry?: string;
  /**
   * Ingest function memory in MB.
   * @default 4096
   */
  readonly ingestMemorySize?: number;
  /**
   * E-mail address subscribed to the quarantine topic (the data team).
   * @default - none
   */
  readonly quarantineEmail?: string;
  /**
   * Glue database name.
   * @default 'clv'
   */
  readonly databaseName?: string;
  /**
   * Athena workgroup name.
   * @default 'clv-job'
   */
  readonly workgroupName?: string;
  /**
   * Per-query scan limit.
   * @default Size.gibibytes(100)
   */
  readonly bytesScannedCutoffPerQuery?: Size;
  /**
   * The handler's source file.
   * @default '<project root>/lambdas/clv-job/handler.ts'
   */
  readonly handlerEntry?: string;
  /**
   * Function memory in MB.
   * @default 4096
   */
  readonly memorySize?: number;
  /**
   * Function timeout, 5-15 minutes; also the run lock's TTL.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * Model options.
   * @default - the job's defaults
   */
  readonly modelOptions?: ClvModelOptions;
  /**
   * Data-quality gate thresholds (config `gates`; null turns a gate off).
   * @default - the job's defaults
   */
  readonly gates?: ClvGateSettings;
  /**
   * Prefix of the marketing-spend CSVs in the bucket (channel, month YYYY-MM, spend).
   * @default - no spend input
   */
  readonly spendPrefix?: string;
  /**
   * Powertools service name (the `service` metric dimension).
   * @default 'clv-job'
   */
  readonly serviceName?: string;
  /**
   * Function log retention.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * Schedule cron expression.
   * @default 'cron(0 3 * * ? *)'
   */
  readonly scheduleCron?: string;
  /**
   * Schedule time zone.
   * @default 'UTC'
   */
  readonly scheduleTimeZone?: string;
  /**
   * E-mail address subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmail?: string;
  /**
   * Window of the "no successful run" alarm.
   * @default Duration.hours(24)
   */
  readonly noSuccessWindow?: Duration;
}

/**
 * The nightly customer-lifetime-value job on AWS: storage, catalog, query, job, schedule, alarms, and
 * the ingest function that turns each dropped export into canonical Parquet.
 */
export class ClvStack extends Stack {
  public readonly storage: ClvStorage;
  public readonly catalog: ClvCatalog;
  public readonly query: ClvQuery;
  public readonly job: ClvJob;
  public readonly schedule: ClvSchedule;
  public readonly alarms: ClvAlarms;
  public readonly ingest: ClvIngest;

  constructor(scope: Construct, id: string, props: ClvStackProps = {}) {
    super(scope, id, {
      description: 'Nightly customer-lifetime-value job: drop bucket, ingest on drop, Glue tables, Athena workgroup, Lambda, schedule, alarms.',
      ...props,
    });

    this.storage = new ClvStorage(this, 'Storage', {
      inputPrefix: props.inputPrefix,
      ingestedPrefix: props.ingestedPrefix,
      quarantinePrefix: props.quarantinePrefix,
      outputPrefix: props.outputPrefix,
      athenaResultsPrefix: props.athenaResultsPrefix,
      athenaResultsExpiration: props.athenaResultsExpiration,
      noncurrentVersionExpiration: props.noncurrentVersionExpiration,
    });
    this.catalog = new ClvCatalog(this, 'Catalog', {
      storage: this.storage,
      databaseName: props.databaseName,
    });
    this.query = new ClvQuery(this, 'Query', {
      storage: this.storage,
      workgroupName: props.workgroupName,
      bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
    });
    this.job = new ClvJob(this, 'Job', {
      storage: this.storage,
      catalog: this.catalog,
      query: this.query,
      entry: props.handlerEntry,
      memorySize: props.memorySize,
      timeout: props.timeout,
      modelOptions: props.modelOptions,
      gates: props.gates,
      ...(props.spendPrefix ? { spendPrefix: props.spendPrefix } : {}),
      serviceName: props.serviceName,
      logRetention: props.logRetention,
    });
    this.schedule = new ClvSchedule(this, 'Schedule', {
      function: this.job.function,
      deadLetterQueue: this.job.failedRuns,
      cron: props.scheduleCron,
      timeZone: props.scheduleTimeZone,
    });
    this.alarms = new ClvAlarms(this, 'Alarms', {
      function: this.job.function,
      failedRuns: this.job.failedRuns,
      serviceName: this.job.serviceName,
      alarmEmail: props.alarmEmail,
      noSuccessWindow: props.noSuccessWindow,
    });

    this.ingest = new ClvIngest(this, 'Ingest', {
      storage: this.storage,
      alarmTopic: this.alarms.topic,
      entry: props.ingestHandlerEntry,
      memorySize: props.ingestMemorySize,
      ingestConfig: props.ingestConfig,
      quarantineEmail: props.quarantineEmail,
      logRetention: props.logRetention,
    });

    const output = (outputId: string, value: string, description: string) => new CfnOutput(this, outputId, { value, description });
    output('BucketName', this.storage.bucket.bucketName, 'The drop bucket');
    output('DropLocation', this.storage.s3Url(this.storage.inputPrefix), 'Where the data teams drop order exports');
    output('OutputLocation', this.storage.s3Url(this.storage.outputPrefix), 'Where the job publishes');
    output('GlueDatabase', this.catalog.databaseName, 'Glue database of the orders, customers and rejected_rows tables');
    output('AthenaWorkgroup', this.query.workgroupName, 'Athena workgroup to query in');
    output('FunctionName', this.job.function.functionName, 'The job function (invoke with {"runDate":"YYYY-MM-DD"} to re-run a night)');
    output('FailedRunsQueueUrl', this.job.failedRuns.queueUrl, 'Failed invocations and undeliverable schedule events');
    output('AlarmTopicArn', this.alarms.topic.topicArn, 'Alarm notifications');
    output('IngestedLocation', this.storage.s3Url(this.storage.ingestedPrefix), 'Canonical Parquet copies of the exports (the orders table), receipts under _receipts/');
    output('QuarantineLocation', this.storage.s3Url(this.storage.quarantinePrefix), 'Exports that could not be read, with the reason under _reasons/');
    output('QuarantineTopicArn', this.ingest.quarantineTopic.topicArn, 'Told of every quarantined export: subscribe the data team');
    output('IngestFunctionName', this.ingest.function.functionName, 'The ingest function (invoke with {"reingest":true} to re-read every export)');
    output('IngestDeadLetterQueueUrl', this.ingest.deadLetterQueue.queueUrl, 'Export events the ingest function failed on after its retries');
  }
}
