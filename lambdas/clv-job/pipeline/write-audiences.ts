import { stringify } from 'csv-stringify/sync';
import type { CustomerTable } from '../domain/customers.js';
import type { Audience } from '../domain/segments/audiences.js';
import { AUDIENCES_DATASET, runDatePartition } from '../layout.js';
import type { StagedRun } from '../ports.js';
import type { ScoredCustomers } from './score-customers.js';
import type { WrittenFile } from './write-tables.js';

/** The columns of every audience file, `customer_id` first (SPEC "Acquisition economics"). */
export const AUDIENCE_COLUMNS = ['customer_id', 'segment', 'predicted_clv', 'probability_alive', 'recommended_action'] as const;

/**
 * Rows per CSV chunk (~4 MB of text at ~80 bytes a row): a chunk's text is all that sits in memory,
 * however large the audience, and few enough writes that the sink's per-write cost does not count.
 */
const CHUNK_ROWS = 50_000;

/**
 * RFC 4180: CRLF between records, a field quoted when it holds the delimiter, a quote or a line
 * break (csv-stringify quotes a lone CR or LF only when told to), a quote doubled inside quotes.
 */
const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;

export const audienceKey = (runDate: string, audience: Pick<Audience, 'scheme' | 'file'>): string =>
  `${AUDIENCES_DATASET}/${runDatePartition(runDate)}/${audience.scheme}/${audience.file}.csv`;

const utf8 = new TextEncoder();

/** One field as csv-stringify writes it (quoted when it must be), without the record's line end. */
const csvField = (text: string): string => stringify([[text]], CSV_OPTIONS).slice(0, -2);

/** A field that needs no quoting is written as it is; any other goes through csv-stringify. */
const NEEDS_QUOTING = /[",\r\n]/;

/**
 * The `predicted_clv,probability_alive` text of every scoring pattern (shortest round-trip
 * decimals, JavaScript's number to string; a column the run has not got is empty). Customers who
 * share a pattern share the text, so each number is turned into text once per pattern, not once
 * per row of every audience the customer is in. Numbers need no quoting.
 */
const scoreTextByPattern = (byPattern: ScoredCustomers['byPattern']): string[] => {
  const { predicted_clv: predictedClv, probability_alive: probabilityAlive } = byPattern.columns;
  const text = new Array<string>(byPattern.size);
  for (let p = 0; p < byPattern.size; p++) text[p] = `${predictedClv ? predictedClv[p] : ''},${probabilityAlive ? probabilityAlive[p] : ''}`;
  return text;
};

/**
 * One CSV per audience, `audiences/run_date=D/<scheme>/<segment>.csv`: UTF-8 without a BOM, a
 * header, then one row per member in the audience's order: `customer_id`, `segment`,
 * `predicted_clv` and `probability_alive` (shortest round-trip decimals; empty when the
 * predictive fit failed), `recommended_action` (the first, leading action of the segment's list in
 * the segment settings; the whole list is in the `segments` dataset and the summary). An empty
 * audience is a header alone. Streamed chunk by chunk to the run's location.
 *
 * Quoting is csv-stringify's. Only the customer id differs from row to row among the text fields,
 * so the segment and the action are quoted once per audience (once per action list), and an id
 * is handed to csv-stringify only when it holds a comma, a quote or a line break: a field without
 * them is written as it is by any RFC 4180 writer. The scores are read per scoring pattern
 * (`scored.byPattern`) and turned into text once per pattern. That keeps a million rows to a second
 * or so.
 */
export const writeAudiences = async (
  run: StagedRun,
  runDate: string,
  audiences: readonly Audience[],
  customers: CustomerTable,
  scored: Pick<ScoredCustomers, 'byPattern'>,
): Promise<WrittenFile[]> => {
  const written: WrittenFile[] = [];
  const header = stringify([[...AUDIENCE_COLUMNS]], CSV_OPTIONS);
  const { patternOf } = scored.byPattern;
  const scoreText = scoreTextByPattern(scored.byPattern);
  for (const audience of audiences) {
    const key = audienceKey(runDate, audience);
    const sink = await run.open(key);
    let bytes = 0;
    const write = async (text: string): Promise<void> => {
      const chunk = utf8.encode(text);
      bytes += chunk.byteLength;
      await sink.write(chunk);
    };
    await write(header);
    const segment = csvField(audience.segment);
    const actionText = new Map<readonly string[], string>();
    const { members } = audience;
    for (let from = 0; from < members.length; from += CHUNK_ROWS) {
      let text = '';
      for (let k = from, to = Math.min(members.length, from + CHUNK_ROWS); k < to; k++) {
        const i = members[k]!;
        const id = customers.customerId[i]!;
        const actions = audience.actionsOf(i);
        let quotedAction = actionText.get(actions);
        if (quotedAction === undefined) actionText.set(actions, (quotedAction = csvField(actions[0] ?? '')));
        text += `${NEEDS_QUOTING.test(id) ? csvField(id) : id},${segment},${scoreText[patternOf[i]!]},${quotedAction}\r\n`;
      }
      await write(text);
    }
    await sink.close();
    written.push({ key, rows: members.length, bytes });
  }
  return written;
};
