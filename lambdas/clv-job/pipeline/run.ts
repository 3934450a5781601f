import { latestAsOf, type ModelOptions } from '../config.js';
import { dayOf, isoDay } from '../domain/customers.js';
import type { AcquisitionSettings } from '../domain/acquisition/settings.js';
import type { SegmentSettings } from '../domain/segments/settings.js';
import type { GateFigures, GateSettings } from '../domain/quality-gates.js';
import { AccountingError, EmptyInputError, EngineError, NoValidOrderDateError, PublishError, QualityGateError, SETTLED_BY, UntrustedBacktestError } from '../errors.js';
import { QUALITY_DIR, qualityReportKey, reportKey, summaryKey, summarySchemaKey } from '../layout.js';
import { judgeSpend, SPEND_REJECTION_REASONS, type JudgedSpend, type SpendWindow } from '../domain/acquisition/spend.js';
import type { AudienceCsvBuilder, AudienceCsvJob, IntervalRunner, OutputStore, PublishOutcome, QueryEngine, RecoveryReport, RunLock, SpendSource, StagedRun, TableWriter } from '../ports.js';
import type { SpendInput } from '../schemas/summary-acquisition.js';
import { qualityReportSchema } from '../schemas/quality-report.js';
import { SUMMARY_SCHEMA_VERSION, summarySchema, undeclaredFields, type Summary } from '../schemas/summary.js';
import { summaryJsonSchemaText } from '../schemas/summary-json-schema.js';
import type { ConflictingDuplicate, CountsSection, RunWarning } from '../schemas/summary-run.js';
import type { SqlParameters } from '../sql/index.js';
import { accountFor, rowsDatedAfterAsOf, rowsDatedInFuture } from './accounting.js';
import { chooseByHoldout, runBacktest } from './backtest.js';
import {
  decodeAcquisitionMonths,
  decodeBgNbdPatterns,
  decodeConflictingDuplicates,
  decodeLatestOrderDate,
  decodeOutcomeCounts,
  decodeRejectedRows,
  decodeSpendPatterns,
  type OutcomeCountRow,
} from './engine-results.js';
import { decodeJson, loadPrevious, publishedSummary, queryCustomers } from './previous-run.js';
import { describeQualityReport, judgeQuality } from './quality.js';
import { rejectionExamples, rejectionNotes, type RejectionReasonExamples } from './rejection-examples.js';
import { fitModels, modelParameters, scoreCustomers } from './score-customers.js';
import { predictedClvByPattern, segmentAndCompare, segmentCutsSettings } from './segment-customers.js';
import { writeCustomers, writeRejected, type WrittenFile } from './write-tables.js';
import { writeSummaryDatasets } from './write-summary-datasets.js';
import { patternScoresOf, writeAudiences } from './write-audiences.js';
import { audiencesOf } from '../domain/segments/audiences.js';
import { summariseMovers } from '../domain/segments/movers.js';
import { REJECTED_COLUMNS } from '../schemas/tables.js';
import { counted } from '../domain/figure.js';

export const STAGES = ['lock', 'recover', 'query', 'gate', 'model', 'backtest', 'segment', 'write', 'publish'] as const;
export type Stage = (typeof STAGES)[number];

/** Told when each stage starts and ends, e.g. to draw progress on a terminal. */
export interface ProgressListener {
  stageStarted(stage: Stage): void;
  stageFinished(stage: Stage, seconds: number, detail: string): void;
}

export interface PipelineDeps {
  readonly engine: QueryEngine;
  readonly store: OutputStore;
  readonly tables: TableWriter;
  /** Wall clock, passed in so tests can fix it. */
  readonly now: () => Date;
  readonly newRunId: () => string;
  readonly progress?: ProgressListener;
  /** The marketing-spend input, when the run has one (`--spend`, config `spend.path`, the Lambda's spend prefix). */
  readonly spend?: SpendSource;
  /**
   * The exports left out because they could not be read (`--skip-bad-files`, or in quarantine on
   * AWS), named in the warnings. Asked while the night reads its input, so that on AWS, where a drop
   * read meanwhile adds or removes a record (with `watchedLocations`), the list and the numbers are of one input.
   */
  readonly skippedInputs?: () => Promise<readonly SkippedInput[]>;
  /** Computes the prediction intervals, e.g. on worker threads; in this thread when left out. */
  readonly intervals?: IntervalRunner;
  /** Builds the audience CSVs' bytes, e.g. on a worker thread while this one writes the tables; in this thread when left out. */
  readonly audiences?: AudienceCsvBuilder;
  /** Renders the run's HTML report, when the composition root has one. */
  readonly renderReport?: (summary: Summary) => string | Promise<string>;
}

