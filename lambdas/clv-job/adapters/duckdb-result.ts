import { DuckDBTypeId, JSDuckDBValueConverter, type DuckDBResult } from '@duckdb/node-api';
import type { ResultColumns } from '../ports.js';

/** What every vector offers: one value at a time (NULL as null). */
interface Vector {
  getItem(row: number): unknown;
}

/**
 * What @duckdb/node-api's vectors hold inside (version pinned in package.json): the chunk's values
 * as a typed array (`items`) or as 16-byte string_t slots (`dataView`), and a validity bitmap that
 * is null when every value is valid. Read directly, a million rows cost a memory copy instead of a
 * million getItem calls, each testing validity with BigInt arithmetic. A vector without this shape
 * is read through getItem.
 */
interface VectorInternals {
  readonly items?: unknown;
  readonly dataView?: unknown;
  readonly validity?: { readonly data?: unknown; readonly offset?: unknown };
}

/** The validity of rows [0, rows) as bytes (bit r of the little-endian words), or null when all are valid. */
const validityOf = (vector: Vector): Uint8Array | null | undefined => {
  const validity = (vector as VectorInternals).validity;
  if (validity === undefined || validity.offset !== 0) return undefined;
  if (validity.data === null) return null;
  return validity.data instanceof BigUint64Array ? new Uint8Array(validity.data.buffer, validity.data.byteOffset, validity.data.byteLength) : undefined;
};

const isValid = (bits: Uint8Array, row: number): boolean => ((bits[row >> 3]! >> (row & 7)) & 1) === 1;

/** One result column being filled chunk by chunk. */
interface ColumnBuilder {
  add(vector: Vector, rows: number): void;
  finish(): ArrayLike<unknown>;
}

type NumericArray = Int32Array | Float64Array;

/**
 * INTEGER and DOUBLE columns land in a typed array (no boxed number per value), as long as they
 * hold no NULL; from the first NULL on, the column continues as a plain array of numbers and nulls.
 */
const numericBuilder = (make: (length: number) => NumericArray, kind: typeof Int32Array | typeof Float64Array): ColumnBuilder => {
  let typed: NumericArray | null = make(2048);
  let plain: (number | null)[] | null = null;
  let length = 0;
  const toPlain = (): (number | null)[] => {
    plain = Array.from(typed!.subarray(0, length));
    typed = null;
    return plain;
  };
  return {
    add(vector, rows) {
      const items = (vector as VectorInternals).items;
      const bits = validityOf(vector);
      if (typed !== null && bits === null && items instanceof kind && items.length >= rows) {
        if (length + rows > typed.length) {
          const grown = make(Math.max(typed.length * 2, length + rows));
          grown.set(typed.subarray(0, length));
          typed = grown;
        }
        typed.set(items.subarray(0, rows), length);
        length += rows;
        return;
      }
      const fast = items instanceof kind && items.length >= rows && bits !== undefined;
      for (let r = 0; r < rows; r++) {
        const value = fast ? (bits === null || isValid(bits, r) ? (items as NumericArray)[r]! : null) : (vector.getItem(r) as number | null);
        if (typed !== null && value !== null) {
          if (length === typed.length) {
            const grown = make(typed.length * 2);
            grown.set(typed);
            typed = grown;
          }
          typed[length++] = value;
        } else {
          (plain ?? toPlain()).push(value);
          length += 1;
        }
      }
    },
    finish: () => plain ?? (typed!.length === length ? typed! : typed!.slice(0, length)),
  };
};

/** Inline strings (up to 12 bytes) seen in a column, by their 16-byte slot: a repeated value is one string. */
const INTERN_SLOTS = 1 << 12;
/** A column whose first this-many values barely repeat (identifiers) stops looking them up. */
const INTERN_PROBE = 8192;

