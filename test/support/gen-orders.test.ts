import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NON_PURCHASE_STATUSES, validationSchema } from '../../lambdas/clv-job/config.js';
import { fixture, sampleData, tempDir } from './files.js';
import { CHANNELS, DEFECT_REASONS, generateOrders, parseGenArgs, recordedCountsSchema, type TruthCounts } from './gen-orders.js';
import { genOrders } from './pipeline.js';

const MIN_ORDER_DATE = validationSchema.parse({}).minOrderDate;
const MAX_AMOUNT = 1e9;

interface Row {
  readonly orderId: string;
  readonly customer: string;
  readonly date: string;
  readonly amount: number;
  readonly channel: string;
  readonly status: string;
}

/** A row's rejection reason by the input contract's rules, in their order (SPEC "Input contract"), or the row. */
const judge = (record: readonly string[], asOf: string): string | Row => {
  if (record.length !== 6) return 'malformed_row';
  const [orderId, customer, date, amount, channel, status] = record.map((field) => field.trim()) as [string, string, string, string, string, string];
  if (orderId === '') return 'missing_order_id';
  if (customer === '') return 'missing_customer_id';
  const day = /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T00:00:00Z`) : null;
  if (day === null || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) return 'invalid_order_date';
  if (date < MIN_ORDER_DATE) return 'implausible_order_date';
  const value = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(amount) ? Number(amount) : Number.NaN;
  if (!Number.isFinite(value) || Math.abs(value) > MAX_AMOUNT) return 'invalid_amount';
  if (value < 0) return 'negative_amount';
  if (date > asOf) return 'order_date_after_as_of';
  return { orderId, customer, date, amount: value, channel, status: status.toLowerCase() };
};

/**
 * Counts the export files in `dir` as the input contract says a run must, written independently of
 * the generator: csv-parse reads the files, each row is judged once (rejected, then a repeat of an
 * order_id, the copy from the last file in name order kept, then a non-purchase status).
 */
const recount = async (dir: string, asOf: string) => {
  const names = (await readdir(dir)).filter((n) => /\.csv(\.gz)?$/.test(n)).sort();
  const rejected: Record<string, number> = {};
  const valid: Row[] = [];
  let inputRows = 0;
  for (const name of names) {
    const bytes = await readFile(join(dir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    const [header, ...records] = parse(text, { relax_column_count: true, bom: true }) as string[][];
    expect(header).toEqual(['order_id', 'customer_id', 'order_date', 'amount', 'channel', 'status']);
    for (const record of records) {
      inputRows += 1;
      const judged = judge(record, asOf);
      if (typeof judged === 'string') rejected[judged] = (rejected[judged] ?? 0) + 1;
      else valid.push(judged);
    }
  }
  const kept = new Map<string, Row>();
  for (const row of valid) kept.set(row.orderId, row); // the last copy wins
  let conflicting = 0;
  for (const row of valid) {
    const last = kept.get(row.orderId)!;
    if (row !== last && (row.customer !== last.customer || row.date !== last.date || row.amount !== last.amount)) conflicting += 1;
  }
  const accepted = [...kept.values()].filter((row) => !(DEFAULT_NON_PURCHASE_STATUSES as readonly string[]).includes(row.status));
  // acquisition: each customer's first accepted day, and on it the lowest order_id
  const first = new Map<string, Row>();
  for (const row of accepted) {
    const seen = first.get(row.customer);
    if (seen === undefined || row.date < seen.date || (row.date === seen.date && row.orderId < seen.orderId)) first.set(row.customer, row);
  }
  const acquired: Record<string, number> = {};
  for (const row of first.values()) acquired[`${row.channel}|${row.date.slice(0, 7)}`] = (acquired[`${row.channel}|${row.date.slice(0, 7)}`] ?? 0) + 1;
  return {
    counts: {
      input_rows: inputRows,
      accepted_orders: accepted.length,
      duplicate_orders: valid.length - kept.size,
      conflicting_duplicates: conflicting,
      non_purchase_orders: kept.size - accepted.length,
      rejected_rows: Object.values(rejected).reduce((a, b) => a + b, 0),
      rejected_by_reason: rejected,
      customers: first.size,
    },
    acquired,
    accepted,
    first,
  };
};

/** Truth's counts with the reasons that never occurred left out, as the recount reports them. */
const occurred = (counts: TruthCounts): TruthCounts => ({
  ...counts,
  rejected_by_reason: Object.fromEntries(Object.entries(counts.rejected_by_reason).filter(([, n]) => n > 0)),
});

const filesHash = async (dir: string): Promise<string> => {
  const hash = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) hash.update(name).update(await readFile(join(dir, name)));
  return hash.digest('hex');
};

describe('gen-orders: synthetic exports and the exact counts a correct run must report', () => {
  it('counts a dirty, overlapping, gzipped export exactly as an independent recount of its files does', async () => {
    const out = await tempDir();
    const truth = await generateOrders({ out, customers: 3000, files: 5, seed: 23, gzip: true, dirty: 0.05, overlap: 0.05 });

    const { counts } = await recount(out, truth.asOf);

    expect(counts).toEqual(occurred(truth.counts));
    // every kind today's pipeline rejects is there, the opt-in kinds are not, and nothing conflicts
    for (const kind of ['malformed_row', 'missing_order_id', 'missing_customer_id', 'invalid_order_date', 'invalid_amount', 'negative_amount', 'order_date_after_as_of']) {
      expect(counts.rejected_by_reason[kind], kind).toBeGreaterThan(0);
    }
    expect(truth.counts.rejected_by_reason.implausible_order_date).toBe(0);
    expect(Object.keys(truth.defects).sort()).not.toContain('absurd_amount');
    expect(counts.conflicting_duplicates).toBe(0);
    expect(counts.non_purchase_orders).toBeGreaterThan(0);
    expect(counts.duplicate_orders).toBeGreaterThan(0);
    expect(truth.files).toEqual(['orders-000.csv.gz', 'orders-001.csv.gz', 'orders-002.csv.gz', 'orders-003.csv.gz', 'orders-004.csv.gz']);
    const { input_rows, accepted_orders, duplicate_orders, non_purchase_orders, rejected_rows } = truth.counts;
    expect(accepted_orders + duplicate_orders + non_purchase_orders + rejected_rows).toBe(input_rows);
  });

  it('injects the opt-in defects and conflicting duplicates when asked, still counted exactly', async () => {
    const out = await tempDir();
    const defects = Object.keys(DEFECT_REASONS) as (keyof typeof DEFECT_REASONS)[];
    const truth = await generateOrders({ out, customers: 3000, files: 4, seed: 7, dirty: 0.05, defects, overlap: 0.03, conflicts: 0.03 });

    const { counts } = await recount(out, truth.asOf);

    expect(counts).toEqual(occurred(truth.counts));
    expect(counts.rejected_by_reason.implausible_order_date).toBeGreaterThan(0);
    expect(truth.defects.absurd_amount).toBeGreaterThan(0);
    expect(counts.conflicting_duplicates).toBeGreaterThan(0);
    expect(counts.conflicting_duplicates).toBeLessThan(counts.duplicate_orders);
  });

  it('writes a spend file at each channel’s known CAC per customer a correct run counts as acquired there', async () => {
    const [out, marketing] = [await tempDir(), await tempDir()];
    const spendFile = join(marketing, 'spend.csv');
    const truth = await generateOrders({ out, customers: 4000, files: 3, seed: 11, dirty: 0.03, overlap: 0.03, spendFile, degradingChannel: true });
    const { acquired, counts } = await recount(out, truth.asOf);
    const spend = parse(await readFile(spendFile, 'utf8'), { columns: true }) as { channel: string; month: string; spend: string }[];

    expect(counts.customers).toBe(truth.counts.customers);
    expect(truth.spend_file).toBe('spend.csv');
    expect(truth.channels.map((c) => c.name)).toEqual([...CHANNELS.map((c) => c.name), 'display']);
    for (const channel of truth.channels) {
      const rows = spend.filter((r) => r.channel === channel.name);
      const customers = Object.entries(acquired).filter(([key]) => key.startsWith(`${channel.name}|`)).reduce((s, [, n]) => s + n, 0);
      const total = rows.reduce((s, r) => s + Number(r.spend), 0);
      expect(rows.every((r) => /^\d{4}-\d{2}$/.test(r.month))).toBe(true);
      expect(channel.customers_acquired).toBe(customers);
      expect(total / customers).toBeCloseTo(channel.cac, 9);
      expect(channel.spend_total).toBeCloseTo(total, 6);
      for (const row of rows) expect(Number(row.spend)).toBeCloseTo(channel.cac * (acquired[`${channel.name}|${row.month}`] ?? 0), 6);
    }
  });

  it('makes the degrading channel’s newer cohorts worse, in its simulated quality and in the orders written', async () => {
    const out = await tempDir();
    const truth = await generateOrders({ out, customers: 6000, files: 2, seed: 3, degradingChannel: true });
    const { accepted, first } = await recount(out, truth.asOf);
    const display = truth.channels.find((c) => c.name === 'display')!;
    const early = display.cohorts.slice(0, 6);
    const late = display.cohorts.slice(-6);
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // the accepted orders' amounts of customers acquired in the window's first and last half-year
    const acquiredOn = (customer: string) => first.get(customer)!.date;
    const amounts = (from: string, to: string) =>
      accepted.filter((r) => r.channel === 'display' && acquiredOn(r.customer) >= from && acquiredOn(r.customer) < to).map((r) => r.amount);

    expect(mean(late.map((c) => c.mean_purchase_rate))).toBeLessThan(0.7 * mean(early.map((c) => c.mean_purchase_rate)));
    expect(mean(late.map((c) => c.mean_dropout_probability))).toBeGreaterThan(mean(early.map((c) => c.mean_dropout_probability)));
    expect(mean(late.map((c) => c.mean_order_value))).toBeLessThan(0.7 * mean(early.map((c) => c.mean_order_value)));
    expect(mean(amounts('2025-07-01', '2026-01-01'))).toBeLessThan(0.8 * mean(amounts('2024-01-01', '2024-07-01')));
    // the other channels keep their quality
    const search = truth.channels.find((c) => c.name === 'search')!;
    expect(mean(search.cohorts.slice(-6).map((c) => c.mean_order_value))).toBeGreaterThan(0.8 * mean(search.cohorts.slice(0, 6).map((c) => c.mean_order_value)));
  });

  it('writes the same bytes for the same seed, and other bytes for another', async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    const options = { customers: 500, files: 3, dirty: 0.05, overlap: 0.05, gzip: true };
    await generateOrders({ ...options, out: a, seed: 4 });
    await generateOrders({ ...options, out: b, seed: 4 });
    await generateOrders({ ...options, out: c, seed: 5 });

    expect(await filesHash(a)).toBe(await filesHash(b));
    expect(await filesHash(a)).not.toBe(await filesHash(c));
  });

  it('takes the command-line flags of gen-orders, and names a flag whose value is not a number', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const byFlags = await genOrders(a, ['--customers', '300', '--files', '2', '--seed', '9', '--dirty', '0.05', '--overlap', '0.05', '--defects', 'invalid_amount,absurd_amount', '--r', '0.5']);
    const byOptions = await generateOrders({ out: b, customers: 300, files: 2, seed: 9, dirty: 0.05, overlap: 0.05, defects: ['invalid_amount', 'absurd_amount'], params: { r: 0.5, alpha: 4.414, a: 0.793, b: 2.426, p: 6.25, q: 3.74, gamma: 15.44 } });

    expect(byFlags).toEqual(byOptions);
    expect(await filesHash(a)).toBe(await filesHash(b));
    expect(() => parseGenArgs(['--out', a, '--dirty', 'lots'])).toThrow('--dirty must be a number, got lots');
    await expect(genOrders(a, ['--defects', 'typo'])).rejects.toThrow(/defects/);
  });

  it('agrees with the counts recorded for the bundled sample (written by the outside generator)', async () => {
    const recorded = recordedCountsSchema.parse(JSON.parse(await readFile(fixture('sample-truth.json'), 'utf8')));

    const { counts } = await recount(sampleData, recorded.asOf);

    expect(counts).toEqual(occurred(recorded.counts));
  });
});
