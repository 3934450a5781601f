/**
 * CPU time of the audience writer (pipeline/write-audiences.ts) over a real run's customers:
 *
 *   npm run bench:audiences -- OUTPUT_FOLDER RUN_DATE [REPEAT]
 *
 * Reads the run's customers Parquet back with DuckDB (ids, scoring inputs, scores, segments),
 * rebuilds the scores per pattern and the audiences as the pipeline makes them (no movers: one
 * night), then, REPEAT times (default 3), makes the audiences again (`audiencesOf`: the activation
 * order and the split by segment, on the run's thread before its audience worker starts) and writes
 * every audience into a sink that keeps nothing, and prints each repetition's CPU of both and of
 * the score texts alone (`scoreTextsOf`, part of writeAudiences here; a worker makes them ahead)
 * (`process.cpuUsage`, user + system) and the SHA-256 of the bytes it
 * wrote (one digest per repetition: the same in every repetition, for any REPEAT, and before and
 * after a change to the writer that keeps the bytes; a digest of all the repetitions together, as
 * this bench printed before, changed with REPEAT). Hashing is timed apart and left out of the CPU
 * figure.
 */
import { createHash } from 'node:crypto';
import type { Tier } from '../lambdas/clv-job/schemas/tables.js';
import { DEFAULT_ACTIONS } from '../lambdas/clv-job/domain/segments/actions.js';
import { audiencesOf } from '../lambdas/clv-job/domain/segments/audiences.js';
import { NO_MOVERS } from '../lambdas/clv-job/domain/segments/movers.js';
import { scoreTextsOf } from '../lambdas/clv-job/pipeline/audience-csv.js';
import { patternScoresOf, writeAudiences } from '../lambdas/clv-job/pipeline/write-audiences.js';
import type { ByteSink } from '../lambdas/clv-job/ports.js';
import { benchRunArguments, perPatternScores, readRunCustomers, runScorePatterns } from './run-customers.js';

const bench = benchRunArguments('npm run bench:audiences -- OUTPUT_FOLDER RUN_DATE [REPEAT]');
const columns = await readRunCustomers(
  bench,
  'customer_id, frequency, recency_days, tenure_days, monetary_value, historical_clv, predicted_clv, probability_alive, clv_tier, value_loyalty, rfm_segment',
);

const customerId = columns.customer_id as string[];
const { patterns, patternOf } = runScorePatterns(columns);
const perPattern = (name: string): Float64Array | null => perPatternScores(columns[name] as (number | null)[], patternOf, patterns.x.length);
const predictedClv = perPattern('predicted_clv');
const probabilityAlive = perPattern('probability_alive');
const historicalClv = Float64Array.from(columns.historical_clv as number[]);
const rankingClv = predictedClv === null ? historicalClv : Float64Array.from(patternOf, (p) => predictedClv[p]!);
const audienceInput = {
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
  movers: NO_MOVERS,
  actions: DEFAULT_ACTIONS,
};
/** The audiences as the run makes them, and the CPU seconds (user + system) that took. */
const timedAudiences = (): { audiences: ReturnType<typeof audiencesOf>; seconds: number } => {
  const start = process.cpuUsage();
  const audiences = audiencesOf(audienceInput);
  const used = process.cpuUsage(start);
  return { audiences, seconds: (used.user + used.system) / 1e6 };
};
const audiences = timedAudiences().audiences;
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
console.log(`${customerId.length.toLocaleString('en-US')} customers, ${patterns.x.length.toLocaleString('en-US')} scoring patterns, ${audiences.length} audiences`);
for (let k = 1; k <= bench.repeat; k++) {
  written = 0;
  hashingMicros = 0;
  hash = createHash('sha256');
  const made = timedAudiences();
  const textStart = process.cpuUsage();
  scoreTextsOf(patternScoresOf({ byPattern }));
  const textUsed = process.cpuUsage(textStart);
  const start = process.cpuUsage();
  await writeAudiences({ open: async () => sink }, bench.runDate, made.audiences, { customerId }, { byPattern });
  const used = process.cpuUsage(start);
  console.log(`run ${k}: audiencesOf ${made.seconds.toFixed(2)} s CPU, score texts ${((textUsed.user + textUsed.system) / 1e6).toFixed(2)} s CPU, writeAudiences ${((used.user + used.system - hashingMicros) / 1e6).toFixed(2)} s CPU, ${(written / 1e6).toFixed(1)} MB, sha256 ${hash.digest('hex')}`);
}
