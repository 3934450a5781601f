import { LAMBDA, MARGIN, type LambdaSizing } from './lambda-sizing.js';
import type { PeerTimes } from './peers.js';
import { INGEST_CONCURRENCY } from '../lambdas/clv-job/ingest/ingest-export.js';

/** Peers' model fits on 1M simulated customers, same kind of machine (/work/shared/DEPENDENCIES.md). */
export const ANCHORS = {
  lifetimes_full_s: 14.4,
  lifetimes_weighted_s: 2.1,
  btyd_s: 96.6,
} as const;

export interface SizeResult {
  readonly customers_generated: number;
  readonly input: { readonly rows: number; readonly files: number; readonly mb: number };
  readonly customers: number;
  readonly job: {
    readonly seconds: number;
    readonly peak_rss_mb: number;
    /** summary.run.timings, median over the repeats. */
    readonly timings: Readonly<Record<string, number>>;
    readonly parquet: { readonly rows: number; readonly files: number; readonly mb: number };
    readonly runs: readonly { seconds: number; peak_rss_mb: number }[];
  };
  /**
   * The night after the job's, into the same output folder: exports already ingested, the job's run
   * published and compared with (absent in results measured before the bench ran it).
   */
  readonly second_night?: {
    readonly as_of: string;
    readonly seconds: number;
    readonly peak_rss_mb: number;
    /** summary.run.timings, median over the repeats. */
    readonly timings: Readonly<Record<string, number>>;
  };
  readonly floor: { readonly seconds: number; readonly peak_rss_mb: number; readonly runs: readonly number[] };
  readonly ratio: number;
  readonly lambda: {
    readonly seconds: number;
    readonly peak_rss_mb: number;
    readonly timings: Readonly<Record<string, number>>;
    /** Threads the profile ran on, as the handler starts them (absent in results measured before it did: one thread). */
    readonly threads?: number;
  } | null;
  /** Peers run on the same customers in the same bench run (absent in results older than that). */
  readonly peers?: { readonly lifetimes: PeerTimes | null };
}

export interface BenchResult {
  readonly command: string;
  readonly generated_at: string;
  /** `load_average`: the 1-minute load when the bench started and ended (absent in older results); above the core count, other work shared the machine. */
  readonly machine: { cores: number; cpu: string; memory_gb: number; node: string; platform: string; peak_rss_method: string; load_average?: { start: number; end: number } };
  readonly dataset: { cache: string; generator: string; as_of: string; repeat: number };
  readonly sizes: readonly SizeResult[];
  /** ingestExport over the smallest dataset's exports (absent in results recorded before ingest existed). */
  readonly ingest?: IngestResult;
  readonly lambda_sizing: LambdaSizing | null;
}

/** Ingest throughput: every export of one dataset read once by ingestExport, in a process of its own. */
export interface IngestResult {
  readonly customers_generated: number;
  readonly files: number;
  readonly rows: number;
  /** CSV text read (after decompression). */
  readonly csv_mb: number;
  readonly stored_mb: number;
  readonly seconds: number;
  readonly mb_per_second: number;
  readonly peak_rss_mb: number;
}

/** Target on these machines (issue 14): at least 50 MB/s of CSV. */
export const INGEST_TARGET_MB_PER_SECOND = 50;

/** The ingest section of the results page. */
export const renderIngest = (i: IngestResult, command?: string): string =>
  [
    '## Ingest (`ingestExport`, the one reader of both paths)',
    '',
    ...(command ? [`Command: \`${command}\``, ''] : []),
    `${count(i.customers_generated)} customers: ${i.files} files, ${count(i.rows)} rows, ${i.csv_mb.toFixed(1)} MB of CSV (${i.stored_mb.toFixed(1)} MB stored), ` +
      `read into canonical Parquet (${INGEST_CONCURRENCY} files at a time, as \`clv run\` reads them) in ${s(i.seconds)}: **${i.mb_per_second.toFixed(1)} MB/s of CSV** ` +
      `(target ${INGEST_TARGET_MB_PER_SECOND} MB/s: ${i.mb_per_second >= INGEST_TARGET_MB_PER_SECOND ? 'met' : 'NOT met'}), peak RSS ${mb(i.peak_rss_mb)}.`,
    '',
  ].join('\n');

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const s = (seconds: number | undefined): string => (seconds === undefined ? '-' : `${seconds.toFixed(2)} s`);
const rate = (n: number, seconds: number | undefined, unit: string): string => (seconds ? `${count(n / seconds)} ${unit}/s` : '-');
const mb = (value: number): string => `${Math.round(value).toLocaleString('en-US')} MB`;
const times = (anchor: number, ours: number): string => (ours <= anchor ? `${(anchor / ours).toFixed(1)}x faster` : `${(ours / anchor).toFixed(1)}x slower`);

