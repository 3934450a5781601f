import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleData, tempDir, writeText } from '../support/files.js';
import { runLocal } from '../support/pipeline.js';

/**
 * Without an as-of date, a run is as of the latest valid order date, and an order dated after today
 * is not valid. "Today" is the clock passed to the pipeline, so this holds on any machine date.
 */
describe('the default as-of date, with the clock passed in', () => {
  const runAt = async (now: string) => {
    const input = await tempDir();
    await cp(sampleData, join(input, 'sample'), { recursive: true });
    // L1 on 2026-02-14; L2 centuries after any clock used here
    await writeText(input, 'late.csv', 'order_id,customer_id,order_date,amount\nL1,c1,2026-02-14,5\nL2,c2,2999-01-01,5\n');
    return (await runLocal([input], await tempDir(), {}, { now: () => new Date(now) })).summary;
  };

  it('is the latest order date on or before today: 2026-02-14 when today is 2026-02-20', async () => {
    const summary = await runAt('2026-02-20T03:00:00Z');
    expect(summary.run).toMatchObject({ as_of: '2026-02-14', as_of_source: 'latest_order_date' });
    // only L2 lies after it
    expect(summary.counts.rejected_by_reason.order_date_after_as_of).toBe(1);
  });

  it('takes an order dated today as valid: 2026-02-14 when today is 2026-02-14 (late evening, UTC)', async () => {
    const summary = await runAt('2026-02-14T23:30:00Z');
    expect(summary.run.as_of).toBe('2026-02-14');
  });

  it('counts an order dated one day after today as after the as-of date, not as its latest order', async () => {
    const summary = await runAt('2026-02-13T23:00:00Z');
    expect(summary.run.as_of_source).toBe('latest_order_date');
    expect(summary.run.as_of < '2026-02-14').toBe(true);
    // L1 and L2 both lie after it
    expect(summary.counts.rejected_by_reason.order_date_after_as_of).toBe(2);
  });
});

/**
 * The latest order date is an accepted order's (SPEC: "Default as-of: the latest valid order date";
 * valid orders are de-duplicated and not cancelled): every customer's tenure is counted to it.
 */
describe('the default as-of date, from the orders the run accepts', () => {
  const NOW = { now: () => new Date('2026-11-30T03:00:00Z') };
  const asOfOf = async (files: Record<string, string>) => {
    const input = await tempDir();
    for (const [name, text] of Object.entries(files)) await writeText(input, name, text);
    return (await runLocal([input], await tempDir(), {}, NOW)).summary.run.as_of;
  };
  const HEADER = 'order_id,customer_id,order_date,amount,channel,status\n';
  const ACCEPTED = 'B1,U1,2025-01-10,10,search,completed\nB2,U1,2025-06-01,20,search,completed\nB3,U2,2025-03-01,20,search,completed\n';

  it('is not the date of a later cancelled order', async () => {
    expect(await asOfOf({ 'a.csv': HEADER + ACCEPTED + 'B5,U3,2025-07-01,20,search,cancelled\n' })).toBe('2025-06-01');
  });

  it('is not the date of a later copy of a re-sent order that the run does not keep (the last file in name order is kept)', async () => {
    expect(await asOfOf({ 'a.csv': HEADER + ACCEPTED + 'B9,U2,2025-08-01,20,search,completed\n', 'b.csv': HEADER + 'B9,U2,2025-05-01,20,search,completed\n' })).toBe('2025-06-01');
  });

  it('is the date of the kept copy when it is the latest', async () => {
    expect(await asOfOf({ 'a.csv': HEADER + ACCEPTED + 'B9,U2,2025-05-01,20,search,completed\n', 'b.csv': HEADER + 'B9,U2,2025-08-01,20,search,completed\n' })).toBe('2025-08-01');
  });

  it('is an earlier copy\'s date when the kept copy of its order is a cancellation', async () => {
    // B9's kept copy (b.csv) cancels it; under that date the earlier copy of a.csv is not a repeat of anything later
    expect(await asOfOf({ 'a.csv': HEADER + ACCEPTED + 'B9,U2,2025-07-01,20,search,completed\n', 'b.csv': HEADER + 'B9,U2,2025-07-01,20,search,cancelled\n' })).toBe('2025-06-01');
  });

  it('counts an order without a status as a purchase, as the run does', async () => {
    expect(await asOfOf({ 'a.csv': HEADER + ACCEPTED + 'B7,U4,2025-09-09,20,search,\n' })).toBe('2025-09-09');
  });

  it('says so when it falls before the newest published night, which this run then leaves as it was', async () => {
    // Prepare: a night of 2025-07-01 published; then its one purchase of that day re-sent cancelled
    const input = await tempDir();
    const out = await tempDir();
    await writeText(input, 'a.csv', HEADER + ACCEPTED + 'B8,U3,2025-07-01,20,search,completed\n');
    const first = await runLocal([input], out, {}, NOW);
    expect(first.summary.warnings.map((w) => w.code)).not.toContain('as_of_before_published_night');
    await writeText(input, 'b.csv', HEADER + 'B8,U3,2025-07-01,20,search,cancelled\n');

    // Act
    const { summary } = await runLocal([input], out, {}, NOW);

    // Assess: the night of 2025-06-01 re-run, the warning naming the one readers take as current
    expect(summary.run.as_of).toBe('2025-06-01');
    expect(summary.warnings.find((w) => w.code === 'as_of_before_published_night')?.message).toBe(
      'the latest purchase day in the exports, 2025-06-01, is before the newest published night, 2025-07-01: this run published the night of 2025-06-01, ' +
        "and 2025-07-01 stays as published, with nothing tonight's exports changed about it (a cancellation, a correction); " +
        'to bring it up to date, run it again with --as-of 2025-07-01 (on AWS, an event with "runDate"), or check that the newest exports arrived',
    );
    // given explicitly, an earlier night is a backfill, asked for: nothing to say
    const backfill = await runLocal([input], out, { asOf: '2025-06-15' }, NOW);
    expect(backfill.summary.warnings.map((w) => w.code)).not.toContain('as_of_before_published_night');
  });
});

