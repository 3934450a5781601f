/**
 * The report's charts: Vega-Lite specifications rendered to static SVG when the report is written
 * (Vega's headless `renderer: 'none'` view, no canvas, no DOM), so the page needs no script and no
 * network to show them. Each function takes summary rows and returns a specification; `renderSvg`
 * draws one. Labels from the data (channel names, segments) are data values, which Vega escapes
 * when it writes the SVG.
 */
import type * as Vega from 'vega';
import type { Config, TopLevelSpec, compile as Compile } from 'vega-lite';

export const COLOURS = {
  ink: '#0f172a',
  muted: '#64748b',
  grid: '#e2e8f0',
  navy: '#1f4e79',
  blue: '#3b82c4',
  sky: '#9cc3e6',
  coral: '#d9634c',
  amber: '#e0a526',
  green: '#2f855a',
} as const;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

const THEME: Config = {
  font: FONT,
  background: '#ffffff',
  padding: 8,
  view: { stroke: null },
  axis: {
    labelColor: '#475569',
    titleColor: '#334155',
    labelFontSize: 11,
    titleFontSize: 11,
    titleFontWeight: 600,
    gridColor: COLOURS.grid,
    domainColor: '#cbd5e1',
    tickColor: '#cbd5e1',
    titlePadding: 8,
  },
  legend: { labelFontSize: 11, titleFontSize: 11, labelColor: '#334155', titleColor: '#334155', orient: 'top', symbolType: 'square', labelLimit: 240 },
  text: { fontSize: 11, color: COLOURS.ink },
  bar: { cornerRadiusEnd: 2 },
};

/** Swallows Vega-Lite's and Vega's notes (e.g. "dropping empty data"): the CLI's output is not theirs to print. */
type Logger = NonNullable<NonNullable<Parameters<typeof Compile>[1]>['logger']>;
const quietLogger = (): Logger => {
  let level = 0;
  const logger: Logger = {
    level(value?: number) {
      if (value === undefined) return level as never;
      level = value;
      return logger as never;
    },
    error: () => logger,
    warn: () => logger,
    info: () => logger,
    debug: () => logger,
  } as Logger;
  return logger;
};

/** Vega and Vega-Lite, loaded on first use: a CLI that prints its help should not pay ~300 ms for them. */
let libraries: Promise<{ vega: typeof Vega; compile: typeof Compile }> | undefined;
const loadLibraries = (): Promise<{ vega: typeof Vega; compile: typeof Compile }> =>
  (libraries ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, compile: vl.compile })));

/**
 * `value` with every U+2028 and U+2029 in its strings (at any depth) turned into a space. Vega-Lite
 * writes a custom sort's values into an expression as string literals, and Vega's expression parser
 * rejects those two characters there ("Unexpected token ILLEGAL"): one channel named with one would
 * fail the report, and with it the run. Data and sort values change alike, so the order holds.
 */
const separatorsAsSpaces = <T>(value: T): T => {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/[\u2028\u2029]/g, ' ');
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
};

/**
 * `spec` with every custom sort (`sort: [values…]` beside a `field`) turned into a sort by a rank
 * field added to its inline data (`{ field: rank, op: 'min' }`), values not listed ranked after
 * those listed, as Vega-Lite ranks them. Vega fails to render a custom sort holding a name of
 * Object.prototype's ("Operator not defined: undefined" for a channel named `constructor`,
 * `toString`, `valueOf` …): one such channel in an export would fail the report, and with it the
 * run. The order drawn is the same. A sort on a field not in every inline datum (made by a transform,
 * nested, or of named data) is left as it is.
 */
