/**
 * The small pieces every section of the report is built from: numbers with their exact values
 * beside them, figures, notes, sections and tables. Every text goes through `escapeHtml`.
 */
import { scopeSvgIds } from './charts.js';
import type { Summary } from '../schemas/summary.js';
import { attr, escapeHtml as esc } from './html.js';

/** A number the page shows, with the exact value beside it for tests and scrapers. */
export const num = (testId: string, value: number, text: string): string => `<span${attr('data-testid', testId)}${attr('data-value', String(value))}>${esc(text)}</span>`;

export const figure = (id: string, svg: string, caption?: string): string =>
  `<figure class="chart" id="${id}" data-testid="chart">${scopeSvgIds(svg, id)}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;

export const missing = (testId: string, text: string): string => `<p class="note"${attr('data-testid', testId)}>${esc(text)}</p>`;

export const section = (id: string, title: string, caption: string, body: string, extraClass = ''): string =>
  `<section class="section${extraClass ? ` ${extraClass}` : ''}" id="${id}" aria-labelledby="${id}-title"><h2 id="${id}-title">${esc(title)}</h2>${caption ? `<p class="caption">${esc(caption)}</p>` : ''}${body}</section>`;

export const actionList = (actions: readonly string[]): string =>
  actions.length === 0 ? '<span class="muted">–</span>' : `<ul class="actions">${actions.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>`;

export const table = (head: readonly (string | { text: string; num?: boolean })[], rows: readonly string[]): string => {
  const th = head.map((h) => (typeof h === 'string' ? `<th>${esc(h)}</th>` : `<th${h.num ? ' class="num"' : ''}>${esc(h.text)}</th>`)).join('');
  return `<div class="table-wrap"><table><thead><tr>${th}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
};

export const td = (content: string, numeric = false): string => `<td${numeric ? ' class="num"' : ''}>${content}</td>`;

/** Whether the run passed over, or could not compare with, an earlier night it could not read: then "no previous run" is not a first run. */
export const previousUnreadable = (s: Pick<Summary, 'warnings'>): boolean => s.warnings.some((w) => w.code === 'previous_run_unreadable');
