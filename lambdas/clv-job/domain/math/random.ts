/**
 * Seeded pseudo-random numbers for the parts of the domain that draw (the parameter draws behind
 * the prediction intervals) and for the tests' simulations: the same seed gives the same stream on
 * every platform, so a run's intervals are reproducible bit for bit.
 */
/** A source of uniform numbers in the open interval (0, 1). */
export type Uniform = () => number;

/**
 * xoshiro128** (Blackman & Vigna), seeded through splitmix32 so nearby seeds give unrelated
 * streams. Period 2^128 − 1; returns (k + 0.5) / 2^32, never exactly 0 or 1, so ln(u) is finite.
 */
export const seededUniform = (seed: number): Uniform => {
  let state = seed >>> 0;
  const splitmix = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  return () => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    s0 >>>= 0;
    s1 >>>= 0;
    s2 >>>= 0;
    return (result + 0.5) / 4294967296;
  };
};

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Standard normal by the Marsaglia polar method. */
export const normal = (u: Uniform): number => {
  for (;;) {
    const x = 2 * u() - 1;
    const y = 2 * u() - 1;
    const s = x * x + y * y;
    if (s > 0 && s < 1) return x * Math.sqrt((-2 * Math.log(s)) / s);
  }
};

