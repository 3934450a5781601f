/**
 * The one definition of the output tables' columns and types. The Parquet writer, the Glue tables
 * of the CDK stack and the tests all read it, so the files and the catalog cannot drift apart.
 */
export const COLUMN_TYPES = ['string', 'int', 'double', 'date', 'boolean'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly comment: string;
}

const column = (name: string, type: ColumnType, comment: string): ColumnSpec => ({ name, type, comment });

/** Scored customers: `customers/run_date=YYYY-MM-DD/segment=<high|mid|low>/part-*.parquet`. */
export const CUSTOMER_COLUMNS = [
  column('customer_id', 'string', 'customer identifier, trimmed'),
  column('first_order_date', 'date', 'first valid purchase day'),
  column('last_order_date', 'date', 'last valid purchase day on or before the as-of date'),
  column('acquisition_channel', 'string', 'channel of the first order (null when the export has none)'),
  column('cohort', 'string', 'acquisition month, YYYY-MM'),
  column('orders', 'int', 'accepted orders (before same-day merging)'),
  column('frequency', 'int', 'repeat purchase days: distinct purchase days minus one'),
  column('recency_days', 'int', 'days from the first to the last purchase day'),
  column('tenure_days', 'int', 'days from the first purchase day to the as-of date (T)'),
  column('total_revenue', 'double', 'sum of accepted order amounts'),
  column('monetary_value', 'double', 'mean revenue per repeat purchase day (0 when frequency is 0)'),
  column('avg_order_value', 'double', 'mean revenue per accepted order (total_revenue / orders)'),
  column('historical_clv', 'double', 'average order value x purchases per year x lifespan in years'),
  column('expected_purchases', 'double', 'conditional expected purchases over the horizon (BG/NBD or Pareto/NBD, summary models.transactions)'),
  column('probability_alive', 'double', 'probability that the customer is still active (same model)'),
  column('expected_order_value', 'double', 'Gamma-Gamma conditional expected revenue per purchase'),
  column('predicted_clv', 'double', 'margin x expected order value x discounted expected purchases'),
  column('predicted_clv_p05', 'double', '5th percentile of predicted_clv over draws of the fitted parameters (parameter uncertainty only)'),
  column('predicted_clv_p95', 'double', '95th percentile of predicted_clv over draws of the fitted parameters (parameter uncertainty only)'),
  column('expected_purchases_p05', 'double', '5th percentile of expected_purchases over the parameter draws'),
  column('expected_purchases_p95', 'double', '95th percentile of expected_purchases over the parameter draws'),
  column('probability_alive_p05', 'double', '5th percentile of probability_alive over the parameter draws'),
  column('probability_alive_p95', 'double', '95th percentile of probability_alive over the parameter draws'),
  column('clv_tier', 'string', 'high (top 20%), mid (next 50%) or low (bottom 30%) by the ranking CLV'),
  column('value_loyalty', 'string', 'cell of the value x loyalty 2x2 matrix'),
  column('rfm_r', 'int', 'recency quintile score, 5 = most recent'),
  column('rfm_f', 'int', 'frequency quintile score, 5 = most frequent'),
  column('rfm_m', 'int', 'monetary quintile score, 5 = highest spend'),
  column('rfm_score', 'string', 'the three scores as text, e.g. "545"'),
  column('rfm_segment', 'string', 'named RFM segment'),
] as const satisfies readonly ColumnSpec[];

/**
 * The customer columns that are functions of a customer's (frequency, recency, tenure, monetary
 * value) pattern alone: the models score them once per distinct pattern.
 */
export const PATTERN_SCORE_COLUMNS = [
  'expected_purchases',
  'probability_alive',
  'expected_order_value',
  'predicted_clv',
  'predicted_clv_p05',
  'predicted_clv_p95',
  'expected_purchases_p05',
  'expected_purchases_p95',
  'probability_alive_p05',
  'probability_alive_p95',
] as const satisfies readonly (typeof CUSTOMER_COLUMNS)[number]['name'][];
export type PatternScoreColumn = (typeof PATTERN_SCORE_COLUMNS)[number];

