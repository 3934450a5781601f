import { z } from 'zod';
import { gateThresholdsSchema, modelOptionsSchema, numberText, resolveModelOptions, timeUnitSchema, TRANSACTION_MODEL_OPTIONS, type ModelOptions } from './config.js';
import type { GateSettings } from './domain/quality-gates.js';
import { ConfigurationError } from './errors.js';
import { LAMBDA_ENV } from './lambda-contract.js';
import { DEFAULT_KEEP_PREVIOUS_DAYS } from './adapters/versioned-publisher.js';

/**
 * The Lambda's settings, read from its environment once, at cold start (the CDK stack sets every
 * variable of LAMBDA_ENV). A missing or bad variable fails the cold start with one message that
 * names every problem, so a broken deployment is fixed in one go.
 */
export interface LambdaSettings {
  readonly bucket: string;
  /** Drop prefix of the order exports, ending with `/`. */
  readonly inputPrefix: string;
  /** Prefix of the canonical Parquet copies the orders table reads, ending with `/`. */
  readonly ingestedPrefix: string;
  /** Prefix of the quarantined exports, ending with `/`: listed in the summary's warnings. */
  readonly quarantinePrefix: string;
  /** Output prefix, ending with `/`. */
  readonly outputPrefix: string;
  readonly athena: { readonly database: string; readonly table: string; readonly workgroup: string };
  readonly model: ModelOptions;
  /** A run lock older than this is taken over. */
  readonly lockTtlSeconds: number;
  /** Days a replaced version of a night is kept for rollback. */
  readonly keepPreviousDays: number;
  /** The data-quality gates' thresholds (config `gates` without `acceptFailedGates`, which an event sets per night). */
  readonly gates: GateSettings;
  /** Prefix of the marketing-spend CSVs, ending with `/`; null without a spend input. */
  readonly spendPrefix: string | null;
}

/** The lock's time-to-live when CLV_LOCK_TTL_SECONDS is unset: Lambda's longest run, 15 minutes. */
export const DEFAULT_LOCK_TTL_SECONDS = 900;

export const missing = (name: string) => (issue: { input: unknown }) => (issue.input === undefined ? `${name} is missing` : undefined);

/** Unset and empty are the same for optional variables: the default applies. */
export const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

// `abort`: an empty value is reported as empty, not also as malformed
export const required = (name: string) => z.string({ error: missing(name) }).trim().min(1, { error: `${name} is empty`, abort: true });

