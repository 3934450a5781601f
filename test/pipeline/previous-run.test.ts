import { readdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { sampleData, tempDir } from '../support/files.js';
import { runLocal } from '../support/pipeline.js';
import { AthenaQueryError } from '../../lambdas/clv-job/adapters/athena-engine.js';
import { LocalFolderStore } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { isTrinoErrorOfTheMoment, TrinoQueryError } from '../../lambdas/clv-job/adapters/trino-engine.js';
import { EngineError } from '../../lambdas/clv-job/errors.js';
import { DEFAULT_SEGMENT_SETTINGS } from '../../lambdas/clv-job/domain/segments/settings.js';
import { manifestKey, summaryKey } from '../../lambdas/clv-job/layout.js';
import { loadPrevious } from '../../lambdas/clv-job/pipeline/previous-run.js';
import type { QueryEngine } from '../../lambdas/clv-job/ports.js';
import type { QueryName } from '../../lambdas/clv-job/sql/index.js';
import { renderReport } from '../../lambdas/clv-job/report/render-report.js';

const FIRST = '2025-06-30';
const SECOND = '2025-12-31';

/** The published customers files of a run date, as DuckDB reads them (through the folder's links). */
const customersOf = (out: string, runDate: string): string => `read_parquet('${out}/customers/run_date=${runDate}/*/*.parquet')`;

describe("the previous run's customers, joined in the engine", () => {
  it('give the tier migration and the movers that looking each customer up in the previous run\'s published files gives', async () => {
    // Prepare: two nights in one output
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });

    // Act
    const { summary } = await runLocal([sampleData], out, { asOf: SECOND });

    // Assess: the migration and the movers as plain SQL over both nights' published files state them
    const expectedMigration = await queryDuckDb(`
      WITH now AS (SELECT customer_id, clv_tier FROM ${customersOf(out, SECOND)}),
           before AS (SELECT customer_id, clv_tier FROM ${customersOf(out, FIRST)})
      SELECT COALESCE(b.clv_tier, 'new') AS from_tier, COALESCE(n.clv_tier, 'absent') AS to_tier, COUNT(*)::INTEGER AS customers
      FROM now n FULL JOIN before b USING (customer_id) GROUP BY ALL ORDER BY ALL`);
    const migration = (summary.changes.tier_migration ?? []).filter((c) => c.customers > 0).map((c) => ({ ...c }));
    expect(migration.sort((a, b) => `${a.from_tier} ${a.to_tier}`.localeCompare(`${b.from_tier} ${b.to_tier}`))).toEqual(expectedMigration);
    const expectedMovers = await queryDuckDb(`
      WITH now AS (SELECT customer_id, clv_tier, rfm_segment FROM ${customersOf(out, SECOND)}),
           before AS (SELECT customer_id, clv_tier, rfm_segment FROM ${customersOf(out, FIRST)})
      SELECT 'entered_high' AS movement, customer_id, b.clv_tier AS previous_segment, n.clv_tier AS current_segment
        FROM now n LEFT JOIN before b USING (customer_id) WHERE n.clv_tier = 'high' AND b.clv_tier IS DISTINCT FROM 'high'
      UNION ALL
      SELECT 'left_high', customer_id, b.clv_tier, n.clv_tier FROM now n JOIN before b USING (customer_id) WHERE b.clv_tier = 'high' AND n.clv_tier <> 'high'
      UNION ALL
      SELECT 'became_at_risk', customer_id, b.rfm_segment, n.rfm_segment
        FROM now n LEFT JOIN before b USING (customer_id) WHERE n.rfm_segment = 'At Risk' AND b.rfm_segment IS DISTINCT FROM 'At Risk'
      ORDER BY ALL`);
    const movers = await queryDuckDb(`SELECT movement, customer_id, previous_segment, current_segment FROM read_parquet('${out}/movers/run_date=${SECOND}/*.parquet') ORDER BY ALL`);
    expect(movers).toEqual(expectedMovers);
    expect(new Set(movers.map((m) => m.movement))).toEqual(new Set(['entered_high', 'left_high', 'became_at_risk']));
    expect(summary.movers?.previous_run_date).toBe(FIRST);
  });

  it('counts no customer into or out of the high tier when tonight cuts the tiers at other shares: a setting moved them, not what they did', async () => {
    // Prepare: a first night with the default tiers (top 20% high), the second with the top 10%
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });

    // Act
    const { summary } = await runLocal([sampleData], out, { asOf: SECOND, segments: { ...DEFAULT_SEGMENT_SETTINGS, tiers: { high: 0.1, mid: 0.5 } } });

    // Assess: the movement into At Risk still counted, as plain SQL over both nights states it; none across the high tier
    const movers = await queryDuckDb(`SELECT movement, COUNT(*)::INTEGER AS customers FROM read_parquet('${out}/movers/run_date=${SECOND}/*.parquet') GROUP BY ALL`);
    const [atRisk] = await queryDuckDb(`
      WITH now AS (SELECT customer_id, rfm_segment FROM ${customersOf(out, SECOND)}),
           before AS (SELECT customer_id, rfm_segment FROM ${customersOf(out, FIRST)})
      SELECT COUNT(*)::INTEGER AS customers FROM now n LEFT JOIN before b USING (customer_id)
      WHERE n.rfm_segment = 'At Risk' AND b.rfm_segment IS DISTINCT FROM 'At Risk'`);
    expect(movers).toEqual([{ movement: 'became_at_risk', customers: atRisk!.customers }]);
    const reason = `the high tier is not cut as it was on ${FIRST} (segments.tiers.high 0.2 on ${FIRST}, 0.1 tonight)`;
    expect(summary.movers?.not_counted).toEqual([
      { movement: 'entered_high', reason },
      { movement: 'left_high', reason },
    ]);
    expect(summary.movers?.counts.filter((c) => c.customers > 0).map((c) => c.movement)).toEqual(['became_at_risk']);
    const enteredHigh = await readFile(join(out, `audiences/run_date=${SECOND}/movers/entered_high.csv`), 'utf8');
    expect(enteredHigh.trim().split('\n')).toHaveLength(1);
    expect(summary.changes.warnings.filter((w) => w.code === 'segment_cuts_changed')).toHaveLength(1);
    expect(summary.changes.warnings.map((w) => w.code)).not.toContain('high_tier_equity_share_drop');
    expect(summary.run.settings.segments?.tiers).toEqual({ high: 0.1, mid: 0.5 });
    // what the migration counts is still where the customers are; the note says why they moved
    expect(summary.changes.tier_migration?.find((c) => c.from_tier === 'high' && c.to_tier === 'mid')?.customers).toBeGreaterThan(0);
    expect(summary.changes.note).toContain('The tiers are not cut as they were then');
    const page = await renderReport(summary);
    expect(page).toContain(`Entered the high tier and Left the high tier: not counted tonight, because ${reason}.`);
  });

  /** An engine that records the queries asked of it, and fails the first asking of `failing` when told to (a throttled Athena, say). */
  const recording =
    (asked: QueryName[], failing?: { readonly query: QueryName; readonly error: EngineError }) =>
    (engine: QueryEngine): QueryEngine => {
      const wrapped: QueryEngine = Object.create(engine);
      wrapped.run = async (query, params) => {
        asked.push(query);
        if (failing?.query === query && asked.filter((q) => q === query).length === 1) throw failing.error;
        return engine.run(query, params);
      };
      return wrapped;
    };

  /** The first night's published customers files (links into its run), by tier. */
  const firstNightFiles = async (out: string): Promise<string[]> =>
    (await queryDuckDb(`SELECT DISTINCT filename FROM read_parquet('${out}/customers/run_date=${FIRST}/*/*.parquet', filename = true) ORDER BY filename`)).map((r) =>
      String(r.filename),
    );

  it.each<[string, (file: string) => Promise<void>]>([
    [
      'a file cut short (its footer gone: the engine fails on binding it)',
      async (file: string) => {
        const bytes = await readFile(file);
        await writeFile(file, bytes.subarray(0, bytes.length >> 1));
      },
    ],
    ...['customer_id', 'clv_tier', 'rfm_segment'].map((column): [string, (file: string) => Promise<void>] => [
      `a file whose ${column} pages are garbage but whose footer reads (the probe reads every value the join reads)`,
      async (file: string) => {
        const [chunk] = await queryDuckDb(
          `SELECT data_page_offset::BIGINT AS at, total_compressed_size::BIGINT AS size FROM parquet_metadata('${file}') WHERE path_in_schema = '${column}' LIMIT 1`,
        );
        const bytes = await readFile(file);
        bytes.fill(0xab, Number(chunk!.at), Number(chunk!.at) + Number(chunk!.size));
        await writeFile(file, bytes);
      },
    ]),
  ])("runs the second night on without the previous run's customers given %s", async (_, corrupt) => {
    // Prepare: a first night, then one of its customers files damaged
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });
    const files = await firstNightFiles(out);
    expect(files.length).toBeGreaterThan(0);
    await corrupt(join(files[0]!));
    const asked: QueryName[] = [];

    // Act
    const { summary } = await runLocal([sampleData], out, { asOf: SECOND }, { engine: recording(asked) });

    // Assess: published, no migration and no movers, said in a warning; the summary's tables still compared;
    // the damage found before the costly customers query, which runs once
    expect(asked.filter((q) => q === 'customers')).toHaveLength(1);
    expect(summary.changes.tier_migration).toBeNull();
    expect(summary.movers?.counts.every((c) => c.customers === 0)).toBe(true);
    expect(summary.movers?.previous_run_date).toBeNull();
    // no count reads as "nobody moved": each movement is named as not counted, with why
    expect(summary.movers?.not_counted).toEqual(
      ['entered_high', 'left_high', 'became_at_risk'].map((movement) => ({
        movement,
        reason: `the customers of the previous run, ${FIRST}, could not be read (warning previous_customers_unreadable)`,
      })),
    );
    expect(summary.warnings.filter((w) => w.code === 'previous_customers_unreadable').map((w) => w.message)).toEqual([
      expect.stringMatching(new RegExp(`previous run's customers \\(${FIRST}\\) could not be read`)),
    ]);
    expect(summary.changes.previous_run_date).toBe(FIRST);
    expect(summary.changes.clv_tiers.map((c) => c.segment)).toEqual(['high', 'mid', 'low']);
    const [published] = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS customers FROM ${customersOf(out, SECOND)}`);
    expect(published?.customers).toBe(summary.counts.customers);
  });
  it("runs the second night on without the previous run's customers when the engine reads more of them than the previous summary counts (a customer in two tiers, who would join twice)", async () => {
    // Prepare: a first night, then one high customer written into the low tier's file too
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });
    const [high, low] = await firstNightFiles(out);
    expect([high, low].map((f) => /segment=(\w+)/.exec(f!)?.[1])).toEqual(['high', 'low']);
    await queryDuckDb(
      `COPY (SELECT * FROM read_parquet('${low}') UNION ALL (SELECT * REPLACE ('low' AS clv_tier) FROM read_parquet('${high}') LIMIT 1)) TO '${low}.twice' (FORMAT parquet)`,
    );
    await rename(`${low}.twice`, low!);
    const alone = await tempDir();
    const { summary: firstNightOnly } = await runLocal([sampleData], alone, { asOf: SECOND });

    // Act
    const { summary } = await runLocal([sampleData], out, { asOf: SECOND });

    // Assess: tonight's customers counted once each, no migration and no movers, said in a warning
    expect(summary.counts).toEqual(firstNightOnly.counts);
    expect(summary.changes.tier_migration).toBeNull();
    expect(summary.movers?.counts.every((c) => c.customers === 0)).toBe(true);
    const [warning] = summary.warnings.filter((w) => w.code === 'previous_customers_unreadable');
    expect(warning?.message).toMatch(/could not be read, so no tier migration and no movers: the engine reads (\d+) of its customers where its summary counts (\d+)/);
    const [, read, counted] = /reads (\d+) of its customers where its summary counts (\d+)/.exec(warning!.message)!;
    expect(Number(read)).toBe(Number(counted) + 1);
  });

  it("fails the night on an error of tonight's own customers query once the probe has read the previous run, never running it twice", async () => {
    // Prepare: a first night; an engine whose customers query fails once (a throttled Athena, say)
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });
    const asked: QueryName[] = [];

    // Act
    const night = runLocal([sampleData], out, { asOf: SECOND }, { engine: recording(asked, { query: 'customers', error: new EngineError('Athena query customers failed: ThrottlingException') }) });

    // Assess: tonight's error, not a previous run taken for unreadable; nothing of the night published
    await expect(night).rejects.toThrow(/ThrottlingException/);
    expect(asked.filter((q) => q === 'customers')).toHaveLength(1);
    expect((await readdir(join(out, 'customers'))).sort()).toEqual([`run_date=${FIRST}`]);
  });

  it.each<[string, EngineError, RegExp]>([
    ['refused, as a throttled Athena does', new AthenaQueryError('previousTiers', null, 'REFUSED', 'TooManyRequestsException: Rate exceeded'), /previousTiers REFUSED: TooManyRequestsException/],
    [
      'out of resources on Athena',
      new AthenaQueryError('previousTiers', 'q-1', 'FAILED', 'Query exhausted resources at this scale factor', { athenaError: { ErrorCategory: 2, ErrorType: 4, Retryable: true } }),
      /previousTiers \(q-1\) FAILED: Query exhausted resources/,
    ],
    [
      'out of memory on Trino',
      new TrinoQueryError('previousTiers', 'q-2', 'EXCEEDED_GLOBAL_MEMORY_LIMIT', 'Query exceeded distributed user memory limit of 1kB', {
        transient: isTrinoErrorOfTheMoment({ errorName: 'EXCEEDED_GLOBAL_MEMORY_LIMIT', errorType: 'INSUFFICIENT_RESOURCES' }),
      }),
      /previousTiers \(q-2\) failed: EXCEEDED_GLOBAL_MEMORY_LIMIT/,
    ],
  ])('fails the night when the probe of the previous run fails for a reason of the moment (%s), which says nothing of that run', async (_, error, said) => {
    // Prepare: a first night; an engine whose probe fails once so
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });
    const asked: QueryName[] = [];

    // Act
    const night = runLocal([sampleData], out, { asOf: SECOND }, { engine: recording(asked, { query: 'previousTiers', error }) });

    // Assess: tonight's error, and nothing of the night published
    await expect(night).rejects.toThrow(said);
    expect(asked).not.toContain('customers');
    expect((await readdir(join(out, 'customers'))).sort()).toEqual([`run_date=${FIRST}`]);
  });

  it("runs the second night on without the previous run's customers when one of its tiers holds a customer twice", async () => {
    // Prepare: a first night, then one of its files' customers written twice in the same file (same tier)
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });
    const [file] = await firstNightFiles(out);
    await queryDuckDb(`COPY (SELECT * FROM read_parquet('${file}') UNION ALL (SELECT * FROM read_parquet('${file}') LIMIT 1)) TO '${file}.twice' (FORMAT parquet)`);
    await rename(`${file}.twice`, file!);

    // Act
    const { summary } = await runLocal([sampleData], out, { asOf: SECOND });

    // Assess
    const [warning] = summary.warnings.filter((w) => w.code === 'previous_customers_unreadable');
    expect(warning?.message).toMatch(/tier (high|mid|low) has (\d+) rows for (\d+) customers/);
    expect(summary.changes.tier_migration).toBeNull();
  });

  it('holds the revenue and the latest order against the latest earlier night whose summary says them, past one whose summary is damaged (its manifest still counts its customers)', async () => {
    // Prepare: two nights, the second's summary cut short
    const out = await tempDir();
    const first = await runLocal([sampleData], out, { asOf: FIRST });
    await runLocal([sampleData], out, { asOf: SECOND });
    await writeFile(await realpath(join(out, summaryKey(SECOND))), '{"broken');

    // Act
    const lookup = await loadPrevious(new LocalFolderStore(out), '2026-01-31');

    // Assess: the customers from the second night's manifest, the revenue and the latest order from the first night's summary
    expect(lookup.gate.previous).toMatchObject({ runDate: SECOND, revenue: null, latestOrderDate: null });
    expect(lookup.gate.previous?.customers).toBeGreaterThan(0);
    expect(lookup.gate.summarised).toEqual({
      runDate: FIRST,
      customers: first.summary.counts.customers,
      revenue: first.summary.totals.revenue,
      acceptedOrders: first.summary.counts.accepted_orders,
      latestOrderDate: first.summary.run.latest_order_date,
    });
    expect(first.summary.run.latest_order_date).toMatch(/^2025-06-\d\d$/);
  });

  it('passes over a previous run whose manifest is not of the manifest schema (no run id, no sizes), as the publisher does, though its rows add up', async () => {
    // Prepare: a first night whose summary is cut and whose manifest lost every field but its files' keys and rows
    const out = await tempDir();
    await runLocal([sampleData], out, { asOf: FIRST });
    const manifestFile = await realpath(join(out, manifestKey(FIRST)));
    const { files } = JSON.parse(await readFile(manifestFile, 'utf8')) as { files: { key: string; rows: number | null }[] };
    await writeFile(manifestFile, JSON.stringify({ files: files.map(({ key, rows }) => ({ key, rows })) }));
    await writeFile(await realpath(join(out, summaryKey(FIRST))), '{"broken');

    // Act
    const lookup = await loadPrevious(new LocalFolderStore(out), SECOND);

    // Assess
    expect(lookup.gate.previous).toEqual({ runDate: FIRST, customers: null, revenue: null, acceptedOrders: null, latestOrderDate: null });
    expect(lookup.warnings.map((w) => w.message)).toEqual([`the summary and manifest of ${FIRST} cannot be read: no earlier night can be held against tonight`]);
  });

  it.each([
    ['manifest', manifestKey],
    ['summary', summaryKey],
  ])('treats a previous run whose %s is cut short as none to compare with, rather than failing the night', async (_, keyOf) => {
    // Prepare: a first night whose summary or manifest lost its second half
    const out = await tempDir();
    const { summary: first } = await runLocal([sampleData], out, { asOf: FIRST });
    const file = join(out, keyOf(FIRST));
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length >> 1));

    // Act
    const { summary } = await runLocal([sampleData], out, { asOf: SECOND });

    // Assess: published as a night compared with nothing before it, held against the night's customers all the same, and said
    expect(summary.changes.previous_run_date).toBeNull();
    expect(summary.changes.tier_migration).toBeNull();
    expect(summary.quality?.gates.find((g) => g.gate === 'customers_vs_previous')?.value).toBe(summary.counts.customers / first.counts.customers);
    expect(summary.warnings.filter((w) => w.code === 'previous_run_unreadable').map((w) => w.message)).toEqual([
      expect.stringMatching(new RegExp(`^the ${_} of ${FIRST} cannot be read: tonight is held against the \\d+ customers of ${FIRST} and compared with no earlier night$`)),
    ]);    // not a first run: the note and the page say why nothing is compared
    expect(summary.changes.note).toBe(`No comparison: the previous run, ${FIRST}, cannot be read (warning previous_run_unreadable), so tonight is compared with no earlier night.`);
    const page = await renderReport(summary);
    expect(page).toContain('Changes and warnings: no comparison (an earlier night cannot be read)');
    expect(page).toContain('No comparison: an earlier night cannot be read (see the warnings), so no movers are counted tonight.');
    expect(page).not.toContain('First run');
  });
});
