import { beforeAll, describe, expect, it } from 'vitest';
import { CHART_IDS, SECTION_IDS, renderReport } from '../../lambdas/clv-job/report/render-report.js';
import { compressBgNbdData } from '../../lambdas/clv-job/domain/models/bg-nbd.js';
import { bgnbdDiagnostics } from '../../lambdas/clv-job/domain/models/diagnostics.js';
import { BACKFILL_NOTE_PREFIX } from '../../lambdas/clv-job/domain/segments/changes.js';
import { summarySchema, type Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { tempDir } from '../support/files.js';
import { runWithReport, shownValues } from './support.js';

/** The sample's first run, with a 26-week backtest; every test derives its own variant from a copy. */
let sample: Summary;

beforeAll(async () => {
  const dir = await tempDir();
  sample = (await runWithReport(dir, { asOf: '2025-12-31', backtestHoldoutDays: 182 })).summary;
});

const copy = (): Summary => structuredClone(sample) as Summary;

/** Small fit diagnostics in the shape the pipeline will carry. */
const withDiagnostics = (summary: Summary): Summary => {
  const { r, alpha, a, b } = summary.models.bgnbd;
  const data = compressBgNbdData([0, 0, 1, 2, 3, 8], [0, 0, 5, 10, 30, 40], [10, 60, 20, 40, 52, 41]);
  return { ...summary, diagnostics: bgnbdDiagnostics({ r: r!, alpha: alpha!, a: a!, b: b! }, data) };
};

const withWarnings = (summary: Summary): Summary => ({
  ...summary,
  warnings: [{ code: 'gamma_gamma_untrusted', message: 'Gamma-Gamma fit not trusted: <q> ran to the boundary' }],
  changes: {
    ...summary.changes,
    previous_run_date: '2025-06-30',
    note: 'Compared with the run of 2025-06-30.',
    warnings: [
      {
        code: 'channel_average_clv_drop',
        message: 'Average CLV of customers acquired through "paid_social" fell by 24.8% since 2025-06-30 (from 29.08 to 21.87).',
        metric: 'channels[paid_social].average_clv',
        previous: 29.08,
        current: 21.87,
        threshold: 0.1,
      },
      {
        code: 'segment_average_clv_drop',
        message: 'Average CLV in the CLV tier "low" fell by 32.6% since 2025-06-30 (from 8.3 to 5.597).',
        metric: 'clv_tiers[low].average_clv',
        previous: 8.3,
        current: 5.597,
        threshold: 0.1,
      },
    ],
  },
});

const sectionOrder = (html: string): string[] => [...html.matchAll(/<section class="[^"]*" id="([^"]+)"/g)].map((m) => m[1]!);
const chartIds = (html: string): string[] => [...html.matchAll(/<figure class="chart" id="([^"]+)"/g)].map((m) => m[1]!);

describe('renderReport', () => {
  it('shows every section, in order, under a header with the run date', async () => {
    const html = await renderReport(copy());

    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Customer lifetime value · 2025-12-31</title>');
    expect(html).toMatch(/<h1>Run of <time datetime="2025-12-31" data-testid="run-date">2025-12-31<\/time><\/h1>/);
    expect(sectionOrder(html)).toEqual([...SECTION_IDS]);
    expect(html.indexOf('id="changes"')).toBeLessThan(html.indexOf('id="overview"'));
  });

  it('draws every chart the summary has data for, as inline SVG', async () => {
    const html = await renderReport(withWarnings(withDiagnostics(copy())));
    const withMigration = { ...withWarnings(withDiagnostics(copy())) };
    withMigration.changes.tier_migration = [{ from_tier: 'high', to_tier: 'mid', customers: 3 }];

    const all = await renderReport(withMigration);

    expect(chartIds(all)).toEqual([...CHART_IDS]);
    for (const id of CHART_IDS) expect(all).toMatch(new RegExp(`<figure class="chart" id="${id}" data-testid="chart"><svg [^>]*class="marks"`));
    expect(chartIds(html)).toEqual(CHART_IDS.filter((id) => id !== 'chart-tier-migration'));
    // charts share one document: their clip paths and gradients must not clash
    const ids = [...all.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBe(new Set(ids).size);
  });

  it('says so on a first run, with nothing to compare and only the warnings that need no previous run', async () => {
    const summary = copy();

    const html = await renderReport(summary);

    expect(summary.changes.previous_run_date).toBeNull();
    expect(html).toContain('Changes and warnings: first run');
    expect(html).toContain('<p class="caption" data-testid="changes-note">First run: there is no previous run to compare with.');
    // the sample's one channel diagnostic: paid_social orders less and comes back less within 3 months
    expect([...html.matchAll(/data-testid="warning" data-code="([^"]+)" data-metric="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
      'audience_mismatch acquisition[paid_social].average_order_value',
    ]);
    expect(html).not.toContain('id="chart-tier-migration"');
  });

  it('puts the warnings of a run at the top, before the key figures', async () => {
    const summary = withWarnings(copy());

    const html = await renderReport(summary);
    const warnings = [...html.matchAll(/<li[^>]*data-testid="warning"[^>]*>([^<]*)<\/li>/g)].map((m) => m[1]);

    expect(html).toContain('Changes and warnings since 2025-06-30');
    expect(html).toContain('<h3>3 warnings</h3>');
    expect(warnings).toEqual([
      'Gamma-Gamma fit not trusted: &lt;q&gt; ran to the boundary',
      'Average CLV of customers acquired through &quot;paid_social&quot; fell by 24.8% since 2025-06-30 (from 29.08 to 21.87).',
      'Average CLV in the CLV tier &quot;low&quot; fell by 32.6% since 2025-06-30 (from 8.3 to 5.597).',
    ]);
    expect(html.indexOf('data-testid="warnings"')).toBeLessThan(html.indexOf('id="overview"'));
    expect(html.indexOf('data-testid="warnings"')).toBeLessThan(html.indexOf('id="tiers"'));
  });

  it('says there is nothing to worry about when a compared run has no warnings', async () => {
    const summary = withWarnings(copy());
    summary.warnings = [];
    summary.changes.warnings = [];

    const html = await renderReport(summary);

    expect(html).toContain('data-testid="no-warnings"');
    expect(html).not.toContain('data-testid="warnings"');
  });

  it('escapes every text from the data, in the tables and in the charts', async () => {
    // Prepare: a channel name, an action and an input location an attacker (or a messy export) could write.
    const summary = copy();
    summary.channels[0]!.channel = '<script>alert("x")</script>';
    summary.changes.channels = [];
    summary.segments.clv_tiers[0]!.actions = ['Call them <img src=x onerror=alert(1)> & "thank" them'];
    summary.run.inputs.location = `drop/'quoted' <b>bold</b>`;

    const html = await renderReport(summary);

    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Call them &lt;img src=x onerror=alert(1)&gt; &amp; &quot;thank&quot; them');
    expect(html).toContain('drop/&#39;quoted&#39; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('data-channel="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"');
    // the sample's own awkward channel, with a comma and quotes, survives as text
    expect(html).toContain('partner, &quot;beta&quot;');
  });

  it('draws a channel whose name holds a line or paragraph separator (U+2028, U+2029), which Vega cannot parse in its sort expressions', async () => {
    // Prepare: the sample's affiliate channel renamed everywhere in the summary.
    const odd = 'aff\u2028ili\u2029ate';
    const summary = JSON.parse(JSON.stringify(copy()).replaceAll('"affiliate"', JSON.stringify(odd))) as Summary;

    const html = await renderReport(summary);

    // the tables keep the name as written; the charts draw each separator as a space
    expect(html).toContain(`data-channel="${odd}"`);
    expect(html).toContain('aff ili ate');
  });

  it('draws channels named as Object.prototype\'s properties (constructor, toString, …) in the order it draws any others', async () => {
    // Prepare: channels of the sample renamed everywhere in the summary; Vega failed on such names in a custom sort
    const renames: Record<string, string> = { affiliate: 'constructor', search: 'toString', email: 'hasOwnProperty', paid_social: '__proto__' };
    let text = JSON.stringify(copy());
    for (const [from, to] of Object.entries(renames)) text = text.replaceAll(JSON.stringify(from), JSON.stringify(to));
    /** Every chart axis and legend that lists values, as its aria label says them. */
    const valueLists = (html: string): string[] => [...html.matchAll(/aria-label="([^"]*with \d+ values: [^"]*)"/g)].map((m) => m[1]!);

    const html = await renderReport(JSON.parse(text) as Summary);

    const renamed = valueLists(await renderReport(copy())).map((list) => Object.entries(renames).reduce((l, [from, to]) => l.replaceAll(from, to), list));
    expect(renamed.some((list) => list.includes('constructor'))).toBe(true);
    expect(valueLists(html)).toEqual(renamed);
    expect(html).toContain('data-channel="constructor"');
  });

  it('refers to nothing outside the page, and forbids the browser to load anything', async () => {
    const html = await renderReport(withWarnings(withDiagnostics(copy())));

    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).not.toMatch(/<(script|link|iframe|img|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|srcset)=/i);
    // url() only ever points inside the page, at a chart's own clip paths
    expect(html).not.toMatch(/url\((?!#chart-)/i);
    expect(html).not.toMatch(/@import/i);
    // the only absolute URLs are SVG namespace names, which are never fetched
    const urls = new Set([...html.matchAll(/https?:\/\/[^"'\s)]+/g)].map((m) => m[0]));
    expect([...urls].sort()).toEqual(['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
  });

  it('says so when the summary has no fit diagnostics or no backtest', async () => {
    const summary = copy();
    delete summary.backtest;
    delete summary.diagnostics;

    const html = await renderReport(summary);

    expect(html).toContain('data-testid="diagnostics-missing"');
    expect(html).toContain('data-testid="backtest-missing"');
    expect(html).not.toContain('id="chart-frequency"');
    expect(html).not.toContain('id="chart-backtest"');
  });

  it('shows the movers since the previous run: customers per movement and the ones worth most, escaped', async () => {
    const summary = copy();
    summary.movers = {
      previous_run_date: '2025-06-30',
      counts: [
        { movement: 'entered_high', customers: 12 },
        { movement: 'left_high', customers: 1 },
        { movement: 'became_at_risk', customers: 0 },
      ],
      examples: [
        { movement: 'entered_high', customer_id: 'C<1>', previous_segment: null, current_segment: 'high', predicted_clv: 1234.5, probability_alive: 0.912 },
        { movement: 'left_high', customer_id: 'C2', previous_segment: 'high', current_segment: 'mid', predicted_clv: null, probability_alive: null },
      ],
      examples_per_movement: 5,
    };

    const html = await renderReport(summary);
    const moversHtml = html.slice(html.indexOf('<section class="section" id="movers"'), html.indexOf('id="value-loyalty"'));

    expect(moversHtml).toContain('Customers whose segment changed since the run of 2025-06-30');
    expect(shownValues(moversHtml, 'movers-entered_high-customers')).toEqual([{ value: 12, text: '12' }]);
    expect(shownValues(moversHtml, 'movers-left_high-customers')).toEqual([{ value: 1, text: '1' }]);
    expect(shownValues(moversHtml, 'movers-became_at_risk-customers')).toEqual([{ value: 0, text: '0' }]);
    expect([...moversHtml.matchAll(/data-testid="mover-example" data-movement="([^"]+)" data-customer="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
      'entered_high C&lt;1&gt;',
      'left_high C2',
    ]);
    expect(moversHtml).toContain('<td>C&lt;1&gt;</td><td>new customer → High tier</td><td class="num">1,234.50</td><td class="num">91.2%</td>');
    expect(moversHtml).toContain('<td>C2</td><td>High tier → Mid tier</td><td class="num"><span class="muted">–</span></td>');
    expect(moversHtml).not.toContain('<1>');
  });

  it('says why there are no movers: a first run, a run where nobody moved, a summary written before movers', async () => {
    const first = await renderReport(copy());
    expect(copy().movers).toMatchObject({ previous_run_date: null, examples: [] });
    expect(first).toMatch(/data-testid="movers-missing">First run: there is no previous run, so nobody moved\./);

    const still = copy();
    still.movers = { ...still.movers!, previous_run_date: '2025-06-30' };
    expect(await renderReport(still)).toMatch(/data-testid="movers-none">Nobody entered or left the high tier or became At Risk since 2025-06-30\./);

    const older = copy();
    delete older.movers;
    expect(await renderReport(older)).toContain('data-testid="movers-missing">This summary was written before movers');

    // compared with a previous run whose customers could not be read: no first run
    const unread = copy();
    unread.changes = { ...unread.changes, previous_run_date: '2025-06-30', note: 'Compared with the run of 2025-06-30.' };
    expect(await renderReport(unread)).toContain(
      'data-testid="movers-missing">The customers of the previous run, 2025-06-30, could not be read (see the warnings), so no movers are counted tonight.',
    );
  });

  it('says whose shares the concentration figures are: the top 20% by lifetime value hold the equity, the top 20% by revenue brought the revenue', async () => {
    const summary = copy();

    const html = await renderReport(summary);

    expect(html).toContain(
      `The top 20% of customers by lifetime value hold ${(summary.concentration.equity.top20_share * 100).toFixed(0)}% of customer equity; the top 20% by revenue have brought ${(summary.concentration.revenue.top20_share * 100).toFixed(0)}% of revenue so far.`,
    );
  });

  it('says what high value and high loyalty mean with the settings the run cut its cells with', async () => {
    const summary = copy();
    expect(await renderReport(summary)).toContain('High value means the top half of customers by lifetime value; high loyalty means a repeat buyer the model still considers active.');
    summary.run.settings.segments = {
      ...summary.run.settings.segments!,
      value_loyalty: { high_value_share: 0.3, min_probability_alive: 0.8, min_repeat_purchases: 2, fallback_min_recency_score: 3 },
    };

    expect(await renderReport(summary)).toContain(
      'High value means the top 30% of customers by lifetime value; high loyalty means a buyer of at least 2 repeat purchases the model gives a probability of still being active of at least 80%.',
    );
  });

  it('singles out no channel of a handful of customers as bringing fewer but better ones: its average is chance', async () => {
    const summary = copy();
    const tiny = { ...summary.channels[0]!, channel: 'tiny', customers: 3, average_clv: 10 * Math.max(...summary.channels.map((c) => c.average_clv)) };
    summary.channels = [...summary.channels, tiny];

    const html = await renderReport(summary);

    expect(html).not.toContain('“tiny” brings fewer but better customers');
  });

  it('shows no rise or fall of equity or average CLV against a night that measured CLV otherwise: not comparable', async () => {
    const summary = copy();
    const d = (previous: number, current: number) => ({ previous, current, delta: current - previous, relative_change: (current - previous) / previous });
    const tier = summary.segments.clv_tiers[0]!;
    summary.changes = {
      ...summary.changes,
      previous_run_date: '2025-06-30',
      note: 'Compared with the run of 2025-06-30. CLV is not measured as it was then (margin 1 on 2025-06-30, 0.5 tonight): its changes are no change in the customers.',
      totals: { customers: d(100, 110), equity: d(10_000, 5_000), mean_probability_alive: d(0.6, 0.6) },
      clv_tiers: [{ segment: tier.segment, customers: d(20, 22), equity: d(6_000, 3_000), equity_share: d(0.6, 0.6), average_clv: d(300, 136) }],
      tier_migration: [{ from_tier: 'high', to_tier: 'high', customers: 20 }],
      warnings: [{ code: 'clv_measure_changed', message: 'CLV is not measured as it was on 2025-06-30 (margin 1 on 2025-06-30, 0.5 tonight)', metric: 'totals.equity', previous: 10_000, current: 5_000, threshold: 0 }],
    };

    const html = await renderReport(summary);

    const equity = html.slice(html.indexOf('data-testid="delta-equity"'), html.indexOf('data-testid="delta-probability-alive"'));
    expect(equity).toContain('not comparable');
    expect(equity).not.toContain('-50.0%');
    expect(html.slice(html.indexOf('data-testid="delta-customers"'), html.indexOf('data-testid="delta-equity"'))).toContain('+10.0%');
    expect(html.slice(html.indexOf('Tiers then and now'))).toContain('data-testid="not-comparable"');
  });

  it('compares the high tier, not the mid and low tiers, with a night that cut only the mid tier otherwise', async () => {
    const summary = copy();
    const d = (previous: number, current: number) => ({ previous, current, delta: current - previous, relative_change: (current - previous) / previous });
    const row = (segment: 'high' | 'mid' | 'low') => ({ segment, customers: d(20, 22), equity: d(6_000, 3_000), equity_share: d(0.6, 0.6), average_clv: d(300, 150) });
    summary.changes = {
      ...summary.changes,
      previous_run_date: '2025-06-30',
      note: 'Compared with the run of 2025-06-30. The mid and low tiers are not cut as they were then (segments.tiers.mid 0.5 on 2025-06-30, 0.4 tonight): their changes and the tier migration are no change in the customers.',
      totals: { customers: d(100, 110), equity: d(10_000, 5_000), mean_probability_alive: d(0.6, 0.6) },
      clv_tiers: [row('high'), row('mid'), row('low')],
      tier_migration: [{ from_tier: 'high', to_tier: 'high', customers: 20 }],
      warnings: [],
    };

    const html = await renderReport(summary);

    const rows = [...html.slice(html.indexOf('Tiers then and now')).matchAll(/<tr><td>([^<]+)<\/td>.*?<\/tr>/g)].map((m) => [m[1], m[0].includes('not-comparable')]);
    expect(rows.slice(0, 3)).toEqual([
      ['High tier', false],
      ['Mid tier', true],
      ['Low tier', true],
    ]);
  });

  it('calls a backfill older than every published night a backfill, not a first run', async () => {
    const backfill = copy();
    backfill.changes = { ...backfill.changes, note: `${BACKFILL_NOTE_PREFIX} no night before 2025-12-31 is published to compare with; 2026-01-31 and the nights after it are.` };

    const html = await renderReport(backfill);

    expect(html).toContain('Changes and warnings: backfill (no earlier night is published)');
    expect(html).not.toContain('first run');
    expect(html).toContain('data-testid="movers-missing">Backfill: no night before this one is published, so nobody moved.');
  });

  it('says which movements were not counted, and why, beside the counts of the others', async () => {
    const summary = copy();
    const reason = 'the tiers are not cut as they were on 2025-06-30 (segments.tiers.high 0.2 on 2025-06-30, 0.1 tonight)';
    summary.movers = {
      ...summary.movers!,
      previous_run_date: '2025-06-30',
      not_counted: [
        { movement: 'entered_high', reason },
        { movement: 'left_high', reason },
      ],
    };

    const html = await renderReport(summary);

    expect(html).toContain(`data-testid="movers-not-counted">Entered the high tier and Left the high tier: not counted tonight, because ${reason}.`);
    expect(html).not.toContain('data-testid="movers-entered_high-customers"');
    expect(html).toContain('data-testid="movers-became_at_risk-customers"');
    expect(html).toContain('data-testid="movers-none">Nobody made a movement counted tonight since 2025-06-30.');
  });

  it('shows the numbers of the summary, each with its exact value', async () => {
    const summary = withDiagnostics(copy());

    const html = await renderReport(summary);
    const one = (testId: string) => {
      const found = shownValues(html, testId);
      expect(found, testId).toHaveLength(1);
      return found[0]!;
    };

    expect(one('kpi-customers')).toEqual({ value: summary.totals.customers, text: summary.totals.customers.toLocaleString('en-US') });
    expect(one('kpi-equity').value).toBe(summary.totals.equity);
    expect(one('gini-equity')).toEqual({ value: summary.concentration.equity.gini, text: summary.concentration.equity.gini.toFixed(3) });
    expect(one('top20-equity').text).toBe(`${(summary.concentration.equity.top20_share * 100).toFixed(1)}%`);
    for (const tier of summary.segments.clv_tiers) {
      expect(one(`tier-${tier.segment}-customers`).value).toBe(tier.customers);
      expect(one(`tier-${tier.segment}-equity`)).toEqual({ value: tier.equity, text: tier.equity.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) });
    }
    expect(one('param-r').value).toBe(summary.models.bgnbd.r);
    expect(one('param-r-se').value).toBe(summary.models.bgnbd.standard_errors!.r);
    expect(one('frequency-0-actual').value).toBe(summary.diagnostics!.frequency_histogram[0]!.actual_customers);
    expect(one('backtest-actual').value).toBe(summary.backtest!.totals.actual);
  });

  it('renders a run whose predictive models were not trusted, ranking on historical CLV', async () => {
    const summary = copy();
    summary.models.trusted = false;
    summary.models.bgnbd.standard_errors = null;
    summary.models.bgnbd.convergence = { converged: false, iterations: 200, gradient_norm: 0.3, message: 'a, b ran toward the boundary of the parameter space' };
    summary.totals = { ...summary.totals, predicted_clv: null, ranking_clv: 'historical_clv' };
    for (const c of summary.channels) c.mean_probability_alive = null;
    for (const c of summary.cohorts) c.mean_probability_alive = null;
    delete summary.diagnostics;

    const html = await renderReport(summarySchema.parse(summary));

    expect(html).toContain('data-testid="models-untrusted"');
    expect(html).toContain('historical CLV (models not trusted)');
    expect(html).toContain('a, b ran toward the boundary of the parameter space');
    // the Gamma-Gamma converged: its message is no reason the models were not trusted
    expect(html).not.toContain(`Gamma-Gamma: ${summary.models.gamma_gamma.convergence.message}`);
    expect(html).not.toContain('Mean P(alive)');
    // loyalty then comes from the RFM recency score (and a repeat purchase), and the value x loyalty section says so
    expect(html).toContain('high loyalty means a repeat buyer who is recent by RFM recency score');
    expect(html).not.toContain('a repeat buyer the model still considers active');
  });

  it('names the Pareto/NBD where it predicts: the model section, the P(alive) note, the backtest (a BG/NBD check) and why it is not trusted', async () => {
    // Prepare: the sample's summary as a Pareto/NBD night whose fit did not converge
    const summary = withDiagnostics(copy());
    summary.models.transactions = 'pnbd';
    summary.models.choice = { requested: 'pnbd', chosen: 'pnbd', reason: 'configured: model.transactions = pnbd', holdout: null };
    const message = 's, beta ran toward the boundary of the parameter space';
    summary.models.pareto_nbd = {
      r: null,
      alpha: null,
      s: null,
      beta: null,
      log_likelihood: null,
      standard_errors: null,
      customers: summary.models.bgnbd.customers,
      convergence: { converged: false, iterations: 80, gradient_norm: 0.2, message },
    };
    summary.models.trusted = false;

    // Act
    const html = await renderReport(summarySchema.parse(summary));

    // Assess
    const modelSection = html.slice(html.indexOf('id="model-fit"'), html.indexOf('</section>', html.indexOf('id="model-fit"')));
    expect(modelSection).toContain('two standard models: Pareto/NBD for how often');
    expect(modelSection).toContain('the Pareto/NBD lets customers drop out at any time');
    expect(modelSection).not.toContain('drop out only right after a purchase');
    expect(modelSection).toContain('The backtest checks the BG/NBD, not the Pareto/NBD the predictions use');
    expect(modelSection).toContain(`Pareto/NBD: ${message}`);
  });

  it('keeps the BG/NBD’s wording where the BG/NBD predicts', async () => {
    const html = await renderReport(withDiagnostics(copy()));

    expect(html).toContain('two standard models: BG/NBD for how often');
    expect(html).toContain('the BG/NBD lets customers drop out only right after a purchase');
    expect(html).toContain('The BG/NBD was fitted again on the orders up to');
    expect(html).not.toContain('The backtest checks the BG/NBD, not the Pareto/NBD');
  });

  it('renders a run without customers, with notes where there is nothing to draw', async () => {
    const summary = copy();
    summary.channels = [];
    summary.cohorts = [];
    Object.assign(summary, { acquisition: [], acquisition_cohorts: [], channel_segments: [], churn: [] });
    for (const table of [summary.segments.clv_tiers, summary.segments.value_loyalty, summary.segments.rfm]) {
      for (const row of table) Object.assign(row, { customers: 0, share: 0, equity: 0, equity_share: 0, average_clv: 0 });
    }
    summary.totals = { ...summary.totals, customers: 0, equity: 0, revenue: 0, repeat_customers: 0 };
    delete summary.backtest;
    delete summary.diagnostics;

    const html = await renderReport(summary);

    expect(html).toContain('data-testid="channels-missing"');
    expect(html).toContain('data-testid="cohorts-missing"');
    expect(html).toContain('data-testid="acquisition-missing"');
    expect(html).toContain('data-testid="channel-segments-missing"');
    expect(chartIds(html)).toEqual(['chart-tiers', 'chart-value-loyalty', 'chart-rfm', 'chart-lorenz']);
  });

  it('gives log-likelihoods to two decimals, grouped (fits are compared by their differences: four significant digits hid them)', async () => {
    const summary = copy();
    summary.models.bgnbd.log_likelihood = -14671.16;

    const html = await renderReport(summary);

    expect(html).toMatch(/data-testid="bgnbd-log-likelihood"[^>]*>−14,671\.16</);
  });

  it('shows payback as months, "not yet" while a known CAC is not paid back, and "–" without a positive CAC (no spend, or spend 0)', async () => {
    const summary = copy();
    const [paid, unpaid, uncosted, free] = summary.acquisition;
    // the spend columns as a run with a spend input has them: the report shows them only then
    summary.spend_input = { sources: ['spend.csv'] } as unknown as Summary['spend_input'];
    Object.assign(paid!, { spend: 1000, cac: 20, ltv_to_cac: 3, payback_months: 4 });
    Object.assign(unpaid!, { spend: 5000, cac: 400, ltv_to_cac: 0.2, payback_months: null });
    Object.assign(uncosted!, { spend: null, cac: null, ltv_to_cac: null, payback_months: null });
    Object.assign(free!, { spend: 0, cac: 0, ltv_to_cac: null, payback_months: null });

    const html = await renderReport(summary);

    // the acquisition table's row of a channel (other tables have rows per channel too), its last cell
    const payback = (channel: string): string => {
      const rows = [...html.matchAll(/<tr data-channel="([^"]*)">(.*?)<\/tr>/g)].filter((m) => m[2]!.includes('data-testid="acquisition-'));
      const row = rows.find((m) => m[1] === channel.replaceAll('&', '&amp;').replaceAll('"', '&quot;'))?.[2] ?? '';
      return [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].at(-1)?.[1]?.replace(/<[^>]+>/g, '') ?? '';
    };
    expect([payback(paid!.channel), payback(unpaid!.channel), payback(uncosted!.channel), payback(free!.channel)]).toEqual(['4', 'not yet', '–', '–']);
  });

  it('counts in the singular for one, and draws no LTV:CAC legend without any CAC to hold a channel against', async () => {
    const summary = copy();
    summary.counts = { ...summary.counts, customers: 1, accepted_orders: 1 };

    const html = await renderReport(summary);

    expect(html).toMatch(/· 1 customer from 1 order in /);
    // the sample's run has no spend input: every channel's bar without a CAC
    expect(summary.spend_input).toBeUndefined();
    expect(html).toContain('id="chart-ltv-to-cac"');
    expect(html).not.toContain('LTV:CAC below the line');
  });

  it('gives the same page for the same summary', async () => {
    expect(await renderReport(copy())).toBe(await renderReport(copy()));
  });
});

describe('the summary schema', () => {
  it('keeps the optional fit diagnostics the report draws', () => {
    const summary = withDiagnostics(copy());
    const json = JSON.parse(JSON.stringify(summary)) as unknown;

    expect(summarySchema.parse(json).diagnostics).toEqual(summary.diagnostics);
    expect(summarySchema.safeParse(json).success).toBe(true);
  });
});
