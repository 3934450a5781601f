/**
 * Where a run's files live under the output root (an S3 prefix or a local folder). The store
 * adapters, the pipeline and the CDK stack's lifecycle rules and Glue tables all use these names.
 *
 * Write once, switch once: a run writes every file under `_runs/<run id>/` (never modified
 * afterwards); publishing switches the run date over to that run in one step (see
 * adapters/versioned-publisher.ts). Paths such as `customers/run_date=D/...` are what readers
 * see: locally links through the switch, on S3 the Glue partitions and the run date's manifest.
 */
import { SUMMARY_DATASETS, type SummaryDataset } from './schemas/tables.js';

/** Run-scoped locations: `_runs/<run id>/<dataset>/run_date=D/...`. */
export const RUNS_DIR = '_runs';
/** The local switch: `_live/run_date=D` is a link to `../_runs/<run id>`. */
export const LIVE_DIR = '_live';
/** Publishing's own records: the intent of a publish in progress and each run date's versions. */
export const PUBLISH_DIR = '_publish';
export const INTENT_KEY = `${PUBLISH_DIR}/intent.json`;
/** Quality reports of runs whose data-quality gates failed; never part of a published run. */
export const QUALITY_DIR = '_quality';
export const QUALITY_REPORT_FILE = 'quality.json';
export const LOCK_KEY = '_lock/run.lock';
export const LATEST_KEY = 'latest.json';
export const SUCCESS_MARKER = '_SUCCESS';
export const MANIFEST_FILE = '_manifest.json';
/** The JSON Schema of the summary, written beside every summary. */
export const SUMMARY_SCHEMA_FILE = 'summary.schema.json';

/** Activation audiences: `audiences/run_date=D/<scheme>/<segment>.csv` (pipeline/write-audiences.ts). */
export const AUDIENCES_DATASET = 'audiences';

/**
 * The datasets a run may publish, each Hive-partitioned by run date. A run publishes the ones it
 * wrote files for; adding a Parquet dataset is adding its columns to `SUMMARY_TABLES` in
 * schemas/tables.ts, which gives it a name here and a Glue table in lib/catalog.ts.
 */
export type Dataset = 'customers' | 'rejected' | SummaryDataset | typeof AUDIENCES_DATASET | 'summary' | 'report';
export const DATASETS: readonly Dataset[] = ['customers', 'rejected', ...SUMMARY_DATASETS, AUDIENCES_DATASET, 'summary', 'report'];

/**
 * The Glue table of each dataset that has one (lib/catalog.ts creates them; the job registers
 * their run-date partitions as it publishes). A summary dataset's table has its dataset's name.
 */
export const CATALOG_TABLES: readonly { readonly dataset: Dataset; readonly table: string }[] = [
  { dataset: 'customers', table: 'customers' },
  { dataset: 'rejected', table: 'rejected_rows' },
  ...SUMMARY_DATASETS.map((dataset) => ({ dataset, table: dataset })),
];

export const runDatePartition = (runDate: string): string => `run_date=${runDate}`;
export const datasetPartition = (dataset: Dataset, runDate: string): string => `${dataset}/${runDatePartition(runDate)}`;
export const summaryKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/summary.json`;
export const reportKey = (runDate: string): string => `${datasetPartition('report', runDate)}/index.html`;
export const qualityReportKey = (runDate: string): string => `${QUALITY_DIR}/${runDatePartition(runDate)}/${QUALITY_REPORT_FILE}`;
/** The run date's success marker and manifest sit beside its summary. */
export const successKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/${SUCCESS_MARKER}`;
export const summarySchemaKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/${SUMMARY_SCHEMA_FILE}`;
export const manifestKey = (runDate: string): string => `${datasetPartition('summary', runDate)}/${MANIFEST_FILE}`;
/** A run's own copy of a key: where the run writes it, once. */
export const runScopedKey = (runId: string, key: string): string => `${RUNS_DIR}/${runId}/${key}`;
/** Each run date's published versions, newest last. */
export const historyKey = (runDate: string): string => `${PUBLISH_DIR}/history/${runDatePartition(runDate)}.json`;
/** The dataset a key belongs to (its first path segment), or null for keys outside every dataset. */
export const datasetOf = (key: string): Dataset | null => {
  const first = key.split('/')[0];
  return (DATASETS as readonly string[]).includes(first ?? '') ? (first as Dataset) : null;
};
