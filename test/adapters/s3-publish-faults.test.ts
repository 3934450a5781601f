/**
 * Crash safety of the S3 store with its Glue switch (SPEC "Output contract"), against moto's S3
 * and Glue: a failure at each request of a publish, a kill at each request, and readers polling.
 */
import type { GlueClient } from '@aws-sdk/client-glue';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambdas/clv-job/adapters/s3-store.js';
import { PublishError } from '../../lambdas/clv-job/errors.js';
import { CATALOG_TABLES, manifestKey } from '../../lambdas/clv-job/layout.js';
import { failKthCommand, faultPlan, type FaultPlan } from '../support/fault-fs.js';
import { tempDir } from '../support/files.js';
import { GLUE_DATABASE, createOutputTables, motoGlueClient } from '../support/moto-glue.js';
import { createBucket, motoS3Client, startMoto, type MotoServer } from '../support/moto-server.js';
import { RUN_DATE, bundleChild, runChild, seenOnS3, stageVersion, writeVersionTo, type NightVersion } from '../support/publish-faults.js';
import { describeWith } from '../support/services.js';

const BUCKET = 'clv-faults';
const OLD: NightVersion = { runId: 'old', segments: ['high', 'low'], rowsPerSegment: 3 };
const NEW: NightVersion = { runId: 'new', segments: ['high', 'mid'], rowsPerSegment: 3 };

const table = (title: string, rows: readonly (readonly [number, string, string])[]): string =>
  [title, '| k | request | outcome |', '|---|---|---|', ...rows.map(([k, call, outcome]) => `| ${k} | ${call} | ${outcome} |`)].join('\n');

