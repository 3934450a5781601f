/**
 * Write once, switch once: the publishing protocol both stores share (SPEC "Output contract").
 *
 * A run writes its files under `_runs/<run id>/` and never touches them again. Publishing a run
 * date is, in order:
 *   1. the run's manifest and `_SUCCESS`, written into the run (write once);
 *   2. an intent record (`_publish/intent.json`) naming the run, the run date and the version it
 *      replaces;
 *   3. the store's invisible preparation (local links that lead through the switch, Glue
 *      partitions that do not exist yet);
 *   4. THE SWITCH: one atomic step after which readers see the new run (a link renamed over the
 *      old one locally; on S3 the Glue partitions of each table in one call, then the run date's
 *      manifest in one PUT, which is the commit point);
 *   5. the versions record, `latest.json`, removal of the intent, clean-up of what readers no
 *      longer see, and expiry of old versions.
 * A failure before the switch leaves the previous version as readers saw it and is a failed run
 * (PublishError); a failure after it is a warning. A crash anywhere leaves the intent behind:
 * `recover` (which every run calls first, holding the lock) rolls forward when the switch
 * happened and back when it did not, then removes dead staging. Nothing here deletes a version
 * that readers see, or the one version a run date has.
 */
import { z } from 'zod';
import { ClvError, PublishError, firstLine } from '../errors.js';
import { INTENT_KEY, LATEST_KEY, PUBLISH_DIR, manifestKey, successKey, summaryKey } from '../layout.js';
import type { PublishOutcome, RecoveryReport, RunManifest } from '../ports.js';

/** The versions record: per run date, the versions published, oldest first. */
export const VERSIONS_KEY = `${PUBLISH_DIR}/versions.json`;

const versionSchema = z.object({
  runId: z.string().min(1),
  publishedAt: z.string(),
  /** When another version became live over this one; null while this one is live. */
  replacedAt: z.string().nullable(),
  /** Rolled back from: never a rollback target again. */
  rolledBack: z.boolean().default(false),
});
export type Version = z.infer<typeof versionSchema>;
const versionsSchema = z.record(z.string(), z.array(versionSchema));
export type Versions = z.infer<typeof versionsSchema>;

export const intentSchema = z.object({
  action: z.enum(['publish', 'rollback']),
  runId: z.string().min(1),
  runDate: z.string(),
  /** The run readers saw before the switch; null for a run date's first publish. */
  previousRunId: z.string().nullable(),
  startedAt: z.string(),
});
export type Intent = z.infer<typeof intentSchema>;

export const manifestSchema = z.object({
  runId: z.string().min(1),
  runDate: z.string(),
  files: z.array(z.object({ key: z.string(), bytes: z.number(), rows: z.number().nullable() })),
});

/**
 * What a store provides: small records replaced atomically, the run-scoped files, and the switch.
 * Keys are relative to the output root.
 */
export interface VersionSpace {
  readonly location: string;
  /** A JSON record, or null when absent. Throws when it exists but cannot be read. */
  readRecord(key: string): Promise<unknown>;
  /** Replaces a record atomically: a reader sees the old one or the new one. */
  writeRecord(key: string, value: unknown): Promise<void>;
  deleteRecord(key: string): Promise<void>;
  /** Writes a file of a run into the run-scoped location (once). */
  putRunFile(runId: string, key: string, body: Uint8Array | string): Promise<void>;
  readRunFile(runId: string, key: string): Promise<Uint8Array | null>;
  /** The run ids that have a run-scoped location. */
  listRuns(): Promise<string[]>;
  /** Removes a run's files. Only ever called for a run no reader sees. */
  removeRun(runId: string): Promise<void>;
  /** Whether every file of the manifest is in the run, with its size. */
  runHolds(manifest: RunManifest): Promise<boolean>;
  /** The run readers see for a run date now (the committed switch), or null. */
  liveRun(runDate: string): Promise<string | null>;
  /** Work readers cannot see yet, so that the switch to `next` is one step. */
  prepareSwitch(next: RunManifest, previous: RunManifest | null): Promise<void>;
  /** The switch. After it returns, `liveRun(runDate)` is `next.runId`. */
  switchTo(next: RunManifest, previous: RunManifest | null): Promise<void>;
  /** Puts back what `prepareSwitch`/`switchTo` changed when the commit did not happen. */
  undoSwitch(attempted: RunManifest | null, previous: RunManifest | null, runDate: string): Promise<void>;
  /** Removes what readers no longer see after a switch (stale links, temporary files). */
  tidy(runDate: string): Promise<void>;
}

