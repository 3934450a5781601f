/**
 * What scoring, the holdout comparison and the intervals need from a transaction model (BG/NBD or
 * Pareto/NBD), so that `clv.ts` and `backtest.ts` are written once for both. Both models factor the
 * conditional expectation the same way, E[X(T, T+t] | x, tx, T] = P(alive | x, tx, T) ·
 * E[X(T, T+t] | alive at T, x, T], with the second factor depending on (x, T) only; the interface
 * exposes the two factors so callers can share the expensive one across customers.
 */
import {
  aliveFromTable as bgnbdAliveFromTable,
  aliveTable as bgnbdAliveTable,
  aliveTableLength as bgnbdAliveTableLength,
  expectedPurchasesWhileAlive,
  probabilityAliveOn as bgnbdAliveOn,
  logProbabilityAliveUnchecked,
  makeExpectedPurchasesIfAliveOnGrid as bgnbdGrid,
  type BgNbdParams,
} from './bg-nbd.js';
import {
  aliveFromTable as paretoNbdAliveFromTable,
  aliveTable as paretoNbdAliveTable,
  aliveTableLength as paretoNbdAliveTableLength,
  checkParetoNbdParams,
  expectedPurchasesNewCustomer as paretoNbdNewCustomer,
  makeExpectedPurchasesIfAliveOnGrid as paretoNbdGrid,
  probabilityAliveOn as paretoNbdAliveOn,
  makeLogProbabilityAlive as paretoNbdLogAlive,
  type ParetoNbdParams,
} from './pareto-nbd.js';
import type { TupleIndex } from './tuple-index.js';
import type { ScratchArena } from '../math/scratch-arena.js';

export const TRANSACTION_MODELS = ['bgnbd', 'pnbd'] as const;
export type TransactionModelName = (typeof TRANSACTION_MODELS)[number];

export interface TransactionModel {
  readonly name: TransactionModelName;
  /**
   * A function (x, T, out) writing E[X(T, T+t_k] | alive at T, x, T] for every window t_k of `times`
   * (model units) into `out`. It may cache per x and per T; results do not depend on the cache. The
   * cache may be kept in `arena` (then the function is valid until the arena's next reset).
   */
  makeExpectedIfAliveOnGrid(times: ArrayLike<number>, arena?: ScratchArena): (x: number, T: number, out: Float64Array) => void;
  /** A function (x, tx, T) → ln P(alive | x, tx, T), for validated customers; it may cache. */
  makeLogProbabilityAlive(): (x: number, tx: number, T: number) => number;
  /**
   * P(alive | x, tx, T) itself of every tuple of `index` (validated, model units) into `out`: the
   * exponential of {@link makeLogProbabilityAlive}'s numbers to their rounding (~1e−16 (1 + |ln P|)
   * relative), with the logarithms taken once per distinct value rather than once per tuple and
   * the probability formed from the odds without a logarithm — what scoring many tuples under many
   * draws needs.
   */
  probabilityAliveOn(index: TupleIndex, out: Float64Array): void;
  /**
   * {@link probabilityAliveOn} in two steps, for P(alive) of a range of tuples at a time under many
   * draws: `aliveTable` writes what is taken once per distinct value (`aliveTableLength(index)`
   * numbers: logarithms per distinct time and frequency, the Pareto/NBD's 2F1 per distinct (x, t)),
   * then `aliveFromTable` writes P(alive) of tuples [from, to) into out[0 … to − from) from that table,
   * the same numbers, bit for bit, as probabilityAliveOn gives those tuples. The length depends
   * on the model's kind and the index, not on its parameters.
   */
  aliveTableLength(index: TupleIndex): number;
  aliveTable(index: TupleIndex, table: Float64Array): void;
  aliveFromTable(index: TupleIndex, table: Float64Array, from: number, to: number, out: Float64Array): void;
  /** E[X(t)]: expected repeat purchases in the first t units of a new customer. */
  expectedNewCustomer(t: number): number;
}

/** Throws a RangeError for parameters that are not positive and finite. */
export const bgnbdTransactionModel = (params: BgNbdParams): TransactionModel => {
  const { r, alpha, a, b } = params;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0) || !Number.isFinite(r + alpha + a + b)) {
    throw new RangeError(`BG/NBD parameters must be positive and finite: r=${r}, alpha=${alpha}, a=${a}, b=${b}`);
  }
  return {
    name: 'bgnbd',
    makeExpectedIfAliveOnGrid: (times, arena) => bgnbdGrid(params, times, arena),
    makeLogProbabilityAlive: () => (x, tx, T) => logProbabilityAliveUnchecked(r, alpha, a, b, x, tx, T),
    probabilityAliveOn: (index, out) => bgnbdAliveOn(params, index, out),
    aliveTableLength: bgnbdAliveTableLength,
    aliveTable: (index, table) => bgnbdAliveTable(params, index, table),
    aliveFromTable: (index, table, from, to, out) => bgnbdAliveFromTable(params, index, table, from, to, out),
    expectedNewCustomer: (t) => expectedPurchasesWhileAlive(r, alpha, a, b, t),
  };
};

/** Throws a RangeError for parameters that are not positive and finite. */
export const paretoNbdTransactionModel = (params: ParetoNbdParams): TransactionModel => {
  checkParetoNbdParams(params);
  return {
    name: 'pnbd',
    makeExpectedIfAliveOnGrid: (times) => paretoNbdGrid(params, times),
    makeLogProbabilityAlive: () => paretoNbdLogAlive(params),
    probabilityAliveOn: (index, out) => paretoNbdAliveOn(params, index, out),
    aliveTableLength: paretoNbdAliveTableLength,
    aliveTable: (index, table) => paretoNbdAliveTable(params, index, table),
    aliveFromTable: (index, table, from, to, out) => paretoNbdAliveFromTable(params, index, table, from, to, out),
    expectedNewCustomer: (t) => paretoNbdNewCustomer(params, t),
  };
};

/** A transaction model as plain data (which model, its parameters): what can cross to another thread. */
export type TransactionParams = { readonly name: 'bgnbd'; readonly params: BgNbdParams } | { readonly name: 'pnbd'; readonly params: ParetoNbdParams };

/** The model of `t`. Throws a RangeError for parameters that are not positive and finite. */
export const transactionModelOf = (t: TransactionParams): TransactionModel =>
  t.name === 'bgnbd' ? bgnbdTransactionModel(t.params) : paretoNbdTransactionModel(t.params);
