/**
 * The project's synthetic order exports: customers drawn from a known BG/NBD + Gamma-Gamma process
 * (test/support/simulate.ts), written as the order exports a shop would drop
 * (`orders-NNN.csv[.gz]`, header `order_id,customer_id,order_date,amount,channel,status`), with the
 * mess real exports carry (cancelled and refunded orders, re-sent overlapping files, every defect the
 * input contract rejects), and a `truth.json`: the parameters, what was simulated per channel, and
 * the EXACT counts a correct run as of `asOf` must report (SPEC "Input contract").
 *
 * The counts are kept by construction, as each row is written: the generator knows what it injected.
 * Tests recount the written files independently (test/support/gen-orders.test.ts).
 *
 * Deterministic: the same options give the same bytes. Two streams come from `seed`: one draws the
 * customers (channel, traits, purchases, amounts), the other the mess (statuses, defects, copies),
 * so switching a defect on changes which rows are broken, never the customers behind them.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGzip, type Gzip } from 'node:zlib';
import { z } from 'zod';
import { isoDateSchema } from '../../lambdas/clv-job/config.js';
import { REJECTION_REASONS } from '../../lambdas/clv-job/domain/outcomes.js';
import { drawTraits, forEachRepeatPurchase, gamma, seededUniform, type Uniform } from './simulate.js';

/**
 * Defect kinds the generator can inject, and the reason code a correct run gives each. The first
 * seven are judged by today's pipeline and on by default (with `dirty` > 0); the OPT-IN kinds are
 * judged only once validation bounds land (SPEC `validation.minOrderDate`, `validation.maxAmount`).
 */
export const DEFECT_REASONS = {
  malformed_row: 'malformed_row', // a record cut after its third field
  missing_order_id: 'missing_order_id',
  missing_customer_id: 'missing_customer_id',
  invalid_order_date: 'invalid_order_date', // 31/01/2025, or 2025-02-30
  invalid_amount: 'invalid_amount', // 12.50 EUR, or $12.50
  negative_amount: 'negative_amount',
  order_date_after_as_of: 'order_date_after_as_of', // 1 to 30 days after as-of
  implausible_order_date: 'implausible_order_date', // OPT-IN: a day in 1900-1969
  absurd_amount: 'invalid_amount', // OPT-IN: a 400-digit number, NaN, Infinity or 1e999
} as const;
export type DefectKind = keyof typeof DEFECT_REASONS;
const DEFECT_KINDS = Object.keys(DEFECT_REASONS) as DefectKind[];
export const DEFAULT_DEFECTS: readonly DefectKind[] = DEFECT_KINDS.filter((k) => k !== 'implausible_order_date' && k !== 'absurd_amount');

/** Statuses written on non-purchase orders; the pipeline's defaults judge each (case and blanks aside). */
const NON_PURCHASE_STATUSES = ['cancelled', 'refunded', 'canceled', 'returned', 'void', 'Cancelled'] as const;
/** A free-text channel with a comma and quotes, on 0.1% of rows, so every reader must honour RFC 4180. */
const PARTNER_CHANNEL = 'partner, "beta"';

/**
 * Acquisition channels and their quality, as multipliers on a customer's drawn traits: purchase rate
 * λ × `rate`, dropout odds p/(1-p) × `dropout`, spend per order (ν ÷ `spend`). Ranked by expected
 * value: affiliate > search > email > paid_social. `cac` is the cost of acquiring one customer there
 * (what the spend file charges). `display` joins only with `degradingChannel`: its newer cohorts are
 * worse, each multiplier moving linearly from its start value (customers acquired at the window's
 * start) to `degradesTo` (acquired on the as-of date).
 */
export const CHANNELS = [
  { name: 'paid_social', share: 0.45, rate: 0.8, dropout: 1.6, spend: 0.85, cac: 60 },
  { name: 'search', share: 0.3, rate: 1.1, dropout: 0.8, spend: 1, cac: 45 },
  { name: 'affiliate', share: 0.1, rate: 1.3, dropout: 0.6, spend: 1.5, cac: 80 },
  { name: 'email', share: 0.15, rate: 1, dropout: 1, spend: 1, cac: 15 },
] as const;
export const DEGRADING_CHANNEL = {
  name: 'display',
  share: 0.15,
  rate: 1.2,
  dropout: 0.7,
  spend: 1.2,
  cac: 40,
  degradesTo: { rate: 0.5, dropout: 2.5, spend: 0.6 },
} as const;

