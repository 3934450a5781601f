import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputFileError } from '../../lambdas/clv-job/errors.js';
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

  it('sorts by path in UTF-8 byte order, as the engines compare source_file: a full-width letter (U+FF41) before an emoji (U+1F600)', async () => {
    // UTF-16 code units (JavaScript's <) put the emoji's surrogates (0xD83D) before 0xFF41
    const dir = await tempDir();
    await writeText(dir, '\u{1F600}.csv', HEADER);
    await writeText(dir, '\uFF41.csv', HEADER);

    const files = await findInputFiles([dir]);

    expect(files.map((f) => f.path)).toEqual([join(dir, '\uFF41.csv'), join(dir, '\u{1F600}.csv')]);
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

  it('follows a link met in a folder, to a file or to a folder, as if it were what it names (an export linked in from elsewhere is read)', async () => {
    const elsewhere = await tempDir();
    await writeText(elsewhere, 'other.csv', HEADER + 'O2,C2,2025-01-02,20\n');
    await mkdir(join(elsewhere, 'more'));
    await writeText(join(elsewhere, 'more'), 'm.csv', HEADER);
    await writeText(join(elsewhere, 'more'), 'notes.txt', 'x');
    const dir = await tempDir();
    await writeText(dir, 'orders-000.csv', HEADER);
    await symlink(join(elsewhere, 'other.csv'), join(dir, 'orders-001.csv'));
    await symlink(join(elsewhere, 'more'), join(dir, 'linked'));
    await symlink(join(elsewhere, 'more', 'notes.txt'), join(dir, 'notes-link.txt'));

    expect(await findInputFiles([dir])).toEqual([
      { path: join(dir, 'linked', 'm.csv'), bytes: 39 },
      { path: join(dir, 'orders-000.csv'), bytes: 39 },
      { path: join(dir, 'orders-001.csv'), bytes: 59 },
    ]);
  });

  it('reads a folder reached twice through links once, and stops at a link back to a folder it is in (no endless walk)', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'real'));
    await writeText(join(dir, 'real'), 'a.csv', HEADER);
    await symlink(join(dir, 'real'), join(dir, 'again'));
    await symlink(dir, join(dir, 'real', 'up'));
    await symlink('.', join(dir, 'real', 'here'));

    // `again` sorts before `real`: the walk meets the file through the link first, and keeps that spelling
    expect((await findInputFiles([dir, join(dir, 'real')])).map((f) => f.path)).toEqual([join(dir, 'again', 'a.csv')]);
  });

  it('fails on a link in a folder that leads nowhere, naming it, as on an input named that does not exist', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    await symlink(join(dir, 'gone.csv'), join(dir, 'b.csv'));

    const found = findInputFiles([dir]);
    await expect(found).rejects.toThrow(InputFileError);
    await expect(found).rejects.toThrow(`${join(dir, 'b.csv')}: is a link to ${join(dir, 'gone.csv')}, which cannot be read`);
  });

  it('does not walk into a folder it is told to skip (the run\'s output inside the input folder), whichever way it is spelt', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    await mkdir(join(dir, 'out', 'audiences'), { recursive: true });
    await writeText(join(dir, 'out', 'audiences'), 'high.csv', 'customer_id,segment\n');

    expect((await findInputFiles([dir], [`${dir}/./out/`])).map((f) => f.path)).toEqual([join(dir, 'a.csv')]);
    expect((await findInputFiles([dir])).map((f) => f.path)).toEqual([join(dir, 'a.csv'), join(dir, 'out', 'audiences', 'high.csv')]);
  });

  it('does not read a file it is told to skip met in a folder (the spend file kept among the exports), but reads it when named', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    const spend = await writeText(dir, 'spend.csv', 'channel,month,spend\n');

    expect((await findInputFiles([dir], [spend])).map((f) => f.path)).toEqual([join(dir, 'a.csv')]);
    expect((await findInputFiles([spend], [spend])).map((f) => f.path)).toEqual([spend]);
  });

  it('fails on an entry whose name is not UTF-8, naming it, rather than on a path that names nothing', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    // a Windows zip's Latin-1 "März": the byte 0xE4 is no UTF-8
    await writeFile(Buffer.concat([Buffer.from(`${dir}/M`), Buffer.from([0xe4]), Buffer.from('rz.csv')]), HEADER);

    const error = await findInputFiles([dir]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InputFileError);
    expect((error as Error).message).toContain(`${join(dir, 'M\uFFFDrz.csv')}: has a name that is not UTF-8`);
  });

  it('passes hidden entries in a folder (a name starting with "_" or "."), as the drop bucket\'s ingest does; a file named explicitly is read', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    await mkdir(join(dir, '_archive'));
    await writeText(join(dir, '_archive'), 'old.csv', HEADER);
    await mkdir(join(dir, '.git'));
    await writeText(join(dir, '.git'), 'x.csv', HEADER);
    // macOS's AppleDouble file beside an export copied from a Mac: binary, and it failed the night
    await writeText(dir, '._a.csv', '\u0000\u0005\u0016\u0007');
    await writeText(dir, '_draft.csv', HEADER);

    expect((await findInputFiles([dir])).map((f) => f.path)).toEqual([join(dir, 'a.csv')]);
    expect((await findInputFiles([join(dir, '_draft.csv')])).map((f) => f.path)).toEqual([join(dir, '_draft.csv')]);
  });

  it('does not walk into another run\'s output folder met in a folder (published, staged, or locked beside its ingest cache), and refuses one given as an input', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    const outputs = { published: ['_publish'], staged: ['_runs', '_lock'], locked: ['_lock', 'ingested'] };
    for (const [name, folders] of Object.entries(outputs)) {
      for (const folder of [...folders, 'audiences']) await mkdir(join(dir, name, folder), { recursive: true });
      await writeText(join(dir, name, 'audiences'), 'high.csv', 'customer_id,segment\n');
    }
    // an export tool's own pointer and run logs beside its exports: still exports
    await mkdir(join(dir, 'shop', '_runs'), { recursive: true });
    await writeText(join(dir, 'shop'), 'latest.json', '{}');
    await writeText(join(dir, 'shop'), 'orders.csv', HEADER);

    expect((await findInputFiles([dir])).map((f) => f.path)).toEqual([join(dir, 'a.csv'), join(dir, 'shop', 'orders.csv')]);
    await expect(findInputFiles([join(dir, 'published')])).rejects.toThrow(/published: is a clv output folder \(it holds _publish\/, or _lock\/ beside _runs\/ or ingested\/\), not a folder of exports/);
  });

  it('does not walk into the folder it is told to skip through a link to it either', async () => {
    const dir = await tempDir();
    await writeText(dir, 'a.csv', HEADER);
    const out = await tempDir();
    await writeText(out, 'high.csv', 'customer_id,segment\n');
    await symlink(out, join(dir, 'out-link'));

    expect((await findInputFiles([dir], [out])).map((f) => f.path)).toEqual([join(dir, 'a.csv')]);
  });
});
