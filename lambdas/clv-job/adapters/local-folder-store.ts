import { createWriteStream } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { PublishError } from '../errors.js';
import { LIVE_DIR, LOCK_KEY, PUBLISH_DIR, QUALITY_DIR, RUNS_DIR, manifestKey, runDatePartition, runScopedKey, successKey } from '../layout.js';
import { readManifest } from '../schemas/manifest.js';
import type { ByteSink, OutputStore, PublishedNight, PublishOutcome, RecoveryReport, RunLock, RunManifest, StagedRun } from '../ports.js';
import { takeLocalLock } from './local-run-lock.js';
import { makeFolder } from './make-folder.js';
import { VersionedPublisher, type PublisherOptions, type VersionSpace } from './versioned-publisher.js';

/**
 * The file-system calls the store makes while publishing and recovering. Tests pass a wrapper
 * that fails (or kills the process at) the k-th call.
 */
export type LocalFs = Pick<
  typeof nodeFs,
  'mkdir' | 'readFile' | 'writeFile' | 'rename' | 'rm' | 'rmdir' | 'readdir' | 'stat' | 'lstat' | 'symlink' | 'readlink' | 'unlink' | 'link' | 'open'
>;

export interface LocalFolderStoreOptions extends PublisherOptions {
  /** @default node:fs/promises */
  readonly fs?: LocalFs;
}

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException)?.code;
const RUN_ID = /^[A-Za-z0-9._-]+$/;
const TEMPORARY = '.tmp-';

/**
 * The output root as a local folder. A run writes under `_runs/<run id>/`. What readers see,
 * `customers/run_date=D/segment=high/part-00000.parquet` and so on, are links through one
 * switch per run date, `_live/run_date=D -> ../_runs/<run id>`:
 *
 *   customers/run_date=D/segment=high/part-00000.parquet -> ../../../_live/run_date=D/customers/run_date=D/segment=high/part-00000.parquet
 *
 * Publishing renames a new `_live/run_date=D` link over the old one, which changes every file of
 * the night at once. File links (not directory links) because DuckDB's `**` glob does not descend
 * into linked directories; a link that leads nowhere in the live run (a file only another version
 * has) is skipped by DuckDB and by directory walkers that follow links, and is tidied after the switch.
 */
export class LocalFolderStore implements OutputStore {
  readonly location: string;
  private readonly fs: LocalFs;
  private readonly space: LocalVersionSpace;
  private readonly publisher: VersionedPublisher;

  constructor(root: string, options: LocalFolderStoreOptions = {}) {
    this.location = resolve(root);
    this.fs = options.fs ?? nodeFs;
    this.space = new LocalVersionSpace(this.location, this.fs);
    this.publisher = new VersionedPublisher(this.space, options);
  }

