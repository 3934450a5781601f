import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * The peer library lifetimes (0.11.3, scripts/python-requirements.txt) on the very customers a job
 * run scored: the run's customers Parquet gives each customer's (x, t_x, T) in weeks and mean
 * repeat spend, and `test/support/lifetimes_peer.py` times lifetimes' BetaGeoFitter and
 * GammaGammaFitter fits on every customer and its 12-period CLV, as DEPENDENCIES.md measured them.
 */
export interface PeerTimes {
  readonly customers: number;
  readonly bgnbd_fit_s: number;
  readonly gamma_gamma_fit_s: number;
  readonly clv_s: number;
}

/** Null (with the reason logged) when Python or lifetimes is not installed here. */
export const runLifetimes = async (root: string, output: string, log: (line: string) => void): Promise<PeerTimes | null> => {
  const python = process.env.MOTO_PYTHON ?? 'python3';
  if (spawnSync(python, ['-c', 'import lifetimes'], { stdio: 'ignore' }).status !== 0) {
    log('  lifetimes is not installed (bash scripts/install-services.sh lifetimes): no side-by-side');
    return null;
  }
  const csv = join(output, 'lifetimes-input.csv');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const parquet = join(output, 'customers', '**', '*.parquet').replaceAll("'", "''");
    await connection.run(
      `COPY (SELECT frequency AS x, recency_days / 7.0 AS tx, tenure_days / 7.0 AS T, monetary_value AS mx FROM read_parquet('${parquet}')) ` +
        `TO '${csv.replaceAll("'", "''")}' (HEADER)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  try {
    const run = spawnSync(python, [join(root, 'test', 'support', 'lifetimes_peer.py')], {
      input: JSON.stringify({ bench: { csv } }),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (run.status !== 0) throw new Error(`lifetimes_peer.py failed: ${run.stderr}`);
    const { bench } = JSON.parse(run.stdout) as { bench: PeerTimes };
    return { customers: bench.customers, bgnbd_fit_s: bench.bgnbd_fit_s, gamma_gamma_fit_s: bench.gamma_gamma_fit_s, clv_s: bench.clv_s };
  } finally {
    await rm(csv, { force: true });
  }
};
