/**
 * What the package exports to consumers outside the repository (`import ... from 'clv-job'`): the
 * summary's zod schema, its types, its version and its JSON Schema. Built to `dist/summary.js` with
 * declarations under `dist/types/` (`npm run build`).
 */
export { SUMMARY_SCHEMA_VERSION, summarySchema, type Summary } from './schemas/summary.js';
export { summaryJsonSchema } from './schemas/summary-json-schema.js';
