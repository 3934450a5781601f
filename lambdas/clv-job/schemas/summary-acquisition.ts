import { z } from 'zod';
import { SPEND_REJECTION_REASONS, type SpendRejectionReason } from '../domain/acquisition/spend.js';
import { CHANNEL_SEGMENT_SCHEMES } from '../domain/acquisition/channel-segments.js';

/**
 * The acquisition-economics sections of `summary.json` (SPEC "Contract names added with this
 * round's work"): `acquisition` (per channel), `acquisition_cohorts` (per channel x acquisition
 * month), `channel_segments`, `churn` and `spend_input`. The domain returns exactly these types.
 *
 * Money: "realised value" is `run.settings.margin` x revenue to date (the margin is the share of
 * revenue that is profit; with the default 1.0 it is the revenue itself), so it adds to predicted
 * CLV, which is margin-adjusted already. Fixed-age values (`value_3m`, ...) are realised revenue.
 *
 * Spend columns (`spend`, `cac`, `ltv_to_cac`, `payback_months`, `below_ltv_to_cac_line`,
 * `ltv_to_cac_falling`) are ABSENT when the run had no spend input, never 0; with spend they are
 * null wherever a ratio has no denominator (no customer acquired, no spend) or is not reached yet.
 * Every number is finite (zod 4 numbers reject NaN and Infinity).
 */

const count = z.number().int().nonnegative();
const share = z.number().min(0).max(1);
const amount = z.number();
const month = z.string().regex(/^\d{4}-\d{2}$/);

const valueShape = {
  customers_acquired: count,
  /** margin x revenue to date, per customer acquired; null when nobody was acquired. */
  realised_value_per_customer: amount.nullable(),
  /** Predicted CLV over the horizon per customer acquired; null without a trusted predictive fit or without customers. */
  predicted_clv_per_customer: amount.nullable(),
  /** realised_value_per_customer + predicted_clv_per_customer (the realised part alone without a trusted fit); null without customers. */
  ltv_per_customer: amount.nullable(),
  /** Share of the acquired customers with at least one repeat purchase day to date; null without customers (a spend-only channel or month). */
  repeat_rate: share.nullable(),
  /**
   * Realised revenue per acquired customer in the acquisition month and the next 2 (5, 11) calendar
   * months; only cohorts at least 3 (6, 12) months old count, so every month counted is complete.
   * Null when no cohort is old enough.
   */
  value_3m: amount.nullable(),
  value_6m: amount.nullable(),
  value_12m: amount.nullable(),
  /** Share of the acquired customers with a repeat purchase day within the first 3 calendar months (cohorts at least 3 months old); null when none is. */
  repeat_rate_3m: share.nullable(),
  /** Marketing spend of the channel (and month); null when the spend input has no row for it; absent without a spend input. */
  spend: z.number().nonnegative().nullable().optional(),
  /** spend / customers_acquired; null when nobody was acquired. Absent without a spend input. */
  cac: amount.nullable().optional(),
  /** ltv_per_customer / cac; null when cac is null or 0. Absent without a spend input. */
  ltv_to_cac: amount.nullable().optional(),
  /**
   * Calendar months from acquisition (the acquisition month is month 1) until the cumulative realised
   * value (margin x revenue) per acquired customer first reaches the CAC, over complete months only
   * (the as-of month is complete when the as-of date is its last day); null when not reached yet or
   * without a CAC. Absent without a spend input.
   */
  payback_months: z.number().int().positive().nullable().optional(),
};

/** One acquisition channel: what an acquired customer is worth and, with spend, what it cost. */
export const acquisitionRowSchema = z.object({
  channel: z.string(),
  ...valueShape,
  /** The channel's oldest and newest acquisition month; null when nobody was acquired. */
  first_cohort: month.nullable(),
  last_cohort: month.nullable(),
  /** Mean age in whole calendar months of the channel's acquired customers at the as-of month; null without customers. */
  mean_age_months: z.number().nonnegative().nullable(),
  /** ltv_to_cac below the configured line (`acquisition.ltvToCacLine`, default 3). Absent without a spend input. */
  below_ltv_to_cac_line: z.boolean().optional(),
  /** The channel's recent cohorts return less per unit of CAC than its earlier ones (see `trend_shift`). Absent without a spend input. */
  ltv_to_cac_falling: z.boolean().optional(),
});
export type AcquisitionRow = z.infer<typeof acquisitionRowSchema>;

