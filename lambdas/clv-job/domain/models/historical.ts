/**
 * Historical CLV, the textbook formula: average order value x purchases per year x expected
 * lifespan in years.
 *
 * Purchases per year is the customer's accepted orders divided by the years observed since the
 * first purchase (tenure + 1 day, so the day of the first order counts). A tenure shorter than one
 * year is observed as one full year: two orders in a customer's first week would otherwise read as
 * a hundred purchases a year. Long-tenured customers get their observed rate.
 *
 * The order count cancels (average order value x orders is the revenue), so it is computed as
 * revenue / years observed x lifespan: two customers with the same revenue and tenure get the same
 * double, however their revenue was split into orders (25.99 / 3 x 3 is not 25.99 in floating
 * point, and tied customers must never be told apart by rounding).
 */
export const DAYS_PER_YEAR = 365.25;
export const MIN_OBSERVATION_DAYS = DAYS_PER_YEAR;

/** Years observed since the first purchase: (tenure + 1 day) / 365.25, at least 1. */
export const yearsObserved = (tenureDays: number): number => Math.max(tenureDays + 1, MIN_OBSERVATION_DAYS) / DAYS_PER_YEAR;

/** Orders per year observed. */
export const purchasesPerYear = (orders: number, tenureDays: number): number => orders / yearsObserved(tenureDays);

/** Historical CLV (currency) of a customer with `revenue` (currency) to date and `tenureDays`, over `lifespanYears`. */
export const historicalClv = (revenue: number, tenureDays: number, lifespanYears: number): number => (revenue / yearsObserved(tenureDays)) * lifespanYears;

/** Historical CLV of every customer, column-wise: `revenue[i]` to date, `tenureDays[i]`. */
export const historicalClvColumn = (revenue: Float64Array, tenureDays: Int32Array, lifespanYears: number): Float64Array => {
  const out = new Float64Array(revenue.length);
  for (let i = 0; i < out.length; i++) out[i] = historicalClv(revenue[i]!, tenureDays[i]!, lifespanYears);
  return out;
};
