/**
 * The version of what ingest makes of an export: the canonical rows (values, reasons, lines, raw
 * text, column types) and the receipt. It is part of the local cache key (adapters/local-ingest.ts),
 * with DuckDB's version and the ingest settings, so a cached canonical file is never reused after
 * the reader's output changed.
 *
 * Bump it in the change that alters the output: test/ingest/reader-version.test.ts fingerprints the
 * output on the fixture exports and fails, naming this constant, until the new fingerprint is
 * recorded under a new version. A change that only makes the reader faster keeps it (and the
 * fingerprint), so the exports cached on analysts' machines stay valid.
 */
export const INGEST_READER_VERSION = 4;
