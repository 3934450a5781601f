/**
 * Data-quality gates (SPEC "Data-quality gates"): the checks a night's input must pass before its
 * results may replace the previous night's. Pure: the pipeline gathers the figures and decides what
 * a failed gate means (a failed run, unless gates are accepted on purpose).
 */

import { counted } from './figure.js';

export const GATES = ['accepted_orders', 'rejected_share', 'customers_vs_previous', 'revenue_vs_previous', 'latest_order_vs_previous', 'earliest_order_date', 'latest_order_date'] as const;
export type GateName = (typeof GATES)[number];

/** Thresholds of the gates; `null` turns a gate off. */
export interface GateSettings {
  /**
   * Most defective rows (rejected, malformed included) as a share of the rows judged against the
   * night's window; rows dated after an as-of date given explicitly lie outside it and count in neither.
   * @default 0.2
   */
  readonly maxRejectedShare: number | null;
  /**
   * Fewest judged rows for the rejected share to be held against {@link maxRejectedShare}: below it
   * one row moves the share by more than 100 / minRowsForRejectedShare points, so a test drop of a
   * few lines with one bad line would fail the night on noise. The share is still reported, and
   * `accepted_orders` (and customers against the previous run) still guard a tiny drop.
   * @default 10
   */
  readonly minRowsForRejectedShare: number;
  /** Fewest customers as a share of the previous run's (the latest earlier run date in the output). @default 0.5 */
  readonly minCustomersVsPrevious: number | null;
  /**
   * Least revenue (the accepted orders' amounts, in the input's currency) as a share of the previous
   * run's and of the version a re-run would replace, and how far the revenue per accepted order may
   * move from theirs either way (this share of it, or its inverse): a drop whose amounts were zeroed,
   * or read in another unit (cents as units, or the other way round), fails where its customers are
   * all there. @default 0.5
   */
  readonly minRevenueVsPrevious: number | null;
  /**
   * Most days tonight's latest accepted order may lie before the previous run's (and the replaced
   * version's): an input that lost the newest orders, or whose dates were shifted back, fails. A
   * cancelled last order moves it back by days, not by this many. @default 30
   */
  readonly maxDaysLatestOrderBeforePrevious: number | null;
  /** Fewest accepted orders. @default 1 */
  readonly minAcceptedOrders: number;
  /** `YYYY-MM-DD`: no accepted order may be dated before this day. @default null (off) */
  readonly earliestOrderDate: string | null;
  /** Most days from the latest accepted order to the as-of date: a stale drop fails. @default null (off) */
  readonly maxDaysSinceLatestOrder: number | null;
}

export const DEFAULT_GATE_SETTINGS: GateSettings = {
  maxRejectedShare: 0.2,
  minRowsForRejectedShare: 10,
  minCustomersVsPrevious: 0.5,
  minRevenueVsPrevious: 0.5,
  maxDaysLatestOrderBeforePrevious: 30,
  minAcceptedOrders: 1,
  earliestOrderDate: null,
  maxDaysSinceLatestOrder: null,
};

/** What the gates hold tonight against of a published night, each null when it cannot be read. */
export interface PublishedCustomers {
  readonly runDate: string;
  /** As its summary counts them, or else as its manifest's customers files' rows add up. */
  readonly customers: number | null;
  /** Its summary's `totals.revenue`, and `counts.accepted_orders` (the two read together). */
  readonly revenue: number | null;
  readonly acceptedOrders: number | null;
  /** `YYYY-MM-DD`: its summary's `run.latest_order_date` (since 2.8.0), or its as-of date when that was the latest order date. */
  readonly latestOrderDate: string | null;
}

