import { gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import { ByteWriter, type SchemaElement } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { ColumnChunk, CompressionCodec, Encoding, RowGroup } from 'hyparquet';
import { PageBuffers } from './parquet-page-buffers.js';
import { rleBitPackedHybrid, rleBitPackedHybridBound, rleRun } from './parquet-rle.js';
import { StringDictionary } from './parquet-string-dictionary.js';
import type { ByteSink, ColumnRows, ColumnValues, TableFile, TableWriter } from '../ports.js';
import type { ColumnSpec, ColumnType } from '../schemas/tables.js';

/** Every column is OPTIONAL: a predictive column is null when the model could not be trusted. */
const SCHEMA_ELEMENT: Record<ColumnType, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  int: { type: 'INT32', repetition_type: 'OPTIONAL' },
  double: { type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  // days since 1970-01-01, which is how the pipeline holds dates already
  date: { type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
  boolean: { type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
};

export const parquetSchema = (columns: readonly ColumnSpec[]): SchemaElement[] => [
  { name: 'root', num_children: columns.length },
  ...columns.map((c) => ({ name: c.name, ...SCHEMA_ELEMENT[c.type] })),
];

/** Rows per row group: bounded memory while writing, and groups large enough for readers to skip well. */
export const ROW_GROUP_SIZE = 100_000;

/**
 * A dictionary is tried up to this many distinct values (bit width 15): beyond it a column is an
 * identifier or a measure, and its values are written as they are.
 */
const MAX_DICTIONARY_ENTRIES = 1 << 15;

/** gzip level 1: native zlib, faster than a JavaScript Snappy and a third smaller on these columns. */
const GZIP_LEVEL = 1;
const gzip = promisify(gzipCallback);

/** A column whose first sample shrinks by less than this is stored uncompressed (e.g. model scores). */
const MIN_COMPRESSION_GAIN = 0.1;
const COMPRESSION_SAMPLE_BYTES = 64 * 1024;

/** The values of one column chunk, encoded but not yet compressed. */
interface EncodedChunk {
  readonly element: SchemaElement;
  readonly rows: number;
  readonly nulls: number;
  /** RLE / bit-packed definition levels (bit width 1); never compressed in a V2 data page. */
  readonly levels: Uint8Array;
  readonly encoding: Encoding;
  /** The dictionary page's PLAIN values, when the chunk is dictionary-encoded. */
  readonly dictionary: { readonly values: Uint8Array; readonly count: number } | null;
  readonly values: Uint8Array;
  readonly min: number | Uint8Array | undefined;
  readonly max: number | Uint8Array | undefined;
  readonly nanCount: number | undefined;
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The bytes of a typed array as they are laid out in memory: Parquet's PLAIN encoding on a little-endian machine. */
const bytesOf = (values: Int32Array | Float64Array): Uint8Array => {
  if (!isLittleEndian) throw new Error('the Parquet writer assumes a little-endian machine');
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
};

/** The uses of a column's PageBuffers slots: slot = column * USES + use. */
const USES = 4;
const VALUES = 0;
const DICTIONARY = 1;
const LEVELS = 2;
const INDEXES = 3;

/** Where an encoder writes a chunk: the group's reused buffers and the column's first slot in them. */
interface Target {
  readonly buffers: PageBuffers;
  readonly slot: number;
}

/** `count` 32-bit integers (or doubles) in a slot's buffer. */
const int32sIn = (target: Target, use: number, count: number): Int32Array => new Int32Array(target.buffers.get(target.slot + use, 4 * count).buffer, 0, count);
const float64sIn = (target: Target, use: number, count: number): Float64Array => new Float64Array(target.buffers.get(target.slot + use, 8 * count).buffer, 0, count);

/**
 * Reused between chunks for what encoding needs only while it runs (dictionary indexes before
 * they are bit-packed, the integer dictionary's lookup table): encoding is synchronous.
 */
let indexScratch = new Int32Array(0);
let lookupScratch = new Int32Array(0);
const scratchIndexes = (count: number): Int32Array => {
  if (indexScratch.length < count) indexScratch = new Int32Array(count);
  return indexScratch.subarray(0, count);
};
const scratchLookup = (count: number): Int32Array => {
  if (lookupScratch.length < count) lookupScratch = new Int32Array(count);
  return lookupScratch.subarray(0, count);
};

/** A growable byte buffer for PLAIN byte arrays (length prefix + UTF-8), in a slot of the group's buffers. */
class Bytes {
  buffer: Uint8Array;
  length = 0;
  constructor(
    private readonly target: Target,
    private readonly use: number,
    capacity: number,
  ) {
    this.buffer = target.buffers.get(target.slot + use, Math.max(capacity, 64));
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    this.buffer = this.target.buffers.grow(this.target.slot + this.use, Math.max(this.buffer.length * 2, this.length + extra), this.length);
  }
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

const utf8 = new TextEncoder();

/** Appends a string as a PLAIN byte array: 4-byte little-endian length, then UTF-8. ASCII without an allocation. */
const appendString = (out: Bytes, value: string): void => {
  out.reserve(4 + value.length * 3);
  const start = out.length + 4;
  const buffer = out.buffer;
  let p = start;
  let ascii = true;
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    buffer[p++] = c;
  }
  if (!ascii) p = start + utf8.encodeInto(value, buffer.subarray(start)).written;
  const length = p - start;
  buffer[start - 4] = length & 0xff;
  buffer[start - 3] = (length >>> 8) & 0xff;
  buffer[start - 2] = (length >>> 16) & 0xff;
  buffer[start - 1] = (length >>> 24) & 0xff;
  out.length = p;
};

/** Unsigned byte order of `a[aFrom, aTo)` and `b[bFrom, bTo)`: Parquet's order for UTF-8 statistics. */
const compareBytes = (a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number): number => {
  const n = Math.min(aTo - aFrom, bTo - bFrom);
  for (let k = 0; k < n; k++) {
    const d = a[aFrom + k]! - b[bFrom + k]!;
    if (d !== 0) return d;
  }
  return aTo - aFrom - (bTo - bFrom);
};

/**
 * Rows [from, to) of one column of a batch. The value of row i is `data[rows[i]]` when the column
 * comes by row numbers (ColumnRows), else `data[i]`: the encoders read the caller's arrays in place.
 */
interface Slice {
  readonly data: ColumnValues;
  readonly rows: Int32Array | null;
  readonly from: number;
  readonly to: number;
}

/** A column without values: every position reads as undefined, which the encoders take for null. */
const NO_VALUES: readonly null[] = [];

/** Level flags of the chunk being encoded: encoding is synchronous and the encoded levels are a new array. */
let levelFlags = new Uint8Array(0);

/** Definition levels of a flat OPTIONAL column's slice: 1 for a value, 0 for a null. */
const definitionLevels = ({ data, rows, from, to }: Slice, target: Target): { levels: Uint8Array; nulls: number } => {
  const count = to - from;
  const out = target.buffers.get(target.slot + LEVELS, rleBitPackedHybridBound(count, 1));
  if (levelFlags.length < count) levelFlags = new Uint8Array(count);
  const flags = levelFlags.subarray(0, count);
  let nulls = 0;
  if (ArrayBuffer.isView(data)) {
    if (count >= 8) return { levels: rleRun(1, count, 1, out), nulls };
    flags.fill(1);
  } else {
    for (let i = from; i < to; i++) {
      const present = data[rows === null ? i : rows[i]!] != null;
      flags[i - from] = present ? 1 : 0;
      if (!present) nulls += 1;
    }
    // a page without nulls, or of nulls only, is one run
    if (count >= 8 && (nulls === 0 || nulls === count)) return { levels: rleRun(nulls === 0 ? 1 : 0, count, 1, out), nulls };
  }
  return { levels: rleBitPackedHybrid(flags, 1, -1, out), nulls };
};

const bitWidthOf = (maxIndex: number): number => (maxIndex <= 0 ? 0 : 32 - Math.clz32(maxIndex));

/** RLE_DICTIONARY data: the bit width, then the indexes as an RLE / bit-packed hybrid. */
const dictionaryIndexes = (indexes: Int32Array, entries: number, target: Target): Uint8Array => {
  const bitWidth = bitWidthOf(entries - 1);
  return rleBitPackedHybrid(indexes, bitWidth, bitWidth, target.buffers.get(target.slot + INDEXES, rleBitPackedHybridBound(indexes.length, bitWidth)));
};

/** Dictionary encoding pays when the dictionary and its indexes take at most half the PLAIN bytes (hyparquet's rule). */
const dictionaryPays = (plainBytes: number, dictionaryBytes: number, values: number, entries: number): boolean =>
  2 * (dictionaryBytes + Math.ceil((values * bitWidthOf(entries - 1)) / 8)) <= plainBytes;

/** An integer dictionary's entries in its slot. */
const int32sFrom = (entries: readonly number[], target: Target): Int32Array => {
  const out = int32sIn(target, DICTIONARY, entries.length);
  for (let e = 0; e < entries.length; e++) out[e] = entries[e]!;
  return out;
};

/** INT32 (int, date) values of a slice: integers in range, or null. */
const encodeInts = (element: SchemaElement, name: string, slice: Slice, target: Target): EncodedChunk => {
  const { data, rows: at, from, to } = slice;
  const rows = to - from;
  const { levels, nulls } = definitionLevels(slice, target);
  // a copy: the bytes are compressed after append() returns, when the caller may reuse its arrays
  const values = int32sIn(target, VALUES, rows - nulls);
  if (data instanceof Int32Array || data instanceof Int8Array) {
    if (at === null) values.set(data.subarray(from, to));
    else for (let i = from; i < to; i++) values[i - from] = data[at[i]!]!;
  } else {
    let k = 0;
    for (let i = from; i < to; i++) {
      const v = data[at === null ? i : at[i]!];
      if (v == null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new Error(`column ${name}: ${JSON.stringify(v)} is not a 32-bit integer`);
      }
      values[k++] = v;
    }
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const stats = values.length === 0 ? { min: undefined, max: undefined } : { min, max };
  const chunk = { element, rows, nulls, levels, nanCount: undefined, ...stats };

  // A dictionary through a lookup table over the value range: no hash map per value.
  if (values.length > 0 && max - min < 1 << 16) {
    const slot = scratchLookup(max - min + 1).fill(-1);
    const dictionary: number[] = [];
    const indexes = scratchIndexes(values.length);
    for (let i = 0; i < values.length; i++) {
      const offset = values[i]! - min;
      let index = slot[offset]!;
      if (index < 0) {
        index = dictionary.length;
        slot[offset] = index;
        dictionary.push(values[i]!);
      }
      indexes[i] = index;
    }
    if (dictionary.length <= MAX_DICTIONARY_ENTRIES && dictionaryPays(4 * values.length, 4 * dictionary.length, values.length, dictionary.length)) {
      return {
        ...chunk,
        encoding: 'RLE_DICTIONARY',
        dictionary: { values: bytesOf(int32sFrom(dictionary, target)), count: dictionary.length },
        values: dictionaryIndexes(indexes, dictionary.length, target),
      };
    }
  }
  return { ...chunk, encoding: 'PLAIN', dictionary: null, values: bytesOf(values) };
};

/** DOUBLE values of a slice: PLAIN, NaN kept but left out of min / max as the format asks. */
const encodeDoubles = (element: SchemaElement, name: string, slice: Slice, target: Target): EncodedChunk => {
  const { data, rows: at, from, to } = slice;
  const rows = to - from;
  const { levels, nulls } = definitionLevels(slice, target);
  const values = float64sIn(target, VALUES, rows - nulls);
  if (data instanceof Float64Array) {
    if (at === null) values.set(data.subarray(from, to));
    else for (let i = from; i < to; i++) values[i - from] = data[at[i]!]!;
  } else {
    let k = 0;
    for (let i = from; i < to; i++) {
      const v = data[at === null ? i : at[i]!];
      if (v == null) continue;
      if (typeof v !== 'number') throw new Error(`column ${name}: ${JSON.stringify(v)} is not a number`);
      values[k++] = v;
    }
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let nanCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) nanCount += 1;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const bounded = min <= max;
  return {
    element,
    rows,
    nulls,
    levels,
    encoding: 'PLAIN',
    dictionary: null,
    values: bytesOf(values),
    // signed zeros: min is -0 and max +0, as the format asks
    min: bounded ? (min === 0 ? -0 : min) : undefined,
    max: bounded ? (max === 0 ? 0 : max) : undefined,
    nanCount,
  };
};

/** The string of position `p`, or a TypeError naming the column. */
const stringAt = (data: ColumnValues, p: number, name: string): string => {
  const v = data[p];
  if (typeof v !== 'string') throw new Error(`column ${name}: ${JSON.stringify(v)} is not a string`);
  return v;
};

/** PLAIN byte arrays and their min / max (UTF-8 bytes without the length prefix). */
interface PlainStrings {
  readonly values: Uint8Array;
  readonly min: Uint8Array | undefined;
  readonly max: Uint8Array | undefined;
}

/**
 * The slice's non-null values as PLAIN byte arrays. With `onlyIfIncreasing`, null at the first
 * value not above the one before it in byte order: values that all increase are all distinct, so
 * a dictionary would hold every one of them and never pays, and min and max are the first and the
 * last value (identifiers in customer order are this case).
 */
const plainStrings = ({ data, rows: at, from, to }: Slice, name: string, target: Target, count: number, onlyIfIncreasing: boolean): PlainStrings | null => {
  const plain = new Bytes(target, VALUES, count * 16);
  // [from, to) of the min and max values in the PLAIN bytes; when increasing, the first and the latest
  let minFrom = -1;
  let minTo = -1;
  let maxFrom = -1;
  let maxTo = -1;
  for (let i = from; i < to; i++) {
    const p = at === null ? i : at[i]!;
    if (data[p] == null) continue;
    const start = plain.length + 4;
    appendString(plain, stringAt(data, p, name));
    const end = plain.length;
    const bytes = plain.buffer;
    if (onlyIfIncreasing) {
      if (maxFrom >= 0 && compareBytes(bytes, start, end, bytes, maxFrom, maxTo) <= 0) return null;
      if (minFrom < 0) [minFrom, minTo] = [start, end];
      [maxFrom, maxTo] = [start, end];
      continue;
    }
    if (minFrom < 0 || compareBytes(bytes, start, end, bytes, minFrom, minTo) < 0) [minFrom, minTo] = [start, end];
    if (maxFrom < 0 || compareBytes(bytes, start, end, bytes, maxFrom, maxTo) > 0) [maxFrom, maxTo] = [start, end];
  }
  return {
    values: plain.view(),
    min: minFrom < 0 ? undefined : plain.buffer.slice(minFrom, minTo),
    max: maxFrom < 0 ? undefined : plain.buffer.slice(maxFrom, maxTo),
  };
};

/** UTF-8 values of a slice: a dictionary while the distinct values stay few, else PLAIN. */
const encodeStrings = (element: SchemaElement, name: string, slice: Slice, target: Target): EncodedChunk => {
  const { data, rows: at, from, to } = slice;
  const rows = to - from;
  const { levels, nulls } = definitionLevels(slice, target);
  const count = rows - nulls;
  const chunk = { element, rows, nulls, levels, nanCount: undefined };

  // increasing values are PLAIN without a dictionary tried on them; anything else gives up at once
  const increasing = count > 1 ? plainStrings(slice, name, target, count, true) : null;
  if (increasing !== null) return { ...chunk, encoding: 'PLAIN', dictionary: null, ...increasing };

  const slot = new StringDictionary();
  const indexes = scratchIndexes(count);
  let k = 0;
  for (let i = from; i < to && slot.size <= MAX_DICTIONARY_ENTRIES; i++) {
    const p = at === null ? i : at[i]!;
    if (data[p] == null) continue;
    indexes[k++] = slot.indexOf(stringAt(data, p, name));
  }
  if (k === count && count > 0) {
    const dictionary = new Bytes(target, DICTIONARY, 64);
    const offsets = new Int32Array(slot.size + 1);
    let plainBytes = 0;
    let e = 0;
    for (const value of slot.keys()) {
      offsets[e++] = dictionary.length;
      appendString(dictionary, value);
    }
    offsets[e] = dictionary.length;
    // PLAIN size: every value's bytes again, from the dictionary entries' sizes
    const sizes = new Int32Array(slot.size);
    for (let j = 0; j < slot.size; j++) sizes[j] = offsets[j + 1]! - offsets[j]!;
    for (let j = 0; j < count; j++) plainBytes += sizes[indexes[j]!]!;
    if (dictionaryPays(plainBytes, dictionary.length, count, slot.size)) {
      // min / max over the distinct values only, compared as the UTF-8 bytes after each length prefix
      const bytes = dictionary.buffer;
      let lo = 0;
      let hi = 0;
      for (let j = 1; j < slot.size; j++) {
        if (compareBytes(bytes, offsets[j]! + 4, offsets[j + 1]!, bytes, offsets[lo]! + 4, offsets[lo + 1]!) < 0) lo = j;
        if (compareBytes(bytes, offsets[j]! + 4, offsets[j + 1]!, bytes, offsets[hi]! + 4, offsets[hi + 1]!) > 0) hi = j;
      }
      return {
        ...chunk,
        encoding: 'RLE_DICTIONARY',
        dictionary: { values: dictionary.view(), count: slot.size },
        values: dictionaryIndexes(indexes, slot.size, target),
        min: bytes.slice(offsets[lo]! + 4, offsets[lo + 1]!),
        max: bytes.slice(offsets[hi]! + 4, offsets[hi + 1]!),
      };
    }
  }
  return { ...chunk, encoding: 'PLAIN', dictionary: null, ...plainStrings(slice, name, target, count, false)! };
};

/**
 * BOOLEAN values of a slice: PLAIN, one bit per value, least significant bit first (the format's
 * bit-packing). Summary tables are small, so no statistics are kept.
 */
const encodeBooleans = (element: SchemaElement, name: string, slice: Slice, target: Target): EncodedChunk => {
  const { data, rows: at, from, to } = slice;
  const { levels, nulls } = definitionLevels(slice, target);
  const bytes = Math.ceil((to - from - nulls) / 8);
  const values = target.buffers.get(target.slot + VALUES, bytes).subarray(0, bytes).fill(0);
  let k = 0;
  for (let i = from; i < to; i++) {
    const v = data[at === null ? i : at[i]!];
    if (v == null) continue;
    if (typeof v !== 'boolean') throw new Error(`column ${name}: ${JSON.stringify(v)} is not a boolean`);
    if (v) values[k >> 3] = values[k >> 3]! | (1 << (k & 7));
    k++;
  }
  return { element, rows: to - from, nulls, levels, encoding: 'PLAIN', dictionary: null, values, min: undefined, max: undefined, nanCount: undefined };
};

const isColumnRows = (input: ColumnValues | ColumnRows): input is ColumnRows => 'rows' in input && !Array.isArray(input);

const sliceOf = (input: ColumnValues | ColumnRows, from: number, to: number): Slice =>
  isColumnRows(input) ? { data: input.values ?? NO_VALUES, rows: input.rows, from, to } : { data: input, rows: null, from, to };

/** The smallest and largest row number (0 and -1 when there is none). */
const extentOf = (rows: Int32Array): { readonly lo: number; readonly hi: number } => {
  let lo = rows.length === 0 ? 0 : rows[0]!;
  let hi = rows.length === 0 ? -1 : rows[0]!;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i]!;
    if (row < lo) lo = row;
    if (row > hi) hi = row;
  }
  return { lo, hi };
};

/**
 * Throws unless every column gives `count` rows, each of them (by row number) inside its values.
 * Columns often share their row numbers: each array of them is scanned once.
 */
const checkBatch = (columns: readonly ColumnSpec[], batch: Readonly<Record<string, ColumnValues | ColumnRows>>, count: number): void => {
  const extents = new Map<Int32Array, { readonly lo: number; readonly hi: number }>();
  for (const { name } of columns) {
    const input = batch[name];
    const length = input === undefined ? 0 : isColumnRows(input) ? input.rows.length : input.length;
    if (input === undefined || length !== count) throw new Error(`column ${name} has ${length} values, expected ${count}`);
    if (!isColumnRows(input) || input.values === null) continue;
    const extent = extents.get(input.rows) ?? extentOf(input.rows);
    extents.set(input.rows, extent);
    if (extent.lo < 0 || extent.hi >= input.values.length) {
      throw new RangeError(`column ${name}: row numbers ${extent.lo} to ${extent.hi} are not all inside its ${input.values.length} values`);
    }
  }
};

const ENCODERS: Record<ColumnType, typeof encodeInts> = { int: encodeInts, date: encodeInts, double: encodeDoubles, string: encodeStrings, boolean: encodeBooleans };

/**
 * gzip on libuv's pool into one output buffer: with zlib's default 16 kB chunks, every chunk of a
 * page costs a round trip to this thread, an allocation and, at the end, a concatenation. The
 * deflate stream is the same whatever the chunk size (only where it is cut changes), so `room`
 * only decides how much memory the output is given: zlib's bound by default (never too little),
 * or a guess from the column's previous page, which a page that compresses worse overflows into
 * a second buffer.
 */
const gzipWhole = (raw: Uint8Array, room = raw.length + (raw.length >> 8) + 64): Promise<Buffer> => gzip(raw, { level: GZIP_LEVEL, chunkSize: Math.max(1024, room) });

/** A column's codec for the file, and the share of its raw bytes gzip kept of the sample it was judged on. */
interface CodecChoice {
  readonly codec: CompressionCodec;
  readonly kept: number;
}

/** Whether a column's pages are worth compressing, judged once per file on its first non-trivial chunk. */
const compressionPays = async (sample: Uint8Array): Promise<CodecChoice> => {
  const head = sample.subarray(0, COMPRESSION_SAMPLE_BYTES);
  const kept = (await gzipWhole(head)).length / head.length;
  return { codec: kept <= 1 - MIN_COMPRESSION_GAIN ? 'GZIP' : 'UNCOMPRESSED', kept };
};

/** Encoded bytes, compressed when the column's codec says so. */
interface Payload {
  readonly raw: Uint8Array;
  readonly stored: Uint8Array;
}

const compress = async (raw: Uint8Array, codec: CompressionCodec, room?: number): Promise<Payload> => ({
  raw,
  // an empty page is compressed too: a reader inflates whatever a GZIP chunk's page holds
  stored: codec === 'GZIP' ? await gzipWhole(raw, room) : raw,
});

/**
 * Output room for a page from the share of its raw size the column's previous page kept, with a
 * sixteenth and 4 kB to spare: data pages of one column compress alike from group to group.
 */
const roomFor = (raw: number, kept: number | undefined): number | undefined => (kept === undefined ? undefined : Math.ceil(raw * kept * 1.0625) + 4096);

/** Room for a chunk's page headers (a few Thrift varints each) when a row group's bytes are laid out. */
const PAGE_HEADERS_BYTES = 256;

/**
 * A row group's bytes in file order as pieces for the sink: page headers, levels and uncompressed
 * pages copied into one buffer (the encoders' memory is reused for a later group), gzip's output
 * passed on as it is, without a copy.
 */
class GroupPieces {
  readonly out: ByteWriter;
  private readonly pieces: Uint8Array[] = [];
  private start = 0;

  /** `bytes`: room for everything but the gzip output; `offset`: the file position the group starts at. */
  constructor(bytes: number, offset: number) {
    this.out = new ByteWriter(bytes);
    this.out.offset = offset;
  }

  payload(payload: Payload): void {
    if (payload.stored === payload.raw) {
      this.out.appendBytes(payload.raw);
      return;
    }
    this.cut();
    this.pieces.push(payload.stored);
    this.out.offset += payload.stored.length;
  }

  finish(): Uint8Array[] {
    this.cut();
    return this.pieces;
  }

  private cut(): void {
    if (this.out.index > this.start) this.pieces.push(new Uint8Array(this.out.buffer, this.start, this.out.index - this.start));
    this.start = this.out.index;
  }
}

/**
 * Writes one column chunk (optional dictionary page, one V2 data page) at the group's position,
 * and returns its metadata as hyparquet-writer's footer writer takes it.
 */
const writeChunk = (group: GroupPieces, chunk: EncodedChunk, codec: CompressionCodec, dictionary: Payload | null, values: Payload): ColumnChunk => {
  const { out } = group;
  const start = out.offset;
  let uncompressed = 0;
  let dictionaryPageOffset: bigint | undefined;
  if (chunk.dictionary && dictionary) {
    dictionaryPageOffset = BigInt(out.offset);
    writePageHeader(out, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: dictionary.raw.length,
      compressed_page_size: dictionary.stored.length,
      dictionary_page_header: { num_values: chunk.dictionary.count, encoding: 'PLAIN' },
    });
    uncompressed += out.offset - Number(dictionaryPageOffset) + dictionary.raw.length;
    group.payload(dictionary);
  }
  const dataPageOffset = out.offset;
  writePageHeader(out, {
    type: 'DATA_PAGE_V2',
    uncompressed_page_size: chunk.levels.length + values.raw.length,
    compressed_page_size: chunk.levels.length + values.stored.length,
    data_page_header_v2: {
      num_values: chunk.rows,
      num_nulls: chunk.nulls,
      num_rows: chunk.rows,
      encoding: chunk.encoding,
      definition_levels_byte_length: chunk.levels.length,
      repetition_levels_byte_length: 0,
      is_compressed: codec !== 'UNCOMPRESSED',
    },
  });
  uncompressed += out.offset - dataPageOffset + chunk.levels.length + values.raw.length;
  out.appendBytes(chunk.levels);
  group.payload(values);
  const { element } = chunk;
  return {
    file_offset: BigInt(start),
    meta_data: {
      type: element.type!,
      encodings: chunk.dictionary ? ['PLAIN', 'RLE_DICTIONARY'] : ['PLAIN'],
      path_in_schema: [element.name],
      codec,
      num_values: BigInt(chunk.rows),
      total_uncompressed_size: BigInt(uncompressed),
      total_compressed_size: BigInt(out.offset - start),
      data_page_offset: BigInt(dataPageOffset),
      dictionary_page_offset: dictionaryPageOffset,
      statistics: {
        min_value: chunk.min,
        max_value: chunk.max,
        null_count: BigInt(chunk.nulls),
        ...(chunk.nanCount === undefined ? {} : { nan_count: BigInt(chunk.nanCount) }),
      },
      encoding_stats: [
        ...(chunk.dictionary ? [{ page_type: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }] : []),
        { page_type: 'DATA_PAGE_V2' as const, encoding: chunk.encoding, count: 1 },
      ],
    },
  };
};

/**
 * Parquet for the output tables, in pure JavaScript (it runs in the Lambda as well as locally).
 * The columns are flat and typed, so each chunk is encoded straight from the pipeline's arrays,
 * read in place through row numbers when a column comes as ColumnRows (PLAIN numbers are the
 * arrays' own bytes; low-cardinality columns get a dictionary; levels and indexes go through
 * parquet-rle.ts), into buffers reused from group to group (parquet-page-buffers.ts), while
 * hyparquet-writer writes the format's page headers and footer. Pages are gzip-compressed on
 * libuv's thread pool, overlapping the encoding of the next row group, and each row group goes to
 * the sink as soon as it is complete, so a file never sits whole in memory.
 * DuckDB reads every type back exactly (test/adapters/parquet-table-writer.test.ts).
 */
export class ParquetTableWriter implements TableWriter {
  readonly extension = 'parquet';
  /**
   * The row-group buffers of closed files, for the next file to encode into (the customers' tier
   * files come one after the other): a cache the garbage collector may empty, so that a writer kept
   * between runs (the Lambda's) holds no memory while nothing is written.
   */
  private spare: WeakRef<PageBuffers>[] = [];

  open(sink: ByteSink, columns: readonly ColumnSpec[]): TableFile {
    const schema = parquetSchema(columns);
    const elements = schema.slice(1);
    // decided on the pool, in the order the chunks are encoded, so the same chunk decides as before
    const codecs: (Promise<CodecChoice> | undefined)[] = columns.map(() => undefined);
    // the share of its raw bytes each column's last gzip-compressed data page (at first its sample) kept
    const kept: (number | undefined)[] = columns.map(() => undefined);
    // the buffers of groups already laid out, for the next group to encode into
    const free = this.spare.map((buffers) => buffers.deref()).filter((buffers) => buffers !== undefined);
    this.spare = [];
    const rowGroups: RowGroup[] = [];
    let offset = 4; // after the leading magic bytes
    let rows = 0;
    let pending: Promise<void> = sink.write(new Uint8Array([0x50, 0x41, 0x52, 0x31]));

    /** Encodes a row group now; compresses and writes it after the previous group is out. */
    const writeGroup = (batch: Readonly<Record<string, ColumnValues | ColumnRows>>, from: number, to: number): Promise<void> => {
      const buffers = free.pop() ?? new PageBuffers();
      const chunks = columns.map((c, j) => ENCODERS[c.type](elements[j]!, c.name, sliceOf(batch[c.name]!, from, to), { buffers, slot: j * USES }));
      chunks.forEach((chunk, j) => {
        if (codecs[j] === undefined && chunk.values.length >= 1024) codecs[j] = compressionPays(chunk.values);
      });
      const compressed = Promise.all(
        chunks.map(async (chunk, j) => {
          const choice = await codecs[j];
          const codec = choice?.codec ?? 'GZIP';
          const values = await compress(chunk.values, codec, roomFor(chunk.values.length, kept[j] ?? choice?.kept));
          if (codec === 'GZIP' && values.raw.length > 0) kept[j] = values.stored.length / values.raw.length;
          return { codec, dictionary: chunk.dictionary ? await compress(chunk.dictionary.values, codec) : null, values };
        }),
      );
      // both are awaited later (append, close); marking them handled keeps a failure from being reported twice
      compressed.catch(() => undefined);
      pending = pending.then(async () => {
        const payloads = await compressed;
        // room for what is copied: headers, levels and the pages left uncompressed
        const copied = (p: Payload | null): number => (p === null || p.stored !== p.raw ? 0 : p.raw.length);
        const group = new GroupPieces(
          payloads.reduce((sum, p, j) => sum + PAGE_HEADERS_BYTES + chunks[j]!.levels.length + copied(p.values) + copied(p.dictionary), 0),
          offset,
        );
        const columnChunks = chunks.map((chunk, j) => writeChunk(group, chunk, payloads[j]!.codec, payloads[j]!.dictionary, payloads[j]!.values));
        // every encoded byte is copied or compressed by now
        free.push(buffers);
        rowGroups.push({
          columns: columnChunks,
          num_rows: BigInt(to - from),
          total_byte_size: columnChunks.reduce((sum, c) => sum + (c.meta_data?.total_uncompressed_size ?? 0n), 0n),
          total_compressed_size: BigInt(group.out.offset - offset),
        });
        offset = group.out.offset;
        for (const piece of group.finish()) await sink.write(piece);
      });
      pending.catch(() => undefined);
      return pending;
    };

    return {
      async append(batch: Readonly<Record<string, ColumnValues | ColumnRows>>, count: number) {
        checkBatch(columns, batch, count);
        for (let from = 0; from < count; from += ROW_GROUP_SIZE) {
          // one row group in flight: encoding the next one overlaps the previous one's compression
          const previous = pending;
          void writeGroup(batch, from, Math.min(count, from + ROW_GROUP_SIZE));
          await previous;
        }
        rows += count;
      },
      close: async () => {
        await pending;
        this.spare.push(...free.map((buffers) => new WeakRef(buffers)));
        free.length = 0;
        const out = new ByteWriter(1 << 16);
        out.offset = offset;
        // metadata_length is the reader's field: writeMetadata does not serialise it
        writeMetadata(out, { version: 2, created_by: 'clv-job', schema, num_rows: BigInt(rows), row_groups: rowGroups, metadata_length: 0 });
        out.appendUint32(0x31524150);
        await sink.write(out.getBytes().slice());
        await sink.close();
        return { rows, bytes: out.offset };
      },
    };
  }
}
