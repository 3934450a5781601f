import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { RunLockedError } from '../errors.js';
import { DATASETS, LATEST_KEY, LOCK_KEY, STAGING_DIR, datasetPartition, manifestKey, successKey } from '../layout.js';
import type { ByteSink, OutputStore, RunLock, RunManifest, StagedRun } from '../ports.js';

const exists = async (path: string): Promise<boolean> => stat(path).then(
  () => true,
  () => false,
);

/** Bookkeeping folders (`_staging`, `_lock`) disappear when nothing is left in them. */
const removeIfEmpty = async (dir: string): Promise<void> => {
  await rmdir(dir).catch(() => undefined);
};

/** Writes through a temporary name and renames, so a reader sees the old file or the new one. */
const writeAtomically = async (path: string, body: string | Uint8Array): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, body);
  await rename(temporary, path);
};

/**
 * The output root as a local folder, laid out exactly as the S3 prefix is. A run writes under
 * `_staging/<run id>/`; publishing swaps each dataset's run-date partition in with a rename and
 * writes the manifest, `_SUCCESS` and `latest.json` last.
 */
export class LocalFolderStore implements OutputStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  async stage(runId: string): Promise<StagedRun> {
    const stagingRoot = join(this.location, STAGING_DIR, runId);
    await mkdir(stagingRoot, { recursive: true });
    return new LocalStagedRun(this.location, stagingRoot);
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      return await readFile(join(this.location, key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async putReport(key: string, body: string): Promise<void> {
    await writeAtomically(join(this.location, key), body);
  }

  async publishedRunDates(): Promise<string[]> {
    const summaries = join(this.location, 'summary');
    if (!(await exists(summaries))) return [];
    const dates: string[] = [];
    for (const entry of await readdir(summaries)) {
      const match = /^run_date=(\d{4}-\d{2}-\d{2})$/.exec(entry);
      if (match?.[1] && (await exists(join(this.location, successKey(match[1]))))) dates.push(match[1]);
    }
    return dates.sort();
  }

  /**
   * An exclusive-create lock file. A lock left by a process that no longer runs on this host, or
   * older than the time-to-live, is taken over.
   */
  async lock(runId: string, ttlSeconds: number): Promise<RunLock> {
    const path = join(this.location, LOCK_KEY);
    await mkdir(dirname(path), { recursive: true });
    const body = JSON.stringify({ runId, pid: process.pid, host: hostname(), since: new Date().toISOString() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(body);
        await handle.close();
        return {
          release: async () => {
            await rm(path, { force: true });
            await removeIfEmpty(dirname(path));
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await this.lockHolder(path, ttlSeconds);
        if (!holder.stale) throw new RunLockedError(`another run (${holder.runId}) holds the lock on ${this.location} since ${holder.since}`);
        await rm(path, { force: true });
      }
    }
    throw new RunLockedError(`could not take the lock on ${this.location}`);
  }

  private async lockHolder(path: string, ttlSeconds: number): Promise<{ runId: string; since: string; stale: boolean }> {
    const now = Date.now();
    try {
      const holder = JSON.parse(await readFile(path, 'utf8')) as { runId?: string; pid?: number; host?: string; since?: string };
      const since = holder.since ?? new Date(0).toISOString();
      let alive = true;
      if (holder.host === hostname() && typeof holder.pid === 'number') {
        try {
          process.kill(holder.pid, 0);
        } catch {
          alive = false;
        }
      }
      const expired = now - Date.parse(since) > ttlSeconds * 1000;
      return { runId: holder.runId ?? 'unknown', since, stale: !alive || expired };
    } catch {
      // an unreadable lock file is left over from a crash between create and write
      return { runId: 'unknown', since: 'an unknown time', stale: true };
    }
  }
}

class LocalStagedRun implements StagedRun {
  constructor(
    private readonly root: string,
    private readonly stagingRoot: string,
  ) {}

  async open(key: string): Promise<ByteSink> {
    const path = join(this.stagingRoot, key);
    await mkdir(dirname(path), { recursive: true });
    const stream = createWriteStream(path);
    await once(stream, 'open');
    return {
      async write(chunk) {
        if (!stream.write(chunk)) await once(stream, 'drain');
      },
      async close() {
        stream.end();
        await once(stream, 'finish');
      },
    };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = join(this.stagingRoot, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }

  async publish(runDate: string, manifest: RunManifest): Promise<void> {
    // readers that trust the marker stop trusting this run date while it is replaced
    await rm(join(this.root, successKey(runDate)), { force: true });
    const trash = join(this.stagingRoot, '.replaced');
    const swapped: { final: string; old: string | null }[] = [];
    try {
      for (const dataset of DATASETS) {
        const partition = datasetPartition(dataset, runDate);
        const staged = join(this.stagingRoot, partition);
        if (!(await exists(staged))) continue;
        const final = join(this.root, partition);
        let old: string | null = null;
        if (await exists(final)) {
          old = join(trash, partition);
          await mkdir(dirname(old), { recursive: true });
          await rename(final, old);
        }
        await mkdir(dirname(final), { recursive: true });
        await rename(staged, final);
        swapped.push({ final, old });
      }
    } catch (error) {
      // put back what was there: a failed publish leaves the previous output as it was
      for (const { final, old } of swapped.reverse()) {
        await rm(final, { recursive: true, force: true });
        if (old) await rename(old, final);
      }
      throw error;
    }
    await writeAtomically(join(this.root, manifestKey(runDate)), JSON.stringify(manifest, null, 2) + '\n');
    await writeAtomically(join(this.root, successKey(runDate)), '');
    await this.updateLatest(runDate, manifest.runId);
    await this.discard();
  }

  async discard(): Promise<void> {
    await rm(this.stagingRoot, { recursive: true, force: true });
    await removeIfEmpty(dirname(this.stagingRoot));
  }

  /** `latest.json` names the newest published run date; re-running an older night leaves it alone. */
  private async updateLatest(runDate: string, runId: string): Promise<void> {
    const path = join(this.root, LATEST_KEY);
    let current: string | null = null;
    try {
      current = (JSON.parse(await readFile(path, 'utf8')) as { run_date?: string }).run_date ?? null;
    } catch {
      current = null;
    }
    if (current !== null && current > runDate) return;
    await writeAtomically(path, JSON.stringify({ run_date: runDate, run_id: runId, summary: `summary/run_date=${runDate}/summary.json` }, null, 2) + '\n');
  }
}
