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
  /** What the rows of this reason probably have in common, in a sentence, when it can be told from their text. */
  readonly note?: string;
}

/**
 * An order date rejected as implausible whose text holds no four-digit number was read with a year
 * below 100: a two-digit year under csv.dateFormat's %Y ("25-03-01" with %Y-%m-%d is 0025-03-01).
 * ISO dates without a format reject such text as invalid instead, so the note fits this one case.
 */
const shortYearNote = (file: string, line: number | null, text: string): string =>
  `${file}${line === null ? '' : `:${line}`} has order_date ${JSON.stringify(text)}, a year of fewer than four digits, which csv.dateFormat's %Y ` +
  'reads as a year before 100 (so before validation.minOrderDate): for two-digit years write %y';

/**
 * A malformed row whose text holds U+FFFD was not UTF-8 (the ingest keeps its raw line with each
 * undecodable byte replaced): most often a whole file saved in Windows-1252, Excel's plain CSV.
 */
const notUtf8Note = (file: string, line: number | null): string =>
  `${file}${line === null ? '' : `:${line}`} holds bytes that are not UTF-8 (shown as \uFFFD), as a file saved in Windows-1252 (Excel's plain "CSV (Comma delimited)") does: ` +
  'save it as "CSV UTF-8 (Comma delimited)", or convert it, e.g. `iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv`';

/**
 * The rejection reasons, most rows first, each with a few rows a reader can open (`file:line`), so
 * a run's rejections can be acted on without opening the rejected-rows Parquet.
 *
 * A row's `source_row` is the physical line its record starts on in its file (the header is line 1),
 * as the ingest records it.
 */
const byPlace = (a: RowLocation, b: RowLocation): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0));

export const rejectionExamples = (counts: CountsSection, rejected: RejectedRows, perReason = 3): RejectionReasonExamples[] => {
  const files = rejected.columns.source_file ?? [];
  const sourceRows = rejected.columns.source_row ?? [];
  const reasons = rejected.columns.reason ?? [];
  const dates = rejected.columns.order_date ?? [];
  const examples = new Map<RejectionReason, RowLocation[]>(REJECTION_REASONS.map((r) => [r, []]));
  let shortYear: { file: string; line: number | null; text: string } | null = null;
  let notUtf8: RowLocation | null = null;
  const rawLines = rejected.columns.raw_line ?? [];
  for (let i = 0; i < rejected.rowCount; i += 1) {
    const line = sourceRows[i];
    const place = { file: String(files[i] ?? ''), line: typeof line === 'number' ? line : null };
    examples.get(reasons[i] as RejectionReason)?.push(place);
    const date = dates[i];
    if (reasons[i] === 'implausible_order_date' && typeof date === 'string' && !/\d{4}/.test(date) && /\d/.test(date)) {
      if (shortYear === null || byPlace(place, shortYear) < 0) shortYear = { ...place, text: date.trim() };
    }
    const raw = rawLines[i];
    if (reasons[i] === 'malformed_row' && typeof raw === 'string' && raw.includes('\uFFFD') && (notUtf8 === null || byPlace(place, notUtf8) < 0)) notUtf8 = place;
  }
  // the first rows of the first files: what a reader opening the files meets first
  for (const [reason, list] of examples) examples.set(reason, list.sort(byPlace).slice(0, perReason));
  const noteOf = (reason: RejectionReason): { note?: string } =>
    reason === 'implausible_order_date' && shortYear !== null
      ? { note: shortYearNote(shortYear.file, shortYear.line, shortYear.text) }
      : reason === 'malformed_row' && notUtf8 !== null
        ? { note: notUtf8Note(notUtf8.file, notUtf8.line) }
        : {};
  return REJECTION_REASONS.map((reason) => ({ reason, rows: counts.rejected_by_reason[reason], examples: examples.get(reason) ?? [], ...noteOf(reason) }))
    .filter((r) => r.rows > 0)
    .sort((a, b) => b.rows - a.rows);
};
