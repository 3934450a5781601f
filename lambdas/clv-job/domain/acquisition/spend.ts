/**
 * The marketing-spend input (`channel`, `month` YYYY-MM, `spend`), judged row by row as orders are:
 * each row is accepted or rejected with exactly one reason, so
 * `input_rows = accepted_rows + rejected_rows` always holds. Pure: the adapters read the files and
 * hand the records over as text.
 */

export const SPEND_REJECTION_REASONS = [
  /** The record's field count differs from the header's. */
  'malformed_row',
  'missing_channel',
  /** Not a YYYY-MM month (e.g. 2025-13, 2025/01, Jan 2025). */
  'invalid_month',
  /** Not a plain decimal number (e.g. "12,50", "n/a", "1e400"). */
  'invalid_spend',
  'negative_spend',
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

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** The one reason a record is rejected before duplicates are looked at, or null when it is valid. */
const defectOf = (record: SpendRecord): SpendRejectionReason | null => {
  if (!record.wellFormed) return 'malformed_row';
  if ((record.channel ?? '').trim() === '') return 'missing_channel';
  if (!MONTH.test((record.month ?? '').trim())) return 'invalid_month';
  const text = (record.spend ?? '').trim();
  if (!DECIMAL.test(text) || !Number.isFinite(Number(text))) return 'invalid_spend';
  if (Number(text) < 0) return 'negative_spend';
  return null;
};

/**
 * Judges every record, in the order given (files in name order, then line order): malformed,
 * missing channel, invalid month, invalid spend, negative spend, then a repeat of a channel-month
 * (the last copy is kept, earlier ones are rejected as `duplicate_channel_month`). Channel names and
 * months are trimmed; channel names are otherwise kept as written (matched exactly against the
 * customers' acquisition channels). O(n).
 */
export const judgeSpend = (records: readonly SpendRecord[]): JudgedSpend => {
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
    const row: SpendRow = { channel: (record.channel as string).trim(), month: (record.month as string).trim(), spend: Number((record.spend as string).trim()) };
    const key = JSON.stringify([row.channel, row.month]);
    const earlier = lastCopy.get(key);
    if (earlier !== undefined) reject(earlier.record, 'duplicate_channel_month');
    lastCopy.set(key, { record, row });
  }
  return { rows: [...lastCopy.values()].map((c) => c.row), inputRows: records.length, rejectedByReason, rejectedExamples };
};
