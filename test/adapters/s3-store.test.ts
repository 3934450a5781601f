import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { GlueClient } from '@aws-sdk/client-glue';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambdas/clv-job/adapters/s3-store.js';
import { GluePartitionSwitch } from '../../lambdas/clv-job/adapters/glue-partitions.js';
import { PublishError, PublishStateError, RunLockedError } from '../../lambdas/clv-job/errors.js';
import { CATALOG_TABLES, manifestKey, summaryKey } from '../../lambdas/clv-job/layout.js';
import { loadPrevious } from '../../lambdas/clv-job/pipeline/previous-run.js';
import { GLUE_DATABASE, createOutputTables, motoGlueClient, partitionLocations } from '../support/moto-glue.js';
import { createBucket, motoS3Client, motoS3ClientFailing, startMoto, type MotoServer } from '../support/moto-server.js';
import { stageFiles } from '../support/fault-fs.js';
import { sampleData, tempDir } from '../support/files.js';
import { runLocal } from '../support/pipeline.js';
import { RUN_DATE, seenOnS3, stageVersion, versionFiles, type NightVersion } from '../support/publish-faults.js';
import { describeWith } from '../support/services.js';

const BUCKET = 'clv-store-test';
const PREFIX = 'clv/';

const DATE = RUN_DATE;
const part = (segment: string, n = 0) => `customers/run_date=${DATE}/segment=${segment}/part-${String(n).padStart(5, '0')}.parquet`;
const summary = `summary/run_date=${DATE}/summary.json`;

const A: NightVersion = { runId: 'run-a', segments: ['high', 'low'], rowsPerSegment: 2 };
const B: NightVersion = { runId: 'run-b', segments: ['high', 'mid'], rowsPerSegment: 3 };

/** Every Glue table of the output on one run. */
const everyTableOn = (runId: string): Record<string, string> => Object.fromEntries(CATALOG_TABLES.map((t) => [t.table, runId]));

/** Every key under the output prefix, relative to it. */
const keys = async (client: S3Client, prefix = PREFIX): Promise<string[]> => {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push(o.Key!.slice(prefix.length));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
};
const putText = async (client: S3Client, key: string, body: string) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${key}`, Body: body }));
const text = async (client: S3Client, key: string) =>
  (await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${key}` }))).Body!.transformToString());