  async stage(runId: string): Promise<StagedRun> {
    if (!RUN_ID.test(runId)) throw new PublishError(`run id ${JSON.stringify(runId)} is not usable as a folder name`);
    await makeFolder(this.fs, join(this.location, RUNS_DIR, runId));
    return new LocalStagedRun(this.location, runId, this.fs, this.space, this.publisher);
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      return await this.fs.readFile(join(this.location, key));
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      throw error;
    }
  }

  /** Its files are read and located through their links, which lead through the night's switch to the live run: the manifest is not needed to find them. */
  async publishedNight(runDate: string): Promise<PublishedNight> {
    return { ...readManifest(await this.read(manifestKey(runDate))), read: (key) => this.read(key), locationOf: (key) => join(this.location, key) };
  }

  /** A temporary file renamed into place: a reader sees the old report or the new one. */
  async putReport(key: string, body: string): Promise<void> {
    const path = join(this.location, key);
    await makeFolder(this.fs, dirname(path));
    const temporary = `${path}${TEMPORARY}${process.pid}`;
    await this.fs.writeFile(temporary, body);
    await this.fs.rename(temporary, path);
  }

  /** The report, and its run date's folder once empty: a listing of `_quality/` shows no night without a report. */
  async removeReport(key: string): Promise<void> {
    const path = join(this.location, key);
    await this.fs.rm(path, { force: true });
    await this.fs.rmdir(dirname(path)).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    });
  }

  /**
   * The run dates with a switch (`_live/run_date=D`), as S3's are those with a manifest: a night whose
   * `_SUCCESS` (or any file) went missing is still published, and damaged, never a night that was not
   * (passed over, it turned the customers gate off for the next broken drop).
   */
  publishedRunDates(): Promise<string[]> {
    return this.space.liveRunDates();
  }

  /** The run-date folders of `_quality/` (removeReport removes a folder with its report). */
  qualityReportDates(): Promise<string[]> {
    return this.space.runDatesIn(join(this.location, QUALITY_DIR));
  }

  lock(runId: string, ttlSeconds: number): Promise<RunLock> {
    return takeLocalLock(join(this.location, LOCK_KEY), runId, ttlSeconds, this.fs);
  }

  recover(): Promise<RecoveryReport> {
    return this.publisher.recover();
  }

  rollback(runDate: string): Promise<PublishOutcome> {
    return this.publisher.rollback(runDate);
  }
}

class LocalStagedRun implements StagedRun {
  constructor(
    private readonly root: string,
    readonly runId: string,
    private readonly fs: LocalFs,
    private readonly space: LocalVersionSpace,
    private readonly publisher: VersionedPublisher,
  ) {}

  locationOf(key: string): string {
    return join(this.root, runScopedKey(this.runId, key));
  }

  async open(key: string): Promise<ByteSink> {
    const path = this.locationOf(key);
    await makeFolder(this.fs, dirname(path));
    const stream = createWriteStream(path, { flags: 'wx' });
    await once(stream, 'open');
    return {
      async write(chunk) {
        // done with the chunk when this resolves (ByteSink): one the stream would keep in its buffer
        // (below its high-water mark) is copied, a longer one waits for 'drain', after it is written
        if (stream.writableLength + chunk.byteLength < stream.writableHighWaterMark) stream.write(chunk.slice());
        else if (!stream.write(chunk)) await once(stream, 'drain');
      },
      async close() {
        stream.end();
        await once(stream, 'finish');
      },
    };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.space.putRunFile(this.runId, key, body);
  }

  publish(runDate: string, manifest: RunManifest): Promise<PublishOutcome> {
    if (manifest.runId !== this.runId || manifest.runDate !== runDate) {
      return Promise.reject(new PublishError(`the manifest names run ${manifest.runId} of ${manifest.runDate}, not run ${this.runId} of ${runDate}`));
    }
    return this.publisher.publish(manifest);
  }

  /** Removes the run's files unless a run date shows them. */
  async discard(): Promise<void> {
    // a publish that failed at its switch, unsure whether it took effect, leaves its run to the next recovery
    if (await this.publisher.pendingFor(this.runId)) return;
    if (!(await this.space.isLiveAnywhere(this.runId))) await this.space.removeRun(this.runId);
  }
}

/** The local half of the protocol in versioned-publisher.ts. */
class LocalVersionSpace implements VersionSpace {
  constructor(
    readonly location: string,
    private readonly fs: LocalFs,
  ) {}

  private path(key: string): string {
    return join(this.location, key);
  }

  private liveLink(runDate: string): string {
    return join(this.location, LIVE_DIR, runDatePartition(runDate));
  }

  async entries(dir: string): Promise<string[]> {
    try {
      return await this.fs.readdir(dir);
    } catch (error) {
      if (code(error) === 'ENOENT') return [];
      throw error;
    }
  }

  async readRecord(key: string): Promise<string | null> {
    try {
      return await this.fs.readFile(this.path(key), 'utf8');
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      throw error;
    }
  }

