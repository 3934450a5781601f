import { randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PublishRollbackError, S3Store } from '../../lambdas/clv-job/adapters/s3-store.js';
import { RunLockedError } from '../../lambdas/clv-job/errors.js';
import { createBucket, motoS3Client, motoS3ClientFailingCopies, startMoto, type MotoServer } from '../support/moto-server.js';
import { describeWith } from '../support/services.js';

const BUCKET = 'clv-store-test';
const PREFIX = 'clv/';

const DATE = '2025-01-31';
const part = (segment: string, n = 0) => `customers/run_date=${DATE}/segment=${segment}/part-${String(n).padStart(5, '0')}.parquet`;
const summary = `summary/run_date=${DATE}/summary.json`;

/** Every key under the output prefix, relative to it, with its content. */
const snapshot = async (client: S3Client, prefix = PREFIX): Promise<Record<string, string>> => {
  const out: Record<string, string> = {};
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const body = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }));
      out[o.Key!.slice(prefix.length)] = await body.Body!.transformToString();
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
};
const keys = async (client: S3Client, prefix = PREFIX) => Object.keys(await snapshot(client, prefix)).sort();

const publishRun = async (store: S3Store, runId: string, runDate: string, parts: Record<string, string>) => {
  const run = await store.stage(runId);
  for (const [key, body] of Object.entries(parts)) await run.put(key, body);
  await run.publish(runDate, { runId, runDate, files: Object.keys(parts).map((key) => ({ key, bytes: 1, rows: 1 })) });
};

