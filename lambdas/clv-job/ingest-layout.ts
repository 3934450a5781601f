import { createHash } from 'node:crypto';

/**
 * Where the ingest function keeps what it makes of each export (SPEC "Contract names": canonical
 * files under `ingested/`, receipts under `ingested/_receipts/`, unreadable files under
 * `quarantine/`). Every key is derived from the export's key relative to the drop prefix, so a
 * re-dropped export replaces its own copy and a deleted one takes exactly its copy with it.
 * The ingest handler, the nightly Athena engine, the CDK stack and the tests all use these names.
 */
export const DEFAULT_INGESTED_PREFIX = 'ingested/';
export const DEFAULT_QUARANTINE_PREFIX = 'quarantine/';
/** Starts with `_`: Athena (like Hive) skips it, so receipts never become rows of the orders table. */
export const RECEIPTS_DIR = '_receipts';
/** Beside the quarantined copies, one JSON record per file saying why. */
export const REASONS_DIR = '_reasons';
export const CANONICAL_EXTENSION = '.parquet';
/** The S3 user metadata on each canonical copy holding its export's bytes (the summary's input bytes are the exports', on every path). */
export const SOURCE_BYTES_METADATA = 'source-bytes';
/** S3 metadata key of a canonical copy: the reader that made it (COPY_READER of its deploy). */
export const READER_METADATA = 'reader';

/**
 * Hive-style readers (Athena) skip files and folders whose names start with `_` or `.`, and folder
 * placeholders: such objects are never input, on either side of ingest.
 */
export const isHidden = (relativeKey: string): boolean =>
  relativeKey === '' || relativeKey.endsWith('/') || relativeKey.split('/').some((part) => part.startsWith('_') || part.startsWith('.'));

/** An orders export by its name, as the local CLI picks files from a folder: `*.csv` or `*.csv.gz`, any case. */
export const isExportName = (relativeKey: string): boolean => !isHidden(relativeKey) && /\.csv(\.gz)?$/i.test(relativeKey);

export interface IngestPrefixes {
  /** The drop prefix, ending with `/`. */
  readonly input: string;
  /** Ending with `/`. */
  readonly ingested: string;
  /** Ending with `/`. */
  readonly quarantine: string;
}

/** S3's limit on an object key, in bytes of UTF-8: a longer key fails every request naming it. */
export const MAX_KEY_BYTES = 1024;
/**
 * Under the quarantine's reasons, the records of exports refused by their key's length, each named
 * by the SHA-256 of its key (see exportKeys). Starts with `_`: no export is ever named into it.
 */
export const LONG_KEYS_DIR = '_long-keys';

/** The keys belonging to one export whose derived keys fit S3's limit. */
export interface MirroredKeys {
  readonly fits: true;
  /** The export itself, e.g. `orders/2025/a.csv.gz`. */
  readonly source: string;
  /** Relative to the drop prefix, e.g. `2025/a.csv.gz`. */
  readonly relative: string;
  /** `ingested/2025/a.csv.gz.parquet` */
  readonly canonical: string;
  /** `ingested/_receipts/2025/a.csv.gz.json` */
  readonly receipt: string;
  /** `quarantine/2025/a.csv.gz`: the unreadable export, as dropped. */
  readonly quarantined: string;
  /** `quarantine/_reasons/2025/a.csv.gz.json` */
  readonly quarantineReason: string;
}

/**
 * The keys of an export whose own key fits S3's limit but one of whose derived keys would not: it is
 * refused, and only its record is written, at a key that fits whatever the export's length.
 */
export interface RefusedKeys {
  readonly fits: false;
  readonly source: string;
  readonly relative: string;
  /** `quarantine/_reasons/_long-keys/<SHA-256 of the relative key, hex>.json` */
  readonly quarantineReason: string;
  /** The longest key the mirrored layout would derive: what it is (e.g. `receipt`) and its bytes. */
  readonly longest: { readonly name: string; readonly bytes: number };
  /** The longest export key, in bytes, whose derived keys all fit. */
  readonly maxSourceBytes: number;
}

export type ExportKeys = MirroredKeys | RefusedKeys;

const utf8Bytes = (key: string): number => Buffer.byteLength(key, 'utf8');

/**
 * The keys of the export at `sourceKey`, or null when the key is not under the drop prefix. Each
 * derived key mirrors the export's (a copy names its export, which is how a re-ingest tells an
 * orphan); when one of them would pass MAX_KEY_BYTES (an export key of about 1,000 bytes), the
 * export gets RefusedKeys instead: no request with a key over the limit is ever sent, and the record
 * saying why still fits.
 */
export const exportKeys = (prefixes: IngestPrefixes, sourceKey: string): ExportKeys | null => {
  if (!sourceKey.startsWith(prefixes.input) || sourceKey.length === prefixes.input.length) return null;
  const relative = sourceKey.slice(prefixes.input.length);
  const mirrored: MirroredKeys = {
    fits: true,
    source: sourceKey,
    relative,
    canonical: `${prefixes.ingested}${relative}${CANONICAL_EXTENSION}`,
    receipt: `${prefixes.ingested}${RECEIPTS_DIR}/${relative}.json`,
    quarantined: `${prefixes.quarantine}${relative}`,
    quarantineReason: `${prefixes.quarantine}${REASONS_DIR}/${relative}.json`,
  };
  const derived = [
    { name: 'canonical copy', bytes: utf8Bytes(mirrored.canonical) },
    { name: 'receipt', bytes: utf8Bytes(mirrored.receipt) },
    { name: 'quarantined copy', bytes: utf8Bytes(mirrored.quarantined) },
    { name: 'quarantine record', bytes: utf8Bytes(mirrored.quarantineReason) },
  ];
  const longest = derived.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  if (longest.bytes <= MAX_KEY_BYTES) return mirrored;
  return {
    fits: false,
    source: sourceKey,
    relative,
    quarantineReason: `${prefixes.quarantine}${REASONS_DIR}/${LONG_KEYS_DIR}/${createHash('sha256').update(relative).digest('hex')}.json`,
    longest,
    // every derived key is the relative key plus a fixed prefix and suffix, as the source key is
    maxSourceBytes: MAX_KEY_BYTES - (longest.bytes - utf8Bytes(sourceKey)),
  };
};

/** The export key a canonical copy was made from, or null for a key that is no canonical copy. */
export const sourceKeyOfCanonical = (prefixes: IngestPrefixes, canonicalKey: string): string | null => {
  if (!canonicalKey.startsWith(prefixes.ingested) || !canonicalKey.endsWith(CANONICAL_EXTENSION)) return null;
  const relative = canonicalKey.slice(prefixes.ingested.length, -CANONICAL_EXTENSION.length);
  return isHidden(relative) ? null : `${prefixes.input}${relative}`;
};
