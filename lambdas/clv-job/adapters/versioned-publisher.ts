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
import { ClvError, PublishError, PublishStateError, SETTLED_BY, firstLine } from '../errors.js';
import { INTENT_KEY, LATEST_KEY, PUBLISH_DIR, manifestKey, runScopedKey, successKey, summaryKey } from '../layout.js';
import type { PublishOutcome, RecoveryReport, RunManifest } from '../ports.js';
import { readManifest, type ManifestRead } from '../schemas/manifest.js';

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

/** `latest.json`: the newest published run date, its run and the key its summary is read at (VersionSpace.readerKey). */
const latestSchema = z.object({ run_date: z.string(), run_id: z.string().min(1), summary: z.string() });

/**
 * The record of a night's switch cannot be read (S3: its manifest, the commit point, is damaged), so
 * which run readers see is not known from it. A re-run of the night replaces it (VersionedPublisher.publish).
 */
export class SwitchUnreadableError extends ClvError {
  constructor(
    /** The damaged record: a path or an `s3://` URL. */
    readonly file: string,
    readonly runDate: string,
    /** What is wrong with it, e.g. `not JSON (Unexpected end of JSON input)`. */
    readonly damage: string,
  ) {
    super(`${file} is ${damage}: which run readers see of ${runDate} is unknown; ${runAgain(runDate)} to replace it`);
  }
}

/**
 * What a store provides: small records replaced atomically, the run-scoped files, and the switch.
 * Keys are relative to the output root.
 */
export interface VersionSpace {
  readonly location: string;
  /** A record's text, or null when absent. Throws when it exists but cannot be read. */
  readRecord(key: string): Promise<string | null>;
  /** Replaces a record atomically: a reader sees the old one or the new one. */
  writeRecord(key: string, value: unknown): Promise<void>;
  deleteRecord(key: string): Promise<void>;
  /** Writes a file of a run into the run-scoped location (once). */
  putRunFile(runId: string, key: string, body: Uint8Array | string): Promise<void>;
  readRunFile(runId: string, key: string): Promise<Uint8Array | null>;
  /**
   * The key under which a file reader finds `key` of run `runId` once the run is switched to (what
   * `latest.json` names): the key itself where the switch puts the run's files there, the run-scoped
   * key where readers go through the night's manifest.
   */
  readerKey(runId: string, key: string): string;
  /** The run ids that have a run-scoped location. */
  listRuns(): Promise<string[]>;
  /** Removes a run's files. Only ever called for a run no reader sees. */
  removeRun(runId: string): Promise<void>;
  /** Whether every file of the manifest is in the run, with its size. */
  runHolds(manifest: RunManifest): Promise<boolean>;
  /** The run dates that have a committed switch, ascending. */
  liveRunDates(): Promise<string[]>;
  /**
   * The run readers see for a run date now (the committed switch), or null.
   * @throws SwitchUnreadableError when the switch's record exists but cannot be read
   */
  liveRun(runDate: string): Promise<string | null>;
  /** Work readers cannot see yet, so that the switch to `next` is one step. */
  prepareSwitch(next: RunManifest, previousRunId: string | null): Promise<void>;
  /** The switch. After it returns, `liveRun(runDate)` is `next.runId`. */
  switchTo(next: RunManifest): Promise<void>;
  /** Puts back what `prepareSwitch`/`switchTo` changed when the commit did not happen. */
  undoSwitch(previousRunId: string | null, runDate: string): Promise<void>;
  /** Removes what readers no longer see after a switch (stale links, temporary files). */
  tidy(runDate: string): Promise<void>;
}

export interface PublisherOptions {
  /**
   * Days a replaced version is kept for rollback before the next run removes it; null: none is
   * removed (a command that was not told the runs' retention, e.g. `clv rollback` without
   * --keep-previous-days, must not remove the version it was asked to restore by the default).
   * @default 30
   */
  readonly keepPreviousDays?: number | null;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export const DEFAULT_KEEP_PREVIOUS_DAYS = 30;

const DAY_MS = 86_400_000;

/** The publishing protocol over a store's VersionSpace. */
export class VersionedPublisher {
  private readonly keepPreviousDays: number | null;
  private readonly now: () => Date;

