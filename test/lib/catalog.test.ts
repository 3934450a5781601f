import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  COLUMN_TYPES,
  CUSTOMER_COLUMNS,
  CUSTOMER_PARTITIONS,
  CANONICAL_ORDER_COLUMNS,
  REJECTED_COLUMNS,
  SUMMARY_DATASETS,
  SUMMARY_TABLES,
  type ColumnSpec,
} from '../../lambdas/clv-job/schemas/tables.js';
import { ClvCatalog, GLUE_TYPES, type ClvCatalogProps } from '../../lib/catalog.js';
import { ClvStorage } from '../../lib/storage.js';

const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));

/** A fresh stack per test, with the feature flags `cdk synth` uses. */
const catalogTemplate = (props: Omit<ClvCatalogProps, 'storage'> = {}): Template => {
  const stack = new Stack(new App({ context }), 'Test');
  new ClvCatalog(stack, 'Catalog', { storage: new ClvStorage(stack, 'Storage'), ...props });
  return Template.fromStack(stack);
};

const tableInput = (template: Template, name: string) => {
  const tables = Object.values(template.findResources('AWS::Glue::Table', { Properties: { TableInput: { Name: name } } }));
  expect(tables).toHaveLength(1);
  return tables[0]!.Properties.TableInput;
};

/** What tables.ts says the Glue columns must be, in order. */
const expectedColumns = (specs: readonly ColumnSpec[]) => specs.map((c) => ({ Name: c.name, Type: GLUE_TYPES[c.type], Comment: c.comment }));

/** `s3://<data bucket>/<path>` as CloudFormation renders it. */
const s3Location = (path: string) => ({ 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^StorageData') }, path]] });

describe('ClvCatalog: the Glue database', () => {
  it('is created in the account catalog under the default name "clv"', () => {
    catalogTemplate().hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: Match.objectLike({ Name: 'clv' }),
    });
  });

  it('takes its name from the props, and every table is created after it', () => {
    const template = catalogTemplate({ databaseName: 'clv_prod' });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'clv_prod' }) });
    const [databaseId] = Object.keys(template.findResources('AWS::Glue::Database'));
    const tables = Object.values(template.findResources('AWS::Glue::Table'));
    expect(tables).toHaveLength(3 + SUMMARY_DATASETS.length);
    for (const table of tables) {
      expect(table.Properties.DatabaseName).toBe('clv_prod');
      expect(table.DependsOn).toContain(databaseId);
    }
  });
});

describe('ClvCatalog: the orders table', () => {
  it('reads the canonical Parquet copies under the ingested prefix, by column name (no CSV SerDe anywhere)', () => {
    const template = catalogTemplate();
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'orders',
        TableType: 'EXTERNAL_TABLE',
        Parameters: { classification: 'parquet' },
        StorageDescriptor: Match.objectLike({
          Location: s3Location('/ingested/'),
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' }),
        }),
      }),
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/OpenCSVSerde|TextInputFormat|skip\.header/);
  });

  it('has exactly the CANONICAL_ORDER_COLUMNS of tables.ts, in order, with their Glue types', () => {
    const { StorageDescriptor } = tableInput(catalogTemplate(), 'orders');
    expect(StorageDescriptor.Columns).toEqual(CANONICAL_ORDER_COLUMNS.map((c) => ({ Name: c.name, Type: c.type, Comment: c.comment })));
    expect(StorageDescriptor.Columns.find((c: { Name: string }) => c.Name === 'amount').Type).toBe('decimal(38,6)');
  });

  it('follows a custom ingested prefix', () => {
    const stack = new Stack(new App({ context }), 'Test');
    new ClvCatalog(stack, 'Catalog', { storage: new ClvStorage(stack, 'Storage', { ingestedPrefix: 'canonical/orders/' }) });
    Template.fromStack(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'orders', StorageDescriptor: Match.objectLike({ Location: s3Location('/canonical/orders/') }) }),
    });
  });
});

