import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asOfDateSchema, columnMappingSchema, configFileSchema, csvOptionsSchema, gatesConfigSchema, modelOptionsSchema, orderKeySchema, validationSchema } from '../lambdas/clv-job/config.js';
import { resolveRunConfig } from '../lambdas/clv-job/cli-options.js';
import { DEFAULT_GATE_SETTINGS } from '../lambdas/clv-job/domain/quality-gates.js';
import { tempDir, writeText } from './support/files.js';
import { segmentSettingsSchema } from '../lambdas/clv-job/schemas/summary-segments.js';

/**
 * csv.dateFormat is handed to DuckDB's strptime at ingest. A format DuckDB refuses used to surface
 * there, per file, as "cannot be parsed (Invalid Input Error: Failed to parse format specifier %Q)":
 * a failed run (exit 1) locally, every file left out with --skip-bad-files, every drop quarantined on
 * AWS. It is a configuration mistake, so the config schema refuses it (the CLI exits 2).
 */
describe('csv.dateFormat', () => {
  it.each(['%d.%m.%Y', '%m/%d/%Y', '%-m/%-d/%y', '%Y-%m-%dT%H:%M:%S%z', '%d %b %Y %I:%M %p', '%Y%m%d', '%x', '%G-W%V-%u', '100%% %Y-%j'])(
    'takes %s, a format DuckDB reads',
    (format) => {
      expect(csvOptionsSchema.safeParse({ dateFormat: format }).success).toBe(true);
    },
  );

  it.each([
    ['%d.%m.%Q', /"%Q" is not a strptime specifier/],
    ['%Y-%m-%D', /"%D" is not a strptime specifier/],
    ['%e.%m.%Y', /"%e" is not a strptime specifier/],
    ['%-Y-%m-%d', /"%-" is not a strptime specifier/],
    ['%d.%m.%Y %', /"%" is not a strptime specifier/],
    ['%d.%m.', /has no year/],
    ['%H:%M', /has no year/],
    // a literal percent sign before a Y is no year, nor is an ISO year without its week
    ['%d.%m.%%Y', /has no year/],
    ['%d.%m.%G', /has no year/],
  ])('refuses %s, naming the problem', (format, message) => {
    const parsed = csvOptionsSchema.safeParse({ dateFormat: format });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join('; ')).toMatch(message);
  });
});

/**
 * model.intervalDraws takes 0 (no intervals) or 20 to 10000 draws. A refused value used to be told
 * "Too small: expected number to be >=20" (for 1, though 0 is allowed) or "Invalid input" (for 2.5):
 * the message must name both choices and the value given.
 */
describe('csv.delimiter', () => {
  it('takes one ASCII character: a comma, a semicolon, a tab, a pipe', () => {
    for (const delimiter of [',', ';', '\t', '|']) expect(csvOptionsSchema.parse({ delimiter }).delimiter).toBe(delimiter);
  });

  it.each([['§'], ['¬'], ['"'], ['\n']])('refuses %j when the config is read (the reader frames records by one byte, and a quote or a line break frames them)', (delimiter) => {
    const parsed = csvOptionsSchema.safeParse({ delimiter });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(`csv.delimiter must be an ASCII character other than a quote, a carriage return or a line feed (got ${JSON.stringify(delimiter)})`);
  });
});

describe('model.intervalDraws', () => {
  it.each([0, 20, 100, 10_000])('takes %s', (draws) => {
    expect(modelOptionsSchema.safeParse({ intervalDraws: draws }).success).toBe(true);
  });

  it.each([1, 19, -1, 2.5, 10_001, '100'])('refuses %s, naming both choices and the value', (draws) => {
    const parsed = modelOptionsSchema.safeParse({ intervalDraws: draws });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join('; ')).toBe(`is 0 (no intervals) or a whole number of draws from 20 to 10000 (got ${JSON.stringify(draws)})`);
  });
});

/**
 * model.horizon is at most 100 years (of 52 weeks): 5,200 weeks or 36,400 days. The cap was 5,200 in
 * either unit, checked after a config file's horizon was converted to --time-unit: 1,000 weeks in the
 * file under --time-unit day became 7,000 days and were refused as "model.horizon: <=5200", a limit
 * the 1,000 the user wrote is well within; 5,200 days (14 years) was the most a day horizon could be.
 */
