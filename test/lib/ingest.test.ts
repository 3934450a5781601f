import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { INGEST_ENV, INGEST_METRIC, METRICS_NAMESPACE } from '../../lambdas/clv-job/lambda-contract.js';
import { ClvIngest, type ClvIngestProps } from '../../lib/ingest.js';
import { ClvStorage } from '../../lib/storage.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));

/** The ingest construct in a fresh stack with its storage and an alarm topic; bundling skipped unless `outdir` is given. */
const ingestStack = (props: Partial<Omit<ClvIngestProps, 'storage' | 'alarmTopic'>> = {}, outdir?: string) => {
  const app = new App({ context: { ...context, ...(outdir ? {} : { 'aws:cdk:bundling-stacks': [] }) }, ...(outdir ? { outdir } : {}) });
  const stack = new Stack(app, 'Test');
  const storage = new ClvStorage(stack, 'Storage');
  const alarmTopic = new Topic(stack, 'Alarms');
  const ingest = new ClvIngest(stack, 'Ingest', { storage, alarmTopic, ...props });
  return { app, stack, ingest };
};
const template = (props: Partial<Omit<ClvIngestProps, 'storage' | 'alarmTopic'>> = {}) => Template.fromStack(ingestStack(props).stack);

const bucketRef = { Ref: Match.stringLikeRegexp('^StorageData') };
const bucketArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageData'), 'Arn'] };
const underBucket = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });

describe('ClvIngest: the function', () => {
  it('runs on Node.js 22, on the nightly function\'s arm64, with 4 GB of memory, 10 GB of /tmp and 15 minutes', () => {
    template().hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 4096,
      EphemeralStorage: { Size: 10240 },
      Timeout: 900,
    });
  });

  it('takes memory and ephemeral storage from the props', () => {
    template({ memorySize: 2048, ephemeralStorageSize: Size.gibibytes(4) }).hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 2048,
      EphemeralStorage: { Size: 4096 },
    });
  });

  it('sets every variable of INGEST_ENV and Powertools\' service and namespace', () => {
    const [fn] = Object.values(template({ ingestConfig: { columns: { order_id: 'OrderNo' }, csv: { delimiter: ';' } } }).findResources('AWS::Lambda::Function'));
    const env = fn!.Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.values(INGEST_ENV)));
    expect(env).toMatchObject({
      [INGEST_ENV.bucket]: { Ref: expect.stringMatching(/^StorageData/) },
      [INGEST_ENV.inputPrefix]: 'orders/',
      [INGEST_ENV.ingestedPrefix]: 'ingested/',
      [INGEST_ENV.quarantinePrefix]: 'quarantine/',
      [INGEST_ENV.quarantineTopicArn]: { Ref: expect.stringMatching(/^IngestQuarantineTopic/) },
      POWERTOOLS_SERVICE_NAME: 'clv-ingest',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    });
    expect(JSON.parse(env[INGEST_ENV.ingestConfig])).toEqual({ columns: { order_id: 'OrderNo' }, csv: { delimiter: ';' } });
  });

  it.each([
    ['less than 1 GB of memory', { memorySize: 512 }, /memorySize must be a whole number of MB from 1024 to 10240/],
    ['more than 10 GB of /tmp', { ephemeralStorageSize: Size.gibibytes(11) }, /ephemeralStorageSize must be from 1 to 10 GiB/],
    ['a reading option the config file refuses', { ingestConfig: { csv: { delimiter: ';;' } } }, /ingestConfig\.csv\.delimiter/],
    ['a quarantine address that is no address', { quarantineEmail: 'data team' }, /quarantineEmail must be an e-mail address/],
  ])('rejects %s', (_what, props, message) => {
    expect(() => template(props as Partial<ClvIngestProps>)).toThrow(message);
  });
});

describe('ClvIngest: events of the drop prefix', () => {
  it('are sent by the bucket to EventBridge natively, without a notifications custom resource', () => {
    const t = template();
    t.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
    expect(t.findResources('Custom::S3BucketNotifications')).toEqual({});
  });

  it('reach the function for every object created or deleted under the drop prefix of this bucket', () => {
    template().hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created', 'Object Deleted'],
        detail: { bucket: { name: [bucketRef] }, object: { key: [{ prefix: 'orders/' }] } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestFunction'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestDeadLetters'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
        }),
      ],
    });
  });

  it('that fail twice more land in the same encrypted, TLS-only dead-letter queue', () => {
    const t = template();
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestDeadLetters'), 'Arn'] } } },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
  });
});

describe('ClvIngest: quarantine and alarms', () => {
  it('announces quarantined exports on an encrypted topic of their own, e-mailed to the data team when given', () => {
    const t = template({ quarantineEmail: 'data@example.com' });
    t.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'CLV exports quarantined', KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'data@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^IngestQuarantineTopic') },
    });
  });

  it('alarms the operators on a failed event and on every quarantined file', () => {
    const t = template();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestDeadLetters'), 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: INGEST_METRIC.filesQuarantined,
      Dimensions: [{ Name: 'service', Value: 'clv-ingest' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
  });
});

