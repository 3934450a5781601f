import { describe, expect, it } from 'vitest';
import { ScratchArena } from '../../../lambdas/clv-job/domain/math/scratch-arena.js';

describe('ScratchArena', () => {
  it('hands out pieces of the asked lengths that do not overlap until the next reset', () => {
    // Arrange
    const arena = new ScratchArena(4);
    // Act: more than the first buffer holds, so some pieces come from a new one
    const pieces = [3, 5, 1, 7, 2].map((length) => arena.take(length));
    pieces.forEach((piece, k) => piece.fill(k + 1));
    // Assess
    expect(pieces.map((p) => p.length)).toEqual([3, 5, 1, 7, 2]);
    pieces.forEach((piece, k) => expect(Array.from(piece)).toEqual(Array(piece.length).fill(k + 1)));
  });

  it('after a reset, hands out the same memory again, grown to hold all that the last round asked for', () => {
    // Arrange: a round asking for more than the first buffer holds, and more than the buffer it grows to while taking
    const arena = new ScratchArena(4);
    const round = (): Float64Array[] => [3, 3, 3].map((length) => arena.take(length));
    round();
    arena.reset();
    // Act: the same round twice
    const second = round();
    arena.reset();
    const third = round();
    // Assess: one buffer holds every piece of a round, the same buffer in both rounds
    expect(new Set(second.map((p) => p.buffer)).size).toBe(1);
    expect(third.map((p) => [p.buffer, p.byteOffset])).toEqual(second.map((p) => [p.buffer, p.byteOffset]));
  });
});
