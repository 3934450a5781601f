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

  it('gives the nightly function the spendPrefix context key as CLV_SPEND_PREFIX, with read and list on that prefix alone', async () => {
    const { app, stack } = await loadApp({ spendPrefix: 'marketing/spend/' });
    const template = Template.fromStack(stack);
    const job = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('JobFunction'));
    expect(job).toHaveLength(1);
    expect(job[0]![1].Properties.Environment.Variables).toMatchObject({ CLV_SPEND_PREFIX: 'marketing/spend/' });

    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: string | string[] }[],
    );
    const naming = statements.filter((st) => JSON.stringify(st).includes('marketing/spend'));
    // exactly two grants name it: GetObject on its objects, ListBucket conditioned on it
    expect(naming.map((st) => [st.Sid, st.Action])).toEqual([
      ['ReadTheCanonicalCopiesAndQuarantine', 's3:GetObject'],
      ['ListTheJobPrefixesOnly', 's3:ListBucket'],
    ]);
    expect(JSON.stringify(naming[0])).toContain('/marketing/spend/*');
    expect(JSON.stringify(naming[1])).toContain('"marketing/spend/*"');
    // cdk-nag's AwsSolutions pack passes with the new wildcard acknowledged
    expect(() => app.synth()).not.toThrow();
  });

  it('leaves CLV_SPEND_PREFIX empty without the key, and refuses a spendPrefix that is not a relative prefix or overlaps the drop prefix', async () => {
    const { stack } = await loadApp();
    const job = Object.entries(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('JobFunction'));
    expect(job?.[1].Properties.Environment.Variables).toMatchObject({ CLV_SPEND_PREFIX: '' });

    await expect(loadApp({ spendPrefix: '/marketing/spend' })).rejects.toThrow(/context spendPrefix must be a relative S3 prefix ending in "\/"/);
    await expect(loadApp({ spendPrefix: 42 })).rejects.toThrow(/context spendPrefix must be a string/);
    await expect(loadApp({ spendPrefix: 'orders/spend/' })).rejects.toThrow(/spendPrefix \(orders\/spend\/\) and inputPrefix \(orders\/\) must not contain one another/);
  });

  it('refuses to start with a bad context value, naming it', async () => {
    await expect(loadApp({ memoryMb: 'four gigs' })).rejects.toThrow(/context memoryMb must be a whole number/);
  });
});
