import { DEFAULT_ACTIONS, mergeActions, type ActionsOverrides, type ActionsTable } from './actions.js';

/** How the 2x2 value x loyalty matrix splits customers (see `value-loyalty.ts`). */
export interface ValueLoyaltySettings {
  /** Share of customers, by ranking CLV, that is high value. @default 0.5 (above the median) */
  readonly highValueShare: number;
  /** Lowest P(alive) that counts as loyal, when the predictive fit is trusted. @default 0.5 */
  readonly minProbabilityAlive: number;
  /** Repeat purchase days (frequency) a customer needs to count as loyal. @default 1 */
  readonly minRepeatPurchases: number;
  /** Without P(alive): lowest RFM recency score (1-5) that counts as loyal. @default 3 */
  readonly fallbackMinRecencyScore: number;
}

export interface RfmSettings {
  /**
   * The monetary measure: total revenue to date (as the R `rfm` package scores it) or the
   * average revenue per purchase day. @default 'total_revenue'
   */
  readonly monetary: 'total_revenue' | 'avg_order_value';
}

export interface ChannelSettings {
  /** Label of customers whose export carries no channel. @default '(none)' */
  readonly missingLabel: string;
}

export interface ConcentrationSettings {
  /** Points of each Lorenz curve, evenly spaced in customer share from 0 to 1. @default 101 */
  readonly lorenzPoints: number;
}

/**
 * When `changes.warnings` speaks up. Drops and rises named "relative" compare with the previous
 * value (0.1 = a 10% fall); "points" are absolute differences of a probability or share.
 */
export interface WarningThresholds {
  /** A channel's average CLV falls by more than this, relative. @default 0.1 */
  readonly channelAverageClvDrop: number;
  /** A CLV tier's or value x loyalty cell's average CLV falls by more than this, relative. @default 0.1 */
  readonly segmentAverageClvDrop: number;
  /** The high tier's share of equity falls by more than this, relative. @default 0.1 */
  readonly highTierEquityShareDrop: number;
  /** Total equity falls by more than this, relative. @default 0.1 */
  readonly totalEquityDrop: number;
  /**
   * The customer count falls by more than this, relative. Customers only accumulate from run to
   * run, so any fall points at missing or truncated input. @default 0.01
   */
  readonly customerCountDrop: number;
  /** Mean P(alive) over all customers falls by more than this many points. @default 0.05 */
  readonly meanProbabilityAliveDrop: number;
  /** The RFM "At Risk" and "Can't Lose Them" segments' equity share rises by more than this many points. @default 0.05 */
  readonly atRiskEquityShareRise: number;
  /** A model parameter moves by more than this many standard errors. @default 3 */
  readonly parameterShiftStandardErrors: number;
  /**
   * Channels and segments smaller than this (in either run) raise no average-CLV warnings: a
   * handful of customers moves an average by chance. @default 30
   */
  readonly minCustomers: number;
}

/** CLV tier cut points, as shares of customers: `high` the top share, `mid` the next. */
export interface TierCuts {
  readonly high: number;
  readonly mid: number;
}

export interface SegmentSettings {
  /** CLV tier cut points: `high` top share, `mid` next share. @default { high: 0.2, mid: 0.5 } */
  readonly tiers: TierCuts;
  readonly valueLoyalty: ValueLoyaltySettings;
  readonly rfm: RfmSettings;
  readonly channels: ChannelSettings;
  readonly concentration: ConcentrationSettings;
  readonly warnings: WarningThresholds;
  /** Recommended actions per segment. @default DEFAULT_ACTIONS */
  readonly actions: ActionsTable;
}

export const DEFAULT_SEGMENT_SETTINGS: SegmentSettings = {
  tiers: { high: 0.2, mid: 0.5 },
  valueLoyalty: { highValueShare: 0.5, minProbabilityAlive: 0.5, minRepeatPurchases: 1, fallbackMinRecencyScore: 3 },
  rfm: { monetary: 'total_revenue' },
  channels: { missingLabel: '(none)' },
  concentration: { lorenzPoints: 101 },
  warnings: {
    channelAverageClvDrop: 0.1,
    segmentAverageClvDrop: 0.1,
    highTierEquityShareDrop: 0.1,
    totalEquityDrop: 0.1,
    customerCountDrop: 0.01,
    meanProbabilityAliveDrop: 0.05,
    atRiskEquityShareRise: 0.05,
    parameterShiftStandardErrors: 3,
    minCustomers: 30,
  },
  actions: DEFAULT_ACTIONS,
};

/** What a config file may give: any field, at any depth, may be left out. */
export interface SegmentSettingsOverrides {
  readonly tiers?: Partial<TierCuts>;
  readonly valueLoyalty?: Partial<ValueLoyaltySettings>;
  readonly rfm?: Partial<RfmSettings>;
  readonly channels?: Partial<ChannelSettings>;
  readonly concentration?: Partial<ConcentrationSettings>;
  readonly warnings?: Partial<WarningThresholds>;
  readonly actions?: ActionsOverrides;
}

/** Keeps only the keys that carry a value, so an explicit `undefined` never erases a default. */
const given = <T extends object>(partial: Partial<T> | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(partial ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Overrides merged over a base (the defaults unless given), field by field. */
export const resolveSegmentSettings = (
  overrides: SegmentSettingsOverrides | undefined,
  base: SegmentSettings = DEFAULT_SEGMENT_SETTINGS,
): SegmentSettings => ({
  tiers: { ...base.tiers, ...given(overrides?.tiers) },
  valueLoyalty: { ...base.valueLoyalty, ...given(overrides?.valueLoyalty) },
  rfm: { ...base.rfm, ...given(overrides?.rfm) },
  channels: { ...base.channels, ...given(overrides?.channels) },
  concentration: { ...base.concentration, ...given(overrides?.concentration) },
  warnings: { ...base.warnings, ...given(overrides?.warnings) },
  actions: mergeActions(base.actions, overrides?.actions),
});
