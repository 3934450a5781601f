import { DEFAULT_NON_PURCHASE_STATUSES } from './config.js';
import { DEFAULT_ACQUISITION_SETTINGS } from './domain/acquisition/settings.js';
import { DEFAULT_GATE_SETTINGS } from './domain/quality-gates.js';
import { resolveSegmentSettings } from './domain/segments/settings.js';
import type { RunConfig } from './pipeline/run.js';

/** A RunConfig whose settings with a job-wide default may be left out. */
export type RunSettings = Omit<RunConfig, 'nonPurchaseStatuses' | 'segments' | 'acquisition' | 'gates' | 'acceptFailedGates'> &
  Partial<Pick<RunConfig, 'nonPurchaseStatuses' | 'segments' | 'acquisition' | 'gates' | 'acceptFailedGates'>>;

/**
 * The pipeline's RunConfig, built the same way by both composition roots (cli-options.ts and the
 * Lambda handler), so that a run left at its defaults means the same on a laptop and on AWS.
 * Defaults: DEFAULT_NON_PURCHASE_STATUSES; the segment defaults (resolveSegmentSettings(undefined));
 * DEFAULT_GATE_SETTINGS, failed gates not accepted; DEFAULT_ACQUISITION_SETTINGS.
 */
export const buildRunConfig = ({ nonPurchaseStatuses, segments, acquisition, gates, acceptFailedGates, ...rest }: RunSettings): RunConfig => ({
  ...rest,
  acquisition: acquisition ?? DEFAULT_ACQUISITION_SETTINGS,
  gates: gates ?? DEFAULT_GATE_SETTINGS,
  acceptFailedGates: acceptFailedGates ?? false,
  nonPurchaseStatuses: nonPurchaseStatuses ?? [...DEFAULT_NON_PURCHASE_STATUSES],
  segments: segments ?? resolveSegmentSettings(undefined),
});