const share = z.number().min(0).max(1);
const positive = z.number().positive().finite();

/** Every option, with its default; `out` is the folder written. */
export const genOptionsSchema = z.strictObject({
  out: z.string().min(1),
  customers: z.number().int().positive().default(100_000),
  files: z.number().int().positive().max(999).default(7),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  asOf: isoDateSchema.default('2025-12-31'),
  /** Customers are acquired uniformly over this many weeks up to the as-of date. */
  weeks: z.number().int().positive().max(52 * 50).default(104),
  gzip: z.boolean().default(false),
  /** Share of rows given one defect, its kind drawn uniformly from `defects`. */
  dirty: share.default(0),
  defects: z.array(z.enum(DEFECT_KINDS as [DefectKind, ...DefectKind[]])).min(1).default([...DEFAULT_DEFECTS]),
  /** Share of rows re-sent, as read, in the next file (a defective row is rejected again). */
  overlap: share.default(0),
  /** OPT-IN: share of valid rows whose order_id comes again in the next file with another customer, date or amount. */
  conflicts: share.default(0),
  /** Share of orders with a non-purchase status (cancelled, refunded, ...). */
  nonPurchase: share.default(0.02),
  params: z
    .strictObject({ r: positive, alpha: positive, a: positive, b: positive, p: positive, q: positive, gamma: positive })
    .default({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, p: 6.25, q: 3.74, gamma: 15.44 }),
  /** Every channel draws from the one population, so a fit must recover `params` themselves. */
  sameChannels: z.boolean().default(false),
  /** OPT-IN: adds the `display` channel, whose newer cohorts are worse. */
  degradingChannel: z.boolean().default(false),
  /**
   * OPT-IN: where to write the marketing spend (CSV of channel, month YYYY-MM, spend): each channel's
   * `cac` per customer it acquired that month. Outside `out`, which a run reads as orders.
   */
  spendFile: z.string().min(1).optional(),
});
export type GenOptions = z.input<typeof genOptionsSchema>;

const countsSchema = z.strictObject({
  input_rows: z.number().int(),
  accepted_orders: z.number().int(),
  duplicate_orders: z.number().int(),
  conflicting_duplicates: z.number().int(),
  non_purchase_orders: z.number().int(),
  rejected_rows: z.number().int(),
  rejected_by_reason: z.record(z.string(), z.number().int()),
  customers: z.number().int(),
});
export type TruthCounts = z.infer<typeof countsSchema>;

const qualitySchema = z.strictObject({
  /** Customers whose simulated first order fell here. */
  customers: z.number().int(),
  /** Means over those customers of λ (purchases a week while alive), of the dropout probability after each purchase, and of the expected amount per order p/ν. */
  mean_purchase_rate: z.number(),
  mean_dropout_probability: z.number(),
  mean_order_value: z.number(),
});

/** The counts a run as of `asOf` must report, as every truth.json records them (also test/fixtures/sample-truth.json). */
export const recordedCountsSchema = z.object({ asOf: isoDateSchema, counts: countsSchema });

/** What a run as of `asOf` must report, and what was simulated. */
export const truthSchema = z.strictObject({
  generator: z.literal('test/support/gen-orders.ts'),
  options: genOptionsSchema.omit({ out: true, spendFile: true }),
  asOf: isoDateSchema,
  files: z.array(z.string()),
  counts: countsSchema,
  /** Injected defects by kind (two for a re-sent defective row). */
  defects: z.record(z.string(), z.number().int()),
  channels: z.array(
    z.strictObject({
      name: z.string(),
      share: z.number(),
      rate: z.number(),
      dropout: z.number(),
      spend: z.number(),
      cac: z.number(),
      degradesTo: z.strictObject({ rate: z.number(), dropout: z.number(), spend: z.number() }).optional(),
      simulated: qualitySchema,
      /** By month of the simulated first order (YYYY-MM). */
      cohorts: z.array(qualitySchema.extend({ month: z.string() })),
      /** Customers a correct run counts as acquired here (acquisition channel of the first accepted purchase day). */
      customers_acquired: z.number().int(),
      /** Total of this channel's rows in the spend file (0 without `spendFile`). */
      spend_total: z.number(),
    }),
  ),
  /** Customers a correct run counts by acquisition channel, the free-text channel included. */
  acquisition_channels: z.record(z.string(), z.number().int()),
  /** The spend file's name (without its folder), or null. */
  spend_file: z.string().nullable(),
});
export type Truth = z.infer<typeof truthSchema>;

