/**
 * CPU time and memory of the customers Parquet writer (pipeline/write-tables.ts `writeCustomers`
 * over adapters/parquet-table-writer.ts) over a real run's customers:
 *
 *   npm run bench:customers-parquet -- OUTPUT_FOLDER RUN_DATE [REPEAT]
 *
 * Reads the run's customers Parquet back with DuckDB (every column), rebuilds the customer table,
 * the scores per pattern and the segments as the pipeline holds them (one string per repeated value), then writes the customers
 * REPEAT times (default 3) into sinks that keep nothing, and prints each repetition's CPU
 * (`process.cpuUsage`, user + system of every thread, hashing left out), the main thread's CPU
 * (encoding; the rest is mostly gzip on libuv's pool; Linux only, 10 ms ticks), wall time, and the most memory the write
 * added over what was held before it (`process.memoryUsage()` heap used + array buffers, sampled at
 * sink writes at most once a millisecond, a row group's pieces come in one burst, and every 20 ms
 * of idle event loop; a lower bound of the true peak). The SHA-256
 * of every file's bytes is printed: the same bytes before and after a change give the same digest.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CustomerSegments } from '../lambdas/clv-job/domain/customers.js';
import { ParquetTableWriter } from '../lambdas/clv-job/adapters/parquet-table-writer.js';
import { writeCustomers } from '../lambdas/clv-job/pipeline/write-tables.js';
import type { ByteSink, StagedRun } from '../lambdas/clv-job/ports.js';
import { PATTERN_SCORE_COLUMNS, type PatternScoreColumn, type Tier } from '../lambdas/clv-job/schemas/tables.js';
import { benchRunArguments, dayNumber, perPatternScores, readRunCustomers, runCustomerTable, runScorePatterns } from './run-customers.js';

const bench = benchRunArguments('npm run bench:customers-parquet -- OUTPUT_FOLDER RUN_DATE [REPEAT]');
const runDate = bench.runDate;
const columns = await readRunCustomers(bench, `* REPLACE (${dayNumber('first_order_date')}, ${dayNumber('last_order_date')})`);

// the pipeline holds one string per repeated value (adapters/duckdb-result.ts, the segment names): so does the bench
for (const name of ['acquisition_channel', 'cohort', 'clv_tier', 'value_loyalty', 'rfm_score', 'rfm_segment']) {
  const shared = new Map<string, string>();
  columns[name] = (columns[name] as (string | null)[]).map((v) => (v === null ? null : (shared.get(v) ?? (shared.set(v, v), v))));
}
const int8s = (name: string): Int8Array | null => (columns[name]!.every((v) => v === null) ? null : Int8Array.from(columns[name] as number[]));
const doubles = (name: string): Float64Array => Float64Array.from(columns[name] as number[]);
const strings = (name: string): string[] | null => (columns[name]!.every((v) => v === null) ? null : (columns[name] as string[]));

const customers = runCustomerTable(columns);
const { patterns, patternOf } = runScorePatterns(columns);
const byPattern = {
  patternOf,
  size: patterns.x.length,
  columns: Object.fromEntries(PATTERN_SCORE_COLUMNS.map((name) => [name, perPatternScores(columns[name] as (number | null)[], patternOf, patterns.x.length)])) as Record<PatternScoreColumn, Float64Array | null>,
};
const segments: CustomerSegments = {
  clvTier: columns.clv_tier as Tier[],
  valueLoyalty: strings('value_loyalty'),
  rfmR: int8s('rfm_r'),
  rfmF: int8s('rfm_f'),
  rfmM: int8s('rfm_m'),
  rfmScore: strings('rfm_score'),
  rfmSegment: strings('rfm_segment'),
};
const scores = { historicalClv: doubles('historical_clv'), probabilityAlive: null, predictedClv: null, rankingClv: new Float64Array(0) };
for (const name of Object.keys(columns)) delete columns[name];

/** CPU seconds of the main thread alone (utime + stime of /proc/self/task/<pid>/stat), or NaN off Linux. */
const mainThreadSeconds = (): number => {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
};
const held = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const digests = new Map<string, Hash>();
let hashingMicros = 0;
let peak = 0;
let sampledAt = 0;
const sample = (): void => {
  peak = Math.max(peak, held());
  sampledAt = performance.now();
};
const run: Pick<StagedRun, 'open'> = {
  open: async (key): Promise<ByteSink> => {
    const hash = digests.get(key) ?? createHash('sha256');
    digests.set(key, hash);
    return {
      write: async (chunk) => {
        // memoryUsage() reads /proc: not for each of a row group's pieces
        if (performance.now() - sampledAt >= 1) sample();
        const start = process.cpuUsage();
        hash.update(chunk);
        const used = process.cpuUsage(start);
        hashingMicros += used.user + used.system;
      },
      close: async () => undefined,
    };
  },
};

console.log(`${customers.size.toLocaleString('en-US')} customers, ${patterns.x.length.toLocaleString('en-US')} scoring patterns`);
const tables = new ParquetTableWriter();
const gc = (globalThis as { gc?: () => void }).gc;
for (let k = 1; k <= bench.repeat; k++) {
  gc?.();
  const before = held();
  peak = before;
  hashingMicros = 0;
  const timer = setInterval(sample, 20);
  const wall = performance.now();
  const mainStart = mainThreadSeconds();
  const start = process.cpuUsage();
  const files = await writeCustomers(run, tables, runDate, customers, { scores, byPattern }, segments);
  const used = process.cpuUsage(start);
  const main = mainThreadSeconds() - mainStart;
  const seconds = (performance.now() - wall) / 1000;
  clearInterval(timer);
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  console.log(
    `run ${k}: writeCustomers ${((used.user + used.system - hashingMicros) / 1e6).toFixed(2)} s CPU (main thread ${main.toFixed(2)} s), ${seconds.toFixed(2)} s wall, ` +
      `${(bytes / 1e6).toFixed(1)} MB, +${((peak - before) / 1e6).toFixed(0)} MB held at most${gc ? '' : ' (run node with --expose-gc for a steady baseline)'}`,
  );
}
for (const [key, hash] of digests) console.log(`sha256 ${key}: ${hash.digest('hex')}`);
