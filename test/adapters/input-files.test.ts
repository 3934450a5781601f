import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { tempDir, writeText } from '../support/files.js';

const HEADER = 'order_id,customer_id,order_date,amount\n';

describe('findInputFiles: the exports a run reads', () => {
  it('walks folders for CSV and CSV.gz files only, takes a file named explicitly whatever its name, sorted by path', async () => {
    const dir = await tempDir();
    await writeText(dir, 'b.csv', HEADER);
    await mkdir(join(dir, 'sub'));
    await writeText(join(dir, 'sub'), 'a.csv.gz', HEADER);
    await writeText(dir, 'truth.json', '{}');
    await writeText(dir, 'notes.txt', 'x');

    const files = await findInputFiles([join(dir, 'notes.txt'), dir]);

    expect(files.map((f) => f.path)).toEqual([join(dir, 'b.csv'), join(dir, 'notes.txt'), join(dir, 'sub', 'a.csv.gz')]);
  });

  it('reads a file reached twice once (its folder and the file, two spellings of one path, a link to it), so its rows are not counted twice', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER + 'O1,C1,2025-01-01,10\n');
    await writeText(dir, 'b.csv', HEADER);
    await symlink(join(dir, 'a.csv'), join(dir, 'link-to-a.csv'));

    const files = await findInputFiles([join(dir, 'a.csv'), `${dir}/./a.csv`, join(dir, 'link-to-a.csv'), dir]);

    expect(files).toEqual([
      { path: join(dir, 'a.csv'), bytes: 59 },
      { path: join(dir, 'b.csv'), bytes: 39 },
    ]);
  });

  it('does not walk into a folder it is told to skip (the run\'s output inside the input folder), whichever way it is spelt', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    await mkdir(join(dir, 'out', 'audiences'), { recursive: true });
    await writeText(join(dir, 'out', 'audiences'), 'high.csv', 'customer_id,segment\n');

    expect((await findInputFiles([dir], [`${dir}/./out/`])).map((f) => f.path)).toEqual([join(dir, 'a.csv')]);
    expect((await findInputFiles([dir])).map((f) => f.path)).toEqual([join(dir, 'a.csv'), join(dir, 'out', 'audiences', 'high.csv')]);
  });
});
