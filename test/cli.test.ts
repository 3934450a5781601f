import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarySchema } from '../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from './support/cli.js';
import { fixture, repoRoot, sampleData, tempDir, writeText } from './support/files.js';




const filesUnder = async (root: string): Promise<string[]> =>
  (await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();

describe('clv run', () => {
  beforeAll(requireCliBundle);

  it('scores the bundled sample into the output contract and exits 0', async () => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    const files = await filesUnder(join(cwd, 'out'));
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2025-12-31/summary.json'), 'utf8')));

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(files).toEqual(
      expect.arrayContaining([
        'customers/run_date=2025-12-31/segment=high/part-00000.parquet',
        'customers/run_date=2025-12-31/segment=mid/part-00000.parquet',
        'customers/run_date=2025-12-31/segment=low/part-00000.parquet',
        'rejected/run_date=2025-12-31/part-00000.parquet',
        'summary/run_date=2025-12-31/summary.json',
        'summary/run_date=2025-12-31/_SUCCESS',
        'latest.json',
      ]),
    );
    expect(files.some((f) => f.startsWith('_publish/intent') || f.startsWith('_lock'))).toBe(false);
    expect(summary.counts.input_rows).toBe(982);
    expect(result.stdout).toContain(`customers: ${summary.counts.customers};`);
    expect(result.stdout).toContain('summary: out/summary/run_date=2025-12-31/summary.json');
  });

  it('reads folders recursively and takes the latest valid order date as the default as-of date', async () => {
    const cwd = await tempDir();
    await cp(sampleData, join(cwd, 'drop', 'nested'), { recursive: true });
    // The CLI reads the machine's clock, so the rows are dated from it: yesterday (after every sample
    // order, and still on or before today if midnight passes during the run) and a row after any today,
    // which is not a valid order date and cannot move the as-of date. The day-exact rule, with the
    // clock passed in, is pinned in test/pipeline/default-as-of.test.ts.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await writeText(join(cwd, 'drop'), 'late.csv', `order_id,customer_id,order_date,amount\nL1,c1,${yesterday},5\nL2,c2,2999-01-01,5\n`);

    const result = await clv(['run', '--input', 'drop', '--output', 'out'], cwd);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, `out/summary/run_date=${yesterday}/summary.json`), 'utf8')));

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`as of ${yesterday}, latest order date`);
    expect(summary.counts.input_rows).toBe(984);
    expect(summary.counts.rejected_by_reason.order_date_after_as_of).toBe(1);
  });

  it.each([
    ['an unknown flag', ['--input', 'x', '--output', 'o', '--colour'], /unknown option '--colour'/],
    ['a malformed --as-of', ['--input', 'x', '--output', 'o', '--as-of', '2025-02-30'], /--as-of: is not a calendar date/],
    // a night dated in the future would stay the newest in latest.json; the day-exact bound, with the clock passed in, is in test/config.test.ts
    ['an --as-of in the future', ['--input', 'x', '--output', 'o', '--as-of', '2099-01-01'], /^clv: --as-of: 2099-01-01 is in the future: the latest accepted is \d{4}-\d{2}-\d{2} \(today in UTC, plus a day for time zones ahead of it\) \(run/],
    ['a missing --output', ['--input', 'x'], /required option '--output <dir>' not specified/],
    ['a bad --time-unit', ['--input', 'x', '--output', 'o', '--time-unit', 'month'], /argument 'month' is invalid/],
    ['a non-numeric --margin', ['--input', 'x', '--output', 'o', '--margin', 'lots'], /--margin must be a number/],
    ['a margin above 1', ['--input', 'x', '--output', 'o', '--margin', '1.5'], /margin/],
    ['a missing --input', ['--output', 'o'], /--input is required/],
    ['Trino flags without --engine trino', ['--input', 'x', '--output', 'o', '--trino-url', 'http://t:8080'], /--trino-url need --engine trino/],
    ['--engine trino without its flags', ['--output', 'o', '--engine', 'trino', '--trino-url', 'http://t:8080'], /--engine trino needs --trino-catalog, --trino-schema/],
    ['--engine trino with --input', ['--input', 'x', '--output', 'o', '--engine', 'trino', '--trino-url', 'http://t', '--trino-catalog', 'h', '--trino-schema', 's'], /not --input files/],
    ['a --trino-url that is not http(s)', ['--output', 'o', '--engine', 'trino', '--trino-url', 'trino:8080', '--trino-catalog', 'h', '--trino-schema', 's'], /--trino-url must be an http/],
    ['an unknown --engine', ['--input', 'x', '--output', 'o', '--engine', 'spark'], /argument 'spark' is invalid/],
  ])('exits 2 with a usage hint on %s', async (_, args, message) => {
    const cwd = await tempDir();

    const result = await clv(['run', ...args], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/--help/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['is not JSON', '{ nope'],
    ['has an unknown key', JSON.stringify({ modle: {} })],
    ['has a bad value', JSON.stringify({ model: { timeUnit: 'fortnight' } })],
    // once a failed run (exit 1) naming the first export, with DuckDB's "Invalid Input Error" as the reason
    ['has a csv.dateFormat DuckDB cannot read', JSON.stringify({ csv: { dateFormat: '%d.%m.%Q' } })],
  ])('exits 2 when the config file %s', async (_, content) => {
    const cwd = await tempDir();
    await writeText(cwd, 'config.json', content);

    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--config', 'config.json'], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/config file config\.json/);
    expect(await filesUnder(join(cwd, 'out'))).toEqual([]);
  });

  it.each([
    ['a binary file', 'orders.csv', Buffer.from([0x00, 0xff, 0xfe, 0x00, 0x13, 0x37, 0x00, 0x00]), /orders\.csv: is binary data, not CSV text: 5 of its first 8 bytes are control characters/],
    ['a truncated gzip', 'orders.csv.gz', gzipSync('order_id,customer_id,order_date,amount\n' + 'O1,c1,2025-01-01,5\n'.repeat(5000)).subarray(0, 300), /orders\.csv\.gz: is not a complete gzip file/],
    ['a file lacking a required column', 'orders.csv', 'order_id,customer_id,amount\nO1,c1,5\n', /orders\.csv: lacks the required column "order_date"; /],
  ])('exits 1 on %s, naming the file, with nothing published', async (_, name, content, message) => {
    const cwd = await tempDir();
    await writeText(cwd, name, content);

    const result = await clv(['run', '--input', name, '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(await filesUnder(join(cwd, 'out'))).toEqual([]);
  });

  it.each([
    ['an empty file', 'orders.csv', '', /^clv: run failed, nothing published: orders\.csv: is empty \(0 bytes\): an orders export needs a header row .*"order_id,customer_id,order_date,amount"/],
    ['a semicolon-separated file', 'orders.csv', 'order_id;customer_id;order_date;amount\nO1;c1;2025-01-01;5,00\n', /orders\.csv: looks semicolon-separated: .* set "csv": \{ "delimiter": ";" \} in the config file given with --config/],
    ['a tab-separated file', 'orders.csv', 'order_id\tcustomer_id\torder_date\tamount\nO1\tc1\t2025-01-01\t5\n', /orders\.csv: looks tab-separated: .* set "csv": \{ "delimiter": "\\t" \}/],
  ])('exits 1 on %s, saying what it looks like and what to set', async (_, name, content, message) => {
    const cwd = await tempDir();
    await writeText(cwd, name, content);

    const result = await clv(['run', '--input', name, '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(await filesUnder(join(cwd, 'out'))).toEqual([]);
  });

  it('names the encoding of a UTF-16 export (Excel "Unicode text") instead of showing its NUL bytes as the header', async () => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', fixture('cases', 'utf16', 'orders.csv'), '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/orders\.csv: is encoded as UTF-16LE \(as Excel's "Unicode text" export writes\), not UTF-8: save it as "CSV UTF-8 \(Comma delimited\)"/);
    expect(result.stderr).not.toContain('\0');
  });

  it('names every missing required column at once, the columns the file has, and the columns mapping to set', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', 'Order Number,Client,Placed,Total\nO1,c1,2025-01-01,5\n');

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'clv: run failed, nothing published: orders.csv: lacks the required columns "order_id", "customer_id", "order_date", "amount"; ' +
        'the header has "Order Number", "Client", "Placed", "Total". If the export names them differently, map them with "columns" in the config file given with --config, ' +
        'e.g. { "columns": { "order_id": "Order Number", "customer_id": "Client", "order_date": "Placed", "amount": "Total" } }',
    );
  });

  it('never reads its own output as input: a second night with the output folder inside the input folder reads the same exports', async () => {
    const cwd = await tempDir();
    await cp(sampleData, join(cwd, 'exports'), { recursive: true });

    const first = await clv(['run', '--input', 'exports', '--output', 'exports/clv', '--as-of', '2025-12-30'], cwd);
    // the first night wrote audience CSVs under exports/clv/; they used to be read as exports the next
    // night, failing it ("required columns "order_id", "order_date", "amount" are missing")
    const second = await clv(['run', '--input', 'exports', '--output', 'exports/clv', '--as-of', '2025-12-31'], cwd);

    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('ingested: 3 files');
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'exports/clv/summary/run_date=2025-12-31/summary.json'), 'utf8')));
    expect(summary.counts.input_rows).toBe(982);
  });

  it('refuses an --input that is the --output folder (exit 2), reads no other run\'s output folder left among the exports, and reads exports kept inside the output folder', async () => {
    const cwd = await tempDir();
    await cp(sampleData, join(cwd, 'exports'), { recursive: true });

    const same = await clv(['run', '--input', 'exports', '--output', 'exports', '--as-of', '2025-12-30'], cwd);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/^clv: --input exports is the --output folder exports: the run's own audiences would be read as exports; give the output a folder of its own/);

    // an earlier night's output kept beside the exports (copied, or made by another --output)
    expect((await clv(['run', '--input', 'exports', '--output', 'exports/night-1', '--as-of', '2025-12-30'], cwd)).code).toBe(0);
    await cp(join(cwd, 'exports/night-1'), join(cwd, 'exports/kept'), { recursive: true });
    const next = await clv(['run', '--input', 'exports', '--output', 'exports/night-2', '--as-of', '2025-12-31'], cwd);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('ingested: 3 files');
    // exports kept in a folder of the output's own are read, the output's files are not
    await cp(sampleData, join(cwd, 'clv/exports'), { recursive: true });
    const within = await clv(['run', '--input', 'clv/exports', '--output', 'clv', '--as-of', '2025-12-31'], cwd);
    expect(within.code, within.stderr).toBe(0);
    const again = await clv(['run', '--input', 'clv/exports', '--output', 'clv', '--as-of', '2025-12-31'], cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('ingested: 3 files');
    // but not a folder the job writes there: its audiences are CSV files, not exports
    const own = await clv(['run', '--input', 'clv/audiences', '--output', 'clv', '--as-of', '2025-12-31'], cwd);
    expect(own.code).toBe(2);
    expect(own.stderr).toMatch(/^clv: --input clv\/audiences lies inside audiences\/, which the job writes in the --output folder clv/);
  });

  it('reads a --spend file kept among the exports as spend only, never as an export', async () => {
    const cwd = await tempDir();
    await cp(sampleData, join(cwd, 'data'), { recursive: true });
    await cp(join(repoRoot, 'sample-spend'), join(cwd, 'data', 'spend'), { recursive: true });

    const result = await clv(['run', '--input', 'data', '--spend', 'data/spend', '--output', 'out', '--as-of', '2025-12-31'], cwd);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ingested: 3 files');
    expect(result.stdout).toMatch(/LTV:CAC: .*search 5\.30/);
  });

  it('exits 1 on an unreadable path, naming it', async () => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', 'no-such-folder', '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no-such-folder: cannot be read/);
  });

  it('exits 1 with a clear message when the input holds no rows at all', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'empty.csv', 'order_id,customer_id,order_date,amount\n');

    const result = await clv(['run', '--input', 'empty.csv', '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no order rows/);
    // the export's canonical copy is cached under ingested/; nothing is published
    expect((await filesUnder(join(cwd, 'out'))).filter((f) => !f.startsWith('ingested/'))).toEqual([]);
  });

  it('prints a stack trace only when --debug asks for one', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'bad.csv'), 'a,b\n1,2\n');

    const quiet = await clv(['run', '--input', 'bad.csv', '--output', 'out'], cwd);
    const debug = await clv(['run', '--input', 'bad.csv', '--output', 'out', '--debug'], cwd);

    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe('clv recover and clv rollback', () => {
  it.each([
    ['recover', []],
    ['rollback', ['--run-date', '2025-12-31']],
  ])('clv %s on an --output folder that does not exist exits 2 naming it, and creates nothing', async (command, extra) => {
    const cwd = await tempDir();

    // a mistyped folder used to be created, with its _lock/, and recover said "nothing to recover", exit 0
    const result = await clv([command, '--output', 'no-such-out', ...extra], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--output no-such-out: no such folder/);
    expect(await readdir(cwd)).toEqual([]);
  });

  it.each([
    ['recover', []],
    ['rollback', ['--run-date', '2025-12-31']],
  ])('clv %s on a folder that is not a run\'s output (the exports, by mistake) exits 2 naming it, and leaves no _lock/ in it', async (command, extra) => {
    const cwd = await tempDir();
    await cp(sampleData, join(cwd, 'exports'), { recursive: true });
    const before = await readdir(join(cwd, 'exports'));

    const result = await clv([command, '--output', 'exports', ...extra], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: --output exports: is not the output folder of a `clv run` \(it holds none of _publish\/, or _lock\/ beside _runs\/ or ingested\/\)/);
    expect(await readdir(join(cwd, 'exports'))).toEqual(before);
  });
});

