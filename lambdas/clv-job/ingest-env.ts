import { z } from 'zod';
import { ConfigurationError } from './errors.js';
import { INGEST_ENV } from './lambda-contract.js';
import { bucketName, issueText, nestedPrefixIssues, prefix, required } from './lambda-env.js';
import type { IngestPrefixes } from './ingest-layout.js';
import { ingestConfigSchema, type IngestConfig } from './ingest/ingest-config.js';

/**
 * The ingest function's settings, read from its environment once, at cold start (the CDK stack sets
 * every variable of INGEST_ENV). A missing or bad variable fails the cold start with one message
 * naming every problem, as the nightly function's settings do.
 */
export interface IngestSettings {
  readonly bucket: string;
  readonly prefixes: IngestPrefixes;
  /** Where a quarantined export is announced. */
  readonly quarantineTopicArn: string;
  /** How exports are read: the config file's sections the local `clv ingest` and `clv run` read with (columns, orderKey, csv, validation). */
  readonly config: IngestConfig;
}

/** `arn:<partition>:sns:<region>:<account>:<name>` */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

const configJson = z
  .string()
  .trim()
  .transform((text, ctx) => {
    if (text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${INGEST_ENV.ingestConfig} is not JSON (${error instanceof Error ? error.message : String(error)})` });
      return z.NEVER;
    }
  })
  .pipe(ingestConfigSchema);

const envSchema = z
  .object({
    [INGEST_ENV.bucket]: bucketName(INGEST_ENV.bucket),
    [INGEST_ENV.inputPrefix]: prefix(INGEST_ENV.inputPrefix),
    [INGEST_ENV.ingestedPrefix]: prefix(INGEST_ENV.ingestedPrefix),
    [INGEST_ENV.quarantinePrefix]: prefix(INGEST_ENV.quarantinePrefix),
    [INGEST_ENV.quarantineTopicArn]: required(INGEST_ENV.quarantineTopicArn)
      .regex(SNS_TOPIC_ARN, `${INGEST_ENV.quarantineTopicArn} must be an SNS topic ARN`)
      // a FIFO topic takes a message only with a message group id, which the notices do not carry: every one would fail
      .refine((arn) => !arn.endsWith('.fifo'), `${INGEST_ENV.quarantineTopicArn} names a FIFO topic, which refuses messages without a message group id: use a standard topic`),
    [INGEST_ENV.ingestConfig]: configJson.optional(),
  });

const PREFIXES = [INGEST_ENV.inputPrefix, INGEST_ENV.ingestedPrefix, INGEST_ENV.quarantinePrefix] as const;

/**
 * The settings from an environment (default: this process's). Throws one ConfigurationError that
 * lists every missing or bad variable, a bad CLV_INGEST_CONFIG by the path of each bad option.
 */
export const loadIngestSettings = (env: Readonly<Record<string, string | undefined>> = process.env): IngestSettings => {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) =>
        issue.path[0] === INGEST_ENV.ingestConfig && issue.path.length > 1
          ? `${INGEST_ENV.ingestConfig}: ${issue.path.slice(1).join('.')} ${issue.message}`
          : issueText(issue),
      );
  // checked apart from the other variables, so nested prefixes are reported with them: ingest must
  // never read its own copies as exports, nor the nightly orders table the quarantine
  const prefixes = Object.fromEntries(PREFIXES.map((name) => [name, envSchema.shape[name].safeParse(env[name]).data]));
  problems.push(...nestedPrefixIssues(prefixes));
  if (!parsed.success || problems.length > 0) {
    throw new ConfigurationError(`the ingest function's environment is not usable: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    bucket: e[INGEST_ENV.bucket],
    prefixes: { input: e[INGEST_ENV.inputPrefix], ingested: e[INGEST_ENV.ingestedPrefix], quarantine: e[INGEST_ENV.quarantinePrefix] },
    quarantineTopicArn: e[INGEST_ENV.quarantineTopicArn],
    config: e[INGEST_ENV.ingestConfig] ?? ingestConfigSchema.parse({}),
  };
};
