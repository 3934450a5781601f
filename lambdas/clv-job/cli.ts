#!/usr/bin/env node
/**
 * `clv`: the local composition root. Wires DuckDB, a local folder and the Parquet writer into the
 * same pipeline the Lambda runs, and turns the outcome into an exit code:
 * 0 success (published; clean-up warnings after the switch are printed, not failures); 2 bad usage
 * or configuration (one line and a usage hint); 1 a failed run, nothing published.
 */
import { TRANSACTION_MODEL_OPTIONS } from './config.js';
import { randomUUID } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { DuckDbEngine } from './adapters/duckdb-engine.js';
import { findInputFiles, isOutputFolder, OUTPUT_MARKERS_TEXT } from './adapters/input-files.js';
import { LocalFolderStore } from './adapters/local-folder-store.js';
import { locateSummary } from './adapters/summary-location.js';
import { folderInTheWayAdvice, openOutputFile, prepareOutputFolder } from './adapters/output-folder.js';
import { counted } from './domain/figure.js';
import { ParquetTableWriter } from './adapters/parquet-table-writer.js';
import { TrinoEngine } from './adapters/trino-engine.js';
import { isIntervalWorker, serveIntervalWorker, WorkerIntervals } from './adapters/worker-intervals.js';
import { isAudienceWorker, serveAudienceWorker, WorkerAudiences } from './adapters/worker-audiences.js';
import { INGESTED_DIR, RECEIPTS_DIR, ingestLocalFiles, type LocalIngestOptions, type LocalIngestResult } from './adapters/local-ingest.js';
import {
  LOCAL_LOCK_TTL_SECONDS,
  resolveBacktestConfig,
  resolveIngestConfig,
  resolvePublishFlags,
  resolveRunConfig,
  type BacktestFlags,
  type IngestFlags,
  type PublishFlags,
  type RunFlags,
} from './cli-options.js';
import { ClvError, ConfigurationError, diskFullAdvice, EmptyInputError, firstLine } from './errors.js';
import { checkHoldoutWithinOrders, runBacktest } from './pipeline/backtest.js';
import { DATASETS, LIVE_DIR, LOCK_KEY, PUBLISH_DIR, QUALITY_DIR, RUNS_DIR, reportKey } from './layout.js';
import { recoverPublishing, rollbackNight, runPipeline, underLock } from './pipeline/run.js';
import { LocalSpendSource } from './adapters/local-spend.js';
import type { QueryEngine } from './ports.js';
import { renderReport } from './report/render-report.js';
import type { Backtest } from './schemas/summary-backtest.js';
import { summarySchema, type Summary } from './schemas/summary.js';
import packageJson from '../../package.json' with { type: 'json' };
import { acquisitionLine, closingNotes, runTable, spinnerProgress } from './terminal-output.js';

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Progress spinners (on stderr) only on an interactive terminal, never under CI or when piped. */
  readonly interactive: boolean;
  /** stdout is an interactive terminal: a table of the outcome instead of plain lines. */
  readonly tables: boolean;
}

/** The outcome as plain lines, the notes (warnings, rejections) before the report's path, which ends it. */
const describeRun = (summary: Summary, output: string, notes: readonly string[]): string[] => {
  const c = summary.counts;
  const where = (key: string) => relative(process.cwd(), `${output}/${key}`) || '.';
  const lines = [
    `run ${summary.run.run_date} (as of ${summary.run.as_of}, ${summary.run.as_of_source === 'given' ? 'given' : 'latest order date'})`,
    `rows: ${c.input_rows} in, ${c.accepted_orders} accepted, ${c.duplicate_orders} duplicate, ${c.non_purchase_orders} non-purchase, ${c.rejected_rows} rejected`,
    `customers: ${c.customers}; equity ${summary.totals.equity.toFixed(2)} (${summary.totals.ranking_clv})`,
    ...[acquisitionLine(summary)].flatMap((a) => (a === null ? [] : [`${a.label}: ${a.text}`])),
    `output: ${relative(process.cwd(), output) || '.'}`,
    `summary: ${where(`summary/run_date=${summary.run.run_date}/summary.json`)}`,
  ];
  lines.push(...notes, `report: ${where(reportKey(summary.run.run_date))}`);
  return lines;
};

