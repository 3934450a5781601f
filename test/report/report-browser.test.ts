/**
 * The report as a reader meets it: opened from disk in headless Chromium (Debian's package, driven
 * by playwright-core), with every request and console message recorded. CI installs Chromium; when
 * it is missing these tests skip with a notice, except under CI=true where they fail.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportKey } from '../../lambdas/clv-job/layout.js';
import { CHART_IDS, type ChartId } from '../../lambdas/clv-job/report/render-report.js';
import { slug } from '../../lambdas/clv-job/report/html.js';
import type { Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { repoRoot, tempDir } from '../support/files.js';
import { runWithReport } from './support.js';
import { describeWith } from '../support/services.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** As the machine notes say: no background traffic, which this closed network would refuse anyway. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(repoRoot, 'test-artifacts');

interface Visit {
  readonly page: Page;
  readonly url: string;
  readonly requests: string[];
  readonly consoleErrors: string[];
}

let browser: Browser;
let root: string;
/** The sample's first run, as `npm start` makes it. */
let firstRun: { summary: Summary; file: string; output: string };
/**
 * The sample run twice into one output (2025-06-30, then 2025-12-31 with a backtest): changes and
 * warnings, and with the fit diagnostics the pipeline computes, every chart the report can draw.
 */
let secondRun: { summary: Summary; file: string; output: string };