export interface RunConfig {
  /** The as-of date; default: the latest valid order date (never later than today). */
  readonly asOf?: string;
  readonly model: ModelOptions;
  readonly nonPurchaseStatuses: readonly string[];
  readonly segments: SegmentSettings;
  /** LTV:CAC line and channel-diagnostic thresholds (config `acquisition`). */
  readonly acquisition: AcquisitionSettings;
  /** A run lock older than this is considered abandoned and taken over. */
  readonly lockTtlSeconds: number;
  /** When set, the summary carries a backtest holding out the last this many days. */
  readonly backtestHoldoutDays?: number;
  /** Data-quality gates checked before anything is published. */
  readonly gates: GateSettings;
  /** Publish even when a gate fails (the quality report is written all the same). */
  readonly acceptFailedGates: boolean;
}

/** An export the night leaves out, and why (one line, completing "it ..."). */
export interface SkippedInput {
  readonly source: string;
  readonly reason: string;
}

export interface RunResult {
  readonly summary: Summary;
  readonly files: readonly WrittenFile[];
  /** The rejection reasons, most rows first, each with up to three rows to look at. */
  readonly rejections: readonly RejectionReasonExamples[];
  /** What recovering an earlier crashed publish did before this run started. */
  readonly recovery: RecoveryReport;
  /** Clean-up after the switch that did not happen: the run is published all the same. */
  readonly publishWarnings: readonly string[];
}

/** An as-of date this long after the last valid order is more likely a typo than a plan. */
export const STALE_AS_OF_DAYS = 365;

/**
 * One night's run: lock -> recover -> query -> model -> segment -> write -> publish. The run's
 * files are written under its run-scoped location and published by one switch at the end, so any
 * failure before the switch leaves the previous outputs exactly as they were; a crash of an
 * earlier run is recovered first.
 */