const customSortsAsRanks = <T>(spec: T): T => {
  const ranks = new Map<string, { readonly field: string; readonly order: ReadonlyMap<unknown, number>; readonly unlisted: number }>();
  const names = new Map<string, string>();
  const rankOf = (field: string, values: readonly unknown[]): string => {
    const key = JSON.stringify([field, values]);
    let name = names.get(key);
    if (name === undefined) {
      name = `__rank_${names.size}`;
      names.set(key, name);
      const order = new Map<unknown, number>();
      values.forEach((v, i) => order.has(v) || order.set(v, i));
      ranks.set(name, { field, order, unlisted: values.length });
    }
    return name;
  };
  // the inline data: a sort is rewritten only for a field every datum has (not one a transform makes, nor a nested one)
  const inline: unknown[][] = [];
  mapObjects(spec, (rebuilt, original) => {
    const data = original.data as { values?: unknown } | undefined;
    if (data !== null && typeof data === 'object' && Array.isArray(data.values)) inline.push(data.values);
    return rebuilt;
  });
  const inData = (field: string): boolean =>
    inline.length > 0 && inline.every((values) => values.every((datum) => datum !== null && typeof datum === 'object' && Object.hasOwn(datum, field)));
  const sorts = (rebuilt: Record<string, unknown>, original: Record<string, unknown>): Record<string, unknown> =>
    typeof original.field === 'string' && Array.isArray(original.sort) && inData(original.field)
      ? { ...rebuilt, sort: { field: rankOf(original.field, original.sort as unknown[]), op: 'min' } }
      : rebuilt;
  const withRanks = (rebuilt: Record<string, unknown>, original: Record<string, unknown>): Record<string, unknown> => {
    const data = original.data as { values?: unknown } | undefined;
    if (data === null || typeof data !== 'object' || !Array.isArray(data.values)) return rebuilt;
    const values = data.values.map((datum: Record<string, unknown>) => {
      const ranked = { ...datum };
      for (const [name, { field, order, unlisted }] of ranks) ranked[name] = order.get(datum[field]) ?? unlisted;
      return ranked;
    });
    return { ...rebuilt, data: { ...data, values } };
  };
  const sorted = mapObjects(spec, sorts);
  return (ranks.size === 0 ? sorted : mapObjects(sorted, withRanks)) as T;
};

/** `value` rebuilt with `object` applied to every object in it, innermost first: it gets the object rebuilt (its entries mapped) and as it was. */
const mapObjects = (value: unknown, object: (rebuilt: Record<string, unknown>, original: Record<string, unknown>) => Record<string, unknown>): unknown => {
  if (Array.isArray(value)) return value.map((v) => mapObjects(v, object));
  if (value === null || typeof value !== 'object') return value;
  const original = value as Record<string, unknown>;
  return object(Object.fromEntries(Object.entries(original).map(([k, v]) => [k, mapObjects(v, object)])), original);
};

/** One chart as an SVG string: compiled, parsed and rendered headlessly, with no network access. */
export const renderSvg = async (spec: TopLevelSpec): Promise<string> => {
  const { vega, compile } = await loadLibraries();
  const compiled = compile(customSortsAsRanks(separatorsAsSpaces(spec)), { config: THEME, logger: quietLogger() }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: 0 });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/**
 * Vega numbers its clip paths and gradients from a process-wide counter (`clip274`), so the same
 * chart would come out different on every render, and ids must not clash between the charts of
 * one page. Renames every id in `svg` to `<prefix>-1`, `<prefix>-2`, … in order of appearance,
 * with the `url(#…)` and `href="#…"` references that point at them.
 */
export const scopeSvgIds = (svg: string, prefix: string): string => {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) if (!ids.has(m[1]!)) ids.set(m[1]!, `${prefix}-${ids.size + 1}`);
  if (ids.size === 0) return svg;
  return svg.replace(/\bid="([^"]+)"|url\(#([^)]+)\)|href="#([^"]+)"/g, (match, id?: string, url?: string, href?: string) => {
    if (id !== undefined) return `id="${ids.get(id) ?? id}"`;
    if (url !== undefined) return `url(#${ids.get(url) ?? url})`;
    return href !== undefined ? `href="#${ids.get(href) ?? href}"` : match;
  });
};

// ---------------------------------------------------------------------------------------------
// Shares: tiers and RFM segments

