import { ZodError } from 'zod';
import type { QualityReport } from './schemas/quality-report.js';

/**
 * Typed errors under one base that keeps its cause. The pipeline decides what an error means; the
 * entry points turn it into an exit code or a rethrow, and log it once.
 */
export class ClvError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad usage or configuration: the CLI exits 2. */
export class ConfigurationError extends ClvError {}

/** An input file that cannot be read as an orders export; names the file. */
export class InputFileError extends ClvError {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** The input holds no rows at all. */
export class EmptyInputError extends ClvError {}

/** No row has a valid order date, so a run without a given as-of date has no date to run for. */
export class NoValidOrderDateError extends ClvError {}

/**
 * A query engine failed or returned something the pipeline cannot trust. `transient` when it failed
 * for a reason of the moment (refused or throttled, timed out, cancelled, out of memory or other
 * resources, a full spill disk, its cluster or service failing, its result unreachable) rather than
 * of the data it read: asked again later, the same query may succeed. Each engine decides it in one
 * place: isAthenaFailureOfTheMoment, isTrinoErrorOfTheMoment, isDuckDbErrorOfTheMoment.
 */
export class EngineError extends ClvError {
  readonly transient: boolean;
  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options);
    this.transient = options?.transient ?? false;
  }
}

/** The row accounting identity does not hold: publishing would mislead, so the run fails. */
export class AccountingError extends ClvError {}

/**
 * A data-quality gate failed: the run publishes nothing (SPEC "Data-quality gates"). The report
 * holds the gates' figures and sample rows; it has been written under `_quality/` already.
 */
export class QualityGateError extends ClvError {
  constructor(
    message: string,
    readonly report: QualityReport,
    readonly reportLocation: string,
  ) {
    super(message);
  }
}

/**
 * The BG/NBD fitted on a backtest's calibration period cannot be trusted (too few customers, no
 * convergence, a boundary): its parameters would be starting values, and the "expected" holdout
 * purchases computed from them no check of anything. `clv backtest` fails with it; a nightly run
 * leaves its backtest out and says why in a warning.
 */
export class UntrustedBacktestError extends ClvError {}

/** Another run holds the lock. */
export class RunLockedError extends ClvError {}

/** A publish whose switch did not happen: the run date's previous version is what readers see. */
export class PublishError extends ClvError {}

/** Who settles an unfinished publish, in messages: the next run, or a recovery asked for on either path. */
export const SETTLED_BY = 'the next run or a recovery (`clv recover`; on AWS the event {"action":"recover"}) finishes or undoes it';

/**
 * A publishing record (`_publish/versions.json`, `_publish/intent.json`, `latest.json`) that exists
 * but is not JSON of its shape; names the file (a path or an `s3://` URL) and what to do.
 */
export class PublishStateError extends ClvError {
  constructor(
    readonly file: string,
    /** What is wrong with it, e.g. `not JSON (Unexpected end of JSON input)`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}; \`clv recover\` (the Lambda: {"action": "recover"}) rebuilds it from the runs readers see`, options);
  }
}

/**
 * First line of a message: engines tend to append multi-line context the user does not need. A
 * ZodError (a value the job made that failed its own schema, e.g. the summary) has a JSON message
 * whose first line is "[": its issues are given instead, each as path and message.
 */
export const firstLine = (error: unknown): string => {
  if (error instanceof ZodError) return error.issues.map((i) => `${i.path.length === 0 ? '(the value)' : i.path.join('.')}: ${i.message}`).join('; ');
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ?? '';
};

/**
 * What to do about a full disk, which Node names only by the system call that met it ("ENOSPC: no
 * space left on device, write"): a run writes to its output folder and, for the ingest's work files
 * and the engine's spills, to `temporaryFolder` (os.tmpdir()), often another disk. The text to append
 * to the failure's line (starting with a space), or '' when neither `error` nor a cause of it is
 * ENOSPC or EDQUOT.
 */
export const diskFullAdvice = (error: unknown, temporaryFolder: string): string => {
  const codes: unknown[] = [];
  for (let e = error; e instanceof Error && codes.length < 8; e = e.cause) codes.push((e as NodeJS.ErrnoException).code);
  return codes.includes('ENOSPC') || codes.includes('EDQUOT')
    ? ` (a disk the run writes to is full: the output folder's, or the temporary folder's, ${temporaryFolder}; free space there, or set TMPDIR to a folder on another disk)`
    : '';
};

/**
 * An export that cannot be read at all (not CSV text, UTF-16, a broken gzip, no header, a required
 * column missing): locally it fails the run unless `--skip-bad-files`; on AWS it is quarantined.
 * `reason` is one line, meant for the person who dropped the file.
 */
export class UnreadableExportError extends InputFileError {
  constructor(
    file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(file, reason, options);
  }
}
