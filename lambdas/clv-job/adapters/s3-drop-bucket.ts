import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { DropBucket, ObjectVersion } from '../ports.js';
import { isMissing } from './s3-missing.js';

/**
 * The drop bucket on S3. Downloads pipe the response body into a file and uploads stream a file
 * in 16 MB parts (lib-storage), so memory stays flat whatever the export's size.
 */
export class S3DropBucket implements DropBucket {
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.location = `s3://${bucket}/`;
  }

  async download(key: string, path: string): Promise<ObjectVersion | null> {
    let object;
    try {
      object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (!object.Body) throw new Error(`s3://${this.bucket}/${key} has no body`);
    await pipeline(object.Body as Readable, createWriteStream(path));
    return { bytes: object.ContentLength ?? 0, etag: object.ETag ?? null, versionId: object.VersionId ?? null };
  }

  async upload(key: string, path: string, metadata: Readonly<Record<string, string>> = {}): Promise<void> {
    await new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(path), Metadata: { ...metadata } },
      partSize: 16 * 2 ** 20,
      queueSize: 2,
    }).done();
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: `${JSON.stringify(value, null, 2)}\n`, ContentType: 'application/json' }),
    );
  }

  async head(key: string): Promise<ObjectVersion | null> {
    const object = await this.headObject(key);
    return object && { bytes: object.ContentLength ?? 0, etag: object.ETag ?? null, versionId: object.VersionId ?? null };
  }

  async metadata(key: string): Promise<Readonly<Record<string, string>> | null> {
    const object = await this.headObject(key);
    return object && { ...object.Metadata };
  }

  private async headObject(key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async remove(keys: readonly string[]): Promise<void> {
    // a handful of keys per export: one call each keeps every failure attributable
    for (const key of keys) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }
}
