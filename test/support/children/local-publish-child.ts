/**
 * A child process that publishes a night into a local output folder and SIGKILLs itself at its
 * k-th file-system call (argv: root, run id, folder of the version's files, k, action). `action`
 * is `publish`, `recover` or `rollback`; k = 0 runs to the end and prints the calls it made (and a
 * recovery's report).
 */
import { LocalFolderStore } from '../../../lambdas/clv-job/adapters/local-folder-store.js';
import { RUN_DATE, faultPlan, faultyFs, filesOf, stageFiles } from '../fault-fs.js';

const [root, runId, source, killAt, action] = process.argv.slice(2);
const plan = faultPlan(Number(killAt) || null);
const store = new LocalFolderStore(root!, { fs: faultyFs(plan, () => process.kill(process.pid, 'SIGKILL')) });
let recovery: unknown = null;
if (action === 'recover') {
  plan.armed = true;
  recovery = await store.recover();
} else if (action === 'rollback') {
  plan.armed = true;
  await store.rollback(RUN_DATE);
} else {
  const run = await store.stage(runId!);
  const manifest = await stageFiles(run, RUN_DATE, await filesOf(source!));
  plan.armed = true;
  await run.publish(RUN_DATE, manifest);
}
process.stdout.write(JSON.stringify({ calls: plan.calls, log: plan.log, recovery }));
