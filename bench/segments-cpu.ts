/**
 * CPU time of segmentation (domain/segments/segment-customers.ts `segmentCustomers`, the bulk of the
 * run's segment stage) over a real run's customers:
 *
 *   npm run bench:segments -- OUTPUT_FOLDER RUN_DATE [REPEAT]
 *
 * Reads the run's customers Parquet back with DuckDB, rebuilds the customer table and the scores as
 * the pipeline holds them (ranking CLV spread from one value per scoring pattern when the run has
 * predicted CLV, whose value counts are then taken per pattern, as the pipeline does), then segments the customers REPEAT times (default 3) with the default settings
 * and prints each repetition's CPU (`process.cpuUsage`, user + system) and the SHA-256 of what it
 * returned (the summary tables as JSON and every per-customer column): the same digest before and
 * after a change that keeps the results.
 */
import { createHash } from 'node:crypto';
import type { CustomerScores } from '../lambdas/clv-job/domain/customers.js';
import { segmentCustomers } from '../lambdas/clv-job/domain/segments/segment-customers.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../lambdas/clv-job/domain/segments/settings.js';
import { valueCountsByPattern } from '../lambdas/clv-job/domain/segments/value-counts.js';
import { dayOf } from '../lambdas/clv-job/domain/customers.js';
import { benchRunArguments, dayNumber, perPatternScores, readRunCustomers, runCustomerTable, runScorePatterns } from './run-customers.js';

const bench = benchRunArguments('npm run bench:segments -- OUTPUT_FOLDER RUN_DATE [REPEAT]');
const columns = await readRunCustomers(
  bench,
  `customer_id, ${dayNumber('first_order_date')}, ${dayNumber('last_order_date')}, acquisition_channel, cohort, orders, frequency, recency_days, tenure_days, ` +
    'total_revenue, monetary_value, avg_order_value, historical_clv, predicted_clv, probability_alive',
);
// the pipeline holds one string per repeated value (adapters/duckdb-result.ts): so does the bench
for (const name of ['acquisition_channel', 'cohort']) {
  const shared = new Map<string, string>();
  columns[name] = (columns[name] as (string | null)[]).map((v) => (v === null ? null : (shared.get(v) ?? (shared.set(v, v), v))));
}
const table = runCustomerTable(columns);
const { patterns, patternOf } = runScorePatterns(columns);
const perPattern = (name: string): Float64Array | null => perPatternScores(columns[name] as (number | null)[], patternOf, patterns.x.length);
const predictedByPattern = perPattern('predicted_clv');
const aliveByPattern = perPattern('probability_alive');
const spread = (values: Float64Array): Float64Array => Float64Array.from(patternOf, (p) => values[p]!);
const historicalClv = Float64Array.from(columns.historical_clv as number[]);
const predictedClv = predictedByPattern && spread(predictedByPattern);
const scores: CustomerScores = {
  historicalClv,
  probabilityAlive: aliveByPattern && spread(aliveByPattern),
  predictedClv,
  rankingClv: predictedClv ?? historicalClv,
};
for (const name of Object.keys(columns)) delete columns[name];

console.log(`${table.size.toLocaleString('en-US')} customers, ${patterns.x.length.toLocaleString('en-US')} scoring patterns`);
for (let k = 1; k <= bench.repeat; k++) {
  const start = process.cpuUsage();
  // as the pipeline does (pipeline/segment-customers.ts): the CLV's counts from one value per pattern when it has them
  const clvCounts = predictedByPattern === null ? undefined : valueCountsByPattern(predictedByPattern, patternOf);
  const segmented = segmentCustomers(table, scores, DEFAULT_SEGMENT_SETTINGS, dayOf(bench.runDate), clvCounts);
  const used = process.cpuUsage(start);
  const hash = createHash('sha256').update(JSON.stringify(segmented.summary));
  for (const column of Object.values(segmented.columns)) {
    if (column === null) continue;
    hash.update(ArrayBuffer.isView(column) ? new Uint8Array(column.buffer, column.byteOffset, column.byteLength) : (column as readonly string[]).join('\n'));
  }
  console.log(`run ${k}: segmentCustomers ${((used.user + used.system) / 1e6).toFixed(3)} s CPU, sha256 ${hash.digest('hex')}`);
}
