/**
 * The run's HTML report (`report/run_date=YYYY-MM-DD/index.html`): one self-contained page for a
 * business reader (plain captions, key figures, recommended actions) and an analyst (model
 * parameters with standard errors, fit diagnostics, data quality). No I/O and no clock: the page is
 * a function of the summary, so `clv report` can regenerate it later.
 *
 * Self-contained means no network at view time: styles are inline, there is no script at all,
 * charts are static SVG drawn by Vega when the page is written, and a Content-Security-Policy
 * (`default-src 'none'`) tells the browser to load nothing else. Every string from the data is
 * escaped (channel names are whatever the export said).
 */
import type { ChannelRow, Delta, OptionalDelta, SegmentChange } from '../schemas/summary-segments.js';
import { BACKFILL_NOTE_PREFIX, FIRST_RUN_NOTE, MID_LOW_RECUT_NOTE, TIERS_RECUT_NOTE } from '../domain/segments/changes.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../domain/segments/settings.js';
import {
  channelChart,
  heatTableChart,
  lorenzChart,
  migrationChart,
  pairedBarsChart,
  pairedLinesChart,
  trackingChart,
  probabilityAliveChart,
  renderSvg,
  shareBarsChart,
  valueLoyaltyChart,
  type HeatCell,
  type ValueLoyaltyCellView,
} from './charts.js';
import {
  attr,
  countOf,
  escapeHtml as esc,
  formatCount,
  formatIndex,
  formatMoney,
  formatMoneyShort,
  formatPercent,
  formatSigned,
  formatSignedPercent,
  formatLogLikelihood,
  formatStatistic,
  slug,
} from './html.js';
import type { Summary } from '../schemas/summary.js';
import { REPORT_CSS } from './styles.js';
import { acquisitionSection, channelSegmentsSection } from './acquisition-sections.js';
import { moversSection } from './movers-section.js';
import { actionList, figure as anyFigure, missing, num, previousUnreadable, section as anySection, table, td } from './page-parts.js';

const figure = (id: ChartId, svg: string, caption?: string): string => anyFigure(id, svg, caption);
const section = (id: (typeof SECTION_IDS)[number], title: string, caption: string, body: string, extraClass = ''): string => anySection(id, title, caption, body, extraClass);


/** Every chart the page can hold, by element id; a chart whose data is missing is replaced by a note. */
export const CHART_IDS = [
  'chart-tiers',
  'chart-tier-migration',
  'chart-value-loyalty',
  'chart-rfm',
  'chart-channels',
  'chart-cohorts',
  'chart-ltv-to-cac',
  'chart-fixed-age-value',
  'chart-channel-segments',
  'chart-lorenz',
  'chart-frequency',
  'chart-probability-alive',
  'chart-backtest',
  'chart-backtest-tracking',
] as const;
export type ChartId = (typeof CHART_IDS)[number];

/** The sections, in page order, by element id. */
export const SECTION_IDS = ['changes', 'overview', 'tiers', 'movers', 'value-loyalty', 'rfm', 'channels', 'cohorts', 'acquisition', 'channel-segments', 'concentration', 'model-fit', 'data-quality'] as const;

const TIER_LABEL: Readonly<Record<string, string>> = { high: 'High tier', mid: 'Mid tier', low: 'Low tier' };

const VALUE_LOYALTY: Readonly<Record<string, { value: ValueLoyaltyCellView['value']; loyalty: ValueLoyaltyCellView['loyalty']; title: string; nickname: string }>> = {
  high_value_high_loyalty: { value: 'High value', loyalty: 'High loyalty', title: 'High value, high loyalty', nickname: 'Protect and reward' },
  high_value_low_loyalty: { value: 'High value', loyalty: 'Low loyalty', title: 'High value, low loyalty', nickname: 'Retain before they lapse' },
  low_value_high_loyalty: { value: 'Low value', loyalty: 'High loyalty', title: 'Low value, high loyalty', nickname: 'Grow their spend' },
  low_value_low_loyalty: { value: 'Low value', loyalty: 'Low loyalty', title: 'Low value, low loyalty', nickname: 'Serve at low cost' },
};

// ---------------------------------------------------------------------------------------------
// Small pieces

const unitName = (unit: string, n: number): string => `${unit}${n === 1 ? '' : 's'}`;

/** "predicted CLV over the next 52 weeks" or why it is historical. */
const equityMeaning = (s: Summary): string =>
  s.totals.ranking_clv === 'predicted_clv'
    ? `predicted CLV over the next ${formatStatistic(s.models.horizon)} ${unitName(s.models.time_unit, s.models.horizon)}, discounted at ${formatPercent(s.models.discount_rate, 0)} a year, at a margin of ${formatPercent(s.models.margin, 0)}`
    : 'historical CLV, because the predictive models could not be trusted on this data';

/** Customer-weighted mean P(alive) over the channels (every customer has exactly one). */
const meanProbabilityAlive = (channels: readonly ChannelRow[]): number | null => {
  let weight = 0;
  let sum = 0;
  for (const c of channels) {
    if (c.mean_probability_alive === null) return null;
    weight += c.customers;
    sum += c.customers * c.mean_probability_alive;
  }
  return weight > 0 ? sum / weight : null;
};

const averageClv = (s: Summary): number => (s.totals.customers > 0 ? s.totals.equity / s.totals.customers : 0);

// ---------------------------------------------------------------------------------------------
// Sections

const header = (s: Summary): string => {
  const r = s.run;
  const asOf = r.as_of_source === 'given' ? 'as-of date given' : 'as of the latest order date';
  const nav = [
    ['changes', 'Changes'],
    ['tiers', 'CLV tiers'],
    ['movers', 'Movers'],
    ['value-loyalty', 'Value × loyalty'],
    ['rfm', 'RFM segments'],
    ['channels', 'Channels'],
    ['cohorts', 'Cohorts'],
    ['concentration', 'Concentration'],
    ['model-fit', 'Model fit'],
    ['data-quality', 'Data quality'],
  ]
    .map(([id, label]) => `<a href="#${id}">${esc(label!)}</a>`)
    .join('');
  return `<header class="masthead"><div class="wrap">
<div class="eyebrow">Customer lifetime value report</div>
<h1>Run of <time datetime="${esc(r.run_date)}" data-testid="run-date">${esc(r.run_date)}</time></h1>
<p class="meta">Orders up to ${esc(r.as_of)} (${esc(asOf)}) · ${esc(countOf(s.counts.customers, 'customer'))} from ${esc(countOf(s.counts.accepted_orders, 'order'))} in ${esc(r.inputs.location)} · ${esc(r.engine === 'duckdb' ? 'DuckDB' : 'Athena')} · run ${esc(r.run_id)}</p>
<nav aria-label="Sections">${nav}</nav>
</div></header>`;
};

