import { acquisitionEconomics, type AcquisitionMonth } from '../domain/acquisition/economics.js';
import type { AcquisitionSettings } from '../domain/acquisition/settings.js';
import type { JudgedSpend } from '../domain/acquisition/spend.js';
import type { CustomerScores, CustomerTable } from '../domain/customers.js';
import {
  changesSincePreviousRun,
  tierMigration,
  uncountedMovements,
  type ClvMeasure,
  type ModelParameter,
  type RunSnapshot,
  type SegmentCuts,
} from '../domain/segments/changes.js';
import { MOVEMENTS, moversSince, NO_MOVERS, type PreviousSegments } from '../domain/segments/movers.js';
import { missingChannelLabel } from '../domain/segments/missing-channel-label.js';
import { segmentCustomers } from '../domain/segments/segment-customers.js';
import type { SegmentSettings } from '../domain/segments/settings.js';
import { valueCountsByPattern } from '../domain/segments/value-counts.js';
import type { Summary } from '../schemas/summary.js';
import type { RunSection } from '../schemas/summary-run.js';
import type { PreviousRun } from './previous-run.js';
import type { ScoredCustomers } from './score-customers.js';

export interface SegmentInput {
  readonly runDate: string;
  readonly asOfDay: number;
  readonly customers: CustomerTable;
  readonly scores: CustomerScores;
  /**
   * Predicted CLV per distinct scoring pattern and each customer's pattern (ScoredCustomers.byPattern),
   * null when the run has no predicted CLV: then `scores.rankingClv` is that column spread to the
   * customers, and the CLV's cut points are decided on the patterns' values.
   */
  readonly predictedClvByPattern: { readonly values: Float64Array; readonly patternOf: Int32Array } | null;
  /** How tonight measures CLV: the ranking basis and the settings it depends on. */
  readonly measure: ClvMeasure;
  /** Tonight's fitted parameters with their standard errors, by name. */
  readonly parameters: Readonly<Record<string, ModelParameter>>;
  readonly settings: SegmentSettings;
  /** The previous run (its summary), null without one. */
  readonly previous: PreviousRun | null;
  /** The run date of an earlier night that exists but cannot be compared with (its summary cannot be read); null otherwise. */
  readonly uncomparedPrevious: string | null;
  /** The earliest published run date after tonight's, when tonight is a backfill; null otherwise. */
  readonly laterRunDate: string | null;
  /** What the previous run said of each of tonight's customers; null without a previous run, or when its customers could not be read. */
  readonly previousSegments: PreviousSegments | null;
  /** Revenue by acquisition channel x month x month of age, from the engine. */
  readonly acquisitionMonths: readonly AcquisitionMonth[];
  /** The judged spend input; null without one. */
  readonly spend: JudgedSpend | null;
  /** Where a configured spend input held no spend file; null otherwise (see AcquisitionInput). */
  readonly spendMissingAt: string | null;
  /** Share of revenue that is profit (model margin). */
  readonly margin: number;
  readonly acquisition: AcquisitionSettings;
}

/**
 * A scored run's predicted CLV per scoring pattern with each customer's pattern, as
 * {@link SegmentInput} takes it; null when the run has no predicted CLV (it ranks on historical CLV).
 */
export const predictedClvByPattern = (scored: Pick<ScoredCustomers, 'byPattern'>): SegmentInput['predictedClvByPattern'] => {
  const values = scored.byPattern.columns.predicted_clv;
  return values === null ? null : { values, patternOf: scored.byPattern.patternOf };
};

/** How a published run measured CLV, from its summary. */
export const measureOf = (summary: Pick<Summary, 'run' | 'totals' | 'models'>): ClvMeasure => ({
  ranking: summary.totals.ranking_clv,
  transactions: summary.models.transactions,
  timeUnit: summary.run.settings.time_unit,
  horizon: summary.run.settings.horizon,
  discountRate: summary.run.settings.discount_rate,
  margin: summary.run.settings.margin,
  lifespanYears: summary.run.settings.lifespan_years,
});

/** The summary's record of how a run cut its segments (`run.settings.segments`). */
export const segmentCutsSettings = ({ tiers, valueLoyalty, rfm }: SegmentCuts): NonNullable<RunSection['settings']['segments']> => ({
  tiers: { high: tiers.high, mid: tiers.mid },
  value_loyalty: {
    high_value_share: valueLoyalty.highValueShare,
    min_probability_alive: valueLoyalty.minProbabilityAlive,
    min_repeat_purchases: valueLoyalty.minRepeatPurchases,
    fallback_min_recency_score: valueLoyalty.fallbackMinRecencyScore,
  },
  rfm: { monetary: rfm.monetary },
});

