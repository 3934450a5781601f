import { z } from 'zod';
import { GATES } from '../domain/quality-gates.js';
import { REJECTION_REASONS } from '../domain/outcomes.js';
import { countsSectionSchema } from './summary-run.js';

/** One gate's verdict, as the summary's `quality` and the quality report carry it. */
export const gateResultSchema = z.object({
  gate: z.enum(GATES),
  passed: z.boolean(),
  /** The measured figure: a share, a count, a date or a number of days; null with nothing to measure. */
  value: z.union([z.number(), z.string()]).nullable(),
  threshold: z.union([z.number(), z.string()]),
  message: z.string(),
});

/** The summary's `quality`: every gate the run was held to, and whether failed gates were accepted on purpose. */
export const qualitySectionSchema = z.object({
  passed: z.boolean(),
  /** True when a gate failed and the run published anyway (`--accept-failed-gates`, config `gates.acceptFailedGates`). */
  accepted_failed_gates: z.boolean(),
  gates: z.array(gateResultSchema),
});
export type QualitySection = z.infer<typeof qualitySectionSchema>;

const sampleRowSchema = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));

/**
 * `_quality/run_date=YYYY-MM-DD/quality.json`: written when a gate fails, whether the run then stops
 * (nothing published) or publishes anyway on purpose. Says which gate, with what figures, and the
 * most frequent rejection reasons with sample rows as read.
 */
export const qualityReportSchema = qualitySectionSchema.extend({
  run_id: z.string().min(1),
  run_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  as_of: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  as_of_source: z.enum(['given', 'latest_order_date']),
  checked_at: z.iso.datetime(),
  /** Whether this run's output was published despite the failed gates. */
  published: z.boolean(),
  counts: countsSectionSchema,
  /** Rejection reasons by rows, most first, each with up to a few rows as read. */
  top_reasons: z.array(
    z.object({
      reason: z.enum(REJECTION_REASONS),
      rows: z.number().int().nonnegative(),
      share_of_input: z.number().min(0).max(1),
      samples: z.array(sampleRowSchema),
      /** What the reason's rows probably have in common, when their text tells (e.g. a two-digit year under %Y). */
      note: z.string().optional(),
    }),
  ),
});
export type QualityReport = z.infer<typeof qualityReportSchema>;
