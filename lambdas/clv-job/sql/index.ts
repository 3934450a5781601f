import { RFM_SEGMENTS } from '../domain/segments/rfm.js';
import { TIER_ORDER } from '../domain/segments/tiers.js';
import acquisitionMonths from './acquisition-months.sql';
import bgnbdPatterns from './bgnbd-patterns.sql';
import classified from './classified.sql';
import conflictingDuplicates from './conflicting-duplicates.sql';
import customers from './customers.sql';
import latestOrderDate from './latest-order-date.sql';
import outcomeCounts from './outcome-counts.sql';
import purchaseDays from './purchase-days.sql';
import rejectedRows from './rejected-rows.sql';
import repeatPurchaseDays from './repeat-purchase-days.sql';
import spendPatterns from './spend-patterns.sql';

/**
 * The one SQL text both engines run. Three derived relations build on the adapter's `orders`:
 * `classified` (one row per input row with its outcome), `purchase_days` (one row per customer and
 * purchase day) and `customers` (one row per customer).
 * How a relation is provided is the engine's business: DuckDB materialises each once, Athena
 * inlines them as common table expressions. The texts themselves never differ.
 */
export const RELATIONS = { classified, purchase_days: purchaseDays, customers } as const;
export type RelationName = keyof typeof RELATIONS;

/**
 * `previous_customers`: the previous published run's customers (`customer_id`, `clv_tier`,
 * `rfm_segment`), bound by the engine like `orders` (DuckDB over the run's published Parquet files,
 * Athena over the Glue `customers` table's partitions of that run date). With no previous run it
 * is bound to this empty relation, typed so that the queries over it stay the same text.
 */
export const NO_PREVIOUS_CUSTOMERS =
  'SELECT * FROM (VALUES (CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR))) AS none (customer_id, clv_tier, rfm_segment) WHERE false';

/**
 * What the previous run said of a customer, as one integer the `customers` query gives per customer
 * (`previous_segments`, never NULL: a typed column of 4 bytes a row in either engine, where two
 * text columns cost the first night, with nothing to join, ~280 MB at 5 M customers):
 * `tier * STRIDE + rfm`, tier an index into TIER_ORDER, rfm an index into RFM_SEGMENTS or `noRfm`;
 * `newSince` for a customer the previous run did not have. decodePreviousSegments reads it back.
 */
export const PREVIOUS_SEGMENT_CODES = { stride: 16, noRfm: 15, newSince: -1 } as const;

const quote = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const caseOf = (column: string, values: readonly string[], otherwise: number | null): string =>
  `CASE ${column} ${values.map((v, i) => `WHEN ${quote(v)} THEN ${i}`).join(' ')}${otherwise === null ? '' : ` ELSE ${otherwise}`} END`;
const PREVIOUS_SEGMENTS_SQL =
  `CAST(COALESCE(${caseOf('p.clv_tier', TIER_ORDER, null)} * ${PREVIOUS_SEGMENT_CODES.stride} + ` +
  `${caseOf('p.rfm_segment', RFM_SEGMENTS, PREVIOUS_SEGMENT_CODES.noRfm)}, ${PREVIOUS_SEGMENT_CODES.newSince}) AS INTEGER)`;

/** The columns of `customers` the run reads (decodeCustomers); the relation has more for other queries. */
const CUSTOMER_COLUMNS = [
  'customer_id',
  'first_order_day',
  'last_order_day',
  'acquisition_channel',
  'cohort',
  'orders',
  'frequency',
  'recency_days',
  'tenure_days',
  'total_revenue',
  'monetary_value',
  'avg_order_value',
] as const;

/**
 * The queries a run asks, each over one of the relations above. A query must not open with its own
 * WITH clause: engines that inline the relations put theirs in front of it.
 */
export const QUERIES = {
  // counted straight off the canonical rows, independently of `classified`, so the accounting check means something
  inputRows: 'SELECT CAST(COUNT(*) AS INTEGER) AS input_rows FROM orders',
  latestOrderDate,
  outcomeCounts,
  rejectedRows,
  conflictingDuplicates,
  // each customer's previous tier and RFM segment joined in the engine (NULL for a customer new
  // since), index-aligned with tonight's customers: nothing of the previous run is held by id in JavaScript
  customers: `SELECT ${CUSTOMER_COLUMNS.map((c) => `c.${c}`).join(', ')}, ${PREVIOUS_SEGMENTS_SQL} AS previous_segments
FROM customers c LEFT JOIN previous_customers p ON p.customer_id = c.customer_id
ORDER BY c.customer_id`,
  // the previous run's customers per tier, those missing tonight included (the tier migration's "absent"
  // column), how many distinct ids they have, and how many have an RFM segment PREVIOUS_SEGMENT_CODES
  // cannot name. Asked before `customers`, it is also the probe of the previous run's binding: it reads
  // every value of every column the join reads, so a page the engine cannot read fails here, not there
  previousTiers: `SELECT clv_tier, CAST(COUNT(*) AS INTEGER) AS customers,
  CAST(COUNT(DISTINCT customer_id) AS INTEGER) AS distinct_customers,
  CAST(SUM(CASE WHEN rfm_segment IS NULL OR ${caseOf('rfm_segment', RFM_SEGMENTS, -1)} >= 0 THEN 0 ELSE 1 END) AS INTEGER) AS unknown_rfm_segments
FROM previous_customers GROUP BY clv_tier ORDER BY clv_tier`,
  bgnbdPatterns,
  spendPatterns,
  repeatPurchaseDays,
  acquisitionMonths,
} as const;
export type QueryName = keyof typeof QUERIES;

