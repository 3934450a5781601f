/**
 * CPU time of the audience writer (pipeline/write-audiences.ts) over a real run's customers:
 *
 *   npm run bench:audiences -- OUTPUT_FOLDER RUN_DATE [REPEAT]
 *
 * Reads the run's customers Parquet back with DuckDB (ids, scoring inputs, scores, segments),
 * rebuilds the scores per pattern and the audiences as the pipeline makes them (no movers: one
 * night), then writes every audience REPEAT times (default 3) into a sink that keeps nothing, and
 * prints each repetition's CPU (`process.cpuUsage`, user + system) and the SHA-256 of the bytes it
 * wrote (one digest per repetition: the same in every repetition, for any REPEAT, and before and
 * after a change to the writer that keeps the bytes; a digest of all the repetitions together, as
 * this bench printed before, changed with REPEAT). Hashing is timed apart and left out of the CPU
 * figure.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Tier } from '../lambdas/clv-job/schemas/tables.js';
import { distinctScorePatterns } from '../lambdas/clv-job/domain/models/score-patterns.js';
import { DEFAULT_ACTIONS } from '../lambdas/clv-job/domain/segments/actions.js';
import { audiencesOf } from '../lambdas/clv-job/domain/segments/audiences.js';
import { writeAudiences } from '../lambdas/clv-job/pipeline/write-audiences.js';
import type { ByteSink } from '../lambdas/clv-job/ports.js';

const [output, runDate, repeatText = '3'] = process.argv.slice(2);
if (output === undefined || runDate === undefined || !/^[1-9]\d*$/.test(repeatText)) {
  console.error('usage: npm run bench:audiences -- OUTPUT_FOLDER RUN_DATE [REPEAT]');
  process.exit(2);
}

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const reader = await connection.runAndReadAll(
  `SELECT customer_id, frequency, recency_days, tenure_days, monetary_value, historical_clv, predicted_clv, probability_alive, clv_tier, value_loyalty, rfm_segment
   FROM read_parquet('${join(output, 'customers', `run_date=${runDate}`).replaceAll("'", "''")}/**/*.parquet', hive_partitioning = false)`,
);
const columns = reader.getColumnsObjectJS();
connection.closeSync();
instance.closeSync();

const customerId = columns.customer_id as string[];
const size = customerId.length;
const doubles = (name: string): Float64Array => Float64Array.from(columns[name] as number[]);
const { patterns, patternOf } = distinctScorePatterns({
  x: doubles('frequency'),
  recencyDays: doubles('recency_days'),
  tenureDays: doubles('tenure_days'),
  monetaryValue: doubles('monetary_value'),
});
/** A score column per pattern (null when the run has none): every customer of a pattern has the same score. */
const perPattern = (name: string): Float64Array | null => {
  const values = columns[name] as (number | null)[];
  if (values.every((v) => v === null)) return null;
  const out = new Float64Array(patterns.x.length);
  for (let i = 0; i < size; i++) out[patternOf[i]!] = values[i]!;
  return out;
};
const predictedClv = perPattern('predicted_clv');
const probabilityAlive = perPattern('probability_alive');
const historicalClv = doubles('historical_clv');
const rankingClv = predictedClv === null ? historicalClv : Float64Array.from(patternOf, (p) => predictedClv[p]!);
const audiences = audiencesOf({
  customerIds: customerId,
  rankingClv,
  segments: {
    clvTier: columns.clv_tier as Tier[],
    valueLoyalty: columns.value_loyalty as string[] | null,
    rfmR: null,
    rfmF: null,
    rfmM: null,
    rfmScore: null,
    rfmSegment: columns.rfm_segment as string[] | null,
  },
  movers: { size: 0, customer: new Int32Array(0), movement: [], previousSegment: [], currentSegment: [] },
  actions: DEFAULT_ACTIONS,
});
const byPattern = {
  patternOf,
  size: patterns.x.length,
  columns: { predicted_clv: predictedClv, probability_alive: probabilityAlive },
};

let hash = createHash('sha256');
let written = 0;
let hashingMicros = 0;
const sink: ByteSink = {
  write: async (chunk) => {
    written += chunk.byteLength;
    const start = process.cpuUsage();
    hash.update(chunk);
    const used = process.cpuUsage(start);
    hashingMicros += used.user + used.system;
  },
  close: async () => undefined,
};
console.log(`${size.toLocaleString('en-US')} customers, ${patterns.x.length.toLocaleString('en-US')} scoring patterns, ${audiences.length} audiences`);
for (let k = 1; k <= Number(repeatText); k++) {
  written = 0;
  hashingMicros = 0;
  hash = createHash('sha256');
  const start = process.cpuUsage();
  await writeAudiences({ open: async () => sink }, runDate, audiences, { customerId }, { byPattern });
  const used = process.cpuUsage(start);
  console.log(`run ${k}: writeAudiences ${((used.user + used.system - hashingMicros) / 1e6).toFixed(2)} s CPU, ${(written / 1e6).toFixed(1)} MB, sha256 ${hash.digest('hex')}`);
}