/** Rejected input rows, as read: `rejected/run_date=YYYY-MM-DD/part-*.parquet`. */
export const REJECTED_COLUMNS = [
  column('source_file', 'string', 'the input file the row came from'),
  column('source_row', 'int', 'the line the record starts on in its file (the header is line 1), as ingest counted it'),
  column('raw_line', 'string', 'the raw text of a record the CSV reader could not split into the header columns, else null'),
  column('reason', 'string', 'reason code, e.g. invalid_amount'),
  column('order_id', 'string', 'raw text as read'),
  column('customer_id', 'string', 'raw text as read'),
  column('order_date', 'string', 'raw text as read'),
  column('amount', 'string', 'raw text as read'),
  column('channel', 'string', 'raw text as read'),
  column('status', 'string', 'raw text as read'),
] as const satisfies readonly ColumnSpec[];

/**
 * A Parquet dataset with a Glue table: `<dataset>/run_date=YYYY-MM-DD/part-00000.parquet`,
 * published with the run (layout.ts `CATALOG_TABLES`; lib/catalog.ts makes its table).
 */
export interface TableSpec {
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
}

const segmentMeasures = [
  column('customers', 'int', 'customers in the segment'),
  column('share', 'double', 'share of all customers'),
  column('equity', 'double', 'customer equity: sum of the ranking CLV (predicted when the fit is trusted, historical otherwise)'),
  column('equity_share', 'double', 'share of the total equity'),
  column('average_clv', 'double', 'equity / customers; 0 for an empty segment'),
] as const;

/** The acquisition channel of a per-channel dataset. */
const acquisitionChannel = column('channel', 'string', 'acquisition channel');

/** The (scheme, segment) key of the per-segment acquisition datasets (channel_segments, churn). */
const schemeSegment = [
  column('scheme', 'string', 'the segmentation: clv_tier, value_loyalty or rfm'),
  column('segment', 'string', 'segment name'),
] as const;

/** What an acquired customer is worth (summary-acquisition.ts `valueShape`), per channel or channel x month. */
const acquiredValue = [
  column('customers_acquired', 'int', 'customers acquired'),
  column('realised_value_per_customer', 'double', 'margin x revenue to date per customer acquired; null when nobody was acquired'),
  column('predicted_clv_per_customer', 'double', 'predicted CLV over the horizon per customer acquired; null without a trusted fit or without customers'),
  column('ltv_per_customer', 'double', 'realised_value_per_customer + predicted_clv_per_customer; null without customers'),
  column('repeat_rate', 'double', 'share of the acquired customers with a repeat purchase day to date; null without customers'),
  column('value_3m', 'double', 'realised revenue per acquired customer in the first 3 calendar months (cohorts at least 3 months old); null when none is'),
  column('value_6m', 'double', 'the same over 6 months'),
  column('value_12m', 'double', 'the same over 12 months'),
  column('repeat_rate_3m', 'double', 'share with a repeat purchase day within the first 3 calendar months; null when no cohort is old enough'),
  column('spend', 'double', 'marketing spend; null without a spend row for it, and without a spend input (spend_input false)'),
  column('cac', 'double', 'spend / customers_acquired; null without spend or customers'),
  column('ltv_to_cac', 'double', 'ltv_per_customer / cac; null when cac is null or 0'),
  column('payback_months', 'int', 'calendar months until the realised value per customer reaches the CAC; null when not reached or without a CAC'),
] as const;

/**
 * Every summary table as a dataset (SPEC "Acquisition economics"): one Parquet file per run date,
 * its rows the summary's rows, field for field (a column is named as the summary's field).
 */
