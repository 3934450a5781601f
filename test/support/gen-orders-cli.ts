/**
 * `npm run gen-orders -- --out DIR [flags]`: writes synthetic order exports and their truth.json
 * (test/support/gen-orders.ts lists the flags). Exit 2 with a one-line message on bad flags.
 */
import { z } from 'zod';
import { generateOrders, parseGenArgs } from './gen-orders.js';

try {
  const options = parseGenArgs(process.argv.slice(2));
  if (options.out === '') throw new Error('--out DIR is required (the folder the exports and truth.json are written to)');
  const truth = await generateOrders(options);
  const { counts } = truth;
  process.stderr.write(
    `wrote ${counts.input_rows} rows for ${truth.options.customers} customers into ${truth.files.length} files under ${options.out} ` +
      `(${counts.accepted_orders} accepted, ${counts.customers} customers a run counts)\n`,
  );
} catch (error) {
  const message = error instanceof z.ZodError ? z.prettifyError(error).replaceAll('\n', '; ') : error instanceof Error ? error.message : String(error);
  process.stderr.write(`gen-orders: ${message}\n`);
  process.exitCode = 2;
}
