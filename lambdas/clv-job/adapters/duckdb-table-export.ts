/**
 * DuckDB writing the run's tables itself: the scored customers joined onto its own `customers`
 * relation and the rejected rows straight from `classified`, each COPY'd to Parquet in the layout and
 * types of schemas/tables.ts. What crosses from JavaScript into the engine is small and compact:
 * three numbers a customer (pattern, segment combination, historical CLV), the scores of each
 * distinct pattern and the few segment combinations; nothing per customer crosses back out.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { RunTableTargets, ScoredCustomerRows, TableTarget, WrittenTable } from '../ports.js';
import { CUSTOMER_COLUMNS, PATTERN_SCORE_COLUMNS, REJECTED_COLUMNS, SEGMENT_COLUMNS, TIERS, type ColumnSpec, type ColumnType } from '../schemas/tables.js';
import scoredCustomers from '../sql/scored-customers.sql';

/** DuckDB's names of the contract's column types (Parquet INT32, DOUBLE, DATE, UTF8 strings). */
const DUCK_TYPES: Readonly<Record<ColumnType, string>> = { string: 'VARCHAR', int: 'INTEGER', double: 'DOUBLE', date: 'DATE', boolean: 'BOOLEAN' };

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** The contract's columns, in its order, each cast to its type. */
const typedProjection = (columns: readonly ColumnSpec[]): string => columns.map((c) => `CAST(${c.name} AS ${DUCK_TYPES[c.type]}) AS ${c.name}`).join(', ');

/** The tables the scores travel in; dropped again once the files are written. */
const TABLES = {
  customers: 'customer_scores',
  patterns: 'pattern_scores',
  segments: 'segment_combinations',
  scored: 'scored_customers',
} as const;

/**
 * True when every target is a path DuckDB can write to here: an absolute local path (no `s3://`:
 * httpfs is not bundled, and the Lambda writes with Athena's results in memory instead).
 */
export const localTargets = (targets: RunTableTargets): boolean =>
  [...TIERS.map((t) => targets.customers[t]), targets.rejected].every((t) => isAbsolute(t.location) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(t.location));

const appendRows = async (connection: DuckDBConnection, table: string, rows: number, appendRow: (appender: DuckDBAppender, i: number) => void): Promise<void> => {
  const appender = await connection.createAppender(table);
  try {
    for (let i = 0; i < rows; i++) {
      appendRow(appender, i);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
};

/** Hands the scores to the engine as three tables (see scored-customers.sql). */
const loadScores = async (connection: DuckDBConnection, scored: ScoredCustomerRows): Promise<void> => {
  const { customers, patterns, segments } = scored;
  await connection.run(`CREATE OR REPLACE TABLE ${TABLES.customers} (customer_row INTEGER, pattern INTEGER, segment_combination INTEGER, historical_clv DOUBLE)`);
  await appendRows(connection, TABLES.customers, customers.pattern.length, (a, i) => {
    a.appendInteger(i);
    a.appendInteger(customers.pattern[i]!);
    a.appendInteger(customers.segments[i]!);
    a.appendDouble(customers.historicalClv[i]!);
  });

  await connection.run(`CREATE OR REPLACE TABLE ${TABLES.patterns} (pattern INTEGER, ${PATTERN_SCORE_COLUMNS.map((c) => `${c} DOUBLE`).join(', ')})`);
  const columns = PATTERN_SCORE_COLUMNS.map((c) => patterns.columns[c]);
  await appendRows(connection, TABLES.patterns, patterns.size, (a, i) => {
    a.appendInteger(i);
    for (const column of columns) {
      if (column === null) a.appendNull();
      else a.appendDouble(column[i]!);
    }
  });

  const specs = SEGMENT_COLUMNS.map((name) => CUSTOMER_COLUMNS.find((c) => c.name === name)!);
  await connection.run(`CREATE OR REPLACE TABLE ${TABLES.segments} (segment_combination INTEGER, ${specs.map((c) => `${c.name} ${DUCK_TYPES[c.type]}`).join(', ')})`);
  await appendRows(connection, TABLES.segments, segments.length, (a, i) => {
    a.appendInteger(i);
    for (const spec of specs) {
      const value = segments[i]![spec.name as (typeof SEGMENT_COLUMNS)[number]];
      if (value === null) a.appendNull();
      else if (spec.type === 'int') a.appendInteger(Number(value));
      else a.appendVarchar(String(value));
    }
  });
};

/** COPY of a query's rows, in its order, to one Parquet file; the file's rows and bytes. */
const copyToParquet = async (connection: DuckDBConnection, query: string, target: TableTarget): Promise<WrittenTable> => {
  await mkdir(dirname(target.location), { recursive: true });
  const result = await connection.run(`COPY (${query}) TO ${sqlString(target.location)} (FORMAT PARQUET)`);
  return { key: target.key, rows: Number(result.rowsChanged), bytes: (await stat(target.location)).size };
};

/**
 * Writes the customers (one file per tier that has customers, rows in customer_id order) and the
 * rejected rows (`rejectedRows`, the shared query, in its order; written even when empty) to the
 * targets. The relations `customers` and `classified` must be materialised for the run's
 * parameters. Throws what DuckDB throws; the scores' tables are dropped either way.
 */
export const exportRunTables = async (
  connection: DuckDBConnection,
  scored: ScoredCustomerRows,
  rejectedRows: string,
  targets: RunTableTargets,
): Promise<WrittenTable[]> => {
  try {
    await loadScores(connection, scored);
    await connection.run(`CREATE OR REPLACE TABLE ${TABLES.scored} AS ${scoredCustomers}`);
    const written: WrittenTable[] = [];
    const present = new Set(scored.segments.map((s) => s.clv_tier));
    for (const tier of TIERS) {
      if (!present.has(tier)) continue;
      written.push(
        await copyToParquet(
          connection,
          `SELECT ${typedProjection(CUSTOMER_COLUMNS)} FROM ${TABLES.scored} WHERE clv_tier = ${sqlString(tier)} ORDER BY customer_row`,
          targets.customers[tier],
        ),
      );
    }
    written.push(await copyToParquet(connection, `SELECT ${typedProjection(REJECTED_COLUMNS)} FROM (${rejectedRows}) AS rejected`, targets.rejected));
    return written;
  } finally {
    for (const table of Object.values(TABLES)) await connection.run(`DROP TABLE IF EXISTS ${table}`);
  }
};
