import { z } from 'zod';

/** A calibration / holdout check of the BG/NBD fit (FHL 2005 §4), as `clv backtest` and the summary carry it. */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const count = z.number().int().nonnegative();

export const backtestSchema = z.object({
  calibration_end: isoDate,
  holdout_end: isoDate,
  time_unit: z.enum(['week', 'day']),
  /** In `time_unit`s. */
  holdout_length: z.number().nonnegative(),
  /** Customers acquired by the calibration end. */
  customers: count,
  /** The BG/NBD fitted on the calibration period alone. */
  bgnbd: z.object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number(), converged: z.boolean() }),
  /** Actual vs expected holdout purchases by calibration frequency (the last bucket is "7+"). */
  by_frequency: z.array(
    z.object({
      frequency: z.string(),
      customers: count,
      actual: z.number().nonnegative(),
      expected: z.number().nonnegative(),
      actual_mean: z.number().nullable(),
      expected_mean: z.number().nullable(),
    }),
  ),
  totals: z.object({ actual: z.number().nonnegative(), expected: z.number().nonnegative() }),
  errors: z.object({
    mean_absolute_error: z.number().nonnegative(),
    root_mean_squared_error: z.number().nonnegative(),
    /** 100 (expected - actual) / actual; null with no actual purchases. */
    total_percentage_error: z.number().nullable(),
  }),
  /** Cumulative repeat purchases of the calibration customers, week by week from the first acquisition. */
  tracking: z.array(z.object({ week: count, week_end: isoDate, actual: z.number().nonnegative(), expected: z.number().nonnegative() })),
});
export type Backtest = z.infer<typeof backtestSchema>;
