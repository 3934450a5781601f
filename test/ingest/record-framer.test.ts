import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRIMMED_CHARACTERS } from '../../lambdas/clv-job/domain/trimmed-text.js';
import { RecordFramer, type MalformedProblem } from '../../lambdas/clv-job/ingest/record-framer.js';

type Framed = { line: number; text: string; needsTrim: boolean } | { line: number; raw: string; bytes: number; problem: MalformedProblem };

const TRIMMED = [' ', '\t', '\r', '\n', '\u00a0', '\ufeff'];

/** Frames `input`, fed in the given chunk sizes (cycled), into records and malformed records in order. */
const frame = (input: string | Buffer, chunkSizes: readonly number[] = [1 << 16], maxRecordBytes?: number): { out: Framed[]; framer: RecordFramer } => {
  const out: Framed[] = [];
  const framer = new RecordFramer({
    delimiter: 0x2c,
    ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }),
    rawTextBytes: 64,
    trimmedCharacters: TRIMMED,
    record: (line, data, start, end, needsTrim) => out.push({ line, text: data.toString('utf8', start, end), needsTrim }),
    malformed: (line, raw, bytes, problem) => out.push({ line, raw: raw.toString('utf8'), bytes, problem }),
  });
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
    framer.push(bytes.subarray(at, at + size));
    at += size;
  }
  framer.end();
  return { out, framer };
};

/** The records and malformed records, without the trimming hint. */
const framed = (input: string | Buffer, chunkSizes?: readonly number[], maxRecordBytes?: number) =>
  frame(input, chunkSizes, maxRecordBytes).out.map((r) => {
    if (!('text' in r)) return r;
    const { needsTrim: _, ...rest } = r;
    return rest;
  });

describe('RecordFramer: records and the physical line each starts on', () => {
  it.each([
    ['LF and CRLF mixed, a final line without an ending', 'h\na,b\r\nc,d\ne', [{ line: 1, text: 'h' }, { line: 2, text: 'a,b' }, { line: 3, text: 'c,d' }, { line: 4, text: 'e' }]],
    ['a quoted line break and a doubled quote stay inside the record', 'h\n"x\ny","say ""hi"""\nz\n', [{ line: 1, text: 'h' }, { line: 2, text: '"x\ny","say ""hi"""' }, { line: 4, text: 'z' }]],
    ['blank lines (LF or CRLF) are skipped, not records', 'h\n\n\r\na\n', [{ line: 1, text: 'h' }, { line: 4, text: 'a' }]],
    ['a quote inside an unquoted field is a literal, as DuckDB reads it', 'h\nab"c,d\n', [{ line: 1, text: 'h' }, { line: 2, text: 'ab"c,d' }]],
    ['a CRLF file whose last line kept its CR and lost its LF: the CR ends the line', 'h\r\na,b\r\nc,d\r', [{ line: 1, text: 'h' }, { line: 2, text: 'a,b' }, { line: 3, text: 'c,d' }]],
    ['the same after a quoted field', 'h\r\na,"b"\r', [{ line: 1, text: 'h' }, { line: 2, text: 'a,"b"' }]],
  ])('%s', (_, input, expected) => {
    expect(framed(input)).toEqual(expected);
    // however the bytes arrive: the CR is last in its chunk either way
    expect(framed(input, [1])).toEqual(expected);
  });

  it('counts blank lines and both line endings', () => {
    const { framer } = frame('h\r\n\na\r\nb\nc');
    expect(framer.statistics).toEqual({ lines: 5, blankLines: 1, crlfLines: 2, lfLines: 2 });
  });
});

describe('RecordFramer: a broken record costs one malformed row, never the rest of the file', () => {
  it('text after a closing quote: malformed up to the end of its line', () => {
    expect(framed('h\n1,"we"b,2\n3\n')).toEqual([
      { line: 1, text: 'h' },
      { line: 2, raw: '1,"we"b,2', bytes: 9, problem: 'text_after_closing_quote' },
      { line: 3, text: '3' },
    ]);
  });

  it('a quote left open to the end of the file: only its first line is malformed, the lines after it are read', () => {
    expect(framed('h\n1,"open\n2,x\n3,y\n')).toEqual([
      { line: 1, text: 'h' },
      { line: 2, raw: '1,"open', bytes: 7, problem: 'unterminated_quote' },
      { line: 3, text: '2,x' },
      { line: 4, text: '3,y' },
    ]);
  });

  it('a fault on the second line of a multi-line record: the first line is malformed, reading resumes on the second', () => {
    expect(framed('h\n1,"a\nb"c,2\n3\n')).toEqual([
      { line: 1, text: 'h' },
      { line: 2, raw: '1,"a', bytes: 4, problem: 'text_after_closing_quote' },
      // read again on its own, `b"c` is an unquoted field with a literal quote
      { line: 3, text: 'b"c,2' },
      { line: 4, text: '3' },
    ]);
  });

  it('a bare carriage return outside quotes: malformed, as DuckDB would fail the whole file on it', () => {
    expect(framed('h\na\rb,c\nd\n')).toEqual([
      { line: 1, text: 'h' },
      { line: 2, raw: 'a\rb,c', bytes: 5, problem: 'stray_carriage_return' },
      { line: 3, text: 'd' },
    ]);
  });

  it('a record longer than the limit is skipped to its end without being held, its raw text capped', () => {
    const huge = 'x'.repeat(300_000);
    const out = framed(`h\n1,"${huge}\nstill quoted",2\n3\n`, [4096], 100_000);
    expect(out).toEqual([
      { line: 1, text: 'h' },
      { line: 2, raw: `1,"${'x'.repeat(61)}`, bytes: 3 + huge.length + 1 + 'still quoted",2'.length, problem: 'record_too_long' },
      { line: 4, text: '3' },
    ]);
  });
});

