import { CompensatedSum, neumaierSum } from '../math/sum.js';

/**
 * Per-group totals over customer columns, the common ground of every summary table (tiers,
 * value x loyalty, RFM, channels, cohorts). Customers carry a small integer group code; one pass
 * accumulates every total with compensated sums, so the rows add up to the overall totals.
 */
export interface GroupTotals {
  readonly customers: Float64Array;
  readonly equity: Float64Array;
  readonly revenue: Float64Array;
  /** Customers with at least one repeat purchase day. */
  readonly repeatBuyers: Float64Array;
  /** Sum of P(alive); null when the predictive fit failed. */
  readonly probabilityAlive: Float64Array | null;
}

/** The columns a group total reads. */
export interface GroupedColumns {
  /** The ranking CLV: what equity sums. */
  readonly clv: Float64Array;
  readonly revenue: Float64Array;
  readonly frequency: Int32Array;
  readonly probabilityAlive: Float64Array | null;
}

/** One running compensated sum per group: a handful of objects, however many customers. */
const sumsFor = (groups: number): CompensatedSum[] => Array.from({ length: groups }, () => new CompensatedSum());
const valuesOf = (sums: readonly CompensatedSum[]): Float64Array => Float64Array.from(sums, (s) => s.value);

/** Totals of `groups` groups; `codes[i]` is customer i's group. O(n), one pass. */
export const groupTotals = (codes: ArrayLike<number>, groups: number, columns: GroupedColumns): GroupTotals => {
  const customers = new Float64Array(groups);
  const repeatBuyers = new Float64Array(groups);
  const equity = sumsFor(groups);
  const revenue = sumsFor(groups);
  const probabilityAlive = columns.probabilityAlive;
  const alive = probabilityAlive === null ? null : sumsFor(groups);
  for (let i = 0; i < codes.length; i += 1) {
    const g = codes[i] as number;
    customers[g] = (customers[g] as number) + 1;
    if ((columns.frequency[i] as number) > 0) repeatBuyers[g] = (repeatBuyers[g] as number) + 1;
    (equity[g] as CompensatedSum).add(columns.clv[i] as number);
    (revenue[g] as CompensatedSum).add(columns.revenue[i] as number);
    if (alive !== null) (alive[g] as CompensatedSum).add((probabilityAlive as Float64Array)[i] as number);
  }
  return {
    customers,
    equity: valuesOf(equity),
    revenue: valuesOf(revenue),
    repeatBuyers,
    probabilityAlive: alive === null ? null : valuesOf(alive),
  };
};

/**
 * Group codes for a string column: `codes[i]` indexes `names`, which lists each distinct value
 * once, in order of first appearance. One Map lookup per customer; no per-customer allocation.
 */
export const codesOf = (values: readonly string[] | readonly (string | null)[], missingLabel: string): { readonly codes: Int32Array; readonly names: string[] } => {
  const index = new Map<string, number>();
  const names: string[] = [];
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const name = values[i] ?? missingLabel;
    let code = index.get(name);
    if (code === undefined) {
      code = names.length;
      index.set(name, code);
      names.push(name);
    }
    codes[i] = code;
  }
  return { codes, names };
};

/** The name of every code: `names[codes[i]]`, one loop (no per-customer allocation; the names are shared). */
export const namesOf = <S extends string>(codes: ArrayLike<number>, names: readonly S[]): S[] => {
  const out = new Array<S>(codes.length);
  for (let i = 0; i < codes.length; i += 1) out[i] = names[codes[i] as number] as S;
  return out;
};

/** a / b, or 0 when b is 0: an empty segment has no average and an empty run no shares. */
export const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** A share in [0, 1]; compensated sums can overshoot 1 by an ulp. */
export const shareOf = (part: number, whole: number): number => Math.min(1, Math.max(0, ratio(part, whole)));

/** Overall totals every share is taken of. */
export interface Overall {
  readonly customers: number;
  readonly equity: number;
}

export const overallOf = (clv: Float64Array): Overall => ({ customers: clv.length, equity: neumaierSum(clv) });

/** The measures of group `g` shared by every table. */
export const groupMeasures = (totals: GroupTotals, g: number, overall: Overall) => {
  const customers = totals.customers[g] as number;
  const equity = totals.equity[g] as number;
  return {
    customers,
    share: shareOf(customers, overall.customers),
    equity,
    equity_share: shareOf(equity, overall.equity),
    average_clv: ratio(equity, customers),
  };
};

/** Rows `{segment, customers, share, equity, equity_share, average_clv, actions}` for named groups, in name order. */
export const segmentRows = <S extends string>(
  names: readonly S[],
  totals: GroupTotals,
  overall: Overall,
  actions: Readonly<Record<S, readonly string[]>>,
): { segment: S; customers: number; share: number; equity: number; equity_share: number; average_clv: number; actions: string[] }[] =>
  names.map((segment, g) => ({ segment, ...groupMeasures(totals, g, overall), actions: [...actions[segment]] }));