describeWith('chromium', 'the report in headless Chromium', () => {
  beforeAll(async () => {
    // the fresh profile is playwright's own: launch() always starts Chromium with a new temporary --user-data-dir
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    root = await tempDir();
    await mkdir(ARTIFACTS, { recursive: true });

    const first = join(root, 'first');
    const one = await runWithReport(first, { asOf: '2025-12-31' });
    firstRun = { summary: one.summary, file: join(first, reportKey('2025-12-31')), output: first };

    const twice = join(root, 'twice');
    await runWithReport(twice, { asOf: '2025-06-30' });
    const two = await runWithReport(twice, { asOf: '2025-12-31', backtestHoldoutDays: 182 });
    secondRun = { summary: two.summary, file: join(twice, reportKey('2025-12-31')), output: twice };
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  const visit = async (file: string): Promise<Visit> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
    const url = pathToFileURL(file).href;
    const response = await page.goto(url, { waitUntil: 'load' });
    // a file:// page answers with status 0, which playwright counts as ok; no response at all is a failure
    expect(response?.ok()).toBe(true);
    return { page, url, requests, consoleErrors };
  };

  const text = async (page: Page, testId: string): Promise<string> => ((await page.getByTestId(testId).textContent()) ?? '').trim();
  const value = async (page: Page, testId: string): Promise<number> => Number(await page.getByTestId(testId).getAttribute('data-value'));

  const count = (n: number): string => n.toLocaleString('en-US');
  const money = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

  /** The charts a summary has the data for. */
  const expectedCharts = (s: Summary): ChartId[] =>
    CHART_IDS.filter((id) => {
      if (id === 'chart-tier-migration') return s.changes.previous_run_date !== null && s.changes.tier_migration !== null;
      if (id === 'chart-frequency' || id === 'chart-probability-alive') return s.diagnostics !== undefined;
      if (id === 'chart-backtest' || id === 'chart-backtest-tracking') return s.backtest !== undefined;
      return true;
    });

  const chartsOnPage = async (page: Page): Promise<string[]> => page.locator('figure.chart').evaluateAll((figures) => figures.map((f) => f.id));

  describe('the sample report in Chromium', () => {
    it('loads from disk with no console errors and no request but the page itself', async () => {
      const { page, url, requests, consoleErrors } = await visit(firstRun.file);

      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([url]);
      expect(await page.title()).toBe('Customer lifetime value · 2025-12-31');
      await page.context().close();
    });

    it('draws every chart the summary has data for, each a visible SVG, and notes the ones it has not', async () => {
      const { page } = await visit(firstRun.file);
      const expected = expectedCharts(firstRun.summary);

      expect(await chartsOnPage(page)).toEqual(expected);
      expect(await page.locator('figure.chart > svg').count()).toBe(expected.length);
      for (const id of expected) {
        const box = await page.locator(`#${id} > svg`).boundingBox();
        expect(box?.width, id).toBeGreaterThan(200);
        expect(box?.height, id).toBeGreaterThan(100);
      }
      // the sample's run has its fit diagnostics (the model section's two charts) but no backtest
      expect(expected).toEqual(expect.arrayContaining(['chart-frequency', 'chart-probability-alive']));
      expect(firstRun.summary.backtest).toBeUndefined();
      await expect(text(page, 'backtest-missing')).resolves.toMatch(/No backtest/);
      expect(await page.getByTestId('diagnostics-missing').count()).toBe(0);
      await page.context().close();
    });

    it('shows the same numbers as the summary', async () => {
      const { page } = await visit(firstRun.file);
      const s = firstRun.summary;

      expect(await text(page, 'run-date')).toBe(s.run.run_date);
      expect(await text(page, 'kpi-customers')).toBe(count(s.totals.customers));
      expect(await value(page, 'kpi-customers')).toBe(s.counts.customers);
      expect(await value(page, 'kpi-equity')).toBe(s.totals.equity);
      expect(await text(page, 'kpi-equity')).toBe(count(Math.round(s.totals.equity)));
      expect(await value(page, 'kpi-revenue')).toBe(s.totals.revenue);
      for (const tier of s.segments.clv_tiers) {
        expect(await text(page, `tier-${tier.segment}-customers`)).toBe(count(tier.customers));
        expect(await text(page, `tier-${tier.segment}-equity`)).toBe(money(tier.equity));
        expect(await value(page, `tier-${tier.segment}-equity`)).toBe(tier.equity);
        expect(await text(page, `tier-${tier.segment}-equity-share`)).toBe(percent(tier.equity_share));
      }
      for (const cell of s.segments.value_loyalty) {
        expect(await text(page, `vl-${cell.segment}-customers`)).toBe(count(cell.customers));
        expect(await value(page, `vl-${cell.segment}-equity`)).toBe(cell.equity);
      }
      for (const segment of s.segments.rfm) {
        expect(await text(page, `rfm-${slug(segment.segment)}-customers`)).toBe(count(segment.customers));
        expect(await value(page, `rfm-${slug(segment.segment)}-equity`)).toBe(segment.equity);
      }
      for (const [i, channel] of s.channels.entries()) {
        // the page shows the channel exactly as the export wrote it, quotes, commas and all
        expect(await text(page, `channel-${i}-name`)).toBe(channel.channel);
        expect(await text(page, `channel-${i}-customers`)).toBe(count(channel.customers));
        expect(await value(page, `channel-${i}-average-clv`)).toBe(channel.average_clv);
      }
      expect(await text(page, 'gini-equity')).toBe(s.concentration.equity.gini.toFixed(3));
      expect(await text(page, 'gini-revenue')).toBe(s.concentration.revenue.gini.toFixed(3));
      expect(await text(page, 'top20-equity')).toBe(percent(s.concentration.equity.top20_share));
      expect(await value(page, 'top20-revenue')).toBe(s.concentration.revenue.top20_share);
      expect(await value(page, 'cohort-count')).toBe(s.cohorts.length);
      expect(await value(page, 'param-r')).toBe(s.models.bgnbd.r);
      expect(await value(page, 'param-alpha-se')).toBe(s.models.bgnbd.standard_errors?.alpha);
      expect(await value(page, 'param-gamma')).toBe(s.models.gamma_gamma.gamma);
      expect(await text(page, 'counts-input-rows')).toBe(count(s.counts.input_rows));
      expect(await text(page, 'counts-rejected-rows')).toBe(count(s.counts.rejected_rows));
      await page.context().close();
    });

    it('shows what an acquired customer is worth and what it cost, per channel, with the LTV:CAC chart, the fixed-age lines and the channel x segment map', async () => {
      const output = join(root, 'with-spend');
      const { summary } = await runWithReport(output, { asOf: '2025-12-31' }, join(repoRoot, 'sample-spend'));
      const { page, consoleErrors } = await visit(join(output, reportKey('2025-12-31')));

      expect(consoleErrors).toEqual([]);
      for (const id of ['chart-ltv-to-cac', 'chart-fixed-age-value', 'chart-channel-segments']) {
        const box = await page.locator(`#${id} > svg`).boundingBox();
        expect(box?.width, id).toBeGreaterThan(200);
        expect(box?.height, id).toBeGreaterThan(100);
      }
      const paid = summary.acquisition.findIndex((r) => r.channel === 'paid_social');
      const row = summary.acquisition[paid]!;
      expect(row.below_ltv_to_cac_line).toBe(true);
      expect(await text(page, `acquisition-${paid}-name`)).toBe('paid_social');
      expect(await value(page, `acquisition-${paid}-ltv-to-cac`)).toBe(row.ltv_to_cac);
      expect(await text(page, `acquisition-${paid}-ltv-to-cac`)).toBe(row.ltv_to_cac!.toFixed(2));
      expect(await value(page, `acquisition-${paid}-cac`)).toBe(row.cac);
      expect(await page.locator('#acquisition tr[data-channel="paid_social"] .tag.bad').first().textContent()).toBe('below the line');
      // the partner channel, named with a comma and quotes, has no spend: shown as it is written, with no CAC
      const partner = summary.acquisition.findIndex((r) => r.channel === 'partner, "beta"');
      expect(await text(page, `acquisition-${partner}-name`)).toBe('partner, "beta"');
      expect(await page.getByTestId(`acquisition-${partner}-cac`).count()).toBe(0);
      await page.context().close();
    });

    it('shows the fit diagnostics the pipeline computed: the repeat-purchase histogram counts the published customers', async () => {
      const { page } = await visit(firstRun.file);
      const diagnostics = firstRun.summary.diagnostics;
      // counted again from the published customers table, by DuckDB: frequency 0 ... 6, then 7+
      const counted = await queryDuckDb(
        `SELECT CASE WHEN frequency >= 7 THEN '7+' ELSE frequency::VARCHAR END AS frequency, COUNT(*)::INTEGER AS customers
         FROM read_parquet('${firstRun.output}/customers/run_date=2025-12-31/*/*.parquet') GROUP BY ALL`,
      );
      const customersAt = Object.fromEntries(counted.map((r) => [String(r.frequency), Number(r.customers)]));

      expect(diagnostics).toBeDefined();
      const histogram = diagnostics!.frequency_histogram;
      expect(histogram.map((h) => h.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
      for (const h of histogram) {
        expect(h.actual_customers, h.frequency).toBe(customersAt[h.frequency] ?? 0);
        expect(await value(page, `frequency-${slug(h.frequency)}-actual`)).toBe(h.actual_customers);
        expect(await value(page, `frequency-${slug(h.frequency)}-expected`)).toBe(h.expected_customers);
      }
      // P(X(T) = k) over k = 0 ... 6 and P(X(T) >= 7) sum to one for every customer
      expect(histogram.reduce((sum, h) => sum + h.expected_customers, 0)).toBeCloseTo(firstRun.summary.counts.customers, 6);
      expect(diagnostics!.probability_alive_grid.reduce((sum, c) => sum + c.customers, 0)).toBe(firstRun.summary.counts.customers);
      expect(await chartsOnPage(page)).toEqual(expect.arrayContaining(['chart-frequency', 'chart-probability-alive']));
      await page.context().close();
    });

    it('says a first run has nothing to compare with', async () => {
      const { page } = await visit(firstRun.file);

      expect(await text(page, 'changes-note')).toMatch(/^First run: there is no previous run to compare with\./);
      // no comparison warning; the channel diagnostics need no previous run (the sample's paid_social audience mismatch)
      expect(await page.locator('[data-testid="warning"]').evaluateAll((items) => items.map((i) => i.getAttribute('data-metric')))).toEqual(
        firstRun.summary.changes.warnings.map((w) => w.metric),
      );
      expect(firstRun.summary.changes.warnings.every((w) => w.metric.startsWith('acquisition['))).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'report-sample.png'), fullPage: true });
      await page.context().close();
    });
  });

  describe('a report with warnings in Chromium', () => {
    it('lists the warnings at the top, before the key figures', async () => {
      const { page, url, requests, consoleErrors } = await visit(secondRun.file);
      const s = secondRun.summary;
      const messages = [...s.warnings, ...s.changes.warnings].map((w) => w.message);

      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([url]);
      expect(s.changes.previous_run_date).toBe('2025-06-30');
      expect(messages.length).toBeGreaterThan(0);
      expect(await page.locator('#changes [data-testid="warning"]').allTextContents()).toEqual(messages);
      expect(await page.locator('main > section').first().getAttribute('id')).toBe('changes');
      const warnings = await page.getByTestId('warnings').boundingBox();
      const overview = await page.locator('#overview').boundingBox();
      expect(warnings!.y + warnings!.height).toBeLessThanOrEqual(overview!.y);
      expect(warnings!.y).toBeLessThan(900); // on the first screen
      expect(await value(page, 'backtest-actual')).toBe(s.backtest?.totals.actual);
      await page.screenshot({ path: join(ARTIFACTS, 'report-warnings.png'), fullPage: true });
      await page.context().close();
    });

    it('shows the movers since the previous run as the movers dataset has them: customers per movement and the ones worth most', async () => {
      const { page, consoleErrors } = await visit(secondRun.file);
      const movers = `read_parquet('${secondRun.output}/movers/run_date=2025-12-31/*.parquet')`;
      // counted again from the published dataset, by DuckDB
      const counted = await queryDuckDb(`SELECT movement, COUNT(*)::INTEGER AS n FROM ${movers} GROUP BY ALL`);
      const top = await queryDuckDb(
        `SELECT movement, customer_id FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY movement ORDER BY predicted_clv DESC, customer_id) AS k FROM ${movers}) WHERE k <= 5
         ORDER BY CASE movement WHEN 'entered_high' THEN 0 WHEN 'left_high' THEN 1 ELSE 2 END, k`,
      );

      expect(consoleErrors).toEqual([]);
      expect(counted.length).toBeGreaterThan(0);
      for (const movement of ['entered_high', 'left_high', 'became_at_risk']) {
        const n = Number(counted.find((r) => r.movement === movement)?.n ?? 0);
        expect(await value(page, `movers-${movement}-customers`), movement).toBe(n);
        expect(await text(page, `movers-${movement}-customers`), movement).toBe(count(n));
      }
      const shown = await page.getByTestId('mover-example').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-movement')} ${r.getAttribute('data-customer')}`));
      expect(shown).toEqual(top.map((r) => `${String(r.movement)} ${String(r.customer_id)}`));
      expect(await page.locator('nav a[href="#movers"]').textContent()).toBe('Movers');
      await page.context().close();
    });

    it('draws every chart when the summary has fit diagnostics, a backtest and a previous run', async () => {
      const { page, url, requests, consoleErrors } = await visit(secondRun.file);
      const histogram = secondRun.summary.diagnostics!.frequency_histogram;

      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([url]);
      expect(await chartsOnPage(page)).toEqual([...CHART_IDS]);
      expect(await page.locator('figure.chart > svg').count()).toBe(CHART_IDS.length);
      expect(await value(page, 'frequency-0-actual')).toBe(histogram[0]!.actual_customers);
      expect(await text(page, `frequency-${slug(histogram.at(-1)!.frequency)}-expected`)).toBe(histogram.at(-1)!.expected_customers.toFixed(1));
      await page.screenshot({ path: join(ARTIFACTS, 'report-complete.png'), fullPage: true });
      await page.context().close();
    });
  });
});
