import { z } from 'zod';

/**
 * Why an export is in quarantine: the record the ingest function writes beside the quarantined copy
 * (`quarantine/_reasons/<export key>.json`) and the nightly run reads into its warnings.
 */
export const quarantineRecordSchema = z.object({
  /** The export, `s3://bucket/key`. */
  source: z.string().min(1),
  /** One line, for the person who dropped the file (the ingest reader's UnreadableExportError). */
  reason: z.string().min(1),
  quarantined_at: z.iso.datetime(),
  bytes: z.number().int().nonnegative(),
  etag: z.string().nullable(),
  version_id: z.string().nullable(),
});
export type QuarantineRecord = z.infer<typeof quarantineRecordSchema>;
