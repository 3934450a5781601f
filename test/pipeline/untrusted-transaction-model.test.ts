import { beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { tempDir, writeText } from '../support/files.js';
import { runLocal } from '../support/pipeline.js';

/**
 * When the purchase model cannot be fitted, the night still publishes, ranks on historical CLV and
 * says so. Eleven one-time buyers give the BG/NBD nothing to fit (it needs 20 customers, 5 of them
 * repeat buyers), and the Gamma-Gamma no repeat spend.
 *
 * Historical CLV by hand, as-of 2025-12-31, lifespan 3 years, one order each:
 * - C01..C10 bought 10, 20, ..., 100 on 2025-06-01 (tenure 213 days, under a year, so one year
 *   observed): 3 x amount = 30, 60, ..., 300;
 * - C11 bought 150 on 2022-12-31 (tenure 1096 days; 1097 / 365.25 = 3.0034 years observed):
 *   150 x 3 / 3.0034 = 149.83, the most revenue of all but the seventh historical CLV.
 * Tiers of 11 customers: high = the top round(0.2 x 11) = 2, high or mid = the top round(0.7 x 11) = 8.
 * On historical CLV: C10, C09 high; C08, C07, C06, C05, C11, C04 mid; C03, C02, C01 low. (Ranked on
 * revenue C11 would be high.)
 */
const AMOUNTS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
const exportText = [
  'order_id,customer_id,order_date,amount',
  ...AMOUNTS.map((amount, i) => `O${i + 1},C${String(i + 1).padStart(2, '0')},2025-06-01,${amount}.00`),
  'O11,C11,2022-12-31,150.00',
].join('\n');
const EXPECTED_HISTORICAL_CLV: Record<string, number> = {
  ...Object.fromEntries(AMOUNTS.map((amount, i) => [`C${String(i + 1).padStart(2, '0')}`, 3 * amount])),
  C11: (150 * 3) / (1097 / 365.25),
};
const EXPECTED_TIERS: Record<string, string> = {
  C10: 'high', C09: 'high',
  C08: 'mid', C07: 'mid', C06: 'mid', C05: 'mid', C11: 'mid', C04: 'mid',
  C03: 'low', C02: 'low', C01: 'low',
};

describe('a night whose purchase model cannot be trusted (eleven one-time buyers)', () => {
  let out: string;
  let summary: Summary;
  beforeAll(async () => {
    const input = await tempDir();
    out = await tempDir();
    await writeText(input, 'orders.csv', exportText + '\n');
    summary = (await runLocal([input], out, { asOf: '2025-12-31' })).summary;
  }, 60_000);

  it('publishes with both fits untrusted, each saying why, and no fit diagnostics', () => {
    expect(summary.models.trusted).toBe(false);
    expect(summary.models.bgnbd.convergence).toMatchObject({ converged: false, message: expect.stringMatching(/^not enough data: 11 customers, 0 repeat buyers/) });
    expect(summary.models.gamma_gamma.convergence.converged).toBe(false);
    expect(summary.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['bgnbd_untrusted', 'gamma_gamma_untrusted', 'ranking_on_historical_clv']));
    expect(summary.diagnostics).toBeUndefined();
  });

  it('publishes historical CLV for every customer and leaves every predictive column null', async () => {
    const rows = await queryDuckDb(
      `SELECT customer_id, historical_clv, expected_purchases, probability_alive, expected_order_value, predicted_clv, predicted_clv_p05, predicted_clv_p95
       FROM read_parquet('${out}/customers/**/*.parquet') ORDER BY customer_id`,
    );

    expect(rows.map((r) => r.customer_id)).toEqual(Object.keys(EXPECTED_HISTORICAL_CLV).sort());
    for (const row of rows) {
      expect(row.historical_clv).toBeCloseTo(EXPECTED_HISTORICAL_CLV[String(row.customer_id)]!, 9);
      expect([row.expected_purchases, row.probability_alive, row.expected_order_value, row.predicted_clv, row.predicted_clv_p05, row.predicted_clv_p95]).toEqual([
        null, null, null, null, null, null,
      ]);
    }
  });

  it('ranks the CLV tiers on historical CLV: the partitions, the tier column and the summary agree', async () => {
    const rows = await queryDuckDb(
      `SELECT customer_id, clv_tier, segment FROM read_parquet('${out}/customers/**/*.parquet', hive_partitioning = true) ORDER BY customer_id`,
    );
    const tiers = Object.fromEntries(summary.segments.clv_tiers.map((t) => [t.segment, t]));
    const equityOf = (tier: string): number =>
      Object.entries(EXPECTED_TIERS).reduce((sum, [id, t]) => (t === tier ? sum + EXPECTED_HISTORICAL_CLV[id]! : sum), 0);

    expect(Object.fromEntries(rows.map((r) => [r.customer_id, r.clv_tier]))).toEqual(EXPECTED_TIERS);
    for (const row of rows) expect(row.segment).toBe(row.clv_tier);
    expect(summary.totals).toMatchObject({ ranking_clv: 'historical_clv', predicted_clv: null });
    expect(summary.totals.equity).toBeCloseTo(Object.values(EXPECTED_HISTORICAL_CLV).reduce((s, v) => s + v, 0), 9);
    for (const tier of ['high', 'mid', 'low']) {
      expect(tiers[tier]?.customers).toBe(Object.values(EXPECTED_TIERS).filter((t) => t === tier).length);
      expect(tiers[tier]?.equity).toBeCloseTo(equityOf(tier), 9);
    }
  });
});
