import type { ConflictingDuplicate } from '../schemas/summary-run.js';
import { z } from 'zod';
import type { AcquisitionMonth } from '../domain/acquisition/economics.js';
import type { CustomerTable } from '../domain/customers.js';
import { NEW_SINCE, type PreviousSegments } from '../domain/segments/movers.js';
import { RFM_SEGMENTS } from '../domain/segments/rfm.js';
import { TIER_ORDER } from '../domain/segments/tiers.js';
import { OUTCOMES, REJECTION_REASONS } from '../domain/outcomes.js';
import { EngineError } from '../errors.js';
import { PREVIOUS_SEGMENT_CODES, type QueryName } from '../sql/index.js';
import type { NumberColumnKind, ResultColumns } from '../ports.js';

/**
 * Turns the engines' result columns into the pipeline's types, checking every value on the way.
 * Both engines go through here: DuckDB hands back numbers, Athena strings (every value of its
 * result CSV is text, and an empty field is NULL), so each reader accepts either and checks the value.
 */
type Reader<T> = (value: unknown) => T | undefined;

const asNumber = (value: unknown): number | undefined => {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return undefined;
};
const int: Reader<number> = (value) => {
  const n = asNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
};
const finite: Reader<number> = (value) => {
  const n = asNumber(value);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
};
const text: Reader<string> = (value) => (typeof value === 'string' ? value : undefined);
const nullableText: Reader<string | null> = (value) => (value === null || value === '' ? null : text(value));

const column = (result: ResultColumns, name: string): ArrayLike<unknown> => {
  const values = result.columns[name];
  if (!values || values.length !== result.rowCount) {
    throw new EngineError(`query result lacks column ${name} (has: ${Object.keys(result.columns).join(', ')})`);
  }
  return values;
};

const readColumn = <T>(result: ResultColumns, name: string, read: Reader<T>, what: string): T[] => {
  const values = column(result, name);
  const out = new Array<T>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = read(values[i]);
    if (v === undefined) throw new EngineError(`query result column ${name}, row ${i + 1}: ${JSON.stringify(values[i])} is not ${what}`);
    out[i] = v;
  }
  return out;
};

/** An engine's Int32Array needs no check: every value is an integer. Anything else is read value by value. */
const intColumn = (result: ResultColumns, name: string): Int32Array => {
  const values = column(result, name);
  return values instanceof Int32Array ? values : Int32Array.from(readColumn(result, name, int, 'an integer'));
};

/** An engine's Float64Array is only checked for non-finite values; anything else is read value by value. */
const doubleColumn = (result: ResultColumns, name: string): Float64Array => {
  const values = column(result, name);
  if (!(values instanceof Float64Array)) return Float64Array.from(readColumn(result, name, finite, 'a finite number'));
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new EngineError(`query result column ${name}, row ${i + 1}: ${values[i]} is not a finite number`);
  }
  return values;
};

/**
 * The number columns of the results that grow with the customers (a row a customer, or a scoring
 * pattern), with their types as the SQL casts them (sql/customers.sql and the `customers` query of
 * sql/index.ts, bgnbd-patterns.sql, spend-patterns.sql; test/sql/result-number-columns.test.ts checks
 * the casts against this): the one statement of those types. The decoders below read each column as
 * its type says, and an engine that reads text (the Athena result CSV, adapters/athena-engine.ts) keeps
 * these columns in typed arrays, never as text. A column named here that holds something else is read
 * as text from its first such value.
 */
export const RESULT_NUMBER_COLUMNS = {
  customers: {
    first_order_day: 'int32',
    last_order_day: 'int32',
    orders: 'int32',
    frequency: 'int32',
    recency_days: 'int32',
    tenure_days: 'int32',
    total_revenue: 'float64',
    monetary_value: 'float64',
    avg_order_value: 'float64',
    previous_segments: 'int32',
  },
  bgnbdPatterns: { frequency: 'int32', recency_days: 'int32', tenure_days: 'int32', customers: 'int32' },
  spendPatterns: { frequency: 'int32', monetary_value: 'float64', customers: 'int32' },
} as const satisfies Partial<Record<QueryName, Readonly<Record<string, NumberColumnKind>>>>;

