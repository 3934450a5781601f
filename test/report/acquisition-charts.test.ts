import { describe, expect, it } from 'vitest';
import { ltvCacChart, type LtvCacBar } from '../../lambdas/clv-job/report/acquisition-charts.js';
import { renderSvg } from '../../lambdas/clv-job/report/charts.js';

/** Three channels of a run with a spend input: one above the line of 3, one below it, one without spend (no CAC). */
const BARS: readonly LtvCacBar[] = [
  { channel: 'paid_search', ltv: 120, cac: 30, ltvToCac: 4, label: 'LTV:CAC 4.0', belowLine: false },
  { channel: 'paid_social', ltv: 50, cac: 40, ltvToCac: 1.25, label: 'LTV:CAC 1.3', belowLine: true },
  { channel: 'organic', ltv: 90, cac: null, ltvToCac: null, label: 'no CAC', belowLine: false },
];

/** The fill of each channel's bar, read from the bars' accessible labels. */
const barFills = (svg: string): Map<string, string> =>
  new Map([...svg.matchAll(/<path aria-label="[^"]*; channel: ([^;"]+);[^"]*"[^>]*aria-roledescription="bar"[^>]*fill="(#[0-9a-f]+)"/g)].map((m) => [m[1]!, m[2]!]));

/** The legend's entries in order: the label as drawn and its swatch's fill. */
const legendEntries = (svg: string): { label: string; fill: string }[] =>
  [...svg.matchAll(/role-legend-symbol[^>]*><path[^>]*fill="(#[0-9a-f]+)"[^>]*\/><\/g><g class="mark-text role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => ({
    label: m[2]!,
    fill: m[1]!,
  }));

describe('ltvCacChart', () => {
  it('draws a channel without a CAC in a colour of its own, neither above nor below the line, with a legend entry saying "no CAC"', async () => {
    const svg = await renderSvg(ltvCacChart(BARS));

    const fills = barFills(svg);
    expect(fills.get('organic')).toBeDefined();
    expect(fills.get('organic')).not.toBe(fills.get('paid_search'));
    expect(fills.get('organic')).not.toBe(fills.get('paid_social'));
    expect(legendEntries(svg)).toContainEqual({ label: 'no CAC', fill: fills.get('organic') });
  });

  it('writes every legend label whole: none is cut off with an ellipsis', async () => {
    const svg = await renderSvg(ltvCacChart(BARS));

    expect(legendEntries(svg).map((e) => e.label)).toEqual(['LTV:CAC at or above the line', 'LTV:CAC below the line', 'no CAC']);
  });

  it('lists no "no CAC" entry when every channel has a CAC', async () => {
    const svg = await renderSvg(ltvCacChart(BARS.slice(0, 2)));

    expect(legendEntries(svg).map((e) => e.label)).toEqual(['LTV:CAC at or above the line', 'LTV:CAC below the line']);
  });
});
