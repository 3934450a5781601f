import { describe, expect, it } from 'vitest';
import { REJECTION_REASONS } from '../../lambdas/clv-job/domain/outcomes.js';
import { rejectionExamples } from '../../lambdas/clv-job/pipeline/rejection-examples.js';
import type { CountsSection } from '../../lambdas/clv-job/schemas/summary-run.js';

type Row = [file: string, sourceRow: number | null, reason: string];

const rejectedOf = (rows: readonly Row[]) => ({
  rowCount: rows.length,
  columns: { source_file: rows.map((r) => r[0]), source_row: rows.map((r) => r[1]), reason: rows.map((r) => r[2]) },
});

const countsOf = (rows: readonly Row[]): CountsSection => {
  const byReason = Object.fromEntries(REJECTION_REASONS.map((r) => [r, rows.filter((x) => x[2] === r).length])) as CountsSection['rejected_by_reason'];
  return { input_rows: rows.length, accepted_orders: 0, duplicate_orders: 0, non_purchase_orders: 0, rejected_rows: rows.length, rejected_by_reason: byReason, conflicting_duplicates: 0, customers: 0 };
};

describe('rejectionExamples', () => {
  it('lists the reasons with rows, most rows first, ties in the contract order, with the first three rows by file and line', () => {
    const rows: Row[] = [
      ['b.csv', 5, 'invalid_amount'],
      ['a.csv', 4, 'invalid_amount'],
      ['a.csv', 3, 'invalid_order_date'],
      ['b.csv', 2, 'invalid_amount'],
      ['a.csv', 2, 'invalid_amount'],
      ['b.csv', 6, 'missing_order_id'],
    ];

    const result = rejectionExamples(countsOf(rows), rejectedOf(rows));

    expect(result).toEqual([
      { reason: 'invalid_amount', rows: 4, examples: [{ file: 'a.csv', line: 2 }, { file: 'a.csv', line: 4 }, { file: 'b.csv', line: 2 }] },
      { reason: 'missing_order_id', rows: 1, examples: [{ file: 'b.csv', line: 6 }] },
      { reason: 'invalid_order_date', rows: 1, examples: [{ file: 'a.csv', line: 3 }] },
    ]);
  });

  it('notes no short year for an implausible date written with four digits (a placeholder such as 1900-01-01)', () => {
    const rows: Row[] = [['a.csv', 2, 'implausible_order_date']];
    const rejected = { rowCount: 1, columns: { ...rejectedOf(rows).columns, order_date: ['1900-01-01'] } };
    expect(rejectionExamples(countsOf(rows), rejected)[0]).not.toHaveProperty('note');
  });

  it('notes a malformed row read with undecodable bytes (U+FFFD in its raw line) as not UTF-8, naming the first such row and the conversion', () => {
    const rows: Row[] = [
      ['b.csv', 2, 'malformed_row'],
      ['a.csv', 3, 'malformed_row'],
      ['a.csv', 2, 'malformed_row'],
    ];
    const rejected = { rowCount: 3, columns: { ...rejectedOf(rows).columns, raw_line: ['B1,Jos\uFFFD,2025-01-05,1', 'A2,Ren\uFFFDe,2025-01-06,2', 'A1,"open,2025-01-05,3'] } };
    const [malformed] = rejectionExamples(countsOf(rows), rejected);
    expect(malformed?.note).toMatch(/^a\.csv:3 holds bytes that are not UTF-8 .*Windows-1252.*iconv -f WINDOWS-1252 -t UTF-8/);
    // a malformed row of valid text (a stray quote) gets no such note
    const oneRow = rows.slice(2);
    expect(rejectionExamples(countsOf(oneRow), { rowCount: 1, columns: { ...rejectedOf(oneRow).columns, raw_line: ['A1,"open,2025-01-05,3'] } })[0]).not.toHaveProperty('note');
  });

  it('notes an amount written with a decimal comma (12,50 or 1.234,56), naming the first such row and the settings that read it; not a thousands comma (1,234)', () => {
    const rows: Row[] = [
      ['a.csv', 4, 'invalid_amount'],
      ['a.csv', 3, 'invalid_amount'],
      ['a.csv', 2, 'invalid_amount'],
    ];
    const noteOf = (amounts: string[]) => rejectionExamples(countsOf(rows), { rowCount: 3, columns: { ...rejectedOf(rows).columns, amount: amounts } })[0]?.note;
    expect(noteOf(['1.234,56', ' 12,50 ', '1,234'])).toBe('a.csv:3 has amount "12,50", written with a decimal comma: csv.decimalSeparator "," reads it');
    // with "," already set, such an amount fails on its thousands: the note names that setting too
    expect(noteOf(['1.234,56', 'x', '1,234'])).toBe('a.csv:4 has amount "1.234,56", written with a decimal comma: csv.decimalSeparator "," reads it, with csv.thousandsSeparator "." for its thousands');
    expect(noteOf(['1,234', '1,234', '1,234'])).toBeUndefined();
  });

  it('notes an order date written day or month first with the csv.dateFormat that reads it: day first when only that is a day of the calendar, month first likewise, else both; none for a day of neither (31/02)', () => {
    const noteFor = (date: string) => {
      const rows: Row[] = [['a.csv', 2, 'invalid_order_date']];
      return rejectionExamples(countsOf(rows), { rowCount: 1, columns: { ...rejectedOf(rows).columns, order_date: [date] } })[0]?.note;
    };
    expect(noteFor('31/12/2024')).toBe('a.csv:2 has order_date "31/12/2024", written with the day and the month before the year: csv.dateFormat "%d/%m/%Y" reads it');
    expect(noteFor('12.31.2024 10:00')).toMatch(/: csv\.dateFormat "%m\.%d\.%Y" reads it$/);
    expect(noteFor('03-04-2024')).toMatch(/: csv\.dateFormat "%d-%m-%Y" reads it day first, "%m-%d-%Y" month first \(the export tells which\)$/);
    expect(noteFor('29/02/2023')).toBeUndefined();
    expect(noteFor('31/02/2024')).toBeUndefined();
    expect(noteFor('2024-13-01')).toBeUndefined();
  });

  it('gives a row whose engine cannot tell its record a file without a line', () => {
    const rows: Row[] = [['s3://bucket/x.csv', null, 'invalid_amount']];

    expect(rejectionExamples(countsOf(rows), rejectedOf(rows))[0]?.examples).toEqual([{ file: 's3://bucket/x.csv', line: null }]);
  });
});
