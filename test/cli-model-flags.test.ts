import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarySchema, type Summary } from '../lambdas/clv-job/schemas/summary.js';
import { clv, requireCliBundle } from './support/cli.js';
import { queryDuckDb } from './support/duckdb-reader.js';
import { sampleData, tempDir, writeText } from './support/files.js';

/**
 * The model flags of `clv run`, each against a run with the defaults (README "Running it on your own
 * files": week, bgnbd, 52 weeks, 10% a year, margin 1, lifespan 3 years) on the bundled sample: every
 * flag must have its documented effect on the published customers, and a flag must win over the same
 * setting in `--config`.
 */
interface Customer {
  readonly historical_clv: number;
  readonly expected_purchases: number;
  readonly probability_alive: number;
  readonly expected_order_value: number;
  readonly predicted_clv: number;
}
interface Run {
  readonly summary: Summary;
  readonly customers: ReadonlyMap<string, Customer>;
}

const AS_OF = '2025-12-31';

const runWith = async (cwd: string, name: string, args: readonly string[]): Promise<Run> => {
  const result = await clv(['run', '--input', sampleData, '--output', name, '--as-of', AS_OF, ...args], cwd);
  if (result.code !== 0) throw new Error(`clv run ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  const out = join(cwd, name);
  const summary = summarySchema.parse(JSON.parse(await readFile(join(out, `summary/run_date=${AS_OF}/summary.json`), 'utf8')));
  const rows = await queryDuckDb(
    `SELECT customer_id, historical_clv, expected_purchases, probability_alive, expected_order_value, predicted_clv
     FROM read_parquet('${out}/customers/run_date=${AS_OF}/*/*.parquet')`,
  );
  return { summary, customers: new Map(rows.map(({ customer_id, ...row }) => [String(customer_id), row as unknown as Customer])) };
};

/** |a - b| relative to the larger magnitude (0 when both are 0). */
const relative = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

/** The largest relative difference, over every customer, between `column` of `run` and `expected(base customer)`. */
const worst = (run: Run, base: Run, column: keyof Customer, expected: (c: Customer) => number): number => {
  let max = 0;
  for (const [id, c] of base.customers) max = Math.max(max, relative(run.customers.get(id)![column], expected(c)));
  return max;
};

describe('clv run: each model flag has its documented effect', () => {
  let cwd: string;
  let base: Run;
  const runs: Record<string, Run> = {};
  const FLAGS: Record<string, readonly string[]> = {
    margin: ['--margin', '0.5'],
    lifespan: ['--lifespan-years', '6'],
    horizon: ['--horizon', '104'],
    undiscounted: ['--discount-rate', '0'],
    days: ['--time-unit', 'day'],
    pnbd: ['--transactions', 'pnbd'],
  };
  beforeAll(async () => {
    await requireCliBundle();
    cwd = await tempDir();
    base = await runWith(cwd, 'base', []);
    for (const [name, args] of Object.entries(FLAGS)) runs[name] = await runWith(cwd, name, args);
  }, 300_000);

  it('runs the defaults the README states', () => {
    expect(base.summary.run.settings).toMatchObject({ time_unit: 'week', horizon: 52, discount_rate: 0.1, margin: 1, lifespan_years: 3 });
    expect(base.summary.models.transactions).toBe('bgnbd');
    expect(base.customers.size).toBe(base.summary.counts.customers);
  });

  it('--margin 0.5 halves every predicted CLV and leaves purchases and historical CLV alone', () => {
    const run = runs.margin!;
    expect(worst(run, base, 'predicted_clv', (c) => 0.5 * c.predicted_clv)).toBeLessThan(1e-12);
    expect(worst(run, base, 'expected_purchases', (c) => c.expected_purchases)).toBe(0);
    expect(worst(run, base, 'historical_clv', (c) => c.historical_clv)).toBe(0);
  });

  it('--lifespan-years 6 doubles every historical CLV and leaves the predictions alone', () => {
    const run = runs.lifespan!;
    expect(worst(run, base, 'historical_clv', (c) => 2 * c.historical_clv)).toBeLessThan(1e-12);
    expect(worst(run, base, 'predicted_clv', (c) => c.predicted_clv)).toBe(0);
  });

  it('--horizon 104 (weeks) expects more purchases from every customer who may still buy, and more CLV', () => {
    const run = runs.horizon!;
    for (const [id, c] of base.customers) {
      const longer = run.customers.get(id)!;
      expect(longer.expected_purchases, id).toBeGreaterThan(c.expected_purchases);
      expect(longer.predicted_clv, id).toBeGreaterThan(c.predicted_clv);
    }
    expect(worst(run, base, 'probability_alive', (c) => c.probability_alive)).toBe(0);
  });

  it('--discount-rate 0 makes CLV the undiscounted product margin x expected order value x expected purchases', () => {
    const run = runs.undiscounted!;
    for (const [id, c] of base.customers) expect(run.customers.get(id)!.predicted_clv, id).toBeGreaterThan(c.predicted_clv);
    // with nothing discounted the sum of the weekly increments is E[X(52)] itself (margin 1)
    expect(worst(run, run, 'predicted_clv', (c) => c.expected_order_value * c.expected_purchases)).toBeLessThan(1e-9);
    expect(worst(base, base, 'predicted_clv', (c) => c.expected_order_value * c.expected_purchases)).toBeGreaterThan(0.01);
  });

  it('--time-unit day fits in days: alpha seven times the weekly one, r, a and b unchanged, and 364 days predicting what 52 weeks do', () => {
    const run = runs.days!;
    const [day, week] = [run.summary.models.bgnbd, base.summary.models.bgnbd];
    expect(run.summary.run.settings).toMatchObject({ time_unit: 'day', horizon: 364 });
    expect(run.summary.models.time_unit).toBe('day');
    // the optimiser stops within ~1e-5 of the same maximum in either unit
    expect(relative(day.alpha!, 7 * week.alpha!)).toBeLessThan(1e-4);
    for (const name of ['r', 'a', 'b'] as const) expect(relative(day[name]!, week[name]!), name).toBeLessThan(1e-4);
    expect(worst(run, base, 'predicted_clv', (c) => c.predicted_clv)).toBeLessThan(1e-3);
    expect(worst(run, base, 'predicted_clv', (c) => c.predicted_clv)).toBeGreaterThan(0);
  });

  it('--transactions pnbd predicts with the Pareto/NBD fit, which the summary carries beside the BG/NBD', () => {
    const run = runs.pnbd!;
    expect(run.summary.models.transactions).toBe('pnbd');
    expect(run.summary.models.pareto_nbd).toMatchObject({ convergence: { converged: true } });
    expect(run.summary.models.bgnbd).toEqual(base.summary.models.bgnbd);
    const changed = [...base.customers].filter(([id, c]) => run.customers.get(id)!.expected_purchases !== c.expected_purchases).length;
    expect(changed).toBe(base.customers.size);
  });
});

describe('clv run: flags win over --config', () => {
  it('gives, with every model setting in the config file and its flag set otherwise, exactly the run of the flags', async () => {
    await requireCliBundle();
    const cwd = await tempDir();
    await writeText(
      cwd,
      'config.json',
      JSON.stringify({ model: { timeUnit: 'day', transactions: 'pnbd', horizon: 30, discountRate: 0.5, margin: 0.2, lifespanYears: 1 } }),
    );
    const flags = ['--time-unit', 'week', '--transactions', 'bgnbd', '--horizon', '26', '--discount-rate', '0.05', '--margin', '0.4', '--lifespan-years', '2'];

    const configOnly = await runWith(cwd, 'config-only', ['--config', 'config.json']);
    const both = await runWith(cwd, 'both', ['--config', 'config.json', ...flags]);
    const flagsOnly = await runWith(cwd, 'flags-only', flags);

    expect(configOnly.summary.run.settings).toMatchObject({ time_unit: 'day', horizon: 30, discount_rate: 0.5, margin: 0.2, lifespan_years: 1 });
    expect(configOnly.summary.models.transactions).toBe('pnbd');
    expect(both.summary.run.settings).toMatchObject({ time_unit: 'week', horizon: 26, discount_rate: 0.05, margin: 0.4, lifespan_years: 2 });
    expect(both.summary.models).toEqual(flagsOnly.summary.models);
    expect(both.customers).toEqual(flagsOnly.customers);
    expect(both.customers).not.toEqual(configOnly.customers);
  }, 180_000);

  it('converts the config file\'s horizon to the unit --time-unit sets: 52 weeks are 364 days, not 52 days', async () => {
    await requireCliBundle();
    const cwd = await tempDir();
    await writeText(cwd, 'weeks.json', JSON.stringify({ model: { timeUnit: 'week', horizon: 52 } }));

    const converted = await runWith(cwd, 'converted', ['--config', 'weeks.json', '--time-unit', 'day']);
    const inDays = await runWith(cwd, 'in-days', ['--time-unit', 'day', '--horizon', '364']);
    const ownHorizon = await runWith(cwd, 'own-horizon', ['--config', 'weeks.json', '--time-unit', 'day', '--horizon', '30']);

    expect(converted.summary.run.settings).toMatchObject({ time_unit: 'day', horizon: 364 });
    expect(converted.customers).toEqual(inDays.customers);
    expect(ownHorizon.summary.run.settings).toMatchObject({ time_unit: 'day', horizon: 30 });
  }, 180_000);

  it('reads a config file that starts with a byte-order mark, as Windows editors write it', async () => {
    await requireCliBundle();
    const cwd = await tempDir();
    await writeText(cwd, 'bom.json', '\uFEFF' + JSON.stringify({ model: { margin: 0.5 } }));

    const run = await runWith(cwd, 'bom', ['--config', 'bom.json']);

    expect(run.summary.run.settings.margin).toBe(0.5);
  }, 60_000);
});
