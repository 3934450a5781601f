/**
 * The audience CSVs' bytes (pipeline/audience-csv.ts audienceChunks) built on a worker thread, while
 * the run's thread writes the tables: the same generator on the same data, so the same bytes. The
 * worker copies each chunk into one of {@link MAX_CHUNKS_IN_FLIGHT} slots of memory it shares with
 * the run's thread, chunk k into slot k mod their number, and waits while every slot holds a chunk
 * not yet written (a shared counter the run's thread counts down): ~300 MB of audiences at a million
 * customers never sit whole in memory. The run's thread hands a slot's bytes to the caller as they
 * are, and takes the slot back when the caller asks for the next chunk (AudienceCsvBuilder). A chunk
 * transferred instead, in a new buffer each time as before, cost the run's thread a full garbage
 * collection for every ~64 MB received (V8 collects when its external memory grows by that much),
 * each as long as its heap is large: at 5 M customers, 1.5 GB of audiences, ~25 collections of a
 * 430 MB heap (`node --trace-gc`).
 *
 * The rows' scores go to the worker once, and first: sent ahead ({@link WorkerAudiences.start}) when
 * the model stage is done, the worker turns them to text (two numbers to text per scoring pattern,
 * ~2 M patterns and seconds of CPU at 5 M customers) while the run's thread segments, off the write
 * stage's critical path. They ARE the rows' scores (AudienceCsvBuilder.start): the rows then go
 * without theirs, and the worker builds them with the text it made. Each job has a worker of its
 * own, ended with the job (its chunks built, or the job closed: a run that failed before them), and
 * a number that its scores and its rows carry: a worker builds rows with the text of their own job's
 * scores or refuses them, and the builder kept by a warm Lambda container starts each run clean.
 *
 * The worker is the running bundle itself (dist/cli.js, the Lambda's index.mjs), started again with
 * `workerData` marking it: its entry checks {@link isAudienceWorker} first and then serves instead
 * of running. From the TypeScript sources (vitest) there is no bundle to start, so the bytes are
 * built in this thread.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { ClvError } from '../errors.js';
import { isWorkerOf, startWorker } from './worker-replies.js';
import {
  audienceChunks,
  AudienceJobHere,
  AudienceJobState,
  CHUNK_BYTES,
  scoreTextsOf,
  type AudienceChunk,
  type AudienceLists,
  type PackedTexts,
  type PatternScores,
} from '../pipeline/audience-csv.js';
import type { AudienceCsvBuilder, AudienceCsvJob } from '../ports.js';

/** The audience worker failed (threw, crashed, or exited) before the last chunk. */
export class AudienceWorkerError extends ClvError {}

/** The mark in `workerData` of the thread this adapter starts. */
const WORKER_ROLE = 'clv-audience-worker';

/** Chunks (4 MB each) built and not yet written, at most: enough that the worker is rarely idle. */
export const MAX_CHUNKS_IN_FLIGHT = 8;

/** Bytes per slot of the shared memory: any chunk but one of a row longer than a chunk (transferred instead). */
const SLOT_BYTES = CHUNK_BYTES;

/** A job's scores, sent ahead (`start`): the worker turns them to text meanwhile. */
interface Scores {
  readonly kind: 'scores';
  /** The job's number (in this process). */
  readonly job: number;
  readonly scores: PatternScores;
}
/** A job's rows, without their scores: those went before ({@link Scores}, the same `job`). */
interface Request {
  readonly kind: 'rows';
  readonly job: number;
  readonly rows: AudienceLists;
  /** One Int32: chunks posted and not yet written. */
  readonly inFlight: SharedArrayBuffer;
  /** {@link MAX_CHUNKS_IN_FLIGHT} slots of {@link SLOT_BYTES}. */
  readonly slots: SharedArrayBuffer;
}
type Reply =
  /** A chunk's bytes: `length` of them in `slot`, or, `slot` -1, transferred in `chunk`; `length` -1 is the file complete (bytes null). */
  | { readonly kind: 'chunk'; readonly audience: number; readonly slot: number; readonly length: number; readonly chunk: Uint8Array | null }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly message: string };

/** True in a thread this adapter started: the bundle's entry must then call {@link serveAudienceWorker} and nothing else. */
export const isAudienceWorker = (): boolean => isWorkerOf(WORKER_ROLE);

/**
 * The worker's side: turns the scores it is sent to text, then builds the chunks of the rows sent
 * after them with that text, posting each, waiting while too many are not yet written. Refuses
 * (replies failed) rows of another job than the scores', and rows whose scoring pattern is not one
 * of the scores' (audienceChunks).
 */
