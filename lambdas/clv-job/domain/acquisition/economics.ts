import type { AcquisitionCohortRow, AcquisitionRow, AcquisitionSummary } from '../../schemas/summary-acquisition.js';
import type { Warning } from '../../schemas/summary-segments.js';
import type { CustomerScores, CustomerSegments, CustomerTable } from '../customers.js';
import { CompensatedSum } from '../math/sum.js';
import { counted, money } from '../figure.js';
import { completeMonthsBetween, monthsBetween } from '../segments/cohorts.js';
import { codesOf } from '../segments/segment-table.js';
import { channelSegmentTable, churnTable } from './channel-segments.js';
import type { AcquisitionSettings } from './settings.js';
import { SPEND_REJECTION_REASONS, type JudgedSpend } from './spend.js';

/**
 * Realised revenue of one acquisition channel x acquisition month in one calendar month of age (0 =
 * the acquisition month), as the engine aggregates it (`sql/acquisition-months.sql`).
 */
export interface AcquisitionMonth {
  /** Null when the first order carried no channel. */
  readonly channel: string | null;
  /** Acquisition month, YYYY-MM. */
  readonly cohort: string;
  readonly ageMonth: number;
  readonly revenue: number;
  /** Customers whose first repeat purchase day falls in this month of age. */
  readonly firstRepeats: number;
  /** Revenue of the customers' first purchase days (so 0 beyond age 0). */
  readonly firstDayRevenue: number;
}

export interface AcquisitionInput {
  readonly table: Pick<CustomerTable, 'acquisitionChannel' | 'cohort' | 'frequency' | 'totalRevenue' | 'orders'>;
  readonly scores: Pick<CustomerScores, 'predictedClv' | 'rankingClv' | 'probabilityAlive'>;
  readonly segments: CustomerSegments;
  readonly months: readonly AcquisitionMonth[];
  /** The judged spend input; null when the run has none (the spend columns are then absent). */
  readonly spend: JudgedSpend | null;
  /**
   * Where a configured spend input held no spend file (the drop has not arrived): the run goes on as
   * one without spend, with a warning naming it. Null or absent otherwise.
   */
  readonly spendMissingAt?: string | null;
  /** Share of revenue that is profit (config `model.margin`): realised value = margin x revenue. */
  readonly margin: number;
  /** Days since 1970-01-01 of the as-of date: dates the cohorts' ages. */
  readonly asOfDay: number;
  /** Label of customers without a channel (segments.channels.missingLabel). */
  readonly missingLabel: string;
  readonly settings: AcquisitionSettings;
}

export interface AcquisitionEconomics {
  readonly summary: AcquisitionSummary;
  /** Plain-words warnings for `changes.warnings`. */
  readonly warnings: Warning[];
}

/** What one channel x cohort adds up to. */
interface Tally {
  readonly channel: string;
  readonly cohort: string;
  /** Calendar months from the cohort to the as-of month (`age_months`). */
  readonly age: number;
  /** Months of age complete on the as-of date: `age`, or `age` + 1 when the as-of date ends its month. */
  readonly complete: number;
  customers: number;
  repeaters: number;
  orders: number;
  /** Spend of this channel-month; null without a spend row for it. */
  spend: number | null;
  readonly revenue: CompensatedSum;
  readonly predicted: CompensatedSum;
  readonly firstDayRevenue: CompensatedSum;
  /** Revenue and first repeats by calendar month of age. */
  readonly byAge: number[];
  readonly repeatsByAge: number[];
}

/** The fixed ages of `value_3m`, `value_6m`, `value_12m`. */
export const FIXED_AGES = [3, 6, 12] as const;

/** Sum of the tallies' spend; null when none has a spend row. */
const channelSpend = (tallies: readonly Tally[]): number | null => {
  const given = tallies.filter((t) => t.spend !== null);
  if (given.length === 0) return null;
  const sum = new CompensatedSum();
  for (const t of given) sum.add(t.spend as number);
  return sum.value;
};

const ratioOrNull = (a: number, b: number): number | null => (b === 0 ? null : a / b);
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Revenue and first repeats within the first `age` months, over the cohorts whose first `age` months
 * are complete on the as-of date (`complete`, so as of a month's last day that month counts, as in
 * the payback).
 */
