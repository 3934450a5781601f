import { constants } from 'node:fs';
import { access, mkdir, open, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ConfigurationError } from '../errors.js';
import { LATEST_KEY, LIVE_DIR, LOCK_KEY, PUBLISH_DIR, QUALITY_DIR, RUNS_DIR } from '../layout.js';
import { INGESTED_DIR } from './local-ingest.js';
import { isOutputFolder } from './input-files.js';
import { writeAtomically } from './write-atomically.js';

const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException | null)?.code ?? 'unknown error';

/**
 * Makes `path` (as given to `flag`) a folder a run can write into: creates it and its missing
 * parents one level at a time, then checks that it can be written. Node's
 * `mkdir(path, { recursive: true })` never returns where a parent exists but cannot hold children (a
 * path under /proc, a dangling symlink: the child answers ENOENT, the parent EEXIST, and Node tries
 * again, forever; nodejs/node issue "mkdir recursive hangs"), so the output folder is made here,
 * with plain mkdir calls, and every recursive mkdir after it works inside a real folder.
 * @throws ConfigurationError with one line naming the flag, the path and why: a file in the way, a
 *   folder that does not take new folders (procfs, read-only, no permission), or one that cannot be
 *   written.
 */
export const prepareOutputFolder = async (path: string, flag = '--output'): Promise<void> => {
  const refuse = (why: string): never => {
    throw new ConfigurationError(`${flag} ${path}: ${why}`);
  };
  const target = resolve(path);
  const missing: string[] = [];
  for (let at = target; ; at = dirname(at)) {
    const info = await stat(at).catch((error: unknown) => {
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return null;
      return refuse(`${at} cannot be looked at (${codeOf(error)})`);
    });
    if (info !== null) {
      if (!info.isDirectory()) refuse(at === target ? 'is a file, not a folder' : `${at} is a file, not a folder`);
      break;
    }
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) {
    await mkdir(folder).catch((error: unknown) =>
      refuse(
        codeOf(error) === 'EEXIST'
          ? `${folder} exists but is not a folder (a link to nothing?)`
          : `cannot create the folder ${folder}: ${dirname(folder)} does not take new folders (${codeOf(error)})`,
      ),
    );
  }
  await access(target, constants.W_OK).catch((error: unknown) => refuse(`the folder cannot be written (${codeOf(error)})`));
};

/** A file a command writes when its work is done, opened before the work starts (openOutputFile). */
export interface OutputFile {
  /** Replaces the file's bytes with `text` (UTF-8) and closes it. */
  write(text: string): Promise<void>;
  /** Closes the file after a failed command: a file that was there keeps its bytes, one this command made is removed. */
  abandon(): Promise<void>;
}

/**
 * Opens `path` (as given to `flag`, e.g. `clv backtest --output`) before the command's work, so a path
 * that cannot be written (no such folder, a folder, read-only, procfs) fails in a second rather than
 * after minutes of work. Opened for appending, so nothing is truncated; `write` replaces the file whole
 * (a temporary file renamed over it): a failed or killed command leaves the file of the last good one.
 * A file of a published run, and any file an output folder keeps for itself (its `latest.json`, anything
 * under its OUTPUT_FOLDERS), is refused: written over, it would lose what rollback and recovery read.
 * @throws ConfigurationError with one line naming the flag, the path and the system's reason, or the
 *   run or output folder the path belongs to.
 */
