import { REJECTION_REASONS, type RejectionReason } from '../domain/outcomes.js';
import { AccountingError } from '../errors.js';
import type { CountsSection } from '../schemas/summary-run.js';
import type { OutcomeCountRow } from './engine-results.js';

/**
 * Folds the engine's outcome counts into the summary's `counts` and checks the identity
 * `input_rows = accepted + duplicate + non_purchase + rejected` against the row count taken
 * straight off the input. Conflicting duplicates are counted apart, as part of the duplicates. A mismatch means a row was lost or counted twice: the run fails
 * rather than publish numbers nobody can reconcile. The customers are not counted here: the query stage
 * asks the engine for them last (their relation is the costliest), after deciding from these counts
 * whether to ask for the conflicting duplicates' examples.
 *
 * @returns the summary's `counts` but `customers`, which the caller adds
 * @throws AccountingError when the identity fails, or an outcome row is inconsistent (a rejected row
 *   without reason, a reason or a conflicting flag on a row of another outcome)
 */
export const accountFor = (inputRows: number, outcomes: readonly OutcomeCountRow[]): Omit<CountsSection, 'customers'> => {
  const rejectedByReason = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>;
  const totals = { accepted: 0, duplicate: 0, non_purchase: 0, rejected: 0 };
  let conflicting = 0;
  for (const row of outcomes) {
    totals[row.outcome] += row.row_count;
    if (row.conflicting > 0 && row.outcome !== 'duplicate') throw new AccountingError(`a row with outcome ${row.outcome} is flagged as a conflicting duplicate`);
    conflicting += row.conflicting;
    if (row.outcome === 'rejected') {
      if (row.reason === null) throw new AccountingError('a rejected row has no reason');
      rejectedByReason[row.reason] += row.row_count;
    } else if (row.reason !== null) {
      throw new AccountingError(`a row with outcome ${row.outcome} carries rejection reason ${row.reason}`);
    }
  }
  const judged = totals.accepted + totals.duplicate + totals.non_purchase + totals.rejected;
  if (judged !== inputRows) {
    throw new AccountingError(
      `row accounting does not add up: ${inputRows} input rows, but ${totals.accepted} accepted + ${totals.duplicate} duplicate + ` +
        `${totals.non_purchase} non-purchase + ${totals.rejected} rejected = ${judged}`,
    );
  }
  return {
    input_rows: inputRows,
    accepted_orders: totals.accepted,
    duplicate_orders: totals.duplicate,
    non_purchase_orders: totals.non_purchase,
    rejected_rows: totals.rejected,
    rejected_by_reason: rejectedByReason,
    conflicting_duplicates: conflicting,
  };
};

/**
 * The rows dated after the as-of date, whatever their outcome: those rejected as
 * `order_date_after_as_of`, and those rejected for another reason (a negative amount, a missing
 * customer) whose order date is a valid date after it. With an as-of date given they lie outside the
 * night's window, and the rejected-share gate counts them on neither side (domain/quality-gates.ts).
 * @throws AccountingError when a row judged valid (accepted, duplicate, non-purchase) is dated after
 *   the as-of date, or an `order_date_after_as_of` row is not
 */
export const rowsDatedAfterAsOf = (outcomes: readonly OutcomeCountRow[]): number => {
  let rows = 0;
  for (const row of outcomes) {
    if (row.dated_after_as_of > row.row_count) throw new AccountingError(`${row.dated_after_as_of} of ${row.row_count} rows are counted as dated after the as-of date`);
    if (row.outcome !== 'rejected' && row.dated_after_as_of > 0) throw new AccountingError(`${row.dated_after_as_of} ${row.outcome} rows are dated after the as-of date`);
    if (row.reason === 'order_date_after_as_of' && row.dated_after_as_of !== row.row_count) {
      throw new AccountingError(`${row.row_count - row.dated_after_as_of} order_date_after_as_of rows are not dated after the as-of date`);
    }
    rows += row.dated_after_as_of;
  }
  return rows;
};

/**
 * Rows dated after the latest date a run may be as of (config.ts latestAsOf: today in UTC, plus a
 * day): dated in the future, whatever their outcome. With the as-of date defaulted to the latest
 * purchase day, the rows dated after it but not in the future (a cancellation after the last
 * purchase, a copy of a re-sent order that is not kept) are outside the window, not defects.
 * @throws AccountingError when more rows are in the future than after the as-of date (which is never after that latest date)
 */
export const rowsDatedInFuture = (outcomes: readonly OutcomeCountRow[]): number => {
  let rows = 0;
  for (const row of outcomes) {
    if (row.dated_in_future > row.dated_after_as_of) throw new AccountingError(`${row.dated_in_future} ${row.outcome} rows are counted as dated in the future, of ${row.dated_after_as_of} after the as-of date`);
    rows += row.dated_in_future;
  }
  return rows;
};