describe('RecordFramer: a stray quote that a later quote closes, once the header says how many fields a record has', () => {
  /** Frames `input` as an export of `fields` columns: records after the header must have that many fields. */
  const frameAs = (fields: number, input: string, chunkSizes: readonly number[] = [1 << 16]) => {
    const out: { line: number; text?: string; raw?: string; problem?: MalformedProblem }[] = [];
    const framer = new RecordFramer({
      delimiter: 0x2c,
      trimmedCharacters: TRIMMED_CHARACTERS,
      record: (line, data, start, end) => {
        out.push({ line, text: data.toString('utf8', start, end) });
        framer.expectFields = fields;
      },
      malformed: (line, raw, _bytes, problem) => out.push({ line, raw: raw.toString('utf8'), problem }),
    });
    const bytes = Buffer.from(input);
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = chunkSizes[i % chunkSizes.length]!;
      framer.push(bytes.subarray(at, at + size));
      at += size;
    }
    framer.end();
    return { out, framer };
  };
  const framedAs = (fields: number, input: string, chunkSizes?: readonly number[]) => frameAs(fields, input, chunkSizes).out;
  const HEADER = 'order_id,customer_id,order_date,amount,product,status';

  it('an inch mark in the same column lines later does not swallow the orders between: the first line is malformed, the rest are read', () => {
    const input = [
      HEADER,
      'A1,C1,2025-01-05,10.00,"Gift card,completed',
      'A2,C2,2025-01-06,20.00,Mug,completed',
      'A3,C3,2025-01-07,30.00,Lamp,completed',
      'A4,C4,2025-01-08,40.00,Monitor 27",completed',
      'A5,C5,2025-01-09,50.00,Pen,completed',
      '',
    ].join('\n');
    const expected = [
      { line: 1, text: HEADER },
      { line: 2, raw: 'A1,C1,2025-01-05,10.00,"Gift card,completed', problem: 'unterminated_quote' },
      { line: 3, text: 'A2,C2,2025-01-06,20.00,Mug,completed' },
      { line: 4, text: 'A3,C3,2025-01-07,30.00,Lamp,completed' },
      // read again on its own, the quote is a literal inside an unquoted field
      { line: 5, text: 'A4,C4,2025-01-08,40.00,Monitor 27",completed' },
      { line: 6, text: 'A5,C5,2025-01-09,50.00,Pen,completed' },
    ];
    expect(framedAs(6, input)).toEqual(expected);
    for (const size of [1, 7, 50]) expect(framedAs(6, input, [size])).toEqual(expected);
  });

  it('an inch mark on the very next line: that line\'s order is read, not swallowed into the stray quote\'s field', () => {
    const input = [HEADER, 'A1,C1,2025-01-05,10.00,"Gift card,completed', 'A2,C2,2025-01-06,20.00,Monitor 27",completed', 'A3,C3,2025-01-07,30.00,Pen,completed', ''].join('\n');
    expect(framedAs(6, input)).toEqual([
      { line: 1, text: HEADER },
      { line: 2, raw: 'A1,C1,2025-01-05,10.00,"Gift card,completed', problem: 'unterminated_quote' },
      { line: 3, text: 'A2,C2,2025-01-06,20.00,Monitor 27",completed' },
      { line: 4, text: 'A3,C3,2025-01-07,30.00,Pen,completed' },
    ]);
  });

  it('a stray quote in the second column (the header maps columns by name: free text may come early) does not merge two orders', () => {
    const header = 'order_id,product,customer_id,order_date,amount,channel';
    const input = [header, '1001,"Gift card,C1,2024-01-01,10,web', '1002,Monitor 27",C2,2024-01-02,20,web', '1003,Cable,C3,2024-01-03,30,web', ''].join('\n');
    expect(framedAs(6, input)).toEqual([
      { line: 1, text: header },
      { line: 2, raw: '1001,"Gift card,C1,2024-01-01,10,web', problem: 'unterminated_quote' },
      { line: 3, text: '1002,Monitor 27",C2,2024-01-02,20,web' },
      { line: 4, text: '1003,Cable,C3,2024-01-03,30,web' },
    ]);
  });

  it('a stray quote in the first column likewise: any quote on a later line ends it', () => {
    const header = 'note,order_id,customer_id,order_date,amount,channel';
    const input = [header, '"gift,1001,C1,2024-01-01,10,web', 'wrap",1002,C2,2024-01-02,20,web', ''].join('\n');
    expect(framedAs(6, input)).toEqual([
      { line: 1, text: header },
      { line: 2, raw: '"gift,1001,C1,2024-01-01,10,web', problem: 'unterminated_quote' },
      { line: 3, text: 'wrap",1002,C2,2024-01-02,20,web' },
    ]);
  });

  it('a genuine multi-line note in the first or second column, even with a delimiter before its closing quote, stays one record', () => {
    const second = ['order_id,note,customer_id,order_date,amount', '1001,"Deliver to back door', 'ring twice, then wait",C1,2025-01-02,10.00', '1002,Pen,C2,2025-01-03,5.00', ''].join('\n');
    expect(framedAs(5, second)).toEqual([
      { line: 1, text: 'order_id,note,customer_id,order_date,amount' },
      { line: 2, text: '1001,"Deliver to back door\nring twice, then wait",C1,2025-01-02,10.00' },
      { line: 4, text: '1002,Pen,C2,2025-01-03,5.00' },
    ]);
    const first = ['note,order_id,customer_id,order_date,amount', '"Leave at door', 'thanks, ""bye""",1001,C1,2025-01-02,10', ''].join('\n');
    expect(framedAs(5, first)).toEqual([
      { line: 1, text: 'note,order_id,customer_id,order_date,amount' },
      { line: 2, text: '"Leave at door\nthanks, ""bye""",1001,C1,2025-01-02,10' },
    ]);
  });

  it('a multi-line record with another number of fields than the header\'s: its first line is malformed, reading resumes on the next', () => {
    const input = [HEADER, 'A1,C1,2025-01-05,10.00,"Gift card,completed', 'A2,C2,2025-01-06,20.00,Mug,completed', 'A3,C3,2025-01-09,50.00,Monitor 27"', 'A4,C4,2025-01-10,5.00,Pen,completed'].join('\n');
    expect(framedAs(6, input)).toEqual([
      { line: 1, text: HEADER },
      { line: 2, raw: 'A1,C1,2025-01-05,10.00,"Gift card,completed', problem: 'wrong_field_count' },
      { line: 3, text: 'A2,C2,2025-01-06,20.00,Mug,completed' },
      { line: 4, raw: 'A3,C3,2025-01-09,50.00,Monitor 27"', problem: 'wrong_field_count' },
      { line: 5, text: 'A4,C4,2025-01-10,5.00,Pen,completed' },
    ]);
  });

  it('a record holding a control character (a NUL, an escape) is malformed; a tab or a form feed is text', () => {
    const input = `${HEADER}\nA1,C0000\u0000X,2025-01-05,10.00,Mug,completed\nA2,C2,2025-01-06,\u001b[31m20,Pen,completed\nA3,C3,2025-01-07,30.00,Tab\there\fok,completed\n`;
    expect(framedAs(6, input)).toEqual([
      { line: 1, text: HEADER },
      { line: 2, raw: 'A1,C0000\u0000X,2025-01-05,10.00,Mug,completed', problem: 'control_character' },
      { line: 3, raw: 'A2,C2,2025-01-06,\u001b[31m20,Pen,completed', problem: 'control_character' },
      { line: 4, text: 'A3,C3,2025-01-07,30.00,Tab\there\fok,completed' },
    ]);
    // in a quoted field too
    expect(framedAs(6, `${HEADER}\nA1,C1,2025-01-05,10.00,"Mu\u0000g",completed\n`)[1]).toMatchObject({ problem: 'control_character' });
  });

  it("a line of delimiters alone (Excel's cleared row) is blank, not a record without an order id", () => {
    const { framer, out } = frameAs(6, `${HEADER}\r\nA1,C1,2025-01-05,10.00,Mug,completed\r\n,,,,,\r\n,,,\r\nA2,C2,2025-01-06,20.00,Pen,completed\r\n,,,,,`);
    expect(out).toEqual([
      { line: 1, text: HEADER },
      { line: 2, text: 'A1,C1,2025-01-05,10.00,Mug,completed' },
      { line: 5, text: 'A2,C2,2025-01-06,20.00,Pen,completed' },
    ]);
    expect(framer.statistics.blankLines).toBe(3);
  });

  it('a record whose every field is empty once trimmed (spaces, a tab, a no-break space, quoted empty fields) is blank too; one with text is not', () => {
    const empties = ['      ', '\t', '\u00a0\u00a0', '"","","","","",""', ' "" , "" ,,,"",', ', , , , , ', '"  ",,,,,', '"\t", " \u00a0 ",,,,'];
    const { framer, out } = frameAs(6, [HEADER, 'A1,C1,2025-01-05,10.00,Mug,completed', ...empties, '"",C2,2025-01-06,20.00,Pen,completed', ',,,,,x', '"""",,,,,', '" x ",,,,,'].join('\n'));
    expect(out).toEqual([
      { line: 1, text: HEADER },
      { line: 2, text: 'A1,C1,2025-01-05,10.00,Mug,completed' },
      { line: 11, text: '"",C2,2025-01-06,20.00,Pen,completed' },
      { line: 12, text: ',,,,,x' },
      { line: 13, text: '"""",,,,,' },
      { line: 14, text: '" x ",,,,,' },
    ]);
    expect(framer.statistics.blankLines).toBe(empties.length);
  });

  it('a real multi-line field stays one record: its inner lines do not look like records, or hold a quote', () => {
    const note = '"ship to:\nBaker Street 221b, London\nring twice, then ""knock"", then wait, then leave, then go"';
    const input = `${HEADER}\nA1,C1,2025-01-05,10.00,${note},completed\nA2,C2,2025-01-06,20.00,Mug,completed\n`;
    expect(framedAs(6, input)).toEqual([
      { line: 1, text: HEADER },
      { line: 2, text: `A1,C1,2025-01-05,10.00,${note},completed` },
      { line: 5, text: 'A2,C2,2025-01-06,20.00,Mug,completed' },
    ]);
  });
});

