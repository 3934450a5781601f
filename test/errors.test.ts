import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { diskFullAdvice, firstLine, PublishError } from '../lambdas/clv-job/errors.js';

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

describe('diskFullAdvice', () => {
  const full = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: no space left on device, write`), { code, syscall: 'write' });

  it('names the disks a run writes to when it, or the error a step made of it, is ENOSPC or EDQUOT (Node names only the system call)', () => {
    expect(diskFullAdvice(full('ENOSPC'), '/scratch')).toBe(
      " (a disk the run writes to is full: the output folder's, or the temporary folder's, /scratch; free space there, or set TMPDIR to a folder on another disk)",
    );
    expect(diskFullAdvice(new PublishError('could not stage the night', { cause: full('EDQUOT') }), '/scratch')).toMatch(/^ \(a disk the run writes to is full/);
  });

  it('adds nothing to any other failure', () => {
    expect(diskFullAdvice(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), '/scratch')).toBe('');
    expect(diskFullAdvice('not an error', '/scratch')).toBe('');
  });
});