/** What a change shows when the two nights measured it otherwise (changes.note says how): no rise or fall. */
const NOT_COMPARABLE = '<span class="muted" data-testid="not-comparable">not comparable</span>';

/** Whether the previous run measured CLV as tonight does (no `clv_measure_changed`): else no equity or average CLV compares. */
const clvComparable = (s: Summary): boolean => !s.changes.warnings.some((w) => w.code === 'clv_measure_changed');

const deltaCard = (label: string, testId: string, d: Delta | OptionalDelta, format: (n: number) => string, comparable = true): string => {
  const direction = d.delta === null || d.delta === 0 ? '' : d.delta > 0 ? 'up' : 'down';
  const arrow = direction === 'up' ? '▲' : direction === 'down' ? '▼' : '';
  const now = d.current === null ? '–' : format(d.current);
  const before = d.previous === null ? '–' : format(d.previous);
  const change = comparable ? `<span class="${direction}">${arrow} ${esc(formatSignedPercent(d.relative_change))}</span>` : NOT_COMPARABLE;
  return `<div class="delta"${attr('data-testid', testId)}><div class="label">${esc(label)}</div><div class="value">${esc(before)} → ${esc(now)} ${change}</div></div>`;
};

const changesSection = async (s: Summary): Promise<string> => {
  const c = s.changes;
  const runWarnings = s.warnings.map((w) => `<li class="run-warning" data-testid="warning"${attr('data-code', w.code)}>${esc(w.message)}</li>`);
  const changeWarnings = c.warnings.map((w) => `<li data-testid="warning"${attr('data-code', w.code)}${attr('data-metric', w.metric)}>${esc(w.message)}</li>`);
  const warnings = [...runWarnings, ...changeWarnings];
  const parts: string[] = [];
  parts.push(`<p class="caption" data-testid="changes-note">${esc(c.note)}${c.note === FIRST_RUN_NOTE ? ' Changes and early warnings appear here from the next run on.' : ''}</p>`);
  if (warnings.length > 0) {
    parts.push(`<h3>${warnings.length === 1 ? '1 warning' : `${warnings.length} warnings`}</h3><ul class="warnings" data-testid="warnings">${warnings.join('')}</ul>`);
  } else if (c.previous_run_date !== null) {
    parts.push(`<p class="ok" data-testid="no-warnings">No early warnings: no segment, channel or total declined beyond its threshold since ${esc(c.previous_run_date)}.</p>`);
  }
  if (c.totals !== null) {
    parts.push(
      `<div class="deltas">${deltaCard('Customers', 'delta-customers', c.totals.customers, formatCount)}${deltaCard('Customer equity', 'delta-equity', c.totals.equity, formatMoneyShort, clvComparable(s))}${deltaCard(
        'Mean P(alive)',
        'delta-probability-alive',
        c.totals.mean_probability_alive,
        (n) => formatPercent(n),
      )}</div>`,
    );
  }
  const title =
    c.previous_run_date !== null
      ? `Changes and warnings since ${c.previous_run_date}`
      : previousUnreadable(s)
        ? 'Changes and warnings: no comparison (an earlier night cannot be read)'
        : c.note.startsWith(BACKFILL_NOTE_PREFIX)
          ? 'Changes and warnings: backfill (no earlier night is published)'
          : 'Changes and warnings: first run';
  return section('changes', title, '', parts.join(''), `alerts${warnings.length > 0 ? ' has-warnings' : ''}`);
};

/** Tier movements since the previous run, when both runs had tiers. */
const tierMovements = async (s: Summary): Promise<string> => {
  const c = s.changes;
  if (c.tier_migration === null || c.previous_run_date === null) return '';
  const from = ['high', 'mid', 'low', 'new'];
  const to = ['high', 'mid', 'low', 'absent'];
  const label = (t: string): string => TIER_LABEL[t] ?? (t === 'new' ? 'New customer' : 'Not in this run');
  const svg = await renderSvg(
    migrationChart(
      c.tier_migration.map((m) => ({ from: label(m.from_tier), to: label(m.to_tier), customers: m.customers })),
      from.map(label),
      to.map(label),
    ),
  );
  // the high tier is re-cut by another high share only; the mid and low tiers by either share
  const recut = (segment: string): boolean => c.note.includes(TIERS_RECUT_NOTE) || (segment !== 'high' && c.note.includes(MID_LOW_RECUT_NOTE));
  const tierRows = c.clv_tiers.map((t) => changeRow(TIER_LABEL[t.segment] ?? t.segment, t, clvComparable(s) && !recut(t.segment)));
  return `<div class="grid-2 subsection"><div><h3>Where customers moved since ${esc(c.previous_run_date)}</h3>${figure(
    'chart-tier-migration',
    svg,
    `Each cell counts customers by their tier in the run of ${c.previous_run_date} (rows) and in this run (columns).`,
  )}</div><div><h3>Tiers then and now</h3>${table(['Tier', { text: 'Customers', num: true }, { text: 'Average CLV', num: true }, { text: 'Change', num: true }], tierRows)}</div></div>`;
};

const changeRow = (label: string, t: SegmentChange, comparable: boolean): string =>
  `<tr>${td(esc(label))}${td(`${esc(formatCount(t.customers.previous))} → ${esc(formatCount(t.customers.current))}`, true)}${td(
    `${esc(formatMoney(t.average_clv.previous))} → ${esc(formatMoney(t.average_clv.current))}`,
    true,
  )}${td(comparable ? `<span class="${(t.average_clv.relative_change ?? 0) < 0 ? 'down' : 'up'}">${esc(formatSignedPercent(t.average_clv.relative_change))}</span>` : NOT_COMPARABLE, true)}</tr>`;

