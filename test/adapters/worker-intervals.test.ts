import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { IntervalWorkerError, WorkerIntervals } from '../../lambdas/clv-job/adapters/worker-intervals.js';
import { compressBgNbdData, fitBgNbd } from '../../lambdas/clv-job/domain/models/bg-nbd.js';
import type { ClvSettings, ScoreInput } from '../../lambdas/clv-job/domain/models/clv.js';
import { fitGammaGamma } from '../../lambdas/clv-job/domain/models/gamma-gamma.js';
import { indexIntervals } from '../../lambdas/clv-job/domain/models/interval-phases.js';
import { fitParetoNbd } from '../../lambdas/clv-job/domain/models/pareto-nbd.js';
import { distinctScorePatterns } from '../../lambdas/clv-job/domain/models/score-patterns.js';
import { intervalsInThread, parameterDraws, type IntervalJob } from '../../lambdas/clv-job/domain/models/uncertainty.js';
import { tempDir, writeText } from '../support/files.js';
import { bundleChild } from '../support/publish-faults.js';
import { inUnits, loadCdnowSummary } from '../domain/models/cdnow-data.js';

const WEEKLY: ClvSettings = { timeUnit: 'week', horizon: 52, discountRate: 0.1, margin: 1 };

/** CDNOW's customers in weeks, compressed as the engine hands them to the fits. */
const cdnowWeeks = () => {
  const cdnow = loadCdnowSummary();
  return compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7));
};

/** CDNOW's customers' spend as the engine hands it to the Gamma-Gamma fit (one row each). */
const cdnowSpend = () => {
  const cdnow = loadCdnowSummary();
  return { x: cdnow.x, mx: cdnow.mx, weight: new Float64Array(cdnow.x.length).fill(1) };
};

/** Every number of a fit by its bits (toEqual would let -0 and 0 pass), in a structure toEqual compares. */
const bitsOf = (value: unknown): unknown => {
  if (typeof value === 'number') return Buffer.from(new Float64Array([value]).buffer).toString('hex');
  if (value instanceof Float64Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bitsOf(v)]));
  return value;
};

/**
 * CDNOW's customers as the pipeline hands them over: distinct patterns, 100 draws of the chosen
 * model; blocks of 64 tuples (CDNOW's would fit in one block of the default size), so that every
 * thread works on blocks.
 */
const cdnowJob = (name: 'bgnbd' | 'pnbd'): IntervalJob => {
  const cdnow = loadCdnowSummary();
  const everyone: ScoreInput = { x: cdnow.x, recencyDays: cdnow.txDays, tenureDays: cdnow.TDays, monetaryValue: cdnow.mx };
  const weeks = cdnowWeeks();
  const gg = fitGammaGamma(cdnowSpend());
  const draws = (name === 'bgnbd' ? parameterDraws({ name, fit: fitBgNbd(weeks) }, gg, { draws: 100 }) : parameterDraws({ name, fit: fitParetoNbd(weeks) }, gg, { draws: 100 }))!;
  const { patterns, patternOf } = distinctScorePatterns(everyone);
  return { transactions: draws.transactionParams, spend: draws.spend, index: indexIntervals(patterns, WEEKLY, patternOf, 64) };
};

