import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ACTIONS } from '../../../lambdas/clv-job/domain/segments/actions.js';
import { activationOrder, audiencesOf, fileSafeName } from '../../../lambdas/clv-job/domain/segments/audiences.js';
import { moversSince, NO_MOVERS } from '../../../lambdas/clv-job/domain/segments/movers.js';
import { RFM_SEGMENTS } from '../../../lambdas/clv-job/domain/segments/rfm.js';
import { TIER_ORDER } from '../../../lambdas/clv-job/domain/segments/tiers.js';
import { VALUE_LOYALTY_CELLS } from '../../../lambdas/clv-job/domain/segments/value-loyalty.js';
import type { Tier } from '../../../lambdas/clv-job/schemas/tables.js';
import { segmentsOf } from '../../support/customer-table.js';
import { previousSegmentsOf } from '../../support/previous-segments.js';


describe('file-safe segment names', () => {
  it.each([
    ['high', 'high'],
    ['high_value_low_loyalty', 'high_value_low_loyalty'],
    ["Can't Lose Them", 'can_t_lose_them'],
    ['At Risk', 'at_risk'],
    ['About To Sleep', 'about_to_sleep'],
    ['  (none) / Süd ', 'none_s_d'],
  ])('%j is the file %j', (segment, file) => {
    expect(fileSafeName(segment)).toBe(file);
  });

  it('refuses a name with no letter or digit, naming it', () => {
    expect(() => fileSafeName('--')).toThrow('"--"');
  });

  it('gives every segment of every scheme its own file name', () => {
    for (const names of [TIER_ORDER, VALUE_LOYALTY_CELLS, RFM_SEGMENTS]) expect(new Set(names.map(fileSafeName)).size).toBe(names.length);
  });
});

describe('the activation order', () => {
  it('puts the highest CLV first, ties by customer id, whatever the input order', () => {
    const ids = ['b', 'a', 'c', 'd'];
    const clv = Float64Array.from([5, 5, 9, 0]);

    expect(Array.from(activationOrder(clv, ids), (i) => ids[i])).toEqual(['c', 'a', 'b', 'd']);
  });

  it('is the order of a comparison sort on (CLV descending, id ascending), -0 and +0 one value, many ties', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 4, unit: 'grapheme' }), { maxLength: 80 }),
        fc.array(fc.constantFrom(-0, 0, 1.5, -2, 1e-300, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 7), { minLength: 80, maxLength: 80 }),
        (ids, values) => {
          const clv = Float64Array.from(ids, (_, i) => values[i]!);
          const expected = ids
            .map((_, i) => i)
            .sort((a, b) => (clv[b]! !== clv[a]! ? (clv[b]! > clv[a]! ? 1 : -1) : ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
          expect(Array.from(activationOrder(clv, ids))).toEqual(expected);
        },
      ),
    );
  });

  it('is that order too when the ids ascend with the index (as the engine gives them): -0 and +0 one value, many ties', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 4, unit: 'grapheme' }), { maxLength: 80 }),
        fc.array(fc.constantFrom(-0, 0, 1.5, -2, 1e-300, Number.POSITIVE_INFINITY, 7), { minLength: 80, maxLength: 80 }),
        (unsorted, values) => {
          const ids = unsorted.sort();
          const clv = Float64Array.from(ids, (_, i) => values[i]!);
          const expected = ids
            .map((_, i) => i)
            .sort((a, b) => (clv[b]! !== clv[a]! ? (clv[b]! > clv[a]! ? 1 : -1) : ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
          expect(Array.from(activationOrder(clv, ids))).toEqual(expected);
        },
      ),
    );
  });

  it('orders a tie of more than 16 customers by id, whether they come in id order (as the engine gives them) or not', () => {
    // 20 customers of CLV 5 in id order, then 20 of CLV 3 in reverse id order
    const ids = Array.from({ length: 40 }, (_, i) => (i < 20 ? `a${String(i).padStart(2, '0')}` : `b${String(59 - i).padStart(2, '0')}`));
    const clv = Float64Array.from(ids, (_, i) => (i < 20 ? 5 : 3));

    expect(Array.from(activationOrder(clv, ids))).toEqual([...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 39 - i)]);
  });

  it('refuses a NaN CLV, naming the customer', () => {
    expect(() => activationOrder(Float64Array.from([1, Number.NaN]), ['a', 'b'])).toThrow(new RangeError('customer 1 has no ranking CLV (NaN) to order by'));
  });
});

