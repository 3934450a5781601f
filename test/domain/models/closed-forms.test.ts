/**
 * Every closed form of the three models against a 40-digit reference, over the whole parameter
 * range the fitters accept: a fit is trusted only while each scaled log-parameter is within ±18
 * (LOG_PARAM_LIMIT of bg-nbd.ts, pareto-nbd.ts and gamma-gamma.ts; α and β are scaled by the
 * longest tenure, γ by the mean spend), so r, a, b, s, p, q range over e^±18 ≈ [1.5e−8, 6.6e7].
 *
 * The reference (test/fixtures/closed-forms/mpmath_reference.py) integrates the mixtures the closed
 * forms come from; it shares no formula manipulation with our code. Two parts:
 * - a fixed table of its values (reference-table.json, from make_table.py) that runs with Node alone;
 * - fast-check draws with a pinned seed, sent to the script (service `mpmath`).
 *
 * Tolerance: TOLERANCE = 1e−9 relative, for values and for logs (|Δ ln L| ≤ 1e−9 max(1, |ln L|),
 * i.e. L to 1e−9 relative where ln L is of order 1). The inputs are doubles taken as exact; a
 * well-conditioned evaluation in doubles is good to ~1e−13, and the fits need the likelihood to
 * ~1e−10 relative to stop on a gradient of 1e−9, so 1e−9 leaves room for the conditioning of the
 * formulas (e.g. (r + x) ln(1 + T/α) with r + x up to 1e8) without hiding a lost digit of a
 * well-conditioned one. Exceptions, each with its reason, are in {@link TOLERANCES}.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as bg from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import * as gg from '../../../lambdas/clv-job/domain/models/gamma-gamma.js';
import * as pnbd from '../../../lambdas/clv-job/domain/models/pareto-nbd.js';
import { repoRoot } from '../../support/files.js';
import { describeWith } from '../../support/services.js';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'closed-forms');
const TOLERANCE = 1e-9;

/** The closed forms, by the reference script's names; arguments in the reference's order. */
const OURS = {
  bgnbd_loglik: (r, alpha, a, b, x, tx, T) => bg.bgnbdLogLikelihood({ r, alpha, a, b }, one(x, tx, T)),
  bgnbd_loglik_fit: (r, alpha, a, b, x, tx, T) => bg.bgnbdLogLikelihoodWithGradient({ r, alpha, a, b }, one(x, tx, T)).value,
  bgnbd_p_alive: (r, alpha, a, b, x, tx, T) => bg.probabilityAlive({ r, alpha, a, b }, x, tx, T),
  bgnbd_expected_new: (r, alpha, a, b, t) => bg.expectedPurchasesNewCustomer({ r, alpha, a, b }, t),
  bgnbd_expected_conditional: (r, alpha, a, b, t, x, tx, T) => bg.conditionalExpectedPurchases({ r, alpha, a, b }, t, x, tx, T),
  bgnbd_expected_conditional_grid: (r, alpha, a, b, t, x, tx, T) => {
    const out = new Float64Array(1);
    bg.makeExpectedPurchasesIfAliveOnGrid({ r, alpha, a, b }, [t])(x, T, out);
    return bg.probabilityAlive({ r, alpha, a, b }, x, tx, T) * out[0]!;
  },
  gg_log_density: (p, q, gamma, x, mx) => gg.gammaGammaLogLikelihood({ p, q, gamma }, { x: Float64Array.of(x), mx: Float64Array.of(mx), weight: Float64Array.of(1) }),
  gg_log_density_fit: (p, q, gamma, x, mx) =>
    gg.gammaGammaLogLikelihoodWithGradient({ p, q, gamma }, { x: Float64Array.of(x), mx: Float64Array.of(mx), weight: Float64Array.of(1) }).value,
  gg_expected_value: (p, q, gamma, x, mx) => gg.conditionalExpectedOrderValue({ p, q, gamma }, x, mx),
  pnbd_loglik: (r, alpha, s, beta, x, tx, T) => pnbd.paretoNbdLogLikelihood({ r, alpha, s, beta }, one(x, tx, T)),
  pnbd_p_alive: (r, alpha, s, beta, x, tx, T) => pnbd.probabilityAlive({ r, alpha, s, beta }, x, tx, T),
  pnbd_expected_new: (r, alpha, s, beta, t) => pnbd.expectedPurchasesNewCustomer({ r, alpha, s, beta }, t),
  pnbd_expected_conditional: (r, alpha, s, beta, t, x, tx, T) => pnbd.conditionalExpectedPurchases({ r, alpha, s, beta }, t, x, tx, T),
  pnbd_p_purchases: (r, alpha, s, beta, t, n) => pnbd.probabilityOfPurchases({ r, alpha, s, beta }, t, n),
} satisfies Record<string, (...args: number[]) => number>;
type Name = keyof typeof OURS;