/** The entries the job writes at the top of an output folder: the datasets, the publishing state, the ingest cache. */
const OUTPUT_ENTRIES: ReadonlySet<string> = new Set([...DATASETS, RUNS_DIR, LIVE_DIR, PUBLISH_DIR, QUALITY_DIR, INGESTED_DIR, LOCK_KEY.split('/')[0]!]);

/**
 * An --input that is the --output folder, or lies inside one of the entries the job writes there
 * (OUTPUT_ENTRIES): its walk would read the run's own files (the audiences are CSV files; read as
 * exports they fail the night). An output folder inside an input folder is fine (the walk leaves
 * it out), and so are exports kept in a folder of their own inside the output (`clv/exports`).
 * @throws ConfigurationError naming both
 */
const refuseInputInOutput = async (inputs: readonly string[], output: string): Promise<void> => {
  const real = (path: string) => realpath(path).catch(() => resolve(path));
  const out = await real(output);
  for (const input of inputs) {
    const at = relative(out, await real(input));
    const entry = at.split(sep)[0]!;
    if (at === '') {
      throw new ConfigurationError(
        `--input ${input} is the --output folder ${output}: the run's own audiences would be read as exports; ` +
          `give the output a folder of its own (inside the input's is fine, e.g. --output ${join(input, 'clv-output')})`,
      );
    }
    if (!at.startsWith('..') && !isAbsolute(at) && OUTPUT_ENTRIES.has(entry)) {
      throw new ConfigurationError(
        `--input ${input} lies inside ${entry}${sep}, which the job writes in the --output folder ${output}: the run's own files would be read as exports; ` +
          `keep the exports in a folder of their own`,
      );
    }
  }
};

/**
 * The exports under `inputs` (never inside `output`, nor the `spend` file or folder kept beside
 * them), read by the one ingest into `<output>/ingested/` (cached by content).
 */
const ingestInputs = async (inputs: readonly string[], options: LocalIngestOptions, output?: string, spend?: string): Promise<LocalIngestResult> => {
  if (output !== undefined) await refuseInputInOutput(inputs, output);
  const files = await findInputFiles(inputs, [output, spend].filter((path) => path !== undefined));
  if (files.length === 0) throw new ConfigurationError(`no CSV or CSV.gz files under ${inputs.join(', ')}`);
  const result = await ingestLocalFiles(files, options);
  if (result.files.length === 0) throw new EmptyInputError(`no input file could be read: ${result.skipped.map((s) => `${s.path} ${s.reason}`).join('; ')}`);
  return result;
};