describe('clv recover and clv rollback keep what the runs were told to keep', () => {
  /**
   * Two runs of 2025-12-31 (with `runFlags`) into `out/` under a new folder, the first version replaced
   * 45 days ago as far as the publishing record says: time passed.
   */
  const replaced45DaysAgo = async (runFlags: readonly string[] = []) => {
    const cwd = await tempDir();
    const run = () => clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31', ...runFlags], cwd);
    expect((await run()).code).toBe(0);
    expect((await run()).code).toBe(0);
    const versionsFile = join(cwd, 'out', '_publish', 'versions.json');
    const versions = JSON.parse(await readFile(versionsFile, 'utf8')) as Record<string, { runId: string; replacedAt: string | null }[]>;
    const [replaced, live] = versions['2025-12-31']!;
    replaced!.replacedAt = new Date(Date.now() - 45 * 86_400_000).toISOString();
    await writeFile(versionsFile, JSON.stringify(versions, null, 2));
    return { cwd, replaced: replaced!.runId, live: live!.runId };
  };

  it('restores a version the runs keep 90 days, replaced 45 days ago: without --keep-previous-days neither command removes a version', async () => {
    const { cwd, replaced, live } = await replaced45DaysAgo(['--keep-previous-days', '90']);

    const recovered = await clv(['recover', '--output', 'out'], cwd);
    const rolledBack = await clv(['rollback', '--output', 'out', '--run-date', '2025-12-31'], cwd);

    expect(recovered.code).toBe(0);
    expect(recovered.stdout).not.toMatch(/removed run/);
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.stdout).toContain(`rolled back 2025-12-31: readers now see run ${replaced}`);
    expect((await readdir(join(cwd, 'out', '_runs'))).sort()).toEqual([replaced, live].sort());
  });

  it('removes versions replaced longer ago than --keep-previous-days says, when told', async () => {
    const { cwd, replaced } = await replaced45DaysAgo();

    const recovered = await clv(['recover', '--output', 'out', '--keep-previous-days', '30'], cwd);

    expect(recovered.code).toBe(0);
    expect(recovered.stdout).toContain(`removed run ${replaced}, a version of 2025-12-31 replaced more than 30 days ago`);
  });

  it('restores the version it was asked to, with --keep-previous-days, even one replaced longer ago: versions expire after the rollback, never before', async () => {
    const { cwd, replaced, live } = await replaced45DaysAgo();

    const rolledBack = await clv(['rollback', '--output', 'out', '--run-date', '2025-12-31', '--keep-previous-days', '30'], cwd);

    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(rolledBack.stdout).toContain(`rolled back 2025-12-31: readers now see run ${replaced}`);
    // the version rolled back from was replaced just now: within the 30 days, kept
    expect((await readdir(join(cwd, 'out', '_runs'))).sort()).toEqual([replaced, live].sort());
  });
});

