/**
 * Crash safety of the local folder store (SPEC "Output contract": no fault at any step loses the
 * previous version; readers never see half a night; two runs never overlap).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalFolderStore, type LocalFs } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import { PublishError } from '../../lambdas/clv-job/errors.js';
import { SUMMARY_DATASETS } from '../../lambdas/clv-job/schemas/tables.js';
import { faultPlan, faultyFs } from '../support/fault-fs.js';
import { tempDir } from '../support/files.js';
import { RUN_DATE, bundleChild, leftovers, runChild, seenLocally, stageVersion, writeVersionTo, type NightVersion } from '../support/publish-faults.js';

const OLD: NightVersion = { runId: 'old', segments: ['high', 'low'], rowsPerSegment: 3 };
const NEW: NightVersion = { runId: 'new', segments: ['high', 'mid'], rowsPerSegment: 3 };

/** An output folder whose night is OLD. */
const withOldNight = async (): Promise<string> => {
  const root = await tempDir();
  const store = new LocalFolderStore(root);
  const run = await store.stage(OLD.runId);
  await run.publish(RUN_DATE, await stageVersion(run, OLD));
  return root;
};

/** After recovery: one consistent version, no staging, no intent, no temporary files, no dangling links. */
const expectRecovered = async (root: string, seen: string): Promise<void> => {
  await new LocalFolderStore(root).recover();
  expect((await seenLocally(root)).runId).toBe(seen);
  expect(await leftovers(root)).toEqual([]);
  const runs = (await readdir(join(root, '_runs'))).sort();
  expect(runs).toEqual(seen === OLD.runId ? ['old'] : ['new', 'old']);
};

const table = (title: string, rows: readonly (readonly [number, string, string])[]): string =>
  [title, '| k | call | outcome |', '|---|---|---|', ...rows.map(([k, call, outcome]) => `| ${k} | ${call} | ${outcome} |`)].join('\n');

