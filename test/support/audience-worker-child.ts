/**
 * A worker entry for test/adapters/worker-audiences.test.ts, bundled by bundleChild: the adapter's
 * worker side as a shipped bundle runs it (dist/cli.js re-entering itself), without the CLI around it.
 */
import { isAudienceWorker, serveAudienceWorker } from '../../lambdas/clv-job/adapters/worker-audiences.js';

if (isAudienceWorker()) serveAudienceWorker();
