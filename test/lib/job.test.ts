import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_ENV, METRICS_NAMESPACE } from '../../lambdas/clv-job/lambda-contract.js';
import { ClvStack, type ClvStackProps } from '../../lib/clv-stack.js';
import { EXTERNAL_MODULES } from '../../lib/job.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
// Bundling is skipped in these tests, so the entry only has to exist; `cdk synth` bundles the real handler.
const STAND_IN_ENTRY = fileURLToPath(new URL('../../lambdas/clv-job/lambda-contract.ts', import.meta.url));

/** A fresh app and stack per test, with the feature flags `cdk synth` uses and bundling skipped. */
const stackTemplate = (props: ClvStackProps = {}): Template => {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new ClvStack(app, 'Test', { handlerEntry: STAND_IN_ENTRY, ...props }));
};

/** The nightly job's function (the stack also holds the ingest function). */
const jobFunction = (template: Template) => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('JobFunction'));
  expect(functions).toHaveLength(1);
  return functions[0]![1];
};

const functionEnvironment = (template: Template): Record<string, unknown> => jobFunction(template).Properties.Environment.Variables;

describe('ClvJob: the function', () => {
  it('runs on Node.js 22 on arm64 with 4 GB and 15 minutes, one invocation at a time', () => {
    expect(jobFunction(stackTemplate()).Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 4096,
      Timeout: 900,
      ReservedConcurrentExecutions: 1,
    });
  });

  it('takes memory and timeout from the props', () => {
    expect(jobFunction(stackTemplate({ memorySize: 2048, timeout: Duration.minutes(10) })).Properties).toMatchObject({
      MemorySize: 2048,
      Timeout: 600,
    });
  });

  it('logs to its own log group, kept three months', () => {
    const template = stackTemplate();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^JobLogs') } },
    });
  });

  it('takes the log retention from the props', () => {
    stackTemplate({ logRetention: RetentionDays.ONE_YEAR }).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

});

