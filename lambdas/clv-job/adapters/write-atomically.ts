import { randomUUID } from 'node:crypto';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `path` whole or not at all, through a temporary file beside it named for this write alone:
 * a crash or a full disk mid-write leaves the file that was there, and two processes writing one
 * path at once each rename their own (the last one's bytes stand), neither finding its file gone.
 * `mode`: the permissions the file gets (those of the file it replaces); by default the process's.
 * @throws the file system's error (the temporary file removed)
 */
export const writeAtomically = async (path: string, text: string, mode?: number): Promise<void> => {
  const partial = `${path}.${process.pid}.${randomUUID()}.partial`;
  try {
    await writeFile(partial, text, mode === undefined ? {} : { mode: mode & 0o7777 });
    // the process's umask narrows the mode asked for: the file being replaced keeps its own
    if (mode !== undefined) await chmod(partial, mode & 0o7777);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
};
