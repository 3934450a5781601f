import { oneLine } from '../one-line.js';
import type { CustomerTable } from '../domain/customers.js';
import { isoDay } from '../domain/customers.js';
import { neumaierSum } from '../domain/math/sum.js';
import { REJECTION_REASONS } from '../domain/outcomes.js';
import { checkGates, type GateFigures, type GateSettings } from '../domain/quality-gates.js';
import type { QualityReport, QualitySection } from '../schemas/quality-report.js';
import type { CountsSection } from '../schemas/summary-run.js';
import type { RejectedRows } from './engine-results.js';
import { rejectionNotes } from './rejection-examples.js';

/** How many rejection reasons, and rows of each, a quality report shows. */
const TOP_REASONS = 5;
const SAMPLES_PER_REASON = 3;
/** A sample's raw text is cut here: a report must stay readable when a record swallowed a whole file. */
const SAMPLE_TEXT_LIMIT = 500;

export interface QualityInput {
  readonly runId: string;
  readonly runDate: string;
  readonly asOf: string;
  readonly asOfGiven: boolean;
  readonly counts: CountsSection;
  /** Rows dated after the as-of date, whatever their outcome (pipeline/accounting.ts rowsDatedAfterAsOf). */
  readonly rowsDatedAfterAsOf: number;
  /** Of those, the rows dated after the latest date a run may be as of (pipeline/accounting.ts rowsDatedInFuture). */
  readonly rowsDatedInFuture: number;
  readonly customers: CustomerTable;
  readonly rejected: RejectedRows;
  readonly previous: GateFigures['previous'];
  readonly replaced: GateFigures['replaced'];
  readonly summarised: GateFigures['summarised'];
  readonly newest: GateFigures['newest'];
  readonly settings: GateSettings;
  readonly acceptFailedGates: boolean;
  readonly checkedAt: Date;
}

export interface QualityVerdict {
  /** For the summary. */
  readonly section: QualitySection;
  /** For `_quality/run_date=.../quality.json`, written when a gate fails. */
  readonly report: QualityReport;
  /** `YYYY-MM-DD` of the latest accepted order, null without any: the summary's `run.latest_order_date`, which later nights are held against. */
  readonly latestOrderDate: string | null;
}

const extremeDay = (days: Int32Array, pick: (a: number, b: number) => number): string | null => {
  if (days.length === 0) return null;
  let day = days[0]!;
  for (let i = 1; i < days.length; i++) day = pick(day, days[i]!);
  return isoDay(day);
};

const cut = (value: string | number | null): string | number | null =>
  typeof value === 'string' && value.length > SAMPLE_TEXT_LIMIT ? `${value.slice(0, SAMPLE_TEXT_LIMIT)}… (${value.length} characters)` : value;

/** The most frequent rejection reasons with the first few of their rows, as read. */
const topReasons = (counts: CountsSection, rejected: RejectedRows): QualityReport['top_reasons'] => {
  const reasons = REJECTION_REASONS.filter((r) => counts.rejected_by_reason[r] > 0)
    .sort((a, b) => counts.rejected_by_reason[b] - counts.rejected_by_reason[a] || REJECTION_REASONS.indexOf(a) - REJECTION_REASONS.indexOf(b))
    .slice(0, TOP_REASONS);
  const names = Object.keys(rejected.columns);
  const reasonColumn = rejected.columns.reason ?? [];
  const notes = rejectionNotes(rejected);
  return reasons.map((reason) => {
    const samples: Record<string, string | number | null>[] = [];
    for (let i = 0; i < rejected.rowCount && samples.length < SAMPLES_PER_REASON; i++) {
      if (reasonColumn[i] !== reason) continue;
      samples.push(Object.fromEntries(names.map((name) => [name, cut(rejected.columns[name]![i] ?? null)])));
    }
    const rows = counts.rejected_by_reason[reason];
    const note = notes[reason];
    return { reason, rows, share_of_input: counts.input_rows > 0 ? rows / counts.input_rows : 0, samples, ...(note === undefined ? {} : { note }) };
  });
};

/**
 * Holds the night's figures against the gates (domain/quality-gates.ts) and writes up the verdict:
 * the summary's `quality` section and the quality report a failed gate leaves under `_quality/`.
 */
export const judgeQuality = (input: QualityInput): QualityVerdict => {
  const { counts, customers } = input;
  const latestOrderDate = extremeDay(customers.lastOrderDay, Math.max);
  const gates = checkGates(
    {
      asOf: input.asOf,
      asOfGiven: input.asOfGiven,
      inputRows: counts.input_rows,
      rejectedRows: counts.rejected_rows,
      rowsAfterAsOf: input.rowsDatedAfterAsOf,
      rowsInFuture: input.rowsDatedInFuture,
      acceptedOrders: counts.accepted_orders,
      customers: counts.customers,
      // as the summary's totals.revenue adds it up, so that a later night compares like with like
      revenue: neumaierSum(customers.totalRevenue),
      previous: input.previous,
      replaced: input.replaced,
      summarised: input.summarised,
      newest: input.newest,
      earliestOrderDate: extremeDay(customers.firstOrderDay, Math.min),
      latestOrderDate,
    },
    input.settings,
  );
  const passed = gates.every((g) => g.passed);
  const section: QualitySection = { passed, accepted_failed_gates: !passed && input.acceptFailedGates, gates };
  return {
    section,
    latestOrderDate,
    report: {
      ...section,
      run_id: input.runId,
      run_date: input.runDate,
      as_of: input.asOf,
      as_of_source: input.asOfGiven ? 'given' : 'latest_order_date',
      checked_at: input.checkedAt.toISOString(),
      published: passed || input.acceptFailedGates,
      counts,
      top_reasons: topReasons(counts, input.rejected),
    },
  };
};

/** The quality report as lines for a terminal or a log: each failed gate, then the top reasons with a sample row each. */
export const describeQualityReport = (report: QualityReport): string[] => {
  const lines = report.gates.filter((g) => !g.passed).map((g) => `gate ${g.gate} failed: ${g.message}`);
  const c = report.counts;
  lines.push(`rows: ${c.input_rows} in, ${c.accepted_orders} accepted, ${c.duplicate_orders} duplicate, ${c.non_purchase_orders} non-purchase, ${c.rejected_rows} rejected`);
  for (const r of report.top_reasons) {
    lines.push(`  ${r.reason}: ${r.rows} rows (${(100 * r.share_of_input).toFixed(1)}% of the input)`);
    if (r.note !== undefined) lines.push(`    ${oneLine(r.note)}`);
    for (const sample of r.samples) {
      const where = `${String(sample.source_file ?? '?')}:${String(sample.source_row ?? '?')}`;
      const text =
        sample.raw_line ??
        ['order_id', 'customer_id', 'order_date', 'amount']
          .map((k) => `${k}=${JSON.stringify(sample[k] ?? null)}`)
          .join(' ');
      lines.push(`    ${oneLine(where)} ${oneLine(String(text))}`);
    }
  }
  return lines;
};
