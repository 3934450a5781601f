import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { REASONS_DIR } from '../ingest-layout.js';
import { quarantineRecordSchema } from '../schemas/quarantine-record.js';
import { isMissing } from './s3-missing.js';

/** An export the night leaves out, and why (RunConfig.skippedInputs). */
export interface QuarantinedExport {
  readonly source: string;
  readonly reason: string;
}

/**
 * The exports in quarantine, from the records the ingest function writes under
 * `<quarantinePrefix>_reasons/`, in key order. A record that is not valid JSON of the record's
 * shape still names its export (from its key), with a reason saying the record is unreadable: a
 * quarantined file is never left out silently. A record removed between the listing and its read
 * is passed: the ingest removes one when its export's read ends well.
 */
export const listQuarantined = async (s3: S3Client, bucket: string, quarantinePrefix: string): Promise<QuarantinedExport[]> => {
  const prefix = `${quarantinePrefix}${REASONS_DIR}/`;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const quarantined: QuarantinedExport[] = [];
  for (const key of keys.sort()) {
    let text: string | undefined;
    try {
      text = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
    } catch (error) {
      // removed since the listing: its export's read ended well (a re-drop's "not ingested yet" record)
      if (isMissing(error)) continue;
      throw error;
    }
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text ?? '');
    } catch {
      // reported below as an unreadable record
    }
    const record = quarantineRecordSchema.safeParse(parsed);
    quarantined.push(
      record.success
        ? { source: record.data.source, reason: record.data.reason }
        : { source: `s3://${bucket}/${quarantinePrefix}${key.slice(prefix.length, -'.json'.length)}`, reason: `is in quarantine (its record ${key} is unreadable)` },
    );
  }
  return quarantined;
};
