import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './files.js';

/** The bundle `npm test` builds first; the CLI tests run it as users do. */
export const cliBundle = join(repoRoot, 'dist', 'cli.js');

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The CLI as CI meets it: a separate process, in a folder of its own, not on a terminal; `env` adds
 * to its environment (e.g. a TZ). With `timeoutMs` a CLI still running then is killed and the
 * outcome's code is -1 (a hang fails the test instead of spinning on after it).
 */
export const clv = async (args: readonly string[], cwd: string, env: Readonly<Record<string, string>> = {}, options: { timeoutMs?: number } = {}): Promise<Outcome> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cliBundle, ...args], { cwd, env: { ...process.env, CI: 'true', ...env }, timeout: options.timeoutMs ?? 0 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
};

/** Fails clearly when someone runs vitest without building the bundle first. */
export const requireCliBundle = async (): Promise<void> => {
  await readFile(cliBundle).catch(() => {
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does) before these tests');
  });
};
