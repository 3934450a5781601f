/**
 * A number as a sentence shows it: four significant digits, no trailing zeros (46.857142857142854 ->
 * "46.86", 0.98374 -> "0.9837", 123456 -> "123500", 20 -> "20"); NaN and ±Infinity as JavaScript
 * writes them, so a message about a broken value still names it. For warnings and error messages,
 * never for stored figures.
 */
export const figure = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));

/**
 * An amount of money as a sentence shows it, exactly as the report does: two decimals, thousands
 * grouped by commas (74554.781 -> "74,554.78", -0.001 -> "0.00"). `figure` would round 74554.78 to
 * "74550", which reads as exact. NaN and ±Infinity as JavaScript writes them.
 */
export const money = (x: number): string => {
  if (!Number.isFinite(x)) return String(x);
  const [whole, cents] = Math.abs(x).toFixed(2).split('.') as [string, string];
  const sign = x < 0 && Number(Math.abs(x).toFixed(2)) > 0 ? '-' : '';
  return `${sign}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
};

/** A count with its noun agreeing: `counted(1, 'customer')` -> "1 customer", `counted(0, 'repeat buyer')` -> "0 repeat buyers". */
export const counted = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`;