const overviewSection = (s: Summary): string => {
  const t = s.totals;
  const equity = s.concentration.equity;
  const repeatShare = t.customers > 0 ? t.repeat_customers / t.customers : 0;
  const card = (label: string, value: string, sub: string): string =>
    `<div class="kpi"><div class="label">${esc(label)}</div><span class="value">${value}</span><div class="sub">${sub}</div></div>`;
  const alive = meanProbabilityAlive(s.channels);
  const cards = [
    card('Customers', num('kpi-customers', t.customers, formatCount(t.customers)), `${num('kpi-repeat-customers', t.repeat_customers, formatCount(t.repeat_customers))} bought again (${esc(formatPercent(repeatShare))})`),
    card(
      'Customer equity',
      num('kpi-equity', t.equity, formatMoneyShort(t.equity)),
      esc(t.ranking_clv === 'predicted_clv' ? `predicted CLV, next ${formatStatistic(s.models.horizon)} ${unitName(s.models.time_unit, s.models.horizon)}` : 'historical CLV (models not trusted)') +
        (t.predicted_clv_p05 != null && t.predicted_clv_p95 != null
          ? `; 90% interval ${num('kpi-equity-p05', t.predicted_clv_p05, formatMoneyShort(t.predicted_clv_p05))} – ${num('kpi-equity-p95', t.predicted_clv_p95, formatMoneyShort(t.predicted_clv_p95))} (parameter uncertainty only)`
          : ''),
    ),
    card('Average CLV', num('kpi-average-clv', averageClv(s), formatMoney(averageClv(s))), 'equity per customer'),
    card('Revenue to date', num('kpi-revenue', t.revenue, formatMoneyShort(t.revenue)), `${esc(formatCount(s.counts.accepted_orders))} orders`),
    card('Top 20% hold', num('kpi-top20-equity', equity.top20_share, formatPercent(equity.top20_share)), 'of customer equity'),
    card(
      alive === null ? 'Gini of equity' : 'Likely active',
      alive === null ? num('kpi-gini-equity', equity.gini, formatIndex(equity.gini)) : num('kpi-probability-alive', alive, formatPercent(alive)),
      alive === null ? '0 = equal, 1 = one customer holds all' : 'mean P(alive) across customers',
    ),
  ];
  return `<section class="overview" id="overview" aria-label="Key figures"><div class="kpis">${cards.join('')}</div></section>`;
};

/** A segment's name with its recommended actions beneath, for the first column of a segment table. */
const segmentCell = (name: string, actions: readonly string[]): string => `<div class="segment-name">${esc(name)}</div>${actionList(actions)}`;

const tiersSection = async (s: Summary): Promise<string> => {
  const rows = s.segments.clv_tiers;
  const svg = await renderSvg(shareBarsChart(rows.map((r) => ({ label: TIER_LABEL[r.segment] ?? r.segment, customerShare: r.share, equityShare: r.equity_share })), 'vertical', { width: 360 }));
  const body = table(
    ['Tier and recommended actions', { text: 'Customers', num: true }, { text: 'Equity', num: true }, { text: 'Average CLV', num: true }],
    rows.map(
      (r) =>
        `<tr>${td(segmentCell(TIER_LABEL[r.segment] ?? r.segment, r.actions))}${td(
          `${num(`tier-${r.segment}-customers`, r.customers, formatCount(r.customers))}<br><span class="tag">${esc(formatPercent(r.share))}</span>`,
          true,
        )}${td(`${num(`tier-${r.segment}-equity`, r.equity, formatMoney(r.equity))}<br><span class="tag">${num(`tier-${r.segment}-equity-share`, r.equity_share, formatPercent(r.equity_share))}</span>`, true)}${td(
          num(`tier-${r.segment}-average-clv`, r.average_clv, formatMoney(r.average_clv)),
          true,
        )}</tr>`,
    ),
  );
  const high = rows.find((r) => r.segment === 'high');
  const caption = high
    ? `Customers ranked by lifetime value. The high tier is ${formatPercent(high.share, 0)} of customers and holds ${formatPercent(high.equity_share, 0)} of customer equity (the sum of ${equityMeaning(s)}).`
    : `Customers ranked by lifetime value (${equityMeaning(s)}).`;
  return section(
    'tiers',
    'CLV tiers: where the value sits',
    caption,
    `<div class="grid-2 chart-narrow">${figure('chart-tiers', svg, 'Light bars: share of customers. Dark bars: share of customer equity.')}<div>${body}</div></div>${await tierMovements(s)}`,
  );
};

/**
 * What high loyalty meant tonight (domain/segments/value-loyalty.ts): P(alive) from the transaction
 * model that predicts when its fit was trusted, else the RFM recency score.
 */
/** The value x loyalty settings the run cut its cells with (run.settings.segments), the defaults for a summary written before 2.7.0. */
const valueLoyaltySettings = (s: Summary) =>
  s.run.settings.segments?.value_loyalty ?? { high_value_share: 0.5, min_probability_alive: 0.5, min_repeat_purchases: 1, fallback_min_recency_score: 3 };

const highValueMeaning = (s: Summary): string => {
  const share = valueLoyaltySettings(s).high_value_share;
  return share === 0.5 ? 'the top half of customers' : `the top ${formatPercent(share, 0)} of customers`;
};

/** Fewest customers of a channel the channels' headline may single out: as the warnings judge channels (segments.warnings.minCustomers' default). */
const STORY_MIN_CUSTOMERS = DEFAULT_SEGMENT_SETTINGS.warnings.minCustomers;

const loyaltyMeaning = (s: Summary): string => {
  const fit = s.models.transactions === 'pnbd' ? s.models.pareto_nbd : s.models.bgnbd;
  const v = valueLoyaltySettings(s);
  const repeats = v.min_repeat_purchases === 1 ? 'a repeat buyer' : `a buyer of at least ${formatCount(v.min_repeat_purchases)} repeat purchases`;
  return fit?.convergence.converged === true
    ? v.min_probability_alive === 0.5
      ? `${repeats} the model still considers active`
      : `${repeats} the model gives a probability of still being active of at least ${formatPercent(v.min_probability_alive, 0)}`
    : `${repeats} who is recent by RFM recency score (at least ${v.fallback_min_recency_score} of 5): the model could not be trusted to say who is still active`;
};

