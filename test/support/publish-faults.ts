/**
 * Fault injection for the publishing tests: small versions of a night (real Parquet), a file
 * system that fails or dies at its k-th call, child processes that publish, and a reader that
 * says which version of a night it sees.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { GlueClient } from '@aws-sdk/client-glue';
import { build } from 'esbuild';
import { CATALOG_TABLES } from '../../lambdas/clv-job/layout.js';
import { SUMMARY_DATASETS } from '../../lambdas/clv-job/schemas/tables.js';
import { partitionLocations } from './moto-glue.js';
import type { RunManifest, StagedRun } from '../../lambdas/clv-job/ports.js';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { queryDuckDb } from './duckdb-reader.js';
import { stageFiles } from './fault-fs.js';
import { repoRoot, tempDir } from './files.js';

export { RUN_DATE } from './fault-fs.js';
import { RUN_DATE } from './fault-fs.js';

/** One version of a night: which segments it has, its rows per segment, and its run id in every file. */
export interface NightVersion {
  readonly runId: string;
  readonly segments: readonly string[];
  readonly rowsPerSegment: number;
}

const parquetCache = new Map<string, Uint8Array>();

/** A Parquet file of `rows` customers, each carrying the run id, written by DuckDB. */
const customersParquet = async (runId: string, rows: number): Promise<Uint8Array> => {
  const cacheKey = `${runId}/${rows}`;
  const cached = parquetCache.get(cacheKey);
  if (cached) return cached;
  const dir = await tempDir();
  const path = join(dir, 'part.parquet');
  await queryDuckDb(`COPY (SELECT 'c' || i AS customer_id, '${runId}' AS run_id FROM range(${rows}) t(i)) TO '${path}' (FORMAT parquet)`);
  const bytes = await readFile(path);
  parquetCache.set(cacheKey, bytes);
  return bytes;
};

/** The files of a version, keyed as the output contract names them. */
export const versionFiles = async (version: NightVersion, runDate = RUN_DATE): Promise<Record<string, Uint8Array | string>> => {
  const files: Record<string, Uint8Array | string> = {};
  for (const segment of version.segments) {
    files[`customers/run_date=${runDate}/segment=${segment}/part-00000.parquet`] = await customersParquet(version.runId, version.rowsPerSegment);
  }
  files[`rejected/run_date=${runDate}/part-00000.parquet`] = await customersParquet(version.runId, 1);
  // every summary dataset (one Glue table each) and an audience: files a night must never show from another run
  for (const dataset of SUMMARY_DATASETS) files[`${dataset}/run_date=${runDate}/part-00000.parquet`] = await customersParquet(version.runId, 1);
  files[audienceKey(runDate)] = `customer_id,run_id\r\nc0,${version.runId}\r\n`;
  files[`summary/run_date=${runDate}/summary.json`] = JSON.stringify({ run_id: version.runId });
  return files;
};

/** The one audience file of a test version. */
const audienceKey = (runDate: string): string => `audiences/run_date=${runDate}/clv_tier/high.csv`;

/** Writes a version's files into a folder a child process stages from. */
export const writeVersionTo = async (dir: string, version: NightVersion, runDate = RUN_DATE): Promise<void> => {
  for (const [key, body] of Object.entries(await versionFiles(version, runDate))) {
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), body);
  }
};

/** Stages a version's files and returns the manifest to publish it with. */
export const stageVersion = async (run: StagedRun, version: NightVersion, runDate = RUN_DATE): Promise<RunManifest> =>
  stageFiles(run, runDate, await versionFiles(version, runDate));