const run = async (flags: RunFlags, io: Io): Promise<number> => {
  const config = await resolveRunConfig(flags);
  await prepareOutputFolder(config.output);
  // a spend input that is not there is a mistake in the command or config, told before the ingest (a
  // folder without spend files is not: the run goes on without spend, and says so)
  if (config.spend !== undefined && (await stat(config.spend).catch(() => null)) === null) {
    throw new ConfigurationError(`spend input ${config.spend} (--spend, or the config file's spend.path): no such file or folder`);
  }
  const progress = io.interactive ? spinnerProgress(process.stderr) : null;
  const ingest = () =>
    ingestInputs(config.inputs, { config: config.ingest, directory: join(config.output, INGESTED_DIR), skipBadFiles: config.skipBadFiles }, config.output, config.spend);
  // a team's own Trino reads the canonical orders its ingest already wrote: nothing to ingest here
  let ingested: LocalIngestResult | null = null;
  try {
    if (config.engine.kind === 'duckdb') ingested = progress ? await progress.around('ingest', ingest) : await ingest();
  } catch (error) {
    progress?.fail();
    throw error;
  }
  const engine: QueryEngine = ingested === null && config.engine.kind === 'trino' ? new TrinoEngine(config.engine) : await DuckDbEngine.open({ files: ingested?.files ?? [] });
  const intervals = new WorkerIntervals({ threads: config.run.model.threads, script: new URL(import.meta.url) });
  const audiences = new WorkerAudiences({ script: new URL(import.meta.url), worker: intervals.threads > 1 });
  try {
    const result = await runPipeline(
      {
        engine,
        store: new LocalFolderStore(config.output, { keepPreviousDays: config.keepPreviousDays }),
        tables: new ParquetTableWriter(),
        now: () => new Date(),
        newRunId: randomUUID,
        intervals,
        audiences,
        ...(config.spend === undefined ? {} : { spend: new LocalSpendSource(config.spend) }),
        renderReport: (summary) => (progress ? progress.around('report', () => renderReport(summary)) : renderReport(summary)),
        ...(progress ? { progress: progress.listener } : {}),
        skippedInputs: async () => (ingested?.skipped ?? []).map((s) => ({ source: s.path, reason: s.reason })),
      },
      config.run,
    );
    for (const action of result.recovery.actions) io.out(`recovered: ${action}`);
    const s = result.summary;
    const notes = closingNotes(s, result.rejections, config.output);
    const ingestLine = ingested ? [`ingested: ${counted(ingested.files.length, 'file')} (${ingested.files.length - ingested.reused} read, ${ingested.reused} unchanged)`] : [];
    const lines = io.tables
      ? [runTable(s, config.output, reportKey(s.run.run_date), process.stdout.columns), ...notes]
      : [...ingestLine, ...describeRun(s, config.output, notes)];
    for (const line of lines) io.out(line);
    for (const warning of result.publishWarnings) io.out(`warning: ${warning}`);
    return EXIT.ok;
  } catch (error) {
    progress?.fail();
    throw error;
  } finally {
    await engine.close();
  }
};

/** Runs `work` holding the output's run lock, as a run would. */
const holdingLock = async <T extends { readonly warnings: readonly string[] }>(store: LocalFolderStore, what: string, work: () => Promise<T>): Promise<T> => {
  const lock = await store.lock(`${what}-${randomUUID()}`, LOCAL_LOCK_TTL_SECONDS);
  const { result, warnings } = await underLock(lock, work);
  return warnings.length === 0 ? result : { ...result, warnings: [...result.warnings, ...warnings] };
};

/** `clv recover`: finishes or undoes a publish a crash interrupted, removes dead staging. Exit 1 when something is left. */
/**
 * The output folder `clv recover` and `clv rollback` work on must exist: a mistyped --output used to
 * be created (with its `_lock/`) and reported as "nothing to recover", exit 0.
 * @throws ConfigurationError when it is not a folder, or not a run's output folder.
 */
const requireOutputFolder = async (output: string): Promise<void> => {
  const info = await stat(output).catch(() => null);
  if (info === null || !info.isDirectory()) throw new ConfigurationError(`--output ${output}: no such folder (the output folder of a \`clv run\`)`);
  // a folder of exports given by mistake got a _lock/ and "nothing to recover"
  if (!(await isOutputFolder(output))) throw new ConfigurationError(`--output ${output}: is not the output folder of a \`clv run\` (it holds none of ${OUTPUT_MARKERS_TEXT})`);
};

const recover = async (flags: PublishFlags, io: Io): Promise<number> => {
  const f = resolvePublishFlags(flags);
  await requireOutputFolder(f.output);
  // without --keep-previous-days, no version is removed: the runs' retention (a flag or their config) is not known here
  const store = new LocalFolderStore(f.output, { keepPreviousDays: f.keepPreviousDays ?? null });
  const report = await holdingLock(store, 'recover', () => recoverPublishing(store));
  for (const action of report.actions) io.out(`recovered: ${action}`);
  if (report.actions.length === 0 && report.warnings.length === 0) io.out(`nothing to recover in ${relative(process.cwd(), store.location) || '.'}`);
  for (const warning of report.warnings) io.err(`clv: ${warning}`);
  return report.warnings.length === 0 ? EXIT.ok : EXIT.failed;
};

