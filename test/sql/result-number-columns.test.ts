import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lambdas/clv-job/adapters/duckdb-engine.js';
import { findInputFiles } from '../../lambdas/clv-job/adapters/input-files.js';
import { ingestLocalFiles } from '../../lambdas/clv-job/adapters/local-ingest.js';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import { RESULT_NUMBER_COLUMNS } from '../../lambdas/clv-job/pipeline/engine-results.js';
import type { QueryName } from '../../lambdas/clv-job/sql/index.js';
import { fixture } from '../support/files.js';

const params = { asOf: '2024-06-30', nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES };

/** The type DuckDB's result reader gives a column: INTEGER as Int32Array, DOUBLE as Float64Array (adapters/duckdb-result.ts). */
const kindOf = (values: ArrayLike<unknown> | undefined): string =>
  values instanceof Int32Array ? 'int32' : values instanceof Float64Array ? 'float64' : 'not a number column';

/**
 * RESULT_NUMBER_COLUMNS states the types of the large results' number columns once, for the decoders
 * and the Athena result reader; the SQL casts them. DuckDB hands a column over as the typed array of
 * the type the SQL cast it to, so its results show the casts: every number column the map names has
 * its type there, and the map names every number column of those results.
 */
describe('RESULT_NUMBER_COLUMNS against the SQL', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    engine = await DuckDbEngine.open({ files: (await ingestLocalFiles(await findInputFiles([fixture('orders-small')]))).files });
  });
  afterAll(() => engine.close());

  it.each(Object.entries(RESULT_NUMBER_COLUMNS) as [QueryName, Readonly<Record<string, string>>][])(
    'states the types the SQL casts the number columns of query %s to',
    async (query, columns) => {
      const result = await engine.run(query, params);
      const numbers = Object.entries(result.columns)
        .map(([name, values]) => [name, kindOf(values)] as const)
        .filter(([, kind]) => kind !== 'not a number column');

      expect(result.rowCount).toBeGreaterThan(0);
      expect(Object.fromEntries(numbers)).toEqual(columns);
    },
  );
});
