/**
 * Every property test's seed, pinned: `FC_SEED` (an integer) when set, else a fixed default, so a
 * CI failure replays on a laptop with the same cases. fast-check names the seed (and the failing
 * case's path) in every failure; to explore new cases, run with another seed, e.g.
 * `FC_SEED=$RANDOM npx vitest run test/domain`. Set for every test file by `fast-check-setup.ts`.
 */
export const DEFAULT_FC_SEED = 20_261_130;

/** The seed the property tests run with; a malformed FC_SEED is refused rather than ignored. */
export const propertySeed = (value: string | undefined): number => {
  if (value === undefined || value === '') return DEFAULT_FC_SEED;
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`FC_SEED must be an integer, not ${JSON.stringify(value)}`);
  return Number(value);
};
