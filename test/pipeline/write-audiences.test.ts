/**
 * The audience CSVs, byte for byte, against an independent serialisation: csv-stringify (RFC 4180,
 * CRLF, a field quoted when it holds a comma, a quote or a line break) over rows built from the
 * customers table as DuckDB reads it back, ordered by ranking CLV descending then customer id, each
 * with its segment's first recommended action. Numbers are JavaScript's shortest round-trip text of
 * the doubles DuckDB reads (none of this data's needs an exponent, which the files never write:
 * audience-csv.test.ts); a prediction the run has not got (the fit not trusted) is an empty field.
 * Run on generated orders (test/support/gen-orders.ts) joined by customers whose ids a naive CSV
 * writer breaks: commas, quotes, CR, LF, CRLF, non-ASCII letters.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACTIONS } from '../../lambdas/clv-job/domain/segments/actions.js';
import { AT_RISK_SEGMENT, MOVEMENTS } from '../../lambdas/clv-job/domain/segments/movers.js';
import { fileSafeName } from '../../lambdas/clv-job/domain/segments/audiences.js';
import { RFM_SEGMENTS } from '../../lambdas/clv-job/domain/segments/rfm.js';
import { TIER_ORDER } from '../../lambdas/clv-job/domain/segments/tiers.js';
import { VALUE_LOYALTY_CELLS } from '../../lambdas/clv-job/domain/segments/value-loyalty.js';
import type { Summary } from '../../lambdas/clv-job/schemas/summary.js';
import { WorkerAudiences } from '../../lambdas/clv-job/adapters/worker-audiences.js';
import type { AudienceCsvBuilder, OutputStore } from '../../lambdas/clv-job/ports.js';
import { queryDuckDb } from '../support/duckdb-reader.js';
import { sampleData, tempDir, writeText } from '../support/files.js';
import { genOrders, runLocal } from '../support/pipeline.js';
import { bundleChild } from '../support/publish-faults.js';

const BEFORE = '2025-09-30';
const NIGHT = '2025-12-31';
const HEADER = ['customer_id', 'segment', 'predicted_clv', 'probability_alive', 'recommended_action'];
const AWKWARD_IDS = ['comma, inc', 'say "hi"', 'two\nlines', 'cr\rthen', 'crlf\r\nid', '"', ',', 'Zoë Ünal', '顧客 42', '=1+2'];

/** Orders of the awkward customers: each buys a few times in 2025 (quoted as RFC 4180 wants). */
const awkwardOrders = (ids: readonly string[], orders: (c: number) => number): string => {
  const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
  const lines = ['order_id,customer_id,order_date,amount,channel'];
  ids.forEach((id, c) => {
    for (let k = 0; k < orders(c); k++) lines.push(`awk${c}-${k},${quote(id)},2025-0${1 + ((c + 3 * k) % 9)}-1${k},${10 + c + k}.25,email`);
  });
  return lines.join('\r\n') + '\r\n';
};

interface CustomerRow {
  customer_id: string;
  historical_clv: number;
  predicted_clv: number | null;
  probability_alive: number | null;
  clv_tier: string;
  value_loyalty: string | null;
  rfm_segment: string | null;
}

const customersOf = async (out: string, runDate: string): Promise<CustomerRow[]> =>
  (await queryDuckDb(
    `SELECT customer_id, historical_clv, predicted_clv, probability_alive, clv_tier, value_loyalty, rfm_segment
     FROM read_parquet('${out}/customers/run_date=${runDate}/**/*.parquet', hive_partitioning = true)`,
  )) as unknown as CustomerRow[];

/** Ranking CLV descending (predicted when the run has it, historical otherwise), then id by UTF-16 code units. */
const activationSort = (rows: CustomerRow[]): CustomerRow[] => {
  const ranking = (r: CustomerRow) => r.predicted_clv ?? r.historical_clv;
  return [...rows].sort((a, b) => ranking(b) - ranking(a) || (a.customer_id < b.customer_id ? -1 : a.customer_id > b.customer_id ? 1 : 0));
};

/** The file an RFC 4180 writer makes of these members under this segment. */
const expectedFile = (segment: string, members: readonly CustomerRow[], actionOf: (r: CustomerRow) => string): Buffer =>
  Buffer.from(
    stringify(
      [HEADER, ...members.map((r) => [r.customer_id, segment, r.predicted_clv ?? '', r.probability_alive ?? '', actionOf(r)])],
      { record_delimiter: '\r\n', quoted_match: /[\r\n]/, cast: { number: (n) => String(n) } },
    ),
    'utf8',
  );

