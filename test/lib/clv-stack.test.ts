import { readFile } from 'node:fs/promises';
import { repoRoot } from '../support/files.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ClvStack, type ClvStackProps } from '../../lib/clv-stack.js';
import { SUMMARY_DATASETS } from '../../lambdas/clv-job/schemas/tables.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
// Bundling is skipped in these tests, so the entry only has to exist; `cdk synth` bundles the real handler.
const STAND_IN_ENTRY = fileURLToPath(new URL('../../lambdas/clv-job/lambda-contract.ts', import.meta.url));

/** A fresh app and stack per test, with the feature flags `cdk synth` uses and bundling skipped. */
const newStack = (props: ClvStackProps = {}): { app: App; stack: ClvStack } => {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  return { app, stack: new ClvStack(app, 'Test', { handlerEntry: STAND_IN_ENTRY, alarmEmail: 'ops@example.com', ...props }) };
};

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}
const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every policy statement of the template with where it sits: IAM policies, roles, and resource policies. */
const allStatements = (template: Template): { type: string; id: string; statement: Statement }[] =>
  Object.entries(template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, any> }>).flatMap(
    ([id, { Type, Properties = {} }]) =>
      [
        Properties.PolicyDocument,
        Properties.KeyPolicy,
        Properties.AssumeRolePolicyDocument,
        ...asList(Properties.Policies).map((p: { PolicyDocument: unknown }) => p.PolicyDocument),
      ]
        .filter(Boolean)
        .flatMap((doc: { Statement: Statement[] }) => doc.Statement.map((statement) => ({ type: Type, id, statement }))),
  );

const arn = (service: string, resource: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]],
});

