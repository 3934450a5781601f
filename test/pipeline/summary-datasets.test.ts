/**
 * Every summary table as a dataset, the movers and the audiences (SPEC "Acquisition economics"),
 * read back by independent readers: DuckDB for the Parquet, csv-parse for the CSV, and the Glue
 * tables the stack deploys (in moto) for the catalog.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { GetPartitionsCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambdas/clv-job/adapters/s3-store.js';
import { MOVEMENTS } from '../../lambdas/clv-job/domain/segments/movers.js';
import { CATALOG_TABLES } from '../../lambdas/clv-job/layout.js';
import { AUDIENCE_COLUMNS } from '../../lambdas/clv-job/pipeline/write-audiences.js';
import type { Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { SUMMARY_DATASETS, SUMMARY_TABLES, type ColumnType } from '../../lambdas/clv-job/schemas/tables.js';
import { CHANNEL_SEGMENT_SCHEMES, type ChannelSegmentScheme } from '../../lambdas/clv-job/domain/acquisition/channel-segments.js';
import { parquetTypes, queryDuckDb } from '../support/duckdb-reader.js';
import { repoRoot, sampleData, tempDir, writeText } from '../support/files.js';
import { createBucket, startMoto, TEST_CREDENTIALS, TEST_REGION, type MotoServer } from '../support/moto-server.js';
import { runLocal } from '../support/pipeline.js';
import { describeWith } from '../support/services.js';
import { deployStackGlueTables } from '../support/trino-catalog.js';

const DUCKDB_TYPE: Record<ColumnType, string> = { string: 'VARCHAR', int: 'INTEGER', double: 'DOUBLE', date: 'DATE', boolean: 'BOOLEAN' };
const GLUE_TO_DUCKDB: Record<string, string> = { string: 'VARCHAR', int: 'INTEGER', double: 'DOUBLE', date: 'DATE', boolean: 'BOOLEAN' };

/** The summary's table of each segmentation scheme. */
const SEGMENT_TABLE = { clv_tier: 'clv_tiers', value_loyalty: 'value_loyalty', rfm: 'rfm' } as const satisfies Record<ChannelSegmentScheme, string>;

const BEFORE = '2025-09-30';
const NIGHT = '2025-12-31';

/** A dataset of one run date, as DuckDB reads it (without the partition column). */
const datasetRows = (out: string, dataset: string, runDate: string): Promise<Record<string, unknown>[]> =>
  queryDuckDb(`SELECT * EXCLUDE (run_date) FROM read_parquet('${out}/${dataset}/run_date=${runDate}/*.parquet', hive_partitioning = true)`);

/** Every audience file of a scheme: segment file name -> parsed records (header first). */
const audienceFiles = async (out: string, runDate: string, scheme: string): Promise<Map<string, string[][]>> => {
  const dir = join(out, 'audiences', `run_date=${runDate}`, scheme);
  const files = new Map<string, string[][]>();
  for (const name of (await readdir(dir)).sort()) files.set(name.replace(/\.csv$/, ''), parse(await readFile(join(dir, name)), { relax_column_count: false }) as string[][]);
  return files;
};

/** What DuckDB prints for a double, parsed back: the CSV must hold the same number. */
const sameNumber = (text: string, value: unknown): boolean => (value === null ? text === '' : Number(text) === value);

