import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAthenaCsv } from '../../lambdas/clv-job/adapters/athena-result-csv.js';
import { RESULT_NUMBER_COLUMNS } from '../../lambdas/clv-job/pipeline/engine-results.js';
import { decodeBgNbdPatterns, decodeCustomers, decodeSpendPatterns } from '../../lambdas/clv-job/pipeline/engine-results.js';
import type { ResultColumns } from '../../lambdas/clv-job/ports.js';

/** A result file as Athena writes it: every value quoted, NULL as an empty unquoted field. */
const athenaCsv = (header: readonly string[], rows: readonly (readonly (string | null)[])[], eol: string): string =>
  [header, ...rows].map((r) => r.map((v) => (v === null ? '' : `"${v.replaceAll('"', '""')}"`)).join(',')).join(eol) + eol;

/** The same bytes cut into chunks at the given points, as S3 streams them. */
const chunked = (text: string, cuts: readonly number[]): Readable => {
  const bytes = Buffer.from(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return Readable.from(pieces.filter((p) => p.length > 0));
};

const value = fc.oneof(
  fc.constant(null),
  fc.constant(''),
  fc.string({ unit: fc.constantFrom('a', '1', ',', '"', '\n', '\r\n', ' ', 'é', '東', '😀', '.') , maxLength: 12 }),
);

describe('reading an Athena result file, streaming', () => {
  it('reads what csv-parse reads, NULL apart from the empty string, however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((width) =>
          fc.tuple(
            fc.array(fc.string({ maxLength: 5 }).map((s) => `h${s}`), { minLength: width, maxLength: width }),
            fc.array(fc.array(value, { minLength: width, maxLength: width }), { maxLength: 20 }),
            fc.constantFrom('\n', '\r\n'),
            fc.array(fc.nat(), { maxLength: 8 }),
          ),
        ),
        async ([header, rows, eol, cuts]) => {
          const text = athenaCsv(header, rows, eol);
          const oracle = parse(text, { cast: (v, context) => (v === '' && !context.quoting ? null : v) }) as (string | null)[][];

          const result = await parseAthenaCsv(chunked(text, cuts));

          expect(result.rowCount).toBe(oracle.length - 1);
          expect(Object.keys(result.columns)).toEqual(header.filter((h, i) => header.indexOf(h) === i));
          oracle[0]!.forEach((name, c) => {
            if (header.lastIndexOf(name!) !== c) return; // a repeated header name keeps its last column, as before
            expect(Array.from(result.columns[name!]!)).toEqual(oracle.slice(1).map((r) => r[c]));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skips a byte order mark and reads a last line without its line break', async () => {
    const result = await parseAthenaCsv(Readable.from([Buffer.from('\ufeff"a","b"\n"1",\n"2","x"')]));

    expect(result).toEqual({ rowCount: 2, columns: { a: ['1', '2'], b: [null, 'x'] } });
  });

  it('keeps one copy of a repeated value, so a low-cardinality column costs pointers', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => [i % 2 ? 'email' : 'search']);
    const result = await parseAthenaCsv(Readable.from([athenaCsv(['channel'], rows, '\n')]));
    const channels = result.columns.channel as string[];

    expect(channels.filter((c) => c === 'email')).toHaveLength(5_000);
    expect(new Set(channels).size).toBe(2);
  });

  it.each([
    ['a record with a missing field', '"a","b"\n"1"\n', /record 2: 1 fields where the header has 2/],
    ['a quoted value that is never closed', '"a"\n"1\n', /quoted value is not closed/],
    ['text after a closing quote', '"a"\n"1"x\n', /unexpected text after a quoted value/],
  ])('fails clearly on %s', async (_, text, message) => {
    await expect(parseAthenaCsv(Readable.from([text]))).rejects.toThrow(message);
  });

  it('keeps the number columns it is told of in typed arrays, the others as text', async () => {
    const text = athenaCsv(['id', 'n', 'x'], [['7', '1', '2.5'], ['8', '-3', '1e3'], ['9', '0', '-0']], '\n');

    const result = await parseAthenaCsv(chunked(text, [9, 20]), { n: 'int32', x: 'float64' });

    expect(result.columns.id).toEqual(['7', '8', '9']);
    expect(result.columns.n).toEqual(Int32Array.of(1, -3, 0));
    expect(result.columns.x).toEqual(Float64Array.of(2.5, 1000, -0));
  });

  it('keeps a long number column in order, typed or, from a value it cannot hold, as numbers then text', async () => {
    const rows = 70_000; // past many a growth of the typed arrays
    const text = athenaCsv(['n', 'x'], Array.from({ length: rows }, (_, i) => [String(i - 7), i === rows - 3 ? 'n/a' : `${i}.5`]), '\n');

    const result = await parseAthenaCsv(chunked(text, [1 << 16, 1 << 20]), { n: 'int32', x: 'float64' });

    expect(result.columns.n).toEqual(Int32Array.from({ length: rows }, (_, i) => i - 7));
    expect(result.columns.x).toEqual(Array.from({ length: rows }, (_, i) => (i < rows - 3 ? i + 0.5 : i === rows - 3 ? 'n/a' : `${i}.5`)));
  });

  it('keeps a number column as text from its first value a typed array cannot hold as the decoders would read it', async () => {
    const text = athenaCsv(['n'], [['1'], ['2147483648'], ['3']], '\n');

    const result = await parseAthenaCsv(Readable.from([text]), { n: 'int32' });

    expect(result.columns.n).toEqual([1, '2147483648', '3']);
  });
});

