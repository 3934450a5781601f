/**
 * A newcomer's first mistakes, each met through the spawned CLI as they would meet it (issue 12):
 * the message says what went wrong and what to do, and a pipe gets what a terminal gets.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarySchema } from '../lambdas/clv-job/schemas/summary.js';
import { cliBundle, clv, requireCliBundle } from './support/cli.js';
import { repoRoot, sampleData, tempDir, writeText } from './support/files.js';

const HEADER = 'order_id,customer_id,order_date,amount\n';

const readSummary = async (cwd: string, runDate: string) =>
  summarySchema.parse(JSON.parse(await readFile(join(cwd, `out/summary/run_date=${runDate}/summary.json`), 'utf8')));

const filesUnder = async (root: string): Promise<string[]> =>
  (await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => join(e.parentPath, e.name).slice(root.length + 1));

/** What a run published: everything but the ingest's canonical copies of the inputs (`ingested/`). */
const publishedUnder = async (root: string): Promise<string[]> => (await filesUnder(root)).filter((f) => !f.startsWith('ingested/'));

/** `clv <args> | <reader>` in bash, with the CLI's own exit status (not the reader's). */
const clvPiped = async (args: readonly string[], reader: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> => {
  const quoted = [process.execPath, cliBundle, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', `${quoted} | ${reader}; exit "\${PIPESTATUS[0]}"`], { cwd, env: { ...process.env, CI: 'true' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
};

beforeAll(requireCliBundle);

describe('clv takes its inputs as a shell gives them', () => {
  it.each([
    ['several paths after one flag (a shell glob)', ['--input', 'orders-000.csv.gz', 'orders-001.csv', 'orders-002.csv']],
    ['the flag repeated', ['--input', 'orders-000.csv.gz', '--input', 'orders-001.csv', '--input', 'orders-002.csv']],
    ['both at once', ['--input', 'orders-000.csv.gz', 'orders-001.csv', '--input', 'orders-002.csv']],
  ])('reads every file given as %s', async (_, inputArgs) => {
    const cwd = await tempDir();
    await cp(sampleData, cwd, { recursive: true });

    const result = await clv(['run', ...inputArgs, '--output', 'out', '--as-of', '2025-12-31'], cwd);

    expect(result.code).toBe(0);
    // the same 982 rows the bundled sample folder holds (README: 982 rows in three files)
    expect((await readSummary(cwd, '2025-12-31')).counts.input_rows).toBe(982);
    expect((await readSummary(cwd, '2025-12-31')).run.inputs.files).toBe(3);
  });
});

describe('clv --version', () => {
  it.each([['--version'], ['-V']])('prints the version of package.json for %s and exits 0', async (flag) => {
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

    const result = await clv([flag], await tempDir());

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });
});

describe('following the advice of a file-shape message', () => {
  it('a semicolon-separated file reads once the config sets the csv.delimiter the message names', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', 'order_id;customer_id;order_date;amount\nO1;c1;2025-01-01;5\nO2;c2;2025-01-02;6\n');
    const refused = await clv(['run', '--input', 'orders.csv', '--output', 'out'], cwd);
    const advice = /set (.*) in the config file given with --config/.exec(refused.stderr)?.[1];
    await writeText(cwd, 'config.json', `{ ${advice} }`);

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--config', 'config.json'], cwd);

    expect(refused.code).toBe(1);
    expect(advice).toBe('"csv": { "delimiter": ";" }');
    expect(result.code).toBe(0);
    expect((await readSummary(cwd, '2025-01-02')).counts.accepted_orders).toBe(2);
  });

  it('a file whose columns are named otherwise reads with the columns mapping the message suggests', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', 'Order Number,Client,Placed On,Total\nO1,c1,2025-01-01,5\nO2,c2,2025-01-02,6\n');
    const refused = await clv(['run', '--input', 'orders.csv', '--output', 'out'], cwd);
    const example = /e\.g\. (\{ "columns": .*\})\s*$/.exec(refused.stderr)?.[1];
    await writeText(cwd, 'config.json', example!);

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--config', 'config.json'], cwd);

    expect(refused.code).toBe(1);
    expect(JSON.parse(example!)).toEqual({ columns: { order_id: 'Order Number', customer_id: 'Client', order_date: 'Placed On', amount: 'Total' } });
    expect(result.code).toBe(0);
    expect((await readSummary(cwd, '2025-01-02')).counts.accepted_orders).toBe(2);
  });
});

