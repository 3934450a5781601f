import type { MakeDirectoryOptions, PathLike } from 'node:fs';
import type * as nodeFs from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The bundled orders export `npm start` runs on. */
export const sampleData = join(repoRoot, 'sample-data');
export const fixture = (...parts: string[]): string => join(repoRoot, 'test', 'fixtures', ...parts);

/** A fresh folder, removed when the test that made it finishes (or kept when made outside a test). */
export const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'clv-test-'));
  try {
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
  } catch {
    // made in a hook rather than a test: the hook's own teardown removes it
  }
  return dir;
};

export const writeText = async (dir: string, name: string, content: string | Uint8Array): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

/** What a reader of an output folder finds: the published files (links into the live runs), not the job's own `_` folders. */
export const publishedFiles = async (root: string): Promise<string[]> =>
  (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .filter((path) => !path.startsWith('_'))
    .sort();

/**
 * A disk with no inode left, as Node 20 reports it (checked on tmpfs and ext4): a plain mkdir of a
 * new folder fails with the kernel's ENOSPC, a recursive one with ENOENT although the parent exists.
 * Folders already there are made (or refused) as usual.
 */
export const outOfInodes: Pick<typeof nodeFs, 'mkdir'> = {
  mkdir: (async (path: PathLike, options?: MakeDirectoryOptions) => {
    if (await stat(path).then(() => true, () => false)) return mkdir(path, options);
    const code = options?.recursive === true ? 'ENOENT' : 'ENOSPC';
    throw Object.assign(new Error(`${code}: injected, mkdir '${String(path)}'`), { code, syscall: 'mkdir', path: String(path) });
  }) as typeof nodeFs.mkdir,
};
