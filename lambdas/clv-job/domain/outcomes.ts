/**
 * Every input row gets exactly one outcome, judged in this order (SPEC "Input contract"):
 * rejected (with one reason), duplicate of an order_id already seen, non-purchase status, accepted.
 */
export const OUTCOMES = ['accepted', 'duplicate', 'non_purchase', 'rejected'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * Reason codes of rejected rows, in the order they are checked. `malformed_row` is a record the CSV
 * reader could not split into the header's columns (too few or too many fields, a broken quote,
 * invalid UTF-8); `implausible_order_date` a date before `validation.minOrderDate`; `invalid_amount`
 * also an amount beyond `validation.maxAmount`. All but `order_date_after_as_of` are judged at ingest.
 */
export const REJECTION_REASONS = [
  'malformed_row',
  'missing_order_id',
  'missing_customer_id',
  'invalid_order_date',
  'implausible_order_date',
  'invalid_amount',
  'negative_amount',
  'order_date_after_as_of',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** The reasons judged when an export is ingested: every one but the as-of judgement of the night. */
export const INGEST_REJECTION_REASONS = REJECTION_REASONS.filter(
  (r): r is Exclude<RejectionReason, 'order_date_after_as_of'> => r !== 'order_date_after_as_of',
) as readonly Exclude<RejectionReason, 'order_date_after_as_of'>[];