describe('an output folder that cannot be used', () => {
  /** Each case returns the --output to give, made in a fresh folder `dir`. */
  it.each([
    ['a path under /proc, where mkdir -p used to spin forever', async () => '/proc/clv-no-such-output', /^--output \/proc\/clv-no-such-output: cannot create the folder \/proc\/clv-no-such-output: \/proc does not take new folders \(ENOENT\)$/],
    ['a file in place of the folder', async (dir: string) => (await writeText(dir, 'out', 'a file'), join(dir, 'out')), /^--output .+\/out: is a file, not a folder$/],
    ['a folder below a file', async (dir: string) => (await writeText(dir, 'out', 'a file'), join(dir, 'out', 'run')), /^--output .+\/out\/run: .+\/out is a file, not a folder$/],
    ['a link to nothing', async (dir: string) => (await symlink(join(dir, 'gone'), join(dir, 'out')), join(dir, 'out')), /^--output .+\/out: .+\/out exists but is not a folder \(a link to nothing\?\)$/],
  ] as const)('%s: one line, exit 2, promptly', async (_, outputIn, message) => {
    const cwd = await tempDir();
    const output = await outputIn(cwd);

    const result = await clv(['run', '--input', sampleData, '--output', output, '--as-of', '2025-12-31'], cwd, {}, { timeoutMs: 30_000 });

    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.replace(/^clv: /, '').replace(/ \(run `clv <command> --help` for usage\)$/, '')).toMatch(message);
  }, 40_000);

  it('clv ingest refuses the same way', async () => {
    const cwd = await tempDir();
    const result = await clv(['ingest', '--input', sampleData, '--output', '/proc/clv-no-such-output'], cwd, {}, { timeoutMs: 30_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: --output \/proc\/clv-no-such-output: cannot create the folder/);
  }, 40_000);

  it('a file where the output keeps one of its own folders (_lock/, _live/): the run and recover say which, and to move it', async () => {
    const cwd = await tempDir();
    expect((await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd)).code).toBe(0);
    for (const folder of ['_lock', '_live']) {
      await rm(join(cwd, 'out', folder), { recursive: true, force: true });
      await writeText(cwd, `out/${folder}`, 'a file');

      for (const args of [['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], ['recover', '--output', 'out']]) {
        const result = await clv(args, cwd);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`(a file is where the output folder keeps its ${folder}/ folder: move that file away;`);
      }
      await rm(join(cwd, 'out', folder));
    }
  });

  // root writes into a read-only folder regardless, so this one is met only as an ordinary user
  it.skipIf(process.getuid?.() === 0)('a read-only folder: one line, exit 2', async () => {
    const cwd = await tempDir();
    const output = join(cwd, 'out');
    await mkdir(output);
    await chmod(output, 0o555);

    const result = await clv(['run', '--input', sampleData, '--output', output, '--as-of', '2025-12-31'], cwd, {}, { timeoutMs: 30_000 });

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: --output .+\/out: the folder cannot be written \(EACCES\)/);
    await chmod(output, 0o755);
  }, 40_000);
});

