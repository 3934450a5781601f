import { execFileSync, spawn } from 'node:child_process';
import { chmod, link, mkdir, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOutputFile } from '../../lambdas/clv-job/adapters/output-folder.js';
import { tempDir } from '../support/files.js';

describe('a file a command writes (clv report --output, clv backtest --output)', () => {
  it('keeps the last good file until the new one is whole, then replaces it, leaving nothing beside it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'report.html');
    await writeFile(path, 'last good page');

    const file = await openOutputFile(path);
    // opened: the last good file is untouched while the command works
    expect(await readFile(path, 'utf8')).toBe('last good page');
    await file.write('new page');

    expect(await readFile(path, 'utf8')).toBe('new page');
    expect(await readdir(dir)).toEqual(['report.html']);
  });

  it('writes through a link to the file it leads to, keeping the link', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'shared'));
    await writeFile(join(dir, 'shared', 'page.html'), 'old');
    await symlink(join(dir, 'shared', 'page.html'), join(dir, 'link.html'));

    const file = await openOutputFile(join(dir, 'link.html'));
    await file.write('new');

    expect(await readlink(join(dir, 'link.html'))).toBe(join(dir, 'shared', 'page.html'));
    expect(await readFile(join(dir, 'shared', 'page.html'), 'utf8')).toBe('new');
  });

  it('keeps the mode of the file it replaces (a report holds customer ids), and writes into what is not a plain file of one name', async () => {
    const dir = await tempDir();
    const path = join(dir, 'private.html');
    await writeFile(path, 'old', { mode: 0o600 });
    await chmod(path, 0o600);
    await (await openOutputFile(path)).write('new');
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    // a file with a second name (a hard link) stays one file: both names read the new page
    await link(path, join(dir, 'second-name.html'));
    await (await openOutputFile(path)).write('newer');
    expect(await readFile(join(dir, 'second-name.html'), 'utf8')).toBe('newer');

    // a named pipe stays a pipe, and a reader that opened it first gets the page (`cat pipe > page.html &`)
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    const received = new Promise<string>((resolve) => {
      let text = '';
      reader.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      reader.on('close', () => resolve(text));
    });
    await (await openOutputFile(fifo)).write('piped page');
    expect(await received).toBe('piped page');
    expect((await stat(fifo)).isFIFO()).toBe(true);
  });

  it('removes a file it made for a command that failed, and keeps one that was there', async () => {
    const dir = await tempDir();
    const made = await openOutputFile(join(dir, 'new.html'));
    await made.abandon();
    await writeFile(join(dir, 'kept.html'), 'kept');
    const kept = await openOutputFile(join(dir, 'kept.html'));
    await kept.abandon();

    expect(await readdir(dir)).toEqual(['kept.html']);
    expect(await readFile(join(dir, 'kept.html'), 'utf8')).toBe('kept');
  });
});
