import type { CustomerScores, CustomerSegments, CustomerTable } from '../../lambdas/clv-job/domain/customers.js';
import type { Tier } from '../../lambdas/clv-job/schemas/tables.js';

/** One customer as a plain object; every field has a dull default so tests state only what matters. */
export interface CustomerSpec {
  readonly id?: string;
  /** Ranking CLV (and historical CLV). */
  readonly clv?: number;
  readonly predictedClv?: number;
  readonly probabilityAlive?: number;
  readonly channel?: string | null;
  readonly cohort?: string;
  readonly frequency?: number;
  readonly recencyDays?: number;
  readonly tenureDays?: number;
  readonly totalRevenue?: number;
  readonly avgOrderValue?: number;
  /** Days since the last purchase; overrides `recencyDays` (recency = tenure - this). */
  readonly daysSinceLastPurchase?: number;
}

export interface BuildOptions {
  /** Build P(alive) and the predictive columns (the fit is trusted). Default true. */
  readonly predictive?: boolean;
  /** The as-of day the first/last order days count back from. Default 10_000. */
  readonly asOfDay?: number;
}

/** A CustomerTable and CustomerScores from plain objects, index i = customers[i]. */
export const buildCustomers = (
  customers: readonly CustomerSpec[],
  options: BuildOptions = {},
): { table: CustomerTable; scores: CustomerScores } => {
  const asOfDay = options.asOfDay ?? 10_000;
  const predictive = options.predictive ?? true;
  const n = customers.length;
  const tenure = Int32Array.from(customers, (c) => c.tenureDays ?? 365);
  const recency = Int32Array.from(customers, (c, i) =>
    c.daysSinceLastPurchase !== undefined ? (tenure[i] as number) - c.daysSinceLastPurchase : (c.recencyDays ?? 0),
  );
  const frequency = Int32Array.from(customers, (c) => c.frequency ?? 0);
  const totalRevenue = Float64Array.from(customers, (c) => c.totalRevenue ?? 100);
  const clv = Float64Array.from(customers, (c) => c.clv ?? 0);
  const table: CustomerTable = {
    size: n,
    customerId: customers.map((c, i) => c.id ?? `c${String(i).padStart(4, '0')}`),
    firstOrderDay: Int32Array.from(tenure, (t) => asOfDay - t),
    lastOrderDay: Int32Array.from(tenure, (t, i) => asOfDay - t + (recency[i] as number)),
    acquisitionChannel: customers.map((c) => (c.channel === undefined ? 'web' : c.channel)),
    cohort: customers.map((c) => c.cohort ?? '2024-01'),
    orders: Int32Array.from(frequency, (f) => f + 1),
    frequency,
    recencyDays: recency,
    tenureDays: tenure,
    totalRevenue,
    monetaryValue: Float64Array.from(customers, (c, i) => ((c.frequency ?? 0) > 0 ? (totalRevenue[i] as number) / ((c.frequency ?? 0) + 1) : 0)),
    avgOrderValue: Float64Array.from(customers, (c, i) => c.avgOrderValue ?? (totalRevenue[i] as number) / ((c.frequency ?? 0) + 1)),
  };
  const scores: CustomerScores = {
    historicalClv: clv,
    probabilityAlive: predictive ? Float64Array.from(customers, (c) => c.probabilityAlive ?? 0.5) : null,
    predictedClv: predictive ? Float64Array.from(customers, (c) => c.predictedClv ?? c.clv ?? 0) : null,
    rankingClv: clv,
  };
  return { table, scores };
};

/** Segments of customers i = 0..n-1 from their tier, value x loyalty cell and RFM segment; RFM scores left null. */
export const segmentsOf = (tiers: readonly Tier[], cells: readonly string[], rfm: readonly string[]): CustomerSegments => ({
  clvTier: tiers,
  valueLoyalty: cells,
  rfmR: null,
  rfmF: null,
  rfmM: null,
  rfmScore: null,
  rfmSegment: rfm,
});
