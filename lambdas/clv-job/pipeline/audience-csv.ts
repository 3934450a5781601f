/**
 * The audience CSVs' bytes (pipeline/write-audiences.ts writes them): plain data in, chunks out,
 * nothing read or written elsewhere, so that a worker thread can build them
 * (adapters/worker-audiences.ts) while the run's thread writes the tables.
 */
import { stringify } from 'csv-stringify/sync';
import { ClvError } from '../errors.js';
import type { AudienceCsvJob } from '../ports.js';

/** The columns of every audience file, `customer_id` first (SPEC "Acquisition economics"). */
export const AUDIENCE_COLUMNS = ['customer_id', 'segment', 'predicted_clv', 'probability_alive', 'recommended_action'] as const;

/**
 * Bytes per CSV chunk: a chunk is all that sits in memory, however large the audience, and few
 * enough writes that the sink's per-write cost does not count.
 */
export const CHUNK_BYTES = 4 << 20;

/**
 * RFC 4180: CRLF between records, a field quoted when it holds the delimiter, a quote or a line
 * break (csv-stringify quotes a lone CR or LF only when told to), a quote doubled inside quotes.
 */
const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;

const utf8 = new TextEncoder();

/** One field as csv-stringify writes it (quoted when it must be), without the record's line end. */
const csvField = (text: string): string => stringify([[text]], CSV_OPTIONS).slice(0, -2);

/** The characters that make a field need quoting: a field without them is written as it is; any other goes through csv-stringify. */
const QUOTED_CHARACTERS = '",\r\n';

/**
 * Many short texts as UTF-8 in one buffer: text k is `bytes[offset[k] .. offset[k + 1])`. Encoding
 * each once here, and copying bytes per row, spares every row a string of its own and its encoding;
 * and two buffers go to a worker thread transferred, where millions of strings were cloned one by one.
 */
export interface PackedTexts {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly offset: Int32Array<ArrayBuffer>;
}

/** `bytes` when it holds `need` bytes, else a buffer twice as long (or `need`) starting with its first `used` bytes. */
const withRoom = (bytes: Uint8Array<ArrayBuffer>, used: number, need: number): Uint8Array<ArrayBuffer> => {
  if (need <= bytes.length) return bytes;
  const grown = new Uint8Array(Math.max(2 * bytes.length, need));
  grown.set(bytes.subarray(0, used));
  return grown;
};

/** `count` texts, text k being `textOf(k)`, packed as UTF-8 (TextEncoder's). O(total length). */
export const packTexts = (count: number, textOf: (k: number) => string): PackedTexts => {
  let bytes = new Uint8Array(Math.max(1024, count * 16));
  const offset = new Int32Array(count + 1);
  let at = 0;
  for (let k = 0; k < count; k++) {
    const text = textOf(k);
    // a UTF-16 code unit is at most 3 bytes of UTF-8
    bytes = withRoom(bytes, at, at + 3 * text.length);
    // ASCII (ids, numbers) unit by unit: an encodeInto call and its view per short text cost more
    let u = 0;
    for (let c = 0; u < text.length && (c = text.charCodeAt(u)) < 128; u++) bytes[at + u] = c;
    at += u === text.length ? u : utf8.encodeInto(text, bytes.subarray(at)).written;
    offset[k + 1] = at;
  }
  return { bytes, offset };
};

/**
 * Bytes an id's UTF-8 may hold to be written as it is: all but {@link QUOTED_CHARACTERS}' (ASCII,
 * so never a byte of a longer character's UTF-8): exactly the ids that need no quoting.
 */
const PLAIN_ID_BYTE = (() => {
  const plain = new Uint8Array(256).fill(1);
  for (const special of QUOTED_CHARACTERS) plain[special.charCodeAt(0)] = 0;
  return plain;
})();

const utf8Text = new TextDecoder();

/**
 * The part of a row that differs from customer to customer, by the customer's rank k in the
 * activation order (`Audience.ranks`): the id field `bytes[slots[3k] .. slots[3k + 1])`, then the
 * two score fields `bytes[slots[3k + 1] .. slots[3k + 2])`; `slots[3k]` is -1 until a row first
 * asks for it ({@link encodeBody}), and `end` is where the next body goes.
 *
 * Every audience is a part of the activation order, so its rows ask for ranks in ascending order
 * and read the slots and (mostly) the bytes forwards; a customer's id, pattern and scores, which lie
 * at random places, are read once, when its body is encoded. Indexed by customer, as before, every
 * row read five tables at random places (id offsets and bytes, pattern, score offsets and bytes): at
 * a million customers that cache-missing, not the copying, was most of the writer's second.
 */
interface RowBodies {
  bytes: Uint8Array<ArrayBuffer>;
  end: number;
  readonly slots: Int32Array;
}

/**
 * Encodes the body of the customer of rank k, customer i, at the end of `bodies`: the id's UTF-8
 * (`ids`' text i) as it is when it needs no quoting, else through csv-stringify;
 * then the scores of its pattern p.
 */
