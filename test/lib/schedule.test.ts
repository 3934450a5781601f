import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ClvStack, type ClvStackProps } from '../../lib/clv-stack.js';
import { normaliseCron } from '../../lib/schedule.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
// Bundling is skipped in these tests, so the entry only has to exist; `cdk synth` bundles the real handler.
const STAND_IN_ENTRY = fileURLToPath(new URL('../../lambdas/clv-job/lambda-contract.ts', import.meta.url));

/** A fresh app and stack per test, with the feature flags `cdk synth` uses and bundling skipped. */
const stackTemplate = (props: ClvStackProps = {}): Template => {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new ClvStack(app, 'Test', { handlerEntry: STAND_IN_ENTRY, ...props }));
};

describe('ClvSchedule: the nightly schedule', () => {
  it('invokes the job at 03:00 UTC every night, at the stated time', () => {
    stackTemplate().hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobFunction'), 'Arn'] } }),
    });
  });

  it('takes the cron expression and the time zone from the props', () => {
    stackTemplate({ scheduleCron: 'cron(30 1 ? * MON-FRI *)', scheduleTimeZone: 'Europe/Paris' }).hasResourceProperties(
      'AWS::Scheduler::Schedule',
      { ScheduleExpression: 'cron(30 1 ? * MON-FRI *)', ScheduleExpressionTimezone: 'Europe/Paris' },
    );
  });

  it('retries delivery twice within an hour, then dead-letters the event to the failed-runs queue', () => {
    stackTemplate().hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobFailedRuns'), 'Arn'] } },
      }),
    });
  });

  it('sends the scheduled time and execution id as the event', () => {
    const schedules = Object.values(stackTemplate().findResources('AWS::Scheduler::Schedule'));
    expect(JSON.parse(schedules[0]!.Properties.Target.Input)).toEqual({
      source: 'aws.scheduler',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      executionId: '<aws.scheduler.execution-id>',
    });
  });

  it('assumes a role that only this account\'s scheduler may assume', () => {
    stackTemplate().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });
});

describe('ClvSchedule: cron validation', () => {
  it('accepts the six bare fields and wraps them', () => {
    expect(normaliseCron(' 0 4 * * ? * ')).toBe('cron(0 4 * * ? *)');
    expect(normaliseCron('cron(0 4 * * ? *)')).toBe('cron(0 4 * * ? *)');
  });

  it.each([
    ['five fields', { scheduleCron: 'cron(0 3 * * *)' }, /six fields/],
    ['no "?"', { scheduleCron: 'cron(0 3 * * * *)' }, /"\?" in exactly one of day-of-month and day-of-week/],
    ['a rate expression', { scheduleCron: 'rate(1 day)' }, /must be a cron\(\.\.\.\) expression/],
    ['an unknown time zone', { scheduleTimeZone: 'Europe/Atlantis' }, /timeZone must be an IANA time zone/],
  ])('rejects %s', (_title, props, message) => {
    expect(() => stackTemplate(props)).toThrow(message);
  });
});