export const runPipeline = async (deps: PipelineDeps, config: RunConfig): Promise<RunResult> => {
  const { engine, store, tables, progress } = deps;
  const startedAt = deps.now();
  const runId = deps.newRunId();
  const timings: Record<string, number> = {};
  const stage = async <T>(name: Stage, work: () => Promise<T>, detail: (result: T) => string = () => ''): Promise<T> => {
    progress?.stageStarted(name);
    const t0 = performance.now();
    const result = await work();
    const seconds = (performance.now() - t0) / 1000;
    timings[name] = Math.round(seconds * 1000) / 1000;
    progress?.stageFinished(name, seconds, detail(result));
    return result;
  };

  const lock = await stage('lock', () => store.lock(runId, config.lockTtlSeconds));
  const { result, warnings } = await underLock(lock, async () => {
    let staged: StagedRun | null = null;
    // closed however the run ends: a builder kept between runs (a warm Lambda's) holds no failed run's scores or thread
    let audienceJob: AudienceCsvJob | undefined;
    try {
      const recovery = await stage('recover', () => recoverPublishing(store), (r) => (r.actions.length === 0 ? 'nothing to recover' : r.actions.join('; ')));
      // its intent would be overwritten by tonight's: whatever that publish left half done would stay so
      if (recovery.unfinished === true) {
        throw new PublishError(`an earlier publish could be neither finished nor undone (${recovery.warnings.join('; ')}): nothing is published until ${SETTLED_BY}`);
      }
      // e.g. interval threads loading while the run queries and fits
      if (config.model.intervalDraws > 0) deps.intervals?.start?.();
      const query = await stage(
        'query',
        () => readUnchanged(engine, async () => {
          const inputRows = (await engine.run('inputRows', paramsFor(startedAt, config))).columns.input_rows?.[0];
          if (Number(inputRows) === 0) throw new EmptyInputError('the input holds no order rows: nothing to score, nothing published');
          const asOf = config.asOf ?? (await resolveLatestOrderDate(engine, startedAt, config));
          const params: SqlParameters = { asOf, nonPurchaseStatuses: config.nonPurchaseStatuses, latestAsOf: latestAsOf(startedAt) };
          // `classified`'s queries, then those of the relations built on it, `customers` last: an engine
          // that materialises the relations then holds only what the query at hand reads (DuckDbEngine)
          const outcomes = decodeOutcomeCounts(await engine.run('outcomeCounts', params));
          const judged = accountFor(Number(inputRows), outcomes);
          const datedAfterAsOf = rowsDatedAfterAsOf(outcomes);
          const datedInFuture = rowsDatedInFuture(outcomes);
          const rejected = decodeRejectedRows(
            await engine.run('rejectedRows', params),
            REJECTED_COLUMNS.map((c) => c.name),
          );
          const conflicting = judged.conflicting_duplicates > 0 ? decodeConflictingDuplicates(await engine.run('conflictingDuplicates', params)) : [];
          const acquisitionMonths = decodeAcquisitionMonths(await engine.run('acquisitionMonths', params));
          const { run: previous, gate: previousGate, warnings: lookupWarnings, laterRunDate, newestRunDate } = await loadPrevious(store, asOf);
          const { customers, previous: previousSegments, warnings: joinWarnings } = await queryCustomers(engine, previous, params);
          const previousWarnings = [...lookupWarnings, ...joinWarnings];
          const counts: CountsSection = { ...judged, customers: customers.size };
          if (rejected.rowCount !== counts.rejected_rows) {
            throw new AccountingError(`${counts.rejected_rows} rows were counted as rejected but ${rejected.rowCount} were listed`);
          }
          const bgnbd = decodeBgNbdPatterns(await engine.run('bgnbdPatterns', params));
          const spend = decodeSpendPatterns(await engine.run('spendPatterns', params));
          // everything per customer is in JavaScript now; the backtest, if any, builds its own relations
          await engine.release();
          const marketing = deps.spend === undefined ? null : await deps.spend.read();
          // described with what was read: the summary names the exports the night's numbers come from
          const input = await engine.describeInput();
          const skipped = (await deps.skippedInputs?.()) ?? [];
          return { skipped, asOf, customers, previous, previousGate, previousSegments, previousWarnings, laterRunDate, newestRunDate, counts, datedAfterAsOf, datedInFuture, rejected, conflicting, bgnbd, spend, acquisitionMonths, marketing, input };
        }),
        (q) => `${counted(q.counts.input_rows, 'row')}, ${counted(q.customers.size, 'customer')}, ${q.counts.rejected_rows} rejected`,
      );
      const runDate = query.asOf;
      const marketingSpend = query.marketing === null ? null : judgeSpend(query.marketing.records, spendWindowOf(runDate, query.customers.cohort));
      const { previous, previousSegments } = query;
      const quality = await stage(
        'gate',
        async () => {
          const verdict = judgeQuality({
            runId,
            runDate,
            asOf: query.asOf,
            asOfGiven: config.asOf !== undefined,
            counts: query.counts,
            rowsDatedAfterAsOf: query.datedAfterAsOf,
            rowsDatedInFuture: query.datedInFuture,
            customers: query.customers,
            rejected: query.rejected,
            ...query.previousGate,
            settings: config.gates,
            acceptFailedGates: config.acceptFailedGates,
            checkedAt: deps.now(),
          });
          if (verdict.section.passed) return verdict;
          // the report is written before anything else can fail: it is what the team looks at
          const key = qualityReportKey(runDate);
          await store.putReport(key, JSON.stringify(qualityReportSchema.parse(verdict.report), null, 2) + '\n');
          if (!config.acceptFailedGates) {
            const failed = verdict.section.gates.filter((g) => !g.passed).map((g) => `${g.gate} (${g.message})`);
            throw new QualityGateError(
              `data-quality gate failed: ${failed.join('; ')}. Quality report: ${store.location.replace(/\/?$/, '/')}${key}\n${describeQualityReport(verdict.report).join('\n')}`,
              verdict.report,
              key,
            );
          }
          return verdict;
        },
        (v) => (v.section.passed ? 'all gates passed' : 'gates failed, published on purpose'),
      );

      // the model stage in two timed halves: the fits (on the distinct patterns) and the scoring (per customer)
      const modelParts: Record<string, number> = {};
      const scored = await stage(
        'model',
        async () => {
          const choice =
            config.model.transactions === 'auto'
              ? await timedAsync(modelParts, 'model_choice', () =>
                  chooseByHoldout(engine, {
                    asOf: runDate,
                    firstOrderDay: query.customers.firstOrderDay,
                    holdoutDays: config.backtestHoldoutDays,
                    model: config.model,
                    nonPurchaseStatuses: config.nonPurchaseStatuses,
                  }),
                )
              : undefined;
          const fitted = await timedAsync(modelParts, 'model_fit', () => fitModels(query.bgnbd, query.spend, config.model, choice, deps.intervals));
          return timedAsync(modelParts, 'model_score', () => scoreCustomers(query.customers, fitted, config.model, deps.intervals));
        },
        (s) => s.statusMessage,
      );
      Object.assign(timings, modelParts);
      // e.g. the audience thread loading, and turning the scores to text, while the run segments (after the intervals: not on their cores)
      audienceJob = deps.audiences?.start(patternScoresOf(scored));

      const holdoutDays = config.backtestHoldoutDays;
      // a calibration fit that cannot be trusted gives no backtest (its parameters would be starting values), and a warning saying why
      const backtestWarnings: { code: string; message: string }[] = [];
      const backtest =
        holdoutDays === undefined
          ? undefined
          : await stage('backtest', () =>
              runBacktest(engine, {
                calibrationEnd: isoDay(dayOf(runDate) - holdoutDays),
                holdoutEnd: runDate,
                model: config.model,
                nonPurchaseStatuses: config.nonPurchaseStatuses,
              }).catch((error: unknown) => {
                if (!(error instanceof UntrustedBacktestError)) throw error;
                backtestWarnings.push({ code: 'backtest_not_trusted', message: error.message });
                return undefined;
              }),
            );

      const segmented = await stage(
        'segment',
        async () =>
          segmentAndCompare(
            {
              runDate,
              asOfDay: dayOf(runDate),
              customers: query.customers,
              scores: scored.scores,
              predictedClvByPattern: predictedClvByPattern(scored),
              measure: {
                ranking: scored.totals.ranking_clv,
                transactions: scored.models.transactions,
                timeUnit: config.model.timeUnit,
                horizon: config.model.horizon,
                discountRate: config.model.discountRate,
                margin: config.model.margin,
                lifespanYears: config.model.lifespanYears,
              },
              parameters: modelParameters(scored.models),
              settings: config.segments,
              previous,
              uncomparedPrevious: previous === null ? (query.previousGate.previous?.runDate ?? null) : null,
              laterRunDate: query.laterRunDate,
              previousSegments,
              acquisitionMonths: query.acquisitionMonths,
              spend: marketingSpend,
              spendMissingAt: deps.spend !== undefined && query.marketing === null ? deps.spend.location : null,
              margin: config.model.margin,
              acquisition: config.acquisition,
            },
            (summary) => modelParameters(summary.models),
          ),
        (s) => `${s.summary.changes.warnings.length} warnings`,
      );

      staged = await store.stage(runId);
      const run = staged;
      const files = await stage(
        'write',
        async () => {
          // the audiences' bytes are built (on a thread of their own, when the run has one) while the tables are written
          const audiences = writeAudiences(
            run,
            runDate,
            audiencesOf({
              customerIds: query.customers.customerId,
              rankingClv: scored.scores.rankingClv,
              segments: segmented.columns,
              movers: segmented.movers,
              actions: config.segments.actions,
            }),
            query.customers,
            scored,
            audienceJob,
          );
          const tableFiles = (async () => [
            ...(await writeCustomers(run, tables, runDate, query.customers, scored, segmented.columns)),
            await writeRejected(run, tables, runDate, query.rejected),
            ...(await writeSummaryDatasets(run, tables, runDate, segmented.summary, {
              movers: segmented.movers,
              previousRunDate: previous?.runDate ?? null,
              customers: query.customers,
              scores: scored.scores,
            })),
          ])();
          // both settle before a failure is thrown: the run's files are then discarded with nothing still writing
          const [written, audienceFiles] = await Promise.allSettled([tableFiles, audiences]);
          if (written.status === 'rejected') throw written.reason;
          if (audienceFiles.status === 'rejected') throw audienceFiles.reason;
          return [...written.value, ...audienceFiles.value];
        },
        (f) => `${counted(f.length, 'file')}, ${(f.reduce((s, x) => s + x.bytes, 0) / 1e6).toFixed(1)} MB`,
      );

      const finishedAt = deps.now();
      const draft: Summary = {
        schema_version: SUMMARY_SCHEMA_VERSION,
        run: {
          run_id: runId,
          run_date: runDate,
          as_of: query.asOf,
          as_of_source: config.asOf ? 'given' : 'latest_order_date',
          latest_order_date: quality.latestOrderDate,
          engine: engine.name,
          started_at: startedAt.toISOString(),
          finished_at: finishedAt.toISOString(),
          timings,
          inputs: { files: query.input.files, bytes: query.input.bytes, location: query.input.location },
          output: store.location,
          settings: {
            time_unit: config.model.timeUnit,
            horizon: config.model.horizon,
            discount_rate: config.model.discountRate,
            margin: config.model.margin,
            lifespan_years: config.model.lifespanYears,
            non_purchase_statuses: [...config.nonPurchaseStatuses],
            segments: segmentCutsSettings(config.segments),
          },
        },
        counts: query.counts,
        conflicting_duplicate_examples: query.conflicting,
        totals: scored.totals,
        models: scored.models,
        segments: segmented.summary.segments,
        channels: segmented.summary.channels,
        cohorts: segmented.summary.cohorts,
        concentration: segmented.summary.concentration,
        acquisition: segmented.summary.acquisition,
        acquisition_cohorts: segmented.summary.acquisition_cohorts,
        channel_segments: segmented.summary.channel_segments,
        churn: segmented.summary.churn,
        ...(query.marketing !== null && marketingSpend !== null
          ? { spend_input: spendInputOf(query.marketing.sources, marketingSpend, segmented.summary.acquisition) }
          : {}),
        changes: segmented.summary.changes,
        movers: summariseMovers(segmented.movers, query.customers.customerId, scored.scores, previousSegments === null ? null : (previous?.runDate ?? null)),
        ...(backtest ? { backtest } : {}),
        ...(scored.diagnostics ? { diagnostics: scored.diagnostics } : {}),
        quality: quality.section,
        warnings: [
          ...(quality.section.accepted_failed_gates
            ? [{ code: 'quality_gates_failed', message: `published although data-quality gates failed: ${quality.section.gates.filter((g) => !g.passed).map((g) => g.message).join('; ')}` }]
            : []),
          ...inputWarnings(query.skipped, query.counts.conflicting_duplicates, query.conflicting),
          ...staleCopiesWarning(query.input.staleCopies ?? []),
          ...staleAsOfWarning(runDate, query.customers.lastOrderDay),
          ...(config.asOf ? [] : behindPublishedWarning(runDate, query.newestRunDate)),
          ...shrunkReRunWarning(query.previousGate.replaced, query.counts.customers, config.segments.warnings.customerCountDrop),
          ...scored.warnings,
          ...backtestWarnings,
          ...query.previousWarnings,
          ...(query.customers.size === 0 ? [{ code: 'no_customers', message: 'no valid purchase: every row was rejected, duplicate or non-purchase' }] : []),
        ],
      };
      const summary = summarySchema.parse(draft);
      const undeclared = undeclaredFields(draft, summary);
      if (undeclared.length > 0) throw new Error(`the summary holds fields its schema does not declare: ${undeclared.join(', ')}`);
      const summaryText = JSON.stringify(summary, null, 2) + '\n';
      await staged.put(summaryKey(runDate), summaryText);
      const schemaText = summaryJsonSchemaText();
      await staged.put(summarySchemaKey(runDate), schemaText);
      const report = await deps.renderReport?.(summary);
      if (report !== undefined) await staged.put(reportKey(runDate), report);
      const allFiles: WrittenFile[] = [
        ...files,
        { key: summaryKey(runDate), rows: null, bytes: Buffer.byteLength(summaryText) },
        { key: summarySchemaKey(runDate), rows: null, bytes: Buffer.byteLength(schemaText) },
        ...(report === undefined ? [] : [{ key: reportKey(runDate), rows: null, bytes: Buffer.byteLength(report) }]),
      ];

      const published = await stage('publish', () => run.publish(runDate, { runId, runDate, files: allFiles }));
      staged = null;
      const reportWarnings = quality.section.passed ? await removeStaleQualityReport(store, runDate) : [];
      return {
        summary,
        files: allFiles,
        rejections: rejectionExamples(summary.counts, query.rejected),
        recovery,
        publishWarnings: [...recovery.warnings, ...published.warnings, ...reportWarnings],
      };
    } catch (error) {
      await staged?.discard().catch(() => undefined);
      throw error;
    } finally {
      await audienceJob?.close();
    }
  });
  return warnings.length === 0 ? result : { ...result, publishWarnings: [...result.publishWarnings, ...warnings] };
};