const atAge = (tallies: readonly Tally[], age: number): { customers: number; revenue: number; repeaters: number } => {
  let customers = 0;
  const revenue = new CompensatedSum();
  let repeaters = 0;
  for (const t of tallies) {
    if (t.complete < age || t.customers === 0) continue;
    customers += t.customers;
    for (let k = 0; k < age; k += 1) {
      revenue.add(t.byAge[k] ?? 0);
      repeaters += t.repeatsByAge[k] ?? 0;
    }
  }
  return { customers, revenue: revenue.value, repeaters };
};

/**
 * Payback month: with avg_k = (revenue in month of age k) / (customers) over the cohorts for which
 * month k is complete (`complete` > k: before the as-of month, or the as-of month when the as-of date
 * is its last day), the smallest m = k + 1 with margin x (avg_0 + ... + avg_k) >= cac.
 * Null when never reached within the complete months, or without a positive CAC.
 */
const PAYBACK_ROUNDING = 1e-12;

const paybackMonths = (tallies: readonly Tally[], margin: number, cac: number | null): number | null => {
  if (cac === null || !(cac > 0)) return null;
  const oldest = Math.max(0, ...tallies.map((t) => (t.customers > 0 ? t.complete : 0)));
  let cumulative = 0;
  for (let k = 0; k < oldest; k += 1) {
    let customers = 0;
    let revenue = 0;
    for (const t of tallies) {
      if (t.complete > k && t.customers > 0) {
        customers += t.customers;
        revenue += t.byAge[k] ?? 0;
      }
    }
    if (customers === 0) break;
    cumulative += (margin * revenue) / customers;
    // "reaches": revenue that pays the CAC back exactly sums, month by month, to a double a few ulps
    // below the CAC's (10 + 13/3 < 43/3); a relative 1e-12 is far above that rounding and far below a cent
    if (cumulative >= cac * (1 - PAYBACK_ROUNDING)) return k + 1;
  }
  return null;
};

/** The value columns shared by channel and channel x cohort rows. `spend` undefined: no spend input. */
const valueColumns = (tallies: readonly Tally[], input: AcquisitionInput, spend: number | null | undefined) => {
  let customers = 0;
  let repeaters = 0;
  const revenue = new CompensatedSum();
  const predicted = new CompensatedSum();
  for (const t of tallies) {
    customers += t.customers;
    repeaters += t.repeaters;
    revenue.add(t.revenue.value);
    predicted.add(t.predicted.value);
  }
  const realised = ratioOrNull(input.margin * revenue.value, customers);
  const future = input.scores.predictedClv === null ? null : ratioOrNull(predicted.value, customers);
  const ltv = realised === null ? null : realised + (future ?? 0);
  const fixed = FIXED_AGES.map((age) => atAge(tallies, age));
  const three = fixed[0] as { customers: number; revenue: number; repeaters: number };
  const columns = {
    customers_acquired: customers,
    realised_value_per_customer: realised,
    predicted_clv_per_customer: future,
    ltv_per_customer: ltv,
    repeat_rate: customers === 0 ? null : Math.min(1, repeaters / customers),
    value_3m: ratioOrNull(three.revenue, three.customers),
    value_6m: ratioOrNull(fixed[1]!.revenue, fixed[1]!.customers),
    value_12m: ratioOrNull(fixed[2]!.revenue, fixed[2]!.customers),
    repeat_rate_3m: three.customers === 0 ? null : Math.min(1, three.repeaters / three.customers),
  };
  if (spend === undefined) return columns;
  const cac = spend === null ? null : ratioOrNull(spend, customers);
  return {
    ...columns,
    spend,
    cac,
    ltv_to_cac: ltv === null || cac === null || cac === 0 ? null : ltv / cac,
    payback_months: paybackMonths(tallies, input.margin, cac),
  };
};

const newTally = (channel: string, cohort: string, asOfDay: number): Tally => ({
  channel,
  cohort,
  age: monthsBetween(cohort, asOfDay),
  complete: completeMonthsBetween(cohort, asOfDay),
  customers: 0,
  repeaters: 0,
  orders: 0,
  spend: null,
  revenue: new CompensatedSum(),
  predicted: new CompensatedSum(),
  firstDayRevenue: new CompensatedSum(),
  byAge: [],
  repeatsByAge: [],
});

