import { z } from 'zod';
import { acquisitionCohortRowSchema, acquisitionRowSchema, channelSegmentRowSchema, churnRowSchema, spendInputSchema } from './summary-acquisition.js';
import { backtestSchema } from './summary-backtest.js';
import { diagnosticsSchema } from './summary-diagnostics.js';
import { modelsSummarySchema } from './summary-models.js';
import { conflictingDuplicateSchema, countsSectionSchema, runSectionSchema, runWarningSchema, totalsSectionSchema } from './summary-run.js';
import { changesSchema, moversSummarySchema, segmentSummarySchema } from './summary-segments.js';
import { qualitySectionSchema } from './quality-report.js';

/**
 * The version of the summary's shape, semantic versioning: a minor version adds fields (readers of
 * an earlier minor version keep working: the JSON Schema allows properties it does not know), a
 * major version removes, renames or retypes one. 2.0.0 is the first versioned summary; 2.1.0 adds
 * the acquisition economics (`acquisition`, `acquisition_cohorts`, `channel_segments`, `churn`,
 * `spend_input`); 2.2.0 adds `movers` (customers per movement since the previous run, with the
 * top examples) and the `changes.warnings` code `spend_input_missing` (a configured spend input held
 * no spend file, so the run went on without spend; since 2.6.0 also a spend input of no row, with
 * `spend_input` present and its input_rows 0); 2.3.0 adds the spend rejection reasons
 * `month_after_as_of` and `month_before_first_order` to `spend_input.rejected_by_reason`; 2.4.0
 * adds `models.intervals` (the draws and seed behind the prediction intervals); 2.5.0 adds the
 * `changes.warnings` code `channel_label_taken` (a real channel bears the label of customers without one);
 * 2.6.0 the `changes.warnings` code `clv_measure_changed` (tonight's CLV is measured otherwise than the
 * previous run's: its basis, or a setting the basis depends on); 2.7.0 `run.settings.segments` (how
 * the tiers, value x loyalty cells and RFM segments were cut), the `changes.warnings` code
 * `segment_cuts_changed` (tonight's are cut otherwise than the previous run's) and
 * `movers.not_counted` (movements not counted because of such a change, or another ranking); 2.8.0
 * `run.latest_order_date` and the gates `revenue_vs_previous` and `latest_order_vs_previous` in
 * `quality.gates`.
 */
export const SUMMARY_SCHEMA_VERSION = '2.8.0';

/**
 * `summary/run_date=YYYY-MM-DD/summary.json`, the contract BI tools and later runs read.
 * Consumers outside the repository: `import { summarySchema, type Summary } from 'clv-job'`, or the
 * JSON Schema `clv-job/summary.schema.json` (also written beside every run's summary).
 */
const { clv_tiers, value_loyalty, rfm, channels, cohorts, concentration } = segmentSummarySchema.shape;

export const summarySchema = z.object({
  /** SUMMARY_SCHEMA_VERSION of the job that wrote it; any 2.x summary parses. */
  schema_version: z.string().regex(/^2\.\d+\.\d+$/, 'must be a 2.x.y schema version'),
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
  /** LTV per acquired customer by acquisition channel; with a spend input also CAC, LTV:CAC, payback (see summary-acquisition.ts). Empty in 2.0 summaries. */
  acquisition: z.array(acquisitionRowSchema).default([]),
  /** The same per acquisition channel x acquisition month. */
  acquisition_cohorts: z.array(acquisitionCohortRowSchema).default([]),
  /** Customers and equity of each channel in each segment of each scheme (clv_tier, value_loyalty, rfm). */
  channel_segments: z.array(channelSegmentRowSchema).default([]),
  /** Share of customers with P(alive) < 0.5 and expected customers lost, per segment of each scheme. */
  churn: z.array(churnRowSchema).default([]),
  /** The spend input's accounting; absent when the run had none. */
  spend_input: spendInputSchema.optional(),
  changes: changesSchema,
  /** Customers who entered or left the high tier or became At Risk since the previous run (the `movers` dataset summed up). Absent before 2.2.0. */
  movers: moversSummarySchema.optional(),
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

/**
 * The fields of `draft` that parsing it with {@link summarySchema} left out of `parsed`, as paths
 * (`models.bgnbd.typo`): the schema reads a later 2.x summary by stripping what it does not know,
 * so the job that writes a summary asks this to catch a field it writes but its own schema does
 * not declare (a typo, a field added to the code only), which would otherwise vanish from summary.json.
 */
export const undeclaredFields = (draft: unknown, parsed: unknown, path = ''): string[] => {
  if (Array.isArray(draft) && Array.isArray(parsed)) return draft.flatMap((v, i) => undeclaredFields(v, parsed[i], `${path}[${i}]`));
  if (draft === null || typeof draft !== 'object' || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
  const out = parsed as Record<string, unknown>;
  return Object.entries(draft).flatMap(([key, value]) =>
    value === undefined ? [] : key in out ? undeclaredFields(value, out[key], path === '' ? key : `${path}.${key}`) : [path === '' ? key : `${path}.${key}`],
  );
};
