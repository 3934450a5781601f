/** Thresholds of the acquisition economics and channel diagnostics (config `acquisition`). Relative thresholds: 0.2 = 20%. */
export interface AcquisitionSettings {
  /** Channels whose LTV:CAC is below this line are flagged. @default 3 */
  readonly ltvToCacLine: number;
  /** "Trend shift": a channel's newest cohorts against its earlier ones. */
  readonly trendShift: {
    /** How many of the newest cohorts old enough for `ageMonths` count as recent. @default 3 */
    readonly recentCohorts: number;
    /** The fixed age, in calendar months, at which repeat rate and value are compared. @default 3 */
    readonly ageMonths: number;
    /** Warn when the recent cohorts' repeat rate or value is lower than the earlier ones' by more than this, relative. @default 0.2 */
    readonly drop: number;
  };
  /** "Conversion gap": first-order value above the overall by more than `firstOrderValueAbove`, 3-month repeat rate (`repeat_rate_3m`) below by more than `repeatRateBelow` (relative). @default 0.1, 0.1 */
  readonly conversionGap: { readonly firstOrderValueAbove: number; readonly repeatRateBelow: number };
  /** "Audience mismatch": average order value and 3-month repeat rate both below the overall by more than these (relative). @default 0.1, 0.1 */
  readonly audienceMismatch: { readonly averageOrderValueBelow: number; readonly repeatRateBelow: number };
  /** Channels (and each side of a trend comparison) with fewer customers raise no diagnostic. @default 30 */
  readonly minCustomers: number;
}

export const DEFAULT_ACQUISITION_SETTINGS: AcquisitionSettings = {
  ltvToCacLine: 3,
  trendShift: { recentCohorts: 3, ageMonths: 3, drop: 0.2 },
  conversionGap: { firstOrderValueAbove: 0.1, repeatRateBelow: 0.1 },
  audienceMismatch: { averageOrderValueBelow: 0.1, repeatRateBelow: 0.1 },
  minCustomers: 30,
};
