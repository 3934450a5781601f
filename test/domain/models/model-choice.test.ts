import { describe, expect, it } from 'vitest';
import { compressBgNbdData } from '../../../lambdas/clv-job/domain/models/bg-nbd.js';
import { chooseTransactionModel } from '../../../lambdas/clv-job/domain/models/model-choice.js';
import { seededUniform, simulateCustomers, simulateParetoNbdCustomers, type SimulatedCustomers } from '../../support/simulate.js';

const SEEDS = [1, 2, 3, 4, 5];
/** Acquisition over a year, calibration of 26 to 78 weeks, a 39-week holdout; times on whole days, as the job sees them. */
const OPTIONS = { customers: 5_000, tenure: (u: () => number) => Math.floor(182 + 364 * u()) / 7, holdout: 39 };

const choose = (simulated: SimulatedCustomers) => {
  const tx = simulated.tx.map((t) => Math.floor(t * 7) / 7);
  return chooseTransactionModel(compressBgNbdData(simulated.x, tx, simulated.T), {
    x: simulated.x,
    tx,
    T: simulated.T,
    holdoutPurchases: simulated.holdout,
    holdoutLength: 39,
  });
};

describe('choosing the transaction model by holdout error', () => {
  it('picks the BG/NBD on BG/NBD data in at least 4 of 5 seeds', () => {
    const picks = SEEDS.map((seed) => choose(simulateCustomers(seededUniform(seed), { r: 0.25, alpha: 4, a: 0.8, b: 2.5 }, OPTIONS)));
    console.log(`BG/NBD data: ${picks.map((p) => `${p.chosen} (${p.reason})`).join('; ')}`);
    expect(picks.filter((p) => p.chosen === 'bgnbd').length).toBeGreaterThanOrEqual(4);
  });

  it('picks the Pareto/NBD on Pareto/NBD data in at least 4 of 5 seeds', () => {
    const picks = SEEDS.map((seed) => choose(simulateParetoNbdCustomers(seededUniform(seed), { r: 0.55, alpha: 10.5, s: 0.6, beta: 11.7 }, OPTIONS)));
    console.log(`Pareto/NBD data: ${picks.map((p) => `${p.chosen} (${p.reason})`).join('; ')}`);
    expect(picks.filter((p) => p.chosen === 'pnbd').length).toBeGreaterThanOrEqual(4);
  });

  it('states both errors, and keeps the BG/NBD when neither fit can be trusted', () => {
    const tiny = chooseTransactionModel(compressBgNbdData([0, 1], [0, 1], [2, 2]), { x: [0, 1], tx: [0, 1], T: [2, 2], holdoutPurchases: [0, 1], holdoutLength: 1 });
    expect(tiny.chosen).toBe('bgnbd');
    expect(tiny.reason).toMatch(/neither/);
    expect(tiny.bgnbd.rootMeanSquaredError).toBeNull();
    expect(tiny.pnbd.rootMeanSquaredError).toBeNull();
  });
});
