import { execFileSync, spawn } from 'node:child_process';
import { chmod, link, mkdir, readFile, readdir, readlink, realpath, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOutputFile } from '../../lambdas/clv-job/adapters/output-folder.js';
import { ConfigurationError } from '../../lambdas/clv-job/errors.js';
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

describe('an output folder\'s own records, which clv report --output and clv backtest --output refuse to write', () => {
  /** An output folder as README "Output layout" draws it: the publishing records, the switch, the runs, the lock, the ingest cache. */
  const outputFolder = async (): Promise<string> => {
    const out = join(await tempDir(), 'out');
    for (const folder of ['_publish', '_live', '_runs/r1', '_lock', '_quality/run_date=2025-12-31', 'ingested/_receipts']) await mkdir(join(out, folder), { recursive: true });
    await writeFile(join(out, '_publish', 'versions.json'), '{"2025-12-31": ["two versions"]}');
    await writeFile(join(out, 'latest.json'), '{"run_date": "2025-12-31"}');
    await writeFile(join(out, '_lock', 'run.lock'), 'held');
    return out;
  };
  /** Every file under `dir` with its bytes, to show that nothing was written, made or removed. */
  const contents = async (dir: string): Promise<Record<string, string>> => {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(f, 'utf8')] as const)));
  };

  it.each([
    ['_publish/versions.json', 'is in _publish/'],
    ['_publish/report.html', 'is in _publish/'],
    ['latest.json', 'is latest.json'],
    ['_lock/run.lock', 'is in _lock/'],
    ['_live/report.html', 'is in _live/'],
    ['_runs/report.html', 'is in _runs/'],
    ['_quality/run_date=2025-12-31/quality.json', 'is in _quality/'],
    ['ingested/_receipts/export.json', 'is in ingested/'],
  ])('refuses %s, naming the output folder, and writes nothing', async (inside, what) => {
    const out = await outputFolder();
    const before = await contents(out);

    const opening = openOutputFile(join(out, inside), '--output');

    await expect(opening).rejects.toBeInstanceOf(ConfigurationError);
    await expect(opening).rejects.toThrow(`--output ${join(out, inside)}: ${what}, which the output folder ${await realpath(out)} keeps for its own records`);
    expect(await contents(out)).toEqual(before);
  });

  it('refuses a link that leads to an output folder\'s latest.json, and one to the folder itself', async () => {
    const out = await outputFolder();
    const dir = dirname(out);
    await symlink(join(out, 'latest.json'), join(dir, 'newest.json'));
    await symlink(out, join(dir, 'linked-out'));

    await expect(openOutputFile(join(dir, 'newest.json'))).rejects.toThrow(/: is latest\.json, which the output folder \S+ keeps/);
    await expect(openOutputFile(join(dir, 'linked-out', '_publish', 'versions.json'))).rejects.toThrow(/: is in _publish\/, which the output folder \S+ keeps/);
    expect(await readFile(join(out, 'latest.json'), 'utf8')).toBe('{"run_date": "2025-12-31"}');
  });

  it('refuses a chain of links that ends in a file not yet made in an output folder\'s records: the write would land there', async () => {
    const out = await outputFolder();
    const dir = dirname(out);
    await symlink(join(out, '_lock', 'page.html'), join(dir, 'second.html'));
    await symlink(join(dir, 'second.html'), join(dir, 'first.html'));

    await expect(openOutputFile(join(dir, 'first.html'))).rejects.toThrow(/first\.html: is in _lock\/, which the output folder \S+ keeps/);
    expect(await readdir(join(out, '_lock'))).not.toContain('page.html');
  });

  it('writes a latest.json, or a file under a folder of the same name, that is in no output folder (an export tool\'s, beside a _runs/ of its own)', async () => {
    const exports = await tempDir();
    await mkdir(join(exports, '_runs'));
    await mkdir(join(exports, 'ingested'));

    await (await openOutputFile(join(exports, 'latest.json'))).write('mine');
    await (await openOutputFile(join(exports, 'ingested', 'notes.txt'))).write('mine too');

    expect(await readFile(join(exports, 'latest.json'), 'utf8')).toBe('mine');
    expect(await readFile(join(exports, 'ingested', 'notes.txt'), 'utf8')).toBe('mine too');
  });

  it('writes a file beside an output folder\'s records, at its top (clv report\'s own default)', async () => {
    const out = await outputFolder();

    await (await openOutputFile(join(out, 'clv-report-2025-12-31.html'))).write('page');

    expect(await readFile(join(out, 'clv-report-2025-12-31.html'), 'utf8')).toBe('page');
  });
});
