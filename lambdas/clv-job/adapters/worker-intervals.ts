/**
 * The intervals' phases (domain/models/interval-phases.ts) run on every core: this thread and
 * `threads - 1` worker threads share each phase's range, chunk by chunk (each thread its own first
 * chunk, then whoever is free takes the next through an atomic counter), writing into
 * SharedArrayBuffer-backed arrays; a phase starts when every thread has finished the one before.
 * Each chunk writes only its own entries, so the numbers do not depend on the thread count or on
 * which thread took which chunk. The rows come indexed (the job's index, built once by the caller)
 * and the index is sent to the workers (plain arrays, copied in milliseconds), rather than each
 * worker indexing them again (0.1-0.2 s of CPU at a million customers, before its first chunk).
 *
 * While this thread fits the BG/NBD and the Gamma-Gamma, the first worker can fit the Pareto/NBD
 * ({@link WorkerIntervals.fitParetoNbd}); with no Pareto/NBD to fit, the Gamma-Gamma
 * ({@link WorkerIntervals.fitGammaGamma}) while this thread fits the BG/NBD: the same code on the
 * same numbers, so the same fit.
 *
 * The worker is the running bundle itself (dist/cli.js, the Lambda's index.mjs), started again
 * with `workerData` marking it: its entry checks {@link isIntervalWorker} first and then serves
 * instead of running. From the TypeScript sources (vitest) there is no bundle to start, so the
 * intervals run in this thread, as they do with `threads` = 1.
 */
import { availableParallelism } from 'node:os';
import { parentPort, type Worker } from 'node:worker_threads';
import { ClvError } from '../errors.js';
import { isWorkerOf, startWorker } from './worker-replies.js';
import { validateBgNbdData, type FitTimeOptions } from '../domain/models/bg-nbd.js';
import { DRAW_BLOCK, INTERVAL_PHASES, intervalBufferLengths, planOnIndex, type IntervalBuffers, type IntervalIndex, type IntervalPlan } from '../domain/models/interval-phases.js';
import { fitParetoNbd, type ParetoNbdData, type ParetoNbdFit } from '../domain/models/pareto-nbd.js';
import { transactionModelOf, type TransactionParams } from '../domain/models/transaction-model.js';
import { intervalsFromBuffers, intervalsInThread, planOfJob, type CustomerIntervals, type IntervalJob } from '../domain/models/uncertainty.js';
import { fitGammaGamma, validateGammaGammaData, type GammaGammaData, type GammaGammaFit, type GammaGammaParams } from '../domain/models/gamma-gamma.js';
import type { IntervalRunner } from '../ports.js';

/** A worker thread failed (threw, crashed, or exited) while computing the intervals or fitting. */
export class IntervalWorkerError extends ClvError {}

/** The mark in `workerData` of the threads this adapter starts. */
const WORKER_ROLE = 'clv-interval-worker';

/** Threads by default: the cores this process may use (a Lambda's vCPUs), at most this many. */
export const MAX_DEFAULT_THREADS = 8;
export const defaultThreads = (): number => Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS));

/**
 * The most indices of a phase's range a chunk holds: small enough that a thread slowed by a busy
 * machine leaves the rest to the others. Draw chunks are DRAW_BLOCK draws: no two threads write one
 * cache line; a block of tuples is already thousands of tuples' work.
 */
const MAX_CHUNK = { draws: DRAW_BLOCK, blocks: 1 } as const;

type SharedBuffers = Record<keyof IntervalBuffers, SharedArrayBuffer>;
type Request =
  | { readonly kind: 'fit-pareto-nbd'; readonly data: ParetoNbdData; readonly time: FitTimeOptions }
  | { readonly kind: 'fit-gamma-gamma'; readonly data: GammaGammaData }
  | {
      readonly kind: 'setup';
      readonly transactions: readonly TransactionParams[];
      readonly spend: readonly GammaGammaParams[];
      readonly index: IntervalIndex;
      readonly buffers: SharedBuffers;
      readonly counters: SharedArrayBuffer;
      readonly thread: number;
      readonly threads: number;
    }
  | { readonly kind: 'phase'; readonly phase: number };
type Reply =
  | { readonly kind: 'fitted'; readonly fit: ParetoNbdFit | GammaGammaFit }
  | { readonly kind: 'done'; readonly phase: number }
  | { readonly kind: 'failed'; readonly message: string };

