import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarySchema } from '../lambdas/clv-job/schemas/summary.js';
import { runTable } from '../lambdas/clv-job/terminal-output.js';
import { clv, requireCliBundle } from './support/cli.js';
import { sampleData, tempDir } from './support/files.js';

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
});
