import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
// Bundling is skipped in these tests, so the entry only has to exist; `cdk synth` bundles the real handler.
const STAND_IN_ENTRY = fileURLToPath(new URL('../../lambdas/clv-job/lambda-contract.ts', import.meta.url));

/**
 * Loads bin/app.ts afresh the way the CDK CLI runs it: cdk.json's context and the `-c` values
 * arrive in CDK_CONTEXT_JSON.
 */
const loadApp = async (cliContext: Record<string, unknown> = {}) => {
  vi.resetModules();
  process.env.CDK_CONTEXT_JSON = JSON.stringify({
    ...context,
    'aws:cdk:bundling-stacks': [],
    handlerEntry: STAND_IN_ENTRY,
    ...cliContext,
  });
  return import('../../bin/app.js');
};

afterEach(() => {
  delete process.env.CDK_CONTEXT_JSON;
});

describe('bin/app.ts', () => {
  it('instantiates the one stack, "ClvJob" by default, and synthesises it cleanly under cdk-nag', async () => {
    const { app, stack } = await loadApp();
    expect(stack.stackName).toBe('ClvJob');
    expect(app.node.children.filter((c) => Stack.isStack(c))).toEqual([stack]);
    expect(() => app.synth()).not.toThrow();
  });

  it('runs the AwsSolutions checks on everything in the app', async () => {
    const { app, stack } = await loadApp();
    new Queue(stack, 'UnencryptedPlainQueue', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('configures the stack from context keys', async () => {
    const { stack } = await loadApp({
      stackName: 'ClvJobStaging',
      alarmEmail: 'data-ops@example.com',
      scheduleCron: 'cron(15 4 * * ? *)',
      scheduleTimeZone: 'Europe/Berlin',
      memoryMb: '3008',
    });
    expect(stack.stackName).toBe('ClvJobStaging');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'data-ops@example.com' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 4 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 3008 });
  });

  it('refuses to start with a bad context value, naming it', async () => {
    await expect(loadApp({ memoryMb: 'four gigs' })).rejects.toThrow(/context memoryMb must be a whole number/);
  });
});
