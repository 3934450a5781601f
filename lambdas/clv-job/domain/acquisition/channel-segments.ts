import type { ChannelSegmentRow, ChurnRow } from '../../schemas/summary-acquisition.js';
import type { CustomerSegments } from '../customers.js';
import { CompensatedSum } from '../math/sum.js';
import { RFM_SEGMENTS } from '../segments/rfm.js';
import { shareOf } from '../segments/segment-table.js';
import { TIER_ORDER } from '../segments/tiers.js';
import { VALUE_LOYALTY_CELLS } from '../segments/value-loyalty.js';

/** The segmentations a channel is mapped onto (and churn is measured by). */
export const CHANNEL_SEGMENT_SCHEMES = ['clv_tier', 'value_loyalty', 'rfm'] as const;
export type ChannelSegmentScheme = (typeof CHANNEL_SEGMENT_SCHEMES)[number];

/** P(alive) below this counts a customer as at risk of churn. */
export const AT_RISK_PROBABILITY_ALIVE = 0.5;

/** Each scheme's segments in their fixed order, and each customer's segment (null when the run has no such column). */
const schemesOf = (segments: CustomerSegments): { scheme: ChannelSegmentScheme; names: readonly string[]; values: readonly string[] | null }[] => [
  { scheme: 'clv_tier', names: TIER_ORDER, values: segments.clvTier },
  { scheme: 'value_loyalty', names: VALUE_LOYALTY_CELLS, values: segments.valueLoyalty },
  { scheme: 'rfm', names: RFM_SEGMENTS, values: segments.rfmSegment },
];

/**
 * Segment codes of one scheme's column; a value outside the scheme's list is a programming error.
 * A plain loop: `Int32Array.from` with a mapping function walks the iterator protocol, several
 * times slower over a million customers.
 */
const codesIn = (names: readonly string[], values: readonly string[]): Int32Array => {
  const index = new Map(names.map((name, i) => [name, i]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const code = index.get(values[i] as string);
    if (code === undefined) throw new RangeError(`segment "${values[i]}" is not one of ${names.join(', ')}`);
    codes[i] = code;
  }
  return codes;
};

/**
 * The channel x segment map: for every acquisition channel (`channels`, in the order given, e.g. the
 * channel table's) and every segment of each scheme, the customers and equity (sum of `clv`, the
 * ranking CLV) of the channel's customers in that segment, the channel's mix (`channel_share`)
 * against the overall mix (`overall_share`), and their ratio `representation_index`
 * (> 1 over-represented; null for a segment empty overall). Customer i belongs to channel
 * `channelOf[i]`. Every empty cell is listed, so each scheme's rows add up to the customer count and
 * the total equity. Compensated sums; O(n x schemes).
 */
export const channelSegmentTable = (
  channels: readonly string[],
  channelOf: ArrayLike<number>,
  clv: Float64Array,
  segments: CustomerSegments,
): ChannelSegmentRow[] => {
  const rows: ChannelSegmentRow[] = [];
  const n = clv.length;
  for (const { scheme, names, values } of schemesOf(segments)) {
    if (values === null) continue;
    const codes = codesIn(names, values);
    const cells = names.length;
    const customers = new Float64Array(channels.length * cells);
    const equity = Array.from({ length: channels.length * cells }, () => new CompensatedSum());
    const perChannel = new Float64Array(channels.length);
    const perSegment = new Float64Array(cells);
    for (let i = 0; i < n; i += 1) {
      const c = channelOf[i] as number;
      const s = codes[i] as number;
      customers[c * cells + s] = (customers[c * cells + s] as number) + 1;
      (equity[c * cells + s] as CompensatedSum).add(clv[i] as number);
      perChannel[c] = (perChannel[c] as number) + 1;
      perSegment[s] = (perSegment[s] as number) + 1;
    }
    channels.forEach((channel, c) => {
      names.forEach((segment, s) => {
        const count = customers[c * cells + s] as number;
        const channelShare = shareOf(count, perChannel[c] as number);
        const overallShare = shareOf(perSegment[s] as number, n);
        rows.push({
          channel,
          scheme,
          segment,
          customers: count,
          equity: (equity[c * cells + s] as CompensatedSum).value,
          channel_share: channelShare,
          overall_share: overallShare,
          representation_index: overallShare === 0 ? null : channelShare / overallShare,
        });
      });
    });
  }
  return rows;
};

/**
 * Churn by segment, for each scheme and each of its segments:
 *   at_risk_customers = #{i in segment : P_i(alive) < 0.5},  at_risk_share = at_risk_customers / customers,
 *   expected_customers_lost = sum over the segment of (1 - P_i(alive)),
 * P_i(alive) being the transaction model's probability that customer i is still active at the as-of
 * date. A customer who is no longer active buys nothing more, so the second figure is the expected
 * number of the segment's customers lost to the horizon's predictions already at the as-of date (a
 * floor on the losses by the horizon's end, since active customers may still drop out). Null P(alive)
 * columns (no trusted fit) give null figures. O(n x schemes).
 */
export const churnTable = (probabilityAlive: Float64Array | null, segments: CustomerSegments): ChurnRow[] => {
  const rows: ChurnRow[] = [];
  for (const { scheme, names, values } of schemesOf(segments)) {
    if (values === null) continue;
    const codes = codesIn(names, values);
    const customers = new Float64Array(names.length);
    const atRisk = new Float64Array(names.length);
    const lost = names.map(() => new CompensatedSum());
    for (let i = 0; i < codes.length; i += 1) {
      const s = codes[i] as number;
      customers[s] = (customers[s] as number) + 1;
      if (probabilityAlive !== null) {
        const p = probabilityAlive[i] as number;
        if (p < AT_RISK_PROBABILITY_ALIVE) atRisk[s] = (atRisk[s] as number) + 1;
        (lost[s] as CompensatedSum).add(1 - p);
      }
    }
    names.forEach((segment, s) => {
      const count = customers[s] as number;
      rows.push({
        scheme,
        segment,
        customers: count,
        at_risk_customers: probabilityAlive === null ? null : (atRisk[s] as number),
        at_risk_share: probabilityAlive === null ? null : shareOf(atRisk[s] as number, count),
        expected_customers_lost: probabilityAlive === null ? null : Math.max(0, (lost[s] as CompensatedSum).value),
      });
    });
  }
  return rows;
};
