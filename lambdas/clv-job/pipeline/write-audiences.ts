import { stringify } from 'csv-stringify/sync';
import type { CustomerScores, CustomerTable } from '../domain/customers.js';
import type { Audience } from '../domain/segments/audiences.js';
import { AUDIENCES_DATASET, runDatePartition } from '../layout.js';
import type { StagedRun } from '../ports.js';
import { ACTIONS_SEPARATOR } from './write-summary-datasets.js';
import type { WrittenFile } from './write-tables.js';

/** The columns of every audience file, `customer_id` first (SPEC "Acquisition economics"). */
export const AUDIENCE_COLUMNS = ['customer_id', 'segment', 'predicted_clv', 'probability_alive', 'recommended_actions'] as const;

/** Rows per CSV chunk: a chunk's text is all that sits in memory, however large the audience. */
const CHUNK_ROWS = 10_000;

/**
 * RFC 4180: CRLF between records, a field quoted when it holds the delimiter, a quote or a line
 * break (csv-stringify quotes a lone CR or LF only when told to), a quote doubled inside quotes.
 */
const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;

export const audienceKey = (runDate: string, audience: Pick<Audience, 'scheme' | 'file'>): string =>
  `${AUDIENCES_DATASET}/${runDatePartition(runDate)}/${audience.scheme}/${audience.file}.csv`;

const utf8 = new TextEncoder();

/**
 * One CSV per audience, `audiences/run_date=D/<scheme>/<segment>.csv`: UTF-8 without a BOM, a
 * header, then one row per member in the audience's order: `customer_id`, `segment`,
 * `predicted_clv` and `probability_alive` (shortest round-trip decimals; empty when the
 * predictive fit failed), `recommended_actions` (the segment's actions joined by " | "). An
 * empty audience is a header alone. Streamed chunk by chunk to the run's location.
 */
export const writeAudiences = async (
  run: StagedRun,
  runDate: string,
  audiences: readonly Audience[],
  customers: CustomerTable,
  scores: CustomerScores,
): Promise<WrittenFile[]> => {
  const written: WrittenFile[] = [];
  for (const audience of audiences) {
    const key = audienceKey(runDate, audience);
    const sink = await run.open(key);
    let bytes = 0;
    const write = async (text: string): Promise<void> => {
      const chunk = utf8.encode(text);
      bytes += chunk.byteLength;
      await sink.write(chunk);
    };
    await write(stringify([[...AUDIENCE_COLUMNS]], CSV_OPTIONS));
    const { members } = audience;
    for (let from = 0; from < members.length; from += CHUNK_ROWS) {
      const records: (string | number | null)[][] = [];
      for (const i of members.subarray(from, Math.min(members.length, from + CHUNK_ROWS))) {
        records.push([
          customers.customerId[i]!,
          audience.segment,
          scores.predictedClv?.[i] ?? null,
          scores.probabilityAlive?.[i] ?? null,
          audience.actionsOf(i).join(ACTIONS_SEPARATOR),
        ]);
      }
      await write(stringify(records, CSV_OPTIONS));
    }
    await sink.close();
    written.push({ key, rows: members.length, bytes });
  }
  return written;
};
