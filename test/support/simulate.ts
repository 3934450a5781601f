/**
 * Seeded simulation of customers from the BG/NBD purchase process and the Gamma-Gamma spend
 * model, for parameter-recovery tests and benchmarks. The generator is passed in, so every test
 * that simulates is reproducible.
 */
import type { BgNbdParams } from '../../lambdas/clv-job/domain/models/bg-nbd.js';
import type { GammaGammaParams } from '../../lambdas/clv-job/domain/models/gamma-gamma.js';
import type { ParetoNbdParams } from '../../lambdas/clv-job/domain/models/pareto-nbd.js';
import { compressBgNbdData } from '../../lambdas/clv-job/domain/models/bg-nbd.js';
import { normal, seededUniform, type Uniform } from '../../lambdas/clv-job/domain/math/random.js';

export { normal, seededUniform, type Uniform } from '../../lambdas/clv-job/domain/math/random.js';

/**
 * Gamma(shape, rate) by Marsaglia & Tsang (2000), "A simple method for generating gamma variables";
 * shapes below 1 use Gamma(shape + 1) · U^(1/shape).
 */
export const gamma = (u: Uniform, shape: number, rate: number): number => {
  if (shape < 1) return gamma(u, shape + 1, rate) * u() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (w < 1 - 0.0331 * x * x * x * x || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
  }
};

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export const beta = (u: Uniform, a: number, b: number): number => {
  for (;;) {
    const x = gamma(u, a, 1);
    const y = gamma(u, b, 1);
    if (x + y > 0) return x / (x + y);
  }
};

export interface SimulatedCustomers {
  /** Repeat purchases in (0, T]. */
  readonly x: Float64Array;
  /** Time of the last repeat purchase (0 when x = 0). */
  readonly tx: Float64Array;
  readonly T: Float64Array;
  /** Mean value of the repeat purchases (0 when x = 0). */
  readonly mx: Float64Array;
  /** Repeat purchases in (T, T + holdout], when a holdout was asked for. */
  readonly holdout: Float64Array;
}

export interface SimulationOptions {
  readonly customers: number;
  /** Each customer's tenure T. */
  readonly tenure: (u: Uniform) => number;
  /** Length of a holdout period after T. @default 0 */
  readonly holdout?: number;
  /** Spend model; without it mx is 0. */
  readonly spend?: GammaGammaParams;
}

/** One customer's latent traits: purchase rate λ (per time unit), dropout probability p, spend rate ν. */
export interface CustomerTraits {
  readonly lambda: number;
  readonly p: number;
  /** 0 when no spend model was given. */
  readonly nu: number;
}

/**
 * Draws one customer's BG/NBD traits, in this order: λ ~ Gamma(r, α), p ~ Beta(a, b), then
 * ν ~ Gamma(q, γ) when `spend` is given (FHL 2005 §2; Fader & Hardie 2013).
 */
export const drawTraits = (u: Uniform, params: BgNbdParams, spend?: GammaGammaParams): CustomerTraits => {
  const lambda = gamma(u, params.r, params.alpha);
  const p = beta(u, params.a, params.b);
  const nu = spend === undefined ? 0 : gamma(u, spend.q, spend.gamma);
  return { lambda, p, nu };
};

/**
 * The BG/NBD purchase process after a first purchase at 0: repeat purchases arrive as a Poisson
 * process with rate `lambda` while the customer is alive, and after each one the customer drops out
 * with probability `p`. Calls `onPurchase(t)` for each repeat purchase at time t in (0, until], in
 * order; the callback may draw from `u` too (it runs before the dropout draw).
 */
export const forEachRepeatPurchase = (u: Uniform, lambda: number, p: number, until: number, onPurchase: (t: number) => void): void => {
  let t = 0;
  for (;;) {
    t += -Math.log(u()) / lambda;
    if (t > until) return;
    onPurchase(t);
    if (u() < p) return;
  }
};

/**
 * Customers from the BG/NBD story (FHL 2005 §2): λ ~ Gamma(r, α), p ~ Beta(a, b); purchases arrive
 * as a Poisson process with rate λ from the first purchase at 0, and after each repeat purchase the
 * customer drops out with probability p. With `spend`, ν ~ Gamma(q, γ) per customer and each repeat
 * purchase is worth Gamma(p, ν) (Fader & Hardie 2013).
 */
