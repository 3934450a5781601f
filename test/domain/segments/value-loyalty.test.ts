import { describe, expect, it } from 'vitest';
import { isLoyal, VALUE_LOYALTY_CELLS, valueLoyaltyCodes } from '../../../lambdas/clv-job/domain/segments/value-loyalty.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../../lambdas/clv-job/domain/segments/settings.js';
import { orderedFromSorted, sortedAscending } from '../../support/sorted-column.js';

const SETTINGS = DEFAULT_SEGMENT_SETTINGS.valueLoyalty;

const cellsOf = (
  clv: number[],
  frequency: number[],
  probabilityAlive: number[] | null,
  recencyScore: number[] = clv.map(() => 3),
  settings = SETTINGS,
): string[] => {
  const ranking = Float64Array.from(clv);
  const codes = valueLoyaltyCodes(
    ranking,
    orderedFromSorted(sortedAscending(ranking)),
    {
      frequency: Int32Array.from(frequency),
      probabilityAlive: probabilityAlive === null ? null : Float64Array.from(probabilityAlive),
      recencyScore: Int8Array.from(recencyScore),
    },
    settings,
  );
  return Array.from(codes, (c) => VALUE_LOYALTY_CELLS[c] as string);
};

describe('value x loyalty matrix', () => {
  it('puts each customer in the cell of their value (vs the median CLV) and loyalty (repeat buyer, likely alive)', () => {
    // Act
    const cells = cellsOf([400, 300, 200, 100], [5, 0, 3, 2], [0.9, 0.9, 0.8, 0.1]);

    // Assess
    expect(cells).toEqual(['high_value_high_loyalty', 'high_value_low_loyalty', 'low_value_high_loyalty', 'low_value_low_loyalty']);
  });

  it.each([
    { customer: 'a one-time buyer, however likely alive', frequency: 0, alive: 0.99, loyal: false },
    { customer: 'a repeat buyer likely alive', frequency: 2, alive: 0.5, loyal: true },
    { customer: 'a repeat buyer probably gone', frequency: 8, alive: 0.49, loyal: false },
  ])('counts $customer as loyal: $loyal', ({ frequency, alive, loyal }) => {
    // Act
    const result = isLoyal(
      { frequency: Int32Array.of(frequency), probabilityAlive: Float64Array.of(alive), recencyScore: Int8Array.of(5) },
      0,
      SETTINGS,
    );

    // Assess
    expect(result).toBe(loyal);
  });

  it('falls back to the RFM recency score when P(alive) is unavailable (predictive fit failed)', () => {
    // Act
    const cells = cellsOf([400, 300, 200, 100], [5, 5, 5, 0], null, [3, 2, 5, 5]);

    // Assess
    expect(cells).toEqual(['high_value_high_loyalty', 'high_value_low_loyalty', 'low_value_high_loyalty', 'low_value_low_loyalty']);
  });

  it('keeps customers with equal CLV on the same side of the value split', () => {
    // Act
    const cells = cellsOf([100, 50, 50, 50, 10], [1, 1, 1, 1, 1], [0.9, 0.9, 0.9, 0.9, 0.9]);

    // Assess
    expect(cells).toEqual([
      'high_value_high_loyalty',
      'high_value_high_loyalty',
      'high_value_high_loyalty',
      'high_value_high_loyalty',
      'low_value_high_loyalty',
    ]);
  });

  it('takes its thresholds from the settings', () => {
    // Prepare
    const settings = { ...SETTINGS, highValueShare: 0.25, minProbabilityAlive: 0.95, minRepeatPurchases: 3 };

    // Act
    const cells = cellsOf([400, 300, 200, 100], [3, 3, 2, 9], [0.96, 0.9, 0.99, 0.99], undefined, settings);

    // Assess
    expect(cells).toEqual(['high_value_high_loyalty', 'low_value_low_loyalty', 'low_value_low_loyalty', 'low_value_high_loyalty']);
  });

  it('has no customers to place in an empty run', () => {
    expect(cellsOf([], [], [])).toEqual([]);
  });
});
