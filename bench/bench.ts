/**
 * `npm run bench`: the whole local job at 100k and 1M customers (5M with `--large`), stage by
 * stage, against the floor (DuckDB alone reading, de-duplicating and aggregating the same files),
 * and the Lambda's own work replayed from recorded Athena results, projected to the largest
 * customer base one Lambda handles. Writes bench/results/<name>.json and .md.
 *
 *   npm run bench [-- --large] [--sizes 100000,1000000] [--repeat 3] [--cache DIR] [--no-lambda] [--no-peers]
 *   npm run bench -- --render        (the markdown again from bench/results/<name>.json)
 *   npm run bench -- --ingest-only [--sizes 100000]   (ingest throughput alone, printed, nothing written)
 *
 * Ingest throughput (MB/s of CSV text, peak RSS) is measured on the smallest size only: ingest is
 * per file, so its rate does not depend on how many files a night has.
 *
 * With lifetimes installed, the peer fits the same customers in the same run (bench/peers.ts).
 *
 * The job is the real CLI (`node dist/cli.js run ...`) in a child process, so what is measured is
 * what users run; peak RSS comes from GNU time (`%M`) or, without it, a preload reading maxRSS.
 * Each size runs two nights into one output folder: the first cold (ingest runs, nothing to compare
 * with), the second a day later, as every night after the first is: the exports already ingested,
 * and the run published the night before read for the tier migration, the movers and the changes.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cacheDir, ensureDataset, generatorVersion, type Dataset } from './datasets.js';
import { dayOf, isoDay } from '../lambdas/clv-job/domain/customers.js';
import { runFloor } from './floor.js';
import { runIngest, type IngestRun } from './ingest.js';
import { AS_OF, recordAthenaResults, recordingIsCurrent, runLambdaProfile } from './lambda-profile.js';
import { measureNode, rssMethod, type Measured } from './measure.js';
import { renderIngest, renderMarkdown, type BenchResult, type IngestResult, type SizeResult } from './report.js';
import { projectLambda } from './lambda-sizing.js';
import { runLifetimes, type PeerTimes } from './peers.js';
import { isAudienceWorker, serveAudienceWorker } from '../lambdas/clv-job/adapters/worker-audiences.js';
import { isIntervalWorker, serveIntervalWorker } from '../lambdas/clv-job/adapters/worker-intervals.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const cli = join(root, 'dist', 'cli.js');
const self = fileURLToPath(import.meta.url);

const { values: o } = parseArgs({
  options: {
    large: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    cache: { type: 'string' },
    'no-lambda': { type: 'boolean', default: false },
    'no-peers': { type: 'boolean', default: false },
    name: { type: 'string', default: `node-${availableParallelism()}core` },
    // child-process modes
    floor: { type: 'string' },
    record: { type: 'string' },
    'lambda-profile': { type: 'string' },
    ingest: { type: 'string' },
    'ingest-only': { type: 'boolean', default: false },
    // re-renders bench/results/<name>.md (and the sizing) from its JSON, without measuring again
    render: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const log = (line: string) => process.stderr.write(`${line}\n`);

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The second night's as-of date: the day after the first's. */
const NEXT_NIGHT = isoDay(dayOf(AS_OF) + 1);

/** A night of the job, measured from outside, with the stage seconds its summary gives. */
interface NightRun {
  readonly measured: Measured;
  readonly timings: Record<string, number>;
}

interface JobRun extends NightRun {
  readonly counts: { input_rows: number; customers: number; rejected_rows: number };
  readonly parquet: { rows: number; bytes: number; files: number };
  /** lifetimes on the customers this run scored, when asked for. */
  readonly lifetimes: PeerTimes | null;
  /** The night after, into the same output folder (see the module's comment). */
  readonly secondNight: NightRun;
}

/** Summary.json of the run date `asOf` in the output folder `out`. */
const readSummary = async (out: string, asOf: string) => JSON.parse(await readFile(join(out, 'summary', `run_date=${asOf}`, 'summary.json'), 'utf8'));

/** One night of the CLI into `out`, as of `asOf`. */
const runNight = (dataset: Dataset, out: string, asOf: string): Promise<Measured> =>
  measureNode([cli, 'run', '--input', dataset.dir, '--output', out, '--as-of', asOf]);

