import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE_SETTINGS, checkGates, rejectedShare, type GateFigures } from '../../lambdas/clv-job/domain/quality-gates.js';

const night: GateFigures = {
  asOf: '2025-06-30',
  asOfGiven: false,
  inputRows: 1000,
  rejectedRows: 100,
  rowsAfterAsOf: 0,
  rowsInFuture: 0,
  acceptedOrders: 880,
  customers: 400,
  previous: { runDate: '2025-06-29', customers: 390, revenue: 41_000, acceptedOrders: 860, latestOrderDate: '2025-06-29' },
  replaced: null,
  summarised: { runDate: '2025-06-29', customers: 390, revenue: 41_000, acceptedOrders: 860, latestOrderDate: '2025-06-29' },
  newest: null,
  revenue: 42_000,
  earliestOrderDate: '2023-01-02',
  latestOrderDate: '2025-06-30',
};
/** An earlier night of these customers, revenue and latest order. */
const published = <C extends number | null>(runDate: string, customers: C, revenue: number | null = null, latestOrderDate: string | null = null, acceptedOrders: number | null = revenue === null ? null : 2 * (customers ?? 0)) => ({
  runDate,
  customers,
  revenue,
  acceptedOrders,
  latestOrderDate,
});
const verdict = (figures: Partial<GateFigures>, settings = DEFAULT_GATE_SETTINGS) =>
  Object.fromEntries(checkGates({ ...night, ...figures }, settings).map((g) => [g.gate, g.passed]));

