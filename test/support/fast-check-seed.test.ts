import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FC_SEED, propertySeed } from './fast-check-seed.js';

describe('the property tests\' seed', () => {
  it('is pinned for every test file: FC_SEED when set, the fixed default otherwise', () => {
    expect(fc.readConfigureGlobal().seed).toBe(propertySeed(process.env.FC_SEED));
    expect(propertySeed(undefined)).toBe(DEFAULT_FC_SEED);
    expect(propertySeed('-42')).toBe(-42);
  });

  it('refuses an FC_SEED that is not an integer', () => {
    expect(() => propertySeed('random')).toThrow('FC_SEED must be an integer, not "random"');
  });

  it('replays the same cases with the same seed, and names the seed when a property fails', () => {
    const seen = (): number[] => {
      const values: number[] = [];
      fc.assert(fc.property(fc.integer(), (n) => void values.push(n)), { numRuns: 20 });
      return values;
    };

    expect(seen()).toEqual(seen());
    expect(() => fc.assert(fc.property(fc.integer({ min: 0 }), (n) => n < 0))).toThrow(`seed: ${fc.readConfigureGlobal().seed}`);
  });
});
