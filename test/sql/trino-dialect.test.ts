import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import { QUERIES, RELATIONS, inlineQuery, renderSql, type QueryName } from '../../lambdas/clv-job/sql/index.js';

const params = { asOf: '2025-12-31', calibrationEnd: '2025-06-30', nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES };
const trino = new TrinoSQL();

/** No Athena runs here: the Trino grammar is the next best witness that Athena accepts the text. */
describe('the shared SQL as Athena (Trino) runs it', () => {
  it.each(Object.keys(QUERIES) as QueryName[])('parses %s, with its relations inlined, as Trino SQL', (name) => {
    const errors = trino.validate(inlineQuery(name, params));

    expect(errors).toEqual([]);
  });

  it.each(Object.keys(QUERIES) as QueryName[])('keeps %s free of a WITH clause of its own, so relations can be inlined in front', (name) => {
    const withoutComments = QUERIES[name].replace(/--.*$/gm, '').trim();

    expect(withoutComments).not.toMatch(/^WITH\b/i);
  });

  it('refuses DuckDB-only syntax, so passing it means something', () => {
    expect(trino.validate('SELECT a::INTEGER FROM t QUALIFY ROW_NUMBER() OVER () = 1').length).toBeGreaterThan(0);
  });

  it('parses no text: no TRIM, no regex, no MIN_BY/MAX_BY (NULL handling differs between engines)', () => {
    for (const text of Object.values(RELATIONS)) expect(text).not.toMatch(/\b(TRIM|regexp_like|regexp_\w+|MIN_BY|MAX_BY|TRY_CAST)\s*\(/i);
  });

  it('quotes values it fills in, so a status cannot change the statement', () => {
    const sql = renderSql("status_value IN ({{non_purchase_statuses}})", { asOf: '2025-01-01', nonPurchaseStatuses: ["o'brien"] });

    expect(sql).toBe("status_value IN ('o''brien')");
  });

  it('refuses an as-of date that is not YYYY-MM-DD', () => {
    expect(() => renderSql('{{as_of}}', { asOf: "2025-01-01' OR 1=1 --", nonPurchaseStatuses: ['void'] })).toThrow(/YYYY-MM-DD/);
  });
});
