import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputFileError } from '../errors.js';
import { LATEST_KEY, LIVE_DIR, RUNS_DIR } from '../layout.js';
import { isOutputFolder } from './input-files.js';
import { LocalFolderStore } from './local-folder-store.js';

/** `latest.json` at an output root: the newest published run date and its summary's key. */
const latestPointerSchema = z.object({ run_date: z.string(), summary: z.string().min(1) });

export interface SummaryLocation {
  /** The summary.json to read. */
  readonly summaryPath: string;
  /** The output folder the summary was published in; the summary's own folder when it sits elsewhere. */
  readonly outputRoot: string;
}

/**
 * Where the summary is that `clv report --summary <path>` means: a summary.json itself, an output
 * folder (its `latest.json` names the newest run) or that `latest.json`. A summary under
 * `<root>/summary/run_date=D/` belongs to `<root>`, and so does a run's own copy of it, under
 * `<root>/_runs/<run id>/summary/run_date=D/` (where S3 and latest.json keep it) or
 * `<root>/_live/run_date=D/summary/run_date=D/` (a local night's switch into its run).
 * A path that does not exist is taken for a summary.json, for the reader to say it cannot be read.
 * @throws InputFileError when a folder has no readable `latest.json`, or a `latest.json` is not one
 */
export const locateSummary = async (path: string): Promise<SummaryLocation> => {
  const info = await stat(path).catch(() => null);
  const folder = info?.isDirectory() ?? false;
  const latest = folder ? join(path, LATEST_KEY) : basename(path) === LATEST_KEY ? path : null;
  if (latest === null) return { summaryPath: path, outputRoot: outputRootOf(path) };
  const root = dirname(latest);
  let pointer;
  try {
    pointer = latestPointerSchema.parse(JSON.parse(await readFile(latest, 'utf8')));
  } catch {
    const unreadable = folder ? `has no readable ${LATEST_KEY}` : `is not a valid ${LATEST_KEY} (it names no summary)`;
    const advice = await outputFolderAdvice(root);
    throw new InputFileError(path, advice !== null ? `${unreadable}: ${advice}` : folder ? `${unreadable}: is it the output folder of a \`clv run\`?` : unreadable);
  }
  return { summaryPath: join(root, pointer.summary), outputRoot: root };
};

/**
 * What to do when the latest.json of `root`, an output folder, is missing or damaged: where a night is
 * published, recovery rewrites it for the newest (README "Publishing records that cannot be read");
 * where none is, there is no summary yet. Null when `root` is no output folder.
 */
const outputFolderAdvice = async (root: string): Promise<string | null> => {
  if (!(await isOutputFolder(root))) return null;
  if ((await new LocalFolderStore(root).publishedRunDates()).length === 0) return `${root} is an output folder with no night published yet`;
  return `\`clv recover --output ${root}\` rewrites it for the newest night published there`;
};

const isRunDatePartition = (folder: string): boolean => /^run_date=/.test(basename(folder));

/**
 * The output folder of a summary.json at `path`, by the layout's folders (layout.ts); the summary's
 * own folder when it lies in none. A run's folder is not it: a run writes it once, and `clv report`
 * refuses to write its page there (openOutputFile).
 */
const outputRootOf = (path: string): string => {
  const partition = dirname(resolve(path));
  if (!isRunDatePartition(partition) || basename(dirname(partition)) !== 'summary') return partition;
  const root = dirname(dirname(partition));
  const parent = basename(dirname(root));
  return parent === RUNS_DIR || (parent === LIVE_DIR && isRunDatePartition(root)) ? dirname(dirname(root)) : root;
};
