import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateOrders } from '../test/support/gen-orders.js';

/** What gen-orders wrote for one dataset: its folder, the customers simulated, its files and their size. */
export interface Dataset {
  readonly dir: string;
  readonly customers: number;
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
 * The generator's source files: a cached export is reused only while they are unchanged. Found from
 * this module's folder, `bench/` as source or `dist/` as the bench bundle, both one below the root.
 */
const GENERATOR_SOURCES = ['test/support/gen-orders.ts', 'test/support/simulate.ts'].map((path) => fileURLToPath(new URL(`../${path}`, import.meta.url)));

/** The first 12 hex digits of the SHA-256 of the generator's sources: the cache key's version part. */
export const generatorVersion = async (): Promise<string> => {
  const hash = createHash('sha256');
  for (const path of GENERATOR_SOURCES) hash.update(await readFile(path));
  return hash.digest('hex').slice(0, 12);
};

/**
 * The gen-orders export (test/support/gen-orders.ts) of `customers` customers with seed 1 and the
 * generator's defaults, generated on first use into `<cache>/c<customers>-s1-g<generator version>`,
 * so a changed generator never reuses an export of the old one. Generation writes to a temporary
 * folder and renames it, so an interrupted generation is never mistaken for a cached export.
 */
export const ensureDataset = async (cache: string, customers: number, log: (line: string) => void): Promise<Dataset> => {
  const dir = join(cache, `c${customers}-s1-g${await generatorVersion()}`);
  if (!existsSync(join(dir, 'truth.json'))) {
    await mkdir(cache, { recursive: true });
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    log(`generating ${customers.toLocaleString('en-US')} customers into ${dir} ...`);
    const t0 = performance.now();
    await generateOrders({ out: partial, customers, seed: 1 });
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
    log(`  generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const csv = (await readdir(dir)).filter((f) => /\.csv(\.gz)?$/.test(f));
  const sizes = await Promise.all(csv.map((f) => stat(join(dir, f)).then((s) => s.size)));
  return { dir, customers, files: csv.length, bytes: sizes.reduce((a, b) => a + b, 0) };
};
