import { EngineError } from '../errors.js';
import type { PreviousCustomers } from '../ports.js';
import { CANONICAL_ORDER_COLUMNS, CUSTOMER_PARTITIONS } from '../schemas/tables.js';
import { NO_PREVIOUS_CUSTOMERS } from '../sql/index.js';

/** A quoted SQL identifier (Athena, Trino): `my "t"` -> `"my ""t"""`. */
export const sqlIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * `orders` as the shared SQL expects it, bound to the Glue (Hive) table of canonical orders as
 * Athena and a team's own Trino read it: the canonical columns ingest wrote, by name.
 * In a module of its own so that the Trino engine, which the local CLI bundles, does not load the
 * AWS SDK with the Athena engine (~0.1 s of start-up CPU in every `clv` process and interval worker).
 */
export const canonicalOrdersBinding = (database: string, table: string): string =>
  `SELECT ${CANONICAL_ORDER_COLUMNS.map((c) => c.name).join(', ')} FROM ${sqlIdentifier(database)}.${sqlIdentifier(table)}`;

/**
 * `previous_customers` (sql/index.ts) bound to the Glue table of published customers as Athena and
 * Trino read it: the previous run date's partitions, which the job points at the live run as it
 * publishes (adapters/glue-partitions.ts), so the engine reads exactly the published run's files.
 * The empty relation (NO_PREVIOUS_CUSTOMERS) for null (no previous run, or one without customers,
 * whose run date names no partition of the table).
 * Throws EngineError for a run date that is not `YYYY-MM-DD` (it is written into the SQL).
 */
export const publishedCustomersBinding = (database: string, table: string, previous: PreviousCustomers | null): string => {
  if (previous === null) return NO_PREVIOUS_CUSTOMERS;
  const { runDate } = previous;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(runDate)) throw new EngineError(`run date ${JSON.stringify(runDate)} is not YYYY-MM-DD`);
  // the segment partitions named too: Trino (Athena's engine) passes no Glue filter expression for
  // the DATE key alone, only '' (which moto's Glue refuses), but one for a string key's IN list
  const segments = CUSTOMER_PARTITIONS.segment.map((s) => `'${s}'`).join(', ');
  return `SELECT customer_id, clv_tier, rfm_segment FROM ${sqlIdentifier(database)}.${sqlIdentifier(table)} WHERE run_date = DATE '${runDate}' AND segment IN (${segments})`;
};