/**
 * Acquisition economics: what a customer acquired by each channel (and in each channel x month) is
 * worth, what it cost when spend is given, how each channel's customers spread over the segments,
 * churn by segment, and the channel diagnostics.
 *
 *   ltv_per_customer = (margin x sum(total_revenue) + sum(predicted_clv)) / customers_acquired
 *   cac = spend / customers_acquired,   ltv_to_cac = ltv_per_customer / cac
 *
 * over the channel's acquired customers (every customer of the run is acquired once, in the month
 * and channel of the first purchase). Without a trusted predictive fit the LTV is the realised part.
 * Spend months and channels without customers keep their rows (customers 0, ratios null); every
 * ratio without a denominator is null, never NaN, Infinity or 0. O(n) plus sorts of the groups.
 * @throws RangeError when `months` names a channel x cohort no customer belongs to.
 */
export const acquisitionEconomics = (input: AcquisitionInput): AcquisitionEconomics => {
  const { table, scores, settings } = input;
  const n = table.cohort.length;
  const channelNames = table.acquisitionChannel.map((c) => c ?? input.missingLabel);
  const tallies = new Map<string, Tally>();
  const keyOf = (channel: string, cohort: string): string => JSON.stringify([channel, cohort]);
  // The same tallies by channel, then cohort: a million customers look theirs up without building a key each.
  const byPair = new Map<string, Map<string, Tally>>();
  const tallyOf = (channel: string, cohort: string): Tally => {
    let ofChannel = byPair.get(channel);
    if (ofChannel === undefined) byPair.set(channel, (ofChannel = new Map()));
    let tally = ofChannel.get(cohort);
    if (tally === undefined) {
      tally = newTally(channel, cohort, input.asOfDay);
      tallies.set(keyOf(channel, cohort), tally);
      ofChannel.set(cohort, tally);
    }
    return tally;
  };
  for (let i = 0; i < n; i += 1) {
    const t = tallyOf(channelNames[i] as string, table.cohort[i] as string);
    t.customers += 1;
    if ((table.frequency[i] as number) > 0) t.repeaters += 1;
    t.orders += table.orders[i] as number;
    t.revenue.add(table.totalRevenue[i] as number);
    if (scores.predictedClv !== null) t.predicted.add(scores.predictedClv[i] as number);
  }
  for (const m of input.months) {
    const t = tallies.get(keyOf(m.channel ?? input.missingLabel, m.cohort));
    if (t === undefined) throw new RangeError(`revenue by age names channel ${m.channel} and cohort ${m.cohort}, which acquired no customer`);
    t.byAge[m.ageMonth] = (t.byAge[m.ageMonth] ?? 0) + m.revenue;
    t.repeatsByAge[m.ageMonth] = (t.repeatsByAge[m.ageMonth] ?? 0) + m.firstRepeats;
    t.firstDayRevenue.add(m.firstDayRevenue);
  }

  // spend by channel x month; channels and months without customers get empty tallies
  for (const row of input.spend?.rows ?? []) tallyOf(row.channel, row.month).spend = row.spend;
  const hasSpend = input.spend !== null;

  const byChannel = new Map<string, Tally[]>();
  for (const t of tallies.values()) byChannel.set(t.channel, [...(byChannel.get(t.channel) ?? []), t]);
  for (const list of byChannel.values()) list.sort((a, b) => byName(a.cohort, b.cohort));

  const acquisition: AcquisitionRow[] = [...byChannel.entries()].map(([channel, list]) => {
    const acquired = list.filter((t) => t.customers > 0);
    let weightedAge = 0;
    for (const t of acquired) weightedAge += t.customers * Math.max(0, t.age);
    const values = valueColumns(list, input, hasSpend ? channelSpend(list) : undefined);
    return {
      channel,
      ...values,
      first_cohort: acquired[0]?.cohort ?? null,
      last_cohort: acquired[acquired.length - 1]?.cohort ?? null,
      mean_age_months: values.customers_acquired === 0 ? null : weightedAge / values.customers_acquired,
      ...(hasSpend
        ? {
            below_ltv_to_cac_line: 'ltv_to_cac' in values && values.ltv_to_cac !== null && values.ltv_to_cac < settings.ltvToCacLine,
            ltv_to_cac_falling: falling(list, input) !== null,
          }
        : {}),
    };
  });
  acquisition.sort((a, b) => (b.ltv_per_customer ?? -Infinity) - (a.ltv_per_customer ?? -Infinity) || byName(a.channel, b.channel));

  const acquisitionCohorts: AcquisitionCohortRow[] = [...tallies.values()]
    .sort((a, b) => byName(a.channel, b.channel) || byName(a.cohort, b.cohort))
    .map((t) => ({
      channel: t.channel,
      cohort: t.cohort,
      age_months: t.age,
      ...valueColumns([t], input, hasSpend ? t.spend : undefined),
    }));

  const { codes, names } = codesOf(channelNames, input.missingLabel);
  const order = acquisition.map((row) => row.channel).filter((c) => names.includes(c));
  const remap = Int32Array.from(names, (name) => order.indexOf(name));
  const channelOf = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i += 1) channelOf[i] = remap[codes[i] as number] as number;

  return {
    summary: {
      acquisition,
      acquisition_cohorts: acquisitionCohorts,
      channel_segments: channelSegmentTable(order, channelOf, scores.rankingClv, input.segments),
      churn: churnTable(scores.probabilityAlive, input.segments),
    },
    warnings: [
      ...spendWarnings(input, byChannel),
      ...acquisition.flatMap((row) => ltvToCacWarnings(row, byChannel.get(row.channel) ?? [], input)),
      ...channelDiagnostics(byChannel, input),
    ],
  };
};

