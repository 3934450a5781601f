import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  asOfDateSchema,
  configFileSchema,
  gatesConfigSchema,
  isoDateSchema,
  numberText,
  resolveModelOptions,
  timeUnitSchema,
  transactionModelOptionSchema,
  type ConfigFile,
} from './config.js';
import { DAYS_PER_UNIT } from './domain/models/clv.js';
import type { GateSettings } from './domain/quality-gates.js';
import { ingestConfigSchema, type IngestConfig } from './ingest/ingest-config.js';
import { ConfigurationError } from './errors.js';
import type { BacktestRequest } from './pipeline/backtest.js';
import type { RunConfig } from './pipeline/run.js';
import { buildRunConfig } from './run-config.js';
import { DEFAULT_KEEP_PREVIOUS_DAYS } from './adapters/versioned-publisher.js';

/** A number flag: commander hands over text, and "abc" must say which flag is wrong. */
const numberFlag = (flag: string) => numberText(flag).optional();

const keepPreviousDaysFlag = numberFlag('--keep-previous-days').pipe(z.number().int('--keep-previous-days must be a whole number of days').min(0).max(3650).optional());

const INPUT_REQUIRED = '--input is required (a file or folder; repeat it for several)';
const inputSchema = z.array(z.string().min(1)).min(1, INPUT_REQUIRED);

const outputSchema = z.string({ error: '--output is required (a folder)' }).min(1);

/** `clv run`'s flags; `now` is the clock that bounds `--as-of` (asOfDateSchema). */
export const runFlagsSchema = (now: Date) =>
  z
    .object({
      input: inputSchema.optional(),
      output: outputSchema,
      engine: z.enum(['duckdb', 'trino']).default('duckdb'),
      trinoUrl: z.url({ protocol: /^https?$/, error: '--trino-url must be an http:// or https:// URL' }).optional(),
      trinoCatalog: z.string().trim().min(1).optional(),
      trinoSchema: z.string().trim().min(1).optional(),
      asOf: asOfDateSchema(now).optional(),
      config: z.string().min(1).optional(),
      timeUnit: timeUnitSchema.optional(),
      transactions: transactionModelOptionSchema.optional(),
      horizon: numberFlag('--horizon'),
      discountRate: numberFlag('--discount-rate'),
      margin: numberFlag('--margin'),
      lifespanYears: numberFlag('--lifespan-years'),
      threads: numberFlag('--threads'),
      keepPreviousDays: keepPreviousDaysFlag,
      acceptFailedGates: z.boolean().optional(),
      skipBadFiles: z.boolean().optional(),
      spend: z.string().min(1, '--spend needs a file or folder').optional(),
    })
    .superRefine((f, ctx) => {
      const trinoFlags = { '--trino-url': f.trinoUrl, '--trino-catalog': f.trinoCatalog, '--trino-schema': f.trinoSchema };
      if (f.engine === 'duckdb') {
        if (f.input === undefined) ctx.addIssue({ code: 'custom', message: INPUT_REQUIRED });
        const given = Object.entries(trinoFlags).filter(([, v]) => v !== undefined).map(([flag]) => flag);
        if (given.length > 0) ctx.addIssue({ code: 'custom', message: `${given.join(', ')} need --engine trino` });
      } else {
        const missing = Object.entries(trinoFlags).filter(([, v]) => v === undefined).map(([flag]) => flag);
        if (missing.length > 0) ctx.addIssue({ code: 'custom', message: `--engine trino needs ${missing.join(', ')}` });
        if (f.input !== undefined) ctx.addIssue({ code: 'custom', message: '--engine trino reads the orders table of --trino-catalog.--trino-schema, not --input files' });
      }
    });
export type RunFlags = z.input<ReturnType<typeof runFlagsSchema>>;

/** Where a run's orders come from: local exports ingested and read by DuckDB, or the canonical orders table of a team's own Trino. */
export type EngineChoice =
  | { readonly kind: 'duckdb' }
  | { readonly kind: 'trino'; readonly url: string; readonly catalog: string; readonly schema: string };

/** `clv recover` and `clv rollback`: the output folder, and the night to roll back. */
export const publishFlagsSchema = z.object({
  output: outputSchema,
  runDate: isoDateSchema.optional(),
  keepPreviousDays: keepPreviousDaysFlag,
});
export type PublishFlags = z.input<typeof publishFlagsSchema>;

/** The flags of `clv recover` and `clv rollback`, validated; every problem at once. */
export const resolvePublishFlags = (flags: PublishFlags): z.output<typeof publishFlagsSchema> => {
  const parsed = publishFlagsSchema.safeParse(flags);
  if (!parsed.success) throw new ConfigurationError(flagProblems(parsed.error));
  return parsed.data;
};