/** What a decoder makes of a result: its value, or the message it fails with. */
const outcome = <T>(decode: (result: ResultColumns) => T, result: ResultColumns): { value: T } | { error: string } => {
  try {
    return { value: decode(result) };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

/** Texts of number columns: mostly valid, and every kind of text a typed array must not take as a number. */
const numberText = (valid: fc.Arbitrary<string>): fc.Arbitrary<string | null> =>
  fc.oneof(
    { weight: 20, arbitrary: valid },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(null, '', ' ', '-0', '1e3', '0x10', ' 7 ', '2147483647', '2147483648', '-2147483649', '1.5', 'NaN', 'Infinity', 'abc', '9007199254740993'),
        fc.double().map(String),
        fc.integer().map(String),
      ),
    },
  );

describe('number columns read into typed arrays', () => {
  const int = (max: number) => fc.integer({ min: 0, max }).map(String);
  const money = fc.double({ min: 0, max: 1e6, noNaN: true }).map(String);
  const decoded: { query: 'customers' | 'bgnbdPatterns' | 'spendPatterns'; decode: (result: ResultColumns) => unknown; header: string[]; row: fc.Arbitrary<(string | null)[]> }[] = [
    {
      query: 'customers',
      decode: decodeCustomers,
      header: ['customer_id', 'first_order_day', 'last_order_day', 'acquisition_channel', 'cohort', 'orders', 'frequency', 'recency_days', 'tenure_days', 'total_revenue', 'monetary_value', 'avg_order_value'],
      row: fc.tuple(fc.constantFrom('C1', 'C2'), int(20_000), int(20_000), fc.constantFrom(null, 'email'), fc.constantFrom('2025-01'), int(9), int(5), fc.constant('0'), int(400), money, money, money),
    },
    { query: 'bgnbdPatterns', decode: decodeBgNbdPatterns, header: ['frequency', 'recency_days', 'tenure_days', 'customers'], row: fc.tuple(int(5), int(50), int(400), int(1000)) },
    { query: 'spendPatterns', decode: decodeSpendPatterns, header: ['frequency', 'monetary_value', 'customers'], row: fc.tuple(int(5), money, int(1000)) },
  ];

  it.each(decoded)('give the pipeline what it decodes from their text, or fail the same way ($query)', async ({ query, decode, header, row }) => {
    const numbers = RESULT_NUMBER_COLUMNS[query]!;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          row.chain((values) =>
            fc.tuple(...values.map((v, c) => (Object.hasOwn(numbers, header[c]!) ? numberText(fc.constant(v!)) : fc.constant(v)))),
          ),
          { maxLength: 12 },
        ),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (rows, cuts) => {
          const text = athenaCsv(header, rows, '\n');

          const asText = await parseAthenaCsv(chunked(text, cuts));
          const asNumbers = await parseAthenaCsv(chunked(text, cuts), numbers);

          expect(outcome(decode, asNumbers)).toEqual(outcome(decode, asText));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('are typed arrays for a clean result', async () => {
    const text = athenaCsv(['frequency', 'monetary_value', 'customers'], [['1', '2.5', '3']], '\n');

    const result = await parseAthenaCsv(Readable.from([text]), RESULT_NUMBER_COLUMNS.spendPatterns);

    expect(result.columns).toEqual({ frequency: Int32Array.of(1), monetary_value: Float64Array.of(2.5), customers: Int32Array.of(3) });
  });
});