describe('the data-quality gates', () => {
  it('pass an ordinary night, checking only the gates that are on by default', () => {
    expect(verdict({})).toEqual({ accepted_orders: true, rejected_share: true, customers_vs_previous: true, revenue_vs_previous: true, latest_order_vs_previous: true });
  });

  it.each([
    ['no accepted order', { acceptedOrders: 0 }, 'accepted_orders'],
    ['201 of 1,000 rows rejected (20.1% > 20%)', { rejectedRows: 201 }, 'rejected_share'],
    ['194 customers where the previous run had 390 (49.7% < 50%)', { customers: 194 }, 'customers_vs_previous'],
  ] as const)('fail on %s', (_, figures, gate) => {
    expect(verdict(figures)[gate]).toBe(false);
  });

  it('hold exactly at the thresholds: 20% rejected and 50% of the previous customers pass', () => {
    expect(verdict({ rejectedRows: 200, customers: 195 })).toEqual({ accepted_orders: true, rejected_share: true, customers_vs_previous: true, revenue_vs_previous: true, latest_order_vs_previous: true });
  });

  it('leave rows after an as-of date given explicitly out of the rejected share, and count them as defects when dated in the future', () => {
    // 600 rows after the as-of date, 40 other rejections among the 400 rows inside the window: 10%
    const backfill = { inputRows: 1000, rejectedRows: 640, rowsAfterAsOf: 600, rowsInFuture: 600 };
    expect(rejectedShare({ ...night, ...backfill, asOfGiven: true })).toBeCloseTo(0.1, 12);
    expect(rejectedShare({ ...night, ...backfill, asOfGiven: false })).toBeCloseTo(0.64, 12);
  });

  it('leave out rows after a defaulted as-of date (the latest purchase day) that are not in the future: cancellations after the last purchase are no defects', () => {
    // 20 purchases, then 6 cancellations dated after the last of them, not after today
    const tail = { inputRows: 26, rejectedRows: 6, rowsAfterAsOf: 6, rowsInFuture: 0, acceptedOrders: 20, previous: null };
    const [share] = checkGates({ ...night, ...tail }, DEFAULT_GATE_SETTINGS).filter((g) => g.gate === 'rejected_share');
    expect(share).toMatchObject({ passed: true, value: 0 });
    expect(share!.message).toBe('0.0% of the rows rejected (at most 20.0% allowed; 6 rows after the latest purchase day (2025-06-30) but not in the future not counted)');
    // two of them dated in the future: those two are defects, over the 22 rows judged
    expect(rejectedShare({ ...night, ...tail, rowsInFuture: 2 })).toBeCloseTo(2 / 22, 12);
  });

  it('hold the rejected share against its threshold only over at least minRowsForRejectedShare judged rows (10 by default)', () => {
    // one bad row of two (amount-overflow) or of four (placeholder-date): reported, not a failed night
    const tiny = { inputRows: 2, rejectedRows: 1, acceptedOrders: 1, customers: 1, previous: null };
    const [share] = checkGates({ ...night, ...tiny }, DEFAULT_GATE_SETTINGS).filter((g) => g.gate === 'rejected_share');
    expect(share).toMatchObject({ passed: true, value: 0.5 });
    expect(share!.message).toBe('50.0% of the rows rejected, not held against the 20.0% allowed: 2 rows judged, fewer than the 10 the share needs');
    // from ten judged rows on, the share is held: 3 of 10 fails
    expect(verdict({ ...tiny, inputRows: 10, rejectedRows: 3 }).rejected_share).toBe(false);
    expect(verdict({ ...tiny, inputRows: 9, rejectedRows: 3 }).rejected_share).toBe(true);
    // rows after an as-of date given explicitly are not judged rows: 12 rows, 4 of them after it, 8 judged
    expect(verdict({ inputRows: 12, rejectedRows: 6, rowsAfterAsOf: 4, asOfGiven: true }).rejected_share).toBe(true);
    expect(verdict({ inputRows: 12, rejectedRows: 6, rowsAfterAsOf: 4, rowsInFuture: 4, asOfGiven: false }).rejected_share).toBe(false);
    // and the floor is configurable: 0 holds even one row against the threshold
    expect(verdict(tiny, { ...DEFAULT_GATE_SETTINGS, minRowsForRejectedShare: 0 }).rejected_share).toBe(false);
    // an all-rejected tiny drop still fails: no accepted order
    expect(verdict({ ...tiny, rejectedRows: 2, acceptedOrders: 0 }).accepted_orders).toBe(false);
  });

  it('pass the customer comparison when there is no earlier run to compare with', () => {
    expect(verdict({ previous: null, customers: 1 }).customers_vs_previous).toBe(true);
  });

  it("fail the customer comparison when earlier run dates exist but none's customers can be counted: tonight cannot be held against them", () => {
    const [gate] = checkGates({ ...night, previous: published('2025-06-29', null) }, DEFAULT_GATE_SETTINGS).filter((g) => g.gate === 'customers_vs_previous');
    expect(gate).toMatchObject({ passed: false, value: null });
    expect(gate!.message).toMatch(/400 customers, not held against the previous run: the summary and manifest of 2025-06-29 \(and of every earlier run date\) cannot be read/);
  });

  it('hold a re-run of a published night against the version it would replace too, failing on the lower share', () => {
    const rerun = (customers: number, previous: GateFigures['previous']) =>
      checkGates({ ...night, customers, previous, replaced: published('2025-06-30', 1957) }, DEFAULT_GATE_SETTINGS).find((g) => g.gate === 'customers_vs_previous')!;
    // the first night re-run from a broken drop: nothing earlier, the replaced version has 1,957
    expect(rerun(130, null)).toMatchObject({ passed: false, value: 130 / 1957 });
    expect(rerun(130, null).message).toBe('130 customers, 6.6% of the 1957 of the published 2025-06-30 this run would replace (at least 50.0% required)');
    expect(rerun(979, null).passed).toBe(true);
    // within half of the previous run's 390 but not of the replaced version's 1,957
    expect(rerun(400, published('2025-06-29', 390))).toMatchObject({ passed: false, value: 400 / 1957 });
    // an unreadable previous summary is then held against the replaced version alone
    expect(rerun(1957, published('2025-06-29', null)).passed).toBe(true);
  });

  it('hold the revenue against the latest earlier night that says it and the version a re-run would replace: all amounts zeroed, or read in another unit, fail where every customer is there', () => {
    const gate = (figures: Partial<GateFigures>) => checkGates({ ...night, ...figures }, DEFAULT_GATE_SETTINGS).find((g) => g.gate === 'revenue_vs_previous')!;
    // tonight 42,000 over 880 orders (47.73 each); the night before 41,000 over 860 (47.67)
    expect(gate({})).toMatchObject({ passed: true, value: 42_000 / 41_000 });
    expect(gate({ revenue: 0 })).toMatchObject({ passed: false, value: 0 });
    expect(gate({ revenue: 0 }).message).toBe(
      'revenue 0.00 (0.00 per order), 0.0% of the 41,000.00 of 2025-06-29 (47.67 per order) (at least 50.0% of the revenue required, and 50.0% to 200.0% of the revenue per order)',
    );
    // cents read as units: a hundred times the revenue, and the revenue per order
    expect(gate({ revenue: 4_200_000 })).toMatchObject({ passed: false, value: 4_200_000 / 41_000 });
    // a night that adds years of history: five times the revenue and the orders, the same revenue per order
    expect(gate({ revenue: 205_000, acceptedOrders: 4_300 }).passed).toBe(true);
    // at the edges: half the revenue passes; half the revenue per order passes, less does not
    expect(gate({ revenue: 20_500, acceptedOrders: 430 }).passed).toBe(true);
    expect(gate({ revenue: 20_499, acceptedOrders: 430 }).passed).toBe(false);
    expect(gate({ revenue: 41_000, acceptedOrders: 1_720 }).passed).toBe(true);
    expect(gate({ revenue: 41_000, acceptedOrders: 1_721 }).passed).toBe(false);
    // over fewer than 100 orders on either side one order moves the mean twofold: only the revenue share is held
    const young = gate({ revenue: 95.84, acceptedOrders: 2, summarised: published('2024-01-06', 1, 8.71, '2024-01-06', 1) });
    expect(young).toMatchObject({ passed: true, value: 95.84 / 8.71 });
    expect(young.message).toBe(
      'revenue 95.84 (47.92 per order), 1100.3% of the 8.71 of 2024-01-06 (8.71 per order, not compared: fewer than 100 orders) (at least 50.0% of the revenue required, and 50.0% to 200.0% of the revenue per order)',
    );
    // a test drop of four orders, then the full export
    expect(gate({ revenue: 157_843.11, acceptedOrders: 4_453, summarised: published('2025-10-05', 4, 480.76, '2025-10-05', 4) }).passed).toBe(true);
    expect(gate({ revenue: 0, acceptedOrders: 2, summarised: published('2024-01-06', 1, 8.71, '2024-01-06', 1) }).passed).toBe(false);
    // a re-run of the first night: the replaced version alone
    const rerun = gate({ summarised: null, previous: null, replaced: published('2025-06-30', 400, 510_628.29, '2025-06-30', 880), revenue: 52_866.65 });
    expect(rerun).toMatchObject({ passed: false, value: 52_866.65 / 510_628.29 });
    expect(rerun.message).toMatch(/^revenue 52,866\.65 \(60\.08 per order\), 10\.4% of the 510,628\.29 of the published 2025-06-30 this run would replace \(580\.26 per order\)/);
    // nights whose summaries do not say their revenue (or had none) are not held against
    expect(gate({ summarised: null, revenue: 0 })).toMatchObject({ passed: true, value: null, message: 'no earlier night in this output with revenue to compare with' });
    expect(gate({ summarised: published('2025-06-29', 390, 0), revenue: 0 }).passed).toBe(true);
  });

  it('hold the latest accepted order against the earlier night\'s and the replaced version\'s: dates shifted back a year fail, a cancelled last order does not', () => {
    const gate = (figures: Partial<GateFigures>) => checkGates({ ...night, ...figures }, DEFAULT_GATE_SETTINGS).find((g) => g.gate === 'latest_order_vs_previous')!;
    const shifted = gate({ latestOrderDate: '2024-06-29' });
    expect(shifted).toMatchObject({ passed: false, value: 365 });
    expect(shifted.message).toBe(
      'latest accepted order 2024-06-29; that of 2025-06-29 was 2025-06-29 (365 days later) (at most 30 days earlier allowed: orders those nights had are missing, or their dates moved back)',
    );
    // the last order cancelled on a re-run: a few days back
    expect(gate({ latestOrderDate: '2025-06-26', replaced: published('2025-06-30', 400, 42_000, '2025-06-30') })).toMatchObject({ passed: true, value: 4 });
    expect(gate({ latestOrderDate: '2025-05-30' })).toMatchObject({ passed: true, value: 30 });
    expect(gate({ latestOrderDate: '2025-05-29' }).passed).toBe(false);
    // a later latest order (every ordinary night) measures 0 days
    expect(gate({})).toMatchObject({ passed: true, value: 0 });
    expect(gate({ summarised: published('2025-06-29', 390, 41_000) })).toMatchObject({ passed: true, value: null, message: 'no earlier night in this output whose latest order is known' });
    expect(gate({ latestOrderDate: null })).toMatchObject({ passed: true, value: null, message: 'no accepted order' });
  });

  it('hold the latest order of a night whose as-of date was defaulted against the newest published night too: a drop dated a year back would publish as an older night', () => {
    const gate = (figures: Partial<GateFigures>) => checkGates({ ...night, ...figures }, DEFAULT_GATE_SETTINGS).find((g) => g.gate === 'latest_order_vs_previous')!;
    // the drop's latest order 2024-06-28 becomes its run date: nothing earlier, the old night replaced, the newest a year later
    const backdated = { asOf: '2024-06-28', latestOrderDate: '2024-06-28', summarised: null, previous: null, replaced: published('2024-06-28', 965, 46_600.95, '2024-06-28'), newest: published('2025-06-28', 2_950, 207_843.4, '2025-06-28') };
    expect(gate({ ...backdated, asOfGiven: false })).toMatchObject({ passed: false, value: 365 });
    expect(gate({ ...backdated, asOfGiven: false }).message).toMatch(/that of the newest published night, 2025-06-28, was 2025-06-28 \(365 days later\)/);
    // a backfill with an as-of date given is meant to end before the newest night
    expect(gate({ ...backdated, asOfGiven: true }).passed).toBe(true);
  });

  it('check the order-date range when configured: nothing before the earliest date, nothing staler than the limit', () => {
    const settings = { ...DEFAULT_GATE_SETTINGS, earliestOrderDate: '2020-01-01', maxDaysSinceLatestOrder: 3 };
    expect(verdict({}, settings)).toMatchObject({ earliest_order_date: true, latest_order_date: true });
    expect(verdict({ earliestOrderDate: '1900-01-01', latestOrderDate: '2025-06-26' }, settings)).toMatchObject({ earliest_order_date: false, latest_order_date: false });
    expect(verdict({ latestOrderDate: '2025-06-27' }, settings).latest_order_date).toBe(true);
  });

  it('turn a gate off with null', () => {
    expect(verdict({ rejectedRows: 999 }, { ...DEFAULT_GATE_SETTINGS, maxRejectedShare: null })).not.toHaveProperty('rejected_share');
    expect(verdict({ revenue: 0 }, { ...DEFAULT_GATE_SETTINGS, minRevenueVsPrevious: null })).not.toHaveProperty('revenue_vs_previous');
    expect(verdict({ latestOrderDate: '2020-01-01' }, { ...DEFAULT_GATE_SETTINGS, maxDaysLatestOrderBeforePrevious: null })).not.toHaveProperty('latest_order_vs_previous');
  });
});
