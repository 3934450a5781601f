import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateDatabaseCommand, CreateTableCommand, GlueClient, type TableInput } from '@aws-sdk/client-glue';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Trino } from 'trino-client';
import { ClvCatalog } from '../../lib/catalog.js';
import { ClvStorage } from '../../lib/storage.js';
import { TEST_CREDENTIALS, TEST_REGION } from './moto-server.js';

/**
 * Trino reading what the stack deploys, with moto standing in for AWS: a Hive catalog whose
 * metastore is moto's Glue and whose file system is moto's S3 (Trino's native S3 file system with
 * an endpoint override), and the Glue database and tables of `lib/catalog.ts` created in moto
 * through the Glue API from the very CloudFormation the stack synthesises, so Trino reads the
 * types, SerDes, partition keys and projections the stack deploys.
 */

/** Each intrinsic the catalog's template uses, resolved: `Ref` to the bucket, `Fn::Join`. */
const resolveIntrinsics = (value: unknown, bucket: string): unknown => {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, bucket));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [key, argument] = entries[0] ?? [];
  if (entries.length === 1 && key === 'Ref') {
    if (typeof argument === 'string' && argument.startsWith('StorageData')) return bucket;
    throw new Error(`the Glue tables refer to ${JSON.stringify(argument)}, which this test catalog cannot resolve`);
  }
  if (entries.length === 1 && key === 'Fn::Join') {
    const [separator, parts] = argument as [string, unknown[]];
    return parts.map((p) => resolveIntrinsics(p, bucket)).join(separator);
  }
  if (entries.length === 1 && key?.startsWith('Fn::')) throw new Error(`the Glue tables use ${key}, which this test catalog cannot resolve`);
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, bucket)]));
};

/** The Glue database name and table inputs of the stack's catalog, for a deployment on `bucket`. */
export const stackGlueTables = (bucket: string): { database: string; tables: TableInput[] } => {
  // with the feature flags `cdk synth` uses
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
  const stack = new Stack(new App({ context }), 'GlueTables');
  const catalog = new ClvCatalog(stack, 'Catalog', { storage: new ClvStorage(stack, 'Storage') });
  const resources = Template.fromStack(stack).findResources('AWS::Glue::Table');
  // CloudFormation's TableInput has the Glue API's shape and names
  const tables = Object.values(resources).map((r) => resolveIntrinsics((r as { Properties: { TableInput: unknown } }).Properties.TableInput, bucket) as TableInput);
  return { database: catalog.databaseName, tables };
};

/** Creates the stack's Glue database and tables in moto, over `bucket`. */
export const deployStackGlueTables = async (motoEndpoint: string, bucket: string): Promise<{ database: string; tables: string[] }> => {
  const glue = new GlueClient({ endpoint: motoEndpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const { database, tables } = stackGlueTables(bucket);
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  for (const table of tables) await glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: table }));
  glue.destroy();
  return { database, tables: tables.map((t) => t.Name ?? '') };
};

/** Creates a Glue database in moto. */
export const createGlueDatabase = async (motoEndpoint: string, name: string): Promise<void> => {
  const glue = new GlueClient({ endpoint: motoEndpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } }));
  glue.destroy();
};

/**
 * Creates an external Parquet table in moto's Glue, as the stack declares its Parquet tables
 * (Trino's own CREATE TABLE would try to write column statistics, which moto's Glue lacks).
 * Column types are Hive's (`string`, `int`, `double`, `date`, `decimal(p,s)`).
 */
export const createGlueParquetTable = async (
  motoEndpoint: string,
  database: string,
  name: string,
  location: string,
  columns: readonly { readonly name: string; readonly type: string }[],
): Promise<void> => {
  const glue = new GlueClient({ endpoint: motoEndpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  await glue.send(
    new CreateTableCommand({
      DatabaseName: database,
      TableInput: {
        Name: name,
        TableType: 'EXTERNAL_TABLE',
        Parameters: { classification: 'parquet' },
        StorageDescriptor: {
          Location: location,
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          Columns: columns.map((c) => ({ Name: c.name, Type: c.type })),
        },
      },
    }),
  );
  glue.destroy();
};

/**
 * Creates a Hive catalog on the Trino at `trinoUrl` over the moto at `motoEndpoint` and returns
 * its name (unique per call, so test files sharing the run's Trino never see each other's data).
 */
export const createMotoHiveCatalog = async (trinoUrl: string, motoEndpoint: string): Promise<string> => {
  const name = `moto_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const keys = { 'aws-access-key': TEST_CREDENTIALS.accessKeyId, 'aws-secret-key': TEST_CREDENTIALS.secretAccessKey };
  const properties: Record<string, string> = {
    'hive.metastore': 'glue',
    'hive.metastore.glue.region': TEST_REGION,
    'hive.metastore.glue.endpoint-url': motoEndpoint,
    'hive.metastore.glue.aws-access-key': keys['aws-access-key'],
    'hive.metastore.glue.aws-secret-key': keys['aws-secret-key'],
    'fs.native-s3.enabled': 'true',
    's3.endpoint': motoEndpoint,
    's3.region': TEST_REGION,
    's3.path-style-access': 'true',
    's3.aws-access-key': keys['aws-access-key'],
    's3.aws-secret-key': keys['aws-secret-key'],
    // moto's Glue lacks the column statistics API: Trino would retry it with backoff while planning
    // each query (6-7 s a query); Athena plans without statistics from tables that have none
    'hive.table-statistics-enabled': 'false',
    // Athena reads the objects in the sub-folders of a table's location too
    'hive.recursive-directories': 'true',
  };
  const withClause = Object.entries(properties)
    .map(([key, value]) => `"${key}" = '${value.replaceAll("'", "''")}'`)
    .join(', ');
  await trinoStatement(trinoUrl, `CREATE CATALOG ${name} USING hive WITH (${withClause})`);
  return name;
};

/** Drops a catalog made by createMotoHiveCatalog. */
export const dropCatalog = (trinoUrl: string, name: string): Promise<unknown> => trinoStatement(trinoUrl, `DROP CATALOG ${name}`);

/** Runs one statement and returns its rows as Trino's JSON gives them; throws Trino's error. */
export const trinoStatement = async (trinoUrl: string, sql: string, context: { catalog?: string; schema?: string } = {}): Promise<unknown[][]> => {
  // an explicit user: trino-client's default is $USER, which CI may lack
  const trino = Trino.create({ server: trinoUrl, ...context, extraHeaders: { 'X-Trino-User': 'clv-test' } });
  const rows: unknown[][] = [];
  for await (const result of await trino.query(sql)) {
    if (result.error) throw new Error(`${result.error.errorName}: ${result.error.message}`);
    rows.push(...(result.data ?? []));
  }
  return rows;
};
