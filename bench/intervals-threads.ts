/**
 * Wall time of the model stage's fits and 90% intervals at production scale, on 1 and more threads:
 *
 *   npm run bench:intervals -- [CUSTOMERS] [THREADS...]      (defaults: 1000000, threads 1 2)
 *
 * Simulates CUSTOMERS Pareto/NBD customers (as test/domain/models/performance.test.ts does) and fits
 * the BG/NBD, the Pareto/NBD and the Gamma-Gamma one after another in this thread (the first line).
 * Then, for each transaction model and each thread count, does what the pipeline's model stage does
 * through adapters/worker-intervals.ts, the workers started from this bundle as the CLI's are from
 * dist/cli.js: the fits (pipeline/score-customers.ts fitModels) — for pnbd the three, the Pareto/NBD
 * on the first worker beside the other two here; for bgnbd (model.transactions bgnbd, the default)
 * the BG/NBD here and the Gamma-Gamma beside it — then the intervals (100 draws, on the distinct
 * score patterns). Prints wall seconds (workers started ahead, as the run does while it queries, and
 * cold: then every fit runs here), this process's CPU seconds over all its threads (wall time only
 * falls when the machine has idle cores: read the two together, and the load average printed
 * first), and whether every number equals the first thread count's bit for bit (exit 1 if not).
 */
import { availableParallelism, loadavg } from 'node:os';
import { fitBgNbd } from '../lambdas/clv-job/domain/models/bg-nbd.js';
import { indexPurchases } from '../lambdas/clv-job/domain/models/clv.js';
import { fitGammaGamma } from '../lambdas/clv-job/domain/models/gamma-gamma.js';
import { intervalIndexOn } from '../lambdas/clv-job/domain/models/interval-phases.js';
import { fitParetoNbd } from '../lambdas/clv-job/domain/models/pareto-nbd.js';
import { distinctScorePatterns } from '../lambdas/clv-job/domain/models/score-patterns.js';
import { parameterDraws, type CustomerIntervals } from '../lambdas/clv-job/domain/models/uncertainty.js';
import { isIntervalWorker, serveIntervalWorker, WorkerIntervals } from '../lambdas/clv-job/adapters/worker-intervals.js';
import { modelBenchBase } from '../test/support/simulate.js';

const seconds = (t0: number): string => ((performance.now() - t0) / 1000).toFixed(2);

const sameBits = (a: CustomerIntervals, b: CustomerIntervals): boolean => {
  const columns = (i: CustomerIntervals) => [i.expectedPurchases.p05, i.expectedPurchases.p95, i.probabilityAlive.p05, i.probabilityAlive.p95, i.predictedClv.p05, i.predictedClv.p95];
  const [ca, cb] = [columns(a), columns(b)];
  const bytes = (v: Float64Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return (
    ca.every((v, k) => Buffer.compare(bytes(v), bytes(cb[k]!)) === 0) &&
    Object.is(a.equity.p05, b.equity.p05) &&
    Object.is(a.equity.p95, b.equity.p95)
  );
};

const main = async (): Promise<number> => {
  const [customersText = '1000000', ...threadsText] = process.argv.slice(2);
  const customers = Number(customersText);
  const threadCounts = (threadsText.length > 0 ? threadsText : ['1', '2']).map(Number);
  if (!(Number.isInteger(customers) && customers > 0) || !threadCounts.every((t) => Number.isInteger(t) && t >= 1)) {
    console.error('usage: npm run bench:intervals -- [CUSTOMERS] [THREADS...]');
    return 2;
  }
  const { tuples, weeks, spend, settings, everyone } = modelBenchBase(customers);

  let t0 = performance.now();
  const bgnbd = fitBgNbd(weeks);
  const bgnbdSeconds = seconds(t0);
  t0 = performance.now();
  const pnbd = fitParetoNbd(weeks);
  const pnbdSeconds = seconds(t0);
  t0 = performance.now();
  fitGammaGamma(spend);
  const ggSeconds = seconds(t0);
  console.log(`${customers} customers, ${tuples.x.length} distinct day tuples; fits (one thread): BG/NBD ${bgnbdSeconds} s, Pareto/NBD ${pnbdSeconds} s, Gamma-Gamma ${ggSeconds} s`);

  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  const scoring = distinctScorePatterns(everyone);
  let identical = true;
  for (const name of ['pnbd', 'bgnbd'] as const) {
    if (!(name === 'pnbd' ? pnbd : bgnbd).diagnostics.converged) console.log(`warning: the ${name} fit did not converge`);
    let reference: CustomerIntervals | null = null;
    for (const threads of threadCounts) {
      for (const ahead of threads === 1 ? [true] : [true, false]) {
        const runner = new WorkerIntervals({ threads, script: new URL(import.meta.url) });
        if (ahead) {
          runner.start();
          await new Promise((resolve) => setTimeout(resolve, 1500));
        }
        t0 = performance.now();
        const cpu = process.cpuUsage();
        // as fitModels does: the Pareto/NBD (pnbd) or else the Gamma-Gamma asked for first, on a worker when one was started ahead
        let draws;
        if (name === 'pnbd') {
          const pendingPnbd = runner.fitParetoNbd(weeks);
          // the BG/NBD is fitted whatever predicts (the summary and the diagnostics carry it)
          fitBgNbd(weeks);
          const gg = fitGammaGamma(spend);
          draws = parameterDraws({ name, fit: await pendingPnbd }, gg, { draws: 100 })!;
        } else {
          const pendingGg = runner.fitGammaGamma(spend);
          const bg = fitBgNbd(weeks);
          draws = parameterDraws({ name, fit: bg }, await pendingGg, { draws: 100 })!;
        }
        const fitsMs = performance.now() - t0;
        // as scoreCustomers does: the patterns' tuples indexed (there, once for the scores and the intervals)
        const index = intervalIndexOn(scoring.patterns, scoring.tupleOf, indexPurchases(scoring.tuples, settings), settings.margin, scoring.patternOf);
        const result = await runner.intervals({ transactions: draws.transactionParams, spend: draws.spend, index });
        const wallMs = performance.now() - t0;
        const used = process.cpuUsage(cpu);
        reference ??= result;
        const same = sameBits(result, reference);
        identical &&= same;
        console.log(
          `${name}, ${threads} thread${threads > 1 ? 's' : ''}${threads > 1 ? (ahead ? ', workers started ahead' : ', workers started cold') : ''}: ` +
            `${name === 'pnbd' ? 'three' : 'two'} fits ${(fitsMs / 1000).toFixed(2)} s + intervals ${((wallMs - fitsMs) / 1000).toFixed(2)} s = both fits + these intervals ${(wallMs / 1000).toFixed(2)} s wall, ` +
            `${((used.user + used.system) / 1e6).toFixed(2)} s CPU (all threads); same bits as ${threadCounts[0]} thread(s): ${same}`,
        );
      }
    }
  }
  return identical ? 0 : 1;
};

if (isIntervalWorker()) serveIntervalWorker();
else process.exitCode = await main();