describe('messages in the words the user wrote', () => {
  it.each([
    [['--horizon', '-5'], /^clv: --horizon: /],
    [['--lifespan-years', '0'], /^clv: --lifespan-years: /],
    [['--keep-previous-days', '-1'], /^clv: --keep-previous-days: /],
    [['--as-of', 'yesterday'], /^clv: --as-of: must be a date written YYYY-MM-DD \(run/],
  ])('%j is named as the flag typed, not as a config field', async (flags, message) => {
    const cwd = await tempDir();
    const result = await clv(['run', '--input', sampleData, '--output', 'out', ...flags], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [['run', '--input', 'a.csv', '--input', '--output', 'out'], '--input needs a value before --output'],
    [['run', '--input', 'a.csv', '--output', '--as-of', '2025-12-31'], '--output needs a value before --as-of'],
    [['ingest', '--input', '--output', 'out'], '--input needs a value before --output'],
  ])('%j says which flag lost its value, not that the next flag is missing', async (args, message) => {
    const cwd = await tempDir();
    const result = await clv(args, cwd);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`error: ${message}`);
    expect(await filesUnder(cwd)).toEqual([]);
  });

  it('names a model field from the config file by its place in the file, beside a flag named as typed', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'config.json', JSON.stringify({ model: { timeUnit: 'day', horizon: 30 } }));
    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--config', 'config.json', '--discount-rate', '10'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: --discount-rate: is a share per year/);
  });

  it('refuses a validation.maxAmount whose sums could overflow, before reading any order', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'config.json', JSON.stringify({ validation: { maxAmount: 1e30 } }));
    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--config', 'config.json'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: config file config\.json: validation\.maxAmount: is at most 1e18 \(got 1e\+30\), so that sums of fewer than 1e14 orders stay within DECIMAL\(38, 6\)/);
  });

  it('says that 0 interval draws is allowed when it refuses too few', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'config.json', JSON.stringify({ model: { intervalDraws: 5 } }));
    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--config', 'config.json'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: config file config\.json: model\.intervalDraws: is 0 \(no intervals\) or a whole number of draws from 20 to 10000 /);
  });

  it('says a skipped export lacks its required column in a sentence, and counts agree with their nouns', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'a.csv', HEADER + 'O1,c1,2025-01-02,10\n');
    await writeText(cwd, 'b.csv', 'order_id,customer_id,order_date\nO2,c2,2025-01-02\n');
    const result = await clv(['run', '--input', 'a.csv', '--input', 'b.csv', '--output', 'out', '--skip-bad-files'], cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ingested: 1 file \(1 read, 0 unchanged\)$/m);
    expect(result.stdout).toMatch(/^warning: b\.csv was left out: it lacks the required column "amount"; the header has "order_id", "customer_id", "order_date"\./m);
    expect(result.stdout).toMatch(/^warning: BG\/NBD fit not trusted: not enough data: 1 customer, 0 repeat buyers, /m);
  });
});

describe('a two-digit year read under %Y', () => {
  it('is rejected as implausible with a note saying the year had fewer than four digits and %y reads two', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', HEADER + 'O1,c1,2025-03-01,10\nO2,c1,25-03-02,12\nO3,c2,1900-01-01,7\nO4,c2,2025-03-05,7\n');
    await writeText(cwd, 'config.json', JSON.stringify({ csv: { dateFormat: '%Y-%m-%d' } }));

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--config', 'config.json'], cwd);

    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    const at = lines.indexOf('  2 implausible_order_date, e.g. orders.csv:3, orders.csv:4');
    expect(at).toBeGreaterThan(0);
    // the placeholder 1900-01-01 (line 4) has its four digits: the note names only the short year
    expect(lines[at + 1]).toBe(
      '    orders.csv:3 has order_date "25-03-02", a year of fewer than four digits, which csv.dateFormat\'s %Y reads as a year before 100 (so before validation.minOrderDate): for two-digit years write %y',
    );
  });

  it('is named with %y when every row has one: the failed run without --as-of says it instead of "lower minOrderDate" (which published year 0025), and so does a failed gate', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', HEADER + 'O1,c1,25-03-01,10\nO2,c1,25-03-02,12\nO3,c2,25-03-05,7\n');
    await writeText(cwd, 'config.json', JSON.stringify({ csv: { dateFormat: '%Y-%m-%d' } }));
    const note = 'orders.csv:2 has order_date "25-03-01", a year of fewer than four digits, which csv.dateFormat\'s %Y reads as a year before 100 (so before validation.minOrderDate): for two-digit years write %y';

    const defaulted = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--config', 'config.json'], cwd);
    expect(defaulted.code).toBe(1);
    expect(defaulted.stderr).toContain(`(3 rows read; rejected: 3 implausible_order_date). ${note}\n`);
    expect(defaulted.stderr).not.toContain('lower it');

    const gated = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--config', 'config.json', '--as-of', '2025-12-31'], cwd);
    expect(gated.code).toBe(1);
    expect(gated.stderr).toContain(`  implausible_order_date: 3 rows (100.0% of the input)\n    ${note}\n`);
    const report = JSON.parse(await readFile(join(cwd, 'out/_quality/run_date=2025-12-31/quality.json'), 'utf8')) as { top_reasons: { note?: string }[] };
    expect(report.top_reasons[0]?.note).toBe(note);
  });
  it('leaves the advice to lower minOrderDate when some implausible dates have four-digit years (real dates before 1970 beside one short year)', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', HEADER + 'O1,c1,1965-03-01,10\nO2,c1,1966-03-02,12\nO3,c2,25-03-05,7\n');
    await writeText(cwd, 'config.json', JSON.stringify({ csv: { dateFormat: '%Y-%m-%d' } }));

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--config', 'config.json'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/implausible_order_date rows are dated before validation\.minOrderDate .*: lower it if those dates are real\n$/);
  });
});


