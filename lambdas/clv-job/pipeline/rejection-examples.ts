import { REJECTION_REASONS, type RejectionReason } from '../domain/outcomes.js';
import type { CountsSection } from '../schemas/summary-run.js';
import type { RejectedRows } from './engine-results.js';

/** Where a rejected row was read: its file and its line in that file (1 is the header). */
export interface RowLocation {
  readonly file: string;
  readonly line: number | null;
}

export interface RejectionReasonExamples {
  readonly reason: RejectionReason;
  readonly rows: number;
  /** Up to `perReason` rows, the first by file and line. */
  readonly examples: readonly RowLocation[];
}

/**
 * The rejection reasons, most rows first, each with a few rows a reader can open (`file:line`), so
 * a run's rejections can be acted on without opening the rejected-rows Parquet.
 *
 * A row's `source_row` is the physical line its record starts on in its file (the header is line 1),
 * as the ingest records it.
 */
export const rejectionExamples = (counts: CountsSection, rejected: RejectedRows, perReason = 3): RejectionReasonExamples[] => {
  const files = rejected.columns.source_file ?? [];
  const sourceRows = rejected.columns.source_row ?? [];
  const reasons = rejected.columns.reason ?? [];
  const examples = new Map<RejectionReason, RowLocation[]>(REJECTION_REASONS.map((r) => [r, []]));
  for (let i = 0; i < rejected.rowCount; i += 1) {
    const line = sourceRows[i];
    examples.get(reasons[i] as RejectionReason)?.push({ file: String(files[i] ?? ''), line: typeof line === 'number' ? line : null });
  }
  // the first rows of the first files: what a reader opening the files meets first
  const byPlace = (a: RowLocation, b: RowLocation): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0));
  for (const [reason, list] of examples) examples.set(reason, list.sort(byPlace).slice(0, perReason));
  return REJECTION_REASONS.map((reason) => ({ reason, rows: counts.rejected_by_reason[reason], examples: examples.get(reason) ?? [] }))
    .filter((r) => r.rows > 0)
    .sort((a, b) => b.rows - a.rows);
};