type NumberColumns = Readonly<Record<string, NumberColumnKind>>;
type ArrayOf<K extends NumberColumnKind> = K extends 'int32' ? Int32Array : Float64Array;

/** Column `name` of a result, read as the type `columns` gives it (one of RESULT_NUMBER_COLUMNS). */
const numberColumn = <C extends NumberColumns, N extends keyof C & string>(result: ResultColumns, columns: C, name: N): ArrayOf<C[N]> =>
  // the conditional type cannot be narrowed by the test on the kind: both branches are its cases
  (columns[name] === 'int32' ? intColumn(result, name) : doubleColumn(result, name)) as ArrayOf<C[N]>;

export const decodeCustomers = (result: ResultColumns): CustomerTable => {
  const number = <N extends keyof typeof RESULT_NUMBER_COLUMNS.customers>(name: N) => numberColumn(result, RESULT_NUMBER_COLUMNS.customers, name);
  const frequency = number('frequency');
  const customers: CustomerTable = {
    size: result.rowCount,
    customerId: readColumn(result, 'customer_id', text, 'a string'),
    firstOrderDay: number('first_order_day'),
    lastOrderDay: number('last_order_day'),
    acquisitionChannel: readColumn(result, 'acquisition_channel', nullableText, 'a string or null'),
    cohort: readColumn(result, 'cohort', text, 'a YYYY-MM string'),
    orders: number('orders'),
    frequency,
    recencyDays: number('recency_days'),
    tenureDays: number('tenure_days'),
    totalRevenue: number('total_revenue'),
    monetaryValue: number('monetary_value'),
    avgOrderValue: number('avg_order_value'),
  };
  for (let i = 0; i < customers.size; i++) {
    if (frequency[i]! < 0 || customers.recencyDays[i]! > customers.tenureDays[i]! || customers.recencyDays[i]! < 0) {
      throw new EngineError(`customer ${customers.customerId[i]}: inconsistent frequency / recency / tenure from the engine`);
    }
  }
  return customers;
};

/**
 * The previous run's customers per tier (query `previousTiers`), in TIER_ORDER, 0 for a tier it
 * had none in. Throws EngineError for a tier that is none of TIER_ORDER, for a customer in a tier
 * twice (the join would double tonight's row of them), or for RFM segments PREVIOUS_SEGMENT_CODES
 * cannot name (a previous run of another version): the run goes on without comparing customers
 * rather than lose their names.
 */
export const decodePreviousTiers = (result: ResultColumns): number[] => {
  const tiers = readColumn(result, 'clv_tier', text, 'a tier');
  const customers = intColumn(result, 'customers');
  const distinct = intColumn(result, 'distinct_customers');
  const unknown = intColumn(result, 'unknown_rfm_segments');
  const sizes = TIER_ORDER.map(() => 0);
  tiers.forEach((tier, row) => {
    const index = (TIER_ORDER as readonly string[]).indexOf(tier);
    if (index === -1) throw new EngineError(`the previous run's customers, row ${row + 1}: ${JSON.stringify(tier)} is not a tier (${TIER_ORDER.join(', ')})`);
    if (distinct[row] !== customers[row]) {
      throw new EngineError(`the previous run's customers: tier ${tier} has ${customers[row]} rows for ${distinct[row]} customers`);
    }
    if (unknown[row]! > 0) throw new EngineError(`the previous run's customers: ${unknown[row]} in tier ${tier} have an RFM segment none of ${RFM_SEGMENTS.join(', ')}`);
    sizes[index] = customers[row]!;
  });
  return sizes;
};

/**
 * What the previous run said of each of tonight's customers, from the `customers` query's
 * `previous_segments` (PREVIOUS_SEGMENT_CODES), index-aligned with decodeCustomers' rows, as one
 * byte per customer per scheme; with the previous run's tier sizes (decodePreviousTiers).
 * Throws EngineError for a code that names no tier or segment.
 */