describe('model.horizon', () => {
  it.each([
    ['week', 5_200],
    ['day', 36_400],
  ] as const)('takes 100 years in %ss (%s), from the options and from a config file', (timeUnit, horizon) => {
    expect(modelOptionsSchema.safeParse({ timeUnit, horizon }).success).toBe(true);
    expect(configFileSchema.safeParse({ model: { timeUnit, horizon } }).success).toBe(true);
  });

  it.each([
    [{ timeUnit: 'week', horizon: 5_201 }, 'is at most 5200 weeks, 100 years (got 5201 weeks)'],
    [{ horizon: 5_201 }, 'is at most 5200 weeks, 100 years (got 5201 weeks)'],
    [{ timeUnit: 'day', horizon: 36_401 }, 'is at most 36400 days, 100 years (got 36401 days)'],
  ])('refuses %j, in the unit it was written in', (model, message) => {
    expect(modelOptionsSchema.safeParse(model).error?.issues.map((i) => [i.path, i.message])).toEqual([[['horizon'], message]]);
    expect(configFileSchema.safeParse({ model }).error?.issues.map((i) => [i.path, i.message])).toEqual([[['model', 'horizon'], message]]);
  });

  it("runs a config file's 1,000 weeks under --time-unit day as 7,000 days, and tells a config file's or a flag's horizon over the cap in its own unit", async () => {
    const dir = await tempDir();
    const weeks = await writeText(dir, 'weeks.json', JSON.stringify({ model: { timeUnit: 'week', horizon: 1_000 } }));
    const tooLong = await writeText(dir, 'too-long.json', JSON.stringify({ model: { timeUnit: 'week', horizon: 6_000 } }));
    const paths = { input: [join(dir, 'exports')], output: join(dir, 'out') };

    const converted = await resolveRunConfig({ ...paths, config: weeks, timeUnit: 'day' });

    expect(converted.run.model).toMatchObject({ timeUnit: 'day', horizon: 7_000 });
    await expect(resolveRunConfig({ ...paths, config: tooLong, timeUnit: 'day' })).rejects.toThrow(`config file ${tooLong}: model.horizon: is at most 5200 weeks, 100 years (got 6000 weeks)`);
    await expect(resolveRunConfig({ ...paths, timeUnit: 'day', horizon: '40000' })).rejects.toThrow('--horizon: is at most 36400 days, 100 years (got 40000 days)');
  });
});

describe('a given as-of date', () => {
  // late on 2 December in UTC: 3 December already in time zones ahead of UTC, and no later
  const now = new Date('2026-12-02T23:59:59Z');

  it.each(['0001-01-01', '2025-12-31', '2026-12-02', '2026-12-03'])('accepts %s, today in UTC plus a day at most', (date) => {
    expect(asOfDateSchema(now).parse(date)).toBe(date);
  });

  it.each(['2026-12-04', '2099-01-01'])('refuses %s, a night that has not come anywhere, saying which is the latest accepted', (date) => {
    expect(asOfDateSchema(now).safeParse(date).error?.issues.map((i) => i.message)).toEqual([
      `${date} is in the future: the latest accepted is 2026-12-03 (today in UTC, plus a day for time zones ahead of it)`,
    ]);
  });

  it('still says a malformed date is malformed, not that it is in the future', () => {
    expect(asOfDateSchema(now).safeParse('2099-02-30').error?.issues.map((i) => i.message)).toEqual(['is not a calendar date']);
  });
});

/**
 * validation.maxAmount bounds every amount, so it bounds every sum of money the SQL takes in
 * DECIMAL(38, 6) (|x| < 1e32). It used to go up to 1e30: 150 orders of one customer at 1e30 failed the
 * night with DuckDB's "Overflow in subtract of DECIMAL(38)", naming no file, row or customer.
 */
describe('validation.maxAmount', () => {
  it.each([1e9, 1e18, 0.01])('takes %s', (maxAmount) => {
    expect(validationSchema.parse({ maxAmount }).maxAmount).toBe(maxAmount);
  });

  it.each([1e30, 1.0000000000000002e18])('refuses %s, saying what bounds it and why', (maxAmount) => {
    expect(validationSchema.safeParse({ maxAmount }).error?.issues.map((i) => i.message)).toEqual([
      `is at most 1e18 (got ${JSON.stringify(maxAmount)}), so that sums of fewer than 1e14 orders stay within DECIMAL(38, 6)`,
    ]);
  });
});

/**
 * `columns` maps each order column to a header. Two columns mapped to one header both take its
 * values (order_id mapped to the customer's header made every order a re-sent copy of the
 * customer's first, and the night was published): a configuration error, refused before any file
 * is read.
 */
