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
