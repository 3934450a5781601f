import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type AlarmProps, type IAlarm, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../lambdas/clv-job/lambda-contract.js';
import { failOnProblems } from './validation.js';

export interface ClvAlarmsProps {
  /** The job's function. */
  readonly function: IFunction;
  /** The job's failed-runs queue. */
  readonly failedRuns: IQueue;
  /** The Powertools service name: the `service` dimension of the job's metrics. */
  readonly serviceName: string;
  /**
   * An address the alarm topic e-mails (the subscription must be confirmed from the mail).
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
  /**
   * The "no successful run" alarm fires when no run succeeded for this long (whole hours, 1-24).
   * @default Duration.hours(24)
   */
  readonly noSuccessWindow?: Duration;
}

/**
 * The job's alarms and the encrypted topic they notify: function errors, no successful run in
 * 24 hours, failed Athena queries, a run stopped by a data-quality gate, and failed runs waiting in the failed-runs queue. Each alarm
 * notifies on ALARM and on OK. docs/deploy.md says what each one means and what to do.
 */
export class ClvAlarms extends Construct {
  public readonly topic: Topic;
  public readonly functionErrors: IAlarm;
  public readonly noSuccessfulRun: IAlarm;
  public readonly athenaQueryFailed: IAlarm;
  public readonly qualityGateFailed: IAlarm;
  public readonly failedRunsQueued: IAlarm;

  constructor(scope: Construct, id: string, props: ClvAlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const window = props.noSuccessWindow ?? Duration.hours(24);
    const windowHours = window.toHours({ integral: false });
    failOnProblems('ClvAlarms', [
      ...(props.alarmEmail === undefined || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)
        ? []
        : [`alarmEmail must be an e-mail address, got ${JSON.stringify(props.alarmEmail)}`]),
      // CloudWatch evaluates at most one day of datapoints.
      ...(Number.isInteger(windowHours) && windowHours >= 1 && windowHours <= 24
        ? []
        : [`noSuccessWindow must be a whole number of hours from 1 to 24, got ${window.toHumanString()}`]),
    ]);

    // A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS managed
    // SNS key, because that key's policy cannot grant the CloudWatch service.
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the CLV job alarm topic.',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        // In a key policy "*" means this key.
        resources: ['*'],
        // only for this account's alarms: another account's CloudWatch cannot use the key (confused deputy)
        conditions: {
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'CLV job alarms',
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const jobMetric = (metricName: string, period: Duration): IMetric =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        // Powertools adds the service dimension to every metric by default.
        dimensionsMap: { service: props.serviceName },
        statistic: 'Sum',
        period,
      });
    const alarm = (alarmId: string, description: string, options: Omit<AlarmProps, 'alarmDescription'>): IAlarm => {
      const a = new Alarm(this, alarmId, { alarmDescription: `${description} See docs/deploy.md, "Alarms".`, ...options });
      a.addAlarmAction(new SnsAction(this.topic));
      a.addOkAction(new SnsAction(this.topic));
      return a;
    };

    this.functionErrors = alarm('FunctionErrors', 'The CLV job function failed (an exception or a timeout).', {
      metric: props.function.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Hourly buckets, all of the last N missing or zero: fires N hours after the last success, and
    // also while the job has never succeeded (missing data is breaching).
    this.noSuccessfulRun = alarm('NoSuccessfulRun', `No CLV run succeeded in the last ${windowHours} hours.`, {
      metric: jobMetric(METRIC.runSucceeded, Duration.hours(1)),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: windowHours,
      datapointsToAlarm: windowHours,
      treatMissingData: TreatMissingData.BREACHING,
    });
    this.athenaQueryFailed = alarm('AthenaQueryFailed', 'An Athena query of the CLV job failed.', {
      metric: jobMetric(METRIC.athenaQueryFailed, Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.qualityGateFailed = alarm('QualityGateFailed', 'A CLV run was stopped by a data-quality gate: nothing was published; the quality report is under _quality/.', {
      metric: jobMetric(METRIC.qualityGateFailed, Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.failedRunsQueued = alarm('FailedRunsQueued', 'A failed CLV run (or an undeliverable schedule event) waits in the failed-runs queue.', {
      metric: props.failedRuns.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
