import { describe, expect, it } from 'vitest';
import { csvOptionsSchema } from '../lambdas/clv-job/config.js';

/**
 * csv.dateFormat is handed to DuckDB's strptime at ingest. A format DuckDB refuses used to surface
 * there, per file, as "cannot be parsed (Invalid Input Error: Failed to parse format specifier %Q)":
 * a failed run (exit 1) locally, every file left out with --skip-bad-files, every drop quarantined on
 * AWS. It is a configuration mistake, so the config schema refuses it (the CLI exits 2).
 */
describe('csv.dateFormat', () => {
  it.each(['%d.%m.%Y', '%m/%d/%Y', '%-m/%-d/%y', '%Y-%m-%dT%H:%M:%S%z', '%d %b %Y %I:%M %p', '%Y%m%d', '%x', '%G-W%V-%u', '100%% %Y-%j'])(
    'takes %s, a format DuckDB reads',
    (format) => {
      expect(csvOptionsSchema.safeParse({ dateFormat: format }).success).toBe(true);
    },
  );

  it.each([
    ['%d.%m.%Q', /"%Q" is not a strptime specifier/],
    ['%Y-%m-%D', /"%D" is not a strptime specifier/],
    ['%e.%m.%Y', /"%e" is not a strptime specifier/],
    ['%-Y-%m-%d', /"%-" is not a strptime specifier/],
    ['%d.%m.%Y %', /"%" is not a strptime specifier/],
    ['%d.%m.', /has no year/],
    ['%H:%M', /has no year/],
  ])('refuses %s, naming the problem', (format, message) => {
    const parsed = csvOptionsSchema.safeParse({ dateFormat: format });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join('; ')).toMatch(message);
  });
});
