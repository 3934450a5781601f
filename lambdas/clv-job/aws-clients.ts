import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { ATHENA_CLIENT_DEFAULTS } from './adapters/athena-engine.js';

/**
 * The AWS clients of both functions, from the SDK's standard endpoint and credential chain, so
 * `AWS_ENDPOINT_URL_<SERVICE>` (or `AWS_ENDPOINT_URL`) points them at stand-ins.
 */

/**
 * S3, addressed path-style when an endpoint override is set, as moto and other stand-ins need
 * (virtual-host addressing needs DNS for `<bucket>.<host>`).
 */
export const s3ClientFromEnvironment = (env: Readonly<Record<string, string | undefined>> = process.env): S3Client =>
  new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL), maxAttempts: 5 });

/** Athena, with the SDK's adaptive retries for throttling. */
export const athenaClientFromEnvironment = (): AthenaClient => new AthenaClient({ ...ATHENA_CLIENT_DEFAULTS });
