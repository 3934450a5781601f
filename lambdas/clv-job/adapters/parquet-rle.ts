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

  const varint = (value: number): void => {
    o = varintAt(out, o, value);
  };
  // groups of 8 values from `start`, least significant bit first; positions past the end pack as 0
  const packGroups = (start: number, groups: number): void => {
    varint((groups << 1) | 1);
    if (bitWidth === 0) return;
    const mask = (1 << bitWidth) - 1;
    const end = start + groups * 8;
    let buffer = 0;
    let used = 0;
    for (let i = start; i < end; i++) {
      buffer |= (i < n ? values[i]! & mask : 0) << used;
      used += bitWidth;
      while (used >= 8) {
        out[o++] = buffer & 0xff;
        buffer >>>= 8;
        used -= 8;
      }
    }
    if (used > 0) out[o++] = buffer & 0xff;
  };

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
        packGroups(packedFrom, pending);
        pending = 0;
      }
      varint(run << 1);
      for (let j = 0; j < width; j++) out[o++] = (first >> (j << 3)) & 0xff;
      i += run;
    } else {
      if (pending === 0) packedFrom = i;
      pending += 1;
      i += 8;
    }
  }
  if (pending > 0) packGroups(packedFrom, pending);
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
