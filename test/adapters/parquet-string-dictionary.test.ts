import { describe, expect, it } from 'vitest';
import { StringDictionary } from '../../lambdas/clv-job/adapters/parquet-string-dictionary.js';

/** The reference: indexes in order of first appearance, by a Map alone. */
const reference = (values: readonly string[]): { indexes: number[]; keys: string[] } => {
  const map = new Map<string, number>();
  const indexes = values.map((v) => {
    if (!map.has(v)) map.set(v, map.size);
    return map.get(v)!;
  });
  return { indexes, keys: [...map.keys()] };
};

describe('the string dictionary', () => {
  it('gives each value the index of its first appearance, values that share a cache slot and equal strings that are other objects included', () => {
    // 'aXbcd' and 'aYbcd' differ only in a character the cache slot does not read: they share a slot
    const colliding = ['aXbcd', 'aYbcd', 'aZbcd'];
    const copies = colliding.map((v) => [...v].join(''));
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pool = [...colliding, ...copies, '', 'x', 'é', 'Champions', '東京', 'Champions'.slice(0)];
    const values = Array.from({ length: 5_000 }, () => pool[Math.floor(random() * pool.length)]!);
    const dictionary = new StringDictionary();

    const indexes = values.map((v) => dictionary.indexOf(v));

    expect({ indexes, keys: [...dictionary.keys()] }).toEqual(reference(values));
    expect(dictionary.size).toBe(new Set(values).size);
  });
});
