import { z } from 'zod';
import { columnMappingSchema, csvOptionsSchema, orderKeySchema, validationSchema } from '../config.js';

export { csvOptionsSchema, orderKeySchema, validationSchema, type CsvOptions, type ValidationOptions } from '../config.js';

/** Everything ingest needs to read one export. */
export const ingestConfigSchema = z.strictObject({
  columns: columnMappingSchema.default(columnMappingSchema.parse({})),
  orderKey: orderKeySchema.default([]),
  csv: csvOptionsSchema.default(csvOptionsSchema.parse({})),
  validation: validationSchema.default(validationSchema.parse({})),
});
export type IngestConfig = z.output<typeof ingestConfigSchema>;
export type IngestConfigInput = z.input<typeof ingestConfigSchema>;
