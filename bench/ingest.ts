import { readdir, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pMap from 'p-map';
import { INGEST_CONCURRENCY, ingestExport, threadsPerRead } from '../lambdas/clv-job/ingest/ingest-export.js';

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
 * Child-process mode of the bench: ingests every export of `dir` once with ingestExport (the one
 * reader of both paths), each into a fresh canonical file, INGEST_CONCURRENCY at a time, each on
 * its share of the cores (threadsPerRead), as `clv run` reads them, and prints an IngestRun.
 * Measured from outside (measureNode) for wall time and peak RSS, so the RSS is the ingest's alone.
 */
export const runIngest = async (dir: string): Promise<void> => {
  const files = (await readdir(dir)).filter((f) => /\.csv(\.gz)?$/.test(f)).sort();
  const out = await mkdtemp(join(tmpdir(), 'clv-bench-ingest-'));
  try {
    let bytes = 0;
    let csvBytes = 0;
    let rows = 0;
    const threads = threadsPerRead(Math.min(INGEST_CONCURRENCY, files.length));
    const t0 = performance.now();
    await pMap(
      files.entries(),
      async ([i, file]) => {
        const { receipt } = await ingestExport({ source: join(dir, file), sourceName: file, output: join(out, `${i}.parquet`), threads });
        bytes += receipt.bytes;
        csvBytes += receipt.csv_bytes;
        rows += receipt.rows;
      },
      { concurrency: INGEST_CONCURRENCY },
    );
    const seconds = (performance.now() - t0) / 1000;
    const run: IngestRun = { files: files.length, bytes, csv_bytes: csvBytes, rows, seconds };
    process.stdout.write(`${JSON.stringify(run)}\n`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
};
