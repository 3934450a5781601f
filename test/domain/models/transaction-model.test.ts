import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bgnbdTransactionModel, paretoNbdTransactionModel, type TransactionModel } from '../../../lambdas/clv-job/domain/models/transaction-model.js';
import { indexTuples } from '../../../lambdas/clv-job/domain/models/tuple-index.js';
import { inUnits, loadCdnowSummary } from './cdnow-data.js';

/** CDNOW's tuples in weeks, plus the edges: no repeat purchase, a purchase at the end (tx = T), T = 0. */
const tuples = (() => {
  const cdnow = loadCdnowSummary();
  const x = Float64Array.of(...cdnow.x, 0, 0, 3, 1, 40);
  const tx = Float64Array.of(...inUnits(cdnow.txDays, 7), 0, 0, 10, 2.5, 3);
  const T = Float64Array.of(...inUnits(cdnow.TDays, 7), 0, 5, 10, 2.5, 70);
  return { x, tx, T };
})();

/** ln P(alive) of every tuple, one call per tuple through the per-customer function. */
const oneByOne = (model: TransactionModel): number[] => {
  const logAlive = model.makeLogProbabilityAlive();
  return Array.from(tuples.x, (x, j) => logAlive(x, tuples.tx[j]!, tuples.T[j]!));
};
const batched = (model: TransactionModel): number[] => {
  const out = new Float64Array(tuples.x.length);
  model.probabilityAliveOn(indexTuples(tuples.x, tuples.tx, tuples.T), out);
  return Array.from(out);
};

/**
 * The batched P(alive) against e^(ln P) of the per-customer function: both come from the same odds,
 * bit for bit; e^(ln P) carries ln P's rounding, ~1.1e−16 |ln P|, into P, and each form a few ulps of
 * its own. Exactly 1 where there is nothing to doubt (x = 0; tx = T for the Pareto/NBD).
 */
const expectSameProbabilities = (model: TransactionModel): void => {
  const logs = oneByOne(model);
  batched(model).forEach((p, j) => {
    const expected = Math.exp(logs[j]!);
    if (logs[j] === 0) expect(p).toBe(1);
    expect(Math.abs(p - expected)).toBeLessThanOrEqual(4.5e-16 * (4 + Math.abs(logs[j]!)) * expected);
  });
};

describe('P(alive) over an index of tuples', () => {
  it('is the per-customer P(alive) of the BG/NBD, to the rounding of its logarithm, for any positive parameters (fast-check)', () => {
    const positive = fc.double({ min: 0.01, max: 50, noNaN: true });
    fc.assert(
      fc.property(positive, positive, positive, positive, (r, alpha, a, b) => expectSameProbabilities(bgnbdTransactionModel({ r, alpha, a, b }))),
      { numRuns: 25 },
    );
  });

  it('is the per-customer P(alive) of the Pareto/NBD, to the rounding of its logarithm, alpha above, below and at beta (fast-check)', () => {
    const positive = fc.double({ min: 0.05, max: 50, noNaN: true });
    fc.assert(
      fc.property(positive, positive, positive, positive, fc.boolean(), (r, alpha, s, beta, equal) =>
        expectSameProbabilities(paretoNbdTransactionModel({ r, alpha, s, beta: equal ? alpha : beta })),
      ),
      { numRuns: 25 },
    );
  });

  it.each([
    ['bgnbd', bgnbdTransactionModel({ r: 0.24, alpha: 4.4, a: 0.79, b: 2.4 })],
    ['pnbd', paretoNbdTransactionModel({ r: 0.55, alpha: 10.6, s: 0.61, beta: 11.7 })],
    ['pnbd, alpha above beta', paretoNbdTransactionModel({ r: 0.55, alpha: 12, s: 0.61, beta: 3 })],
  ] as const)('from its table, over any ranges of tuples, is every tuple’s P(alive) over the whole index, bit for bit (%s, fast-check)', (_, model) => {
    const index = indexTuples(tuples.x, tuples.tx, tuples.T);
    const whole = new Float64Array(tuples.x.length);
    model.probabilityAliveOn(index, whole);
    const table = new Float64Array(model.aliveTableLength(index)).fill(Number.NaN);
    model.aliveTable(index, table);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: tuples.x.length }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set([0, tuples.x.length, ...cuts])].sort((a, b) => a - b);
        const pieced = new Float64Array(tuples.x.length).fill(Number.NaN);
        for (let k = 1; k < points.length; k++) {
          const [from, to] = [points[k - 1]!, points[k]!];
          // each range into an array of its own, from 0
          const out = new Float64Array(to - from).fill(Number.NaN);
          model.aliveFromTable(index, table, from, to, out);
          pieced.set(out, from);
        }
        expect(Buffer.from(pieced.buffer)).toEqual(Buffer.from(whole.buffer));
      }),
      { numRuns: 20 },
    );
  });

  it('indexes each tuple to its frequency, recency and tenure, and (x, t) pairs only where tx < T, each pair to its frequency and time', () => {
    const index = indexTuples(Float64Array.of(2, 2, 0), Float64Array.of(1, 3, 0), Float64Array.of(3, 3, 3));
    expect(Array.from(index.xOf, (k) => index.xs[k])).toEqual([2, 2, 0]);
    expect(Array.from(index.txOf, (k) => index.times[k])).toEqual([1, 3, 0]);
    expect(Array.from(index.TOf, (k) => index.times[k])).toEqual([3, 3, 3]);
    expect(Array.from(index.pairOfTx, (k) => (k < 0 ? null : [index.pairX[k], index.pairT[k]]))).toEqual([[2, 1], null, [0, 0]]);
    expect(Array.from(index.pairOfT, (k) => (k < 0 ? null : [index.pairX[k], index.pairT[k]]))).toEqual([[2, 3], null, [0, 3]]);
    expect(Array.from(index.pairX.keys(), (p) => [index.xs[index.pairXOf[p]!], index.times[index.pairTimeOf[p]!]])).toEqual(Array.from(index.pairX, (x, p) => [x, index.pairT[p]]));
    expect(() => indexTuples(Float64Array.of(1), Float64Array.of(0, 1), Float64Array.of(1))).toThrow(/differ in length/);
  });
});
