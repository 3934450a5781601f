import { z } from 'zod';
import { MIGRATION_FROM, MIGRATION_TO, WARNING_CODES } from '../domain/segments/changes.js';
import { shareSchema } from './share.js';
import { MOVEMENTS } from '../domain/segments/movers.js';
import { RFM_SEGMENTS } from '../domain/segments/rfm.js';
import { resolveSegmentSettings, type SegmentSettings, type SegmentSettingsOverrides } from '../domain/segments/settings.js';
import { TIER_ORDER } from '../domain/segments/tiers.js';
import { VALUE_LOYALTY_CELLS } from '../domain/segments/value-loyalty.js';

/**
 * The segmentation sections of `summary.json` and the segment settings of the config file.
 * The domain returns exactly these inferred types, so the JSON and the code cannot drift apart.
 * Every number is finite (zod 4 numbers reject NaN and Infinity).
 */

const count = z.number().int().nonnegative();
const share = z.number().min(0).max(1);
const amount = z.number();

// ---------------------------------------------------------------------------------------------
// Segment tables: clv_tiers, value_loyalty, rfm

const segmentRowShape = {
  segment: z.string(),
  customers: count,
  /** Share of all customers. */
  share,
  /** Sum of the ranking CLV (predicted when the fit is trusted, historical otherwise). */
  equity: amount,
  equity_share: share,
  /** equity / customers; 0 for an empty segment. */
  average_clv: amount,
  actions: z.array(z.string()),
};

/** One row of any segment table. Every table covers every customer exactly once. */
export const segmentRowSchema = z.object(segmentRowShape);
export type SegmentRow = z.infer<typeof segmentRowSchema>;

export const clvTierRowSchema = z.object({ ...segmentRowShape, segment: z.enum(TIER_ORDER) });
export type ClvTierRow = z.infer<typeof clvTierRowSchema>;

export const valueLoyaltyRowSchema = z.object({ ...segmentRowShape, segment: z.enum(VALUE_LOYALTY_CELLS) });
export type ValueLoyaltyRow = z.infer<typeof valueLoyaltyRowSchema>;

export const rfmRowSchema = z.object({ ...segmentRowShape, segment: z.enum(RFM_SEGMENTS) });
export type RfmRow = z.infer<typeof rfmRowSchema>;

// ---------------------------------------------------------------------------------------------
// Channels and cohorts

export const channelRowSchema = z.object({
  /** Acquisition channel; customers without one share the configured label, "(none)" by default ("<label> (no channel)" on a night a real channel bears the label: warning channel_label_taken). */
  channel: z.string(),
  customers: count,
  share,
  /** Customer equity: sum of the ranking CLV. */
  equity: amount,
  equity_share: share,
  average_clv: amount,
  /** Revenue to date (sum of total_revenue). */
  revenue: amount,
  /** Share of the channel's customers with at least one repeat purchase day. */
  repeat_rate: share,
  /** Null when the predictive fit failed. */
  mean_probability_alive: share.nullable(),
  /** Average CLV below the average over all customers. */
  below_average: z.boolean(),
});
export type ChannelRow = z.infer<typeof channelRowSchema>;

export const cohortRowSchema = z.object({
  /** Acquisition month, YYYY-MM. */
  cohort: z.string().regex(/^\d{4}-\d{2}$/),
  /** Whole calendar months from the cohort's month to the as-of month. */
  age_months: z.number().int(),
  customers: count,
  share,
  revenue: amount,
  equity: amount,
  equity_share: share,
  average_clv: amount,
  repeat_rate: share,
  mean_probability_alive: share.nullable(),
});
export type CohortRow = z.infer<typeof cohortRowSchema>;

// ---------------------------------------------------------------------------------------------
// Concentration

export const lorenzPointSchema = z.object({
  /** Share of customers, poorest first. */
  customer_share: share,
  /** Share of the total they hold. */
  value_share: share,
});
export type LorenzPoint = z.infer<typeof lorenzPointSchema>;

export const concentrationMeasureSchema = z.object({
  total: amount,
  /** Share of the total held by the top 20% of customers (0 when the total is 0). */
  top20_share: share,
  /** 0 = everyone holds the same, towards 1 = one customer holds everything. */
  gini: share,
  lorenz: z.array(lorenzPointSchema),
});
export type ConcentrationMeasure = z.infer<typeof concentrationMeasureSchema>;

