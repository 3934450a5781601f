import type { CustomerScores, CustomerTable } from '../domain/customers.js';
import { changesSincePreviousRun, tierMigration, type ModelParameter, type RunSnapshot } from '../domain/segments/changes.js';
import { segmentCustomers } from '../domain/segments/segment-customers.js';
import type { SegmentSettings } from '../domain/segments/settings.js';
import type { Summary } from '../schemas/summary.js';
import type { PreviousRun } from './previous-run.js';

export interface SegmentInput {
  readonly runDate: string;
  readonly asOfDay: number;
  readonly customers: CustomerTable;
  readonly scores: CustomerScores;
  /** Tonight's fitted parameters with their standard errors, by name. */
  readonly parameters: Readonly<Record<string, ModelParameter>>;
  readonly settings: SegmentSettings;
  readonly previous: PreviousRun | null;
}

const snapshotOf = (
  runDate: string,
  summary: Pick<Summary, 'segments' | 'channels'>,
  parameters: Readonly<Record<string, ModelParameter>>,
): RunSnapshot => ({
  runDate,
  clvTiers: summary.segments.clv_tiers,
  valueLoyalty: summary.segments.value_loyalty,
  rfm: summary.segments.rfm,
  channels: summary.channels,
  parameters,
});

/** Segments tonight's customers and compares the result with the previous run date's. */
export const segmentAndCompare = (input: SegmentInput, previousParameters: (summary: Summary) => Readonly<Record<string, ModelParameter>>) => {
  const { columns, summary } = segmentCustomers(input.customers, input.scores, input.settings, input.asOfDay);
  const tonight = {
    segments: { clv_tiers: summary.clv_tiers, value_loyalty: summary.value_loyalty, rfm: summary.rfm },
    channels: summary.channels,
  };
  const previous = input.previous;
  const changes = changesSincePreviousRun(
    snapshotOf(input.runDate, tonight, input.parameters),
    previous ? snapshotOf(previous.runDate, previous.summary, previousParameters(previous.summary)) : null,
    input.settings.warnings,
    previous ? tierMigration(input.customers.customerId, columns.clvTier, previous.tiers) : null,
  );
  return {
    columns,
    summary: { ...tonight, cohorts: summary.cohorts, concentration: summary.concentration, changes },
  };
};
