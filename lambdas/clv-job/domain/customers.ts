/**
 * Customers as columns rather than one object per customer: at millions of customers typed arrays
 * keep memory flat and loops fast. Index i of every column is the same customer.
 *
 * Dates are whole days since 1970-01-01 (UTC), so day arithmetic is integer arithmetic.
 */
export interface CustomerTable {
  readonly size: number;
  readonly customerId: readonly string[];
  readonly firstOrderDay: Int32Array;
  readonly lastOrderDay: Int32Array;
  /** Channel of the first order; null when the export carries no channel. */
  readonly acquisitionChannel: readonly (string | null)[];
  /** Acquisition month, `YYYY-MM`. */
  readonly cohort: readonly string[];
  /** Accepted orders, before same-day merging. */
  readonly orders: Int32Array;
  /** Repeat purchase days (x): distinct purchase days minus one. */
  readonly frequency: Int32Array;
  /** Days from the first to the last purchase day (t_x in days). */
  readonly recencyDays: Int32Array;
  /** Days from the first purchase day to the as-of date (T in days). */
  readonly tenureDays: Int32Array;
  readonly totalRevenue: Float64Array;
  /** Mean revenue per repeat purchase day; 0 when frequency is 0. */
  readonly monetaryValue: Float64Array;
  /** Mean revenue per accepted order. */
  readonly avgOrderValue: Float64Array;
}

/**
 * What the models add to each customer that segmentation reads. Every value is finite. (The other
 * model scores stay per distinct scoring pattern until they are written: pipeline/score-customers.ts.)
 */
export interface CustomerScores {
  readonly historicalClv: Float64Array;
  /** The predictive columns are null when the fit could not be trusted (never NaN or Infinity). */
  readonly probabilityAlive: Float64Array | null;
  readonly predictedClv: Float64Array | null;
  /** The CLV customers are ranked on: predicted when the fit is trusted, historical otherwise. */
  readonly rankingClv: Float64Array;
}

/** What segmentation adds to each customer. */
export interface CustomerSegments {
  readonly clvTier: readonly ('high' | 'mid' | 'low')[];
  readonly valueLoyalty: readonly string[] | null;
  readonly rfmR: Int8Array | null;
  readonly rfmF: Int8Array | null;
  readonly rfmM: Int8Array | null;
  readonly rfmScore: readonly string[] | null;
  readonly rfmSegment: readonly string[] | null;
}

export const MS_PER_DAY = 86_400_000;

/** `YYYY-MM-DD` for a day number. */
export const isoDay = (day: number): string => new Date(day * MS_PER_DAY).toISOString().slice(0, 10);

/** Day number for a `YYYY-MM-DD` text already known to be valid. */
export const dayOf = (iso: string): number => Math.round(Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY);