export interface PublisherOptions {
  /**
   * Days a replaced version is kept for rollback before the next run removes it.
   * @default 30
   */
  readonly keepPreviousDays?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export const DEFAULT_KEEP_PREVIOUS_DAYS = 30;

const DAY_MS = 86_400_000;

/** The publishing protocol over a store's VersionSpace. */
export class VersionedPublisher {
  private readonly keepPreviousDays: number;
  private readonly now: () => Date;

  constructor(
    private readonly space: VersionSpace,
    options: PublisherOptions = {},
  ) {
    this.keepPreviousDays = options.keepPreviousDays ?? DEFAULT_KEEP_PREVIOUS_DAYS;
    this.now = options.now ?? (() => new Date());
  }

  /** Steps 1 to 5 above. Throws PublishError when the switch did not happen. */
  async publish(manifest: RunManifest): Promise<PublishOutcome> {
    const { runId, runDate } = manifest;
    let previous: RunManifest | null = null;
    let intent: Intent | null = null;
    try {
      const previousRunId = await this.space.liveRun(runDate);
      previous = previousRunId === null ? null : await this.runManifest(previousRunId, runDate);
      await this.space.putRunFile(runId, manifestKey(runDate), JSON.stringify(manifest, null, 2) + '\n');
      await this.space.putRunFile(runId, successKey(runDate), '');
      intent = { action: 'publish', runId, runDate, previousRunId, startedAt: this.now().toISOString() };
      await this.space.writeRecord(INTENT_KEY, intent);
      await this.space.prepareSwitch(manifest, previous);
      await this.space.switchTo(manifest, previous);
    } catch (error) {
      if (await this.committed(runDate, runId)) return this.afterSwitch(intentOrDefault(intent, manifest, previous), [`the switch reported ${firstLine(error)} but took effect`]);
      const leftovers = await this.undo(intent, manifest, previous);
      throw new PublishError(
        `publishing run ${runId} of ${runDate} failed before the switch (${firstLine(error)}): readers still see ${previous ? `run ${previous.runId}` : 'no version of that night'}` +
          (leftovers ? `; ${leftovers}` : ''),
        { cause: error },
      );
    }
    return this.afterSwitch(intent, []);
  }

  /** Switches a run date back to the version its live one replaced. */
  async rollback(runDate: string): Promise<PublishOutcome> {
    const versions = await this.versions();
    const list = versions[runDate] ?? [];
    const live = await this.space.liveRun(runDate);
    if (live === null) throw new ClvError(`${runDate} has no published version to roll back from in ${this.space.location}`);
    const liveIndex = list.findLastIndex((v) => v.runId === live);
    const target = list.slice(0, Math.max(0, liveIndex)).findLast((v) => !v.rolledBack);
    if (!target) throw new ClvError(`${runDate} has no previous version kept in ${this.space.location} (versions are kept ${this.keepPreviousDays} days after they are replaced)`);
    const next = await this.runManifest(target.runId, runDate);
    if (next === null || !(await this.space.runHolds(next))) throw new ClvError(`the previous version of ${runDate} (run ${target.runId}) is incomplete: not rolled back`);
    const previous = await this.runManifest(live, runDate);
    const intent: Intent = { action: 'rollback', runId: target.runId, runDate, previousRunId: live, startedAt: this.now().toISOString() };
    try {
      await this.space.writeRecord(INTENT_KEY, intent);
      await this.space.prepareSwitch(next, previous);
      await this.space.switchTo(next, previous);
    } catch (error) {
      if (await this.committed(runDate, target.runId)) return this.afterSwitch(intent, [`the switch reported ${firstLine(error)} but took effect`]);
      const leftovers = await this.undo(intent, null, previous);
      throw new PublishError(`rolling ${runDate} back to run ${target.runId} failed before the switch (${firstLine(error)}): readers still see run ${live}` + (leftovers ? `; ${leftovers}` : ''), {
        cause: error,
      });
    }
    return this.afterSwitch(intent, []);
  }

