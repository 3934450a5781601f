import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressBgNbdData, fitBgNbd } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import type { ClvSettings, ScoreInput } from '../../../lambdas/clv-job/domain/models/clv.js';
import { fitGammaGamma } from '../../../lambdas/clv-job/domain/models/gamma-gamma.js';
import { allocateIntervalBuffers, DRAW_BLOCK, intervalBufferLengths, INTERVAL_PHASES, planIntervals, ROW_PIECE, TUPLE_BLOCK } from '../../../lambdas/clv-job/domain/models/interval-phases.js';
import { fitParetoNbd } from '../../../lambdas/clv-job/domain/models/pareto-nbd.js';
import { distinctScorePatterns } from '../../../lambdas/clv-job/domain/models/score-patterns.js';
import { customerIntervals, intervalsFromBuffers, parameterDraws } from '../../../lambdas/clv-job/domain/models/uncertainty.js';
import { inUnits, loadCdnowSummary } from './cdnow-data.js';

const WEEKLY: ClvSettings = { timeUnit: 'week', horizon: 52, discountRate: 0.1, margin: 1 };

/** [from, to) pieces of [0, extent) cut at `cuts` (any numbers; taken modulo extent + 1). */
const piecesOf = (extent: number, cuts: readonly number[]): [number, number][] => {
  const points = [...new Set([0, extent, ...cuts.map((c) => c % (extent + 1))])].sort((a, b) => a - b);
  return points.slice(1).map((to, k) => [points[k]!, to]);
};

