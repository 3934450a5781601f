import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFolderStore } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { S3Store } from '../../lambdas/clv-job/adapters/s3-store.js';
import { DEFAULT_GATE_SETTINGS } from '../../lambdas/clv-job/domain/quality-gates.js';
import { summaryKey } from '../../lambdas/clv-job/layout.js';
import { recoverPublishing } from '../../lambdas/clv-job/pipeline/run.js';
import { qualityReportSchema, type QualityReport } from '../../lambdas/clv-job/schemas/quality-report.js';
import type { OutputStore, QueryEngine, TableWriter } from '../../lambdas/clv-job/ports.js';
import { summarySchema, type Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { CUSTOMER_COLUMNS } from '../../lambdas/clv-job/schemas/tables.js';
import { parquetTypes, queryDuckDb } from '../support/duckdb-reader.js';
import { fixture, publishedFiles, sampleData, tempDir } from '../support/files.js';
import { DEFECT_REASONS, generateOrders, recordedCountsSchema, type DefectKind } from '../support/gen-orders.js';
import { stageFiles } from '../support/fault-fs.js';
import { createBucket, startMoto, type MotoServer } from '../support/moto-server.js';
import { genOrders, runLocal } from '../support/pipeline.js';
import { describeWith } from '../support/services.js';

describe('the pipeline on gen-orders exports, against their truth.json', () => {
  it('counts every row of the bundled sample exactly as the generator recorded', async () => {
    const truth = recordedCountsSchema.parse(JSON.parse(await readFile(fixture('sample-truth.json'), 'utf8')));
    const out = await tempDir();

    const { summary } = await runLocal([sampleData], out, { asOf: truth.asOf });

    expect(summary.counts).toEqual(truth.counts);
  });

  it('counts every row of a dirty, overlapping export exactly (gzip, 5% re-sent rows, 3% defects of every kind)', async () => {
    const input = await tempDir();
    const truth = await genOrders(input, ['--customers', '3000', '--files', '5', '--seed', '23', '--gzip', '--dirty', '0.03', '--overlap', '0.05']);
    const out = await tempDir();

    const { summary } = await runLocal([input], out, { asOf: truth.asOf });

    expect(summary.counts).toEqual(truth.counts);
    expect(summary.counts.rejected_by_reason.malformed_row).toBeGreaterThan(0);
  });

  it('counts the opt-in defects exactly too: placeholder dates, absurd amounts, conflicting duplicates', async () => {
    const input = await tempDir();
    const defects = Object.keys(DEFECT_REASONS) as DefectKind[];
    const truth = await generateOrders({ out: input, customers: 3000, files: 4, seed: 7, dirty: 0.05, defects, overlap: 0.03, conflicts: 0.03 });
    const out = await tempDir();

    const { summary } = await runLocal([input], out, { asOf: truth.asOf });

    expect(summary.counts).toEqual(truth.counts);
    expect(summary.counts.rejected_by_reason.implausible_order_date).toBeGreaterThan(0);
    expect(summary.counts.conflicting_duplicates).toBeGreaterThan(0);
  });
});

describe('the published output, read back by DuckDB as an independent reader', () => {
  let out: string;
  let summary: Summary;
  beforeAll(async () => {
    out = await tempDir();
    summary = (await runLocal([sampleData], out, { asOf: '2025-12-31' })).summary;
  });

  it('types every customer column as the contract says', async () => {
    const types = await parquetTypes(`${out}/customers/run_date=2025-12-31/segment=high/part-00000.parquet`);
    const duckdbType = { string: 'VARCHAR', int: 'INTEGER', double: 'DOUBLE', date: 'DATE', boolean: 'BOOLEAN' } as const;

    expect(types).toEqual(Object.fromEntries(CUSTOMER_COLUMNS.map((c) => [c.name, duckdbType[c.type]])));
  });

  it('holds one row per customer, in the partition of its own tier, adding up to the summary', async () => {
    const rows = await queryDuckDb(
      `SELECT segment, clv_tier, COUNT(*)::INTEGER AS customers, COUNT(DISTINCT customer_id)::INTEGER AS distinct_ids,
              SUM(predicted_clv) AS equity, SUM(total_revenue) AS revenue
       FROM read_parquet('${out}/customers/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY segment`,
    );
    const tiers = Object.fromEntries(summary.segments.clv_tiers.map((t) => [t.segment, t]));

    for (const row of rows) {
      expect(row.segment).toBe(row.clv_tier);
      expect(row.customers).toBe(row.distinct_ids);
      expect(row.customers).toBe(tiers[String(row.segment)]?.customers);
      expect(row.equity).toBeCloseTo(tiers[String(row.segment)]?.equity ?? NaN, 6);
    }
    expect(rows.reduce((s, r) => s + Number(r.customers), 0)).toBe(summary.counts.customers);
    expect(rows.reduce((s, r) => s + Number(r.revenue), 0)).toBeCloseTo(summary.totals.revenue, 6);
  });

  it('agrees with a customer aggregate and historical CLV DuckDB computes on its own from the raw files', async () => {
    // written independently of the shared SQL: deduplicate by order_id keeping the last file's copy,
    // drop cancelled and invalid rows, merge same-day purchases, aggregate
    const files = (await readdir(sampleData)).map((f) => `'${join(sampleData, f)}'`).join(', ');
    const independent = await queryDuckDb(`
      WITH raw AS (SELECT * FROM read_csv([${files}], all_varchar = true, filename = true)),
      latest AS (SELECT * FROM raw WHERE order_id IS NOT NULL AND customer_id IS NOT NULL
                   AND regexp_full_match(order_date, '\\d{4}-\\d{2}-\\d{2}') AND regexp_full_match(amount, '[0-9]+(\\.[0-9]+)?')
                   AND order_date::DATE <= DATE '2025-12-31'
                 QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY filename DESC) = 1),
      valid AS (SELECT customer_id, order_date::DATE AS day, amount::DOUBLE AS amount FROM latest WHERE status NOT IN ('cancelled', 'refunded')),
      days AS (SELECT customer_id, day, SUM(amount) AS revenue, COUNT(*) AS orders FROM valid GROUP BY ALL),
      per_customer AS (SELECT customer_id, MIN(day) AS first_day, MAX(day) AS last_day, COUNT(*) AS purchase_days,
                              SUM(orders) AS orders, SUM(revenue) AS total_revenue FROM days GROUP BY ALL)
      -- historical CLV as the README states it, written as revenue per observed year x lifespan (3 years
      -- by default), the observed years counting the first order's day and never less than one year:
      -- (revenue / orders) x (orders / years) x 3 = revenue x 3 / years
      SELECT customer_id, first_day::VARCHAR AS first_order_date, last_day::VARCHAR AS last_order_date,
             (purchase_days - 1)::INTEGER AS frequency, orders::INTEGER AS orders, total_revenue,
             total_revenue * 3 / (GREATEST(DATE '2025-12-31' - first_day + 1, 365.25) / 365.25) AS historical_clv
      FROM per_customer ORDER BY customer_id`);
    const published = await queryDuckDb(`
      SELECT customer_id, first_order_date::VARCHAR AS first_order_date, last_order_date::VARCHAR AS last_order_date, frequency, orders,
             total_revenue, historical_clv
      FROM read_parquet('${out}/customers/**/*.parquet') ORDER BY customer_id`);
    const underAYear = independent.filter((c) => Date.parse('2025-12-31') - Date.parse(String(c.first_order_date)) < 364 * 86_400_000);

    expect(published).toHaveLength(independent.length);
    // both sides of the one-year floor are exercised by the sample
    expect(underAYear.length).toBeGreaterThan(0);
    expect(underAYear.length).toBeLessThan(independent.length);
    published.forEach((row, i) => {
      const { total_revenue, historical_clv, ...rest } = independent[i] ?? {};
      expect(row).toMatchObject(rest);
      expect(row.total_revenue).toBeCloseTo(Number(total_revenue), 9);
      expect(row.historical_clv).toBeCloseTo(Number(historical_clv), 9);
    });
    expect(summary.totals.historical_clv).toBeCloseTo(independent.reduce((s, c) => s + Number(c.historical_clv), 0), 6);
  });

  it('writes the rejected rows as read, with file, row and reason', async () => {
    const rows = await queryDuckDb(`SELECT reason, COUNT(*)::INTEGER AS n FROM read_parquet('${out}/rejected/**/*.parquet') GROUP BY ALL`);

    expect(Object.fromEntries(rows.map((r) => [r.reason, r.n]))).toEqual(
      Object.fromEntries(Object.entries(summary.counts.rejected_by_reason).filter(([, n]) => n > 0)),
    );
  });

  it('writes a summary the exported schema accepts', async () => {
    const text = await readFile(`${out}/summary/run_date=2025-12-31/summary.json`, 'utf8');

    expect(summarySchema.safeParse(JSON.parse(text)).success).toBe(true);
  });
});

describe('rows rejected at night (dated after a given as-of date)', () => {
  it('are written as read, as the rows ingest rejects are: the date, amount, status, ids and channel as the export holds them', async () => {
    const input = await tempDir();
    await writeFile(
      join(input, 'orders.csv'),
      'order_id,customer_id,order_date,amount,channel,status\n' +
        'A1,C1,2025-06-01,10.00,web,completed\n' +
        'A2,C2,2025-06-02,20,web,completed\n' +
        'A3, C1 ,2025-07-01T00:30:00+02:00,16.14, Web ,COMPLETED\n' +
        'A4,C2,2025-07-02, 7 ,web,Completed\n',
    );
    const out = await tempDir();

    await runLocal([input], out, { asOf: '2025-06-30' });

    const rows = await queryDuckDb(`SELECT source_row, reason, customer_id, order_date, amount, channel, status FROM read_parquet('${out}/rejected/**/*.parquet') ORDER BY source_row`);
    expect(rows).toEqual([
      { source_row: 4, reason: 'order_date_after_as_of', customer_id: ' C1 ', order_date: '2025-07-01T00:30:00+02:00', amount: '16.14', channel: ' Web ', status: 'COMPLETED' },
      { source_row: 5, reason: 'order_date_after_as_of', customer_id: 'C2', order_date: '2025-07-02', amount: ' 7 ', channel: 'web', status: 'Completed' },
    ]);
  });
});

describe("the engine's memory, once the run has read what it needs", () => {
  /** The engine, recording each query it is asked and each release, in order. */
  const recording =
    (calls: string[]) =>
    (engine: QueryEngine): QueryEngine => ({
      name: engine.name,
      describeInput: () => engine.describeInput(),
      inputVersion: () => engine.inputVersion(),
      bindPrevious: (previous) => engine.bindPrevious(previous),
      close: () => engine.close(),
      run: (query, params) => {
        calls.push(query);
        return engine.run(query, params);
      },
      release: () => {
        calls.push('release');
        return engine.release();
      },
    });

  it("releases the engine's relations after the query stage's last query and after the backtest's, querying nothing after", async () => {
    const calls: string[] = [];
    const out = await tempDir();

    await runLocal([sampleData], out, { asOf: '2025-12-31', backtestHoldoutDays: 91 }, { engine: recording(calls) });

    expect(calls[calls.indexOf('spendPatterns') + 1]).toBe('release');
    expect(calls[calls.indexOf('repeatPurchaseDays') + 1]).toBe('release');
    expect(calls.indexOf('repeatPurchaseDays')).toBeGreaterThan(calls.indexOf('spendPatterns'));
    expect(calls.at(-1)).toBe('release');
  });
});

describe('inputs another version of the reader made', () => {
  it('are named in a warning, with how to read every export one way (a re-ingest); the summary\'s inputs keep their shape', async () => {
    const stale = (engine: QueryEngine): QueryEngine =>
      Object.assign(Object.create(engine) as QueryEngine, {
        describeInput: async () => ({ ...(await engine.describeInput()), staleCopies: ['ingested/2025/orders-a.csv.parquet', 'ingested/2025/orders-b.csv.parquet'] }),
      });

    const result = await runLocal([sampleData], await tempDir(), { asOf: '2025-12-31' }, { engine: stale });

    expect(result.summary.warnings).toContainEqual({
      code: 'stale_canonical_copies',
      message:
        "2 canonical copies (e.g. ingested/2025/orders-a.csv.parquet) were made by another version of the ingest's reader than this job's, " +
        'which may read those exports otherwise (a laptop would): re-ingest the drop ({"reingest":true}, docs/deploy.md) so that the night reads every export one way',
    });
    expect(Object.keys(result.summary.run.inputs).sort()).toEqual(['bytes', 'files', 'location']);
  });
});

const NIGHT = '2025-12-31';
const QUALITY_REPORT = `_quality/run_date=${NIGHT}/quality.json`;
/** No drop has a billion orders: the night fails its accepted_orders gate. */
const FAILING_GATES = { ...DEFAULT_GATE_SETTINGS, minAcceptedOrders: 1e9 };
const EARLIER = '2026-11-23T03:00:00Z';
const LATER = '2026-11-24T03:00:00Z';
/** A clock a second further on at each look, from `start`: the runs' times tell which came first. */
const ticking = (start: string): (() => Date) => {
  let ms = Date.parse(start);
  return () => new Date((ms += 1000));
};

/**
 * NIGHT failed its gates, then was published by a run whose gates passed, whose removal of the
 * failed run's report failed: the output a process killed between the switch and that removal
 * leaves too. Returns the failed run's report and the live summary.
 */
const failedThenPublished = async (out: string): Promise<{ failed: QualityReport; passed: Summary }> => {
  const clock = ticking(EARLIER);
  await expect(runLocal([sampleData], out, { asOf: NIGHT, gates: FAILING_GATES }, { now: clock })).rejects.toThrow(/data-quality gate failed: accepted_orders/);
  const failed = qualityReportSchema.parse(JSON.parse(await readFile(join(out, QUALITY_REPORT), 'utf8')));
  const keepingReports = (store: OutputStore): OutputStore => Object.assign(Object.create(store) as OutputStore, { removeReport: () => Promise.reject(new Error('EACCES: permission denied')) });
  const { summary, publishWarnings } = await runLocal([sampleData], out, { asOf: NIGHT }, { now: clock, store: keepingReports });
  expect(publishWarnings).toContain(`the quality report of an earlier failed run, ${QUALITY_REPORT}, could not be removed: EACCES: permission denied`);
  expect(qualityReportSchema.parse(JSON.parse(await readFile(join(out, QUALITY_REPORT), 'utf8')))).toEqual(failed);
  return { failed, passed: summary };
};

describe('publishing, when a run fails or is repeated', () => {
  it('removes a failed gate\'s report when a recovery finishes the publish of a passing run (killed after its switch), and leaves it when the recovery finished none', async () => {
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: '2025-12-31' });
    const report = join(out, '_quality/run_date=2025-12-31/quality.json');
    const store = new LocalFolderStore(out);
    // what the store's recovery says when it rolled the night's publish forward
    const finished = (switched: string[]): OutputStore => Object.assign(Object.create(store) as OutputStore, { recover: async () => ({ actions: [], warnings: [], switched }) });

    await store.putReport('_quality/run_date=2025-12-31/quality.json', '{}');
    expect(await recoverPublishing(finished([]))).toEqual({ actions: [], warnings: [], switched: [] });
    expect(await readFile(report, 'utf8')).toBe('{}');

    await recoverPublishing(finished(['2025-12-31']));
    await expect(readFile(report, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it("removes on recovery a failed run's report that a later passing publish of the night left behind (killed before removing it, or the removal failed), and keeps the report of a run that failed after it", async () => {
    const out = await tempDir();
    const { failed, passed } = await failedThenPublished(out);
    const store = new LocalFolderStore(out);

    const recovery = await recoverPublishing(store);

    expect(recovery.warnings).toEqual([]);
    expect(recovery.actions).toContain(`removed ${QUALITY_REPORT}: its run ${failed.run_id} failed its gates before run ${passed.run.run_id}, live for ${NIGHT}, passed them`);
    expect(await readdir(join(out, '_quality'))).toEqual([]);

    // the night again on a drop that fails its gates: the latest try failed, which its report says beside the night it left live
    await expect(runLocal([sampleData], out, { asOf: NIGHT, gates: FAILING_GATES }, { now: ticking(LATER) })).rejects.toThrow(/data-quality gate failed: accepted_orders/);
    const later = await readFile(join(out, QUALITY_REPORT), 'utf8');

    expect(await recoverPublishing(store)).toMatchObject({ warnings: [] });
    expect(await readFile(join(out, QUALITY_REPORT), 'utf8')).toBe(later);
  });

  it('leaves the previous run intact when a failure strikes after the parts are written', async () => {
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: '2025-12-31' });
    const before = await publishedFiles(out);
    const summaryBefore = await readFile(join(out, 'summary/run_date=2025-12-31/summary.json'), 'utf8');
    const failingPublish = (store: OutputStore): OutputStore => ({
      location: store.location,
      read: (k) => store.read(k),
      publishedNight: (d) => store.publishedNight(d),
      putReport: (k, body) => store.putReport(k, body),
      removeReport: (k) => store.removeReport(k),
      publishedRunDates: () => store.publishedRunDates(),
      qualityReportDates: () => store.qualityReportDates(),
      lock: (id, ttl) => store.lock(id, ttl),
      recover: () => store.recover(),
      rollback: (runDate) => store.rollback(runDate),
      stage: async (runId) => {
        const staged = await store.stage(runId);
        return {
          runId,
          locationOf: (key) => staged.locationOf(key),
          open: (key) => staged.open(key),
          put: (key, body) => staged.put(key, body),
          discard: () => staged.discard(),
          publish: () => Promise.reject(new Error('disk full')),
        };
      },
    });

    await expect(runLocal([sampleData], out, { asOf: '2025-12-31' }, { store: failingPublish })).rejects.toThrow('disk full');

    expect(await publishedFiles(out)).toEqual(before);
    expect(await readFile(join(out, 'summary/run_date=2025-12-31/summary.json'), 'utf8')).toBe(summaryBefore);
  });

  it('publishes nothing while an earlier publish can be neither finished nor undone: its intent must not be overwritten', async () => {
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: '2025-12-31' });
    const before = await publishedFiles(out);
    const unsettled = (store: OutputStore): OutputStore => {
      const wrapped: OutputStore = Object.create(store);
      wrapped.recover = async () => ({ actions: [], warnings: ['whether the publish of run r1 to 2026-01-07 switched cannot be read: left as it is'], unfinished: true });
      return wrapped;
    };

    await expect(runLocal([sampleData], out, { asOf: '2026-01-07' }, { store: unsettled })).rejects.toThrow(
      'an earlier publish could be neither finished nor undone (whether the publish of run r1 to 2026-01-07 switched cannot be read: left as it is): nothing is published until the next run or a recovery (`clv recover`; on AWS the event {"action":"recover"}) finishes or undoes it',
    );
    expect(await publishedFiles(out)).toEqual(before);
  });

  it('reports a night published when its lock cannot be released afterwards (a warning: the lock frees itself), and a failed run by its own error', async () => {
    const out = await tempDir();
    const stuckLock = (store: OutputStore): OutputStore => {
      const wrapped: OutputStore = Object.create(store);
      wrapped.lock = async (id, ttl) => {
        const lock = await store.lock(id, ttl);
        return { ...lock, release: () => Promise.reject(new Error('Service Unavailable')) };
      };
      return wrapped;
    };

    const result = await runLocal([sampleData], out, { asOf: '2025-12-31' }, { store: stuckLock });

    expect(result.publishWarnings).toContain('the run lock could not be released (Service Unavailable): it frees itself once its time to live passes; what this run did stands');
    expect(summarySchema.parse(JSON.parse(await readFile(join(out, 'summary/run_date=2025-12-31/summary.json'), 'utf8'))).run.run_id).toBe(result.summary.run.run_id);
    const failingWriter = (tables: TableWriter): TableWriter => ({
      extension: tables.extension,
      open: () => {
        throw new Error('encoder crashed');
      },
    });
    await expect(runLocal([sampleData], await tempDir(), { asOf: '2025-12-31' }, { store: stuckLock, tables: failingWriter })).rejects.toThrow('encoder crashed');
  });

  it('publishes nothing of a run whose table writing fails', async () => {
    const out = await tempDir();
    const failingWriter = (tables: TableWriter): TableWriter => ({
      extension: tables.extension,
      open: (sink, columns) => {
        const file = tables.open(sink, columns);
        return { append: () => Promise.reject(new Error('encoder crashed')), close: () => file.close() };
      },
    });

    await expect(runLocal([sampleData], out, { asOf: '2025-12-31' }, { tables: failingWriter })).rejects.toThrow('encoder crashed');

    expect(await publishedFiles(out)).toEqual([]);
  });

  it('replaces a run date when it is run again, leaving exactly one copy', async () => {
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: '2025-12-31' });
    const first = await publishedFiles(out);

    const { summary } = await runLocal([sampleData], out, { asOf: '2025-12-31' });
    const [count] = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS n FROM read_parquet('${out}/customers/**/*.parquet')`);

    expect(await publishedFiles(out)).toEqual(first);
    expect(count?.n).toBe(summary.counts.customers);
  });
});

describeWith('moto', "a failed run's report beside a night published on S3 (moto)", () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(() => moto?.stop());

  it('is removed on recovery when the live night started after it, and kept when it was written after the live night started', async () => {
    // the local runs' report and summary, put where S3 keeps them: the report beside the night's switch, as a publish that died before removing it leaves them
    const out = await tempDir();
    const { failed, passed } = await failedThenPublished(out);
    const store = new S3Store({ client: await createBucket(moto.endpoint, 'clv-quality-reports'), bucket: 'clv-quality-reports', prefix: 'clv/' });
    await store.putReport(QUALITY_REPORT, await readFile(join(out, QUALITY_REPORT), 'utf8'));
    const run = await store.stage(passed.run.run_id);
    await run.publish(NIGHT, await stageFiles(run, NIGHT, { [summaryKey(NIGHT)]: await readFile(join(out, summaryKey(NIGHT)), 'utf8') }));

    const recovery = await recoverPublishing(store);

    expect(recovery.warnings).toEqual([]);
    expect(recovery.actions).toContain(`removed ${QUALITY_REPORT}: its run ${failed.run_id} failed its gates before run ${passed.run.run_id}, live for ${NIGHT}, passed them`);
    expect(await store.qualityReportDates()).toEqual([]);

    const later = JSON.stringify({ ...failed, run_id: 'run-after', checked_at: LATER });
    await store.putReport(QUALITY_REPORT, later);

    expect(await recoverPublishing(store)).toMatchObject({ warnings: [] });
    expect(Buffer.from((await store.read(QUALITY_REPORT))!).toString('utf8')).toBe(later);
  });
});