describe('the local folder store under faults', () => {
  it('keeps the previous night or shows the new one, never neither or a mix, when the k-th file-system call of a publish fails, for every k', async () => {
    const outcomes: [number, string, string][] = [];
    for (let k = 1; ; k++) {
      const root = await withOldNight();
      const plan = faultPlan(k);
      const store = new LocalFolderStore(root, { fs: faultyFs(plan) });
      const run = await store.stage(NEW.runId);
      const manifest = await stageVersion(run, NEW);
      plan.armed = true;

      const result = await run.publish(RUN_DATE, manifest).then(
        (outcome) => ({ published: true as const, warnings: outcome.warnings }),
        (error: unknown) => ({ published: false as const, error }),
      );
      if (plan.calls < k) break; // the publish made fewer than k calls: every step has been tried

      const seen = await seenLocally(root);
      if (result.published) {
        expect(seen.runId, `k=${k}: reported published`).toBe(NEW.runId);
      } else {
        expect(result.error, `k=${k}`).toBeInstanceOf(PublishError);
        expect(seen.runId, `k=${k}: reported not published`).toBe(OLD.runId);
      }
      outcomes.push([k, plan.log[k - 1]!, result.published ? `published${result.warnings.length ? ' with a clean-up warning' : ''}` : 'failed, previous night intact']);
      await expectRecovered(root, seen.runId);
    }
    console.info(table('local store: failure injected at the k-th file-system call of a publish', outcomes));
    expect(outcomes.length).toBeGreaterThan(10);
    expect(outcomes.some(([, , o]) => o.startsWith('failed'))).toBe(true);
    expect(outcomes.some(([, , o]) => o.startsWith('published'))).toBe(true);
  });

  it('undoes nothing when the switch fails after taking effect and it cannot be read back: the new night stays whole, and recovery finishes it', async () => {
    // Prepare: the rename that is the switch takes effect, then reports EIO; the next look at the switch fails too (a flaky network disk)
    const root = await withOldNight();
    let armed = false;
    let readFails = 0;
    const flaky = new Proxy(nodeFs, {
      get(target, property) {
        const value = (target as Record<string | symbol, unknown>)[property];
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
          if (armed && property === 'rename' && String(args[1]).endsWith(`_live/run_date=${RUN_DATE}`)) {
            armed = false;
            readFails = 1;
            throw Object.assign(new Error('injected EIO after the rename took effect'), { code: 'EIO' });
          }
          return result;
        };
      },
    }) as LocalFs;
    const readlink = flaky.readlink.bind(flaky);
    const fs: LocalFs = new Proxy(flaky, {
      get: (target, property) =>
        property === 'readlink'
          ? async (...args: Parameters<typeof readlink>) => {
              if (readFails > 0) {
                readFails--;
                throw Object.assign(new Error('injected EIO reading the switch'), { code: 'EIO' });
              }
              return readlink(...args);
            }
          : (target as Record<string | symbol, unknown>)[property],
    }) as LocalFs;
    const run = await new LocalFolderStore(root, { fs }).stage(NEW.runId);
    const manifest = await stageVersion(run, NEW);
    armed = true;

    // Act: as the pipeline does after a failed publish, the run discarded
    const failed = await run.publish(RUN_DATE, manifest).catch((error: unknown) => error);
    await run.discard();

    // Assess: said not to be known, the new night readers now see kept whole, and settled by the next recovery
    expect(failed).toBeInstanceOf(PublishError);
    expect((failed as Error).message).toMatch(/whether the switch took effect cannot be read: nothing was undone; the next run or a recovery/);
    expect((await seenLocally(root)).runId).toBe(NEW.runId);
    await expectRecovered(root, NEW.runId);
  });

  describe('killed', () => {
    let child: string;
    let source: string;
    let steps: number;
    beforeAll(async () => {
      child = await bundleChild('test/support/children/local-publish-child.ts');
      source = await tempDir();
      await writeVersionTo(source, NEW);
      const root = await withOldNight();
      const full = await runChild(child, [root, NEW.runId, source, '0', 'publish']);
      steps = (JSON.parse(full.stdout) as { calls: number }).calls;
    });

    it('keeps the previous night or shows the new one when the publishing process is SIGKILLed at each step, and the next recovery tidies up', async () => {
      const outcomes: [number, string, string][] = [];
      for (let k = 1; k <= steps; k++) {
        const root = await withOldNight();

        const result = await runChild(child, [root, NEW.runId, source, String(k), 'publish']);

        expect(result.signal, `k=${k}`).toBe('SIGKILL');
        const seen = await seenLocally(root);
        outcomes.push([k, '', `killed; readers see ${seen.runId === NEW.runId ? 'the new night' : 'the previous night'}`]);
        await expectRecovered(root, seen.runId);
      }
      console.info(table(`local store: publishing process SIGKILLed at its k-th file-system call (of ${steps})`, outcomes));
      expect(steps).toBeGreaterThan(10);
    }, 300_000);

    it('finishes an interrupted publish even when the recovery itself is killed at each step', async () => {
      // killed just after the switch (the live link renamed), then recovery killed at each step
      const root0 = await withOldNight();
      const probe = await runChild(child, [root0, NEW.runId, source, '0', 'publish']);
      const log = (JSON.parse(probe.stdout) as { log: string[] }).log;
      // 1-based: the call right after the rename that is the switch (the first rename after the last symlink)
      const afterSwitch = log.indexOf('rename', log.lastIndexOf('symlink')) + 2;
      for (let k = 1; k < 40; k++) {
        const root = await withOldNight();
        await runChild(child, [root, NEW.runId, source, String(afterSwitch), 'publish']);
        const recovery = await runChild(child, [root, '', '', String(k), 'recover']);

        expect((await seenLocally(root)).runId, `k=${k}`).toBe(NEW.runId);
        await expectRecovered(root, NEW.runId);
        if (recovery.signal === null) {
          // a whole recovery of a publish killed after its switch: it says which night it finished, whose clean-up (a stale quality report) is the pipeline's
          expect((JSON.parse(recovery.stdout) as { recovery: { switched: string[] } }).recovery.switched).toEqual([RUN_DATE]);
          break;
        }
      }
    }, 300_000);
  });

  it('shows a reader polling the folder during re-publishes the old night or the new one, never nothing or a mix', async () => {
    const root = await withOldNight();
    /** One resolution of the folder as a reader following links sees it: file -> run id in it. */
    const look = (): string => {
      const seen: string[] = [];
      // a link may lead nowhere (not part of this version), or stop leading anywhere between two calls
      // when the switch falls inside a look: such a look differs from the next one and is not counted
      const orNowhere = <T>(read: () => T): T | null => {
        try {
          return read();
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
          throw error;
        }
      };
      const walk = (dir: string): void => {
        for (const name of orNowhere(() => readdirSync(dir)) ?? []) {
          const path = join(dir, name);
          const info = orNowhere(() => statSync(path));
          if (info === null) continue;
          if (info.isDirectory()) walk(path);
          else if (name === 'summary.json' || name.endsWith('.parquet') || name.endsWith('.csv')) {
            const bytes = orNowhere(() => readFileSync(path));
            if (bytes === null) continue;
            if (name === 'summary.json') seen.push(`summary:${(JSON.parse(bytes.toString('utf8')) as { run_id: string }).run_id}`);
            else seen.push(`${path.slice(root.length)}:${bytes.includes(Buffer.from('new')) ? 'new' : 'old'}`);
          }
        }
      };
      for (const dataset of ['customers', 'rejected', ...SUMMARY_DATASETS, 'audiences', 'summary']) walk(join(root, dataset));
      return seen.sort().join(' ');
    };
    const oldView = look();
    let publishing = true;
    const views = new Map<string, number>();
    const poller = (async () => {
      while (publishing) {
        // two looks in a row that agree are one instant's state (a look that straddles the switch differs from the next)
        const first = look();
        if (first === look()) views.set(first, (views.get(first) ?? 0) + 1);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const versions = [NEW, OLD];
    let newView = '';
    for (let i = 0; i < 20; i++) {
      const version = versions[i % 2]!;
      const store = new LocalFolderStore(root);
      const run = await store.stage(`${version.runId}-${i}`);
      const files = await stageVersion(run, version);
      await run.publish(RUN_DATE, { ...files, runId: `${version.runId}-${i}` });
      if (i === 0) newView = look();
    }
    publishing = false;
    await poller;

    expect(newView).not.toBe(oldView);
    expect([...views.keys()].filter((v) => v !== oldView && v !== newView)).toEqual([]);
    expect(views.size).toBe(2);
  }, 60_000);

  it('lets exactly one of four runs started at once over a dead holder\'s lock proceed, in each of 50 trials', async () => {
    const child = await bundleChild('test/support/children/local-lock-child.ts');
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const winners: number[] = [];
    for (let trial = 0; trial < 50; trial++) {
      const root = await tempDir();
      const { mkdir, writeFile } = await import('node:fs/promises');
      await mkdir(join(root, '_lock'), { recursive: true });
      await writeFile(join(root, '_lock/run.lock'), JSON.stringify({ runId: 'dead', pid: dead.pid, host: (await import('node:os')).hostname(), since: new Date().toISOString(), token: `dead-${trial}` }));
      const runs = Array.from({ length: 4 }, () => {
        const p = spawn(process.execPath, [child, root], { stdio: ['pipe', 'pipe', 'inherit'] });
        const said = new Promise<string>((resolve) => {
          let out = '';
          p.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            if (out.includes('\n')) resolve(out.split(' ')[0]!.trim());
          });
          p.once('exit', () => resolve(out.split(' ')[0]!.trim() || 'exited'));
        });
        return { p, said };
      });
      const said = await Promise.all(runs.map((r) => r.said));
      for (const r of runs) r.p.stdin.end();
      await Promise.all(runs.map((r) => new Promise((resolve) => (r.p.exitCode !== null ? resolve(null) : r.p.once('exit', resolve)))));
      expect(said.filter((s) => s !== 'locked' && s !== 'busy'), `trial ${trial}`).toEqual([]);
      winners.push(said.filter((s) => s === 'locked').length);
    }
    console.info(`local lock: 50 trials of 4 runs over a dead holder's lock; runs that proceeded per trial: ${JSON.stringify(winners)}`);
    expect(winners).toEqual(Array(50).fill(1));
  }, 300_000);
});