/**
 * Runs `work` holding `lock`, then releases it, and returns what `work` returned with the warning
 * of a release that failed: what `work` did stands (a night published, rolled back or recovered is
 * so whatever happens to the lock, which frees itself once its time to live passes), so a release
 * failure after it must not report it failed. When `work` throws, its error is the one thrown.
 */
export const underLock = async <T>(lock: RunLock, work: () => Promise<T>): Promise<{ readonly result: T; readonly warnings: string[] }> => {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }
  try {
    await lock.release();
    return { result, warnings: [] };
  } catch (error) {
    return { result, warnings: [`the run lock could not be released (${(error as Error).message}): it frees itself once its time to live passes; what this run did stands`] };
  }
};

/**
 * Removes the quality report an earlier failed run of `runDate` left, now that a run whose gates
 * passed is published for it: `_quality/` then says of a published night only why it was published
 * with failed gates (--accept-failed-gates), never that a night now published failed. After the
 * switch, like the rest of the clean-up: a failure is a warning, and the night stays published.
 */
const removeStaleQualityReport = async (store: OutputStore, runDate: string): Promise<string[]> => {
  const key = qualityReportKey(runDate);
  try {
    await store.removeReport(key);
    return [];
  } catch (error) {
    return [`the quality report of an earlier failed run, ${key}, could not be removed: ${(error as Error).message}`];
  }
};

