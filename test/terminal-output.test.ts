import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarySchema } from '../lambdas/clv-job/schemas/summary.js';
import { oneLine } from '../lambdas/clv-job/one-line.js';
import { Writable } from 'node:stream';
import { runTable, spinnerProgress } from '../lambdas/clv-job/terminal-output.js';
import { BACKFILL_NOTE_PREFIX, FIRST_RUN_NOTE } from '../lambdas/clv-job/domain/segments/changes.js';
import { clv, requireCliBundle } from './support/cli.js';
import { runLocal } from './support/pipeline.js';
import { fixture, sampleData, tempDir } from './support/files.js';

describe('the closing table on a terminal', () => {
  it('shows long output paths whole, on a narrow terminal too: never cut with an ellipsis, never wrapped', async () => {
    await requireCliBundle();
    const cwd = await tempDir();
    const output = join('a-rather-long-output-folder-name', 'nested-deeper-for-the-nightly-customer-lifetime-value-runs', 'out');
    expect((await clv(['run', '--input', sampleData, '--output', output, '--as-of', '2025-12-31'], cwd)).code).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, output, 'summary/run_date=2025-12-31/summary.json'), 'utf8')));
    const longOutput = join('exports', 'a-rather-long-output-folder-name-for-the-nightly-customer-lifetime-value-runs');

    const table = runTable(summary, longOutput, 'report/run_date=2025-12-31/index.html', 60);

    expect(table).not.toContain('…');
    expect(table).toContain(`${longOutput}/summary/run_date=2025-12-31/summary.json`);
    expect(table).toContain(`${longOutput}/report/run_date=2025-12-31/index.html`);
  });

  it('says "first run" of a first run only, not of a backfill with nothing before it', async () => {
    const { summary } = await runLocal([sampleData], await tempDir(), { asOf: '2025-12-31' });
    const quiet = (note: string) => ({ ...summary, warnings: [], changes: { ...summary.changes, previous_run_date: null, note, warnings: [] } });

    expect(runTable(quiet(FIRST_RUN_NOTE), 'out', null)).toContain('none (first run)');
    expect(runTable(quiet(`${BACKFILL_NOTE_PREFIX} no night before 2024-12-31 is published to compare with.`), 'out', null)).not.toContain('first run');
  });
});

describe('names from the data on one line', () => {
  it('writes control characters as escapes: a line break, a carriage return, a tab, any other', () => {
    expect(oneLine('multi\nline\r\nthree\tfour\u0007')).toBe(String.raw`multi\nline\r\nthree\tfour\u0007`);
    expect(oneLine('partner, "beta" · 客户')).toBe('partner, "beta" · 客户');
  });

  it('keeps the plain result lines one line each when a channel holds a line break (athena-parity: "multi\\nline\\nthree")', async () => {
    await requireCliBundle();
    const cwd = await tempDir();

    const result = await clv(['run', '--input', fixture('cases', 'athena-parity'), '--output', 'out', '--as-of', '2025-06-30'], cwd);

    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.find((l) => l.startsWith('value per acquired customer: '))).toContain(String.raw`multi\nline\nthree 16.00`);
    // before, the channel's own line breaks started lines of their own: "line", then "three 16.00 · ..."
    expect(lines.filter((l) => /^(line|three)\b/.test(l))).toEqual([]);
  });
});

describe('the stage spinners', () => {
  it('name the model stage for every transaction model: a Pareto/NBD run is not told it fits the BG/NBD', () => {
    // Prepare: a stream without a width, where the spinners print plain lines
    const written: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (written.push(chunk.toString()), done()) }) as unknown as NodeJS.WriteStream;
    const progress = spinnerProgress(stream);
    // Act
    progress.listener.stageStarted('model');
    progress.listener.stageFinished('model', 1.25, 'predicted by the Pareto/NBD');
    // Assess
    const text = written.join('');
    expect(text).toContain('Fitting the models and scoring customers (1.3 s): predicted by the Pareto/NBD');
    expect(text).not.toContain('BG/NBD and Gamma-Gamma');
  });
});