/** How a published run cut its segments, from its summary; null when it did not record them (before 2.7.0). */
export const segmentCutsOf = (summary: Pick<Summary, 'run'>): SegmentCuts | null => {
  const cuts = summary.run.settings.segments;
  if (cuts === undefined) return null;
  const v = cuts.value_loyalty;
  return {
    tiers: { high: cuts.tiers.high, mid: cuts.tiers.mid },
    valueLoyalty: {
      highValueShare: v.high_value_share,
      minProbabilityAlive: v.min_probability_alive,
      minRepeatPurchases: v.min_repeat_purchases,
      fallbackMinRecencyScore: v.fallback_min_recency_score,
    },
    rfm: { monetary: cuts.rfm.monetary },
  };
};

const snapshotOf = (
  runDate: string,
  measure: ClvMeasure,
  cuts: SegmentCuts | null,
  summary: Pick<Summary, 'segments' | 'channels'>,
  parameters: Readonly<Record<string, ModelParameter>>,
): RunSnapshot => ({
  runDate,
  measure,
  cuts,
  clvTiers: summary.segments.clv_tiers,
  valueLoyalty: summary.segments.value_loyalty,
  rfm: summary.segments.rfm,
  channels: summary.channels,
  parameters,
});

/**
 * Segments tonight's customers, compares the result with the previous run date's (tables and
 * movers), and adds the acquisition economics (whose warnings join the comparison's in
 * `changes.warnings`).
 */
export const segmentAndCompare = (input: SegmentInput, previousParameters: (summary: Summary) => Readonly<Record<string, ModelParameter>>) => {
  const byPattern = input.predictedClvByPattern;
  const clvCounts = byPattern === null ? undefined : valueCountsByPattern(byPattern.values, byPattern.patternOf);
  const missingChannel = missingChannelLabel(input.customers.acquisitionChannel, input.settings.channels.missingLabel);
  const settings: SegmentSettings = { ...input.settings, channels: { ...input.settings.channels, missingLabel: missingChannel.label } };
  const { columns, summary } = segmentCustomers(input.customers, input.scores, settings, input.asOfDay, clvCounts);
  const tonight = {
    segments: { clv_tiers: summary.clv_tiers, value_loyalty: summary.value_loyalty, rfm: summary.rfm },
    channels: summary.channels,
  };
  const previous = input.previous;
  const current = snapshotOf(input.runDate, input.measure, input.settings, tonight, input.parameters);
  const before = previous ? snapshotOf(previous.runDate, measureOf(previous.summary), segmentCutsOf(previous.summary), previous.summary, previousParameters(previous.summary)) : null;
  const changes = changesSincePreviousRun(
    current,
    before,
    input.settings.warnings,
    input.previousSegments ? tierMigration(columns.clvTier, input.previousSegments) : null,
    input.uncomparedPrevious,
    input.laterRunDate,
  );
  const economics = acquisitionEconomics({
    table: input.customers,
    scores: input.scores,
    segments: columns,
    months: input.acquisitionMonths,
    spend: input.spend,
    spendMissingAt: input.spendMissingAt,
    margin: input.margin,
    asOfDay: input.asOfDay,
    missingLabel: missingChannel.label,
    settings: input.acquisition,
  });
  const movers = input.previousSegments
    ? moversSince(columns.clvTier, columns.rfmSegment, input.previousSegments, before === null ? [] : uncountedMovements(current, before))
    : before === null
      ? NO_MOVERS
      : // compared with a previous run whose customers the engine could not read: nobody is known to have moved, or not
        { ...NO_MOVERS, notCounted: MOVEMENTS.map((movement) => ({ movement, reason: `the customers of the previous run, ${before.runDate}, could not be read (warning previous_customers_unreadable)` })) };
  return {
    columns,
    movers,
    summary: {
      ...tonight,
      cohorts: summary.cohorts,
      concentration: summary.concentration,
      ...economics.summary,
      changes: { ...changes, warnings: [...changes.warnings, ...(missingChannel.warning ? [missingChannel.warning] : []), ...economics.warnings] },
    },
  };
};