describe('ClvStack: the job role\'s permissions', () => {
  const jobStatements = (): Record<string, { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }> => {
    const template = Template.fromStack(newStack().stack);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('JobRole'),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: string | string[]; Resource: unknown }[]);
    return Object.fromEntries(statements.filter((st) => st.Sid).map((st) => [st.Sid!, st]));
  };
  const allJobActions = (): string[] => [...new Set(Object.values(jobStatements()).flatMap((st) => asList(st.Action)))];
  /** The data bucket as the template names it (the logical id cdk-nag's findings use too). */
  const dataBucketArn = { 'Fn::GetAtt': ['StorageData6BB23F4E', 'Arn'] };
  const objectsUnder = (prefix: string) => ({ 'Fn::Join': ['', [dataBucketArn, `/${prefix}*`]] });

  it('reads the canonical copies and the quarantine records, never the raw exports of the drop prefix', () => {
    expect(jobStatements().ReadTheCanonicalCopiesAndQuarantine).toEqual({
      Sid: 'ReadTheCanonicalCopiesAndQuarantine',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: [objectsUnder('ingested/'), objectsUnder('quarantine/')],
    });
    expect(JSON.stringify(jobStatements())).not.toContain('/orders/*');
  });

  it('writes only under the output prefix (runs, manifests, records, lock) and the Athena results prefix', () => {
    const statements = jobStatements();
    expect(statements.PublishUnderTheOutputPrefix).toMatchObject({
      Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      Resource: objectsUnder('clv/'),
    });
    expect(statements.AthenaResults).toMatchObject({
      Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      Resource: objectsUnder('athena-results/'),
    });
  });

  it('cannot erase object versions (the 30-day undo) or touch Object Lock: no DeleteObjectVersion, no retention or legal hold', () => {
    const actions = allJobActions();
    expect(actions.filter((a) => /DeleteObjectVersion|ObjectRetention|ObjectLegalHold|BypassGovernance|ObjectLock|\*/.test(a))).toEqual([]);
    expect(actions.filter((a) => a.startsWith('s3:')).sort()).toEqual(
      ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:ListMultipartUploadParts', 's3:PutObject'].sort(),
    );
  });

  it('lists the bucket only under its own prefixes, by an s3:prefix condition', () => {
    expect(jobStatements().ListTheJobPrefixesOnly).toEqual({
      Sid: 'ListTheJobPrefixesOnly',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: dataBucketArn,
      Condition: { StringLike: { 's3:prefix': ['ingested/*', 'quarantine/*', 'clv/*', 'athena-results/*'] } },
    });
  });

  it('lists unfinished uploads without an s3:prefix condition, which that request never carries (recovery aborts them)', () => {
    expect(jobStatements().ListUnfinishedUploads).toEqual({
      Sid: 'ListUnfinishedUploads',
      Effect: 'Allow',
      Action: 's3:ListBucketMultipartUploads',
      Resource: dataBucketArn,
    });
    // no statement may put the action under the prefix condition again: IAM would deny every listing
    const conditioned = Object.values(jobStatements()).filter((st) => JSON.stringify(st).includes('s3:prefix'));
    expect(conditioned.flatMap((st) => asList(st.Action))).not.toContain('s3:ListBucketMultipartUploads');
  });

  it('runs queries in the job\'s workgroup, reads the job\'s Glue tables, and switches partitions of the output tables only', () => {
    const statements = jobStatements();
    expect(statements.QueryThroughTheJobWorkgroup).toMatchObject({
      Action: ['athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StartQueryExecution', 'athena:StopQueryExecution'],
      Resource: arn('athena', 'workgroup/clv-job'),
    });
    expect(statements.ReadTheJobTables).toMatchObject({
      Action: ['glue:GetDatabase', 'glue:GetPartition', 'glue:GetPartitions', 'glue:GetTable'],
      Resource: [arn('glue', 'catalog'), arn('glue', 'database/clv'), ...['customers', 'orders', 'rejected_rows', ...SUMMARY_DATASETS].sort().map((t) => arn('glue', `table/clv/${t}`))],
    });
    expect(statements.SwitchTheOutputPartitions).toMatchObject({
      Action: ['glue:BatchCreatePartition', 'glue:BatchDeletePartition', 'glue:BatchUpdatePartition'],
      Resource: [arn('glue', 'catalog'), arn('glue', 'database/clv'), ...['customers', 'rejected_rows', ...SUMMARY_DATASETS].sort().map((t) => arn('glue', `table/clv/${t}`))],
    });
  });

  it('writes to its own log group and its failed-runs queue, with no AWS managed policy', () => {
    const template = Template.fromStack(newStack().stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^JobRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobLogs'), 'Arn'] } },
          {
            Effect: 'Allow',
            Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobFailedRuns'), 'Arn'] },
          },
        ]),
      },
    });
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('grants no "*" action and no "*" resource anywhere, except in the topic key\'s own key policy', () => {
    const statements = allStatements(Template.fromStack(newStack().stack)).filter((s) => s.statement.Effect === 'Allow');
    expect(statements.length).toBeGreaterThan(5);
    const wildcardActions = statements.filter(({ statement }) => asList(statement.Action).some((a) => a === '*' || a.endsWith(':*')));
    const wildcardResources = statements.filter(({ statement }) => asList(statement.Resource).includes('*'));
    // In a key policy, Resource "*" means "this key", and the default statement that lets the
    // account administer its key ("kms:*" for the account root) is what keeps the key manageable.
    expect(wildcardActions.map((s) => s.type)).toEqual(['AWS::KMS::Key']);
    expect(new Set(wildcardResources.map((s) => s.type))).toEqual(new Set(['AWS::KMS::Key']));
  });

  it('has as many Resource "*" statements as docs/deploy.md says: two, both in the topic key\'s policy', async () => {
    const statements = allStatements(Template.fromStack(newStack().stack)).filter(({ statement }) => asList(statement.Resource).includes('*'));
    const docs = await readFile(join(repoRoot, 'docs', 'deploy.md'), 'utf8');

    expect(statements.map((s) => s.type)).toEqual(['AWS::KMS::Key', 'AWS::KMS::Key']);
    expect(docs).toContain('exactly two statements with `Resource: "*"`, both in the KMS key policy of the alarm topic');
  });

  it('lets only this account\'s CloudWatch alarms use the topic key (source-account and source-ARN conditions)', () => {
    const service = allStatements(Template.fromStack(newStack().stack)).filter(({ type, statement }) => type === 'AWS::KMS::Key' && JSON.stringify(statement.Principal ?? '').includes('.amazonaws.com'));

    expect(service).toHaveLength(1);
    expect(service[0]!.statement.Condition).toEqual({
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']] } },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
  });
});

