import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pMap from 'p-map';
import { makeScratchFolder } from '../adapters/scratch-folder.js';
import { compareUtf8 } from '../adapters/utf8-order.js';
import { ClvError, firstLine } from '../errors.js';
import {
  MAX_KEY_BYTES,
  READER_METADATA,
  REASONS_DIR,
  SOURCE_BYTES_METADATA,
  exportKeys,
  isExportName,
  sourceKeyOfCanonical,
  type ExportKeys,
  type IngestPrefixes,
  type MirroredKeys,
  type RefusedKeys,
} from '../ingest-layout.js';
import { COPY_READER } from '../ingest/reader-version.js';
import type { DropBucket, Notifier, ObjectVersion } from '../ports.js';
import type { QuarantineRecord } from '../schemas/quarantine-record.js';

/**
 * The ingest stage on a bucket (SPEC "Pipeline", step 0): each export dropped under the input
 * prefix is read once, by the one ingest implementation the local CLI uses too, into a canonical
 * Parquet copy and a receipt; an export that cannot be read at all is quarantined and announced.
 * The bucket's state after any sequence of events is a function of the exports present: the copy
 * of an export is what the export is now, whichever event arrives first.
 */

/** What the one ingest implementation makes of one local export file. */
export interface IngestedExport {
  /** Local path of the canonical Parquet file. */
  readonly canonical: string;
  /** JSON-serialisable account of the read: rows, malformed rows, header mapping, problems. */
  readonly receipt: object;
}

/**
 * The ingest implementation (ingest/ingest-export.ts): reads the local file `source`, naming it
 * `sourceName` in every row and in the receipt, and writes the canonical file at `output`.
 */
export type IngestExport<C> = (request: {
  readonly source: string;
  readonly sourceName: string;
  readonly config: C;
  readonly output: string;
  /** Exports being read at once, this one included (1, or a re-ingest's concurrency): they share the memory budget. */
  readonly readsAtOnce: number;
}) => Promise<IngestedExport>;

export interface IngestDropDeps<C> {
  readonly bucket: DropBucket;
  readonly prefixes: IngestPrefixes;
  readonly notifier: Notifier;
  readonly ingest: IngestExport<C>;
  /**
   * For the ingest implementation's "this file cannot be read at all" error, its reason (a phrase
   * after "it", e.g. `is not a complete gzip file (...)`); null for any other error.
   */
  readonly unreadableReason: (error: unknown) => string | null;
  /** How exports are read, handed to the ingest implementation as is. */
  readonly config: C;
  readonly now: () => Date;
  /** Parent of the per-export scratch folders. @default os.tmpdir() (Lambda's ephemeral storage) */
  readonly scratch?: string;
  /** Exports a re-ingest reads at once (each is told, to take its share of the memory). @default 1 */
  readonly concurrency?: number;
}

export type IngestOutcome =
  | {
      readonly status: 'ingested';
      readonly source: string;
      readonly canonical: string;
      readonly receipt: string;
      readonly bytes: number;
      readonly rows: number | null;
    }
  | {
      readonly status: 'quarantined';
      readonly source: string;
      /** The copy kept in quarantine; null for an export refused by its key's length, left where it was dropped. */
      readonly quarantined: string | null;
      readonly reason: string;
      readonly bytes: number;
    }
  | { readonly status: 'removed'; readonly source: string; readonly removed: readonly string[] }
  | { readonly status: 'ignored'; readonly source: string; readonly reason: string };

/** The receipt's row count, when it states one. */
const receiptRows = (receipt: object): number | null => {
  const rows = (receipt as { rows?: unknown }).rows;
  return typeof rows === 'number' && Number.isInteger(rows) ? rows : null;
};

const objectMetadata = (version: ObjectVersion): Record<string, string> => ({
  [SOURCE_BYTES_METADATA]: String(version.bytes),
  ...(version.etag ? { 'source-etag': version.etag.replaceAll('"', '') } : {}),
  ...(version.versionId ? { 'source-version-id': version.versionId } : {}),
});

/** The export version a copy was made from, from its metadata ({@link objectMetadata}); null without a copy. */
const madeFrom = (metadata: Readonly<Record<string, string>> | null): ObjectVersion | null =>
  metadata === null
    ? null
    : {
        bytes: Number(metadata[SOURCE_BYTES_METADATA]),
        etag: metadata['source-etag'] === undefined ? null : `"${metadata['source-etag']}"`,
        versionId: metadata['source-version-id'] ?? null,
      };

