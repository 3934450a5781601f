import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AudienceWorkerError, MAX_CHUNKS_IN_FLIGHT, WorkerAudiences } from '../../lambdas/clv-job/adapters/worker-audiences.js';
import {
  audienceChunks,
  AudienceJobError,
  packTexts,
  scoreTextsOf,
  type AudienceChunk,
  type AudienceLists,
  type PatternScores,
} from '../../lambdas/clv-job/pipeline/audience-csv.js';
import { startWorker } from '../../lambdas/clv-job/adapters/worker-replies.js';
import { patternScoresOf, writeAudiences } from '../../lambdas/clv-job/pipeline/write-audiences.js';
import { tempDir, writeText } from '../support/files.js';
import { bundleChild } from '../support/publish-faults.js';
import type { Audience } from '../../lambdas/clv-job/domain/segments/audiences.js';
import type { ByteSink } from '../../lambdas/clv-job/ports.js';

const AWKWARD_IDS = ['comma, inc', 'say "hi"', 'two\nlines', 'cr\rthen', 'Zoë Ünal', '顧客 42', '=1+2'];

/** Audience rows with their scores per pattern. */
type AudienceRows = AudienceLists & PatternScores;

/**
 * `n` customers (a few with ids a naive CSV writer breaks), ranked in a shuffled order, in three
 * audiences: everyone, every third customer (two actions), none. Large enough to need more chunks
 * than may be in flight. `idOf(i, id)` may replace customer i's id.
 */
const rowsOf = (n: number, idOf: (i: number, id: string) => string = (_, id) => id, scoreOf = (p: number) => 1000 / (p + 1) + p * 1e-7): AudienceRows => {
  const customerId = Array.from({ length: n }, (_, i) => idOf(i, i < AWKWARD_IDS.length ? AWKWARD_IDS[i]! : `C${String((i * 7919) % n).padStart(8, '0')}`));
  const order = Int32Array.from({ length: n }, (_, k) => (k * 104729) % n);
  const patternCount = Math.ceil(n / 3);
  const part = (keep: (i: number) => boolean) => {
    const members = Int32Array.from(order).filter(keep);
    const rank = new Int32Array(n);
    order.forEach((i, k) => (rank[i] = k));
    return { members, ranks: Int32Array.from(members, (i) => rank[i]!) };
  };
  const thirds = part((i) => i % 3 === 0);
  return {
    audiences: [
      { segment: 'everyone', ...part(() => true), actions: ['Protect: proactive account management and priority service'], actionOf: new Uint16Array(n) },
      { segment: 'Can\'t Lose "Them", ok', ...thirds, actions: ['Win back', 'Nurture, gently'], actionOf: Uint16Array.from(thirds.members, (i) => i % 2) },
      { segment: 'nobody', members: new Int32Array(0), ranks: new Int32Array(0), actions: [], actionOf: new Uint16Array(0) },
    ],
    customerIds: packTexts(n, (i) => customerId[i]!),
    patternOf: Int32Array.from({ length: n }, (_, i) => i % patternCount),
    patternCount,
    predictedClv: Float64Array.from({ length: patternCount }, (_, p) => scoreOf(p)),
    probabilityAlive: Float64Array.from({ length: patternCount }, (_, p) => 1 / (p + 2)),
  };
};

/** The rows' scores, as the run gives them ahead (AudienceCsvBuilder.start): the rows' own arrays. */
const scoresOf = ({ patternCount, predictedClv, probabilityAlive }: AudienceRows): PatternScores => ({ patternCount, predictedClv, probabilityAlive });

/** The rows without their scores, as a job takes them (its scores went ahead). */
const listsOf = ({ audiences, customerIds, patternOf }: AudienceRows): AudienceLists => ({ audiences, customerIds, patternOf });

/** A chunk as its audience, length and SHA-256 (toEqual on megabytes of bytes would take minutes). */
const digestOf = ({ audience, bytes }: AudienceChunk) => ({ audience, bytes: bytes === null ? null : `${bytes.byteLength} ${createHash('sha256').update(bytes).digest('hex')}` });

/** Every chunk audienceChunks builds of `rows` in this thread, as its digest. */
const builtHere = (rows: AudienceRows): ReturnType<typeof digestOf>[] => Array.from(audienceChunks(rows, scoreTextsOf(rows)), digestOf);

