import { CreateDatabaseCommand, CreateTableCommand, GetPartitionsCommand, GlueClient } from '@aws-sdk/client-glue';
import { CATALOG_TABLES } from '../../lambdas/clv-job/layout.js';
import { TEST_CREDENTIALS, TEST_REGION } from './moto-server.js';

export const GLUE_DATABASE = 'clv';

/** A Glue client for moto (which serves Glue on the same endpoint as S3). */
export const motoGlueClient = (endpoint: string, maxAttempts = 3): GlueClient => new GlueClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts });

const unlessExists = (error: unknown): void => {
  if ((error as { name?: string }).name !== 'AlreadyExistsException') throw error;
};

/**
 * The output tables the job registers partitions in, as lib/catalog.ts shapes them (partitioned
 * by run_date, customers also by segment), without partition projection. Tables that exist (the
 * stack's own, deployed by the Athena stand-in) are left as they are.
 */
export const createOutputTables = async (glue: GlueClient, bucket: string, prefix: string): Promise<void> => {
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: GLUE_DATABASE } })).catch(unlessExists);
  for (const { dataset, table } of CATALOG_TABLES) {
    await glue.send(
      new CreateTableCommand({
        DatabaseName: GLUE_DATABASE,
        TableInput: {
          Name: table,
          TableType: 'EXTERNAL_TABLE',
          PartitionKeys: [{ Name: 'run_date', Type: 'string' }, ...(dataset === 'customers' ? [{ Name: 'segment', Type: 'string' }] : [])],
          StorageDescriptor: {
            Location: `s3://${bucket}/${prefix}${dataset}/`,
            Columns: [{ Name: 'customer_id', Type: 'string' }],
            InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          },
        },
      }),
    ).catch(unlessExists);
  }
};

/** A table's partitions of a run date: values joined by `/` -> location. */
export const partitionLocations = async (glue: GlueClient, table: string, runDate: string): Promise<Record<string, string>> => {
  const out: Record<string, string> = {};
  const page = await glue.send(new GetPartitionsCommand({ DatabaseName: GLUE_DATABASE, TableName: table, Expression: `run_date = '${runDate}'` }));
  for (const p of page.Partitions ?? []) out[(p.Values ?? []).join('/')] = p.StorageDescriptor?.Location ?? '';
  return out;
};
