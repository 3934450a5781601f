/**
 * Historical CLV, the textbook formula: average order value x purchases per year x expected
 * lifespan in years.
 *
 * Purchases per year is the customer's accepted orders divided by the years observed since the
 * first purchase (tenure + 1 day, so the day of the first order counts). A tenure shorter than one
 * year is observed as one full year: two orders in a customer's first week would otherwise read as
 * a hundred purchases a year. Long-tenured customers get their observed rate.
 */
export const DAYS_PER_YEAR = 365.25;
export const MIN_OBSERVATION_DAYS = DAYS_PER_YEAR;

export const purchasesPerYear = (orders: number, tenureDays: number): number =>
  orders / (Math.max(tenureDays + 1, MIN_OBSERVATION_DAYS) / DAYS_PER_YEAR);

export const historicalClv = (avgOrderValue: number, orders: number, tenureDays: number, lifespanYears: number): number =>
  avgOrderValue * purchasesPerYear(orders, tenureDays) * lifespanYears;

/** Historical CLV of every customer, column-wise. */
export const historicalClvColumn = (
  avgOrderValue: Float64Array,
  orders: Int32Array,
  tenureDays: Int32Array,
  lifespanYears: number,
): Float64Array => {
  const out = new Float64Array(avgOrderValue.length);
  for (let i = 0; i < out.length; i++) out[i] = historicalClv(avgOrderValue[i]!, orders[i]!, tenureDays[i]!, lifespanYears);
  return out;
};
