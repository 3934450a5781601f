/**
 * What `clv run` shows on an interactive terminal: a spinner per pipeline stage (ora, on stderr)
 * and a short table of the outcome (cli-table3, on stdout). Under CI or when piped the CLI prints
 * plain lines instead and never calls into this module's spinners.
 */
import { relative } from 'node:path';
import Table from 'cli-table3';
import ora, { type Ora } from 'ora';
import type { RejectionReasonExamples } from './pipeline/rejection-examples.js';
import type { ProgressListener } from './pipeline/run.js';
import type { Summary } from './schemas/summary.js';
import { oneLine } from './one-line.js';
import { FIRST_RUN_NOTE } from './domain/segments/changes.js';

const STAGE_LABELS: Readonly<Record<string, string>> = {
  lock: 'Taking the run lock',
  recover: 'Recovering an interrupted publish',
  query: 'Reading and aggregating orders',
  gate: 'Checking the data-quality gates',
  // the transaction model is configured (BG/NBD, Pareto/NBD, or both with auto): the label names none
  model: 'Fitting the models and scoring customers',
  backtest: 'Backtesting the model on a holdout period',
  segment: 'Segmenting customers and comparing with the previous run',
  write: 'Writing Parquet tables',
  report: 'Drawing the report',
  publish: 'Publishing the run',
};

export interface SpinnerProgress {
  readonly listener: ProgressListener;
  /** Marks the stage that was running as failed (the pipeline threw). */
  readonly fail: () => void;
  /** Runs `work` as one more stage, e.g. rendering the report, which the pipeline does not time. */
  readonly around: <T>(stage: string, work: () => Promise<T>) => Promise<T>;
}

/** One spinner per stage, turned into a tick with the stage's time and detail when it ends. */
export const spinnerProgress = (stream: NodeJS.WriteStream): SpinnerProgress => {
  // A pseudo-terminal that reports 0 columns (e.g. `script` without a real terminal) sends ora into
  // an endless redraw: animate only where there is a width to draw in, and print plain lines elsewhere.
  const animate = (stream.columns ?? 0) > 0;
  let current: Ora | null = null;
  const start = (stage: string): void => {
    current?.stop();
    current = ora({ text: STAGE_LABELS[stage] ?? stage, stream, discardStdin: false, isEnabled: animate }).start();
  };
  const finish = (stage: string, seconds: number, detail: string): void => {
    current?.succeed(`${STAGE_LABELS[stage] ?? stage} (${seconds.toFixed(1)} s)${detail ? `: ${detail}` : ''}`);
    current = null;
  };
  return {
    listener: { stageStarted: start, stageFinished: finish },
    fail: () => {
      current?.fail();
      current = null;
    },
    around: async (stage, work) => {
      start(stage);
      const t0 = performance.now();
      const result = await work();
      finish(stage, (performance.now() - t0) / 1000, '');
      return result;
    },
  };
};


const money = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

/**
 * The acquisition economics in one line: LTV:CAC per channel when the run had spend (channels
 * below the line marked, channels without spend said so), else the value per acquired customer;
 * null without customers. Channels in the summary's order (most valuable acquired customer first).
 */
export const acquisitionLine = (summary: Summary): { readonly label: string; readonly text: string } | null => {
  const rows = summary.acquisition.filter((r) => r.customers_acquired > 0);
  if (rows.length === 0) return null;
  if (summary.spend_input === undefined) {
    return { label: 'value per acquired customer', text: rows.map((r) => `${oneLine(r.channel)} ${money(r.ltv_per_customer ?? 0)}`).join(' · ') };
  }
  return {
    label: 'LTV:CAC',
    text: rows
      .map((r) => (r.ltv_to_cac === null || r.ltv_to_cac === undefined ? `${oneLine(r.channel)} no CAC` : `${oneLine(r.channel)} ${r.ltv_to_cac.toFixed(2)}${r.below_ltv_to_cac_line ? ' (below the line)' : ''}`))
      .join(' · '),
  };
};

