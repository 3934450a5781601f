import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleData, tempDir } from '../support/files.js';
import { clv, requireCliBundle, type Outcome } from '../support/cli.js';

const lines = (text: string): string[] => text.trimEnd().split('\n');

describe('the report from the command line', () => {
  let cwd: string;
  let run: Outcome;

  beforeAll(async () => {
    await requireCliBundle();
    cwd = await tempDir();
    run = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
  });

  it('clv run writes the report with the run and prints where it is, last, as plain lines', async () => {
    const page = await readFile(join(cwd, 'out/report/run_date=2025-12-31/index.html'), 'utf8');

    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(lines(run.stdout).at(-1)).toBe('report: out/report/run_date=2025-12-31/index.html');
    expect(run.stdout).toContain('summary: out/summary/run_date=2025-12-31/summary.json');
    // plain lines only: no table borders, no spinner, no colour codes
    expect(run.stdout).not.toMatch(/[┌│└]|\u001b\[/);
    expect(page).toContain('<title>Customer lifetime value · 2025-12-31</title>');
  });

  it('clv report draws the same page again from the published summary', async () => {
    const result = await clv(['report', '--summary', 'out/summary/run_date=2025-12-31/summary.json', '--output', 'again.html'], cwd);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('report: again.html\n');
    expect(await readFile(join(cwd, 'again.html'), 'utf8')).toBe(await readFile(join(cwd, 'out/report/run_date=2025-12-31/index.html'), 'utf8'));
  });

  it('clv report names the page after the run date and puts it in the output folder when no --output is given', async () => {
    const result = await clv(['report', '--summary', 'out/summary/run_date=2025-12-31/summary.json'], cwd);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('report: out/clv-report-2025-12-31.html\n');
    await expect(readFile(join(cwd, 'out/clv-report-2025-12-31.html'), 'utf8')).resolves.toMatch(/^<!doctype html>/);
  });

  it.each([
    ['its run\'s own copy', (runId: string) => `out/_runs/${runId}/summary/run_date=2025-12-31/summary.json`],
    ['the night\'s switch into its run', () => 'out/_live/run_date=2025-12-31/summary/run_date=2025-12-31/summary.json'],
  ])('clv report puts the page in the output folder, not in the run a run writes once, when given the summary through %s', async (_, summaryIn) => {
    const { run_id: runId } = JSON.parse(await readFile(join(cwd, 'out/latest.json'), 'utf8')) as { run_id: string };
    await rm(join(cwd, 'out/clv-report-2025-12-31.html'), { force: true });

    const result = await clv(['report', '--summary', summaryIn(runId)], cwd);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('report: out/clv-report-2025-12-31.html\n');
    await expect(readFile(join(cwd, 'out/clv-report-2025-12-31.html'), 'utf8')).resolves.toMatch(/^<!doctype html>/);
  });

  it('clv report refuses to write over a published run\'s page (exit 2), which rollback must restore as it was', async () => {
    const published = join(cwd, 'out/report/run_date=2025-12-31/index.html');
    const before = await readFile(published);
    await writeFile(join(cwd, 'other.json'), JSON.stringify({ ...JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2025-12-31/summary.json'), 'utf8')), schema_version: '2.0.0' }));

    const result = await clv(['report', '--summary', 'other.json', '--output', 'out/report/run_date=2025-12-31/index.html'], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--output out\/report\/run_date=2025-12-31\/index\.html: is a file of a published run \(\S+\/out\/_runs\/[^/)]+\), which a run writes once/);
    expect(await readFile(published)).toEqual(before);
  });

  it.each([
    ['out/_publish/versions.json', 'is in _publish/'],
    ['out/latest.json', 'is latest.json'],
  ])('clv report refuses to write over %s (exit 2), the output folder\'s own record that rollback and the next run read', async (output, what) => {
    const before = await readFile(join(cwd, output));

    const result = await clv(['report', '--summary', 'out', '--output', output], cwd);

    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`^clv: --output ${output}: ${what}, which the output folder \\S+/out keeps for its own records`));
    expect(await readFile(join(cwd, output))).toEqual(before);
  });

  it('clv report finds the newest night in a local copy of the S3 output prefix through its latest.json', async () => {
    // on S3 a night's files stay under _runs/<run id>/ and latest.json names its summary's key there (test/adapters/s3-store.test.ts)
    const summaryKey = '_runs/0f8c2d1e/summary/run_date=2025-12-31/summary.json';
    await mkdir(join(cwd, 's3-copy', dirname(summaryKey)), { recursive: true });
    await copyFile(join(cwd, 'out/summary/run_date=2025-12-31/summary.json'), join(cwd, 's3-copy', summaryKey));
    await writeFile(join(cwd, 's3-copy/latest.json'), JSON.stringify({ run_date: '2025-12-31', run_id: '0f8c2d1e', summary: summaryKey }));

    const result = await clv(['report', '--summary', 's3-copy', '--output', 'from-s3.html'], cwd);

    expect(result.code).toBe(0);
    expect(await readFile(join(cwd, 'from-s3.html'), 'utf8')).toBe(await readFile(join(cwd, 'out/report/run_date=2025-12-31/index.html'), 'utf8'));
  });

  it.each([
    ['is not JSON', '{ "run": ', /^clv: bad\.json is not a valid summary: not JSON \(/],
    ['is not a summary', JSON.stringify({ run: { run_id: 'x' } }), /^clv: bad\.json is not a valid summary: schema_version: .+ \(and \d+ more problems\) \(run `clv <command> --help` for usage\)$/],
  ])('clv report exits 2 (bad usage) with one clear line when the file %s', async (_, content, message) => {
    await writeFile(join(cwd, 'bad.json'), content);

    const result = await clv(['report', '--summary', 'bad.json'], cwd);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });

  it('clv report exits 2 (bad usage) when the summary cannot be read', async () => {
    const result = await clv(['report', '--summary', 'missing.json'], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^clv: missing\.json is not a valid summary: cannot be read \(ENOENT/);
  });

  it.each([
    ['without --summary', ['report'], /required option '--summary <path>' not specified/],
    ['with an unknown flag', ['report', '--summary', 'x.json', '--colour'], /unknown option '--colour'/],
  ])('clv report exits 2 %s', async (_, args, message) => {
    const result = await clv(args, cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
