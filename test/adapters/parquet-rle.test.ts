import { ByteWriter } from 'hyparquet-writer';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { describe, expect, it } from 'vitest';
import { rleBitPackedHybrid, rleBitPackedHybridBound, rleRun } from '../../lambdas/clv-job/adapters/parquet-rle.js';

/** hyparquet-writer's encoding, the reference the writer's files were made with. */
const reference = (values: Int32Array, bitWidth: number, lead: number): Uint8Array => {
  const writer = new ByteWriter(16);
  if (lead >= 0) writer.appendUint8(lead);
  writeRleBitPackedHybrid(writer, values, bitWidth);
  return writer.getBytes().slice();
};

let seed = 12345;
const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;

/** Values below 2^bitWidth: runs of random lengths (some under 8, some long) of random values. */
const runs = (length: number, bitWidth: number, meanRun: number): Int32Array => {
  const values = new Int32Array(length);
  const top = 2 ** bitWidth;
  for (let i = 0; i < length; ) {
    const value = Math.floor(random() * top);
    const run = 1 + Math.floor(random() * 2 * meanRun);
    for (let k = 0; k < run && i < length; k++) values[i++] = value;
  }
  return values;
};

describe('the RLE / bit-packed hybrid encoder', () => {
  it('writes the same bytes as hyparquet-writer for every bit width, length and run shape', () => {
    for (let bitWidth = 0; bitWidth <= 16; bitWidth++) {
      for (const length of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 100_003]) {
        for (const meanRun of [1, 3, 6, 9, 40, 100_000]) {
          const values = runs(length, bitWidth, meanRun);
          for (const lead of [-1, bitWidth]) {
            const ours = rleBitPackedHybrid(values, bitWidth, lead);
            const theirs = reference(values, bitWidth, lead);
            if (ours.length !== theirs.length || ours.some((b, k) => b !== theirs[k])) {
              expect({ bitWidth, length, meanRun, lead, ours: [...ours.slice(0, 40)] }).toEqual({ bitWidth, length, meanRun, lead, ours: [...theirs.slice(0, 40)] });
            }
          }
        }
      }
    }
  });

  it('encodes a long run of ones as one RLE run: count << 1 as a varint, then the value', () => {
    expect([...rleBitPackedHybrid(new Uint8Array(300).fill(1), 1)]).toEqual([0xd8, 0x04, 0x01]);
  });

  it('writes into a given buffer from its start whatever it held, and refuses one shorter than the bound', () => {
    const values = runs(1000, 5, 3);
    const stale = new Uint8Array(rleBitPackedHybridBound(values.length, 5)).fill(0xff);

    const written = rleBitPackedHybrid(values, 5, 5, stale);

    expect(written.buffer).toBe(stale.buffer);
    expect([...written]).toEqual([...reference(values, 5, 5)]);
    expect(() => rleBitPackedHybrid(values, 5, 5, new Uint8Array(written.length))).toThrow(RangeError);
  });

  it('writes a run of one value as the hybrid encoder writes the same values, without reading them', () => {
    for (const bitWidth of [1, 3, 8, 9, 16, 17]) {
      for (const count of [8, 9, 127, 128, 100_000, 16_384 * 8]) {
        const value = (2 ** bitWidth - 1) & 0x5a5a5;
        expect([...rleRun(value, count, bitWidth)]).toEqual([...reference(new Int32Array(count).fill(value), bitWidth, -1)]);
      }
    }
    expect(() => rleRun(1, 7, 1)).toThrow(/bit-packed/);
  });
});