describe('summary datasets and audiences of two nights of the sample', () => {
  let out: string;
  let first: Summary;
  let summary: Summary;
  beforeAll(async () => {
    out = await tempDir();
    first = (await runLocal([sampleData], out, { asOf: BEFORE })).summary;
    summary = (await runLocal([sampleData], out, { asOf: NIGHT })).summary;
  }, 120_000);

  it.each(SUMMARY_DATASETS)('types every column of %s as SUMMARY_TABLES says', async (dataset) => {
    const types = await parquetTypes(`${out}/${dataset}/run_date=${NIGHT}/part-00000.parquet`);

    expect(types).toEqual(Object.fromEntries(SUMMARY_TABLES[dataset].columns.map((c) => [c.name, DUCKDB_TYPE[c.type]])));
  });

  it('holds in segments every row of the summary\'s three segment tables, value for value, actions joined by " | "', async () => {
    const rows = await datasetRows(out, 'segments', NIGHT);

    const expected = CHANNEL_SEGMENT_SCHEMES.flatMap((scheme) => summary.segments[SEGMENT_TABLE[scheme]].map((r) => ({ scheme, ...r, actions: r.actions.join(' | ') })));
    expect(rows).toEqual(expected);
    // each scheme covers every customer once
    for (const scheme of CHANNEL_SEGMENT_SCHEMES) {
      const ofScheme = rows.filter((r) => r.scheme === scheme);
      expect(ofScheme.reduce((s, r) => s + Number(r.customers), 0)).toBe(summary.counts.customers);
    }
  });

  it.each(['channels', 'cohorts', 'channel_segments', 'churn'] as const)('holds in %s the summary\'s table, row for row and value for value', async (dataset) => {
    const rows = await datasetRows(out, dataset, NIGHT);

    expect(rows).toEqual(summary[dataset]);
    expect(rows.length).toBeGreaterThan(0);
  });

  it.each(['acquisition', 'acquisition_cohorts'] as const)('holds in %s the summary\'s table, its spend columns null and spend_input false without a spend input', async (dataset) => {
    const rows = await datasetRows(out, dataset, NIGHT);

    const spend = { spend: null, cac: null, ltv_to_cac: null, payback_months: null };
    const flags = dataset === 'acquisition' ? { below_ltv_to_cac_line: null, ltv_to_cac_falling: null } : {};
    expect(rows).toEqual(summary[dataset].map((r) => ({ ...r, ...spend, ...flags, spend_input: false })));
    expect(rows.length).toBeGreaterThan(0);
  });

  it('adds up the channel x segment map to the customers and the equity of the segments dataset, per scheme and segment', async () => {
    const rows = await queryDuckDb(`
      SELECT s.scheme, s.segment, s.customers, SUM(c.customers)::INTEGER AS mapped
      FROM read_parquet('${out}/segments/run_date=${NIGHT}/*.parquet') s
      JOIN read_parquet('${out}/channel_segments/run_date=${NIGHT}/*.parquet') c USING (scheme, segment)
      GROUP BY ALL`);

    expect(rows).toHaveLength(3 + 4 + 11);
    for (const r of rows) expect(r.mapped, `${r.scheme}/${r.segment}`).toBe(r.customers);
  });

  it('keeps each night\'s datasets under its own run date: SQL over run dates sees both nights', async () => {
    const rows = await queryDuckDb(
      `SELECT CAST(run_date AS VARCHAR) AS run_date, SUM(customers)::INTEGER AS customers FROM read_parquet('${out}/channels/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY run_date`,
    );

    expect(rows).toEqual([
      { run_date: BEFORE, customers: first.counts.customers },
      { run_date: NIGHT, customers: summary.counts.customers },
    ]);
  });

  it('writes an empty movers dataset, with its columns, on a first run', async () => {
    const [count] = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS n FROM read_parquet('${out}/movers/run_date=${BEFORE}/*.parquet')`);

    expect(count).toEqual({ n: 0 });
    expect(Object.keys(await parquetTypes(`${out}/movers/run_date=${BEFORE}/part-00000.parquet`))).toEqual(SUMMARY_TABLES.movers.columns.map((c) => c.name));
    for (const movement of MOVEMENTS) expect((await audienceFiles(out, BEFORE, 'movers')).get(movement)).toEqual([[...AUDIENCE_COLUMNS]]);
  });

  it('lists as movers exactly what a SQL join of the two nights\' customers finds', async () => {
    const customers = (runDate: string) => `read_parquet('${out}/customers/run_date=${runDate}/*/*.parquet')`;
    const independent = await queryDuckDb(`
      WITH now AS (SELECT * FROM ${customers(NIGHT)}), before AS (SELECT * FROM ${customers(BEFORE)})
      SELECT n.customer_id, 'entered_high' AS movement, b.clv_tier AS previous_segment, n.clv_tier AS current_segment, n.predicted_clv, n.probability_alive
        FROM now n LEFT JOIN before b USING (customer_id) WHERE n.clv_tier = 'high' AND b.clv_tier IS DISTINCT FROM 'high'
      UNION ALL
      SELECT n.customer_id, 'left_high', b.clv_tier, n.clv_tier, n.predicted_clv, n.probability_alive
        FROM now n JOIN before b USING (customer_id) WHERE b.clv_tier = 'high' AND n.clv_tier <> 'high'
      UNION ALL
      SELECT n.customer_id, 'became_at_risk', b.rfm_segment, n.rfm_segment, n.predicted_clv, n.probability_alive
        FROM now n LEFT JOIN before b USING (customer_id) WHERE n.rfm_segment = 'At Risk' AND b.rfm_segment IS DISTINCT FROM 'At Risk'
      ORDER BY movement, customer_id`);
    const ours = await queryDuckDb(
      `SELECT * EXCLUDE (run_date, previous_run_date), CAST(previous_run_date AS VARCHAR) AS since FROM read_parquet('${out}/movers/run_date=${NIGHT}/*.parquet', hive_partitioning = true) ORDER BY movement, customer_id`,
    );

    expect(ours.map(({ since, ...row }) => row)).toEqual(independent);
    expect(new Set(ours.map((r) => r.since))).toEqual(new Set([BEFORE]));
    // the sample moves customers every way between the two nights, so the comparison is not vacuous
    for (const movement of MOVEMENTS) expect(ours.filter((r) => r.movement === movement).length, movement).toBeGreaterThan(0);
  });

  it.each(CHANNEL_SEGMENT_SCHEMES)('puts every customer in exactly one %s audience, as many as the summary counts, ordered by CLV then id', async (scheme) => {
    const customers = await queryDuckDb(`SELECT customer_id, predicted_clv, probability_alive FROM read_parquet('${out}/customers/run_date=${NIGHT}/*/*.parquet')`);
    const byId = new Map(customers.map((c) => [String(c.customer_id), c]));

    const files = await audienceFiles(out, NIGHT, scheme);

    const seen: string[] = [];
    for (const row of summary.segments[SEGMENT_TABLE[scheme]]) {
      const file = row.segment.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
      const [header, ...records] = files.get(file) ?? [];
      expect(header, `${scheme}/${file}.csv`).toEqual([...AUDIENCE_COLUMNS]);
      expect(records, `${scheme}/${file}.csv`).toHaveLength(row.customers);
      for (const [id, segment, clv, alive, action] of records as [string, string, string, string, string][]) {
        const customer = byId.get(id)!;
        expect(segment).toBe(row.segment);
        expect(sameNumber(clv, customer.predicted_clv) && sameNumber(alive, customer.probability_alive), id).toBe(true);
        expect(action).toBe(row.actions[0]);
        seen.push(id);
      }
      const order = records.map(([id, , clv]) => [Number(clv), id] as const);
      for (let k = 1; k < order.length; k++) {
        const [[v0, id0], [v1, id1]] = [order[k - 1]!, order[k]!];
        expect(v0 > v1 || (v0 === v1 && id0! < id1!), `${file}: row ${k}`).toBe(true);
      }
    }
    expect(files.size).toBe(summary.segments[SEGMENT_TABLE[scheme]].length);
    expect(seen.sort()).toEqual([...byId.keys()].sort());
  });

  it('has one movers audience per movement, holding exactly the movers dataset\'s customers of that movement', async () => {
    const movers = await datasetRows(out, 'movers', NIGHT);
    const files = await audienceFiles(out, NIGHT, 'movers');

    expect([...files.keys()].sort()).toEqual([...MOVEMENTS].sort());
    for (const movement of MOVEMENTS) {
      const ids = files.get(movement)!.slice(1).map((r) => r[0]);
      expect(ids.sort(), movement).toEqual(movers.filter((m) => m.movement === movement).map((m) => String(m.customer_id)).sort());
    }
  });
});

describe('the acquisition datasets with a spend input (the sample and its spend file, as npm start runs)', () => {
  it('hold the summary\'s CAC, LTV:CAC and payback per channel and per channel x month, flagged spend_input, and LTV:CAC = LTV / (spend / customers)', async () => {
    const out = await tempDir();
    const { summary } = await runLocal([sampleData], out, { asOf: NIGHT }, { spend: join(repoRoot, 'sample-spend') });

    const acquisition = await datasetRows(out, 'acquisition', NIGHT);
    const cohorts = await datasetRows(out, 'acquisition_cohorts', NIGHT);

    expect(summary.spend_input).toBeDefined();
    expect(acquisition).toEqual(summary.acquisition.map((r) => ({ ...r, spend_input: true })));
    expect(cohorts).toEqual(summary.acquisition_cohorts.map((r) => ({ ...r, spend_input: true })));
    const priced = acquisition.filter((r) => r.ltv_to_cac !== null);
    expect(priced.length).toBeGreaterThan(0);
    for (const r of priced) {
      const cac = Number(r.spend) / Number(r.customers_acquired);
      expect(Math.abs(Number(r.ltv_to_cac) - Number(r.ltv_per_customer) / cac) / (Number(r.ltv_per_customer) / cac), String(r.channel)).toBeLessThan(1e-12);
    }
  }, 60_000);
});

describe('audience files with awkward customer ids', () => {
  it('round-trip ids holding commas, quotes, line breaks and non-ASCII letters through csv-parse, and are UTF-8 RFC 4180 with CRLF', async () => {
    // Prepare: 40 customers, a handful with ids a naive CSV writer breaks, each with a few orders
    const awkward = ['comma, inc', 'say "hi"', 'two\nlines', 'cr\rthen', 'Zoë Ünal', '=1+2'];
    const ids = [...awkward, ...Array.from({ length: 34 }, (_, i) => `C${i}`)];
    const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
    const lines = ['order_id,customer_id,order_date,amount,channel'];
    ids.forEach((id, c) => {
      for (let k = 0; k <= c % 4; k++) lines.push(`o${c}-${k},${quote(id)},2025-0${1 + ((c + 3 * k) % 9)}-1${k},${10 + c + k},email`);
    });
    const input = await tempDir();
    await writeText(input, 'orders.csv', lines.join('\r\n') + '\r\n');
    const out = await tempDir();

    // Act
    const { summary } = await runLocal([input], out, { asOf: '2025-12-31' });

    // Assess
    expect(summary.counts.customers).toBe(ids.length);
    const dir = join(out, 'audiences', 'run_date=2025-12-31', 'clv_tier');
    const found: string[] = [];
    for (const name of await readdir(dir)) {
      const bytes = await readFile(join(dir, name));
      expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'no BOM').toBe(false);
      const text = bytes.toString('utf8');
      expect(text.endsWith('\r\n')).toBe(true);
      // any line break ends a record for this reader (as for most tools): only quoting keeps one inside an id
      const [header, ...records] = parse(text, { record_delimiter: ['\r\n', '\n', '\r'] }) as string[][];
      expect(header).toEqual([...AUDIENCE_COLUMNS]);
      found.push(...records.map((r) => r[0]!));
    }
    expect(found.sort()).toEqual([...ids].sort());
  }, 60_000);
});

describeWith('moto', 'summary datasets through the stack\'s Glue tables (moto S3 and Glue)', () => {
  const BUCKET = 'clv-datasets';
  let moto: MotoServer;
  let s3: S3Client;
  let glue: GlueClient;
  let database: string;
  let runId: string;

  beforeAll(async () => {
    moto = await startMoto();
    s3 = await createBucket(moto.endpoint, BUCKET);
    glue = new GlueClient({ endpoint: moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    ({ database } = await deployStackGlueTables(moto.endpoint, BUCKET));
    const store = new S3Store({ client: s3, bucket: BUCKET, prefix: 'clv/', catalog: { client: glue, database, tables: CATALOG_TABLES } });
    runId = (await runLocal([sampleData], await tempDir(), { asOf: NIGHT }, { store: () => store })).summary.run.run_id;
  }, 120_000);
  afterAll(() => moto?.stop());

  it.each(SUMMARY_DATASETS)('registers %s\'s night at the run\'s prefix, and DuckDB reads the file there with the Glue table\'s columns and types', async (dataset) => {
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: dataset }));
    const { Partitions } = await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: dataset }));

    expect(Partitions?.map((p) => [p.Values, p.StorageDescriptor?.Location])).toEqual([[[NIGHT], `s3://${BUCKET}/clv/_runs/${runId}/${dataset}/run_date=${NIGHT}/`]]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `clv/_runs/${runId}/${dataset}/run_date=${NIGHT}/` }));
    expect(listed.Contents?.map((o) => o.Key!.split('/').at(-1))).toEqual(['part-00000.parquet']);
    const path = join(await tempDir(), 'part.parquet');
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: listed.Contents![0]!.Key! }));
    await writeText(join(path, '..'), 'part.parquet', await object.Body!.transformToByteArray());
    const glueColumns = (Table?.StorageDescriptor?.Columns ?? []).map((c) => [c.Name, GLUE_TO_DUCKDB[c.Type ?? '']]);
    expect(Object.entries(await parquetTypes(path))).toEqual(glueColumns);
  });

  it('lists every audience in the night\'s manifest, readable through the store as readers reach it', async () => {
    const manifest = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `clv/summary/run_date=${NIGHT}/_manifest.json` }))).Body!.transformToString(),
    ) as { files: { key: string }[] };

    const audiences = manifest.files.filter((f) => f.key.startsWith(`audiences/run_date=${NIGHT}/`)).map((f) => f.key);
    expect(audiences).toContain(`audiences/run_date=${NIGHT}/rfm/can_t_lose_them.csv`);
    expect(audiences).toHaveLength(3 + 4 + 11 + 3);
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `clv/_runs/${runId}/audiences/run_date=${NIGHT}/clv_tier/high.csv` }));
    expect(object.ContentType).toBe('text/csv; charset=utf-8; header=present');
    expect((await object.Body!.transformToString()).split('\r\n')[0]).toBe(AUDIENCE_COLUMNS.join(','));
  });
});
