import type { CustomerSegments, CustomerTable } from '../domain/customers.js';
import { datasetPartition } from '../layout.js';
import type { ColumnValues, StagedRun, TableWriter } from '../ports.js';
import { CUSTOMER_COLUMNS, PATTERN_SCORE_COLUMNS, REJECTED_COLUMNS, TIERS, type PatternScoreColumn, type Tier } from '../schemas/tables.js';
import type { RejectedRows } from './engine-results.js';
import type { ScoredCustomers } from './score-customers.js';

export interface WrittenFile {
  readonly key: string;
  /** Null for files that are not tables (the summary, the report). */
  readonly rows: number | null;
  readonly bytes: number;
}

/** Customers are gathered per batch so a tier's columns never all sit in memory at once. */
const BATCH = 100_000;

const partKey = (prefix: string, index: number, extension: string): string =>
  `${prefix}/part-${String(index).padStart(5, '0')}.${extension}`;

/**
 * The batch's values of one column, in the column's own representation: numbers stay in a typed
 * array (no boxed number per value, which is most of the garbage a million rows would make),
 * strings in an array of the same shared strings, and a column the run has no values for is nulls.
 */
const gather = (values: ArrayLike<unknown> | null, rows: Int32Array, from: number, to: number): ColumnValues => {
  const n = to - from;
  if (values === null) return new Array<null>(n).fill(null);
  if (values instanceof Float64Array) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = values[rows[from + i]!]!;
    return out;
  }
  // Int32 and the small Int8 scores alike: a Parquet INT32 column
  if (values instanceof Int32Array || values instanceof Int8Array) {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = values[rows[from + i]!]!;
    return out;
  }
  const out = new Array<string | null>(n);
  for (let i = 0; i < n; i++) out[i] = values[rows[from + i]!] as string | null;
  return out;
};

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
  const source: Record<Exclude<(typeof CUSTOMER_COLUMNS)[number]['name'], PatternScoreColumn>, ArrayLike<unknown> | null> = {
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
  const members: Record<Tier, number[]> = { high: [], mid: [], low: [] };
  for (let i = 0; i < segments.clvTier.length; i++) members[segments.clvTier[i]!].push(i);

  const written: WrittenFile[] = [];
  for (const tier of TIERS) {
    const rows = Int32Array.from(members[tier]);
    if (rows.length === 0) continue;
    const key = partKey(`${datasetPartition('customers', runDate)}/segment=${tier}`, 0, tables.extension);
    const file = tables.open(await run.open(key), CUSTOMER_COLUMNS);
    for (let from = 0; from < rows.length; from += BATCH) {
      const to = Math.min(rows.length, from + BATCH);
      // the model scores are kept per pattern: the batch's customers' patterns index them
      const patterns = Int32Array.from(rows.subarray(from, to), (i) => patternOf[i]!);
      const batch: Record<string, ColumnValues> = {};
      for (const { name } of CUSTOMER_COLUMNS) {
        batch[name] = isPatternScore(name) ? gather(byPattern[name], patterns, 0, to - from) : gather(source[name], rows, from, to);
      }
      await file.append(batch, to - from);
    }
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
