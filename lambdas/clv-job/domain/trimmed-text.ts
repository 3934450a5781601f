/**
 * What "trimmed" means for a field of an input, orders and spend alike, so that a channel spelled the
 * same in both files is the same channel: space, tab, CR, LF, no-break space and BOM at either end,
 * nothing else (an em space or an ideographic space is kept, as the orders' reader keeps it).
 */
export const TRIMMED_CHARACTERS = [' ', '\t', '\r', '\n', '\u00a0', '\ufeff'] as const;

const EDGES = new RegExp(`^[${TRIMMED_CHARACTERS.join('')}]+|[${TRIMMED_CHARACTERS.join('')}]+$`, 'g');

/** `text` without TRIMMED_CHARACTERS at either end. */
export const trimField = (text: string): string => text.replace(EDGES, '');
