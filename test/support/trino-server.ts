import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { trinoHome, trinoJava } from './services.js';

/**
 * The pinned Trino server (`scripts/install-trino.sh`) for the engine tests: one coordinator that
 * also works, on 127.0.0.1 and a free port, a 1 GB heap, catalogs created at run time
 * (`catalog.management=dynamic`) so each test file points a Hive catalog at its own moto.
 *
 * One server per vitest run: the first test file that asks (`sharedTrino()`) starts it, detached,
 * and leaves its address in the run's folder (`CLV_TRINO_DIR`, set by vitest.config.ts); the
 * others wait for that address; the run's global teardown (`stopSharedTrino`) stops it. A run that
 * needs no Trino starts none.
 */
export interface TrinoServerInfo {
  /** e.g. `http://127.0.0.1:40123` */
  readonly url: string;
  readonly pid: number;
  /** Seconds from spawn to the first answered query. */
  readonly startSeconds: number;
}

const STATE = 'server.json';
const FAILED = 'failed.txt';
const LOCK = 'starting.lock';
const START_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const properties = (entries: Record<string, string | number>): string =>
  Object.entries(entries)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n') + '\n';

/** True once the coordinator has finished starting and runs a query. */
const answers = async (url: string): Promise<boolean> => {
  try {
    const info = (await (await fetch(`${url}/v1/info`)).json()) as { starting?: boolean };
    if (info.starting !== false) return false;
    let result = (await (await fetch(`${url}/v1/statement`, { method: 'POST', body: 'SELECT 1', headers: { 'X-Trino-User': 'test' } })).json()) as {
      nextUri?: string;
      error?: unknown;
    };
    while (result.nextUri && !result.error) result = (await (await fetch(result.nextUri, { headers: { 'X-Trino-User': 'test' } })).json()) as typeof result;
    return result.error === undefined;
  } catch {
    return false;
  }
};

/**
 * Starts a Trino server whose configuration, data and log live in `dir`, detached from this
 * process (stop it with `process.kill(pid)`). Resolves once it answers a query; rejects with the
 * log's tail when it exits or does not answer within two minutes.
 */
export const startTrinoServer = async (dir: string): Promise<TrinoServerInfo> => {
  const home = trinoHome();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  const config = join(etc, 'config.properties');
  writeFileSync(
    config,
    properties({
      coordinator: 'true',
      'node-scheduler.include-coordinator': 'true',
      'http-server.http.port': port,
      'discovery.uri': url,
      'catalog.management': 'dynamic',
      'catalog.store': 'memory',
      'plugin.dir': join(home, 'plugin'),
      'query.max-memory': '512MB',
      'query.max-memory-per-node': '512MB',
      // two cores: few threads, no request log
      'task.concurrency': 2,
      'task.max-worker-threads': 4,
      'http-server.log.enabled': 'false',
      'web-ui.enabled': 'false',
    }),
  );
  const logLevels = join(etc, 'log.properties');
  writeFileSync(logLevels, properties({ io: 'WARN', 'io.trino': 'WARN' }));
  const log = join(dir, 'server.log');
  const out = openSync(log, 'w');
  const started = Date.now();
  const child = spawn(
    trinoJava(),
    [
      '-Xmx1G',
      '-XX:+UseSerialGC',
      '-XX:ActiveProcessorCount=2',
      // client compiler only: the tests' queries are small, and the server is up seconds sooner
      '-XX:TieredStopAtLevel=1',
      '-Xshare:auto',
      '-Djdk.attach.allowAttachSelf=true',
      '-Dnode.environment=test',
      '-Dnode.id=clv-test',
      `-Dnode.data-dir=${join(dir, 'data')}`,
      `-Dconfig=${config}`,
      `-Dlog.levels-file=${logLevels}`,
      '-cp',
      join(home, 'lib', '*'),
      'io.trino.server.TrinoServer',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  child.unref();
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  const tail = () => readFileSync(log, 'utf8').split('\n').slice(-40).join('\n');
  while (Date.now() - started < START_TIMEOUT_MS) {
    if (exited !== null) throw new Error(`Trino (${home}) exited with code ${exited} before it was ready:\n${tail()}`);
    if (await answers(url)) return { url, pid: child.pid!, startSeconds: (Date.now() - started) / 1000 };
    await sleep(250);
  }
  process.kill(child.pid!, 'SIGKILL');
  throw new Error(`Trino (${home}) did not answer within ${START_TIMEOUT_MS / 1000} s:\n${tail()}`);
};

const runDir = (): string => {
  const dir = process.env.CLV_TRINO_DIR;
  if (!dir) throw new Error('CLV_TRINO_DIR is not set: vitest.config.ts sets it for the run that shares one Trino');
  return dir;
};

/**
 * The run's Trino server: started by the first caller of the run (any test file), awaited by the
 * others. Throws the starter's error when it failed.
 */
export const sharedTrino = async (): Promise<TrinoServerInfo> => {
  const dir = runDir();
  mkdirSync(dir, { recursive: true });
  let starter = false;
  try {
    closeSync(openSync(join(dir, LOCK), 'wx'));
    starter = true;
  } catch {
    // another test file is starting it
  }
  if (starter) {
    try {
      const info = await startTrinoServer(dir);
      writeFileSync(join(dir, STATE), JSON.stringify(info));
      return info;
    } catch (error) {
      writeFileSync(join(dir, FAILED), error instanceof Error ? error.message : String(error));
      throw error;
    }
  }
  const deadline = Date.now() + START_TIMEOUT_MS + 10_000;
  while (Date.now() < deadline) {
    if (existsSync(join(dir, STATE))) return JSON.parse(readFileSync(join(dir, STATE), 'utf8')) as TrinoServerInfo;
    if (existsSync(join(dir, FAILED))) throw new Error(`the run's Trino failed to start: ${readFileSync(join(dir, FAILED), 'utf8')}`);
    await sleep(250);
  }
  throw new Error(`the run's Trino was not ready within ${START_TIMEOUT_MS / 1000} s`);
};

/** Stops the run's Trino server, if a test started one, and removes its folder. */
export const stopSharedTrino = async (dir: string): Promise<void> => {
  const state = join(dir, STATE);
  if (existsSync(state)) {
    const { pid } = JSON.parse(readFileSync(state, 'utf8')) as TrinoServerInfo;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (alive()) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(); i++) await sleep(100);
    if (alive()) process.kill(pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
};
