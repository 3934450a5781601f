/**
 * A number as a sentence shows it: four significant digits, no trailing zeros (46.857142857142854 ->
 * "46.86", 0.98374 -> "0.9837", 123456 -> "123500", 20 -> "20"); NaN and ±Infinity as JavaScript
 * writes them, so a message about a broken value still names it. For warnings and error messages,
 * never for stored figures.
 */
export const figure = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));

/** A count with its noun agreeing: `counted(1, 'customer')` -> "1 customer", `counted(0, 'repeat buyer')` -> "0 repeat buyers". */
export const counted = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`;
