import { describe, expect, it } from 'vitest';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { sampleData, tempDir } from '../support/files.js';
import { genOrders, runLocal } from '../support/pipeline.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../lambdas/clv-job/domain/segments/settings.js';

/**
 * Today's segment rules, restated as DuckDB window functions over the customers a run wrote: an
 * independent reading of the rules (ranks in the engine, not cut points in TypeScript).
 * - RFM recency and monetary: `1 + floor(5 x customers strictly worse / n)` (RANK puts ties at their
 *   lowest rank), 3 for everyone when all are equal; frequency: 1 for one-time buyers, else
 *   `2 + floor(4 x repeat buyers with fewer repeat days / repeat buyers)`.
 * - Tiers and value: a group of equal ranking CLV goes where its median member falls, counted from
 *   the top: `floor((start + end) / 2)` with start = customers with a higher CLV.
 * The plain_* columns rank by position (ROW_NUMBER) instead, ties split: where they differ from the
 * rules, a tie sat on a cut point.
 */
const rulesSql = (customers: string) => `
  WITH c AS (
    SELECT customer_id, frequency, recency_days - tenure_days AS recentness, total_revenue, predicted_clv AS clv,
           probability_alive, clv_tier, value_loyalty, rfm_r, rfm_f, rfm_m
    FROM read_parquet('${customers}')),
  totals AS (
    SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE frequency > 0) AS repeaters,
           MIN(recentness) = MAX(recentness) AS r_flat, MIN(total_revenue) = MAX(total_revenue) AS m_flat,
           MIN(frequency) FILTER (WHERE frequency > 0) = MAX(frequency) FILTER (WHERE frequency > 0) AS f_flat
    FROM c),
  ranked AS (
    SELECT c.*,
           RANK() OVER (ORDER BY recentness) - 1 AS r_lower,
           ROW_NUMBER() OVER (ORDER BY recentness) - 1 AS r_position,
           RANK() OVER (ORDER BY total_revenue) - 1 AS m_lower,
           RANK() OVER (PARTITION BY frequency > 0 ORDER BY frequency) - 1 AS f_lower,
           ROW_NUMBER() OVER (PARTITION BY frequency > 0 ORDER BY frequency) - 1 AS f_position,
           RANK() OVER (ORDER BY clv DESC) - 1 AS above,
           COUNT(*) OVER (PARTITION BY clv) AS tie
    FROM c)
  SELECT customer_id, clv_tier, value_loyalty, rfm_r::INTEGER AS rfm_r, rfm_f::INTEGER AS rfm_f, rfm_m::INTEGER AS rfm_m,
         frequency::INTEGER AS frequency, probability_alive, above::INTEGER AS above, tie::INTEGER AS tie,
         (CASE WHEN r_flat THEN 3 ELSE 1 + (5 * r_lower) // n END)::INTEGER AS r_rule,
         (1 + (5 * r_position) // n)::INTEGER AS r_plain,
         (CASE WHEN frequency = 0 THEN 1 WHEN f_flat THEN 3 ELSE 2 + (4 * f_lower) // repeaters END)::INTEGER AS f_rule,
         (CASE WHEN frequency = 0 THEN 1 ELSE 2 + (4 * f_position) // repeaters END)::INTEGER AS f_plain,
         (CASE WHEN m_flat THEN 3 ELSE 1 + (5 * m_lower) // n END)::INTEGER AS m_rule,
         ((2 * above + tie - 1) // 2)::INTEGER AS median_from_top
  FROM ranked, totals
  ORDER BY customer_id`;


