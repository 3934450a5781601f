import type { MoversSummary } from '../../schemas/summary-segments.js';
import type { Tier } from '../../schemas/tables.js';
import type { CustomerScores } from '../customers.js';
import type { RfmSegment } from './rfm.js';
import { TIER_ORDER } from './tiers.js';

/**
 * Movers: the customers lifecycle campaigns trigger on, since the previous published run. Pure:
 * the pipeline hands in what the previous run said of each of tonight's customers (PreviousSegments).
 *
 * - `entered_high`: in the high CLV tier tonight, not in it before (a customer new since the
 *   previous run included: `previous_segment` is null);
 * - `left_high`: in the high tier before, in another tier tonight (a previous customer missing
 *   tonight is no mover: nothing scores them; the tier migration counts them as "absent");
 * - `became_at_risk`: in the RFM segment "At Risk" tonight, not before (new customers included);
 *   only when tonight's customers have RFM segments.
 * A customer may make two movements (left high and became At Risk): one row each.
 */
export const MOVEMENTS = ['entered_high', 'left_high', 'became_at_risk'] as const;
export type Movement = (typeof MOVEMENTS)[number];

/** The RFM segment whose newcomers `became_at_risk` lists. */
export const AT_RISK_SEGMENT = 'At Risk' satisfies RfmSegment;

/** PreviousSegments.tier of a customer the previous run did not have (new since). */
export const NEW_SINCE = -1;

/**
 * What the previous run said of each of tonight's customers, index-aligned with them: the engine
 * joins the previous run's published customers to tonight's (sql/index.ts, query `customers`), so
 * nothing is looked up by customer id here.
 */
export interface PreviousSegments {
  /** Customer i's previous tier as an index into TIER_ORDER, or NEW_SINCE. */
  readonly tier: Int8Array;
  /** Customer i's previous RFM segment as an index into `rfmNames`, or -1 (new since, or without one). */
  readonly rfmSegment: Int8Array;
  readonly rfmNames: readonly string[];
  /** The previous run's customers per tier (TIER_ORDER), those missing tonight included. */
  readonly tierSizes: readonly number[];
}

/** A movement not counted tonight, and why (see `uncountedMovements` in changes.ts). */
export interface NotCounted {
  readonly movement: Movement;
  readonly reason: string;
}

/** Mover rows as columns: row k is customer `customer[k]` (an index into tonight's customers). */
export interface MoverRows {
  readonly size: number;
  readonly customer: Int32Array;
  readonly movement: readonly Movement[];
  readonly previousSegment: readonly (string | null)[];
  readonly currentSegment: readonly string[];
  /** Movements with no row because they were not counted, with why. */
  readonly notCounted: readonly NotCounted[];
}

/**
 * Tonight's customers (tiers and RFM segments, index-aligned) against what the previous run said
 * of them. Rows come movement by movement, in customer order within each; a movement in
 * `notCounted` has none (the segment it crosses is not cut as it was). O(n).
 */
export const moversSince = (
  tiers: readonly Tier[],
  rfmSegments: readonly string[] | null,
  previous: PreviousSegments,
  notCounted: readonly NotCounted[] = [],
): MoverRows => {
  const counted = (move: Movement): boolean => !notCounted.some((n) => n.movement === move);
  const customer: number[] = [];
  const movement: Movement[] = [];
  const previousSegment: (string | null)[] = [];
  const currentSegment: string[] = [];
  const add = (i: number, move: Movement, before: string | null, now: string): void => {
    customer.push(i);
    movement.push(move);
    previousSegment.push(before);
    currentSegment.push(now);
  };
  const high = TIER_ORDER.indexOf('high');
  if (counted('entered_high')) {
    for (let i = 0; i < tiers.length; i++) {
      const before = previous.tier[i]!;
      if (tiers[i] === 'high' && before !== high) add(i, 'entered_high', before === NEW_SINCE ? null : TIER_ORDER[before]!, 'high');
    }
  }
  if (counted('left_high')) {
    for (let i = 0; i < tiers.length; i++) {
      if (previous.tier[i] === high && tiers[i] !== 'high') add(i, 'left_high', 'high', tiers[i]!);
    }
  }
  if (rfmSegments !== null && counted('became_at_risk')) {
    for (let i = 0; i < tiers.length; i++) {
      if (rfmSegments[i] !== AT_RISK_SEGMENT) continue;
      const code = previous.rfmSegment[i]!;
      const before = code < 0 ? null : previous.rfmNames[code]!;
      if (before !== AT_RISK_SEGMENT) add(i, 'became_at_risk', before, AT_RISK_SEGMENT);
    }
  }
  return { size: customer.length, customer: Int32Array.from(customer), movement, previousSegment, currentSegment, notCounted: [...notCounted] };
};

/** No previous run: no movers (the dataset is written all the same, with its columns). */
export const NO_MOVERS: MoverRows = { size: 0, customer: new Int32Array(0), movement: [], previousSegment: [], currentSegment: [], notCounted: [] };

/** How many customers per movement the summary and the report show. */
export const MOVER_EXAMPLES = 5;

/**
 * The movers summed up: customers per movement (every movement, 0 included) and, per movement, the
 * `perMovement` customers with the highest ranking CLV (ties broken by customer id, so the choice
 * does not depend on row order). O(rows + rows log rows).
 */
export const summariseMovers = (
  movers: MoverRows,
  customerIds: readonly string[],
  scores: Pick<CustomerScores, 'rankingClv' | 'predictedClv' | 'probabilityAlive'>,
  previousRunDate: string | null,
  perMovement: number = MOVER_EXAMPLES,
): MoversSummary => {
  const rows = Array.from({ length: movers.size }, (_, k) => k);
  const id = (k: number): string => customerIds[movers.customer[k]!]!;
  const clv = (k: number): number => scores.rankingClv[movers.customer[k]!]!;
  return {
    previous_run_date: previousRunDate,
    counts: MOVEMENTS.map((movement) => ({ movement, customers: rows.filter((k) => movers.movement[k] === movement).length })),
    examples: MOVEMENTS.flatMap((movement) =>
      rows
        .filter((k) => movers.movement[k] === movement)
        .sort((a, b) => clv(b) - clv(a) || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0))
        .slice(0, perMovement)
        .map((k) => {
          const i = movers.customer[k]!;
          return {
            movement,
            customer_id: id(k),
            previous_segment: movers.previousSegment[k] ?? null,
            current_segment: movers.currentSegment[k]!,
            predicted_clv: scores.predictedClv === null ? null : scores.predictedClv[i]!,
            probability_alive: scores.probabilityAlive === null ? null : scores.probabilityAlive[i]!,
          };
        }),
    ),
    examples_per_movement: perMovement,
    not_counted: movers.notCounted.map(({ movement, reason }) => ({ movement, reason })),
  };
};
