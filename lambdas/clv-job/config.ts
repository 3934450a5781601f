import { DEFAULT_ACQUISITION_SETTINGS, type AcquisitionSettings } from './domain/acquisition/settings.js';
import { z } from 'zod';
import { DEFAULT_GATE_SETTINGS, type GateSettings } from './domain/quality-gates.js';
import { percentHint, shareSchema } from './schemas/share.js';
import { segmentSettingsSchema } from './schemas/summary-segments.js';
import { ORDER_COLUMNS } from './schemas/tables.js';

/**
 * Every option of a run, validated once at the edge (CLI flags, config file, Lambda environment).
 * Defaults follow SPEC: weeks, a 52-week horizon, 10% annual discount, margin 1, 3-year lifespan.
 */
export const isoDateSchema = z
  .string()
  // abort: "x" is not a date written YYYY-MM-DD, and saying it is no calendar date too repeats it
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date written YYYY-MM-DD', abort: true })
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
    // abort: a check added after (asOfDateSchema's) has no date to judge
  }, { error: 'is not a calendar date', abort: true });

/**
 * The latest as-of date a run accepts: tomorrow in UTC (`YYYY-MM-DD`), so a team in a time zone
 * ahead of UTC can run for its own today. A night dated later would stay the newest night in
 * `latest.json` until the calendar caught up, above every real night after it.
 * @param now the clock of the entry point (CLI or Lambda), never read here
 */
export const latestAsOf = (now: Date): string => new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10);

/** A given as-of date (`--as-of`, the Lambda's `runDate`): a calendar date, at most {@link latestAsOf}. */
export const asOfDateSchema = (now: Date) =>
  isoDateSchema.refine((s) => s <= latestAsOf(now), {
    error: (issue) => `${String(issue.input)} is in the future: the latest accepted is ${latestAsOf(now)} (today in UTC, plus a day for time zones ahead of it)`,
  });

export const timeUnitSchema = z.enum(['week', 'day']);
export type TimeUnit = z.infer<typeof timeUnitSchema>;

/** `model.transactions`: the transaction model, or `auto` to pick the one with the smaller holdout error. */
export const TRANSACTION_MODEL_OPTIONS = ['bgnbd', 'pnbd', 'auto'] as const;
export const transactionModelOptionSchema = z.enum(TRANSACTION_MODEL_OPTIONS);
export type TransactionModelOption = z.infer<typeof transactionModelOptionSchema>;


/** Fewer than 20 draws leave no 5th percentile worth reading; 0 turns the intervals off. */
const intervalDrawsRule = (issue: { readonly input: unknown }): string =>
  `is 0 (no intervals) or a whole number of draws from 20 to 10000 (got ${JSON.stringify(issue.input)})`;

/**
 * The longest prediction horizon in each unit: 100 years of 52 weeks. A span, not a count of units:
 * the discounting steps 7 days whatever the unit (DISCOUNT_STEP_DAYS), so the cap bounds the same work
 * in both, and a config file's horizon converted to another --time-unit stays within it.
 */
export const MAX_HORIZON = { week: 5_200, day: 36_400 } as const satisfies Record<TimeUnit, number>;

/** A `horizon` over {@link MAX_HORIZON}, told in the unit it was written in (`timeUnit`, weeks when left out). */
const horizonWithinCap = (o: { readonly timeUnit?: TimeUnit | undefined; readonly horizon?: number | undefined }, ctx: z.RefinementCtx): void => {
  const unit = o.timeUnit ?? 'week';
  if (o.horizon !== undefined && o.horizon > MAX_HORIZON[unit]) {
    ctx.addIssue({ code: 'custom', path: ['horizon'], input: o.horizon, message: `is at most ${MAX_HORIZON[unit]} ${unit}s, 100 years (got ${o.horizon} ${unit}s)` });
  }
};

