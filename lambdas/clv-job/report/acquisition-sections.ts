/**
 * The report's acquisition sections: what an acquired customer is worth by channel (with CAC,
 * LTV:CAC and payback when the run had spend), fixed-age value by cohort, and the channel x segment
 * map. Functions of the summary only.
 */
import type { Summary } from '../schemas/summary.js';
import { fixedAgeValueChart, ltvCacChart } from './acquisition-charts.js';
import { heatTableChart, renderSvg, type HeatCell } from './charts.js';
import { attr, escapeHtml as esc, formatCount, formatMoney, formatPercent } from './html.js';
import { figure, missing, num, section, table, td } from './page-parts.js';

const money = (testId: string, value: number | null | undefined): string => (value === null || value === undefined ? '<span class="muted">–</span>' : num(testId, value, formatMoney(value)));

/** "LTV by channel" with CAC, LTV:CAC and payback when there is spend; the fixed-age lines below it. */
/**
 * Payback: the months, "not yet" while a positive CAC is not paid back, and "–" without one (no spend,
 * spend 0, or no customer acquired): nothing to pay back, as the summary's null payback means.
 */
const paybackCell = (i: number, months: number | null | undefined, cac: number | null | undefined): string =>
  months !== null && months !== undefined
    ? num(`acquisition-${i}-payback`, months, String(months))
    : `<span class="muted">${(cac ?? 0) > 0 ? 'not yet' : '–'}</span>`;

export const acquisitionSection = async (s: Summary): Promise<string> => {
  const rows = s.acquisition.filter((r) => r.customers_acquired > 0 || r.spend !== undefined);
  if (s.acquisition.every((r) => r.customers_acquired === 0)) {
    return section('acquisition', 'What an acquired customer is worth', '', missing('acquisition-missing', 'No customers, so no acquisition channels to value.'));
  }
  const withSpend = s.spend_input !== undefined;
  const valued = rows.filter((r) => r.ltv_per_customer !== null);
  const ltvSvg = await renderSvg(
    ltvCacChart(
      valued.map((r) => ({
        channel: r.channel,
        ltv: r.ltv_per_customer as number,
        cac: r.cac ?? null,
        ltvToCac: r.ltv_to_cac ?? null,
        label: !withSpend ? '' : r.ltv_to_cac === null || r.ltv_to_cac === undefined ? 'no CAC' : `LTV:CAC ${r.ltv_to_cac.toFixed(1)}`,
        belowLine: r.below_ltv_to_cac_line === true,
      })),
    ),
  );
  const body = table(
    [
      'Channel',
      { text: 'Acquired', num: true },
      { text: 'Value per customer', num: true },
      { text: 'of which realised', num: true },
      { text: 'At 3 months', num: true },
      { text: 'At 6 months', num: true },
      { text: 'At 12 months', num: true },
      ...(withSpend ? [{ text: 'Spend', num: true }, { text: 'CAC', num: true }, { text: 'LTV:CAC', num: true }, { text: 'Payback (months)', num: true }] : []),
    ],
    rows.map((r, i) => {
      const tags = [r.below_ltv_to_cac_line ? '<span class="tag bad">below the line</span>' : '', r.ltv_to_cac_falling ? '<span class="tag bad">falling</span>' : ''].join(' ');
      return `<tr${attr('data-channel', r.channel)}>${td(`<strong${attr('data-testid', `acquisition-${i}-name`)}>${esc(r.channel)}</strong> ${tags}`)}${td(num(`acquisition-${i}-customers`, r.customers_acquired, formatCount(r.customers_acquired)), true)}${td(
        money(`acquisition-${i}-ltv`, r.ltv_per_customer),
        true,
      )}${td(money(`acquisition-${i}-realised`, r.realised_value_per_customer), true)}${td(money(`acquisition-${i}-value-3m`, r.value_3m), true)}${td(money(`acquisition-${i}-value-6m`, r.value_6m), true)}${td(
        money(`acquisition-${i}-value-12m`, r.value_12m),
        true,
      )}${
        withSpend
          ? `${td(money(`acquisition-${i}-spend`, r.spend), true)}${td(money(`acquisition-${i}-cac`, r.cac), true)}${td(
              r.ltv_to_cac === null || r.ltv_to_cac === undefined ? '<span class="muted">–</span>' : num(`acquisition-${i}-ltv-to-cac`, r.ltv_to_cac, r.ltv_to_cac.toFixed(2)),
              true,
            )}${td(paybackCell(i, r.payback_months, r.cac), true)}`
          : ''
      }</tr>`;
    }),
  );
  const channels = valued.map((r) => r.channel);
  const points = s.acquisition_cohorts.filter((r) => r.value_3m !== null && channels.includes(r.channel)).map((r) => ({ cohort: r.cohort, channel: r.channel, value: r.value_3m as number }));
  const fixedAge =
    points.length === 0
      ? missing('fixed-age-missing', 'No cohort is 3 months old yet, so there is no fixed-age value to compare.')
      : figure(
          'chart-fixed-age-value',
          await renderSvg(fixedAgeValueChart(points, channels, 'Revenue per customer in the first 3 months')),
          'Revenue per acquired customer in the acquisition month and the next two, by month of acquisition: every cohort measured at the same age, so a falling line is a channel bringing worse customers, not younger ones.',
        );
  const caption =
    'Value of an acquired customer: margin x revenue realised to date plus predicted CLV, per customer the channel acquired. ' +
    'Fixed-age columns compare cohorts at the same age (revenue in their first 3, 6 and 12 months, over the cohorts old enough). ' +
    (withSpend
      ? 'CAC is spend per customer acquired; an LTV:CAC below the configured line (acquisition.ltvToCacLine, default 3) is flagged; payback is the month in which realised margin per customer first covers the CAC.'
      : 'Give a spend file (--spend) for CAC, LTV:CAC and payback.');
  return section(
    'acquisition',
    withSpend ? 'What an acquired customer is worth, and what it cost' : 'What an acquired customer is worth',
    caption,
    `${figure('chart-ltv-to-cac', ltvSvg, withSpend ? 'Bars: value per acquired customer (red: LTV:CAC below the line; grey: no CAC). Amber tick: the CAC.' : 'Bars: value per acquired customer.')}${body}${fixedAge}`,
  );
};