const valueLoyaltySection = async (s: Summary): Promise<string> => {
  const rows = s.segments.value_loyalty;
  const cells = rows.map((r) => {
    const meta = VALUE_LOYALTY[r.segment]!;
    return { row: r, meta };
  });
  const svg = await renderSvg(
    valueLoyaltyChart(
      cells.map(({ row, meta }) => ({
        value: meta.value,
        loyalty: meta.loyalty,
        title: meta.nickname,
        customers: row.customers,
        share: row.share,
        equity: row.equity,
        equityShare: row.equity_share,
      })),
    ),
  );
  const order = ['high_value_low_loyalty', 'high_value_high_loyalty', 'low_value_low_loyalty', 'low_value_high_loyalty'];
  const quad = order
    .map((code) => cells.find((c) => c.row.segment === code))
    .filter((c): c is (typeof cells)[number] => c !== undefined)
    .map(
      ({ row, meta }) =>
        `<div class="cell" data-testid="value-loyalty-cell"${attr('data-segment', row.segment)}><h3>${esc(meta.title)}</h3><div class="figures">${num(`vl-${row.segment}-customers`, row.customers, formatCount(row.customers))} ${row.customers === 1 ? 'customer' : 'customers'} · equity ${num(
          `vl-${row.segment}-equity`,
          row.equity,
          formatMoney(row.equity),
        )} (${esc(formatPercent(row.equity_share))}) · average ${esc(formatMoney(row.average_clv))}</div>${actionList(row.actions)}</div>`,
    )
    .join('');
  return section(
    'value-loyalty',
    'Value × loyalty: who to protect, retain, grow or serve cheaply',
    `High value means ${highValueMeaning(s)} by lifetime value; high loyalty means ${loyaltyMeaning(s)}. Each cell comes with what to do about it; darker cells hold more of the equity.`,
    `<div class="grid-2">${figure('chart-value-loyalty', svg)}<div class="quad">${quad}</div></div>`,
  );
};

const rfmSection = async (s: Summary): Promise<string> => {
  const rows = s.segments.rfm;
  const svg = await renderSvg(shareBarsChart(rows.map((r) => ({ label: r.segment, customerShare: r.share, equityShare: r.equity_share })), 'horizontal', { width: 330 }));
  const body = table(
    ['Segment and recommended actions', { text: 'Customers', num: true }, { text: 'Equity', num: true }, { text: 'Avg CLV', num: true }],
    rows.map((r) => {
      const id = slug(r.segment);
      return `<tr${attr('data-segment', r.segment)}>${td(segmentCell(r.segment, r.actions))}${td(num(`rfm-${id}-customers`, r.customers, formatCount(r.customers)), true)}${td(
        `${num(`rfm-${id}-equity`, r.equity, formatMoney(r.equity))}<br><span class="tag">${esc(formatPercent(r.equity_share))}</span>`,
        true,
      )}${td(esc(formatMoney(r.average_clv)), true)}</tr>`;
    }),
  );
  return section(
    'rfm',
    'RFM segments',
    'Customers scored 1 to 5 on recency (how recently they bought), frequency (how often) and monetary value (how much), and named by the classic RFM grid. The chart compares each segment’s share of customers with its share of equity.',
    `<div class="grid-2">${figure('chart-rfm', svg, 'Light bars: share of customers. Dark bars: share of customer equity.')}<div>${body}</div></div>`,
  );
};

const channelsSection = async (s: Summary): Promise<string> => {
  const rows = s.channels;
  if (rows.length === 0) return section('channels', 'Acquisition channels', '', missing('channels-missing', 'No customers, so no channels to compare.'));
  const overall = averageClv(s);
  const svg = await renderSvg(
    channelChart(
      rows.map((r) => ({ channel: r.channel, customers: r.customers, averageClv: r.average_clv, equity: r.equity, belowAverage: r.below_average })),
      overall,
    ),
  );
  const changes = new Map(s.changes.channels.map((c) => [c.channel, c]));
  const hasChanges = s.changes.previous_run_date !== null;
  const body = table(
    [
      'Channel',
      { text: 'Customers', num: true },
      { text: 'Equity', num: true },
      { text: 'Average CLV', num: true },
      { text: 'Repeat rate', num: true },
      ...(hasChanges ? [{ text: 'Avg CLV change', num: true }] : []),
    ],
    rows.map((r, i) => {
      const change = changes.get(r.channel);
      return `<tr${attr('data-channel', r.channel)}>${td(
        `<strong${attr('data-testid', `channel-${i}-name`)}>${esc(r.channel)}</strong>${r.below_average ? ' <span class="tag bad">below average</span>' : ''}`,
      )}${td(num(`channel-${i}-customers`, r.customers, formatCount(r.customers)), true)}${td(
        `${num(`channel-${i}-equity`, r.equity, formatMoney(r.equity))}<br><span class="tag">${esc(formatPercent(r.equity_share))}</span>`,
        true,
      )}${td(num(`channel-${i}-average-clv`, r.average_clv, formatMoney(r.average_clv)), true)}${td(esc(formatPercent(r.repeat_rate, 0)), true)}${
        hasChanges
          ? td(
              change === undefined
                ? 'new'
                : clvComparable(s)
                  ? `<span class="${(change.average_clv.relative_change ?? 0) < 0 ? 'down' : 'up'}">${esc(formatSignedPercent(change.average_clv.relative_change))}</span>`
                  : NOT_COMPARABLE,
              true,
            )
          : ''
      }</tr>`;
    }),
  );
  // a channel of a handful of customers has its average by chance
  const sizeable = rows.filter((r) => r.customers >= STORY_MIN_CUSTOMERS);
  const best = [...(sizeable.length > 0 ? sizeable : rows)].sort((a, b) => b.average_clv - a.average_clv)[0]!;
  const biggest = [...rows].sort((a, b) => b.customers - a.customers)[0]!;
  const story =
    best.channel !== biggest.channel
      ? ` “${best.channel}” brings fewer but better customers (average CLV ${formatMoney(best.average_clv)}), while “${biggest.channel}” brings the most customers (average CLV ${formatMoney(biggest.average_clv)}).`
      : ` “${best.channel}” brings both the most and the most valuable customers.`;
  return section(
    'channels',
    'Acquisition channels: fewer but better customers',
    `How many customers each channel brought in (across) against how much each of them is worth (up); bubbles are sized by the channel’s total equity. Channels under the dashed line bring customers worth less than average.${story}`,
    `<div class="grid-2">${figure('chart-channels', svg, 'Bubble size: the channel’s customer equity. Red: average CLV below the average over all customers.')}<div>${body}</div></div>`,
  );
};

