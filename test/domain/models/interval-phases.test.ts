import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressBgNbdData, fitBgNbd } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import type { ClvSettings, ScoreInput } from '../../../lambdas/clv-job/domain/models/clv.js';
import { fitGammaGamma } from '../../../lambdas/clv-job/domain/models/gamma-gamma.js';
import { allocateIntervalBuffers, DRAW_BLOCK, INTERVAL_PHASES, planIntervals, scratchLength } from '../../../lambdas/clv-job/domain/models/interval-phases.js';
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
    ['bgnbd', 100],
    ['pnbd', 100],
    ['pnbd', 21],
  ] as const)(
    'give the intervals of one pass over every range, bit for bit, however the ranges are cut and in whatever order the pieces run (%s, %i draws)',
    (name, count) => {
      // Prepare
      const draws = (name === 'bgnbd' ? parameterDraws({ name, fit: fits.bgnbd }, gg, { draws: count }) : parameterDraws({ name, fit: fits.pnbd }, gg, { draws: count }))!;
      const whole = customerIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf);
      const plan = planIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf);
      const cutsAndOrder = fc.record({ cuts: fc.array(fc.nat(), { maxLength: 12 }), order: fc.array(fc.nat(), { minLength: 13, maxLength: 13 }) });

      fc.assert(
        fc.property(fc.tuple(cutsAndOrder, cutsAndOrder, cutsAndOrder, cutsAndOrder), (byPhase) => {
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

  it('allocates its scratch memory once, for the longest range of any phase (a block of draws for every row or tuple)', () => {
    const draws = parameterDraws({ name: 'bgnbd', fit: fits.bgnbd }, gg, { draws: 100 })!;
    const plan = planIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf);
    const first = plan.scratch(plan.tuples * DRAW_BLOCK);
    const longest = plan.scratch(Math.max(plan.rows, plan.tuples) * DRAW_BLOCK);
    expect(plan.rows).toBeGreaterThan(plan.tuples);
    expect(longest.buffer).toBe(first.buffer);
    expect(first.buffer.byteLength).toBe(scratchLength(plan, 100) * Float64Array.BYTES_PER_ELEMENT);
    expect(scratchLength(plan, 100)).toBe(plan.rows * DRAW_BLOCK);
  });

  it('pads each draw row to whole blocks of DRAW_BLOCK draws (one cache line), so that draw ranges cut at its multiples share no line', () => {
    const draws = parameterDraws({ name: 'pnbd', fit: fits.pnbd }, gg, { draws: 21 })!;
    const plan = planIntervals(draws.transactions, draws.spend, patterns, WEEKLY, patternOf);
    expect(DRAW_BLOCK * Float64Array.BYTES_PER_ELEMENT).toBe(64);
    expect(plan.stride).toBe(24);
    expect(allocateIntervalBuffers(plan).perTuple.length).toBe(plan.tuples * 24);
  });
});