describe('ClvCatalog: the customers table', () => {
  it('has exactly the CUSTOMER_COLUMNS of tables.ts, in order, with their Glue types', () => {
    const { StorageDescriptor } = tableInput(catalogTemplate(), 'customers');
    expect(StorageDescriptor.Columns).toEqual(expectedColumns(CUSTOMER_COLUMNS));
  });

  it('is Parquet under <outputPrefix>customers/, partitioned by run_date (date) and segment', () => {
    catalogTemplate().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'customers',
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [
          Match.objectLike({ Name: 'run_date', Type: CUSTOMER_PARTITIONS.run_date }),
          Match.objectLike({ Name: 'segment', Type: 'string' }),
        ],
        StorageDescriptor: Match.objectLike({
          Location: s3Location('/clv/customers/'),
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' }),
        }),
      }),
    });
  });

  it('has no partition projection: the job registers each run date\'s partitions at its run\'s prefix, the switch catalog readers see', () => {
    for (const name of ['customers', 'rejected_rows', ...SUMMARY_DATASETS]) {
      const { Parameters } = tableInput(catalogTemplate(), name) as { Parameters: Record<string, string> };
      expect(Object.keys(Parameters).filter((k) => k.startsWith('projection.') || k === 'storage.location.template'), name).toEqual([]);
    }
  });

  it('follows the output prefix', () => {
    const stack = new Stack(new App({ context }), 'Test');
    new ClvCatalog(stack, 'Catalog', { storage: new ClvStorage(stack, 'Storage', { outputPrefix: 'out/clv/' }) });
    Template.fromStack(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'customers', StorageDescriptor: Match.objectLike({ Location: s3Location('/out/clv/customers/') }) }),
    });
  });
});

describe('ClvCatalog: the rejected_rows table', () => {
  it('has exactly the REJECTED_COLUMNS of tables.ts, in order, with their Glue types', () => {
    const { StorageDescriptor } = tableInput(catalogTemplate(), 'rejected_rows');
    expect(StorageDescriptor.Columns).toEqual(expectedColumns(REJECTED_COLUMNS));
  });

  it('is Parquet under <outputPrefix>rejected/, partitioned by run_date', () => {
    catalogTemplate().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'rejected_rows',
        PartitionKeys: [Match.objectLike({ Name: 'run_date', Type: 'date' })],
        Parameters: Match.objectLike({ classification: 'parquet' }),
        StorageDescriptor: Match.objectLike({ Location: s3Location('/clv/rejected/') }),
      }),
    });
  });
});

describe('ClvCatalog: one table per summary dataset', () => {
  it('names the contract\'s datasets: segments, channels, cohorts, movers', () => {
    expect(SUMMARY_DATASETS).toEqual(expect.arrayContaining(['segments', 'channels', 'cohorts', 'movers']));
  });

  it.each(SUMMARY_DATASETS)('%s: exactly its SUMMARY_TABLES columns of tables.ts, in order, with their Glue types', (dataset) => {
    const { StorageDescriptor } = tableInput(catalogTemplate(), dataset);
    expect(StorageDescriptor.Columns).toEqual(expectedColumns(SUMMARY_TABLES[dataset].columns));
  });

  it.each(SUMMARY_DATASETS)('%s: Parquet under <outputPrefix>%s/, partitioned by run_date (date) alone', (dataset) => {
    catalogTemplate().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: dataset,
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [Match.objectLike({ Name: 'run_date', Type: 'date' })],
        Parameters: Match.objectLike({ classification: 'parquet' }),
        StorageDescriptor: Match.objectLike({
          Location: s3Location(`/clv/${dataset}/`),
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' }),
        }),
      }),
    });
  });

  it('types every number as a number: no string column holds a count, an amount or a share', () => {
    const numeric = /^(customers|share|equity|equity_share|average_clv|revenue|repeat_rate|mean_probability_alive|age_months|predicted_clv|probability_alive)$/;
    for (const dataset of SUMMARY_DATASETS) {
      for (const c of SUMMARY_TABLES[dataset].columns) if (numeric.test(c.name)) expect(['int', 'double'], `${dataset}.${c.name}`).toContain(c.type);
    }
  });
});

describe('GLUE_TYPES', () => {
  it('maps every column type of tables.ts to its Hive type', () => {
    expect(Object.keys(GLUE_TYPES).sort()).toEqual([...COLUMN_TYPES].sort());
    expect(GLUE_TYPES).toEqual({ string: 'string', int: 'int', double: 'double', date: 'date', boolean: 'boolean' });
  });
});
