import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { version as duckdbVersion } from '@duckdb/node-api';
import pMap from 'p-map';
import { z } from 'zod';
import { UnreadableExportError } from '../errors.js';
import { ingestConfigSchema, type IngestConfigInput } from '../ingest/ingest-config.js';
import { INGEST_CONCURRENCY, ingestExport, threadsPerRead } from '../ingest/ingest-export.js';
import { LOCAL_LOCK_TTL_SECONDS } from '../cli-options.js';
import { readPieces } from '../ingest/read-pieces.js';
import { INGEST_READER_VERSION } from '../ingest/reader-version.js';
import { ingestReceiptSchema, type IngestReceipt } from '../ingest/receipt.js';
import type { CanonicalFile } from './duckdb-engine.js';
import type { InputFile } from './input-files.js';
import { makeFolder } from './make-folder.js';
import { writeAtomically } from './write-atomically.js';

/** Where canonical files and receipts live under an output folder (SPEC "Contract names"). */
export const INGESTED_DIR = 'ingested';
export const RECEIPTS_DIR = '_receipts';
/**
 * Beside the receipts, the size and SHA-256 of each cached Parquet file as written (canonicalDigestSchema):
 * a receipt vouches for what ingest made of the export, not for the file on disk, which a full disk, a
 * killed copy or a hand can truncate or replace after the fact. Not in the receipt: the receipt is the
 * same on every path, and the Parquet bytes of one export may differ with DuckDB's threads.
 */
export const DIGESTS_DIR = '_digests';

