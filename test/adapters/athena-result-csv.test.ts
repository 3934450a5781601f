import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAthenaCsv } from '../../lambdas/clv-job/adapters/athena-result-csv.js';

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
});
