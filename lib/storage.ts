import { Duration } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, CfnBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEFAULT_INGESTED_PREFIX, DEFAULT_QUARANTINE_PREFIX } from '../lambdas/clv-job/ingest-layout.js';
import { RUNS_DIR } from '../lambdas/clv-job/layout.js';
import { failOnProblems, overlappingPrefixProblems, prefixProblem, wholeDaysProblem } from './validation.js';

export const DEFAULT_INPUT_PREFIX = 'orders/';
export const DEFAULT_OUTPUT_PREFIX = 'clv/';
export const DEFAULT_ATHENA_RESULTS_PREFIX = 'athena-results/';

export interface ClvStorageProps {
  /**
   * Where the data teams drop order exports (CSV, optionally gzipped). Every object created or
   * deleted under it is an event for the ingest function.
   * @default 'orders/'
   */
  readonly inputPrefix?: string;
  /**
   * Where the ingest function writes each export's canonical Parquet copy (the Glue orders table's
   * location) and, under `_receipts/`, its receipt.
   * @default 'ingested/'
   */
  readonly ingestedPrefix?: string;
  /**
   * Where the ingest function copies an export it cannot read, with the reason under `_reasons/`.
   * @default 'quarantine/'
   */
  readonly quarantinePrefix?: string;
  /**
   * Where the job publishes: each run's files under `<outputPrefix>_runs/<run id>/`, the run
   * dates' manifests, `latest.json`, and its lock `<outputPrefix>_lock/run.lock`.
   * @default 'clv/'
   */
  readonly outputPrefix?: string;
  /**
   * Where the Athena workgroup writes query results.
   * @default 'athena-results/'
   */
  readonly athenaResultsPrefix?: string;
  /**
   * How long an overwritten or deleted object version is kept: the window in which a bad re-run
   * or an accidental delete can be undone.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * Age after which Athena result files are deleted. The job reads them within the run.
   * @default Duration.days(7)
   */
  readonly athenaResultsExpiration?: Duration;
  /**
   * How long server access logs are kept.
   * @default Duration.days(90)
   */
  readonly accessLogsExpiration?: Duration;
}

/**
 * The drop bucket. One bucket holds the drop prefix, the output prefix and the Athena results,
 * each under its own prefix, because the Lambda contract names a single bucket (`CLV_BUCKET`) for
 * input and output, because one set of encryption, TLS-only and public-access settings then covers
 * all the data, and because IAM grants and lifecycle rules scope to prefixes just as well as to
 * buckets. The prefixes must not contain one another (the orders table would read the job's own
 * output). docs/deploy.md explains the layout.
 */
export class ClvStorage extends Construct {
  public readonly bucket: Bucket;
  /** Receives the data bucket's server access logs. */
  public readonly accessLogsBucket: Bucket;
  public readonly inputPrefix: string;
  public readonly ingestedPrefix: string;
  public readonly quarantinePrefix: string;
  public readonly outputPrefix: string;
  public readonly athenaResultsPrefix: string;
  /**
   * `<outputPrefix>_runs/`: each run's files, written once. Not expired by age: a night that is
   * never re-run stays live for good. The job removes dead and replaced runs itself (a delete
   * marker on this versioned bucket), and `expire-noncurrent-versions` erases their bytes later.
   */
  public readonly runsPrefix: string;

  constructor(scope: Construct, id: string, props: ClvStorageProps = {}) {
    super(scope, id);
    this.inputPrefix = props.inputPrefix ?? DEFAULT_INPUT_PREFIX;
    this.ingestedPrefix = props.ingestedPrefix ?? DEFAULT_INGESTED_PREFIX;
    this.quarantinePrefix = props.quarantinePrefix ?? DEFAULT_QUARANTINE_PREFIX;
    this.outputPrefix = props.outputPrefix ?? DEFAULT_OUTPUT_PREFIX;
    this.athenaResultsPrefix = props.athenaResultsPrefix ?? DEFAULT_ATHENA_RESULTS_PREFIX;
    this.runsPrefix = `${this.outputPrefix}${RUNS_DIR}/`;

    const noncurrentDays = (props.noncurrentVersionExpiration ?? Duration.days(30)).toDays({ integral: false });
    const resultsDays = (props.athenaResultsExpiration ?? Duration.days(7)).toDays({ integral: false });
    const accessLogDays = (props.accessLogsExpiration ?? Duration.days(90)).toDays({ integral: false });
    const prefixes = {
      inputPrefix: this.inputPrefix,
      ingestedPrefix: this.ingestedPrefix,
      quarantinePrefix: this.quarantinePrefix,
      outputPrefix: this.outputPrefix,
      athenaResultsPrefix: this.athenaResultsPrefix,
    };
    const badPrefixes = Object.entries(prefixes).flatMap(([name, prefix]) => prefixProblem(name, prefix) ?? []);
    failOnProblems('ClvStorage', [
      ...badPrefixes,
      ...(badPrefixes.length === 0 ? overlappingPrefixProblems(prefixes) : []),
      ...[
        wholeDaysProblem('noncurrentVersionExpiration', noncurrentDays),
        wholeDaysProblem('athenaResultsExpiration', resultsDays),
        wholeDaysProblem('accessLogsExpiration', accessLogDays),
      ].flatMap((p) => p ?? []),
    ]);

    // cdk-nag's S1 accepts a bucket that is itself a server access log target without logs of its own.
    const accessLogs = new Bucket(this, 'AccessLogs', {
      // Server access log delivery supports SSE-S3 only on the target bucket.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(accessLogDays) }],
    });

    this.bucket = new Bucket(this, 'Data', {
      versioned: true,
      // SSE-S3 rather than KMS: Athena, Glue, QuickSight and BI tools read the Parquet with their own
      // S3 permissions only, and a customer key would need grants in every reader's key policy.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(noncurrentDays),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'expire-athena-results', prefix: this.athenaResultsPrefix, expiration: Duration.days(resultsDays) },
      ],
    });
    this.accessLogsBucket = accessLogs;
    // S3 sends every object event to EventBridge, where a rule picks the drop prefix's for ingest.
    // Set on the CloudFormation resource itself: the bucket's `eventBridgeEnabled` prop would add a
    // custom-resource Lambda (with an AWS managed policy) to do what CloudFormation does natively.
    (this.bucket.node.defaultChild as CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
  }

  /** `s3://<bucket>/<prefix>`, e.g. for a Glue table location. */
  public s3Url(prefix: string): string {
    return `s3://${this.bucket.bucketName}/${prefix}`;
  }
}