export const concentrationSchema = z.object({
  /** Over total_revenue. */
  revenue: concentrationMeasureSchema,
  /** Over the ranking CLV (predicted_clv when the fit is trusted). */
  equity: concentrationMeasureSchema,
});
export type Concentration = z.infer<typeof concentrationSchema>;

/** What `segmentCustomers` summarises. */
export const segmentSummarySchema = z.object({
  clv_tiers: z.array(clvTierRowSchema),
  value_loyalty: z.array(valueLoyaltyRowSchema),
  rfm: z.array(rfmRowSchema),
  channels: z.array(channelRowSchema),
  cohorts: z.array(cohortRowSchema),
  concentration: concentrationSchema,
});
export type SegmentSummary = z.infer<typeof segmentSummarySchema>;

// ---------------------------------------------------------------------------------------------
// Changes versus the previous run

/** A metric in both runs. `relative_change` is null when the previous value is 0. */
export const deltaSchema = z.object({
  current: amount,
  previous: amount,
  delta: amount,
  relative_change: amount.nullable(),
});
export type Delta = z.infer<typeof deltaSchema>;

/** A metric one run may lack (a segment new this run, P(alive) after a failed fit). */
export const optionalDeltaSchema = z.object({
  current: amount.nullable(),
  previous: amount.nullable(),
  delta: amount.nullable(),
  relative_change: amount.nullable(),
});
export type OptionalDelta = z.infer<typeof optionalDeltaSchema>;

export const segmentChangeSchema = z.object({
  segment: z.string(),
  customers: deltaSchema,
  equity: deltaSchema,
  equity_share: deltaSchema,
  average_clv: deltaSchema,
});
export type SegmentChange = z.infer<typeof segmentChangeSchema>;

export const channelChangeSchema = z.object({
  channel: z.string(),
  customers: deltaSchema,
  equity: deltaSchema,
  equity_share: deltaSchema,
  average_clv: deltaSchema,
});
export type ChannelChange = z.infer<typeof channelChangeSchema>;

export const parameterChangeSchema = z.object({
  parameter: z.string(),
  current: amount.nullable(),
  previous: amount.nullable(),
  delta: amount.nullable(),
  relative_change: amount.nullable(),
  /** The current fit's standard error (the previous fit's when the current has none). */
  standard_error: z.number().nonnegative().nullable(),
  /** delta / standard_error; null without a positive standard error. */
  delta_in_standard_errors: amount.nullable(),
});
export type ParameterChange = z.infer<typeof parameterChangeSchema>;

export const migrationCellSchema = z.object({
  /** The previous run's tier, or "new" for a customer the previous run did not have. */
  from_tier: z.enum(MIGRATION_FROM),
  /** This run's tier, or "absent" for a previous customer this run does not have. */
  to_tier: z.enum(MIGRATION_TO),
  customers: count,
});
export type MigrationCell = z.infer<typeof migrationCellSchema>;

export const warningSchema = z.object({
  code: z.enum(WARNING_CODES),
  /** Plain words for the report. */
  message: z.string(),
  /** What was measured, e.g. `channels[email].average_clv`. */
  metric: z.string(),
  previous: amount.nullable(),
  current: amount.nullable(),
  /** The configured threshold that was crossed. */
  threshold: amount,
});
export type Warning = z.infer<typeof warningSchema>;

/**
 * The movers since the previous run (the `movers` dataset), summed up for the report and for readers
 * of the summary: customers per movement and, per movement, the few customers worth most (ranking
 * CLV, highest first).
 */
export const moversSummarySchema = z.object({
  /** The run compared with; null on a first run (every count 0, no example). */
  previous_run_date: z.string().nullable(),
  /** Every movement, in MOVEMENTS order, with its customer count (0 included). */
  counts: z.array(z.object({ movement: z.enum(MOVEMENTS), customers: count })),
  /** Up to `examples_per_movement` rows per movement, highest ranking CLV first (ties: customer id). */
  examples: z.array(
    z.object({
      movement: z.enum(MOVEMENTS),
      customer_id: z.string(),
      /** The previous run's segment in the movement's scheme; null for a customer new since then. */
      previous_segment: z.string().nullable(),
      current_segment: z.string(),
      /** Null when the predictive fit failed. */
      predicted_clv: amount.nullable(),
      probability_alive: share.nullable(),
    }),
  ),
  examples_per_movement: count,
  /**
   * Movements not counted tonight (their count 0, no example, no row), each with why: the segment
   * they cross is not cut, or customers are not ranked, as on `previous_run_date`, so a count would
   * list customers moved by a setting. Absent before 2.7.0.
   */
  not_counted: z.array(z.object({ movement: z.enum(MOVEMENTS), reason: z.string() })).optional(),
});
export type MoversSummary = z.infer<typeof moversSummarySchema>;

