/**
 * Prop validation shared by the constructs: collect every problem first, then fail once, so a
 * deployer fixes a bad configuration in one round instead of one error per `cdk synth`.
 */
export class ClvConfigurationError extends Error {
  public readonly problems: readonly string[];

  constructor(subject: string, problems: readonly string[]) {
    super(`Invalid ${subject} configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClvConfigurationError';
    this.problems = problems;
  }
}

/** Throws one {@link ClvConfigurationError} listing every problem, or returns when there is none. */
export const failOnProblems = (subject: string, problems: readonly string[]): void => {
  if (problems.length > 0) throw new ClvConfigurationError(subject, problems);
};

/**
 * An S3 key prefix as the job and its Glue tables expect it: relative (no leading slash), ending in
 * a slash, made of URL- and Hive-safe characters. Returns the problem, or undefined.
 */
export const prefixProblem = (name: string, prefix: string): string | undefined => {
  // No "*" (an IAM wildcard), no spaces or other characters that need escaping in an s3:// URL.
  if (!/^[A-Za-z0-9_.=-]+(\/[A-Za-z0-9_.=-]+)*\/$/.test(prefix)) {
    return `${name} must be a relative S3 prefix ending in "/" (e.g. "orders/"), got ${JSON.stringify(prefix)}`;
  }
  return undefined;
};

/** Problems when one prefix contains another: the job would read its own output, or lifecycle rules would overlap. */
export { nestedPrefixIssues as overlappingPrefixProblems } from '../lambdas/clv-job/lambda-env.js';

/** S3 lifecycle rules count in whole days. */
export const wholeDaysProblem = (name: string, days: number): string | undefined =>
  Number.isInteger(days) && days >= 1 ? undefined : `${name} must be a whole number of days >= 1, got ${days}`;
