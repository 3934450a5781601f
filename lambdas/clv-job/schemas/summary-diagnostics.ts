/**
 * The optional `diagnostics` section of `summary.json`: how well the transaction model that predicts
 * (`models.transactions`: the BG/NBD or the Pareto/NBD) fits the data it was fitted on, for the report's "model fit" charts — the repeat-purchase histogram against the
 * model's expectation (FHL 2005 Figure 3), and P(alive) by frequency and time since the last
 * purchase. A summary without it stays valid; the report says it is missing. (The out-of-sample
 * check is the separate `backtest` section.) Every number is finite (zod 4 rejects NaN and Infinity).
 */
import { z } from 'zod';

/** Customers are counted as the BG/NBD patterns' weights: whole numbers from the engines, not necessarily in general. */
const customers = z.number().nonnegative();
const probability = z.number().min(0).max(1);

export const frequencyHistogramRowSchema = z.object({
  /** Repeat purchases: "0", "1", …, with the last bucket open ("7+"). */
  frequency: z.string(),
  actual_customers: customers,
  /** Σ_i P(X(T_i) = k) under the fitted model (BG/NBD: FHL 2005 eq. 8; Pareto/NBD: Fader & Hardie 2006 eq. 20); for the open bucket, P(X(T_i) ≥ k). */
  expected_customers: customers,
});
export type FrequencyHistogramRow = z.infer<typeof frequencyHistogramRowSchema>;

export const probabilityAliveCellSchema = z.object({
  /** Repeat purchases, bucketed as in the histogram. */
  frequency: z.string(),
  /**
   * Time since the last purchase, T − t_x (recency in the RFM sense, not the BG/NBD's t_x), in
   * model units: a label such as "0–4" or "52+".
   */
  since_last_purchase: z.string(),
  /** The bucket's bounds in model units, [from, to); `to` is null for the open last bucket. */
  since_last_purchase_from: z.number().nonnegative(),
  since_last_purchase_to: z.number().positive().nullable(),
  /** Customer-weighted mean P(alive | x, t_x, T) (FHL 2005 eq. 11) in the cell. */
  probability_alive: probability,
  customers,
});
export type ProbabilityAliveCell = z.infer<typeof probabilityAliveCellSchema>;

export const diagnosticsSchema = z.object({
  /** Every frequency bucket from "0" to the open one, in order, even when empty. */
  frequency_histogram: z.array(frequencyHistogramRowSchema),
  /** Only the cells that hold customers, by frequency then time since the last purchase. */
  probability_alive_grid: z.array(probabilityAliveCellSchema),
});
export type Diagnostics = z.infer<typeof diagnosticsSchema>;