/** What the gates look at, gathered by the pipeline from the night's counts and the previous run. */
export interface GateFigures {
  readonly asOf: string;
  readonly asOfGiven: boolean;
  readonly inputRows: number;
  readonly rejectedRows: number;
  /**
   * Rows dated after the as-of date: all those rejected as `order_date_after_as_of`, and those
   * rejected for another reason (a negative amount, say) whose order date is a valid date after it.
   */
  readonly rowsAfterAsOf: number;
  /** Of those, the rows dated after the latest date a run may be as of (today in UTC, plus a day): in the future. */
  readonly rowsInFuture: number;
  readonly acceptedOrders: number;
  readonly customers: number;
  /**
   * The previous run's date and customers (the latest earlier run date whose customers can be
   * counted), or, when no earlier run date's can, the latest of them with customers null; null when
   * there is no earlier run date.
   */
  readonly previous: PublishedCustomers | null;
  /** The published version of tonight's run date that this run would replace (a re-run), or null. */
  readonly replaced: (PublishedCustomers & { readonly customers: number }) | null;
  /**
   * The latest earlier night whose summary says its revenue (the previous run's, or past one whose
   * summary is damaged); null without any. What the revenue and latest-order gates hold tonight against.
   */
  readonly summarised: PublishedCustomers | null;
  /**
   * The newest published night after tonight's run date (tonight is a backfill), or null. With the
   * as-of date defaulted, tonight's run date is its latest order: a drop that lost its newest orders,
   * or whose dates moved back, would publish as an older night, so its latest order is held against
   * this night's too.
   */
  readonly newest: PublishedCustomers | null;
  /** The accepted orders' amounts added up (the summary's `totals.revenue`). */
  readonly revenue: number;
  /** `YYYY-MM-DD` of the earliest and latest accepted orders, null without any. */
  readonly earliestOrderDate: string | null;
  readonly latestOrderDate: string | null;
}

export interface GateResult {
  readonly gate: GateName;
  readonly passed: boolean;
  /** The measured figure: a share, a count, a date or a number of days; null when there is nothing to measure. */
  readonly value: number | string | null;
  /** The threshold it was held against. */
  readonly threshold: number | string;
  readonly message: string;
}

const percent = (share: number): string => `${(100 * share).toFixed(1)}%`;
const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/**
 * The defective share of the rows the night judges: rejected rows over input rows, leaving out rows
 * dated after an as-of date that was given (a backfill or a calibration such as CDNOW as of
 * 1997-09-30 leaves later orders outside its window, not in error). With the as-of date defaulted
 * to the latest purchase day, a row dated in the future (after today in UTC, plus a day for time
 * zones ahead of it) is a defect; one after the as-of date but not in the future (a cancellation
 * after the last purchase, an order of a time zone ahead of UTC) is outside the window, as with a
 * given date. 0 when nothing is judged.
 */
export const rejectedShare = (figures: GateFigures): number => {
  const judged = judgedRows(figures);
  return judged > 0 ? (figures.rejectedRows - outsideRows(figures)) / judged : 0;
};

/** Rows after the as-of date that are not defects (see rejectedShare): outside the night's window, judged neither way. */
const outsideRows = (figures: GateFigures): number => (figures.asOfGiven ? figures.rowsAfterAsOf : Math.max(0, figures.rowsAfterAsOf - figures.rowsInFuture));

/** The rows the rejected share is taken over: input rows but those outside the window. */
export const judgedRows = (figures: GateFigures): number => figures.inputRows - outsideRows(figures);

/**
 * Every gate that is switched on, in the order of {@link GATES}, each with its figure, threshold and a
 * sentence saying what was found. A gate without anything to measure (no previous run, no orders)
 * passes; "at least one accepted order" is what catches an empty night.
 */