/**
 * VARCHAR columns. A string of up to 12 bytes sits whole in its 16-byte slot (DuckDB zeroes the
 * unused bytes), so the slot identifies the value: repeated values (channels, cohorts) are found in
 * a small table by their slot's four words and share one string, without decoding; other values
 * are decoded from the slot's bytes. Longer strings go through getItem.
 */
const stringBuilder = (): ColumnBuilder => {
  const values: (string | null)[] = [];
  const words = new Uint32Array(INTERN_SLOTS * 4);
  const strings: (string | undefined)[] = new Array(INTERN_SLOTS);
  let interning = true;
  let hits = 0;
  return {
    add(vector, rows) {
      const view = (vector as VectorInternals).dataView;
      const bits = validityOf(vector);
      if (!(view instanceof DataView) || bits === undefined || view.byteLength < rows * 16) {
        for (let r = 0; r < rows; r++) values.push(vector.getItem(r) as string | null);
        return;
      }
      const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      for (let r = 0; r < rows; r++) {
        if (bits !== null && !isValid(bits, r)) {
          values.push(null);
          continue;
        }
        const at = r * 16;
        const length = view.getUint32(at, true);
        if (length > 12) {
          values.push(vector.getItem(r) as string);
          continue;
        }
        if (!interning) {
          values.push(bytes.toString('utf8', at + 4, at + 4 + length));
          continue;
        }
        const w1 = view.getUint32(at + 4, true);
        const w2 = view.getUint32(at + 8, true);
        const w3 = view.getUint32(at + 12, true);
        const slot = (Math.imul(length ^ w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w3, 0xc2b2ae35)) >>> 20;
        const k = slot * 4;
        let value = strings[slot];
        if (value !== undefined && words[k] === length && words[k + 1] === w1 && words[k + 2] === w2 && words[k + 3] === w3) {
          hits += 1;
        } else {
          value = bytes.toString('utf8', at + 4, at + 4 + length);
          strings[slot] = value;
          words[k] = length;
          words[k + 1] = w1;
          words[k + 2] = w2;
          words[k + 3] = w3;
        }
        values.push(value);
        if (values.length === INTERN_PROBE && hits < INTERN_PROBE / 2) interning = false;
      }
    },
    finish: () => values,
  };
};

/** Any other type, as @duckdb/node-api's JS conversion gives it. */
const valueBuilder = (convert: (value: unknown) => unknown): ColumnBuilder => {
  const values: unknown[] = [];
  return {
    add(vector, rows) {
      for (let r = 0; r < rows; r++) values.push(convert(vector.getItem(r)));
    },
    finish: () => values,
  };
};

/**
 * Reads a (streaming) result chunk by chunk into columns, so a million-row result never exists as
 * a million row objects or boxed numbers: INTEGER and DOUBLE columns without NULLs become Int32Array
 * and Float64Array, VARCHAR columns arrays of strings (repeated short values shared), anything else
 * what @duckdb/node-api's JS conversion gives (BIGINT as bigint). Names as DuckDB gives them.
 */
export const readResultColumns = async (result: DuckDBResult): Promise<ResultColumns> => {
  const names = result.deduplicatedColumnNames();
  const builders = names.map((_, c): ColumnBuilder => {
    const type = result.columnType(c);
    switch (result.columnTypeId(c)) {
      case DuckDBTypeId.INTEGER:
        return numericBuilder((n) => new Int32Array(n), Int32Array);
      case DuckDBTypeId.DOUBLE:
        return numericBuilder((n) => new Float64Array(n), Float64Array);
      case DuckDBTypeId.VARCHAR:
        return stringBuilder();
      default:
        return valueBuilder((value) => (value === null ? null : JSDuckDBValueConverter(value as never, type, JSDuckDBValueConverter)));
    }
  });
  let rowCount = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    for (let c = 0; c < builders.length; c++) builders[c]!.add(chunk.getColumnVector(c), rows);
    rowCount += rows;
  }
  return { rowCount, columns: Object.fromEntries(names.map((name, c) => [name, builders[c]!.finish()])) };
};
