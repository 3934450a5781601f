import { randomUUID } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `path` whole or not at all, through a temporary file beside it named for this write alone:
 * a crash or a full disk mid-write leaves the file that was there, and two processes writing one
 * path at once each rename their own (the last one's bytes stand), neither finding its file gone.
 * @throws the file system's error (the temporary file removed)
 */
export const writeAtomically = async (path: string, text: string): Promise<void> => {
  const partial = `${path}.${process.pid}.${randomUUID()}.partial`;
  try {
    await writeFile(partial, text);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
};