describe('the prediction intervals on worker threads', () => {
  let workerBundle: URL;
  beforeAll(async () => {
    workerBundle = pathToFileURL(await bundleChild('test/support/interval-worker-child.ts'));
  }, 60_000);

  it.each([
    ['bgnbd', 2],
    ['pnbd', 2],
    ['pnbd', 3],
  ] as const)('are the one-thread intervals, bit for bit, with every thread computing part of every phase (%s, %i threads)', async (name, threads) => {
    // Prepare: each thread runs a chunk of its own in every phase, so the workers' code computes part of every array
    const job = cdnowJob(name);
    const runner = new WorkerIntervals({ threads, script: workerBundle });

    // Act
    const threaded = await runner.intervals(job);

    // Assess
    expect(runner.threads).toBe(threads);
    expect(threaded).toEqual(intervalsInThread(job));
  }, 60_000);

  it('start workers ahead that wait without keeping the process alive, and a second job starts new ones', async () => {
    const job = cdnowJob('pnbd');
    const runner = new WorkerIntervals({ threads: 2, script: workerBundle });
    runner.start();
    const first = await runner.intervals(job);
    expect(await runner.intervals(job)).toEqual(first);
  }, 60_000);

  it('run in this thread when the script is a TypeScript source (vitest): nothing to start', async () => {
    const runner = new WorkerIntervals({ threads: 4, script: new URL(import.meta.url) });
    expect(runner.threads).toBe(1);
    const job = cdnowJob('bgnbd');
    expect(await runner.intervals(job)).toEqual(intervalsInThread(job));
  }, 60_000);

  it('refuse a thread count that is not a whole number of at least 1', () => {
    expect(() => new WorkerIntervals({ threads: 0, script: workerBundle })).toThrow(/threads must be a whole number >= 1, got 0/);
    expect(() => new WorkerIntervals({ threads: 1.5, script: workerBundle })).toThrow(/got 1.5/);
  });

  /** The two fits a worker can make beside this thread: how to ask the runner, how to fit here, invalid data, the model whose intervals follow. */
  const besideFits = [
    {
      name: 'Pareto/NBD',
      onRunner: (runner: WorkerIntervals) => runner.fitParetoNbd(cdnowWeeks()),
      here: () => fitParetoNbd(cdnowWeeks()),
      invalid: (runner: WorkerIntervals) => runner.fitParetoNbd({ ...cdnowWeeks(), weight: cdnowWeeks().weight.map(() => -1) }),
      model: 'pnbd',
    },
    {
      name: 'Gamma-Gamma',
      onRunner: (runner: WorkerIntervals) => runner.fitGammaGamma(cdnowSpend()),
      here: () => fitGammaGamma(cdnowSpend()),
      invalid: (runner: WorkerIntervals) => runner.fitGammaGamma({ ...cdnowSpend(), mx: cdnowSpend().mx.map(() => -1) }),
      model: 'bgnbd',
    },
  ] as const;

  it.each(besideFits)('fit the $name on a worker started ahead: the fit of this thread, bit for bit, and the intervals go on on the same workers', async ({ onRunner, here, model }) => {
    // Prepare
    const runner = new WorkerIntervals({ threads: 2, script: workerBundle });
    runner.start();

    // Act
    const fit = await onRunner(runner);
    const intervals = await runner.intervals(cdnowJob(model));

    // Assess
    expect(fit.diagnostics.converged).toBe(true);
    expect(bitsOf(fit)).toEqual(bitsOf(here()));
    expect(intervals).toEqual(intervalsInThread(cdnowJob(model)));
  }, 60_000);

  it.each(besideFits)('fit the $name in this thread when no worker was started ahead, and refuse invalid data here with the domain’s RangeError', async ({ onRunner, here, invalid }) => {
    // a worker would exit at once: the fit must not need one
    const dir = await tempDir();
    const runner = new WorkerIntervals({ threads: 2, script: pathToFileURL(await writeText(dir, 'worker.mjs', 'process.exit(3);')) });
    expect(bitsOf(await onRunner(runner))).toEqual(bitsOf(here()));
    runner.start();
    await expect(invalid(runner)).rejects.toThrow(RangeError);
  }, 60_000);

  it.each([
    ['exits', "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.kind === 'fit-pareto-nbd') process.exit(5); });", /interval worker 1 exited \(code 5\) before its work was done/],
    ['says it failed', "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.kind === 'fit-pareto-nbd') parentPort.postMessage({ kind: 'failed', message: 'out of memory' }); });", /interval worker 1 failed: out of memory/],
  ])('fail the Pareto/NBD fit with a clear error, not a hang, when its worker %s, and the intervals after it too', async (_, source, message) => {
    // Prepare
    const dir = await tempDir();
    const runner = new WorkerIntervals({ threads: 2, script: pathToFileURL(await writeText(dir, 'worker.mjs', source)) });
    runner.start();

    // Act
    const fit = runner.fitParetoNbd(cdnowWeeks());

    // Assess
    await expect(fit).rejects.toThrow(IntervalWorkerError);
    await expect(fit).rejects.toThrow(message);
    await expect(runner.intervals(cdnowJob('pnbd'))).rejects.toThrow(IntervalWorkerError);
  }, 60_000);

  it.each([
    ['exits while loading', 'process.exit(7);', /interval worker 1 exited \(code 7\) before its work was done/],
    ['throws while loading', "throw new Error('cannot load the model code');", /interval worker 1 crashed: cannot load the model code/],
    [
      'says a phase failed',
      "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.kind === 'phase') parentPort.postMessage({ kind: 'failed', message: 'out of memory' }); });",
      /interval worker 1 failed: out of memory/,
    ],
    [
      'dies in the middle of a phase',
      "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.kind === 'phase') process.exit(9); });",
      /interval worker 1 exited \(code 9\)/,
    ],
  ])('fail the job with a clear error, not a hang, when a worker %s', async (_, source, message) => {
    // Prepare
    const dir = await tempDir();
    const script = pathToFileURL(await writeText(dir, 'worker.mjs', source));
    const runner = new WorkerIntervals({ threads: 2, script });

    // Act
    const outcome = runner.intervals(cdnowJob('pnbd'));

    // Assess
    await expect(outcome).rejects.toThrow(IntervalWorkerError);
    await expect(outcome).rejects.toThrow(message);
  }, 60_000);
});
