import { z } from 'zod';
import { REJECTION_REASONS } from '../domain/outcomes.js';

/** The summary's `run`, `counts`, `totals` and `warnings` sections (SPEC "Output contract"). */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const count = z.number().int().nonnegative();
const money = z.number().finite();
const share = z.number().min(0).max(1);

export const runSectionSchema = z.object({
  run_id: z.string().min(1),
  run_date: isoDate,
  as_of: isoDate,
  /** Where the as-of date came from: given explicitly, or the latest valid order date. */
  as_of_source: z.enum(['given', 'latest_order_date']),
  /**
   * The latest accepted order's date (null without any): what the next night's gate
   * `latest_order_vs_previous` holds its own against. Absent before 2.8.0.
   */
  latest_order_date: isoDate.nullable().optional(),
  engine: z.enum(['duckdb', 'athena', 'trino']),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime(),
  /** Seconds per pipeline stage, in the order they ran. */
  timings: z.record(z.string(), z.number().nonnegative()),
  inputs: z.object({ files: count, bytes: count.nullable(), location: z.string() }),
  output: z.string(),
  settings: z.object({
    time_unit: z.enum(['week', 'day']),
    horizon: z.number().positive(),
    discount_rate: z.number().nonnegative(),
    margin: z.number().positive(),
    lifespan_years: z.number().positive(),
    non_purchase_statuses: z.array(z.string()),
    /**
     * How the segments were cut (the config's `segments.tiers`, `segments.valueLoyalty` and
     * `segments.rfm`, defaults included): a later night cut otherwise does not compare those
     * segments with this one. Absent before 2.7.0.
     */
    segments: z
      .object({
        tiers: z.object({ high: share, mid: share }),
        value_loyalty: z.object({
          high_value_share: share,
          min_probability_alive: share,
          min_repeat_purchases: count,
          fallback_min_recency_score: z.number().int().min(1).max(5),
        }),
        rfm: z.object({ monetary: z.enum(['total_revenue', 'avg_order_value']) }),
      })
      .optional(),
  }),
});
export type RunSection = z.infer<typeof runSectionSchema>;

export const rejectedByReasonSchema = z.object(
  Object.fromEntries(REJECTION_REASONS.map((r) => [r, count])) as Record<(typeof REJECTION_REASONS)[number], typeof count>,
);

export const countsSectionSchema = z
  .object({
    input_rows: count,
    accepted_orders: count,
    duplicate_orders: count,
    non_purchase_orders: count,
    rejected_rows: count,
    rejected_by_reason: rejectedByReasonSchema,
    /** Repeats of an order key whose customer, date or amount differs from the copy kept; part of duplicate_orders. */
    conflicting_duplicates: count.default(0),
    customers: count,
  })
  .refine(
    (c) => c.input_rows === c.accepted_orders + c.duplicate_orders + c.non_purchase_orders + c.rejected_rows,
    'input_rows must equal accepted_orders + duplicate_orders + non_purchase_orders + rejected_rows',
  )
  .refine((c) => c.conflicting_duplicates <= c.duplicate_orders, 'conflicting_duplicates are part of duplicate_orders')
  .refine(
    (c) => Object.values(c.rejected_by_reason).reduce((a, b) => a + b, 0) === c.rejected_rows,
    'rejected_by_reason must add up to rejected_rows',
  );
export type CountsSection = z.infer<typeof countsSectionSchema>;

export const totalsSectionSchema = z.object({
  customers: count,
  revenue: money,
  historical_clv: money,
  /** Null when the predictive models could not be trusted. */
  predicted_clv: money.nullable(),
  /**
   * 90% interval of total predicted CLV (customer equity) over draws of the fitted parameters:
   * parameter uncertainty only, not what customers will actually do. Null without intervals.
   */
  predicted_clv_p05: money.nullable().optional(),
  predicted_clv_p95: money.nullable().optional(),
  /** The CLV that tiers and equity rank on. */
  ranking_clv: z.enum(['predicted_clv', 'historical_clv']),
  equity: money,
  repeat_customers: count,
});
export type TotalsSection = z.infer<typeof totalsSectionSchema>;

export const runWarningSchema = z.object({ code: z.string(), message: z.string() });
export type RunWarning = z.infer<typeof runWarningSchema>;

const orderCopySchema = z.object({
  source_file: z.string(),
  /** The line the record starts on (the header is line 1). */
  source_line: count,
  customer_id: z.string(),
  order_date: isoDate,
  amount: money,
});

/**
 * One conflicting duplicate (summary `conflicting_duplicate_examples`, at most ten): a repeated order
 * key (`order_id`, plus the configured `orderKey` columns as a JSON array in `order_key`) whose
 * customer, date or amount differs from the copy that was kept (the last file, then the last line).
 */
export const conflictingDuplicateSchema = z.object({
  order_id: z.string(),
  order_key: z.string().nullable(),
  repeat: orderCopySchema,
  kept: orderCopySchema,
});
export type ConflictingDuplicate = z.infer<typeof conflictingDuplicateSchema>;
