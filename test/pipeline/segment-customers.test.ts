import { describe, expect, it } from 'vitest';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { sampleData, tempDir } from '../support/files.js';
import { genOrders, runLocal } from '../support/pipeline.js';


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
    for (const warning of summary.changes.warnings) expect(warning.message).toMatch(/since 2025-12-31/);
  });
});