const modelOptionsObject = z.strictObject({
  timeUnit: timeUnitSchema.default('week'),
  /** BG/NBD (the default), Pareto/NBD, or `auto`: both fitted, the smaller holdout error wins. */
  transactions: transactionModelOptionSchema.default('bgnbd'),
  /** Parameter draws behind the 90% intervals (predicted_clv_p05/p95 …); 0 turns the intervals off. */
  intervalDraws: z
    .number({ error: intervalDrawsRule })
    .refine((v) => v === 0 || (Number.isInteger(v) && v >= 20 && v <= 10_000), { error: intervalDrawsRule })
    .default(100),
  /**
   * Seed of those draws: the same seed and input give the same intervals, bit for bit. At most 65535:
   * parameterDraws derives two 32-bit streams as seed · 2^16 + stream, so larger seeds would repeat.
   */
  intervalSeed: z.number().int().min(0).max(65_535).default(1),
  /**
   * Threads the intervals run on (worker threads beside this one); the numbers do not depend on it.
   * Left out: the cores this process may use (os.availableParallelism(), a Lambda's vCPUs), at most 8.
   */
  threads: z.number().int('is a whole number of threads').min(1, 'is a number of threads, at least 1').max(64, 'is at most 64 threads').optional(),
  /** Prediction horizon, in `timeUnit`s; at most {@link MAX_HORIZON} in that unit. */
  horizon: z.number().positive().optional(),
  /** Annual discount rate as a share, e.g. 0.10 for 10% a year. */
  discountRate: z
    .number()
    .min(0)
    .max(1, { error: (issue) => `is a share per year: 0.10 means 10% a year (got ${String(issue.input)}${percentHint(issue.input)})` })
    .default(0.1),
  /** Share of revenue that is profit. */
  margin: z
    .number()
    .gt(0)
    .max(1, { error: (issue) => `is a share of revenue: 0.30 means 30% (got ${String(issue.input)}${percentHint(issue.input)})` })
    .default(1),
  /** Expected lifespan in years for historical CLV. */
  lifespanYears: z.number().positive().max(100).default(3),
});
export const modelOptionsSchema = modelOptionsObject.superRefine(horizonWithinCap);
export type ModelOptions = z.infer<typeof modelOptionsSchema> & { horizon: number };

/** The default horizon is one year: 52 weeks, or 364 days so both units cover the same span. */
export const resolveModelOptions = (input: z.input<typeof modelOptionsSchema>): ModelOptions => {
  const parsed = modelOptionsSchema.parse(input);
  return { ...parsed, horizon: parsed.horizon ?? (parsed.timeUnit === 'week' ? 52 : 364) };
};

/** Header names of the export, per logical column. */
/**
 * A number written as text (a flag, an environment variable): decimal, optionally signed, optionally
 * with an exponent (`1e3`), so a number out of range is told its range rather than "not a number".
 * `name` is the flag or variable the message names.
 */
export const numberText = (name: string) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?(\d+([.]\d*)?|[.]\d+)([eE][+-]?\d+)?$/, `${name} must be a number`)
    .transform(Number);

export const columnMappingSchema = z
  .strictObject(Object.fromEntries(ORDER_COLUMNS.map((c) => [c, z.string().min(1).optional()])) as Record<
    (typeof ORDER_COLUMNS)[number],
    z.ZodOptional<z.ZodString>
  >)
  .transform((m) => Object.fromEntries(ORDER_COLUMNS.map((c) => [c, m[c] ?? c])) as Record<(typeof ORDER_COLUMNS)[number], string>)
  // two columns read from one header would both take its values (e.g. order_id mapped to the
  // customer's header: every order a re-sent copy of the customer's first); compared as headers
  // are matched, trimmed and without case (matchHeader)
  .superRefine((mapping, ctx) => {
    const byHeader = new Map<string, (typeof ORDER_COLUMNS)[number][]>();
    for (const column of ORDER_COLUMNS) {
      const header = mapping[column].trim().toLowerCase();
      byHeader.set(header, [...(byHeader.get(header) ?? []), column]);
    }
    for (const columns of byHeader.values()) {
      if (columns.length < 2) continue;
      const named = columns.map((c) => `${c} ("${mapping[c]}")`).join(' and ');
      ctx.addIssue({ code: 'custom', message: `${named} would read the same header: each column needs a header of its own` });
    }
  });
