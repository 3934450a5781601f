import * as nodeFs from 'node:fs/promises';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolder } from '../../lambdas/clv-job/adapters/make-folder.js';
import { diskFullAdvice } from '../../lambdas/clv-job/errors.js';
import { outOfInodes, tempDir } from '../support/files.js';

describe('makeFolder', () => {
  it('makes a folder and its missing parents, and leaves one that is there', async () => {
    const root = await tempDir();
    const path = join(root, 'segments/run_date=2025-12-31/segment=high');

    await makeFolder(nodeFs, path);
    await makeFolder(nodeFs, path);

    expect((await stat(path)).isDirectory()).toBe(true);
  });

  it("fails with the disk's ENOSPC, which gets the disk-full advice, where Node's recursive mkdir says ENOENT", async () => {
    const root = await tempDir();
    const path = join(root, 'segments/run_date=2025-12-31');

    const failure = makeFolder(outOfInodes, path).catch((error: unknown) => error);

    await expect(outOfInodes.mkdir(path, { recursive: true })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await failure).toMatchObject({ code: 'ENOSPC', path: join(root, 'segments') });
    expect(diskFullAdvice(await failure, '/tmp')).toMatch(/^ \(a disk the run writes to is full/);
  });

  it('fails with ENOTDIR, as Node does, where a file stands in the way', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'segments'), '');

    await expect(makeFolder(nodeFs, join(root, 'segments/run_date=2025-12-31'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