export const checkGates = (figures: GateFigures, settings: GateSettings): GateResult[] => {
  const results: GateResult[] = [];
  const accepted = figures.acceptedOrders;
  results.push({
    gate: 'accepted_orders',
    passed: accepted >= settings.minAcceptedOrders,
    value: accepted,
    threshold: settings.minAcceptedOrders,
    message: `${accepted} accepted orders (at least ${settings.minAcceptedOrders} required)`,
  });
  if (settings.maxRejectedShare !== null) {
    const share = rejectedShare(figures);
    const judged = judgedRows(figures);
    const tooFew = judged < settings.minRowsForRejectedShare;
    const outsideCount = outsideRows(figures);
    const outside = outsideCount === 0 ? '' : `; ${outsideCount} rows after the ${figures.asOfGiven ? 'given as-of date' : `latest purchase day (${figures.asOf}) but not in the future`} not counted`;
    results.push({
      gate: 'rejected_share',
      passed: tooFew || share <= settings.maxRejectedShare,
      value: share,
      threshold: settings.maxRejectedShare,
      message: tooFew
        ? `${percent(share)} of the rows rejected, not held against the ${percent(settings.maxRejectedShare)} allowed: ${judged} rows judged, fewer than the ${settings.minRowsForRejectedShare} the share needs${outside}`
        : `${percent(share)} of the rows rejected (at most ${percent(settings.maxRejectedShare)} allowed${outside})`,
    });
  }
  if (settings.minCustomersVsPrevious !== null) results.push(customersVsPrevious(figures, settings.minCustomersVsPrevious));
  if (settings.minRevenueVsPrevious !== null) results.push(revenueVsPrevious(figures, settings.minRevenueVsPrevious));
  if (settings.maxDaysLatestOrderBeforePrevious !== null) results.push(latestOrderVsPrevious(figures, settings.maxDaysLatestOrderBeforePrevious));
  if (settings.earliestOrderDate !== null) {
    const earliest = figures.earliestOrderDate;
    results.push({
      gate: 'earliest_order_date',
      passed: earliest === null || earliest >= settings.earliestOrderDate,
      value: earliest,
      threshold: settings.earliestOrderDate,
      message: earliest === null ? 'no accepted order' : `earliest accepted order ${earliest} (none before ${settings.earliestOrderDate} allowed)`,
    });
  }
  if (settings.maxDaysSinceLatestOrder !== null) {
    const latest = figures.latestOrderDate;
    const days = latest === null ? null : daysBetween(latest, figures.asOf);
    results.push({
      gate: 'latest_order_date',
      passed: days === null || days <= settings.maxDaysSinceLatestOrder,
      value: latest,
      threshold: settings.maxDaysSinceLatestOrder,
      message:
        days === null
          ? 'no accepted order'
          : `latest accepted order ${latest}, ${days} days before the as-of date ${figures.asOf} (at most ${settings.maxDaysSinceLatestOrder} allowed)`,
    });
  }
  return results;
};

/**
 * Tonight's customers against the previous run's and against those of the version of tonight's run
 * date it would replace (a re-run must not replace a good night with a broken drop either): fails when
 * either share is below `minShare`, and when there are earlier run dates but none whose customers can
 * be counted and no version to replace (tonight cannot be held against anything). Value: the lower
 * share; null when nothing had customers.
 */
const customersVsPrevious = (figures: GateFigures, minShare: number): GateResult => {
  const { previous, replaced } = figures;
  const tonight = counted(figures.customers, 'customer');
  const base = { gate: 'customers_vs_previous', threshold: minShare } as const;
  if (previous !== null && previous.customers === null && replaced === null) {
    return {
      ...base,
      passed: false,
      value: null,
      message: `${tonight}, not held against the previous run: the summary and manifest of ${previous.runDate} (and of every earlier run date) cannot be read; repair or remove that night, or accept the failed gate to publish anyway`,
    };
  }
  const against = [
    ...(previous !== null && previous.customers !== null ? [{ customers: previous.customers, of: previous.runDate, none: 'the previous run had none' }] : []),
    ...(replaced === null
      ? []
      : [{ customers: replaced.customers, of: `the published ${replaced.runDate} this run would replace`, none: 'the published version it would replace had none' }]),
  ];
  if (against.length === 0) return { ...base, passed: true, value: null, message: 'no earlier run date in this output to compare with' };
  const shares = against.map(({ customers }) => (customers === 0 ? null : figures.customers / customers));
  const measured = shares.filter((share): share is number => share !== null);
  return {
    ...base,
    passed: measured.every((share) => share >= minShare),
    value: measured.length === 0 ? null : Math.min(...measured),
    message: `${tonight}, ${against
      .map(({ customers, of, none }, k) => (shares[k] === null ? none : `${percent(shares[k]!)} of the ${customers} of ${of}`))
      .join(' and ')} (at least ${percent(minShare)} required)`,
  };
};

/**
 * The nights tonight's revenue or latest order is held against, each with what to call it: the latest
 * earlier night whose summary says them, the version a re-run would replace, and (`withNewest`, with
 * the as-of date defaulted) the newest published night after tonight's.
 */
const nightsHeldAgainst = (figures: GateFigures, withNewest: boolean): { readonly night: PublishedCustomers; readonly of: string }[] => [
  ...(figures.summarised === null ? [] : [{ night: figures.summarised, of: figures.summarised.runDate }]),
  ...(figures.replaced === null ? [] : [{ night: figures.replaced, of: `the published ${figures.replaced.runDate} this run would replace` }]),
  ...(withNewest && figures.newest !== null ? [{ night: figures.newest, of: `the newest published night, ${figures.newest.runDate},` }] : []),
];

