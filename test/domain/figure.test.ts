import { describe, expect, it } from 'vitest';
import { figure, money } from '../../lambdas/clv-job/domain/figure.js';

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

describe('an amount of money as a message shows it: as the report does, never rounded to look exact', () => {
  it.each([
    [74554.781, '74,554.78'],
    [12345678, '12,345,678.00'],
    [189.775, '189.78'],
    [999.999, '1,000.00'],
    [0.5, '0.50'],
    [-1234.5, '-1,234.50'],
    [-0.001, '0.00'],
    [Number.NaN, 'NaN'],
  ])('%s as %s', (x, text) => {
    expect(money(x)).toBe(text);
  });
});
