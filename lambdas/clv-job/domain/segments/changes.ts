import type {
  ChannelChange,
  ChannelRow,
  Changes,
  Delta,
  MigrationCell,
  OptionalDelta,
  ParameterChange,
  SegmentChange,
  SegmentRow,
  Warning,
} from '../../schemas/summary-segments.js';
import type { Tier } from '../../schemas/tables.js';
import type { RfmSettings, TierCuts, ValueLoyaltySettings, WarningThresholds } from './settings.js';
import { NEW_SINCE, type NotCounted, type PreviousSegments } from './movers.js';
import { TIER_ORDER } from './tiers.js';
import { figure, money } from '../figure.js';
import { DAYS_PER_UNIT } from '../models/clv.js';
import type { TimeUnit } from '../../config.js';

/**
 * Changes versus the previous run date: how customers and equity moved per segment and channel,
 * how the model's parameters moved, how customers migrated between tiers, and early warnings in
 * plain words when quality declines. Pure: the pipeline reads the previous run's summary (and,
 * when it can, its customers' tiers) and hands them in.
 */

export const WARNING_CODES = [
  'customer_count_drop',
  'total_equity_drop',
  'high_tier_equity_share_drop',
  'segment_average_clv_drop',
  'channel_average_clv_drop',
  'mean_probability_alive_drop',
  'predictive_model_unavailable',
  'at_risk_equity_share_rise',
  'parameter_shift',
  // acquisition economics (domain/acquisition): tonight's channels, no previous run needed
  'ltv_to_cac_below_line',
  'ltv_to_cac_falling',
  'conversion_gap',
  'audience_mismatch',
  'trend_shift',
  'spend_rows_rejected',
  'spend_channel_without_customers',
  'spend_month_missing',
  'spend_input_missing',
  // tonight's channels: a real channel bears the label of customers without one (missing-channel-label.ts)
  'channel_label_taken',
  // tonight's CLV is measured otherwise than the previous run's (its basis or a setting it depends on)
  'clv_measure_changed',
  // tonight's segments are cut otherwise than the previous run's (tier shares, value x loyalty settings)
  'segment_cuts_changed',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export const MIGRATION_FROM = [...TIER_ORDER, 'new'] as const;
export const MIGRATION_TO = [...TIER_ORDER, 'absent'] as const;

/** A fitted model parameter, taken generically (`r`, `alpha`, `p`, ...). */
export interface ModelParameter {
  readonly value: number;
  /** Null when the fit gave none (e.g. no Hessian). */
  readonly standardError: number | null;
}

/**
 * How a run measured CLV, which its equity and average CLV mean (summary `totals.ranking_clv` and
 * `run.settings`): the ranking basis, and the settings that basis depends on. Predicted CLV depends
 * on the horizon (compared in days), the annual discount rate and the margin; historical CLV on the
 * lifespan (HISTORICAL_CLV). The time unit is the unit of the transaction model's scale parameters.
 */
export interface ClvMeasure {
  readonly ranking: 'predicted_clv' | 'historical_clv';
  /** The transaction model that predicts: its P(alive) and predicted CLV are its own (the BG/NBD's P(alive) is 1 for a one-time buyer, the Pareto/NBD's is not). */
  readonly transactions: 'bgnbd' | 'pnbd';
  readonly timeUnit: TimeUnit;
  /** In `timeUnit`s. */
  readonly horizon: number;
  readonly discountRate: number;
  readonly margin: number;
  readonly lifespanYears: number;
}

/** The parameters measured in the model's time unit (rates' scales): the others are shapes, the same in days or weeks. */
const TIME_SCALE_PARAMETERS: ReadonlySet<string> = new Set(['alpha', 'pareto_nbd.alpha', 'pareto_nbd.beta']);

const BASIS_NAME = { predicted_clv: 'predicted', historical_clv: 'historical' } as const;
const MODEL_NAME = { bgnbd: 'BG/NBD', pnbd: 'Pareto/NBD' } as const;

/** Whether P(alive) is one model's on one night and another's on the other: its mean then moves with no customer changing. */
const otherModel = (current: ClvMeasure, previous: ClvMeasure): boolean => current.transactions !== previous.transactions;

/**
 * What makes tonight's CLV values incomparable with the previous run's, in words (empty when they
 * compare): another ranking basis, or a setting tonight's basis depends on that differs.
 */
export const measureDifferences = (current: ClvMeasure, previous: ClvMeasure, previousRunDate: string): string[] => {
  if (current.ranking !== previous.ranking) {
    return [`CLV is ${BASIS_NAME[current.ranking]} tonight and was ${BASIS_NAME[previous.ranking]} on ${previousRunDate}`];
  }
  const differences: string[] = [];
  const differs = (name: string, now: number, before: number, unit = ''): void => {
    if (now !== before) differences.push(`${name} ${figure(before)}${unit} on ${previousRunDate}, ${figure(now)}${unit} tonight`);
  };
  if (current.ranking === 'predicted_clv') {
    if (otherModel(current, previous)) {
      differences.push(`the ${MODEL_NAME[previous.transactions]} predicted on ${previousRunDate}, the ${MODEL_NAME[current.transactions]} tonight`);
    }
    differs('horizon', current.horizon * DAYS_PER_UNIT[current.timeUnit], previous.horizon * DAYS_PER_UNIT[previous.timeUnit], ' days');
    differs('discount rate', current.discountRate, previous.discountRate);
    differs('margin', current.margin, previous.margin);
  } else {
    differs('lifespan', current.lifespanYears, previous.lifespanYears, ' years');
  }
  return differences;
};

/**
 * How a run cut its segments out of its customers (summary `run.settings.segments`): the settings
 * its tiers, value x loyalty cells and RFM segments depend on. Another cut moves customers between
 * segments with no customer changing.
 */
export interface SegmentCuts {
  readonly tiers: TierCuts;
  readonly valueLoyalty: ValueLoyaltySettings;
  readonly rfm: RfmSettings;
}

/**
 * What cuts tonight's segments otherwise than the previous run's, in words (empty when they are cut
 * alike): only settings that decide who is in which segment. The RFM settings decide none (its
 * segments come from the recency and frequency scores; `rfm.monetary` moves the monetary score only).
 */
export interface CutDifferences {
  /** `tiers.high`: who is in the high tier (the high-tier movers, its equity share). */
  readonly highTier: readonly string[];
  /** Any tier share: who is in the mid and low tiers too. */
  readonly clvTiers: readonly string[];
  /** The value x loyalty rule in force on both nights. */
  readonly valueLoyalty: readonly string[];
}

const NO_CUT_DIFFERENCES: CutDifferences = { highTier: [], clvTiers: [], valueLoyalty: [] };

/** The settings, by their config names (`segments.<scheme>.<field>`), whose values differ. */
const settingDifferences = (scheme: string, now: object, before: object, previousRunDate: string, fields: readonly string[] = Object.keys(now)): string[] => {
  const is = now as Readonly<Record<string, unknown>>;
  const was = before as Readonly<Record<string, unknown>>;
  // exactly as configured (a share 0.2 against 0.20001 differs)
  return fields
    .filter((field) => is[field] !== was[field])
    .map((field) => `segments.${scheme}.${field} ${JSON.stringify(was[field])} on ${previousRunDate}, ${JSON.stringify(is[field])} tonight`);
};

/** Whether a run's loyalty was P(alive) at least `minProbabilityAlive` (a trusted fit), rather than the RFM recency fallback. */
const loyalByProbability = (run: RunSnapshot): boolean => meanProbabilityAlive(run.channels) !== null;

/**
 * What cuts tonight's segments otherwise than the previous run's. A run whose summary did not record
 * its cuts (`cuts` null: written before 2.7.0) is taken as cut alike: nothing says otherwise.
 */
export const cutDifferences = (current: RunSnapshot, previous: RunSnapshot): CutDifferences => {
  if (current.cuts === null || previous.cuts === null) return NO_CUT_DIFFERENCES;
  const on = previous.runDate;
  const { tiers, valueLoyalty } = current.cuts;
  const byProbability = loyalByProbability(current);
  // the loyalty threshold of the rule both nights used; when one used P(alive) and the other the fallback, the fit's trust moved them, not a setting
  const loyaltyField = byProbability === loyalByProbability(previous) ? [byProbability ? 'minProbabilityAlive' : 'fallbackMinRecencyScore'] : [];
  return {
    highTier: settingDifferences('tiers', tiers, previous.cuts.tiers, on, ['high']),
    clvTiers: settingDifferences('tiers', tiers, previous.cuts.tiers, on),
    valueLoyalty: settingDifferences('valueLoyalty', valueLoyalty, previous.cuts.valueLoyalty, on, ['highValueShare', 'minRepeatPurchases', ...loyaltyField]),
  };
};

/**
 * The movements that would count customers moved by a setting rather than by what they did: into
 * and out of the high tier when its share differs, or CLV is measured in a way that ranks customers
 * otherwise (another basis, transaction model, horizon or discount rate; a margin or a lifespan
 * scales every CLV alike, so it moves nobody across a cut). Empty when every movement counts (no
 * RFM setting moves anybody into At Risk).
 */
export const uncountedMovements = (current: RunSnapshot, previous: RunSnapshot): NotCounted[] => {
  const { highTier } = cutDifferences(current, previous);
  const reranked = measureDifferences({ ...current.measure, margin: previous.measure.margin, lifespanYears: previous.measure.lifespanYears }, previous.measure, previous.runDate);
  const reason =
    highTier.length > 0
      ? `the high tier is not cut as it was on ${previous.runDate} (${highTier.join('; ')})`
      : reranked.length > 0
        ? `customers are not ranked as they were on ${previous.runDate} (${reranked.join('; ')})`
        : null;
  return reason === null ? [] : (['entered_high', 'left_high'] as const).map((movement) => ({ movement, reason }));
};

/** What one run contributes to a comparison: its summary tables, model parameters and how it measured CLV and cut its segments. */
export interface RunSnapshot {
  readonly runDate: string;
  readonly measure: ClvMeasure;
  /** Null when the run's summary did not record them (written before 2.7.0). */
  readonly cuts: SegmentCuts | null;
  readonly clvTiers: readonly SegmentRow[];
  readonly valueLoyalty: readonly SegmentRow[];
  readonly rfm: readonly SegmentRow[];
  readonly channels: readonly ChannelRow[];
  readonly parameters: Readonly<Record<string, ModelParameter>>;
}

/** RFM segments whose growth means valuable customers are slipping away. */
const AT_RISK_SEGMENTS: ReadonlySet<string> = new Set(['At Risk', "Can't Lose Them"]);

const relativeChange = (current: number, previous: number): number | null =>
  previous === 0 ? null : (current - previous) / Math.abs(previous);

export const delta = (current: number, previous: number): Delta => ({
  current,
  previous,
  delta: current - previous,
  relative_change: relativeChange(current, previous),
});

export const optionalDelta = (current: number | null, previous: number | null): OptionalDelta =>
  current === null || previous === null
    ? { current, previous, delta: null, relative_change: null }
    : delta(current, previous);

const sumOf = (rows: readonly { readonly customers: number; readonly equity: number }[]) =>
  rows.reduce((acc, row) => ({ customers: acc.customers + row.customers, equity: acc.equity + row.equity }), { customers: 0, equity: 0 });

/** Customer-weighted mean of the channels' mean P(alive); null when the run had none. */
export const meanProbabilityAlive = (channels: readonly ChannelRow[]): number | null => {
  let customers = 0;
  let weighted = 0;
  for (const row of channels) {
    if (row.mean_probability_alive === null) return null;
    customers += row.customers;
    weighted += row.customers * row.mean_probability_alive;
  }
  return customers === 0 ? null : weighted / customers;
};

const EMPTY_ROW = { customers: 0, equity: 0, equity_share: 0, average_clv: 0 } as const;

/** Rows of both runs matched by name: this run's order first, then names only the previous run had. */
const matchRows = <R>(current: readonly R[], previous: readonly R[], name: (row: R) => string): [string, R | undefined, R | undefined][] => {
  const before = new Map(previous.map((row) => [name(row), row]));
  const now = new Map(current.map((row) => [name(row), row]));
  return [
    ...current.map((row): [string, R | undefined, R | undefined] => [name(row), row, before.get(name(row))]),
    ...previous.filter((row) => !now.has(name(row))).map((row): [string, R | undefined, R | undefined] => [name(row), undefined, row]),
  ];
};

type Measured = Pick<SegmentRow, 'customers' | 'equity' | 'equity_share' | 'average_clv'>;

const measureDeltas = (current: Measured | undefined, previous: Measured | undefined) => {
  const c = current ?? EMPTY_ROW;
  const p = previous ?? EMPTY_ROW;
  return {
    customers: delta(c.customers, p.customers),
    equity: delta(c.equity, p.equity),
    equity_share: delta(c.equity_share, p.equity_share),
    average_clv: delta(c.average_clv, p.average_clv),
  };
};

export const segmentChanges = (current: readonly SegmentRow[], previous: readonly SegmentRow[]): SegmentChange[] =>
  matchRows(current, previous, (row) => row.segment).map(([segment, c, p]) => ({ segment, ...measureDeltas(c, p) }));

export const channelChanges = (current: readonly ChannelRow[], previous: readonly ChannelRow[]): ChannelChange[] =>
  matchRows(current, previous, (row) => row.channel).map(([channel, c, p]) => ({ channel, ...measureDeltas(c, p) }));

/**
 * Parameter moves, in the current fit's standard errors (the previous fit's when the current has
 * none): the question is whether the new estimate is far from the old one given its own precision.
 */
export const parameterChanges = (
  current: Readonly<Record<string, ModelParameter>>,
  previous: Readonly<Record<string, ModelParameter>>,
): ParameterChange[] => {
  const names = [...Object.keys(current), ...Object.keys(previous).filter((k) => !(k in current))];
  return names.map((parameter) => {
    const c = current[parameter];
    const p = previous[parameter];
    const d = optionalDelta(c?.value ?? null, p?.value ?? null);
    const standardError = c?.standardError ?? p?.standardError ?? null;
    return {
      parameter,
      current: d.current,
      previous: d.previous,
      delta: d.delta,
      relative_change: d.relative_change,
      standard_error: standardError,
      delta_in_standard_errors: d.delta !== null && standardError !== null && standardError > 0 ? d.delta / standardError : null,
    };
  });
};

/**
 * Tier migration: customers per (previous tier, current tier), with "new" for customers the
 * previous run did not have and "absent" for previous customers missing now. `previous` is
 * index-aligned with tonight's tiers (PreviousSegments); absentees are counted as the previous
 * tier's size minus those found again. O(n), no per-customer allocation.
 */
export const tierMigration = (tiers: readonly Tier[], previous: Pick<PreviousSegments, 'tier' | 'tierSizes'>): MigrationCell[] => {
  const index = (tier: Tier): number => TIER_ORDER.indexOf(tier);
  const NEW = TIER_ORDER.length;
  const ABSENT = TIER_ORDER.length;
  const counts = Array.from({ length: MIGRATION_FROM.length }, () => new Array<number>(MIGRATION_TO.length).fill(0));
  for (let i = 0; i < tiers.length; i += 1) {
    const before = previous.tier[i] as number;
    const row = counts[before === NEW_SINCE ? NEW : before] as number[];
    const to = index(tiers[i] as Tier);
    row[to] = (row[to] as number) + 1;
  }
  for (let from = 0; from < TIER_ORDER.length; from += 1) {
    const row = counts[from] as number[];
    const found = row.slice(0, TIER_ORDER.length).reduce((a, b) => a + b, 0);
    row[ABSENT] = (previous.tierSizes[from] as number) - found;
  }
  return MIGRATION_FROM.flatMap((fromTier, from) =>
    MIGRATION_TO.filter((toTier) => !(fromTier === 'new' && toTier === 'absent')).map((toTier) => ({
      from_tier: fromTier,
      to_tier: toTier,
      customers: (counts[from] as number[])[MIGRATION_TO.indexOf(toTier)] as number,
    })),
  );
};

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** A relative fall larger than `threshold` (0.1 = 10%). */
const fellBy = (d: Delta, threshold: number): boolean => d.relative_change !== null && d.relative_change < -threshold;

interface WarningContext {
  /** What makes tonight's CLV values incomparable with the previous run's; empty when they compare. */
  readonly measureChanged: readonly string[];
  /** What makes tonight's segments incomparable with the previous run's, per scheme. */
  readonly cutsChanged: CutDifferences;
  readonly current: RunSnapshot;
  readonly previous: RunSnapshot;
  readonly thresholds: WarningThresholds;
  readonly totals: NonNullable<Changes['totals']>;
  readonly parameters: readonly ParameterChange[];
}

const totalsWarnings = ({ current, previous, thresholds, totals, measureChanged, cutsChanged }: WarningContext): Warning[] => {
  const warnings: Warning[] = [];
  if (fellBy(totals.customers, thresholds.customerCountDrop)) {
    warnings.push({
      code: 'customer_count_drop',
      message: `Customers fell from ${totals.customers.previous} on ${previous.runDate} to ${totals.customers.current}. Customers only accumulate from night to night, so input exports are probably missing or truncated.`,
      metric: 'customers',
      previous: totals.customers.previous,
      current: totals.customers.current,
      threshold: thresholds.customerCountDrop,
    });
  }
  if (measureChanged.length > 0) {
    warnings.push({
      code: 'clv_measure_changed',
      message: `CLV is not measured as it was on ${previous.runDate} (${measureChanged.join('; ')}): equity and average CLV do not compare with that night's, so no warning compares them tonight.`,
      metric: 'totals.equity',
      previous: totals.equity.previous,
      current: totals.equity.current,
      threshold: 0,
    });
  } else if (fellBy(totals.equity, thresholds.totalEquityDrop)) {
    warnings.push({
      code: 'total_equity_drop',
      message: `Total customer equity fell by ${percent(-(totals.equity.relative_change ?? 0))} since ${previous.runDate} (from ${money(totals.equity.previous)} to ${money(totals.equity.current)}).`,
      metric: 'equity',
      previous: totals.equity.previous,
      current: totals.equity.current,
      threshold: thresholds.totalEquityDrop,
    });
  }
  const cutChanges = [...cutsChanged.clvTiers, ...cutsChanged.valueLoyalty];
  if (cutChanges.length > 0) {
    const movers = cutsChanged.highTier.length > 0 ? ', and no customer entering or leaving the high tier is counted a mover' : '';
    warnings.push({
      code: 'segment_cuts_changed',
      message: `The segments are not cut as they were on ${previous.runDate} (${cutChanges.join('; ')}): customers moved between those segments with no change in them, so no warning compares those segments tonight${movers}.`,
      metric: 'run.settings.segments',
      previous: null,
      current: null,
      threshold: 0,
    });
  }
  const alive = totals.mean_probability_alive;
  if (alive.previous !== null && alive.current === null) {
    warnings.push({
      code: 'predictive_model_unavailable',
      message: `The predictive model could not be trusted this run (it could on ${previous.runDate}): CLV is historical, and P(alive) is unavailable.`,
      metric: 'mean_probability_alive',
      previous: alive.previous,
      current: null,
      threshold: 0,
    });
  } else if (alive.delta !== null && alive.delta < -thresholds.meanProbabilityAliveDrop && !otherModel(current.measure, previous.measure)) {
    warnings.push({
      code: 'mean_probability_alive_drop',
      message: `The average probability that a customer is still active fell from ${percent(alive.previous ?? 0)} to ${percent(alive.current ?? 0)} since ${previous.runDate}.`,
      metric: 'mean_probability_alive',
      previous: alive.previous,
      current: alive.current,
      threshold: thresholds.meanProbabilityAliveDrop,
    });
  }
  return warnings;
};

const segmentWarnings = ({ current, previous, thresholds, measureChanged, cutsChanged }: WarningContext): Warning[] => {
  const warnings: Warning[] = [];
  // shares of equity and average CLV, each measured as its night measured CLV
  if (measureChanged.length > 0) return warnings;
  const highNow = current.clvTiers.find((row) => row.segment === 'high');
  const highBefore = previous.clvTiers.find((row) => row.segment === 'high');
  if (cutsChanged.highTier.length === 0 && highNow !== undefined && highBefore !== undefined && fellBy(delta(highNow.equity_share, highBefore.equity_share), thresholds.highTierEquityShareDrop)) {
    warnings.push({
      code: 'high_tier_equity_share_drop',
      message: `The high tier's share of customer equity fell from ${percent(highBefore.equity_share)} to ${percent(highNow.equity_share)} since ${previous.runDate}: value is less concentrated in the best customers.`,
      metric: 'clv_tiers[high].equity_share',
      previous: highBefore.equity_share,
      current: highNow.equity_share,
      threshold: thresholds.highTierEquityShareDrop,
    });
  }
  // the high tier is cut by tiers.high alone; the mid and low tiers by both shares
  const cutOtherwise = (scheme: 'clv_tiers' | 'value_loyalty', segment: string): boolean =>
    scheme === 'value_loyalty' ? cutsChanged.valueLoyalty.length > 0 : (segment === 'high' ? cutsChanged.highTier : cutsChanged.clvTiers).length > 0;
  const schemes = [
    ['clv_tiers', 'CLV tier', current.clvTiers, previous.clvTiers],
    ['value_loyalty', 'value x loyalty cell', current.valueLoyalty, previous.valueLoyalty],
  ] as const;
  for (const [scheme, label, now, before] of schemes) {
    for (const [segment, c, p] of matchRows(now, before, (row) => row.segment)) {
      if (c === undefined || p === undefined || cutOtherwise(scheme, segment)) continue;
      if (c.customers < thresholds.minCustomers || p.customers < thresholds.minCustomers) continue;
      if (!fellBy(delta(c.average_clv, p.average_clv), thresholds.segmentAverageClvDrop)) continue;
      warnings.push({
        code: 'segment_average_clv_drop',
        message: `Average CLV in the ${label} "${segment}" fell by ${percent(1 - c.average_clv / p.average_clv)} since ${previous.runDate} (from ${money(p.average_clv)} to ${money(c.average_clv)}).`,
        metric: `${scheme}[${segment}].average_clv`,
        previous: p.average_clv,
        current: c.average_clv,
        threshold: thresholds.segmentAverageClvDrop,
      });
    }
  }
  const atRiskShare = (rows: readonly SegmentRow[]): number =>
    rows.filter((row) => AT_RISK_SEGMENTS.has(row.segment)).reduce((sum, row) => sum + row.equity_share, 0);
  const riskNow = atRiskShare(current.rfm);
  const riskBefore = atRiskShare(previous.rfm);
  if (current.rfm.length > 0 && previous.rfm.length > 0 && riskNow - riskBefore > thresholds.atRiskEquityShareRise) {
    warnings.push({
      code: 'at_risk_equity_share_rise',
      message: `The share of equity held by "At Risk" and "Can't Lose Them" customers rose from ${percent(riskBefore)} to ${percent(riskNow)} since ${previous.runDate}: valuable customers are going quiet.`,
      metric: 'rfm[At Risk + Can\'t Lose Them].equity_share',
      previous: riskBefore,
      current: riskNow,
      threshold: thresholds.atRiskEquityShareRise,
    });
  }
  return warnings;
};

const channelWarnings = ({ current, previous, thresholds, measureChanged }: WarningContext): Warning[] =>
  matchRows(current.channels, previous.channels, (row) => row.channel).flatMap(([channel, c, p]): Warning[] => {
    if (c === undefined || p === undefined || measureChanged.length > 0) return [];
    if (c.customers < thresholds.minCustomers || p.customers < thresholds.minCustomers) return [];
    if (!fellBy(delta(c.average_clv, p.average_clv), thresholds.channelAverageClvDrop)) return [];
    return [
      {
        code: 'channel_average_clv_drop',
        message: `Average CLV of customers acquired through "${channel}" fell by ${percent(1 - c.average_clv / p.average_clv)} since ${previous.runDate} (from ${money(p.average_clv)} to ${money(c.average_clv)}).`,
        metric: `channels[${channel}].average_clv`,
        previous: p.average_clv,
        current: c.average_clv,
        threshold: thresholds.channelAverageClvDrop,
      },
    ];
  });

const parameterWarnings = ({ previous, thresholds, parameters }: WarningContext): Warning[] =>
  parameters.flatMap((change): Warning[] =>
    change.delta_in_standard_errors !== null && Math.abs(change.delta_in_standard_errors) > thresholds.parameterShiftStandardErrors
      ? [
          {
            code: 'parameter_shift',
            message: `Model parameter ${change.parameter} moved from ${figure(change.previous ?? 0)} to ${figure(change.current ?? 0)} since ${previous.runDate}, ${Math.abs(change.delta_in_standard_errors).toFixed(1)} standard errors: customer behaviour or the input data changed.`,
            metric: `parameters[${change.parameter}]`,
            previous: change.previous,
            current: change.current,
            threshold: thresholds.parameterShiftStandardErrors,
          },
        ]
      : [],
  );

export const FIRST_RUN_NOTE = 'First run: there is no previous run to compare with.';
/** How `changes.note` begins its sentence on tiers cut at another high share than the previous run's: every tier is re-cut. */
export const TIERS_RECUT_NOTE = 'The tiers are not cut as they were then';
/** ... and at the same high share but another mid share: the high tier compares, the mid and low tiers do not. */
export const MID_LOW_RECUT_NOTE = 'The mid and low tiers are not cut as they were then';
/** How the note of a backfill begins: a night older than every published one, with later nights published. */
export const BACKFILL_NOTE_PREFIX = 'Backfill:';

/**
 * Changes of `current` versus `previous`; without `previous` the note says why there is nothing to
 * compare with: a first run, an earlier night, `uncompared`, whose summary cannot be read, or a
 * backfill older than every published night (`laterRunDate`, the earliest published after it).
 * `migration` comes from {@link tierMigration} when the previous run's customer tiers could be
 * read; without it `tier_migration` is null.
 */
export const changesSincePreviousRun = (
  current: RunSnapshot,
  previous: RunSnapshot | null,
  thresholds: WarningThresholds,
  migration: readonly MigrationCell[] | null = null,
  uncompared: string | null = null,
  laterRunDate: string | null = null,
): Changes => {
  if (previous === null) {
    return {
      previous_run_date: null,
      note:
        uncompared !== null
          ? `No comparison: the previous run, ${uncompared}, cannot be read (warning previous_run_unreadable), so tonight is compared with no earlier night.`
          : laterRunDate !== null
            ? `${BACKFILL_NOTE_PREFIX} no night before ${current.runDate} is published to compare with; ${laterRunDate} and the nights after it are, and compared with what was published when they ran.`
            : FIRST_RUN_NOTE,
      totals: null,
      clv_tiers: [],
      value_loyalty: [],
      rfm: [],
      channels: [],
      parameters: [],
      tier_migration: null,
      warnings: [],
    };
  }
  const now = sumOf(current.clvTiers);
  const before = sumOf(previous.clvTiers);
  const totals = {
    customers: delta(now.customers, before.customers),
    equity: delta(now.equity, before.equity),
    mean_probability_alive: optionalDelta(meanProbabilityAlive(current.channels), meanProbabilityAlive(previous.channels)),
  };
  // a scale parameter fitted in days is not the one fitted in weeks (alpha in days is 7 times alpha in weeks)
  const otherUnit = current.measure.timeUnit !== previous.measure.timeUnit;
  const comparable = (values: Readonly<Record<string, ModelParameter>>) =>
    otherUnit ? Object.fromEntries(Object.entries(values).filter(([name]) => !TIME_SCALE_PARAMETERS.has(name))) : values;
  const parameters = parameterChanges(comparable(current.parameters), comparable(previous.parameters));
  const measureChanged = measureDifferences(current.measure, previous.measure, previous.runDate);
  const cutsChanged = cutDifferences(current, previous);
  const context: WarningContext = { measureChanged, cutsChanged, current, previous, thresholds, totals, parameters };
  // another high share re-cuts every tier; another mid share the mid and low tiers only
  const cutNotes = [
    cutsChanged.highTier.length > 0
      ? ([TIERS_RECUT_NOTE, cutsChanged.clvTiers, 'the tier changes and the tier migration'] as const)
      : ([MID_LOW_RECUT_NOTE, cutsChanged.clvTiers, 'their changes and the tier migration'] as const),
    ['The value x loyalty cells are not cut as they were then', cutsChanged.valueLoyalty, 'the cells\' changes'] as const,
  ];
  const notes = [
    `Compared with the run of ${previous.runDate}.`,
    ...(measureChanged.length > 0 ? [`CLV is not measured as it was then (${measureChanged.join('; ')}): its changes are no change in the customers.`] : []),
    ...cutNotes.flatMap(([what, differences, changes]) => (differences.length > 0 ? [`${what} (${differences.join('; ')}): ${changes} are no change in the customers.`] : [])),
    ...(otherUnit
      ? [`The model's time unit is ${current.measure.timeUnit}s tonight and was ${previous.measure.timeUnit}s then: its scale parameters (alpha, the Pareto/NBD's beta) are not compared.`]
      : []),
  ];
  return {
    previous_run_date: previous.runDate,
    note: notes.join(' '),
    totals,
    clv_tiers: segmentChanges(current.clvTiers, previous.clvTiers),
    value_loyalty: segmentChanges(current.valueLoyalty, previous.valueLoyalty),
    rfm: segmentChanges(current.rfm, previous.rfm),
    channels: channelChanges(current.channels, previous.channels),
    parameters,
    tier_migration: migration === null ? null : [...migration],
    warnings: [...totalsWarnings(context), ...segmentWarnings(context), ...channelWarnings(context), ...parameterWarnings(context)],
  };
};