export const serveAudienceWorker = (): void => {
  const port = parentPort;
  if (port === null) throw new Error('serveAudienceWorker runs in a worker thread only');
  let held: { readonly job: number; readonly texts: PackedTexts } | null = null;
  port.on('message', (message: Scores | Request) => {
    if (message.kind === 'scores') {
      held = null;
      try {
        held = { job: message.job, texts: scoreTextsOf(message.scores) };
      } catch (error) {
        port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies Reply);
      }
      return;
    }
    const { job, rows, inFlight, slots } = message;
    const counter = new Int32Array(inFlight);
    let posted = 0;
    try {
      if (held === null) throw new Error(`the rows of audience job ${job} came without their scores`);
      if (held.job !== job) throw new Error(`the rows of audience job ${job} came to the scores of job ${held.job}`);
      const scoreTexts = held.texts;
      // used once: the worker keeps no job's scores after its rows
      held = null;
      for (const { audience, bytes } of audienceChunks(rows, scoreTexts)) {
        for (let n = Atomics.load(counter, 0); n >= MAX_CHUNKS_IN_FLIGHT; n = Atomics.load(counter, 0)) Atomics.wait(counter, 0, n);
        Atomics.add(counter, 0, 1);
        // the slot of chunk k is free: the run's thread takes chunks in order, and fewer than the slots are in flight
        const slot = posted++ % MAX_CHUNKS_IN_FLIGHT;
        if (bytes !== null && bytes.byteLength > SLOT_BYTES) {
          port.postMessage({ kind: 'chunk', audience, slot: -1, length: bytes.byteLength, chunk: bytes } satisfies Reply, [bytes.buffer as ArrayBuffer]);
          continue;
        }
        if (bytes !== null) new Uint8Array(slots, slot * SLOT_BYTES, bytes.byteLength).set(bytes);
        port.postMessage({ kind: 'chunk', audience, slot, length: bytes?.byteLength ?? -1, chunk: null } satisfies Reply);
      }
      port.postMessage({ kind: 'done' } satisfies Reply);
    } catch (error) {
      port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies Reply);
    }
  });
};

/**
 * The buffers of the rows' arrays made for the job, moved to the worker rather than copied: the
 * ids' and the audiences' lists (at 5 M customers ~70 MB of ids and ~150 MB of lists for the three
 * segment schemes, copied beside the originals while the tables are written). The patterns stay:
 * the customers table is written from them meanwhile.
 */
const movedBuffers = (rows: AudienceLists): ArrayBuffer[] => {
  const arrays = [rows.customerIds.bytes, rows.customerIds.offset, ...rows.audiences.flatMap((a) => [a.members, a.ranks, a.actionOf])];
  // a buffer listed twice cannot be transferred
  return [...new Set(arrays.map((array) => array.buffer))].filter((buffer) => buffer instanceof ArrayBuffer);
};

export interface WorkerAudiencesOptions {
  /**
   * The module the worker starts: the running bundle (the composition root's `import.meta.url`). A
   * TypeScript source (vitest) cannot be started, and the bytes are then built in this thread.
   */
  readonly script: URL;
  /** False builds the bytes in this thread (e.g. one thread asked for). @default true */
  readonly worker?: boolean;
}

/** Jobs started in this process: each job's number, which its scores and rows carry to its worker. */
let jobsStarted = 0;

/**
 * {@link AudienceCsvBuilder} on a worker thread. A worker takes about half a second to load the
 * bundle, so {@link start} starts it ahead (while the run scores), and sends it the job's scores.
 */
export class WorkerAudiences implements AudienceCsvBuilder {
  /** Whether the bytes are built on a worker: false when `script` cannot be started as one. */
  readonly onWorker: boolean;
  private readonly script: URL;
  /** The latest job, closed when the next starts (a run that failed without closing it leaves no worker or scores behind). */
  private job: AudienceCsvJob | null = null;

  constructor(options: WorkerAudiencesOptions) {
    this.script = options.script;
    this.onWorker = (options.worker ?? true) && /\.[cm]?js$/.test(options.script.pathname);
  }

  /** Closes the job before, if open; starts a worker for this one and sends it `scores`, to be turned to text while the run segments. */
  start(scores: PatternScores): AudienceCsvJob {
    void this.job?.close();
    if (!this.onWorker) return (this.job = new AudienceJobHere(scores));
    // a death while the run segments is kept for `chunks`, not lost or thrown
    const started = startWorker<Reply>(this.script, WORKER_ROLE, 'audience worker', AudienceWorkerError);
    const job = ++jobsStarted;
    started.worker.postMessage({ kind: 'scores', job, scores } satisfies Scores);
    return (this.job = new WorkerJob(job, started));
  }
}

/** A job on a worker of its own: its replies read from the start (a death before `chunks` is kept, not lost or thrown). */
class WorkerJob implements AudienceCsvJob {
  private readonly state = new AudienceJobState();

  constructor(
    private readonly job: number,
    private readonly started: { readonly worker: Worker; readonly next: () => Promise<Reply> },
  ) {}

  /** The rows' chunks, built on the worker with the job's scores (AudienceCsvJob.chunks); the worker ends with the last. */
  async *chunks(rows: AudienceLists): AsyncGenerator<AudienceChunk> {
    this.state.take();
    const { worker, next } = this.started;
    const counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const slots = new SharedArrayBuffer(MAX_CHUNKS_IN_FLIGHT * SLOT_BYTES);
    worker.ref();
    try {
      // the scores went before (start): the rows go without them
      const lists: AudienceLists = { audiences: rows.audiences, customerIds: rows.customerIds, patternOf: rows.patternOf };
      worker.postMessage({ kind: 'rows', job: this.job, rows: lists, inFlight: counter.buffer as SharedArrayBuffer, slots } satisfies Request, movedBuffers(lists));
      for (let reply = await next(); reply.kind === 'chunk'; reply = await next()) {
        const { audience, slot, length, chunk } = reply;
        // the slot's bytes are the caller's until it asks for the next chunk (AudienceCsvJob)
        yield { audience, bytes: slot < 0 ? chunk : length < 0 ? null : new Uint8Array(slots, slot * SLOT_BYTES, length) };
        // taken (written) by the caller: one more may be built
        Atomics.sub(counter, 0, 1);
        Atomics.notify(counter, 0);
      }
    } finally {
      await worker.terminate();
    }
  }

  /** Ends the worker, with the scores it holds (AudienceCsvJob.close). */
  async close(): Promise<void> {
    this.state.close();
    await this.started.worker.terminate().catch(() => undefined);
  }
}
