import { Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { CATALOG_TABLES } from '../lambdas/clv-job/layout.js';
import {
  CANONICAL_ORDER_COLUMNS,
  CUSTOMER_COLUMNS,
  CUSTOMER_PARTITIONS,
  REJECTED_COLUMNS,
  SUMMARY_DATASETS,
  SUMMARY_TABLES,
  type ColumnSpec,
  type ColumnType,
} from '../lambdas/clv-job/schemas/tables.js';
import type { ClvStorage } from './storage.js';
import { failOnProblems } from './validation.js';

/** Hive (Glue) type of each column type of tables.ts. */
export const GLUE_TYPES = { string: 'string', int: 'int', double: 'double', date: 'date', boolean: 'boolean' } as const satisfies Record<
  ColumnType,
  string
>;

/** Glue columns generated from tables.ts, so the catalog cannot drift from the files the job writes. */
export const glueColumns = (specs: readonly ColumnSpec[]): CfnTable.ColumnProperty[] =>
  specs.map((c) => ({ name: c.name, type: GLUE_TYPES[c.type], comment: c.comment }));

export const DEFAULT_DATABASE_NAME = 'clv';
export const ORDERS_TABLE_NAME = 'orders';
export const CUSTOMERS_TABLE_NAME = 'customers';
export const REJECTED_TABLE_NAME = 'rejected_rows';

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
}

/**
 * The Glue database and its tables: `orders` (the canonical Parquet copies the ingest
 * function writes under the ingested prefix, read by column name), `customers` (scored customers, Parquet, partitioned by run_date and segment),
 * `rejected_rows` (Parquet, partitioned by run_date), and one table per summary dataset
 * (`segments`, `channels`, ...: `SUMMARY_TABLES` of tables.ts, Parquet, partitioned by run_date). The job registers the output tables'
 * partitions as it publishes, each pointing at the run's own prefix (`_runs/<run id>/...`): that
 * is the switch catalog readers see (adapters/glue-partitions.ts), so no crawler and no
 * MSCK REPAIR: a run date is queryable as soon as its files are published.
 */
export class ClvCatalog extends Construct {
  public readonly databaseName: string;
  public readonly ordersTableName = ORDERS_TABLE_NAME;
  public readonly customersTableName = CUSTOMERS_TABLE_NAME;
  public readonly rejectedTableName = REJECTED_TABLE_NAME;
  public readonly catalogArn: string;
  public readonly databaseArn: string;
  /** ARNs of every table. */
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
    ];
    failOnProblems('ClvCatalog', problems);

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

    // Parquet maps columns by name (Athena's default for Parquet), so the table reads every canonical
    // file the same way whatever the exports' own column order was; receipts under `_receipts/` are
    // hidden from it by their leading underscore.
    table('OrdersTable', {
      name: ORDERS_TABLE_NAME,
      description: 'Canonical orders: one Parquet file per export, written by the ingest function (typed values, parse status, source file and line).',
      tableType: 'EXTERNAL_TABLE',
      parameters: { classification: 'parquet' },
      // the canonical types are Glue's own names already (string, bigint, date, decimal(38,6))
      storageDescriptor: parquetStorage(
        storage.s3Url(storage.ingestedPrefix),
        CANONICAL_ORDER_COLUMNS.map((c) => ({ name: c.name, type: c.type, comment: c.comment })),
      ),
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
      storageDescriptor: parquetStorage(storage.s3Url(customersPrefix), glueColumns(CUSTOMER_COLUMNS)),
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
      storageDescriptor: parquetStorage(storage.s3Url(rejectedPrefix), glueColumns(REJECTED_COLUMNS)),
    });

    for (const dataset of SUMMARY_DATASETS) {
      const spec = SUMMARY_TABLES[dataset];
      table(`${dataset.charAt(0).toUpperCase()}${dataset.slice(1).replace(/_(\w)/g, (_, c: string) => c.toUpperCase())}Table`, {
        name: dataset,
        description: `${spec.description} Parquet, published by the nightly job.`,
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'parquet' },
        partitionKeys: [{ name: 'run_date', type: GLUE_TYPES[CUSTOMER_PARTITIONS.run_date], comment: 'the as-of date of the run' }],
        storageDescriptor: parquetStorage(storage.s3Url(`${storage.outputPrefix}${dataset}/`), glueColumns(spec.columns)),
      });
    }

    this.catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    this.databaseArn = stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName });
    const tableArn = (name: string) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${name}` });
    this.tableArns = [ORDERS_TABLE_NAME, ...CATALOG_TABLES.map((t) => t.table)].map(tableArn);
    this.outputTableArns = CATALOG_TABLES.map((t) => tableArn(t.table));
  }
}

const parquetStorage = (location: string, columns: CfnTable.ColumnProperty[]): CfnTable.StorageDescriptorProperty => ({
  location,
  inputFormat: PARQUET_INPUT,
  outputFormat: PARQUET_OUTPUT,
  serdeInfo: { serializationLibrary: PARQUET_SERDE, parameters: { 'serialization.format': '1' } },
  columns,
});