export interface ShareRow {
  readonly label: string;
  readonly customerShare: number;
  readonly equityShare: number;
}

const SHARE_SERIES = ['Share of customers', 'Share of equity'];
const SHARE_COLOURS = [COLOURS.sky, COLOURS.navy];

/** Share of customers against share of equity per segment: where the value sits. */
export const shareBarsChart = (rows: readonly ShareRow[], orientation: 'vertical' | 'horizontal', size: { width: number; height?: number }): TopLevelSpec => {
  const values = rows.flatMap((r, order) => [
    { label: r.label, order, series: SHARE_SERIES[0], value: r.customerShare },
    { label: r.label, order, series: SHARE_SERIES[1], value: r.equityShare },
  ]);
  const labels = rows.map((r) => r.label);
  const category = { field: 'label', type: 'nominal' as const, sort: labels, title: null, axis: { labelAngle: 0, labelLimit: 160 } };
  const value = { field: 'value', type: 'quantitative' as const, title: null, axis: { format: '.0%', tickCount: 5 }, scale: { domain: [0, Math.max(0.05, ...values.map((v) => v.value)) * 1.12] } };
  const series = { field: 'series', type: 'nominal' as const, sort: SHARE_SERIES };
  const colour = { ...series, scale: { domain: SHARE_SERIES, range: SHARE_COLOURS }, legend: { title: null } };
  const text = { field: 'value', type: 'quantitative' as const, format: '.0%' };
  if (orientation === 'vertical') {
    return {
      width: size.width,
      height: size.height ?? 220,
      data: { values },
      encoding: { x: category, xOffset: series, y: value },
      layer: [
        { mark: { type: 'bar' }, encoding: { color: colour } },
        { mark: { type: 'text', dy: -7, fontSize: 10, color: '#334155' }, encoding: { text } },
      ],
    };
  }
  return {
    width: size.width,
    height: { step: 15 },
    data: { values },
    encoding: { y: category, yOffset: series, x: value },
    layer: [
      { mark: { type: 'bar' }, encoding: { color: colour } },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#334155' }, encoding: { text } },
    ],
  };
};

// ---------------------------------------------------------------------------------------------
// Value x loyalty

export interface ValueLoyaltyCellView {
  readonly value: 'High value' | 'Low value';
  readonly loyalty: 'High loyalty' | 'Low loyalty';
  readonly title: string;
  readonly customers: number;
  readonly share: number;
  readonly equity: number;
  readonly equityShare: number;
}

/** The 2x2: customers and equity per cell, shaded by share of equity (the largest cell darkest). */
export const valueLoyaltyChart = (cells: readonly ValueLoyaltyCellView[]): TopLevelSpec => {
  const top = Math.max(0.01, ...cells.map((c) => c.equityShare));
  const values = cells.map((c) => ({
    ...c,
    text: [c.title, `${c.customers.toLocaleString('en-US')} customers (${(c.share * 100).toFixed(1)}%)`, `${(c.equityShare * 100).toFixed(1)}% of equity`],
    intensity: c.equityShare / top,
    dark: c.equityShare / top >= 0.55,
  }));
  return {
    width: 440,
    height: 260,
    data: { values },
    encoding: {
      x: { field: 'loyalty', type: 'nominal', sort: ['Low loyalty', 'High loyalty'], title: null, axis: { orient: 'bottom', labelAngle: 0, domain: false, ticks: false, labelFontWeight: 600, labelFontSize: 12 } },
      y: { field: 'value', type: 'nominal', sort: ['High value', 'Low value'], title: null, axis: { domain: false, ticks: false, labelFontWeight: 600, labelFontSize: 12 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 3, cornerRadius: 4 },
        encoding: {
          color: { field: 'intensity', type: 'quantitative', scale: { domain: [0, 1], range: ['#eef4fb', COLOURS.navy] }, legend: null },
        },
      },
      {
        mark: { type: 'text', fontSize: 12, lineHeight: 17 },
        encoding: {
          text: { field: 'text' },
          color: { condition: { test: 'datum.dark', value: '#ffffff' }, value: COLOURS.ink },
        },
      },
    ],
  };
};

