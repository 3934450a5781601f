import type { CustomerTable } from '../domain/customers.js';
import type { Audience } from '../domain/segments/audiences.js';
import { AUDIENCES_DATASET, runDatePartition } from '../layout.js';
import type { AudienceCsvJob, ByteSink, StagedRun } from '../ports.js';
import { AudienceJobHere, packTexts, type AudienceLists, type PatternScores } from './audience-csv.js';
import type { ScoredCustomers } from './score-customers.js';
import type { WrittenFile } from './write-tables.js';

export { AUDIENCE_COLUMNS } from './audience-csv.js';

export const audienceKey = (runDate: string, audience: Pick<Audience, 'scheme' | 'file'>): string =>
  `${AUDIENCES_DATASET}/${runDatePartition(runDate)}/${audience.scheme}/${audience.file}.csv`;

/** What the audiences read of the scores (a part of `ScoredCustomers['byPattern']`). */
export interface AudienceScores {
  /** Customer i's scoring pattern. */
  readonly patternOf: Int32Array;
  /** Distinct patterns. */
  readonly size: number;
  /** Per pattern; null when the run has none (a fit not trusted). */
  readonly columns: Pick<ScoredCustomers['byPattern']['columns'], 'predicted_clv' | 'probability_alive'>;
}

/** The scores the audiences' rows carry, per pattern: what an AudienceCsvBuilder starts their job with. */
export const patternScoresOf = (scored: { readonly byPattern: AudienceScores }): PatternScores => ({
  patternCount: scored.byPattern.size,
  predictedClv: scored.byPattern.columns.predicted_clv,
  probabilityAlive: scored.byPattern.columns.probability_alive,
});

/**
 * The audiences as data for audienceChunks, but for the scores (their job's): each member's
 * recommended action is the first, leading action of its list (`actionsOf`) in the segment settings
 * ('' for an empty list), numbered per audience. Throws a RangeError past 65,536 distinct actions in
 * one audience.
 */
export const audienceRowsOf = (
  audiences: readonly Audience[],
  customers: Pick<CustomerTable, 'customerId'>,
  scored: { readonly byPattern: Pick<AudienceScores, 'patternOf'> },
): AudienceLists => ({
  audiences: audiences.map(({ segment, members, ranks, actionsOf }) => {
    const numbers = new Map<string, number>();
    const actionOf = new Uint16Array(members.length);
    // members share their list (a segment's): its number is looked up again only when the list changes
    let list: readonly string[] | null = null;
    let n = 0;
    for (let j = 0; j < members.length; j++) {
      const actions = actionsOf(members[j]!);
      if (actions !== list) {
        list = actions;
        const action = actions[0] ?? '';
        const known = numbers.get(action);
        n = known ?? numbers.size;
        if (n > 0xffff) throw new RangeError(`audience ${segment} has more than 65,536 distinct recommended actions`);
        if (known === undefined) numbers.set(action, n);
      }
      actionOf[j] = n;
    }
    return { segment, members, ranks, actions: [...numbers.keys()], actionOf };
  }),
  customerIds: packTexts(customers.customerId.length, (i) => customers.customerId[i]!),
  patternOf: scored.byPattern.patternOf,
});

/**
 * One CSV per audience, `audiences/run_date=D/<scheme>/<segment>.csv` (audienceChunks says what is
 * in it): the recommended action is the first, leading action of the segment's list in the segment
 * settings (the whole list is in the `segments` dataset and the summary). An empty audience is a
 * header alone. The bytes are built by `job` (the run's AudienceCsvJob, started with `scored`'s
 * scores, e.g. on a worker thread while this thread writes other files; in this thread with
 * `scored`'s scores when left out) and streamed chunk by chunk to the run's location as they come.
 * A job on a worker takes `audiences`' member lists (`members`, `ranks`: moved to its thread, not
 * copied): the caller reads them no more. Rejects as the job's chunks do (AudienceCsvJob.chunks).
 */
export const writeAudiences = async (
  run: Pick<StagedRun, 'open'>,
  runDate: string,
  audiences: readonly Audience[],
  customers: Pick<CustomerTable, 'customerId'>,
  scored: { readonly byPattern: AudienceScores },
  job: AudienceCsvJob = new AudienceJobHere(patternScoresOf(scored)),
): Promise<WrittenFile[]> => {
  const written: WrittenFile[] = [];
  let sink: ByteSink | null = null;
  let bytes = 0;
  // counted first: a job on a worker takes the member lists
  const members = audiences.map((a) => a.members.length);
  for await (const { audience: a, bytes: chunk } of job.chunks(audienceRowsOf(audiences, customers, scored))) {
    const audience = audiences[a]!;
    if (chunk !== null) {
      sink ??= await run.open(audienceKey(runDate, audience));
      // the job may reuse the chunk's memory once the next one is asked for (AudienceCsvJob)
      await sink.write(sink.keepsChunks === true ? chunk.slice() : chunk);
      bytes += chunk.byteLength;
      continue;
    }
    await sink?.close();
    written.push({ key: audienceKey(runDate, audience), rows: members[a]!, bytes });
    sink = null;
    bytes = 0;
  }
  return written;
};