/** Every chunk's digest, taken slowly (a write's await between chunks) so the worker runs ahead. */
const drain = async (chunks: AsyncIterable<AudienceChunk>): Promise<ReturnType<typeof digestOf>[]> => {
  const out: ReturnType<typeof digestOf>[] = [];
  for await (const chunk of chunks) {
    out.push(digestOf(chunk));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
};

describe('WorkerAudiences', () => {
  let workerBundle: URL;
  beforeAll(async () => {
    workerBundle = pathToFileURL(await bundleChild('test/support/audience-worker-child.ts'));
  }, 60_000);

  it('builds on a worker the chunks audienceChunks builds in this thread, byte for byte, more of them than may be in flight', async () => {
    // Prepare
    const rows = rowsOf(250_000);
    const here = builtHere(rows);
    const builder = new WorkerAudiences({ script: workerBundle });

    // Act
    const there = await drain(builder.start(scoresOf(rows)).chunks(rows));

    // Assess
    expect(builder.onWorker).toBe(true);
    expect(here.filter((c) => c.bytes !== null).length).toBeGreaterThan(MAX_CHUNKS_IN_FLIGHT);
    expect(there).toEqual(here);
  }, 60_000);

  it('builds the rows with the scores sent ahead (start), which are theirs: the rows go without them', async () => {
    // Prepare: the rows handed over without their scores, which went ahead
    const rows = rowsOf(100_000);
    const here = builtHere(rows);
    const job = new WorkerAudiences({ script: workerBundle }).start(scoresOf(rows));

    // Act
    const there = await drain(job.chunks(listsOf(rows)));

    // Assess
    expect(there).toEqual(here);
  }, 60_000);

  it('fails with the worker\'s own error, not a hang, when it cannot turn the scores sent ahead to text', async () => {
    // Prepare: a negative count of patterns, which no text can be made of
    const rows = rowsOf(1000);
    const job = new WorkerAudiences({ script: workerBundle }).start({ ...scoresOf(rows), patternCount: -2 });

    // Act
    const outcome = drain(job.chunks(rows));

    // Assess
    await expect(outcome).rejects.toThrow(AudienceWorkerError);
    await expect(outcome).rejects.toThrow(/audience worker failed: Invalid typed array length: -1/);
  }, 60_000);

  it('hands every chunk out of one shared memory, reused from chunk to chunk, and a chunk longer than its slot in a buffer of its own', async () => {
    // Prepare: a row longer than a chunk (an id of 5 MB, in one audience), which is a chunk of its own
    const long = rowsOf(250_000, (i, id) => (i === 43 ? 'L'.repeat(5 << 20) : id));
    const here = builtHere(long);
    const buffers: ArrayBufferLike[] = [];

    // Act
    const there: ReturnType<typeof digestOf>[] = [];
    for await (const chunk of new WorkerAudiences({ script: workerBundle }).start(scoresOf(long)).chunks(long)) {
      there.push(digestOf(chunk));
      if (chunk.bytes !== null) buffers.push(chunk.bytes.buffer);
    }

    // Assess
    expect(there).toEqual(here);
    const shared = buffers.filter((buffer) => buffer instanceof SharedArrayBuffer);
    expect(new Set(shared).size).toBe(1);
    expect(buffers.length - shared.length).toBe(1);
    expect(buffers.find((buffer) => !(buffer instanceof SharedArrayBuffer))!.byteLength).toBeGreaterThan(5 << 20);
  }, 60_000);

  it('writes whole files through a sink that keeps its chunks (an S3 upload), though the worker reuses their memory', async () => {
    // Prepare: three audiences of everyone, far more chunks than the worker's slots
    const n = 300_000;
    const members = Int32Array.from({ length: n }, (_, k) => (k * 104729) % n);
    const ranks = Int32Array.from({ length: n }, (_, k) => k);
    // arrays of their own, as audiencesOf gives them (the worker takes them over)
    const audiences = (): Audience[] =>
      ['high', 'mid', 'low'].map((segment) => ({ scheme: 'clv_tier', segment, file: segment, members: members.slice(), ranks: ranks.slice(), actionsOf: () => [`Act on ${segment}`] }));
    const customers = { customerId: Array.from({ length: n }, (_, i) => `C${String(i).padStart(9, '0')}`) };
    const scored = { byPattern: { patternOf: Int32Array.from({ length: n }, (_, i) => i % 1000), size: 1000, columns: { predicted_clv: Float64Array.from({ length: 1000 }, (_, p) => p / 7), probability_alive: null } } };
    const files = (keepsChunks: boolean) => {
      const kept = new Map<string, Uint8Array[]>();
      const run = {
        open: async (key: string): Promise<ByteSink> => {
          const chunks: Uint8Array[] = [];
          kept.set(key, chunks);
          // holds every chunk as given, read only when the test is over
          return { keepsChunks, write: async (chunk) => void chunks.push(chunk), close: async () => undefined };
        },
      };
      const digests = () => [...kept].map(([key, chunks]) => `${key} ${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`);
      return { run, digests };
    };
    const here = files(false);
    await writeAudiences(here.run, '2025-12-31', audiences(), customers, scored);

    // Act
    const there = files(true);
    await writeAudiences(there.run, '2025-12-31', audiences(), customers, scored, new WorkerAudiences({ script: workerBundle }).start(patternScoresOf(scored)));

    // Assess
    expect(there.digests()).toEqual(here.digests());
  }, 60_000);

  it('moves the ids and the audiences\' lists to the worker rather than copying them: the caller is left with detached buffers', async () => {
    // Prepare
    const rows = rowsOf(1000);
    const here = builtHere(rows);
    const job = new WorkerAudiences({ script: workerBundle }).start(scoresOf(rows));

    // Act
    const there = await drain(job.chunks(rows));

    // Assess
    expect(there).toEqual(here);
    expect(rows.customerIds.bytes.byteLength).toBe(0);
    expect(rows.customerIds.offset.length).toBe(0);
    for (const audience of rows.audiences) expect([audience.members.length, audience.ranks.length, audience.actionOf.length]).toEqual([0, 0, 0]);
  }, 60_000);

  it('writes through the worker files of as many rows as each audience has members, though the worker took the lists', async () => {
    // Prepare: the rows' audiences as the run's Audience objects
    const rows = rowsOf(1000);
    const audiences = rows.audiences.map(({ segment, members, ranks, actions, actionOf }, a) => {
      const actionByMember = new Map(Array.from(members, (i, j) => [i, [actions[actionOf[j]!]!]]));
      return { scheme: 'rfm' as const, segment, file: `audience_${a}`, members, ranks, actionsOf: (i: number) => actionByMember.get(i) ?? [] };
    });
    const expected = audiences.map((a) => a.members.length);
    const ids = Array.from({ length: 1000 }, (_, i) => new TextDecoder().decode(rows.customerIds.bytes.subarray(rows.customerIds.offset[i], rows.customerIds.offset[i + 1])));
    const scores = { byPattern: { patternOf: rows.patternOf, size: rows.patternCount, columns: { predicted_clv: rows.predictedClv, probability_alive: rows.probabilityAlive } } };
    const sink = { write: async () => undefined, close: async () => undefined };

    // Act
    const job = new WorkerAudiences({ script: workerBundle }).start(patternScoresOf(scores));
    const written = await writeAudiences({ open: async () => sink }, '2025-12-31', audiences, { customerId: ids }, scores, job);

    // Assess
    expect(audiences[0]!.members.length).toBe(0);
    expect(written.map((f) => f.rows)).toEqual(expected);
    expect(expected).toEqual([1000, 334, 0]);
  }, 60_000);

  it('builds in this thread when the script is a TypeScript source (vitest) or no worker is asked for', async () => {
    const rows = rowsOf(100);
    const here = builtHere(rows);
    for (const builder of [new WorkerAudiences({ script: new URL(import.meta.url) }), new WorkerAudiences({ script: workerBundle, worker: false })]) {
      expect(builder.onWorker).toBe(false);
      expect(await drain(builder.start(scoresOf(rows)).chunks(rows))).toEqual(here);
    }
  });

  describe.each([
    ['on a worker', true],
    ['in this thread', false],
  ])('kept between runs (a warm Lambda container), %s', (_, onWorker) => {
    const builderOf = () => new WorkerAudiences({ script: workerBundle, worker: onWorker });
    // run 1's rows, and run 2's: other customers, other patterns, other scores
    const run1 = () => rowsOf(30_000);
    const run2 = () => rowsOf(20_000, (_, id) => `${id}-2`, (p) => 7 / (p + 3));

    it('builds the run after one that failed between start and chunks exactly as this thread builds it from its own scores', async () => {
      // Prepare: run 1 starts its job and fails before its chunks, closing it (runPipeline); run 2 starts its own
      const builder = builderOf();
      const rows2 = run2();
      const here = builtHere(rows2);
      const job1 = builder.start(scoresOf(run1()));
      await job1.close();
      const job2 = builder.start(scoresOf(rows2));

      // Act
      const there = await drain(job2.chunks(listsOf(rows2)));

      // Assess
      expect(builder.onWorker).toBe(onWorker);
      expect(there).toEqual(here);
      await expect(drain(job1.chunks(listsOf(run2())))).rejects.toThrow(AudienceJobError);
    }, 60_000);

    it('closes a job its run left open when the next run starts: its chunks refuse, and the next run\'s are built from their own scores', async () => {
      // Prepare: run 1's job never closed
      const builder = builderOf();
      const rows2 = run2();
      const here = builtHere(rows2);
      const job1 = builder.start(scoresOf(run1()));
      const job2 = builder.start(scoresOf(rows2));

      // Act
      const stale = drain(job1.chunks(listsOf(run1())));

      // Assess
      await expect(stale).rejects.toThrow(AudienceJobError);
      await expect(stale).rejects.toThrow(/after the job was closed/);
      expect(await drain(job2.chunks(listsOf(rows2)))).toEqual(here);
    }, 60_000);

    it('refuses a job\'s chunks asked for a second time, without a start of their own', async () => {
      // Prepare
      const rows = run1();
      const job = builderOf().start(scoresOf(rows));
      await drain(job.chunks(listsOf(rows)));

      // Act
      const again = drain(job.chunks(listsOf(run1())));

      // Assess
      await expect(again).rejects.toThrow(AudienceJobError);
      await expect(again).rejects.toThrow(/after they were built/);
    }, 60_000);

    it('refuses rows whose scoring pattern is not one of its job\'s scores, rather than building them with other scores or none', async () => {
      // Prepare: run 1's rows (10,000 patterns) on a job started with 10 patterns' scores
      const job = builderOf().start(scoresOf(rowsOf(30)));

      // Act
      const outcome = drain(job.chunks(listsOf(run1())));

      // Assess
      await expect(outcome).rejects.toThrow(onWorker ? AudienceWorkerError : RangeError);
      await expect(outcome).rejects.toThrow(/customer \d+'s scoring pattern \d+ is not one of the 10 patterns scored/);
    }, 60_000);
  });

  it('refuses, on the worker, rows of another job than the scores it holds', async () => {
    // Prepare: the worker's messages as a job sends them, but the rows of job 2 after the scores of job 1
    const rows = rowsOf(100);
    const { worker, next } = startWorker<{ readonly kind: string }>(workerBundle, 'clv-audience-worker', 'audience worker', AudienceWorkerError);
    worker.ref();
    try {
      worker.postMessage({ kind: 'scores', job: 1, scores: scoresOf(rows) });

      // Act
      worker.postMessage({ kind: 'rows', job: 2, rows: listsOf(rows), inFlight: new SharedArrayBuffer(4), slots: new SharedArrayBuffer(1 << 20) });

      // Assess
      await expect(next()).rejects.toThrow(/audience worker failed: the rows of audience job 2 came to the scores of job 1/);
    } finally {
      await worker.terminate();
    }
  }, 60_000);

  it.each([
    ['exits', "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(5));", /audience worker exited \(code 5\) before its work was done/],
    ['throws while loading', "throw new Error('cannot load the CSV code');", /audience worker crashed: cannot load the CSV code/],
    ['says it failed', "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => parentPort.postMessage({ kind: 'failed', message: 'out of memory' }));", /audience worker failed: out of memory/],
  ])('fails with a clear error, not a hang, when the worker %s', async (_, source, message) => {
    // Prepare
    const dir = await tempDir();
    const builder = new WorkerAudiences({ script: pathToFileURL(await writeText(dir, 'worker.mjs', source)) });
    const rows = rowsOf(100);

    // Act
    const outcome = drain(builder.start(scoresOf(rows)).chunks(rows));

    // Assess
    await expect(outcome).rejects.toThrow(AudienceWorkerError);
    await expect(outcome).rejects.toThrow(message);
  }, 60_000);

  it.each([
    ['exits', 'process.exit(7);', /audience worker exited \(code 7\) before its work was done/],
    ['throws', "throw new Error('cannot load the CSV code');", /audience worker crashed: cannot load the CSV code/],
  ])('fails with a clear error, not a crash or a hang, when a worker started ahead %s before its chunks are asked for', async (_, source, message) => {
    // Prepare: started as the run starts it, after the model stage, and dead by the write stage
    const dir = await tempDir();
    const builder = new WorkerAudiences({ script: pathToFileURL(await writeText(dir, 'worker.mjs', source)) });
    const uncaught: unknown[] = [];
    const listener = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', listener);
    try {
      const rows = rowsOf(100);
      const job = builder.start(scoresOf(rows));
      await new Promise((resolve) => setTimeout(resolve, 1500));

      // Act
      const outcome = drain(job.chunks(rows));

      // Assess
      await expect(outcome).rejects.toThrow(AudienceWorkerError);
      await expect(outcome).rejects.toThrow(message);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', listener);
    }
  }, 60_000);
});
