import { readFile, stat } from 'node:fs/promises';
import type { SpendRecord } from '../domain/acquisition/spend.js';
import { InputFileError } from '../errors.js';
import type { SpendRead, SpendSource } from '../ports.js';
import { findInputFiles } from './input-files.js';
import { parseSpendCsv } from './spend-csv.js';

/**
 * The spend input on the local disk (`--spend`, config `spend.path`): one CSV file, or every
 * `.csv`/`.csv.gz` file under a folder, found as the orders input's files are (`findInputFiles`:
 * recursively, links followed, a file reached twice read once) and read in path order so "the last
 * copy of a channel-month counts" means the same on every machine.
 */
export class LocalSpendSource implements SpendSource {
  constructor(readonly location: string) {}

  /**
   * Null when the path is a folder holding no `.csv`/`.csv.gz` file: a spend drop folder whose file has
   * not arrived yet, which must not cost the night. A path that does not exist stays an error: it was
   * typed by someone (flag or config), and a typo that silently dropped the spend columns would only
   * be noticed in the report.
   * @throws InputFileError when the path cannot be read, a link in its folder leads nowhere, or a file is not a spend CSV.
   */
  async read(): Promise<SpendRead | null> {
    try {
      await stat(this.location);
    } catch (error) {
      throw new InputFileError(this.location, 'cannot be read as the spend input (no such file or folder, or no permission)', { cause: error });
    }
    const files = (await findInputFiles([this.location])).map((f) => f.path);
    if (files.length === 0) return null;
    const records: SpendRecord[] = [];
    for (const file of files) records.push(...parseSpendCsv(file, await readFile(file)));
    return { sources: files, records };
  }
}