describeWith('moto', 'the S3 store under faults (moto S3 and Glue)', () => {
  let moto: MotoServer;
  let client: S3Client;
  let glue: GlueClient;
  let trial = 0;

  beforeAll(async () => {
    moto = await startMoto();
    client = await createBucket(moto.endpoint, BUCKET);
    glue = motoGlueClient(moto.endpoint);
    await createOutputTables(glue, BUCKET, '');
  });
  afterAll(() => moto?.stop());

  const storeOf = (prefix: string, plan: FaultPlan | null = null, s3 = client, catalog = glue): S3Store =>
    new S3Store({
      client: plan ? failKthCommand(motoS3Client(moto.endpoint, { maxAttempts: 1 }), plan) : s3,
      bucket: BUCKET,
      prefix,
      catalog: { client: plan ? failKthCommand(motoGlueClient(moto.endpoint, 1), plan) : catalog, database: GLUE_DATABASE, tables: CATALOG_TABLES },
    });

  /**
   * A fresh output whose night is OLD. Each trial has its own prefix and its own run date (Glue's
   * tables are shared), so trials never see each other.
   */
  const withOldNight = async (): Promise<{ prefix: string; runDate: string }> => {
    trial++;
    const prefix = `t${trial}/`;
    const runDate = new Date(Date.UTC(2020, 0, 1) + trial * 86_400_000).toISOString().slice(0, 10);
    const run = await storeOf(prefix).stage(OLD.runId);
    await run.publish(runDate, await stageVersion(run, OLD, runDate));
    return { prefix, runDate };
  };

  const runsUnder = async (prefix: string): Promise<string[]> => {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}_runs/`, Delimiter: '/' }));
    return (page.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(prefix.length + 6, -1)).sort();
  };

  /** After recovery: every reader agrees on one complete version, no intent, no dead staging. */
  const expectRecovered = async (prefix: string, runDate: string): Promise<string> => {
    await storeOf(prefix).recover();
    const seen = await seenOnS3(client, glue, BUCKET, prefix, runDate);
    expect(Object.values(seen.catalog)).toEqual(CATALOG_TABLES.map(() => seen.files.runId));
    const intent = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}_publish/intent` }));
    expect(intent.KeyCount ?? 0).toBe(0);
    expect(await runsUnder(prefix)).toEqual(seen.files.runId === OLD.runId ? ['old'] : ['new', 'old']);
    return seen.files.runId;
  };

  const describeSeen = (seen: Awaited<ReturnType<typeof seenOnS3>>): string => {
    const name = (id: string) => (id === NEW.runId ? 'new' : 'previous');
    const catalog = [...new Set(Object.values(seen.catalog))];
    return catalog.length === 1 && catalog[0] === seen.files.runId
      ? `every reader sees the ${name(seen.files.runId)} night`
      : `files: ${name(seen.files.runId)}; Glue ${Object.entries(seen.catalog).map(([t, id]) => `${t}: ${name(id)}`).join(', ')}`;
  };

  it('keeps the previous night or shows the new one, never neither or a mix, when the k-th S3 or Glue request of a publish fails, for every k', async () => {
    const outcomes: [number, string, string][] = [];
    for (let k = 1; ; k++) {
      const { prefix, runDate } = await withOldNight();
      const plan = faultPlan(k);
      const run = await storeOf(prefix, plan).stage(NEW.runId);
      const manifest = await stageVersion(run, NEW, runDate);
      plan.armed = true;

      const result = await run.publish(runDate, manifest).then(
        (outcome) => ({ published: true as const, warnings: outcome.warnings }),
        (error: unknown) => ({ published: false as const, error }),
      );
      if (plan.calls < k) break;

      const seen = await seenOnS3(client, glue, BUCKET, prefix, runDate);
      const expected = result.published ? NEW.runId : OLD.runId;
      if (!result.published) expect(result.error, `k=${k}`).toBeInstanceOf(PublishError);
      // a failed request is put right at once: file and catalog readers agree with what was reported
      expect({ files: seen.files.runId, catalog: Object.values(seen.catalog) }, `k=${k} (${plan.log[k - 1]})`).toEqual({ files: expected, catalog: CATALOG_TABLES.map(() => expected) });
      outcomes.push([k, plan.log[k - 1]!, result.published ? `published${result.warnings.length ? ' with a clean-up warning' : ''}` : 'failed, previous night intact']);
      expect(await expectRecovered(prefix, runDate)).toBe(expected);
    }
    console.info(table('S3 store: failure injected at the k-th S3/Glue request of a publish', outcomes));
    expect(outcomes.some(([, , o]) => o.startsWith('failed'))).toBe(true);
  }, 300_000);

  it('leaves the run of a publish whose commit failed, and whose outcome cannot be read, to the next recovery: discarded, it would take the files the Glue partitions already show', async () => {
    // Prepare: the PUT of the night's manifest (the commit) fails without effect, then so does the GET that asks whether it happened
    const { prefix, runDate } = await withOldNight();
    const s3 = motoS3Client(moto.endpoint, { maxAttempts: 1 });
    const manifestKeyOnS3 = `${prefix}${manifestKey(runDate)}`;
    let faults = 0;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key;
        const command = context.commandName ?? '';
        if (key === manifestKeyOnS3 && ((faults === 0 && command === 'PutObjectCommand') || (faults === 1 && command === 'GetObjectCommand'))) {
          faults++;
          throw Object.assign(new Error(`injected failure of ${command}`), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'twoFaults' },
    );
    const store = new S3Store({ client: s3, bucket: BUCKET, prefix, catalog: { client: glue, database: GLUE_DATABASE, tables: CATALOG_TABLES } });
    const run = await store.stage(NEW.runId);
    const manifest = await stageVersion(run, NEW, runDate);

    // Act: the pipeline discards a run whose publish failed
    const failed = await run.publish(runDate, manifest).catch((error: unknown) => error);
    await run.discard();

    // Assess: reported as unknown, the new run's files kept for what the catalog may show, and the recovery puts every reader back on the previous night
    expect(faults).toBe(2);
    expect((failed as Error).message).toMatch(/whether the switch took effect cannot be read: nothing was undone/);
    expect(await runsUnder(prefix)).toEqual(['new', 'old']);
    expect(await expectRecovered(prefix, runDate)).toBe(OLD.runId);
  });

  describe('killed', () => {
    let child: string;
    let source: string;
    let steps: number;
    beforeAll(async () => {
      child = await bundleChild('test/support/children/s3-publish-child.ts');
      source = await tempDir();
      await writeVersionTo(source, NEW);
    });

    it('keeps a complete night for every reader when the publishing process is SIGKILLed at each request, and recovery makes them agree', async () => {
      const outcomes: [number, string, string][] = [];
      const full = await withOldNight();
      const sourceFor = async (runDate: string): Promise<string> => {
        if (runDate === RUN_DATE) return source;
        const dir = await tempDir();
        await writeVersionTo(dir, NEW, runDate);
        return dir;
      };
      const probe = await runChild(child, [moto.endpoint, BUCKET, full.prefix, NEW.runId, await sourceFor(full.runDate), '0', 'publish'], { CLV_RUN_DATE: full.runDate });
      const log = (JSON.parse(probe.stdout) as { log: string[] }).log;
      steps = log.length;
      for (let k = 1; k <= steps; k++) {
        const { prefix, runDate } = await withOldNight();

        const result = await runChild(child, [moto.endpoint, BUCKET, prefix, NEW.runId, await sourceFor(runDate), String(k), 'publish'], { CLV_RUN_DATE: runDate });

        expect(result.signal, `k=${k}: ${result.stderr}`).toBe('SIGKILL');
        const seen = await seenOnS3(client, glue, BUCKET, prefix, runDate);
        outcomes.push([k, log[k - 1]!, `killed; ${describeSeen(seen)}`]);
        await expectRecovered(prefix, runDate);
      }
      console.info(table(`S3 store: publishing process SIGKILLed at its k-th request (of ${steps})`, outcomes));
      expect(steps).toBeGreaterThan(8);
    }, 600_000);
  });

  it('shows readers polling the manifest, the listing of its run and the Glue partitions the old night or the new one, never nothing or a mix', async () => {
    const { prefix, runDate } = await withOldNight();
    let publishing = true;
    const views = new Map<string, number>();
    const problems: string[] = [];
    const poller = (async () => {
      const reader = motoS3Client(moto.endpoint);
      const catalog = motoGlueClient(moto.endpoint);
      while (publishing) {
        try {
          const seen = await seenOnS3(reader, catalog, BUCKET, prefix, runDate);
          const view = `${seen.files.runId}:${seen.files.segments.join(',')}:${Object.values(seen.catalog).join(',')}`;
          views.set(view, (views.get(view) ?? 0) + 1);
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
    })();
    for (let i = 0; i < 6; i++) {
      const base = i % 2 === 0 ? NEW : OLD;
      const version = { ...base, runId: `${base.runId}-${i}` };
      const run = await storeOf(prefix).stage(version.runId);
      await run.publish(runDate, await stageVersion(run, version, runDate));
    }
    publishing = false;
    await poller;

    expect(problems).toEqual([]);
    // each view is one complete version: its segments, with the catalog on a run of the same content
    for (const view of views.keys()) expect(view).toMatch(/^(old(-\d)?:high,low|new-\d:high,mid):/);
    expect(views.size).toBeGreaterThan(1);
  }, 300_000);
});