/** `ingested/_digests/<name>.json`: the cached Parquet file's bytes and SHA-256 (hex) when it was written. */
const canonicalDigestSchema = z.strictObject({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
type CanonicalDigest = z.infer<typeof canonicalDigestSchema>;
/**
 * The reader's identity in every cache key: its output version and DuckDB's (whose casts and CSV
 * reading are part of the output), so a cached canonical file made by another reader is stale.
 */
export const readerIdentity = (): string => `reader-v${INGEST_READER_VERSION}/duckdb-${duckdbVersion()}`;

export interface LocalIngestOptions {
  readonly config?: IngestConfigInput;
  /** The `ingested/` folder. @default a cache under os.tmpdir() (runs without an output folder: backtests, tests) */
  readonly directory?: string;
  /** Ingest again even when a file is cached (a backfill, `clv ingest`). @default false */
  readonly force?: boolean;
  /** Leave out a file that cannot be read, instead of failing. @default false */
  readonly skipBadFiles?: boolean;
  /** Files ingested at once. @default INGEST_CONCURRENCY */
  readonly concurrency?: number;
}


export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

export interface LocalIngestResult {
  /** In the order of the inputs (by path). */
  readonly files: readonly CanonicalFile[];
  readonly receipts: readonly IngestReceipt[];
  /** Unreadable files left out (only with skipBadFiles). */
  readonly skipped: readonly SkippedFile[];
  /** How many files were read from the cache rather than parsed again. */
  readonly reused: number;
}

const sha256OfFile = async (path: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const piece of readPieces(path)) hash.update(piece);
  return hash.digest('hex');
};

type Ingested = { readonly file: CanonicalFile; readonly receipt: IngestReceipt; readonly reused: boolean } | { readonly skipped: SkippedFile };

/**
 * Ingests local exports with the one ingest implementation (ingestExport), cached by content: a
 * file whose bytes, name and ingest settings are unchanged, read by the same reader (readerIdentity),
 * is not parsed again the next night. Cache entries are `<directory>/<name>-<key>.parquet` with the
 * receipt at `<directory>/_receipts/<name>-<key>.json` and the Parquet file's size and SHA-256 at
 * `<directory>/_digests/<name>-<key>.json`, each written atomically (renamed into place), the receipt
 * last, so an interrupted run leaves no half entry. An entry is reused only while its Parquet file
 * still has that size and hash (readEntry): a damaged one is read again from its export, as a missing
 * one is. Entries neither written nor reused for longer than a run may take are removed
 * ({@link pruneIngestCache}): those of exports changed or gone.
 * Up to `concurrency` files are read at once, the largest first, their framing passes one at a time
 * (IngestRequest.framing), each DuckDB parse on its share of the cores (threadsPerRead) among the
 * reads running when it starts; the result keeps the inputs' order. In the inputs' (name) order the largest export of the bench's was often read last, and on
 * one thread, the other core idle for its whole parse; largest first, the reads end closer together,
 * and a read left alone takes every core.
 *
 * The content hash is taken before reading only when an entry of the same export (name and path)
 * is in the folder: otherwise nothing can be reused, and the key comes from the receipt's hash,
 * which the ingest takes in its own pass over the bytes. A cold run so reads each export once, not
 * twice (0.1 s of CPU and a serial read per 134 MB at 1 M customers; `npm run bench`).
 *
 * @throws UnreadableExportError for the first unreadable file in input (name) order, whatever the sizes,
 *   unless skipBadFiles; once a file fails no file after it by name is started (those before it are, so
 *   the first unreadable by name is found), and those being read finish first.
 */
export const ingestLocalFiles = async (inputs: readonly InputFile[], options: LocalIngestOptions = {}): Promise<LocalIngestResult> => {
  const config = ingestConfigSchema.parse(options.config ?? {});
  const directory = options.directory ?? join(tmpdir(), 'clv-ingest-cache');
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? INGEST_CONCURRENCY));
  await makeFolder({ mkdir }, join(directory, RECEIPTS_DIR));
  await makeFolder({ mkdir }, join(directory, DIGESTS_DIR));
  const settings = JSON.stringify(config);
  const reader = readerIdentity();
  await removeAbandonedPartials(directory);
  const entries = await readdir(directory);
  // reads started whose parse has not ended: a read's DuckDB shares the cores with those running when it
  // starts (a read writing its entry, hashing its Parquet file, uses no DuckDB)
  let reading = 0;
  const threads = (): number => threadsPerRead(reading);
  // one framing pass at a time (see IngestRequest.framing): each waits for the one before it
  let lastFraming: Promise<unknown> = Promise.resolve();
  const framing = <T>(pass: () => Promise<T>): Promise<T> => {
    const run = lastFraming.then(pass);
    lastFraming = run.catch(() => undefined);
    return run;
  };
  const ingestOne = async (input: InputFile, parsed: () => void): Promise<Ingested> => {
    // the path's own hash in the stem: two exports of the same name in different folders never share entries
    const stem = `${basename(input.path).replace(/[^A-Za-z0-9._-]/g, '_')}-${createHash('sha256').update(input.path).digest('hex').slice(0, 8)}`;
    const entryOf = (content: string) => {
      const name = `${stem}-${createHash('sha256').update(`${reader}\0${content}\0${input.path}\0${settings}`).digest('hex').slice(0, 20)}`;
      return {
        name,
        canonical: join(directory, `${name}.parquet`),
        receipt: join(directory, RECEIPTS_DIR, `${name}.json`),
        digest: join(directory, DIGESTS_DIR, `${name}.json`),
      };
    };
    if (!options.force && entries.some((e) => e.startsWith(`${stem}-`))) {
      let content: string;
      try {
        content = await sha256OfFile(input.path);
      } catch (error) {
        const failure = new UnreadableExportError(input.path, 'cannot be read (no such file, or no permission)', { cause: error });
        if (!options.skipBadFiles) throw failure;
        return { skipped: { path: input.path, reason: failure.reason } };
      }
      const entry = entryOf(content);
      // marked in use before it is checked (hashing it takes a while), so that a prune elsewhere
      // (pruneIngestCache) leaves it alone from now on; one already gone is read again
      const now = new Date();
      const marked = await utimes(entry.canonical, now, now).then(() => true, () => false);
      const cached = marked ? await readEntry(entry) : null;
      if (cached !== null) return { file: { path: entry.canonical, source: input.path, bytes: input.bytes }, receipt: cached, reused: true };
    }
    // named for this read alone: another read of the same export (another process, or this one) writes its own
    const partial = join(directory, `${stem}.${process.pid}.${randomUUID()}.partial`);
    let receipt: IngestReceipt;
    try {
      receipt = (await ingestExport({ source: input.path, sourceName: input.path, config, output: partial, threads, framing })).receipt;
    } catch (error) {
      await rm(partial, { force: true });
      if (!(error instanceof UnreadableExportError) || !options.skipBadFiles) throw error;
      return { skipped: { path: input.path, reason: error.reason } };
    }
    parsed();
    const { canonical, receipt: receiptPath, digest: digestPath } = entryOf(receipt.sha256);
    const file = { path: canonical, source: input.path, bytes: input.bytes };
    const digest: CanonicalDigest = { bytes: (await stat(partial)).size, sha256: await sha256OfFile(partial) };
    await rename(partial, canonical);
    // the receipt last: an entry is whole once its receipt is in place
    await writeAtomically(digestPath, JSON.stringify(digest) + '\n');
    await writeAtomically(receiptPath, JSON.stringify(receipt, null, 2) + '\n');
    return { file, receipt, reused: false };
  };
  // after a failure no file after it in input order is started, those before it still are (read
  // largest first, a larger export later by name may fail before a smaller one is started: the error
  // must name the first unreadable export by name whatever the sizes), and the files being read finish
  // (no half entry is left behind by a process that exits on the error); the error thrown is the first
  // in input order
  let firstFailed = inputs.length;
  const largestFirst = [...inputs.keys()].sort((a, b) => inputs[b]!.bytes - inputs[a]!.bytes || a - b);
  const outcomes: (Ingested | { readonly error: unknown } | null)[] = inputs.map(() => null);
  await pMap(
    largestFirst,
    async (at): Promise<void> => {
      if (at > firstFailed) return;
      reading += 1;
      let counted = true;
      const parsed = (): void => {
        if (counted) reading -= 1;
        counted = false;
      };
      try {
        outcomes[at] = await ingestOne(inputs[at]!, parsed);
      } catch (error) {
        firstFailed = Math.min(firstFailed, at);
        outcomes[at] = { error };
      } finally {
        parsed();
      }
    },
    { concurrency },
  );
  const failure = outcomes.find((o) => o !== null && 'error' in o);
  if (failure) throw failure.error;
  await pruneIngestCache(directory, new Date());
  const files: CanonicalFile[] = [];
  const receipts: IngestReceipt[] = [];
  const skipped: SkippedFile[] = [];
  let reused = 0;
  for (const outcome of outcomes) {
    if (outcome === null || 'error' in outcome) continue;
    if ('skipped' in outcome) skipped.push(outcome.skipped);
    else {
      files.push(outcome.file);
      receipts.push(outcome.receipt);
      if (outcome.reused) reused += 1;
    }
  }
  return { files, receipts, skipped, reused };
};