export const openOutputFile = async (path: string, flag = '--output'): Promise<OutputFile> => {
  const real = await writtenAt(path);
  const run = real === null ? null : await publishedRunOf(real);
  if (run !== null) {
    throw new ConfigurationError(
      `${flag} ${path}: is a file of a published run (${run}), which a run writes once and rollback restores as it was: write it elsewhere (clv report's default is clv-report-<run date>.html beside the output)`,
    );
  }
  const own = real === null ? null : await ownEntryOf(real, [...OUTPUT_FOLDERS, LATEST_KEY]);
  if (own !== null) {
    const what = own.entry === LATEST_KEY ? LATEST_KEY : `in ${own.entry}/`;
    throw new ConfigurationError(
      `${flag} ${path}: is ${what}, which the output folder ${own.output} keeps for its own records (what rollback, recovery and the next run read): write it elsewhere (clv report's default is clv-report-<run date>.html beside the output)`,
    );
  }
  const existed = await stat(path).then(
    () => true,
    () => false,
  );
  const handle = await open(path, 'a').catch((error: unknown) => {
    throw new ConfigurationError(`${flag} ${path}: cannot be written (${codeOf(error)})`);
  });
  return {
    write: async (text) => {
      // through a link, the file it leads to
      const target = await realpath(path).catch(() => path);
      const info = await stat(target).catch(() => null);
      // anything but a regular file of one name (a pipe, /dev/stdout, a file with hard links) is written
      // into, through the handle already open: closed first, a pipe's reader would see its end
      if (info !== null && (!info.isFile() || info.nlink > 1)) {
        try {
          if (info.isFile()) await handle.truncate(0);
          await handle.writeFile(text);
        } finally {
          await handle.close();
        }
        return;
      }
      await handle.close();
      // a regular file is replaced whole, keeping its mode, so a crash or a full disk keeps the last good one
      await writeAtomically(target, text, info?.mode).catch(async (error: unknown) => {
        // a file that may be written in a folder that may not: written in place
        if (!['EACCES', 'EPERM', 'EROFS'].includes(codeOf(error))) throw error;
        await writeFile(target, text);
      });
    },
    abandon: async () => {
      await handle.close();
      if (!existed) await rm(path, { force: true });
    },
  };
};

/** Links followed at most in a chain, as the system's own limit (Linux's ELOOP after 40). */
const MAX_LINK_HOPS = 40;

/**
 * Where a write to `path` lands, once links are followed: a path that does not exist yet is where its
 * folder is; a link to nothing, or a chain of links ending in nothing, is where its last link points
 * (the write goes there). Null when its folder cannot be found.
 */
const writtenAt = async (path: string): Promise<string | null> => {
  let target = path;
  for (let hop = 0; hop < MAX_LINK_HOPS; hop += 1) {
    const link = await readlink(target).catch(() => null);
    if (link === null) break;
    target = resolve(dirname(target), link);
  }
  return realpath(target).catch(async () => join(await realpath(dirname(target)), basename(target))).catch(() => null);
};

/**
 * The run folder (`<output>/_runs/<run id>`) that `real` (a path as writtenAt gives it) is, or lies
 * in (a published `report/run_date=D/index.html` leads into its run); null for any other path.
 */
const publishedRunOf = async (real: string): Promise<string | null> => {
  const parts = real.split(sep);
  const at = parts.lastIndexOf(RUNS_DIR);
  if (at < 1 || at + 1 >= parts.length - 1) return null;
  return (await isOutputFolder(parts.slice(0, at).join(sep) || sep)) ? parts.slice(0, at + 2).join(sep) : null;
};

/** The folders a run keeps in its output folder. */
const OUTPUT_FOLDERS = [RUNS_DIR, LIVE_DIR, PUBLISH_DIR, QUALITY_DIR, dirname(LOCK_KEY), INGESTED_DIR];

/**
 * The entry of an output folder (isOutputFolder) that the absolute `path` is or lies in, one of
 * `entries` (`/o/_publish/versions.json` -> `{ output: '/o', entry: '_publish' }`); null for a path
 * in no output folder, or in none of those entries there. Every name of `entries` in the path is
 * tried, the last first: `/o/_publish/latest.json` lies in `_publish/` of `/o`.
 */
const ownEntryOf = async (path: string, entries: readonly string[]): Promise<{ readonly output: string; readonly entry: string } | null> => {
  const parts = path.split(sep);
  for (let at = parts.length - 1; at > 0; at -= 1) {
    const output = parts.slice(0, at).join(sep) || sep;
    if (entries.includes(parts[at]!) && (await isOutputFolder(output))) return { output, entry: parts[at]! };
  }
  return null;
};

/**
 * Advice for a system error that a file where an output folder keeps one of its own folders explains
 * (`EEXIST: mkdir '…/_lock'`, `ENOTDIR: scandir '…/_live'`), to follow the error's message; '' for
 * any other error, and for a path whose folder of that name is not in a run's output folder (an input's).
 */
export const folderInTheWayAdvice = async (error: unknown): Promise<string> => {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth += 1) {
    const { code, path } = e as NodeJS.ErrnoException;
    if ((code !== 'EEXIST' && code !== 'ENOTDIR') || path === undefined) continue;
    const own = await ownEntryOf(resolve(path), OUTPUT_FOLDERS);
    if (own !== null) {
      return ` (a file is where the output folder keeps its ${own.entry}/ folder: move that file away; a run keeps ${OUTPUT_FOLDERS.map((f) => `${f}/`).join(', ')} there)`;
    }
  }
  return '';
};