describe('ClvJob: bundling with the local esbuild', () => {
  // A throw-away project outside the repository: its own lockfile, the repository's node_modules.
  const project = (): string => {
    const root = mkdtempSync(join(tmpdir(), 'clv-bundle-'));
    const repo = fileURLToPath(new URL('../../', import.meta.url));
    copyFileSync(join(repo, 'package-lock.json'), join(root, 'package-lock.json'));
    copyFileSync(join(repo, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
    mkdirSync(join(root, 'src'));
    writeFileSync(
      join(root, 'src', 'handler.ts'),
      [
        "import { S3Client } from '@aws-sdk/client-s3';",
        // as errors.ts names its errors: what Lambda reports as errorType
        'class QualityGateError extends Error { constructor() { super(); this.name = new.target.name; } }',
        'export const handler = async () => {',
        "  if (process.env.LOCAL_ENGINE === 'duckdb') await import('@duckdb/node-api');",
        "  return `${typeof S3Client === 'function' ? 'ok' : 'no sdk'} ${new QualityGateError().name}`;",
        '};',
      ].join('\n'),
    );
    return root;
  };

  it('bundles the AWS SDK into one ES module, leaves @duckdb/node-api out, keeps the error classes\' names, and the bundle loads', async () => {
    const root = project();
    try {
      const app = new App({ context, outdir: join(root, 'cdk.out') });
      new ClvStack(app, 'Test', { handlerEntry: join(root, 'src', 'handler.ts') });
      const assembly = app.synth();
      const template = Template.fromJSON(JSON.parse(readFileSync(join(assembly.directory, 'Test.template.json'), 'utf8')));
      // a function's code is the asset folder `asset.<hash>` of its S3 key `<hash>.zip`
      const dir = join(assembly.directory, `asset.${String(jobFunction(template).Properties.Code.S3Key).replace(/\.zip$/, '')}`);
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(EXTERNAL_MODULES).toContain('@duckdb/node-api');
      expect(code).toContain('"@duckdb/node-api"');
      expect(code).not.toMatch(/from\s*"@aws-sdk\//);
      const bundled = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler: () => Promise<string> };
      // minified, with the class names kept
      await expect(bundled.handler()).resolves.toBe('ok QualityGateError');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('ClvJob: the environment', () => {
  it('sets every variable of LAMBDA_ENV, with the defaults of the job', () => {
    const env = functionEnvironment(stackTemplate());
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.values(LAMBDA_ENV)));
    expect(env).toMatchObject({
      [LAMBDA_ENV.bucket]: { Ref: expect.stringMatching(/^StorageData/) },
      [LAMBDA_ENV.inputPrefix]: 'orders/',
      [LAMBDA_ENV.ingestedPrefix]: 'ingested/',
      [LAMBDA_ENV.quarantinePrefix]: 'quarantine/',
      [LAMBDA_ENV.outputPrefix]: 'clv/',
      [LAMBDA_ENV.athenaDatabase]: 'clv',
      [LAMBDA_ENV.athenaTable]: 'orders',
      [LAMBDA_ENV.athenaWorkgroup]: 'clv-job',
      [LAMBDA_ENV.timeUnit]: 'week',
      [LAMBDA_ENV.horizon]: '52',
      [LAMBDA_ENV.discountRate]: '0.1',
      [LAMBDA_ENV.margin]: '1',
      [LAMBDA_ENV.lifespanYears]: '3',
      [LAMBDA_ENV.transactions]: 'bgnbd',
      [LAMBDA_ENV.intervalDraws]: '100',
      [LAMBDA_ENV.intervalSeed]: '1',
      [LAMBDA_ENV.lockTtlSeconds]: '900',
    });
  });

  it('configures Powertools with the service name and the METRICS_NAMESPACE the alarms watch', () => {
    expect(functionEnvironment(stackTemplate())).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'clv-job',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    });
  });

  it('passes prefixes, names and model options from the props', () => {
    const env = functionEnvironment(
      stackTemplate({
        inputPrefix: 'in/',
        outputPrefix: 'out/',
        databaseName: 'clv_dev',
        workgroupName: 'clv-dev',
        serviceName: 'clv-dev',
        modelOptions: { timeUnit: 'day', transactions: 'auto', intervalDraws: 250, intervalSeed: 7, discountRate: 0.08, margin: 0.3, lifespanYears: 5 },
      }),
    );
    expect(env).toMatchObject({
      [LAMBDA_ENV.inputPrefix]: 'in/',
      [LAMBDA_ENV.outputPrefix]: 'out/',
      [LAMBDA_ENV.athenaDatabase]: 'clv_dev',
      [LAMBDA_ENV.athenaWorkgroup]: 'clv-dev',
      [LAMBDA_ENV.timeUnit]: 'day',
      // The job's own default horizon for days: one year of 364 days.
      [LAMBDA_ENV.horizon]: '364',
      [LAMBDA_ENV.discountRate]: '0.08',
      [LAMBDA_ENV.margin]: '0.3',
      [LAMBDA_ENV.lifespanYears]: '5',
      [LAMBDA_ENV.transactions]: 'auto',
      [LAMBDA_ENV.intervalDraws]: '250',
      [LAMBDA_ENV.intervalSeed]: '7',
      POWERTOOLS_SERVICE_NAME: 'clv-dev',
    });
  });

  it('sets every gate threshold, the defaults when none is given and `off` for a gate turned off', () => {
    expect(functionEnvironment(stackTemplate())).toMatchObject({
      [LAMBDA_ENV.gateMaxRejectedShare]: '0.2',
      [LAMBDA_ENV.gateMinRowsForRejectedShare]: '10',
      [LAMBDA_ENV.gateMinCustomersVsPrevious]: '0.5',
      [LAMBDA_ENV.gateMinRevenueVsPrevious]: '0.5',
      [LAMBDA_ENV.gateMaxDaysLatestOrderBeforePrevious]: '30',
      [LAMBDA_ENV.gateMinAcceptedOrders]: '1',
      [LAMBDA_ENV.gateEarliestOrderDate]: 'off',
      [LAMBDA_ENV.gateMaxDaysSinceLatestOrder]: 'off',
    });
    expect(
      functionEnvironment(stackTemplate({ gates: { maxRejectedShare: 0.05, minRowsForRejectedShare: 100, minCustomersVsPrevious: null, minRevenueVsPrevious: 0.3, maxDaysLatestOrderBeforePrevious: null, earliestOrderDate: '2020-01-01', maxDaysSinceLatestOrder: 3 } })),
    ).toMatchObject({
      [LAMBDA_ENV.gateMaxRejectedShare]: '0.05',
      [LAMBDA_ENV.gateMinRowsForRejectedShare]: '100',
      [LAMBDA_ENV.gateMinCustomersVsPrevious]: 'off',
      [LAMBDA_ENV.gateMinRevenueVsPrevious]: '0.3',
      [LAMBDA_ENV.gateMaxDaysLatestOrderBeforePrevious]: 'off',
      [LAMBDA_ENV.gateMinAcceptedOrders]: '1',
      [LAMBDA_ENV.gateEarliestOrderDate]: '2020-01-01',
      [LAMBDA_ENV.gateMaxDaysSinceLatestOrder]: '3',
    });
  });

  it('reads no spend input by default, and the spend prefix of the props, with read and list on it alone', () => {
    expect(functionEnvironment(stackTemplate())).toMatchObject({ [LAMBDA_ENV.spendPrefix]: '' });
    const template = stackTemplate({ spendPrefix: 'marketing/spend/' });
    expect(functionEnvironment(template)).toMatchObject({ [LAMBDA_ENV.spendPrefix]: 'marketing/spend/' });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Resource?: unknown; Condition?: unknown }[]);
    const text = (sid: string) => JSON.stringify(statements.find((st) => st.Sid === sid));
    expect(text('ReadTheCanonicalCopiesAndQuarantine')).toContain('/marketing/spend/*');
    expect(text('ListTheJobPrefixesOnly')).toContain('"marketing/spend/*"');
    expect(JSON.stringify(statements.filter((st) => st.Sid === 'PublishUnderTheOutputPrefix'))).not.toContain('marketing/spend');
  });

  it('refuses at synth time a spend prefix that is not a relative prefix or lies in one of the storage prefixes', () => {
    expect(() => stackTemplate({ spendPrefix: 'marketing/spend' })).toThrow(/spendPrefix must be a relative S3 prefix ending in "\/"/);
    expect(() => stackTemplate({ spendPrefix: 'clv/spend/' })).toThrow(/spendPrefix \(clv\/spend\/\) and outputPrefix \(clv\/\) must not contain one another/);
  });

  it('sets the lock TTL to the timeout, the longest a run can hold the lock', () => {
    expect(functionEnvironment(stackTemplate({ timeout: Duration.minutes(6) }))).toMatchObject({
      [LAMBDA_ENV.lockTtlSeconds]: '360',
    });
  });
});

describe('ClvJob: failed invocations', () => {
  it('are not retried and go to the failed-runs queue', () => {
    stackTemplate().hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 21600,
      Qualifier: '$LATEST',
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobFailedRuns'), 'Arn'] } } },
    });
  });

  it('land in an encrypted queue that is reachable over TLS only and keeps messages 14 days', () => {
    const template = stackTemplate();
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('ClvJob: prop validation', () => {
  it.each([
    ['less than 1 GB of memory', { memorySize: 512 }, /memorySize must be a whole number of MB from 1024 to 10240/],
    ['a timeout under 5 minutes', { timeout: Duration.minutes(3) }, /timeout must be from 5 to 15 minutes/],
    ['a timeout over 15 minutes', { timeout: Duration.minutes(20) }, /timeout must be from 5 to 15 minutes/],
    ['a margin above 1', { modelOptions: { margin: 1.5 } }, /modelOptions\.margin/],
    ['an unknown time unit', { modelOptions: { timeUnit: 'month' } }, /modelOptions\.timeUnit/],
    ['a rejected share above 1', { gates: { maxRejectedShare: 1.5 } }, /gates\.maxRejectedShare/],
    ['an earliest order date that is no date', { gates: { earliestOrderDate: '2020-13-01' } }, /gates\.earliestOrderDate/],
  ])('rejects %s', (_title, props, message) => {
    expect(() => stackTemplate(props as ClvStackProps)).toThrow(message);
  });

  it('reports every problem at once', () => {
    expect(() => stackTemplate({ memorySize: 100, timeout: Duration.hours(1), modelOptions: { discountRate: -1 } })).toThrow(
      /memorySize[\s\S]*timeout[\s\S]*modelOptions\.discountRate/,
    );
  });
});
