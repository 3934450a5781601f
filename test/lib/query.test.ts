import { readFileSync } from 'node:fs';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ClvQuery, type ClvQueryProps } from '../../lib/query.js';
import { ClvStorage } from '../../lib/storage.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));

/** A fresh stack per test, with the feature flags `cdk synth` uses. */
const queryTemplate = (props: Omit<ClvQueryProps, 'storage'> = {}): Template => {
  const stack = new Stack(new App({ context }), 'Test');
  new ClvQuery(stack, 'Query', { storage: new ClvStorage(stack, 'Storage'), ...props });
  return Template.fromStack(stack);
};

describe('ClvQuery: the Athena workgroup', () => {
  it('enforces its configuration and publishes CloudWatch metrics', () => {
    queryTemplate().hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'clv-job',
      State: 'ENABLED',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
      }),
    });
  });

  it('writes SSE-S3 encrypted results under the results prefix of the drop bucket', () => {
    queryTemplate().hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^StorageData') }, '/athena-results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      }),
    });
  });

  it('cancels a query that scans more than 100 GiB by default, and uses the automatic engine version', () => {
    queryTemplate().hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        BytesScannedCutoffPerQuery: 100 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'AUTO' },
      }),
    });
  });

  it('takes its name and scan limit from the props', () => {
    queryTemplate({ workgroupName: 'clv-dev', bytesScannedCutoffPerQuery: Size.gibibytes(5) }).hasResourceProperties(
      'AWS::Athena::WorkGroup',
      { Name: 'clv-dev', WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 5 * 1024 ** 3 }) },
    );
  });

  it('can be deleted with its query history', () => {
    queryTemplate().hasResourceProperties('AWS::Athena::WorkGroup', { RecursiveDeleteOption: true });
  });

  it('rejects a scan limit below Athena\'s minimum of 10 MiB and a malformed name, in one error', () => {
    expect(() => queryTemplate({ workgroupName: 'clv job', bytesScannedCutoffPerQuery: Size.mebibytes(5) })).toThrow(
      /workgroupName must be[\s\S]*bytesScannedCutoffPerQuery must be at least 10 MiB/,
    );
  });
});
