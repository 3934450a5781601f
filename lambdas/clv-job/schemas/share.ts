import { z } from 'zod';

/**
 * A share written as a percentage (30 for 0.30) is the usual slip: say which share was meant (14.3 ->
 * 0.143, not 0.14300000000000002). From 2 on only: 1.5 is more likely a share slipped past 1 (or a
 * ratio) than 1.5%, and "did you mean 0.015?" would mislead.
 */
export const percentHint = (input: unknown): string =>
  typeof input === 'number' && input >= 2 && input <= 100 ? `; did you mean ${Number((input / 100).toPrecision(12))}?` : '';

/**
 * A share from 0 to 1 in a config setting; above 1 is refused with the share it likely meant, so a
 * percentage slip (50 for 0.5) cannot pass as a threshold no night can reach (or every night fails).
 * `what` completes "is ...", e.g. `a share of the previous run's customers`.
 */
export const shareSchema = (what: string) =>
  z
    .number()
    .min(0)
    .max(1, { error: (issue) => `is ${what}, 0 to 1: 0.10 means 10% (got ${String(issue.input)}${percentHint(issue.input)})` });
