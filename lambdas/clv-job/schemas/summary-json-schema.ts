import { z } from 'zod';
import { SUMMARY_SCHEMA_VERSION, summarySchema } from './summary.js';

/**
 * The summary's JSON Schema (draft 2020-12), generated from the zod schema so the two cannot
 * drift: committed as `summary.schema.json` (a test compares) and written beside every summary.
 *
 * Describes the summary as written (zod's output side), but every object is open, at every depth:
 * a reader validating with this schema accepts the fields a later minor version adds anywhere (2.4.0
 * added `models.intervals`, which the 2.3.0 schema's closed `models` refused), as the zod schema
 * does (its objects strip what they do not know). An object whose extra fields the zod schema types
 * (a catchall) keeps that type. Refinements that are code (the counts'
 * accounting identity) have no JSON Schema form and are left to the zod schema.
 */
export const summaryJsonSchema = (): Record<string, unknown> => ({
  ...z.toJSONSchema(summarySchema, {
    target: 'draft-2020-12',
    io: 'output',
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def;
      if (def.type !== 'object') return;
      const catchall = (def as { catchall?: z.ZodType }).catchall;
      // zod writes a closed object ("no other field"), which is what a later minor version breaks
      if (catchall === undefined || catchall._zod.def.type === 'never') delete ctx.jsonSchema.additionalProperties;
    },
  }),
  title: `clv-job summary ${SUMMARY_SCHEMA_VERSION}`,
  description: 'summary/run_date=YYYY-MM-DD/summary.json of the nightly customer-lifetime-value job (README "Output layout").',
});

/** The JSON Schema as the committed file and every run write it. */
export const summaryJsonSchemaText = (): string => `${JSON.stringify(summaryJsonSchema(), null, 2)}\n`;