describe('the intervals’ phases over parts of their ranges (what threads run)', () => {
  const cdnow = loadCdnowSummary();
  const everyone: ScoreInput = { x: cdnow.x, recencyDays: cdnow.txDays, tenureDays: cdnow.TDays, monetaryValue: cdnow.mx };
  const weeks = compressBgNbdData(cdnow.x, inUnits(cdnow.txDays, 7), inUnits(cdnow.TDays, 7));
  const gg = fitGammaGamma({ x: cdnow.x, mx: cdnow.mx, weight: new Float64Array(cdnow.x.length).fill(1) });
  const fits = { bgnbd: fitBgNbd(weeks), pnbd: fitParetoNbd(weeks) };
  const { patterns, patternOf } = distinctScorePatterns(everyone);

  it.each([
    ['bgnbd', 100, 97],
    ['pnbd', 100, 97],
    ['pnbd', 21, 500],
    ['bgnbd', 21, TUPLE_BLOCK],
  ] as const)(
    'give the intervals of one pass over every range, bit for bit, however the ranges are cut and in whatever order the pieces run (%s, %i draws, blocks of %i tuples)',
    (name, count, tupleBlock) => {
      // Prepare
      const draws = (name === 'bgnbd' ? parameterDraws({ name, fit: fits.bgnbd }, gg, { draws: count }) : parameterDraws({ name, fit: fits.pnbd }, gg, { draws: count }))!;
      const whole = customerIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf, tupleBlock);
      const plan = planIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf, tupleBlock);
      const cutsAndOrder = fc.record({ cuts: fc.array(fc.nat(), { maxLength: 12 }), order: fc.array(fc.nat(), { minLength: 13, maxLength: 13 }) });

      fc.assert(
        fc.property(fc.tuple(cutsAndOrder, cutsAndOrder), (byPhase) => {
          // Act: each phase's pieces in a shuffled order, into fresh buffers (stale values would show)
          const buffers = allocateIntervalBuffers(plan, (length) => new Float64Array(length).fill(Number.NaN));
          INTERVAL_PHASES.forEach((phase, k) => {
            const { cuts, order } = byPhase[k]!;
            const pieces = piecesOf(phase.extent(plan), cuts);
            const shuffled = pieces.map((piece, i) => ({ piece, key: order[i % order.length]! })).sort((a, b) => a.key - b.key);
            for (const { piece } of shuffled) phase.run(plan, buffers, piece[0], piece[1]);
          });

          // Assess
          expect(intervalsFromBuffers(plan, buffers)).toEqual(whole);
        }),
        { numRuns: 8 },
      );
    },
    60_000,
  );

  it('hold no draws of every tuple: per draw the pairs’ factors and a table of distinct values, per block one sum per draw; a block’s draws in scratch memory allocated once', () => {
    // Prepare: blocks smaller than the tuples, so that a block's memory is less than every tuple's
    const draws = parameterDraws({ name: 'pnbd', fit: fits.pnbd }, gg, { draws: 100 })!;
    const tupleBlock = 200;
    const plan = planIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf, tupleBlock);
    const tuples = plan.purchases.tuples;

    // Act
    const lengths = intervalBufferLengths(plan);
    const scratch = plan.blockScratch();

    // Assess
    expect(plan.tuples).toBeGreaterThan(3 * tupleBlock);
    expect(plan.blocks).toBe(Math.ceil(plan.tuples / tupleBlock));
    // per draw: the pairs' factors and a table of the distinct values; per block, one sum per draw; one number per tuple or row
    expect(lengths.horizonIfAlive).toBe(plan.prepared.pairs * 104);
    expect(plan.tableLength).toBe(2 * tuples.times.length + tuples.xs.length + 3 * tuples.pairX.length);
    expect(lengths.aliveTables).toBe(100 * plan.tableStride);
    expect(lengths.equityPartials).toBe(plan.blocks * 104);
    for (const name of ['aliveLo', 'aliveHi', 'expectedLo', 'expectedHi'] as const) expect(lengths[name]).toBe(plan.tuples);
    expect([lengths.clvLo, lengths.clvHi]).toEqual([plan.rows, plan.rows]);
    expect(scratch.perTuple.length).toBe(tupleBlock * 104);
    expect(scratch.alive.length).toBe(tupleBlock * DRAW_BLOCK);
    const mostRows = Math.max(...Array.from({ length: plan.blocks }, (_, b) => plan.rowStart[Math.min(plan.tuples, (b + 1) * tupleBlock)]! - plan.rowStart[b * tupleBlock]!));
    expect(scratch.clv.length).toBe(Math.min(ROW_PIECE, mostRows) * 104);
    expect(scratch.row.length).toBe(104);
    expect(plan.blockScratch()).toBe(scratch);
  });

  it('pads each draw row to whole blocks of DRAW_BLOCK draws (one cache line), and each draw’s table, so that draw ranges cut at its multiples share no line', () => {
    const draws = parameterDraws({ name: 'pnbd', fit: fits.pnbd }, gg, { draws: 21 })!;
    const plan = planIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf, 97);
    expect(DRAW_BLOCK * Float64Array.BYTES_PER_ELEMENT).toBe(64);
    expect(plan.stride).toBe(24);
    expect(plan.tableStride % DRAW_BLOCK).toBe(0);
    expect(plan.tableStride - plan.tableLength).toBeLessThan(DRAW_BLOCK);
    const buffers = allocateIntervalBuffers(plan);
    expect(buffers.equityPartials.length).toBe(plan.blocks * 24);
    expect(buffers.horizonIfAlive.length).toBe(plan.prepared.pairs * 24);
  });

  it('orders the rows and the customers by tuple: each tuple’s rows in row order, its customers in customer order, each customer at its row’s place', () => {
    const index = planIntervals(parameterDraws({ name: 'bgnbd', fit: fits.bgnbd }, gg, { draws: 2 })!.transactions, [gg.params, gg.params], patterns, WEEKLY, patternOf);
    const rowTuples = Array.from(index.rowsByTuple, (row) => index.tupleOf[row]!);
    const customers = Array.from(patternOf.keys()).sort((a, b) => index.tupleOf[patternOf[a]!]! - index.tupleOf[patternOf[b]!]! || a - b);
    expect(rowTuples).toEqual([...rowTuples].sort((a, b) => a - b));
    expect(Array.from(index.rowsByTuple)).toEqual(Array.from(index.rowsByTuple.keys()).sort((a, b) => index.tupleOf[a]! - index.tupleOf[b]! || a - b));
    expect(Array.from(index.customerRowAt, (at) => index.rowsByTuple[at])).toEqual(customers.map((c) => patternOf[c]));
    for (let j = 0; j < index.tuples; j++) {
      expect(rowTuples.slice(index.rowStart[j], index.rowStart[j + 1]).every((t) => t === j)).toBe(true);
      expect(customers.slice(index.customerStart[j], index.customerStart[j + 1]).every((c) => index.tupleOf[patternOf[c]!] === j)).toBe(true);
    }
  });

  it('refuses a block size that is not a whole number of tuples', () => {
    const draws = parameterDraws({ name: 'bgnbd', fit: fits.bgnbd }, gg, { draws: 2 })!;
    for (const tupleBlock of [0, 1.5, Number.NaN]) {
      expect(() => planIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf, tupleBlock)).toThrow(/tupleBlock must be a whole number/);
    }
  });
});