  /**
   * Finishes or undoes an interrupted publish (by whether its switch happened), then removes dead
   * staging (runs that are neither live nor a kept version) and versions past their retention.
   */
  async recover(): Promise<RecoveryReport> {
    const actions: string[] = [];
    const warnings: string[] = [];
    const intent = intentSchema.safeParse(await this.space.readRecord(INTENT_KEY));
    if (intent.success) {
      const { runId, runDate, previousRunId, action } = intent.data;
      if (await this.committed(runDate, runId)) {
        const outcome = await this.afterSwitch(intent.data, []);
        warnings.push(...outcome.warnings);
        actions.push(`rolled forward: the ${action} of run ${runId} to ${runDate} had switched; finished it`);
      } else {
        const previous = previousRunId === null ? null : await this.runManifest(previousRunId, runDate);
        const attempted = await this.runManifest(runId, runDate);
        await this.space.undoSwitch(attempted, previous, runDate);
        await this.space.deleteRecord(INTENT_KEY);
        actions.push(`rolled back: the ${action} of run ${runId} to ${runDate} had not switched; ${previousRunId ? `run ${previousRunId}` : 'no version'} stays`);
      }
    }
    if ((await this.space.readRecord(INTENT_KEY)) !== null) {
      // an unfinished or unreadable intent: which runs are live is not certain, so nothing is removed
      warnings.push(`${INTENT_KEY} is still there: dead staging and expired versions were left alone`);
      return { actions, warnings };
    }
    const versions = await this.versions();
    actions.push(...(await this.expire(versions)));
    const kept = new Set(Object.values(versions).flatMap((list) => list.map((v) => v.runId)));
    for (const runId of await this.space.listRuns()) {
      if (kept.has(runId)) continue;
      await this.space.removeRun(runId);
      actions.push(`removed dead staging of run ${runId}`);
    }
    for (const runDate of Object.keys(versions)) await this.space.tidy(runDate);
    return { actions, warnings };
  }

  /** The run ids that are live or kept, per run date. */
  async versions(): Promise<Versions> {
    const record = await this.space.readRecord(VERSIONS_KEY);
    if (record === null) return {};
    const parsed = versionsSchema.safeParse(record);
    if (!parsed.success) throw new ClvError(`${VERSIONS_KEY} in ${this.space.location} is not a versions record: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }

  private async committed(runDate: string, runId: string): Promise<boolean> {
    try {
      return (await this.space.liveRun(runDate)) === runId;
    } catch {
      return false;
    }
  }

  private async runManifest(runId: string, runDate: string): Promise<RunManifest | null> {
    const bytes = await this.space.readRunFile(runId, manifestKey(runDate));
    if (bytes === null) return null;
    const parsed = manifestSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    return parsed.success ? parsed.data : null;
  }

  /**
   * Best effort: what the switch's preparation changed is put back (only once the intent exists is
   * the previous version known and anything outside the run touched), the intent goes, and so does
   * the run's copy when nothing reads it. Returns what stayed.
   */
  private async undo(intent: Intent | null, attempted: RunManifest | null, previous: RunManifest | null): Promise<string> {
    try {
      if (intent) {
        await this.space.undoSwitch(attempted, previous, intent.runDate);
        await this.space.deleteRecord(INTENT_KEY);
      }
      if (attempted && intent?.action !== 'rollback') await this.space.removeRun(attempted.runId);
      return '';
    } catch (error) {
      return `clean-up waits for the next run or \`clv recover\` (${firstLine(error)})`;
    }
  }

