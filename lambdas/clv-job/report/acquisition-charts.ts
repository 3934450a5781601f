/** The acquisition-economics charts: Vega-Lite specifications, drawn by `renderSvg` like the others. */
import type { TopLevelSpec } from 'vega-lite';
import { COLOURS } from './charts.js';

export interface LtvCacBar {
  readonly channel: string;
  readonly ltv: number;
  /** Null without spend for the channel. */
  readonly cac: number | null;
  /** Label beside the bar: "LTV:CAC 4.2" or "no spend". */
  readonly label: string;
  readonly belowLine: boolean;
}

/** LTV per acquired customer by channel (bars), CAC as a tick across each bar, and the LTV:CAC ratio written beside it. */
export const ltvCacChart = (bars: readonly LtvCacBar[]): TopLevelSpec => {
  const channels = bars.map((b) => b.channel);
  const quality = ['LTV:CAC at or above the line', 'LTV:CAC below the line'];
  // without any CAC (no spend input) every bar is "at or above": a legend would only say what is not known
  const legend = bars.some((b) => b.cac !== null) ? {} : { legend: null };
  const values = bars.map((b) => ({ ...b, quality: b.belowLine ? quality[1] : quality[0] }));
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
          color: { field: 'quality', type: 'nominal', scale: { domain: quality, range: [COLOURS.navy, COLOURS.coral] }, title: null, ...legend },
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
