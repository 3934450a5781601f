import { CHANNEL_SEGMENT_SCHEMES, type ChannelSegmentScheme } from '../acquisition/channel-segments.js';
import type { CustomerSegments } from '../customers.js';
import type { ActionsTable } from './actions.js';
import { AT_RISK_SEGMENT, MOVEMENTS, type MoverRows } from './movers.js';
import { RFM_SEGMENTS } from './rfm.js';
import { radixOrder } from '../math/radix-order.js';
import { TIER_ORDER } from './tiers.js';
import { VALUE_LOYALTY_CELLS } from './value-loyalty.js';

/**
 * Audiences for activation: the customers of each segment, as a CRM or email tool imports them
 * (pipeline/write-audiences.ts writes one CSV each). Pure: which customers, in which order, under
 * which file name, with which recommended actions.
 *
 * Schemes: the three segmentations, named as the channel x segment map names them (every customer is in exactly one audience of each, empty
 * segments included, so a sync finds the same files every night) and `movers` (one audience per
 * movement, see movers.ts). Order within an audience: ranking CLV descending (predicted CLV when
 * the fit is trusted, historical otherwise), then customer id (UTF-16 code units), so the most
 * valuable come first and the same data gives the same file.
 */
export const AUDIENCE_SCHEMES = [...CHANNEL_SEGMENT_SCHEMES, 'movers'] as const;
export type AudienceScheme = (typeof AUDIENCE_SCHEMES)[number];

export interface Audience {
  readonly scheme: AudienceScheme;
  /** The segment as the summary names it (`high`, `Can't Lose Them`), or the movement. */
  readonly segment: string;
  /** `fileSafeName(segment)`: the CSV is `<scheme>/<file>.csv`. */
  readonly file: string;
  /** Indexes of the customers, in audience order. */
  readonly members: Int32Array;
  /**
   * `ranks[j]`: member j's place in the activation order the run's audiences share (ascending, as
   * an audience is a part of that order). A writer can lay per-customer data out in that order
   * once and read it forwards for every audience, rather than at random places by customer index.
   */
  readonly ranks: Int32Array;
  /** The recommended actions for customer i (a member). */
  readonly actionsOf: (i: number) => readonly string[];
}

/**
 * A segment name as a file name: lower case, every run of characters other than `a-z` and `0-9`
 * replaced by one `_`, none at either end (`Can't Lose Them` -> `can_t_lose_them`,
 * `high_value_high_loyalty` unchanged). Throws for a name with no letter or digit.
 */
export const fileSafeName = (segment: string): string => {
  const safe = segment.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (safe === '') throw new Error(`segment name ${JSON.stringify(segment)} has no letter or digit to name a file by`);
  return safe;
};

