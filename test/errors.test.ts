import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { firstLine } from '../lambdas/clv-job/errors.js';

describe('firstLine', () => {
  it('keeps the first line of an engine message, trimmed', () => {
    expect(firstLine(new Error('Binder Error: column x not found  \nLINE 1: SELECT x ...\n        ^'))).toBe('Binder Error: column x not found');
  });

  it('gives the issues of a ZodError, whose own message is JSON starting with "[" (what the CLI printed for a NaN in the summary)', () => {
    const parsed = z.object({ acquisition: z.array(z.object({ spend: z.number() })) }).safeParse({ acquisition: [{ spend: 1 }, { spend: Number.NaN }] });
    expect(parsed.success).toBe(false);
    expect(firstLine(parsed.error)).toBe('acquisition.1.spend: Invalid input: expected number, received NaN');
  });
});
