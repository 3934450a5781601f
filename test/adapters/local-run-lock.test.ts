import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { takeLocalLock } from '../../lambdas/clv-job/adapters/local-run-lock.js';
import { RunLockedError } from '../../lambdas/clv-job/errors.js';
import { tempDir } from '../support/files.js';

/** Field 22 of /proc/<pid>/stat (clock ticks after boot), read as proc(5) documents it. */
const startTicksOf = async (pid: number): Promise<number> => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
};
const bootId = async (): Promise<string> => (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();

/** A live process that is not a run: `sleep`, killed when the test finishes. */
const liveChild = (): number => {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  onTestFinished(() => void child.kill('SIGKILL'));
  return child.pid!;
};

/**
 * A process that has ended but is not reaped, as a run killed under `timeout` is until its orphan is
 * adopted: `sleep 0` started by a shell that then becomes `sleep 600`, which never waits for it.
 */
const zombieChild = async (): Promise<number> => {
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  onTestFinished(() => void parent.kill('SIGKILL'));
  const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
  for (let i = 0; i < 100; i++) {
    const state = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.[0];
    if (state === 'Z') return pid;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`process ${pid} did not become a zombie`);
};

/** A lock file left in a fresh output folder by a run that was killed; returns the lock's path. */
const leftLock = async (holder: Record<string, unknown>): Promise<string> => {
  const root = await tempDir();
  await mkdir(join(root, '_lock'), { recursive: true });
  const path = join(root, '_lock', 'run.lock');
  await writeFile(path, JSON.stringify({ runId: 'killed', host: hostname(), since: new Date().toISOString(), token: 't', ...holder }));
  return path;
};

const holderOf = async (path: string): Promise<{ runId: string }> => JSON.parse(await readFile(path, 'utf8'));

describe.runIf(process.platform === 'linux')('the local run lock, where /proc tells processes apart', () => {
  it("records this process's boot id and start time beside its pid", async () => {
    const path = join(await tempDir(), '_lock', 'run.lock');
    const lock = await takeLocalLock(path, 'mine', 3600);

    expect(await holderOf(path)).toMatchObject({ runId: 'mine', pid: process.pid, bootId: await bootId(), startTicks: await startTicksOf(process.pid) });
    await lock.release();
  });

  it('is still held by a live holder whose start time and boot id match, and says how to proceed if it is gone', async () => {
    const pid = liveChild();
    const since = new Date().toISOString();
    const path = await leftLock({ pid, since, bootId: await bootId(), startTicks: await startTicksOf(pid) });
    const until = new Date(Date.parse(since) + 3600_000).toISOString();

    const refused = takeLocalLock(path, 'next', 3600);

    await expect(refused).rejects.toThrow(RunLockedError);
    await expect(refused).rejects.toThrow(`pid ${pid} on ${hostname()}) holds the lock`);
    await expect(refused).rejects.toThrow(`taken over at ${until}, or once its process is gone (same host). If you know that run is gone, delete ${path} and try again`);
    expect((await holderOf(path)).runId).toBe('killed');
  });

  it.each([
    // a container whose entrypoint is the job: every start is pid 1 on the same host
    ['pid 1, now another process', async () => ({ pid: 1, bootId: await bootId(), startTicks: (await startTicksOf(1)) + 1 })],
    ["this process's own pid, left by an earlier process", async () => ({ pid: process.pid, bootId: await bootId(), startTicks: (await startTicksOf(process.pid)) - 1 })],
    ['a live process that started after the holder', async () => {
      const pid = liveChild();
      return { pid, bootId: await bootId(), startTicks: (await startTicksOf(pid)) - 1 };
    }],
    ['a live process with the same start time, before a reboot', async () => {
      const pid = liveChild();
      return { pid, bootId: `not-${await bootId()}`, startTicks: await startTicksOf(pid) };
    }],
    ['a process killed and not yet reaped (a zombie)', async () => {
      const pid = await zombieChild();
      return { pid, bootId: await bootId(), startTicks: await startTicksOf(pid) };
    }],
  ])('takes over a lock whose pid is %s', async (_, holder) => {
    const path = await leftLock(await holder());

    const lock = await takeLocalLock(path, 'next', 3600);

    expect((await holderOf(path)).runId).toBe('next');
    await lock.release();
  });
});

describe.runIf(process.platform === 'linux')('taking over an abandoned lock, when another taker was killed in the middle of it', () => {
  /** The claim name a taker makes for the lock text `text` (local-run-lock.ts claimTakeover). */
  const claimFor = (path: string, text: string): string => `${path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
  const deadHolder = async () => ({ pid: 1, bootId: await bootId(), startTicks: (await startTicksOf(1)) + 1 });

  it.each([
    ['whose process is gone', async () => JSON.stringify({ runId: 'killed-taker', host: hostname(), since: new Date().toISOString(), token: 'k', ...(await deadHolder()) })],
    ['left empty by an older version', async () => ''],
    ['older than the time-to-live', async () => JSON.stringify({ runId: 'stuck-taker', host: 'another-host', pid: 7, since: new Date(Date.now() - 7200_000).toISOString(), token: 'k' })],
  ])('passes a claim %s, takes the lock, and leaves no claim behind', async (_, claimText) => {
    const path = await leftLock(await deadHolder());
    await writeFile(claimFor(path, await readFile(path, 'utf8')), await claimText());

    const lock = await takeLocalLock(path, 'next', 3600);

    expect((await holderOf(path)).runId).toBe('next');
    expect(await readdir(dirname(path))).toEqual(['run.lock']);
    await lock.release();
  });

  it('is refused while the taker holding the claim lives, naming the claim to delete if it is gone', async () => {
    const path = await leftLock(await deadHolder());
    const pid = liveChild();
    const claim = claimFor(path, await readFile(path, 'utf8'));
    await writeFile(claim, JSON.stringify({ runId: 'taker', host: hostname(), since: new Date().toISOString(), token: 'k', pid, bootId: await bootId(), startTicks: await startTicksOf(pid) }));

    const refused = takeLocalLock(path, 'next', 3600);

    await expect(refused).rejects.toThrow(RunLockedError);
    await expect(refused).rejects.toThrow(`another run (taker, pid ${pid} on ${hostname()}) is taking over the abandoned lock`);
    await expect(refused).rejects.toThrow(`delete ${claim} and try again`);
  });
});

describe('the local run lock, written by an older version (pid only)', () => {
  it('is still held while a process with its pid lives', async () => {
    const path = await leftLock({ pid: liveChild() });

    await expect(takeLocalLock(path, 'next', 3600)).rejects.toThrow(RunLockedError);
  });

  it("is taken over when it names this process's own pid: a run never takes its own lock twice", async () => {
    const path = await leftLock({ pid: process.pid });

    const lock = await takeLocalLock(path, 'next', 3600);

    expect((await holderOf(path)).runId).toBe('next');
    await lock.release();
  });
});
