import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeScratchFolder, removeAbandonedScratch, scratchName } from '../../lambdas/clv-job/adapters/scratch-folder.js';
import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { tempDir, writeText } from '../support/files.js';

/**
 * A process killed mid-read cannot remove its scratch (the re-framed rows of a whole export, DuckDB's
 * spill): the next process that makes scratch of the same kind removes what ended processes left.
 */

/** The pid of a process that has run and ended, as a killed run's is. */
const endedPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', 'process.kill(process.pid, "SIGKILL")']);
  await once(child, 'exit');
  return child.pid!;
};

const host = hostname().replace(/[^A-Za-z0-9.]/g, '_');

describe('scratch folders', () => {
  it("are named for this host and process, and removed once their process has ended, never while it runs or when another host's", async () => {
    const parent = await tempDir();
    const dead = await endedPid();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    await once(live, 'spawn');
    try {
      const left = join(parent, `clv-ingest-${host}-${dead}-aBc123`);
      await mkdir(left);
      await writeFile(join(left, 'records.csv'), 'order_id,customer_id\n1,C1\n');
      const keep = [`clv-ingest-${host}-${live.pid}-xYz789`, `clv-ingest-another.host-${dead}-q1w2e3`, `clv-duckdb-${host}-${dead}-1700000000000`];
      for (const name of keep) await mkdir(join(parent, name));

      const made = await makeScratchFolder(parent, 'clv-ingest-');

      expect(made.startsWith(join(parent, scratchName('clv-ingest-')))).toBe(true);
      expect(scratchName('clv-ingest-')).toBe(`clv-ingest-${host}-${process.pid}-`);
      // the ended process's folder, files and all, is gone; the running one's, another host's and another prefix's stay
      expect(existsSync(left)).toBe(false);
      expect((await readdir(parent)).sort()).toEqual([...keep, made.slice(parent.length + 1)].sort());
      // its own are never taken for abandoned
      await removeAbandonedScratch(parent, 'clv-ingest-');
      expect(existsSync(made)).toBe(true);
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('left by a run killed mid-read are removed by the next read of an export', async () => {
    const dead = await endedPid();
    const left = join(tmpdir(), `clv-ingest-${host}-${dead}-kIlLeD`);
    await mkdir(left, { recursive: true });
    await writeFile(join(left, 'records.csv'), 'the re-framed rows of a whole export\n');
    const dir = await tempDir();
    const path = await writeText(dir, 'orders.csv', 'order_id,customer_id,order_date,amount\nA1,C1,2024-01-01,10\n');

    const result = await ingestLocalFiles([{ path, bytes: 0 }], { directory: join(dir, 'cache') });

    expect(result.files).toHaveLength(1);
    expect(existsSync(left)).toBe(false);
  });
});
