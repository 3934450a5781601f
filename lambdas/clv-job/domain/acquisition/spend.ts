/**
 * The marketing-spend input (`channel`, `month` YYYY-MM, `spend`), judged row by row as orders are:
 * each row is accepted or rejected with exactly one reason, so
 * `input_rows = accepted_rows + rejected_rows` always holds. Pure: the adapters read the files and
 * hand the records over as text.
 */
import { trimField } from '../trimmed-text.js';

export const SPEND_REJECTION_REASONS = [
  /** The record's field count differs from the header's. */
  'malformed_row',
  'missing_channel',
  /** Not a YYYY-MM month (e.g. 2025-13, 2025/01, Jan 2025). */
  'invalid_month',
  /** Not a plain decimal number (e.g. "12,50", "n/a", "1e400"), or one above MAX_SPEND. */
  'invalid_spend',
  'negative_spend',
  /**
   * A month after the as-of month: the run sees no customer acquired then, so the spend would raise
   * the channel's CAC with nothing to show for it.
   */
  'month_after_as_of',
  /**
   * A month before the run's earliest acquisition month (its earliest order): the orders start later,
   * so the customers that spend bought are not in the run (or appear later, as acquired in another month).
   */
  'month_before_first_order',
  /** A channel-month given again later in the input: the last copy (file in name order, then line) counts. */
  'duplicate_channel_month',
] as const;
export type SpendRejectionReason = (typeof SPEND_REJECTION_REASONS)[number];

/** One record of a spend file, as read: values are the raw text (null when the field is missing). */
export interface SpendRecord {
  readonly source: string;
  /** Line the record starts on (the header is line 1). */
  readonly line: number;
  /** The record as it appears in the file, for the rejected examples. */
  readonly text: string;
  /** False when the record's field count differs from the header's. */
  readonly wellFormed: boolean;
  readonly channel: string | null;
  readonly month: string | null;
  readonly spend: string | null;
}

/** An accepted spend row. */
export interface SpendRow {
  readonly channel: string;
  readonly month: string;
  /** Currency units, finite and >= 0. */
  readonly spend: number;
}

export interface JudgedSpend {
  readonly rows: readonly SpendRow[];
  readonly inputRows: number;
  readonly rejectedByReason: Readonly<Record<SpendRejectionReason, number>>;
  /** The first ten rejected records with their reason. */
  readonly rejectedExamples: readonly { readonly source: string; readonly line: number; readonly reason: SpendRejectionReason; readonly text: string }[];
}

/**
 * The months a run sees customers acquired in. Spend outside them is rejected, not counted: CAC is
 * spend over the customers acquired, and a month whose customers the run cannot see adds spend
 * without customers. Spend in a month inside the window in which a channel acquired nobody (before
 * its first customer, or between two) is the channel's cost all the same and counts.
 */
export interface SpendWindow {
  /** The month of the as-of date, YYYY-MM (counted: the customers acquired in it up to the as-of date are in the run). */
  readonly asOfMonth: string;
  /** The earliest acquisition month of the run's customers, YYYY-MM; null when it has none (nothing is rejected for it). */
  readonly firstOrderMonth: string | null;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * The most one channel-month's spend can be (1e15, in the spend's currency): far above any real
 * budget, and low enough that a channel's sum over every month stays finite (two rows near the
 * double's limit summed to Infinity, and CAC became NaN, failing the run).
 */
export const MAX_SPEND = 1e15;

/** The one reason a record is rejected before duplicates are looked at, or null when it is valid. */
const defectOf = (record: SpendRecord): SpendRejectionReason | null => {
  if (!record.wellFormed) return 'malformed_row';
  if (trimField(record.channel ?? '') === '') return 'missing_channel';
  if (!MONTH.test(trimField(record.month ?? ''))) return 'invalid_month';
  const text = trimField(record.spend ?? '');
  if (!DECIMAL.test(text) || !(Math.abs(Number(text)) <= MAX_SPEND)) return 'invalid_spend';
  if (Number(text) < 0) return 'negative_spend';
  return null;
};

/** Why a valid row's month lies outside the run's window, or null when it lies inside. */
const outsideOf = (month: string, window: SpendWindow): SpendRejectionReason | null => {
  if (month > window.asOfMonth) return 'month_after_as_of';
  if (window.firstOrderMonth !== null && month < window.firstOrderMonth) return 'month_before_first_order';
  return null;
};

/**
 * Judges every record, in the order given (files in name order, then line order): malformed,
 * missing channel, invalid month, invalid spend, negative spend, a month after the as-of month or
 * before the run's first order (`window`), then a repeat of a channel-month (the last copy is kept,
 * earlier ones are rejected as `duplicate_channel_month`). Channel names and months are trimmed (trimField, as the orders' fields are);
 * channel names are otherwise kept as written (matched exactly against the customers' acquisition
 * channels). O(n).
 */
export const judgeSpend = (records: readonly SpendRecord[], window: SpendWindow): JudgedSpend => {
  const rejectedByReason = Object.fromEntries(SPEND_REJECTION_REASONS.map((r) => [r, 0])) as Record<SpendRejectionReason, number>;
  const rejectedExamples: { source: string; line: number; reason: SpendRejectionReason; text: string }[] = [];
  const reject = (record: SpendRecord, reason: SpendRejectionReason): void => {
    rejectedByReason[reason] += 1;
    if (rejectedExamples.length < 10) rejectedExamples.push({ source: record.source, line: record.line, reason, text: record.text });
  };
  const lastCopy = new Map<string, { record: SpendRecord; row: SpendRow }>();
  for (const record of records) {
    const defect = defectOf(record);
    if (defect !== null) {
      reject(record, defect);
      continue;
    }
    const row: SpendRow = { channel: trimField(record.channel as string), month: trimField(record.month as string), spend: Number(trimField(record.spend as string)) };
    const outside = outsideOf(row.month, window);
    if (outside !== null) {
      reject(record, outside);
      continue;
    }
    const key = JSON.stringify([row.channel, row.month]);
    const earlier = lastCopy.get(key);
    if (earlier !== undefined) reject(earlier.record, 'duplicate_channel_month');
    lastCopy.set(key, { record, row });
  }
  return { rows: [...lastCopy.values()].map((c) => c.row), inputRows: records.length, rejectedByReason, rejectedExamples };
};
