/**
 * A child process that is the ingest function for one event, as Lambda runs it: the real entry
 * module (settings from the environment at cold start), one invocation with the S3 event in argv.
 * It prints its outcomes and its own memory on the last line: RSS just before the invocation and
 * the process's peak RSS as the kernel counted it (getrusage), so the growth is this one ingest's
 * alone, never another test's leftovers in a shared worker.
 */
const [event] = process.argv.slice(2);
const { handler } = await import('../../../lambdas/clv-job/ingest-handler.js');
const baselineBytes = process.memoryUsage.rss();
const { outcomes } = await handler(JSON.parse(event!));
const peakBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`\n${JSON.stringify({ outcomes, baselineBytes, peakBytes })}\n`);