// ---------------------------------------------------------------------------------------------
// Channels

export interface ChannelPoint {
  readonly channel: string;
  readonly customers: number;
  readonly averageClv: number;
  readonly equity: number;
  readonly belowAverage: boolean;
}

/** Customers against average CLV per acquisition channel, sized by equity: "fewer but better customers". */
export const channelChart = (points: readonly ChannelPoint[], overallAverageClv: number): TopLevelSpec => {
  const quality = ['At or above average CLV', 'Below average CLV'];
  const values = points.map((p) => ({ ...p, quality: p.belowAverage ? quality[1] : quality[0] }));
  const maxY = Math.max(overallAverageClv, ...points.map((p) => p.averageClv)) * 1.15 || 1;
  const maxX = Math.max(1, ...points.map((p) => p.customers)) * 1.25;
  return {
    width: 480,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: 'circle', opacity: 0.85, stroke: '#ffffff', strokeWidth: 1 },
        encoding: {
          x: { field: 'customers', type: 'quantitative', title: 'Customers acquired', scale: { domain: [0, maxX], nice: true } },
          y: { field: 'averageClv', type: 'quantitative', title: 'Average CLV per customer', scale: { domain: [0, maxY], nice: true } },
          size: { field: 'equity', type: 'quantitative', scale: { range: [60, 1400] }, legend: null },
          color: { field: 'quality', type: 'nominal', scale: { domain: quality, range: [COLOURS.navy, COLOURS.coral] }, title: null },
        },
      },
      {
        data: { values },
        mark: { type: 'text', align: 'left', dx: 12, dy: -4, fontSize: 11, fontWeight: 600, limit: 150 },
        encoding: {
          x: { field: 'customers', type: 'quantitative' },
          y: { field: 'averageClv', type: 'quantitative' },
          text: { field: 'channel', type: 'nominal' },
        },
      },
      {
        data: { values: [{ y: overallAverageClv, label: `average CLV over all customers: ${overallAverageClv.toFixed(2)}` }] },
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 4], color: COLOURS.muted }, encoding: { y: { field: 'y', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'left', dy: -6, x: 4, fontSize: 10, color: COLOURS.muted },
            encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
};

// ---------------------------------------------------------------------------------------------
// Cohorts

export interface HeatCell {
  readonly row: string;
  readonly column: string;
  /** 0..1 within its column: what the shade shows. */
  readonly intensity: number;
  readonly label: string;
}

/** A labelled heat map, shaded per column, e.g. cohorts by month against their measures. */
export const heatTableChart = (cells: readonly HeatCell[], rows: readonly string[], columns: readonly string[], options: { rowTitle: string; columnWidth: number }): TopLevelSpec => ({
  width: { step: options.columnWidth },
  height: { step: 22 },
  data: { values: cells.map((c) => ({ ...c, dark: c.intensity >= 0.62 })) },
  encoding: {
    x: { field: 'column', type: 'nominal', sort: [...columns], title: null, axis: { orient: 'top', labelAngle: 0, domain: false, ticks: false, labelFontWeight: 600, labelLimit: 0 } },
    y: { field: 'row', type: 'nominal', sort: [...rows], title: options.rowTitle, axis: { domain: false, ticks: false } },
  },
  layer: [
    {
      mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1.5 },
      encoding: { color: { field: 'intensity', type: 'quantitative', scale: { domain: [0, 1], range: ['#f1f6fc', COLOURS.navy] }, legend: null } },
    },
    {
      mark: { type: 'text', fontSize: 10.5 },
      encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.dark', value: '#ffffff' }, value: COLOURS.ink } },
    },
  ],
});

// ---------------------------------------------------------------------------------------------
// Concentration

export interface LorenzSeries {
  readonly name: string;
  readonly points: readonly { readonly customer_share: number; readonly value_share: number }[];
}