describe('ClvIngest: the role\'s permissions', () => {
  it('read the drop prefix, read and write the ingested and quarantine prefixes, and publish to the quarantine topic only', () => {
    const t = template();
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^IngestRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'], Resource: [bucketArn, underBucket('orders/')] },
          Match.objectLike({
            Effect: 'Allow',
            Action: Match.arrayWith(['s3:DeleteObject*', 's3:PutObject']),
            Resource: [bucketArn, underBucket('ingested/'), underBucket('quarantine/')],
          }),
          { Sid: 'AnnounceQuarantinedExports', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: Match.stringLikeRegexp('^IngestQuarantineTopic') } },
        ]),
      },
    });
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    // never a write under the drop prefix: the exports are the data teams'
    expect(policies).not.toMatch(/"s3:PutObject[^\]]*orders\/\*/);
    expect(policies).not.toContain('kms:');
  });
});

/** The ELF header's e_machine of a Linux shared object: 0xB7 aarch64, 0x3E x86-64. */
const elfMachine = (path: string): 'arm64' | 'x64' | 'other' => {
  const header = readFileSync(path).subarray(0, 20);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  const machine = header.readUInt16LE(18);
  return machine === 0xb7 ? 'arm64' : machine === 0x3e ? 'x64' : 'other';
};

describe('ClvIngest: DuckDB\'s native binding in the synthesised asset', () => {
  /** Synthesises with bundling and returns the function's architecture and its asset folder. */
  const synthesised = (architecture?: Architecture) => {
    const outdir = mkdtempSync(join(tmpdir(), 'clv-ingest-asset-'));
    const { app } = ingestStack(architecture ? { architecture } : {}, outdir);
    const assembly = app.synth();
    const t = Template.fromJSON(JSON.parse(readFileSync(join(assembly.directory, 'Test.template.json'), 'utf8')));
    const [fn] = Object.values(t.findResources('AWS::Lambda::Function'));
    const arch = fn!.Properties.Architectures[0] as string;
    const asset = join(assembly.directory, `asset.${String(fn!.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    return { outdir, arch, asset };
  };

  /** The binding packages in the asset, each with the machine its duckdb.node is built for. */
  const bindings = (asset: string) =>
    readdirSync(join(asset, 'node_modules', '@duckdb'))
      .filter((name) => name.startsWith('node-bindings-'))
      .map((name) => ({ name, machine: elfMachine(join(asset, 'node_modules', '@duckdb', name, 'duckdb.node')) }));

  it.each([
    ['the default arm64', undefined, 'arm64', [{ name: 'node-bindings-linux-arm64', machine: 'arm64' }]],
    ['x86_64 when asked', Architecture.X86_64, 'x86_64', [{ name: 'node-bindings-linux-x64', machine: 'x64' }]],
  ])('is the one for the function\'s own architecture: %s', async (_what, architecture, lambdaArch, expected) => {
    const { outdir, arch, asset } = synthesised(architecture);
    try {
      expect(arch).toBe(lambdaArch);
      expect(bindings(asset)).toEqual(expected);
      expect(existsSync(join(asset, 'node_modules', '@duckdb', 'node-api', 'package.json'))).toBe(true);
      const code = readFileSync(join(asset, 'index.mjs'), 'utf8');
      // the bundle imports DuckDB from the installed module and carries no copy of it
      expect(code).toContain('"@duckdb/node-api"');
      expect(code).not.toContain('duckdb.node');
      if (arch === 'x86_64' && process.arch === 'x64' && process.platform === 'linux') {
        // on a matching machine the bundle loads: the handler module, DuckDB and its binding from the asset
        Object.assign(process.env, {
          [INGEST_ENV.bucket]: 'clv-drop',
          [INGEST_ENV.inputPrefix]: 'orders/',
          [INGEST_ENV.ingestedPrefix]: 'ingested/',
          [INGEST_ENV.quarantinePrefix]: 'quarantine/',
          [INGEST_ENV.quarantineTopicArn]: 'arn:aws:sns:us-east-1:123456789012:quarantine',
        });
        const bundled = (await import(pathToFileURL(join(asset, 'index.mjs')).href)) as { handler: unknown };
        expect(typeof bundled.handler).toBe('function');
        const duckdb = (await import(pathToFileURL(join(asset, 'node_modules', '@duckdb', 'node-api', 'lib', 'index.js')).href)) as {
          DuckDBInstance: { create: (path: string) => Promise<{ connect: () => Promise<{ runAndReadAll: (sql: string) => Promise<{ getRows: () => unknown[][] }> }> }> };
        };
        const connection = await (await duckdb.DuckDBInstance.create(':memory:')).connect();
        expect((await connection.runAndReadAll('SELECT 6 * 7')).getRows()).toEqual([[42]]);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