/** How many times a night reads its input while exports keep landing under it, before it gives up. */
export const INPUT_READ_ATTEMPTS = 3;

/**
 * Runs `read`, the night's queries, between two looks at the engine's input version, and again
 * when they differ: ingest runs whenever a file lands, and each query reads the exports there are
 * when it runs, so an export dropped, replaced or removed between two of them would give one night
 * counts from one set of exports and customers or fits from another (or break the accounting check,
 * saying a row was lost). A failure of `read` while the input changed is read again likewise. An
 * engine that cannot tell its version (null) is read once.
 * @throws what `read` throws with the input unchanged; EngineError (transient) when it changed on
 *   every one of INPUT_READ_ATTEMPTS reads
 */
const readUnchanged = async <T>(engine: QueryEngine, read: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt += 1) {
    const before = await engine.inputVersion();
    const outcome = await read().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if (before === null || (await engine.inputVersion()) === before) {
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    }
    if (attempt >= INPUT_READ_ATTEMPTS) {
      throw new EngineError(
        `the exports changed while the night read them, ${attempt} times in a row (files keep landing in the drop location): ` +
          'nothing published; run the night again once the drops have settled',
        { transient: true, ...('error' in outcome ? { cause: outcome.error } : {}) },
      );
    }
  }
};

/**
 * Switches `runDate` back to the version its current one replaced (OutputStore.rollback, holding the
 * lock), and removes the night's quality report when the version now live passed its gates: the
 * report was the replaced version's (published with --accept-failed-gates), and `_quality/` must not
 * say that a published night failed. A live summary that cannot be read leaves the report.
 * @throws what OutputStore.rollback throws
 */
export const rollbackNight = async (store: OutputStore, runDate: string): Promise<PublishOutcome> => {
  const outcome = await store.rollback(runDate);
  return { ...outcome, warnings: [...outcome.warnings, ...(await clearStaleQualityReport(store, runDate))] };
};

