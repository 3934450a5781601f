import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarySchema, type Summary } from '../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from './support/cli.js';
import { repoRoot, sampleData, tempDir } from './support/files.js';

const SAMPLE_SPEND = join(repoRoot, 'sample-spend');
const summaryIn = async (cwd: string): Promise<Summary> =>
  summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2025-12-31/summary.json'), 'utf8')));

describe('clv run with a spend input', () => {
  beforeAll(requireCliBundle);

  it('takes --spend (a folder) and gives CAC, LTV:CAC and payback per channel', async () => {
    const cwd = await tempDir();
    const result = await clv(['run', '--input', sampleData, '--spend', SAMPLE_SPEND, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    const summary = await summaryIn(cwd);

    expect(result.code).toBe(0);
    expect(summary.spend_input).toMatchObject({ sources: [join(SAMPLE_SPEND, 'marketing-spend.csv')], rejected_rows: 0 });
    expect(summary.acquisition.find((r) => r.channel === 'search')).toMatchObject({ spend: expect.any(Number) as number, cac: expect.any(Number) as number, ltv_to_cac: expect.any(Number) as number });
    // one plain line names every channel's LTV:CAC, in the summary's order, and marks those below the line
    const line = result.stdout.split('\n').find((l) => l.startsWith('LTV:CAC: '));
    const paid = summary.acquisition.find((r) => r.channel === 'paid_social')!;
    expect(line).toContain(`paid_social ${paid.ltv_to_cac!.toFixed(2)} (below the line)`);
    expect(line).toContain('partner, "beta" no CAC');
    expect(line?.split(' · ')).toHaveLength(summary.acquisition.length);
  });

  it('follows links in a --spend folder as the orders input does: a linked spend file is a spend file there', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'spend'));
    await symlink(join(SAMPLE_SPEND, 'marketing-spend.csv'), join(cwd, 'spend', 'marketing-spend.csv'));

    const result = await clv(['run', '--input', sampleData, '--spend', 'spend', '--output', 'out', '--as-of', '2025-12-31'], cwd);

    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/no spend file/);
    expect((await summaryIn(cwd)).spend_input).toMatchObject({ rejected_rows: 0, sources: [join('spend', 'marketing-spend.csv')] });

    // a link to a file the folder already holds is read once: no channel-month twice
    await symlink(join(cwd, 'spend', 'marketing-spend.csv'), join(cwd, 'spend', 'same-again.csv'));
    const again = await clv(['run', '--input', sampleData, '--spend', 'spend', '--output', 'out', '--as-of', '2025-12-31'], cwd);
    expect(again.code).toBe(0);
    expect((await summaryIn(cwd)).spend_input).toMatchObject({ rejected_rows: 0, sources: [join('spend', 'marketing-spend.csv')] });
  });

  it('takes the spend path and the LTV:CAC line from the config file; --spend wins over spend.path', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'config.json'), JSON.stringify({ spend: { path: 'no-such-spend.csv' }, acquisition: { ltvToCacLine: 100, trendShift: { drop: 0.9 } } }));

    const failed = await clv(['run', '--input', sampleData, '--config', 'config.json', '--output', 'out', '--as-of', '2025-12-31'], cwd);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/spend input no-such-spend\.csv \(--spend, or the config file's spend\.path\): no such file or folder/);

    const result = await clv(['run', '--input', sampleData, '--config', 'config.json', '--spend', SAMPLE_SPEND, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    const summary = await summaryIn(cwd);
    expect(result.code).toBe(0);
    // every channel with spend is below a line of 100
    const withCac = summary.acquisition.filter((r) => r.ltv_to_cac !== null && r.ltv_to_cac !== undefined);
    expect(withCac.length).toBeGreaterThan(0);
    expect(withCac.every((r) => r.below_ltv_to_cac_line)).toBe(true);
    expect(summary.changes.warnings.filter((w) => w.code === 'ltv_to_cac_below_line').map((w) => w.threshold)).toEqual(withCac.map(() => 100));
  });

  it('runs without spend when --spend names an empty folder (the drop has not arrived), warning with the folder', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'spend-drop'));
    await writeFile(join(cwd, 'spend-drop', 'README.txt'), 'the spend CSV lands here');

    const result = await clv(['run', '--input', sampleData, '--spend', 'spend-drop', '--output', 'out', '--as-of', '2025-12-31'], cwd);
    const summary = await summaryIn(cwd);

    expect(result.code).toBe(0);
    // as a run without --spend: no spend accounting, no spend column
    expect(summary.spend_input).toBeUndefined();
    for (const row of summary.acquisition) for (const column of ['spend', 'cac', 'ltv_to_cac', 'payback_months']) expect(row).not.toHaveProperty(column);
    const warning = summary.changes.warnings.find((w) => w.code === 'spend_input_missing');
    expect(warning?.message).toMatch(/^no spend file \(\.csv or \.csv\.gz\) was found in spend-drop:/);
    expect(result.stdout).toContain(`warning: ${warning?.message}`);
    expect(result.stdout).not.toMatch(/^LTV:CAC: /m);
  });

  it('refuses a --spend path that does not exist before anything is ingested, in one line naming it (a typo, not a late drop), exit 2', async () => {
    const cwd = await tempDir();
    const result = await clv(['run', '--input', sampleData, '--spend', 'spend-typo', '--output', 'out', '--as-of', '2025-12-31'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^clv: spend input spend-typo \(--spend, or the config file's spend\.path\): no such file or folder/)]);
    await expect(readdir(join(cwd, 'out'))).resolves.toEqual([]);
  });

  it('refuses an acquisition block with an unknown or out-of-range setting, exit 2', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'config.json'), JSON.stringify({ acquisition: { ltvToCacLine: -1, trendShift: { recent: 3 } } }));
    const result = await clv(['run', '--input', sampleData, '--config', 'config.json', '--output', 'out'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/acquisition\.ltvToCacLine/);
    expect(result.stderr).toMatch(/recent/);
  });
});
