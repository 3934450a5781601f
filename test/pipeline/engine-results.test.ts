import { describe, expect, it } from 'vitest';
import { EngineError } from '../../lambdas/clv-job/errors.js';
import { decodeCustomers } from '../../lambdas/clv-job/pipeline/engine-results.js';
import type { ResultColumns } from '../../lambdas/clv-job/ports.js';

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