describe('shares written as percentages', () => {
  it.each([
    ['--discount-rate', '10', '--discount-rate: is a share per year: 0.10 means 10% a year (got 10; did you mean 0.1?)'],
    ['--margin', '30', '--margin: is a share of revenue: 0.30 means 30% (got 30; did you mean 0.3?)'],
    ['--margin', '14.3', '--margin: is a share of revenue: 0.30 means 30% (got 14.3; did you mean 0.143?)'],
  ])('%s %s is refused with what a share means, exit 2', async (flag, value, message) => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', sampleData, '--output', 'out', flag, value], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`clv: ${message} (run \`clv <command> --help\` for usage)`);
    expect(await filesUnder(join(cwd, 'out'))).toEqual([]);
  });

  it('a discount rate of 1 (100% a year) is still taken', async () => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31', '--discount-rate', '1'], cwd);

    expect(result.code).toBe(0);
  });
});

describe('thread counts that are no thread count', () => {
  it.each([
    [['--threads', '0'], {}, '--threads: is a number of threads, at least 1'],
    [['--threads', '2.5'], {}, '--threads: is a whole number of threads'],
    [[], { CLV_MODEL_THREADS: '0' }, 'CLV_MODEL_THREADS must be a whole number of threads from 1 to 64 (got "0")'],
    [[], { CLV_MODEL_THREADS: 'all' }, 'CLV_MODEL_THREADS must be a number'],
  ] as const)('%j with environment %j is refused, naming the setting, exit 2', async (args, env, message) => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', sampleData, '--output', 'out', ...args], cwd, env);

    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`clv: ${message} (run \`clv <command> --help\` for usage)`);
    expect(await filesUnder(join(cwd, 'out'))).toEqual([]);
  });

  it('a --threads flag over a bad CLV_MODEL_THREADS runs (flag over environment, README)', async () => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31', '--threads', '1'], cwd, { CLV_MODEL_THREADS: 'abc' });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('clv ingest failing', () => {
  it('says the ingest failed, not that a run published nothing', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'empty.csv', '');

    const result = await clv(['ingest', '--input', 'empty.csv', '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^clv: ingest failed: empty\.csv: is empty \(0 bytes\)/);
  });
});

describe('a number written with an exponent', () => {
  it('is read as the number it is, so one out of range is told its range, not "must be a number"', async () => {
    const cwd = await tempDir();

    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--horizon', '1e9'], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clv: --horizon: /);
    expect(result.stderr).not.toMatch(/must be a number/);
  });
});