describe('segments of a whole run', () => {
  it('ranks channels by average CLV as gen-orders simulated them: affiliate best, paid_social worst', async () => {
    const input = await tempDir();
    const truth = await genOrders(input, ['--customers', '20000', '--files', '3', '--seed', '31']);
    const out = await tempDir();

    const { summary } = await runLocal([input], out, { asOf: truth.asOf });
    const simulated = ['affiliate', 'search', 'email', 'paid_social'];
    const ranked = summary.channels
      .filter((c) => simulated.includes(c.channel))
      .sort((a, b) => b.average_clv - a.average_clv)
      .map((c) => c.channel);

    expect(ranked).toEqual(simulated);
    expect(summary.channels.find((c) => c.channel === 'paid_social')?.below_average).toBe(true);
    expect(summary.channels.find((c) => c.channel === 'affiliate')?.below_average).toBe(false);
  });

  it('assigns every customer the tier, value x loyalty cell and RFM scores of the rules, ties at the cut points kept together', async () => {
    // Prepare
    const input = await tempDir();
    const truth = await genOrders(input, ['--customers', '8000', '--files', '2', '--seed', '47']);
    const out = await tempDir();

    // Act
    const { summary } = await runLocal([input], out, { asOf: truth.asOf });
    const rows = await queryDuckDb(rulesSql(`${out}/customers/**/*.parquet`));

    // Assess
    expect(summary.totals.ranking_clv).toBe('predicted_clv');
    const n = rows.length;
    const { tiers, valueLoyalty } = DEFAULT_SEGMENT_SETTINGS;
    const topHigh = Math.round(tiers.high * n);
    const topHighOrMid = Math.round((tiers.high + tiers.mid) * n);
    const topValue = Math.round(valueLoyalty.highValueShare * n);
    const expected = rows.map((row) => {
      const median = row.median_from_top as number;
      const loyal = (row.frequency as number) >= valueLoyalty.minRepeatPurchases && (row.probability_alive as number) >= valueLoyalty.minProbabilityAlive;
      return {
        customer_id: row.customer_id,
        clv_tier: median < topHigh ? 'high' : median < topHighOrMid ? 'mid' : 'low',
        value_loyalty: `${median < topValue ? 'high' : 'low'}_value_${loyal ? 'high' : 'low'}_loyalty`,
        rfm: [row.r_rule, row.f_rule, row.m_rule],
      };
    });
    const written = rows.map((row) => ({
      customer_id: row.customer_id,
      clv_tier: row.clv_tier,
      value_loyalty: row.value_loyalty,
      rfm: [row.rfm_r, row.rfm_f, row.rfm_m],
    }));
    expect(written).toEqual(expected);
    // the data put ties on the cut points: the rules moved customers a plain cut by position would split
    expect(rows.filter((row) => row.r_rule !== row.r_plain).length).toBeGreaterThan(0);
    expect(rows.filter((row) => row.f_rule !== row.f_plain).length).toBeGreaterThan(0);
    const straddles = (count: number) => rows.some((row) => (row.tie as number) > 1 && (row.above as number) < count && (row.above as number) + (row.tie as number) > count);
    expect(straddles(topHigh) || straddles(topHighOrMid) || straddles(topValue)).toBe(true);
  });

  it('fills every segment column of every customer', async () => {
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: '2025-12-31' });

    const [nulls] = await queryDuckDb(`
      SELECT COUNT(*)::INTEGER AS customers,
             COUNT(*) FILTER (WHERE clv_tier IS NULL OR value_loyalty IS NULL OR rfm_r IS NULL OR rfm_f IS NULL
                              OR rfm_m IS NULL OR rfm_score IS NULL OR rfm_segment IS NULL OR predicted_clv IS NULL)::INTEGER AS incomplete,
             COUNT(*) FILTER (WHERE rfm_score <> rfm_r::VARCHAR || rfm_f::VARCHAR || rfm_m::VARCHAR)::INTEGER AS inconsistent
      FROM read_parquet('${out}/customers/**/*.parquet')`);

    expect(nulls).toMatchObject({ incomplete: 0, inconsistent: 0 });
    expect(nulls?.customers).toBeGreaterThan(0);
  });

  it('compares a second run date with the first: per-segment deltas, tier migration and parameter shifts', async () => {
    const out = await tempDir();
    const first = await runLocal([sampleData], out, { asOf: '2025-06-30' });
    const { summary } = await runLocal([sampleData], out, { asOf: '2025-12-31' });
    const migration = summary.changes.tier_migration ?? [];
    const moved = (from: string, to: string) => migration.find((m) => m.from_tier === from && m.to_tier === to)?.customers ?? 0;

    expect(first.summary.changes.previous_run_date).toBeNull();
    expect(summary.changes.previous_run_date).toBe('2025-06-30');
    expect(summary.changes.clv_tiers.map((c) => c.segment)).toEqual(['high', 'mid', 'low']);
    expect(summary.changes.parameters.map((p) => p.parameter)).toEqual(expect.arrayContaining(['r', 'alpha', 'a', 'b', 'p', 'q', 'gamma']));
    // every customer of the first run is accounted for once: still in some tier, or absent
    const firstTiers = Object.fromEntries(first.summary.segments.clv_tiers.map((t) => [t.segment, t.customers]));
    for (const from of ['high', 'mid', 'low']) {
      expect(moved(from, 'high') + moved(from, 'mid') + moved(from, 'low') + moved(from, 'absent')).toBe(firstTiers[from]);
    }
    // and every customer of tonight once: from a previous tier, or new
    const newCustomers = moved('new', 'high') + moved('new', 'mid') + moved('new', 'low');
    expect(summary.counts.customers - first.summary.counts.customers).toBe(newCustomers);
  });

  it('warns in plain words when quality declines: nine months without a single order later', async () => {
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: '2025-12-31' });

    const { summary } = await runLocal([sampleData], out, { asOf: '2026-09-30' });
    const codes = summary.changes.warnings.map((w) => w.code);

    expect(codes).toEqual(expect.arrayContaining(['total_equity_drop', 'mean_probability_alive_drop', 'channel_average_clv_drop']));
    expect(summary.changes.totals?.equity.current).toBeLessThan(summary.changes.totals?.equity.previous ?? 0);
    // the comparison's warnings say since when; the channel diagnostics (acquisition[...]) need no previous run
    for (const warning of summary.changes.warnings.filter((w) => !w.metric.startsWith('acquisition['))) expect(warning.message).toMatch(/since 2025-12-31/);
  });
});
