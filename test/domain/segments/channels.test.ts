import { describe, expect, it } from 'vitest';
import { channelTable } from '../../../lambdas/clv-job/domain/segments/channels.js';
import { buildCustomers } from '../../support/customer-table.js';

const SETTINGS = { missingLabel: '(none)' };

describe('customer equity by acquisition channel', () => {
  it('sums customers, equity, revenue and repeat buyers per channel, largest equity first, flagging averages below 250', () => {
    // Prepare
    const { table, scores } = buildCustomers([
      { channel: 'email', clv: 100, totalRevenue: 50, frequency: 2, probabilityAlive: 0.8 },
      { channel: 'email', clv: 300, totalRevenue: 150, frequency: 0, probabilityAlive: 0.4 },
      { channel: 'search', clv: 600, totalRevenue: 400, frequency: 1, probabilityAlive: 0.9 },
      { channel: 'social', clv: 0, totalRevenue: 20, frequency: 0, probabilityAlive: 0.2 },
    ]);

    // Act
    const rows = channelTable(table, scores, SETTINGS);

    // Assess
    expect(rows).toEqual([
      {
        channel: 'search', customers: 1, share: 0.25, equity: 600, equity_share: 0.6, average_clv: 600,
        revenue: 400, repeat_rate: 1, mean_probability_alive: 0.9, below_average: false,
      },
      {
        channel: 'email', customers: 2, share: 0.5, equity: 400, equity_share: 0.4, average_clv: 200,
        revenue: 200, repeat_rate: 0.5, mean_probability_alive: expect.closeTo(0.6, 12) as number, below_average: true,
      },
      {
        channel: 'social', customers: 1, share: 0.25, equity: 0, equity_share: 0, average_clv: 0,
        revenue: 20, repeat_rate: 0, mean_probability_alive: 0.2, below_average: true,
      },
    ]);
  });

  it('flags channels whose average CLV is below the overall average (250 here)', () => {
    // Prepare
    const { table, scores } = buildCustomers([
      { channel: 'a', clv: 300 },
      { channel: 'b', clv: 200 },
    ]);

    // Act
    const rows = channelTable(table, scores, SETTINGS);

    // Assess
    expect(rows.map((r) => [r.channel, r.below_average])).toEqual([['a', false], ['b', true]]);
  });

  it('flags no channel when every customer is worth the same', () => {
    // Prepare
    const { table, scores } = buildCustomers(['a', 'b', 'c', 'a', 'b'].map((channel) => ({ channel, clv: 0.1 })));

    // Act
    const rows = channelTable(table, scores, SETTINGS);

    // Assess
    expect(rows.some((r) => r.below_average)).toBe(false);
  });

  it('labels customers without a channel "(none)", or as configured', () => {
    // Prepare
    const { table, scores } = buildCustomers([{ channel: null, clv: 1 }, { channel: 'web', clv: 2 }, { channel: null, clv: 3 }]);

    // Act
    const rows = channelTable(table, scores, SETTINGS);
    const relabelled = channelTable(table, scores, { missingLabel: 'unknown' });

    // Assess
    expect(rows.map((r) => [r.channel, r.customers])).toEqual([['(none)', 2], ['web', 1]]);
    expect(relabelled[0]?.channel).toBe('unknown');
  });

  it('reports no P(alive) when the predictive fit failed', () => {
    // Prepare
    const { table, scores } = buildCustomers([{ channel: 'web', clv: 5 }], { predictive: false });

    // Act
    const rows = channelTable(table, scores, SETTINGS);

    // Assess
    expect(rows[0]?.mean_probability_alive).toBeNull();
  });

  it('gives shares of 0, not NaN, when all CLV is 0, and no rows for no customers', () => {
    // Prepare
    const zero = buildCustomers([{ channel: 'web', clv: 0 }, { channel: 'app', clv: 0 }]);
    const empty = buildCustomers([]);

    // Act
    const rows = channelTable(zero.table, zero.scores, SETTINGS);

    // Assess
    expect(rows.map((r) => [r.equity_share, r.average_clv, r.below_average])).toEqual([[0, 0, false], [0, 0, false]]);
    expect(channelTable(empty.table, empty.scores, SETTINGS)).toEqual([]);
  });

  it('orders channels of equal equity by name, so the table is the same run to run', () => {
    // Prepare
    const { table, scores } = buildCustomers([{ channel: 'zeta', clv: 1 }, { channel: 'alpha', clv: 1 }]);

    // Act
    const rows = channelTable(table, scores, SETTINGS);

    // Assess
    expect(rows.map((r) => r.channel)).toEqual(['alpha', 'zeta']);
  });
});
