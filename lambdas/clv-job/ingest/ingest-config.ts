import { z } from 'zod';
import { columnMappingSchema, isoDateSchema } from '../config.js';

/**
 * How an export is written: the config file's `csv` section. Formats are configured, never guessed,
 * so `15.03.2025;1.234,56` reads the same way every night.
 */
export const csvOptionsSchema = z
  .strictObject({
    /** One character between fields. @default `,` */
    delimiter: z.string().length(1, 'csv.delimiter must be one character').default(','),
    /**
     * A strptime format of the order date (DuckDB's, e.g. `%d.%m.%Y`, `%m/%d/%Y %H:%M`).
     * @default ISO 8601: `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]]` and a zone (the date is taken as written)
     */
    dateFormat: z.string().min(2).optional(),
    /** @default `.` */
    decimalSeparator: z.string().length(1, 'csv.decimalSeparator must be one character').default('.'),
    /** Groups of three digits before the decimal separator, e.g. `.` in `1.234,56`. @default none */
    thousandsSeparator: z.string().length(1, 'csv.thousandsSeparator must be one character').optional(),
  })
  .refine((c) => c.decimalSeparator !== c.thousandsSeparator, 'csv.decimalSeparator and csv.thousandsSeparator must differ')
  .refine((c) => c.delimiter !== '"' && c.delimiter !== '\n' && c.delimiter !== '\r', 'csv.delimiter cannot be a quote or a line break')
  .refine((c) => c.delimiter !== c.decimalSeparator && c.delimiter !== c.thousandsSeparator, 'csv.delimiter must differ from the number separators');
export type CsvOptions = z.output<typeof csvOptionsSchema>;

/** What counts as a plausible row: the config file's `validation` section. */
export const validationSchema = z.strictObject({
  /** Orders dated before this day are rejected as `implausible_order_date` (placeholders like 1900-01-01). @default 1970-01-01 */
  minOrderDate: isoDateSchema.default('1970-01-01'),
  /** Amounts whose absolute value is above this are rejected as `invalid_amount`. @default 1,000,000,000 */
  maxAmount: z.number().positive().max(1e30).default(1e9),
});
export type ValidationOptions = z.output<typeof validationSchema>;

/** Header names of extra order-key columns (e.g. a store), so two sources' order numbers stay apart. */
export const orderKeySchema = z.array(z.string().min(1)).max(8);

/** Everything ingest needs to read one export. */
export const ingestConfigSchema = z.strictObject({
  columns: columnMappingSchema.default(columnMappingSchema.parse({})),
  orderKey: orderKeySchema.default([]),
  csv: csvOptionsSchema.default(csvOptionsSchema.parse({})),
  validation: validationSchema.default(validationSchema.parse({})),
});
export type IngestConfig = z.output<typeof ingestConfigSchema>;
export type IngestConfigInput = z.input<typeof ingestConfigSchema>;
