/**
 * A number as a sentence shows it: four significant digits, no trailing zeros (46.857142857142854 ->
 * "46.86", 0.98374 -> "0.9837", 123456 -> "123500", 20 -> "20"); NaN and ±Infinity as JavaScript
 * writes them, so a message about a broken value still names it. For warnings and error messages,
 * never for stored figures.
 */
export const figure = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));