/** `clv rollback --run-date D`: switches the night back to the version its current one replaced. */
const rollback = async (flags: PublishFlags, io: Io): Promise<number> => {
  const f = resolvePublishFlags(flags);
  if (f.runDate === undefined) throw new ConfigurationError('--run-date is required (the night to roll back, YYYY-MM-DD)');
  const runDate = f.runDate;
  await requireOutputFolder(f.output);
  // no version is removed before the rollback (the one to restore may be past --keep-previous-days), and
  // without --keep-previous-days none after it: the runs' retention (a flag or their config) is not known here
  const store = new LocalFolderStore(f.output, { keepPreviousDays: null });
  const outcome = await holdingLock(store, 'rollback', async () => {
    const report = await recoverPublishing(store);
    for (const action of report.actions) io.out(`recovered: ${action}`);
    for (const warning of report.warnings) io.err(`clv: ${warning}`);
    const rolledBack = await rollbackNight(store, runDate);
    if (f.keepPreviousDays === undefined) return rolledBack;
    const expired = await new LocalFolderStore(f.output, { keepPreviousDays: f.keepPreviousDays }).recover();
    for (const action of expired.actions) io.out(action);
    return { ...rolledBack, warnings: [...rolledBack.warnings, ...expired.warnings] };
  });
  io.out(`rolled back ${runDate}: readers now see run ${outcome.runId}`);
  for (const warning of outcome.warnings) io.out(`warning: ${warning}`);
  return EXIT.ok;
};

/**
 * `clv report`: the page again from a published summary, e.g. after an upgrade of the report.
 * @throws ConfigurationError (exit 2) when --summary leads to no valid summary or --output cannot be written
 */
const report = async (flags: { summary: string; output?: string }, io: Io): Promise<number> => {
  const { summaryPath, outputRoot } = await locateSummary(flags.summary).catch((error: unknown) => {
    throw new ConfigurationError(firstLine(error), { cause: error });
  });
  let json: unknown;
  try {
    json = JSON.parse(await readFile(summaryPath, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`${summaryPath} is not a valid summary: ${error instanceof SyntaxError ? 'not JSON' : 'cannot be read'} (${firstLine(error)})`, { cause: error });
  }
  const parsed = summarySchema.safeParse(json);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    const where = first?.path.length ? `${first.path.join('.')}: ` : '';
    throw new ConfigurationError(`${summaryPath} is not a valid summary: ${where}${first?.message ?? 'invalid'}${rest.length > 0 ? ` (and ${rest.length} more problems)` : ''}`);
  }
  // beside the run's outputs, not in whatever folder the command was typed in; the published page stays as it was
  const output = flags.output ?? join(outputRoot, `clv-report-${parsed.data.run.run_date}.html`);
  const file = await openOutputFile(output);
  try {
    await file.write(await renderReport(parsed.data));
  } catch (error) {
    await file.abandon().catch(() => undefined);
    throw error;
  }
  io.out(`report: ${relative(process.cwd(), resolve(output)) || output}`);
  return EXIT.ok;
};