/** The relations each relation is built from (besides `orders`). */
export const INPUTS_OF: Record<RelationName, readonly RelationName[]> = {
  classified: [],
  purchase_days: ['classified'],
  customers: ['purchase_days'],
};

/** The relations a query's own text reads (not those they are built from). */
export const READS_OF: Record<QueryName, readonly RelationName[]> = {
  inputRows: [],
  latestOrderDate: [],
  outcomeCounts: ['classified'],
  rejectedRows: ['classified'],
  conflictingDuplicates: ['classified'],
  customers: ['customers'],
  bgnbdPatterns: ['customers'],
  spendPatterns: ['customers'],
  repeatPurchaseDays: ['classified'],
  acquisitionMonths: ['purchase_days', 'customers'],
  previousTiers: [],
};

/** The queries whose text reads the bound `previous_customers` (besides `orders`, which any may read). */
export const READS_PREVIOUS_CUSTOMERS: ReadonlySet<QueryName> = new Set<QueryName>(['customers', 'previousTiers']);

/** The given relations and every relation they are built from, in dependency order (inputs first). */
export const relationsFor = (relations: readonly RelationName[]): RelationName[] => {
  const ordered = new Set<RelationName>();
  const visit = (relation: RelationName): void => {
    if (ordered.has(relation)) return;
    for (const input of INPUTS_OF[relation]) visit(input);
    ordered.add(relation);
  };
  for (const relation of relations) visit(relation);
  return [...ordered];
};

export interface SqlParameters {
  /** `YYYY-MM-DD`, already validated. */
  readonly asOf: string;
  /** Lower-case status values that do not count as purchases. */
  readonly nonPurchaseStatuses: readonly string[];
  /** `YYYY-MM-DD`: the end of a backtest's calibration period (only the backtest's query uses it). */
  readonly calibrationEnd?: string;
  /**
   * `YYYY-MM-DD`: the latest date a run may be as of (config.ts latestAsOf); outcomeCounts' rows dated
   * in the future are those after it. Without it, every row after the as-of date counts as in the future.
   */
  readonly latestAsOf?: string;
}


/**
 * The one statement of a valid canonical row, `{{valid_row}}` in the texts (SPEC "Input contract"): it
 * parsed (ingest gave it no parse_reason) and is not dated after the as-of date. `classified` gives
 * every other row a reason and de-duplicates the valid ones; latestOrderDate reads the dates of the
 * valid rows it would accept. A conjunction of column tests, so an engine can push it into its scan of `orders` as a filter.
 */
const VALID_ROW = "(parse_reason IS NULL AND order_date <= DATE '{{as_of}}')";

/**
 * The one statement of which copy of an order key is kept, `{{copy_window}}` in the texts (SPEC
 * "Input contract": the copy from the last file in name order, then the last line): the window over
 * a key's valid copies, as the relation `j` reads them, that ranks the kept copy first.
 */
const COPY_WINDOW = 'OVER (PARTITION BY j.order_id, j.order_key_extra ORDER BY j.source_file DESC, j.source_line DESC)';

/**
 * Fills the placeholders. Values are validated before they get here, and string values are quoted
 * as SQL literals, so no input can change the statement's shape.
 */
export const renderSql = (sql: string, params: SqlParameters): string => {
  const text = sql.replaceAll('{{valid_row}}', VALID_ROW).replaceAll('{{copy_window}}', COPY_WINDOW);
  const latest = params.latestAsOf ?? params.asOf;
  const dates = { as_of: params.asOf, calibration_end: params.calibrationEnd, latest_as_of: latest };
  for (const [name, value] of Object.entries(dates)) {
    if (text.includes(`{{${name}}}`) && !/^\d{4}-\d{2}-\d{2}$/.test(value ?? '')) throw new Error(`${name} ${value} is not YYYY-MM-DD`);
  }
  if (params.nonPurchaseStatuses.length === 0) throw new Error('at least one non-purchase status is required');
  return text
    .replaceAll('{{as_of}}', params.asOf)
    .replaceAll('{{calibration_end}}', params.calibrationEnd ?? '')
    .replaceAll('{{latest_as_of}}', latest)
    .replaceAll('{{non_purchase_statuses}}', params.nonPurchaseStatuses.map((s) => quote(s.toLowerCase())).join(', '));
};

/**
 * A query with the relations it needs inlined as common table expressions: the form an engine
 * that keeps no state between statements (Athena) runs. `orders`, when given, is the engine's own
 * binding of the input (e.g. a SELECT over the Glue table), inlined first; `previousCustomers`
 * its binding of the previous run's customers (default: none), inlined for the queries that read it.
 */
export const inlineQuery = (name: QueryName, params: SqlParameters, orders?: string, previousCustomers: string = NO_PREVIOUS_CUSTOMERS): string => {
  const bound = [
    ...(orders === undefined ? [] : [`orders AS (\n${orders.trim()}\n)`]),
    ...(READS_PREVIOUS_CUSTOMERS.has(name) ? [`previous_customers AS (\n${previousCustomers.trim()}\n)`] : []),
  ];
  const ctes = [...bound, ...relationsFor(READS_OF[name]).map((relation) => `${relation} AS (\n${renderSql(RELATIONS[relation], params).trim()}\n)`)];
  const query = renderSql(QUERIES[name], params).trim();
  return ctes.length === 0 ? query : `WITH ${ctes.join(',\n')}\n${query}`;
};