/** The reference script's function for each of ours (the fit's paths have the same reference). */
const REFERENCE_OF: Record<Name, string> = {
  ...(Object.fromEntries(Object.keys(OURS).map((k) => [k, k])) as Record<Name, string>),
  bgnbd_loglik_fit: 'bgnbd_loglik',
  bgnbd_expected_conditional_grid: 'bgnbd_expected_conditional',
  gg_log_density_fit: 'gg_log_density',
};
const LOGS = new Set<Name>(['bgnbd_loglik', 'bgnbd_loglik_fit', 'gg_log_density', 'gg_log_density_fit', 'pnbd_loglik']);

/**
 * Where a closed form is held to another bound than {@link TOLERANCE}: regimes whose evaluation is
 * known to miss it (open work of issue 13). Their errors are still measured and printed, so a fix
 * shows in the report, and every value must still be finite and in its range.
 */
interface KnownGap {
  readonly names: readonly Name[];
  readonly where: (args: readonly number[]) => boolean;
  readonly bound: number;
  readonly reason: string;
}
const KNOWN_GAPS: readonly KnownGap[] = [
  {
    names: ['pnbd_p_alive', 'pnbd_expected_conditional'],
    where: (args) => {
      // (r, α, s, β, [t,] x, tx, T): the conditional expectation has the window t before the customer
      const [r, alpha, s, beta] = args as number[];
      const [x, tx] = args.slice(args.length === 8 ? 5 : 4) as number[];
      const small = Math.min(alpha!, beta!);
      const big = Math.max(alpha!, beta!);
      // the exponent k of the series' decay ~ n^−(k+1) near z = 1, (r + x − 1) or s: below ~10 it is continued
      return (alpha! < beta! ? r! + x! : s!) > 1e6 || ((small + tx!) / (big + tx!) < 1e-6 && (alpha! < beta! ? r! + x! - 1 : s!) < 10);
    },
    bound: 1e-8,
    reason:
      'P(alive) with r + x (alpha < beta) or s (alpha >= beta) above 1e6, which multiplies the rounding of ln((min(alpha, beta) + T)/(max(alpha, beta) + T)), or with the hypergeometric argument within 1e-6 of 1 and a slowly converging series (decay exponent r + x - 1 or s below 10), which log2F1 continues along the differential equation: measured up to 4.4e-9 over 400 draws',
  },
];
const boundOf = (point: Point): { bound: number; gap: KnownGap | null } => {
  const gap = KNOWN_GAPS.find((g) => g.names.includes(point.name) && g.where(point.args)) ?? null;
  return { bound: gap?.bound ?? TOLERANCE, gap };
};
/** What every value must be, gap or not: finite, and a probability in [0, 1], an expectation >= 0. */
const inRange = (point: Point): boolean => {
  const value = (OURS[point.name] as (...args: number[]) => number)(...point.args);
  if (LOGS.has(point.name)) return value <= 0 || point.name.startsWith('gg') ? Number.isFinite(value) : Number.isFinite(value);
  if (point.name.includes('p_alive') || point.name === 'pnbd_p_purchases') return value >= 0 && value <= 1;
  return Number.isFinite(value) && value >= 0;
};

const one = (x: number, tx: number, T: number): bg.BgNbdData => ({ x: Float64Array.of(x), tx: Float64Array.of(tx), T: Float64Array.of(T), weight: Float64Array.of(1) });

interface Point {
  readonly name: Name;
  readonly args: readonly number[];
}