  constructor(
    private readonly space: VersionSpace,
    options: PublisherOptions = {},
  ) {
    this.keepPreviousDays = options.keepPreviousDays === undefined ? DEFAULT_KEEP_PREVIOUS_DAYS : options.keepPreviousDays;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Steps 1 to 5 above. Throws PublishError when the switch did not happen. A night whose switch
   * record is damaged (SwitchUnreadableError) is replaced all the same when the versions record
   * names its live run: that run is kept as the replaced version, as any other, and the outcome
   * says so; when it names none, nothing is published (which run readers see is unknown).
   */
  async publish(manifest: RunManifest): Promise<PublishOutcome> {
    const { runId, runDate } = manifest;
    await this.refuseUnsettled(`publishing run ${runId} of ${runDate}`);
    const warnings: string[] = [];
    // undefined until known: what readers see is then not known to the error message either
    let previousRunId: string | null | undefined;
    let intent: Intent | null = null;
    try {
      const replacedRunId = await this.replacedRun(runDate, warnings);
      previousRunId = replacedRunId;
      if (replacedRunId !== null) {
        // the switch needs its run id only: a damaged copy of its manifest only bars a rollback to it
        const replaced = await this.readRunManifest(replacedRunId, runDate);
        if (replaced.damage !== null) {
          const file = this.runFile(replacedRunId, manifestKey(runDate));
          warnings.push(`the manifest of run ${replacedRunId}, the version of ${runDate} this run replaced, is ${replaced.damage} (${file}): it is kept, but \`clv rollback\` cannot switch back to it`);
        }
      }
      await this.space.putRunFile(runId, manifestKey(runDate), JSON.stringify(manifest, null, 2) + '\n');
      await this.space.putRunFile(runId, successKey(runDate), '');
      intent = { action: 'publish', runId, runDate, previousRunId, startedAt: this.now().toISOString() };
      await this.space.writeRecord(INTENT_KEY, intent);
      await this.space.prepareSwitch(manifest, replacedRunId);
      await this.space.switchTo(manifest);
    } catch (error) {
      // before the intent, nothing outside the run was touched: the switch cannot have happened
      const switched = intent === null ? false : await this.committed(runDate, runId);
      if (switched === true) {
        return this.afterSwitch(intentOrDefault(intent, manifest, previousRunId ?? null), [...warnings, `the switch reported ${firstLine(error)} but took effect`]);
      }
      if (switched === 'unknown') throw this.switchUnknown(`publishing run ${runId} of ${runDate}`, error);
      const leftovers = await this.undo(intent, manifest);
      const seen = previousRunId === undefined ? 'nothing readers see changed' : `readers still see ${previousRunId === null ? 'no version of that night' : `run ${previousRunId}`}`;
      throw new PublishError(`publishing run ${runId} of ${runDate} failed before the switch (${firstLine(error)}): ${seen}` + (leftovers ? `; ${leftovers}` : ''), {
        cause: error,
      });
    }
    return this.afterSwitch(intent, warnings);
  }

  /**
   * The run a publish of `runDate` replaces: the live one, or, when the switch record is damaged,
   * the one the versions record names live (said in `warnings`).
   * @throws ClvError naming the damaged record when the versions record names no live run of `runDate` either
   */
  private async replacedRun(runDate: string, warnings: string[]): Promise<string | null> {
    try {
      return await this.space.liveRun(runDate);
    } catch (error) {
      if (!(error instanceof SwitchUnreadableError)) throw error;
      const recorded = liveVersion((await this.versions())[runDate] ?? []);
      if (recorded === undefined) {
        throw new ClvError(
          `${error.file} is ${error.damage}, and ${VERSIONS_KEY} names no live run of ${runDate}: which run readers see is unknown, so it was not replaced; put back the manifest of the run readers should see (each run keeps a copy: ${this.runFile('<run id>', manifestKey(runDate))}) and run again`,
        );
      }
      warnings.push(`${error.file} was ${error.damage}: replaced run ${recorded.runId}, the version of ${runDate} ${VERSIONS_KEY} names live`);
      return recorded.runId;
    }
  }

  /** The path or `s3://` URL of a key, for messages. */
  private locationOf(key: string): string {
    return `${this.space.location.replace(/\/?$/, '/')}${key}`;
  }

  /** The path or `s3://` URL of a run's copy of a key, for messages. */
  private runFile(runId: string, key: string): string {
    return this.locationOf(runScopedKey(runId, key));
  }

  /** Switches a run date back to the version its live one replaced. */
  async rollback(runDate: string): Promise<PublishOutcome> {
    await this.refuseUnsettled(`rolling ${runDate} back`);
    const versions = await this.versions();
    const list = versions[runDate] ?? [];
    const live = await this.space.liveRun(runDate);
    if (live === null) throw new ClvError(`${runDate} has no published version to roll back from in ${this.space.location}`);
    const liveIndex = list.findLastIndex((v) => v.runId === live);
    const target = rollbackTarget(list, live);
    if (!target) {
      // every version recorded before the live one is marked rolled back (a rollback switched away from it, or recovery
      // rebuilt the record and could not tell the order): kept, and complete ones can be offered by hand
      const notOffered: string[] = [];
      for (const v of list.slice(0, Math.max(0, liveIndex))) if (await this.isComplete(v.runId, runDate)) notOffered.push(v.runId);
      if (notOffered.length > 0) {
        throw new ClvError(
          `${runDate} has no previous version offered to rollback in ${this.space.location}: ${notOffered.length === 1 ? 'run' : 'runs'} ${notOffered.join(', ')} of that night ${notOffered.length === 1 ? 'is' : 'are'} kept and complete but marked rolled back (by a rollback, or by recovery rebuilding ${VERSIONS_KEY}); to offer one, set its "rolledBack" to false in ${this.locationOf(VERSIONS_KEY)} and put its entry just before the live one (README "Publishing records that cannot be read")`,
        );
      }
      const kept = this.keepPreviousDays === null ? 'for the days the runs were told to keep them (--keep-previous-days, default 30)' : `${this.keepPreviousDays} days`;
      // a rollback goes back only: the version an earlier rollback left is kept, but never switched to again
      const left = list.slice(Math.max(0, liveIndex) + 1).filter((v) => v.rolledBack);
      throw new ClvError(
        `${runDate} has no previous version kept in ${this.space.location} (versions are kept ${kept} after they are replaced)` +
          (left.length === 0 ? '' : `; run ${left.at(-1)!.runId}, which a rollback left, is kept, but a rollback goes back only: run the night again to publish anew`),
      );
    }
    const next = await this.runManifest(target.runId, runDate);
    if (next === null || !(await this.space.runHolds(next))) throw new ClvError(`the previous version of ${runDate} (run ${target.runId}) is incomplete: not rolled back`);
    const intent: Intent = { action: 'rollback', runId: target.runId, runDate, previousRunId: live, startedAt: this.now().toISOString() };
    try {
      await this.space.writeRecord(INTENT_KEY, intent);
      await this.space.prepareSwitch(next, live);
      await this.space.switchTo(next);
    } catch (error) {
      const switched = await this.committed(runDate, target.runId);
      if (switched === true) return this.afterSwitch(intent, [`the switch reported ${firstLine(error)} but took effect`]);
      if (switched === 'unknown') throw this.switchUnknown(`rolling ${runDate} back to run ${target.runId}`, error);
      const leftovers = await this.undo(intent, null);
      throw new PublishError(`rolling ${runDate} back to run ${target.runId} failed before the switch (${firstLine(error)}): readers still see run ${live}` + (leftovers ? `; ${leftovers}` : ''), {
        cause: error,
      });
    }
    return this.afterSwitch(intent, []);
  }

  /**
   * Finishes or undoes an interrupted publish (by whether its switch happened), then removes dead
   * staging (runs that are neither live nor a kept version) and versions past their retention. A
   * night whose live run is gone is a warning (lostNights), and nothing of it is tidied away.
   */
  async recover(): Promise<RecoveryReport> {
    const actions: string[] = [];
    const warnings: string[] = [];
    const switched: string[] = [];
    const intent = await this.readState(INTENT_KEY, intentSchema, 'a publish intent').catch(unlessUnreadable);
    const intentUnknown = intent instanceof PublishStateError;
    if (intent instanceof PublishStateError) {
      actions.push(await this.settleUnknownIntent(intent));
    } else if (intent !== null) {
      const { runId, runDate, previousRunId, action } = intent;
      const live = await this.committed(runDate, runId);
      if (live === 'unknown') {
        // undoing a switch that happened would delete what readers see: the intent stays for a later recovery
        warnings.push(`whether the ${action} of run ${runId} to ${runDate} switched cannot be read: left as it is`);
      } else if (live) {
        const outcome = await this.afterSwitch(intent, []);
        warnings.push(...outcome.warnings);
        actions.push(`rolled forward: the ${action} of run ${runId} to ${runDate} had switched; ${outcome.warnings.length === 0 ? 'finished it' : 'finished what it could'}`);
        switched.push(runDate);
      } else {
        await this.space.undoSwitch(previousRunId, runDate);
        await this.space.deleteRecord(INTENT_KEY);
        actions.push(`rolled back: the ${action} of run ${runId} to ${runDate} had not switched; ${previousRunId ? `run ${previousRunId}` : 'no version'} stays`);
      }
    }
    if ((await this.space.readRecord(INTENT_KEY)) !== null) {
      // an unfinished intent: which runs are live is not certain, so nothing is removed
      warnings.push(`${INTENT_KEY} is still there: dead staging and expired versions were left alone`);
      return { actions, warnings, switched, unfinished: true };
    }
    let versions = await this.recordedVersions(actions, intentUnknown);
    const recorded = (v: Versions): Set<string> => new Set(Object.values(v).flatMap((list) => list.map((version) => version.runId)));
    const runs = await this.space.listRuns();
    // every live run is in the record (a switch is recorded before its intent goes; recordedVersions
    // after an unknown intent), unless the record was edited by hand (a night's entry removed): before
    // a run the record does not name is removed as dead staging, what readers see is recorded again
    const named = recorded(versions);
    if (!intentUnknown && runs.some((runId) => !named.has(runId))) versions = await this.recordedVersions(actions, true);
    actions.push(...(await this.expire(versions)));
    const kept = recorded(versions);
    for (const runId of runs) {
      if (kept.has(runId)) continue;
      await this.space.removeRun(runId);
      actions.push(`removed dead staging of run ${runId}`);
    }
    const lost = Object.entries(versions).flatMap(([runDate, list]) => {
      const live = liveVersion(list);
      return live !== undefined && !runs.includes(live.runId) ? [{ runDate, runId: live.runId }] : [];
    });
    // tidying would remove the night's links into a lost run, which work again once its folder is put back
    for (const runDate of Object.keys(versions)) if (!lost.some((night) => night.runDate === runDate)) await this.space.tidy(runDate);
    if (lost.length > 0) warnings.push(...(await this.lostNights(lost)));
    const latest = await this.readState(LATEST_KEY, latestSchema, 'a latest record').catch(unlessUnreadable);
    if (latest instanceof PublishStateError) actions.push(`${latest.file} was ${latest.reason}: ${await this.rewriteLatest()}`);
    else if (latest === null && Object.keys(versions).length > 0) actions.push(`${LATEST_KEY} was missing: ${await this.rewriteLatest()}`);
    return { actions, warnings, switched };
  }

  /**
   * One warning per night whose live run (as the versions record names it) has no run-scoped files
   * at all (e.g. `_runs/<run id>/` deleted by hand): readers of the night find nothing, and nothing
   * here can rebuild it. Says what can: running the night again, or `clv rollback` when the version
   * it replaced is kept and still there (looked up after this recovery's expiry and clean-up).
   */
  private async lostNights(lost: readonly { runDate: string; runId: string }[]): Promise<string[]> {
    const versions = await this.versions();
    const runs = await this.space.listRuns();
    return lost.map(({ runDate, runId }) => {
      const target = rollbackTarget(versions[runDate] ?? [], runId);
      const back = target !== undefined && runs.includes(target.runId) ? `, or \`clv rollback --run-date ${runDate}\` to switch back to run ${target.runId}, the version it replaced` : '';
      return `${runDate} is published on run ${runId}, whose files are gone (${this.runFile(runId, '')}): readers of that night find nothing; ${runAgain(runDate)}${back}. Nothing of that night was removed`;
    });
  }

  /**
   * The run ids that are live or kept, per run date.
   * @throws PublishStateError when `_publish/versions.json` is not JSON of that shape
   */
  async versions(): Promise<Versions> {
    return (await this.readState(VERSIONS_KEY, versionsSchema, 'a versions record')) ?? {};
  }

  /**
   * A publishing record checked against its schema; null when absent.
   * @throws PublishStateError naming the record (path or `s3://` URL) when it is not JSON or not of its shape
   */
  private async readState<T>(key: string, schema: z.ZodType<T>, what: string): Promise<T | null> {
    const text = await this.space.readRecord(key);
    if (text === null) return null;
    const file = `${this.space.location.replace(/\/?$/, '/')}${key}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new PublishStateError(file, `not JSON (${firstLine(error)})`, { cause: error });
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new PublishStateError(file, `not ${what} (${issue ? `${issue.path.join('.') || 'the record'}: ${issue.message}` : 'unknown shape'})`);
  }

  /**
   * An intent that cannot be read names no run: the publish it recorded may have switched or not.
   * Each night stays on the run readers see now (the commit point; on S3 the catalog is pointed back
   * at it, as for a publish that did not switch), and the intent goes. A run that switched but was
   * not recorded is recorded by `recordedVersions`, so it is never taken for dead staging.
   */
  private async settleUnknownIntent(unreadable: PublishStateError): Promise<string> {
    const nights = await this.space.liveRunDates();
    for (const runDate of nights) {
      const live = await this.space.liveRun(runDate);
      if (live !== null) await this.space.undoSwitch(live, runDate);
    }
    await this.space.deleteRecord(INTENT_KEY);
    return `${unreadable.file} was ${unreadable.reason}: the publish it recorded is unknown; each of the ${nights.length} published night(s) stays on the run readers see, and the intent was removed`;
  }

  /**
   * The versions record, made to hold every night's live run: rebuilt when it cannot be read, and,
   * after an unknown intent (`reconcile`), completed with a live run missing from it (a switch whose
   * record was lost). Without both, the protocol guarantees it already names every live run, and
   * nothing is looked up per night. Says what it did in `actions`.
   */
  private async recordedVersions(actions: string[], reconcile: boolean): Promise<Versions> {
    const read = await this.readState(VERSIONS_KEY, versionsSchema, 'a versions record').catch(unlessUnreadable);
    // no record while nights are published: deleted (README's layout calls _publish/ the publishing
    // state, not scratch), and every run would be taken for dead staging; rebuilt as a damaged one is
    const record =
      read === null && (await this.space.liveRunDates()).length > 0
        ? new PublishStateError(this.locationOf(VERSIONS_KEY), 'missing while nights are published')
        : (read ?? {});
    if (record instanceof PublishStateError) {
      const { versions, older } = await this.rebuildVersions();
      await this.space.writeRecord(VERSIONS_KEY, versions);
      actions.push(
        `${record.file} was ${record.reason}: rebuilt it from the runs readers see, ${Object.keys(versions).length} night(s) each on its live run` +
          (older > 0
            ? `; ${older} complete older run(s) of those nights kept as replaced versions${this.keepPreviousDays === null ? '' : ` for ${this.keepPreviousDays} days`} but not offered to \`clv rollback\` (which were published, in what order, and which were rolled back from is recorded nowhere else: README "Publishing records that cannot be read" says how to offer one)`
            : ''),
      );
      return versions;
    }
    let versions = record;
    if (!reconcile) return versions;
    const missing: string[] = [];
    for (const runDate of await this.space.liveRunDates()) {
      const live = await this.space.liveRun(runDate);
      if (live === null || versions[runDate]?.some((v) => v.runId === live && v.replacedAt === null)) continue;
      // a night with no entry at all (removed by hand) gets what a rebuilt record gives it: its complete older runs kept too
      versions =
        versions[runDate] === undefined
          ? { ...versions, [runDate]: await this.nightVersions(runDate, live, await this.space.listRuns()) }
          : this.recordSwitch(versions, { action: 'publish', runId: live, runDate, previousRunId: null, startedAt: this.now().toISOString() });
      missing.push(`run ${live} of ${runDate}`);
    }
    if (missing.length > 0) {
      await this.space.writeRecord(VERSIONS_KEY, versions);
      actions.push(`recorded in ${VERSIONS_KEY} what readers see but it did not name as live: ${missing.join(', ')}`);
    }
    return versions;
  }

  /**
   * What `_publish/versions.json` can be rebuilt from: each night with a switch, its live run, and
   * the other complete runs of that night (a manifest of it and every file), as replaced versions
   * from now, marked rolled back so that `clv rollback` never switches to one on a guess.
   */
  private async rebuildVersions(): Promise<{ versions: Versions; older: number }> {
    const runs = await this.space.listRuns();
    const versions: Versions = {};
    let older = 0;
    for (const runDate of await this.space.liveRunDates()) {
      const live = await this.space.liveRun(runDate);
      if (live === null) continue;
      versions[runDate] = await this.nightVersions(runDate, live, runs);
      older += versions[runDate].length - 1;
    }
    return { versions, older };
  }

  /** A night's versions as recorded nowhere else: `live`, after the other complete runs of the night among `runs`, kept from now as rolled back. */
  private async nightVersions(runDate: string, live: string, runs: readonly string[]): Promise<Version[]> {
    const at = this.now().toISOString();
    const list: Version[] = [];
    for (const runId of [...runs].sort()) {
      if (runId === live) continue;
      if (await this.isComplete(runId, runDate)) list.push({ runId, publishedAt: at, replacedAt: at, rolledBack: true });
    }
    return [...list, { runId: live, publishedAt: at, replacedAt: null, rolledBack: false }];
  }

  /**
   * Whether an unfinished publish or rollback (its intent) names `runId`, or the intent cannot be
   * read: then the run's files are what a switch may already show (on S3 the Glue partitions move
   * before the manifest commits), so only a recovery, which reads the switch, may remove them.
   */
  async pendingFor(runId: string): Promise<boolean> {
    try {
      return (await this.readState(INTENT_KEY, intentSchema, 'a publish intent'))?.runId === runId;
    } catch {
      return true;
    }
  }

  /**
   * Whether `runId` is what readers of `runDate` see; 'unknown' when the switch cannot be read for a
   * reason of the moment (then nothing may be undone). A damaged switch (S3: the night's manifest,
   * SwitchUnreadableError) is no switch to `runId`, whose switch writes it whole.
   */
  private async committed(runDate: string, runId: string): Promise<boolean | 'unknown'> {
    try {
      return (await this.space.liveRun(runDate)) === runId;
    } catch (error) {
      return error instanceof SwitchUnreadableError ? false : 'unknown';
    }
  }

  /** A failed switch whose outcome cannot be read: everything stays (the intent included) for the next run or a recovery to settle. */
  private switchUnknown(what: string, error: unknown): PublishError {
    return new PublishError(`${what} failed at the switch (${firstLine(error)}), and whether the switch took effect cannot be read: nothing was undone; ${SETTLED_BY}`, {
      cause: error,
    });
  }

  /**
   * Refuses to start a publish or a rollback while an earlier one's intent is there (a recovery could
   * not settle it): writing its own would overwrite the only record of what that one left half done.
   * @throws PublishError
   */
  private async refuseUnsettled(what: string): Promise<void> {
    const intent = await this.space.readRecord(INTENT_KEY).catch((error: unknown) => {
      throw new PublishError(`${what} was not started: whether an earlier one is unfinished cannot be read (${firstLine(error)}): readers see what they saw`, { cause: error });
    });
    if (intent === null) return;
    throw new PublishError(`${what} was not started: an earlier publish or rollback is unfinished (${INTENT_KEY} is still there) and would lose its record; ${SETTLED_BY}`);
  }

  /** A run's copy of its manifest, null when it has none or it is damaged (the run is then incomplete). */
  private async runManifest(runId: string, runDate: string): Promise<RunManifest | null> {
    return (await this.readRunManifest(runId, runDate)).manifest;
  }

  /** Whether a run holds a readable manifest of `runDate` and every file it lists. */
  private async isComplete(runId: string, runDate: string): Promise<boolean> {
    const manifest = await this.runManifest(runId, runDate);
    return manifest !== null && (await this.space.runHolds(manifest));
  }

  private async readRunManifest(runId: string, runDate: string): Promise<ManifestRead> {
    return readManifest(await this.space.readRunFile(runId, manifestKey(runDate)));
  }

  /**
   * Best effort: what the switch's preparation changed is put back (only once the intent exists is
   * the previous version known and anything outside the run touched), the intent goes, and so does
   * the run's copy when nothing reads it. Returns what stayed.
   */
  private async undo(intent: Intent | null, attempted: RunManifest | null): Promise<string> {
    try {
      if (intent) {
        await this.space.undoSwitch(intent.previousRunId, intent.runDate);
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
        // never the version this switch replaced: with --keep-previous-days 0 it is kept until the next run, as README says
        await this.expire(versions, intent.previousRunId);
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

  /** Removes versions replaced more than `keepPreviousDays` ago (never a live one, nor `justReplaced`). */
  private async expire(versions: Versions, justReplaced: string | null = null): Promise<string[]> {
    if (this.keepPreviousDays === null) return [];
    const cutoff = this.now().getTime() - this.keepPreviousDays * DAY_MS;
    const expired = Object.entries(versions).flatMap(([runDate, list]) =>
      list.filter((v) => v.replacedAt !== null && Date.parse(v.replacedAt) < cutoff && v.runId !== justReplaced).map((v) => ({ runDate, runId: v.runId })),
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
    // the newest night readers see, whatever latest.json named (missing, unreadable, or left on an
    // older night or an older run of it by an update that failed); a backfill's night is not the newest
    if ((await this.space.liveRunDates()).at(-1) !== runDate) {
      await this.rewriteLatest();
      return;
    }
    await this.space.writeRecord(LATEST_KEY, { run_date: runDate, run_id: runId, summary: this.space.readerKey(runId, summaryKey(runDate)) });
  }

  /** `latest.json` rewritten for the newest night readers see (removed when there is none); says what it did. */
  private async rewriteLatest(): Promise<string> {
    const runDate = (await this.space.liveRunDates()).at(-1);
    const runId = runDate === undefined ? null : await this.space.liveRun(runDate);
    if (runDate === undefined || runId === null) {
      await this.space.deleteRecord(LATEST_KEY);
      return 'removed it: no night is published';
    }
    await this.space.writeRecord(LATEST_KEY, { run_date: runDate, run_id: runId, summary: this.space.readerKey(runId, summaryKey(runDate)) });
    return `rewrote it for the newest night readers see, ${runDate} (run ${runId})`;
  }
}

/** The version of a night the versions record names live (not replaced); undefined when none. */
const liveVersion = (list: readonly Version[]): Version | undefined => list.findLast((v) => v.replacedAt === null);

/** The version `clv rollback` switches a night to from its `live` run: the newest kept before it that was not rolled back from; undefined when none. */
const rollbackTarget = (list: readonly Version[], live: string): Version | undefined => list.slice(0, Math.max(0, list.findLastIndex((v) => v.runId === live))).findLast((v) => !v.rolledBack);

/** How a user replaces a night: the CLI and the Lambda event. */
const runAgain = (runDate: string): string => `run ${runDate} again (\`clv run --as-of ${runDate}\`, the Lambda: {"runDate": "${runDate}"})`;

/** For `.catch`: an unreadable publishing record is returned to be repaired; any other failure is rethrown. */
const unlessUnreadable = (error: unknown): PublishStateError => {
  if (error instanceof PublishStateError) return error;
  throw error;
};

const intentOrDefault = (intent: Intent | null, manifest: RunManifest, previousRunId: string | null): Intent =>
  intent ?? { action: 'publish', runId: manifest.runId, runDate: manifest.runDate, previousRunId, startedAt: new Date().toISOString() };
