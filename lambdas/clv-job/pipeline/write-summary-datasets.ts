import { dayOf, type CustomerScores, type CustomerTable } from '../domain/customers.js';
import type { MoverRows } from '../domain/segments/movers.js';
import { datasetPartition } from '../layout.js';
import type { ColumnValues, StagedRun, TableWriter } from '../ports.js';
import type { Summary } from '../schemas/summary.js';
import { CHANNEL_SEGMENT_SCHEMES, type ChannelSegmentScheme } from '../domain/acquisition/channel-segments.js';
import { SUMMARY_TABLES, type SummaryDataset } from '../schemas/tables.js';
import type { WrittenFile } from './write-tables.js';

/** The separator of a segment's actions in the `actions` column (a `;` or `,` is common inside an action). */
export const ACTIONS_SEPARATOR = ' | ';

type Row = Readonly<Record<string, unknown>>;

/** The summary sections the datasets are made of (the run writes them before it assembles the summary). */
export type SummarySections = Pick<Summary, 'segments' | 'channels' | 'cohorts' | 'acquisition' | 'acquisition_cohorts' | 'channel_segments' | 'churn'>;

/** Where each scheme's table sits in the summary's `segments`. */
const SEGMENT_TABLE: Record<ChannelSegmentScheme, keyof Summary['segments']> = { clv_tier: 'clv_tiers', value_loyalty: 'value_loyalty', rfm: 'rfm' };

/** The spend fields the summary leaves out without a spend input: null in the dataset, whose columns are fixed. */
const SPEND_FIELDS = ['spend', 'cac', 'ltv_to_cac', 'payback_months', 'below_ltv_to_cac_line', 'ltv_to_cac_falling'] as const;

/** An acquisition row with every spend field present (null where the summary leaves it out) and `spend_input`. */
const withSpendColumns = (row: Row): Row => ({
  ...Object.fromEntries(SPEND_FIELDS.map((field) => [field, null])),
  ...row,
  spend_input: 'spend' in row,
});

/**
 * The rows of each summary dataset, taken from the summary's own sections so that the dataset and
 * the summary cannot disagree: a column is the summary field of the same name. `segments` stacks
 * the three segment tables under a `scheme` column, their action lists joined by ACTIONS_SEPARATOR.
 */
export const summaryTableRows = (summary: SummarySections): Record<Exclude<SummaryDataset, 'movers'>, readonly Row[]> => ({
  segments: CHANNEL_SEGMENT_SCHEMES.flatMap((scheme) =>
    summary.segments[SEGMENT_TABLE[scheme]].map((row) => ({ scheme, ...row, actions: row.actions.join(ACTIONS_SEPARATOR) })),
  ),
  channels: summary.channels,
  cohorts: summary.cohorts,
  acquisition: summary.acquisition.map(withSpendColumns),
  acquisition_cohorts: summary.acquisition_cohorts.map(withSpendColumns),
  channel_segments: summary.channel_segments,
  churn: summary.churn,
});

/** Row objects as the table's columns; a column the rows lack is a programming error, never a silent null. */
const columnsOf = (dataset: SummaryDataset, rows: readonly Row[]): Record<string, ColumnValues> => {
  const batch: Record<string, ColumnValues> = {};
  for (const { name } of SUMMARY_TABLES[dataset].columns) {
    batch[name] = rows.map((row) => {
      const value = row[name];
      if (value === undefined) throw new Error(`the ${dataset} dataset's column ${name} is missing from its summary rows`);
      return value;
    }) as ColumnValues;
  }
  return batch;
};

/** One Parquet file `<dataset>/run_date=D/part-00000.parquet`, written even when empty so its columns are there. */
const writeDataset = async (run: StagedRun, tables: TableWriter, runDate: string, dataset: SummaryDataset, batch: Record<string, ColumnValues>, rows: number): Promise<WrittenFile> => {
  const key = `${datasetPartition(dataset, runDate)}/part-00000.${tables.extension}`;
  const file = tables.open(await run.open(key), SUMMARY_TABLES[dataset].columns);
  await file.append(batch, rows);
  return { key, ...(await file.close()) };
};

export interface MoversInput {
  readonly movers: MoverRows;
  /** The run compared with; null on a first run (no movers). */
  readonly previousRunDate: string | null;
  readonly customers: CustomerTable;
  readonly scores: CustomerScores;
}

/**
 * Every summary table as a Parquet dataset (SUMMARY_TABLES: segments, channels, cohorts, the
 * acquisition tables, channel x segment, churn) and the movers,
 * one file each under the run's location, published with the run.
 */
export const writeSummaryDatasets = async (run: StagedRun, tables: TableWriter, runDate: string, summary: SummarySections, movers: MoversInput): Promise<WrittenFile[]> => {
  const written: WrittenFile[] = [];
  for (const [dataset, rows] of Object.entries(summaryTableRows(summary)) as [Exclude<SummaryDataset, 'movers'>, readonly Row[]][]) {
    written.push(await writeDataset(run, tables, runDate, dataset, columnsOf(dataset, rows), rows.length));
  }
  const { size, customer, movement, previousSegment, currentSegment } = movers.movers;
  const pick = (values: Float64Array | null): ColumnValues => (values === null ? new Array<null>(size).fill(null) : Float64Array.from(customer, (i) => values[i]!));
  const previousDay = movers.previousRunDate === null ? null : dayOf(movers.previousRunDate);
  written.push(
    await writeDataset(
      run,
      tables,
      runDate,
      'movers',
      {
        customer_id: Array.from(customer, (i) => movers.customers.customerId[i]!),
        movement,
        previous_segment: previousSegment,
        current_segment: currentSegment,
        predicted_clv: pick(movers.scores.predictedClv),
        probability_alive: pick(movers.scores.probabilityAlive),
        previous_run_date: new Array<number | null>(size).fill(previousDay),
      },
      size,
    ),
  );
  return written;
};