describe('RecordFramer: chunk boundaries never change the result', () => {
  it('a quoted multi-line record over the limit is one record too long, also when the next chunk\'s first line takes it over the limit', () => {
    // 1000-byte chunks: the first ends inside the 1,400-byte line, 998 bytes of the record held;
    // the next chunk's first line feed lies 505 bytes on, beyond the limit, and the record ends 4 bytes later
    const long = 'z'.repeat(1400);
    const input = `h\n1,"${'z'.repeat(99)}\n${long}\n",2\n3,4\n`;
    const record = `1,"${'z'.repeat(99)}\n${long}\n",2`;
    const expected = [
      { line: 1, text: 'h' },
      { line: 2, raw: record.slice(0, 64), bytes: record.length, problem: 'record_too_long' },
      { line: 5, text: '3,4' },
    ];
    expect(framed(input, [1000], 1000)).toEqual(expected);
    expect(framed(input, [1 << 16], 1000)).toEqual(expected);
  });

  const pieces = ['a', 'b,c', '"q,\n"', '""', '"x"y', '\r', '\n', '\r\n', ',', '"', 'é', '\n\n'];
  it('gives the same records and malformed records whatever the chunk sizes (a CR split from its LF included)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), (parts, sizes) => {
        const input = `h\n${parts.join('')}`;
        expect(framed(input, sizes)).toEqual(framed(input));
      }),
      { numRuns: 300 },
    );
  });
});