const readAudience = (out: string, runDate: string, scheme: string, segment: string): Promise<Buffer> =>
  readFile(join(out, 'audiences', `run_date=${runDate}`, scheme, `${fileSafeName(segment)}.csv`));

/** Every file of the three segment schemes compared byte for byte; returns how many rows they hold. */
const expectSegmentAudiences = async (out: string, runDate: string, rows: CustomerRow[]): Promise<number> => {
  const sorted = activationSort(rows);
  const schemes = [
    { scheme: 'clv_tier', column: 'clv_tier', names: TIER_ORDER, actions: DEFAULT_ACTIONS.clvTiers },
    { scheme: 'value_loyalty', column: 'value_loyalty', names: VALUE_LOYALTY_CELLS, actions: DEFAULT_ACTIONS.valueLoyalty },
    { scheme: 'rfm', column: 'rfm_segment', names: RFM_SEGMENTS, actions: DEFAULT_ACTIONS.rfm },
  ] as const;
  let compared = 0;
  for (const { scheme, column, names, actions } of schemes) {
    const files = (await readdir(join(out, 'audiences', `run_date=${runDate}`, scheme))).sort();
    expect(files).toEqual(names.map((s) => `${fileSafeName(s)}.csv`).sort());
    for (const segment of names) {
      const members = sorted.filter((r) => r[column] === segment);
      const action = (actions as Readonly<Record<string, readonly string[]>>)[segment]?.[0] ?? '';
      expect((await readAudience(out, runDate, scheme, segment)).equals(expectedFile(segment, members, () => action)), `${scheme}/${segment}`).toBe(true);
      compared += members.length;
    }
  }
  return compared;
};

describe('audience files of two nights of generated orders with awkward customer ids (fits trusted)', () => {
  let out: string;
  let summary: Summary;
  let rows: CustomerRow[];
  beforeAll(async () => {
    const input = await tempDir();
    await genOrders(input, ['--customers', '3000', '--files', '2', '--seed', '18', '--weeks', '60']);
    await writeText(input, 'orders-awkward.csv', awkwardOrders(AWKWARD_IDS, (c) => 1 + (c % 4)));
    out = await tempDir();
    await runLocal([input], out, { asOf: BEFORE });
    summary = (await runLocal([input], out, { asOf: NIGHT })).summary;
    rows = await customersOf(out, NIGHT);
  }, 120_000);

  it('writes every segment audience as csv-stringify writes the same rows from the customers table', async () => {
    expect(summary.models.trusted).toBe(true);
    expect(rows.filter((r) => AWKWARD_IDS.includes(r.customer_id))).toHaveLength(AWKWARD_IDS.length);
    expect(rows.every((r) => r.predicted_clv !== null && r.probability_alive !== null)).toBe(true);

    // every customer is in one audience of each of the three schemes
    expect(await expectSegmentAudiences(out, NIGHT, rows)).toBe(3 * rows.length);
  });

  it('writes every movers audience with its customers\' current tier action (At Risk\'s for became_at_risk)', async () => {
    const movers = await queryDuckDb(`SELECT customer_id, movement FROM read_parquet('${out}/movers/run_date=${NIGHT}/*.parquet')`);
    const byId = new Map(rows.map((r) => [r.customer_id, r]));
    expect(movers.length).toBeGreaterThan(0);
    for (const movement of MOVEMENTS) {
      const moved = movers.filter((m) => m.movement === movement).map((m) => byId.get(String(m.customer_id))!);
      const actionOf = (r: CustomerRow) =>
        (movement === 'became_at_risk' ? DEFAULT_ACTIONS.rfm[AT_RISK_SEGMENT] : DEFAULT_ACTIONS.clvTiers[r.clv_tier as 'high' | 'mid' | 'low'])[0] ?? '';
      expect((await readAudience(out, NIGHT, 'movers', movement)).equals(expectedFile(movement, activationSort(moved), actionOf)), movement).toBe(true);
    }
  });

  it('keeps an id\'s line breaks inside quotes, so a reader splitting records on any line break reads every id back', async () => {
    const text = (await readAudience(out, NIGHT, 'clv_tier', 'high')).toString('utf8') + (await readAudience(out, NIGHT, 'clv_tier', 'mid')).toString('utf8') + (await readAudience(out, NIGHT, 'clv_tier', 'low')).toString('utf8');
    const ids = (parse(text, { record_delimiter: ['\r\n', '\n', '\r'] }) as string[][]).map((r) => r[0]!).filter((id) => id !== 'customer_id');
    expect(ids.filter((id) => AWKWARD_IDS.includes(id)).sort()).toEqual([...AWKWARD_IDS].sort());
    expect(ids).toHaveLength(rows.length);
  });
});