  /** A temporary file renamed over the record: readers see the old record or the new one. */
  async writeRecord(key: string, value: unknown): Promise<void> {
    const path = this.path(key);
    await makeFolder(this.fs, dirname(path));
    const temporary = `${path}${TEMPORARY}${process.pid}`;
    await this.fs.writeFile(temporary, JSON.stringify(value, null, 2) + '\n');
    await this.fs.rename(temporary, path);
  }

  async deleteRecord(key: string): Promise<void> {
    await this.fs.rm(this.path(key), { force: true });
  }

  async putRunFile(runId: string, key: string, body: Uint8Array | string): Promise<void> {
    const path = this.path(runScopedKey(runId, key));
    await makeFolder(this.fs, dirname(path));
    // `wx`: a run's files are written once
    await this.fs.writeFile(path, body, { flag: 'wx' });
  }

  async readRunFile(runId: string, key: string): Promise<Uint8Array | null> {
    try {
      return await this.fs.readFile(this.path(runScopedKey(runId, key)));
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      throw error;
    }
  }

  /** `<dataset>/run_date=D` links through the switch to the live run's files: the key needs no run id. */
  readerKey(_runId: string, key: string): string {
    return key;
  }

  async listRuns(): Promise<string[]> {
    return (await this.entries(join(this.location, RUNS_DIR))).filter((name) => RUN_ID.test(name));
  }

  async removeRun(runId: string): Promise<void> {
    await this.fs.rm(join(this.location, RUNS_DIR, runId), { recursive: true, force: true });
    await this.fs.rmdir(join(this.location, RUNS_DIR)).catch(() => undefined);
  }