describe('clv backtest', () => {
  const cdnowOrders = fixture('datasets', 'cdnow', 'cdnow_orders.csv');

  it('prints actual against expected holdout purchases by calibration frequency, and writes them as JSON', async () => {
    const cwd = await tempDir();

    const result = await clv(
      ['backtest', '--input', cdnowOrders, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--output', 'backtest.json'],
      cwd,
    );
    const written = JSON.parse(await readFile(join(cwd, 'backtest.json'), 'utf8')) as { totals: { actual: number } };

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\s+7\+\s+\d+\s+\d+/m);
    expect(result.stdout).toContain('total holdout purchases: actual 1882');
    expect(written.totals.actual).toBe(1882);
  });

  it('refuses an --output it cannot write before the backtest runs, naming the path', async () => {
    const cwd = await tempDir();

    const result = await clv(
      ['backtest', '--input', cdnowOrders, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--output', 'no-such-folder/backtest.json'],
      cwd,
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--output no-such-folder\/backtest\.json: cannot be written \(ENOENT\)/);
    expect(result.stdout).not.toContain('total holdout purchases');
  });

  it('refuses an --output among an output folder\'s publishing records before the backtest runs: rollback needs them as they are', async () => {
    const cwd = await tempDir();
    await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    const before = await readFile(join(cwd, 'out/_publish/versions.json'));

    const result = await clv(
      ['backtest', '--input', cdnowOrders, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--output', 'out/_publish/versions.json'],
      cwd,
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: --output out\/_publish\/versions\.json: is in _publish\/, which the output folder \S+\/out keeps for its own records/);
    expect(result.stdout).not.toContain('total holdout purchases');
    expect(await readFile(join(cwd, 'out/_publish/versions.json'))).toEqual(before);
  });

  it('leaves the last backtest file as it was, and makes none, when the backtest fails', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'empty.csv', 'order_id,customer_id,order_date,amount\n');
    await writeText(cwd, 'last.json', '{"the": "last good backtest"}\n');
    const failing = (output: string) =>
      clv(['backtest', '--input', 'empty.csv', '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--output', output], cwd);

    const [kept, made] = [await failing('last.json'), await failing('new.json')];

    expect([kept.code, made.code]).toEqual([1, 1]);
    expect(await readFile(join(cwd, 'last.json'), 'utf8')).toBe('{"the": "last good backtest"}\n');
    expect((await readdir(cwd)).sort()).toEqual(['empty.csv', 'last.json']);
  });

  it('exits 2 when the holdout ends after the orders do, naming the last order date: the actual side would stop there, the expected side would not', async () => {
    const cwd = await tempDir();

    const result = await clv(['backtest', '--input', cdnowOrders, '--calibration-end', '1997-09-30', '--holdout-end', '1998-12-31'], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the holdout ends 1998-12-31, after the last valid order \(1998-06-30\): .*end the holdout on or before 1998-06-30/);
    expect(result.stdout).not.toContain('total holdout purchases');
  });

  it('takes a holdout ending on a day without orders when there are orders after it: the holdout is within the orders', async () => {
    const cwd = await tempDir();

    // the sample's orders run into 2026; nobody bought on 2025-09-02
    const result = await clv(['backtest', '--input', sampleData, '--calibration-end', '2025-06-30', '--holdout-end', '2025-09-02'], cwd);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('total holdout purchases: actual');
  });

  it('exits 2 when the holdout ends before the calibration', async () => {
    const cwd = await tempDir();

    const result = await clv(['backtest', '--input', cdnowOrders, '--calibration-end', '1997-09-30', '--holdout-end', '1997-01-31'], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/must come before the holdout end/);
  });
});