const cohortsSection = async (s: Summary): Promise<string> => {
  const rows = s.cohorts;
  if (rows.length === 0) return section('cohorts', 'Acquisition cohorts', '', missing('cohorts-missing', 'No customers, so no cohorts.'));
  const hasAlive = rows.every((r) => r.mean_probability_alive !== null);
  const measures: { name: string; value: (r: (typeof rows)[number]) => number; label: (v: number) => string }[] = [
    { name: 'Customers', value: (r) => r.customers, label: formatCount },
    { name: 'Repeat rate', value: (r) => r.repeat_rate, label: (v) => formatPercent(v, 0) },
    ...(hasAlive ? [{ name: 'Mean P(alive)', value: (r: (typeof rows)[number]) => r.mean_probability_alive ?? 0, label: (v: number) => formatPercent(v, 0) }] : []),
    { name: 'Average CLV', value: (r) => r.average_clv, label: formatMoney },
    { name: 'Share of equity', value: (r) => r.equity_share, label: (v) => formatPercent(v, 1) },
  ];
  const cells: HeatCell[] = [];
  for (const m of measures) {
    const values = rows.map(m.value);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    rows.forEach((r, i) => cells.push({ row: r.cohort, column: m.name, intensity: hi > lo ? (values[i]! - lo) / (hi - lo) : 0.5, label: m.label(values[i]!) }));
  }
  const svg = await renderSvg(heatTableChart(cells, rows.map((r) => r.cohort), measures.map((m) => m.name), { rowTitle: 'Month of first purchase', columnWidth: 150 }));
  const newest = rows[rows.length - 1]!;
  const oldest = rows[0]!;
  return section(
    'cohorts',
    'Acquisition cohorts',
    `Customers grouped by the month of their first purchase, from ${oldest.cohort} to ${newest.cohort}. Each column is shaded from its lowest value (light) to its highest (dark), so a dark run down a column shows which months brought the most customers, repeat buyers or value. Older cohorts have had longer to buy again.`,
    `${figure('chart-cohorts', svg)}<p class="analyst">Rows: ${num('cohort-count', rows.length, formatCount(rows.length))} cohorts; customers per cohort sum to ${esc(formatCount(rows.reduce((a, r) => a + r.customers, 0)))}.</p>`,
  );
};

const concentrationSection = async (s: Summary): Promise<string> => {
  const { revenue, equity } = s.concentration;
  const svg = await renderSvg(
    lorenzChart([
      { name: 'Revenue to date', points: revenue.lorenz },
      { name: 'Customer equity (CLV)', points: equity.lorenz },
    ]),
  );
  const stat = (label: string, html: string): string => `<div class="stat"><div class="label">${esc(label)}</div><div class="value">${html}</div></div>`;
  const stats = `<div class="stats">${stat('Top 20% share of equity', num('top20-equity', equity.top20_share, formatPercent(equity.top20_share)))}${stat(
    'Top 20% share of revenue',
    num('top20-revenue', revenue.top20_share, formatPercent(revenue.top20_share)),
  )}${stat('Gini of equity', num('gini-equity', equity.gini, formatIndex(equity.gini)))}${stat('Gini of revenue', num('gini-revenue', revenue.gini, formatIndex(revenue.gini)))}</div>`;
  return section(
    'concentration',
    'Concentration: how much depends on a few customers',
    `The curve shows what share of the total the lowest-value customers hold as more of them are counted. The further it bows below the dashed diagonal (everyone equal), the more the business depends on a few customers. The top 20% of customers by lifetime value hold ${formatPercent(equity.top20_share, 0)} of customer equity; the top 20% by revenue have brought ${formatPercent(revenue.top20_share, 0)} of revenue so far.`,
    `<div class="grid-2">${figure('chart-lorenz', svg)}<div>${stats}<p class="analyst">The Gini coefficient summarises the curve: 0 when every customer holds the same, towards 1 when one customer holds everything. Equity is measured on ${esc(equityMeaning(s))}; revenue on total revenue to date.</p></div></div>`,
  );
};

