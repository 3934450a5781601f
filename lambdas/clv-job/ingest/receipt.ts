import { z } from 'zod';
import { INGEST_REJECTION_REASONS } from '../domain/outcomes.js';
import { ORDER_COLUMNS } from '../schemas/tables.js';
import { MALFORMED_PROBLEMS } from './record-framer.js';

const count = z.number().int().nonnegative();

/** A problem ingest noticed in an export: how many rows or lines, and a few of their line numbers. */
export const ingestProblemSchema = z.object({
  code: z.enum([...MALFORMED_PROBLEMS, 'refused_by_reader', 'blank_lines', 'mixed_line_endings', 'unmapped_columns']),
  count,
  /** Up to ten line numbers where it happens (the header is line 1). */
  lines: z.array(z.number().int().positive()).max(10),
  message: z.string(),
});
export type IngestProblem = z.infer<typeof ingestProblemSchema>;

/**
 * What ingest made of one export (`ingested/_receipts/<name>.json`). Deterministic: the same bytes and
 * config give the same receipt, on a laptop and in the Lambda, so the two paths can be compared.
 * Identity: `rows = accepted_for_parsing + malformed`; `rejected_by_reason` counts the rows ingest
 * already rejected (malformed ones included); the night judges the rest against its as-of date.
 */
export const ingestReceiptSchema = z
  .strictObject({
    schema_version: z.literal(1),
    /** The export's key or path, as recorded in every row's `source_file`. */
    source: z.string().min(1),
    /** SHA-256 of the export's bytes as stored (compressed, if it is). */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: count,
    compression: z.enum(['none', 'gzip']),
    /** Bytes of CSV text after decompression. */
    csv_bytes: count,
    encoding: z.literal('utf-8'),
    bom: z.boolean(),
    line_endings: z.enum(['lf', 'crlf', 'mixed', 'none']),
    delimiter: z.string().length(1),
    /** The header as read. */
    header: z.array(z.string()),
    /** Header name used per logical column (null: not in this file), and for each extra order-key column. */
    mapping: z.strictObject({
      ...(Object.fromEntries(ORDER_COLUMNS.map((c) => [c, z.string().nullable()])) as Record<(typeof ORDER_COLUMNS)[number], z.ZodNullable<z.ZodString>>),
      order_key: z.array(z.string()),
    }),
    /** Records after the header (blank lines are not records). */
    rows: count,
    accepted_for_parsing: count,
    malformed: count,
    /** Rows whose every field parsed (`parse_reason` null). */
    parsed: count,
    rejected_by_reason: z.strictObject(Object.fromEntries(INGEST_REJECTION_REASONS.map((r) => [r, count])) as Record<(typeof INGEST_REJECTION_REASONS)[number], typeof count>),
    problems: z.array(ingestProblemSchema),
  })
  .refine((r) => r.rows === r.accepted_for_parsing + r.malformed, 'rows must equal accepted_for_parsing + malformed')
  .refine((r) => r.rows === r.parsed + Object.values(r.rejected_by_reason).reduce((a, b) => a + b, 0), 'rows must equal parsed + rejected');
export type IngestReceipt = z.infer<typeof ingestReceiptSchema>;
