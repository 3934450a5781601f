import type { CustomerSegments, CustomerTable } from '../domain/customers.js';
import { datasetPartition } from '../layout.js';
import type { ColumnRows, ColumnValues, StagedRun, TableWriter } from '../ports.js';
import { CUSTOMER_COLUMNS, PATTERN_SCORE_COLUMNS, REJECTED_COLUMNS, TIERS, type PatternScoreColumn, type Tier } from '../schemas/tables.js';
import type { RejectedRows } from './engine-results.js';
import type { ScoredCustomers } from './score-customers.js';

export interface WrittenFile {
  readonly key: string;
  /** Null for files that are not tables (the summary, the report). */
  readonly rows: number | null;
  readonly bytes: number;
}

const partKey = (prefix: string, index: number, extension: string): string =>
  `${prefix}/part-${String(index).padStart(5, '0')}.${extension}`;

/**
 * Scored customers, one Parquet file per tier partition (`segment=high|mid|low`), with every
 * contract column in the contract's order and type.
 */
export const writeCustomers = async (
  run: Pick<StagedRun, 'open'>,
  tables: TableWriter,
  runDate: string,
  customers: CustomerTable,
  scored: Pick<ScoredCustomers, 'scores' | 'byPattern'>,
  segments: CustomerSegments,
): Promise<WrittenFile[]> => {
  const { patternOf, columns: byPattern } = scored.byPattern;
  const source: Record<Exclude<(typeof CUSTOMER_COLUMNS)[number]['name'], PatternScoreColumn>, ColumnValues | null> = {
    customer_id: customers.customerId,
    first_order_date: customers.firstOrderDay,
    last_order_date: customers.lastOrderDay,
    acquisition_channel: customers.acquisitionChannel,
    cohort: customers.cohort,
    orders: customers.orders,
    frequency: customers.frequency,
    recency_days: customers.recencyDays,
    tenure_days: customers.tenureDays,
    total_revenue: customers.totalRevenue,
    monetary_value: customers.monetaryValue,
    avg_order_value: customers.avgOrderValue,
    historical_clv: scored.scores.historicalClv,
    clv_tier: segments.clvTier,
    value_loyalty: segments.valueLoyalty,
    rfm_r: segments.rfmR,
    rfm_f: segments.rfmF,
    rfm_m: segments.rfmM,
    rfm_score: segments.rfmScore,
    rfm_segment: segments.rfmSegment,
  };
  const isPatternScore = (name: string): name is PatternScoreColumn => (PATTERN_SCORE_COLUMNS as readonly string[]).includes(name);

  // each tier's customers in customer order: the writer reads every column through these row numbers, copying none
  const counts: Record<Tier, number> = { high: 0, mid: 0, low: 0 };
  for (const tier of segments.clvTier) counts[tier] += 1;
  const tierRows: Record<Tier, Int32Array> = { high: new Int32Array(counts.high), mid: new Int32Array(counts.mid), low: new Int32Array(counts.low) };
  const filled: Record<Tier, number> = { high: 0, mid: 0, low: 0 };
  for (let i = 0; i < segments.clvTier.length; i++) {
    const tier = segments.clvTier[i]!;
    tierRows[tier][filled[tier]++] = i;
  }

  const written: WrittenFile[] = [];
  for (const tier of TIERS) {
    const rows = tierRows[tier];
    // a night without customers (published on purpose past a failed gate) still has its customers file,
    // empty, as every dataset has: a reader of the night finds no rows rather than no files
    if (rows.length === 0 && !(tier === 'low' && segments.clvTier.length === 0)) continue;
    const key = partKey(`${datasetPartition('customers', runDate)}/segment=${tier}`, 0, tables.extension);
    const file = tables.open(await run.open(key), CUSTOMER_COLUMNS);
    // the model scores are kept per pattern: the customers' patterns are their row numbers
    const patterns = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) patterns[i] = patternOf[rows[i]!]!;
    const batch: Record<string, ColumnRows> = {};
    for (const { name } of CUSTOMER_COLUMNS) {
      batch[name] = isPatternScore(name) ? { values: byPattern[name], rows: patterns } : { values: source[name], rows };
    }
    await file.append(batch, rows.length);
    written.push({ key, ...(await file.close()) });
  }
  return written;
};

/** The rejected rows as read, with file, row and reason; written even when empty so readers find the partition. */
export const writeRejected = async (run: StagedRun, tables: TableWriter, runDate: string, rejected: RejectedRows): Promise<WrittenFile> => {
  const key = partKey(datasetPartition('rejected', runDate), 0, tables.extension);
  const file = tables.open(await run.open(key), REJECTED_COLUMNS);
  const batch: Record<string, ColumnValues> = {};
  for (const { name } of REJECTED_COLUMNS) batch[name] = (rejected.columns[name] ?? []) as ColumnValues;
  await file.append(batch, rejected.rowCount);
  return { key, ...(await file.close()) };
};
