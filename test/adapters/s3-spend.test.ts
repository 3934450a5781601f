import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { S3SpendSource } from '../../lambdas/clv-job/adapters/s3-spend.js';
import { InputFileError } from '../../lambdas/clv-job/errors.js';
import { loadLambdaSettings } from '../../lambdas/clv-job/lambda-env.js';
import { LAMBDA_ENV } from '../../lambdas/clv-job/lambda-contract.js';
import { createBucket, startMoto, type MotoServer } from '../support/moto-server.js';
import { describeWith } from '../support/services.js';

const BUCKET = 'clv-spend-test';

describeWith('moto', 'the spend input on S3 against moto', () => {
  let moto: MotoServer;
  let client: S3Client;
  const put = (key: string, body: string | Uint8Array) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(() => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    client = await createBucket(moto.endpoint, BUCKET);
  });

  it('reads every CSV under the prefix, gzipped or not, in key order, and nothing else', async () => {
    // Prepare
    await put('spend/2025/b.csv.gz', gzipSync(Buffer.from('channel,month,spend\nemail,2025-02,20\n')));
    await put('spend/2025/a.csv', 'channel,month,spend\nemail,2025-01,10\nsearch,2025-01,-1\n');
    await put('spend/README.txt', 'not a spend file');
    await put('spendings/c.csv', 'channel,month,spend\nother,2025-01,1\n');

    // Act
    const { sources, records } = (await new S3SpendSource({ client, bucket: BUCKET, prefix: 'spend/' }).read())!;

    // Assess
    expect(sources).toEqual([`s3://${BUCKET}/spend/2025/a.csv`, `s3://${BUCKET}/spend/2025/b.csv.gz`]);
    expect(records.map((r) => [r.source.split('/').pop(), r.line, r.channel, r.month, r.spend])).toEqual([
      ['a.csv', 2, 'email', '2025-01', '10'],
      ['a.csv', 3, 'search', '2025-01', '-1'],
      ['b.csv.gz', 2, 'email', '2025-02', '20'],
    ]);
  });

  it('finds no spend drop (null, not an error) under a prefix with nothing in it, or nothing but non-CSV files', async () => {
    const source = new S3SpendSource({ client, bucket: BUCKET, prefix: 'spend/' });
    expect(await source.read()).toBeNull();

    await put('spend/README.txt', 'the spend file lands here on the 1st');
    await put('spendings/other.csv', 'channel,month,spend\nemail,2025-01,1\n');
    expect(await source.read()).toBeNull();
  });

  it('still refuses a spend file that is there but is no spend CSV, naming it', async () => {
    await put('spend/spend.csv', 'kanal,monat,ausgaben\nemail,2025-01,10\n');
    const read = new S3SpendSource({ client, bucket: BUCKET, prefix: 'spend/' }).read();
    await expect(read).rejects.toBeInstanceOf(InputFileError);
    await expect(read).rejects.toThrow(`s3://${BUCKET}/spend/spend.csv: has no channel, month, spend column`);
  });
});

it('takes the Lambda spend prefix from CLV_SPEND_PREFIX, and none when it is empty', () => {
  const env = {
    [LAMBDA_ENV.bucket]: 'clv-bucket', [LAMBDA_ENV.inputPrefix]: 'orders/', [LAMBDA_ENV.ingestedPrefix]: 'ingested/', [LAMBDA_ENV.quarantinePrefix]: 'quarantine/',
    [LAMBDA_ENV.outputPrefix]: 'clv/', [LAMBDA_ENV.athenaDatabase]: 'd', [LAMBDA_ENV.athenaTable]: 't', [LAMBDA_ENV.athenaWorkgroup]: 'w',
  };
  expect(loadLambdaSettings({ ...env, [LAMBDA_ENV.spendPrefix]: 'marketing/spend' }).spendPrefix).toBe('marketing/spend/');
  expect(loadLambdaSettings({ ...env, [LAMBDA_ENV.spendPrefix]: '' }).spendPrefix).toBeNull();
  expect(loadLambdaSettings(env).spendPrefix).toBeNull();
});
