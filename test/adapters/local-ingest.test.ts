import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { tempDir, writeText } from '../support/files.js';

const ORDERS = 'order_id,customer_id,order_date,amount\nO1,C1,2025-01-01,10.00\nO2,C2,2025-01-02,20.00\n';

/** The module under test, loaded afresh (after any vi.doMock). */
const localIngest = () => import('../../lambdas/clv-job/adapters/local-ingest.js');

afterEach(() => {
  vi.doUnmock('node:fs');
  vi.doUnmock('../../lambdas/clv-job/ingest/read-pieces.js');
  vi.doUnmock('../../lambdas/clv-job/ingest/reader-version.js');
  vi.doUnmock('../../lambdas/clv-job/ingest/ingest-export.js');
  vi.resetModules();
});

/** Makes a cache entry look unused for longer than a local run may hold the lock (its Parquet file's time). */
const ageEntry = async (directory: string, name: string): Promise<void> => {
  const { LOCAL_LOCK_TTL_SECONDS } = await import('../../lambdas/clv-job/cli-options.js');
  const longAgo = new Date(Date.now() - (LOCAL_LOCK_TTL_SECONDS + 60) * 1000);
  await utimes(join(directory, `${name}.parquet`), longAgo, longAgo);
};

describe('ingestLocalFiles: the local cache of canonical files', () => {
  it('lets ingests of one export into one folder run at once (`clv ingest` beside a run): each writes its own temporary files, none fails on another\'s rename', async () => {
    const { ingestLocalFiles } = await localIngest();
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', ORDERS);
    const directory = join(dir, 'ingested');
    const inputs = await findInputFiles([path]);

    const results = await Promise.all(Array.from({ length: 4 }, () => ingestLocalFiles(inputs, { directory, force: true })));

    expect(results.map((r) => r.receipts[0]?.rows)).toEqual([2, 2, 2, 2]);
    expect((await readdir(join(directory, '_receipts'))).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect((await ingestLocalFiles(inputs, { directory })).reused).toBe(1);
  });

  it('reads an unchanged export from the cache the next time, and reads it again once its bytes change', async () => {
    const { ingestLocalFiles } = await localIngest();
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', ORDERS);
    const directory = join(dir, 'ingested');

    expect((await ingestLocalFiles(await findInputFiles([path]), { directory })).reused).toBe(0);
    expect((await ingestLocalFiles(await findInputFiles([path]), { directory })).reused).toBe(1);
    await writeFile(path, `${ORDERS}O3,C3,2025-01-03,30.00\n`);
    const changed = await ingestLocalFiles(await findInputFiles([path]), { directory });
    expect(changed).toMatchObject({ reused: 0, receipts: [expect.objectContaining({ rows: 3 })] });
    // the older entry stays while a run may still read it (a run holding the lock ingested it before this one)
    const parquet = async () => (await readdir(directory)).filter((f) => f.endsWith('.parquet'));
    expect(await parquet()).toHaveLength(2);
    // once unused for longer than a run may hold the lock, it goes
    const older = (await parquet()).find((f) => join(directory, f) !== changed.files[0]!.path)!;
    await ageEntry(directory, older.replace(/\.parquet$/, ''));
    await ingestLocalFiles(await findInputFiles([path]), { directory });
    expect(await parquet()).toEqual([changed.files[0]!.path.split('/').pop()]);
    expect((await readdir(join(directory, '_receipts'))).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect((await readdir(join(directory, '_digests'))).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });

  it('keeps an entry reused within a run\'s longest time, however old its file: reuse marks it used', async () => {
    const { ingestLocalFiles } = await localIngest();
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', ORDERS);
    const gone = await writeText(dir, 'gone.csv', ORDERS);
    const directory = join(dir, 'ingested');
    const first = await ingestLocalFiles(await findInputFiles([path, gone]), { directory });
    for (const file of first.files) await ageEntry(directory, file.path.split('/').pop()!.replace(/\.parquet$/, ''));

    const again = await ingestLocalFiles(await findInputFiles([path]), { directory });

    // the export still read was reused (and so kept); the one no longer given, old, was removed
    expect(again.reused).toBe(1);
    const kept = first.files.find((f) => f.source === path)!;
    expect((await readdir(directory)).filter((f) => f.endsWith('.parquet'))).toEqual([kept.path.split('/').pop()]);
  });

  it('reads an export once when nothing of it is cached (cold, or forced), twice only to check an entry that is there', async () => {
    const opened: string[] = [];
    // every pass over an export's bytes, counted (the hash before the cache and the ingest's own read):
    // plain files are read by readPieces, gzip files by a read stream
    vi.doMock('node:fs', async (original) => {
      const real = await original<typeof import('node:fs')>();
      const createReadStream = ((path: string, options?: Parameters<typeof real.createReadStream>[1]) => {
        opened.push(String(path));
        return real.createReadStream(path, options);
      }) as typeof real.createReadStream;
      return { ...real, default: { ...real, createReadStream }, createReadStream };
    });
    vi.doMock('../../lambdas/clv-job/ingest/read-pieces.js', async (original) => {
      const real = await original<typeof import('../../lambdas/clv-job/ingest/read-pieces.js')>();
      return {
        ...real,
        readPieces: (path: string) => {
          opened.push(path);
          return real.readPieces(path);
        },
      };
    });
    const { ingestLocalFiles } = await localIngest();
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', ORDERS);
    const directory = join(dir, 'ingested');
    const passes = async (options: { force?: boolean } = {}) => {
      opened.length = 0;
      const result = await ingestLocalFiles(await findInputFiles([path]), { directory, ...options });
      return { passes: opened.filter((p) => p === path).length, reused: result.reused };
    };

    expect(await passes()).toEqual({ passes: 1, reused: 0 });
    expect(await passes()).toEqual({ passes: 1, reused: 1 });
    expect(await passes({ force: true })).toEqual({ passes: 1, reused: 0 });
    await writeFile(path, `${ORDERS}O3,C3,2025-01-03,30.00\n`);
    expect(await passes()).toEqual({ passes: 2, reused: 0 });
    expect(await passes()).toEqual({ passes: 1, reused: 1 });
  });

  it('reads a cached export again when the reader changed (another INGEST_READER_VERSION), and drops the old entry once unused long enough', async () => {
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', ORDERS);
    const directory = join(dir, 'ingested');
    const before = await (await localIngest()).ingestLocalFiles(await findInputFiles([path]), { directory });

    const { INGEST_READER_VERSION } = await import('../../lambdas/clv-job/ingest/reader-version.js');
    vi.resetModules();
    vi.doMock('../../lambdas/clv-job/ingest/reader-version.js', () => ({ INGEST_READER_VERSION: INGEST_READER_VERSION + 1 }));
    const after = await (await localIngest()).ingestLocalFiles(await findInputFiles([path]), { directory });

    expect(after.reused).toBe(0);
    expect(after.files[0]!.path).not.toBe(before.files[0]!.path);
    await ageEntry(directory, before.files[0]!.path.split('/').pop()!.replace(/\.parquet$/, ''));
    await (await localIngest()).ingestLocalFiles(await findInputFiles([path]), { directory });
    expect((await readdir(directory)).filter((f) => f.endsWith('.parquet'))).toEqual([after.files[0]!.path.split('/').pop()]);
  });

  it('removes the partial files a killed ingest left once they are older than a local run can hold its lock, and no younger ones', async () => {
    const { ingestLocalFiles, RECEIPTS_DIR, DIGESTS_DIR } = await localIngest();
    const { LOCAL_LOCK_TTL_SECONDS } = await import('../../lambdas/clv-job/cli-options.js');
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', ORDERS);
    const directory = join(dir, 'ingested');
    await ingestLocalFiles(await findInputFiles([path]), { directory });
    const abandoned = [join(directory, 'orders.csv-0a1b2c3d.4242.partial'), join(directory, RECEIPTS_DIR, 'x.json.partial'), join(directory, DIGESTS_DIR, 'x.json.partial')];
    const young = [join(directory, 'orders.csv-0a1b2c3d.4343.partial'), join(directory, RECEIPTS_DIR, 'y.json.partial'), join(directory, DIGESTS_DIR, 'y.json.partial')];
    const longAgo = new Date(Date.now() - (LOCAL_LOCK_TTL_SECONDS + 60) * 1000);
    const lately = new Date(Date.now() - (LOCAL_LOCK_TTL_SECONDS - 600) * 1000);
    for (const file of abandoned) {
      await writeFile(file, 'half');
      await utimes(file, longAgo, longAgo);
    }
    for (const file of young) {
      await writeFile(file, 'half');
      await utimes(file, lately, lately);
    }

    expect((await ingestLocalFiles(await findInputFiles([path]), { directory })).reused).toBe(1);
    const partials = (await readdir(directory, { recursive: true })).filter((f) => f.endsWith('.partial')).sort();
    expect(partials).toEqual(young.map((f) => f.slice(directory.length + 1)).sort());
  });

  it('reads an export again when its cached Parquet file was damaged (truncated, pages zeroed, replaced, emptied), and reuses the new entry', async () => {
    const { ingestLocalFiles } = await localIngest();
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', ORDERS);
    const other = await writeText(dir, 'other.csv', `${ORDERS}O3,C3,2025-01-03,30.00\n`);
    const directory = join(dir, 'ingested');
    const first = await ingestLocalFiles(await findInputFiles([path, other]), { directory });
    const canonical = first.files[0]!.path;
    const otherBytes = await readFile(first.files[1]!.path);
    const damages: Record<string, (bytes: Buffer) => Buffer> = {
      truncated: (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)),
      // the same size, the footer intact: only the bytes themselves tell
      'pages zeroed': (bytes) => Buffer.concat([bytes.subarray(0, 4), Buffer.alloc(64), bytes.subarray(68)]),
      'replaced by another file': () => otherBytes,
      'zero bytes': () => Buffer.alloc(0),
    };
    for (const [damage, damaged] of Object.entries(damages)) {
      await writeFile(canonical, damaged(await readFile(canonical)));
      const again = await ingestLocalFiles(await findInputFiles([path, other]), { directory });
      expect({ damage, reused: again.reused, rows: again.receipts.map((r) => r.rows) }).toEqual({ damage, reused: 1, rows: [2, 3] });
      expect(again.files[0]!.path).toBe(canonical);
      const rows = await queryDuckDb(`SELECT order_id FROM read_parquet('${canonical}') ORDER BY order_id`);
      expect({ damage, rows: rows.map((r) => r.order_id) }).toEqual({ damage, rows: ['O1', 'O2'] });
      expect((await ingestLocalFiles(await findInputFiles([path, other]), { directory })).reused).toBe(2);
    }
  });
});

describe('ingestLocalFiles: several exports', () => {
  it('reads them two at a time, never more, and returns them in the inputs\' order with their receipts', async () => {
    let reading = 0;
    let most = 0;
    vi.doMock('../../lambdas/clv-job/ingest/ingest-export.js', async (original) => {
      const real = await original<typeof import('../../lambdas/clv-job/ingest/ingest-export.js')>();
      return {
        ...real,
        // the real reader, counted
        ingestExport: async (request: Parameters<typeof real.ingestExport>[0]) => {
          most = Math.max(most, (reading += 1));
          try {
            return await real.ingestExport(request);
          } finally {
            reading -= 1;
          }
        },
      };
    });
    const { ingestLocalFiles } = await localIngest();
    const { INGEST_CONCURRENCY } = await import('../../lambdas/clv-job/ingest/ingest-export.js');
    const dir = await tempDir();
    for (let i = 0; i < 5; i++) await writeText(dir, `orders-${i}.csv`, `order_id,customer_id,order_date,amount\n${'x'.repeat(i)}O${i},C${i},2025-01-01,1\n`);

    const result = await ingestLocalFiles(await findInputFiles([dir]), { directory: join(dir, 'ingested') });

    expect(most).toBe(INGEST_CONCURRENCY);
    expect(result.files.map((f) => f.source.split('/').pop())).toEqual(['orders-0.csv', 'orders-1.csv', 'orders-2.csv', 'orders-3.csv', 'orders-4.csv']);
    expect(result.receipts.map((r) => r.source.split('/').pop())).toEqual(result.files.map((f) => f.source.split('/').pop()));
  });

  it('starts the largest export first, and gives a read\'s DuckDB its share of the cores among the reads running when it starts', async () => {
    const started: string[] = [];
    const finished: string[] = [];
    const asked: [string, number][] = [];
    const gates = new Map<string, () => void>();
    vi.doMock('../../lambdas/clv-job/ingest/ingest-export.js', async (original) => {
      const real = await original<typeof import('../../lambdas/clv-job/ingest/ingest-export.js')>();
      return {
        ...real,
        // the real reader, held before its DuckDB starts until the test lets it go on
        ingestExport: async (request: Parameters<typeof real.ingestExport>[0]) => {
          const name = request.sourceName.split('/').pop()!;
          started.push(name);
          await new Promise<void>((resolve) => gates.set(name, resolve));
          const threads = typeof request.threads === 'function' ? request.threads() : request.threads!;
          asked.push([name, threads]);
          try {
            return await real.ingestExport({ ...request, threads });
          } finally {
            finished.push(name);
          }
        },
      };
    });
    const { ingestLocalFiles } = await localIngest();
    const { threadsPerRead } = await import('../../lambdas/clv-job/ingest/ingest-export.js');
    const dir = await tempDir();
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `O${i},C${i},2025-01-01,1\n`).join('');
    await writeText(dir, 'a.csv', `order_id,customer_id,order_date,amount\n${rows(1)}`);
    await writeText(dir, 'b.csv', `order_id,customer_id,order_date,amount\n${rows(30)}`);
    await writeText(dir, 'c.csv', `order_id,customer_id,order_date,amount\n${rows(10)}`);
    const go = (name: string) => gates.get(name)!();

    const result = ingestLocalFiles(await findInputFiles([dir]), { directory: join(dir, 'ingested'), concurrency: 2 });
    await vi.waitFor(() => expect(started).toEqual(['b.csv', 'c.csv']));
    go('c.csv');
    await vi.waitFor(() => expect(started).toEqual(['b.csv', 'c.csv', 'a.csv']));
    go('a.csv');
    await vi.waitFor(() => expect(finished).toEqual(['c.csv', 'a.csv']));
    go('b.csv');
    const files = (await result).files.map((f) => f.source.split('/').pop());

    // c and a read beside b: half the cores each; b, left alone by then, all of them
    expect(asked).toEqual([
      ['c.csv', threadsPerRead(2)],
      ['a.csv', threadsPerRead(2)],
      ['b.csv', threadsPerRead(1)],
    ]);
    expect(files).toEqual(['a.csv', 'b.csv', 'c.csv']);
  });

  it('frames one export at a time while reading two at once: a framing pass never shares the JavaScript thread with another', async () => {
    let framing = 0;
    let most = 0;
    // every framing pass reads its export through readPieces (plain CSV), from the first piece to the last;
    // the hash of the Parquet file written (the cache's digest) reads it too, and is no framing
    vi.doMock('../../lambdas/clv-job/ingest/read-pieces.js', async (original) => {
      const real = await original<typeof import('../../lambdas/clv-job/ingest/read-pieces.js')>();
      return {
        ...real,
        readPieces: async function* (path: string) {
          if (!path.endsWith('.csv')) return yield* real.readPieces(path);
          most = Math.max(most, (framing += 1));
          try {
            yield* real.readPieces(path);
          } finally {
            framing -= 1;
          }
        },
      };
    });
    const { ingestLocalFiles } = await localIngest();
    const { READ_CHUNK_BYTES } = await import('../../lambdas/clv-job/ingest/read-pieces.js');
    const dir = await tempDir();
    // a few pieces each, so two framings side by side would interleave
    const count = Math.ceil((3 * READ_CHUNK_BYTES) / 30);
    const rows = Array.from({ length: count }, (_, i) => `O${i},C${i},2025-01-01,1.00\n`).join('');
    for (const name of ['a.csv', 'b.csv', 'c.csv']) await writeText(dir, name, `order_id,customer_id,order_date,amount\n${rows}`);

    const result = await ingestLocalFiles(await findInputFiles([dir]), { directory: join(dir, 'ingested'), concurrency: 2 });

    expect(most).toBe(1);
    expect(result.receipts.map((r) => r.rows)).toEqual([count, count, count]);
  });

  it('leaves out an unreadable export with its reason when asked to, and fails on it otherwise', async () => {
    const { ingestLocalFiles } = await localIngest();
    const dir = await tempDir();
    await writeText(dir, 'a.csv', ORDERS);
    await writeText(dir, 'b.csv', '');
    await writeText(dir, 'c.csv', ORDERS);
    const inputs = await findInputFiles([dir]);

    const result = await ingestLocalFiles(inputs, { directory: join(dir, 'skip'), skipBadFiles: true });
    expect(result.files.map((f) => f.source.split('/').pop())).toEqual(['a.csv', 'c.csv']);
    expect(result.skipped).toEqual([{ path: join(dir, 'b.csv'), reason: expect.stringMatching(/^is empty/) }]);
    await expect(ingestLocalFiles(inputs, { directory: join(dir, 'fail') })).rejects.toThrow(/b\.csv: is empty/);
  });

  it('names the first unreadable export by name when several are, whatever their sizes (the larger read first)', async () => {
    const { ingestLocalFiles } = await localIngest();
    const dir = await tempDir();
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `O${i},C${i},2025-01-01,1\n`).join('');
    // a: small and unreadable; y: larger, readable; z: the largest, unreadable. Largest first, z and y
    // are read before a is started.
    await writeText(dir, 'a.csv', `order_id,customer_id\nO1,C1\n`);
    await writeText(dir, 'y.csv', `order_id,customer_id,order_date,amount\n${rows(50)}`);
    await writeText(dir, 'z.csv', `order_id,customer_id,order_day,amount\n${rows(100)}`);
    const inputs = await findInputFiles([dir]);

    for (const concurrency of [1, 2, 3]) {
      await expect(ingestLocalFiles(inputs, { directory: join(dir, `c${concurrency}`), concurrency })).rejects.toThrow(/a\.csv: lacks/);
    }
  });
});

describe('threadsPerRead', () => {
  it('shares the cores out among the exports read at once, at least one thread each', async () => {
    const { threadsPerRead } = await import('../../lambdas/clv-job/ingest/ingest-export.js');
    expect([threadsPerRead(1, 2), threadsPerRead(2, 2), threadsPerRead(3, 2), threadsPerRead(2, 8), threadsPerRead(3, 8), threadsPerRead(0, 4)]).toEqual([2, 1, 1, 4, 2, 4]);
  });
});