export const SUMMARY_TABLES = {
  segments: {
    description: 'Segment tables of the summary (CLV tiers, value x loyalty, RFM), one row per scheme and segment, empty segments included.',
    columns: [
      column('scheme', 'string', 'the segmentation: clv_tier, value_loyalty or rfm (summary segments.clv_tiers, .value_loyalty, .rfm)'),
      column('segment', 'string', 'segment name as in the summary (high, high_value_high_loyalty, Champions, ...)'),
      ...segmentMeasures,
      column('actions', 'string', 'the recommended actions of the segment, in order, joined by " | "'),
    ],
  },
  channels: {
    description: 'Customer equity by acquisition channel (summary channels), one row per channel.',
    columns: [
      column('channel', 'string', 'acquisition channel; customers without one share the configured label, "(none)" by default ("<label> (no channel)" on a night a real channel bears the label: warning channel_label_taken)'),
      ...segmentMeasures,
      column('revenue', 'double', 'revenue to date: sum of total_revenue'),
      column('repeat_rate', 'double', "share of the channel's customers with at least one repeat purchase day"),
      column('mean_probability_alive', 'double', 'mean P(alive); null when the predictive fit failed'),
      column('below_average', 'boolean', 'average CLV below the average over all customers'),
    ],
  },
  cohorts: {
    description: 'Acquisition cohorts by month (summary cohorts), one row per cohort.',
    columns: [
      column('cohort', 'string', 'acquisition month, YYYY-MM'),
      column('age_months', 'int', "whole calendar months from the cohort's month to the as-of month"),
      column('customers', 'int', 'customers acquired in the month'),
      column('share', 'double', 'share of all customers'),
      column('revenue', 'double', 'revenue to date: sum of total_revenue'),
      column('equity', 'double', 'sum of the ranking CLV'),
      column('equity_share', 'double', 'share of the total equity'),
      column('average_clv', 'double', 'equity / customers'),
      column('repeat_rate', 'double', 'share of the cohort with at least one repeat purchase day'),
      column('mean_probability_alive', 'double', 'mean P(alive); null when the predictive fit failed'),
    ],
  },
  acquisition: {
    description: 'What an acquired customer is worth per acquisition channel and, with a spend input, what it cost (summary acquisition), one row per channel.',
    columns: [
      acquisitionChannel,
      ...acquiredValue,
      column('first_cohort', 'string', "the channel's oldest acquisition month, YYYY-MM; null without customers"),
      column('last_cohort', 'string', "the channel's newest acquisition month, YYYY-MM; null without customers"),
      column('mean_age_months', 'double', 'mean age in whole calendar months of the acquired customers; null without customers'),
      column('below_ltv_to_cac_line', 'boolean', 'ltv_to_cac below the configured line (acquisition.ltvToCacLine); null without a spend input'),
      column('ltv_to_cac_falling', 'boolean', "the channel's recent cohorts return less per unit of CAC than its earlier ones; null without a spend input"),
      column('spend_input', 'boolean', 'whether the run had a spend input: without one every spend column is null (the summary leaves them out)'),
    ],
  },
  acquisition_cohorts: {
    description: 'The same per acquisition channel and acquisition month (summary acquisition_cohorts).',
    columns: [
      acquisitionChannel,
      column('cohort', 'string', 'acquisition month, YYYY-MM'),
      column('age_months', 'int', "whole calendar months from the cohort's month to the as-of month"),
      ...acquiredValue,
      column('spend_input', 'boolean', 'whether the run had a spend input: without one every spend column is null'),
    ],
  },
  channel_segments: {
    description: 'Customers and equity of each acquisition channel in each segment of each scheme, against the overall mix (summary channel_segments).',
    columns: [
      acquisitionChannel,
      ...schemeSegment,
      column('customers', 'int', "the channel's customers in the segment"),
      column('equity', 'double', 'their ranking CLV, summed'),
      column('channel_share', 'double', "share of the channel's customers in the segment"),
      column('overall_share', 'double', 'share of all customers in the segment'),
      column('representation_index', 'double', 'channel_share / overall_share (above 1 over-represented); null for a segment empty overall'),
    ],
  },
  churn: {
    description: 'Churn risk per segment of each scheme (summary churn).',
    columns: [
      ...schemeSegment,
      column('customers', 'int', 'customers in the segment'),
      column('at_risk_customers', 'int', 'customers with P(alive) below 0.5; null without a trusted fit'),
      column('at_risk_share', 'double', 'at_risk_customers / customers; null without a trusted fit'),
      column('expected_customers_lost', 'double', 'sum of 1 - P(alive) over the segment; null without a trusted fit'),
    ],
  },
  movers: {
    description: 'Customers who since the previous published run entered or left the high CLV tier or became At Risk, one row per customer and movement; empty on a first run.',
    columns: [
      column('customer_id', 'string', 'customer identifier'),
      column('movement', 'string', 'entered_high, left_high or became_at_risk'),
      column('previous_segment', 'string', "the previous run's segment (CLV tier, or RFM segment for became_at_risk); null for a customer new since then"),
      column('current_segment', 'string', "tonight's segment in the same scheme"),
      column('predicted_clv', 'double', "tonight's predicted CLV; null when the predictive fit failed"),
      column('probability_alive', 'double', "tonight's P(alive); null when the predictive fit failed"),
      column('previous_run_date', 'date', 'the run date compared with'),
    ],
  },
} as const satisfies Record<string, TableSpec>;
export type SummaryDataset = keyof typeof SUMMARY_TABLES;
/** The summary datasets, in the order they are written and catalogued. */
export const SUMMARY_DATASETS = Object.keys(SUMMARY_TABLES) as SummaryDataset[];