let shared: Promise<DuckDBConnection> | null = null;
/** One DuckDB connection for the many looks of a test file (a fresh instance per look costs more than the look). */
const readerQuery = async (sql: string): Promise<Record<string, unknown>[]> => {
  shared ??= DuckDBInstance.create(':memory:').then((db) => db.connect());
  return (await (await shared).runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
};

/** What a reader of the output folder sees of a night, read by DuckDB the Hive way. */
export interface SeenVersion {
  readonly runId: string;
  readonly segments: readonly string[];
  readonly rows: number;
}

/**
 * The version DuckDB and a plain reader see in a local output folder; throws, naming the problem,
 * when they see nothing, a mix of runs, or files that disagree with the manifest and summary.
 */
export const seenLocally = async (root: string, runDate = RUN_DATE): Promise<SeenVersion> => {
  const rows = await readerQuery(
    `SELECT run_id, segment, count(*)::INTEGER AS n FROM read_parquet('${root}/customers/**/*.parquet', hive_partitioning = true) WHERE run_date = '${runDate}' GROUP BY ALL ORDER BY segment`,
  );
  const runIds = [...new Set(rows.map((r) => String(r.run_id)))];
  if (runIds.length !== 1) throw new Error(`DuckDB sees ${runIds.length === 0 ? 'no customers' : `a mix of runs ${runIds.join(', ')}`} for ${runDate}`);
  const runId = runIds[0]!;
  const tableRunIds = async (dataset: string): Promise<string> =>
    (await readerQuery(`SELECT DISTINCT run_id FROM read_parquet('${root}/${dataset}/run_date=${runDate}/*.parquet', hive_partitioning = true)`)).map((r) => String(r.run_id)).join(',');
  const rejected = await tableRunIds('rejected');
  const datasets = await Promise.all(SUMMARY_DATASETS.map(tableRunIds));
  const audience = /c0,(.+)\r\n$/.exec(await readFile(join(root, audienceKey(runDate)), 'utf8'))?.[1] ?? 'unreadable';
  const summary = JSON.parse(await readFile(join(root, `summary/run_date=${runDate}/summary.json`), 'utf8')) as { run_id: string };
  const manifest = JSON.parse(await readFile(join(root, `summary/run_date=${runDate}/_manifest.json`), 'utf8')) as RunManifest;
  await stat(join(root, `summary/run_date=${runDate}/_SUCCESS`));
  const others = [rejected, ...datasets, audience, summary.run_id, manifest.runId];
  if (others.some((id) => id !== runId)) {
    throw new Error(`customers are run ${runId} but rejected/${SUMMARY_DATASETS.join('/')}/audience/summary/manifest say ${others.join('/')}`);
  }
  const expected = manifest.files.filter((f) => f.key.startsWith('customers/')).map((f) => /segment=(\w+)/.exec(f.key)?.[1]).sort();
  const segments = rows.map((r) => String(r.segment)).sort();
  if (JSON.stringify(expected) !== JSON.stringify(segments)) throw new Error(`run ${runId}'s manifest has segments ${expected.join(',')} but readers see ${segments.join(',')}`);
  return { runId, segments, rows: rows.reduce((s, r) => s + Number(r.n), 0) };
};

/** Every path under the folder that a reader following links finds, and leftovers a tidy folder lacks. */
export const leftovers = async (root: string): Promise<string[]> => {
  const found: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const rel = path.slice(root.length + 1);
    if (entry.name.includes('.tmp-')) found.push(`temporary ${rel}`);
    if (rel === '_publish/intent.json') found.push('intent record');
    if (entry.isSymbolicLink() && !(await stat(path).then(() => true, () => false))) found.push(`dangling link ${rel}`);
    if (rel.startsWith('_lock/') && entry.isFile()) found.push(`lock file ${rel}`);
  }
  return found.sort();
};

/**
 * Bundles a TypeScript entry for a child process (esbuild, packages left to node_modules), once
 * per test file: the child runs the store's real code with its own fault hooks.
 */
export const bundleChild = async (entry: string): Promise<string> => {
  const outdir = join(repoRoot, 'node_modules', '.cache', 'clv-test-children');
  await mkdir(outdir, { recursive: true });
  const outfile = join(outdir, `${entry.replace(/[^a-z0-9]+/gi, '-')}.mjs`);
  await build({ entryPoints: [join(repoRoot, entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', loader: { '.sql': 'text' }, outfile, logLevel: 'warning' });
  return outfile;
};

/** Runs a bundled child to its end; returns how it ended and what it printed. */
export const runChild = (script: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });

/**
 * The version of a night each kind of S3 reader sees: file readers through the run date's
 * manifest (every file it names downloaded and read by DuckDB), catalog readers through each Glue
 * table's partitions. Throws when a reader sees nothing, a mix, or an incomplete run.
 */
export const seenOnS3 = async (
  client: S3Client,
  glue: GlueClient,
  bucket: string,
  prefix: string,
  runDate = RUN_DATE,
): Promise<{ files: SeenVersion; catalog: Record<string, string> }> => {
  const get = async (key: string): Promise<Uint8Array> => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
    return object.Body!.transformToByteArray();
  };
  const manifest = JSON.parse(Buffer.from(await get(`summary/run_date=${runDate}/_manifest.json`)).toString()) as RunManifest;
  const local = await tempDir();
  for (const key of [...manifest.files.map((f) => f.key), `summary/run_date=${runDate}/_manifest.json`, `summary/run_date=${runDate}/_SUCCESS`]) {
    const bytes = await get(`_runs/${manifest.runId}/${key}`);
    await mkdir(dirname(join(local, key)), { recursive: true });
    await writeFile(join(local, key), bytes);
  }
  const files = await seenLocally(local, runDate);
  const catalog: Record<string, string> = {};
  for (const { dataset, table } of CATALOG_TABLES) {
    const partitions = await partitionLocations(glue, table, runDate);
    const runs = [...new Set(Object.values(partitions).map((l) => /\/_runs\/([^/]+)\//.exec(l)?.[1] ?? `outside the runs: ${l}`))];
    if (runs.length !== 1) throw new Error(`Glue table ${table} of ${runDate} points at ${runs.length === 0 ? 'nothing' : `a mix: ${runs.join(', ')}`}`);
    const runId = runs[0]!;
    // every partition with files in that run is registered, and every registered one points into it
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}_runs/${runId}/${dataset}/` }));
    const withFiles = new Set((listed.Contents ?? []).map((o) => o.Key!.slice(0, o.Key!.lastIndexOf('/') + 1)));
    for (const dir of withFiles) {
      if (!Object.values(partitions).includes(`s3://${bucket}/${dir}`)) throw new Error(`Glue table ${table} lacks the partition at ${dir}`);
    }
    if (!(await get(`_runs/${runId}/summary/run_date=${runDate}/_SUCCESS`).then(() => true, () => false))) throw new Error(`Glue table ${table} points at run ${runId}, which is incomplete`);
    catalog[table] = runId;
  }
  return { files, catalog };
};
