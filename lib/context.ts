import { Duration, Size } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';
import { gateThresholdsSchema } from '../lambdas/clv-job/config.js';
import { ingestConfigSchema, type IngestConfigInput } from '../lambdas/clv-job/ingest/ingest-config.js';
import type { ClvStackProps } from './clv-stack.js';
import type { ClvGateSettings, ClvModelOptions } from './job.js';
import { failOnProblems, prefixProblem } from './validation.js';

/**
 * Every context key the app reads (`cdk deploy -c key=value`, or "context" in cdk.json), with the
 * stack prop it sets. docs/deploy.md lists them with their defaults.
 */
export const CONTEXT_KEYS = {
  stackName: 'name of the CloudFormation stack (default ClvJob)',
  alarmEmail: 'e-mail address subscribed to the alarm topic',
  scheduleCron: 'cron expression of the nightly run, e.g. "cron(0 3 * * ? *)"',
  scheduleTimeZone: 'IANA time zone of the cron expression, e.g. "Europe/Paris"',
  inputPrefix: 'drop prefix of the order exports',
  outputPrefix: 'output prefix of the job',
  athenaResultsPrefix: 'prefix of Athena query results',
  athenaResultsExpirationDays: 'days Athena results are kept',
  noncurrentVersionExpirationDays: 'days overwritten or deleted object versions are kept',
  ingestedPrefix: 'prefix of the canonical Parquet copies and their receipts',
  quarantinePrefix: 'prefix of the exports ingest could not read',
  quarantineEmail: 'e-mail address subscribed to the quarantine topic (the data team)',
  ingestConfig: 'how exports are read: JSON of the config file sections columns, orderKey, csv, validation',
  ingestMemoryMb: 'ingest function memory in MB',
  ingestHandlerEntry: 'path of the ingest handler source file (default lambdas/clv-job/ingest-handler.ts)',
  databaseName: 'Glue database name',
  workgroupName: 'Athena workgroup name',
  bytesScannedCutoffGiB: 'per-query Athena scan limit in GiB',
  memoryMb: 'function memory in MB',
  timeoutMinutes: 'function timeout in minutes (5-15); also the run lock TTL',
  serviceName: 'Powertools service name (metric dimension)',
  logRetentionDays: 'function log retention in days (a CloudWatch Logs retention value)',
  noSuccessAlarmHours: 'hours without a successful run before the alarm fires (1-24)',
  handlerEntry: 'path of the handler source file (default lambdas/clv-job/handler.ts)',
  timeUnit: 'model time unit: week or day',
  transactions: 'transaction model: bgnbd, pnbd or auto',
  intervalDraws: 'parameter draws behind the 90% intervals (0 turns them off)',
  intervalSeed: 'seed of those draws',
  horizon: 'prediction horizon in time units',
  discountRate: 'annual discount rate, e.g. 0.1',
  margin: 'share of revenue that is profit, e.g. 0.3',
  lifespanYears: 'expected customer lifespan for historical CLV',
  gates: 'data-quality gate thresholds: JSON of the config file section gates (null turns a gate off), e.g. {"maxRejectedShare":0.05}',
  spendPrefix: 'prefix of the marketing-spend CSVs (channel, month, spend) the nightly run reads, e.g. "marketing/spend/" (default: no spend input)',
} as const;
export type ContextKey = keyof typeof CONTEXT_KEYS;

export const DEFAULT_STACK_NAME = 'ClvJob';

/** A prefix given in context: trimmed, relative, ending in "/", of S3- and Hive-safe characters (prefixProblem). */
const contextPrefixSchema = (key: ContextKey) =>
  z
    .string({ error: `context ${key} must be a string` })
    .trim()
    .superRefine((prefix, ctx) => {
      const problem = prefixProblem(`context ${key}`, prefix);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    });

export interface ClvAppSettings {
  readonly stackName: string;
  readonly props: ClvStackProps;
}

/**
 * Reads the app's settings from CDK context. Values given with `-c` arrive as strings, values in
 * cdk.json as JSON; both are accepted. Every bad value is reported at once.
 */
