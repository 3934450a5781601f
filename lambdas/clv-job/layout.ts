/**
 * Where a run's files live under the output root (an S3 prefix or a local folder). The store
 * adapters, the pipeline and the CDK stack's lifecycle rules and Glue tables all use these names.
 */
export const STAGING_DIR = '_staging';
/** Quality reports of runs whose data-quality gates failed; never part of a published run. */
export const QUALITY_DIR = '_quality';
export const LOCK_KEY = '_lock/run.lock';
export const LATEST_KEY = 'latest.json';
export const SUCCESS_MARKER = '_SUCCESS';
export const MANIFEST_FILE = '_manifest.json';
/** The JSON Schema of the summary, written beside every summary. */
export const SUMMARY_SCHEMA_FILE = 'summary.schema.json';

/** The datasets a run publishes, each Hive-partitioned by run date. */
export const DATASETS = ['customers', 'rejected', 'summary', 'report'] as const;
export type Dataset = (typeof DATASETS)[number];

export const runDatePartition = (runDate: string): string => `run_date=${runDate}`;
export const datasetPartition = (dataset: Dataset, runDate: string): string => `${dataset}/${runDatePartition(runDate)}`;
export const summaryKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/summary.json`;
export const reportKey = (runDate: string): string => `${datasetPartition('report', runDate)}/index.html`;
export const qualityReportKey = (runDate: string): string => `${QUALITY_DIR}/${runDatePartition(runDate)}/quality.json`;
/** The run date's success marker and manifest sit beside its summary. */
export const successKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/${SUCCESS_MARKER}`;
export const summarySchemaKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/${SUMMARY_SCHEMA_FILE}`;
export const manifestKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/${MANIFEST_FILE}`;
