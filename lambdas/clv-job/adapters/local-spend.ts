import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpendRecord } from '../domain/acquisition/spend.js';
import { InputFileError } from '../errors.js';
import type { SpendRead, SpendSource } from '../ports.js';
import { parseSpendCsv, SPEND_FILE } from './spend-csv.js';

/**
 * The spend input on the local disk (`--spend`, config `spend.path`): one CSV file, or every
 * `.csv`/`.csv.gz` file under a folder (recursively), read in path order so "the last copy of a
 * channel-month counts" means the same on every machine.
 */
export class LocalSpendSource implements SpendSource {
  constructor(readonly location: string) {}

  /**
   * Null when the path is a folder holding no `.csv`/`.csv.gz` file: a spend drop folder whose file has
   * not arrived yet, which must not cost the night. A path that does not exist stays an error: it was
   * typed by someone (flag or config), and a typo that silently dropped the spend columns would only
   * be noticed in the report.
   * @throws InputFileError when the path cannot be read or a file is not a spend CSV.
   */
  async read(): Promise<SpendRead | null> {
    let info;
    try {
      info = await stat(this.location);
    } catch (error) {
      throw new InputFileError(this.location, 'cannot be read as the spend input (no such file or folder, or no permission)', { cause: error });
    }
    const files: string[] = [];
    // a folder reached twice (a link back up) is read once
    const walked = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      const real = await realpath(dir);
      if (walked.has(real)) return;
      walked.add(real);
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && SPEND_FILE.test(entry.name)) files.push(path);
        else if (entry.isSymbolicLink()) {
          // followed as the orders input follows links: a linked spend file is a spend file there
          const target = await stat(path).catch((error: unknown) => {
            throw new InputFileError(path, 'is a link that leads nowhere (its target is missing or cannot be read)', { cause: error });
          });
          if (target.isDirectory()) await walk(path);
          else if (target.isFile() && SPEND_FILE.test(entry.name)) linked.push(path);
        }
      }
    };
    // a linked file that is also read where it lies (or through another link) is read once
    const linked: string[] = [];
    if (info.isDirectory()) await walk(this.location);
    else files.push(this.location);
    const read = new Set(await Promise.all(files.map((f) => realpath(f))));
    for (const path of linked.sort()) {
      const real = await realpath(path);
      if (!read.has(real)) {
        read.add(real);
        files.push(path);
      }
    }
    if (files.length === 0) return null;
    files.sort();
    const records: SpendRecord[] = [];
    for (const file of files) records.push(...parseSpendCsv(file, await readFile(file)));
    return { sources: files, records };
  }
}