interface Channel {
  readonly name: string;
  readonly share: number;
  readonly rate: number;
  readonly dropout: number;
  readonly spend: number;
  readonly cac: number;
  readonly degradesTo?: { readonly rate: number; readonly dropout: number; readonly spend: number };
}

const DAY_MS = 86_400_000;
const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const csvField = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** One file's writer: rows are gathered into chunks, and the stream's backpressure is honoured. */
class ExportFile {
  private chunk: string[] = [];
  private size = 0;
  private readonly stream: Gzip | WriteStream;
  private readonly file: WriteStream;

  constructor(path: string, gzip: boolean) {
    this.file = createWriteStream(path);
    if (gzip) {
      const zip = createGzip();
      zip.pipe(this.file);
      this.stream = zip;
    } else {
      this.stream = this.file;
    }
    this.push('order_id,customer_id,order_date,amount,channel,status\n');
  }

  push(line: string): void {
    this.chunk.push(line);
    this.size += line.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.size >= 1 << 16) await this.flush();
  }

  private async flush(): Promise<void> {
    const text = this.chunk.join('');
    this.chunk = [];
    this.size = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.file, 'close');
  }
}

/** A row as drawn, before the mess. */
interface Order {
  readonly seq: number;
  readonly day: number;
  readonly amount: string;
}

class QualityTally {
  customers = 0;
  private rate = 0;
  private dropout = 0;
  private value = 0;
  add(rate: number, dropout: number, value: number): void {
    this.customers += 1;
    this.rate += rate;
    this.dropout += dropout;
    this.value += value;
  }
  summary(): z.infer<typeof qualitySchema> {
    const n = Math.max(this.customers, 1);
    return { customers: this.customers, mean_purchase_rate: this.rate / n, mean_dropout_probability: this.dropout / n, mean_order_value: this.value / n };
  }
}

/**
 * Writes the exports and `truth.json` into `options.out` (created if needed) and returns the truth.
 * Throws a ZodError on invalid options. Time: about 2 s per 100k customers (230k rows) on one core.
 */
