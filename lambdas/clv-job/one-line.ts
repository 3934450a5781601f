/**
 * A text from the data (a channel, a rejected row as read, a message quoting one) shown on one line:
 * control characters, e.g. the line break of a quoted multi-line field or an escape sequence, written
 * as escapes (`\n`, `\u001b`), so a line of output stays one line for the people and scripts reading
 * it and nothing from an export reaches a terminal raw.
 */
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
export const oneLine = (text: string): string =>
  text.replace(/[\u0000-\u001f\u007f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
