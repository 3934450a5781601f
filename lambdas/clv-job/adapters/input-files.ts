import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputFileError } from '../errors.js';

const CSV_FILE = /\.csv(\.gz)?$/i;

export interface InputFile {
  readonly path: string;
  readonly bytes: number;
}

/**
 * The CSV and CSV.gz files under the given paths: a folder is walked recursively and keeps its
 * CSV files only (a `truth.json` or README beside the exports is not an input); a file named
 * explicitly is taken whatever its name, so a wrong file fails loudly instead of being skipped.
 * A file reached twice (`--input exports/*.csv exports`, `a.csv ./a.csv`) is one input, under the
 * first spelling met: read twice, its rows would count twice in `input_rows`, once as duplicates.
 * A folder walk never enters `skipFolders` (the run's own output folder, when it lies inside an input
 * folder: its audiences are CSV files too, and the next night would read them as exports).
 * Sorted by path, the order that decides which copy of a re-sent order is kept.
 */
export const findInputFiles = async (paths: readonly string[], skipFolders: readonly string[] = []): Promise<InputFile[]> => {
  const skipped = new Set(skipFolders.map((f) => resolve(f)));
  const found = new Map<string, number>();
  const seen = new Set<string>();
  const add = async (path: string, bytes: number): Promise<void> => {
    const real = await realpath(path);
    if (seen.has(real)) return;
    seen.add(real);
    found.set(path, bytes);
  };
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skipped.has(resolve(path))) await walk(path);
      }
      else if (entry.isFile() && CSV_FILE.test(entry.name)) await add(path, (await stat(path)).size);
    }
  };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new InputFileError(path, 'cannot be read (no such file or folder, or no permission)', { cause: error });
    }
    if (info.isDirectory()) await walk(path);
    else await add(path, info.size);
  }
  return [...found].map(([path, bytes]) => ({ path, bytes })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
};