/**
 * Finishes or undoes a publish a crash interrupted (OutputStore.recover), with the publishing
 * process's own clean-up for a night it rolls forward: a failed gate's report goes once a run whose
 * gates passed is live (left, `_quality/` said a published night had failed). So does such a report
 * that a publish left although it was not interrupted (clearOutdatedQualityReports).
 */
export const recoverPublishing = async (store: OutputStore): Promise<RecoveryReport> => {
  const report = await store.recover();
  const switched = report.switched ?? [];
  const warnings = [...report.warnings];
  for (const runDate of switched) warnings.push(...(await clearStaleQualityReport(store, runDate)));
  const outdated = await clearOutdatedQualityReports(store, switched);
  return { ...report, actions: [...report.actions, ...outdated.actions], warnings: [...warnings, ...outdated.warnings] };
};

/** removeStaleQualityReport when the version now live for `runDate` passed its gates; none otherwise. */
const clearStaleQualityReport = async (store: OutputStore, runDate: string): Promise<string[]> => {
  const live = await publishedSummary(store, runDate).catch(() => null);
  return live?.quality?.passed === true ? removeStaleQualityReport(store, runDate) : [];
};

/** What a quality report says of when its run judged the night; read leniently, so a report of an older format is judged too. */
const reportRunSchema = qualityReportSchema.pick({ run_id: true, checked_at: true });

/**
 * Removes (removeStaleQualityReport) the report of each published night but those in `skip` whose
 * live version passed its gates and started after the report's run judged the night: its
 * `checked_at` is before the live summary's `run.started_at` (runs of one output never overlap, under
 * its lock). A publish killed between its switch and that removal, or a removal that failed, left
 * it: no recovery switched that night. A report written after the live version started (a later run
 * that failed and published nothing) is the news that the latest try failed, and stays; so does one
 * that is not a quality report or whose night's summary cannot be read, as nothing says it is stale.
 * Shapes: one action per report removed; a failure is a warning, and the nights stay as they are.
 */
const clearOutdatedQualityReports = async (store: OutputStore, skip: readonly string[]): Promise<Pick<RecoveryReport, 'actions' | 'warnings'>> => {
  const actions: string[] = [];
  const warnings: string[] = [];
  try {
    const published = new Set(await store.publishedRunDates());
    for (const runDate of await store.qualityReportDates()) {
      if (!published.has(runDate) || skip.includes(runDate)) continue;
      const bytes = await store.read(qualityReportKey(runDate));
      const failed = reportRunSchema.safeParse(bytes === null ? undefined : decodeJson(bytes));
      const live = await publishedSummary(store, runDate).catch(() => null);
      if (!failed.success || live?.quality?.passed !== true || !(Date.parse(failed.data.checked_at) < Date.parse(live.run.started_at))) continue;
      const removal = await removeStaleQualityReport(store, runDate);
      warnings.push(...removal);
      if (removal.length === 0) {
        actions.push(`removed ${qualityReportKey(runDate)}: its run ${failed.data.run_id} failed its gates before run ${live.run.run_id}, live for ${runDate}, passed them`);
      }
    }
  } catch (error) {
    warnings.push(`the quality reports under ${QUALITY_DIR}/ could not be compared with the published nights: ${(error as Error).message}`);
  }
  return { actions, warnings };
};

/** The months whose spend counts: from the earliest acquisition month among the customers to the as-of month. */
const spendWindowOf = (asOf: string, cohorts: readonly string[]): SpendWindow => {
  let first: string | null = null;
  for (const cohort of cohorts) if (first === null || cohort < first) first = cohort;
  return { asOfMonth: asOf.slice(0, 7), firstOrderMonth: first };
};

/** The spend input's accounting for the summary. */
const spendInputOf = (sources: readonly string[], judged: JudgedSpend, acquisition: Summary['acquisition']): SpendInput => {
  const rejected = SPEND_REJECTION_REASONS.reduce((sum, r) => sum + judged.rejectedByReason[r], 0);
  let total = 0;
  for (const row of judged.rows) total += row.spend;
  return {
    sources: [...sources],
    input_rows: judged.inputRows,
    accepted_rows: judged.rows.length,
    rejected_rows: rejected,
    rejected_by_reason: { ...judged.rejectedByReason },
    rejected_examples: judged.rejectedExamples.map((e) => ({ ...e })),
    total_spend: total,
    channels_without_customers: acquisition.filter((row) => row.customers_acquired === 0).map((row) => row.channel),
  };
};

/**
 * A warning when inputs were read by another version of the ingest's reader (InputDescription.staleCopies):
 * this version may read those exports otherwise (a stray quote, a placeholder date), and a laptop,
 * whose cache is keyed by the reader, would. None when every input is this reader's.
 */
