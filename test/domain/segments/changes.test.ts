import { describe, expect, it } from 'vitest';
import {
  changesSincePreviousRun,
  meanProbabilityAlive,
  parameterChanges,
  measureDifferences,
  tierMigration,
  uncountedMovements,
  type ClvMeasure,
  type RunSnapshot,
  type SegmentCuts,
} from '../../../lambdas/clv-job/domain/segments/changes.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../../lambdas/clv-job/domain/segments/settings.js';
import type { Tier } from '../../../lambdas/clv-job/schemas/tables.js';
import { changesSchema, type ChannelRow, type SegmentRow } from '../../../lambdas/clv-job/schemas/summary-segments.js';
import { previousSegmentsOf } from '../../support/previous-segments.js';

const THRESHOLDS = { ...DEFAULT_SEGMENT_SETTINGS.warnings, minCustomers: 10 };

const row = (segment: string, customers: number, equity: number, totalCustomers: number, totalEquity: number): SegmentRow => ({
  segment,
  customers,
  share: customers / totalCustomers,
  equity,
  equity_share: equity / totalEquity,
  average_clv: equity / customers,
  actions: [],
});

const channel = (name: string, customers: number, equity: number, totalCustomers: number, totalEquity: number, alive: number | null): ChannelRow => ({
  channel: name,
  customers,
  share: customers / totalCustomers,
  equity,
  equity_share: equity / totalEquity,
  average_clv: equity / customers,
  revenue: equity / 2,
  repeat_rate: 0.5,
  mean_probability_alive: alive,
  below_average: false,
});

/** Predicted CLV over 52 weeks at 10% a year, margin 1: how both runs below measure CLV. */
const WEEKLY: ClvMeasure = { ranking: 'predicted_clv', transactions: 'bgnbd', timeUnit: 'week', horizon: 52, discountRate: 0.1, margin: 1, lifespanYears: 3 };

/** 100 customers, equity 10 000: 20 high hold 6 000. */
/** The default cuts: tiers 20% and 50%, the value x loyalty and RFM defaults. */
const DEFAULT_CUTS: SegmentCuts = DEFAULT_SEGMENT_SETTINGS;

const PREVIOUS: RunSnapshot = {
  runDate: '2024-06-01',
  measure: WEEKLY,
  cuts: DEFAULT_CUTS,
  clvTiers: [row('high', 20, 6_000, 100, 10_000), row('mid', 50, 3_500, 100, 10_000), row('low', 30, 500, 100, 10_000)],
  valueLoyalty: [
    row('high_value_high_loyalty', 30, 7_000, 100, 10_000),
    row('high_value_low_loyalty', 20, 1_500, 100, 10_000),
    row('low_value_high_loyalty', 20, 1_000, 100, 10_000),
    row('low_value_low_loyalty', 30, 500, 100, 10_000),
  ],
  rfm: [row('Champions', 60, 8_000, 100, 10_000), row('At Risk', 40, 2_000, 100, 10_000)],
  channels: [channel('email', 60, 7_200, 100, 10_000, 0.7), channel('search', 40, 2_800, 100, 10_000, 0.6)],
  parameters: { r: { value: 0.25, standardError: 0.01 }, alpha: { value: 4, standardError: 0.5 } },
};

/** 110 customers, equity 11 000: the high tier's share fell to 50%, email's average CLV fell 25%. */
const CURRENT: RunSnapshot = {
  runDate: '2024-06-02',
  measure: WEEKLY,
  cuts: DEFAULT_CUTS,
  clvTiers: [row('high', 22, 5_500, 110, 11_000), row('mid', 55, 4_900, 110, 11_000), row('low', 33, 600, 110, 11_000)],
  valueLoyalty: [
    row('high_value_high_loyalty', 33, 7_500, 110, 11_000),
    row('high_value_low_loyalty', 22, 2_000, 110, 11_000),
    row('low_value_high_loyalty', 22, 1_000, 110, 11_000),
    row('low_value_low_loyalty', 33, 500, 110, 11_000),
  ],
  rfm: [row('Champions', 60, 7_000, 110, 11_000), row('At Risk', 50, 4_000, 110, 11_000)],
  channels: [channel('email', 60, 5_400, 110, 11_000, 0.6), channel('search', 40, 5_000, 110, 11_000, 0.6), channel('social', 10, 600, 110, 11_000, 0.5)],
  parameters: { r: { value: 0.3, standardError: 0.01 }, alpha: { value: 4.5, standardError: 0.5 } },
};

