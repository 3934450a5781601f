/**
 * Parquet's RLE / bit-packed hybrid encoding (definition levels, dictionary indexes), written into
 * one reused buffer. It makes the same choices, byte for byte, as hyparquet-writer's
 * writeRleBitPackedHybrid (a run of 8 or more equal values is an RLE run, anything else goes into
 * bit-packed groups of 8), which appends every byte through a growable DataView: on a million rows
 * of levels and indexes that was a tenth of the customers table's encoding time. It writes into
 * the caller's buffer (parquet-page-buffers.ts), so that a row group's levels and indexes need no
 * new array.
 * Format: https://parquet.apache.org/docs/file-format/data-pages/encodings/#run-length-encoding--bit-packing-hybrid-rle--3
 */

/** Writes `value` (unsigned, below 2^31) as a ULEB128 varint at `o`; returns the position after it. */
const varintAt = (out: Uint8Array, at: number, value: number): number => {
  let o = at;
  let v = value;
  while ((v & ~0x7f) !== 0) {
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[o++] = v;
  return o;
};

/**
 * Writes `groups` bit-packed groups of 8 values from `start` at `at` (their header, then the bits,
 * least significant first; positions past the end of `values` pack as 0); returns the position
 * after them. A function of its own, not a closure over the caller's position: a captured
 * position that changes lives in a context object, loaded and stored at every byte.
 */
const packGroups = (values: ArrayLike<number>, start: number, groups: number, bitWidth: number, out: Uint8Array, at: number): number => {
  let o = varintAt(out, at, (groups << 1) | 1);
  if (bitWidth === 0) return o;
  const mask = (1 << bitWidth) - 1;
  const end = start + groups * 8;
  const full = Math.min(end, values.length);
  let buffer = 0;
  let used = 0;
  for (let i = start; i < end; i++) {
    buffer |= (i < full ? values[i]! & mask : 0) << used;
    used += bitWidth;
    while (used >= 8) {
      out[o++] = buffer & 0xff;
      buffer >>>= 8;
      used -= 8;
    }
  }
  if (used > 0) out[o++] = buffer & 0xff;
  return o;
};

/**
 * The most bytes the hybrid encoding of `count` values of `bitWidth` bits takes, a leading byte
 * included: every run or group of groups covers 8 values or more, a 5-byte header and up to 4
 * bytes of value per 8 values, plus the packed bits.
 */
export const rleBitPackedHybridBound = (count: number, bitWidth: number): number => 1 + (Math.ceil(count / 8) + 2) * (9 + bitWidth);

/**
 * The hybrid encoding of `values` (non-negative integers below 2^bitWidth, bitWidth 0 to 24), after
 * an optional leading byte (`lead`, e.g. a dictionary page's bit width; -1 for none), written from
 * the start of `out` (at least rleBitPackedHybridBound bytes; a new array when not given). Returns
 * the view of `out` that holds it.
 */
export const rleBitPackedHybrid = (
  values: ArrayLike<number>,
  bitWidth: number,
  lead = -1,
  out = new Uint8Array(rleBitPackedHybridBound(values.length, bitWidth)),
): Uint8Array => {
  const n = values.length;
  if (out.length < rleBitPackedHybridBound(n, bitWidth)) throw new RangeError(`${out.length} bytes cannot hold the encoding of ${n} values of ${bitWidth} bits`);
  let o = 0;
  if (lead >= 0) out[o++] = lead;
  const width = (bitWidth + 7) >> 3;
  let pending = 0;
  let packedFrom = 0;
  let i = 0;
  while (i < n) {
    const first = values[i]!;
    let run = 1;
    while (i + run < n && values[i + run] === first) run++;
    if (run >= 8) {
      if (pending > 0) {
        o = packGroups(values, packedFrom, pending, bitWidth, out, o);
        pending = 0;
      }
      o = varintAt(out, o, run << 1);
      for (let j = 0; j < width; j++) out[o++] = (first >> (j << 3)) & 0xff;
      i += run;
    } else {
      if (pending === 0) packedFrom = i;
      pending += 1;
      i += 8;
    }
  }
  if (pending > 0) o = packGroups(values, packedFrom, pending, bitWidth, out, o);
  return out.subarray(0, o);
};

/**
 * The hybrid encoding of `count` (8 or more) copies of `value`, as rleBitPackedHybrid writes them:
 * one RLE run (e.g. the definition levels of a page without nulls), without reading any values.
 */
export const rleRun = (value: number, count: number, bitWidth: number, out = new Uint8Array(rleBitPackedHybridBound(count, bitWidth))): Uint8Array => {
  if (count < 8) throw new RangeError(`${count} values are bit-packed, not a run`);
  let o = varintAt(out, 0, count << 1);
  for (let j = 0; j < (bitWidth + 7) >> 3; j++) out[o++] = (value >> (j << 3)) & 0xff;
  return out.subarray(0, o);
};