/** A key prefix: no leading slash, ending with one. */
export const prefix = (name: string) =>
  required(name)
    .refine((p) => !p.startsWith('/'), `${name} must not start with "/" (S3 keys have no leading slash)`)
    .transform((p) => p.replace(/\/*$/, '/'));

/** Glue and Athena names: letters, digits, `_`, `-` (Athena quotes identifiers, so no injection either way). */
export const catalogName = (name: string) => required(name).regex(/^[A-Za-z0-9_-]{1,128}$/, `${name} must be 1-128 letters, digits, "_" or "-"`);

const OFF = /^off$/i;

/** A gate threshold that is a number as numberText reads one (so `1e3` too), or `off` (any case, read as null: the gate is off). */
const gateNumber = (name: string) => {
  const number = numberText(name);
  return z
    .string()
    .trim()
    .refine((v) => OFF.test(v) || number.safeParse(v).success, `${name} must be a number or off`)
    .transform((v) => (OFF.test(v) ? null : number.parse(v)));
};

/** A gate's date, or `off`; the gates schema checks the date itself. */
const gateDate = z
  .string()
  .trim()
  .transform((v) => (OFF.test(v) ? null : v));

export const bucketName = (name: string) =>
  required(name).regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, `${name} must be an S3 bucket name (3-63 lower-case letters, digits, "." or "-")`);

/** One issue per pair of the named prefixes where one contains the other. */
export const nestedPrefixIssues = (prefixes: Readonly<Record<string, string | undefined>>): string[] => {
  const named = Object.entries(prefixes).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return named.flatMap(([a, pa], i) =>
    named
      .slice(i + 1)
      .filter(([, pb]) => pa.startsWith(pb) || pb.startsWith(pa))
      .map(([b, pb]) => `${a} (${pa}) and ${b} (${pb}) must not contain one another`),
  );
};

const envSchema = z
  .object({
    [LAMBDA_ENV.bucket]: bucketName(LAMBDA_ENV.bucket),
    [LAMBDA_ENV.inputPrefix]: prefix(LAMBDA_ENV.inputPrefix),
    [LAMBDA_ENV.ingestedPrefix]: prefix(LAMBDA_ENV.ingestedPrefix),
    [LAMBDA_ENV.quarantinePrefix]: prefix(LAMBDA_ENV.quarantinePrefix),
    [LAMBDA_ENV.outputPrefix]: prefix(LAMBDA_ENV.outputPrefix),
    [LAMBDA_ENV.athenaDatabase]: catalogName(LAMBDA_ENV.athenaDatabase),
    [LAMBDA_ENV.athenaTable]: catalogName(LAMBDA_ENV.athenaTable),
    [LAMBDA_ENV.athenaWorkgroup]: catalogName(LAMBDA_ENV.athenaWorkgroup),
    [LAMBDA_ENV.timeUnit]: optional(z.enum(timeUnitSchema.options, { error: `${LAMBDA_ENV.timeUnit} must be week or day` })),
    [LAMBDA_ENV.transactions]: optional(z.enum(TRANSACTION_MODEL_OPTIONS, { error: `${LAMBDA_ENV.transactions} must be bgnbd, pnbd or auto` })),
    [LAMBDA_ENV.horizon]: optional(numberText(LAMBDA_ENV.horizon)),
    [LAMBDA_ENV.discountRate]: optional(numberText(LAMBDA_ENV.discountRate)),
    [LAMBDA_ENV.margin]: optional(numberText(LAMBDA_ENV.margin)),
    [LAMBDA_ENV.lifespanYears]: optional(numberText(LAMBDA_ENV.lifespanYears)),
    [LAMBDA_ENV.intervalDraws]: optional(numberText(LAMBDA_ENV.intervalDraws)),
    [LAMBDA_ENV.intervalSeed]: optional(numberText(LAMBDA_ENV.intervalSeed)),
    [LAMBDA_ENV.lockTtlSeconds]: optional(
      z
        .string()
        .trim()
        .regex(/^\d+$/, `${LAMBDA_ENV.lockTtlSeconds} must be a whole number of seconds`)
        .transform(Number)
        .refine((n) => n >= 60 && n <= 86_400, `${LAMBDA_ENV.lockTtlSeconds} must be from 60 to 86400 seconds`),
    ),
    [LAMBDA_ENV.keepPreviousDays]: optional(
      z
        .string()
        .trim()
        .regex(/^\d+$/, `${LAMBDA_ENV.keepPreviousDays} must be a whole number of days`)
        .transform(Number)
        .refine((n) => n <= 3650, `${LAMBDA_ENV.keepPreviousDays} must be at most 3650 days`),
    ),
    [LAMBDA_ENV.gateMaxRejectedShare]: optional(gateNumber(LAMBDA_ENV.gateMaxRejectedShare)),
    [LAMBDA_ENV.gateMinRowsForRejectedShare]: optional(numberText(LAMBDA_ENV.gateMinRowsForRejectedShare)),
    [LAMBDA_ENV.gateMinCustomersVsPrevious]: optional(gateNumber(LAMBDA_ENV.gateMinCustomersVsPrevious)),
    [LAMBDA_ENV.gateMinRevenueVsPrevious]: optional(gateNumber(LAMBDA_ENV.gateMinRevenueVsPrevious)),
    [LAMBDA_ENV.gateMaxDaysLatestOrderBeforePrevious]: optional(gateNumber(LAMBDA_ENV.gateMaxDaysLatestOrderBeforePrevious)),
    [LAMBDA_ENV.gateMinAcceptedOrders]: optional(numberText(LAMBDA_ENV.gateMinAcceptedOrders)),
    [LAMBDA_ENV.gateEarliestOrderDate]: optional(gateDate),
    [LAMBDA_ENV.gateMaxDaysSinceLatestOrder]: optional(gateNumber(LAMBDA_ENV.gateMaxDaysSinceLatestOrder)),
    [LAMBDA_ENV.spendPrefix]: optional(prefix(LAMBDA_ENV.spendPrefix)),
  })
  .superRefine((env, ctx) => {
    // the orders table would read the job's own output, or ingest would read its own copies
    const issues = nestedPrefixIssues({
      [LAMBDA_ENV.inputPrefix]: env[LAMBDA_ENV.inputPrefix],
      [LAMBDA_ENV.ingestedPrefix]: env[LAMBDA_ENV.ingestedPrefix],
      [LAMBDA_ENV.quarantinePrefix]: env[LAMBDA_ENV.quarantinePrefix],
      [LAMBDA_ENV.outputPrefix]: env[LAMBDA_ENV.outputPrefix],
      // spend files under the drop prefix would be ingested as orders
      [LAMBDA_ENV.spendPrefix]: env[LAMBDA_ENV.spendPrefix],
    });
    for (const message of issues) ctx.addIssue({ code: 'custom', message });
  });

/** Model option -> its variable, so the model schema's own range checks name the variable. */
const MODEL_VARIABLES = {
  timeUnit: LAMBDA_ENV.timeUnit,
  transactions: LAMBDA_ENV.transactions,
  horizon: LAMBDA_ENV.horizon,
  discountRate: LAMBDA_ENV.discountRate,
  margin: LAMBDA_ENV.margin,
  lifespanYears: LAMBDA_ENV.lifespanYears,
  intervalDraws: LAMBDA_ENV.intervalDraws,
  intervalSeed: LAMBDA_ENV.intervalSeed,
} as const;

/** Gate threshold -> its variable, so the gates schema's own range checks name the variable. */
const GATE_VARIABLES = {
  maxRejectedShare: LAMBDA_ENV.gateMaxRejectedShare,
  minRowsForRejectedShare: LAMBDA_ENV.gateMinRowsForRejectedShare,
  minCustomersVsPrevious: LAMBDA_ENV.gateMinCustomersVsPrevious,
  minRevenueVsPrevious: LAMBDA_ENV.gateMinRevenueVsPrevious,
  maxDaysLatestOrderBeforePrevious: LAMBDA_ENV.gateMaxDaysLatestOrderBeforePrevious,
  minAcceptedOrders: LAMBDA_ENV.gateMinAcceptedOrders,
  earliestOrderDate: LAMBDA_ENV.gateEarliestOrderDate,
  maxDaysSinceLatestOrder: LAMBDA_ENV.gateMaxDaysSinceLatestOrder,
} as const satisfies Record<keyof GateSettings, string>;

/**
 * Options of a schema of the job's own (model options, gates) from the variables that parsed as
 * text, checked by that schema: its issues are returned with the variable's name and value.
 */
const checkedOptions = <T extends z.ZodType>(
  schema: T,
  variables: Readonly<Record<string, keyof typeof envSchema.shape>>,
  env: Readonly<Record<string, string | undefined>>,
): { readonly input: Record<string, unknown>; readonly result: z.ZodSafeParseResult<z.output<T>>; readonly problems: string[] } => {
  // variables that failed as text are left out, so each problem is reported once
  const input: Record<string, unknown> = {};
  for (const [option, variable] of Object.entries(variables)) {
    const value = envSchema.shape[variable].safeParse(env[variable]);
    if (value.success && value.data !== undefined) input[option] = value.data;
  }
  const result = schema.safeParse(input);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const variable = variables[String(issue.path[0])] ?? String(issue.path[0]);
        return `${variable}: ${issue.message} (got ${JSON.stringify(env[variable])})`;
      });
  return { input, result, problems };
};