const encodeBody = (bodies: RowBodies, k: number, ids: PackedTexts, i: number, scores: PackedTexts, p: number): void => {
  const idStart = ids.offset[i]!;
  const idEnd = ids.offset[i + 1]!;
  const scoreStart = scores.offset[p]!;
  const scoreEnd = scores.offset[p + 1]!;
  let at = bodies.end;
  let plain = true;
  for (let b = idStart; b < idEnd && plain; b++) plain = PLAIN_ID_BYTE[ids.bytes[b]!] === 1;
  const quoted = plain ? '' : csvField(utf8Text.decode(ids.bytes.subarray(idStart, idEnd)));
  // a UTF-16 code unit is at most 3 bytes of UTF-8
  const bytes = (bodies.bytes = withRoom(bodies.bytes, at, at + (plain ? idEnd - idStart : 3 * quoted.length) + scoreEnd - scoreStart));
  bodies.slots[3 * k] = at;
  if (plain) for (let b = idStart; b < idEnd; b++) bytes[at++] = ids.bytes[b]!;
  else at += utf8.encodeInto(quoted, bytes.subarray(at)).written;
  bodies.slots[3 * k + 1] = at;
  for (let b = scoreStart; b < scoreEnd; b++) bytes[at++] = scores.bytes[b]!;
  bodies.slots[3 * k + 2] = at;
  bodies.end = at;
};

/**
 * One audience as data (a structured clone carries it to a worker): its segment, its members
 * (customer indexes) and their ranks in the activation order (`Audience.ranks`), and each
 * member's recommended action: `actions[actionOf[j]]` for member j. A builder on a worker thread
 * may take (transfer) the three arrays.
 */
export interface AudienceRowsOf {
  readonly segment: string;
  readonly members: Int32Array;
  readonly ranks: Int32Array;
  readonly actions: readonly string[];
  readonly actionOf: Uint16Array;
}

/** The scores on the audiences' rows, per scoring pattern. */
export interface PatternScores {
  /** Distinct patterns. */
  readonly patternCount: number;
  /** Per pattern; null when the run has none (a fit not trusted). */
  readonly predictedClv: Float64Array | null;
  readonly probabilityAlive: Float64Array | null;
}

/** The audiences' rows but for their scores: the audiences, the customers' ids, their scoring patterns. */
export interface AudienceLists {
  readonly audiences: readonly AudienceRowsOf[];
  /** Customer i's id, as UTF-8 ({@link packTexts}): a builder on a worker thread may take (transfer) its buffers. */
  readonly customerIds: PackedTexts;
  /** Customer i's scoring pattern. */
  readonly patternOf: Int32Array;
}

/**
 * `value` as the shortest decimal that reads back as the same double (JavaScript's number to text),
 * written out in full where that text takes an exponent (below 1e-6, from 1e21): a CRM's decimal
 * field refuses `3.4e-44`, the P(alive) of a customer long gone. The digits are the same, so the
 * text still reads back exactly. `value` finite.
 */
