import { Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { CATALOG_TABLES } from '../lambdas/clv-job/layout.js';
import {
  CUSTOMER_COLUMNS,
  CUSTOMER_PARTITIONS,
  ORDER_COLUMNS,
  REJECTED_COLUMNS,
  type ColumnSpec,
  type ColumnType,
  type OrderColumn,
} from '../lambdas/clv-job/schemas/tables.js';
import type { ClvStorage } from './storage.js';
import { failOnProblems } from './validation.js';

/** Hive (Glue) type of each column type of tables.ts. */
export const GLUE_TYPES = { string: 'string', int: 'int', double: 'double', date: 'date' } as const satisfies Record<
  ColumnType,
  string
>;

/** Glue columns generated from tables.ts, so the catalog cannot drift from the files the job writes. */
export const glueColumns = (specs: readonly ColumnSpec[]): CfnTable.ColumnProperty[] =>
  specs.map((c) => ({ name: c.name, type: GLUE_TYPES[c.type], comment: c.comment }));

/** Columns without which no order can be judged (SPEC, input contract); the others may be absent. */
export const REQUIRED_ORDER_COLUMNS = ['order_id', 'customer_id', 'order_date', 'amount'] as const satisfies readonly OrderColumn[];

export const DEFAULT_DATABASE_NAME = 'clv';
export const ORDERS_TABLE_NAME = 'orders';
export const CUSTOMERS_TABLE_NAME = 'customers';
export const REJECTED_TABLE_NAME = 'rejected_rows';

const CSV_SERDE = 'org.apache.hadoop.hive.serde2.OpenCSVSerde';
const TEXT_INPUT = 'org.apache.hadoop.mapred.TextInputFormat';
const TEXT_OUTPUT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';
const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
const PARQUET_INPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
const PARQUET_OUTPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';

export interface ClvCatalogProps {
  /** The bucket and prefixes the tables read. */
  readonly storage: ClvStorage;
  /**
   * Glue database name (lower case, digits and underscores).
   * @default 'clv'
   */
  readonly databaseName?: string;
  /**
   * The columns of the order exports, in the exports' own left-to-right order. A CSV SerDe maps
   * columns by position, not by header name, so this order must be the files' order, and every file
   * under the drop prefix must share it. Extra columns (e.g. `cost`) may appear anywhere; optional
   * columns of ORDER_COLUMNS that the exports lack (`channel`, `status`) are appended at the end,
   * where the SerDe reads them as NULL.
   * @default ORDER_COLUMNS (order_id, customer_id, order_date, amount, channel, status)
   */
  readonly orderColumns?: readonly string[];
}

/**
 * The Glue database and its three tables: `orders` (the raw exports, every column a string, over
 * the drop prefix), `customers` (scored customers, Parquet, partitioned by run_date and segment) and
 * `rejected_rows` (Parquet, partitioned by run_date). The job registers the output tables'
 * partitions as it publishes, each pointing at the run's own prefix (`_runs/<run id>/...`): that
 * is the switch catalog readers see (adapters/glue-partitions.ts), so no crawler and no
 * MSCK REPAIR: a run date is queryable as soon as its files are published.
 */
export class ClvCatalog extends Construct {
  public readonly databaseName: string;
  public readonly ordersTableName = ORDERS_TABLE_NAME;
  public readonly customersTableName = CUSTOMERS_TABLE_NAME;
  public readonly rejectedTableName = REJECTED_TABLE_NAME;
  /** The orders table's columns as deployed, in file order. */
  public readonly orderColumns: readonly string[];
  public readonly catalogArn: string;
  public readonly databaseArn: string;
  /** ARNs of the three tables. */
  public readonly tableArns: readonly string[];
  /** ARNs of the output tables, whose partitions the job registers as it publishes. */
  public readonly outputTableArns: readonly string[];

  constructor(scope: Construct, id: string, props: ClvCatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { storage } = props;
    this.databaseName = props.databaseName ?? DEFAULT_DATABASE_NAME;
    const problems = [
      ...(/^[a-z0-9_]{1,255}$/.test(this.databaseName)
        ? []
        : [`databaseName must be lower case letters, digits and underscores, got ${JSON.stringify(this.databaseName)}`]),
      ...orderColumnProblems(props.orderColumns ?? ORDER_COLUMNS),
    ];
    failOnProblems('ClvCatalog', problems);
    this.orderColumns = completeOrderColumns(props.orderColumns ?? ORDER_COLUMNS);

    const database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'Nightly customer-lifetime-value job: raw order exports and scored customers.',
      },
    });

    const table = (tableId: string, tableInput: CfnTable.TableInputProperty): CfnTable => {
      const t = new CfnTable(this, tableId, { catalogId: stack.account, databaseName: this.databaseName, tableInput });
      t.node.addDependency(database);
      return t;
    };

    table('OrdersTable', {
      name: ORDERS_TABLE_NAME,
      description: 'Order exports as dropped: every column a string, in file order; the source file is "$path".',
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'csv',
        'skip.header.line.count': '1',
      },
      storageDescriptor: {
        location: storage.s3Url(storage.inputPrefix),
        // TextInputFormat decompresses by file extension: x.csv.gz is read as gzip, x.csv as text.
        inputFormat: TEXT_INPUT,
        outputFormat: TEXT_OUTPUT,
        // OpenCSVSerde honours RFC 4180 quotes (commas inside "..."); it reads every column as a
        // string, which the shared SQL trims, validates and casts itself.
        serdeInfo: {
          serializationLibrary: CSV_SERDE,
          parameters: { separatorChar: ',', quoteChar: '"', escapeChar: '\\' },
        },
        columns: this.orderColumns.map((name) => ({ name, type: 'string', comment: 'raw text as read' })),
      },
    });

    const customersPrefix = `${storage.outputPrefix}customers/`;
    const segments = CUSTOMER_PARTITIONS.segment.join(',');
    table('CustomersTable', {
      name: CUSTOMERS_TABLE_NAME,
      description: 'Scored customers, one row per customer and run date (Parquet, published by the nightly job).',
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'parquet',
      },
      partitionKeys: [
        { name: 'run_date', type: GLUE_TYPES[CUSTOMER_PARTITIONS.run_date], comment: 'the as-of date of the run' },
        { name: 'segment', type: GLUE_TYPES.string, comment: `CLV tier: ${segments}` },
      ],
      storageDescriptor: parquetStorage(storage.s3Url(customersPrefix), CUSTOMER_COLUMNS),
    });

    const rejectedPrefix = `${storage.outputPrefix}rejected/`;
    table('RejectedTable', {
      name: REJECTED_TABLE_NAME,
      description: 'Input rows the job rejected, as read, with source file and reason (Parquet).',
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'parquet',
      },
      partitionKeys: [{ name: 'run_date', type: GLUE_TYPES[CUSTOMER_PARTITIONS.run_date], comment: 'the as-of date of the run' }],
      storageDescriptor: parquetStorage(storage.s3Url(rejectedPrefix), REJECTED_COLUMNS),
    });

    this.catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    this.databaseArn = stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName });
    const tableArn = (name: string) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${name}` });
    this.tableArns = [ORDERS_TABLE_NAME, CUSTOMERS_TABLE_NAME, REJECTED_TABLE_NAME].map(tableArn);
    this.outputTableArns = CATALOG_TABLES.map((t) => tableArn(t.table));
  }
}

const parquetStorage = (location: string, columns: readonly ColumnSpec[]): CfnTable.StorageDescriptorProperty => ({
  location,
  inputFormat: PARQUET_INPUT,
  outputFormat: PARQUET_OUTPUT,
  serdeInfo: { serializationLibrary: PARQUET_SERDE, parameters: { 'serialization.format': '1' } },
  columns: glueColumns(columns),
});

/** Every problem with an export column order, at once. */
export const orderColumnProblems = (columns: readonly string[]): string[] => {
  const problems: string[] = [];
  const bad = columns.filter((c) => !/^[a-z_][a-z0-9_]*$/.test(c));
  if (bad.length > 0) {
    problems.push(`orderColumns must be lower case identifiers (Glue lower-cases names), got ${bad.map((c) => JSON.stringify(c)).join(', ')}`);
  }
  const repeated = [...new Set(columns.filter((c, i) => columns.indexOf(c) !== i))];
  if (repeated.length > 0) problems.push(`orderColumns repeats ${repeated.join(', ')}`);
  const missing = REQUIRED_ORDER_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) problems.push(`orderColumns lacks the required column(s) ${missing.join(', ')}`);
  return problems;
};

/** The export's columns, then the optional ORDER_COLUMNS it lacks (read as NULL past the end of each line). */
export const completeOrderColumns = (columns: readonly string[]): string[] => [
  ...columns,
  ...ORDER_COLUMNS.filter((c) => !columns.includes(c)),
];