describe('ClvStack: cdk-nag AwsSolutions checks', () => {
  it('find no unacknowledged error or warning', () => {
    const { app } = newStack();
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('let the app synthesise as a validation plugin, with no error or warning annotation', () => {
    const { app, stack } = newStack();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('are acknowledged only for these findings, each with its reason', () => {
    const { app } = newStack();
    const acknowledged = app.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^[^:]*::/, ''), reason }))),
      );
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(40);
    expect(acknowledged.map(({ path, id }) => `${path} ${id}`).sort()).toEqual(
      [
        'Test/Job/FailedRuns AwsSolutions-SQS3',
        'Test/Job/Function AwsSolutions-L1',
        'Test/Job/Role AwsSolutions-IAM5[Resource::<StorageData6BB23F4E.Arn>/athena-results/*]',
        'Test/Job/Role AwsSolutions-IAM5[Resource::<StorageData6BB23F4E.Arn>/clv/*]',
        'Test/Job/Role AwsSolutions-IAM5[Resource::<StorageData6BB23F4E.Arn>/ingested/*]',
        'Test/Job/Role AwsSolutions-IAM5[Resource::<StorageData6BB23F4E.Arn>/quarantine/*]',
        'Test/Ingest/DeadLetters AwsSolutions-SQS3',
        'Test/Ingest/Function AwsSolutions-L1',
        'Test/Ingest/Role AwsSolutions-IAM5[Action::s3:Abort*]',
        'Test/Ingest/Role AwsSolutions-IAM5[Action::s3:DeleteObject*]',
        'Test/Ingest/Role AwsSolutions-IAM5[Action::s3:GetBucket*]',
        'Test/Ingest/Role AwsSolutions-IAM5[Action::s3:GetObject*]',
        'Test/Ingest/Role AwsSolutions-IAM5[Action::s3:List*]',
        'Test/Ingest/Role AwsSolutions-IAM5[Resource::<StorageData6BB23F4E.Arn>/ingested/*]',
        'Test/Ingest/Role AwsSolutions-IAM5[Resource::<StorageData6BB23F4E.Arn>/orders/*]',
        'Test/Ingest/Role AwsSolutions-IAM5[Resource::<StorageData6BB23F4E.Arn>/quarantine/*]',
        'Test/Schedule/InvokeRole AwsSolutions-IAM5[Resource::<JobFunction23969A7D.Arn>:*]',
      ].sort(),
    );
  });

  it('still pass with custom prefixes, whose wildcard grants are acknowledged by their own names', () => {
    const { app } = newStack({ inputPrefix: 'drop/orders/', outputPrefix: 'published/', athenaResultsPrefix: 'tmp/athena/' });
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });
});

describe('ClvStack: outputs', () => {
  it('name the bucket, the locations, the database, the workgroup, the functions, the queues and the topics', () => {
    const outputs = Template.fromStack(newStack().stack).findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'AthenaWorkgroup',
        'BucketName',
        'DropLocation',
        'FailedRunsQueueUrl',
        'FunctionName',
        'GlueDatabase',
        'OutputLocation',
        'IngestedLocation',
        'QuarantineLocation',
        'QuarantineTopicArn',
        'IngestFunctionName',
        'IngestDeadLetterQueueUrl',
      ].sort(),
    );
  });
});
