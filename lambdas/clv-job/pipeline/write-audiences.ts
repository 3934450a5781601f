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
 * Bytes per CSV chunk: a chunk is all that sits in memory, however large the audience, and few
 * enough writes that the sink's per-write cost does not count.
 */
const CHUNK_BYTES = 4 << 20;

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
 * Many short texts as UTF-8 in one buffer: text k is `bytes[offset[k] .. offset[k + 1])`. Encoding
 * each once here, and copying bytes per row, spares every row a string of its own and its encoding.
 */
interface PackedTexts {
  readonly bytes: Uint8Array;
  readonly offset: Int32Array;
}

/** `count` texts, text k being `textOf(k)`, packed as UTF-8. O(total length). */
const packTexts = (count: number, textOf: (k: number) => string): PackedTexts => {
  let bytes = new Uint8Array(Math.max(1024, count * 16));
  const offset = new Int32Array(count + 1);
  let at = 0;
  for (let k = 0; k < count; k++) {
    const text = textOf(k);
    // a UTF-16 code unit is at most 3 bytes of UTF-8
    if (at + 3 * text.length > bytes.length) {
      const grown = new Uint8Array(Math.max(2 * bytes.length, at + 3 * text.length));
      grown.set(bytes.subarray(0, at));
      bytes = grown;
    }
    at += utf8.encodeInto(text, bytes.subarray(at)).written;
    offset[k + 1] = at;
  }
  return { bytes, offset };
};

/** Copies `from[start .. end)` into `to` at `at`; returns the position after it. Plain Uint8Arrays only, so the loop stays monomorphic. */
const copyBytes = (from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): number => {
  for (let b = start; b < end; b++) to[at++] = from[b]!;
  return at;
};

/** What the audiences read of the scores (a part of `ScoredCustomers['byPattern']`). */
export interface AudienceScores {
  /** Customer i's scoring pattern. */
  readonly patternOf: Int32Array;
  /** Distinct patterns. */
  readonly size: number;
  /** Per pattern; null when the run has none (a fit not trusted). */
  readonly columns: Pick<ScoredCustomers['byPattern']['columns'], 'predicted_clv' | 'probability_alive'>;
}

/**
 * One CSV per audience, `audiences/run_date=D/<scheme>/<segment>.csv`: UTF-8 without a BOM, a
 * header, then one row per member in the audience's order: `customer_id`, `segment`,
 * `predicted_clv` and `probability_alive` (shortest round-trip decimals, JavaScript's number to
 * text; empty when the predictive fit failed), `recommended_action` (the first, leading action of
 * the segment's list in the segment settings; the whole list is in the `segments` dataset and the
 * summary). An empty audience is a header alone. Streamed chunk by chunk to the run's location.
 *
 * Quoting is csv-stringify's. An id is handed to csv-stringify only when it holds a comma, a quote
 * or a line break (a field without them is written as it is by any RFC 4180 writer); the segment
 * and the action once per audience (once per action list); numbers need no quoting. Every text is
 * encoded once: each customer's id field once for all the audiences the customer is in, and the
 * scores once per scoring pattern (`scored.byPattern`: customers who share a pattern share the
 * text), then rows are copied together byte by byte. That keeps a million customers' audiences
 * (~300 MB) to well under a second of CPU.
 */
export const writeAudiences = async (
  run: Pick<StagedRun, 'open'>,
  runDate: string,
  audiences: readonly Audience[],
  customers: Pick<CustomerTable, 'size' | 'customerId'>,
  scored: { readonly byPattern: AudienceScores },
): Promise<WrittenFile[]> => {
  const written: WrittenFile[] = [];
  const header = utf8.encode(stringify([[...AUDIENCE_COLUMNS]], CSV_OPTIONS));
  const { patternOf, size: patternCount, columns } = scored.byPattern;
  const { predicted_clv: predictedClv, probability_alive: probabilityAlive } = columns;
  const ids = packTexts(customers.size, (i) => {
    const id = customers.customerId[i]!;
    return NEEDS_QUOTING.test(id) ? csvField(id) : id;
  });
  const scoreTexts = packTexts(patternCount, (p) => `${predictedClv ? predictedClv[p] : ''},${probabilityAlive ? probabilityAlive[p] : ''}`);
  for (const audience of audiences) {
    const key = audienceKey(runDate, audience);
    const sink = await run.open(key);
    await sink.write(header);
    let bytes = header.byteLength;
    // between the id and the scores, and after the scores: the same bytes on every row of the audience (per action list)
    const middle = utf8.encode(`,${csvField(audience.segment)},`);
    const tails = new Map<readonly string[], Uint8Array>();
    let chunk = new Uint8Array(CHUNK_BYTES);
    let at = 0;
    for (const i of audience.members) {
      const actions = audience.actionsOf(i);
      let tail = tails.get(actions);
      if (tail === undefined) tails.set(actions, (tail = utf8.encode(`,${csvField(actions[0] ?? '')}\r\n`)));
      const p = patternOf[i]!;
      const idStart = ids.offset[i]!;
      const idEnd = ids.offset[i + 1]!;
      const scoreStart = scoreTexts.offset[p]!;
      const scoreEnd = scoreTexts.offset[p + 1]!;
      const rowBytes = idEnd - idStart + middle.length + scoreEnd - scoreStart + tail.length;
      if (at + rowBytes > chunk.length) {
        // the sink may keep what it is given: each chunk is a buffer of its own
        await sink.write(chunk.subarray(0, at));
        bytes += at;
        chunk = new Uint8Array(Math.max(CHUNK_BYTES, rowBytes));
        at = 0;
      }
      at = copyBytes(ids.bytes, idStart, idEnd, chunk, at);
      chunk.set(middle, at);
      at += middle.length;
      at = copyBytes(scoreTexts.bytes, scoreStart, scoreEnd, chunk, at);
      chunk.set(tail, at);
      at += tail.length;
    }
    if (at > 0) {
      await sink.write(chunk.subarray(0, at));
      bytes += at;
    }
    await sink.close();
    written.push({ key, rows: audience.members.length, bytes });
  }
  return written;
};
