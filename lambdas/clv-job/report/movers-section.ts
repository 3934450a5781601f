/**
 * The report's movers section: customers who entered or left the high CLV tier or became At Risk
 * since the previous run (the `movers` dataset lifecycle campaigns trigger on), counted per movement,
 * with the few worth most in each. A function of the summary only.
 */
import type { Movement } from '../domain/segments/movers.js';
import { BACKFILL_NOTE_PREFIX } from '../domain/segments/changes.js';
import type { Summary } from '../schemas/summary.js';
import { attr, escapeHtml as esc, formatCount, formatMoney, formatPercent } from './html.js';
import { missing, num, previousUnreadable, section, table, td } from './page-parts.js';

const MOVEMENT_TEXT: Readonly<Record<Movement, { label: string; meaning: string }>> = {
  entered_high: { label: 'Entered the high tier', meaning: 'Now among the most valuable customers (new customers included): welcome them to the high-tier treatment.' },
  left_high: { label: 'Left the high tier', meaning: 'Were in the high tier, are not now: reach them before their value drifts further.' },
  became_at_risk: { label: 'Became At Risk', meaning: 'Newly in the RFM segment At Risk (bought often, not lately): a reactivation offer.' },
};

const TIER_TEXT: Readonly<Record<string, string>> = { high: 'High tier', mid: 'Mid tier', low: 'Low tier' };
const segmentText = (segment: string | null): string => (segment === null ? 'new customer' : (TIER_TEXT[segment] ?? segment));

export const moversSection = (s: Summary): string => {
  const title = 'Movers: who changed segment since the previous run';
  const m = s.movers;
  if (m === undefined) return section('movers', title, '', missing('movers-missing', 'This summary was written before movers were summed up in it; the movers dataset has them.'));
  if (m.previous_run_date === null) {
    const why = s.changes.previous_run_date !== null
      ? `The customers of the previous run, ${s.changes.previous_run_date}, could not be read (see the warnings), so no movers are counted tonight.`
      : previousUnreadable(s)
      ? 'No comparison: an earlier night cannot be read (see the warnings), so no movers are counted tonight.'
      : s.changes.note.startsWith(BACKFILL_NOTE_PREFIX)
        ? 'Backfill: no night before this one is published, so nobody moved.'
        : 'First run: there is no previous run, so nobody moved. Movers appear here from the next run on.';
    return section('movers', title, '', missing('movers-missing', why));
  }
  const notCounted = m.not_counted ?? [];
  const uncounted = new Set(notCounted.map((n) => n.movement));
  const counts = table(
    ['Movement', { text: 'Customers', num: true }, 'What it means'],
    m.counts.map(
      (c) =>
        `<tr${attr('data-movement', c.movement)}>${td(`<strong>${esc(MOVEMENT_TEXT[c.movement].label)}</strong>`)}${td(
          uncounted.has(c.movement) ? '<span class="muted">not counted</span>' : num(`movers-${c.movement}-customers`, c.customers, formatCount(c.customers)),
          true,
        )}${td(esc(MOVEMENT_TEXT[c.movement].meaning))}</tr>`,
    ),
  );
  // one sentence per reason: entering and leaving the high tier share theirs
  const reasons = [...new Set(notCounted.map((n) => n.reason))].map(
    (reason) => `${notCounted.filter((n) => n.reason === reason).map((n) => MOVEMENT_TEXT[n.movement].label).join(' and ')}: not counted tonight, because ${reason}.`,
  );
  const whyNotCounted = reasons.length === 0 ? '' : missing('movers-not-counted', `${reasons.join(' ')} Their dataset rows and audience files are empty; the customers did not move, a setting did.`);
  const examples =
    m.examples.length === 0
      ? missing('movers-none', uncounted.size > 0 ? `Nobody made a movement counted tonight since ${m.previous_run_date}.` : `Nobody entered or left the high tier or became At Risk since ${m.previous_run_date}.`)
      : `<h3>The customers worth most in each movement (up to ${esc(formatCount(m.examples_per_movement))})</h3>${table(
          ['Movement', 'Customer', 'Before → now', { text: 'Predicted CLV', num: true }, { text: 'P(alive)', num: true }],
          m.examples.map(
            (e) =>
              `<tr data-testid="mover-example"${attr('data-movement', e.movement)}${attr('data-customer', e.customer_id)}>${td(esc(MOVEMENT_TEXT[e.movement].label))}${td(esc(e.customer_id))}${td(
                esc(`${segmentText(e.previous_segment)} → ${segmentText(e.current_segment)}`),
              )}${td(e.predicted_clv === null ? '<span class="muted">–</span>' : esc(formatMoney(e.predicted_clv)), true)}${td(
                e.probability_alive === null ? '<span class="muted">–</span>' : esc(formatPercent(e.probability_alive)),
                true,
              )}</tr>`,
          ),
        )}`;
  return section(
    'movers',
    title,
    `Customers whose segment changed since the run of ${m.previous_run_date}, the triggers of lifecycle campaigns. Every one of them is in the movers dataset and in the audience files audiences/run_date=…/movers/<movement>.csv.`,
    `${counts}${whyNotCounted}${examples}`,
  );
};
