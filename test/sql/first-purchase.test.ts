import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import { decodeAcquisitionMonths, decodeCustomers } from '../../lambdas/clv-job/pipeline/engine-results.js';
import { tempDir } from '../support/files.js';
import { FIRST_PURCHASE_CONFIG, writeFirstPurchaseExport } from '../support/first-purchase-export.js';

const params = { asOf: '2024-06-30', nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES };

/**
 * `purchase_days`, `customers` and `acquisitionMonths` on DuckDB over test/support/first-purchase-export.ts
 * (the values below are worked out by hand from its rows); the same export on Trino is in
 * engines-differential.test.ts.
 */
describe('the first purchase: its day, its order and its channel', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    const dir = await tempDir();
    await writeFirstPurchaseExport(dir);
    const { files } = await ingestLocalFiles(await findInputFiles([dir]), { config: FIRST_PURCHASE_CONFIG, directory: `${dir}/ingested` });
    engine = await DuckDbEngine.open({ files });
  });
  afterAll(() => engine.close());

  it('takes the channel of the first order by day, order id (a tab in one and all), then the extra key columns, NULL when that order has none', async () => {
    const customers = decodeCustomers(await engine.run('customers', params));

    expect(customers.customerId).toEqual(['K1', 'K2', 'K3', 'K4', 'K5']);
    expect(customers.acquisitionChannel).toEqual([null, 'partner', 'email', 'web', 'email']);
  });

  it('merges same-day orders into one purchase day, and values the repeat days without the first', async () => {
    const customers = decodeCustomers(await engine.run('customers', params));
    const rows = customers.customerId.map((id, i) => ({
      id,
      cohort: customers.cohort[i],
      orders: customers.orders[i],
      frequency: customers.frequency[i],
      revenue: customers.totalRevenue[i],
      monetary: customers.monetaryValue[i],
    }));

    expect(rows).toEqual([
      { id: 'K1', cohort: '2024-01', orders: 5, frequency: 2, revenue: 53, monetary: (13 + 17) / 2 },
      { id: 'K2', cohort: '2024-01', orders: 2, frequency: 0, revenue: 30, monetary: 0 },
      { id: 'K3', cohort: '2024-01', orders: 4, frequency: 2, revenue: 15, monetary: (4 + 8) / 2 },
      { id: 'K4', cohort: '2024-02', orders: 1, frequency: 0, revenue: 9, monetary: 0 },
      { id: 'K5', cohort: '2024-04', orders: 2, frequency: 0, revenue: 7, monetary: 0 },
    ]);
  });

  it('counts first repeats in the month of age of the second purchase day, and first-day revenue at age 0 only', async () => {
    const months = decodeAcquisitionMonths(await engine.run('acquisitionMonths', params));

    expect(months).toEqual([
      { channel: 'email', cohort: '2024-01', ageMonth: 0, revenue: 3 + 4, firstRepeats: 1, firstDayRevenue: 3 },
      { channel: 'email', cohort: '2024-01', ageMonth: 2, revenue: 8, firstRepeats: 0, firstDayRevenue: 0 },
      { channel: 'email', cohort: '2024-04', ageMonth: 0, revenue: 7, firstRepeats: 0, firstDayRevenue: 7 },
      { channel: 'partner', cohort: '2024-01', ageMonth: 0, revenue: 30, firstRepeats: 0, firstDayRevenue: 30 },
      { channel: 'web', cohort: '2024-02', ageMonth: 0, revenue: 9, firstRepeats: 0, firstDayRevenue: 9 },
      { channel: null, cohort: '2024-01', ageMonth: 0, revenue: 23, firstRepeats: 0, firstDayRevenue: 23 },
      { channel: null, cohort: '2024-01', ageMonth: 1, revenue: 13, firstRepeats: 1, firstDayRevenue: 0 },
      { channel: null, cohort: '2024-01', ageMonth: 2, revenue: 17, firstRepeats: 0, firstDayRevenue: 0 },
    ]);
  });
});
