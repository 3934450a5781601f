import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';
import { loadIngestSettings } from '../../lambdas/clv-job/ingest-env.js';
import { createIngestHandler, type IngestHandlerResult } from '../../lambdas/clv-job/ingest-function.js';
import { INGEST_ENV, METRICS_NAMESPACE } from '../../lambdas/clv-job/lambda-contract.js';
import type { IngestOutcome } from '../../lambdas/clv-job/pipeline/ingest-drop.js';
import { TEST_CREDENTIALS, TEST_REGION } from './moto-server.js';

/**
 * The ingest function as the stack deploys it (drop prefix `orders/`, `ingested/`, `quarantine/`),
 * against moto: dropping an export is a PUT under `orders/` followed by the S3 event EventBridge
 * would deliver, so the nightly job finds canonical copies exactly where the deployed one would.
 */
export interface IngestOnMoto {
  /** The function's handler, its EMF output kept off the test's stdout. */
  readonly handle: (event: unknown) => Promise<IngestHandlerResult>;
  /** PUTs one export under the drop prefix and delivers its Object Created event. */
  drop(name: string, body: string | Uint8Array): Promise<IngestOutcome>;
  /** Drops every file of a folder (not recursive), in name order: a README beside the exports too. */
  dropFolder(dir: string): Promise<IngestOutcome[]>;
}

/** S3's Object Created or Deleted event for a key, as EventBridge delivers it. */
export const s3Event = (bucket: string, detailType: 'Object Created' | 'Object Deleted', key: string) => ({
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': detailType,
  source: 'aws.s3',
  account: '123456789012',
  time: '2026-11-30T20:00:00Z',
  region: TEST_REGION,
  resources: [`arn:aws:s3:::${bucket}`],
  detail: { version: '0', bucket: { name: bucket }, object: { key, size: 1, etag: 'x', sequencer: '0' }, reason: 'PutObject' },
});

export const ingestOnMoto = async (motoEndpoint: string, s3: S3Client, bucket: string): Promise<IngestOnMoto> => {
  const sns = new SNSClient({ endpoint: motoEndpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'clv-quarantine' }));
  const settings = loadIngestSettings({
    [INGEST_ENV.bucket]: bucket,
    [INGEST_ENV.inputPrefix]: 'orders/',
    [INGEST_ENV.ingestedPrefix]: 'ingested/',
    [INGEST_ENV.quarantinePrefix]: 'quarantine/',
    [INGEST_ENV.quarantineTopicArn]: TopicArn,
  });
  const handler = createIngestHandler({
    settings,
    s3,
    sns,
    logger: new Logger({ serviceName: 'clv-ingest-test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'clv-ingest-test' }),
  });
  const handle = async (event: unknown): Promise<IngestHandlerResult> => {
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      return await handler(event);
    } finally {
      quiet.mockRestore();
    }
  };
  const drop = async (name: string, body: string | Uint8Array): Promise<IngestOutcome> => {
    const key = `orders/${name}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const { outcomes } = await handle(s3Event(bucket, 'Object Created', key));
    return outcomes[0]!;
  };
  return {
    handle,
    drop,
    async dropFolder(dir) {
      const names = (await readdir(dir, { withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
      const outcomes: IngestOutcome[] = [];
      for (const name of names) outcomes.push(await drop(name, await readFile(join(dir, name))));
      return outcomes;
    },
  };
};
