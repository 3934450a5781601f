import type { CustomerTable } from '../customers.js';
import type { RfmSettings } from './settings.js';
import { integerValueCounts, orderedFromCounts, rankedFromCounts, valueCountsOfColumn, type OrderedColumn } from './value-counts.js';

/**
 * RFM: recency, frequency and monetary scores 1-5 (5 best) and the named segment they imply.
 *
 * Scores. Recency and monetary are quintiles: a customer's score is `1 + floor(5 * s)`, where `s`
 * is the share of all customers with a strictly worse value, i.e. `dplyr::ntile(x, 5)` with tied
 * values all placed at their lowest rank (`min_rank`). Frequency treats one-time buyers apart:
 * they score F = 1, and repeat buyers score 2-5 by the same rule in quartiles among repeat buyers.
 * Why: one-time buyers are often most customers (about 60% on CDNOW), so plain quintiles would
 * leave F = 2 and 3 empty and call a customer who bought twice "frequent" (F = 4), emptying the
 * grid's middle columns (Potential Loyalist, Need Attention). Consequences, all on purpose:
 * - equal values always get equal scores, so the result never depends on row order;
 * - the grid's F = 1 column means exactly "bought once";
 * - a measure on which every customer is the same (including a lone customer) says nothing about
 *   anyone: everyone scores the middle score on it (3), one-time buyers still F = 1.
 * Measures: recency = days since the last purchase (`tenure_days - recency_days`; fewer is better),
 * frequency = repeat purchase days (`frequency`), monetary = `total_revenue` by default, as the R
 * `rfm` package scores it (or `avg_order_value`, see {@link RfmSettings}).
 *
 * Segments. The well-known R x F grid (rows: R score, columns: F score), with segment names as
 * in the R `rfm` package (rsquaredacademy/rfm, vignettes/rfm-introduction.Rmd):
 *
 * | R \ F | 1               | 2                  | 3                  | 4               | 5               |
 * |-------|-----------------|--------------------|--------------------|-----------------|-----------------|
 * | 5     | New Customers   | Potential Loyalist | Potential Loyalist | Champions       | Champions       |
 * | 4     | Promising       | Potential Loyalist | Potential Loyalist | Loyal Customers | Loyal Customers |
 * | 3     | About To Sleep  | About To Sleep     | Need Attention     | Loyal Customers | Loyal Customers |
 * | 2     | Hibernating     | Hibernating        | At Risk            | At Risk         | Can't Lose Them |
 * | 1     | Lost            | Hibernating        | At Risk            | At Risk         | Can't Lose Them |
 *
 * The grid's one change: its low-recency, low-frequency block (R 1-2, F 1-2, "Hibernating") gives
 * its worst cell, R 1 F 1 (one purchase, longest ago), to "Lost", the R `rfm` package's lowest
 * segment. The monetary score does not move customers between segments (as in the grid); it is
 * reported in `rfm_m` and `rfm_score`. Every one of the 125 score combinations has exactly one
 * segment, by construction.
 *
 * Why not the R `rfm` package's own ranges (R/rfm-segment.R): applied as `rfm_segment` applies
 * them (first match wins, the rest "Others"), its example ranges leave score combinations without
 * a segment (10 of 125 in the current example, 36 in the older one, whose wider early ranges also
 * shadow "New Customers", "Promising" and "Can't Lose Them" entirely) and have no "Hibernating".
 */
export const RFM_SEGMENTS = [
  'Champions',
  'Loyal Customers',
  'Potential Loyalist',
  'New Customers',
  'Promising',
  'Need Attention',
  'About To Sleep',
  'At Risk',
  "Can't Lose Them",
  'Hibernating',
  'Lost',
] as const;
export type RfmSegment = (typeof RFM_SEGMENTS)[number];

/** The R x F grid: `RFM_GRID[r - 1][f - 1]`. See the module comment for its source. */
export const RFM_GRID: readonly (readonly RfmSegment[])[] = [
  ['Lost', 'Hibernating', 'At Risk', 'At Risk', "Can't Lose Them"],
  ['Hibernating', 'Hibernating', 'At Risk', 'At Risk', "Can't Lose Them"],
  ['About To Sleep', 'About To Sleep', 'Need Attention', 'Loyal Customers', 'Loyal Customers'],
  ['Promising', 'Potential Loyalist', 'Potential Loyalist', 'Loyal Customers', 'Loyal Customers'],
  ['New Customers', 'Potential Loyalist', 'Potential Loyalist', 'Champions', 'Champions'],
];

/** The named segment of a score triple (each 1-5). */
export const rfmSegment = (r: number, f: number, _m: number): RfmSegment => {
  const row = RFM_GRID[r - 1];
  const segment = row?.[f - 1];
  if (segment === undefined) throw new RangeError(`RFM scores must be whole numbers 1-5, got R=${r} F=${f}`);
  return segment;
};

const SEGMENT_CODE: ReadonlyMap<RfmSegment, number> = new Map(RFM_SEGMENTS.map((s, i) => [s, i]));

/** Segment code (index into {@link RFM_SEGMENTS}) of every score triple, at `(r-1)*25 + (f-1)*5 + (m-1)`. */
const SEGMENT_BY_SCORES: Uint8Array = Uint8Array.from({ length: 125 }, (_, k) =>
  SEGMENT_CODE.get(rfmSegment(Math.floor(k / 25) + 1, (Math.floor(k / 5) % 5) + 1, (k % 5) + 1)) as number,
);

