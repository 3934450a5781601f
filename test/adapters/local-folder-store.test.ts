import * as nodeFs from 'node:fs/promises';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFolderStore, type LocalFs } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { ClvError, PublishStateError, RunLockedError } from '../../lambdas/clv-job/errors.js';
import { manifestKey } from '../../lambdas/clv-job/layout.js';
import { outOfInodes, tempDir } from '../support/files.js';
import { RUN_DATE, leftovers, seenLocally, stageVersion, type NightVersion } from '../support/publish-faults.js';

const A: NightVersion = { runId: 'run-a', segments: ['high', 'low'], rowsPerSegment: 2 };
const B: NightVersion = { runId: 'run-b', segments: ['high', 'mid'], rowsPerSegment: 3 };
const C: NightVersion = { runId: 'run-c', segments: ['low'], rowsPerSegment: 4 };

const publish = async (store: LocalFolderStore, version: NightVersion, runDate = RUN_DATE) => {
  const run = await store.stage(version.runId);
  return run.publish(runDate, await stageVersion(run, version, runDate));
};

const DAY = 86_400_000;

describe('the local folder store', () => {
  describe('publishing', () => {
    it('shows nothing of a run until it is published, then the night through links into the run', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      const run = await store.stage(A.runId);
      const manifest = await stageVersion(run, A);
      const before = (await readdir(root)).filter((e) => !e.startsWith('_'));

      const outcome = await run.publish(RUN_DATE, manifest);

      expect(before).toEqual([]);
      expect(outcome).toEqual({ runId: A.runId, runDate: RUN_DATE, warnings: [] });
      expect(await seenLocally(root)).toEqual({ runId: A.runId, segments: ['high', 'low'], rows: 4 });
      expect(await readlink(join(root, `_live/run_date=${RUN_DATE}`))).toBe('../_runs/run-a');
      expect((await lstat(join(root, `summary/run_date=${RUN_DATE}/summary.json`))).isSymbolicLink()).toBe(true);
      expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'))).toMatchObject({ run_date: RUN_DATE, run_id: A.runId });
      expect(await store.publishedRunDates()).toEqual([RUN_DATE]);
      expect(run.locationOf('customers/x.parquet')).toBe(join(root, '_runs/run-a/customers/x.parquet'));
      expect(await leftovers(root)).toEqual([]);
    });

    it('replaces a night on a re-run: readers see only the new version, whose files differ from the old', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);

      await publish(store, B);

      expect(await seenLocally(root)).toEqual({ runId: B.runId, segments: ['high', 'mid'], rows: 6 });
      expect(await leftovers(root)).toEqual([]);
      // the replaced version is kept for rollback
      expect((await readdir(join(root, '_runs'))).sort()).toEqual(['run-a', 'run-b']);
    });

    it("replaces, on a re-run, a night whose run's manifest is damaged, saying that version cannot be rolled back to; a re-run that fails before the switch says readers still see it", async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      const damaged = join(root, `_runs/${A.runId}/${manifestKey(RUN_DATE)}`);
      await writeFile(damaged, '{"broken');
      const live = join(root, `_live/run_date=${RUN_DATE}`);
      const switchFails: LocalFs = { ...nodeFs, rename: async (from, to) => (String(to) === live ? Promise.reject(new Error('disk full')) : nodeFs.rename(from, to)) };

      const failed = publish(new LocalFolderStore(root, { fs: switchFails }), B);
      await expect(failed).rejects.toThrow(`publishing run ${B.runId} of ${RUN_DATE} failed before the switch (disk full): readers still see run ${A.runId}`);
      const outcome = await publish(store, C);

      expect(outcome.warnings).toEqual([
        expect.stringMatching(
          new RegExp(`^the manifest of run ${A.runId}, the version of ${RUN_DATE} this run replaced, is not JSON \\(.+\\) \\(${damaged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): it is kept, but \`clv rollback\` cannot switch back to it$`),
        ),
      ]);
      expect(await seenLocally(root)).toEqual({ runId: C.runId, segments: ['low'], rows: 4 });
      await expect(store.rollback(RUN_DATE)).rejects.toThrow(`the previous version of ${RUN_DATE} (run ${A.runId}) is incomplete`);
    });

    it('leaves the published night untouched when a staged run is discarded', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);

      const failed = await store.stage(B.runId);
      await stageVersion(failed, B);
      await failed.discard();

      expect(await seenLocally(root)).toMatchObject({ runId: A.runId });
      expect(await readdir(join(root, '_runs'))).toEqual(['run-a']);
    });

    it('keeps latest.json on the newest run date when an older night is re-run', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A, '2025-02-28');

      await publish(store, B, '2025-01-31');

      expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8')).run_date).toBe('2025-02-28');
      expect(await store.publishedRunDates()).toEqual(['2025-01-31', '2025-02-28']);
    });

    it('refuses to publish over files of an older layout, which would stay visible beside every version', async () => {
      const root = await tempDir();
      await mkdir(join(root, `summary/run_date=${RUN_DATE}`), { recursive: true });
      await writeFile(join(root, `summary/run_date=${RUN_DATE}/summary.json`), '{}');
      const store = new LocalFolderStore(root);

      await expect(publish(store, A)).rejects.toThrow(/older layout/);
    });
  });

  describe('writing', () => {
    it('is done with a chunk when its write resolves: bytes changed afterwards (a reused buffer) do not reach the file', async () => {
      const root = await tempDir();
      const run = await new LocalFolderStore(root).stage('run-reuse');
      // chunks below the stream's high-water mark (16 kB), which it buffers while it writes the first, and above it
      const pieces = [100, 10, 200, 70_000, 10, 20_000, 30].map((length, k) => new Uint8Array(length).fill(k + 1));
      const reused = new Uint8Array(70_000);

      const sink = await run.open('customers/x.parquet');
      for (const piece of pieces) {
        reused.set(piece);
        await sink.write(reused.subarray(0, piece.length));
        reused.fill(9);
      }
      await sink.close();

      expect(new Uint8Array(await readFile(run.locationOf('customers/x.parquet')))).toEqual(Uint8Array.from(pieces.flatMap((piece) => [...piece])));
    });

    it("fails a file whose folder a disk out of inodes cannot make with the disk's ENOSPC, not the ENOENT of Node's recursive mkdir", async () => {
      const root = await tempDir();
      await new LocalFolderStore(root).stage('run-full');
      const run = await new LocalFolderStore(root, { fs: { ...nodeFs, ...outOfInodes } }).stage('run-full');

      const failure = run.open(`segments/run_date=${RUN_DATE}/part-00000.parquet`);

      await expect(failure).rejects.toMatchObject({ code: 'ENOSPC', path: join(root, '_runs/run-full/segments') });
    });
  });

  describe('quality reports', () => {
    it('lists the run dates with a report under _quality/, ascending, and none once their reports are removed', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await store.putReport('_quality/run_date=2025-02-01/quality.json', '{}');
      await store.putReport('_quality/run_date=2025-01-15/quality.json', '{}');
      // not a night's report folder
      await mkdir(join(root, '_quality/notes'));

      expect(await store.qualityReportDates()).toEqual(['2025-01-15', '2025-02-01']);
      await store.removeReport('_quality/run_date=2025-01-15/quality.json');
      expect(await store.qualityReportDates()).toEqual(['2025-02-01']);
      expect(await new LocalFolderStore(await tempDir()).qualityReportDates()).toEqual([]);
    });
  });

  describe('rollback', () => {
    it('switches a night back to the version the current one replaced, then to the one before', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await publish(store, B);
      await publish(store, C);

      const first = await store.rollback(RUN_DATE);
      const afterFirst = await seenLocally(root);
      const second = await store.rollback(RUN_DATE);

      expect(first.runId).toBe(B.runId);
      expect(afterFirst.runId).toBe(B.runId);
      expect(second.runId).toBe(A.runId);
      expect(await seenLocally(root)).toEqual({ runId: A.runId, segments: ['high', 'low'], rows: 4 });
      expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8')).run_id).toBe(A.runId);
      // the versions the rollbacks left are kept, and the refusal says why none is switched to again
      await expect(store.rollback(RUN_DATE)).rejects.toThrow(/no previous version kept .*; run run-c, which a rollback left, is kept, but a rollback goes back only: run the night again to publish anew$/);
      expect(await leftovers(root)).toEqual([]);
    });

    it('starts neither a rollback nor a publish while an earlier one is unfinished (its intent there): its own would overwrite the only record of it', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await publish(store, B);
      const intent = JSON.stringify({ action: 'publish', runId: 'run-x', runDate: '2025-03-01', previousRunId: null, startedAt: '2025-03-01T03:00:00.000Z' });
      await writeFile(join(root, '_publish/intent.json'), intent);

      await expect(store.rollback(RUN_DATE)).rejects.toThrow(
        `rolling ${RUN_DATE} back was not started: an earlier publish or rollback is unfinished (_publish/intent.json is still there) and would lose its record; the next run or a recovery`,
      );
      await expect(publish(store, C)).rejects.toThrow(/^publishing run run-c of 2025-01-31 was not started: an earlier publish or rollback is unfinished/);

      expect(await readFile(join(root, '_publish/intent.json'), 'utf8')).toBe(intent);
      expect((await seenLocally(root)).runId).toBe(B.runId);
    });

    it('says so when the night was never published', async () => {
      await expect(new LocalFolderStore(await tempDir()).rollback(RUN_DATE)).rejects.toThrow(ClvError);
    });
  });

  describe('recovery and retention', () => {
    it('removes the files of a run that died before publishing (dead staging) and keeps published versions', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await stageVersion(await store.stage('died'), B);

      const report = await store.recover();

      expect(report.actions).toEqual(['removed dead staging of run died']);
      expect(await readdir(join(root, '_runs'))).toEqual(['run-a']);
      expect(await seenLocally(root)).toMatchObject({ runId: A.runId });
    });

    it('removes a replaced version once it has been replaced for longer than the retention, and never the live one', async () => {
      const root = await tempDir();
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      await publish(new LocalFolderStore(root, { keepPreviousDays: 7, now: () => new Date(t0) }), A);
      await publish(new LocalFolderStore(root, { keepPreviousDays: 7, now: () => new Date(t0 + DAY) }), B);

      const within = await new LocalFolderStore(root, { keepPreviousDays: 7, now: () => new Date(t0 + 7 * DAY) }).recover();
      const after = await new LocalFolderStore(root, { keepPreviousDays: 7, now: () => new Date(t0 + 8 * DAY + 1) }).recover();

      expect(within.actions).toEqual([]);
      expect(after.actions).toEqual([expect.stringMatching(/removed run run-a, a version of 2025-01-31 replaced more than 7 days ago/)]);
      expect(await readdir(join(root, '_runs'))).toEqual(['run-b']);
      expect(await seenLocally(root)).toMatchObject({ runId: B.runId });
    });
  });

  describe('a published night whose live run is gone (its _runs/<run id>/ deleted by hand)', () => {
    it('says so, one warning per night naming the run and what publishes the night again, and removes nothing: the run put back serves the night again', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await publish(store, B);
      await publish(store, C, '2025-02-01');
      const records = async () => [await readFile(join(root, '_publish/versions.json'), 'utf8'), await readFile(join(root, 'latest.json'), 'utf8')];
      const before = await records();
      const aside = await tempDir();
      await nodeFs.rename(join(root, '_runs', B.runId), join(aside, B.runId));
      await nodeFs.rm(join(root, '_runs', C.runId), { recursive: true });

      const report = await store.recover();

      expect(report.actions).toEqual([]);
      expect(report.warnings).toEqual([
        `${RUN_DATE} is published on run run-b, whose files are gone (${root}/_runs/run-b/): readers of that night find nothing; run ${RUN_DATE} again (\`clv run --as-of ${RUN_DATE}\`, the Lambda: {"runDate": "${RUN_DATE}"}), or \`clv rollback --run-date ${RUN_DATE}\` to switch back to run run-a, the version it replaced. Nothing of that night was removed`,
        `2025-02-01 is published on run run-c, whose files are gone (${root}/_runs/run-c/): readers of that night find nothing; run 2025-02-01 again (\`clv run --as-of 2025-02-01\`, the Lambda: {"runDate": "2025-02-01"}). Nothing of that night was removed`,
      ]);
      expect(await records()).toEqual(before);
      await nodeFs.rename(join(aside, B.runId), join(root, '_runs', B.runId));
      expect(await seenLocally(root)).toEqual({ runId: B.runId, segments: ['high', 'mid'], rows: 6 });
    });

    it('is published again by a run of that night, after which recovery has nothing to say', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await nodeFs.rm(join(root, '_runs', A.runId), { recursive: true });
      expect((await store.recover()).warnings).toHaveLength(1);

      await publish(store, B);

      expect(await seenLocally(root)).toEqual({ runId: B.runId, segments: ['high', 'mid'], rows: 6 });
      expect(await store.recover()).toEqual({ actions: [], warnings: [], switched: [] });
    });
  });

  describe('a replaced version with --keep-previous-days 0, and latest.json deleted', () => {
    it('keeps the version a re-run replaced until the next run, so the rollback its warning offers works', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root, { keepPreviousDays: 0 });
      await publish(store, A);
      await publish(store, B);

      expect((await readdir(join(root, '_runs'))).sort()).toEqual([A.runId, B.runId]);
      expect((await store.rollback(RUN_DATE)).runId).toBe(A.runId);
    });

    it('names the newest night again when latest.json is missing, or names an older night, on a backfill and on recovery', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A, '2025-02-01');
      await nodeFs.rm(join(root, 'latest.json'));

      await publish(store, B, '2025-01-15');
      expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'))).toMatchObject({ run_date: '2025-02-01', run_id: A.runId });

      // stale (an update that failed while 2025-02-01 published): a backfill names the newest night again
      await nodeFs.writeFile(join(root, 'latest.json'), JSON.stringify({ run_date: '2025-01-20', run_id: 'gone', summary: 'x' }));
      await publish(store, B, '2025-01-10');
      expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'))).toMatchObject({ run_date: '2025-02-01', run_id: A.runId });

      await nodeFs.rm(join(root, 'latest.json'));
      const report = await store.recover();
      expect(report.actions).toEqual([`latest.json was missing: rewrote it for the newest night readers see, 2025-02-01 (run ${A.runId})`]);
      expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'))).toMatchObject({ run_date: '2025-02-01' });
    });
  });

  describe('publishing records that cannot be read', () => {
    it('names a versions record that is not JSON, and says what rebuilds it', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await writeFile(join(root, '_publish/versions.json'), '[\n');

      const rollback = store.rollback(RUN_DATE);

      await expect(rollback).rejects.toThrow(PublishStateError);
      await expect(rollback).rejects.toThrow(`${join(root, '_publish/versions.json')}: not JSON (`);
      await expect(rollback).rejects.toThrow('`clv recover`');
    });

    it('names a versions record of another shape, with the field that is wrong', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await writeFile(join(root, '_publish/versions.json'), JSON.stringify({ [RUN_DATE]: [{ runId: A.runId }] }));

      await expect(store.rollback(RUN_DATE)).rejects.toThrow(`${join(root, '_publish/versions.json')}: not a versions record (${RUN_DATE}.0.publishedAt: `);
    });

    it('rebuilds a versions record that is not JSON from the runs readers see: the live run, and older complete runs kept but not offered to rollback', async () => {
      const root = await tempDir();
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const store = new LocalFolderStore(root, { now: () => new Date(t0) });
      await publish(store, A);
      await publish(store, B);
      await stageVersion(await store.stage('died'), C);
      await writeFile(join(root, '_publish/versions.json'), '[\n');

      const report = await store.recover();

      expect(report.actions).toEqual([
        expect.stringMatching(/^\S+\/_publish\/versions\.json was not JSON \(.*\): rebuilt it from the runs readers see, 1 night\(s\) each on its live run; 1 complete older run\(s\) of those nights kept as replaced versions for 30 days but not offered to `clv rollback`/),
        'removed dead staging of run died',
      ]);
      expect(report.warnings).toEqual([]);
      const at = new Date(t0).toISOString();
      expect(JSON.parse(await readFile(join(root, '_publish/versions.json'), 'utf8'))).toEqual({
        [RUN_DATE]: [
          { runId: A.runId, publishedAt: at, replacedAt: at, rolledBack: true },
          { runId: B.runId, publishedAt: at, replacedAt: null, rolledBack: false },
        ],
      });
      expect((await readdir(join(root, '_runs'))).sort()).toEqual([A.runId, B.runId]);
      expect(await seenLocally(root)).toEqual({ runId: B.runId, segments: ['high', 'mid'], rows: 6 });
      await expect(store.rollback(RUN_DATE)).rejects.toThrow(
        `${RUN_DATE} has no previous version offered to rollback in ${root}: run ${A.runId} of that night is kept and complete but marked rolled back (by a rollback, or by recovery rebuilding _publish/versions.json); to offer one, set its "rolledBack" to false in ${join(root, '_publish/versions.json')} and put its entry just before the live one (README "Publishing records that cannot be read")`,
      );
      // as that README section says: offered, it is switched to
      const record = JSON.parse(await readFile(join(root, '_publish/versions.json'), 'utf8')) as Record<string, { rolledBack: boolean }[]>;
      record[RUN_DATE]![0]!.rolledBack = false;
      await writeFile(join(root, '_publish/versions.json'), JSON.stringify(record));
      expect((await store.rollback(RUN_DATE)).runId).toBe(A.runId);
      expect(await seenLocally(root)).toMatchObject({ runId: A.runId });
      await publish(store, C);
      expect(await seenLocally(root)).toMatchObject({ runId: C.runId });
    });

    it('rebuilds a versions record that is missing while nights are published, instead of taking every run for dead staging', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await publish(store, B, '2025-02-01');
      await stageVersion(await store.stage('died'), C);
      await nodeFs.rm(join(root, '_publish/versions.json'));

      const report = await store.recover();

      expect(report.actions).toEqual([
        expect.stringMatching(/^\S+\/_publish\/versions\.json was missing while nights are published: rebuilt it from the runs readers see, 2 night\(s\) each on its live run/),
        'removed dead staging of run died',
      ]);
      expect((await readdir(join(root, '_runs'))).sort()).toEqual([A.runId, B.runId]);
      expect(await seenLocally(root)).toMatchObject({ runId: A.runId });
      expect(await seenLocally(root, '2025-02-01')).toMatchObject({ runId: B.runId });
    });

    it('records again, and keeps, a live run that a versions record edited by hand no longer names, with its night\'s complete older version', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      await publish(store, B, '2025-02-01');
      await publish(store, C, '2025-02-01');
      const record = JSON.parse(await readFile(join(root, '_publish/versions.json'), 'utf8')) as Record<string, unknown>;
      delete record['2025-02-01'];
      await writeFile(join(root, '_publish/versions.json'), JSON.stringify(record));

      const report = await store.recover();

      expect(report.actions).toEqual([`recorded in _publish/versions.json what readers see but it did not name as live: run ${C.runId} of 2025-02-01`]);
      expect((await readdir(join(root, '_runs'))).sort()).toEqual([A.runId, B.runId, C.runId]);
      expect(await seenLocally(root, '2025-02-01')).toMatchObject({ runId: C.runId });
    });

    it('takes an intent that is not JSON for a publish of unknown outcome: the night stays on the run readers see, which is recorded and kept, and the intent goes', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A);
      const recordOfA = await readFile(join(root, '_publish/versions.json'), 'utf8');
      await publish(store, B);
      // a crash after B's switch, before its version was recorded; the intent left half written
      await writeFile(join(root, '_publish/versions.json'), recordOfA);
      await writeFile(join(root, '_publish/intent.json'), '{"action":');

      const report = await store.recover();

      expect(report.actions).toEqual([
        expect.stringMatching(/^\S+\/_publish\/intent\.json was not JSON \(.*\): the publish it recorded is unknown; each of the 1 published night\(s\) stays on the run readers see, and the intent was removed$/),
        `recorded in _publish/versions.json what readers see but it did not name as live: run ${B.runId} of ${RUN_DATE}`,
      ]);
      expect(report.warnings).toEqual([]);
      expect(await readdir(join(root, '_publish'))).toEqual(['versions.json']);
      expect((await readdir(join(root, '_runs'))).sort()).toEqual([A.runId, B.runId]);
      expect(await seenLocally(root)).toEqual({ runId: B.runId, segments: ['high', 'mid'], rows: 6 });
      expect(await leftovers(root)).toEqual([]);
      expect((await store.rollback(RUN_DATE)).runId).toBe(A.runId);
    });

    it('rewrites a latest.json that is not JSON for the newest night readers see, on recovery and when an older night is re-run', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);
      await publish(store, A, '2025-02-01');
      await writeFile(join(root, 'latest.json'), 'garbage');

      const report = await store.recover();
      const recovered = JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'));
      await writeFile(join(root, 'latest.json'), 'garbage');
      const outcome = await publish(store, B, '2025-01-15');

      expect(report.actions).toEqual([expect.stringMatching(/^\S+\/latest\.json was not JSON \(.*\): rewrote it for the newest night readers see, 2025-02-01 \(run run-a\)$/)]);
      expect(recovered).toEqual({ run_date: '2025-02-01', run_id: A.runId, summary: 'summary/run_date=2025-02-01/summary.json' });
      expect(outcome.warnings).toEqual([]);
      expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'))).toEqual(recovered);
    });
  });

  describe('the run lock', () => {
    it('lets one run hold it at a time, and records the holder: run id, pid, host and start time', async () => {
      const root = await tempDir();
      const store = new LocalFolderStore(root);

      const lock = await store.lock('one', 3600);
      const holder = JSON.parse(await readFile(join(root, '_lock/run.lock'), 'utf8'));
      await expect(store.lock('two', 3600)).rejects.toThrow(RunLockedError);
      await lock.release();

      expect(holder).toMatchObject({ runId: 'one', pid: process.pid, host: hostname(), since: expect.any(String) });
      await expect(store.lock('three', 3600).then((l) => l.release())).resolves.toBeUndefined();
      expect(await leftovers(root)).toEqual([]);
    });

    it.each([
      ['whose process is gone', { pid: 2 ** 22 + 7, since: new Date().toISOString() }],
      ['older than its time to live', { pid: process.pid, since: '2000-01-01T00:00:00.000Z' }],
    ])('takes over a lock %s', async (_, holder) => {
      const root = await tempDir();
      await mkdir(join(root, '_lock'), { recursive: true });
      await writeFile(join(root, '_lock/run.lock'), JSON.stringify({ runId: 'crashed', host: hostname(), token: 't', ...holder }));

      const lock = await new LocalFolderStore(root).lock('next', 3600);

      expect(JSON.parse(await readFile(join(root, '_lock/run.lock'), 'utf8')).runId).toBe('next');
      await lock.release();
    });
  });
});
