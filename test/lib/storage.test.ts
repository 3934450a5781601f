import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ClvStorage, type ClvStorageProps } from '../../lib/storage.js';
import { ClvConfigurationError } from '../../lib/validation.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));

/** A fresh stack per test, with the feature flags `cdk synth` uses. */
const storageStack = (props?: ClvStorageProps): { stack: Stack; storage: ClvStorage; template: Template } => {
  const stack = new Stack(new App({ context }), 'Test');
  const storage = new ClvStorage(stack, 'Storage', props);
  return { stack, storage, template: Template.fromStack(stack) };
};
const storageTemplate = (props?: ClvStorageProps): Template => storageStack(props).template;

const dataBucket = (template: Template) => {
  const buckets = template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: Match.anyValue() } });
  expect(Object.keys(buckets)).toHaveLength(1);
  return { logicalId: Object.keys(buckets)[0]!, properties: Object.values(buckets)[0]!.Properties };
};

describe('ClvStorage: the drop bucket', () => {
  it('is versioned, encrypted with S3-managed keys and blocks all public access', () => {
    storageTemplate().hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('denies every request that does not use TLS', () => {
    const template = storageTemplate();
    const { logicalId } = dataBucket(template);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires noncurrent versions after 30 days and Athena results after 7 days', () => {
    storageTemplate().hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Id: 'expire-noncurrent-versions',
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            ExpiredObjectDeleteMarker: true,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          }),
          Match.objectLike({ Id: 'expire-athena-results', Prefix: 'athena-results/', ExpirationInDays: 7, Status: 'Enabled' }),
        ],
      },
    });
  });

  it('never expires the drop prefix or the published output', () => {
    const { properties } = dataBucket(storageTemplate());
    const prefixes = properties.LifecycleConfiguration.Rules.map((r: { Prefix?: string }) => r.Prefix);
    expect(prefixes).not.toContain('orders/');
    expect(prefixes).not.toContain('clv/');
    // a run's files stay as long as a night shows them: the job removes replaced runs, versioning keeps their bytes 30 days
    expect(prefixes).not.toContain('clv/_runs/');
  });

  it('moves the rules with their prefixes and takes custom expirations', () => {
    storageTemplate({
      outputPrefix: 'scored/clv/',
      athenaResultsPrefix: 'tmp/athena/',
      athenaResultsExpiration: Duration.days(3),
      noncurrentVersionExpiration: Duration.days(90),
    }).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 } }),
          Match.objectLike({ Prefix: 'tmp/athena/', ExpirationInDays: 3 }),
        ],
      },
    });
  });

  it('hands the versioned drop bucket, not the log bucket, to the constructs that use it', () => {
    const { stack, storage, template } = storageStack();

    expect(stack.resolve(storage.bucket.bucketName)).toEqual({ Ref: dataBucket(template).logicalId });
  });

  it('writes server access logs to an encrypted, TLS-only log bucket that expires them', () => {
    const template = storageTemplate();
    const logBuckets = template.findResources('AWS::S3::Bucket', {
      Properties: { LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-access-logs', ExpirationInDays: 90 })] } },
    });
    expect(Object.keys(logBuckets)).toHaveLength(1);
    const [logBucketId] = Object.keys(logBuckets);
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logBucketId }, LogFilePrefix: 'data/' },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-access-logs' })] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
        ]),
      },
    });
  });

  it('keeps the data when the stack is deleted', () => {
    storageTemplate().hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({ VersioningConfiguration: { Status: 'Enabled' } }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('ClvStorage: prop validation', () => {
  it.each([
    ['a leading slash', { inputPrefix: '/orders/' }, /inputPrefix must be a relative S3 prefix/],
    ['no trailing slash', { outputPrefix: 'clv' }, /outputPrefix must be a relative S3 prefix/],
    ['an IAM wildcard', { athenaResultsPrefix: 'athena*/' }, /athenaResultsPrefix must be a relative S3 prefix/],
    ['the output inside the drop prefix', { inputPrefix: 'data/', outputPrefix: 'data/clv/' }, /inputPrefix .* and outputPrefix .* must not contain one another/],
    ['a fractional day', { athenaResultsExpiration: Duration.hours(12) }, /athenaResultsExpiration must be a whole number of days/],
  ])('rejects %s', (_title, props, message) => {
    expect(() => storageTemplate(props as ClvStorageProps)).toThrow(message);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      storageTemplate({ inputPrefix: 'orders', outputPrefix: '/clv/', noncurrentVersionExpiration: Duration.hours(1) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClvConfigurationError);
    expect((error as ClvConfigurationError).problems).toHaveLength(3);
  });
});