export const plainDecimal = (value: number): string => {
  const text = String(value);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const sign = text.startsWith('-') ? '-' : '';
  const mantissa = text.slice(sign.length, e);
  const digits = mantissa.replace('.', '');
  // JavaScript writes one digit before the mantissa's point: `point` digits before the number's
  const point = 1 + Number(text.slice(e + 1));
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  return point >= digits.length ? `${sign}${digits}${'0'.repeat(point - digits.length)}` : `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
};

/**
 * Text p: pattern p's `predicted_clv,probability_alive` fields as every row writes them
 * ({@link plainDecimal}; empty for a score the run has none of).
 * Two numbers to text per pattern (~2 M patterns at 5 M customers): seconds of CPU, which a worker
 * spends ahead of the audiences (adapters/worker-audiences.ts).
 */
export const scoreTextsOf = ({ patternCount, predictedClv, probabilityAlive }: PatternScores): PackedTexts =>
  packTexts(patternCount, (p) => `${predictedClv ? plainDecimal(predictedClv[p]!) : ''},${probabilityAlive ? plainDecimal(probabilityAlive[p]!) : ''}`);

/**
 * A piece of audience `audience`'s file (index in `AudienceLists.audiences`), the header first;
 * `bytes` null: the file is complete. Each piece is a buffer of its own (the receiver may keep it).
 */
export interface AudienceChunk {
  readonly audience: number;
  readonly bytes: Uint8Array | null;
}

/**
 * The audience files' bytes, audience after audience, in chunks of at most CHUNK_BYTES (a longer
 * row is a chunk of its own). Each file: UTF-8 without a BOM, the header, then one row per member
 * in the audience's order: `customer_id`, `segment`, `predicted_clv` and `probability_alive`
 * ({@link plainDecimal}; empty when the run has none),
 * `recommended_action`.
 *
 * Quoting is csv-stringify's. An id is handed to csv-stringify only when it holds a comma, a quote
 * or a line break (a field without them is written as it is by any RFC 4180 writer); the segment
 * and the actions once per audience; numbers need no quoting. Every text is encoded once: the
 * scores once per scoring pattern (customers who share a pattern share the text), each customer's
 * id and scores once, as its row body, for all the audiences the customer is in, laid out in
 * activation order ({@link RowBodies}); then rows are copied together byte by byte. `scoreTexts`:
 * {@link scoreTextsOf} the rows' scores (a worker makes them ahead of the rows). A million
 * customers' audiences (~300 MB): ~1.4 s of CPU on a loaded machine (`npm run bench:audiences`),
 * against ~1.75 s with the bodies indexed by customer. Throws a RangeError when a member's scoring
 * pattern (`patternOf`) is not one of `scoreTexts`' (rows and scores of different runs).
 */
export function* audienceChunks(rows: AudienceLists, scoreTexts: PackedTexts): Generator<AudienceChunk> {
  const { customerIds, patternOf } = rows;
  const customers = customerIds.offset.length - 1;
  const patterns = scoreTexts.offset.length - 1;
  const header = utf8.encode(stringify([[...AUDIENCE_COLUMNS]], CSV_OPTIONS));
  const bodies: RowBodies = {
    // ~10-byte ids and ~36 bytes of scores; grown when short
    bytes: new Uint8Array(Math.max(1024, customers * 48)),
    end: 0,
    slots: new Int32Array(3 * customers).fill(-1),
  };
  for (let a = 0; a < rows.audiences.length; a++) {
    const { segment, members, ranks, actions, actionOf } = rows.audiences[a]!;
    yield { audience: a, bytes: header.slice() };
    // between the id and the scores, and after the scores: the same bytes on every row of the audience (per action)
    const middle = utf8.encode(`,${csvField(segment)},`);
    const tails = actions.map((action) => utf8.encode(`,${csvField(action)}\r\n`));
    let chunk = new Uint8Array(CHUNK_BYTES);
    let at = 0;
    for (let j = 0; j < members.length; j++) {
      const i = members[j]!;
      const k = ranks[j]!;
      const tail = tails[actionOf[j]!]!;
      if (bodies.slots[3 * k]! < 0) {
        const p = patternOf[i]!;
        // rows and scores of different runs: refused rather than written with another customer's scores (or none)
        if (!(p >= 0 && p < patterns)) throw new RangeError(`customer ${i}'s scoring pattern ${p} is not one of the ${patterns} patterns scored`);
        encodeBody(bodies, k, customerIds, i, scoreTexts, p);
      }
      const body = bodies.bytes;
      const idStart = bodies.slots[3 * k]!;
      const scoreStart = bodies.slots[3 * k + 1]!;
      const scoreEnd = bodies.slots[3 * k + 2]!;
      const rowBytes = scoreEnd - idStart + middle.length + tail.length;
      if (at + rowBytes > chunk.length) {
        yield { audience: a, bytes: chunk.subarray(0, at) };
        chunk = new Uint8Array(Math.max(CHUNK_BYTES, rowBytes));
        at = 0;
      }
      for (let b = idStart; b < scoreStart; b++) chunk[at++] = body[b]!;
      chunk.set(middle, at);
      at += middle.length;
      for (let b = scoreStart; b < scoreEnd; b++) chunk[at++] = body[b]!;
      chunk.set(tail, at);
      at += tail.length;
    }
    if (at > 0) yield { audience: a, bytes: chunk.subarray(0, at) };
    yield { audience: a, bytes: null };
  }
}

/** A job's chunks asked for again, or after the job was closed (AudienceCsvJob): refused, never built with scores not theirs. */
export class AudienceJobError extends ClvError {}

/**
 * Where an {@link AudienceCsvJob} is: its chunks not yet asked for, asked for, or the job closed
 * (by its run, or by the builder's next job). Its chunks are asked for once, while it is open.
 */
export class AudienceJobState {
  private state: 'open' | 'built' | 'closed' = 'open';

  /** Marks the chunks asked for. Throws {@link AudienceJobError} when they were before, or the job is closed. */
  take(): void {
    if (this.state !== 'open') {
      throw new AudienceJobError(`an audience job's chunks were asked for after ${this.state === 'built' ? 'they were built' : 'the job was closed'}: a job builds its own run's rows, once`);
    }
    this.state = 'built';
  }

  close(): void {
    this.state = 'closed';
  }
}

/** An {@link AudienceCsvJob} built in this thread: the score texts are made when the chunks are asked for. */
export class AudienceJobHere implements AudienceCsvJob {
  private readonly state = new AudienceJobState();
  /** Null once used or closed: a closed job holds no run's scores. */
  private scores: PatternScores | null;

  constructor(scores: PatternScores) {
    this.scores = scores;
  }

  async *chunks(rows: AudienceLists): AsyncGenerator<AudienceChunk> {
    this.state.take();
    const scores = this.scores!;
    this.scores = null;
    yield* audienceChunks(rows, scoreTextsOf(scores));
  }

  async close(): Promise<void> {
    this.state.close();
    this.scores = null;
  }
}
