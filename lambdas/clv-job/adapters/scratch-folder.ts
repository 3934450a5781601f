import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pidExists } from './local-process.js';

/**
 * Scratch folders named for the process that made them, `<prefix><host>-<pid>-<random>`, so that a
 * later process can tell which ones a killed process left: a process ended normally removes its own,
 * but one killed (SIGKILL, a Lambda's timeout, an out-of-memory kill) cannot, and its scratch (the
 * re-framed rows of a whole export, DuckDB's spill) would fill the disk kill after kill, in a warm
 * Lambda's /tmp too.
 */

/** The host part of a name: a hostname may hold characters a folder name should not. */
const hostPart = (): string => hostname().replace(/[^A-Za-z0-9.]/g, '_');

/** `<prefix><host>-<pid>-`: what this process's scratch folders under that prefix begin with. */
export const scratchName = (prefix: string): string => `${prefix}${hostPart()}-${process.pid}-`;

/**
 * Removes the scratch folders under `parent` named with `prefix` that a process of this host left
 * and that is no longer running. Folders of other hosts (a shared disk) and of running processes
 * are left alone; a pid taken again by another process keeps its folder until that one ends too.
 * Never throws: a folder that cannot be removed is left for the next time.
 */
export const removeAbandonedScratch = async (parent: string, prefix: string): Promise<void> => {
  const mine = `${prefix}${hostPart()}-`;
  const entries = await readdir(parent).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.startsWith(mine)) continue;
    const pid = Number(/^(\d+)-/.exec(entry.slice(mine.length))?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || pidExists(pid)) continue;
    await rm(join(parent, entry), { recursive: true, force: true }).catch(() => undefined);
  }
};

/**
 * A new scratch folder of this process under `parent` (see scratchName), after removing those
 * abandoned by ended processes under the same prefix. The caller removes it when done.
 */
export const makeScratchFolder = async (parent: string, prefix: string): Promise<string> => {
  await removeAbandonedScratch(parent, prefix);
  return mkdtemp(join(parent, scratchName(prefix)));
};