/** Our error: relative, or for logs |Δ| / max(1, |ref|). A reference below the double range asks for a result below 1e−300. */
const errorOf = (point: Point, reference: string): number => {
  const ours = (OURS[point.name] as (...args: number[]) => number)(...point.args);
  const ref = reference === '-inf' ? Number.NEGATIVE_INFINITY : Number(reference);
  if (!Number.isFinite(ours)) return ours === ref ? 0 : Number.POSITIVE_INFINITY;
  if (LOGS.has(point.name)) return Math.abs(ours - ref) / Math.max(1, Math.abs(ref));
  if (Math.abs(ref) < 1e-300) return Math.abs(ours) <= 1e-300 ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(ours - ref) / Math.abs(ref);
};

// ---------------------------------------------------------------------------------------------
// The draws: the fitters' whole range
// ---------------------------------------------------------------------------------------------

const LIMIT = 18;
/** e^θ for θ uniform in ±18, the range of a trusted fit's (scaled) log-parameter. */
const logParam = fc.oneof(fc.noBias(fc.double({ min: -LIMIT, max: LIMIT, noNaN: true })), fc.double({ min: -LIMIT, max: LIMIT, noNaN: true })).map(Math.exp);
/** The longest tenure, the fit's time scale: up to 5,000 (weeks: a century; days: 14 years). */
const timeScale = fc.double({ min: 0, max: Math.log(5000), noNaN: true }).map(Math.exp);
const share = fc.oneof(fc.noBias(fc.double({ min: 0, max: 1, noNaN: true })), fc.double({ min: 0, max: 1, noNaN: true }));
/** Repeat purchases: mostly few, up to 5,000. */
const frequency = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 5000 }));

/** A customer at a scale S: (x, t_x, T) with 0 < T ≤ S, t_x = 0 when x = 0, and a window t up to 10 S. */
const customer = timeScale.chain((S) =>
  fc.record({ S: fc.constant(S), x: frequency, u: share, v: share, w: fc.double({ min: -3, max: 1, noNaN: true }) }).map(({ S, x, u, v, w }) => {
    const T = Math.max(S * u, 1e-3);
    return { S, x, tx: x === 0 ? 0 : T * v, T, t: S * 10 ** w };
  }),
);
const transactionParams = fc.record({ p1: logParam, p2: logParam, p3: logParam, p4: logParam });

const bgPoints: fc.Arbitrary<Point[]> = fc.tuple(transactionParams, customer).map(([{ p1: r, p2: alphaScaled, p3: a, p4: b }, c]) => {
  const alpha = alphaScaled * c.S;
  return [
    { name: 'bgnbd_loglik', args: [r, alpha, a, b, c.x, c.tx, c.T] },
    { name: 'bgnbd_loglik_fit', args: [r, alpha, a, b, c.x, c.tx, c.T] },
    { name: 'bgnbd_p_alive', args: [r, alpha, a, b, c.x, c.tx, c.T] },
    { name: 'bgnbd_expected_new', args: [r, alpha, a, b, c.t] },
    { name: 'bgnbd_expected_conditional', args: [r, alpha, a, b, c.t, c.x, c.tx, c.T] },
    { name: 'bgnbd_expected_conditional_grid', args: [r, alpha, a, b, c.t, c.x, c.tx, c.T] },
  ];
});

const pnbdPoints: fc.Arbitrary<Point[]> = fc
  .tuple(transactionParams, customer, fc.integer({ min: 0, max: 30 }))
  .map(([{ p1: r, p2: alphaScaled, p3: s, p4: betaScaled }, c, n]) => {
    const alpha = alphaScaled * c.S;
    const beta = betaScaled * c.S;
    return [
      { name: 'pnbd_loglik', args: [r, alpha, s, beta, c.x, c.tx, c.T] },
      { name: 'pnbd_p_alive', args: [r, alpha, s, beta, c.x, c.tx, c.T] },
      { name: 'pnbd_expected_new', args: [r, alpha, s, beta, c.t] },
      { name: 'pnbd_expected_conditional', args: [r, alpha, s, beta, c.t, c.x, c.tx, c.T] },
      { name: 'pnbd_p_purchases', args: [r, alpha, s, beta, c.t, n] },
    ];
  });