  async runHolds(manifest: RunManifest): Promise<boolean> {
    const keys = [...manifest.files.map((f) => ({ key: f.key, bytes: f.bytes as number | null })), { key: manifestKey(manifest.runDate), bytes: null }, { key: successKey(manifest.runDate), bytes: null }];
    for (const { key, bytes } of keys) {
      try {
        const info = await this.fs.stat(this.path(runScopedKey(manifest.runId, key)));
        if (bytes !== null && info.size !== bytes) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  async liveRun(runDate: string): Promise<string | null> {
    try {
      const target = await this.fs.readlink(this.liveLink(runDate));
      return basename(target);
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      throw error;
    }
  }

  /** The run dates that have a switch (`_live/run_date=D`), ascending. */
  liveRunDates(): Promise<string[]> {
    return this.runDatesIn(join(this.location, LIVE_DIR));
  }

  /** The run dates of the `run_date=D` entries of `dir`, ascending; none when it does not exist. */
  async runDatesIn(dir: string): Promise<string[]> {
    const dates: string[] = [];
    for (const entry of await this.entries(dir)) {
      const match = /^run_date=(\d{4}-\d{2}-\d{2})$/.exec(entry);
      if (match?.[1]) dates.push(match[1]);
    }
    return dates.sort();
  }

  async isLiveAnywhere(runId: string): Promise<boolean> {
    for (const entry of await this.entries(join(this.location, LIVE_DIR))) {
      if (entry.includes(TEMPORARY)) continue;
      // a switch that cannot be read may show the run: it is kept (gone, the entry shows nothing)
      const target = await this.fs.readlink(join(this.location, LIVE_DIR, entry)).catch((error: unknown) => (code(error) === 'ENOENT' ? '' : runId));
      if (basename(target) === runId) return true;
    }
    return false;
  }

  /**
   * A link for every file of the run, leading through `_live/run_date=D`: invisible until the
   * switch for a file the previous version lacks (the link leads nowhere yet), unchanged for a
   * file both versions have. A real file where a link belongs (an output written before this
   * layout) stops the publish: it would stay visible beside every version.
   */
  async prepareSwitch(next: RunManifest): Promise<void> {
    const live = this.liveLink(next.runDate);
    const made = new Set<string>([join(this.location, LIVE_DIR)]);
    await makeFolder(this.fs, join(this.location, LIVE_DIR));
    for (const key of [...next.files.map((f) => f.key), manifestKey(next.runDate), successKey(next.runDate)]) {
      const link = this.path(key);
      const target = relative(dirname(link), join(live, key));
      let current: string | null = null;
      try {
        current = await this.fs.readlink(link);
      } catch (error) {
        // EINVAL: a file, not a link
        if (code(error) === 'EINVAL') throw new PublishError(`${link} is a file, not a link: the folder holds output of an older layout; publish into a fresh folder`);
        if (code(error) !== 'ENOENT') throw error;
      }
      if (current === target) continue;
      if (!made.has(dirname(link))) {
        await makeFolder(this.fs, dirname(link));
        made.add(dirname(link));
      }
      // a link is made under a temporary name and renamed into place: never half made
      await this.symlinkInPlace(target, link, next.runId);
    }
  }

  /** Creates `path` as a link to `target` by renaming a new link over it. */
  private async symlinkInPlace(target: string, path: string, runId: string): Promise<void> {
    const temporary = `${path}${TEMPORARY}${runId}`;
    try {
      await this.fs.symlink(target, temporary);
    } catch (error) {
      if (code(error) !== 'EEXIST') throw error;
      // left by a crashed attempt of the same run
      await this.fs.rm(temporary, { force: true });
      await this.fs.symlink(target, temporary);
    }
    await this.fs.rename(temporary, path);
  }

  /** The switch: a new link renamed over `_live/run_date=D` (rename(2) replaces it atomically). */
  async switchTo(next: RunManifest): Promise<void> {
    await this.symlinkInPlace(join('..', RUNS_DIR, next.runId), this.liveLink(next.runDate), next.runId);
  }

  /** Before the commit nothing readers see changed: only links that lead nowhere go. */
  async undoSwitch(_previousRunId: string | null, runDate: string): Promise<void> {
    await this.tidy(runDate);
  }

  /** Removes, under every dataset's run date, links that lead nowhere and temporary files. */
  async tidy(runDate: string): Promise<void> {
    for (const entry of await this.entries(join(this.location, LIVE_DIR))) {
      if (entry.startsWith(`${runDatePartition(runDate)}${TEMPORARY}`)) await this.fs.rm(join(this.location, LIVE_DIR, entry), { force: true });
    }
    for (const dir of [this.location, join(this.location, PUBLISH_DIR)]) {
      for (const entry of await this.entries(dir)) if (entry.includes(TEMPORARY)) await this.fs.rm(join(dir, entry), { force: true });
    }
    for (const dataset of await this.entries(this.location)) {
      if (dataset.startsWith('_') || dataset.startsWith('.')) continue;
      if (await this.tidyDir(join(this.location, dataset, runDatePartition(runDate)))) await this.fs.rmdir(join(this.location, dataset)).catch(() => undefined);
    }
  }

  /** A link whose target is missing; any other failure to look is not taken for "missing". */
  private async leadsNowhere(path: string): Promise<boolean> {
    try {
      await this.fs.stat(path);
      return false;
    } catch (error) {
      if (code(error) === 'ENOENT') return true;
      throw error;
    }
  }

  /** Depth first; returns whether the folder is gone (empty and removed). */
  private async tidyDir(dir: string): Promise<boolean> {
    let names: string[];
    try {
      names = await this.fs.readdir(dir);
    } catch (error) {
      if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return code(error) === 'ENOENT';
      throw error;
    }
    let left = names.length;
    for (const name of names) {
      const path = join(dir, name);
      const info = await this.fs.lstat(path);
      if (info.isDirectory()) {
        if (await this.tidyDir(path)) left--;
      } else if (name.includes(TEMPORARY) || (info.isSymbolicLink() && (await this.leadsNowhere(path)))) {
        await this.fs.unlink(path);
        left--;
      }
    }
    if (left > 0) return false;
    await this.fs.rmdir(dir).catch(() => undefined);
    return true;
  }
}
