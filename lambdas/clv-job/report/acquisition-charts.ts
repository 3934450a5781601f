/** The acquisition-economics charts: Vega-Lite specifications, drawn by `renderSvg` like the others. */
import type { TopLevelSpec } from 'vega-lite';
import { COLOURS } from './charts.js';

export interface LtvCacBar {
  readonly channel: string;
  readonly ltv: number;
  /** Null without spend for the channel. */
  readonly cac: number | null;
  /** ltv / cac; null without a CAC to divide by (no spend row, spend 0, or no spend input at all). */
  readonly ltvToCac: number | null;
  /** Label beside the bar: "LTV:CAC 4.2" or "no CAC". */
  readonly label: string;
  readonly belowLine: boolean;
}

const ABOVE = 'LTV:CAC at or above the line';
const BELOW = 'LTV:CAC below the line';
const NO_CAC = 'no CAC';

/**
 * LTV per acquired customer by channel (bars), CAC as a tick across each bar, and the LTV:CAC ratio
 * written beside it. A bar is coloured by its ratio against the line, or neutral ("no CAC") without one.
 */
export const ltvCacChart = (bars: readonly LtvCacBar[]): TopLevelSpec => {
  const channels = bars.map((b) => b.channel);
  const values = bars.map((b) => ({ ...b, quality: b.ltvToCac === null ? NO_CAC : b.belowLine ? BELOW : ABOVE }));
  const quality = [ABOVE, BELOW, ...(values.some((v) => v.quality === NO_CAC) ? [NO_CAC] : [])];
  // headless Vega has no canvas, so it sizes text at 0.8 x font size per character (8.8 px at 11 px): the
  // theme's 240 px limit cut "LTV:CAC at or above the line" (246 px); 0 is no limit, and the legend
  // spaces its entries by the same estimate, so none overlaps the next
  const legend = { title: null, labelLimit: 0 };
  // without any ratio (no spend input) the bars are values only: one colour, no legend saying what is not known
  const color = bars.some((b) => b.ltvToCac !== null)
    ? { field: 'quality', type: 'nominal' as const, scale: { domain: quality, range: [COLOURS.navy, COLOURS.coral, COLOURS.muted] }, legend }
    : { value: COLOURS.navy };
  const y = { field: 'channel', type: 'nominal' as const, sort: channels, title: null, axis: { labelLimit: 160 } };
  return {
    width: 440,
    height: { step: 30 },
    data: { values },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.7 } },
        encoding: {
          y,
          x: { field: 'ltv', type: 'quantitative', title: 'Value of an acquired customer (realised + predicted)' },
          color,
        },
      },
      {
        transform: [{ filter: 'datum.cac !== null' }],
        mark: { type: 'tick', color: COLOURS.amber, thickness: 3, size: 26 },
        encoding: { y, x: { field: 'cac', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 6, fontSize: 11, color: COLOURS.ink },
        encoding: { y, x: { field: 'ltv', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
};

export interface CohortValuePoint {
  readonly cohort: string;
  readonly channel: string;
  readonly value: number;
}

/** Realised value at a fixed age by acquisition month, one line per channel: are newer cohorts worth less? */
export const fixedAgeValueChart = (points: readonly CohortValuePoint[], channels: readonly string[], yTitle: string): TopLevelSpec => ({
  width: 560,
  height: 260,
  data: { values: [...points] },
  mark: { type: 'line', point: { filled: true, size: 30 }, strokeWidth: 1.8 },
  encoding: {
    x: { field: 'cohort', type: 'ordinal', title: 'Month of acquisition', axis: { labelAngle: -45 } },
    y: { field: 'value', type: 'quantitative', title: yTitle },
    color: { field: 'channel', type: 'nominal', sort: [...channels], title: null, legend: { orient: 'right', labelLimit: 160 } },
  },
});