export const changesSchema = z.object({
  /** Null on a first run: there is nothing to compare with. */
  previous_run_date: z.string().nullable(),
  /** Plain words on what was compared, or why nothing was. */
  note: z.string(),
  totals: z
    .object({ customers: deltaSchema, equity: deltaSchema, mean_probability_alive: optionalDeltaSchema })
    .nullable(),
  clv_tiers: z.array(segmentChangeSchema),
  value_loyalty: z.array(segmentChangeSchema),
  rfm: z.array(segmentChangeSchema),
  channels: z.array(channelChangeSchema),
  parameters: z.array(parameterChangeSchema),
  /** Null when the previous run's customer tiers were not available. */
  tier_migration: z.array(migrationCellSchema).nullable(),
  warnings: z.array(warningSchema),
});
export type Changes = z.infer<typeof changesSchema>;

// ---------------------------------------------------------------------------------------------
// Segment settings in the config file

const fraction = z.number().gt(0).lt(1);
const actionList = z.array(z.string().min(1));

/** The `segments` block as written: every field optional, nothing merged yet; strict, so that a misspelt key is refused, not defaulted. */
export const segmentSettingsOverridesSchema = z.strictObject({
  tiers: z.strictObject({ high: fraction.optional(), mid: fraction.optional() }).optional(),
  valueLoyalty: z
    .strictObject({
      highValueShare: fraction.optional(),
      minProbabilityAlive: z.number().min(0).max(1).optional(),
      minRepeatPurchases: z.number().int().nonnegative().optional(),
      fallbackMinRecencyScore: z.number().int().min(1).max(5).optional(),
    })
    .optional(),
  rfm: z.strictObject({ monetary: z.enum(['total_revenue', 'avg_order_value']).optional() }).optional(),
  channels: z.strictObject({ missingLabel: z.string().min(1).optional() }).optional(),
  concentration: z.strictObject({ lorenzPoints: z.number().int().min(2).max(1001).optional() }).optional(),
  warnings: z
    .strictObject({
      // a relative drop beyond 1 (more than 100%) never happens: such a value turns the warning off unseen
      channelAverageClvDrop: shareSchema('a relative drop').optional(),
      segmentAverageClvDrop: shareSchema('a relative drop').optional(),
      highTierEquityShareDrop: shareSchema('a relative drop').optional(),
      totalEquityDrop: shareSchema('a relative drop').optional(),
      customerCountDrop: shareSchema('a relative drop').optional(),
      meanProbabilityAliveDrop: z.number().min(0).max(1).optional(),
      atRiskEquityShareRise: z.number().min(0).max(1).optional(),
      parameterShiftStandardErrors: z.number().positive().optional(),
      minCustomers: z.number().int().nonnegative().optional(),
    })
    .optional(),
  actions: z
    .strictObject({
      clvTiers: z.partialRecord(z.enum(TIER_ORDER), actionList).optional(),
      valueLoyalty: z.partialRecord(z.enum(VALUE_LOYALTY_CELLS), actionList).optional(),
      rfm: z.partialRecord(z.enum(RFM_SEGMENTS), actionList).optional(),
    })
    .optional(),
}) satisfies z.ZodType<SegmentSettingsOverrides>;

/**
 * The `segments` block of the config file: every field optional, merged over
 * `DEFAULT_SEGMENT_SETTINGS`; parsing yields complete `SegmentSettings`. Parse `{}` (or use
 * `.prefault({})` when embedding it) for the defaults.
 */
export const segmentSettingsSchema = segmentSettingsOverridesSchema
  .superRefine((overrides, ctx) => {
    const { tiers } = resolveSegmentSettings(overrides);
    if (tiers.high + tiers.mid >= 1) {
      ctx.addIssue({ code: 'custom', path: ['tiers'], message: 'tiers.high + tiers.mid must leave a share for the low tier' });
    }
  })
  .transform((overrides): SegmentSettings => resolveSegmentSettings(overrides));
export type SegmentSettingsInput = z.input<typeof segmentSettingsSchema>;