const money = (amount: number): string => amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * Fewest accepted orders, tonight's and the earlier night's, for their revenue per order to be held
 * against each other: order values are heavy-tailed (in generated shops the 95th percentile is ~3.5x
 * the median, single orders ~60x), so over a few orders one order moves the mean twofold, where over a
 * hundred the mean of a whole history barely moves night over night (~0.1% in a 2,000-customer shop).
 */
export const MIN_ORDERS_FOR_REVENUE_PER_ORDER = 100;

/**
 * Tonight's revenue against the previous run's and the replaced version's (as customersVsPrevious, on
 * the amounts): fails when either share is below `minShare`, or, when both nights have at least
 * MIN_ORDERS_FOR_REVENUE_PER_ORDER accepted orders, when the revenue per accepted order lies below
 * `minShare` or above `1 / minShare` times theirs (amounts read in another unit move it a hundredfold,
 * where a night that adds history keeps it). A night whose summary does not say its revenue is not
 * held against; without any, the gate passes. Value: the lower revenue share; null when nothing had
 * revenue to compare with.
 */
const revenueVsPrevious = (figures: GateFigures, minShare: number): GateResult => {
  const base = { gate: 'revenue_vs_previous', threshold: minShare } as const;
  const against = nightsHeldAgainst(figures, false).filter(({ night }) => night.revenue !== null && night.revenue > 0 && night.acceptedOrders !== null && night.acceptedOrders > 0);
  if (against.length === 0) return { ...base, passed: true, value: null, message: 'no earlier night in this output with revenue to compare with' };
  const perOrder = figures.acceptedOrders > 0 ? figures.revenue / figures.acceptedOrders : 0;
  const measured = against.map(({ night, of }) => {
    const share = figures.revenue / night.revenue!;
    const theirs = night.revenue! / night.acceptedOrders!;
    const ratio = perOrder / theirs;
    const perOrderHeld = Math.min(figures.acceptedOrders, night.acceptedOrders!) >= MIN_ORDERS_FOR_REVENUE_PER_ORDER;
    return {
      share,
      passed: share >= minShare && (!perOrderHeld || (ratio >= minShare && ratio <= 1 / minShare)),
      text: `${percent(share)} of the ${money(night.revenue!)} of ${of} (${money(theirs)} per order${perOrderHeld ? '' : `, not compared: fewer than ${MIN_ORDERS_FOR_REVENUE_PER_ORDER} orders`})`,
    };
  });
  return {
    ...base,
    passed: measured.every((m) => m.passed),
    value: Math.min(...measured.map((m) => m.share)),
    message:
      `revenue ${money(figures.revenue)} (${money(perOrder)} per order), ${measured.map((m) => m.text).join(' and ')}` +
      ` (at least ${percent(minShare)} of the revenue required, and ${percent(minShare)} to ${percent(1 / minShare)} of the revenue per order)`,
  };
};

/**
 * Tonight's latest accepted order against the previous run's and the replaced version's: fails when it
 * lies more than `maxDays` before either (the orders those nights were built on are missing, or were
 * re-dated). A night that does not say its latest order is not held against. Value: the most days
 * before; null when nothing compares.
 */
const latestOrderVsPrevious = (figures: GateFigures, maxDays: number): GateResult => {
  const base = { gate: 'latest_order_vs_previous', threshold: maxDays } as const;
  const latest = figures.latestOrderDate;
  const against = nightsHeldAgainst(figures, !figures.asOfGiven).filter(({ night }) => night.latestOrderDate !== null);
  if (latest === null || against.length === 0) {
    return { ...base, passed: true, value: null, message: latest === null ? 'no accepted order' : 'no earlier night in this output whose latest order is known' };
  }
  const behind = against.map(({ night }) => daysBetween(latest, night.latestOrderDate!));
  const worst = Math.max(...behind);
  return {
    ...base,
    passed: worst <= maxDays,
    value: Math.max(0, worst),
    message:
      `latest accepted order ${latest}; ${against.map(({ night, of }, k) => `that of ${of} was ${night.latestOrderDate}${behind[k]! > 0 ? ` (${behind[k]} days later)` : ''}`).join(' and ')}` +
      ` (at most ${maxDays} days earlier allowed${worst > maxDays ? ': orders those nights had are missing, or their dates moved back' : ''})`,
  };
};