describe('changes versus the previous run', () => {
  it('says a first run has nothing to compare with', () => {
    // Act
    const changes = changesSincePreviousRun(CURRENT, null, THRESHOLDS);

    // Assess
    expect(changes.previous_run_date).toBeNull();
    expect(changes.note).toMatch(/no previous run/);
    expect([changes.totals, changes.tier_migration, changes.warnings, changes.clv_tiers]).toEqual([null, null, [], []]);
    expect(changesSchema.parse(changes)).toEqual(changes);
  });

  it('says a backfill older than every published night has none before it to compare with: not a first run', () => {
    const changes = changesSincePreviousRun(CURRENT, null, THRESHOLDS, null, null, '2024-06-09');

    expect(changes.note).toBe(
      'Backfill: no night before 2024-06-02 is published to compare with; 2024-06-09 and the nights after it are, and compared with what was published when they ran.',
    );
    expect(changes.warnings).toEqual([]);
  });

  it('says why there is nothing to compare with when an earlier night exists but cannot be read: not a first run', () => {
    const changes = changesSincePreviousRun(CURRENT, null, THRESHOLDS, null, '2026-01-10');

    expect(changes.previous_run_date).toBeNull();
    expect(changes.note).toBe('No comparison: the previous run, 2026-01-10, cannot be read (warning previous_run_unreadable), so tonight is compared with no earlier night.');
  });

  it('reports customers and equity per tier as current, previous, delta and relative change', () => {
    // Act
    const changes = changesSincePreviousRun(CURRENT, PREVIOUS, THRESHOLDS);

    // Assess
    expect(changes.previous_run_date).toBe('2024-06-01');
    expect(changes.totals?.customers).toEqual({ current: 110, previous: 100, delta: 10, relative_change: 0.1 });
    expect(changes.totals?.equity).toEqual({ current: 11_000, previous: 10_000, delta: 1_000, relative_change: 0.1 });
    expect(changes.clv_tiers[0]).toEqual({
      segment: 'high',
      customers: { current: 22, previous: 20, delta: 2, relative_change: 0.1 },
      equity: { current: 5_500, previous: 6_000, delta: -500, relative_change: expect.closeTo(-1 / 12, 12) as number },
      equity_share: { current: 0.5, previous: 0.6, delta: expect.closeTo(-0.1, 12) as number, relative_change: expect.closeTo(-1 / 6, 12) as number },
      average_clv: { current: 250, previous: 300, delta: -50, relative_change: expect.closeTo(-1 / 6, 12) as number },
    });
    expect(changesSchema.parse(changes)).toEqual(changes);
  });

  it('lists a channel new this run with a previous value of 0 and no relative change', () => {
    // Act
    const changes = changesSincePreviousRun(CURRENT, PREVIOUS, THRESHOLDS);

    // Assess
    expect(changes.channels.map((c) => c.channel)).toEqual(['email', 'search', 'social']);
    expect(changes.channels[2]?.customers).toEqual({ current: 10, previous: 0, delta: 10, relative_change: null });
  });

  it('reports mean P(alive) across channels, weighted by customers', () => {
    // Act
    const changes = changesSincePreviousRun(CURRENT, PREVIOUS, THRESHOLDS);

    // Assess
    expect(changes.totals?.mean_probability_alive.previous).toBeCloseTo(0.66, 12);
    expect(changes.totals?.mean_probability_alive.current).toBeCloseTo(65 / 110, 12);
  });

  it('warns when quality declines: high tier equity share, a channel average CLV, at-risk equity, a parameter', () => {
    // Act
    const changes = changesSincePreviousRun(CURRENT, PREVIOUS, THRESHOLDS);

    // Assess
    expect(changes.warnings.map((w) => [w.code, w.metric])).toEqual([
      ['mean_probability_alive_drop', 'mean_probability_alive'],
      ['high_tier_equity_share_drop', 'clv_tiers[high].equity_share'],
      ['segment_average_clv_drop', 'clv_tiers[high].average_clv'],
      ['at_risk_equity_share_rise', "rfm[At Risk + Can't Lose Them].equity_share"],
      ['channel_average_clv_drop', 'channels[email].average_clv'],
      ['parameter_shift', 'parameters[r]'],
    ]);
    const email = changes.warnings.find((w) => w.code === 'channel_average_clv_drop');
    expect(email).toMatchObject({ previous: 120, current: 90, threshold: 0.1 });
    expect(email?.message).toBe('Average CLV of customers acquired through "email" fell by 25.0% since 2024-06-01 (from 120.00 to 90.00).');
  });

  it.each([
    { threshold: 'channelAverageClvDrop', value: 0.3, gone: 'channel_average_clv_drop' },
    { threshold: 'highTierEquityShareDrop', value: 0.2, gone: 'high_tier_equity_share_drop' },
    { threshold: 'parameterShiftStandardErrors', value: 6, gone: 'parameter_shift' },
    { threshold: 'meanProbabilityAliveDrop', value: 0.1, gone: 'mean_probability_alive_drop' },
    { threshold: 'minCustomers', value: 61, gone: 'channel_average_clv_drop' },
  ])('stays quiet about $gone when $threshold is $value', ({ threshold, value, gone }) => {
    // Act
    const changes = changesSincePreviousRun(CURRENT, PREVIOUS, { ...THRESHOLDS, [threshold]: value });

    // Assess
    expect(changes.warnings.map((w) => w.code)).not.toContain(gone);
  });

  it('warns when customers or total equity fall, as missing input would cause', () => {
    // Prepare: CURRENT -> PREVIOUS read backwards is 110 -> 100 customers (−9.1%, past the 1% threshold)
    // and equity 11 000 -> 10 000 (−9.1%, under the 10% threshold). Halving every tier's equity
    // instead is 11 000 -> 5 500, −50%, past it.
    const halved: RunSnapshot = {
      ...PREVIOUS,
      clvTiers: CURRENT.clvTiers.map((r) => row(r.segment, r.customers, r.equity / 2, 110, 5_500)),
    };

    // Act
    const fewer = changesSincePreviousRun(PREVIOUS, CURRENT, THRESHOLDS);
    const poorer = changesSincePreviousRun(halved, CURRENT, THRESHOLDS);

    // Assess
    expect(THRESHOLDS.totalEquityDrop).toBe(0.1);
    expect(fewer.warnings.map((w) => w.code)).toContain('customer_count_drop');
    expect(fewer.warnings.find((w) => w.code === 'customer_count_drop')?.message).toMatch(/missing or truncated/);
    expect(fewer.warnings.map((w) => w.code)).not.toContain('total_equity_drop');
    expect(poorer.warnings.map((w) => w.code)).not.toContain('customer_count_drop');
    expect(poorer.warnings.find((w) => w.code === 'total_equity_drop')).toEqual({
      code: 'total_equity_drop',
      message: 'Total customer equity fell by 50.0% since 2024-06-02 (from 11,000.00 to 5,500.00).',
      metric: 'equity',
      previous: 11_000,
      current: 5_500,
      threshold: 0.1,
    });
  });

  it('compares no CLV value with a night that measured CLV otherwise, and says so once: another margin', () => {
    // Act
    const changes = changesSincePreviousRun({ ...CURRENT, measure: { ...WEEKLY, margin: 0.3 } }, PREVIOUS, THRESHOLDS);

    // Assess: the warnings on equity, its shares and average CLV are gone; those on customers, P(alive) and the fit stay
    expect(changes.warnings.map((w) => w.code)).toEqual(['clv_measure_changed', 'mean_probability_alive_drop', 'parameter_shift']);
    expect(changes.warnings[0]).toEqual({
      code: 'clv_measure_changed',
      message:
        'CLV is not measured as it was on 2024-06-01 (margin 1 on 2024-06-01, 0.3 tonight): equity and average CLV do not compare with that night\'s, so no warning compares them tonight.',
      metric: 'totals.equity',
      previous: 10_000,
      current: 11_000,
      threshold: 0,
    });
    expect(changes.note).toBe('Compared with the run of 2024-06-01. CLV is not measured as it was then (margin 1 on 2024-06-01, 0.3 tonight): its changes are no change in the customers.');
    // the tables of changes stay: what moved is shown, what it means is in the note
    expect(changes.totals?.equity).toMatchObject({ previous: 10_000, current: 11_000 });
    expect(changesSchema.parse(changes)).toEqual(changes);
  });

  it('tells apart what changes the measure of CLV from what does not', () => {
    const on = '2024-06-01';
    // the ranking basis: everything else follows from it
    expect(measureDifferences({ ...WEEKLY, ranking: 'historical_clv' }, WEEKLY, on)).toEqual(['CLV is historical tonight and was predicted on 2024-06-01']);
    // the horizon compares in days: 52 weeks are 364 days, not 365
    expect(measureDifferences({ ...WEEKLY, timeUnit: 'day', horizon: 364 }, WEEKLY, on)).toEqual([]);
    expect(measureDifferences({ ...WEEKLY, timeUnit: 'day', horizon: 365 }, WEEKLY, on)).toEqual(['horizon 364 days on 2024-06-01, 365 days tonight']);
    expect(measureDifferences({ ...WEEKLY, discountRate: 0.2, margin: 0.5 }, WEEKLY, on)).toHaveLength(2);
    expect(measureDifferences({ ...WEEKLY, transactions: 'pnbd' }, WEEKLY, on)).toEqual(['the BG/NBD predicted on 2024-06-01, the Pareto/NBD tonight']);
    // predicted CLV has no lifespan; historical CLV has no margin, horizon or discount rate
    expect(measureDifferences({ ...WEEKLY, lifespanYears: 5 }, WEEKLY, on)).toEqual([]);
    const historical: ClvMeasure = { ...WEEKLY, ranking: 'historical_clv' };
    expect(measureDifferences({ ...historical, margin: 0.3, horizon: 10 }, historical, on)).toEqual([]);
    expect(measureDifferences({ ...historical, lifespanYears: 5 }, historical, on)).toEqual(['lifespan 3 years on 2024-06-01, 5 years tonight']);
  });

  it('compares no P(alive) and no CLV with a night another transaction model predicted', () => {
    // Act: PREVIOUS -> CURRENT has a fall of mean P(alive) past the threshold; here it is the model's doing
    const changes = changesSincePreviousRun({ ...CURRENT, measure: { ...WEEKLY, transactions: 'pnbd' } }, PREVIOUS, THRESHOLDS);

    // Assess
    expect(changes.warnings.map((w) => w.code)).toEqual(['clv_measure_changed', 'parameter_shift']);
    expect(changes.warnings[0]?.message).toContain('the BG/NBD predicted on 2024-06-01, the Pareto/NBD tonight');
  });

  it('compares no scale parameter fitted in another time unit: alpha in days is not alpha in weeks', () => {
    // Prepare: the same customers fitted in days: alpha 7 times larger, r the same shape
    const daily: RunSnapshot = { ...CURRENT, measure: { ...WEEKLY, timeUnit: 'day', horizon: 364 }, parameters: { r: { value: 0.25, standardError: 0.01 }, alpha: { value: 28, standardError: 3.5 } } };

    // Act
    const changes = changesSincePreviousRun(daily, PREVIOUS, THRESHOLDS);

    // Assess
    expect(changes.parameters.map((p) => p.parameter)).toEqual(['r']);
    expect(changes.warnings.map((w) => w.code)).not.toContain('parameter_shift');
    expect(changes.note).toMatch(/time unit is days tonight and was weeks then: its scale parameters \(alpha, the Pareto\/NBD's beta\) are not compared/);
    // 52 weeks and 364 days are one horizon: CLV values still compare
    expect(changes.warnings.map((w) => w.code)).not.toContain('clv_measure_changed');
  });

  it('warns when the predictive model is lost, rather than reporting a fall in P(alive)', () => {
    // Prepare
    const failed: RunSnapshot = { ...CURRENT, channels: CURRENT.channels.map((c) => ({ ...c, mean_probability_alive: null })) };

    // Act
    const changes = changesSincePreviousRun(failed, PREVIOUS, THRESHOLDS);

    // Assess
    const codes = changes.warnings.map((w) => w.code);
    expect(codes).toContain('predictive_model_unavailable');
    expect(codes).not.toContain('mean_probability_alive_drop');
    expect(changes.totals?.mean_probability_alive).toEqual({ current: null, previous: expect.closeTo(0.66, 12) as number, delta: null, relative_change: null });
  });

  it('compares no tier with a night whose tiers were cut at other shares, and says so once', () => {
    // Prepare: the same customers and CLV, the top 10% high tonight where it was the top 20%
    const cutOtherwise: RunSnapshot = { ...CURRENT, cuts: { ...DEFAULT_CUTS, tiers: { high: 0.1, mid: 0.5 } } };

    // Act
    const changes = changesSincePreviousRun(cutOtherwise, PREVIOUS, THRESHOLDS);

    // Assess: the high tier's equity share and average CLV are not warned on; RFM, channels and the fit still are
    expect(changes.warnings.map((w) => [w.code, w.metric])).toEqual([
      ['segment_cuts_changed', 'run.settings.segments'],
      ['mean_probability_alive_drop', 'mean_probability_alive'],
      ['at_risk_equity_share_rise', "rfm[At Risk + Can't Lose Them].equity_share"],
      ['channel_average_clv_drop', 'channels[email].average_clv'],
      ['parameter_shift', 'parameters[r]'],
    ]);
    expect(changes.warnings[0]).toEqual({
      code: 'segment_cuts_changed',
      message:
        'The segments are not cut as they were on 2024-06-01 (segments.tiers.high 0.2 on 2024-06-01, 0.1 tonight): customers moved between those segments with no change in them, so no warning compares those segments tonight, and no customer entering or leaving the high tier is counted a mover.',
      metric: 'run.settings.segments',
      previous: null,
      current: null,
      threshold: 0,
    });
    expect(changes.note).toBe(
      'Compared with the run of 2024-06-01. The tiers are not cut as they were then (segments.tiers.high 0.2 on 2024-06-01, 0.1 tonight): the tier changes and the tier migration are no change in the customers.',
    );
    // the tables of changes stay: what moved is shown, what it means is in the note
    expect(changes.clv_tiers[0]?.customers).toMatchObject({ previous: 20, current: 22 });
    expect(changesSchema.parse(changes)).toEqual(changes);
  });

  it('compares no value x loyalty cell with a night that cut the cells otherwise; an RFM setting cuts no segment', () => {
    // rfm.monetary moves the monetary score, never a customer between segments: the At Risk share is still compared
    const rfmOtherwise = changesSincePreviousRun({ ...CURRENT, cuts: { ...DEFAULT_CUTS, rfm: { monetary: 'avg_order_value' } } }, PREVIOUS, THRESHOLDS);
    expect(rfmOtherwise.warnings.map((w) => w.code)).toContain('at_risk_equity_share_rise');
    expect(rfmOtherwise.warnings.map((w) => w.code)).not.toContain('segment_cuts_changed');

    // Prepare: a value x loyalty cell whose average CLV fell by a third, cut at the same shares or not
    const fallen: RunSnapshot = {
      ...CURRENT,
      valueLoyalty: CURRENT.valueLoyalty.map((r) => (r.segment === 'high_value_high_loyalty' ? { ...r, average_clv: r.average_clv / 1.5 } : r)),
    };
    const cellWarnings = (snapshot: RunSnapshot): string[] =>
      changesSincePreviousRun(snapshot, PREVIOUS, THRESHOLDS)
        .warnings.filter((w) => w.metric.startsWith('value_loyalty'))
        .map((w) => w.metric);
    const loyalty = (settings: Partial<SegmentCuts['valueLoyalty']>): RunSnapshot => ({ ...fallen, cuts: { ...DEFAULT_CUTS, valueLoyalty: { ...DEFAULT_CUTS.valueLoyalty, ...settings } } });
    expect(cellWarnings(fallen)).toEqual(['value_loyalty[high_value_high_loyalty].average_clv']);
    expect(cellWarnings(loyalty({ minRepeatPurchases: 2 }))).toEqual([]);
    // both nights had P(alive): the RFM recency fallback decided nobody's loyalty
    expect(cellWarnings(loyalty({ fallbackMinRecencyScore: 4 }))).toEqual(['value_loyalty[high_value_high_loyalty].average_clv']);
    expect(cellWarnings(loyalty({ minProbabilityAlive: 0.7 }))).toEqual([]);
  });

  it('compares the high tier with a night that cut only the mid tier otherwise, and the mid and low tiers not', () => {
    // Prepare: every tier's average CLV fell by a third; only tiers.mid differs
    const fallen: RunSnapshot = { ...CURRENT, clvTiers: CURRENT.clvTiers.map((r) => ({ ...r, average_clv: r.average_clv / 1.5 })), cuts: { ...DEFAULT_CUTS, tiers: { high: 0.2, mid: 0.4 } } };

    const changes = changesSincePreviousRun(fallen, PREVIOUS, THRESHOLDS);

    expect(changes.warnings.filter((w) => w.metric.startsWith('clv_tiers')).map((w) => w.metric)).toEqual(['clv_tiers[high].equity_share', 'clv_tiers[high].average_clv']);
    expect(changes.warnings.find((w) => w.code === 'segment_cuts_changed')?.message).not.toContain('mover');
    expect(changes.note).toBe(
      'Compared with the run of 2024-06-01. The mid and low tiers are not cut as they were then (segments.tiers.mid 0.5 on 2024-06-01, 0.4 tonight): their changes and the tier migration are no change in the customers.',
    );
  });

  it('compares segments as before with a night whose summary did not record its cuts (before 2.7.0)', () => {
    const changes = changesSincePreviousRun({ ...CURRENT, cuts: { ...DEFAULT_CUTS, tiers: { high: 0.1, mid: 0.5 } } }, { ...PREVIOUS, cuts: null }, THRESHOLDS);

    expect(changes.warnings.map((w) => w.code)).not.toContain('segment_cuts_changed');
    expect(changes.warnings.map((w) => w.code)).toContain('high_tier_equity_share_drop');
  });

  it('counts no movement into or out of a high tier cut otherwise, or out of a ranking that changed, and says why', () => {
    const on = { ...PREVIOUS, cuts: DEFAULT_CUTS };
    // the same cuts, the same measure: every movement counts
    expect(uncountedMovements(CURRENT, on)).toEqual([]);
    // a margin scales every predicted CLV alike: nobody crosses a cut because of it
    expect(uncountedMovements({ ...CURRENT, measure: { ...WEEKLY, margin: 0.3 } }, on)).toEqual([]);
    // the high tier is cut by tiers.high alone: another mid share moves nobody into or out of it
    expect(uncountedMovements({ ...CURRENT, cuts: { ...DEFAULT_CUTS, tiers: { high: 0.2, mid: 0.6 } } }, on)).toEqual([]);
    const tiers = uncountedMovements({ ...CURRENT, cuts: { ...DEFAULT_CUTS, tiers: { high: 0.25, mid: 0.5 } } }, on);
    expect(tiers).toEqual([
      { movement: 'entered_high', reason: 'the high tier is not cut as it was on 2024-06-01 (segments.tiers.high 0.2 on 2024-06-01, 0.25 tonight)' },
      { movement: 'left_high', reason: 'the high tier is not cut as it was on 2024-06-01 (segments.tiers.high 0.2 on 2024-06-01, 0.25 tonight)' },
    ]);
    // another horizon ranks customers otherwise
    expect(uncountedMovements({ ...CURRENT, measure: { ...WEEKLY, horizon: 104 } }, on).map((n) => [n.movement, n.reason])).toEqual([
      ['entered_high', 'customers are not ranked as they were on 2024-06-01 (horizon 364 days on 2024-06-01, 728 days tonight)'],
      ['left_high', 'customers are not ranked as they were on 2024-06-01 (horizon 364 days on 2024-06-01, 728 days tonight)'],
    ]);
    // no RFM setting moves a customer into At Risk
    expect(uncountedMovements({ ...CURRENT, cuts: { ...DEFAULT_CUTS, rfm: { monetary: 'avg_order_value' } } }, on)).toEqual([]);
    // a value x loyalty cell is no movement
    expect(uncountedMovements({ ...CURRENT, cuts: { ...DEFAULT_CUTS, valueLoyalty: { ...DEFAULT_CUTS.valueLoyalty, highValueShare: 0.3 } } }, on)).toEqual([]);
  });

  it('carries the tier migration matrix it is given', () => {
    // Prepare
    const migration = tierMigration(['high'], previousSegmentsOf(['a'], new Map<string, Tier>([['a', 'mid']])));

    // Act
    const changes = changesSincePreviousRun(CURRENT, PREVIOUS, THRESHOLDS, migration);

    // Assess
    expect(changes.tier_migration).toEqual(migration);
  });
});

describe('model parameter changes', () => {
  it('report deltas in the current fit\'s standard errors', () => {
    // Act
    const changes = parameterChanges(CURRENT.parameters, PREVIOUS.parameters);

    // Assess
    expect(changes).toEqual([
      {
        parameter: 'r', current: 0.3, previous: 0.25, delta: expect.closeTo(0.05, 12) as number,
        relative_change: expect.closeTo(0.2, 12) as number, standard_error: 0.01, delta_in_standard_errors: expect.closeTo(5, 9) as number,
      },
      { parameter: 'alpha', current: 4.5, previous: 4, delta: 0.5, relative_change: 0.125, standard_error: 0.5, delta_in_standard_errors: 1 },
    ]);
  });

  it('leave the shift in standard errors empty without a standard error, and list parameters one run lacks', () => {
    // Act
    const changes = parameterChanges({ p: { value: 2, standardError: null } }, { p: { value: 1, standardError: null }, q: { value: 3, standardError: 0.1 } });

    // Assess
    expect(changes).toEqual([
      { parameter: 'p', current: 2, previous: 1, delta: 1, relative_change: 1, standard_error: null, delta_in_standard_errors: null },
      { parameter: 'q', current: null, previous: 3, delta: null, relative_change: null, standard_error: 0.1, delta_in_standard_errors: null },
    ]);
  });
});

describe('tier migration', () => {
  it('counts customers per previous and current tier, with new customers and absent ones', () => {
    // Prepare
    const previous = new Map<string, Tier>([
      ['a', 'high'],
      ['b', 'high'],
      ['c', 'mid'],
      ['d', 'low'],
      ['gone', 'mid'],
    ]);

    // Act
    const cells = tierMigration(['high', 'mid', 'mid', 'high', 'low'], previousSegmentsOf(['a', 'b', 'c', 'd', 'fresh'], previous));

    // Assess
    const nonZero = cells.filter((c) => c.customers > 0).map((c) => `${c.from_tier}->${c.to_tier}: ${c.customers}`);
    expect(nonZero).toEqual(['high->high: 1', 'high->mid: 1', 'mid->mid: 1', 'mid->absent: 1', 'low->high: 1', 'new->low: 1']);
    expect(cells).toHaveLength(15);
  });

  it('adds up to the current customers (rows) and the previous customers (columns but "new")', () => {
    // Prepare
    const previous = new Map<string, Tier>([['x', 'low'], ['y', 'low'], ['z', 'high']]);
    const ids = ['x', 'new1', 'new2', 'z'];

    // Act
    const cells = tierMigration(['mid', 'high', 'low', 'high'], previousSegmentsOf(ids, previous));

    // Assess
    expect(cells.filter((c) => c.to_tier !== 'absent').reduce((s, c) => s + c.customers, 0)).toBe(ids.length);
    expect(cells.filter((c) => c.from_tier !== 'new').reduce((s, c) => s + c.customers, 0)).toBe(previous.size);
  });
});

describe('mean P(alive) of a run', () => {
  it('is empty when the run had no P(alive) or no customers', () => {
    expect(meanProbabilityAlive([])).toBeNull();
    expect(meanProbabilityAlive([channel('a', 1, 1, 1, 1, null)])).toBeNull();
  });
});