describe('audience files of a night whose spend model cannot be trusted (generated orders, every amount 10.00)', () => {
  it('leaves predicted_clv empty and keeps probability_alive, ranked on historical CLV', async () => {
    const generated = await tempDir();
    await genOrders(generated, ['--customers', '2000', '--files', '1', '--seed', '7', '--weeks', '60', '--non-purchase', '0']);
    const input = await tempDir();
    for (const name of (await readdir(generated)).filter((f) => f.endsWith('.csv'))) {
      const [header, ...records] = parse(await readFile(join(generated, name))) as string[][];
      const amount = header!.indexOf('amount');
      await writeText(input, name, stringify([header!, ...records.map((r) => r.map((v, k) => (k === amount ? '10.00' : v)))]));
    }
    await writeText(input, 'orders-awkward.csv', awkwardOrders(AWKWARD_IDS, (c) => 1 + (c % 4)).replace(/,\d+\.25,/g, ',10.00,'));
    const out = await tempDir();

    const { summary } = await runLocal([input], out, { asOf: NIGHT });

    const rows = await customersOf(out, NIGHT);
    expect(summary.models.gamma_gamma.convergence.converged).toBe(false);
    expect(rows.every((r) => r.predicted_clv === null && r.probability_alive !== null)).toBe(true);
    expect(await expectSegmentAudiences(out, NIGHT, rows)).toBe(rows.filter((r) => r.value_loyalty !== null).length + rows.length + rows.filter((r) => r.rfm_segment !== null).length);
  }, 120_000);
});

describe('audience files of a night whose purchase model cannot be trusted (eleven one-time buyers, awkward ids)', () => {
  it('leaves both predictions empty, ranked on historical CLV', async () => {
    const input = await tempDir();
    await writeText(input, 'orders.csv', awkwardOrders(AWKWARD_IDS, () => 1));
    const out = await tempDir();

    const { summary } = await runLocal([input], out, { asOf: NIGHT });

    const rows = await customersOf(out, NIGHT);
    expect(summary.models.trusted).toBe(false);
    expect(rows).toHaveLength(AWKWARD_IDS.length);
    expect(rows.every((r) => r.predicted_clv === null && r.probability_alive === null)).toBe(true);
    expect(await expectSegmentAudiences(out, NIGHT, rows)).toBe(rows.filter((r) => r.value_loyalty !== null).length + rows.length + rows.filter((r) => r.rfm_segment !== null).length);
  }, 60_000);
});

/** Every CSV under the run date's audiences, as its path and SHA-256, in name order. */
const audienceDigests = async (out: string, runDate: string): Promise<string[]> => {
  const root = join(out, 'audiences', `run_date=${runDate}`);
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.csv')).sort();
  return Promise.all(files.map(async (f) => `${f} ${createHash('sha256').update(await readFile(join(root, f))).digest('hex')}`));
};

/** `store`, whose runs fail as they are staged: after the model stage and the segments, before the audiences' chunks. */
const failingStage = (store: OutputStore): OutputStore =>
  new Proxy(store, {
    get: (target, key) => {
      if (key === 'stage') return () => Promise.reject(new Error('disk full'));
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('audience files of a run after a failed one, by the audience worker a warm Lambda container keeps', () => {
  it('closes the failed run\'s job, and builds the next run\'s files byte for byte as this thread builds them', async () => {
    // Prepare: one builder for both runs, on a worker, each job's closing seen
    const builder = new WorkerAudiences({ script: pathToFileURL(await bundleChild('test/support/audience-worker-child.ts')) });
    const closed: boolean[] = [];
    const seen: AudienceCsvBuilder = {
      start: (scores) => {
        const job = builder.start(scores);
        const k = closed.push(false) - 1;
        return { chunks: (rows) => job.chunks(rows), close: async () => void ((closed[k] = true), await job.close()) };
      },
    };
    const out = await tempDir();
    await expect(runLocal([sampleData], out, { asOf: NIGHT }, { audiences: seen, store: failingStage })).rejects.toThrow('disk full');
    const failedRunClosed = [...closed];
    const inThisThread = await tempDir();
    await runLocal([sampleData], inThisThread, { asOf: BEFORE });

    // Act: another night, other customers' scores
    await runLocal([sampleData], out, { asOf: BEFORE }, { audiences: seen });

    // Assess
    expect(builder.onWorker).toBe(true);
    expect(failedRunClosed).toEqual([true]);
    const expected = await audienceDigests(inThisThread, BEFORE);
    expect(expected.length).toBeGreaterThan(10);
    expect(await audienceDigests(out, BEFORE)).toEqual(expected);
  }, 120_000);
});
