import { describe, expect, it } from 'vitest';
import { judgeSpend as judgeSpendIn, type SpendRecord } from '../../../lambdas/clv-job/domain/acquisition/spend.js';

/** A run as of a day in 2025-06 whose earliest customer was acquired in 2024-01. */
const WINDOW = { asOfMonth: '2025-06', firstOrderMonth: '2024-01' };
const judgeSpend = (records: readonly SpendRecord[]) => judgeSpendIn(records, WINDOW);

const record = (line: number, channel: string | null, month: string | null, spend: string | null, wellFormed = true): SpendRecord => ({
  source: 'spend.csv',
  line,
  text: [channel, month, spend].filter((v) => v !== null).join(','),
  wellFormed,
  channel,
  month,
  spend,
});

describe('judging the spend input row by row', () => {
  it.each([
    ['a record with a field missing', record(2, 'email', '2025-01', null, false), 'malformed_row'],
    ['an empty channel', record(2, '  ', '2025-01', '10'), 'missing_channel'],
    ['month 13', record(2, 'email', '2025-13', '10'), 'invalid_month'],
    ['a day instead of a month', record(2, 'email', '2025-01-01', '10'), 'invalid_month'],
    ['a month written 2025/01', record(2, 'email', '2025/01', '10'), 'invalid_month'],
    ['text for spend', record(2, 'email', '2025-01', 'n/a'), 'invalid_spend'],
    ['a decimal comma', record(2, 'email', '2025-01', '12,50'), 'invalid_spend'],
    ['an empty spend', record(2, 'email', '2025-01', ''), 'invalid_spend'],
    ['a spend too large for a double', record(2, 'email', '2025-01', '9'.repeat(400)), 'invalid_spend'],
    // finite, but two of them summed for a channel are Infinity and its CAC NaN: the run failed
    ['a spend near the largest double', record(2, 'email', '2025-01', '1' + '0'.repeat(308)), 'invalid_spend'],
    ['a spend just above 1e15 a channel-month', record(2, 'email', '2025-01', '1000000000000001'), 'invalid_spend'],
    ['a negative spend', record(2, 'email', '2025-01', '-0.01'), 'negative_spend'],
    ['a month after the as-of month (its customers are not in the run)', record(2, 'email', '2025-07', '10'), 'month_after_as_of'],
    ['a month before the earliest order of the run', record(2, 'email', '2023-12', '10'), 'month_before_first_order'],
  ] as const)('rejects %s with one reason', (_, input, reason) => {
    const judged = judgeSpend([input]);
    expect(judged.rows).toEqual([]);
    expect(judged.rejectedByReason[reason]).toBe(1);
    expect(Object.values(judged.rejectedByReason).reduce((a, b) => a + b, 0)).toBe(1);
    expect(judged.rejectedExamples).toEqual([{ source: 'spend.csv', line: 2, reason, text: input.text }]);
  });

  it('accepts a spend of 1e15 a channel-month, the most there can be (MAX_SPEND)', () => {
    const judged = judgeSpend([record(2, 'email', '2025-01', '1000000000000000'), record(3, 'email', '2025-02', '1000000000000000.00')]);
    expect(judged.rows.map((r) => r.spend)).toEqual([1e15, 1e15]);
  });

  it('accepts zero spend, trims channel and month, and keeps unknown channels (the economics warn about them)', () => {
    const judged = judgeSpend([record(2, ' tv ', ' 2025-01 ', ' 0 '), record(3, 'email', '2025-02', '12.5')]);
    expect(judged.rows).toEqual([
      { channel: 'tv', month: '2025-01', spend: 0 },
      { channel: 'email', month: '2025-02', spend: 12.5 },
    ]);
    expect(judged.inputRows).toBe(2);
  });

  it('trims a channel as the orders\' reader trims it: no-break spaces and a BOM go, an em space or an ideographic space stays', () => {
    const judged = judgeSpend([record(2, '\u00a0tv\ufeff', '2025-01', '1'), record(3, 'K\u2003', '2025-01', '2'), record(4, '\u3000L', '2025-01', '3')]);

    expect(judged.rows.map((r) => r.channel)).toEqual(['tv', 'K\u2003', '\u3000L']);
  });

  it('keeps the last copy of a channel-month and rejects the earlier ones, so input rows = accepted + rejected', () => {
    const judged = judgeSpend([record(2, 'email', '2025-01', '10'), record(3, 'email', '2025-01', '20'), record(4, 'email', '2025-01', '30'), record(5, 'email', '2025-02', 'x')]);
    expect(judged.rows).toEqual([{ channel: 'email', month: '2025-01', spend: 30 }]);
    expect(judged.rejectedByReason).toMatchObject({ duplicate_channel_month: 2, invalid_spend: 1 });
    expect(judged.rejectedExamples.filter((e) => e.reason === 'duplicate_channel_month').map((e) => e.line)).toEqual([2, 3]);
    expect(judged.rows.length + Object.values(judged.rejectedByReason).reduce((a, b) => a + b, 0)).toBe(judged.inputRows);
  });

  it('keeps the first and the as-of month, and judges defects before the window and the window before repeats', () => {
    const judged = judgeSpend([
      record(2, 'email', '2024-01', '5'),
      record(3, 'email', '2025-06', '7'),
      record(4, 'email', '2025-07', '-1'), // negative and outside: the defect is its reason
      record(5, 'email', '2025-08', '10'),
      record(6, 'email', '2025-08', '20'), // outside twice: neither copy is a duplicate of the other
    ]);
    expect(judged.rows).toEqual([
      { channel: 'email', month: '2024-01', spend: 5 },
      { channel: 'email', month: '2025-06', spend: 7 },
    ]);
    expect(judged.rejectedByReason).toMatchObject({ negative_spend: 1, month_after_as_of: 2, duplicate_channel_month: 0 });
    expect(judged.rows.length + Object.values(judged.rejectedByReason).reduce((a, b) => a + b, 0)).toBe(judged.inputRows);
  });

  it('rejects nothing for being early when the run has no customer', () => {
    const judged = judgeSpendIn([record(2, 'email', '1999-01', '5')], { asOfMonth: '2025-06', firstOrderMonth: null });
    expect(judged.rows).toEqual([{ channel: 'email', month: '1999-01', spend: 5 }]);
  });
});