interface Share {
  readonly plan: IntervalPlan;
  readonly buffers: IntervalBuffers;
  readonly counters: Int32Array;
  /** This thread's number, 0 (the one that started the workers) to threads - 1. */
  readonly thread: number;
  readonly threads: number;
}

/**
 * Runs this thread's share of phase `phase`: chunk number `thread` first (so every thread computes
 * part of every phase that has a chunk for it), then, while any are left, the next chunk from the
 * shared counter, whichever thread is free first.
 */
const takeChunks = ({ plan, buffers, counters, thread, threads }: Share, phase: number): void => {
  const { run, extent, over } = INTERVAL_PHASES[phase]!;
  const total = extent(plan);
  const quantum = over === 'draws' ? DRAW_BLOCK : 1;
  const size = Math.max(quantum, Math.min(MAX_CHUNK[over], Math.ceil(total / threads / quantum) * quantum));
  const chunks = Math.ceil(total / size);
  const chunk = (c: number): void => run(plan, buffers, c * size, Math.min(total, (c + 1) * size));
  if (thread < chunks) chunk(thread);
  for (let c = threads + Atomics.add(counters, phase, 1); c < chunks; c = threads + Atomics.add(counters, phase, 1)) chunk(c);
};

const viewsOf = (shared: SharedBuffers): IntervalBuffers =>
  Object.fromEntries(Object.entries(shared).map(([name, buffer]) => [name, new Float64Array(buffer)])) as unknown as IntervalBuffers;

/** True in a thread this adapter started: the bundle's entry must then call {@link serveIntervalWorker} and nothing else. */
export const isIntervalWorker = (): boolean => isWorkerOf(WORKER_ROLE);

/** A worker's side: fits the Pareto/NBD or the Gamma-Gamma when asked; plans the job's draws on the index it is sent, then runs its share of each phase it is asked for. */
export const serveIntervalWorker = (): void => {
  const port = parentPort;
  if (port === null) throw new Error('serveIntervalWorker runs in a worker thread only');
  let share: Share | null = null;
  port.on('message', (request: Request) => {
    try {
      if (request.kind === 'fit-pareto-nbd') {
        port.postMessage({ kind: 'fitted', fit: fitParetoNbd(request.data, request.time) } satisfies Reply);
        return;
      }
      if (request.kind === 'fit-gamma-gamma') {
        port.postMessage({ kind: 'fitted', fit: fitGammaGamma(request.data) } satisfies Reply);
        return;
      }
      if (request.kind === 'setup') {
        const { transactions, spend, index, buffers, counters, thread, threads } = request;
        share = { plan: planOnIndex(transactions.map(transactionModelOf), spend, index), buffers: viewsOf(buffers), counters: new Int32Array(counters), thread, threads };
        return;
      }
      if (share === null) throw new Error('a phase was asked for before the job');
      takeChunks(share, request.phase);
      port.postMessage({ kind: 'done', phase: request.phase } satisfies Reply);
    } catch (error) {
      port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies Reply);
    }
  });
};

export interface WorkerIntervalsOptions {
  /** Threads, this one included; 1 runs everything here. @default defaultThreads() */
  readonly threads?: number;
  /**
   * The module a worker starts: the running bundle (the composition root's `import.meta.url`). A
   * TypeScript source (vitest) cannot be started, and the intervals then run in this thread.
   */
  readonly script: URL;
}

/**
 * {@link IntervalRunner} on `threads` threads. A worker takes about half a second to load the
 * bundle, so {@link start} starts them ahead (while the run queries), and the first one fits the
 * Pareto/NBD (or the Gamma-Gamma) while this thread fits the other models; `intervals` starts them if that was not done,
 * and ends them when the job is done (a later job starts new ones).
 */
export class WorkerIntervals implements IntervalRunner {
  /** Threads the intervals actually use: 1 when `script` cannot be started as a worker. */
  readonly threads: number;
  private readonly script: URL;
  private started: { readonly worker: Worker; readonly next: () => Promise<Reply> }[] = [];
  /** The fit the first worker is busy with: the intervals' phases wait for it. */
  private fitting: Promise<unknown> | null = null;

