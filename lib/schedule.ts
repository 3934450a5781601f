import { Duration, Stack, TimeZone, Validations, type CfnElement } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { failOnProblems } from './validation.js';

export const DEFAULT_SCHEDULE_CRON = 'cron(0 3 * * ? *)';
export const DEFAULT_SCHEDULE_TIME_ZONE = 'UTC';

export interface ClvScheduleProps {
  /** The job's function, invoked asynchronously. */
  readonly function: IFunction;
  /** Where schedule events go when the function cannot be invoked at all. */
  readonly deadLetterQueue: IQueue;
  /**
   * EventBridge Scheduler cron expression, `cron(minutes hours day-of-month month day-of-week year)`;
   * the bare six fields are accepted too.
   * @default 'cron(0 3 * * ? *)' (03:00 every night)
   */
  readonly cron?: string;
  /**
   * IANA time zone the cron expression is read in (daylight saving time included).
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Retries when the scheduler cannot hand the event to Lambda (throttling, a service error). These
   * are delivery retries only: a run that fails is the function's business, not the scheduler's.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Give up delivering (and dead-letter) an event older than this.
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;
}

/** The nightly trigger: an EventBridge Scheduler schedule with a fixed time window. */
export class ClvSchedule extends Construct {
  public readonly schedule: Schedule;
  /** The role the scheduler assumes to invoke the function and dead-letter events. */
  public readonly role: Role;
  public readonly expression: string;
  public readonly timeZone: string;

  constructor(scope: Construct, id: string, props: ClvScheduleProps) {
    super(scope, id);
    this.expression = normaliseCron(props.cron ?? DEFAULT_SCHEDULE_CRON);
    this.timeZone = props.timeZone ?? DEFAULT_SCHEDULE_TIME_ZONE;
    const retryAttempts = props.retryAttempts ?? 2;
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    failOnProblems('ClvSchedule', [
      ...cronProblems(this.expression),
      ...(isTimeZone(this.timeZone) ? [] : [`timeZone must be an IANA time zone such as "UTC" or "Europe/Paris", got ${JSON.stringify(this.timeZone)}`]),
      ...(Number.isInteger(retryAttempts) && retryAttempts >= 0 && retryAttempts <= 185
        ? []
        : [`retryAttempts must be a whole number from 0 to 185, got ${retryAttempts}`]),
      ...(maxEventAge.toSeconds() >= 60 && maxEventAge.toSeconds() <= 86_400
        ? []
        : [`maxEventAge must be from 1 minute to 24 hours, got ${maxEventAge.toHumanString()}`]),
    ]);

    // An own role rather than the stack-wide one the target would create, so that it is trusted by
    // this account's scheduler only and its acknowledged finding sits next to it.
    this.role = new Role(this, 'InvokeRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: invokes the nightly CLV job.',
    });
    this.schedule = new Schedule(this, 'Nightly', {
      description: 'Starts the nightly customer-lifetime-value run.',
      schedule: ScheduleExpression.expression(this.expression, TimeZone.of(this.timeZone)),
      // Off: the run starts at the stated time, so "no success for 24 hours" means what it says.
      timeWindow: TimeWindow.off(),
      target: new LambdaInvoke(props.function, {
        // The handler derives nothing it needs from this; it is logged, and identifies the night.
        input: ScheduleTargetInput.fromObject({
          source: 'aws.scheduler',
          scheduledTime: ContextAttribute.scheduledTime,
          executionId: ContextAttribute.executionId,
        }),
        retryAttempts,
        maxEventAge,
        deadLetterQueue: props.deadLetterQueue,
        role: this.role,
      }),
    });
    // The target grants "lambda:InvokeFunction" on the function and on "<function ARN>:*", its
    // versions and aliases.
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.function)}.Arn>:*]`,
      reason: 'The scheduler role may invoke the job function\'s versions and aliases (":*"), nothing else.',
    });
  }
}

const logicalIdOf = (fn: IFunction): string => Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);

/** `cron(...)` as given, or the six bare fields wrapped in it. */
export const normaliseCron = (cron: string): string => {
  const trimmed = cron.trim();
  return /^(cron|rate|at)\(/.test(trimmed) ? trimmed : `cron(${trimmed})`;
};

const cronProblems = (expression: string): string[] => {
  const m = /^cron\((.*)\)$/.exec(expression);
  if (!m) return [`cron must be a cron(...) expression, got ${JSON.stringify(expression)}`];
  const fields = m[1]!.trim().split(/\s+/);
  if (fields.length !== 6) {
    return [`cron must have six fields (minutes hours day-of-month month day-of-week year), got ${fields.length} in ${JSON.stringify(expression)}`];
  }
  // EventBridge requires "?" in exactly one of day-of-month and day-of-week.
  if ((fields[2] === '?') === (fields[4] === '?')) {
    return [`cron must have "?" in exactly one of day-of-month and day-of-week, got ${JSON.stringify(expression)}`];
  }
  return [];
};

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
};