/** `"545"` for every triple, built once so a million customers share 125 strings. */
const SCORE_TEXT: readonly string[] = Array.from({ length: 125 }, (_, k) => `${Math.floor(k / 25) + 1}${(Math.floor(k / 5) % 5) + 1}${(k % 5) + 1}`);

/** The text score of a triple, e.g. `"545"`. */
export const rfmScoreText = (r: number, f: number, m: number): string => SCORE_TEXT[(r - 1) * 25 + (f - 1) * 5 + (m - 1)] as string;

/**
 * The cut points of a score: the values a value must exceed to score 2, 3, ..., `bins`, decided on
 * the measure ordered (from its value counts: distinct values and how many customers hold each), so
 * that a value scores 1 + the number of cuts it exceeds ({@link binOf}), that is
 * `1 + floor(bins * share strictly lower)`: tied values share a score. Null when every value is
 * equal (or there are none): the measure then says nothing about anyone. `bins` runs looked up.
 */
export const binCuts = (column: OrderedColumn, bins: number): Float64Array | null => {
  const n = column.size;
  if (n === 0 || column.runAt(0).end === n) return null;
  // score >= k  <=>  share strictly lower >= (k-1)/bins  <=>  value > the value at sorted position ceil((k-1)n/bins) - 1.
  return Float64Array.from({ length: bins - 1 }, (_, j) => column.runAt(Math.floor(((j + 1) * n + bins - 1) / bins) - 1).highest);
};

/** A value's score by the cut points of {@link binCuts}: 1 + how many cuts it exceeds. A comparison an engine can make as well. */
export const binOf = (value: number, cuts: Float64Array): number => {
  let score = 1;
  for (let k = 0; k < cuts.length; k += 1) if (value > (cuts[k] as number)) score += 1;
  return score;
};

/** A value's score 1..`bins` by the cut points of {@link binCuts}: {@link binOf}, or the middle score when the cuts are null (every value equal). */
export const quantileScoreOf = (value: number, cuts: Float64Array | null, bins: number): number => (cuts === null ? Math.ceil(bins / 2) : binOf(value, cuts));

/** The cut points of the frequency score: {@link binCuts} in quartiles over the repeat buyers, `repeatBuyers` their repeat purchase days ordered. */
export const frequencyCuts = (repeatBuyers: OrderedColumn): Float64Array | null => binCuts(repeatBuyers, 4);

/** The frequency score of `frequency` repeat purchase days by {@link frequencyCuts}: 1 for a one-time buyer, else 2-5 (3 when the cuts are null). */
export const frequencyScoreOf = (frequency: number, cuts: Float64Array | null): number => (frequency <= 0 ? 1 : 1 + (cuts === null ? 2 : binOf(frequency, cuts)));

export interface RfmColumns {
  readonly r: Int8Array;
  readonly f: Int8Array;
  readonly m: Int8Array;
  /** Index into {@link RFM_SEGMENTS} per customer. */
  readonly segmentCode: Uint8Array;
}

/**
 * R, F and M scores and segment codes of every customer: the cut points of each measure decided
 * first, on its value counts (recency and frequency are whole days, counted without a sort;
 * monetary is `monetaryOrdered` when the caller has it ordered already, the revenue counts the
 * concentration reads too, else counted here), then every customer assigned by comparison with
 * them in one pass. Frequency: one-time buyers F = 1, repeat buyers 2-5 by quartile of repeat
 * purchase days among repeat buyers (3 for all of them when they all bought equally often).
 * O(n + range of the days).
 */
export const rfmColumns = (table: CustomerTable, settings: RfmSettings, monetaryOrdered?: OrderedColumn): RfmColumns => {
  const n = table.size;
  // Negated days since the last purchase, so that higher is better like the other two measures.
  const recentness = new Int32Array(n);
  for (let i = 0; i < n; i += 1) recentness[i] = (table.recencyDays[i] as number) - (table.tenureDays[i] as number);
  const frequency = table.frequency;
  const monetary = settings.monetary === 'avg_order_value' ? table.avgOrderValue : table.totalRevenue;
  const rCuts = binCuts(orderedFromCounts(integerValueCounts(recentness)), 5);
  const fCuts = frequencyCuts(orderedFromCounts(integerValueCounts(frequency, 1)));
  const mCuts = binCuts(monetaryOrdered ?? rankedFromCounts(valueCountsOfColumn(monetary)), 5);
  const r = new Int8Array(n);
  const f = new Int8Array(n);
  const m = new Int8Array(n);
  const segmentCode = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) {
    const rScore = quantileScoreOf(recentness[i] as number, rCuts, 5);
    const fScore = frequencyScoreOf(frequency[i] as number, fCuts);
    const mScore = quantileScoreOf(monetary[i] as number, mCuts, 5);
    r[i] = rScore;
    f[i] = fScore;
    m[i] = mScore;
    segmentCode[i] = SEGMENT_BY_SCORES[(rScore - 1) * 25 + (fScore - 1) * 5 + (mScore - 1)] as number;
  }
  return { r, f, m, segmentCode };
};

/** Per-customer text columns (`rfm_score`, `rfm_segment`), sharing 125 + 11 strings. */
export const rfmTextColumns = (rfm: RfmColumns): { readonly score: string[]; readonly segment: RfmSegment[] } => {
  const n = rfm.r.length;
  const score = new Array<string>(n);
  const segment = new Array<RfmSegment>(n);
  for (let i = 0; i < n; i += 1) {
    score[i] = rfmScoreText(rfm.r[i] as number, rfm.f[i] as number, rfm.m[i] as number);
    segment[i] = RFM_SEGMENTS[rfm.segmentCode[i] as number] as RfmSegment;
  }
  return { score, segment };
};
