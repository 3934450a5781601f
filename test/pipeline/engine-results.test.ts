import { describe, expect, it } from 'vitest';
import { EngineError } from '../../lambdas/clv-job/errors.js';
import { decodeCustomers, decodePreviousSegments, decodePreviousTiers } from '../../lambdas/clv-job/pipeline/engine-results.js';
import type { ResultColumns } from '../../lambdas/clv-job/ports.js';
import { RFM_SEGMENTS } from '../../lambdas/clv-job/domain/segments/rfm.js';

/** Two customers as DuckDB hands them over (typed arrays) or as Athena does (strings). */
const customers = (typed: boolean, revenue: number): ResultColumns => {
  const ints = (...v: number[]) => (typed ? Int32Array.from(v) : v.map(String));
  const doubles = (...v: number[]) => (typed ? Float64Array.from(v) : v.map(String));
  return {
    rowCount: 2,
    columns: {
      customer_id: ['a', 'b'],
      first_order_day: ints(19000, 19001),
      last_order_day: ints(19010, 19001),
      acquisition_channel: ['web', null],
      cohort: ['2022-01', '2022-01'],
      orders: ints(3, 1),
      frequency: ints(2, 0),
      recency_days: ints(10, 0),
      tenure_days: ints(20, 19),
      total_revenue: doubles(revenue, 5),
      monetary_value: doubles(7.5, 0),
      avg_order_value: doubles(revenue / 3, 5),
    },
  };
};

describe('decoding the customers result', () => {
  it.each([
    ['typed arrays (DuckDB)', true],
    ['strings (Athena)', false],
  ])('gives the same table from %s', (_, typed) => {
    const table = decodeCustomers(customers(typed as boolean, 22.5));

    expect(table.customerId).toEqual(['a', 'b']);
    expect(Array.from(table.frequency)).toEqual([2, 0]);
    expect(Array.from(table.totalRevenue)).toEqual([22.5, 5]);
    expect(table.acquisitionChannel).toEqual(['web', null]);
  });

  it.each([
    ['typed arrays (DuckDB)', true],
    ['strings (Athena)', false],
  ])('refuses a non-finite amount from %s, naming the column and row', (_, typed) => {
    expect(() => decodeCustomers(customers(typed as boolean, Number.POSITIVE_INFINITY))).toThrow(EngineError);
    expect(() => decodeCustomers(customers(typed as boolean, Number.POSITIVE_INFINITY))).toThrow(/total_revenue, row 1/);
  });
});

describe("decoding the previous run's tiers and segments joined to tonight's customers", () => {
  const joined = (codes: readonly number[], typed: boolean): ResultColumns => ({
    rowCount: codes.length,
    columns: { previous_segments: typed ? Int32Array.from(codes) : codes.map(String) },
  });
  // the codes as the SQL forms them, written out: tier * 16 + RFM segment (15: none), -1 new since
  const high = 0;
  const low = 2;
  const atRisk = RFM_SEGMENTS.indexOf('At Risk');
  const champions = RFM_SEGMENTS.indexOf('Champions');

  it.each([true, false])('gives each customer a tier code of TIER_ORDER (-1 when new) and an RFM code into RFM_SEGMENTS (-1 for none), one byte each (typed: %s)', (typed) => {
    const previous = decodePreviousSegments(joined([low * 16 + atRisk, -1, high * 16 + champions, high * 16 + 15], typed), [5, 0, 7]);

    expect(Array.from(previous.tier)).toEqual([2, -1, 0, 0]);
    expect(previous.tier).toBeInstanceOf(Int8Array);
    expect(Array.from(previous.rfmSegment, (code) => (code < 0 ? null : previous.rfmNames[code]))).toEqual(['At Risk', null, 'Champions', null]);
    expect(previous.tierSizes).toEqual([5, 0, 7]);
  });

  it('refuses a code that names no tier or no RFM segment, naming the row', () => {
    expect(() => decodePreviousSegments(joined([0, 3 * 16], true), [1, 0, 0])).toThrow(EngineError);
    expect(() => decodePreviousSegments(joined([0, 3 * 16], true), [1, 0, 0])).toThrow(/previous_segments, row 2: 48 names no previous tier/);
    expect(() => decodePreviousSegments(joined([RFM_SEGMENTS.length], true), [1, 0, 0])).toThrow(/row 1/);
    expect(() => decodePreviousSegments(joined([-2], true), [1, 0, 0])).toThrow(/row 1/);
  });

  it('reads the per-tier sizes in TIER_ORDER, 0 for a tier the previous run had none in, as numbers or text', () => {
    expect(decodePreviousTiers({ rowCount: 2, columns: { clv_tier: ['low', 'high'], customers: ['30', '20'], distinct_customers: ['30', '20'], unknown_rfm_segments: ['0', '0'] } })).toEqual([20, 0, 30]);
    expect(decodePreviousTiers({ rowCount: 1, columns: { clv_tier: ['mid'], customers: Int32Array.from([4]), distinct_customers: Int32Array.from([4]), unknown_rfm_segments: Int32Array.from([0]) } })).toEqual([0, 4, 0]);
    expect(() => decodePreviousTiers({ rowCount: 1, columns: { clv_tier: ['top'], customers: [1], distinct_customers: [1], unknown_rfm_segments: [0] } })).toThrow(/"top" is not a tier/);
  });

  it('refuses a previous run whose RFM segments it cannot name, rather than lose the names', () => {
    expect(() => decodePreviousTiers({ rowCount: 1, columns: { clv_tier: ['mid'], customers: [4], distinct_customers: [4], unknown_rfm_segments: [2] } })).toThrow(/2 in tier mid have an RFM segment none of/);
  });

  it('refuses a tier that holds a customer twice, who would join twice', () => {
    expect(() => decodePreviousTiers({ rowCount: 1, columns: { clv_tier: ['high'], customers: [5], distinct_customers: [4], unknown_rfm_segments: [0] } })).toThrow(/tier high has 5 rows for 4 customers/);
  });
});
