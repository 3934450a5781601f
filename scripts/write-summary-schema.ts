/** Writes `summary.schema.json` at the repository root from the zod schema (`npm run schema`). */
import { writeFile } from 'node:fs/promises';
import { summaryJsonSchemaText } from '../lambdas/clv-job/schemas/summary-json-schema.js';

await writeFile(new URL('../summary.schema.json', import.meta.url), summaryJsonSchemaText());