  constructor(options: WorkerIntervalsOptions) {
    const threads = options.threads ?? defaultThreads();
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a whole number >= 1, got ${threads}`);
    this.script = options.script;
    this.threads = /\.[cm]?js$/.test(options.script.pathname) ? threads : 1;
  }

  /** Starts the workers, if the runner has any and they are not started; they do not keep the process alive while idle. */
  start(): void {
    if (this.threads === 1 || this.started.length > 0) return;
    this.started = Array.from({ length: this.threads - 1 }, (_, index) => startWorker<Reply>(this.script, WORKER_ROLE, `interval worker ${index + 1}`, IntervalWorkerError));
  }

  /**
   * fitParetoNbd(data, time) (domain/models/pareto-nbd.ts) on the first worker, while this thread goes on;
   * here, when no worker was started ahead (one thread, or no {@link start}: a worker loading now
   * would finish later than this thread). The fit comes back as numbers, bit for bit the fit here.
   * Throws the domain's RangeError for invalid data (checked here first); rejects with an
   * IntervalWorkerError when the worker fails, crashes or exits.
   */
  async fitParetoNbd(data: ParetoNbdData, time: FitTimeOptions = {}): Promise<ParetoNbdFit> {
    validateBgNbdData(data);
    return this.fitBeside({ kind: 'fit-pareto-nbd', data, time }, () => fitParetoNbd(data, time));
  }

  /** fitGammaGamma(data) (domain/models/gamma-gamma.ts) as {@link fitParetoNbd} fits the Pareto/NBD. */
  async fitGammaGamma(data: GammaGammaData): Promise<GammaGammaFit> {
    validateGammaGammaData(data);
    return this.fitBeside({ kind: 'fit-gamma-gamma', data }, () => fitGammaGamma(data));
  }

  /** The fit `request` asks for (the one `here` makes) on the first worker started ahead, else `here()`; the intervals wait for it. */
  private fitBeside<Fit extends ParetoNbdFit | GammaGammaFit>(request: Extract<Request, { readonly data: unknown }>, here: () => Fit): Promise<Fit> {
    const helper = this.started[0];
    if (helper === undefined) return Promise.resolve(here());
    const fitted = (async () => {
      helper.worker.ref();
      try {
        helper.worker.postMessage(request satisfies Request);
        const reply = await helper.next();
        if (reply.kind !== 'fitted') throw new IntervalWorkerError(`interval worker 1 answered ${reply.kind} to a fit`);
        // the worker ran `here`'s fit on `request`'s data
        return reply.fit as Fit;
      } finally {
        helper.worker.unref();
      }
    })();
    this.fitting = fitted.catch(() => undefined);
    return fitted;
  }

  async intervals(job: IntervalJob): Promise<CustomerIntervals> {
    if (this.threads === 1) return intervalsInThread(job);
    // planned here first: invalid draws are this thread's RangeError, and no worker is needed for them
    const plan = planOfJob(job);
    // a worker still fitting would answer the fit first (its failure, if any, stays with the worker: the phases see it)
    await this.fitting;
    this.fitting = null;
    const shared = Object.fromEntries(
      Object.entries(intervalBufferLengths(plan)).map(([name, length]) => [name, new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT)]),
    ) as SharedBuffers;
    const buffers = viewsOf(shared);
    const counters = new SharedArrayBuffer(INTERVAL_PHASES.length * Int32Array.BYTES_PER_ELEMENT);
    this.start();
    const workers = this.started;
    this.started = [];
    try {
      workers.forEach(({ worker }, k) => {
        worker.ref();
        const setup = { kind: 'setup', transactions: job.transactions, spend: job.spend, index: plan.index, buffers: shared, counters, thread: k + 1, threads: this.threads } as const;
        worker.postMessage(setup satisfies Request);
      });
      const share: Share = { plan, buffers, counters: new Int32Array(counters), thread: 0, threads: this.threads };
      for (let phase = 0; phase < INTERVAL_PHASES.length; phase++) {
        for (const { worker } of workers) worker.postMessage({ kind: 'phase', phase } satisfies Request);
        takeChunks(share, phase);
        await Promise.all(workers.map(({ next }) => next()));
      }
      return intervalsFromBuffers(plan, buffers);
    } finally {
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
    }
  }
}