/** Pooled fixed-age stats of the recent and the earlier cohorts old enough for the trend age; null when either side is too small. */
const recentVersusEarlier = (list: readonly Tally[], settings: AcquisitionSettings) => {
  const { recentCohorts, ageMonths } = settings.trendShift;
  const eligible = list.filter((t) => t.customers > 0 && t.complete >= ageMonths);
  if (eligible.length <= recentCohorts) return null;
  const recent = eligible.slice(-recentCohorts);
  const earlier = eligible.slice(0, -recentCohorts);
  const r = atAge(recent, ageMonths);
  const e = atAge(earlier, ageMonths);
  if (r.customers < settings.minCustomers || e.customers < settings.minCustomers) return null;
  return { recent, earlier, r, e };
};

/** Recent cohorts' realised value at the trend age per unit of spend, against the earlier ones'; null when not falling or not measurable. */
const falling = (list: readonly Tally[], input: AcquisitionInput): { recent: number; earlier: number } | null => {
  if (input.spend === null) return null;
  const sides = recentVersusEarlier(list.filter((t) => t.spend !== null && t.spend > 0), input.settings);
  if (sides === null) return null;
  const recent = (input.margin * sides.r.revenue) / (channelSpend(sides.recent) as number);
  const earlier = (input.margin * sides.e.revenue) / (channelSpend(sides.earlier) as number);
  return recent < earlier * (1 - input.settings.trendShift.drop) ? { recent, earlier } : null;
};

/** A ratio (LTV:CAC, value per unit of spend), to two decimals. */
const ratio = (x: number): string => x.toFixed(2);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

const ltvToCacWarnings = (row: AcquisitionRow, list: readonly Tally[], input: AcquisitionInput): Warning[] => {
  const warnings: Warning[] = [];
  const line = input.settings.ltvToCacLine;
  if (row.below_ltv_to_cac_line === true && row.ltv_to_cac !== null && row.ltv_to_cac !== undefined) {
    warnings.push({
      code: 'ltv_to_cac_below_line',
      message: `${row.channel}: an acquired customer is worth ${ratio(row.ltv_to_cac)} times what it cost (LTV ${money(row.ltv_per_customer ?? 0)}, CAC ${money(row.cac ?? 0)}), below the line of ${line}`,
      metric: `acquisition[${row.channel}].ltv_to_cac`,
      previous: null,
      current: row.ltv_to_cac,
      threshold: line,
    });
  }
  const fall = row.ltv_to_cac_falling === true ? falling(list, input) : null;
  if (fall !== null) {
    const age = input.settings.trendShift.ageMonths;
    warnings.push({
      code: 'ltv_to_cac_falling',
      message: `${row.channel}: its last ${input.settings.trendShift.recentCohorts} cohorts returned ${ratio(fall.recent)} per unit of spend in their first ${age} months, against ${ratio(fall.earlier)} for its earlier cohorts`,
      metric: `acquisition[${row.channel}].value_${age}m_per_spend`,
      previous: fall.earlier,
      current: fall.recent,
      threshold: input.settings.trendShift.drop,
    });
  }
  return warnings;
};

