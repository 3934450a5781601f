import { createHash, randomUUID } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { RunLockedError } from '../errors.js';
import type { RunLock } from '../ports.js';
import { pidExists } from './local-process.js';
import { makeFolder } from './make-folder.js';

/** The file-system calls the lock makes; tests pass a wrapper that fails or counts them. */
export type LockFs = Pick<typeof nodeFs, 'mkdir' | 'writeFile' | 'readFile' | 'rename' | 'link' | 'unlink' | 'open'>;

const holderSchema = z.object({
  runId: z.string(),
  pid: z.number().int(),
  host: z.string(),
  /** When the holder took the lock (ISO 8601): a lock older than the time-to-live is abandoned. */
  since: z.iso.datetime(),
  /** Unique per acquisition, so a takeover can tell one holder's lock from the next one's. */
  token: z.string().optional(),
  /**
   * What tells the holder's process from a later one given the same pid (a container's pid 1 at
   * every start, any pid after a reboot), where /proc shows it (Linux): the host's boot id and the
   * process's start time (field 22 of /proc/<pid>/stat, clock ticks after boot). Older locks lack them.
   */
  bootId: z.string().optional(),
  startTicks: z.number().int().optional(),
});
type Holder = z.infer<typeof holderSchema>;

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException)?.code;

/**
 * A process's pid (as /proc's pid namespace numbers it), start time in clock ticks after boot and
 * whether it has ended (a zombie, state Z or X: killed, not yet reaped by its parent), fields 1, 22
 * and 3 of /proc/<pid>/stat; null when that cannot be read.
 */
const readStat = async (which: number | 'self'): Promise<{ pid: number; startTicks: number; ended: boolean } | null> => {
  try {
    const stat = await nodeFs.readFile(`/proc/${which}/stat`, 'utf8');
    // field 2, the command name, may hold spaces and parentheses: field 3 starts after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid: Number.parseInt(stat, 10), startTicks: Number(fields[22 - 3]), ended: fields[0] === 'Z' || fields[0] === 'X' };
  } catch {
    return null;
  }
};

type Identity = Required<Pick<Holder, 'bootId' | 'startTicks'>>;

/**
 * This process's boot id and start time, or null where /proc cannot tell processes apart: not
 * Linux, or a pid namespace without its own /proc (there /proc/self is numbered unlike process.pid).
 */