export type ColumnMapping = z.output<typeof columnMappingSchema>;

/**
 * `gates` of the config file: the data-quality gates' thresholds (null turns a gate off; see
 * domain/quality-gates.ts for what each measures and README "Data-quality gates" for why each default).
 */
export const gatesConfigSchema = z.strictObject({
  maxRejectedShare: z.number().min(0).max(1).nullable().default(DEFAULT_GATE_SETTINGS.maxRejectedShare),
  minRowsForRejectedShare: z.number().int().min(0).default(DEFAULT_GATE_SETTINGS.minRowsForRejectedShare),
  minCustomersVsPrevious: shareSchema("a share of the previous run's customers").nullable().default(DEFAULT_GATE_SETTINGS.minCustomersVsPrevious),
  minRevenueVsPrevious: shareSchema("a share of the previous run's revenue").nullable().default(DEFAULT_GATE_SETTINGS.minRevenueVsPrevious),
  maxDaysLatestOrderBeforePrevious: z.number().int().min(0).nullable().default(DEFAULT_GATE_SETTINGS.maxDaysLatestOrderBeforePrevious),
  // null turns the gate off, as for the other gates: at least 0 accepted orders always passes
  minAcceptedOrders: z
    .number()
    .int()
    .min(0)
    .nullable()
    .default(DEFAULT_GATE_SETTINGS.minAcceptedOrders)
    .transform((v) => v ?? 0),
  earliestOrderDate: isoDateSchema.nullable().default(DEFAULT_GATE_SETTINGS.earliestOrderDate),
  maxDaysSinceLatestOrder: z.number().int().min(0).nullable().default(DEFAULT_GATE_SETTINGS.maxDaysSinceLatestOrder),
  /** Publish even when a gate fails, as `--accept-failed-gates` does. */
  acceptFailedGates: z.boolean().default(false),
}) satisfies z.ZodType<GateSettings & { acceptFailedGates: boolean }>;

/** The gates' thresholds alone: what a deployment fixes (the Lambda environment, the CDK props); accepting failed gates is a per-night decision. */
export const gateThresholdsSchema = gatesConfigSchema.omit({ acceptFailedGates: true }) satisfies z.ZodType<GateSettings>;

/**
 * The specifiers DuckDB's strptime takes (DuckDB 1.5 "Date Format Functions"; `%h` and `%T` it takes
 * too), `-` only before the numeric ones it has an unpadded form of. Checked here, at the edge, so a
 * typo in `csv.dateFormat` is a configuration error (exit 2), not a parse error in every export that
 * fails a local run and sends each dropped file to quarantine on AWS.
 */
const STRPTIME_SPECIFIER = /%(-[dmyHIMSj]|[aAbBcdfgGhHIjmMnpSTuUVwWxXyYzZ%])/g;
/**
 * Specifiers that carry a year: without one every date parses into 1900 and is rejected as implausible.
 * The ISO year `%G` is one only beside its week `%V` (alone, DuckDB's strptime ignores it).
 */
const STRPTIME_YEARS = new Set(['y', '-y', 'Y', 'c', 'x']);