const formatBacktest = (b: Backtest): string[] => {
  const cell = (v: number | null, width: number) => (v === null ? '-' : v.toFixed(2)).padStart(width);
  return [
    `backtest: calibration to ${b.calibration_end}, holdout to ${b.holdout_end} (${b.holdout_length.toFixed(1)} ${b.time_unit}s), ${b.customers} customers`,
    `fit on calibration: r=${b.bgnbd.r.toPrecision(4)} alpha=${b.bgnbd.alpha.toPrecision(4)} a=${b.bgnbd.a.toPrecision(4)} b=${b.bgnbd.b.toPrecision(4)}${b.bgnbd.converged ? '' : ' (not converged)'}`,
    'frequency  customers     actual   expected  actual/cust  expected/cust',
    ...b.by_frequency.map(
      (r) => `${r.frequency.padStart(9)}  ${String(r.customers).padStart(9)} ${cell(r.actual, 10)} ${cell(r.expected, 10)} ${cell(r.actual_mean, 12)} ${cell(r.expected_mean, 14)}`,
    ),
    `total holdout purchases: actual ${b.totals.actual}, expected ${b.totals.expected.toFixed(1)}` +
      (b.errors.total_percentage_error === null ? '' : ` (${b.errors.total_percentage_error.toFixed(1)}%)`),
    `per customer: MAE ${b.errors.mean_absolute_error.toFixed(3)}, RMSE ${b.errors.root_mean_squared_error.toFixed(3)}`,
  ];
};

const backtest = async (flags: BacktestFlags, io: Io): Promise<number> => {
  const config = await resolveBacktestConfig(flags);
  const output = config.output ? await openOutputFile(config.output) : null;
  try {
    const engine = await DuckDbEngine.open({ files: (await ingestInputs(config.inputs, { config: config.ingest })).files });
    try {
      await checkHoldoutWithinOrders(engine, config.request, new Date());
      const result = await runBacktest(engine, config.request);
      for (const line of formatBacktest(result)) io.out(line);
      if (output) {
        await output.write(JSON.stringify(result, null, 2) + '\n');
        io.out(`backtest written to ${config.output}`);
      }
      return EXIT.ok;
    } finally {
      await engine.close();
    }
  } catch (error) {
    await output?.abandon();
    throw error;
  }
};

/** `clv ingest`: reads every export again into `<output>/ingested/` (a backfill, or after a config change). */
const ingestCommand = async (flags: IngestFlags, io: Io): Promise<number> => {
  const config = await resolveIngestConfig(flags);
  await prepareOutputFolder(config.output);
  const directory = join(config.output, INGESTED_DIR);
  const result = await ingestInputs(config.inputs, { config: config.ingest, directory, force: true, skipBadFiles: config.skipBadFiles }, config.output);
  for (const [i, receipt] of result.receipts.entries()) {
    const problems = receipt.problems.filter((p) => p.code !== 'unmapped_columns').map((p) => p.message);
    io.out(
      `${receipt.source}: ${receipt.rows} rows, ${receipt.malformed} malformed, ${receipt.parsed} parsed -> ` +
        `${relative(process.cwd(), result.files[i]!.path)}${problems.length > 0 ? ` (${problems.join('; ')})` : ''}`,
    );
  }
  for (const s of result.skipped) io.err(`clv: skipped ${s.path}: it ${s.reason}`);
  io.out(`receipts: ${relative(process.cwd(), join(directory, RECEIPTS_DIR)) || '.'}`);
  return EXIT.ok;
};

/** Variadic, so a shell glob after one flag (`--input exports/*.csv`) works, as does repeating the flag. */
const INPUT_HELP = 'CSV or CSV.gz files, or folders read recursively (several after one flag, or the flag repeated)';

