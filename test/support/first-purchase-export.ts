import type { IngestConfigInput } from '../../lambdas/clv-job/ingest/ingest-config.js';
import { writeText } from './files.js';

/**
 * An export keyed by order id and store (`orderKey: ['store']`) whose customers' first orders are
 * hard to pick: several orders on the first day, order ids that tie across stores (written with the
 * later key first), a first order without a channel, a later day whose order id sorts first, order
 * ids that sort as text ('B10' before 'B7'), and a customer with one purchase day.
 * - K1: 2024-01-10 holds 300/A search 5, 200/B web 7, 200/A (no channel) 11; then 050 on 2024-02-03
 *   (13, email) and 060 on 2024-03-01 (17, email). First order 200/A: no acquisition channel.
 * - K2: 500/B web 10 and 500/A partner 20, both on 2024-01-20. First order 500/A: partner.
 * - K3: B7 web 1 and B10 email 2 on 2024-01-05, B1 on 2024-01-25 (4), B2 on 2024-03-02 (8). First
 *   order B10: email.
 * - K4: one order, 2024-02-14, web, 9.
 * - K5: A<TAB>B/A web 3 and A/B email 4, both on 2024-04-02. First order A/B (an order id sorts
 *   before the longer ones it begins, even one whose next byte is the lowest text allows: a tab; a
 *   NUL is no text, its record malformed): email.
 */
export const FIRST_PURCHASE_CONFIG: IngestConfigInput = { orderKey: ['store'] };

export const writeFirstPurchaseExport = (dir: string): Promise<string> =>
  writeText(
    dir,
    'orders.csv',
    [
      'order_id,store,customer_id,order_date,amount,channel',
      '300,A,K1,2024-01-10,5,search',
      '200,B,K1,2024-01-10,7,web',
      '200,A,K1,2024-01-10,11,',
      '050,A,K1,2024-02-03,13,email',
      '060,A,K1,2024-03-01,17,email',
      '500,B,K2,2024-01-20,10,web',
      '500,A,K2,2024-01-20,20,partner',
      'B7,A,K3,2024-01-05,1,web',
      'B10,A,K3,2024-01-05,2,email',
      'B1,A,K3,2024-01-25,4,search',
      'B2,A,K3,2024-03-02,8,search',
      'B9,A,K4,2024-02-14,9,web',
      'A\tB,A,K5,2024-04-02,3,web',
      'A,B,K5,2024-04-02,4,email',
      '',
    ].join('\n'),
  );
