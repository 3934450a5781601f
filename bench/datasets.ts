import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What gen-orders wrote for one dataset (its truth.json, the parts the bench reports). */
export interface Dataset {
  readonly dir: string;
  readonly customers: number;
  readonly rowsWritten: number;
  readonly files: number;
  readonly bytes: number;
}

/**
 * Where generated exports are kept between runs: outside the repository, so a 1M-customer export
 * (130 MB) is made once. `--cache` wins over `$XDG_CACHE_HOME/clv-bench` over `~/.cache/clv-bench`.
 */
export const cacheDir = (given: string | undefined): string =>
  given ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'clv-bench');

/**
 * The gen-orders export of `customers` customers with seed 1 and the generator's defaults,
 * generated on first use into `<cache>/c<customers>-s1`. Generation writes to a temporary folder
 * and renames it, so an interrupted generation is never mistaken for a cached export.
 */
export const ensureDataset = async (cache: string, generator: string, customers: number, log: (line: string) => void): Promise<Dataset> => {
  const dir = join(cache, `c${customers}-s1`);
  if (!existsSync(join(dir, 'truth.json'))) {
    if (!existsSync(generator)) throw new Error(`gen-orders not found at ${generator} (pass --generator PATH)`);
    await mkdir(cache, { recursive: true });
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    log(`generating ${customers.toLocaleString('en-US')} customers into ${dir} ...`);
    const t0 = performance.now();
    await run(process.execPath, [generator, '--out', partial, '--customers', String(customers), '--seed', '1'], { maxBuffer: 1 << 24 });
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
    log(`  generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const truth = JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8')) as { customers: number; rowsWritten: number };
  const csv = (await readdir(dir)).filter((f) => /\.csv(\.gz)?$/.test(f));
  const sizes = await Promise.all(csv.map((f) => stat(join(dir, f)).then((s) => s.size)));
  return { dir, customers: truth.customers, rowsWritten: truth.rowsWritten, files: csv.length, bytes: sizes.reduce((a, b) => a + b, 0) };
};