export const decodePreviousSegments = (result: ResultColumns, tierSizes: readonly number[]): PreviousSegments => {
  const codes = numberColumn(result, RESULT_NUMBER_COLUMNS.customers, 'previous_segments');
  const { stride, noRfm, newSince } = PREVIOUS_SEGMENT_CODES;
  const tier = new Int8Array(codes.length);
  const rfmSegment = new Int8Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    const t = Math.floor(code / stride);
    const r = code - t * stride;
    if (code === newSince) {
      tier[i] = NEW_SINCE;
      rfmSegment[i] = -1;
    } else if (t >= 0 && t < TIER_ORDER.length && (r === noRfm || r < RFM_SEGMENTS.length)) {
      tier[i] = t;
      rfmSegment[i] = r === noRfm ? -1 : r;
    } else {
      throw new EngineError(`query result column previous_segments, row ${i + 1}: ${code} names no previous tier and RFM segment`);
    }
  }
  return { tier, rfmSegment, rfmNames: RFM_SEGMENTS, tierSizes };
};

/** Distinct (frequency, recency, tenure) patterns in days, with their customer counts. */
export interface BgNbdPatterns {
  readonly frequency: Float64Array;
  readonly recencyDays: Float64Array;
  readonly tenureDays: Float64Array;
  readonly customers: Float64Array;
}

export const decodeBgNbdPatterns = (result: ResultColumns): BgNbdPatterns => {
  const number = (name: keyof typeof RESULT_NUMBER_COLUMNS.bgnbdPatterns) => Float64Array.from(numberColumn(result, RESULT_NUMBER_COLUMNS.bgnbdPatterns, name));
  return { frequency: number('frequency'), recencyDays: number('recency_days'), tenureDays: number('tenure_days'), customers: number('customers') };
};

/** Repeat buyers' distinct (frequency, monetary value), with their customer counts. */
export interface SpendPatterns {
  readonly frequency: Float64Array;
  readonly monetaryValue: Float64Array;
  readonly customers: Float64Array;
}

export const decodeSpendPatterns = (result: ResultColumns): SpendPatterns => {
  const number = <N extends keyof typeof RESULT_NUMBER_COLUMNS.spendPatterns>(name: N) => numberColumn(result, RESULT_NUMBER_COLUMNS.spendPatterns, name);
  return { frequency: Float64Array.from(number('frequency')), monetaryValue: number('monetary_value'), customers: Float64Array.from(number('customers')) };
};

/** Revenue by acquisition channel x month x month of age (`sql/acquisition-months.sql`). */
export const decodeAcquisitionMonths = (result: ResultColumns): AcquisitionMonth[] => {
  const channel = readColumn(result, 'acquisition_channel', nullableText, 'a string or null');
  const cohort = readColumn(result, 'cohort', text, 'a YYYY-MM string');
  const ageMonth = intColumn(result, 'age_month');
  const revenue = doubleColumn(result, 'revenue');
  const firstRepeats = intColumn(result, 'first_repeats');
  const firstDayRevenue = doubleColumn(result, 'first_day_revenue');
  return Array.from({ length: result.rowCount }, (_, i) => {
    if (ageMonth[i]! < 0) throw new EngineError(`revenue by age, row ${i + 1}: negative month of age ${ageMonth[i]}`);
    return { channel: channel[i]!, cohort: cohort[i]!, ageMonth: ageMonth[i]!, revenue: revenue[i]!, firstRepeats: firstRepeats[i]!, firstDayRevenue: firstDayRevenue[i]! };
  });
};

