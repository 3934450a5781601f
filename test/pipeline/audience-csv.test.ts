/**
 * How the audience files write a score: the shortest decimal that reads back as the same double,
 * never with an exponent (a CRM's decimal field refuses `3.4e-44`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainDecimal, scoreTextsOf } from '../../lambdas/clv-job/pipeline/audience-csv.js';

describe('plainDecimal', () => {
  it('writes what JavaScript writes where that has no exponent', () => {
    for (const value of [0, -0, 1, 0.5, 123.456, 0.000001, 999999999999999900000, -42.25]) expect(plainDecimal(value)).toBe(String(value));
  });

  it('writes the digits out in full where JavaScript would take an exponent', () => {
    expect(plainDecimal(3.3996736353716457e-44)).toBe(`0.${'0'.repeat(43)}33996736353716457`);
    expect(plainDecimal(1e-7)).toBe('0.0000001');
    expect(plainDecimal(1.5e-7)).toBe('0.00000015');
    expect(plainDecimal(-2.5e-9)).toBe('-0.0000000025');
    expect(plainDecimal(1e21)).toBe(`1${'0'.repeat(21)}`);
    expect(plainDecimal(1.2345e25)).toBe(`12345${'0'.repeat(21)}`);
    expect(plainDecimal(Number.MIN_VALUE)).toBe(`0.${'0'.repeat(323)}5`);
  });

  it('reads back as the very same double, for any finite double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = plainDecimal(value);
        expect(text).toMatch(/^-?\d+(\.\d+)?$/);
        expect(Object.is(Number(text), value) || (value === 0 && Number(text) === 0)).toBe(true);
      }),
    );
  });
});

describe('scoreTextsOf', () => {
  it('writes every pattern\'s scores as plainDecimal does: no exponent in an audience row', () => {
    const texts = scoreTextsOf({ patternCount: 2, predictedClv: Float64Array.of(12.5, 1e-30), probabilityAlive: Float64Array.of(0.5, 3.3996736353716457e-44) });

    const decoded = Array.from({ length: 2 }, (_, k) => Buffer.from(texts.bytes.subarray(texts.offset[k], texts.offset[k + 1])).toString('utf8'));

    expect(decoded).toEqual(['12.5,0.5', `0.${'0'.repeat(29)}1,0.${'0'.repeat(43)}33996736353716457`]);
  });
});
