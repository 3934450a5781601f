import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One child process, measured from the outside. */
export interface Measured {
  /** Wall-clock seconds from spawn to exit: what a user waits for. */
  readonly seconds: number;
  /** Peak resident memory of the process in MB (DuckDB's threads included: they share it). */
  readonly peakRssMb: number;
  readonly stdout: string;
}

const GNU_TIME = '/usr/bin/time';

/**
 * How peak RSS is taken: GNU time's `%M` when it is installed; otherwise a preload (`--import`)
 * that writes `process.resourceUsage().maxRSS` when the process exits. Both report kilobytes.
 */
export const rssMethod = (): 'gnu-time' | 'preload' => (existsSync(GNU_TIME) ? 'gnu-time' : 'preload');

/** Runs `node <args>` and measures it. Fails with the child's stderr when it exits non-zero. */
export const measureNode = async (args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> => {
  const work = await mkdtemp(join(tmpdir(), 'clv-bench-measure-'));
  try {
    const rssFile = join(work, 'maxrss');
    let command: string;
    let argv: string[];
    if (rssMethod() === 'gnu-time') {
      command = GNU_TIME;
      argv = ['-f', '%M', '-o', rssFile, process.execPath, ...args];
    } else {
      const preload = join(work, 'maxrss.mjs');
      await writeFile(
        preload,
        `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
      );
      command = process.execPath;
      argv = ['--import', preload, ...args];
    }
    const t0 = performance.now();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    });
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}:\n${stderr || stdout}`);
    const kb = Number((await readFile(rssFile, 'utf8')).trim().split('\n').at(-1));
    return { seconds, peakRssMb: kb / 1024, stdout };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};
