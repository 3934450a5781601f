import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFolderStore } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { RunLockedError } from '../../lambdas/clv-job/errors.js';
import { tempDir } from '../support/files.js';

const listFiles = async (root: string): Promise<string[]> => {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
};

const publishRun = async (store: LocalFolderStore, runId: string, runDate: string, parts: Record<string, string>) => {
  const run = await store.stage(runId);
  for (const [key, body] of Object.entries(parts)) await run.put(key, body);
  await run.publish(runDate, { runId, runDate, files: Object.keys(parts).map((key) => ({ key, bytes: 1, rows: 1 })) });
};

describe('the local folder store', () => {
  it('shows nothing of a run until it is published, then its files, manifest, _SUCCESS and latest.json', async () => {
    const root = await tempDir();
    const store = new LocalFolderStore(root);
    const run = await store.stage('run-1');

    await run.put('customers/run_date=2025-01-31/segment=high/part-00000.parquet', 'high');
    await run.put('summary/run_date=2025-01-31/summary.json', '{}');
    const beforePublish = (await listFiles(root)).filter((f) => !f.startsWith('_staging/'));
    await run.publish('2025-01-31', { runId: 'run-1', runDate: '2025-01-31', files: [] });

    expect(beforePublish).toEqual([]);
    expect(await listFiles(root)).toEqual([
      'customers/run_date=2025-01-31/segment=high/part-00000.parquet',
      'latest.json',
      'summary/run_date=2025-01-31/_SUCCESS',
      'summary/run_date=2025-01-31/_manifest.json',
      'summary/run_date=2025-01-31/summary.json',
    ]);
    expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8'))).toMatchObject({ run_date: '2025-01-31', run_id: 'run-1' });
    expect(await store.publishedRunDates()).toEqual(['2025-01-31']);
  });

  it('replaces a run date on a rerun, leaving no part of the earlier run behind', async () => {
    const root = await tempDir();
    const store = new LocalFolderStore(root);
    await publishRun(store, 'first', '2025-01-31', {
      'customers/run_date=2025-01-31/segment=high/part-00000.parquet': 'old high',
      'customers/run_date=2025-01-31/segment=low/part-00000.parquet': 'old low',
      'summary/run_date=2025-01-31/summary.json': 'old',
    });

    await publishRun(store, 'second', '2025-01-31', {
      'customers/run_date=2025-01-31/segment=high/part-00000.parquet': 'new high',
      'summary/run_date=2025-01-31/summary.json': 'new',
    });

    const files = await listFiles(root);
    expect(files.filter((f) => f.startsWith('customers/'))).toEqual(['customers/run_date=2025-01-31/segment=high/part-00000.parquet']);
    expect(await readFile(join(root, 'summary/run_date=2025-01-31/summary.json'), 'utf8')).toBe('new');
    expect(files.some((f) => f.startsWith('_staging/'))).toBe(false);
  });

  it('leaves the previous output untouched when a staged run is discarded', async () => {
    const root = await tempDir();
    const store = new LocalFolderStore(root);
    await publishRun(store, 'good', '2025-01-31', { 'summary/run_date=2025-01-31/summary.json': 'good' });
    const before = await listFiles(root);

    const failed = await store.stage('failed');
    await failed.put('summary/run_date=2025-01-31/summary.json', 'half');
    await failed.discard();

    expect(await listFiles(root)).toEqual(before);
    expect(await readFile(join(root, 'summary/run_date=2025-01-31/summary.json'), 'utf8')).toBe('good');
  });

  it('keeps latest.json on the newest run date when an older night is re-run', async () => {
    const root = await tempDir();
    const store = new LocalFolderStore(root);
    await publishRun(store, 'new', '2025-02-28', { 'summary/run_date=2025-02-28/summary.json': '{}' });

    await publishRun(store, 'old', '2025-01-31', { 'summary/run_date=2025-01-31/summary.json': '{}' });

    expect(JSON.parse(await readFile(join(root, 'latest.json'), 'utf8')).run_date).toBe('2025-02-28');
    expect(await store.publishedRunDates()).toEqual(['2025-01-31', '2025-02-28']);
  });

  it('lets one run hold the lock at a time', async () => {
    const store = new LocalFolderStore(await tempDir());

    const lock = await store.lock('one', 3600);
    await expect(store.lock('two', 3600)).rejects.toThrow(RunLockedError);
    await lock.release();

    await expect(store.lock('three', 3600).then((l) => l.release())).resolves.toBeUndefined();
  });

  it.each([
    ['whose process is gone', { pid: 2 ** 22 + 7, since: new Date().toISOString() }],
    ['older than its time to live', { pid: process.pid, since: '2000-01-01T00:00:00.000Z' }],
  ])('takes over a lock %s', async (_, holder) => {
    const root = await tempDir();
    await mkdir(join(root, '_lock'), { recursive: true });
    await writeFile(join(root, '_lock/run.lock'), JSON.stringify({ runId: 'crashed', host: hostname(), ...holder }));

    const lock = await new LocalFolderStore(root).lock('next', 3600);

    expect(JSON.parse(await readFile(join(root, '_lock/run.lock'), 'utf8')).runId).toBe('next');
    await lock.release();
  });
});
