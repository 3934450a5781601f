import { describe, expect, it } from 'vitest';
import { figure } from '../../lambdas/clv-job/domain/figure.js';

describe('a number as a message shows it', () => {
  it.each([
    [328 / 7, '46.86'],
    [0.98374, '0.9837'],
    [123456, '123500'],
    [20, '20'],
    [0.1 + 0.2, '0.3'],
    [-2.5e-7, '-2.5e-7'],
    [0, '0'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('%s as %s', (x, text) => {
    expect(figure(x)).toBe(text);
  });
});