describe('the as-of date against the order dates', () => {
  // the last valid order is 2024-03-10; 365 days later is 2025-03-10
  const orders = HEADER + 'O1,c1,2024-03-01,10\nO2,c1,2024-03-10,12\nO3,c2,2024-03-05,7\n';

  it.each([
    ['2025-03-11', 366, true],
    ['2025-03-10', 365, false],
  ])('an --as-of of %s (%i days after the last valid order) warns: %s', async (asOf, days, warns) => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', orders);

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--as-of', asOf], cwd);
    const summary = await readSummary(cwd, asOf);

    expect(result.code).toBe(0);
    const warning =
      `the as-of date ${asOf} is ${days} days after the last valid order (2024-03-10): every customer looks inactive since, ` +
      'so predictions and tiers are pessimistic; check the as-of date (leave it out to use the latest order date)';
    expect(result.stdout.includes(`warning: ${warning}\n`)).toBe(warns);
    expect(summary.warnings.some((w) => w.code === 'as_of_long_after_last_order' && w.message === warning)).toBe(warns);
  });

  it('a run where no order date is valid fails, saying why, and never takes today as its run date', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', HEADER + 'O1,c1,01/02/2025,5\nO2,c2,01/03/2025,6\nO3,,2025-13-01,7\n');

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^clv: run failed, nothing published: no row has a valid order date on or before today \(\d{4}-\d{2}-\d{2}\), so there is no as-of date to run for \(3 rows read; rejected: 2 invalid_order_date, 1 missing_customer_id\)\. order_date must be an ISO 8601 date \(e\.g\. 2025-12-31\) or timestamp, or as csv\.dateFormat says when the config file sets one; to run anyway, give the as-of date \(clv run --as-of YYYY-MM-DD\)$/,
    );
    expect(await publishedUnder(join(cwd, 'out'))).toEqual([]);
  });

  it('a run whose every row is rejected for something other than its date names that, with its first row, not the date format', async () => {
    const cwd = await tempDir();
    // a field too many on every line (a trailing comma), and amounts with a currency sign: the dates are valid
    await mkdir(join(cwd, 'commas'));
    await mkdir(join(cwd, 'dollars'));
    await writeText(cwd, 'commas/orders.csv', HEADER + 'O1,c1,2025-01-02,5,\nO2,c2,2025-01-03,6,\n');
    await writeText(cwd, 'dollars/orders.csv', HEADER + 'O1,c1,2025-01-02,$5.00\nO2,c2,2025-01-03,$6.00\n');

    const commas = await clv(['run', '--input', 'commas', '--output', 'out-commas'], cwd);
    const dollars = await clv(['run', '--input', 'dollars', '--output', 'out-dollars'], cwd);

    expect(commas.code).toBe(1);
    expect(commas.stderr).toContain('(2 rows read; rejected: 2 malformed_row). No row was rejected for its date: malformed_row first at commas/orders.csv:2; fix the export, or give the as-of date (clv run --as-of YYYY-MM-DD) to have the run fail its gates with the quality report');
    expect(dollars.code).toBe(1);
    expect(dollars.stderr).toContain('No row was rejected for its date: invalid_amount first at dollars/orders.csv:2;');
    for (const result of [commas, dollars]) expect(result.stderr).not.toMatch(/ISO 8601/);
  });

  it('a run whose every order is dated before validation.minOrderDate names that setting, not the date format or --as-of', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', HEADER + 'O1,c1,2025-01-02,5\nO2,c2,2025-01-03,6\n');
    await writeText(cwd, 'config.json', JSON.stringify({ validation: { minOrderDate: '2030-01-01' } }));

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out', '--config', 'config.json'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rejected: 2 implausible_order_date). implausible_order_date rows are dated before validation.minOrderDate');
    expect(result.stderr).not.toMatch(/ISO 8601|--as-of/);
  });
});

