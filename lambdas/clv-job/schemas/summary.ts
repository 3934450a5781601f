import { z } from 'zod';
import { backtestSchema } from './summary-backtest.js';
import { diagnosticsSchema } from './summary-diagnostics.js';
import { modelsSummarySchema } from './summary-models.js';
import { conflictingDuplicateSchema, countsSectionSchema, runSectionSchema, runWarningSchema, totalsSectionSchema } from './summary-run.js';
import { changesSchema, segmentSummarySchema } from './summary-segments.js';
import { qualitySectionSchema } from './quality-report.js';

/**
 * `summary/run_date=YYYY-MM-DD/summary.json`, the contract BI tools and later runs read.
 * Consumers: `import { summarySchema, type Summary } from '.../schemas/summary.js'`.
 */
const { clv_tiers, value_loyalty, rfm, channels, cohorts, concentration } = segmentSummarySchema.shape;

export const summarySchema = z.object({
  run: runSectionSchema,
  counts: countsSectionSchema,
  /** Up to ten conflicting duplicates (see counts.conflicting_duplicates), each beside the copy kept. */
  conflicting_duplicate_examples: z.array(conflictingDuplicateSchema).max(10).default([]),
  totals: totalsSectionSchema,
  models: modelsSummarySchema,
  segments: z.object({ clv_tiers, value_loyalty, rfm }),
  channels,
  cohorts,
  concentration,
  changes: changesSchema,
  /** Present when the run is configured to backtest its model (`backtest.holdoutDays`). */
  backtest: backtestSchema.optional(),
  /** The BG/NBD fit against its own data (histogram, P(alive) grid) for the report; absent when the fit is not trusted. */
  diagnostics: diagnosticsSchema.optional(),
  /** The data-quality gates the run was held to (absent from summaries written before gates existed). */
  quality: qualitySectionSchema.optional(),
  /** Run-level warnings (untrusted fits, nothing to score); segment warnings live in `changes.warnings`. */
  warnings: z.array(runWarningSchema),
});
export type Summary = z.infer<typeof summarySchema>;