const modelFitSection = async (s: Summary): Promise<string> => {
  const m = s.models;
  const unit = m.time_unit;
  const parts: string[] = [];
  // the transaction model whose predictions the customers carry: the diagnostics below are its own
  const pareto = m.transactions === 'pnbd';
  const modelName = pareto ? 'Pareto/NBD' : 'BG/NBD';
  if (!m.trusted) {
    const transactionsConvergence = pareto ? (m.pareto_nbd?.convergence ?? m.bgnbd.convergence) : m.bgnbd.convergence;
    // the fits that failed, each with why: a converged one is no reason
    const why = [
      ...(transactionsConvergence.converged ? [] : [`${modelName}: ${transactionsConvergence.message}`]),
      ...(m.gamma_gamma.convergence.converged ? [] : [`Gamma-Gamma: ${m.gamma_gamma.convergence.message}`]),
    ];
    parts.push(
      `<p class="note" data-testid="models-untrusted">The predictive models could not be trusted on this data, so tiers and equity rank on historical CLV.${why.length === 0 ? '' : ` ${esc(why.join('; '))}.`}</p>`,
    );
  }

  const d = s.diagnostics;
  if (d === undefined) {
    parts.push(missing('diagnostics-missing', 'Fit diagnostics (the repeat-purchase histogram and P(alive) by frequency and recency) are not in this summary.'));
  } else {
    const categories = d.frequency_histogram.map((h) => h.frequency);
    const frequencySvg = await renderSvg(
      pairedBarsChart(
        d.frequency_histogram.flatMap((h) => [
          { category: h.frequency, series: 'Actual customers', value: h.actual_customers },
          { category: h.frequency, series: 'Expected by the model', value: h.expected_customers },
        ]),
        { categories, series: ['Actual customers', 'Expected by the model'], xTitle: 'Repeat purchases', yTitle: 'Customers', format: ',d' },
      ),
    );
    const buckets = [...new Map(d.probability_alive_grid.map((c) => [c.since_last_purchase, c.since_last_purchase_from])).entries()].sort((a, b) => a[1] - b[1]).map(([label]) => label);
    const aliveSvg =
      d.probability_alive_grid.length > 0
        ? await renderSvg(
            probabilityAliveChart(
              d.probability_alive_grid.map((c) => ({ frequency: c.frequency, since: c.since_last_purchase, probability: c.probability_alive, customers: c.customers })),
              categories,
              buckets,
              `${unit === 'week' ? 'Weeks' : 'Days'} since the last purchase`,
            ),
          )
        : '';
    const histogramRows = d.frequency_histogram.map(
      (h) =>
        `<tr>${td(esc(h.frequency))}${td(num(`frequency-${slug(h.frequency)}-actual`, h.actual_customers, formatCount(h.actual_customers)), true)}${td(
          num(`frequency-${slug(h.frequency)}-expected`, h.expected_customers, h.expected_customers.toFixed(1)),
          true,
        )}</tr>`,
    );
    parts.push(
      `<div class="grid-2"><div><h3>Repeat purchases: actual against expected</h3>${figure(
        'chart-frequency',
        frequencySvg,
        'Bars of similar height mean the model reproduces how often customers buy again.',
      )}</div><div><h3>How likely customers are still active</h3>${
        aliveSvg
          ? figure(
              'chart-probability-alive',
              aliveSvg,
              `Mean P(alive) by repeat purchases and ${unit === 'week' ? 'weeks' : 'days'} since the last one; n is the number of customers. A frequent buyer who has gone quiet is more likely lost than an occasional one. ${
                pareto
                  ? 'Customers who never bought again grow less likely active as time passes: the Pareto/NBD lets customers drop out at any time.'
                  : 'Customers who never bought again count as active: the BG/NBD lets customers drop out only right after a purchase.'
              }`,
            )
          : missing('probability-alive-missing', 'No customers to show.')
      }</div></div><details class="analyst"><summary>Histogram as a table</summary>${table(['Repeat purchases', { text: 'Actual', num: true }, { text: 'Expected', num: true }], histogramRows)}</details>`,
    );
  }

  const b = s.backtest;
  const untrustedBacktest = s.warnings.find((w) => w.code === 'backtest_not_trusted');
  if (b === undefined) {
    parts.push(
      missing(
        'backtest-missing',
        untrustedBacktest === undefined
          ? 'No backtest in this run: the model was not checked against a holdout period. Set backtest.holdoutDays in the config file to add one.'
          : `No backtest in this run: ${untrustedBacktest.message.replace(/^no backtest: /, '')}.`,
      ),
    );
  } else {
    const categories = b.by_frequency.map((f) => f.frequency);
    const points = b.by_frequency.flatMap((f) => [
      ...(f.actual_mean === null ? [] : [{ category: f.frequency, series: 'Actual', value: f.actual_mean }]),
      ...(f.expected_mean === null ? [] : [{ category: f.frequency, series: 'Expected by the model', value: f.expected_mean }]),
    ]);
    const byFrequencySvg = await renderSvg(
      pairedLinesChart(points, { categories, series: ['Actual', 'Expected by the model'], xTitle: 'Repeat purchases up to the calibration end', yTitle: 'Mean purchases per customer in the holdout' }),
    );
    const trackingSvg =
      b.tracking.length > 0
        ? await renderSvg(
            trackingChart(
              b.tracking.flatMap((t) => [
                { date: t.week_end, series: 'Actual', value: t.actual },
                { date: t.week_end, series: 'Expected by the model', value: t.expected },
              ]),
              b.calibration_end,
            ),
          )
        : '';
    const error = b.errors.total_percentage_error;
    const stat = (label: string, html: string): string => `<div class="stat"><div class="label">${esc(label)}</div><div class="value">${html}</div></div>`;
    parts.push(
      `<h3 style="margin-top:18px">Backtest: predictions against what happened next</h3><p class="caption">The BG/NBD was fitted again on the orders up to ${esc(b.calibration_end)} only, and its predictions for the ${esc(
        formatCount(b.customers),
      )} customers acquired by then were compared with what they actually bought up to ${esc(b.holdout_end)} (${esc(formatStatistic(b.holdout_length))} ${esc(unitName(b.time_unit, b.holdout_length))}).${
        pareto ? ' The backtest checks the BG/NBD, not the Pareto/NBD the predictions use: <code>model.transactions = "auto"</code> compares both on a holdout.' : ''
      }</p><div class="stats" style="grid-template-columns:repeat(4,minmax(0,1fr))">${stat(
        'Holdout purchases: actual',
        num('backtest-actual', b.totals.actual, formatCount(b.totals.actual)),
      )}${stat('Expected by the model', num('backtest-expected', b.totals.expected, formatCount(b.totals.expected)))}${stat(
        'Total error',
        error === null ? '–' : num('backtest-error', error, `${formatSigned(error, 1)}%`),
      )}${stat('Mean absolute error per customer', esc(formatStatistic(b.errors.mean_absolute_error)))}</div><div class="grid-2"><div>${figure(
        'chart-backtest',
        byFrequencySvg,
        'Customers grouped by how often they had bought again by the calibration end; lines close together mean the model ranks customers well (FHL 2005 Figure 4).',
      )}</div><div>${
        trackingSvg
          ? figure('chart-backtest-tracking', trackingSvg, 'Cumulative repeat purchases of these customers, week by week; the dashed line marks the calibration end (FHL 2005 Figure 2).')
          : ''
      }</div></div><p class="analyst">Calibration fit: r ${esc(formatStatistic(b.bgnbd.r))}, α ${esc(formatStatistic(b.bgnbd.alpha))}, a ${esc(formatStatistic(b.bgnbd.a))}, b ${esc(formatStatistic(b.bgnbd.b))}${
        b.bgnbd.converged ? '' : ' (not converged: read the comparison with care)'
      }; root mean squared error per customer ${esc(formatStatistic(b.errors.root_mean_squared_error))}.</p>`,
    );
  }

  parts.push(parametersTable(s));
  return section(
    'model-fit',
    'The model and how well it fits',
    `Predicted CLV comes from two standard models: ${modelName} for how often each customer will buy and whether they are still active, and Gamma-Gamma for how much they spend per order. Time is measured in ${unit}s.`,
    parts.join(''),
  );
};