const staleCopiesWarning = (stale: readonly string[]): RunWarning[] =>
  stale.length === 0
    ? []
    : [
        {
          code: 'stale_canonical_copies',
          message:
            `${counted(stale.length, 'canonical copy', 'canonical copies')} (e.g. ${stale[0]}) ${stale.length === 1 ? 'was' : 'were'} made by another version of the ingest's reader than this job's, ` +
            'which may read those exports otherwise (a laptop would): re-ingest the drop ({"reingest":true}, docs/deploy.md) so that the night reads every export one way',
        },
      ];

/** One copy of a reused order key as the warning shows it: customer, date and amount (the three that can differ), then where it is. */
const copyText = (copy: ConflictingDuplicate['kept']): string => `${copy.customer_id} ${copy.order_date} ${copy.amount} (${copy.source_file} line ${copy.source_line})`;

/** Warnings about the input itself: exports left out, order numbers reused for different orders. */
const inputWarnings = (
  skipped: readonly SkippedInput[],
  conflicting: number,
  examples: readonly ConflictingDuplicate[],
): RunWarning[] => [
  ...skipped.map((s) => ({ code: 'unreadable_file', message: `${s.source} was left out: it ${s.reason}` })),
  ...(conflicting === 0
    ? []
    : [
        {
          code: 'conflicting_duplicates',
          message:
            `${conflicting} ${conflicting > 1 ? 'orders reuse' : 'order reuses'} an order key with a different customer, date or amount ` +
            `(e.g. order ${examples[0]?.order_id ?? '?'}: ${examples[0] ? `${copyText(examples[0].repeat)} vs ${copyText(examples[0].kept)}, kept` : ''}); ` +
            'only the last copy counts: if the sources number orders independently, name their distinguishing column in the config\'s "orderKey"',
        },
      ]),
];

/** Runs async `work`, recording its seconds under `name` (rounded as the stages' are). */
const timedAsync = async <T>(into: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const result = await work();
  into[name] = Math.round(performance.now() - t0) / 1000;
  return result;
};

const today = (now: Date): string => now.toISOString().slice(0, 10);

const paramsFor = (now: Date, config: RunConfig): SqlParameters => ({
  asOf: config.asOf ?? today(now),
  nonPurchaseStatuses: config.nonPurchaseStatuses,
  latestAsOf: latestAsOf(now),
});

/**
 * The latest valid order date, judged with today as the as-of date so a future-dated row cannot win.
 * With no valid order date at all there is nothing to date the run by: today's date would publish an
 * empty run under a date no order supports, so the run fails, saying why the rows were rejected.
 * @throws NoValidOrderDateError
 */
const resolveLatestOrderDate = async (engine: QueryEngine, now: Date, config: RunConfig): Promise<string> => {
  const params = paramsFor(now, { ...config, asOf: today(now) });
  const latest = decodeLatestOrderDate(await engine.run('latestOrderDate', params));
  if (latest !== null) return latest;
  const outcomes = decodeOutcomeCounts(await engine.run('outcomeCounts', params));
  const rows = outcomes.reduce((sum, o) => sum + o.row_count, 0);
  const reasons = outcomes
    .filter((o) => o.reason !== null)
    .sort((a, b) => b.row_count - a.row_count)
    .map((o) => `${o.row_count} ${o.reason}`);
  throw new NoValidOrderDateError(
    `no row has a valid order date on or before today (${today(now)}), so there is no as-of date to run for ` +
      `(${rows} rows read${reasons.length > 0 ? `; rejected: ${reasons.join(', ')}` : ''}). ${await noOrderDateAdvice(engine, params, outcomes, rows)}`,
  );
};

const ISO_DATES = 'order_date must be an ISO 8601 date (e.g. 2025-12-31) or timestamp, or as csv.dateFormat says when the config file sets one';
const GIVE_AS_OF = 'give the as-of date (clv run --as-of YYYY-MM-DD)';

/**
 * What to do when no row dates the run, from the rows' reasons: the dates' format when rows were
 * rejected for their dates; when they were all rejected for something else (a field too many on
 * every line, amounts with a currency sign), that reason, its first row and its note, and the as-of
 * date to give, so the run judges the rows and fails its gates with the quality report. `rows`: the
 * rows read, the outcomes' sum.
 */
