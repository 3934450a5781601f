import { describe, expect, it } from 'vitest';
import { publishedCustomersBinding } from '../../lambdas/clv-job/adapters/canonical-orders-binding.js';
import { NO_PREVIOUS_CUSTOMERS } from '../../lambdas/clv-job/sql/index.js';

describe("the previous run's customers as Athena and Trino read them (publishedCustomersBinding)", () => {
  it("are the Glue customers table's partitions of the previous run date", () => {
    const sql = publishedCustomersBinding('clv', 'customers', { runDate: '2025-06-30', files: ['s3://out/_runs/r1/customers/run_date=2025-06-30/segment=high/part-00000.parquet'] });
    expect(sql).toMatch(/^SELECT customer_id, clv_tier, rfm_segment FROM "clv"\."customers" WHERE run_date = DATE '2025-06-30' AND segment IN \('high', 'mid', 'low'\)$/);
  });

  it('are nobody without a previous run with customers (loadPrevious gives null for one without), rather than whatever the table holds', () => {
    expect(publishedCustomersBinding('clv', 'customers', null)).toBe(NO_PREVIOUS_CUSTOMERS);
  });

  it('refuse a run date that is not YYYY-MM-DD, which would be written into the SQL', () => {
    expect(() => publishedCustomersBinding('clv', 'customers', { runDate: "2025-06-30' OR true --", files: ['s3://out/x.parquet'] })).toThrow(/is not YYYY-MM-DD/);
  });
});