/** Gamma-Gamma: q > 1 (a fit with q ≤ 1 is untrusted), γ scaled by the mean spend M, m_x up to 1e9 (validation.maxAmount). */
const ggPoints: fc.Arbitrary<Point[]> = fc
  .record({
    p: logParam,
    q: fc.double({ min: 0, max: LIMIT, noNaN: true, minExcluded: true }).map(Math.exp),
    gammaScaled: logParam,
    M: fc.double({ min: Math.log(0.01), max: Math.log(1e9), noNaN: true }).map(Math.exp),
    x: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 5000 })),
    spread: fc.double({ min: -6, max: 6, noNaN: true }),
  })
  .map(({ p, q, gammaScaled, M, x, spread }) => {
    const mx = Math.min(M * 10 ** spread, 1e9);
    return [
      { name: 'gg_log_density', args: [p, q, gammaScaled * M, x, mx] },
      { name: 'gg_log_density_fit', args: [p, q, gammaScaled * M, x, mx] },
      { name: 'gg_expected_value', args: [p, q, gammaScaled * M, x, mx] },
    ];
  });

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

interface Worst {
  error: number;
  point: Point | null;
  count: number;
  /** Max error outside the known gaps: what TOLERANCE holds. */
  held: number;
}

/** Errors per closed form, the worst point of each, and every point over its tolerance. */
const check = (points: readonly Point[], references: readonly string[]) => {
  const worst = new Map<Name, Worst>();
  const failures: string[] = [];
  const gapsSeen = new Set<string>();
  points.forEach((point, i) => {
    const error = errorOf(point, references[i]!);
    const { bound, gap } = boundOf(point);
    const entry = worst.get(point.name) ?? { error: 0, point: null, count: 0, held: 0 };
    entry.count++;
    if (!(error <= entry.error)) Object.assign(entry, { error, point });
    if (gap === null && !(error <= entry.held)) entry.held = error;
    else if (gap !== null) gapsSeen.add(gap.reason);
    worst.set(point.name, entry);
    if (!(error <= bound)) failures.push(`${point.name}(${point.args.join(', ')}): error ${error.toExponential(2)}, reference ${references[i]}`);
    if (!inRange(point)) failures.push(`${point.name}(${point.args.join(', ')}): out of range`);
  });
  const report = [
    ...[...worst].map(([name, w]) => `${name}: ${w.count} points, max error ${w.error.toExponential(2)} (outside known gaps ${w.held.toExponential(2)})${w.point ? ` at (${w.point.args.join(', ')})` : ''}`),
    ...[...gapsSeen].map((reason) => `known gap: ${reason}`),
  ];
  return { failures, report };
};

interface TableRow {
  readonly name: Name;
  readonly args: number[];
  readonly value: string;
}

describe('closed forms against the fixed mpmath table (Node only)', () => {
  const table = JSON.parse(readFileSync(join(FIXTURES, 'reference-table.json'), 'utf8')) as { rows: TableRow[] };
  const rows = table.rows.flatMap((row) => [
    row,
    ...(Object.entries(REFERENCE_OF) as [Name, string][]).filter(([ours, ref]) => ref === row.name && ours !== row.name).map(([ours]) => ({ ...row, name: ours })),
  ]);

  it('holds every closed form to its tolerance at every row of the table', () => {
    // Act
    const { failures, report } = check(
      rows.map((r) => ({ name: r.name, args: r.args })),
      rows.map((r) => r.value),
    );
    // Assess
    console.info(`closed forms vs reference-table.json:\n  ${report.join('\n  ')}`);
    expect(failures).toEqual([]);
    expect(new Set(rows.map((r) => r.name))).toEqual(new Set(Object.keys(OURS)));
  });
});

