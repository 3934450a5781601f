import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import {
  compressBgNbdData,
  conditionalExpectedPurchases,
  fitBgNbd,
  probabilityAlive,
  type BgNbdFit,
  type BgNbdParams,
} from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import {
  conditionalExpectedOrderValue,
  fitGammaGamma,
  type GammaGammaFit,
  type GammaGammaParams,
} from '../../../lambdas/clv-job/domain/models/gamma-gamma.js';
import { repoRoot } from '../../support/files.js';
import { describeWith } from '../../support/services.js';
import { seededUniform, simulateCustomers } from '../../support/simulate.js';
import { inUnits, loadCdnowSummary } from './cdnow-data.js';

/**
 * The models against a peer that has never seen our code: lifetimes 0.11.3 fits the same customers
 * (five simulations from known parameters, and CDNOW in weeks). Our estimate must match its
 * (1e-4 relative) or reach a log-likelihood at least as high by lifetimes' own likelihood function
 * (its optimiser may stop earlier); at lifetimes' parameters, our per-customer predictions must
 * equal its to 1e-6.
 */
interface Customers {
  readonly name: string;
  readonly x: Float64Array;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  readonly mx: Float64Array;
}

interface PeerModel<P> {
  readonly params: P | null;
  readonly error?: string;
  /** scipy's message where lifetimes' optimiser stopped without success (params: where it stopped). */
  readonly stopped?: string | null;
  readonly log_likelihood: number;
  readonly log_likelihood_at_ours: number;
}
interface PeerResult {
  readonly name: string;
  readonly bgnbd: PeerModel<BgNbdParams> & { readonly expected: (number | null)[]; readonly p_alive: (number | null)[] };
  readonly gamma_gamma: PeerModel<GammaGammaParams> & { readonly expected_spend: (number | null)[] };
}

/** Conditional expectations over the next 39 periods, as the CDNOW holdout. */
const HORIZON = 39;

const simulation = (name: string, seed: number, params: BgNbdParams, spend: GammaGammaParams): Customers => {
  const u = seededUniform(seed);
  return { name, ...simulateCustomers(u, params, { customers: 3000, tenure: (v) => 20 + 58 * v(), spend }) };
};

const cdnow = loadCdnowSummary();
const DATASETS: readonly Customers[] = [
  simulation('CDNOW-like', 101, { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 }, { p: 6.25, q: 3.74, gamma: 15.44 }),
  simulation('a + b < 1', 102, { r: 0.5, alpha: 3, a: 0.3, b: 0.5 }, { p: 4, q: 5, gamma: 20 }),
  simulation('heavy buyers', 103, { r: 4, alpha: 2, a: 0.2, b: 6 }, { p: 3, q: 8, gamma: 60 }),
  simulation('rare buyers, quick dropout', 104, { r: 0.1, alpha: 8, a: 2, b: 1.5 }, { p: 2, q: 3, gamma: 10 }),
  // spend hardly varies across customers: the Gamma-Gamma likelihood is flat along q and γ
  simulation('a flat spend likelihood', 105, { r: 0.8, alpha: 5, a: 0.6, b: 3 }, { p: 40, q: 1500, gamma: 900 }),
  { name: 'CDNOW (weeks)', x: cdnow.x, tx: inUnits(cdnow.txDays, 7), T: inUnits(cdnow.TDays, 7), mx: cdnow.mx },
];

const relative = (ours: number, theirs: number): number => Math.abs(ours - theirs) / Math.abs(theirs);

const fitOurs = (c: Customers): { bgnbd: BgNbdFit; gammaGamma: GammaGammaFit } => {
  const repeat = [...c.x.keys()].filter((i) => c.x[i]! > 0 && c.mx[i]! > 0);
  return {
    bgnbd: fitBgNbd(compressBgNbdData(c.x, c.tx, c.T)),
    gammaGamma: fitGammaGamma({
      x: Float64Array.from(repeat, (i) => c.x[i]!),
      mx: Float64Array.from(repeat, (i) => c.mx[i]!),
      weight: new Float64Array(repeat.length).fill(1),
    }),
  };
};