/**
 * The record under the quarantine's reasons the night lists an export by, with why it is left out:
 * quarantined (unreadable), or without a copy of its current contents (not read yet, or its read failed).
 */
const quarantineRecord = <C>(deps: IngestDropDeps<C>, keys: ExportKeys, version: ObjectVersion, reason: string): QuarantineRecord => ({
  source: `${deps.bucket.location}${keys.source}`,
  reason,
  quarantined_at: deps.now().toISOString(),
  bytes: version.bytes,
  etag: version.etag,
  version_id: version.versionId,
});

const RETRIED = "the ingest function retries it, then keeps the event in its dead-letter queue (alarm IngestFailedEvents)";

const ignored = (source: string, prefixes: IngestPrefixes): IngestOutcome | null => {
  const keys = exportKeys(prefixes, source);
  if (!keys) return { status: 'ignored', source, reason: `not under the drop prefix ${prefixes.input}` };
  if (!isExportName(keys.relative)) {
    return { status: 'ignored', source, reason: 'not an export by its name (*.csv or *.csv.gz, no part starting with "_" or ".")' };
  }
  return null;
};

/**
 * Ingests the export now at `source` (an Object Created event, or a re-ingest). The canonical copy
 * and the receipt replace any earlier ones and a stale quarantine record goes; an unreadable file
 * is copied to quarantine with its reason, its stale canonical copy removed (the night must not
 * read the previous contents of a replaced export), and the team notified. A key that no longer
 * exists is handled as deleted. Errors other than an unreadable export propagate: the event is
 * retried, then kept in the dead-letter queue.
 *
 * The previous contents of a replaced export never outlive the read of the new ones, whatever
 * ends it (an error, the function's timeout, the process killed): before reading, a copy made from
 * another version of the export goes, and a record under the quarantine's reasons says the export
 * is not ingested yet (the night lists it as left out, with why); a failed read says what failed.
 * A copy of this very version (a re-ingest, a repeated event), or of a version with the same bytes
 * (an export re-sent as it was), stays while it is read again.
 */
