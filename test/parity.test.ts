import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ATHENA_CLIENT_DEFAULTS } from '../lambdas/clv-job/adapters/athena-engine.js';
import { DuckDbEngine } from '../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../lambdas/clv-job/adapters/input-files.js';
import { LocalFolderStore } from '../lambdas/clv-job/adapters/local-folder-store.js';
import { ingestLocalFiles } from '../lambdas/clv-job/adapters/local-ingest.js';
import { ParquetTableWriter } from '../lambdas/clv-job/adapters/parquet-table-writer.js';
import { resolveRunConfig } from '../lambdas/clv-job/cli-options.js';
import type { HandlerResult, createHandler as CreateHandler } from '../lambdas/clv-job/handler.js';
import type { IngestReceipt } from '../lambdas/clv-job/ingest/receipt.js';
import { METRICS_NAMESPACE } from '../lambdas/clv-job/lambda-contract.js';
import { loadLambdaSettings } from '../lambdas/clv-job/lambda-env.js';
import { runPipeline } from '../lambdas/clv-job/pipeline/run.js';
import { renderReport } from '../lambdas/clv-job/report/render-report.js';
import { summarySchema, type Summary } from '../lambdas/clv-job/schemas/summary.js';
import { startStackAthena, type AthenaStandIn } from './support/athena-stand-in.js';
import { queryDuckDb } from './support/duckdb-reader.js';
import { fixture } from './support/files.js';
import { ingestOnMoto } from './support/ingest-drop.js';
import { createOutputTables, motoGlueClient } from './support/moto-glue.js';
import { lambdaEnvironment } from './support/lambda-environment.js';
import { TEST_CREDENTIALS, TEST_REGION, createBucket, startMoto, type MotoServer } from './support/moto-server.js';
import { genOrders } from './support/pipeline.js';
import { describeWith } from './support/services.js';

/*
 * The same orders exports through both composition roots: the CLI's (each file ingested by the one
 * reader, DuckDB over the canonical files, a local folder) and the Lambda's (each file dropped
 * under `orders/` and ingested by the ingest function into `ingested/`, Athena over the Glue table
 * of those copies, S3). The output contract must not depend on where the job ran. Equal by design:
 * the receipts, customer rows (every column, and the segment partition each lands in), counts,
 * rejected rows with their reasons and line numbers, model parameters and every other summary
 * section but `run`. Different by design: `run` (ids, timings, engine, input location), and each
 * file's name as recorded (a local path vs an s3:// URI: compared by file name).
 *
 * Equal means: strings, dates, integers and every count exactly; doubles to 1e-6 relative (1e-9
 * absolute near zero). Engines sum doubles in their own order, so model parameters fitted on them
 * may differ in their last digits; a difference beyond that is a bug.
 */
const RELATIVE = 1e-6;
const ABSOLUTE = 1e-9;

