import { createHash, randomUUID } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { RunLockedError } from '../errors.js';
import type { RunLock } from '../ports.js';

/** The file-system calls the lock makes; tests pass a wrapper that fails or counts them. */
export type LockFs = Pick<typeof nodeFs, 'mkdir' | 'writeFile' | 'readFile' | 'rename' | 'link' | 'unlink' | 'open'>;

const holderSchema = z.object({
  runId: z.string(),
  pid: z.number().int(),
  host: z.string(),
  /** When the holder took the lock (ISO 8601): a lock older than the time-to-live is abandoned. */
  since: z.string(),
  /** Unique per acquisition, so a takeover can tell one holder's lock from the next one's. */
  token: z.string().optional(),
});
type Holder = z.infer<typeof holderSchema>;

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException)?.code;

const isAlive = (holder: Holder): boolean => {
  if (holder.host !== hostname()) return true; // another machine's process cannot be checked: the TTL decides
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return code(error) === 'EPERM';
  }
};

/**
 * A local run lock: a file holding its holder's identity (run id, pid, host, start time, token).
 *
 * Taking it: the identity is written to a file of its own, then hard-linked to the lock's name;
 * `link` fails with EEXIST when the lock exists (the same guarantee as an O_EXCL create, with the
 * content complete from the first instant). Taking over a dead holder's lock (its process is gone,
 * or the lock is older than the time-to-live): the taker first creates a claim named after that
 * holder's token with O_EXCL (`wx`), so of N runs that found the same dead holder exactly one
 * wins; the winner checks the lock still holds that token and renames its identity over it, so
 * the lock never goes missing in between. A run that loses any of these races is told the lock is held.
 */
export const takeLocalLock = async (path: string, runId: string, ttlSeconds: number, fs: LockFs = nodeFs, now: () => Date = () => new Date()): Promise<RunLock> => {
  await fs.mkdir(dirname(path), { recursive: true });
  const me: Holder = { runId, pid: process.pid, host: hostname(), since: now().toISOString(), token: randomUUID() };
  const mine = `${path}.${me.token}`;
  const handle = await fs.open(mine, 'wx');
  try {
    await handle.writeFile(JSON.stringify(me));
  } finally {
    await handle.close();
  }
  const release = async (): Promise<void> => {
    const holder = await readHolder(fs, path);
    if (holder?.parsed?.token === me.token) await fs.unlink(path).catch(() => undefined);
  };
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fs.link(mine, path);
        return { release };
      } catch (error) {
        if (code(error) !== 'EEXIST') throw error;
      }
      const holder = await readHolder(fs, path);
      if (holder === null) continue; // released in between
      const { parsed } = holder;
      const expired = parsed !== null && now().getTime() - Date.parse(parsed.since) > ttlSeconds * 1000;
      if (parsed !== null && isAlive(parsed) && !expired) {
        throw new RunLockedError(`another run (${parsed.runId}, pid ${parsed.pid} on ${parsed.host}) holds the lock on ${dirname(dirname(path))} since ${parsed.since}`);
      }
      // a claim on this particular dead holder: O_EXCL lets exactly one taker through
      const claim = `${path}.takeover-${createHash('sha256').update(holder.raw).digest('hex').slice(0, 24)}`;
      try {
        await (await fs.open(claim, 'wx')).close();
      } catch (error) {
        if (code(error) === 'EEXIST') throw new RunLockedError(`another run is taking over the abandoned lock on ${dirname(dirname(path))}`);
        throw error;
      }
      try {
        const again = await readHolder(fs, path);
        if (again?.raw !== holder.raw) throw new RunLockedError(`another run took over the abandoned lock on ${dirname(dirname(path))}`);
        await fs.rename(mine, path);
        return { release };
      } finally {
        await fs.unlink(claim).catch(() => undefined);
      }
    }
    throw new RunLockedError(`could not take the lock on ${dirname(dirname(path))}`);
  } finally {
    await fs.unlink(mine).catch(() => undefined);
  }
};

/** The lock's text and holder, or null when there is no lock. An unreadable lock has holder null. */
const readHolder = async (fs: LockFs, path: string): Promise<{ raw: string; parsed: Holder | null } | null> => {
  try {
    const raw = await fs.readFile(path, 'utf8');
    let parsed: Holder | null = null;
    try {
      const result = holderSchema.safeParse(JSON.parse(raw));
      parsed = result.success ? result.data : null;
    } catch {
      parsed = null;
    }
    return { raw, parsed };
  } catch (error) {
    if (code(error) === 'ENOENT') return null;
    throw error;
  }
};
