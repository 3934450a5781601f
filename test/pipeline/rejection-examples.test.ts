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

  it('notes an amount written with a decimal comma (12,50 or 1.234,56), naming the first such row and csv.decimalSeparator; not a thousands comma (1,234)', () => {
    const rows: Row[] = [
      ['a.csv', 4, 'invalid_amount'],
      ['a.csv', 3, 'invalid_amount'],
      ['a.csv', 2, 'invalid_amount'],
    ];
    const rejected = { rowCount: 3, columns: { ...rejectedOf(rows).columns, amount: ['1.234,56', ' 12,50 ', '1,234'] } };
    expect(rejectionExamples(countsOf(rows), rejected)[0]?.note).toBe(
      'a.csv:3 has amount "12,50", written with a decimal comma: set csv.decimalSeparator to "," (and csv.thousandsSeparator to "." when thousands are grouped) to read such amounts',
    );
    const thousands = rows.slice(2);
    expect(rejectionExamples(countsOf(thousands), { rowCount: 1, columns: { ...rejectedOf(thousands).columns, amount: ['1,234'] } })[0]).not.toHaveProperty('note');
  });

  it('notes an order date written day or month first, naming csv.dateFormat: day first when the first number is above 12, month first when the second is, else both', () => {
    const noteFor = (date: string) => {
      const rows: Row[] = [['a.csv', 2, 'invalid_order_date']];
      return rejectionExamples(countsOf(rows), { rowCount: 1, columns: { ...rejectedOf(rows).columns, order_date: [date] } })[0]?.note;
    };
    expect(noteFor('31/12/2024')).toBe('a.csv:2 has order_date "31/12/2024", not an ISO date (YYYY-MM-DD): set csv.dateFormat to the export\'s format, "%d/%m/%Y"');
    expect(noteFor('12.31.2024 10:00')).toMatch(/"%m\.%d\.%Y"$/);
    expect(noteFor('03-04-2024')).toMatch(/"%d-%m-%Y" or "%m-%d-%Y" \(day or month first: the export tells which\)$/);
    expect(noteFor('2024-13-01')).toBeUndefined();
  });

  it('gives a row whose engine cannot tell its record a file without a line', () => {
    const rows: Row[] = [['s3://bucket/x.csv', null, 'invalid_amount']];

    expect(rejectionExamples(countsOf(rows), rejectedOf(rows))[0]?.examples).toEqual([{ file: 's3://bucket/x.csv', line: null }]);
  });
});