describe('invariants over the fitters\' range (Node only)', () => {
  const MONOTONE_SEED = 20_261_201;
  /** Windows t < t' at the customer's scale, the later one up to 10 S. */
  const windows = customer.chain((c) => fc.double({ min: 0, max: 1, noNaN: true }).map((f) => ({ ...c, earlier: c.t * f })));

  it('BG/NBD: E[X(t)] and E[X(t) | x, t_x, T] are finite and non-decreasing in t, P(alive) is in [0, 1]', () => {
    fc.assert(
      fc.property(transactionParams, windows, ({ p1: r, p2: alphaScaled, p3: a, p4: b }, c) => {
        const params = { r, alpha: alphaScaled * c.S, a, b };
        const alive = bg.probabilityAlive(params, c.x, c.tx, c.T);
        const late = bg.expectedPurchasesNewCustomer(params, c.t);
        const early = bg.expectedPurchasesNewCustomer(params, c.earlier);
        const lateConditional = bg.conditionalExpectedPurchases(params, c.t, c.x, c.tx, c.T);
        const earlyConditional = bg.conditionalExpectedPurchases(params, c.earlier, c.x, c.tx, c.T);
        expect(alive).toBeGreaterThanOrEqual(0);
        expect(alive).toBeLessThanOrEqual(1);
        expect(Number.isFinite(late) && Number.isFinite(lateConditional)).toBe(true);
        // rounding may reverse two equal values by an ulp or so
        expect(early).toBeLessThanOrEqual(late * (1 + 1e-12));
        expect(earlyConditional).toBeLessThanOrEqual(lateConditional * (1 + 1e-12));
      }),
      { seed: MONOTONE_SEED, numRuns: 300 },
    );
  });

  it('BG/NBD at a = 1 exactly: E[X(t)] is non-decreasing over a fine grid of t', () => {
    for (const b of [0.5, 2.4, 7668]) {
      const params = { r: 0.2426, alpha: 4.4136, a: 1, b };
      let previous = 0;
      for (let t = 0.5; t <= 200; t += 0.5) {
        const value = bg.expectedPurchasesNewCustomer(params, t);
        expect(value, `b = ${b}, t = ${t}`).toBeGreaterThanOrEqual(previous);
        previous = value;
      }
    }
  });

  it('Pareto/NBD: E[X(t)] and E[X(t) | x, t_x, T] are non-decreasing in t, P(alive) is in [0, 1]', () => {
    fc.assert(
      fc.property(transactionParams, windows, ({ p1: r, p2: alphaScaled, p3: s, p4: betaScaled }, c) => {
        const params = { r, alpha: alphaScaled * c.S, s, beta: betaScaled * c.S };
        const alive = pnbd.probabilityAlive(params, c.x, c.tx, c.T);
        expect(alive).toBeGreaterThanOrEqual(0);
        expect(alive).toBeLessThanOrEqual(1);
        expect(pnbd.expectedPurchasesNewCustomer(params, c.earlier)).toBeLessThanOrEqual(pnbd.expectedPurchasesNewCustomer(params, c.t) * (1 + 1e-12));
        expect(pnbd.conditionalExpectedPurchases(params, c.earlier, c.x, c.tx, c.T)).toBeLessThanOrEqual(
          pnbd.conditionalExpectedPurchases(params, c.t, c.x, c.tx, c.T) * (1 + 1e-12),
        );
      }),
      { seed: MONOTONE_SEED, numRuns: 100 },
    );
  });
});

/** Seed of the draws: pinned, and printed with the results so a failure can be replayed. */
const SEED = 20_261_130;
const DRAWS = Number(process.env.CLV_CLOSED_FORM_DRAWS ?? 12);

describeWith('mpmath', 'closed forms against mpmath at 40 digits, fast-check draws over the fitters\' range', () => {
  it.each([
    ['BG/NBD', bgPoints],
    ['Pareto/NBD', pnbdPoints],
    ['Gamma-Gamma', ggPoints],
  ] as const)('%s: every closed form to its tolerance', (_model, arbitrary) => {
    // Arrange
    const points = fc.sample(arbitrary, { seed: SEED, numRuns: DRAWS }).flat();
    // Act
    const script = spawnSync(process.env.MOTO_PYTHON ?? 'python3', [join(FIXTURES, 'mpmath_reference.py')], {
      input: JSON.stringify(points.map((p) => [REFERENCE_OF[p.name], p.args])),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (script.status !== 0) throw new Error(`mpmath_reference.py failed: ${script.stderr}`);
    const { failures, report } = check(points, JSON.parse(script.stdout) as string[]);
    // Assess
    console.info(`closed forms vs mpmath, seed ${SEED}, ${DRAWS} draws:\n  ${report.join('\n  ')}`);
    expect(failures).toEqual([]);
  }, 600_000);
});