const SCHEME_COLUMNS: readonly { scheme: 'clv_tier' | 'value_loyalty'; segment: string; label: string }[] = [
  { scheme: 'clv_tier', segment: 'high', label: 'High tier' },
  { scheme: 'clv_tier', segment: 'mid', label: 'Mid tier' },
  { scheme: 'clv_tier', segment: 'low', label: 'Low tier' },
  { scheme: 'value_loyalty', segment: 'high_value_high_loyalty', label: 'High value, loyal' },
  { scheme: 'value_loyalty', segment: 'high_value_low_loyalty', label: 'High value, lapsing' },
  { scheme: 'value_loyalty', segment: 'low_value_high_loyalty', label: 'Low value, loyal' },
  { scheme: 'value_loyalty', segment: 'low_value_low_loyalty', label: 'Low value, lapsing' },
];

/** The channel x segment map as a heat map of representation indices, with the RFM map in a table. */
export const channelSegmentsSection = async (s: Summary): Promise<string> => {
  const channels = [...new Set(s.channel_segments.map((r) => r.channel))];
  if (channels.length === 0 || s.counts.customers === 0) {
    return section('channel-segments', 'Which segments each channel brings', '', missing('channel-segments-missing', 'No customers, so no channel x segment map.'));
  }
  const cells: HeatCell[] = [];
  for (const column of SCHEME_COLUMNS) {
    for (const channel of channels) {
      const row = s.channel_segments.find((r) => r.channel === channel && r.scheme === column.scheme && r.segment === column.segment);
      if (row === undefined) continue;
      const index = row.representation_index;
      cells.push({
        row: channel,
        column: column.label,
        intensity: index === null ? 0 : Math.min(1, index / 2),
        label: `${formatCount(row.customers)}${index === null ? '' : ` · ${index.toFixed(2)}×`}`,
      });
    }
  }
  const svg = await renderSvg(heatTableChart(cells, channels, SCHEME_COLUMNS.map((c) => c.label), { rowTitle: 'Acquisition channel', columnWidth: 118 }));
  const churn = s.churn.filter((r) => r.scheme === 'clv_tier' || r.scheme === 'value_loyalty');
  const churnTable =
    churn.length === 0 || churn.every((r) => r.at_risk_share === null)
      ? missing('churn-missing', 'No trusted predictive fit, so no churn risk by segment.')
      : table(
          ['Segment', { text: 'Customers', num: true }, { text: 'P(alive) < 0.5', num: true }, { text: 'Expected lost', num: true }],
          churn.map(
            (r) =>
              `<tr>${td(esc(SCHEME_COLUMNS.find((c) => c.segment === r.segment)?.label ?? r.segment))}${td(esc(formatCount(r.customers)), true)}${td(esc(formatPercent(r.at_risk_share ?? 0)), true)}${td(
                num(`churn-${r.scheme}-${r.segment}-lost`, r.expected_customers_lost ?? 0, formatCount(r.expected_customers_lost ?? 0)),
                true,
              )}</tr>`,
          ),
        );
  return section(
    'channel-segments',
    'Which segments each channel brings',
    'Customers of each acquisition channel in each CLV tier and value x loyalty cell, with its representation index: the channel’s share of customers in that segment divided by the share of all customers there (above 1: the channel brings more of that segment than the average channel; below 1: fewer). Below, churn risk by segment: the share of customers whose probability of still being active is below one half, and the expected number already lost (the sum of 1 − P(alive)).',
    `${figure('chart-channel-segments', svg, 'Cell: customers · representation index. Darker: over-represented.')}${churnTable}`,
  );
};
