import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { SpendRecord } from '../domain/acquisition/spend.js';
import type { SpendRead, SpendSource } from '../ports.js';
import { isExportName } from '../ingest-layout.js';
import { parseSpendCsv } from './spend-csv.js';
import { compareUtf8 } from './utf8-order.js';

/**
 * The spend input on S3 (the Lambda's CLV_SPEND_PREFIX): every `.csv`/`.csv.gz` object under the
 * prefix but those with a hidden part (`_` or `.`), in key order (so the last copy of a channel-month is the same one a local run keeps).
 */
export class S3SpendSource implements SpendSource {
  readonly location: string;

  constructor(private readonly options: { readonly client: S3Client; readonly bucket: string; readonly prefix: string }) {
    this.location = `s3://${options.bucket}/${options.prefix}`;
  }

  /**
   * Null when nothing under the prefix is a `.csv`/`.csv.gz` file (the night's spend drop has not
   * arrived: a missing drop must not cost the night).
   * @throws InputFileError when a spend file is not a spend CSV.
   */
  async read(): Promise<SpendRead | null> {
    const { client, bucket, prefix } = this.options;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      // hidden parts (`_archive/`, `.x`) passed, as a local spend folder's are
      for (const object of page.Contents ?? []) if (object.Key && isExportName(object.Key.slice(prefix.length))) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (keys.length === 0) return null;
    keys.sort(compareUtf8);
    const records: SpendRecord[] = [];
    const sources: string[] = [];
    for (const key of keys) {
      const source = `s3://${bucket}/${key}`;
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      records.push(...parseSpendCsv(source, await object.Body!.transformToByteArray()));
      sources.push(source);
    }
    return { sources, records };
  }
}