const parametersTable = (s: Summary): string => {
  const m = s.models;
  const shifts = new Map(s.changes.parameters.map((p) => [p.parameter, p]));
  const hasShifts = s.changes.parameters.length > 0;
  // an untrusted fit has no estimates (null in the summary): never show where its optimiser stopped
  const row = (model: string, name: string, symbol: string, value: number | null, se: number | null, meaning: string): string => {
    const shift = shifts.get(name);
    if (value === null) {
      return `<tr>${td(esc(model))}${td(`<strong>${esc(symbol)}</strong>`)}${td(`<span class="tag bad" data-testid="param-${name}-not-estimated">not estimated</span>`, true)}${td('–', true)}${td('–', true)}${
        hasShifts ? td('–', true) : ''
      }${td(esc(meaning))}</tr>`;
    }
    return `<tr>${td(esc(model))}${td(`<strong>${esc(symbol)}</strong>`)}${td(num(`param-${name}`, value, formatStatistic(value)), true)}${td(
      se === null ? '–' : num(`param-${name}-se`, se, formatStatistic(se)),
      true,
    )}${td(se === null ? '–' : esc(`${formatStatistic(Math.max(0, value - 1.96 * se))} – ${formatStatistic(value + 1.96 * se)}`), true)}${
      hasShifts ? td(shift?.delta_in_standard_errors == null ? '–' : esc(`${formatSigned(shift.delta_in_standard_errors, 2)} SE`), true) : ''
    }${td(esc(meaning))}</tr>`;
  };
  const bg = m.bgnbd;
  const gg = m.gamma_gamma;
  const bgSe = bg.standard_errors;
  const ggSe = gg.standard_errors;
  const pn = m.pareto_nbd;
  const pnSe = pn?.standard_errors ?? null;
  const choice = m.choice;
  const modelName = (name: string): string => (name === 'pnbd' ? 'Pareto/NBD' : 'BG/NBD');
  const rmse = (v: number | null): string => (v === null ? 'not trusted' : formatStatistic(v));
  const choiceText =
    `<p class="analyst" data-testid="model-choice">Transaction model: <strong>${esc(modelName(m.transactions))}</strong> (asked for: ${esc(choice.requested)}). ${esc(choice.reason)}.` +
    (choice.holdout === null
      ? ''
      : ` Calibration to ${esc(choice.holdout.calibration_end)}, holdout to ${esc(choice.holdout.holdout_end)} (${esc(formatCount(choice.holdout.customers))} customers): holdout RMSE per customer BG/NBD ${num('choice-bgnbd-rmse', choice.holdout.bgnbd.root_mean_squared_error ?? 0, rmse(choice.holdout.bgnbd.root_mean_squared_error))}, Pareto/NBD ${num('choice-pnbd-rmse', choice.holdout.pnbd.root_mean_squared_error ?? 0, rmse(choice.holdout.pnbd.root_mean_squared_error))}.`) +
    '</p>';
  const rows = [
    row('BG/NBD', 'r', 'r', bg.r, bgSe?.r ?? null, 'shape of the purchase-rate distribution'),
    row('BG/NBD', 'alpha', 'α', bg.alpha, bgSe?.alpha ?? null, `scale of the purchase rate (${m.time_unit}s)`),
    row('BG/NBD', 'a', 'a', bg.a, bgSe?.a ?? null, 'dropout probability: beta shape a'),
    row('BG/NBD', 'b', 'b', bg.b, bgSe?.b ?? null, 'dropout probability: beta shape b'),
    ...(pn === undefined
      ? []
      : [
          row('Pareto/NBD', 'pnbd-r', 'r', pn.r, pnSe?.r ?? null, 'shape of the purchase-rate distribution'),
          row('Pareto/NBD', 'pnbd-alpha', 'α', pn.alpha, pnSe?.alpha ?? null, `scale of the purchase rate (${m.time_unit}s)`),
          row('Pareto/NBD', 'pnbd-s', 's', pn.s, pnSe?.s ?? null, 'shape of the dropout-rate distribution'),
          row('Pareto/NBD', 'pnbd-beta', 'β', pn.beta, pnSe?.beta ?? null, `scale of the dropout rate (${m.time_unit}s)`),
        ]),
    row('Gamma-Gamma', 'p', 'p', gg.p, ggSe?.p ?? null, 'shape of spend per order'),
    row('Gamma-Gamma', 'q', 'q', gg.q, ggSe?.q ?? null, 'shape of customers’ average spend'),
    row('Gamma-Gamma', 'gamma', 'γ', gg.gamma, ggSe?.gamma ?? null, 'scale of customers’ average spend'),
  ];
  const status = (c: { converged: boolean; message: string; iterations: number }): string =>
    `<span class="tag ${c.converged ? 'good' : 'bad'}">${c.converged ? 'converged' : 'not trusted'}</span> ${esc(c.message)}, ${esc(formatCount(c.iterations))} iterations`;
  const logLikelihood = (id: string, value: number | null): string => (value === null ? 'not computed (the fit is not trusted)' : num(id, value, formatLogLikelihood(value)));
  const bgLine =
    bg.r === null || bg.alpha === null || bg.a === null || bg.b === null
      ? 'No estimates: the fit is not trusted.'
      : `Mean purchase rate r/α = ${esc(formatStatistic(bg.r / bg.alpha))} per ${esc(m.time_unit)}; mean dropout probability after a purchase a/(a+b) = ${esc(formatPercent(bg.a / (bg.a + bg.b)))}.`;
  return `<h3 style="margin-top:18px">Parameters, for the analyst</h3>${table(
    ['Model', 'Parameter', { text: 'Estimate', num: true }, { text: 'Std. error', num: true }, { text: '95% interval', num: true }, ...(hasShifts ? [{ text: 'Shift vs previous', num: true }] : []), 'Meaning'],
    rows,
  )}<p class="analyst">BG/NBD: log-likelihood ${logLikelihood('bgnbd-log-likelihood', bg.log_likelihood)} on ${esc(formatCount(bg.customers))} customers; ${status(bg.convergence)}. ${bgLine}<br>Gamma-Gamma: log-likelihood ${
    gg.log_likelihood === null ? 'not computed (the fit is not trusted)' : esc(formatStatistic(gg.log_likelihood))
  } on ${esc(formatCount(gg.customers))} repeat buyers; ${status(gg.convergence)}. Mean spend per order in the population ${
    gg.population_mean_order_value !== null
      ? `pγ/(q−1) = ${num('gamma-gamma-mean-order-value', gg.population_mean_order_value, formatMoney(gg.population_mean_order_value))}`
      : gg.q === null
        ? 'is not estimated'
        : 'is unbounded (q ≤ 1)'
  }.${pn === undefined ? '' : `<br>Pareto/NBD: log-likelihood ${logLikelihood('pnbd-log-likelihood', pn.log_likelihood)}; ${status(pn.convergence)}.`} Intervals are estimate ± 1.96 standard errors (delta method), cut at 0.</p>${choiceText}`;
};