/** One row of the outcome counts: small, so each row goes through zod. */
const outcomeCountRow = z.object({
  outcome: z.enum(OUTCOMES),
  reason: z.enum(REJECTION_REASONS).nullable(),
  row_count: z.coerce.number().int().nonnegative(),
  /** How many of the rows are conflicting duplicates (a repeat whose customer, date or amount differs). */
  conflicting: z.coerce.number().int().nonnegative(),
  /** How many of the rows are dated after the as-of date (all of `order_date_after_as_of`'s; some rejected for another reason). */
  dated_after_as_of: z.coerce.number().int().nonnegative(),
  /** How many of the rows are dated after the latest date a run may be as of (SqlParameters.latestAsOf): in the future. */
  dated_in_future: z.coerce.number().int().nonnegative(),
});
export type OutcomeCountRow = z.infer<typeof outcomeCountRow>;

const rows = (result: ResultColumns): Record<string, unknown>[] =>
  Array.from({ length: result.rowCount }, (_, i) =>
    Object.fromEntries(Object.entries(result.columns).map(([name, values]) => [name, values[i] === '' ? null : values[i]])),
  );

export const decodeOutcomeCounts = (result: ResultColumns): OutcomeCountRow[] =>
  rows(result).map((row, i) => {
    const parsed = outcomeCountRow.safeParse(row);
    if (!parsed.success) throw new EngineError(`outcome count row ${i + 1} is malformed: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  });

export const decodeLatestOrderDate = (result: ResultColumns): string | null => {
  const value = result.rowCount === 0 ? null : (column(result, 'latest_order_date')[0] ?? null);
  const parsed = z.union([z.null(), z.literal('').transform(() => null), z.string().regex(/^\d{4}-\d{2}-\d{2}$/)]).safeParse(value);
  if (!parsed.success) throw new EngineError(`latest order date ${JSON.stringify(value)} is not YYYY-MM-DD`);
  return parsed.data;
};

/** Rejected rows keep their raw text; only the bookkeeping columns are checked. */
export interface RejectedRows {
  readonly rowCount: number;
  readonly columns: Readonly<Record<string, readonly (string | number | null)[]>>;
}

export const decodeRejectedRows = (result: ResultColumns, names: readonly string[]): RejectedRows => {
  const columns: Record<string, (string | number | null)[]> = {};
  for (const name of names) {
    columns[name] =
      name === 'source_row'
        ? readColumn(result, name, (v) => (v === null || v === '' ? null : int(v)), 'an integer or null')
        : readColumn(result, name, nullableText, 'a string or null');
  }
  const reasons = columns.reason ?? [];
  reasons.forEach((reason, i) => {
    if (!REJECTION_REASONS.includes(reason as (typeof REJECTION_REASONS)[number])) {
      throw new EngineError(`rejected row ${i + 1} has unknown reason ${JSON.stringify(reason)}`);
    }
  });
  return { rowCount: result.rowCount, columns };
};

const conflictingDuplicateRow = z.object({
  order_id: z.string(),
  order_key_extra: z.string().nullable(),
  source_file: z.string(),
  source_line: z.coerce.number().int().positive(),
  customer_id: z.string(),
  order_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  amount: z.coerce.number().finite(),
  kept_source_file: z.string(),
  kept_source_line: z.coerce.number().int().positive(),
  kept_customer_id: z.string(),
  kept_order_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  kept_amount: z.coerce.number().finite(),
});

/** The conflicting duplicates' examples, as the summary shows them: the repeat beside the copy kept. */
export const decodeConflictingDuplicates = (result: ResultColumns): ConflictingDuplicate[] =>
  rows(result).map((row, i) => {
    const parsed = conflictingDuplicateRow.safeParse(row);
    if (!parsed.success) throw new EngineError(`conflicting duplicate row ${i + 1} is malformed: ${z.prettifyError(parsed.error)}`);
    const r = parsed.data;
    return {
      order_id: r.order_id,
      order_key: r.order_key_extra,
      repeat: { source_file: r.source_file, source_line: r.source_line, customer_id: r.customer_id, order_date: r.order_date, amount: r.amount },
      kept: { source_file: r.kept_source_file, source_line: r.kept_source_line, customer_id: r.kept_customer_id, order_date: r.kept_order_date, amount: r.kept_amount },
    };
  });
