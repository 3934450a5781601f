/**
 * Names shared by the Lambda handler and the CDK stack that configures and watches it, kept in one
 * place so the stack cannot set a variable the handler does not read or alarm on a metric it never emits.
 */
export const LAMBDA_ENV = {
  /** Bucket holding the drop prefix and the output prefix. */
  bucket: 'CLV_BUCKET',
  /** Prefix the data teams drop order exports under, e.g. `orders/`. */
  inputPrefix: 'CLV_INPUT_PREFIX',
  /** Prefix of the canonical Parquet copies the ingest function writes, e.g. `ingested/` (the Glue orders table's location). */
  ingestedPrefix: 'CLV_INGESTED_PREFIX',
  /** Prefix of the exports the ingest function could not read, e.g. `quarantine/`. */
  quarantinePrefix: 'CLV_QUARANTINE_PREFIX',
  /** Prefix the job publishes under, e.g. `clv/`. */
  outputPrefix: 'CLV_OUTPUT_PREFIX',
  athenaDatabase: 'CLV_ATHENA_DATABASE',
  /** Glue table of the canonical orders (Parquet, by column name) over the ingested prefix. */
  athenaTable: 'CLV_ATHENA_TABLE',
  athenaWorkgroup: 'CLV_ATHENA_WORKGROUP',
  /** Model options, as the CLI flags of the same names. */
  timeUnit: 'CLV_TIME_UNIT',
  transactions: 'CLV_TRANSACTIONS',
  horizon: 'CLV_HORIZON',
  discountRate: 'CLV_DISCOUNT_RATE',
  margin: 'CLV_MARGIN',
  lifespanYears: 'CLV_LIFESPAN_YEARS',
  /** Parameter draws behind the 90% intervals (`model.intervalDraws`; 0 turns them off) and their seed (`model.intervalSeed`). */
  intervalDraws: 'CLV_INTERVAL_DRAWS',
  intervalSeed: 'CLV_INTERVAL_SEED',
  /** A run lock older than this is taken over: the function's maximum duration. */
  lockTtlSeconds: 'CLV_LOCK_TTL_SECONDS',
  /** Days a replaced version of a night is kept for rollback before a run removes it (default 30). */
  keepPreviousDays: 'CLV_KEEP_PREVIOUS_DAYS',
  /** Data-quality gate thresholds, as config `gates` of the same names; `off` turns a gate off. */
  gateMaxRejectedShare: 'CLV_GATE_MAX_REJECTED_SHARE',
  gateMinRowsForRejectedShare: 'CLV_GATE_MIN_ROWS_FOR_REJECTED_SHARE',
  gateMinCustomersVsPrevious: 'CLV_GATE_MIN_CUSTOMERS_VS_PREVIOUS',
  gateMinRevenueVsPrevious: 'CLV_GATE_MIN_REVENUE_VS_PREVIOUS',
  gateMaxDaysLatestOrderBeforePrevious: 'CLV_GATE_MAX_DAYS_LATEST_ORDER_BEFORE_PREVIOUS',
  gateMinAcceptedOrders: 'CLV_GATE_MIN_ACCEPTED_ORDERS',
  gateEarliestOrderDate: 'CLV_GATE_EARLIEST_ORDER_DATE',
  gateMaxDaysSinceLatestOrder: 'CLV_GATE_MAX_DAYS_SINCE_LATEST_ORDER',
  /** Prefix of the marketing-spend CSVs (channel, month, spend), e.g. `spend/`; empty: no spend input. */
  spendPrefix: 'CLV_SPEND_PREFIX',
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

/**
 * The ingest function's variables (beside CLV_BUCKET and the three prefixes of LAMBDA_ENV), shared
 * with the CDK stack for the same reason as LAMBDA_ENV.
 */
export const INGEST_ENV = {
  bucket: LAMBDA_ENV.bucket,
  inputPrefix: LAMBDA_ENV.inputPrefix,
  ingestedPrefix: LAMBDA_ENV.ingestedPrefix,
  quarantinePrefix: LAMBDA_ENV.quarantinePrefix,
  /** SNS topic told, within a minute, of every export put in quarantine. */
  quarantineTopicArn: 'CLV_QUARANTINE_TOPIC_ARN',
  /** How exports are read (column names, delimiter, date and number formats): the config file's JSON, optional. */
  ingestConfig: 'CLV_INGEST_CONFIG',
} as const;

export const INGEST_METRIC = {
  /** Exports read and written as canonical Parquet. */
  filesIngested: 'FilesIngested',
  /** Exports that could not be read at all: the quarantine alarm watches it. */
  filesQuarantined: 'FilesQuarantined',
  /** Canonical copies removed because their export was deleted. */
  filesRemoved: 'FilesRemoved',
  /** Objects under the drop prefix that are not exports (a README, a hidden file): left alone. */
  objectsIgnored: 'ObjectsIgnored',
  ingestedRows: 'IngestedRows',
  ingestedBytes: 'IngestedBytes',
  ingestSeconds: 'IngestSeconds',
} as const;