const dataQualitySection = (s: Summary): string => {
  const c = s.counts;
  const reasons = Object.entries(c.rejected_by_reason)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `<tr>${td(esc(reason.replace(/_/g, ' ')))}${td(num(`rejected-${slug(reason)}`, n, formatCount(n)), true)}</tr>`);
  const share = (n: number): string => (c.input_rows > 0 ? formatPercent(n / c.input_rows) : '–');
  const rows = [
    ['Rows read', 'counts-input-rows', c.input_rows, ''],
    ['Accepted orders', 'counts-accepted-orders', c.accepted_orders, share(c.accepted_orders)],
    ['Duplicates (same order key, counted once)', 'counts-duplicate-orders', c.duplicate_orders, share(c.duplicate_orders)],
    ['… of which conflicting (another customer, date or amount)', 'counts-conflicting-duplicates', c.conflicting_duplicates, share(c.conflicting_duplicates)],
    ['Cancelled, refunded or void', 'counts-non-purchase-orders', c.non_purchase_orders, share(c.non_purchase_orders)],
    ['Rejected rows', 'counts-rejected-rows', c.rejected_rows, share(c.rejected_rows)],
  ].map(([label, id, n, pct]) => `<tr>${td(esc(String(label)))}${td(num(String(id), Number(n), formatCount(Number(n))), true)}${td(esc(String(pct)), true)}</tr>`);
  return section(
    'data-quality',
    'Data quality',
    'Every row of the order exports is accounted for: accepted, a duplicate of an order already seen, not a purchase, or rejected with a reason. Rejected rows are kept in the rejected-rows output for inspection.',
    `<div class="grid-2"><div>${table(['Rows', { text: 'Count', num: true }, { text: 'Share', num: true }], rows)}</div><div>${
      reasons.length > 0 ? table(['Rejected because', { text: 'Rows', num: true }], reasons) : '<p class="ok">No row was rejected.</p>'
    }</div></div>${conflictingDuplicates(s)}`,
  );
};

/** A few repeated order keys whose customer, date or amount differ, beside the copy kept: reused order numbers look like this. */
const conflictingDuplicates = (s: Summary): string => {
  const examples = s.conflicting_duplicate_examples;
  if (examples.length === 0) return '';
  const copy = (c: (typeof examples)[number]['kept']): string =>
    `${esc(c.customer_id)}, ${esc(c.order_date)}, ${esc(formatMoney(c.amount))} <small>(${esc(c.source_file)}:${c.source_line})</small>`;
  const rows = examples.map((e) => `<tr>${td(esc(e.order_key === null ? e.order_id : `${e.order_id} ${e.order_key}`))}${td(copy(e.kept))}${td(copy(e.repeat))}</tr>`);
  return `<h3 style="margin-top:18px">Conflicting duplicates</h3><p>${esc(formatCount(s.counts.conflicting_duplicates))} repeated order keys carry another customer, date or amount than the copy kept (the last file, then the last line): only the kept copy counts. If sources number their orders independently, name the column that tells them apart in the config's <code>orderKey</code>.</p>${table(
    ['Order key', 'Kept', 'Not counted'],
    rows,
  )}`;
};

const footer = (s: Summary): string => {
  const r = s.run;
  const timings = Object.entries(r.timings)
    .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
    .join(', ');
  const settings = r.settings;
  const items: [string, string][] = [
    ['Run id', r.run_id],
    ['Started', `${r.started_at} (finished ${r.finished_at})`],
    ['Input', `${r.inputs.location}${r.inputs.bytes === null ? '' : `, ${formatCount(r.inputs.bytes)} bytes`}`],
    ['Output', r.output],
    ['Settings', `time unit ${settings.time_unit}, horizon ${formatStatistic(settings.horizon)}, discount rate ${formatPercent(settings.discount_rate, 0)}, margin ${formatPercent(settings.margin, 0)}, lifespan ${formatStatistic(settings.lifespan_years)} years for historical CLV; not purchases: ${settings.non_purchase_statuses.join(', ')}`],
    ['Timings', timings],
  ];
  return `<footer class="wrap"><strong>About this run</strong><dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></footer>`;
};

// ---------------------------------------------------------------------------------------------

/**
 * The report page for one run. Async because Vega renders asynchronously; deterministic for a
 * given summary. Sections whose data the summary lacks (diagnostics, backtest, a previous run)
 * say so in a short note instead.
 */
export const renderReport = async (summary: Summary): Promise<string> => {
  const s = summary;
  const body = [
    await changesSection(s),
    overviewSection(s),
    await tiersSection(s),
    moversSection(s),
    await valueLoyaltySection(s),
    await rfmSection(s),
    await channelsSection(s),
    await cohortsSection(s),
    await acquisitionSection(s),
    await channelSegmentsSection(s),
    await concentrationSection(s),
    await modelFitSection(s),
    dataQualitySection(s),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="clv-job">
<title>Customer lifetime value · ${esc(s.run.run_date)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${header(s)}
<main class="wrap">
${body}
</main>
${footer(s)}
</body>
</html>
`;
};