const main = async (argv: readonly string[], io: Io): Promise<number> => {
  let debug = argv.includes('--debug');
  let code: number = EXIT.ok;
  let failure = 'run failed, nothing published';
  const program = new Command()
    .name('clv')
    .description('Customer lifetime value from order exports: BG/NBD + Gamma-Gamma, segments, Parquet and a summary.')
    .version(packageJson.version, '-V, --version', 'print the version of clv')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run `clv <command> --help` for usage)');

  program
    .command('run')
    .description('score customers from order exports and publish Parquet, rejected rows and a summary')
    .option('--input <path...>', `${INPUT_HELP}; required with --engine duckdb`)
    .requiredOption('--output <dir>', 'output folder')
    .addOption(new Option('--engine <engine>', 'duckdb: the input files, here; trino: the canonical orders table of your Trino (default: duckdb)').choices(['duckdb', 'trino']))
    .option('--trino-url <url>', 'with --engine trino: the coordinator, e.g. http://trino:8080')
    .option('--trino-catalog <name>', 'with --engine trino: the catalog of the orders table, e.g. hive')
    .option('--trino-schema <name>', 'with --engine trino: the schema (Glue database) of the orders table, e.g. clv')
    .option('--as-of <YYYY-MM-DD>', 'as-of date (default: the latest valid order date)')
    .option('--config <file>', 'JSON config file (model options, column names, tiers, statuses, segments)')
    .addOption(new Option('--time-unit <unit>', 'model time unit (default: week)').choices(['week', 'day']))
    .addOption(
      new Option('--transactions <model>', 'transaction model: bgnbd, pnbd (Pareto/NBD), or auto (both, the smaller holdout error wins) (default: bgnbd)').choices([
        ...TRANSACTION_MODEL_OPTIONS,
      ]),
    )
    .option('--horizon <n>', 'prediction horizon in time units (default: 52 weeks / 364 days)')
    .option('--discount-rate <rate>', 'annual discount rate (default: 0.10)')
    .option('--margin <share>', 'share of revenue that is profit (default: 1.0)')
    .option('--lifespan-years <years>', 'expected lifespan for historical CLV (default: 3)')
    .option('--threads <n>', 'threads for the prediction intervals (with more than 1, the audiences\' CSV is also built on a worker); the numbers do not depend on it (default: CLV_MODEL_THREADS, else the cores, at most 8)')
    .option('--accept-failed-gates', 'publish even when a data-quality gate fails (the quality report is written all the same)')
    .option('--skip-bad-files', 'leave out input files that cannot be read (named in the warnings) instead of failing')
    .option('--spend <path>', 'marketing spend: a CSV (channel, month YYYY-MM, spend) or a folder of them; gives CAC, LTV:CAC and payback per channel')
    .option('--keep-previous-days <days>', 'days a replaced version of a night is kept for `clv rollback` (default: 30)')
    .option('--debug', 'print stack traces of failures')
    .action(async (options: RunFlags & { debug?: boolean }) => {
      debug = options.debug ?? false;
      code = await run(options, io);
    });

  program
    .command('backtest')
    .description('fit on a calibration period and compare predictions with what the same customers bought in the holdout period')
    .requiredOption('--input <path...>', INPUT_HELP)
    .requiredOption('--calibration-end <YYYY-MM-DD>', 'last day of the calibration period')
    .requiredOption('--holdout-end <YYYY-MM-DD>', 'last day of the holdout period')
    .option('--config <file>', 'JSON config file (column names, statuses, model time unit)')
    .addOption(new Option('--time-unit <unit>', 'model time unit (default: week)').choices(['week', 'day']))
    .option('--output <file>', 'also write the backtest as JSON')
    .option('--debug', 'print stack traces of failures')
    .action(async (options: BacktestFlags & { debug?: boolean }) => {
      debug = options.debug ?? false;
      failure = 'backtest failed';
      code = await backtest(options, io);
    });

  program
    .command('ingest')
    .description('read every export again into <output>/ingested/ (canonical Parquet and a receipt per file)')
    .requiredOption('--input <path...>', INPUT_HELP)
    .requiredOption('--output <dir>', 'output folder (its ingested/ folder is written)')
    .option('--config <file>', 'JSON config file (columns, orderKey, csv, validation)')
    .option('--skip-bad-files', 'leave out input files that cannot be read instead of failing')
    .option('--debug', 'print stack traces of failures')
    .action(async (options: IngestFlags & { debug?: boolean }) => {
      debug = options.debug ?? false;
      // nothing is published by ingest; the files read before the failure stay ingested
      failure = 'ingest failed';
      code = await ingestCommand(options, io);
    });

  program
    .command('recover')
    .description('finish or undo a publish that a crash interrupted, and remove dead staging and expired versions')
    .requiredOption('--output <dir>', 'output folder')
    .option('--keep-previous-days <days>', 'also remove versions replaced more than this many days ago (default: none removed; runs remove them)')
    .option('--debug', 'print stack traces of failures')
    .action(async (options: PublishFlags & { debug?: boolean }) => {
      debug = options.debug ?? false;
      failure = 'recovery failed';
      code = await recover(options, io);
    });

  program
    .command('rollback')
    .description("switch a night's output back to the version the current one replaced")
    .requiredOption('--output <dir>', 'output folder')
    .requiredOption('--run-date <YYYY-MM-DD>', 'the night to roll back')
    .option('--keep-previous-days <days>', 'also remove versions replaced more than this many days ago (default: none removed)')
    .option('--debug', 'print stack traces of failures')
    .action(async (options: PublishFlags & { debug?: boolean }) => {
      debug = options.debug ?? false;
      failure = 'rollback failed, nothing changed';
      code = await rollback(options, io);
    });

  program
    .command('report')
    .description('draw the HTML report again from a summary.json')
    .requiredOption('--summary <path>', 'a summary.json written by `clv run`, or an output folder or its latest.json (the newest run)')
    .option('--output <file>', 'where to write the page (default: clv-report-<run date>.html in the output folder)')
    .option('--debug', 'print stack traces of failures')
    .action(async (options: { summary: string; output?: string }) => {
      code = await report(options, io);
    });

  const missing = valueSwallowingOption(program, argv);
  if (missing !== null) {
    io.err(`error: ${missing}\n(run \`clv <command> --help\` for usage)`);
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, successfully
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ConfigurationError) {
      io.err(`clv: ${error.message} (run \`clv <command> --help\` for usage)`);
      return EXIT.usage;
    }
    io.err(`clv: ${failure}: ${error instanceof ClvError ? error.message : firstLine(error)}${diskFullAdvice(error, tmpdir())}${await folderInTheWayAdvice(error)}`);
    if (debug && error instanceof Error) io.err(error.stack ?? '');
    return EXIT.failed;
  }
};

