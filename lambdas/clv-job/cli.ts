#!/usr/bin/env node
/**
 * `clv`: the local composition root. Wires DuckDB, a local folder and the Parquet writer into the
 * same pipeline the Lambda runs, and turns the outcome into an exit code:
 * 0 success; 2 bad usage or configuration (one line and a usage hint); 1 a failed run, nothing published.
 */
import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { DuckDbEngine } from './adapters/duckdb-engine.js';
import { findInputFiles } from './adapters/input-files.js';
import { LocalFolderStore } from './adapters/local-folder-store.js';
import { ParquetTableWriter } from './adapters/parquet-table-writer.js';
import { resolveRunConfig, type RunFlags } from './cli-options.js';
import { ClvError, ConfigurationError, firstLine } from './errors.js';
import { runPipeline, type ProgressListener } from './pipeline/run.js';
import type { Summary } from './schemas/summary.js';

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Progress lines only on an interactive terminal, never under CI or when piped. */
  readonly interactive: boolean;
}

const terminalProgress = (io: Io): ProgressListener => ({
  stageStarted: (stage) => io.err(`  ${stage} ...`),
  stageFinished: (stage, seconds, detail) => io.err(`  ${stage} done in ${seconds.toFixed(1)} s${detail ? `: ${detail}` : ''}`),
});

const describeRun = (summary: Summary, output: string): string[] => {
  const c = summary.counts;
  const where = (key: string) => relative(process.cwd(), `${output}/${key}`) || '.';
  const lines = [
    `run ${summary.run.run_date} (as of ${summary.run.as_of}, ${summary.run.as_of_source === 'given' ? 'given' : 'latest order date'})`,
    `rows: ${c.input_rows} in, ${c.accepted_orders} accepted, ${c.duplicate_orders} duplicate, ${c.non_purchase_orders} non-purchase, ${c.rejected_rows} rejected`,
    `customers: ${c.customers}; equity ${summary.totals.equity.toFixed(2)} (${summary.totals.ranking_clv})`,
    `output: ${relative(process.cwd(), output) || '.'}`,
    `summary: ${where(`summary/run_date=${summary.run.run_date}/summary.json`)}`,
  ];
  if (summary.warnings.length > 0) lines.push(...summary.warnings.map((w) => `warning: ${w.message}`));
  return lines;
};

const run = async (flags: RunFlags, io: Io): Promise<number> => {
  const config = await resolveRunConfig(flags);
  const files = await findInputFiles(config.inputs);
  if (files.length === 0) throw new ConfigurationError(`no CSV or CSV.gz files under ${config.inputs.join(', ')}`);
  const engine = await DuckDbEngine.open({ files, columns: config.columns });
  try {
    const result = await runPipeline(
      {
        engine,
        store: new LocalFolderStore(config.output),
        tables: new ParquetTableWriter(),
        now: () => new Date(),
        newRunId: randomUUID,
        ...(io.interactive ? { progress: terminalProgress(io) } : {}),
      },
      config.run,
    );
    for (const line of describeRun(result.summary, config.output)) io.out(line);
    return EXIT.ok;
  } finally {
    await engine.close();
  }
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const main = async (argv: readonly string[], io: Io): Promise<number> => {
  let debug = argv.includes('--debug');
  let code: number = EXIT.ok;
  const program = new Command()
    .name('clv')
    .description('Customer lifetime value from order exports: BG/NBD + Gamma-Gamma, segments, Parquet and a summary.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run `clv run --help` for usage)');

  program
    .command('run')
    .description('score customers from order exports and publish Parquet, rejected rows and a summary')
    .requiredOption('--input <path>', 'CSV or CSV.gz file, or a folder read recursively (repeatable)', collect)
    .requiredOption('--output <dir>', 'output folder')
    .option('--as-of <YYYY-MM-DD>', 'as-of date (default: the latest valid order date)')
    .option('--config <file>', 'JSON config file (model options, column names, tiers, statuses, segments)')
    .addOption(new Option('--time-unit <unit>', 'model time unit (default: week)').choices(['week', 'day']))
    .option('--horizon <n>', 'prediction horizon in time units (default: 52 weeks / 364 days)')
    .option('--discount-rate <rate>', 'annual discount rate (default: 0.10)')
    .option('--margin <share>', 'share of revenue that is profit (default: 1.0)')
    .option('--lifespan-years <years>', 'expected lifespan for historical CLV (default: 3)')
    .option('--debug', 'print stack traces of failures')
    .action(async (options: RunFlags & { debug?: boolean }) => {
      debug = options.debug ?? false;
      code = await run(options, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, successfully
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ConfigurationError) {
      io.err(`clv: ${error.message} (run \`clv run --help\` for usage)`);
      return EXIT.usage;
    }
    io.err(`clv: run failed, nothing published: ${error instanceof ClvError ? error.message : firstLine(error)}`);
    if (debug && error instanceof Error) io.err(error.stack ?? '');
    return EXIT.failed;
  }
};

process.exitCode = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
});
