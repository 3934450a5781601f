import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3Store } from '../lambdas/clv-job/adapters/s3-store.js';
import type { HandlerResult } from '../lambdas/clv-job/handler.js';
import { summarySchema } from '../lambdas/clv-job/schemas/summary.js';
import { ClvStack } from '../lib/clv-stack.js';
import { startStackAthena, type AthenaStandIn } from './support/athena-stand-in.js';
import { fixture, repoRoot, tempDir } from './support/files.js';
import { ingestOnMoto } from './support/ingest-drop.js';
import { lambdaEnvironment } from './support/lambda-environment.js';
import { createOutputTables, motoGlueClient } from './support/moto-glue.js';
import { TEST_CREDENTIALS, TEST_REGION, createBucket, startMoto, type MotoServer } from './support/moto-server.js';
import { describeWith } from './support/services.js';
import { recordedCountsSchema } from './support/gen-orders.js';

/**
 * The nightly function exactly as `cdk synth` ships it: the real stack synthesised with bundling
 * on (NodejsFunction with the local esbuild, the shared SQL through the `.sql` text loader, the AWS
 * SDK bundled, DuckDB left out), the bundle imported from the cloud assembly, where no node_modules
 * is within reach (as on Lambda), and its `handler` invoked by plain Node in a child process (vitest's
 * module runner would resolve a bare import the bundle left out from the repository's node_modules)
 * against moto (S3, Glue) and the Athena stand-in. A bundling break (a missing loader, a dependency
 * left external) fails here, where the other handler tests import the TypeScript sources.
 */
const BUCKET = 'clv-bundle-test';

/**
 * What the Lambda runtime does with the bundle, in a fresh `node`: import it, call `handler` with the
 * event and a context, and hand back the result (on the last line; Powertools logs to stdout before it).
 */
const INVOKE = `
const [bundle, event] = process.argv.slice(1);
const context = { functionName: 'clv-job', awsRequestId: 'req-bundle', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:clv-job', memoryLimitInMB: '4096' };
const { handler } = await import(bundle);
const result = await handler(JSON.parse(event), context);
process.stdout.write('\\n' + JSON.stringify(result) + '\\n');
`;

const invokeBundle = async (bundle: string, event: unknown): Promise<HandlerResult> => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', INVOKE, pathToFileURL(bundle).href, JSON.stringify(event)], {
    cwd: join(bundle, '..'),
    env: process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as HandlerResult;
};

describeWith(['moto', 'trino'], 'the nightly function\'s own bundle, invoked against moto and the Athena stand-in', () => {
  let outdir: string;
  let bundle: string;
  let moto: MotoServer;
  let s3: S3Client;
  let standIn: AthenaStandIn;
  const saved = { ...process.env };

  beforeAll(async () => {
    outdir = await tempDir();
    const { context: cdkContext } = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8'));
    const app = new App({ context: cdkContext, outdir });
    new ClvStack(app, 'Bundle');
    const assembly = app.synth();
    const template = Template.fromJSON(JSON.parse(readFileSync(join(assembly.directory, 'Bundle.template.json'), 'utf8')));
    const [job] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('JobFunction'));
    // a function's code is the asset folder `asset.<hash>` of its S3 key `<hash>.zip`
    const asset = join(assembly.directory, `asset.${String(job![1].Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    bundle = join(asset, 'index.mjs');

    moto = await startMoto();
    s3 = await createBucket(moto.endpoint, BUCKET);
    await (await ingestOnMoto(moto.endpoint, s3, BUCKET)).dropFolder(join(repoRoot, 'sample-data'));
    standIn = await startStackAthena(s3, BUCKET);
    await createOutputTables(motoGlueClient(moto.endpoint), BUCKET, 'clv/');
    // the settings the stack gives the function, and the stand-ins through the SDK's standard endpoint chain
    Object.assign(process.env, lambdaEnvironment(BUCKET), {
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: TEST_REGION,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_ENDPOINT_URL_ATHENA: standIn.endpoint,
      AWS_ENDPOINT_URL_GLUE: moto.endpoint,
      POWERTOOLS_SERVICE_NAME: 'clv-job-bundle-test',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
    delete process.env.AWS_PROFILE;
  }, 240_000);
  afterAll(async () => {
    process.env = saved;
    await standIn?.stop();
    await moto?.stop();
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  it('reads the shared SQL as text from the bundle, not from files beside it', async () => {
    const code = await readFile(bundle, 'utf8');

    expect(readdirSync(join(bundle, '..')).filter((f) => f.endsWith('.sql'))).toEqual([]);
    // a line of lambdas/clv-job/sql/customers.sql, inlined by the text loader
    expect(code).toContain('SUM(CAST(amount AS DECIMAL(38, 6))) AS day_revenue');
  });

  it('scores a re-run night from the bundle: every row of the sample accounted as its generator recorded, published through S3', async () => {
    const truth = recordedCountsSchema.parse(JSON.parse(await readFile(fixture('sample-truth.json'), 'utf8')));

    const result = await invokeBundle(bundle, { runDate: truth.asOf });

    expect(result).toMatchObject({ status: 'succeeded', runDate: truth.asOf, output: `s3://${BUCKET}/clv/`, counts: truth.counts });
    const published = await new S3Store({ client: s3, bucket: BUCKET, prefix: 'clv/' }).read(`summary/run_date=${truth.asOf}/summary.json`);
    const summary = summarySchema.parse(JSON.parse(Buffer.from(published!).toString('utf8')));
    expect(summary.run).toMatchObject({ engine: 'athena', as_of: truth.asOf, as_of_source: 'given' });
    expect(summary.counts).toEqual(truth.counts);
    expect(summary.models.trusted).toBe(true);
  });
});
