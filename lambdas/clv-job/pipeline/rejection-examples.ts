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
 * A malformed row whose text holds U+FFFD was not UTF-8 text (the ingest keeps its raw line with each
 * undecodable byte, and each NUL, replaced): most often a whole file saved in Windows-1252, Excel's
 * plain CSV; the raw line cannot tell a NUL apart, so the note names both.
 */
const notUtf8Note = (file: string, line: number | null): string =>
  `${file}${line === null ? '' : `:${line}`} holds bytes that are not UTF-8 text (shown as \uFFFD): a NUL byte, which no CSV text holds, or, ` +
  'most often, the characters of a file saved in Windows-1252 (Excel\'s plain "CSV (Comma delimited)"): ' +
  'save that as "CSV UTF-8 (Comma delimited)", or convert it, e.g. `iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv`';

/**
 * An amount rejected as invalid that reads as a decimal comma ("12,50", "1.234,56"): an export
 * written with a European locale. The note says which settings read it, true whatever is set now
 * (the nightly job does not know the ingest's settings).
 */
const DECIMAL_COMMA = /^-?(\d+|\d{1,3}(\.\d{3})+),\d{1,2}$/;
const decimalCommaNote = (file: string, line: number | null, text: string): string =>
  `${file}${line === null ? '' : `:${line}`} has amount ${JSON.stringify(text)}, written with a decimal comma: ` +
  `csv.decimalSeparator "," reads it${text.includes('.') ? ', with csv.thousandsSeparator "." for its thousands' : ''}`;

/** An order date rejected as invalid written day and month first or month and day first ("31/12/2024", "12.31.2024"). */
const DAY_MONTH_YEAR = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})\b/;
const isCalendarDay = (year: number, month: number, day: number): boolean => month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The csv.dateFormat readings under which `text` is a day of the calendar, day first before month first; none when it is no day either way (31/02/2024). */
const dateFormatsOf = (text: string): string[] => {
  const [, first = '', separator = '/', second = '', year = ''] = DAY_MONTH_YEAR.exec(text) ?? [];
  return [
    ...(isCalendarDay(Number(year), Number(second), Number(first)) ? [`%d${separator}%m${separator}%Y`] : []),
    ...(isCalendarDay(Number(year), Number(first), Number(second)) ? [`%m${separator}%d${separator}%Y`] : []),
  ];
};
const dateFormatNote = (file: string, line: number | null, text: string): string => {
  // one reading, or both (day first, then month first)
  const [first, second] = dateFormatsOf(text);
  const formats = second === undefined ? `csv.dateFormat ${JSON.stringify(first)} reads it` : `csv.dateFormat ${JSON.stringify(first)} reads it day first, ${JSON.stringify(second)} month first (the export tells which)`;
  return `${file}${line === null ? '' : `:${line}`} has order_date ${JSON.stringify(text)}, written with the day and the month before the year: ${formats}`;
};

const byPlace = (a: RowLocation, b: RowLocation): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0));

/** Where rejected row i was read. */
const placeOf = (rejected: RejectedRows, i: number): RowLocation => {
  const line = rejected.columns.source_row?.[i];
  return { file: String(rejected.columns.source_file?.[i] ?? ''), line: typeof line === 'number' ? line : null };
};

/**
 * What the rejected rows of a reason probably have in common, in a sentence, where their text tells:
 * implausible dates without a four-digit year (a two-digit year under %Y), malformed rows read with
 * undecodable bytes (not UTF-8), invalid amounts with a decimal comma, invalid dates written day and
 * month first (csv.dateFormat). Each names the first such row by file and line. Used by the run's
 * output, the quality report of a failed gate, and a night with no valid order date.
 */
export const rejectionNotes = (rejected: RejectedRows): Partial<Record<RejectionReason, string>> => {
  const reasons = rejected.columns.reason ?? [];
  const dates = rejected.columns.order_date ?? [];
  const rawLines = rejected.columns.raw_line ?? [];
  let shortYear: (RowLocation & { text: string }) | null = null;
  let notUtf8: RowLocation | null = null;
  let decimalComma: (RowLocation & { text: string }) | null = null;
  let dayMonth: (RowLocation & { text: string }) | null = null;
  const amounts = rejected.columns.amount ?? [];
  for (let i = 0; i < rejected.rowCount; i += 1) {
    const date = dates[i];
    if (reasons[i] === 'implausible_order_date' && typeof date === 'string' && !/\d{4}/.test(date) && /\d/.test(date)) {
      const place = placeOf(rejected, i);
      if (shortYear === null || byPlace(place, shortYear) < 0) shortYear = { ...place, text: date.trim() };
    }
    const amount = amounts[i];
    if (reasons[i] === 'invalid_amount' && typeof amount === 'string' && DECIMAL_COMMA.test(amount.trim())) {
      const place = placeOf(rejected, i);
      if (decimalComma === null || byPlace(place, decimalComma) < 0) decimalComma = { ...place, text: amount.trim() };
    }
    if (reasons[i] === 'invalid_order_date' && typeof date === 'string' && dateFormatsOf(date.trim()).length > 0) {
      const place = placeOf(rejected, i);
      if (dayMonth === null || byPlace(place, dayMonth) < 0) dayMonth = { ...place, text: date.trim() };
    }
    const raw = rawLines[i];
    if (reasons[i] === 'malformed_row' && typeof raw === 'string' && raw.includes('\uFFFD')) {
      const place = placeOf(rejected, i);
      if (notUtf8 === null || byPlace(place, notUtf8) < 0) notUtf8 = place;
    }
  }
  return {
    ...(shortYear === null ? {} : { implausible_order_date: shortYearNote(shortYear.file, shortYear.line, shortYear.text) }),
    ...(notUtf8 === null ? {} : { malformed_row: notUtf8Note(notUtf8.file, notUtf8.line) }),
    ...(decimalComma === null ? {} : { invalid_amount: decimalCommaNote(decimalComma.file, decimalComma.line, decimalComma.text) }),
    ...(dayMonth === null ? {} : { invalid_order_date: dateFormatNote(dayMonth.file, dayMonth.line, dayMonth.text) }),
  };
};

/**
 * The rejection reasons, most rows first, each with a few rows a reader can open (`file:line`), so
 * a run's rejections can be acted on without opening the rejected-rows Parquet, and its note
 * (rejectionNotes) when the rows' text tells one.
 *
 * A row's `source_row` is the physical line its record starts on in its file (the header is line 1),
 * as the ingest records it.
 */
export const rejectionExamples = (counts: CountsSection, rejected: RejectedRows, perReason = 3): RejectionReasonExamples[] => {
  const reasons = rejected.columns.reason ?? [];
  const examples = new Map<RejectionReason, RowLocation[]>(REJECTION_REASONS.map((r) => [r, []]));
  for (let i = 0; i < rejected.rowCount; i += 1) examples.get(reasons[i] as RejectionReason)?.push(placeOf(rejected, i));
  // the first rows of the first files: what a reader opening the files meets first
  for (const [reason, list] of examples) examples.set(reason, list.sort(byPlace).slice(0, perReason));
  const notes = rejectionNotes(rejected);
  return REJECTION_REASONS.map((reason) => {
    const note = notes[reason];
    return { reason, rows: counts.rejected_by_reason[reason], examples: examples.get(reason) ?? [], ...(note === undefined ? {} : { note }) };
  })
    .filter((r) => r.rows > 0)
    .sort((a, b) => b.rows - a.rows);
};
