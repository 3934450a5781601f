import { describe, expect, it } from 'vitest';
import { INPUTS_OF, QUERIES, READS_OF, RELATIONS, relationsFor, type QueryName, type RelationName } from '../../lambdas/clv-job/sql/index.js';

/** The relations a text reads: the names after its FROMs and JOINs that are relations (comments left out). */
const readBy = (text: string): RelationName[] => {
  const names = [...text.replace(/--.*$/gm, '').matchAll(/\b(?:FROM|JOIN)\s+(\w+)/gi)].map((m) => m[1]!);
  return [...new Set(names.filter((name): name is RelationName => name in RELATIONS))].sort();
};

describe('what each text of the shared SQL reads', () => {
  it.each(Object.keys(QUERIES) as QueryName[])('lists for query %s the relations its text reads', (name) => {
    expect([...READS_OF[name]].sort()).toEqual(readBy(QUERIES[name]));
  });

  it.each(Object.keys(RELATIONS) as RelationName[])('lists for relation %s the relations its text reads', (name) => {
    expect([...INPUTS_OF[name]].sort()).toEqual(readBy(RELATIONS[name]));
  });

  it('orders a query\'s relations inputs first, each once', () => {
    expect(relationsFor(['purchase_days', 'customers'])).toEqual(['classified', 'purchase_days', 'customers']);
    expect(relationsFor(['customers'])).toEqual(['classified', 'purchase_days', 'customers']);
    expect(relationsFor(['classified'])).toEqual(['classified']);
  });
});