describe('audiences', () => {
  it('puts every customer in exactly one audience of each segmentation, every segment listed even when empty, in activation order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ clv: fc.double({ min: 0, max: 1e6, noNaN: true }), tier: fc.constantFrom(...TIER_ORDER), cell: fc.constantFrom(...VALUE_LOYALTY_CELLS), rfm: fc.constantFrom(...RFM_SEGMENTS) }), { maxLength: 60 }),
        (customers) => {
          const ids = customers.map((_, i) => `C${i}`);
          const audiences = audiencesOf({
            customerIds: ids,
            rankingClv: Float64Array.from(customers, (c) => c.clv),
            segments: segmentsOf(customers.map((c) => c.tier), customers.map((c) => c.cell), customers.map((c) => c.rfm)),
            movers: NO_MOVERS,
            actions: DEFAULT_ACTIONS,
          });
          const order = activationOrder(Float64Array.from(customers, (c) => c.clv), ids);
          for (const a of audiences) {
            // each member's rank is its place in the activation order
            expect(Array.from(a.ranks, (k) => order[k])).toEqual(Array.from(a.members));
          }
          const field = { clv_tier: 'tier', value_loyalty: 'cell', rfm: 'rfm' } as const;
          for (const [scheme, names] of [['clv_tier', TIER_ORDER], ['value_loyalty', VALUE_LOYALTY_CELLS], ['rfm', RFM_SEGMENTS]] as const) {
            const ofScheme = audiences.filter((a) => a.scheme === scheme);
            expect(ofScheme.map((a) => a.segment)).toEqual([...names]);
            const members = ofScheme.flatMap((a) => Array.from(a.members));
            expect(members.sort((x, y) => x - y)).toEqual(ids.map((_, i) => i));
            for (const a of ofScheme) {
              for (const i of a.members) expect(customers[i]![field[scheme]]).toBe(a.segment);
              for (let k = 1; k < a.members.length; k++) expect(customers[a.members[k - 1]!]!.clv).toBeGreaterThanOrEqual(customers[a.members[k]!]!.clv);
            }
          }
        },
      ),
    );
  });

  it('makes one audience per movement, with the actions of the segment each mover is in now', () => {
    const ids = ['up', 'down', 'risk'];
    const tiers: Tier[] = ['high', 'mid', 'low'];
    const rfm = ['Champions', 'Need Attention', 'At Risk'];
    const movers = moversSince(
      tiers,
      rfm,
      previousSegmentsOf(ids, new Map<string, Tier>([['up', 'low'], ['down', 'high'], ['risk', 'low']]), new Map([['risk', 'Hibernating']])),
    );

    const audiences = audiencesOf({ customerIds: ids, rankingClv: Float64Array.from([3, 2, 1]), segments: segmentsOf(tiers, ['a', 'b', 'c'].map(() => VALUE_LOYALTY_CELLS[0]), rfm), movers, actions: DEFAULT_ACTIONS });
    const moverAudiences = audiences.filter((a) => a.scheme === 'movers');

    expect(moverAudiences.map((a) => [a.file, Array.from(a.members, (i) => ids[i])])).toEqual([
      ['entered_high', ['up']],
      ['left_high', ['down']],
      ['became_at_risk', ['risk']],
    ]);
    // ranked 0, 1, 2 in the activation order (CLV 3, 2, 1)
    expect(moverAudiences.map((a) => Array.from(a.ranks))).toEqual([[0], [1], [2]]);
    expect(moverAudiences[0]!.actionsOf(0)).toEqual(DEFAULT_ACTIONS.clvTiers.high);
    expect(moverAudiences[1]!.actionsOf(1)).toEqual(DEFAULT_ACTIONS.clvTiers.mid);
    expect(moverAudiences[2]!.actionsOf(2)).toEqual(DEFAULT_ACTIONS.rfm['At Risk']);
  });
});