describeWith('lifetimes', 'the models against lifetimes (BetaGeoFitter, GammaGammaFitter) on the same customers', () => {
  const ours = new Map<string, ReturnType<typeof fitOurs>>();
  const peer = new Map<string, PeerResult>();

  beforeAll(() => {
    for (const c of DATASETS) ours.set(c.name, fitOurs(c));
    const request = {
      datasets: DATASETS.map((c) => ({
        name: c.name,
        x: [...c.x],
        tx: [...c.tx],
        T: [...c.T],
        mx: [...c.mx],
        t: HORIZON,
        ours: { bgnbd: ours.get(c.name)!.bgnbd.params, gamma_gamma: ours.get(c.name)!.gammaGamma.params },
      })),
    };
    const python = process.env.MOTO_PYTHON ?? 'python3';
    const run = spawnSync(python, [join(repoRoot, 'test', 'support', 'lifetimes_peer.py')], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 28 });
    if (run.status !== 0) throw new Error(`lifetimes_peer.py failed: ${run.stderr}`);
    for (const result of (JSON.parse(run.stdout) as { datasets: PeerResult[] }).datasets) peer.set(result.name, result);
  }, 120_000);

  it.each(DATASETS.map((c) => c.name))('BG/NBD on %s: our estimate equals lifetimes\' or has a log-likelihood at least as high', (name) => {
    const fit = ours.get(name)!.bgnbd;
    const theirs = peer.get(name)!.bgnbd;

    expect(fit.diagnostics.converged).toBe(true);
    const same = theirs.params !== null && (['r', 'alpha', 'a', 'b'] as const).every((k) => relative(fit.params[k], theirs.params![k]) <= 1e-4);
    if (!same) expect(theirs.log_likelihood_at_ours).toBeGreaterThanOrEqual(theirs.params === null ? -Infinity : theirs.log_likelihood);
    expect(Number.isFinite(theirs.log_likelihood_at_ours)).toBe(true);
  });

  it.each(DATASETS.map((c) => c.name))('Gamma-Gamma on %s: our estimate equals lifetimes\' or has a log-likelihood at least as high', (name) => {
    const fit = ours.get(name)!.gammaGamma;
    const theirs = peer.get(name)!.gamma_gamma;

    const same = theirs.params !== null && (['p', 'q', 'gamma'] as const).every((k) => relative(fit.params[k], theirs.params![k]) <= 1e-4);
    if (!same) expect(theirs.log_likelihood_at_ours).toBeGreaterThanOrEqual(theirs.params === null ? -Infinity : theirs.log_likelihood);
    expect(Number.isFinite(theirs.log_likelihood_at_ours)).toBe(true);
  });

  it.each(DATASETS.map((c) => c.name))(
    "at lifetimes' parameters on %s, every customer's expected purchases and P(alive) equal its to 1e-6 (ours finite where its overflow to NaN)",
    (name) => {
      const c = DATASETS.find((d) => d.name === name)!;
      const theirs = peer.get(name)!.bgnbd;
      if (theirs.params === null) throw new Error(`lifetimes could not fit ${name}: ${theirs.error}`);

      let worstExpected = 0;
      let worstAlive = 0;
      let compared = 0;
      for (let i = 0; i < c.x.length; i++) {
        const expected = conditionalExpectedPurchases(theirs.params, HORIZON, c.x[i]!, c.tx[i]!, c.T[i]!);
        const alive = probabilityAlive(theirs.params, c.x[i]!, c.tx[i]!, c.T[i]!);
        expect(Number.isFinite(expected) && alive >= 0 && alive <= 1).toBe(true);
        const [e, p] = [theirs.expected[i], theirs.p_alive[i]];
        if (e === null || p === null || e === undefined || p === undefined) continue;
        compared += 1;
        worstExpected = Math.max(worstExpected, Math.abs(expected - e) / Math.max(1, e));
        worstAlive = Math.max(worstAlive, Math.abs(alive - p));
      }

      expect(theirs.expected).toHaveLength(c.x.length);
      // lifetimes' 2F1 overflows to NaN for many customers when a + b < 1; ours stays finite (above)
      expect(compared).toBeGreaterThan(c.x.length / 2);
      expect(worstExpected).toBeLessThanOrEqual(1e-6);
      expect(worstAlive).toBeLessThanOrEqual(1e-6);
    },
  );

  it.each(DATASETS.map((c) => c.name))('at lifetimes\' parameters on %s, every repeat buyer\'s expected spend equals its to 1e-6 (relative)', (name) => {
    const c = DATASETS.find((d) => d.name === name)!;
    const theirs = peer.get(name)!.gamma_gamma;
    if (theirs.params === null) throw new Error(`lifetimes could not fit ${name}: ${theirs.error}`);
    const repeat = [...c.x.keys()].filter((i) => c.x[i]! > 0 && c.mx[i]! > 0);

    const worst = repeat.reduce((w, i, k) => {
      const spend = theirs.expected_spend[k];
      if (spend === null || spend === undefined) throw new Error(`lifetimes' expected spend of customer ${i} is not finite`);
      return Math.max(w, relative(conditionalExpectedOrderValue(theirs.params!, c.x[i]!, c.mx[i]!), spend));
    }, 0);

    expect(theirs.expected_spend).toHaveLength(repeat.length);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});