export const clvSettingsFromContext = (node: Node): ClvAppSettings => {
  const problems: string[] = [];
  const raw = (key: ContextKey): unknown => node.tryGetContext(key);

  const text = (key: ContextKey): string | undefined => {
    const v = raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push(`context ${key} must be a non-empty string, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v.trim();
  };
  const number = (key: ContextKey, options: { integer?: boolean } = {}): number | undefined => {
    const v = raw(key);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n) || (options.integer && !Number.isInteger(n))) {
      problems.push(`context ${key} must be ${options.integer ? 'a whole number' : 'a number'}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return n;
  };
  const json = (key: ContextKey): unknown => {
    const v = raw(key);
    if (v === undefined || v === null || typeof v === 'object') return v ?? undefined;
    try {
      return JSON.parse(String(v)) as unknown;
    } catch {
      problems.push(`context ${key} must be a JSON object, got ${JSON.stringify(v)}`);
      return undefined;
    }
  };
  const ingestConfigInput = json('ingestConfig');
  const ingestConfig = ingestConfigInput === undefined ? undefined : ingestConfigSchema.safeParse(ingestConfigInput);
  if (ingestConfig && !ingestConfig.success) {
    problems.push(...ingestConfig.error.issues.map((i) => `context ingestConfig.${i.path.join('.') || '?'}: ${i.message}`));
  }
  const spendPrefixInput = raw('spendPrefix');
  const spendPrefix = spendPrefixInput === undefined || spendPrefixInput === null ? undefined : contextPrefixSchema('spendPrefix').safeParse(spendPrefixInput);
  if (spendPrefix && !spendPrefix.success) problems.push(...spendPrefix.error.issues.map((i) => i.message));
  const gatesInput = json('gates');
  const gates = gatesInput === undefined ? undefined : gateThresholdsSchema.safeParse(gatesInput);
  if (gates && !gates.success) problems.push(...gates.error.issues.map((i) => `context gates.${i.path.join('.') || '?'}: ${i.message}`));
  const days = (key: ContextKey): Duration | undefined => {
    const n = number(key, { integer: true });
    return n === undefined ? undefined : Duration.days(n);
  };

  const logRetentionDays = number('logRetentionDays', { integer: true });
  if (logRetentionDays !== undefined && !Object.values(RetentionDays).includes(logRetentionDays)) {
    problems.push(`context logRetentionDays must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653), got ${logRetentionDays}`);
  }
  const cutoffGiB = number('bytesScannedCutoffGiB');
  const timeoutMinutes = number('timeoutMinutes');
  const noSuccessHours = number('noSuccessAlarmHours', { integer: true });
  const timeUnit = text('timeUnit');
  const transactions = text('transactions');
  const modelOptions: ClvModelOptions = {
    ...(timeUnit !== undefined && { timeUnit: timeUnit as ClvModelOptions['timeUnit'] }),
    ...(transactions !== undefined && { transactions: transactions as ClvModelOptions['transactions'] }),
    ...optional('intervalDraws', number('intervalDraws', { integer: true })),
    ...optional('intervalSeed', number('intervalSeed', { integer: true })),
    ...optional('horizon', number('horizon')),
    ...optional('discountRate', number('discountRate')),
    ...optional('margin', number('margin')),
    ...optional('lifespanYears', number('lifespanYears')),
  };

  const props: ClvStackProps = {
    alarmEmail: text('alarmEmail'),
    scheduleCron: text('scheduleCron'),
    scheduleTimeZone: text('scheduleTimeZone'),
    inputPrefix: text('inputPrefix'),
    outputPrefix: text('outputPrefix'),
    athenaResultsPrefix: text('athenaResultsPrefix'),
    athenaResultsExpiration: days('athenaResultsExpirationDays'),
    noncurrentVersionExpiration: days('noncurrentVersionExpirationDays'),
    ingestedPrefix: text('ingestedPrefix'),
    quarantinePrefix: text('quarantinePrefix'),
    quarantineEmail: text('quarantineEmail'),
    ingestConfig: ingestConfig?.success ? (ingestConfigInput as IngestConfigInput) : undefined,
    ingestMemorySize: number('ingestMemoryMb', { integer: true }),
    ingestHandlerEntry: text('ingestHandlerEntry'),
    databaseName: text('databaseName'),
    workgroupName: text('workgroupName'),
    // Size.gibibytes wants a whole number; the scan limit is kept in MiB to allow e.g. 0.5 GiB.
    bytesScannedCutoffPerQuery: cutoffGiB === undefined ? undefined : Size.mebibytes(Math.round(cutoffGiB * 1024)),
    memorySize: number('memoryMb', { integer: true }),
    timeout: timeoutMinutes === undefined ? undefined : Duration.seconds(Math.round(timeoutMinutes * 60)),
    serviceName: text('serviceName'),
    logRetention: logRetentionDays as RetentionDays | undefined,
    noSuccessWindow: noSuccessHours === undefined ? undefined : Duration.hours(noSuccessHours),
    handlerEntry: text('handlerEntry'),
    modelOptions: Object.keys(modelOptions).length > 0 ? modelOptions : undefined,
    gates: gates?.success ? (gatesInput as ClvGateSettings) : undefined,
    spendPrefix: spendPrefix?.success ? spendPrefix.data : undefined,
  };
  const stackName = text('stackName') ?? DEFAULT_STACK_NAME;
  failOnProblems('context', problems);
  return { stackName, props: dropUndefined(props) };
};

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

const dropUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
