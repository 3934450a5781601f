/**
 * What the writer benches (bench/customers-parquet-cpu.ts, bench/audiences-cpu.ts) share: their
 * arguments, a run's customers Parquet read back with DuckDB, and the scores per pattern rebuilt
 * from it as the pipeline holds them (pipeline/score-customers.ts: one score per distinct pattern).
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { CustomerTable } from '../lambdas/clv-job/domain/customers.js';
import { distinctScorePatterns, type ScorePatterns } from '../lambdas/clv-job/domain/models/score-patterns.js';

/** The run a bench reads and how many times it repeats its work. */
export interface BenchRun {
  /** The job's output folder. */
  readonly output: string;
  /** The run's date, `YYYY-MM-DD`: its customers are under customers/run_date=<it>/. */
  readonly runDate: string;
  /** Repetitions, a positive whole number (default 3). */
  readonly repeat: number;
}

/**
 * `OUTPUT_FOLDER RUN_DATE [REPEAT]` from the command line; prints `usage: <usage>` and exits with
 * code 2 when they are missing or REPEAT is not a positive whole number.
 */
export const benchRunArguments = (usage: string): BenchRun => {
  const [output, runDate, repeatText = '3'] = process.argv.slice(2);
  if (output === undefined || runDate === undefined || !/^[1-9]\d*$/.test(repeatText)) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return { output, runDate, repeat: Number(repeatText) };
};

/**
 * The run's customers Parquet (every file under customers/run_date=<runDate>/), read with DuckDB in
 * customer_id order (the run's own: DuckDB orders text byte by byte, as the job's customers query does):
 * `select` is the SELECT list (SQL text, trusted: the benches' own), the result a JS array per
 * column (DuckDB's JS values: numbers, strings, null).
 */
export const readRunCustomers = async (run: BenchRun, select: string): Promise<Record<string, unknown[]>> => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const folder = join(run.output, 'customers', `run_date=${run.runDate}`).replaceAll("'", "''");
    // in the run's customer order: the files are read in parallel, and a bench's digest must not depend on which came first
    const reader = await connection.runAndReadAll(
      `SELECT ${select} FROM read_parquet('${folder}/**/*.parquet', hive_partitioning = false) ORDER BY customer_id`,
    );
    return reader.getColumnsObjectJS() as Record<string, unknown[]>;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
};

/** A SELECT item reading the date column `name` as its day number (days since 1970-01-01), as the pipeline holds dates. */
export const dayNumber = (name: string): string => `date_diff('day', DATE '1970-01-01', ${name})::INTEGER AS ${name}`;

/**
 * The pipeline's customer table from the columns of {@link readRunCustomers}: customer_id,
 * first_order_date and last_order_date as day numbers ({@link dayNumber}), acquisition_channel,
 * cohort, orders, frequency, recency_days, tenure_days, total_revenue, monetary_value,
 * avg_order_value. The text columns are taken as they are.
 */
export const runCustomerTable = (columns: Record<string, unknown[]>): CustomerTable => {
  const ints = (name: string): Int32Array => Int32Array.from(columns[name] as number[]);
  const doubles = (name: string): Float64Array => Float64Array.from(columns[name] as number[]);
  return {
    size: (columns.customer_id as string[]).length,
    customerId: columns.customer_id as string[],
    firstOrderDay: ints('first_order_date'),
    lastOrderDay: ints('last_order_date'),
    acquisitionChannel: columns.acquisition_channel as (string | null)[],
    cohort: columns.cohort as string[],
    orders: ints('orders'),
    frequency: ints('frequency'),
    recencyDays: ints('recency_days'),
    tenureDays: ints('tenure_days'),
    totalRevenue: doubles('total_revenue'),
    monetaryValue: doubles('monetary_value'),
    avgOrderValue: doubles('avg_order_value'),
  };
};

/**
 * The customers' distinct scoring patterns (domain/models/score-patterns.ts) from the columns
 * frequency, recency_days, tenure_days and monetary_value of {@link readRunCustomers}.
 */
export const runScorePatterns = (columns: Record<string, unknown[]>): ScorePatterns =>
  distinctScorePatterns({
    x: Float64Array.from(columns.frequency as number[]),
    recencyDays: Float64Array.from(columns.recency_days as number[]),
    tenureDays: Float64Array.from(columns.tenure_days as number[]),
    monetaryValue: Float64Array.from(columns.monetary_value as number[]),
  });

/**
 * A score column per pattern from its per-customer values (customer i's pattern is `patternOf[i]`;
 * every customer of a pattern has the same score): Float64Array of `patternCount`, or null when every
 * value is null (the run has no such score).
 */
export const perPatternScores = (values: readonly (number | null)[], patternOf: Int32Array, patternCount: number): Float64Array | null => {
  if (values.every((v) => v === null)) return null;
  const out = new Float64Array(patternCount);
  for (let i = 0; i < values.length; i++) out[patternOf[i]!] = values[i]!;
  return out;
};
