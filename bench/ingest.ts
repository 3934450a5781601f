import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findInputFiles } from '../lambdas/clv-job/adapters/input-files.js';
import { ingestLocalFiles } from '../lambdas/clv-job/adapters/local-ingest.js';

/** What one ingest pass over a dataset's exports did (printed by the child as one JSON line). */
export interface IngestRun {
  readonly files: number;
  /** Bytes as stored (compressed, for gzip). */
  readonly bytes: number;
  /** Bytes of CSV text read (after decompression): the throughput's numerator. */
  readonly csv_bytes: number;
  readonly rows: number;
  readonly seconds: number;
}

/**
 * Child-process mode of the bench: ingests every export of `dir` once, as `clv run` reads them
 * (ingestLocalFiles: INGEST_CONCURRENCY at a time, largest first, each on its share of the cores),
 * each into a fresh canonical file, and prints an IngestRun.
 * Measured from outside (measureNode) for wall time and peak RSS, so the RSS is the ingest's alone.
 */
export const runIngest = async (dir: string): Promise<void> => {
  const out = await mkdtemp(join(tmpdir(), 'clv-bench-ingest-'));
  try {
    const inputs = await findInputFiles([dir]);
    const t0 = performance.now();
    const { receipts } = await ingestLocalFiles(inputs, { directory: out, force: true });
    const seconds = (performance.now() - t0) / 1000;
    const sum = (of: (r: (typeof receipts)[number]) => number): number => receipts.reduce((total, r) => total + of(r), 0);
    const run: IngestRun = { files: receipts.length, bytes: sum((r) => r.bytes), csv_bytes: sum((r) => r.csv_bytes), rows: sum((r) => r.rows), seconds };
    process.stdout.write(`${JSON.stringify(run)}\n`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
};