export const backtestFlagsSchema = z.object({
  input: inputSchema,
  calibrationEnd: isoDateSchema,
  holdoutEnd: isoDateSchema,
  config: z.string().min(1).optional(),
  timeUnit: timeUnitSchema.optional(),
  output: z.string().min(1).optional(),
});
export type BacktestFlags = z.input<typeof backtestFlagsSchema>;

export interface CliBacktestConfig {
  readonly inputs: readonly string[];
  readonly ingest: IngestConfig;
  readonly output: string | undefined;
  readonly request: BacktestRequest;
}

/** The backtest takes the input, model and status options of a run, and its two dates. */
export const resolveBacktestConfig = async (flags: BacktestFlags): Promise<CliBacktestConfig> => {
  const parsed = backtestFlagsSchema.safeParse(flags);
  if (!parsed.success) throw new ConfigurationError(flagProblems(parsed.error));
  const f = parsed.data;
  const run = await resolveRunConfig({ input: f.input, output: '.', config: f.config, timeUnit: f.timeUnit });
  return {
    inputs: run.inputs,
    ingest: run.ingest,
    output: f.output,
    request: {
      calibrationEnd: f.calibrationEnd,
      holdoutEnd: f.holdoutEnd,
      model: run.run.model,
      nonPurchaseStatuses: run.run.nonPurchaseStatuses,
    },
  };
};

export interface CliRunConfig {
  readonly engine: EngineChoice;
  /** The input files and folders (none with the Trino engine). */
  readonly inputs: readonly string[];
  readonly output: string;
  /** How each export is read (columns, orderKey, csv, validation), the same settings on every path. */
  readonly ingest: IngestConfig;
  /** Leave out files that cannot be read, and say so in the summary's warnings, instead of failing. */
  readonly skipBadFiles: boolean;
  /** Days a replaced version of a night is kept for `clv rollback`. */
  readonly keepPreviousDays: number;
  /** The marketing-spend file or folder (`--spend`, else config `spend.path`); undefined without one. */
  readonly spend: string | undefined;
  readonly run: RunConfig;
}

/** Local runs take the lock over after six hours: longer than any local run, short enough to recover from a crash. */
export const LOCAL_LOCK_TTL_SECONDS = 6 * 3600;

/** Problems with a config file's content, each at its path in the file; every problem at once. */
const problems = (error: z.ZodError): string => error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');

/** The flag a user types for a parsed flag's key: `horizon` -> `--horizon`, `discountRate` -> `--discount-rate`. */
const flagOf = (key: PropertyKey): string => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Problems with the flags, each named by what the user typed (`--horizon`, not the option key
 * `horizon`); a message that names its flag already is kept as it is. `where` names an issue whose
 * key came from elsewhere (the config file) instead; every problem at once.
 */
const flagProblems = (error: z.ZodError, where: (key: string) => string = flagOf): string =>
  error.issues
    .map((i) => {
      if (i.path.length === 0) return i.message;
      const name = where(String(i.path[0]));
      const at = i.path.length > 1 && typeof i.path[1] === 'string' ? `${name}.${i.path.slice(1).join('.')}` : name;
      return i.message.startsWith(name) ? i.message : `${at}: ${i.message}`;
    })
    .join('; ');

