import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NON_PURCHASE_STATUSES } from '../../lambdas/clv-job/config.js';
import { QUERIES, RELATIONS, inlineQuery, renderSql, type QueryName } from '../../lambdas/clv-job/sql/index.js';

const params = { asOf: '2025-12-31', calibrationEnd: '2025-06-30', nonPurchaseStatuses: DEFAULT_NON_PURCHASE_STATUSES };
const trino = new TrinoSQL();

/** The text of a call's first argument, from just after its opening parenthesis to the comma at its depth. */
const firstArgument = (text: string, from: number): string => {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === ',' && depth === 0) return text.slice(from, i).trim();
  }
  throw new Error(`no argument list at ${from}`);
};

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

  it('parses no text: no TRIM, no regex (their whitespace and syntax differ between engines)', () => {
    for (const text of Object.values(RELATIONS)) expect(text).not.toMatch(/\b(TRIM|regexp_like|regexp_\w+|TRY_CAST)\s*\(/i);
  });

  it('takes MIN_BY/MAX_BY only of values that are never NULL: DuckDB skips a NULL value, Trino returns it', () => {
    // COALESCE(...), or a column of purchase_days that cannot be NULL: day_revenue sums the amounts of
    // at least one accepted order, first_channel is COALESCEd where it is made
    const neverNull = /^(COALESCE\(.*\)|day_revenue|first_channel)$/is;
    const values = Object.values(RELATIONS).flatMap((text) => {
      const code = text.replace(/--.*$/gm, '');
      return [...code.matchAll(/\b(?:MIN_BY|MAX_BY)\s*\(/gi)].map((m) => firstArgument(code, m.index + m[0].length));
    });

    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(value).toMatch(neverNull);
  });

  it('quotes values it fills in, so a status cannot change the statement', () => {
    const sql = renderSql("status_value IN ({{non_purchase_statuses}})", { asOf: '2025-01-01', nonPurchaseStatuses: ["o'brien"] });

    expect(sql).toBe("status_value IN ('o''brien')");
  });

  it('refuses an as-of date that is not YYYY-MM-DD', () => {
    expect(() => renderSql('{{as_of}}', { asOf: "2025-01-01' OR 1=1 --", nonPurchaseStatuses: ['void'] })).toThrow(/YYYY-MM-DD/);
  });
});