/**
 * A cache entry's receipt, or null when the entry cannot be trusted (then the export is ingested
 * again): no receipt, or one that does not validate; no digest; or a Parquet file missing, or of
 * another size or SHA-256 than its digest (truncated, emptied, pages overwritten, replaced). The
 * hash reads the whole file: 0.03 s of CPU for the 22 MB of Parquet at 1 M customers, beside the
 * 0.13-0.16 s the exports' own hashes take.
 */
const readEntry = async (entry: { readonly canonical: string; readonly receipt: string; readonly digest: string }): Promise<IngestReceipt | null> => {
  try {
    const receipt = ingestReceiptSchema.safeParse(JSON.parse(await readFile(entry.receipt, 'utf8')));
    const digest = canonicalDigestSchema.safeParse(JSON.parse(await readFile(entry.digest, 'utf8')));
    if (!receipt.success || !digest.success) return null;
    if ((await stat(entry.canonical)).size !== digest.data.bytes) return null;
    return (await sha256OfFile(entry.canonical)) === digest.data.sha256 ? receipt.data : null;
  } catch {
    return null;
  }
};

/**
 * Removes the `*.partial` files (a Parquet file or a JSON being written) left by an ingest that was
 * killed: those untouched for longer than a local run may hold the run lock (LOCAL_LOCK_TTL_SECONDS),
 * the age after which the lock itself is taken over as abandoned. Ingest runs before the run lock is
 * taken (and `clv ingest` takes none), so a younger partial may be another ingest's, writing now.
 */
const removeAbandonedPartials = async (directory: string): Promise<void> => {
  const before = Date.now() - LOCAL_LOCK_TTL_SECONDS * 1000;
  for (const folder of [directory, join(directory, RECEIPTS_DIR), join(directory, DIGESTS_DIR)]) {
    for (const entry of await readdir(folder)) {
      if (!entry.endsWith('.partial')) continue;
      const path = join(folder, entry);
      const modified = await stat(path).then((s) => s.mtimeMs, () => null);
      if (modified !== null && modified < before) await rm(path, { force: true });
    }
  }
};

/** A cache entry's files, by name: `<stem>-<20 hex>.parquet`, or `.json` under _receipts/ and _digests/. */
const ENTRY_FILE = /^(.+-[0-9a-f]{20})\.(parquet|json)$/;

/**
 * Removes the cache entries (Parquet file, receipt, digest) not written nor reused within the
 * longest time a local run may hold the lock (LOCAL_LOCK_TTL_SECONDS): those of exports that
 * changed (an older key) or are gone, which nothing reads any more. Never a younger one: ingest
 * runs before the run lock is taken and `clv ingest` takes none, so another process (a run refused
 * by the lock, or the one holding it) may be about to read any entry it wrote or reused; removing
 * the other entries of a re-read export at once made a refused run delete the file the running
 * run was about to read. A receipt or digest without its Parquet file goes by its own age.
 */
export const pruneIngestCache = async (directory: string, now: Date): Promise<void> => {
  const before = now.getTime() - LOCAL_LOCK_TTL_SECONDS * 1000;
  const modified = async (path: string): Promise<number | null> => stat(path).then((s) => s.mtimeMs, () => null);
  const stale = new Set<string>();
  for (const folder of [directory, join(directory, RECEIPTS_DIR), join(directory, DIGESTS_DIR)]) {
    for (const file of await readdir(folder)) {
      const name = ENTRY_FILE.exec(file)?.[1];
      if (name === undefined || stale.has(name)) continue;
      const age = (await modified(join(directory, `${name}.parquet`))) ?? (await modified(join(folder, file)));
      if (age !== null && age < before) stale.add(name);
    }
  }
  for (const name of stale) {
    // looked at again just before: a run may have reused it since (it marks an entry before checking it)
    const parquet = await modified(join(directory, `${name}.parquet`));
    if (parquet !== null && parquet >= before) continue;
    // the receipt first: an entry without it is never reused, whatever else is left
    await rm(join(directory, RECEIPTS_DIR, `${name}.json`), { force: true });
    await rm(join(directory, DIGESTS_DIR, `${name}.json`), { force: true });
    await rm(join(directory, `${name}.parquet`), { force: true });
  }
};