export const issueText = (issue: z.core.$ZodIssue): string => {
  const [key] = issue.path;
  // messages of this module start with the variable's name already
  return typeof key === 'string' && !issue.message.startsWith(key) ? `${key}: ${issue.message}` : issue.message;
};

/**
 * The settings from an environment (default: this process's). Throws one ConfigurationError that
 * lists every missing or bad variable; model and gate ranges are their schemas' own (the CLI's
 * config checks the same), checked for every variable that is at least a number (or `off`).
 */
export const loadLambdaSettings = (env: Readonly<Record<string, string | undefined>> = process.env): LambdaSettings => {
  const problems: string[] = [];
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) problems.push(...parsed.error.issues.map(issueText));

  const model = checkedOptions(modelOptionsSchema, MODEL_VARIABLES, env);
  const gates = checkedOptions(gateThresholdsSchema, GATE_VARIABLES, env);
  problems.push(...model.problems, ...gates.problems);

  if (problems.length > 0 || !parsed.success || !model.result.success || !gates.result.success) {
    throw new ConfigurationError(`the Lambda environment is not usable: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    bucket: e[LAMBDA_ENV.bucket],
    inputPrefix: e[LAMBDA_ENV.inputPrefix],
    ingestedPrefix: e[LAMBDA_ENV.ingestedPrefix],
    quarantinePrefix: e[LAMBDA_ENV.quarantinePrefix],
    outputPrefix: e[LAMBDA_ENV.outputPrefix],
    athena: { database: e[LAMBDA_ENV.athenaDatabase], table: e[LAMBDA_ENV.athenaTable], workgroup: e[LAMBDA_ENV.athenaWorkgroup] },
    model: resolveModelOptions(model.input),
    lockTtlSeconds: e[LAMBDA_ENV.lockTtlSeconds] ?? DEFAULT_LOCK_TTL_SECONDS,
    keepPreviousDays: e[LAMBDA_ENV.keepPreviousDays] ?? DEFAULT_KEEP_PREVIOUS_DAYS,
    gates: gates.result.data,
    spendPrefix: e[LAMBDA_ENV.spendPrefix] ?? null,
  };
};
