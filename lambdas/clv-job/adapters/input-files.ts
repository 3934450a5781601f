import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputFileError } from '../errors.js';
import { isExportName, isHidden } from '../ingest-layout.js';
import { compareUtf8 } from './utf8-order.js';

/**
 * What a folder holds once a run locked, staged or published in it (LocalFolderStore), each a set of
 * entries that must all be there: its publishing records; staged runs beside the run lock (killed
 * before publishing); the run lock beside the ingest cache (a first run killed before staging). Pairs,
 * so that an export folder with an export tool's `latest.json` or `_runs/` of its own is still input.
 */
const OUTPUT_MARKERS: readonly (readonly string[])[] = [['_publish/'], ['_runs/', '_lock/'], ['_lock/', 'ingested/']];
/** The markers as a message names them. */
export const OUTPUT_MARKERS_TEXT = '_publish/, or _lock/ beside _runs/ or ingested/';

/** Whether `dir` is a run's output folder, by OUTPUT_MARKERS. */
export const isOutputFolder = async (dir: string): Promise<boolean> => {
  const isFolder = async (name: string): Promise<boolean> => (await stat(join(dir, name)).catch(() => null))?.isDirectory() === true;
  for (const set of OUTPUT_MARKERS) if ((await Promise.all(set.map(isFolder))).every(Boolean)) return true;
  return false;
};


export interface InputFile {
  readonly path: string;
  readonly bytes: number;
}

/**
 * The CSV and CSV.gz files under the given paths: a folder is walked recursively and keeps its
 * CSV files only (a `truth.json` or README beside the exports is not an input); a file named
 * explicitly is taken whatever its name, so a wrong file fails loudly instead of being skipped.
 * A link met in a folder is followed, to a file (kept by the link's own name, as a file there would
 * be) or to a folder (walked): an export linked into the drop folder is an export of the night.
 * A file reached twice (`--input exports/*.csv exports`, `a.csv ./a.csv`, a link to it) is one input,
 * under the first spelling met: read twice, its rows would count twice in `input_rows`, once as
 * duplicates. A folder reached twice (a link to it, a link back to a folder above) is walked once,
 * so a link cycle ends. A folder's entries are walked in name order, so "first met" is the same on
 * every file system.
 * A folder walk never enters or reads `skipPaths` (the run's own output folder, when it lies inside an
 * input folder: its audiences are CSV files too, and the next night would read them as exports; the
 * spend input, when kept beside the exports), whatever
 * way it is reached, nor any other run's output folder (OUTPUT_MARKERS), and passes hidden entries (a
 * name starting with `_` or `.`), as the drop bucket's ingest does (ingest-layout.ts isHidden): the
 * same drop gives the same night on both paths.
 * Sorted by path, the order that decides which copy of a re-sent order is kept.
 * @throws InputFileError naming a path given that cannot be read or is a run's output folder, a link in a folder to nothing,
 * or an entry whose name is not UTF-8
 */
export const findInputFiles = async (paths: readonly string[], skipPaths: readonly string[] = []): Promise<InputFile[]> => {
  // by real path, so a link to the output folder is skipped too; a folder not made yet has no link to it
  const skipped = new Set(await Promise.all(skipPaths.map((f) => realpath(f).catch(() => resolve(f)))));
  const found = new Map<string, number>();
  const seen = new Set<string>();
  const walked = new Set<string>();
  /** Adds a file, given (`inWalk` false) or met in a folder walk, which leaves out the paths to skip. */
  const add = async (path: string, bytes: number, inWalk = true): Promise<void> => {
    const real = await realpath(path);
    if (seen.has(real) || (inWalk && skipped.has(real))) return;
    seen.add(real);
    found.set(path, bytes);
  };
  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (walked.has(real)) return;
    walked.add(real);
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareUtf8(a.name, b.name));
    for (const entry of entries) {
      // hidden, as the drop bucket's ingest leaves it: `_archive/`, macOS's `._orders.csv`, `.git/`
      if (isHidden(entry.name)) continue;
      const path = join(dir, entry.name);
      // a name that is not UTF-8 (a Windows zip's Latin-1 "März") comes back with U+FFFD in it, a path that names nothing
      if (entry.name.includes('\uFFFD') && (await lstat(path).catch(() => null)) === null) {
        throw new InputFileError(path, 'has a name that is not UTF-8 (its other bytes shown as \uFFFD), which cannot be opened by that name: rename it');
      }
      if (entry.isDirectory()) await walkUnlessSkipped(path);
      else if (entry.isFile()) {
        if (isExportName(entry.name)) await add(path, (await stat(path)).size);
      } else if (entry.isSymbolicLink()) await followLink(path, entry.name);
    }
  };
  const walkUnlessSkipped = async (dir: string): Promise<void> => {
    if (!skipped.has(await realpath(dir)) && !(await isOutputFolder(dir))) await walk(dir);
  };
  const followLink = async (path: string, name: string): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      const target = await readlink(path).catch(() => '?');
      throw new InputFileError(path, `is a link to ${target}, which cannot be read (no such file or folder, or no permission)`, { cause: error });
    }
    if (info.isDirectory()) await walkUnlessSkipped(path);
    else if (info.isFile() && isExportName(name)) await add(path, info.size);
  };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new InputFileError(path, 'cannot be read (no such file or folder, or no permission)', { cause: error });
    }
    if (info.isDirectory()) {
      if (await isOutputFolder(path)) {
        throw new InputFileError(path, `is a clv output folder (it holds ${OUTPUT_MARKERS_TEXT}), not a folder of exports: its audiences are CSV files the job wrote`);
      }
      await walk(path);
    } else await add(path, info.size, false);
  }
  return [...found].map(([path, bytes]) => ({ path, bytes })).sort((a, b) => compareUtf8(a.path, b.path));
};
