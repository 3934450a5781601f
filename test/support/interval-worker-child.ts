/**
 * A worker entry for test/adapters/worker-intervals.test.ts, bundled by bundleChild: the adapter's
 * worker side as a shipped bundle runs it (dist/cli.js re-entering itself), without the CLI around it.
 */
import { isIntervalWorker, serveIntervalWorker } from '../../lambdas/clv-job/adapters/worker-intervals.js';

if (isIntervalWorker()) serveIntervalWorker();