/**
 * A flag that needs a value but is followed by another of the command's flags, e.g. `--input
 * --output out`: commander would take `--output` for the value (an input path named "--output") and
 * then complain that --output is missing, which sends the user looking in the wrong place. Returns
 * the message, or null when every such flag has a value. A value that really starts with `--` can
 * be given as `--flag=--value`.
 */
const valueSwallowingOption = (program: Command, argv: readonly string[]): string | null => {
  const command = program.commands.find((c) => c.name() === argv[0]);
  if (command === undefined) return null;
  const flags = new Set(command.options.map((o) => o.long).filter((f) => f !== undefined));
  for (let i = 1; i < argv.length - 1; i++) {
    const option = command.options.find((o) => o.long === argv[i]);
    const next = argv[i + 1]!;
    if (option?.required === true && (flags.has(next) || next === '--help')) return `${argv[i]} needs a value before ${next}`;
  }
  return null;
};

/**
 * A reader that closes the pipe early (`clv run ... | head -1`) is not a failure of the run: later
 * lines to that stream are dropped, and the exit status stays the run's own.
 */
const quietWhenClosed = (stream: NodeJS.WriteStream): ((line: string) => void) => {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return (line) => {
    if (!closed) stream.write(`${line}\n`);
  };
};

// Started again as an interval or audience worker thread (adapters/worker-intervals.ts, worker-audiences.ts): serve, don't run the CLI.
if (isIntervalWorker()) serveIntervalWorker();
else if (isAudienceWorker()) serveAudienceWorker();
else {
  process.exitCode = await main(process.argv.slice(2), {
    out: quietWhenClosed(process.stdout),
    err: quietWhenClosed(process.stderr),
    interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
    tables: Boolean(process.stdout.isTTY) && !process.env.CI,
  });
}
