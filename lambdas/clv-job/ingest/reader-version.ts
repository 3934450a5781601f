import packageJson from '../../../package.json' with { type: 'json' };

/**
 * The version of what ingest makes of an export: the canonical rows (values, reasons, lines, raw
 * text, column types) and the receipt. It is part of the local cache key (adapters/local-ingest.ts),
 * with DuckDB's version and the ingest settings, so a cached canonical file is never reused after
 * the reader's output changed.
 *
 * Bump it in the change that alters the output: test/ingest/reader-version.test.ts fingerprints the
 * output on the fixture exports and fails, naming this constant, until the new fingerprint is
 * recorded under a new version. A change that only makes the reader faster keeps it (and the
 * fingerprint), so the exports cached on analysts' machines stay valid. A version's recorded
 * fingerprint is never rewritten: every build that ran under that version cached its output under it
 * (version 4's was rewritten four times as its reader changed, so 5 was needed to retire those caches).
 */
export const INGEST_READER_VERSION = 13;

/**
 * The reader a canonical copy in S3 names (its metadata `reader`, READER_METADATA): this version and
 * the DuckDB package the ingest function bundles, pinned in package.json, e.g.
 * `reader-v13/duckdb-node-api-1.5.5-r.5`. Static, so the nightly function, which bundles no DuckDB,
 * can tell a copy another deploy's reader made (AthenaEngine.describeInput).
 */
export const COPY_READER = `reader-v${INGEST_READER_VERSION}/duckdb-node-api-${packageJson.dependencies['@duckdb/node-api']}`;