describe('columns', () => {
  it.each([
    [{ order_id: 'customer_id' }, /order_id \("customer_id"\) and customer_id \("customer_id"\) would read the same header/],
    [{ amount: 'Total', channel: ' total ' }, /amount \("Total"\) and channel \(" total "\) would read the same header/],
  ])('refuses %j: two columns would read one header', (columns, message) => {
    const parsed = columnMappingSchema.safeParse(columns);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it('takes headers that differ, and fills the unmapped columns with their own names', () => {
    expect(columnMappingSchema.parse({ order_id: 'Order No', customer_id: 'Client' })).toEqual({
      order_id: 'Order No',
      customer_id: 'Client',
      order_date: 'order_date',
      amount: 'amount',
      channel: 'channel',
      status: 'status',
    });
  });
});

describe('shares in the config file, written as percentages by mistake', () => {
  it.each([
    ['gates.minCustomersVsPrevious', () => gatesConfigSchema.safeParse({ minCustomersVsPrevious: 50 }), "is a share of the previous run's customers, 0 to 1: 0.10 means 10% (got 50; did you mean 0.5?)"],
    ['segments.warnings.totalEquityDrop', () => segmentSettingsSchema.safeParse({ warnings: { totalEquityDrop: 10 } }), 'is a relative drop, 0 to 1: 0.10 means 10% (got 10; did you mean 0.1?)'],
    ['segments.warnings.channelAverageClvDrop', () => segmentSettingsSchema.safeParse({ warnings: { channelAverageClvDrop: 2.5 } }), 'is a relative drop, 0 to 1: 0.10 means 10% (got 2.5; did you mean 0.025?)'],
    // just above 1 is a share slipped past 1, not a percentage: no hint that would mislead
    ['segments.warnings.totalEquityDrop at 1.5', () => segmentSettingsSchema.safeParse({ warnings: { totalEquityDrop: 1.5 } }), 'is a relative drop, 0 to 1: 0.10 means 10% (got 1.5)'],
  ])('refuses %s above 1 (a gate no night passes, or a warning that never speaks), saying which share was meant', (_, parse, message) => {
    const parsed = parse();

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([message]);
  });

  it('takes the shares themselves, 0 and 1 included', () => {
    expect(gatesConfigSchema.parse({ minCustomersVsPrevious: 1 }).minCustomersVsPrevious).toBe(1);
    expect(segmentSettingsSchema.parse({ warnings: { totalEquityDrop: 0 } })).toBeDefined();
  });
});

describe('gates.minAcceptedOrders', () => {
  it('turns its gate off with null, as the other gates do (at least 0 accepted orders always passes)', () => {
    expect(gatesConfigSchema.parse({ minAcceptedOrders: null }).minAcceptedOrders).toBe(0);
    expect(gatesConfigSchema.parse({}).minAcceptedOrders).toBe(DEFAULT_GATE_SETTINGS.minAcceptedOrders);
  });
});

describe('orderKey', () => {
  it('refuses a column named twice, which adds nothing to the key and reads as a slip', () => {
    const parsed = orderKeySchema.safeParse(['store', 'store']);

    expect(parsed.error?.issues.map((i) => i.message)).toEqual(['names a column more than once (got ["store","store"])']);
    expect(orderKeySchema.parse(['store', 'register'])).toEqual(['store', 'register']);
  });
});

describe('nonPurchaseStatuses', () => {
  it('are trimmed as the exports\' statuses are: "CHARGEBACK " never matched a status, and chargebacks counted as purchases', () => {
    expect(configFileSchema.parse({ nonPurchaseStatuses: ['CHARGEBACK ', '\tvoid'] }).nonPurchaseStatuses).toEqual(['CHARGEBACK', 'void']);
    expect(configFileSchema.safeParse({ nonPurchaseStatuses: ['  '] }).success).toBe(false);
  });
});

describe('segments', () => {
  it('refuses a misspelt key at any depth, which would otherwise leave its default in force unseen', () => {
    for (const segments of [{ tiers: { hihg: 0.3 } }, { actions: { clvTier: { high: ['x'] } } }, { warnings: { channelAvgClvDrop: 0.2 } }, { tier: { high: 0.3 } }]) {
      expect(configFileSchema.safeParse({ segments }).error?.issues[0]?.code).toBe('unrecognized_keys');
    }
  });
});