export const readConfigFile = async (path: string): Promise<z.infer<typeof configFileSchema>> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigurationError(`config file ${path} cannot be read`);
  }
  let json: unknown;
  try {
    // a byte-order mark (Windows editors, PowerShell's Out-File write one) is no part of the JSON
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigurationError(`config file ${path} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) throw new ConfigurationError(`config file ${path}: ${problems(parsed.error)}`);
  return parsed.data;
};

const gatesOf = ({ acceptFailedGates: _, ...settings }: z.output<typeof gatesConfigSchema>): GateSettings => settings;

/** The config file's ingest settings, each at its default when left out. */
export const ingestConfigOf = (file: ConfigFile): IngestConfig =>
  ingestConfigSchema.parse({ columns: file.columns, orderKey: file.orderKey, csv: file.csv, validation: file.validation });

/** The environment variable that sets `model.threads` (below `--threads`, above the config file). */
export const MODEL_THREADS_ENV = 'CLV_MODEL_THREADS';

/**
 * Flags win over the environment (CLV_MODEL_THREADS), which wins over the config file, which wins
 * over the defaults. Every problem is reported at once. `now` bounds `--as-of` (latestAsOf).
 * @throws ConfigurationError naming each flag, variable or config field that is wrong
 */
export const resolveRunConfig = async (flags: RunFlags, env: Readonly<Record<string, string | undefined>> = process.env, now: Date = new Date()): Promise<CliRunConfig> => {
  const parsed = runFlagsSchema(now).safeParse(flags);
  if (!parsed.success) throw new ConfigurationError(flagProblems(parsed.error));
  const f = parsed.data;
  // the variable is read only when no --threads overrides it: a flag over a bad variable is what fixes it
  const envThreads = numberFlag(MODEL_THREADS_ENV)
    .pipe(z.number().int().min(1).max(64).optional())
    .safeParse(f.threads !== undefined || env[MODEL_THREADS_ENV] === '' ? undefined : env[MODEL_THREADS_ENV], { error: () => `${MODEL_THREADS_ENV} must be a whole number of threads from 1 to 64 (got "${env[MODEL_THREADS_ENV]}")` });
  if (!envThreads.success) throw new ConfigurationError(problems(envThreads.error));
  const file = f.config ? await readConfigFile(f.config) : {};
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const modelFlags = defined({ timeUnit: f.timeUnit, transactions: f.transactions, horizon: f.horizon, discountRate: f.discountRate, margin: f.margin, lifespanYears: f.lifespanYears, threads: f.threads });
  // the config's horizon counts the config's unit: a --time-unit that changes the unit converts it (52
  // weeks are 364 days) rather than reading 52 in the new unit, unless --horizon gives its own
  const fileUnit = file.model?.timeUnit ?? 'week';
  const fileHorizon = file.model?.horizon;
  const convertedHorizon =
    fileHorizon !== undefined && f.horizon === undefined && f.timeUnit !== undefined && f.timeUnit !== fileUnit
      ? { horizon: (fileHorizon * DAYS_PER_UNIT[fileUnit]) / DAYS_PER_UNIT[f.timeUnit] }
      : {};
  const modelInput = { ...file.model, ...convertedHorizon, ...defined({ threads: envThreads.data }), ...modelFlags };
  let model;
  try {
    model = resolveModelOptions(modelInput);
  } catch (error) {
    const where = (key: string): string => (key in modelFlags ? flagOf(key) : `config file ${f.config}: model.${key}`);
    throw new ConfigurationError(error instanceof z.ZodError ? flagProblems(error, where) : String(error));
  }
  return {
    engine: f.engine === 'trino' ? { kind: 'trino', url: f.trinoUrl!, catalog: f.trinoCatalog!, schema: f.trinoSchema! } : { kind: 'duckdb' },
    inputs: f.input ?? [],
    output: f.output,
    ingest: ingestConfigOf(file),
    skipBadFiles: f.skipBadFiles ?? false,
    keepPreviousDays: f.keepPreviousDays ?? file.publish?.keepPreviousDays ?? DEFAULT_KEEP_PREVIOUS_DAYS,
    spend: f.spend ?? file.spend?.path,
    run: buildRunConfig({
      asOf: f.asOf,
      model,
      nonPurchaseStatuses: file.nonPurchaseStatuses,
      segments: file.segments,
      acquisition: file.acquisition,
      ...(file.gates ? { gates: gatesOf(file.gates) } : {}),
      acceptFailedGates: f.acceptFailedGates === true || file.gates?.acceptFailedGates === true,
      lockTtlSeconds: LOCAL_LOCK_TTL_SECONDS,
      ...(file.backtest ? { backtestHoldoutDays: file.backtest.holdoutDays } : {}),
    }),
  };
};

export const ingestFlagsSchema = z.object({
  input: inputSchema,
  output: outputSchema,
  config: z.string().min(1).optional(),
  skipBadFiles: z.boolean().optional(),
});
export type IngestFlags = z.input<typeof ingestFlagsSchema>;

export interface CliIngestConfig {
  readonly inputs: readonly string[];
  readonly output: string;
  readonly ingest: IngestConfig;
  readonly skipBadFiles: boolean;
}

/** `clv ingest`: the inputs, the output folder whose `ingested/` receives them, the config file's ingest settings. */
export const resolveIngestConfig = async (flags: IngestFlags): Promise<CliIngestConfig> => {
  const parsed = ingestFlagsSchema.safeParse(flags);
  if (!parsed.success) throw new ConfigurationError(flagProblems(parsed.error));
  const f = parsed.data;
  const file = f.config ? await readConfigFile(f.config) : {};
  return { inputs: f.input, output: f.output, ingest: ingestConfigOf(file), skipBadFiles: f.skipBadFiles ?? false };
};