describeWith('moto', 'the S3 store against moto', () => {
  let moto: MotoServer;
  let client: S3Client;
  let store: S3Store;

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(() => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    client = await createBucket(moto.endpoint, BUCKET);
    store = new S3Store({ client, bucket: BUCKET, prefix: PREFIX });
  });

  describe('publishing', () => {
    it('shows nothing of a run until it is published, then its files, manifest, _SUCCESS and latest.json', async () => {
      const run = await store.stage('run-1');
      await run.put(part('high'), 'high');
      await run.put(summary, '{}');
      const beforePublish = (await keys(client)).filter((k) => !k.startsWith('_staging/'));

      await run.publish(DATE, { runId: 'run-1', runDate: DATE, files: [] });

      expect(beforePublish).toEqual([]);
      expect(await keys(client)).toEqual([
        part('high'),
        'latest.json',
        `summary/run_date=${DATE}/_SUCCESS`,
        `summary/run_date=${DATE}/_manifest.json`,
        summary,
      ]);
      expect(JSON.parse((await snapshot(client))['latest.json']!)).toMatchObject({ run_date: DATE, run_id: 'run-1' });
      expect(JSON.parse((await snapshot(client))[`summary/run_date=${DATE}/_manifest.json`]!)).toMatchObject({ runId: 'run-1', runDate: DATE });
      expect(await store.publishedRunDates()).toEqual([DATE]);
      expect(store.location).toBe(`s3://${BUCKET}/${PREFIX}`);
    });

    it('streams a file through a multipart upload into staging, part by part', async () => {
      const small = new S3Store({ client, bucket: BUCKET, prefix: PREFIX, partSize: 5 * 1024 * 1024 });
      const run = await small.stage('run-big');
      const bytes = randomBytes(11 * 1024 * 1024 + 17);

      const sink = await run.open(part('high'));
      for (let i = 0; i < bytes.length; i += 256 * 1024) await sink.write(bytes.subarray(i, i + 256 * 1024));
      await sink.close();
      const staged = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}_staging/run-big/${part('high')}` }));
      await run.publish(DATE, { runId: 'run-big', runDate: DATE, files: [] });

      // a multipart upload's ETag ends with its part count: 11 MiB in parts of 5 MiB
      expect(staged.ETag).toMatch(/-3"$/);
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${part('high')}` }));
      expect(Buffer.from(await object.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    });

    it('replaces a run date on a rerun with exactly the keys of the new run: no stale parts, segments or staging', async () => {
      await publishRun(store, 'first', DATE, {
        [part('high', 0)]: 'old high 0',
        [part('high', 1)]: 'old high 1',
        [part('low')]: 'old low',
        [summary]: 'old',
        [`rejected/run_date=${DATE}/part-00000.parquet`]: 'old rejected',
      });
      // what the second run alone publishes, in a fresh prefix
      const fresh = new S3Store({ client, bucket: BUCKET, prefix: 'fresh/' });
      const second = { [part('high', 0)]: 'new high', [part('mid')]: 'new mid', [summary]: 'new', [`rejected/run_date=${DATE}/part-00000.parquet`]: 'new rejected' };
      await publishRun(fresh, 'second', DATE, second);

      await publishRun(store, 'second', DATE, second);
      const afterRerun = await snapshot(client);
      await publishRun(store, 'third', DATE, second);

      expect(Object.keys(afterRerun).sort()).toEqual(await keys(client, 'fresh/'));
      expect(afterRerun[part('high', 0)]).toBe('new high');
      expect(await keys(client)).toEqual(Object.keys(afterRerun).sort());
      expect((await keys(client)).some((k) => k.startsWith('_staging/'))).toBe(false);
    });

    it('leaves other run dates and datasets this run did not stage alone', async () => {
      await publishRun(store, 'jan', '2025-01-30', { 'summary/run_date=2025-01-30/summary.json': 'jan 30', 'report/run_date=2025-01-30/index.html': 'r' });
      await publishRun(store, 'feb', DATE, { 'report/run_date=2025-01-31/index.html': 'first report', [summary]: 'x' });

      await publishRun(store, 'again', DATE, { [summary]: 'y' });

      const files = await snapshot(client);
      expect(files['summary/run_date=2025-01-30/summary.json']).toBe('jan 30');
      expect(files['report/run_date=2025-01-31/index.html']).toBe('first report');
      expect(await store.publishedRunDates()).toEqual(['2025-01-30', DATE]);
    });

    it('keeps latest.json on the newest run date when an older night is re-run', async () => {
      await publishRun(store, 'new', '2025-02-01', { 'summary/run_date=2025-02-01/summary.json': '{}' });

      await publishRun(store, 'old', '2025-01-15', { 'summary/run_date=2025-01-15/summary.json': '{}' });

      expect(JSON.parse(Buffer.from((await store.read('latest.json'))!).toString())).toMatchObject({ run_date: '2025-02-01', run_id: 'new' });
      expect(await store.publishedRunDates()).toEqual(['2025-01-15', '2025-02-01']);
    });

    it('counts a run date without _SUCCESS as not published, and reads a missing object as null', async () => {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}summary/run_date=2025-01-01/summary.json`, Body: '{}' }));

      expect(await store.publishedRunDates()).toEqual([]);
      expect(await store.read('summary/run_date=2025-01-01/nothing.json')).toBeNull();
      expect(Buffer.from((await store.read('summary/run_date=2025-01-01/summary.json'))!).toString()).toBe('{}');
    });

    it('follows continuation tokens when listing and deletes in batches (pages of 2 keys here, 1000 in production)', async () => {
      const paged = new S3Store({ client, bucket: BUCKET, prefix: PREFIX, batchSize: 2 });
      const many = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [part('low', i), String(i)]));
      await publishRun(paged, 'many', DATE, { ...many, [summary]: '{}' });
      const published = await keys(client);

      await publishRun(paged, 'few', DATE, { [part('low', 0)]: 'only', [summary]: '{}' });

      expect(published.filter((k) => k.startsWith('customers/'))).toHaveLength(7);
      expect((await keys(client)).filter((k) => k.startsWith('customers/'))).toEqual([part('low', 0)]);
      expect(await paged.publishedRunDates()).toEqual([DATE]);
    });
  });

  describe('a publish that fails half-way', () => {
    const previousRun = { [part('high')]: 'old high', [part('low')]: 'old low', [summary]: 'old summary' };
    const newRun = { [part('high')]: 'new high', [part('mid')]: 'new mid', [summary]: 'new summary' };

    // copies 1-4 set the previous objects aside (2 parts, summary, manifest); 5-7 copy the new run in
    it.each([
      ['while setting the previous run aside', 2],
      ['while copying the new run in', 6],
    ])('puts the previous run back intact, _SUCCESS included, when S3 fails %s', async (_when, failingCopy) => {
      await publishRun(store, 'previous', DATE, previousRun);
      const before = await snapshot(client);
      const failing = new S3Store({ client: motoS3ClientFailingCopies(moto.endpoint, (n) => n === failingCopy), bucket: BUCKET, prefix: PREFIX });
      const run = await failing.stage('failed');
      for (const [key, body] of Object.entries(newRun)) await run.put(key, body);

      const error = await run.publish(DATE, { runId: 'failed', runDate: DATE, files: [] }).catch((e: unknown) => e);
      await run.discard();

      expect((error as Error).name).toBe('InternalError');
      expect(await snapshot(client)).toEqual(before);
      expect(JSON.parse((await snapshot(client))[`summary/run_date=${DATE}/_manifest.json`]!).runId).toBe('previous');
      expect(await store.publishedRunDates()).toEqual([DATE]);
    });

    it('never leaves a _SUCCESS for the failed run, and keeps the previous objects aside when the rollback fails too', async () => {
      await publishRun(store, 'previous', DATE, previousRun);
      const failing = new S3Store({ client: motoS3ClientFailingCopies(moto.endpoint, (n) => n >= 6), bucket: BUCKET, prefix: PREFIX });
      const run = await failing.stage('failed');
      for (const [key, body] of Object.entries(newRun)) await run.put(key, body);

      const error = await run.publish(DATE, { runId: 'failed', runDate: DATE, files: [] }).catch((e: unknown) => e);
      await run.discard();

      expect(error).toBeInstanceOf(PublishRollbackError);
      expect((error as Error).message).toContain(`s3://${BUCKET}/${PREFIX}_staging/failed.replaced/`);
      const files = await snapshot(client);
      expect(files[`summary/run_date=${DATE}/_SUCCESS`]).toBeUndefined();
      expect(await store.publishedRunDates()).toEqual([]);
      expect(files[`_staging/failed.replaced/${part('high')}`]).toBe('old high');
      expect(files[`_staging/failed.replaced/${summary}`]).toBe('old summary');
    });

    it('aborts open multipart uploads and removes its staging area when discarded', async () => {
      const small = new S3Store({ client, bucket: BUCKET, prefix: PREFIX, partSize: 5 * 1024 * 1024 });
      const run = await small.stage('killed');
      await run.put(summary, '{}');
      const sink = await run.open(part('high'));
      await sink.write(randomBytes(6 * 1024 * 1024));
      await expect.poll(async () => (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads?.length ?? 0).toBe(1);

      await run.discard();

      expect((await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).toEqual([]);
      expect(await keys(client)).toEqual([]);
    });
  });

  describe('the run lock', () => {
    it('goes to exactly one of two concurrent runs; the other is told the lock is held', async () => {
      const other = new S3Store({ client: motoS3Client(moto.endpoint), bucket: BUCKET, prefix: PREFIX });

      const results = await Promise.allSettled([store.lock('run-a', 900), other.lock('run-b', 900)]);

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(RunLockedError);
      expect(refused.reason.message).toMatch(/another run \(run-[ab]\) holds the lock on s3:\/\/clv-store-test\/clv\/ since /);
    });

    it('is free again once released', async () => {
      const lock = await store.lock('run-a', 900);
      await lock.release();

      const next = await store.lock('run-b', 900);

      expect(await keys(client)).toEqual(['_lock/run.lock']);
      await next.release();
      expect(await keys(client)).toEqual([]);
    });

    it('is taken over when older than its time-to-live, and the old holder\'s release leaves the new lock alone', async () => {
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      const crashed = new S3Store({ client, bucket: BUCKET, prefix: PREFIX, now: () => twoHoursAgo });
      const stale = await crashed.lock('crashed-run', 900);

      const fresh = await store.lock('new-run', 900);
      await stale.release();

      expect(JSON.parse((await snapshot(client))['_lock/run.lock']!)).toMatchObject({ runId: 'new-run' });
      await fresh.release();
    });

    it('goes to exactly one of two runs taking over the same stale lock', async () => {
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      await new S3Store({ client, bucket: BUCKET, prefix: PREFIX, now: () => twoHoursAgo }).lock('crashed-run', 900);
      const other = new S3Store({ client: motoS3Client(moto.endpoint), bucket: BUCKET, prefix: PREFIX });

      const results = await Promise.allSettled([store.lock('run-a', 900), other.lock('run-b', 900)]);

      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(RunLockedError);
    });

    it('is not taken over while younger than its time-to-live', async () => {
      const tenMinutesAgo = new Date(Date.now() - 600_000);
      await new S3Store({ client, bucket: BUCKET, prefix: PREFIX, now: () => tenMinutesAgo }).lock('running', 900);

      await expect(store.lock('second', 900)).rejects.toThrow(RunLockedError);
    });
  });
});