/**
 * The rows after a defaulted as-of date that are not in the future (after today in UTC, plus a day
 * for time zones ahead of it) lie outside the night's window, as with a given date: a drop that ends
 * in cancellations after its last purchase is not a defective drop.
 */
describe('the rejected-share gate with the default as-of date', () => {
  const HEADER = 'order_id,customer_id,order_date,amount,status\n';
  const purchases = Array.from({ length: 20 }, (_, i) => `P${i},C${i % 7},2025-06-${String(i + 1).padStart(2, '0')},10,completed\n`).join('');
  const runWith = async (tail: string, now: string) => {
    const input = await tempDir();
    await writeText(input, 'orders.csv', HEADER + purchases + tail);
    return runLocal([input], await tempDir(), {}, { now: () => new Date(now) });
  };

  it('does not hold cancellations dated after the last purchase against the drop: the night publishes', async () => {
    const cancellations = Array.from({ length: 6 }, (_, i) => `X${i},C${i},2025-06-30,10,cancelled\n`).join('');

    const { summary } = await runWith(cancellations, '2025-07-15T12:00:00Z');

    expect(summary.run.as_of).toBe('2025-06-20');
    expect(summary.counts.rejected_by_reason.order_date_after_as_of).toBe(6);
    const share = summary.quality!.gates.find((g) => g.gate === 'rejected_share')!;
    expect(share).toMatchObject({ passed: true, value: 0 });
    expect(share.message).toContain('6 rows after the latest purchase day (2025-06-20) but not in the future not counted');
  });

  it('still holds rows dated in the future against it: after today in UTC, plus a day', async () => {
    // dated two days after "today": defects, 6 of the 26 rows
    const future = Array.from({ length: 6 }, (_, i) => `F${i},C${i},2025-07-17,10,completed\n`).join('');

    await expect(runWith(future, '2025-07-15T12:00:00Z')).rejects.toThrow(/rejected_share/);
  });

  it('leaves out, not holds against it, rows dated tomorrow in UTC (today in a time zone ahead of it)', async () => {
    const tomorrow = Array.from({ length: 6 }, (_, i) => `T${i},C${i},2025-07-16,10,completed\n`).join('');

    const { summary } = await runWith(tomorrow, '2025-07-15T20:00:00Z');

    expect(summary.quality!.gates.find((g) => g.gate === 'rejected_share')).toMatchObject({ passed: true, value: 0 });
  });
});
