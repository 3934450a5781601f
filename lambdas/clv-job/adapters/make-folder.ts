import type * as nodeFs from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Creates `path` and its missing parents (`mkdir -p`), failing with the system's own error. Node's
 * `mkdir(path, { recursive: true })` (20 at least; nodejs/node issues 42808, 47098) answers ENOENT
 * whenever the folder is still missing after a failure, although the parent exists: a disk out of
 * space or of inodes (ENOSPC), a read-only one (EROFS). "ENOENT: no such file or directory" names
 * neither the disk nor what to do, and the disk-full advice (errors.ts diskFullAdvice) is never given.
 * So after an ENOENT the parent is made the same way and the folder with a plain mkdir, whose error
 * is the kernel's: ENOSPC fails as ENOSPC, and a true ENOENT (a parent removed meanwhile) stays one.
 */
export const makeFolder = async (fs: Pick<typeof nodeFs, 'mkdir'>, path: string): Promise<void> => {
  try {
    await fs.mkdir(path, { recursive: true });
  } catch (error) {
    const parent = dirname(path);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === path) throw error;
    await makeFolder(fs, parent);
    await fs.mkdir(path).catch((plain: unknown) => {
      // made meanwhile by a concurrent writer of the same run: what was asked for is there
      if ((plain as NodeJS.ErrnoException).code !== 'EEXIST') throw plain;
    });
  }
};