/** Where two values differ beyond the tolerance above, as `path: a != b` lines. */
const differences = (a: unknown, b: unknown, path = ''): string[] => {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) && Number.isInteger(b)) return a === b ? [] : [`${path}: ${a} != ${b}`];
    return Math.abs(a - b) <= ABSOLUTE + RELATIVE * Math.max(Math.abs(a), Math.abs(b)) ? [] : [`${path}: ${a} != ${b}`];
  }
  if (typeof a === 'bigint' || typeof b === 'bigint') return differences(Number(a), Number(b), path);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime() ? [] : [`${path}: ${a.toISOString()} != ${b.toISOString()}`];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${a.length} items != ${b.length} items`];
    return a.flatMap((x, i) => differences(x, b[i], `${path}[${i}]`));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return Object.is(a, b) ? [] : [`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`];
};

// gen-orders: some dirty rows of every kind, re-sent orders across files
const GENERATOR = ['--customers', '2000', '--files', '3', '--dirty', '0.03', '--overlap', '0.05', '--seed', '5'];

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** Output rows read back with DuckDB, as any BI tool would, with each file's key relative to the output root. */
const customerRows = async (root: string, runDate: string) =>
  (
    await queryDuckDb(
      `SELECT * EXCLUDE (filename), regexp_extract(filename, 'segment=[a-z]+') AS partition
       FROM read_parquet(${sqlString(`${root}/customers/run_date=${runDate}/*/*.parquet`)}, filename = true, hive_partitioning = false)
       ORDER BY customer_id`,
    )
  ).map((row) => ({ ...row }));

/** The movers dataset's rows, by movement and customer. */
const moverRows = async (root: string, runDate: string) =>
  (await queryDuckDb(`SELECT * FROM read_parquet(${sqlString(`${root}/movers/run_date=${runDate}/*.parquet`)}) ORDER BY movement, customer_id`)).map((row) => ({ ...row }));

/** Rejected rows with their file by name: everything else, line numbers included, must be equal. */
const rejectedRows = async (root: string, runDate: string) =>
  (await queryDuckDb(`SELECT * FROM read_parquet(${sqlString(`${root}/rejected/run_date=${runDate}/*.parquet`)})`))
    .map(({ source_file, ...rest }) => ({ ...rest, file: basename(String(source_file)) }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Receipts by the file's name, without the name each path records (a local path, an s3:// URI). */
const receiptsByFile = (receipts: readonly IngestReceipt[]) =>
  Object.fromEntries(receipts.map(({ source, ...rest }) => [basename(source), rest]).sort(([a], [b]) => String(a).localeCompare(String(b))));

/**
 * A summary without its `run` section, and with each export named by its place in the drop (the
 * local folder or the S3 drop prefix left out): what must not depend on where the job ran.
 */
const engineIndependent = ({ run: _run, ...rest }: Summary, dropLocation: string) =>
  JSON.parse(JSON.stringify(rest).replaceAll(JSON.stringify(dropLocation).slice(1, -1), '<drop>/')) as Omit<Summary, 'run'>;

interface ParityCase {
  readonly title: string;
  /** The folder of exports, or a function writing them into the folder given. */
  readonly input: string | ((dir: string) => Promise<unknown>);
  /** Each night: a title, the CLI's --as-of, the Lambda's event. */
  readonly nights: readonly (readonly [string, string | undefined, Record<string, unknown>])[];
  /** Publish although a data-quality gate fails, on both paths: small adversarial drops reject a large share on purpose. */
  readonly acceptFailedGates?: boolean;
  /** Checks of the right answer on the Lambda's side, counted by hand (the fixtures' READMEs). */
  readonly rightAnswer?: (summary: Summary, customers: Map<string, Record<string, unknown>>) => void;
}

const CASES: readonly ParityCase[] = [
  {
    title: 'a generated export (2,000 customers, 3 files, dirty rows of every kind, re-sent orders)',
    input: (dir) => genOrders(dir, GENERATOR),
    nights: [
      // an earlier night first: the later ones compare with it (tier migration, movers: the previous run's customers joined in each engine)
      ['an earlier night', '2025-09-30', { runDate: '2025-09-30' }],
      ['a night re-run with { runDate }', '2025-12-31', { runDate: '2025-12-31' }],
      ['a scheduled night (as-of: the latest valid order date)', undefined, { source: 'aws.scheduler' }],
    ],
  },
  {
    // test/fixtures/cases/README.md: what the deployed CSV table made of it before ingest
    title: 'cases/athena-parity (BOM, CRLF, quoted line breaks, a backslash, ragged rows, a blank line, swapped columns)',
    input: fixture('cases', 'athena-parity'),
    nights: [['the night of 2025-06-30', '2025-06-30', { runDate: '2025-06-30' }]],
    acceptFailedGates: true,
    rightAnswer: (summary, customers) => {
      expect(summary.counts).toMatchObject({ input_rows: 18, accepted_orders: 12, duplicate_orders: 1, non_purchase_orders: 2, rejected_rows: 3, customers: 11 });
      expect(summary.counts.rejected_by_reason).toMatchObject({ malformed_row: 2, missing_order_id: 1 });
      // the cancelled order whose channel holds a line break is no purchase
      expect(customers.has('C02')).toBe(false);
      // a trailing backslash is part of an id, not an escape
      expect(customers.get('C07\\')).toMatchObject({ orders: 1, total_revenue: 70 });
      expect(customers.get('C07')).toMatchObject({ orders: 1, total_revenue: 75 });
      // the second file's columns come in another order: read by name
      expect(customers.get('C20')).toMatchObject({ orders: 1, total_revenue: 25 });
      expect([...customers.keys()].some((id) => id.startsWith('O'))).toBe(false);
    },
  },
  {
    title: 'ingest-adversarial (3 files, 2 gzip, every quirk, a README beside them)',
    input: fixture('ingest-adversarial'),
    nights: [['the night of 2025-02-28', '2025-02-28', { runDate: '2025-02-28' }]],
    acceptFailedGates: true,
    rightAnswer: (summary) => {
      expect(summary.counts).toMatchObject({ input_rows: 25, accepted_orders: 7, duplicate_orders: 2, conflicting_duplicates: 1, non_purchase_orders: 1, rejected_rows: 15, customers: 6 });
      expect(summary.counts.rejected_by_reason).toMatchObject({
        malformed_row: 7,
        invalid_order_date: 2,
        implausible_order_date: 1,
        invalid_amount: 2,
        negative_amount: 1,
        missing_customer_id: 1,
        order_date_after_as_of: 1,
      });
    },
  },
];

for (const [index, parity] of CASES.entries()) {
  describeWith(['moto', 'trino'], `parity of the CLI path (DuckDB, local folder) and the Lambda path (ingest function, Athena, S3): ${parity.title}`, () => {
    const BUCKET = `clv-parity-${index}`;
    const LAMBDA_SETTINGS = lambdaEnvironment(BUCKET);
    let work: string;
    let input: string;
    let moto: MotoServer;
    let s3: S3Client;
    let standIn: AthenaStandIn;
    let createHandler: typeof CreateHandler;
    let awsReceipts: IngestReceipt[];

    /** The CLI's run, wired as cli.ts wires it: each export ingested by the one reader, then the night. */
    const runLocally = async (asOf: string | undefined, output: string) => {
      const config = await resolveRunConfig({ input: [input], output, ...(asOf ? { asOf } : {}), ...(parity.acceptFailedGates ? { acceptFailedGates: true } : {}) });
      // ingested into the output folder, as `clv run` does (a cache shared with other runs could hold an older reader's receipts)
      const ingested = await ingestLocalFiles(await findInputFiles(config.inputs), { config: config.ingest, directory: join(output, 'ingested') });
      const engine = await DuckDbEngine.open({ files: ingested.files });
      try {
        const result = await runPipeline(
          { engine, store: new LocalFolderStore(config.output), tables: new ParquetTableWriter(), now: () => new Date(), newRunId: randomUUID, renderReport },
          config.run,
        );
        return { ...result, receipts: ingested.receipts };
      } finally {
        await engine.close();
      }
    };

    /** The Lambda's run: the handler, its clients pointed at the stand-ins. */
    const runOnAws = async (event: Record<string, unknown>): Promise<Extract<HandlerResult, { status: 'succeeded' }>> => {
      const handler = createHandler({
        settings: loadLambdaSettings(LAMBDA_SETTINGS),
        s3,
        glue: motoGlueClient(moto.endpoint),
        athena: new AthenaClient({ ...ATHENA_CLIENT_DEFAULTS, endpoint: standIn.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS }),
        logger: new Logger({ serviceName: 'clv-parity', logLevel: 'ERROR' }),
        metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'clv-parity' }),
      });
      const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        const result = await handler({ ...event, ...(parity.acceptFailedGates ? { acceptFailedGates: true } : {}) });
        if (result.status !== 'succeeded') throw new Error(`the Lambda run was ${result.status}`);
        return result;
      } finally {
        quiet.mockRestore();
      }
    };

    /** Every object under a prefix, as text, by key relative to it. */
    const objects = async (prefix: string): Promise<[string, Uint8Array][]> => {
      const found: [string, Uint8Array][] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: object.Key! }));
          found.push([object.Key!.slice(prefix.length), await body.Body!.transformToByteArray()]);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return found;
    };

    /** A run's files on S3 (written once under `_runs/<run id>/`), downloaded as a reader of that night sees them. */
    const download = async (target: string, runId: string): Promise<void> => {
      for (const [key, bytes] of await objects(`clv/_runs/${runId}/`)) {
        const path = join(target, key);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, bytes);
      }
    };

    beforeAll(async () => {
      // the module reads its environment when loaded, as at a cold start; the clients are passed in below
      Object.assign(process.env, LAMBDA_SETTINGS, { AWS_REGION: TEST_REGION });
      ({ createHandler } = await import('../lambdas/clv-job/handler.js'));
      work = await mkdtemp(join(tmpdir(), 'clv-parity-'));
      if (typeof parity.input === 'string') {
        input = parity.input;
      } else {
        input = join(work, 'input');
        await parity.input(input);
      }
      moto = await startMoto();
      s3 = await createBucket(moto.endpoint, BUCKET);
      // dropped as a data team drops them, each ingested on its S3 event
      const outcomes = await (await ingestOnMoto(moto.endpoint, s3, BUCKET)).dropFolder(input);
      // the exports are ingested; anything else dropped beside them (a README, a truth.json) is left alone
      expect(outcomes.map((o) => [basename(o.source), o.status])).toEqual(
        outcomes.map((o) => [basename(o.source), /\.csv(\.gz)?$/.test(o.source) ? 'ingested' : 'ignored']),
      );
      awsReceipts = (await objects('ingested/_receipts/')).map(([, bytes]) => JSON.parse(Buffer.from(bytes).toString('utf8')) as IngestReceipt);
      standIn = await startStackAthena(s3, BUCKET, { minimumPolls: 0 });
      await createOutputTables(motoGlueClient(moto.endpoint), BUCKET, 'clv/');
    });
    afterAll(async () => {
      await standIn?.stop();
      await moto?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it.each(parity.nights)('gives identical receipts, customers, counts, reasons, model parameters and segments for %s', async (_what, asOf, event) => {
      // one output per path, shared by the nights, so `changes` compares with the same previous run
      const localRoot = join(work, 'local');
      const awsRoot = join(work, 'aws');

      const local = await runLocally(asOf, localRoot);
      const aws = await runOnAws(event);
      await download(awsRoot, aws.runId);
      const runDate = local.summary.run.run_date;
      const awsSummary = JSON.parse(await readFile(join(awsRoot, `summary/run_date=${aws.runDate}/summary.json`), 'utf8')) as Summary;

      expect(receiptsByFile(awsReceipts)).toEqual(receiptsByFile(local.receipts));
      expect(aws.runDate).toBe(runDate);
      expect(awsSummary.run).toMatchObject({ engine: 'athena', as_of: local.summary.run.as_of, as_of_source: local.summary.run.as_of_source });
      expect(local.summary.run.engine).toBe('duckdb');
      expect(awsSummary.counts).toEqual(local.summary.counts);
      expect(awsSummary.counts.rejected_rows).toBeGreaterThan(0);
      expect(awsSummary.counts.duplicate_orders).toBeGreaterThan(0);
      expect(differences(awsSummary.models, local.summary.models)).toEqual([]);
      // the previous run's customers, joined in Athena as DuckDB joins them (its message, should it fail to read them)
      expect(awsSummary.warnings.filter((w) => w.code === 'previous_customers_unreadable')).toEqual([]);
      expect(differences(engineIndependent(awsSummary, `s3://${BUCKET}/orders/`), engineIndependent(local.summary, join(input, '/')))).toEqual([]);
      const localCustomers = await customerRows(localRoot, runDate);
      expect(localCustomers).toHaveLength(local.summary.counts.customers);
      const awsCustomers = await customerRows(awsRoot, runDate);
      expect(differences(awsCustomers, localCustomers)).toEqual([]);
      // the movers, customer by customer, once there is a previous night to compare with
      const localMovers = await moverRows(localRoot, runDate);
      expect(await moverRows(awsRoot, runDate)).toEqual(localMovers);
      if (local.summary.changes.previous_run_date !== null) {
        expect(awsSummary.changes.tier_migration).not.toBeNull();
        expect(localMovers.length).toBeGreaterThan(0);
      }
      const localRejected = await rejectedRows(localRoot, runDate);
      expect(localRejected).toHaveLength(local.summary.counts.rejected_rows);
      expect(await rejectedRows(awsRoot, runDate)).toEqual(localRejected);
      // the published page is the report of the published summary (clv report renders the same page from it)
      expect(await readFile(join(awsRoot, `report/run_date=${runDate}/index.html`), 'utf8')).toBe(await renderReport(summarySchema.parse(awsSummary)));
      parity.rightAnswer?.(awsSummary, new Map(awsCustomers.map((c) => [String(c.customer_id), c])));
    });
  });
}
