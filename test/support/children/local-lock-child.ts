/**
 * A child process that tries to take the run lock of a local output folder (argv: root). It
 * prints `locked` and holds the lock until its stdin closes, or prints `busy`.
 */
import { join } from 'node:path';
import { takeLocalLock } from '../../../lambdas/clv-job/adapters/local-run-lock.js';
import { RunLockedError } from '../../../lambdas/clv-job/errors.js';
import { LOCK_KEY } from '../../../lambdas/clv-job/layout.js';

try {
  const lock = await takeLocalLock(join(process.argv[2]!, LOCK_KEY), `child-${process.pid}`, 3600);
  process.stdout.write('locked\n');
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  await lock.release();
} catch (error) {
  if (!(error instanceof RunLockedError)) throw error;
  process.stdout.write(`busy ${error.message}\n`);
}