/** Two nights of the CLI into a fresh output folder; the summaries and the first's manifest say what they did. */
const runJob = async (dataset: Dataset, peers: boolean): Promise<JobRun> => {
  const out = await mkdtemp(join(tmpdir(), 'clv-bench-out-'));
  try {
    const measured = await runNight(dataset, out, AS_OF);
    const summary = await readSummary(out, AS_OF);
    const manifest = JSON.parse(await readFile(join(out, 'summary', `run_date=${AS_OF}`, '_manifest.json'), 'utf8')) as {
      files: { key: string; rows: number | null; bytes: number }[];
    };
    const tables = manifest.files.filter((f) => f.key.endsWith('.parquet'));
    if (peers) log('    lifetimes on the same customers ...');
    const lifetimes = peers ? await runLifetimes(root, out, log) : null;
    const second = await runNight(dataset, out, NEXT_NIGHT);
    const secondSummary = await readSummary(out, NEXT_NIGHT);
    if (secondSummary.changes.previous_run_date !== AS_OF) throw new Error(`the second night compared itself with ${secondSummary.changes.previous_run_date}, not ${AS_OF}`);
    return {
      lifetimes,
      secondNight: { measured: second, timings: secondSummary.run.timings },
      measured,
      timings: summary.run.timings,
      counts: summary.counts,
      parquet: { rows: tables.reduce((s, f) => s + (f.rows ?? 0), 0), bytes: tables.reduce((s, f) => s + f.bytes, 0), files: tables.length },
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
};

const runFloorChild = async (dataset: Dataset): Promise<Measured> => measureNode([self, '--floor', dataset.dir]);

/** The Lambda's side, replayed: results recorded once per dataset (cached beside it), then measured. */
const runLambdaChild = async (dataset: Dataset): Promise<{ measured: Measured; timings: Record<string, number>; threads: number }> => {
  const results = `${dataset.dir}.athena-results`;
  // recorded again when the run asks a query the recording lacks, or whose SQL changed since
  if (!recordingIsCurrent(results)) {
    log('  recording Athena-style results for the Lambda profile ...');
    await measureNode([self, '--record', dataset.dir, '--out', results]);
  }
  const out = await mkdtemp(join(tmpdir(), 'clv-bench-lambda-'));
  try {
    const measured = await measureNode([self, '--lambda-profile', results, '--out', out]);
    const { timings, threads } = JSON.parse(measured.stdout.trim().split('\n').at(-1)!) as { timings: Record<string, number>; threads: number };
    return { measured, timings, threads };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
};

/** ingestExport over every export of the dataset, in a child process: MB/s of CSV and peak RSS. */
const benchIngest = async (dataset: Dataset, repeat: number): Promise<IngestResult> => {
  const runs: { run: IngestRun; measured: Measured }[] = [];
  for (let r = 0; r < repeat; r++) {
    const measured = await measureNode([self, '--ingest', dataset.dir]);
    runs.push({ run: JSON.parse(measured.stdout.trim().split('\n').at(-1)!) as IngestRun, measured });
    const last = runs.at(-1)!;
    log(`  ingest: ${(last.run.csv_bytes / 1e6 / last.run.seconds).toFixed(1)} MB/s of CSV, ${last.measured.peakRssMb.toFixed(0)} MB peak RSS`);
  }
  const first = runs[0]!.run;
  const seconds = median(runs.map((x) => x.run.seconds));
  return {
    customers_generated: dataset.customers,
    files: first.files,
    rows: first.rows,
    csv_mb: first.csv_bytes / 1e6,
    stored_mb: first.bytes / 1e6,
    seconds,
    mb_per_second: first.csv_bytes / 1e6 / seconds,
    peak_rss_mb: median(runs.map((x) => x.measured.peakRssMb)),
  };
};

const medianTimings = (runs: readonly Record<string, number>[]): Record<string, number> =>
  Object.fromEntries(Object.keys(runs[0]!).map((k) => [k, median(runs.map((t) => t[k] ?? 0))]));

const benchSize = async (dataset: Dataset, repeat: number, lambda: boolean, peers: boolean): Promise<SizeResult> => {
  const jobs: JobRun[] = [];
  const floors: Measured[] = [];
  for (let r = 0; r < repeat; r++) {
    log(`  run ${r + 1}/${repeat}: job ...`);
    jobs.push(await runJob(dataset, peers && r === 0));
    const night = jobs.at(-1)!;
    log(
      `    ${night.measured.seconds.toFixed(2)} s, ${night.measured.peakRssMb.toFixed(0)} MB; ` +
        `second night ${night.secondNight.measured.seconds.toFixed(2)} s, ${night.secondNight.measured.peakRssMb.toFixed(0)} MB; floor ...`,
    );
    floors.push(await runFloorChild(dataset));
    log(`    ${floors.at(-1)!.seconds.toFixed(2)} s, ${floors.at(-1)!.peakRssMb.toFixed(0)} MB`);
  }
  let lambdaResult: SizeResult['lambda'] = null;
  if (lambda) {
    log('  Lambda profile ...');
    const runs = [];
    for (let r = 0; r < repeat; r++) runs.push(await runLambdaChild(dataset));
    lambdaResult = {
      seconds: median(runs.map((x) => x.measured.seconds)),
      peak_rss_mb: median(runs.map((x) => x.measured.peakRssMb)),
      timings: medianTimings(runs.map((x) => x.timings)),
      threads: runs[0]!.threads,
    };
    log(`    ${lambdaResult.seconds.toFixed(2)} s, ${lambdaResult.peak_rss_mb.toFixed(0)} MB`);
  }
  const first = jobs[0]!;
  if (first.lifetimes) {
    const p = first.lifetimes;
    const peer = p.bgnbd_fit_s + p.gamma_gamma_fit_s + p.clv_s;
    const stage = first.timings.model ?? Number.NaN;
    log(
      `  side by side, ${p.customers.toLocaleString('en-US')} customers: lifetimes ${p.bgnbd_fit_s.toFixed(2)} s (BG/NBD fit) + ${p.gamma_gamma_fit_s.toFixed(2)} s ` +
        `(Gamma-Gamma fit) + ${p.clv_s.toFixed(2)} s (12-period CLV) = ${peer.toFixed(2)} s; the job's model stage ${stage.toFixed(2)} s: ${(peer / stage).toFixed(1)}x`,
    );
  }
  const total = median(jobs.map((j) => j.measured.seconds));
  const floor = median(floors.map((f) => f.seconds));
  return {
    customers_generated: dataset.customers,
    input: { rows: first.counts.input_rows, files: dataset.files, mb: dataset.bytes / 1e6 },
    customers: first.counts.customers,
    job: {
      seconds: total,
      peak_rss_mb: median(jobs.map((j) => j.measured.peakRssMb)),
      timings: medianTimings(jobs.map((j) => j.timings)),
      parquet: { rows: first.parquet.rows, files: first.parquet.files, mb: first.parquet.bytes / 1e6 },
      runs: jobs.map((j) => ({ seconds: j.measured.seconds, peak_rss_mb: j.measured.peakRssMb })),
    },
    second_night: {
      as_of: NEXT_NIGHT,
      seconds: median(jobs.map((j) => j.secondNight.measured.seconds)),
      peak_rss_mb: median(jobs.map((j) => j.secondNight.measured.peakRssMb)),
      timings: medianTimings(jobs.map((j) => j.secondNight.timings)),
    },
    floor: { seconds: floor, peak_rss_mb: median(floors.map((f) => f.peakRssMb)), runs: floors.map((f) => f.seconds) },
    ratio: total / floor,
    lambda: lambdaResult,
    peers: { lifetimes: first.lifetimes },
  };
};

const main = async (): Promise<void> => {
  if (o.floor) return runFloor(o.floor);
  if (o.record) return recordAthenaResults(o.record, o.out ?? `${o.record}.athena-results`);
  if (o['lambda-profile']) return runLambdaProfile(o['lambda-profile'], o.out ?? join(tmpdir(), 'clv-bench-lambda'), new URL(import.meta.url));
  if (o.ingest) return runIngest(o.ingest);

  const dir = join(root, 'bench', 'results');
  if (o.render) {
    const saved = JSON.parse(await readFile(join(dir, `${o.name}.json`), 'utf8')) as BenchResult;
    const result: BenchResult = { ...saved, lambda_sizing: projectLambda(saved.sizes) };
    await writeFile(join(dir, `${o.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(join(dir, `${o.name}.md`), renderMarkdown(result));
    process.stdout.write(renderMarkdown(result));
    return;
  }
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (npm run bench does)`);
  const sizes = o.sizes ? o.sizes.split(',').map(Number) : [100_000, 1_000_000, ...(o.large ? [5_000_000] : [])];
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--sizes must be positive integers, got ${o.sizes}`);
  const repeat = Number(o.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, got ${o.repeat}`);
  const cache = cacheDir(o.cache);
  const loadAtStart = loadavg()[0]!;
  const args = process.argv.slice(2);
  const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;

  log(`ingest, ${Math.min(...sizes).toLocaleString('en-US')} customers`);
  const ingest = await benchIngest(await ensureDataset(cache, Math.min(...sizes), log), repeat);
  if (o['ingest-only']) {
    process.stdout.write(`${renderIngest(ingest, command)}\n`);
    return;
  }
  const results: SizeResult[] = [];
  for (const n of sizes) {
    log(`${n.toLocaleString('en-US')} customers`);
    const dataset = await ensureDataset(cache, n, log);
    results.push(await benchSize(dataset, repeat, !o['no-lambda'], !o['no-peers']));
  }
  const result: BenchResult = {
    command,
    generated_at: new Date().toISOString(),
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      memory_gb: totalmem() / 2 ** 30,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      peak_rss_method: rssMethod(),
      load_average: { start: loadAtStart, end: loadavg()[0]! },
    },
    dataset: { cache, generator: `test/support/gen-orders.ts --customers N --seed 1 (defaults otherwise), version ${await generatorVersion()}`, as_of: AS_OF, repeat },
    sizes: results,
    ingest,
    lambda_sizing: projectLambda(results),
  };
  await mkdir(dir, { recursive: true });
  const markdown = renderMarkdown(result);
  await writeFile(join(dir, `${o.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(dir, `${o.name}.md`), markdown);
  process.stdout.write(markdown);
  log(`wrote bench/results/${o.name}.json and .md`);
};

// Started again as the Lambda profile's interval or audience worker thread (as handler.ts is): serve, don't bench.
if (isIntervalWorker()) serveIntervalWorker();
else if (isAudienceWorker()) serveAudienceWorker();
else {
  main().catch((error: unknown) => {
    log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  });
}