const noOrderDateAdvice = async (engine: QueryEngine, params: SqlParameters, outcomes: readonly OutcomeCountRow[], rows: number): Promise<string> => {
  const count = (reason: string): number => outcomes.filter((o) => o.reason === reason).reduce((sum, o) => sum + o.row_count, 0);
  const implausible = count('implausible_order_date') > 0;
  const invalid = count('invalid_order_date') > 0;
  if (implausible || invalid) {
    // years written with two digits under %Y ("25-03-01" is the year 25) on every implausible row: lowering the
    // floor would publish year 0025 (with some four-digit years among them, the floor's advice stands)
    const shortYear = implausible ? await shortYearAdvice(engine, params) : undefined;
    if (shortYear !== undefined) return shortYear;
    // dates before validation.minOrderDate are well formed, and no as-of date brings them back
    const floor = 'implausible_order_date rows are dated before validation.minOrderDate (the config file\'s; 1970-01-02 by default): lower it if those dates are real';
    return invalid ? `${ISO_DATES}; to run anyway, ${GIVE_AS_OF}${implausible ? `; ${floor}` : ''}` : floor;
  }
  if (count('order_date_after_as_of') > 0) {
    return 'order_date_after_as_of rows are dated after today, and no order can be: check csv.dateFormat (day and month the other way round?) and the clock of the system that exported them';
  }
  const top = outcomes.filter((o) => o.reason !== null && o.row_count > 0).sort((a, b) => b.row_count - a.row_count)[0];
  if (top === undefined || top.reason === null) return `No row is rejected, but none is a purchase (non-purchase statuses, duplicates): ${GIVE_AS_OF} to have the run fail its gates with the quality report`;
  const rejected = decodeRejectedRows(await engine.run('rejectedRows', params), REJECTED_COLUMNS.map((c) => c.name));
  const first = rejectionExamples({ ...accountFor(rows, outcomes), customers: 0 }, rejected, 1).find((r) => r.reason === top.reason);
  const where = first?.examples[0];
  return (
    `No row was rejected for its date: ${top.reason}${where === undefined ? '' : ` first at ${where.file}${where.line === null ? '' : `:${where.line}`}`}` +
    `${first?.note === undefined ? '' : ` (${first.note})`}; fix the export, or ${GIVE_AS_OF} to have the run fail its gates with the quality report and example rows of each reason`
  );
};

/** rejectionNotes' short-year note when every row rejected as an implausible order date has a year of fewer than four digits; else undefined. */
const shortYearAdvice = async (engine: QueryEngine, params: SqlParameters): Promise<string | undefined> => {
  const rejected = decodeRejectedRows(await engine.run('rejectedRows', params), REJECTED_COLUMNS.map((c) => c.name));
  const reasons = rejected.columns.reason ?? [];
  const dates = rejected.columns.order_date ?? [];
  for (let i = 0; i < rejected.rowCount; i += 1) if (reasons[i] === 'implausible_order_date' && /\d{4}/.test(String(dates[i] ?? ''))) return undefined;
  return rejectionNotes(rejected).implausible_order_date;
};

/**
 * A warning when a re-run replaces the published version of its night with fewer customers, by more
 * than `maxDrop` (relative; `segments.warnings.customerCountDrop`): the same night cannot lose
 * customers but by missing or truncated exports. The changes compare with the previous night only,
 * so without this a re-run of the only night published would halve it with nothing said (its
 * customers gate holds it against the replaced version only below `gates.minCustomersVsPrevious`).
 * None when nothing is replaced.
 */
const shrunkReRunWarning = (replaced: GateFigures['replaced'], customers: number, maxDrop: number): RunWarning[] => {
  if (replaced === null || !(customers < replaced.customers * (1 - maxDrop))) return [];
  const drop = (100 * (1 - customers / replaced.customers)).toFixed(1);
  return [
    {
      code: 'rerun_customer_count_drop',
      message:
        `this run replaces the published ${replaced.runDate} of ${replaced.customers} customers with ${customers} (${drop}% fewer): ` +
        `the same night only loses customers when exports are missing or truncated; a rollback of ${replaced.runDate} (clv rollback, or the job Lambda's rollback event) brings the replaced version back`,
    },
  ];
};

/**
 * A warning when the as-of date lies more than STALE_AS_OF_DAYS after the last valid purchase: every
 * customer then looks a year inactive, and the models score them as lost. None without customers.
 */
/**
 * A defaulted as-of date (the latest purchase day) behind the newest published night: the exports'
 * latest purchases were cancelled, or re-sent, or the newest exports are missing. This run re-ran an
 * older night; the newest, which readers take as current, stays as published, with none of what
 * tonight's exports changed about it.
 */
const behindPublishedWarning = (asOf: string, newestRunDate: string | null): RunWarning[] =>
  newestRunDate === null
    ? []
    : [
        {
          code: 'as_of_before_published_night',
          message:
            `the latest purchase day in the exports, ${asOf}, is before the newest published night, ${newestRunDate}: this run published the night of ${asOf}, ` +
            `and ${newestRunDate} stays as published, with nothing tonight's exports changed about it (a cancellation, a correction); ` +
            `to bring it up to date, run it again with --as-of ${newestRunDate} (on AWS, an event with "runDate"), or check that the newest exports arrived`,
        },
      ];

const staleAsOfWarning = (asOf: string, lastOrderDay: Int32Array): RunWarning[] => {
  if (lastOrderDay.length === 0) return [];
  let last = lastOrderDay[0]!;
  for (const day of lastOrderDay) if (day > last) last = day;
  const gap = dayOf(asOf) - last;
  if (gap <= STALE_AS_OF_DAYS) return [];
  return [
    {
      code: 'as_of_long_after_last_order',
      message:
        `the as-of date ${asOf} is ${gap} days after the last valid order (${isoDay(last)}): every customer looks inactive since, ` +
        'so predictions and tiers are pessimistic; check the as-of date (leave it out to use the latest order date)',
    },
  ];
};