/** Customer ids in UTF-16 code unit order: the activation order's tie-break. */
const byId = (customerIds: readonly string[]) => (a: number, b: number): number => {
  const x = customerIds[a]!;
  const y = customerIds[b]!;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Ties up to this many customers are insertion-sorted. */
const SMALL_TIE = 16;

/** Whether the ids strictly ascend (UTF-16 code units), index by index: then id order is index order. */
const inIdOrder = (customerIds: readonly string[]): boolean => {
  for (let i = 1; i < customerIds.length; i++) if (!(customerIds[i - 1]! < customerIds[i]!)) return false;
  return true;
};

/**
 * Customer indexes by ranking CLV descending, then customer id ascending (-0 and +0 are one
 * value). Throws a RangeError for a NaN CLV, which has no place in the order.
 *
 * A comparison sort of a million indexes, every comparison reading two CLVs, took ~0.6 s of CPU;
 * here a radix sort orders the CLVs ({@link radixOrder}, O(n)), and only the customers who share a CLV are compared, by id. The order is the same:
 * the ids of one run are distinct, so the two keys order every pair. When the ids ascend with the
 * index (the engine hands the customers in id order), nobody is compared: the radix sort is
 * stable, so every tie is in index order, which is then id order, but for -0 and +0 (one value, two
 * keys: +0 first), whose run is put in index order. Going over the ties read every customer's CLV
 * and tied ids at random places: ~1 s of CPU at 5 M customers.
 */
export const activationOrder = (rankingClv: Float64Array, customerIds: readonly string[]): Int32Array => {
  const n = customerIds.length;
  // where the zeros' run lies in the descending order: after the CLVs above zero
  let above = 0;
  let zeros = 0;
  let negativeZeros = 0;
  for (let i = 0; i < n; i++) {
    const v = rankingClv[i]!;
    if (v !== v) throw new RangeError(`customer ${i} has no ranking CLV (NaN) to order by`);
    if (v > 0) above++;
    else if (v === 0) {
      zeros++;
      if (1 / v < 0) negativeZeros++;
    }
  }
  const order = radixOrder(rankingClv.subarray(0, n), true);
  if (inIdOrder(customerIds)) {
    if (negativeZeros > 0 && negativeZeros < zeros) order.subarray(above, above + zeros).sort();
    return order;
  }
  const compare = byId(customerIds);
  // a tie is a run of === CLVs: -0 and +0 (whose keys differ, with nothing between them) are one
  for (let from = 0; from < n; ) {
    const value = rankingClv[order[from]!]!;
    let to = from + 1;
    while (to < n && rankingClv[order[to]!] === value) to++;
    if (to - from > SMALL_TIE) {
      // the radix sort is stable and customers usually come in id order (the engine's), so a tie is
      // mostly in id order already: checked in one pass over neighbours, the tie is sorted only when it is not
      let sorted = true;
      for (let k = from + 1; k < to && sorted; k++) sorted = compare(order[k - 1]!, order[k]!) < 0;
      if (!sorted) order.subarray(from, to).sort(compare);
    } else {
      // most ties are a few customers: an insertion sort spares a sort call (and a view) per tie
      for (let k = from + 1; k < to; k++) {
        const i = order[k]!;
        let j = k - 1;
        for (; j >= from && compare(order[j]!, i) > 0; j--) order[j + 1] = order[j]!;
        order[j + 1] = i;
      }
    }
    from = to;
  }
  return order;
};

/** A group's customers and their places in the order they were split from. */
interface OrderedGroup {
  readonly members: Int32Array;
  readonly ranks: Int32Array;
}

/**
 * Byte b of `groups[i]`: customer i's group in grouping b (a segment scheme's code, or a bit per
 * movement), up to four groupings; {@link inOrder} gathers them in the activation order.
 */
const GROUPINGS = 4;

/**
 * `groups` read in `order`'s order: `out[k] = groups[order[k]]`. The one pass that reads customers
 * at random places, all four groupings of a customer in one word: a pass per grouping and list,
 * each reading customer order[k]'s group at a random place, cost ~1 s of CPU at 5 M customers
 * (cache misses), where the splits below then read forwards.
 */
const inOrder = (order: Int32Array, groups: Uint32Array): Uint32Array => {
  const out = new Uint32Array(order.length);
  for (let k = 0; k < order.length; k++) out[k] = groups[order[k]!]!;
  return out;
};

/** `order` split into one list per group, each keeping `order`'s order: order[k] is in group `(ordered[k] >>> shift) & 0xff`. */
const splitByGroup = (order: Int32Array, ordered: Uint32Array, shift: number, groups: number): OrderedGroup[] => {
  const counts = new Int32Array(groups);
  for (let k = 0; k < ordered.length; k++) counts[(ordered[k]! >>> shift) & 0xff]++;
  const lists = Array.from(counts, (n) => ({ members: new Int32Array(n), ranks: new Int32Array(n) }));
  const filled = new Int32Array(groups);
  for (let k = 0; k < order.length; k++) {
    const g = (ordered[k]! >>> shift) & 0xff;
    const list = lists[g]!;
    list.members[filled[g]!] = order[k]!;
    list.ranks[filled[g]!] = k;
    filled[g]++;
  }
  return lists;
};

/** The customers of `order` whose `ordered` word has bit `bit` set, in `order`'s order, and their places in it. */
const markedInOrder = (order: Int32Array, ordered: Uint32Array, bit: number): OrderedGroup => {
  let count = 0;
  for (let k = 0; k < ordered.length; k++) count += (ordered[k]! >>> bit) & 1;
  const members = new Int32Array(count);
  const ranks = new Int32Array(count);
  for (let k = 0, j = 0; j < count; k++) {
    if (((ordered[k]! >>> bit) & 1) === 1) {
      members[j] = order[k]!;
      ranks[j++] = k;
    }
  }
  return { members, ranks };
};

/** Writes a segment column's group codes (over the scheme's segment names) into byte `byte` of `groups`; an unknown name throws. */
const codesInto = (groups: Uint32Array, byte: number, values: readonly string[], names: readonly string[], scheme: string): void => {
  const index = new Map(names.map((name, g) => [name, g]));
  if (names.length > 0x100) throw new RangeError(`scheme ${scheme} has more than 256 segments`);
  for (let i = 0; i < values.length; i++) {
    const g = index.get(values[i]!);
    if (g === undefined) throw new Error(`customer ${i} has ${scheme} segment ${JSON.stringify(values[i])}, which the scheme does not have`);
    groups[i] = groups[i]! | (g << (8 * byte));
  }
};

export interface AudienceInput {
  readonly customerIds: readonly string[];
  readonly rankingClv: Float64Array;
  readonly segments: CustomerSegments;
  readonly movers: MoverRows;
  readonly actions: ActionsTable;
}

/**
 * Every audience of the run: CLV tiers, value x loyalty cells and RFM segments in their summary
 * order (a scheme the run has no column for is left out), then the movements. A movers audience's
 * actions are those of the customer's current segment (the high tier's for `entered_high`, the
 * new tier's for `left_high`, At Risk's for `became_at_risk`). O(n log n) for the order, then O(n)
 * per scheme.
 */
export const audiencesOf = (input: AudienceInput): Audience[] => {
  const { customerIds, segments, actions } = input;
  const order = activationOrder(input.rankingClv, customerIds);
  const schemes: { scheme: ChannelSegmentScheme; names: readonly string[]; values: readonly string[] | null; actions: Readonly<Record<string, readonly string[]>> }[] = [
    { scheme: 'clv_tier', names: TIER_ORDER, values: segments.clvTier, actions: actions.clvTiers },
    { scheme: 'value_loyalty', names: VALUE_LOYALTY_CELLS, values: segments.valueLoyalty, actions: actions.valueLoyalty },
    { scheme: 'rfm', names: RFM_SEGMENTS, values: segments.rfmSegment, actions: actions.rfm },
  ];
  const present = schemes.filter((s) => s.values !== null);
  const { movers } = input;
  // bytes 0.. for the schemes the run has, the last byte a bit per movement
  const moverByte = GROUPINGS - 1;
  const groups = new Uint32Array(customerIds.length);
  present.forEach(({ scheme, names, values }, byte) => codesInto(groups, byte, values!, names, scheme));
  MOVEMENTS.forEach((movement, m) => {
    const bit = 1 << (8 * moverByte + m);
    for (let k = 0; k < movers.size; k++) if (movers.movement[k] === movement) groups[movers.customer[k]!] = groups[movers.customer[k]!]! | bit;
  });
  const ordered = inOrder(order, groups);
  const out: Audience[] = [];
  present.forEach(({ scheme, names, actions: table }, byte) => {
    const lists = splitByGroup(order, ordered, 8 * byte, names.length);
    names.forEach((segment, g) => {
      const list = table[segment] ?? [];
      out.push({ scheme, segment, file: fileSafeName(segment), ...lists[g]!, actionsOf: () => list });
    });
  });
  const tierActions = (i: number): readonly string[] => actions.clvTiers[segments.clvTier[i]!];
  MOVEMENTS.forEach((movement, m) => {
    const group = markedInOrder(order, ordered, 8 * moverByte + m);
    const actionsOf = movement === 'became_at_risk' ? () => actions.rfm[AT_RISK_SEGMENT] : tierActions;
    out.push({ scheme: 'movers', segment: movement, file: fileSafeName(movement), ...group, actionsOf });
  });
  return out;
};