describe('RecordFramer: the trimming hint', () => {
  // plain pieces outnumber the quoting ones, so that many records take the framer's fast path
  const pieces = ['a', 'b', 'c', 'd', ',', ',', ',', ' ', '\t', '\u00a0', '\ufeff', 'é', '\r\n', '\n', '"', '""', '"q, r"', '" s "', '\r', 'x"y'];
  it('calls a record clean (needsTrim false) only when no field starts or ends with a trimmed character', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces), { minLength: 10, maxLength: 80, size: 'max' }),
        // whole files too: a record split across chunks is always marked, which would hide a miss
        fc.oneof(fc.constant([1 << 16]), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 })),
        (parts, sizes) => {
          const input = `h\n${parts.join('')}\n`;
          for (const record of frame(input, sizes).out) {
            if (!('text' in record) || record.needsTrim) continue;
            // an independent reader splits the record into fields (a quote inside an unquoted field is a literal)
            const [fields = []] = parse(record.text, { relax_quotes: true, relax_column_count: true }) as string[][];
            for (const field of fields) {
              expect(TRIMMED.some((c) => field.startsWith(c) || field.endsWith(c)), `field ${JSON.stringify(field)} of ${JSON.stringify(record.text)}`).toBe(false);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('lets the plain rows of an export through as clean, and marks the ones with padded fields', () => {
    const out = frame('h\r\nO1,C1,2025-01-05,12.50\r\nO2, C2,2025-01-06,3\r\nO3,C3\u00a0,2025-01-07,4\r\n').out;
    expect(out.map((r) => ('text' in r ? r.needsTrim : null))).toEqual([false, false, true, true]);
  });
});