const spendWarnings = (input: AcquisitionInput, byChannel: ReadonlyMap<string, Tally[]>): Warning[] => {
  const spend = input.spend;
  if (spend === null) {
    if (input.spendMissingAt === undefined || input.spendMissingAt === null) return [];
    return [
      {
        code: 'spend_input_missing',
        message: `no spend file (.csv or .csv.gz) was found in ${input.spendMissingAt}: this run has no CAC, LTV:CAC or payback; drop the spend file there for the next run`,
        metric: 'spend_input.sources',
        previous: null,
        current: 0,
        threshold: 1,
      },
    ];
  }
  const warnings: Warning[] = [];
  if (spend.inputRows === 0) {
    // a header and no row: the spend columns are there, but no channel has a CAC, which only the report would show
    warnings.push({
      code: 'spend_input_missing',
      message: 'the spend input holds no spend row (a header only): this run has no CAC, LTV:CAC or payback; check the spend export',
      metric: 'spend_input.input_rows',
      previous: null,
      current: 0,
      threshold: 1,
    });
  }
  const rejected = SPEND_REJECTION_REASONS.reduce((sum, r) => sum + spend.rejectedByReason[r], 0);
  if (rejected > 0) {
    const reasons = SPEND_REJECTION_REASONS.filter((r) => spend.rejectedByReason[r] > 0).map((r) => `${spend.rejectedByReason[r]} ${r}`);
    const first = spend.rejectedExamples[0];
    warnings.push({
      code: 'spend_rows_rejected',
      message: `${rejected} of ${spend.inputRows} spend rows were rejected (${reasons.join(', ')})${first ? `, e.g. ${first.source} line ${first.line}: ${first.text}` : ''}; their spend counts nowhere`,
      metric: 'spend_input.rejected_rows',
      previous: null,
      current: rejected,
      threshold: 0,
    });
  }
  for (const [channel, list] of byChannel) {
    const total = channelSpend(list);
    if (total === null) continue;
    const customers = list.reduce((sum, t) => sum + t.customers, 0);
    if (customers === 0) {
      warnings.push({
        code: 'spend_channel_without_customers',
        message: `spend of ${money(total)} on channel "${channel}" acquired no customer (a channel name that differs from the orders' spelling, or spend without result): it has no CAC`,
        metric: `acquisition[${channel}].customers_acquired`,
        previous: null,
        current: total,
        threshold: 0,
      });
      continue;
    }
    const unpaid = list.filter((t) => t.customers > 0 && t.spend === null);
    if (unpaid.length > 0) {
      const acquired = unpaid.reduce((sum, t) => sum + t.customers, 0);
      warnings.push({
        code: 'spend_month_missing',
        message: `${channel} acquired ${counted(acquired, 'customer')} in ${counted(unpaid.length, 'month')} without spend (${unpaid.slice(0, 3).map((t) => t.cohort).join(', ')}${unpaid.length > 3 ? ', ...' : ''}): the channel's CAC counts them at no cost; those months have no CAC`,
        metric: `acquisition[${channel}].spend`,
        previous: null,
        current: acquired,
        threshold: 0,
      });
    }
  }
  return warnings;
};

/** The age, in calendar months, at which the conversion gap and the audience mismatch compare repeat rates (`repeat_rate_3m`). */
export const DIAGNOSTIC_REPEAT_AGE = FIXED_AGES[0];

/**
 * "Conversion gap", "audience mismatch" and "trend shift", each judged on tonight's channels against
 * the configured thresholds:
 * - conversion gap: first-order value above the overall by more than `firstOrderValueAbove` while the
 *   repeat rate within the first 3 months (`repeat_rate_3m`) is below the overall's by more than
 *   `repeatRateBelow` (relative);
 * - audience mismatch: average order value and that repeat rate both below the overall by the thresholds;
 * - trend shift: the channel's last `recentCohorts` cohorts at least `ageMonths` old against its
 *   earlier ones, on the repeat rate and the realised value within `ageMonths` months: lower by more
 *   than `drop` (relative) on either.
 * The repeat rates are at a fixed age, over the cohorts at least 3 months old on both sides, because
 * a repeat rate to date grows with age: a young channel would be flagged for being young. A channel
 * with fewer than `minCustomers` customers in such cohorts (one too young to tell) raises neither.
 */