export const generateOrders = async (input: GenOptions): Promise<Truth> => {
  const { out, spendFile, ...options } = genOptionsSchema.parse(input);
  const P = options.params;
  const asOfDay = Date.parse(`${options.asOf}T00:00:00Z`) / DAY_MS;
  const span = options.weeks * 7 + 1; // days of the window, the as-of day included
  const startDay = asOfDay - span + 1;
  const days = Array.from({ length: span }, (_, d) => isoDay(startDay + d));

  const channels: Channel[] = [...CHANNELS, ...(options.degradingChannel ? [DEGRADING_CHANNEL] : [])].map((c) => ({ ...c }));
  if (options.degradingChannel) for (const c of channels) if (c.name !== DEGRADING_CHANNEL.name) Object.assign(c, { share: c.share * (1 - DEGRADING_CHANNEL.share) });
  if (options.sameChannels) for (const c of channels) Object.assign(c, { rate: 1, dropout: 1, spend: 1, degradesTo: undefined });
  const channelNames = [...channels.map((c) => c.name), PARTNER_CHANNEL];

  const draw = seededUniform(options.seed);
  const mess: Uniform = seededUniform(Math.floor(draw() * 2 ** 32));

  await mkdir(out, { recursive: true });
  const ext = options.gzip ? '.csv.gz' : '.csv';
  const fileNames = Array.from({ length: options.files }, (_, i) => `orders-${String(i).padStart(3, '0')}${ext}`);
  const files = fileNames.map((name) => new ExportFile(join(out, name), options.gzip));
  const fileOf = (day: number): number => Math.min(options.files - 1, Math.floor((day / span) * options.files));

  const reasons = [...new Set<string>([...REJECTION_REASONS, ...options.defects.map((k) => DEFECT_REASONS[k])])];
  const counts = {
    input_rows: 0,
    accepted_orders: 0,
    duplicate_orders: 0,
    conflicting_duplicates: 0,
    non_purchase_orders: 0,
    rejected_rows: 0,
    rejected_by_reason: Object.fromEntries(reasons.map((r) => [r, 0])) as Record<string, number>,
    customers: 0,
  };
  const defects: Record<string, number> = {};

  // Each customer's first accepted purchase, as a correct run sees it: the earliest day of a kept
  // accepted copy, and on that day the lowest order_id (its channel is the acquisition channel).
  const firstDay = new Int32Array(options.customers).fill(2 ** 31 - 1);
  const firstSeq = new Int32Array(options.customers);
  const firstChannel = new Uint8Array(options.customers);
  const accept = (customer: number, day: number, seq: number, channel: number): void => {
    counts.accepted_orders += 1;
    if (day < firstDay[customer]! || (day === firstDay[customer] && seq < firstSeq[customer]!)) {
      firstDay[customer] = day;
      firstSeq[customer] = seq;
      firstChannel[customer] = channel;
    }
  };
  const customerId = (c: number): string => `C${String(c + 1).padStart(8, '0')}`;
  const simulated = channels.map(() => ({ all: new QualityTally(), byMonth: new Map<string, QualityTally>() }));

  let seq = 0;
  for (let c = 0; c < options.customers; c++) {
    // --- the customer, from the process stream
    let pick = draw();
    let ch = channels.length - 1;
    for (let i = 0; i < channels.length; i++) if ((pick -= channels[i]!.share) <= 0) { ch = i; break; }
    const channel = channels[ch]!;
    const acquired = draw() * span; // day of the first order, from the window's start
    const f = acquired / span;
    const at = (from: number, to: number | undefined): number => (to === undefined ? from : from + (to - from) * f);
    const traits = drawTraits(draw, P, P);
    const lambda = traits.lambda * at(channel.rate, channel.degradesTo?.rate);
    const odds = (traits.p / (1 - traits.p)) * at(channel.dropout, channel.degradesTo?.dropout);
    const pDrop = odds / (1 + odds);
    const nu = traits.nu / at(channel.spend, channel.degradesTo?.spend);
    const tally = simulated[ch]!;
    const month = days[Math.floor(acquired)]!.slice(0, 7);
    tally.all.add(lambda, pDrop, P.p / nu);
    if (!tally.byMonth.has(month)) tally.byMonth.set(month, new QualityTally());
    tally.byMonth.get(month)!.add(lambda, pDrop, P.p / nu);

    const orders: Order[] = [{ seq: ++seq, day: Math.floor(acquired), amount: gamma(draw, P.p, nu).toFixed(2) }];
    forEachRepeatPurchase(draw, lambda, pDrop, (span - acquired) / 7, (t) => {
      orders.push({ seq: ++seq, day: Math.min(span - 1, Math.floor(acquired + 7 * t)), amount: gamma(draw, P.p, nu).toFixed(2) });
    });

    // --- the mess, from its own stream
    for (const order of orders) {
      const file = fileOf(order.day);
      const status = mess() < options.nonPurchase ? NON_PURCHASE_STATUSES[Math.floor(mess() * NON_PURCHASE_STATUSES.length)]! : 'completed';
      const written = mess() < 0.001 ? channelNames.length - 1 : ch;
      const row = [`O${String(order.seq).padStart(10, '0')}`, customerId(c), days[order.day]!, order.amount, channelNames[written]!, status];
      const kind = options.dirty > 0 && mess() < options.dirty ? options.defects[Math.floor(mess() * options.defects.length)]! : null;
      if (kind !== null) breakRow(row, kind, order, mess, asOfDay);
      const line = (kind === 'malformed_row' ? row.slice(0, 3) : row).map(csvField).join(',') + '\n';
      const copy = mess();
      const resent = copy < options.overlap && file + 1 < options.files;
      const conflicting = kind === null && copy >= options.overlap && copy < options.overlap + options.conflicts;

      files[file]!.push(line);
      counts.input_rows += 1;
      if (kind !== null) {
        const copies = resent ? 2 : 1;
        defects[kind] = (defects[kind] ?? 0) + copies;
        counts.rejected_rows += copies;
        counts.rejected_by_reason[DEFECT_REASONS[kind]]! += copies;
        if (resent) {
          files[file + 1]!.push(line);
          counts.input_rows += 1;
        }
        continue;
      }
      const purchase = status === 'completed';
      let owner = c;
      let keptDay = order.day;
      if (resent || conflicting) {
        // the copy goes after the original (in the next file when there is one): it is the one kept
        let copyLine = line;
        if (conflicting) {
          const what = mess();
          const changed = [...row];
          if (what < 1 / 3 && c > 0) {
            owner = c - 1; // the order moves to the previous customer (kept copies are tallied per customer)
            changed[1] = customerId(owner);
          } else if (what < 2 / 3 && order.day > 30) {
            // never before the window, so every month of the spend file lies in it
            keptDay = order.day - 1 - Math.floor(mess() * 30);
            changed[2] = days[keptDay]!;
          } else {
            changed[3] = (Number(order.amount) + 1 + Math.floor(mess() * 50)).toFixed(2);
          }
          copyLine = changed.map(csvField).join(',') + '\n';
          counts.conflicting_duplicates += 1;
        }
        files[Math.min(file + 1, options.files - 1)]!.push(copyLine);
        counts.input_rows += 1;
        counts.duplicate_orders += 1;
      }
      if (!purchase) {
        counts.non_purchase_orders += 1;
        continue;
      }
      accept(owner, keptDay, order.seq, written);
    }
    await Promise.all(files.map((file) => file.flushIfFull()));
  }
  await Promise.all(files.map((file) => file.close()));

  // --- what a correct run counts as acquired, and the spend that acquired it
  const acquiredBy = new Map<string, number>(); // `${channel index}|${YYYY-MM}`
  const acquisitionChannels: Record<string, number> = {};
  for (let c = 0; c < options.customers; c++) {
    if (firstDay[c] === 2 ** 31 - 1) continue;
    counts.customers += 1;
    const key = `${firstChannel[c]}|${isoDay(startDay + firstDay[c]!).slice(0, 7)}`;
    acquiredBy.set(key, (acquiredBy.get(key) ?? 0) + 1);
    const name = channelNames[firstChannel[c]!]!;
    acquisitionChannels[name] = (acquisitionChannels[name] ?? 0) + 1;
  }
  const months = [...new Set(days.map((d) => d.slice(0, 7)))];
  const spendRows = channels.flatMap((channel, i) => months.map((month) => ({ channel: channel.name, month, spend: round2(channel.cac * (acquiredBy.get(`${i}|${month}`) ?? 0)) })));
  if (spendFile !== undefined) await writeFile(spendFile, ['channel,month,spend', ...spendRows.map((r) => `${r.channel},${r.month},${r.spend.toFixed(2)}`)].join('\n') + '\n');

  const truth: Truth = {
    generator: 'test/support/gen-orders.ts',
    options,
    asOf: options.asOf,
    files: fileNames,
    counts,
    defects,
    channels: channels.map((channel, i) => ({
      ...channel,
      simulated: simulated[i]!.all.summary(),
      cohorts: [...simulated[i]!.byMonth.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, t]) => ({ month, ...t.summary() })),
      customers_acquired: acquisitionChannels[channel.name] ?? 0,
      spend_total: spendFile !== undefined ? round2(spendRows.filter((r) => r.channel === channel.name).reduce((s, r) => s + r.spend, 0)) : 0,
    })),
    acquisition_channels: acquisitionChannels,
    spend_file: spendFile === undefined ? null : basename(spendFile),
  };
  await writeFile(join(out, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
};

/** Gives `row` one defect of `kind`, its status a purchase so the row has one reason only. */
const breakRow = (row: string[], kind: DefectKind, order: Order, u: Uniform, asOfDay: number): void => {
  row[5] = 'completed';
  const date = row[2]!;
  switch (kind) {
    case 'malformed_row':
      return; // cut when written
    case 'missing_order_id':
      row[0] = '';
      return;
    case 'missing_customer_id':
      row[1] = u() < 0.5 ? '' : '  ';
      return;
    case 'invalid_order_date':
      row[2] = u() < 0.5 ? `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}` : `${date.slice(0, 4)}-02-30`;
      return;
    case 'invalid_amount':
      row[3] = u() < 0.5 ? `${order.amount} EUR` : `$${order.amount}`;
      return;
    case 'negative_amount':
      row[3] = `-${(Number(order.amount) + 0.01).toFixed(2)}`;
      return;
    case 'order_date_after_as_of':
      row[2] = isoDay(asOfDay + 1 + Math.floor(u() * 30));
      return;
    case 'implausible_order_date':
      row[2] = isoDay(Date.UTC(1900, 0, 1) / DAY_MS + Math.floor(u() * 25_567)); // 1900-01-01 .. 1969-12-31
      return;
    case 'absurd_amount': {
      const pick = u();
      row[3] =
        pick < 0.5
          ? `${1 + Math.floor(u() * 9)}${Array.from({ length: 399 }, () => Math.floor(u() * 10)).join('')}`
          : (['NaN', 'Infinity', '1e999'] as const)[Math.floor(u() * 3)]!;
      return;
    }
  }
};

const flagNumbers = ['customers', 'files', 'seed', 'weeks', 'dirty', 'overlap', 'conflicts', 'non-purchase'] as const;
const paramNames = ['r', 'alpha', 'a', 'b', 'p', 'q', 'gamma'] as const;

/**
 * Options from command-line flags: `--out DIR [--customers N] [--files N] [--seed N] [--as-of YYYY-MM-DD]
 * [--weeks N] [--gzip] [--dirty SHARE] [--defects kind,...] [--overlap SHARE] [--conflicts SHARE]
 * [--non-purchase SHARE] [--r --alpha --a --b --p --q --gamma X] [--same-channels] [--degrading-channel]
 * [--spend FILE]`. Throws an Error naming the flag on an unknown flag or a value that is not a number.
 */
export const parseGenArgs = (args: readonly string[]): GenOptions => {
  const { values: parsed } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      out: { type: 'string' },
      'as-of': { type: 'string' },
      defects: { type: 'string' },
      gzip: { type: 'boolean' },
      'same-channels': { type: 'boolean' },
      'degrading-channel': { type: 'boolean' },
      spend: { type: 'string' },
      ...Object.fromEntries([...flagNumbers, ...paramNames].map((k) => [k, { type: 'string' as const }])),
    },
  });
  const values: Readonly<Record<string, string | boolean | undefined>> = parsed;
  const text = (flag: string): string | undefined => (typeof values[flag] === 'string' ? values[flag] : undefined);
  const flag = (name: string): boolean | undefined => (typeof values[name] === 'boolean' ? values[name] : undefined);
  const number = (name: string): number | undefined => {
    const given = text(name);
    if (given === undefined) return undefined;
    const value = Number(given);
    if (given.trim() === '' || !Number.isFinite(value)) throw new Error(`--${name} must be a number, got ${given}`);
    return value;
  };
  const given = paramNames.filter((k) => values[k] !== undefined);
  const defaults = genOptionsSchema.shape.params.parse(undefined);
  return {
    out: text('out') ?? '',
    customers: number('customers'),
    files: number('files'),
    seed: number('seed'),
    asOf: text('as-of'),
    weeks: number('weeks'),
    gzip: flag('gzip'),
    dirty: number('dirty'),
    // unknown kinds are named by the options' schema
    defects: text('defects')?.split(',').map((k) => k.trim() as DefectKind),
    overlap: number('overlap'),
    conflicts: number('conflicts'),
    nonPurchase: number('non-purchase'),
    params: given.length > 0 ? { ...defaults, ...Object.fromEntries(given.map((k) => [k, number(k)])) } : undefined,
    sameChannels: flag('same-channels'),
    degradingChannel: flag('degrading-channel'),
    spendFile: text('spend'),
  };
};
