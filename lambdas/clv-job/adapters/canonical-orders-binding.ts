import { CANONICAL_ORDER_COLUMNS } from '../schemas/tables.js';

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
