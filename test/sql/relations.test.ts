import { describe, expect, it } from 'vitest';
import { INPUTS_OF, QUERIES, READS_OF, RELATIONS, relationsFor, type QueryName, type RelationName } from '../../lambdas/clv-job/sql/index.js';

const withoutComments = (text: string): string => text.replace(/--.*$/gm, '');
/** The names after a text's FROMs and JOINs, as often as they come. */
const namesRead = (text: string): string[] => [...withoutComments(text).matchAll(/\b(?:FROM|JOIN)\s+(\w+)/gi)].map((m) => m[1]!);
/** The relations a text reads. */
const readBy = (text: string): RelationName[] => [...new Set(namesRead(text).filter((name): name is RelationName => name in RELATIONS))].sort();

describe('what each text of the shared SQL reads', () => {
  it.each(Object.keys(QUERIES) as QueryName[])('lists for query %s the relations its text reads', (name) => {
    expect([...READS_OF[name]].sort()).toEqual(readBy(QUERIES[name]));
  });

  it.each(Object.keys(RELATIONS) as RelationName[])('lists for relation %s the relations its text reads', (name) => {
    expect([...INPUTS_OF[name]].sort()).toEqual(readBy(RELATIONS[name]));
  });

  it.each(Object.keys(RELATIONS) as RelationName[])('reads each common table expression of relation %s once (DuckDB materialises one read twice)', (name) => {
    const ctes = [...withoutComments(RELATIONS[name]).matchAll(/\b(\w+) AS \(/g)].map((m) => m[1]!);
    const reads = namesRead(RELATIONS[name]);

    for (const cte of ctes) expect({ cte, reads: reads.filter((n) => n === cte).length }).toEqual({ cte, reads: 1 });
  });

  it('orders a query\'s relations inputs first, each once', () => {
    expect(relationsFor(['purchase_days', 'customers'])).toEqual(['classified', 'purchase_days', 'customers']);
    expect(relationsFor(['customers'])).toEqual(['classified', 'purchase_days', 'customers']);
    expect(relationsFor(['classified'])).toEqual(['classified']);
  });
});