export const outputPath = (output: string, key: string): string => relative(process.cwd(), `${output}/${key}`) || '.';

/** The outcome of a run as a two-column table: the figures first, then where the files are. */
export const runTable = (summary: Summary, output: string, reportKey: string | null, columns = 100): string => {
  const c = summary.counts;
  const t = summary.totals;
  const summaryPath = outputPath(output, `summary/run_date=${summary.run.run_date}/summary.json`);
  const reportPath = reportKey === null ? null : outputPath(output, reportKey);
  // a path is copied into the next command: its cell is as wide as the path, never cut or wrapped
  const pathWidth = Math.max(summaryPath.length, reportPath?.length ?? 0) + 2;
  const table = new Table({
    style: { head: [], border: [], compact: true },
    wordWrap: true,
    colWidths: [16, Math.max(30, pathWidth, Math.min(78, columns - 19))],
  });
  const tiers = summary.segments.clv_tiers.map((r) => `${r.segment} ${r.customers.toLocaleString('en-US')} (${percent(r.equity_share)} of equity)`).join(' · ');
  const channels = [...summary.channels]
    .sort((a, b) => b.equity - a.equity)
    .slice(0, 3)
    .map((r) => `${oneLine(r.channel)} ${money(r.equity)} (avg ${money(r.average_clv)})`)
    .join(' · ');
  const warnings = summary.warnings.length + summary.changes.warnings.length;
  const acquired = acquisitionLine(summary);
  table.push(
    ['Run', `${summary.run.run_date} (as of ${summary.run.as_of}, ${summary.run.as_of_source === 'given' ? 'given' : 'latest order date'})`],
    ['Rows', `${c.input_rows} in, ${c.accepted_orders} accepted, ${c.duplicate_orders} duplicate, ${c.non_purchase_orders} non-purchase, ${c.rejected_rows} rejected`],
    ['Customers', `${c.customers.toLocaleString('en-US')} (${t.repeat_customers.toLocaleString('en-US')} bought again)`],
    ['Equity', `${money(t.equity)} (${t.ranking_clv === 'predicted_clv' ? 'predicted CLV' : 'historical CLV'})`],
    ['Tiers', tiers || '–'],
    ['Top channels', channels || '–'],
    ...(acquired === null ? [] : [[acquired.label === 'LTV:CAC' ? 'LTV:CAC' : 'Acquired value', acquired.text]]),
    ['Warnings', warnings === 0 ? (summary.changes.note === FIRST_RUN_NOTE ? 'none (first run)' : 'none') : `${warnings}: see below and the report`],
    ['Summary', summaryPath],
    ...(reportPath === null ? [] : [['Report', reportPath]]),
  );
  return table.toString();
};

/**
 * What follows the outcome, on a terminal and in a pipe alike: every warning (the run's and the
 * segment changes'), then the rejection reasons, most rows first, each with example rows as
 * `file:line` to open and, indented below, what its rows have in common when that can be told.
 */
export const closingNotes = (summary: Summary, rejections: readonly RejectionReasonExamples[], output: string): string[] => [
  ...[...summary.warnings, ...summary.changes.warnings].map((w) => `warning: ${oneLine(w.message)}`),
  ...(rejections.length === 0
    ? []
    : [
        `rejected rows by reason (every one in ${outputPath(output, `rejected/run_date=${summary.run.run_date}`)}/):`,
        ...rejections.flatMap((r) => {
          const where = r.examples.map((e) => (e.line === null ? e.file : `${e.file}:${e.line}`));
          const line = `  ${r.rows} ${r.reason}${where.length > 0 ? `, e.g. ${where.join(', ')}` : ''}`;
          return r.note === undefined ? [line] : [line, `    ${oneLine(r.note)}`];
        }),
      ]),
];