  /** Step 5: each failure is a warning, and the intent stays so recovery finishes the job. */
  private async afterSwitch(intent: Intent, warnings: string[]): Promise<PublishOutcome> {
    const { runId, runDate } = intent;
    const attempt = async (what: string, work: () => Promise<unknown>): Promise<boolean> => {
      try {
        await work();
        return true;
      } catch (error) {
        warnings.push(`published, but ${what} failed (${firstLine(error)}); the next run or \`clv recover\` finishes it`);
        return false;
      }
    };
    const recorded =
      (await attempt('recording the version', async () => this.space.writeRecord(VERSIONS_KEY, this.recordSwitch(await this.versions(), intent)))) &&
      (await attempt('updating latest.json', () => this.updateLatest(runDate, runId))) &&
      (await attempt('removing the intent record', () => this.space.deleteRecord(INTENT_KEY)));
    if (recorded) {
      await attempt('tidying what readers no longer see', () => this.space.tidy(runDate));
      await attempt('removing expired versions', async () => {
        const versions = await this.versions();
        await this.expire(versions);
      });
    }
    return { runId, runDate, warnings };
  }

  /** The versions record after a switch; idempotent, so recovery may apply it again. */
  private recordSwitch(versions: Versions, intent: Intent): Versions {
    const at = this.now().toISOString();
    const list = [...(versions[intent.runDate] ?? [])];
    const replaced = (v: Version): Version => (v.replacedAt === null && v.runId !== intent.runId ? { ...v, replacedAt: at, rolledBack: v.rolledBack || intent.action === 'rollback' } : v);
    let updated = list.map(replaced);
    if (intent.action === 'publish' && !updated.some((v) => v.runId === intent.runId)) {
      updated.push({ runId: intent.runId, publishedAt: at, replacedAt: null, rolledBack: false });
    }
    updated = updated.map((v) => (v.runId === intent.runId ? { ...v, replacedAt: null, rolledBack: false } : v));
    return { ...versions, [intent.runDate]: updated };
  }

  /** Removes versions replaced more than `keepPreviousDays` ago (never a live one). */
  private async expire(versions: Versions): Promise<string[]> {
    const cutoff = this.now().getTime() - this.keepPreviousDays * DAY_MS;
    const expired = Object.entries(versions).flatMap(([runDate, list]) =>
      list.filter((v) => v.replacedAt !== null && Date.parse(v.replacedAt) < cutoff).map((v) => ({ runDate, runId: v.runId })),
    );
    if (expired.length === 0) return [];
    const remaining: Versions = Object.fromEntries(
      Object.entries(versions).map(([runDate, list]) => [runDate, list.filter((v) => !expired.some((e) => e.runDate === runDate && e.runId === v.runId))]),
    );
    // the record first: a run it no longer names is dead staging, which recovery removes anyway
    await this.space.writeRecord(VERSIONS_KEY, remaining);
    for (const { runId } of expired) await this.space.removeRun(runId);
    return expired.map((e) => `removed run ${e.runId}, a version of ${e.runDate} replaced more than ${this.keepPreviousDays} days ago`);
  }

  /** `latest.json` names the newest published run date; re-running an older night leaves it alone. */
  private async updateLatest(runDate: string, runId: string): Promise<void> {
    const current = z.object({ run_date: z.string() }).safeParse(await this.space.readRecord(LATEST_KEY));
    if (current.success && current.data.run_date > runDate) return;
    await this.space.writeRecord(LATEST_KEY, { run_date: runDate, run_id: runId, summary: summaryKey(runDate) });
  }
}

const intentOrDefault = (intent: Intent | null, manifest: RunManifest, previous: RunManifest | null): Intent =>
  intent ?? { action: 'publish', runId: manifest.runId, runDate: manifest.runDate, previousRunId: previous?.runId ?? null, startedAt: new Date().toISOString() };
