/**
 * README.md as the job's messages and comments point into it: a line that says `README "<heading>"`
 * sends its reader to a section, which must be there under that name.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/files.js';

/**
 * The README's headings: its `#` lines, and the bold run-in heading a paragraph opens with
 * (`**Publishing records that cannot be read.** Every read of ...`), without the bold or the full stop.
 */
const headingsOf = (markdown: string): Set<string> =>
  new Set(
    markdown.split('\n').flatMap((line) => {
      const heading = /^#+\s+(.+?)\s*$/.exec(line) ?? /^\*\*(.+?)\.\*\*/.exec(line);
      return heading === null ? [] : [heading[1]!];
    }),
  );

describe('README.md', () => {
  let headings: Set<string>;
  let references: { file: string; heading: string }[];

  beforeAll(async () => {
    headings = headingsOf(await readFile(join(repoRoot, 'README.md'), 'utf8'));
    const source = join(repoRoot, 'lambdas');
    const files = (await readdir(source, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.ts'));
    references = (
      await Promise.all(
        files.map(async (e) => {
          const path = join(e.parentPath, e.name);
          const text = await readFile(path, 'utf8');
          return [...text.matchAll(/README \\?"([^"\\]+)\\?"/g)].map((m) => ({ file: relative(repoRoot, path), heading: m[1]! }));
        }),
      )
    ).flat();
  });

  it('finds the headings of both kinds', () => {
    expect(headingsOf('# Title\n\n## Output layout\n\n**The lock.** Locally ...\n**Movers** are ...\n')).toEqual(new Set(['Title', 'Output layout', 'The lock']));
  });

  it('has every section a message or comment under lambdas/ names as README "<heading>"', () => {
    // the job names several sections; a search that finds none is broken, not passing
    expect(references.length).toBeGreaterThan(1);
    expect(references.filter((r) => !headings.has(r.heading))).toEqual([]);
  });
});
