import type { CustomerSegments, CustomerTable } from '../domain/customers.js';
import { datasetPartition } from '../layout.js';
import type { ColumnValues, QueryEngine, RunTableTargets, ScoredCustomerRows, StagedRun, TableWriter } from '../ports.js';
import { CUSTOMER_COLUMNS, PATTERN_SCORE_COLUMNS, REJECTED_COLUMNS, TIERS, type PatternScoreColumn, type SegmentColumn, type Tier } from '../schemas/tables.js';
import type { SqlParameters } from '../sql/index.js';
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

const customersKey = (runDate: string, tier: Tier, extension: string): string => partKey(`${datasetPartition('customers', runDate)}/segment=${tier}`, 0, extension);
const rejectedKey = (runDate: string, extension: string): string => partKey(datasetPartition('rejected', runDate), 0, extension);

/**
 * The customers' segment columns as a handful of distinct combinations and each customer's
 * combination. The RFM score text and segment name are functions of the three scores
 * (rfm.ts), so (tier, value-loyalty cell, r, f, m) identifies a combination.
 */
const segmentCombinations = (segments: CustomerSegments): Pick<ScoredCustomerRows, 'segments'> & { readonly codes: Int32Array } => {
  const n = segments.clvTier.length;
  const codes = new Int32Array(n);
  const cells = new Map<string | null, number>();
  const byKey = new Map<number, number>();
  const rows: Record<SegmentColumn, string | number | null>[] = [];
  for (let i = 0; i < n; i++) {
    const cell = segments.valueLoyalty?.[i] ?? null;
    let cellIndex = cells.get(cell);
    if (cellIndex === undefined) cells.set(cell, (cellIndex = cells.size));
    const r = segments.rfmR?.[i] ?? 0;
    const f = segments.rfmF?.[i] ?? 0;
    const m = segments.rfmM?.[i] ?? 0;
    const key = (((TIERS.indexOf(segments.clvTier[i]!) * 64 + cellIndex) * 8 + r) * 8 + f) * 8 + m;
    let code = byKey.get(key);
    if (code === undefined) {
      byKey.set(key, (code = rows.length));
      rows.push({
        clv_tier: segments.clvTier[i]!,
        value_loyalty: cell,
        rfm_r: segments.rfmR?.[i] ?? null,
        rfm_f: segments.rfmF?.[i] ?? null,
        rfm_m: segments.rfmM?.[i] ?? null,
        rfm_score: segments.rfmScore?.[i] ?? null,
        rfm_segment: segments.rfmSegment?.[i] ?? null,
      });
    }
    codes[i] = code;
  }
  return { segments: rows, codes };
};

/**
 * The run's tables (customers per tier, rejected rows), written by the engine itself where it can
 * reach the run's location (DuckDB into a local folder: a COPY per file, nothing per customer
 * crosses back into JavaScript), else by `tables` from the columns in memory (the Lambda with
 * Athena). Either way the same files, keys, columns and types.
 */
export const writeRunTables = async (
  run: StagedRun,
  engine: QueryEngine,
  tables: TableWriter,
  params: SqlParameters,
  data: {
    readonly customers: CustomerTable;
    readonly scored: Pick<ScoredCustomers, 'scores' | 'byPattern'>;
    readonly segments: CustomerSegments;
    readonly rejected: RejectedRows;
  },
): Promise<WrittenFile[]> => {
  const runDate = params.asOf;
  if (engine.writeRunTables !== undefined) {
    const target = (key: string) => ({ key, location: run.locationOf(key) });
    const targets: RunTableTargets = {
      customers: { high: target(customersKey(runDate, 'high', 'parquet')), mid: target(customersKey(runDate, 'mid', 'parquet')), low: target(customersKey(runDate, 'low', 'parquet')) },
      rejected: target(rejectedKey(runDate, 'parquet')),
    };
    const { segments, codes } = segmentCombinations(data.segments);
    const { patternOf, size, columns } = data.scored.byPattern;
    const written = await engine.writeRunTables(
      params,
      { customers: { pattern: patternOf, segments: codes, historicalClv: data.scored.scores.historicalClv }, patterns: { size, columns }, segments },
      targets,
    );
    if (written !== null) return [...written];
  }
  return [
    ...(await writeCustomers(run, tables, runDate, data.customers, data.scored, data.segments)),
    await writeRejected(run, tables, runDate, data.rejected),
  ];
};

/**
 * Scored customers, one Parquet file per tier partition (`segment=high|mid|low`), with every
 * contract column in the contract's order and type.
 */
export const writeCustomers = async (
  run: StagedRun,
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
    const key = customersKey(runDate, tier, tables.extension);
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
  const key = rejectedKey(runDate, tables.extension);
  const file = tables.open(await run.open(key), REJECTED_COLUMNS);
  const batch: Record<string, ColumnValues> = {};
  for (const { name } of REJECTED_COLUMNS) batch[name] = (rejected.columns[name] ?? []) as ColumnValues;
  await file.append(batch, rejected.rowCount);
  return { key, ...(await file.close()) };
};