describeWith('moto', 'the S3 store against moto', () => {
  let moto: MotoServer;
  let client: S3Client;
  let glue: GlueClient;
  let store: S3Store;

  const publish = async (target: S3Store, version: NightVersion, runDate = DATE) => {
    const run = await target.stage(version.runId);
    return run.publish(runDate, await stageVersion(run, version, runDate));
  };

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(() => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    client = await createBucket(moto.endpoint, BUCKET);
    glue = motoGlueClient(moto.endpoint);
    await createOutputTables(glue, BUCKET, PREFIX);
    store = new S3Store({ client, bucket: BUCKET, prefix: PREFIX, catalog: { client: glue, database: GLUE_DATABASE, tables: CATALOG_TABLES } });
  });

  describe('publishing', () => {
    it("shows nothing of a run until it is published, then the night through its manifest and the Glue partitions", async () => {
      const run = await store.stage(A.runId);
      const manifest = await stageVersion(run, A);
      const before = (await keys(client)).filter((k) => !k.startsWith('_runs/'));
      const partitionsBefore = await partitionLocations(glue, 'customers', DATE);

      const outcome = await run.publish(DATE, manifest);

      expect(before).toEqual([]);
      expect(partitionsBefore).toEqual({});
      expect(outcome).toEqual({ runId: A.runId, runDate: DATE, warnings: [] });
      expect(await seenOnS3(client, glue, BUCKET, PREFIX)).toEqual({
        files: { runId: A.runId, segments: ['high', 'low'], rows: 4 },
        catalog: everyTableOn(A.runId),
      });
      expect(await partitionLocations(glue, 'customers', DATE)).toEqual({
        [`${DATE}/high`]: `s3://${BUCKET}/${PREFIX}_runs/run-a/customers/run_date=${DATE}/segment=high/`,
        [`${DATE}/low`]: `s3://${BUCKET}/${PREFIX}_runs/run-a/customers/run_date=${DATE}/segment=low/`,
      });
      const latest = JSON.parse(await text(client, 'latest.json')) as { run_date: string; run_id: string; summary: string };
      expect(latest).toEqual({ run_date: DATE, run_id: A.runId, summary: `_runs/run-a/${summary}` });
      // the key latest.json names holds the night's summary: a file reader follows it without the manifest
      expect(JSON.parse(await text(client, latest.summary))).toEqual({ run_id: A.runId });
      expect(await store.publishedRunDates()).toEqual([DATE]);
      expect(JSON.parse(Buffer.from((await store.read(summary))!).toString())).toEqual({ run_id: A.runId });
      expect(run.locationOf(part('high'))).toBe(`s3://${BUCKET}/${PREFIX}_runs/run-a/${part('high')}`);
      expect((await keys(client)).filter((k) => k.startsWith('_publish/intent'))).toEqual([]);
    });

    it("lets the next night pass over a published night whose manifest is damaged, for the latest earlier one it can count (loadPrevious), rather than fail every night on it", async () => {
      // Prepare: a night whose summary counts 4 customers, then a later one whose manifest (S3's commit point) is cut
      const earlier = '2025-01-30';
      const files = await versionFiles(A, earlier);
      files[summaryKey(earlier)] = JSON.stringify({ counts: { customers: 4 } });
      const first = await store.stage(A.runId);
      await first.publish(earlier, await stageFiles(first, earlier, files));
      await publish(store, B);
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${manifestKey(DATE)}`, Body: '{"broken' }));

      // Act
      const lookup = await loadPrevious(store, '2025-02-01');

      // Assess
      expect(lookup.gate.previous).toMatchObject({ runDate: earlier, customers: 4 });
      expect(lookup.warnings.map((w) => w.message)).toEqual([`the summary and manifest of ${DATE} cannot be read: tonight is held against the 4 customers of ${earlier} and compared with no earlier night`]);
    });

    it("reads each night's manifest once for the previous-run lookup, and locates the customers files of the night it compares with only (loadPrevious)", async () => {
      // Prepare: an earlier night and the night a re-run replaces, each with a summary of this format (a local run's)
      const { summary: full } = await runLocal([sampleData], await tempDir(), { asOf: '2025-12-31' });
      const earlier = '2025-01-30';
      for (const [version, runDate] of [[A, earlier], [B, DATE]] as const) {
        const files = await versionFiles(version, runDate);
        files[summaryKey(runDate)] = JSON.stringify(full);
        const run = await store.stage(version.runId);
        await run.publish(runDate, await stageFiles(run, runDate, files));
      }
      const gets: string[] = [];
      const watched = Object.create(client) as S3Client;
      watched.send = ((command: Parameters<S3Client['send']>[0]) => {
        if (command instanceof GetObjectCommand) gets.push(command.input.Key!.slice(PREFIX.length));
        return client.send(command);
      }) as S3Client['send'];

      // Act
      const lookup = await loadPrevious(new S3Store({ client: watched, bucket: BUCKET, prefix: PREFIX }), DATE);

      // Assess: per night its manifest and its summary, once each; the earlier night's customers files located in its run
      expect(gets.sort()).toEqual([`_runs/${A.runId}/${summaryKey(earlier)}`, `_runs/${B.runId}/${summaryKey(DATE)}`, manifestKey(earlier), manifestKey(DATE)].sort());
      expect(lookup.run?.customers?.files).toEqual(A.segments.map((s) => `s3://${BUCKET}/${PREFIX}_runs/${A.runId}/customers/run_date=${earlier}/segment=${s}/part-00000.parquet`));
      expect(lookup.gate).toMatchObject({ previous: { runDate: earlier, customers: full.counts.customers }, replaced: { runDate: DATE, customers: full.counts.customers }, newest: null });
      // the revenue and latest order come from the summary the customers were counted by: nothing more is read
      expect(lookup.gate.summarised).toEqual(lookup.gate.previous);
    });

    it('replaces, on a re-run, a night whose manifest (the commit point) is damaged: the run the versions record names live is the version replaced, kept for rollback, and the outcome names the file', async () => {
      await publish(store, A);
      await putText(client, manifestKey(DATE), '{"broken');

      const outcome = await publish(store, B);

      expect(outcome.warnings).toEqual([
        expect.stringMatching(new RegExp(`^s3://${BUCKET}/${PREFIX}summary/run_date=${DATE}/_manifest\\.json was not JSON \\(.+\\): replaced run run-a, the version of ${DATE} _publish/versions\\.json names live$`)),
      ]);
      expect(await seenOnS3(client, glue, BUCKET, PREFIX)).toEqual({ files: { runId: B.runId, segments: ['high', 'mid'], rows: 6 }, catalog: everyTableOn(B.runId) });
      expect((await store.rollback(DATE)).runId).toBe(A.runId);
      expect(await seenOnS3(client, glue, BUCKET, PREFIX)).toEqual({ files: { runId: A.runId, segments: ['high', 'low'], rows: 4 }, catalog: everyTableOn(A.runId) });
    });

    it('publishes nothing over a damaged manifest when the versions record names no live run of the night, and says which file to put back from where', async () => {
      await publish(store, A);
      await putText(client, manifestKey(DATE), '{"runId": 3}');
      await putText(client, '_publish/versions.json', '{}');

      const attempt = publish(store, B);

      await expect(attempt).rejects.toThrow(PublishError);
      await expect(attempt).rejects.toThrow(
        `s3://${BUCKET}/${PREFIX}${manifestKey(DATE)} is not a manifest (runId: Invalid input: expected string, received number), and _publish/versions.json names no live run of ${DATE}: which run readers see is unknown, so it was not replaced; put back the manifest of the run readers should see (each run keeps a copy: s3://${BUCKET}/${PREFIX}_runs/<run id>/${manifestKey(DATE)}) and run again): nothing readers see changed`,
      );
      expect(await partitionLocations(glue, 'customers', DATE)).toEqual({
        [`${DATE}/high`]: `s3://${BUCKET}/${PREFIX}_runs/run-a/customers/run_date=${DATE}/segment=high/`,
        [`${DATE}/low`]: `s3://${BUCKET}/${PREFIX}_runs/run-a/customers/run_date=${DATE}/segment=low/`,
      });
      expect((await keys(client)).some((k) => k.startsWith('_runs/run-b/'))).toBe(false);
    });

    it("points the catalog back at the run readers saw when a re-run's commit fails, though that run's own copy of its manifest is damaged", async () => {
      await publish(store, A);
      await putText(client, `_runs/${A.runId}/${manifestKey(DATE)}`, '{"broken');
      const commitFails = new S3Store({
        client: motoS3ClientFailing(moto.endpoint, (command, key) => command === 'PutObjectCommand' && key === `${PREFIX}${manifestKey(DATE)}`),
        bucket: BUCKET,
        prefix: PREFIX,
        catalog: { client: glue, database: GLUE_DATABASE, tables: CATALOG_TABLES },
      });

      await expect(publish(commitFails, B)).rejects.toThrow(`failed before the switch (We encountered an internal error. Please try again.): readers still see run ${A.runId}`);

      expect(await partitionLocations(glue, 'customers', DATE)).toEqual({
        [`${DATE}/high`]: `s3://${BUCKET}/${PREFIX}_runs/run-a/customers/run_date=${DATE}/segment=high/`,
        [`${DATE}/low`]: `s3://${BUCKET}/${PREFIX}_runs/run-a/customers/run_date=${DATE}/segment=low/`,
        [`${DATE}/mid`]: `s3://${BUCKET}/${PREFIX}_runs/run-a/customers/run_date=${DATE}/segment=mid/`,
      });
    });

    it("undoes a re-run whose commit fails over a night whose manifest is damaged: a damaged switch is no switch to the new run, and nothing is left unsettled", async () => {
      await publish(store, A);
      await putText(client, manifestKey(DATE), '{"broken');
      const commitFails = new S3Store({
        client: motoS3ClientFailing(moto.endpoint, (command, key) => command === 'PutObjectCommand' && key === `${PREFIX}${manifestKey(DATE)}`),
        bucket: BUCKET,
        prefix: PREFIX,
        catalog: { client: glue, database: GLUE_DATABASE, tables: CATALOG_TABLES },
      });

      await expect(publish(commitFails, B)).rejects.toThrow(/failed before the switch/);

      expect(Object.values(await partitionLocations(glue, 'customers', DATE)).every((location) => location.includes('/_runs/run-a/'))).toBe(true);
      expect((await store.recover()).unfinished).toBeUndefined();
    });

    it("streams a file through a multipart upload into the run's own prefix, part by part", async () => {
      const small = new S3Store({ client, bucket: BUCKET, prefix: PREFIX, partSize: 5 * 1024 * 1024 });
      const run = await small.stage('run-big');
      const bytes = randomBytes(11 * 1024 * 1024 + 17);

      const sink = await run.open(part('high'));
      for (let i = 0; i < bytes.length; i += 256 * 1024) await sink.write(bytes.subarray(i, i + 256 * 1024));
      await sink.close();
      const staged = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}_runs/run-big/${part('high')}` }));
      await run.publish(DATE, { runId: 'run-big', runDate: DATE, files: [{ key: part('high'), bytes: bytes.length, rows: null }] });

      // a multipart upload's ETag ends with its part count: 11 MiB in parts of 5 MiB
      expect(staged.ETag).toMatch(/-3"$/);
      expect(Buffer.from((await small.read(part('high')))!).equals(bytes)).toBe(true);
    });

    it('says its sinks keep the chunks they are given (the upload reads them until their part is sent)', async () => {
      const run = await store.stage('run-keeps');
      const sink = await run.open(part('high'));
      await sink.close();

      expect(sink.keepsChunks).toBe(true);
    });

    it('switches a re-run night in place: every partition of each table at the new run, one it lacks at its empty prefix', async () => {
      await publish(store, A);

      await publish(store, B);

      expect(await seenOnS3(client, glue, BUCKET, PREFIX)).toEqual({
        files: { runId: B.runId, segments: ['high', 'mid'], rows: 6 },
        catalog: everyTableOn(B.runId),
      });
      // low (only A had it) now reads the new run's empty prefix: no rows, not the old ones
      expect((await partitionLocations(glue, 'customers', DATE))[`${DATE}/low`]).toBe(`s3://${BUCKET}/${PREFIX}_runs/run-b/customers/run_date=${DATE}/segment=low/`);
      // the replaced version stays for rollback; nothing was copied or deleted
      expect((await keys(client)).filter((k) => k.startsWith('_runs/run-a/'))).toHaveLength(Object.keys(await versionFiles(A)).length + 2);
    });

    it('keeps latest.json on the newest run date when an older night is re-run', async () => {
      await publish(store, A, '2025-02-01');

      await publish(store, B, '2025-01-15');

      expect(JSON.parse(await text(client, 'latest.json'))).toMatchObject({ run_date: '2025-02-01', run_id: A.runId });
      expect(await store.publishedRunDates()).toEqual(['2025-01-15', '2025-02-01']);
    });

    it('rolls a night back to the version it replaced, for file and catalog readers alike', async () => {
      await publish(store, A);
      await publish(store, B);

      const outcome = await store.rollback(DATE);

      expect(outcome.runId).toBe(A.runId);
      expect(await seenOnS3(client, glue, BUCKET, PREFIX)).toEqual({
        files: { runId: A.runId, segments: ['high', 'low'], rows: 4 },
        catalog: everyTableOn(A.runId),
      });
      await expect(store.rollback(DATE)).rejects.toThrow(/no previous version kept/);
    });

    it('removes the files of a run that died before publishing when the next run recovers', async () => {
      await publish(store, A);
      await stageVersion(await store.stage('died'), B);

      const report = await store.recover();

      expect(report.actions).toEqual(['removed dead staging of run died']);
      expect((await keys(client)).some((k) => k.startsWith('_runs/died/'))).toBe(false);
    });

    it("says, on recovery, that a night's live run is gone (its objects deleted by hand), with the rollback to the version it replaced, and removes nothing", async () => {
      await publish(store, A);
      await publish(store, B);
      for (const key of (await keys(client)).filter((k) => k.startsWith('_runs/run-b/'))) await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${key}` }));
      const before = await keys(client);

      const report = await store.recover();

      expect(report.actions).toEqual([]);
      expect(report.warnings).toEqual([
        `${DATE} is published on run run-b, whose files are gone (s3://${BUCKET}/${PREFIX}_runs/run-b/): readers of that night find nothing; run ${DATE} again (\`clv run --as-of ${DATE}\`, the Lambda: {"runDate": "${DATE}"}), or \`clv rollback --run-date ${DATE}\` to switch back to run run-a, the version it replaced. Nothing of that night was removed`,
      ]);
      expect(await keys(client)).toEqual(before);
    });

    it("aborts open multipart uploads and removes the run's files when discarded", async () => {
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

  describe('quality reports', () => {
    it('lists the run dates with a report under _quality/, ascending, and none once their reports are removed', async () => {
      await store.putReport('_quality/run_date=2025-02-01/quality.json', '{}');
      await store.putReport('_quality/run_date=2025-01-15/quality.json', '{}');
      // not a night's report
      await putText(client, '_quality/run_date=2025-01-20/notes.txt', 'x');

      expect(await store.qualityReportDates()).toEqual(['2025-01-15', '2025-02-01']);
      await store.removeReport('_quality/run_date=2025-01-15/quality.json');
      expect(await store.qualityReportDates()).toEqual(['2025-02-01']);
    });
  });

  describe('publishing records that cannot be read', () => {
    it('names the versions record by its s3:// URL when it is not JSON, and says what rebuilds it', async () => {
      await publish(store, A);
      await putText(client, '_publish/versions.json', '[\n');

      const rollback = store.rollback(DATE);

      await expect(rollback).rejects.toThrow(PublishStateError);
      await expect(rollback).rejects.toThrow(`s3://${BUCKET}/${PREFIX}_publish/versions.json: not JSON (`);
      await expect(rollback).rejects.toThrow('`clv recover`');
    });

    it('rebuilds a versions record that is not JSON from the manifests: the live run, older complete runs kept but not offered to rollback', async () => {
      await publish(store, A);
      await publish(store, B);
      await putText(client, '_publish/versions.json', '[\n');

      const report = await store.recover();

      expect(report.actions).toEqual([
        expect.stringMatching(/^s3:\/\/clv-store-test\/clv\/_publish\/versions\.json was not JSON \(.*\): rebuilt it from the runs readers see, 1 night\(s\) each on its live run; 1 complete older run\(s\)/),
      ]);
      const versions = JSON.parse(await text(client, '_publish/versions.json')) as Record<string, { runId: string; replacedAt: string | null; rolledBack: boolean }[]>;
      expect(versions[DATE]?.map((v) => [v.runId, v.replacedAt === null, v.rolledBack])).toEqual([
        [A.runId, false, true],
        [B.runId, true, false],
      ]);
      expect((await keys(client)).some((k) => k.startsWith('_runs/run-a/'))).toBe(true);
      expect(await seenOnS3(client, glue, BUCKET, PREFIX)).toEqual({ files: { runId: B.runId, segments: ['high', 'mid'], rows: 6 }, catalog: everyTableOn(B.runId) });
      await expect(store.rollback(DATE)).rejects.toThrow(
        `run ${A.runId} of that night is kept and complete but marked rolled back (by a rollback, or by recovery rebuilding _publish/versions.json); to offer one, set its "rolledBack" to false in s3://${BUCKET}/${PREFIX}_publish/versions.json and put its entry`,
      );
    });

    it('takes an intent that is not JSON for a publish of unknown outcome: the catalog, switched ahead of the manifest, goes back to the run file readers see', async () => {
      await publish(store, A);
      const b = await stageVersion(await store.stage(B.runId), B);
      // a crash after B's Glue switch, before its manifest (the commit); the intent left half written
      await new GluePartitionSwitch({ client: glue, database: GLUE_DATABASE, tables: CATALOG_TABLES }, (key) => `s3://${BUCKET}/${PREFIX}${key}`).pointAt(b);
      await putText(client, '_publish/intent.json', '{"action":');

      const report = await store.recover();

      expect(report.actions).toEqual([
        expect.stringMatching(/^s3:\/\/clv-store-test\/clv\/_publish\/intent\.json was not JSON \(.*\): the publish it recorded is unknown; each of the 1 published night\(s\) stays on the run readers see, and the intent was removed$/),
        `removed dead staging of run ${B.runId}`,
      ]);
      expect(report.warnings).toEqual([]);
      expect(await seenOnS3(client, glue, BUCKET, PREFIX)).toEqual({ files: { runId: A.runId, segments: ['high', 'low'], rows: 4 }, catalog: everyTableOn(A.runId) });
      expect((await keys(client)).filter((k) => k.startsWith('_publish/'))).toEqual(['_publish/versions.json']);
    });

    it('rewrites a latest.json that is not JSON for the newest night readers see', async () => {
      await publish(store, A, '2025-02-01');
      await publish(store, B, '2025-01-15');
      await putText(client, 'latest.json', 'garbage');

      const report = await store.recover();

      expect(report.actions).toEqual([expect.stringMatching(/latest\.json was not JSON \(.*\): rewrote it for the newest night readers see, 2025-02-01 \(run run-a\)$/)]);
      expect(JSON.parse(await text(client, 'latest.json'))).toEqual({ run_date: '2025-02-01', run_id: A.runId, summary: '_runs/run-a/summary/run_date=2025-02-01/summary.json' });
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

      expect(JSON.parse(await text(client, '_lock/run.lock'))).toMatchObject({ runId: 'new-run' });
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