const channelDiagnostics = (byChannel: ReadonlyMap<string, Tally[]>, input: AcquisitionInput): Warning[] => {
  const { settings } = input;
  const age = DIAGNOSTIC_REPEAT_AGE;
  const total = { customers: 0, orders: 0, revenue: new CompensatedSum(), first: new CompensatedSum() };
  const channels = [...byChannel.entries()].map(([channel, list]) => {
    const c = { channel, list, customers: 0, orders: 0, revenue: 0, first: 0, atAge: atAge(list, age) };
    for (const t of list) {
      c.customers += t.customers;
      c.orders += t.orders;
      c.revenue += t.revenue.value;
      c.first += t.firstDayRevenue.value;
    }
    total.customers += c.customers;
    total.orders += c.orders;
    total.revenue.add(c.revenue);
    total.first.add(c.first);
    return c;
  });
  if (total.customers === 0) return [];
  const overallAtAge = atAge([...byChannel.values()].flat(), age);
  const overall = {
    firstOrderValue: total.first.value / total.customers,
    repeatRate: overallAtAge.customers === 0 ? null : Math.min(1, overallAtAge.repeaters / overallAtAge.customers),
    aov: ratioOrNull(total.revenue.value, total.orders) ?? 0,
  };
  const warnings: Warning[] = [];
  for (const c of channels.sort((a, b) => byName(a.channel, b.channel))) {
    if (c.customers < settings.minCustomers) continue;
    const firstOrderValue = c.first / c.customers;
    const aov = ratioOrNull(c.revenue, c.orders) ?? 0;
    const repeatRate = c.atAge.customers < settings.minCustomers ? null : Math.min(1, c.atAge.repeaters / c.atAge.customers);
    if (repeatRate !== null && overall.repeatRate !== null) {
      const overallRepeat = overall.repeatRate;
      const lowRepeat = (below: number): boolean => repeatRate < overallRepeat * (1 - below);
      const repeatWords = `within ${age} months (${pct(repeatRate)} against ${pct(overallRepeat)}, cohorts at least ${age} months old)`;
      if (firstOrderValue > overall.firstOrderValue * (1 + settings.conversionGap.firstOrderValueAbove) && lowRepeat(settings.conversionGap.repeatRateBelow)) {
        warnings.push({
          code: 'conversion_gap',
          message: `${c.channel}: conversion gap: its customers spend more on their first order (${money(firstOrderValue)} against ${money(overall.firstOrderValue)} overall) but fewer come back ${repeatWords}`,
          metric: `acquisition[${c.channel}].repeat_rate_${age}m`,
          previous: overallRepeat,
          current: repeatRate,
          threshold: settings.conversionGap.repeatRateBelow,
        });
      }
      if (aov < overall.aov * (1 - settings.audienceMismatch.averageOrderValueBelow) && lowRepeat(settings.audienceMismatch.repeatRateBelow)) {
        warnings.push({
          code: 'audience_mismatch',
          message: `${c.channel}: audience mismatch: its customers order less (average order ${money(aov)} against ${money(overall.aov)} overall) and come back less ${repeatWords}`,
          metric: `acquisition[${c.channel}].average_order_value`,
          previous: overall.aov,
          current: aov,
          threshold: settings.audienceMismatch.averageOrderValueBelow,
        });
      }
    }
    const sides = recentVersusEarlier(c.list, settings);
    if (sides !== null) {
      const trendAge = settings.trendShift.ageMonths;
      const recentRepeat = sides.r.repeaters / sides.r.customers;
      const earlierRepeat = sides.e.repeaters / sides.e.customers;
      const recentValue = sides.r.revenue / sides.r.customers;
      const earlierValue = sides.e.revenue / sides.e.customers;
      const worse = (now: number, before: number): boolean => now < before * (1 - settings.trendShift.drop);
      if (worse(recentRepeat, earlierRepeat) || worse(recentValue, earlierValue)) {
        warnings.push({
          code: 'trend_shift',
          message:
            `${c.channel}: trend shift: its last ${sides.recent.length} cohorts (${sides.recent[0]?.cohort} to ${sides.recent[sides.recent.length - 1]?.cohort}) are worth ${money(recentValue)} per customer ` +
            `in their first ${trendAge} months against ${money(earlierValue)} for its earlier cohorts, and ${pct(recentRepeat)} came back within ${trendAge} months against ${pct(earlierRepeat)}`,
          metric: `acquisition[${c.channel}].value_${trendAge}m`,
          previous: earlierValue,
          current: recentValue,
          threshold: settings.trendShift.drop,
        });
      }
    }
  }
  return warnings;
};
