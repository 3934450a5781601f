/**
 * A child process that publishes a night to S3 (moto) with Glue partitions and SIGKILLs itself at
 * its k-th S3 or Glue request (argv: endpoint, bucket, prefix, run id, folder of the version's
 * files, k, action). `action` is `publish` or `recover`; k = 0 runs to the end and prints the
 * requests it made.
 */
import { S3Store } from '../../../lambdas/clv-job/adapters/s3-store.js';
import { CATALOG_TABLES } from '../../../lambdas/clv-job/layout.js';
import { RUN_DATE, failKthCommand, faultPlan, filesOf, stageFiles } from '../fault-fs.js';
import { GLUE_DATABASE, motoGlueClient } from '../moto-glue.js';
import { motoS3Client } from '../moto-server.js';

const [endpoint, bucket, prefix, runId, source, killAt, action] = process.argv.slice(2);
const runDate = process.env.CLV_RUN_DATE ?? RUN_DATE;
const plan = faultPlan(Number(killAt) || null);
const die = () => process.kill(process.pid, 'SIGKILL');
const client = failKthCommand(motoS3Client(endpoint!, { maxAttempts: 1 }), plan, die);
const glue = failKthCommand(motoGlueClient(endpoint!, 1), plan, die);
const store = new S3Store({ client, bucket: bucket!, prefix: prefix!, catalog: { client: glue, database: GLUE_DATABASE, tables: CATALOG_TABLES } });
if (action === 'recover') {
  plan.armed = true;
  await store.recover();
} else {
  const run = await store.stage(runId!);
  const manifest = await stageFiles(run, runDate, await filesOf(source!));
  plan.armed = true;
  await run.publish(runDate, manifest);
}
process.stdout.write(JSON.stringify({ calls: plan.calls, log: plan.log }));