describe('clv report finds the summary from the output folder', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = await tempDir();
    const run = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    expect(run.code).toBe(0);
  });

  it.each([
    ['the output folder', 'out'],
    ['its latest.json', 'out/latest.json'],
    ['the summary.json itself', 'out/summary/run_date=2025-12-31/summary.json'],
  ])('from %s, it writes the page into the output folder, not the working directory', async (_, summary) => {
    const result = await clv(['report', '--summary', summary], cwd);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('report: out/clv-report-2025-12-31.html\n');
    expect(await readFile(join(cwd, 'out/clv-report-2025-12-31.html'), 'utf8')).toBe(await readFile(join(cwd, 'out/report/run_date=2025-12-31/index.html'), 'utf8'));
    expect(await readdir(cwd)).toEqual(['out']);
  });

  it('exits 2 (bad usage, as every command does) on a folder that is no output folder, or an --output it cannot write, saying so', async () => {
    const result = await clv(['report', '--summary', '.'], cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('clv: .: has no readable latest.json: is it the output folder of a `clv run`? (run `clv <command> --help` for usage)\n');

    const folder = await clv(['report', '--summary', 'out', '--output', 'out', '--debug'], cwd);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/^clv: --output out: cannot be written \(EISDIR\)/);
  });

  it('names the recovery that rewrites the latest.json of an output folder when it is damaged, and the lack of a published night where there is none', async () => {
    const latest = await readFile(join(cwd, 'out/latest.json'), 'utf8');
    await writeText(cwd, 'out/latest.json', 'garbage');
    await mkdir(join(cwd, 'unpublished/_publish'), { recursive: true });

    const damaged = await clv(['report', '--summary', 'out'], cwd);
    const file = await clv(['report', '--summary', 'out/latest.json'], cwd);
    const recovered = await clv(['recover', '--output', 'out'], cwd);
    const unpublished = await clv(['report', '--summary', 'unpublished'], cwd);

    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toBe('clv: out: has no readable latest.json: `clv recover --output out` rewrites it for the newest night published there (run `clv <command> --help` for usage)\n');
    expect(file.stderr).toMatch(/^clv: out\/latest\.json: is not a valid latest\.json \(it names no summary\): `clv recover --output out` rewrites it/);
    expect(recovered.code).toBe(0);
    expect(await readFile(join(cwd, 'out/latest.json'), 'utf8')).toBe(latest);
    expect((await clv(['report', '--summary', 'out'], cwd)).code).toBe(0);
    expect(unpublished.stderr).toBe('clv: unpublished: has no readable latest.json: unpublished is an output folder with no night published yet (run `clv <command> --help` for usage)\n');
  });
});

describe('clv in a pipe', () => {
  it.each([
    ['head -1', 'head -1'],
    ['a reader that reads nothing', 'true'],
  ])('ends quietly when %s closes the pipe early, with the run exit status 0', async (_, reader) => {
    const cwd = await tempDir();

    const result = await clvPiped(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], reader, cwd);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await filesUnder(join(cwd, 'out/summary'))).toContain('run_date=2025-12-31/summary.json');
  });

  it('keeps a failed run exit status 1 when the pipe is closed early', async () => {
    const cwd = await tempDir();
    await writeText(cwd, 'orders.csv', '');

    const result = await clvPiped(['run', '--input', 'orders.csv', '--output', 'out'], 'true', cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^clv: run failed, nothing published: orders\.csv: is empty/);
  });

  it('prints the top rejection reasons, most rows first, each with up to three rows as file:line', async () => {
    const cwd = await tempDir();
    await writeText(
      cwd,
      'orders.csv',
      // line 1 is the header; O6 lacks a field (a malformed record); a quoted line break makes O3 two lines;
      // 30 good orders keep the rejected share under the quality gate
      HEADER +
        'O1,c1,2025-01-01,5\nO2,c1,2025-01-02,x\nO3,"c\n2",2025-01-03,y\nO4,c2,2025-01-04,z\nO5,c3,2025-01-05,w\nO6,c3\nO7,c4,2025-02-30,5\n' +
        Array.from({ length: 30 }, (_, i) => `G${i},g${i % 7},2025-01-${String(i + 1).padStart(2, '0')},${i + 1}\n`).join(''),
    );

    const result = await clv(['run', '--input', 'orders.csv', '--output', 'out'], cwd);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      [
        'rejected rows by reason (every one in out/rejected/run_date=2025-01-30/):',
        '  4 invalid_amount, e.g. orders.csv:3, orders.csv:4, orders.csv:6',
        '  1 malformed_row, e.g. orders.csv:8',
        '  1 invalid_order_date, e.g. orders.csv:9',
      ].join('\n') + '\n',
    );
  });

  it('prints every warning, the segment change warnings included', async () => {
    const cwd = await tempDir();
    await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-06-30'], cwd);

    const result = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    const summary = await readSummary(cwd, '2025-12-31');

    expect(result.code).toBe(0);
    expect(summary.changes.warnings.length).toBeGreaterThan(0);
    for (const w of [...summary.warnings, ...summary.changes.warnings]) expect(result.stdout).toContain(`warning: ${w.message}\n`);
  });
});