/** One acquisition channel x acquisition month. */
export const acquisitionCohortRowSchema = z.object({
  channel: z.string(),
  /** Acquisition month, YYYY-MM. */
  cohort: month,
  /** Whole calendar months from the cohort's month to the as-of month. */
  age_months: z.number().int(),
  ...valueShape,
});
export type AcquisitionCohortRow = z.infer<typeof acquisitionCohortRowSchema>;

/**
 * One acquisition channel in one segment of one scheme. For each scheme the rows cover every
 * customer exactly once: they add up to the customer count and the total equity.
 */
export const channelSegmentRowSchema = z.object({
  channel: z.string(),
  scheme: z.enum(CHANNEL_SEGMENT_SCHEMES),
  segment: z.string(),
  customers: count,
  /** Sum of the ranking CLV. */
  equity: amount,
  /** Share of the channel's customers in this segment (0 for a channel without customers). */
  channel_share: share,
  /** Share of all customers in this segment. */
  overall_share: share,
  /** channel_share / overall_share: above 1 over-represented, below 1 under-represented; null when the segment is empty overall. */
  representation_index: z.number().nonnegative().nullable(),
});
export type ChannelSegmentRow = z.infer<typeof channelSegmentRowSchema>;

/**
 * Churn risk of one segment. `at_risk_share` = (customers with P(alive) < 0.5) / customers;
 * `expected_customers_lost` = sum over the segment of (1 - P(alive)): the expected number of its
 * customers who have already made their last purchase, so who buy nothing over the horizon. The
 * P(alive) columns are null when the predictive fit was not trusted.
 */
export const churnRowSchema = z.object({
  scheme: z.enum(CHANNEL_SEGMENT_SCHEMES),
  segment: z.string(),
  customers: count,
  at_risk_customers: count.nullable(),
  at_risk_share: share.nullable(),
  expected_customers_lost: z.number().nonnegative().nullable(),
});
export type ChurnRow = z.infer<typeof churnRowSchema>;

/** Spend rejection reasons a 2.2 summary (the previous night's, read for the comparison) does not list yet. */
const SPEND_REASONS_ADDED_IN_2_3: ReadonlySet<SpendRejectionReason> = new Set(['month_after_as_of', 'month_before_first_order']);

/** The spend input's accounting: input_rows = accepted_rows + rejected_rows, every rejection with a reason. */
export const spendInputSchema = z
  .object({
    /** The files read, as named to the run. */
    sources: z.array(z.string()),
    input_rows: count,
    accepted_rows: count,
    rejected_rows: count,
    /** Every reason of SPEND_REJECTION_REASONS; the two added in 2.3.0 read as 0 from an older summary. */
    rejected_by_reason: z.object(
      Object.fromEntries(SPEND_REJECTION_REASONS.map((r) => [r, SPEND_REASONS_ADDED_IN_2_3.has(r) ? count.default(0) : count])) as Record<
        SpendRejectionReason,
        typeof count | z.ZodDefault<typeof count>
      >,
    ),
    /** Up to ten rejected rows, as read, with their reason. */
    rejected_examples: z
      .array(z.object({ source: z.string(), line: count, reason: z.enum(SPEND_REJECTION_REASONS), text: z.string() }))
      .max(10),
    /** Sum of the accepted spend. */
    total_spend: amount,
    /** Channels in the spend file that acquired no customer (kept, and warned about). */
    channels_without_customers: z.array(z.string()),
  })
  .refine((s) => s.input_rows === s.accepted_rows + s.rejected_rows, 'input_rows must equal accepted_rows + rejected_rows')
  .refine(
    (s) => Object.values(s.rejected_by_reason).reduce((a, b) => a + b, 0) === s.rejected_rows,
    'rejected_by_reason must add up to rejected_rows',
  );
export type SpendInput = z.infer<typeof spendInputSchema>;

/** What `acquisitionEconomics` returns into the summary. */
export const acquisitionSummarySchema = z.object({
  acquisition: z.array(acquisitionRowSchema),
  acquisition_cohorts: z.array(acquisitionCohortRowSchema),
  channel_segments: z.array(channelSegmentRowSchema),
  churn: z.array(churnRowSchema),
});
export type AcquisitionSummary = z.infer<typeof acquisitionSummarySchema>;
