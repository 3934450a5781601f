import { DEFAULT_NON_PURCHASE_STATUSES } from './config.js';
import { resolveSegmentSettings } from './domain/segments/settings.js';
import type { RunConfig } from './pipeline/run.js';

/** A RunConfig whose settings with a job-wide default may be left out. */
export type RunSettings = Omit<RunConfig, 'nonPurchaseStatuses' | 'segments'> &
  Partial<Pick<RunConfig, 'nonPurchaseStatuses' | 'segments'>>;

/**
 * The pipeline's RunConfig, built the same way by both composition roots (cli-options.ts and the
 * Lambda handler), so that a run left at its defaults means the same on a laptop and on AWS.
 * Defaults: DEFAULT_NON_PURCHASE_STATUSES; the segment defaults (resolveSegmentSettings(undefined)).
 */
export const buildRunConfig = ({ nonPurchaseStatuses, segments, ...rest }: RunSettings): RunConfig => ({
  ...rest,
  nonPurchaseStatuses: nonPurchaseStatuses ?? [...DEFAULT_NON_PURCHASE_STATUSES],
  segments: segments ?? resolveSegmentSettings(undefined),
});
