import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE } from '../../lambdas/clv-job/lambda-contract.js';
import { ClvStack, type ClvStackProps } from '../../lib/clv-stack.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
// Bundling is skipped in these tests, so the entry only has to exist; `cdk synth` bundles the real handler.
const STAND_IN_ENTRY = fileURLToPath(new URL('../../lambdas/clv-job/lambda-contract.ts', import.meta.url));

/** A fresh app and stack per test, with the feature flags `cdk synth` uses and bundling skipped. */
const stackTemplate = (props: ClvStackProps = {}): Template => {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new ClvStack(app, 'Test', { handlerEntry: STAND_IN_ENTRY, ...props }));
};

const topicRef = { Ref: Match.stringLikeRegexp('^AlarmsTopic') };
const notifiesTopic = { AlarmActions: [topicRef], OKActions: [topicRef] };

describe('ClvAlarms: the alarm topic', () => {
  it('is encrypted with a rotated customer managed key that CloudWatch may use', () => {
    const template = stackTemplate();
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
  });

  it('accepts publishing over TLS only, and from this account\'s alarms', () => {
    stackTemplate().hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  it('e-mails the alarmEmail address when one is given', () => {
    stackTemplate({ alarmEmail: 'ops@example.com' }).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicRef,
    });
  });

  it('has no subscription without alarmEmail', () => {
    stackTemplate().resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('rejects an alarmEmail that is not an address', () => {
    expect(() => stackTemplate({ alarmEmail: 'ops at example' })).toThrow(/alarmEmail must be an e-mail address/);
  });
});

describe('ClvAlarms: the alarms', () => {
  it('are five of the job\'s (and two of the ingest\'s), and each notifies the topic on ALARM and on OK', () => {
    const template = stackTemplate();
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.filter((id) => id.startsWith('Alarms'))).toHaveLength(5);
    expect(alarms.filter((id) => id.startsWith('Ingest'))).toHaveLength(2);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [{ Ref: expect.stringMatching(/^AlarmsTopic/) }], OKActions: [{ Ref: expect.stringMatching(/^AlarmsTopic/) }] });
    }
  });

  it('fire when the function reports an error', () => {
    stackTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^JobFunction') } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      ...notifiesTopic,
    });
  });

  it('fire when no run succeeded for 24 hours, missing data included', () => {
    stackTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.runSucceeded,
      Dimensions: [{ Name: 'service', Value: 'clv-job' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 24,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      ...notifiesTopic,
    });
  });

  it('watch the service dimension of the configured service name and window', () => {
    stackTemplate({ serviceName: 'clv-dev', noSuccessWindow: Duration.hours(12) }).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.runSucceeded,
      Dimensions: [{ Name: 'service', Value: 'clv-dev' }],
      EvaluationPeriods: 12,
      DatapointsToAlarm: 12,
    });
  });

  it('fire when an Athena query of the job failed', () => {
    stackTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.athenaQueryFailed,
      Dimensions: [{ Name: 'service', Value: 'clv-job' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ...notifiesTopic,
    });
  });

  it('fire when a data-quality gate stopped a run', () => {
    stackTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.qualityGateFailed,
      Dimensions: [{ Name: 'service', Value: 'clv-job' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ...notifiesTopic,
    });
  });

  it('fire while a failed run waits in the failed-runs queue', () => {
    stackTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobFailedRuns'), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      ...notifiesTopic,
    });
  });

  it.each([Duration.hours(25), Duration.minutes(90)])('reject a no-success window of %s', (window) => {
    expect(() => stackTemplate({ noSuccessWindow: window })).toThrow(/noSuccessWindow must be a whole number of hours from 1 to 24/);
  });
});