/**
 * Seconds of a night's wall time outside the pipeline's stages: process start, CSV load into DuckDB,
 * reading the previous run, report. The CLI's summary lacks the publish stage (written before it):
 * the Lambda profile's, timed in-process on the same kind of store, stands in for it.
 */
const outsideStages = (r: SizeResult, night: { readonly seconds: number; readonly timings: Readonly<Record<string, number>> }): number => {
  const t = night.timings;
  const staged = ['lock', 'query', 'model', 'backtest', 'segment', 'write'].reduce((sum, k) => sum + (t[k] ?? 0), 0) + (t.publish ?? r.lambda?.timings.publish ?? 0);
  return Math.max(0, night.seconds - staged);
};

export const renderMarkdown = (b: BenchResult): string => {
  const head = (label: string) => `| ${label} | ${b.sizes.map((r) => `${count(r.customers_generated)} customers`).join(' | ')} |`;
  const rule = `|---|${b.sizes.map(() => '---:').join('|')}|`;
  const row = (label: string, cell: (r: SizeResult) => string) => `| ${label} | ${b.sizes.map(cell).join(' | ')} |`;
  const lines: string[] = [
    `# CLV job benchmark: ${b.machine.cores} cores, ${b.machine.node}`,
    '',
    `Command (from the repository root): \`${b.command}\``,
    '',
    `Generated ${b.generated_at} on ${b.machine.cpu}, ${b.machine.cores} cores, ${b.machine.memory_gb.toFixed(0)} GB, ${b.machine.platform}. ` +
      `Data: ${b.dataset.generator}, as of ${b.dataset.as_of}, plain CSV, cached in ${b.dataset.cache}. ` +
      `Each figure is the median of ${b.dataset.repeat} run(s); peak RSS by ${b.machine.peak_rss_method === 'gnu-time' ? 'GNU time (%M)' : 'a maxRSS preload'}.` +
      (b.machine.load_average
        ? ` Load average (1 min) ${b.machine.load_average.start.toFixed(1)} at the start, ${b.machine.load_average.end.toFixed(1)} at the end` +
          (Math.max(b.machine.load_average.start, b.machine.load_average.end) > b.machine.cores
            ? `: more than the ${b.machine.cores} cores, so other work shared the machine and the seconds are inflated; compare against the floor measured in the same run.`
            : '.')
        : ''),
    '',
    '## The local job (`node dist/cli.js run`) against the floor',
    '',
    head('stage'),
    rule,
    row('input', (r) => `${count(r.input.rows)} rows, ${r.input.files} files, ${mb(r.input.mb)}`),
    row('customers scored', (r) => count(r.customers)),
    row('query (engine)', (r) => `${s(r.job.timings.query)} (${rate(r.input.rows, r.job.timings.query, 'rows')})`),
    row('model: fits', (r) => s(r.job.timings.model_fit)),
    row('model: scoring', (r) => `${s(r.job.timings.model_score)} (${rate(r.customers, r.job.timings.model_score, 'customers')})`),
    row('model stage', (r) => s(r.job.timings.model)),
    row('segment', (r) => s(r.job.timings.segment)),
    row('write (Parquet)', (r) => `${s(r.job.timings.write)} (${rate(r.job.parquet.rows, r.job.timings.write, 'rows')}, ${mb(r.job.parquet.mb)} in ${r.job.parquet.files} files)`),
    // the CLI's summary is written before publishing; the in-process Lambda profile times it (same local store)
    row('publish (local folder; timed in the in-process profile)', (r) => s(r.job.timings.publish ?? r.lambda?.timings.publish)),
    row('outside the stages (start-up, CSV load, report)', (r) => s(outsideStages(r, r.job))),
    row('**total (wall)**', (r) => `**${s(r.job.seconds)}**`),
    row('floor: DuckDB alone (read, de-dup, aggregate)', (r) => s(r.floor.seconds)),
    row('**total / floor**', (r) => `**${r.ratio.toFixed(2)}x**`),
    row('peak RSS (job)', (r) => mb(r.job.peak_rss_mb)),
    row('peak RSS (floor)', (r) => mb(r.floor.peak_rss_mb)),
    '',
  ];
  if (b.sizes.some((r) => r.second_night)) {
    const night = (cell: (n: NonNullable<SizeResult['second_night']>, r: SizeResult) => string) => (r: SizeResult) => (r.second_night ? cell(r.second_night, r) : '-');
    lines.push(
      `## The night after (as of ${b.sizes.find((r) => r.second_night)?.second_night?.as_of}), into the same output folder`,
      '',
      'What every night after the first costs: the exports are already ingested (no CSV is read again), and the run published the night ' +
        'before is read for the tier migration, the movers and the changes.',
      '',
      head('stage'),
      rule,
      ...[
        ['query (engine)', 'query'],
        ['model: fits', 'model_fit'],
        ['model: scoring', 'model_score'],
        ['segment (and the comparison with the night before)', 'segment'],
        ['write (Parquet)', 'write'],
      ].map(([label, stage]) => row(label!, night((n) => s(n.timings[stage!])))),
      row('outside the stages (start-up, reading the night before, report)', night((n, r) => s(outsideStages(r, n)))),
      row('**total (wall)**', night((n) => `**${s(n.seconds)}**`)),
      row('**total / floor**', night((n, r) => `**${(n.seconds / r.floor.seconds).toFixed(2)}x**`)),
      row('peak RSS', night((n) => mb(n.peak_rss_mb))),
      '',
    );
  }
  if (b.sizes.some((r) => r.lambda)) {
    const lambda = (r: SizeResult, stage: string): string => (r.lambda ? s(r.lambda.timings[stage]) : '-');
    lines.push(
      '## The Lambda profile, stage by stage',
      '',
      'The handler\'s pipeline with Athena\'s results replayed from recorded result CSVs (see Lambda sizing below): what the Lambda itself spends, ' +
        'on the threads the handler starts on a machine with this one\'s cores (interval workers beside the run\'s thread; with more than one, the audiences\' CSV on a worker too). ' +
        'A Lambda has about one vCPU per 1,769 MB of memory: on a smaller one the profile\'s time is a lower bound. ' +
        'Each thread loads the bench\'s bundle, with DuckDB (+40 MB of RSS for a process on this machine), where the Lambda\'s loads its own, with the AWS SDK (+44 MB): about the same.',
      '',
      head('stage'),
      rule,
      ...['query', 'model_fit', 'model_score', 'segment', 'write', 'publish'].map((stage) => row(`${stage.replace('_', ': ')}`, (r) => lambda(r, stage))),
      row('**total (wall)**', (r) => (r.lambda ? `**${s(r.lambda.seconds)}**` : '-')),
      row('peak RSS', (r) => (r.lambda ? mb(r.lambda.peak_rss_mb) : '-')),
      row('threads', (r) => (r.lambda ? String(r.lambda.threads ?? 1) : '-')),
      '',
    );
  }
  const first = b.sizes[0];
  if (first && b.sizes.length > 1) {
    const steps = b.sizes.slice(1).map(
      (r) => `${(r.job.peak_rss_mb / first.job.peak_rss_mb).toFixed(1)}x for ${(r.customers_generated / first.customers_generated).toFixed(0)}x the customers`,
    );
    lines.push(`Memory stays bounded: against ${count(first.customers_generated)} customers, peak RSS grows ${steps.join('; ')}.`, '');
  }
  lines.push(
    '## The model stage against the anchors',
    '',
    `Anchors: 1M-customer BG/NBD fits measured on the same kind of machine: lifetimes ${ANCHORS.lifetimes_full_s} s on every customer, ` +
      `${ANCHORS.lifetimes_weighted_s} s on the distinct tuples with weights; R BTYD ${ANCHORS.btyd_s} s. The job's model stage also fits ` +
      'the Gamma-Gamma and scores every customer.',
    '',
    `| customers | model stage (fits + scoring) | of which the fits | stage vs lifetimes, full (${ANCHORS.lifetimes_full_s} s) | fits vs lifetimes, weighted (${ANCHORS.lifetimes_weighted_s} s) | stage vs BTYD (${ANCHORS.btyd_s} s) |`,
    '|---|---:|---:|---:|---:|---:|',
    ...b.sizes.map((r) => {
      const m = r.job.timings.model ?? Number.NaN;
      const fit = r.job.timings.model_fit ?? Number.NaN;
      return `| ${count(r.customers_generated)} | ${s(m)} | ${s(fit)} | ${times(ANCHORS.lifetimes_full_s, m)} | ${times(ANCHORS.lifetimes_weighted_s, fit)} | ${times(ANCHORS.btyd_s, m)} |`;
    }),
    '',
  );
  const measuredPeers = b.sizes.filter((r) => r.peers?.lifetimes);
  if (measuredPeers.length > 0) {
    lines.push(
      '## Side by side with lifetimes, same customers, same run',
      '',
      'lifetimes 0.11.3 (BetaGeoFitter and GammaGammaFitter on every customer, then `customer_lifetime_value` over 12 periods) on the customers the job ' +
        'scored, read back from its Parquet; the job\'s model stage fits both models and scores every customer.',
      '',
      '| customers | lifetimes BG/NBD fit | Gamma-Gamma fit | 12-period CLV | lifetimes total | job\'s model stage | ratio |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...measuredPeers.map((r) => {
        const p = r.peers!.lifetimes!;
        const total = p.bgnbd_fit_s + p.gamma_gamma_fit_s + p.clv_s;
        const m = r.job.timings.model ?? Number.NaN;
        return `| ${count(p.customers)} | ${s(p.bgnbd_fit_s)} | ${s(p.gamma_gamma_fit_s)} | ${s(p.clv_s)} | ${s(total)} | ${s(m)} | ${(total / m).toFixed(1)}x |`;
      }),
      '',
    );
  }
  const sizing = b.lambda_sizing;
  if (sizing) {
    lines.push(
      '## Lambda sizing',
      '',
      `Basis: ${sizing.basis}: the handler's pipeline, writer and report, with the Athena adapter's reader decoding the result ` +
        'CSVs Athena would leave in S3. Not included: Athena running the queries, S3 transfers.',
      '',
      '| customers | Lambda\'s own work | peak RSS | |',
      '|---:|---:|---:|---|',
      ...sizing.rows.map((r) => `| ${count(r.customers)} | ${s(r.seconds)} | ${mb(r.peak_rss_mb)} | ${r.measured ? 'measured' : 'projected'} |`),
      '',
      `Lines through the measurements: time ${sizing.time.intercept.toFixed(1)} s + ${sizing.time.perMillion.toFixed(1)} s per million customers; ` +
        `memory ${Math.round(sizing.memory.intercept)} MB + ${Math.round(sizing.memory.perMillion)} MB per million.`,
      `Budget with margin: ${Math.round(sizing.budget.memory_mb)} MB (${MARGIN.memoryShare * 100}% of ${LAMBDA.memoryMb} MB) and ` +
        `${sizing.budget.seconds} s (${MARGIN.timeShare * 100}% of ${LAMBDA.seconds} s; the rest is left to Athena and S3).`,
      `**Largest customer base for one Lambda with margin: about ${count(sizing.max_customers)} customers** (limited by ${sizing.limited_by}).`,
      '',
    );
  }
  if (b.ingest) lines.push(renderIngest(b.ingest));
  return `${lines.join('\n')}\n`;
};