export const ingestDropped = async <C>(deps: IngestDropDeps<C>, source: string, readsAtOnce = 1): Promise<IngestOutcome> => {
  const skip = ignored(source, deps.prefixes);
  if (skip) return skip;
  const keys = exportKeys(deps.prefixes, source)!;
  if (!keys.fits) return await refuseLongKey(deps, keys);
  // named for this process: an invocation killed mid-read (a timeout) leaves it in the warm container's /tmp, and the next one removes it
  const dir = await makeScratchFolder(deps.scratch ?? tmpdir(), 'clv-drop-');
  try {
    // named by its extension alone: an S3 key's last segment may be up to 1,024 bytes, a file name 255
    // (a longer one failed the download, never ingested nor quarantined); messages name the key
    const local = join(dir, `export${/\.csv(\.gz)?$/i.exec(source)?.[0] ?? ''}`);
    const made = madeFrom(await deps.bucket.metadata(keys.canonical));
    // an export re-sent as it was (a new version, the same bytes) keeps its copy while it is read again:
    // removed, a night reading meanwhile would leave it out, and the copy made again is the same object
    const staleFor = (object: ObjectVersion): boolean => made === null || !(sameObject(made, object) || sameBytes(made, object));
    // before the download: a download that fails (a key it may not read, an outage) must not leave the copy
    // of the contents the key held before for every night to read, nor the export out without a word
    const current = await deps.bucket.head(source);
    if (current === null) return await removeDropped(deps, source);
    if (staleFor(current)) await markNotIngested(deps, keys, current);
    const version = await deps.bucket.download(source, local);
    if (version === null) return await removeDropped(deps, source);
    const sourceName = `${deps.bucket.location}${source}`;
    const stale = staleFor(version);
    // a handler of a newer object may have written its copy since this one downloaded: that copy is
    // what the key holds, and stays; the object the key holds now is handled instead
    if (stale && !sameObject(await deps.bucket.head(source), version)) {
      return await settled(deps, source, version, { status: 'ignored', source, reason: 'replaced while it was read' });
    }
    // the object downloaded is not the one looked at (replaced in between): its record, the copy gone
    if (stale && !sameObject(version, current)) await markNotIngested(deps, keys, version);
    /**
     * A read or write of a new version that failed for a reason of the moment: the record says what
     * failed (the retry may succeed), and no copy is left for a night to read beside a record saying
     * the export is not ingested; unless the key holds another object by now, whose handler writes its own.
     */
    const failed = async (step: string, error: unknown): Promise<never> => {
      if (stale && sameObject(await deps.bucket.head(source).catch(() => null), version)) {
        // one line, as every reason is: an error's message may hold a stack or a dump
        const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim().slice(0, 300);
        await deps.bucket.putJson(keys.quarantineReason, quarantineRecord(deps, keys, version, `is not ingested: its ${step} failed (${message}); ${RETRIED}`)).catch(() => undefined);
        await deps.bucket.remove([keys.canonical, keys.receipt]).catch(() => undefined);
      }
      throw error;
    };
    let ingested: IngestedExport;
    try {
      ingested = await deps.ingest({ source: local, sourceName, config: deps.config, output: join(dir, 'canonical.parquet'), readsAtOnce });
    } catch (error) {
      const reason = deps.unreadableReason(error);
      if (reason === null) return await failed('read', error);
      return await settled(deps, source, version, await quarantine(deps, keys, local, version, reason));
    }
    try {
      // the reader named on the copy: a night tells the copies an older deploy's reader made (AthenaEngine.describeInput)
      await deps.bucket.upload(keys.canonical, ingested.canonical, { ...objectMetadata(version), [READER_METADATA]: COPY_READER });
      await deps.bucket.putJson(keys.receipt, ingested.receipt);
      await deps.bucket.remove([keys.quarantined, keys.quarantineReason]);
    } catch (error) {
      return await failed('copy', error);
    }
    return await settled(deps, source, version, {
      status: 'ingested',
      source,
      canonical: keys.canonical,
      receipt: keys.receipt,
      bytes: version.bytes,
      rows: receiptRows(ingested.receipt),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/**
 * The record a night lists an export by while its read of a new version runs, then the copy of the
 * contents the key held before removed: in that order, so that no moment has neither (the export
 * left out without a word) and a failure between leaves the record (the night names the export).
 */
const markNotIngested = async <C>(deps: IngestDropDeps<C>, keys: MirroredKeys, version: ObjectVersion): Promise<void> => {
  const started = deps.now().toISOString();
  await deps.bucket.putJson(keys.quarantineReason, quarantineRecord(deps, keys, version, `is not ingested yet: its read started at ${started} and has not ended (a read that fails or times out: ${RETRIED})`));
  await deps.bucket.remove([keys.canonical, keys.receipt]);
};

const quarantine = async <C>(deps: IngestDropDeps<C>, keys: MirroredKeys, local: string, version: ObjectVersion, reason: string): Promise<IngestOutcome> => {
  const record = quarantineRecord(deps, keys, version, reason);
  await deps.bucket.remove([keys.canonical, keys.receipt]);
  await deps.bucket.upload(keys.quarantined, local, objectMetadata(version));
  await deps.bucket.putJson(keys.quarantineReason, record);
  await announce(deps, keys, record, [
    `Copy kept at: ${deps.bucket.location}${keys.quarantined}`,
    `Record: ${deps.bucket.location}${keys.quarantineReason}`,
    '',
    'Drop a corrected file under the same key: it is ingested at once and the quarantine entry goes.',
  ]);
  return { status: 'quarantined', source: keys.source, quarantined: keys.quarantined, reason, bytes: version.bytes };
};

/**
 * An export whose key leaves no room for the keys derived from it (exportKeys: one would pass S3's
 * 1,024 bytes): left where it was dropped, unread, with a record saying why at a key that fits, and
 * the data team told, as for an unreadable one. A copy or a receipt under a key over the limit would
 * fail to be written, and so would a record beside them: the export neither ingested nor named by any night.
 */
const refuseLongKey = async <C>(deps: IngestDropDeps<C>, keys: RefusedKeys): Promise<IngestOutcome> => {
  const version = await deps.bucket.head(keys.source);
  if (version === null) return await removeDropped(deps, keys.source);
  const bytes = (n: number): string => `${n.toLocaleString('en-US')} bytes`;
  const reason =
    `has a key of ${bytes(Buffer.byteLength(keys.source))}, too long for the keys the ingest derives from it: its ${keys.longest.name} ` +
    `would take ${bytes(keys.longest.bytes)}, over S3's limit of ${bytes(MAX_KEY_BYTES)} on a key; drop it under a key of at most ${bytes(keys.maxSourceBytes)}`;
  const record = quarantineRecord(deps, keys, version, reason);
  await deps.bucket.putJson(keys.quarantineReason, record);
  await announce(deps, keys, record, [
    `Record: ${deps.bucket.location}${keys.quarantineReason}`,
    '',
    'Drop it again under a shorter key, and delete this one: its record goes with it.',
  ]);
  return await settled(deps, keys.source, version, { status: 'quarantined', source: keys.source, quarantined: null, reason, bytes: version.bytes });
};

/** Tells the data team an export is left out (its record says why), then where things are and what to do (`details`, one line each). */
const announce = async <C>(deps: IngestDropDeps<C>, keys: ExportKeys, record: QuarantineRecord, details: readonly string[]): Promise<void> =>
  deps.notifier.notify(
    `CLV export quarantined: ${basename(keys.source)}`,
    [`The export ${record.source} cannot be read: it ${record.reason}`, '', "Tonight's CLV run will leave it out and name it in its summary's warnings.", ...details].join('\n'),
  );

/**
 * Removes what was made of the export at `source` (an Object Deleted event): the canonical copy,
 * the receipt and any quarantine entry. When the key holds an object again (re-dropped after the
 * delete, events out of order), that object is ingested instead.
 */
export const removeDropped = async <C>(deps: IngestDropDeps<C>, source: string): Promise<IngestOutcome> => {
  const skip = ignored(source, deps.prefixes);
  if (skip) return skip;
  const keys = exportKeys(deps.prefixes, source)!;
  const now = await deps.bucket.head(source);
  if (now !== null) {
    // a refused export has no copy to compare: it is refused again
    if (!keys.fits) return ingestDropped(deps, source);
    // another version went (S3 Lifecycle expiring a noncurrent one, or one deleted by hand): the copy
    // of what the key holds is already made, and reading it again would only rewrite it under a running night
    if (sameObject(madeFrom(await deps.bucket.metadata(keys.canonical)), now)) {
      return { status: 'ignored', source, reason: 'the key still holds the object its canonical copy was made from' };
    }
    // likewise a quarantined export: read again, it would be quarantined again and the data team told again
    if (sameObject(madeFrom(await deps.bucket.metadata(keys.quarantined)), now)) {
      return { status: 'ignored', source, reason: 'the key still holds the object that was quarantined' };
    }
    return ingestDropped(deps, source);
  }
  const removed = keys.fits ? [keys.canonical, keys.receipt, keys.quarantined, keys.quarantineReason] : [keys.quarantineReason];
  await deps.bucket.remove(removed);
  return settled(deps, source, null, { status: 'removed', source, removed });
};

/**
 * The export key an S3 event names. S3 URL-encodes the key in its event notifications ("red
 * flower.jpg" arrives as "red+flower.jpg", "März" as "M%C3%A4rz"), and AWS's own event parsers
 * (Powertools) decode the EventBridge form too; so the key is decoded (`+` as a space, then the
 * percent escapes), and the key as it arrived is the fallback, for a delivery that did not encode
 * it. Of the two, the first the drop knows is taken (an object at it, a canonical copy of it, or its quarantine record);
 * when it knows neither (an export deleted before it was copied, or an event for nothing), the decoded one.
 */
export const droppedKey = async <C>(deps: IngestDropDeps<C>, eventKey: string): Promise<string> => {
  const decoded = decodedKey(eventKey);
  if (decoded === null || decoded === eventKey) return eventKey;
  for (const key of [decoded, eventKey]) {
    // only exports are looked at: the function may read nothing outside the drop prefix
    if (ignored(key, deps.prefixes) !== null) continue;
    if ((await deps.bucket.head(key)) !== null) return key;
    const keys = exportKeys(deps.prefixes, key)!;
    if ((keys.fits && (await deps.bucket.metadata(keys.canonical)) !== null) || (await deps.bucket.head(keys.quarantineReason)) !== null) return key;
  }
  return decoded;
};

/** `key` URL-decoded as S3's events encode it, or null when it is no such encoding (a `%` not followed by two hex digits, or escapes that are not UTF-8). */
const decodedKey = (key: string): string | null => {
  try {
    return decodeURIComponent(key.replaceAll('+', ' '));
  } catch {
    return null;
  }
};

/** Whether two looks at a key saw the same object: by version id on a versioned bucket, else by ETag and size. */
const sameObject = (a: ObjectVersion | null, b: ObjectVersion | null): boolean =>
  a === null || b === null
    ? a === b
    : a.versionId !== null && b.versionId !== null
      ? a.versionId === b.versionId
      : a.etag === b.etag && a.bytes === b.bytes;

/** Whether two versions of an export hold the same bytes, as far as S3 tells: the same size and ETag (an MD5 unless uploaded in parts or encrypted with KMS, which differ anyway). */
const sameBytes = (a: ObjectVersion, b: ObjectVersion): boolean => a.etag !== null && a.etag === b.etag && a.bytes === b.bytes;

/**
 * `outcome`, once what was just written for `source` is known to match what the key holds now
 * (`made`: the object read, or null for a removal). Events for one key are handled concurrently
 * (re-dropped or deleted while a large export is read): a handler of a newer object can finish
 * first and have its copy overwritten by this one's. So every handler looks again after writing,
 * and when the key holds another object (or none) it handles that: the last writer always writes
 * what the key holds now, and the night never reads a replaced or deleted export's contents.
 */
const settled = async <C>(deps: IngestDropDeps<C>, source: string, made: ObjectVersion | null, outcome: IngestOutcome): Promise<IngestOutcome> => {
  const now = await deps.bucket.head(source);
  if (sameObject(now, made)) return outcome;
  return now === null ? removeDropped(deps, source) : ingestDropped(deps, source);
};

/** An export a re-ingest failed on, and the error (which its own event would have been retried for). */
export interface ReingestFailure {
  readonly source: string;
  readonly error: unknown;
}

/**
 * A re-ingest that handled every export but failed on some: `failures` in key order, `outcomes` what
 * the others came to (counted and logged as a re-ingest's are), `exports` how many it handled.
 */
export class ReingestError extends ClvError {
  constructor(
    readonly outcomes: readonly IngestOutcome[],
    readonly failures: readonly ReingestFailure[],
    readonly exports: number,
  ) {
    super(
      `the re-ingest failed on ${failures.length} of ${exports} exports (every other one is handled): ` +
        failures.map((f) => `${f.source}: ${firstLine(f.error)}`).join('; '),
    );
  }
}

/**
 * Re-ingests every export under the drop prefix (a backfill, a changed reading configuration),
 * `concurrency` at a time (each export's copy is its own: they are independent), outcomes in key
 * order, then removes canonical copies and quarantine entries whose export is gone. An export that
 * fails holds none of the others back: each is handled, then a ReingestError names every failure.
 */
export const reingestAll = async <C>(deps: IngestDropDeps<C>): Promise<IngestOutcome[]> => {
  const { prefixes } = deps;
  const sources = await deps.bucket.list(prefixes.input);
  const concurrency = Math.max(1, Math.min(deps.concurrency ?? 1, sources.length));
  const failures: ReingestFailure[] = [];
  // a failed export is set aside, not thrown: pMap would stop starting the exports after it
  const attempt = async (source: string, handle: () => Promise<IngestOutcome>): Promise<IngestOutcome[]> => {
    try {
      return [await handle()];
    } catch (error) {
      failures.push({ source, error });
      return [];
    }
  };
  const outcomes = (await pMap(sources, (source) => attempt(source, () => ingestDropped(deps, source, concurrency)), { concurrency })).flat();
  const present = new Set(sources);
  const orphans = new Set<string>();
  for (const key of await deps.bucket.list(prefixes.ingested)) {
    const source = sourceKeyOfCanonical(prefixes, key);
    if (source !== null && !present.has(source)) orphans.add(source);
  }
  const reasons = `${prefixes.quarantine}${REASONS_DIR}/`;
  for (const key of await deps.bucket.list(prefixes.quarantine)) {
    // a quarantined copy, or a record alone (a read that failed, or never ended, left no copy): either names its export
    const relative = key.startsWith(reasons) ? key.slice(reasons.length).replace(/\.json$/, '') : key.slice(prefixes.quarantine.length);
    if (isExportName(relative) && !present.has(`${prefixes.input}${relative}`)) orphans.add(`${prefixes.input}${relative}`);
  }
  for (const source of [...orphans].sort()) outcomes.push(...(await attempt(source, () => removeDropped(deps, source))));
  if (failures.length > 0) {
    const exports = sources.filter((source) => ignored(source, prefixes) === null).length + orphans.size;
    throw new ReingestError(outcomes, failures.sort((a, b) => compareUtf8(a.source, b.source)), exports);
  }
  return outcomes;
};
