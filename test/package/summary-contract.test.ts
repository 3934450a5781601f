/**
 * The summary as consumers outside the repository meet it: a JSON Schema generated from the zod
 * schema, committed and written beside every summary, that a maintained validator (ajv) accepts
 * real summaries against; and a `schema_version`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { SUMMARY_SCHEMA_VERSION, summarySchema, undeclaredFields } from '../../lambdas/clv-job/schemas/summary.js';
import { summaryJsonSchemaText } from '../../lambdas/clv-job/schemas/summary-json-schema.js';
import { clv, requireCliBundle } from '../support/cli.js';
import { repoRoot, sampleData, tempDir } from '../support/files.js';

/** A copy of `value` with a field `a_later_field` added to every object in it, at every depth, and the objects that got it. */
const withLaterFields = (value: unknown): { later: unknown; objects: number } => {
  let objects = 0;
  const add = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(add);
    if (v === null || typeof v !== 'object') return v;
    objects += 1;
    return { ...Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, add(inner)])), a_later_field: 1 };
  };
  return { later: add(value), objects };
};

const validatorFor = (schema: object) => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
};

describe('summary.schema.json', () => {
  it('is committed exactly as the zod schema generates it (regenerate with `npm run schema`)', async () => {
    const committed = await readFile(join(repoRoot, 'summary.schema.json'), 'utf8');

    expect(committed, 'summary.schema.json is stale: run `npm run schema` and commit it').toBe(summaryJsonSchemaText());
  });
});

describe('a real summary against the JSON Schema', () => {
  let cwd: string;
  let summary: Record<string, unknown>;
  let committedSchema: object;
  const partition = 'out/summary/run_date=2025-12-31';

  beforeAll(async () => {
    await requireCliBundle();
    cwd = await tempDir();
    const run = await clv(['run', '--input', sampleData, '--output', 'out', '--as-of', '2025-12-31'], cwd);
    expect(run.code).toBe(0);
    summary = JSON.parse(await readFile(join(cwd, partition, 'summary.json'), 'utf8')) as Record<string, unknown>;
    committedSchema = JSON.parse(await readFile(join(repoRoot, 'summary.schema.json'), 'utf8')) as object;
  });

  it('is valid, as ajv (draft 2020-12, strict, with formats) judges it', () => {
    const validate = validatorFor(committedSchema);

    expect(validate(summary), JSON.stringify(validate.errors)).toBe(true);
  });

  it('carries the schema version, and the run ships the same JSON Schema beside it, listed in its manifest', async () => {
    const shipped = await readFile(join(cwd, partition, 'summary.schema.json'), 'utf8');
    const manifest = JSON.parse(await readFile(join(cwd, partition, '_manifest.json'), 'utf8')) as { files: { key: string }[] };

    expect(summary.schema_version).toBe(SUMMARY_SCHEMA_VERSION);
    expect(shipped).toBe(await readFile(join(repoRoot, 'summary.schema.json'), 'utf8'));
    expect(manifest.files.map((f) => f.key)).toContain('summary/run_date=2025-12-31/summary.schema.json');
  });

  /** A copy of the summary with the value at `path` replaced, or removed when `value` is undefined. */
  const broken = (path: readonly string[], value: unknown): Record<string, unknown> => {
    const copy = structuredClone(summary);
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
    const last = path.at(-1)!;
    if (value === undefined) delete node[last];
    else node[last] = value;
    return copy;
  };

  it.each([
    ['a negative customer count', ['counts', 'customers'], -1, '/counts/customers'],
    ['no run section', ['run'], undefined, ''],
    ['a run date that is no date', ['run', 'run_date'], '31/12/2025', '/run/run_date'],
    ['another major schema version', ['schema_version'], '3.0.0', '/schema_version'],
    ['a rejection reason counted below zero', ['counts', 'rejected_by_reason', 'malformed_row'], -1, '/counts/rejected_by_reason/malformed_row'],
    ['a missing rejection reason', ['counts', 'rejected_by_reason', 'malformed_row'], undefined, '/counts/rejected_by_reason'],
  ])('is refused with %s', (_, path, value, where) => {
    const validate = validatorFor(committedSchema);

    expect(validate(broken(path, value))).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain(where);
  });

  it('still validates with a field a later minor version adds', () => {
    const validate = validatorFor(committedSchema);

    expect(validate({ ...summary, schema_version: '2.1.0', a_later_field: { anything: 1 } })).toBe(true);
  });

  it('still validates with a field a later minor version adds to any object, at any depth', () => {
    const validate = validatorFor(committedSchema);

    const { later, objects } = withLaterFields(summary);

    // e.g. models, each channel row, each gate, each warning: every object of the sample's summary
    expect(objects).toBeGreaterThan(100);
    expect(validate(later), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('tells the job writing a summary which fields its schema does not declare, which parsing would drop unseen', () => {
    const draft = JSON.parse(JSON.stringify(summary)) as { models: { bgnbd: Record<string, unknown> }; channels: Record<string, unknown>[]; typo?: number };
    draft.models.bgnbd.paramz = 1;
    draft.channels[1]!.repat_rate = 0.5;
    draft.typo = 1;

    expect(undeclaredFields(draft, summarySchema.parse(draft))).toEqual(['models.bgnbd.paramz', 'channels[1].repat_rate', 'typo']);
    expect(undeclaredFields(summary, summarySchema.parse(summary))).toEqual([]);
  });

  it('parses with the exported zod schema too, with such fields at any depth, to what this version knows of it', () => {
    const { later } = withLaterFields(summary);

    const parsed = summarySchema.safeParse(later);

    expect(parsed.error?.issues.slice(0, 3)).toBeUndefined();
    // run.timings is a record of stage seconds: it keeps a stage a later version times, as a number
    const timings = parsed.data!.run.timings as Record<string, number>;
    expect(timings.a_later_field).toBe(1);
    delete timings.a_later_field;
    expect(parsed.data).toEqual(summarySchema.parse(summary));
    expect(JSON.stringify(parsed.data)).not.toContain('a_later_field');
  });
});