/** Lorenz curves against the line of perfect equality, with the top-20% cut marked. */
export const lorenzChart = (series: readonly LorenzSeries[]): TopLevelSpec => {
  const names = series.map((s) => s.name);
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.customer_share, y: p.value_share })));
  const axisX = { field: 'x', type: 'quantitative' as const, title: 'Share of customers, lowest value first', axis: { format: '.0%' }, scale: { domain: [0, 1] } };
  const axisY = { field: 'y', type: 'quantitative' as const, title: 'Share of the total they hold', axis: { format: '.0%' }, scale: { domain: [0, 1] } };
  return {
    width: 400,
    height: 300,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#94a3b8', strokeWidth: 1.2 },
        encoding: { x: axisX, y: axisY },
      },
      {
        data: { values: [{ x: 0.8, label: 'top 20% →' }] },
        layer: [
          { mark: { type: 'rule', color: '#cbd5e1', strokeDash: [2, 3] }, encoding: { x: { field: 'x', type: 'quantitative' } } },
          { mark: { type: 'text', y: 10, align: 'left', dx: 4, fontSize: 10, color: COLOURS.muted }, encoding: { x: { field: 'x', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2.2, interpolate: 'linear' },
        encoding: {
          x: axisX,
          y: axisY,
          color: { field: 'series', type: 'nominal', sort: names, scale: { domain: names, range: [COLOURS.amber, COLOURS.navy] }, title: null },
        },
      },
    ],
  };
};

// ---------------------------------------------------------------------------------------------
// Model fit

export interface PairedBar {
  readonly category: string;
  readonly series: string;
  readonly value: number;
}

/** Two series side by side per category (actual against expected). */
export const pairedBarsChart = (values: readonly PairedBar[], options: { categories: readonly string[]; series: readonly [string, string]; xTitle: string; yTitle: string; format: string; width?: number }): TopLevelSpec => ({
  width: options.width ?? 440,
  height: 240,
  data: { values: [...values] },
  encoding: {
    x: { field: 'category', type: 'nominal', sort: [...options.categories], title: options.xTitle, axis: { labelAngle: 0 } },
    xOffset: { field: 'series', type: 'nominal', sort: [...options.series] },
    y: { field: 'value', type: 'quantitative', title: options.yTitle, axis: { format: options.format } },
  },
  layer: [
    {
      mark: { type: 'bar' },
      encoding: { color: { field: 'series', type: 'nominal', scale: { domain: [...options.series], range: [COLOURS.navy, COLOURS.amber] }, title: null } },
    },
  ],
});

export interface AliveCell {
  readonly frequency: string;
  readonly since: string;
  readonly probability: number;
  readonly customers: number;
}

/** Mean P(alive) by frequency and time since the last purchase, red (likely gone) to green. */
export const probabilityAliveChart = (cells: readonly AliveCell[], frequencies: readonly string[], sinceBuckets: readonly string[], sinceTitle: string): TopLevelSpec => ({
  width: { step: 58 },
  height: { step: 44 },
  data: {
    values: cells.map((c) => ({ ...c, text: [`${Math.round(c.probability * 100)}%`, `n=${Math.round(c.customers).toLocaleString('en-US')}`] })),
  },
  encoding: {
    x: { field: 'frequency', type: 'nominal', sort: [...frequencies], title: 'Repeat purchases', axis: { labelAngle: 0, domain: false, ticks: false } },
    y: { field: 'since', type: 'nominal', sort: [...sinceBuckets], title: sinceTitle, axis: { domain: false, ticks: false } },
  },
  layer: [
    {
      mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1.5 },
      encoding: {
        color: {
          field: 'probability',
          type: 'quantitative',
          title: 'P(alive)',
          scale: { domain: [0, 0.5, 1], range: ['#d9634c', '#f4e3b5', '#3f9b6e'] },
          legend: { format: '.0%', orient: 'right', gradientLength: 120 },
        },
      },
    },
    { mark: { type: 'text', fontSize: 10, lineHeight: 13, color: COLOURS.ink }, encoding: { text: { field: 'text' } } },
  ],
});

