import { describe, expect, it } from 'vitest';
import { dayOf } from '../../../lambdas/clv-job/domain/customers.js';
import { cohortTable, monthsBetween } from '../../../lambdas/clv-job/domain/segments/cohorts.js';
import { buildCustomers } from '../../support/customer-table.js';

describe('acquisition cohorts', () => {
  it('summarise each acquisition month, oldest first', () => {
    // Prepare
    const { table, scores } = buildCustomers([
      { cohort: '2024-03', clv: 30, totalRevenue: 10, frequency: 0, probabilityAlive: 0.2 },
      { cohort: '2023-11', clv: 50, totalRevenue: 70, frequency: 4, probabilityAlive: 0.9 },
      { cohort: '2024-03', clv: 20, totalRevenue: 30, frequency: 1, probabilityAlive: 0.6 },
    ]);

    // Act
    const rows = cohortTable(table, scores, dayOf('2024-06-15'));

    // Assess
    expect(rows).toEqual([
      {
        cohort: '2023-11', age_months: 7, customers: 1, share: 1 / 3, revenue: 70, equity: 50, equity_share: 0.5,
        average_clv: 50, repeat_rate: 1, mean_probability_alive: 0.9,
      },
      {
        cohort: '2024-03', age_months: 3, customers: 2, share: 2 / 3, revenue: 40, equity: 50, equity_share: 0.5,
        average_clv: 25, repeat_rate: 0.5, mean_probability_alive: expect.closeTo(0.4, 12) as number,
      },
    ]);
  });

  it.each([
    { cohort: '2024-06', asOf: '2024-06-30', months: 0 },
    { cohort: '2023-12', asOf: '2024-01-01', months: 1 },
    { cohort: '2020-01', asOf: '2024-06-15', months: 53 },
  ])('count $months months from $cohort to $asOf', ({ cohort, asOf, months }) => {
    expect(monthsBetween(cohort, dayOf(asOf))).toBe(months);
  });

  it('report no P(alive) when the predictive fit failed, and no rows for no customers', () => {
    // Prepare
    const failed = buildCustomers([{ cohort: '2024-01', clv: 1 }], { predictive: false });
    const empty = buildCustomers([]);

    // Act, Assess
    expect(cohortTable(failed.table, failed.scores, dayOf('2024-02-01'))[0]?.mean_probability_alive).toBeNull();
    expect(cohortTable(empty.table, empty.scores, dayOf('2024-02-01'))).toEqual([]);
  });
});