export const simulateCustomers = (u: Uniform, params: BgNbdParams, options: SimulationOptions): SimulatedCustomers => {
  const n = options.customers;
  const holdout = options.holdout ?? 0;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const mx = new Float64Array(n);
  const future = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const tenure = options.tenure(u);
    const { lambda, p, nu } = drawTraits(u, params, options.spend);
    let count = 0;
    let last = 0;
    let later = 0;
    let spent = 0;
    forEachRepeatPurchase(u, lambda, p, tenure + holdout, (t) => {
      if (t <= tenure) {
        count++;
        last = t;
        if (options.spend !== undefined) spent += gamma(u, options.spend.p, nu);
      } else {
        later++;
      }
    });
    x[i] = count;
    tx[i] = last;
    T[i] = tenure;
    mx[i] = count > 0 ? spent / count : 0;
    future[i] = later;
  }
  return { x, tx, T, mx, holdout: future };
};

/**
 * Customers from the Pareto/NBD story (Schmittlein, Morrison & Colombo 1987): λ ~ Gamma(r, α) and
 * μ ~ Gamma(s, β) independently; the customer is alive for an Exp(μ) lifetime from the first
 * purchase at 0 and buys as a Poisson process with rate λ while alive. With `spend`, purchase values
 * follow the Gamma-Gamma model as in {@link simulateCustomers}.
 */
export const simulateParetoNbdCustomers = (u: Uniform, params: ParetoNbdParams, options: SimulationOptions): SimulatedCustomers => {
  const n = options.customers;
  const holdout = options.holdout ?? 0;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const mx = new Float64Array(n);
  const future = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const tenure = options.tenure(u);
    const lambda = gamma(u, params.r, params.alpha);
    const mu = gamma(u, params.s, params.beta);
    const lifetime = -Math.log(u()) / mu;
    const nu = options.spend === undefined ? 0 : gamma(u, options.spend.q, options.spend.gamma);
    const end = Math.min(lifetime, tenure + holdout);
    let t = 0;
    let count = 0;
    let last = 0;
    let later = 0;
    let spent = 0;
    for (;;) {
      t += -Math.log(u()) / lambda;
      if (t > end) break;
      if (t <= tenure) {
        count++;
        last = t;
        if (options.spend !== undefined) spent += gamma(u, options.spend.p, nu);
      } else {
        later++;
      }
    }
    x[i] = count;
    tx[i] = last;
    T[i] = tenure;
    mx[i] = count > 0 ? spent / count : 0;
    future[i] = later;
  }
  return { x, tx, T, mx, holdout: future };
};

/**
 * The model stage's benchmark base (the CLV_BENCH performance test and `npm run bench:intervals`):
 * `customers` Pareto/NBD customers (r 0.55, α 75, s 0.6, β 80 per day; seed 43) acquired over two
 * years, as of the end, purchase days whole days; their distinct day tuples in weeks for the fits,
 * every customer's spend for the Gamma-Gamma, and every customer in days for scoring, with weekly
 * settings over a 52-week horizon.
 */
export const modelBenchBase = (customers: number) => {
  const simulated = simulateParetoNbdCustomers(
    seededUniform(43),
    { r: 0.55, alpha: 75, s: 0.6, beta: 80 },
    { customers, tenure: (u) => Math.floor(730 * u()), spend: { p: 6, q: 4, gamma: 15 } },
  );
  const txDays = simulated.tx.map(Math.floor);
  const tuples = compressBgNbdData(simulated.x, txDays, simulated.T);
  return {
    tuples,
    weeks: { ...tuples, tx: tuples.tx.map((d) => d / 7), T: tuples.T.map((d) => d / 7) },
    spend: { x: simulated.x, mx: simulated.mx, weight: new Float64Array(simulated.x.length).fill(1) },
    settings: { timeUnit: 'week', horizon: 52, discountRate: 0.1, margin: 1 } as const,
    everyone: { x: simulated.x, recencyDays: txDays, tenureDays: simulated.T, monetaryValue: simulated.mx },
  };
};