/** Why `format` is not a strptime format of an order date, or null when it is. */
const dateFormatProblem = (format: string): string | null => {
  const unknown = format.replace(STRPTIME_SPECIFIER, '').match(/%.?/);
  if (unknown !== null) return `csv.dateFormat: "${unknown[0]}" is not a strptime specifier (e.g. "%d.%m.%Y", "%m/%d/%Y")`;
  // read in order, so that `%%Y` is a literal percent sign and a Y, not a year
  const specifiers = new Set(Array.from(format.matchAll(STRPTIME_SPECIFIER), (m) => m[1]!));
  const year = [...specifiers].some((s) => STRPTIME_YEARS.has(s)) || (specifiers.has('G') && specifiers.has('V'));
  if (!year) return 'csv.dateFormat has no year (%Y, %y): every date would fall in 1900';
  return null;
};

/**
 * How an export is written: the config file's `csv` section. Formats are configured, never guessed,
 * so `15.03.2025;1.234,56` reads the same way every night.
 */
export const csvOptionsSchema = z
  .strictObject({
    /**
     * One character between fields, one byte in UTF-8 (the reader frames records byte by byte): an ASCII
     * character other than a quote, a carriage return or a line feed. @default `,`
     */
    delimiter: z
      .string()
      .length(1, 'csv.delimiter must be one character')
      // judged once it is one character (a word is told by the length check alone)
      .refine((d) => d.length !== 1 || (d.charCodeAt(0) < 0x80 && !['"', '\r', '\n'].includes(d)), {
        error: (issue) => `csv.delimiter must be an ASCII character other than a quote, a carriage return or a line feed (got ${JSON.stringify(issue.input)})`,
      })
      .default(','),
    /**
     * A strptime format of the order date (DuckDB's, e.g. `%d.%m.%Y`, `%m/%d/%Y %H:%M`).
     * @default ISO 8601: `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]]` and a zone (the date is taken as written)
     */
    dateFormat: z
      .string()
      .min(2)
      .superRefine((format, ctx) => {
        const problem = dateFormatProblem(format);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    /** @default `.` */
    decimalSeparator: z.string().length(1, 'csv.decimalSeparator must be one character').default('.'),
    /** Groups of three digits before the decimal separator, e.g. `.` in `1.234,56`. @default none */
    thousandsSeparator: z.string().length(1, 'csv.thousandsSeparator must be one character').optional(),
  })
  .refine((c) => c.decimalSeparator !== c.thousandsSeparator, 'csv.decimalSeparator and csv.thousandsSeparator must differ')
  // a number separator may be the delimiter: an RFC 4180 export quotes such amounts ("1,250.00" in a
  // comma-separated export from a US spreadsheet), and one left unquoted has a field too many, a malformed row
  .refine((c) => c.delimiter !== '"' && c.delimiter !== '\n' && c.delimiter !== '\r', 'csv.delimiter cannot be a quote or a line break');
export type CsvOptions = z.output<typeof csvOptionsSchema>;

/** What counts as a plausible row: the config file's `validation` section. */
export const validationSchema = z.strictObject({
  /**
   * Orders dated before this day are rejected as `implausible_order_date` (placeholders like 1900-01-01,
   * and 1970-01-01 itself: the Unix epoch, the day a timestamp of 0 or a NULL cast to a date gives,
   * the commonest placeholder of all). @default 1970-01-02
   */
  minOrderDate: isoDateSchema.default('1970-01-02'),
  /**
   * Amounts whose absolute value is above this are rejected as `invalid_amount`. At most 1e18: money is
   * summed as DECIMAL(38, 6) (|x| < 1e32; sql/purchase-days.sql), so every sum the SQL takes (a day's,
   * a customer's, a channel-cohort-month's, and their differences) stays within it for fewer than 1e14
   * orders at the bound, more rows than any export holds. (1e30 let ~100 orders overflow a customer's sum
   * and fail the night.) @default 1,000,000,000
   */
  maxAmount: z
    .number()
    .positive()
    .max(1e18, { error: (issue) => `is at most 1e18 (got ${JSON.stringify(issue.input)}), so that sums of fewer than 1e14 orders stay within DECIMAL(38, 6)` })
    .default(1e9),
});
export type ValidationOptions = z.output<typeof validationSchema>;

/** Header names of extra order-key columns (e.g. a store), so two sources' order numbers stay apart. */
export const orderKeySchema = z
  .array(z.string().min(1))
  .max(8)
  .refine((keys) => new Set(keys).size === keys.length, { error: (issue) => `names a column more than once (got ${JSON.stringify(issue.input)})` });

const relative = z.number().min(0).max(1);

/**
 * The `acquisition` block: the LTV:CAC line and the channel diagnostics' thresholds, each field
 * optional and merged over DEFAULT_ACQUISITION_SETTINGS (see domain/acquisition/settings.ts).
 */
export const acquisitionSettingsSchema = z
  .strictObject({
    ltvToCacLine: z.number().positive().optional(),
    trendShift: z
      .strictObject({ recentCohorts: z.number().int().min(1).max(24).optional(), ageMonths: z.number().int().min(1).max(36).optional(), drop: relative.optional() })
      .optional(),
    conversionGap: z.strictObject({ firstOrderValueAbove: z.number().min(0).optional(), repeatRateBelow: relative.optional() }).optional(),
    audienceMismatch: z.strictObject({ averageOrderValueBelow: relative.optional(), repeatRateBelow: relative.optional() }).optional(),
    minCustomers: z.number().int().nonnegative().optional(),
  })
  .transform((o): AcquisitionSettings => {
    const d = DEFAULT_ACQUISITION_SETTINGS;
    const given = <T extends object>(x: T | undefined): Partial<T> => Object.fromEntries(Object.entries(x ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
    return {
      ltvToCacLine: o.ltvToCacLine ?? d.ltvToCacLine,
      trendShift: { ...d.trendShift, ...given(o.trendShift) },
      conversionGap: { ...d.conversionGap, ...given(o.conversionGap) },
      audienceMismatch: { ...d.audienceMismatch, ...given(o.audienceMismatch) },
      minCustomers: o.minCustomers ?? d.minCustomers,
    };
  });

/** The config file (`--config`): JSON. Flags given on the command line win over it. */
export const configFileSchema = z.strictObject({
  model: modelOptionsObject.partial().superRefine(horizonWithinCap).optional(),
  columns: columnMappingSchema.optional(),
  /** Extra order-key columns (header names), e.g. `["store"]`: order numbers are unique per store. */
  orderKey: orderKeySchema.optional(),
  /** How the exports are written: delimiter, date format, decimal and thousands separators. */
  csv: csvOptionsSchema.optional(),
  /** Plausibility bounds: the earliest order date, the largest amount. */
  validation: validationSchema.optional(),
  /** Status values (case-insensitive) that do not count as purchases; trimmed, as the exports' statuses are. */
  nonPurchaseStatuses: z.array(z.string().trim().min(1)).min(1).optional(),
  /** Carry a backtest in every nightly summary: fit on all but the last `holdoutDays` and compare. */
  backtest: z.strictObject({ holdoutDays: z.number().int().min(7).max(3650) }).optional(),
  /** Tier cut points, value x loyalty and RFM options, warning thresholds, recommended actions. */
  segments: segmentSettingsSchema.optional(),
  gates: gatesConfigSchema.optional(),
  /** The marketing-spend input (CSV of channel, month YYYY-MM, spend): a file or folder, relative to the current directory; `--spend` wins. */
  spend: z.strictObject({ path: z.string().min(1) }).optional(),
  /** LTV:CAC line and channel-diagnostic thresholds. */
  acquisition: acquisitionSettingsSchema.optional(),
  /** Days a replaced version of a night is kept for `clv rollback` (default 30). */
  publish: z.strictObject({ keepPreviousDays: z.number().int().min(0).max(3650) }).optional(),
});
export type ConfigFile = z.infer<typeof configFileSchema>;

export const DEFAULT_NON_PURCHASE_STATUSES = ['cancelled', 'canceled', 'refunded', 'returned', 'void'] as const;
