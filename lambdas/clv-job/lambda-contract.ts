/**
 * Names shared by the Lambda handler and the CDK stack that configures and watches it, kept in one
 * place so the stack cannot set a variable the handler does not read or alarm on a metric it never emits.
 */
export const LAMBDA_ENV = {
  /** Bucket holding the drop prefix and the output prefix. */
  bucket: 'CLV_BUCKET',
  /** Prefix the data teams drop order exports under, e.g. `orders/`. */
  inputPrefix: 'CLV_INPUT_PREFIX',
  /** Prefix the job publishes under, e.g. `clv/`. */
  outputPrefix: 'CLV_OUTPUT_PREFIX',
  athenaDatabase: 'CLV_ATHENA_DATABASE',
  /** Glue table of the raw orders (every column a string) over the drop prefix. */
  athenaTable: 'CLV_ATHENA_TABLE',
  athenaWorkgroup: 'CLV_ATHENA_WORKGROUP',
  /** Model options, as the CLI flags of the same names. */
  timeUnit: 'CLV_TIME_UNIT',
  transactions: 'CLV_TRANSACTIONS',
  horizon: 'CLV_HORIZON',
  discountRate: 'CLV_DISCOUNT_RATE',
  margin: 'CLV_MARGIN',
  lifespanYears: 'CLV_LIFESPAN_YEARS',
  /** A run lock older than this is taken over: the function's maximum duration. */
  lockTtlSeconds: 'CLV_LOCK_TTL_SECONDS',
  /** Days a replaced version of a night is kept for rollback before a run removes it (default 30). */
  keepPreviousDays: 'CLV_KEEP_PREVIOUS_DAYS',
} as const;

export const METRICS_NAMESPACE = 'ClvJob';

export const METRIC = {
  /** 1 per successful run: the "no success in 24 hours" alarm watches it. */
  runSucceeded: 'RunSucceeded',
  runFailed: 'RunFailed',
  /** A run that found another one holding the lock and stepped aside. */
  runSkippedLocked: 'RunSkippedLocked',
  inputRows: 'InputRows',
  rejectedRows: 'RejectedRows',
  customers: 'Customers',
  durationSeconds: 'DurationSeconds',
  athenaQueryFailed: 'AthenaQueryFailed',
  /** 1 per run stopped by a data-quality gate (nothing published; the quality report is under `_quality/`). */
  qualityGateFailed: 'QualityGateFailed',
} as const;