export interface LinePoint {
  readonly category: string;
  readonly series: string;
  readonly value: number;
}

/** Lines with points per category, e.g. actual against expected holdout purchases (FHL 2005 Figure 4). */
export const pairedLinesChart = (values: readonly LinePoint[], options: { categories: readonly string[]; series: readonly [string, string]; xTitle: string; yTitle: string }): TopLevelSpec => ({
  width: 440,
  height: 240,
  data: { values: [...values] },
  mark: { type: 'line', point: { filled: true, size: 45 }, strokeWidth: 2 },
  encoding: {
    x: { field: 'category', type: 'ordinal', sort: [...options.categories], title: options.xTitle, axis: { labelAngle: 0 } },
    y: { field: 'value', type: 'quantitative', title: options.yTitle },
    color: { field: 'series', type: 'nominal', scale: { domain: [...options.series], range: [COLOURS.navy, COLOURS.amber] }, title: null },
    strokeDash: { field: 'series', type: 'nominal', scale: { domain: [...options.series], range: [[1, 0], [5, 3]] }, title: null },
  },
});

/** Cumulative actual against expected over calendar weeks, with the calibration end marked (FHL 2005 Figure 2). */
export const trackingChart = (values: readonly { date: string; series: string; value: number }[], calibrationEnd: string): TopLevelSpec => {
  const series = ['Actual', 'Expected by the model'];
  return {
    width: 440,
    height: 240,
    layer: [
      {
        data: { values: [...values] },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'date', type: 'temporal', title: null, scale: { type: 'utc' }, axis: { format: '%b %Y', formatType: 'utc', labelAngle: 0, tickCount: 6 } },
          y: { field: 'value', type: 'quantitative', title: 'Cumulative repeat purchases' },
          color: { field: 'series', type: 'nominal', scale: { domain: series, range: [COLOURS.navy, COLOURS.amber] }, title: null },
          strokeDash: { field: 'series', type: 'nominal', scale: { domain: series, range: [[1, 0], [5, 3]] }, title: null },
        },
      },
      {
        data: { values: [{ date: calibrationEnd, label: 'calibration end' }] },
        layer: [
          { mark: { type: 'rule', strokeDash: [3, 3], color: COLOURS.muted }, encoding: { x: { field: 'date', type: 'temporal', scale: { type: 'utc' } } } },
          { mark: { type: 'text', y: 8, align: 'right', dx: -4, fontSize: 10, color: COLOURS.muted }, encoding: { x: { field: 'date', type: 'temporal', scale: { type: 'utc' } }, text: { field: 'label' } } },
        ],
      },
    ],
  };
};

/** Counts in a from x to grid (tier migration), shaded by count. */
export const migrationChart = (cells: readonly { from: string; to: string; customers: number }[], from: readonly string[], to: readonly string[]): TopLevelSpec => {
  const max = Math.max(1, ...cells.map((c) => c.customers));
  return {
    width: { step: 70 },
    height: { step: 34 },
    data: { values: cells.map((c) => ({ ...c, intensity: c.customers / max, dark: c.customers / max >= 0.55 })) },
    encoding: {
      x: { field: 'to', type: 'nominal', sort: [...to], title: 'Tier this run', axis: { orient: 'top', labelAngle: 0, domain: false, ticks: false } },
      y: { field: 'from', type: 'nominal', sort: [...from], title: 'Tier in the previous run', axis: { domain: false, ticks: false } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1.5 },
        encoding: { color: { field: 'intensity', type: 'quantitative', scale: { domain: [0, 1], range: ['#f1f6fc', COLOURS.navy] }, legend: null } },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: { text: { field: 'customers', type: 'quantitative', format: ',d' }, color: { condition: { test: 'datum.dark', value: '#ffffff' }, value: COLOURS.ink } },
      },
    ],
  };
};
