/**
 * The few HTML helpers the report needs: escaping, and number formats fixed to one locale so the
 * page reads the same wherever the job runs. Every string from the data goes through `escapeHtml`
 * (text) or `attr` (attribute values); markup is only ever built from these helpers' output.
 */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for element content and quoted attribute values: & < > " ' escaped. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** ` name="value"` with the value escaped; nothing for null or undefined. */
export const attr = (name: string, value: string | number | null | undefined): string =>
  value === null || value === undefined ? '' : ` ${name}="${escapeHtml(String(value))}"`;

/** A stable, readable id fragment from any label: "Can't Lose Them" → "cant-lose-them". */
export const slug = (label: string): string =>
  label
    .normalize('NFKD')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'x';

const LOCALE = 'en-US';
const formatters = new Map<string, Intl.NumberFormat>();
const numberFormat = (options: Intl.NumberFormatOptions): Intl.NumberFormat => {
  const key = JSON.stringify(options);
  let f = formatters.get(key);
  if (f === undefined) formatters.set(key, (f = new Intl.NumberFormat(LOCALE, options)));
  return f;
};

/** 12,345 */
export const formatCount = (n: number): string => numberFormat({ maximumFractionDigits: 0 }).format(n);
/** A count with its noun, singular for one: "1 customer", "1,024 customers". */
export const countOf = (n: number, noun: string): string => `${formatCount(n)} ${n === 1 ? noun : `${noun}s`}`;
/** 12,345.68: money in tables. */
export const formatMoney = (n: number): string => numberFormat({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
/** 12,346 for large sums, 39.41 below 1,000: money on the key-figure cards. */
export const formatMoneyShort = (n: number): string => (Math.abs(n) >= 1000 ? formatCount(n) : formatMoney(n));
/** 73.2% */
export const formatPercent = (share: number, digits = 1): string =>
  numberFormat({ style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(share);
/** +37.6% / −12.0%, or an en dash when there is nothing to compare with. */
export const formatSignedPercent = (share: number | null): string =>
  share === null ? '–' : `${share > 0 ? '+' : share < 0 ? '−' : '±'}${formatPercent(Math.abs(share))}`;
/** +1.28 / −0.41: a signed number with a real minus sign. */
export const formatSigned = (n: number, digits: number): string => `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n).toFixed(digits)}`;
/** A model parameter or statistic: four significant digits, with a real minus sign. */
export const formatStatistic = (n: number): string =>
  (n === 0 ? '0' : Math.abs(n) >= 1e5 || Math.abs(n) < 1e-3 ? n.toExponential(3) : String(Number(n.toPrecision(4)))).replace('-', '−');
/**
 * A log-likelihood: two decimals, grouped, with a real minus sign (−14,671.16). Fits are compared by
 * their differences (two models, two nights, a peer library), which four significant digits hide.
 */
export const formatLogLikelihood = (n: number): string => formatMoney(n).replace('-', '−');
/** 0.691 */
export const formatIndex = (n: number): string => n.toFixed(3);
