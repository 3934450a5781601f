import { Size, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { Construct } from 'constructs';
import type { ClvStorage } from './storage.js';
import { failOnProblems } from './validation.js';

export const DEFAULT_WORKGROUP_NAME = 'clv-job';
export const DEFAULT_BYTES_SCANNED_CUTOFF = Size.gibibytes(100);
/** Athena's own lower bound for a per-query data usage control. */
const MIN_BYTES_SCANNED_CUTOFF = Size.mebibytes(10);

export interface ClvQueryProps {
  /** The bucket and the results prefix (expired by the storage's lifecycle rule). */
  readonly storage: ClvStorage;
  /**
   * Athena workgroup name.
   * @default 'clv-job'
   */
  readonly workgroupName?: string;
  /**
   * A query scanning more than this is cancelled: a runaway query (a wrong prefix, a cross join)
   * costs at most this much (about $0.50 per 100 GiB at $5/TB). 10 M orders as CSV are ~1 GiB.
   * @default Size.gibibytes(100)
   */
  readonly bytesScannedCutoffPerQuery?: Size;
}

/**
 * The Athena workgroup the job queries through. Its configuration is enforced, so neither the job
 * nor an analyst's client can send results elsewhere, unencrypted, or without the scan limit.
 */
export class ClvQuery extends Construct {
  public readonly workgroupName: string;
  public readonly workgroupArn: string;
  public readonly workgroup: CfnWorkGroup;

  constructor(scope: Construct, id: string, props: ClvQueryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.workgroupName = props.workgroupName ?? DEFAULT_WORKGROUP_NAME;
    const cutoff = props.bytesScannedCutoffPerQuery ?? DEFAULT_BYTES_SCANNED_CUTOFF;
    const cutoffBytes = cutoff.toBytes();
    failOnProblems('ClvQuery', [
      ...(/^[a-zA-Z0-9._-]{1,128}$/.test(this.workgroupName)
        ? []
        : [`workgroupName must be 1-128 letters, digits, ".", "_" or "-", got ${JSON.stringify(this.workgroupName)}`]),
      ...(cutoffBytes >= MIN_BYTES_SCANNED_CUTOFF.toBytes()
        ? []
        : [`bytesScannedCutoffPerQuery must be at least 10 MiB (Athena's minimum), got ${cutoffBytes} bytes`]),
    ]);

    this.workgroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: this.workgroupName,
      description: 'Queries of the nightly customer-lifetime-value job.',
      state: 'ENABLED',
      // Lets `cdk destroy` delete the workgroup even though it has a query history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cutoffBytes,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: props.storage.s3Url(props.storage.athenaResultsPrefix),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: stack.account,
        },
      },
    });
    this.workgroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroupName });
  }
}
