import { topCutValue } from './tiers.js';
import type { OrderedColumn } from './value-counts.js';
import type { ValueLoyaltySettings } from './settings.js';

/**
 * The value x loyalty 2x2 matrix.
 *
 * Value: high for the top `highValueShare` of customers by ranking CLV (default 0.5: the top half,
 * rounded to the nearest whole customer), with customers of equal CLV kept on the same side as
 * the tiers do (see `topCutValue`).
 *
 * Loyalty: high for a repeat buyer (at least `minRepeatPurchases` repeat purchase days) who is
 * still likely to buy: P(alive) at least `minProbabilityAlive` when the predictive fit is trusted;
 * when it is not (no P(alive)), an RFM recency score of at least `fallbackMinRecencyScore` (default
 * 3: among the more recent 60% of customers) stands in, so the matrix survives a failed fit.
 * Loyalty is about behaviour, value about money: a big one-time buyer is high value, low loyalty.
 */
export const VALUE_LOYALTY_CELLS = [
  'high_value_high_loyalty',
  'high_value_low_loyalty',
  'low_value_high_loyalty',
  'low_value_low_loyalty',
] as const;
export type ValueLoyaltyCell = (typeof VALUE_LOYALTY_CELLS)[number];

/** Inputs of the loyalty rule; `probabilityAlive` null means the predictive fit failed. */
export interface LoyaltyInputs {
  readonly frequency: Int32Array;
  readonly probabilityAlive: Float64Array | null;
  readonly recencyScore: Int8Array;
}

/** Whether the customer at `i` counts as loyal under `settings`. */
export const isLoyal = (inputs: LoyaltyInputs, i: number, settings: ValueLoyaltySettings): boolean => {
  if ((inputs.frequency[i] as number) < settings.minRepeatPurchases) return false;
  return inputs.probabilityAlive === null
    ? (inputs.recencyScore[i] as number) >= settings.fallbackMinRecencyScore
    : (inputs.probabilityAlive[i] as number) >= settings.minProbabilityAlive;
};

/**
 * Cell code of every customer: index into {@link VALUE_LOYALTY_CELLS}. `clvOrdered` is
 * `rankingClv` ordered (shared with the tiers). O(n): one cut point.
 */
export const valueLoyaltyCodes = (
  rankingClv: Float64Array,
  clvOrdered: OrderedColumn,
  loyalty: LoyaltyInputs,
  settings: ValueLoyaltySettings,
): Uint8Array => {
  const n = rankingClv.length;
  const highValueFrom = topCutValue(clvOrdered, Math.round(settings.highValueShare * n));
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) {
    // The cells are ordered value-major: high value 0-1, low value 2-3; loyal first within each.
    const valueRow = (rankingClv[i] as number) >= highValueFrom ? 0 : 2;
    codes[i] = valueRow + (isLoyal(loyalty, i, settings) ? 0 : 1);
  }
  return codes;
};
