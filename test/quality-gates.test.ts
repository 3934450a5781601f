import { existsSync } from 'node:fs';
import { readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { qualityReportSchema } from '../lambdas/clv-job/schemas/quality-report.js';
import { summarySchema } from '../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from './support/cli.js';
import { queryDuckDb } from './support/duckdb-reader.js';
import { sampleData, tempDir, writeText } from './support/files.js';

/**
 * SPEC "Data-quality gates", through the CLI as a data team meets it: a broken drop never replaces a
 * good night. A failed gate exits 1, publishes nothing, leaves latest.json alone, prints the report
 * and writes it under `_quality/`; `--accept-failed-gates` publishes anyway, on purpose.
 */

/** Every file under the output with its bytes, to show that a failed night changed nothing. */
const snapshot = async (root: string): Promise<Record<string, string>> => {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const out: Record<string, string> = {};
  for (const e of entries.filter((x) => x.isFile())) {
    const path = join(e.parentPath, e.name);
    out[path.slice(root.length + 1)] = (await readFile(path)).toString('base64');
  }
  return out;
};

const csv = (rows: readonly string[]): string => ['order_id,customer_id,order_date,amount', ...rows].join('\n') + '\n';

/** `n` customers with two valid orders each in January 2024, ids starting at `from`. */
const validOrders = (n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => [`V${from + i}a,C${from + i},2024-01-0${1 + (i % 5)},${10 + (i % 7)}.50`, `V${from + i}b,C${from + i},2024-01-2${i % 8},${12 + (i % 5)}.25`]).flat();

describe('data-quality gates', () => {
  beforeAll(requireCliBundle);

  it('stop a re-run of a good night on a drop whose every row is rejected: exit 1, the report printed and under _quality/, the night untouched', async () => {
    const cwd = await tempDir();
    const good = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    expect(good.code, good.stderr).toBe(0);
    const before = await snapshot(join(cwd, 'out'));
    const bad = await writeText(cwd, 'bad.csv', csv(['1,C1,31/12/2025,10', '2,C2,2025-12-30,12 EUR', '3,,2025-12-30,5', '4,C4,yesterday,7']));

    const result = await clv(['run', '--input', bad, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    const undated = await clv(['run', '--input', bad, '--output', 'out'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^clv: run failed, nothing published: data-quality gate failed: accepted_orders/);
    expect(result.stderr).toMatch(/gate accepted_orders failed: 0 accepted orders \(at least 1 required\)/);
    // four rows are too few for the share to be held (gates.minRowsForRejectedShare): no accepted order is what stops it
    expect(result.stderr).not.toMatch(/gate rejected_share failed/);
    // the note on a day-first date (rejectionNotes), then the sample rows
    expect(result.stderr).toMatch(
      /invalid_order_date: 2 rows \(50\.0% of the input\)\n {4}.*bad\.csv:2 has order_date "31\/12\/2025", written with the day and the month before the year: csv\.dateFormat "%d\/%m\/%Y" reads it\n {4}.*bad\.csv:\d+ order_id="1" customer_id="C1" order_date="31\/12\/2025"/,
    );
    // without an as-of date there is no night to run: a failed run too, never one dated today
    expect(undated.code).toBe(1);
    expect(undated.stderr).toMatch(/nothing published/);
    const after = await snapshot(join(cwd, 'out'));
    // the ingest step keeps each export's canonical copy under ingested/ (a cache, not a publication)
    const added = Object.keys(after).filter((k) => !(k in before) && !k.startsWith('ingested/'));
    expect(added).toEqual(['_quality/run_date=2025-12-31/quality.json']);
    for (const [key, bytes] of Object.entries(before)) expect(after[key], key).toBe(bytes);
    expect(JSON.parse(await readFile(join(cwd, 'out', 'latest.json'), 'utf8')).run_date).toBe('2025-12-31');
    const report = qualityReportSchema.parse(JSON.parse(Buffer.from(after[added[0]!]!, 'base64').toString('utf8')));
    expect(report).toMatchObject({ passed: false, published: false, accepted_failed_gates: false, as_of_source: 'given' });
    expect(report.counts).toMatchObject({ input_rows: 4, accepted_orders: 0, rejected_rows: 4 });
    expect(report.top_reasons.map((r) => [r.reason, r.rows])).toEqual([
      ['invalid_order_date', 2],
      ['missing_customer_id', 1],
      ['invalid_amount', 1],
    ]);

    // the night published again from good exports: the failed run's report goes, so _quality/ never says a published night failed
    const again = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(cwd, 'out/_quality/run_date=2025-12-31'))).toBe(false);
  });

  it('print the rejected rows they sample with control characters escaped: nothing from an export reaches the terminal raw', async () => {
    const cwd = await tempDir();
    // every row holds an escape sequence: malformed (control_character), and no order is accepted
    const bad = await writeText(cwd, 'bad.csv', csv(['1,C1,2025-12-30,\u001b[31m10', '2,C2\u0000,2025-12-30,12']));

    const result = await clv(['run', '--input', bad, '--output', 'out', '--as-of', '2025-12-31'], cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/malformed_row: 2 rows/);
    expect(result.stderr).toContain('1,C1,2025-12-30,\\u001b[31m10');
    expect(result.stderr).not.toMatch(/[\u0000\u001b]/);
  });

  it('publish anyway with --accept-failed-gates, saying so in the summary, the warnings and the quality report', async () => {
    const cwd = await tempDir();
    const input = await writeText(cwd, 'half.csv', csv([...validOrders(10), ...Array.from({ length: 20 }, (_, i) => `X${i},CX${i},2024-01-05,n/a`)]));

    const refused = await clv(['run', '--input', input, '--output', 'out', '--as-of', '2024-03-31'], cwd);
    const accepted = await clv(['run', '--input', input, '--output', 'out', '--as-of', '2024-03-31', '--accept-failed-gates'], cwd);

    expect(refused.code).toBe(1);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/warning: published although data-quality gates failed: 50\.0% of the rows rejected/);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2024-03-31/summary.json'), 'utf8')));
    expect(summary.quality).toMatchObject({ passed: false, accepted_failed_gates: true });
    expect(summary.warnings.map((w) => w.code)).toContain('quality_gates_failed');
    const report = qualityReportSchema.parse(JSON.parse(await readFile(join(cwd, 'out/_quality/run_date=2024-03-31/quality.json'), 'utf8')));
    expect(report).toMatchObject({ published: true, accepted_failed_gates: true });
  });

  it('publish a night without customers on purpose with every dataset there, the customers\' empty with their columns', async () => {
    const cwd = await tempDir();
    const input = await writeText(cwd, 'refunds.csv', csv(['R1,C1,2024-01-05,-10', 'R2,C2,2024-01-06,-20']));

    const accepted = await clv(['run', '--input', input, '--output', 'out', '--as-of', '2024-03-31', '--accept-failed-gates'], cwd);

    expect(accepted.code, accepted.stderr).toBe(0);
    const rows = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT segment)::INTEGER AS partitions FROM read_parquet('${join(cwd, 'out/customers/run_date=2024-03-31')}/**/*.parquet', hive_partitioning = true)`);
    expect(rows).toEqual([{ n: 0, partitions: 0 }]);
    const columns = await queryDuckDb(`DESCRIBE SELECT * FROM read_parquet('${join(cwd, 'out/customers/run_date=2024-03-31/segment=low/part-00000.parquet')}')`);
    expect(columns.map((c) => c.column_name)).toContain('predicted_clv');
  });

  it('leave no failed report behind a rollback to a version whose gates passed', async () => {
    const cwd = await tempDir();
    const good = await writeText(cwd, 'good.csv', csv(validOrders(20)));
    const half = await writeText(cwd, 'half.csv', csv([...validOrders(10), ...Array.from({ length: 20 }, (_, i) => `X${i},CX${i},2024-01-05,n/a`)]));
    expect((await clv(['run', '--input', good, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);
    expect((await clv(['run', '--input', half, '--output', 'out', '--as-of', '2024-03-31', '--accept-failed-gates'], cwd)).code).toBe(0);
    expect(existsSync(join(cwd, 'out/_quality/run_date=2024-03-31/quality.json'))).toBe(true);

    const rolledBack = await clv(['rollback', '--output', 'out', '--run-date', '2024-03-31'], cwd);

    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2024-03-31/summary.json'), 'utf8')));
    expect(summary.quality?.passed).toBe(true);
    expect(existsSync(join(cwd, 'out/_quality/run_date=2024-03-31'))).toBe(false);
  });

  it('do not count rows dated after an as-of date given explicitly toward the rejected share', async () => {
    const cwd = await tempDir();
    // 40 valid orders up to the as-of date and 60 after it: a backfill of 2024-03-31
    const later = Array.from({ length: 60 }, (_, i) => `L${i},C${i % 20},2024-05-${String(1 + (i % 28)).padStart(2, '0')},20.00`);
    const input = await writeText(cwd, 'orders.csv', csv([...validOrders(20), ...later]));

    const result = await clv(['run', '--input', input, '--output', 'out', '--as-of', '2024-03-31'], cwd);

    expect(result.code, result.stderr).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2024-03-31/summary.json'), 'utf8')));
    expect(summary.counts.rejected_by_reason.order_date_after_as_of).toBe(60);
    expect(summary.quality?.gates.find((g) => g.gate === 'rejected_share')).toMatchObject({ passed: true, value: 0 });
  });

  it('leave rows dated after an as-of date given explicitly out of the share whatever else is wrong with them', async () => {
    const cwd = await tempDir();
    // 20 clean rows inside the window; after it, 20 clean rows and 6 with a negative amount (outside
    // the window as much as the clean ones) and 2 with no customer; inside it, one negative amount
    const later = Array.from({ length: 20 }, (_, i) => `U${i},C${i},2025-06-${String(i + 1).padStart(2, '0')},10.00`);
    const laterBad = [...Array.from({ length: 6 }, (_, i) => `N${i},C${i},2025-06-0${i + 1},-5.00`), 'M1,,2025-06-09,5.00', 'M2,,2025-06-10,5.00'];
    const inside = [...Array.from({ length: 20 }, (_, i) => `J${i},C${i},2025-01-${String(i + 1).padStart(2, '0')},10.00`), 'B1,C1,2025-01-30,-1.00'];
    const input = await writeText(cwd, 'orders.csv', csv([...inside, ...later, ...laterBad]));

    const result = await clv(['run', '--input', input, '--output', 'out', '--as-of', '2025-01-31'], cwd);

    expect(result.code, result.stderr).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2025-01-31/summary.json'), 'utf8')));
    // every row is still accounted for: the rows after the as-of date are rejected rows as before
    expect(summary.counts.rejected_by_reason).toMatchObject({ order_date_after_as_of: 20, negative_amount: 7, missing_customer_id: 2 });
    // one defect among the 21 rows inside the window
    const gate = summary.quality?.gates.find((g) => g.gate === 'rejected_share');
    expect(gate?.value).toBeCloseTo(1 / 21, 12);
    expect(gate?.message).toContain('28 rows after the given as-of date not counted');
  });

  it('compare customers with the latest earlier run date, and a backfill of an older night with none', async () => {
    const cwd = await tempDir();
    const big = await writeText(cwd, 'big.csv', csv(validOrders(40)));
    const small = await writeText(cwd, 'small.csv', csv(validOrders(10, 100)));

    expect((await clv(['run', '--input', big, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);
    const shrunk = await clv(['run', '--input', small, '--output', 'out', '--as-of', '2024-04-01'], cwd);
    const backfill = await clv(['run', '--input', small, '--output', 'out', '--as-of', '2024-03-01'], cwd);

    expect(shrunk.code).toBe(1);
    expect(shrunk.stderr).toMatch(/gate customers_vs_previous failed: 10 customers, 25\.0% of the 40 of 2024-03-31 \(at least 50\.0% required\)/);
    expect(backfill.code, backfill.stderr).toBe(0);
    const backfilled = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2024-03-01/summary.json'), 'utf8')));
    expect(backfilled.changes.note).toMatch(/^Backfill: no night before 2024-03-01 is published to compare with; 2024-03-31 and the nights after it are/);
    expect(JSON.parse(await readFile(join(cwd, 'out', 'latest.json'), 'utf8')).run_date).toBe('2024-03-31');
  });

  it("hold a night against the previous one whose summary is damaged (its manifest counts its customers), and against the latest earlier night that can be read", async () => {
    const cwd = await tempDir();
    const big = await writeText(cwd, 'big.csv', csv(validOrders(40)));
    const small = await writeText(cwd, 'small.csv', csv(validOrders(10, 100)));
    /** Overwrites a published night's file where it lives (the folder's links point into its run). */
    const damage = async (file: string) => writeFile(await realpath(join(cwd, 'out', file)), '{"broken');
    expect((await clv(['run', '--input', big, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);

    // the summary of the only earlier night damaged: its manifest still counts its 40 customers
    await damage('summary/run_date=2024-03-31/summary.json');
    const shrunk = await clv(['run', '--input', small, '--output', 'out', '--as-of', '2024-04-01'], cwd);
    expect(shrunk.code).toBe(1);
    expect(shrunk.stderr).toMatch(/gate customers_vs_previous failed: 10 customers, 25\.0% of the 40 of 2024-03-31/);
    const kept = await clv(['run', '--input', big, '--output', 'out', '--as-of', '2024-04-01'], cwd);
    expect(kept.code, kept.stderr).toBe(0);
    const summary = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2024-04-01/summary.json'), 'utf8')));
    expect(summary.warnings.filter((w) => w.code === 'previous_run_unreadable').map((w) => w.message)).toEqual([
      'the summary of 2024-03-31 cannot be read: tonight is held against the 40 customers of 2024-03-31 and compared with no earlier night',
    ]);
    expect(summary.changes.previous_run_date).toBeNull();

    // the latest earlier night unreadable whole: held against the one before it
    await damage('summary/run_date=2024-04-01/summary.json');
    await damage('summary/run_date=2024-04-01/_manifest.json');
    const passedOver = await clv(['run', '--input', small, '--output', 'out', '--as-of', '2024-04-02'], cwd);
    expect(passedOver.code).toBe(1);
    expect(passedOver.stderr).toMatch(/gate customers_vs_previous failed: 10 customers, 25\.0% of the 40 of 2024-03-31/);

    // no earlier night readable at all: not published, rather than published unchecked
    await damage('summary/run_date=2024-03-31/_manifest.json');
    const unchecked = await clv(['run', '--input', big, '--output', 'out', '--as-of', '2024-04-02'], cwd);
    expect(unchecked.code).toBe(1);
    expect(unchecked.stderr).toMatch(/not held against the previous run: the summary and manifest of 2024-04-01 \(and of every earlier run date\) cannot be read/);
    expect(JSON.parse(await readFile(join(cwd, 'out', 'latest.json'), 'utf8')).run_date).toBe('2024-04-01');
  });

  it('hold a night against the previous one whose _SUCCESS was deleted: a night with a switch is published, and a file gone from it does not turn the gate off', async () => {
    const cwd = await tempDir();
    const big = await writeText(cwd, 'big.csv', csv(validOrders(40)));
    const small = await writeText(cwd, 'small.csv', csv(validOrders(10, 100)));
    expect((await clv(['run', '--input', big, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);
    await rm(join(cwd, 'out/summary/run_date=2024-03-31/_SUCCESS'));

    const shrunk = await clv(['run', '--input', small, '--output', 'out', '--as-of', '2024-04-01'], cwd);

    expect(shrunk.code).toBe(1);
    expect(shrunk.stderr).toMatch(/gate customers_vs_previous failed: 10 customers, 25\.0% of the 40 of 2024-03-31/);
    expect(JSON.parse(await readFile(join(cwd, 'out', 'latest.json'), 'utf8')).run_date).toBe('2024-03-31');
  });

  it('hold a re-run of a published night against the version it would replace: a broken drop does not replace a good night of the same date', async () => {
    const cwd = await tempDir();
    const big = await writeText(cwd, 'big.csv', csv(validOrders(40)));
    const small = await writeText(cwd, 'small.csv', csv(validOrders(10, 100)));
    expect((await clv(['run', '--input', big, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);

    const rerun = await clv(['run', '--input', small, '--output', 'out', '--as-of', '2024-03-31'], cwd);

    expect(rerun.code).toBe(1);
    expect(rerun.stderr).toMatch(/gate customers_vs_previous failed: 10 customers, 25\.0% of the 40 of the published 2024-03-31 this run would replace/);
    const published = summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2024-03-31/summary.json'), 'utf8')));
    expect(published.counts.customers).toBe(40);
    expect((await clv(['run', '--input', big, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);
  });

  it('hold a re-run or the next night against the revenue and the latest order of the nights before: a drop with every amount zeroed, or every date a year back, keeps the customers and still fails', async () => {
    const cwd = await tempDir();
    const rows = validOrders(40);
    const good = await writeText(cwd, 'good.csv', csv(rows));
    const zeroed = await writeText(cwd, 'zeroed.csv', csv(rows.map((row) => row.replace(/,[\d.]+$/, ',0.00'))));
    const yearBack = await writeText(cwd, 'year-back.csv', csv(rows.map((row) => row.replace(',2024-', ',2023-'))));
    expect((await clv(['run', '--input', good, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);
    const summaryAt = async (runDate: string) => summarySchema.parse(JSON.parse(await readFile(join(cwd, `out/summary/run_date=${runDate}/summary.json`), 'utf8')));
    const first = await summaryAt('2024-03-31');
    expect(first.run.latest_order_date).toBe('2024-01-27');
    const before = await snapshot(join(cwd, 'out'));

    const zeroRerun = await clv(['run', '--input', zeroed, '--output', 'out', '--as-of', '2024-03-31'], cwd);
    const zeroNext = await clv(['run', '--input', zeroed, '--output', 'out', '--as-of', '2024-04-01'], cwd);
    const shiftedRerun = await clv(['run', '--input', yearBack, '--output', 'out', '--as-of', '2024-03-31'], cwd);
    const shiftedNext = await clv(['run', '--input', yearBack, '--output', 'out', '--as-of', '2024-04-01'], cwd);

    const revenue = first.totals.revenue.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    expect(zeroRerun.code).toBe(1);
    const perOrder = (first.totals.revenue / first.counts.accepted_orders).toFixed(2);
    expect(zeroRerun.stderr).toContain(
      `gate revenue_vs_previous failed: revenue 0.00 (0.00 per order), 0.0% of the ${revenue} of the published 2024-03-31 this run would replace (${perOrder} per order, not compared: fewer than 100 orders) (at least 50.0% of the revenue required, and 50.0% to 200.0% of the revenue per order)`,
    );
    expect(zeroNext.code).toBe(1);
    expect(zeroNext.stderr).toContain(`gate revenue_vs_previous failed: revenue 0.00 (0.00 per order), 0.0% of the ${revenue} of 2024-03-31 (${perOrder} per order, not compared: fewer than 100 orders)`);
    expect(shiftedRerun.code).toBe(1);
    expect(shiftedRerun.stderr).toContain(
      'gate latest_order_vs_previous failed: latest accepted order 2023-01-27; that of the published 2024-03-31 this run would replace was 2024-01-27 (365 days later) (at most 30 days earlier allowed: orders those nights had are missing, or their dates moved back)',
    );
    expect(shiftedNext.code).toBe(1);
    expect(shiftedNext.stderr).toMatch(/gate latest_order_vs_previous failed: latest accepted order 2023-01-27; that of 2024-03-31 was 2024-01-27 \(365 days later\)/);
    // every customer was there each time: the customers gate alone let these through
    for (const result of [zeroRerun, zeroNext, shiftedRerun, shiftedNext]) expect(result.stderr).not.toMatch(/gate customers_vs_previous failed/);
    const after = await snapshot(join(cwd, 'out'));
    for (const [key, bytes] of Object.entries(before)) expect(after[key], key).toBe(bytes);
    expect(Object.keys(after).filter((k) => !(k in before) && !k.startsWith('ingested/')).sort()).toEqual(['_quality/run_date=2024-03-31/quality.json', '_quality/run_date=2024-04-01/quality.json']);
  });

  it('stop a drop of amounts read in another unit (cents as units), and one dated a year back run without an as-of date, which would publish as an older night', async () => {
    const cwd = await tempDir();
    // 120 orders: enough for the revenue per order to be held (MIN_ORDERS_FOR_REVENUE_PER_ORDER)
    const rows = validOrders(60);
    const good = await writeText(cwd, 'good.csv', csv(rows));
    const cents = await writeText(cwd, 'cents.csv', csv(rows.map((row) => row.replace(/,([\d.]+)$/, (_, amount: string) => `,${(Number(amount) * 100).toFixed(2)}`))));
    const yearBack = await writeText(cwd, 'year-back.csv', csv(rows.map((row) => row.replace(',2024-', ',2023-'))));
    expect((await clv(['run', '--input', yearBack, '--output', 'out', '--as-of', '2023-01-27'], cwd)).code).toBe(0);
    expect((await clv(['run', '--input', good, '--output', 'out', '--as-of', '2024-01-27'], cwd)).code).toBe(0);
    const before = await snapshot(join(cwd, 'out'));

    const centsNext = await clv(['run', '--input', cents, '--output', 'out', '--as-of', '2024-01-28'], cwd);
    // its latest order, 2023-01-27, becomes the run date: the night of 2023-01-27 would be replaced by a drop that lost a year
    const backdated = await clv(['run', '--input', yearBack, '--output', 'out'], cwd);

    expect(centsNext.code).toBe(1);
    expect(centsNext.stderr).toMatch(/gate revenue_vs_previous failed: revenue [\d,.]+ \([\d,.]+ per order\), 10000\.0% of the [\d,.]+ of 2024-01-27/);
    expect(backdated.code).toBe(1);
    expect(backdated.stderr).toMatch(/gate latest_order_vs_previous failed: latest accepted order 2023-01-27; that of the published 2023-01-27 this run would replace was 2023-01-27 and that of the newest published night, 2024-01-27, was 2024-01-27 \(365 days later\)/);
    const after = await snapshot(join(cwd, 'out'));
    for (const [key, bytes] of Object.entries(before)) expect(after[key], key).toBe(bytes);
  });

  it('warn when a re-run that passes replaces its night with fewer customers, and not when it keeps them', async () => {
    const cwd = await tempDir();
    const all = await writeText(cwd, 'all.csv', csv(validOrders(40)));
    // 30 of the 40 customers: 75%, above the gate's half, so published, with a word
    const truncated = await writeText(cwd, 'truncated.csv', csv(validOrders(30)));
    expect((await clv(['run', '--input', all, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);
    const summaryAt = async () => summarySchema.parse(JSON.parse(await readFile(join(cwd, 'out/summary/run_date=2024-03-31/summary.json'), 'utf8')));

    const shrunk = await clv(['run', '--input', truncated, '--output', 'out', '--as-of', '2024-03-31'], cwd);

    expect(shrunk.code, shrunk.stderr).toBe(0);
    expect((await summaryAt()).warnings.filter((w) => w.code === 'rerun_customer_count_drop').map((w) => w.message)).toEqual([
      'this run replaces the published 2024-03-31 of 40 customers with 30 (25.0% fewer): the same night only loses customers when exports are missing ' +
        "or truncated; a rollback of 2024-03-31 (clv rollback, or the job Lambda's rollback event) brings the replaced version back",
    ]);
    expect((await clv(['run', '--input', all, '--output', 'out', '--as-of', '2024-03-31'], cwd)).code).toBe(0);
    expect((await summaryAt()).warnings.map((w) => w.code)).not.toContain('rerun_customer_count_drop');
  });

  it('take their thresholds from the config file, and refuse a bad one as a usage error', async () => {
    const cwd = await tempDir();
    const input = await writeText(cwd, 'half.csv', csv([...validOrders(10), ...Array.from({ length: 20 }, (_, i) => `X${i},CX${i},2024-01-05,n/a`)]));
    await writeText(cwd, 'lenient.json', JSON.stringify({ gates: { maxRejectedShare: 0.6 } }));
    await writeText(cwd, 'bad.json', JSON.stringify({ gates: { maxRejectedShare: 1.5 } }));

    const lenient = await clv(['run', '--input', input, '--output', 'out', '--as-of', '2024-03-31', '--config', 'lenient.json'], cwd);
    const bad = await clv(['run', '--input', input, '--output', 'out', '--as-of', '2024-03-31', '--config', 'bad.json'], cwd);

    expect(lenient.code, lenient.stderr).toBe(0);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/gates\.maxRejectedShare/);
  });
});