const ownIdentity = async (): Promise<Identity | null> => {
  const self = await readStat('self');
  if (self?.pid !== process.pid) return null;
  try {
    return { bootId: (await nodeFs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim(), startTicks: self.startTicks };
  } catch {
    return null;
  }
};

/**
 * Whether the holder's process still runs. A pid alone is not enough: the kernel reuses them, so
 * where the holder recorded its boot id and start time and /proc shows ours, both must match. Else
 * the pid decides, except that the caller's own pid is dead: a run never takes its own lock twice.
 */
const isAlive = async (holder: Holder, me: Identity | null): Promise<boolean> => {
  if (holder.host !== hostname()) return true; // another machine's process cannot be checked: the TTL decides
  if (me !== null && holder.bootId !== undefined && holder.startTicks !== undefined) {
    if (holder.bootId !== me.bootId) return false; // taken before this host last booted
    const stat = await readStat(holder.pid);
    // no /proc entry: gone, unless hidden from us (hidepid), which kill 0 tells apart; a zombie runs no more
    return stat === null ? pidExists(holder.pid) : stat.startTicks === holder.startTicks && !stat.ended;
  }
  return holder.pid !== process.pid && pidExists(holder.pid);
};

/**
 * A local run lock: a file holding its holder's identity (run id, pid, host, start time, token,
 * and on Linux the boot id and process start time that tell its process from a later one with its pid).
 *
 * Taking it: the identity is written to a file of its own, then hard-linked to the lock's name;
 * `link` fails with EEXIST when the lock exists (the same guarantee as an O_EXCL create, with the
 * content complete from the first instant). Taking over a dead holder's lock (its process is gone,
 * its pid now another process's, or the lock is older than the time-to-live): the taker first
 * links its identity to a claim named after that holder's lock ({@link claimTakeover}: a claim
 * whose taker died is passed), so of N runs that found the same dead holder exactly one wins; the
 * winner checks the lock is still that holder's and renames its identity over it, so the lock never
 * goes missing in between. A run that loses any of these races is told the lock is held.
 *
 * @throws RunLockedError while a live holder has it (its message names the lock file to delete if
 *   the user knows that run is gone: on another host, say, or an older lock whose pid was reused)
 */
export const takeLocalLock = async (path: string, runId: string, ttlSeconds: number, fs: LockFs = nodeFs, now: () => Date = () => new Date()): Promise<RunLock> => {
  await makeFolder(fs, dirname(path));
  const identity = await ownIdentity();
  const me: Holder = { runId, pid: process.pid, host: hostname(), since: now().toISOString(), token: randomUUID(), ...identity };
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
      if (parsed !== null && !expired && (await isAlive(parsed, identity))) {
        const until = new Date(Date.parse(parsed.since) + ttlSeconds * 1000).toISOString();
        throw new RunLockedError(
          `another run (${parsed.runId}, pid ${parsed.pid} on ${parsed.host}) holds the lock on ${dirname(dirname(path))} since ${parsed.since}; ` +
            `it is taken over at ${until}, or once its process is gone (same host). If you know that run is gone, delete ${path} and try again`,
        );
      }
      const { claim, passed } = await claimTakeover(fs, path, holder.raw, mine, identity, ttlSeconds, now);
      try {
        const again = await readHolder(fs, path);
        if (again?.raw !== holder.raw) throw new RunLockedError(`another run took over the abandoned lock on ${dirname(dirname(path))}`);
        await fs.rename(mine, path);
        // the claims of takers that died: nobody can win with them any more, the lock is no longer their holder's
        for (const dead of passed) await fs.unlink(dead).catch(() => undefined);
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

/**
 * A claim on the dead holder whose lock text is `lockText`: this run's identity file `mine`
 * hard-linked to a name made from that text (`link` fails with EEXIST when the name exists, so
 * exactly one taker gets it, its identity complete from the first instant). A claim whose taker
 * died before finishing (killed mid-takeover) would otherwise block the folder for good, since the
 * dead holder's text, and so the name, never changes: a claim whose process is gone, that names
 * no one (an older version's empty claim), or older than the time-to-live is passed by claiming the
 * next name, made from the lock's text and that claim's, which again exactly one taker gets.
 * Returns the claim taken and the dead claims passed.
 * @throws RunLockedError while a live taker holds a claim (naming the claim file to delete if the
 *   user knows that run is gone)
 */
const claimTakeover = async (
  fs: LockFs,
  path: string,
  lockText: string,
  mine: string,
  identity: Identity | null,
  ttlSeconds: number,
  now: () => Date,
): Promise<{ claim: string; passed: string[] }> => {
  const passed: string[] = [];
  let chain = lockText;
  for (let attempt = 0; attempt < 100; attempt++) {
    const claim = `${path}.takeover-${createHash('sha256').update(chain).digest('hex').slice(0, 24)}`;
    try {
      await fs.link(mine, claim);
      return { claim, passed };
    } catch (error) {
      if (code(error) !== 'EEXIST') throw error;
    }
    const claimant = await readHolder(fs, claim);
    if (claimant === null) continue; // that taker finished or gave up in between: try the name again
    const { parsed } = claimant;
    const expired = parsed !== null && now().getTime() - Date.parse(parsed.since) > ttlSeconds * 1000;
    if (parsed !== null && !expired && (await isAlive(parsed, identity))) {
      throw new RunLockedError(
        `another run (${parsed.runId}, pid ${parsed.pid} on ${parsed.host}) is taking over the abandoned lock on ${dirname(dirname(path))}; ` +
          `if you know that run is gone, delete ${claim} and try again`,
      );
    }
    passed.push(claim);
    // a separator: an empty claim still leads to a new name
    chain = `${chain}\u0000${claimant.raw}`;
  }
  throw new RunLockedError(`could not take over the abandoned lock on ${dirname(dirname(path))}: ${passed.length} abandoned claims beside it`);
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