/** Raw input columns of the orders export, all read as strings (the Glue orders table too). */
export const ORDER_COLUMNS = ['order_id', 'customer_id', 'order_date', 'amount', 'channel', 'status'] as const;
export type OrderColumn = (typeof ORDER_COLUMNS)[number];

/** Partition keys of the customers table. */
export const CUSTOMER_PARTITIONS = { run_date: 'date', segment: ['high', 'mid', 'low'] } as const;
export const TIERS = CUSTOMER_PARTITIONS.segment;
export type Tier = (typeof TIERS)[number];

/** Column types of the canonical orders files, as Glue, Athena (Trino) and DuckDB name them. */
export type CanonicalColumnType = 'string' | 'bigint' | 'date' | 'decimal(38,6)';

/**
 * The canonical orders file ingest writes per export (`ingested/…parquet`), one row per record of
 * the export in file order; the nightly SQL reads these columns, by name, and nothing else.
 * `parse_reason` is null for a row that parsed; the typed values of such a row are trimmed and
 * checked. The raw texts are what the rejected rows show, as read (any row may be rejected at night,
 * dated after a given as-of date): the date, amount and status of every row, an id or the channel
 * where `parse_reason` is set or the text differs from its trimmed value.
 * Amounts are DECIMAL(38,6) so money sums are exact, and the same on every engine and thread count.
 */
export const CANONICAL_ORDER_COLUMNS = [
  { name: 'source_file', type: 'string', comment: 'the export the row came from (its key or path)' },
  { name: 'source_line', type: 'bigint', comment: 'the physical line the record starts on (the header is line 1)' },
  { name: 'parse_reason', type: 'string', comment: 'null when the row parsed, else its rejection reason (malformed_row, missing_order_id, ...)' },
  { name: 'order_id', type: 'string', comment: 'trimmed; null when empty' },
  { name: 'order_key_extra', type: 'string', comment: 'the configured extra order-key columns as a JSON array of trimmed texts; null without orderKey' },
  { name: 'customer_id', type: 'string', comment: 'trimmed; null when empty' },
  { name: 'order_date', type: 'date', comment: 'the purchase day as written' },
  { name: 'amount', type: 'decimal(38,6)', comment: 'order amount' },
  { name: 'channel', type: 'string', comment: 'trimmed; null when empty' },
  { name: 'status', type: 'string', comment: 'trimmed, lower case; null when empty' },
  { name: 'raw_line', type: 'string', comment: 'a malformed record as read (capped at 4 KiB), else null' },
  { name: 'raw_order_id', type: 'string', comment: 'as read, on rejected rows and where it differs from order_id' },
  { name: 'raw_customer_id', type: 'string', comment: 'as read, on rejected rows and where it differs from customer_id' },
  { name: 'raw_order_date', type: 'string', comment: 'as read' },
  { name: 'raw_amount', type: 'string', comment: 'as read' },
  { name: 'raw_channel', type: 'string', comment: 'as read, on rejected rows and where it differs from channel' },
  { name: 'raw_status', type: 'string', comment: 'as read' },
] as const satisfies readonly { name: string; type: CanonicalColumnType; comment: string }[];
export type CanonicalOrderColumn = (typeof CANONICAL_ORDER_COLUMNS)[number]['name'];
