import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ClvError, RunLockedError, firstLine } from '../errors.js';
import { DATASETS, LATEST_KEY, LOCK_KEY, STAGING_DIR, datasetPartition, manifestKey, successKey } from '../layout.js';
import type { ByteSink, OutputStore, RunLock, RunManifest, StagedRun } from '../ports.js';

export interface S3StoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The output prefix, e.g. `clv/`; a trailing slash is added when missing. `''` is the bucket's root. */
  readonly prefix: string;
  /**
   * Multipart part size of streamed uploads. Memory per open file is about partSize x queueSize.
   * @default 16 MiB
   */
  readonly partSize?: number;
  /** Parts uploaded in parallel per file. @default 2 */
  readonly queueSize?: number;
  /**
   * Keys per ListObjectsV2 page and per DeleteObjects call (S3's maximum is 1000 for both).
   * @default 1000
   */
  readonly batchSize?: number;
  /** Wall clock for the lock's age, passed in so tests can fix it. @default () => new Date() */
  readonly now?: () => Date;
}

/** A publish failed and its rollback did too: the previous run's objects wait under `backupPrefix`. */
export class PublishRollbackError extends ClvError {}

interface ListedObject {
  readonly key: string;
  readonly size: number;
}

const isStatus = (error: unknown, status: number): boolean =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === status;
const isMissing = (error: unknown): boolean =>
  isStatus(error, 404) || ['NoSuchKey', 'NotFound'].includes((error as { name?: string })?.name ?? '');

const EMPTY = new Uint8Array(0);
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The output prefix in S3, laid out exactly as the local folder store lays out its folder. A run
 * writes under `_staging/<run id>/`; publishing replaces the run date's partitions by server-side
 * copies and writes the manifest, `_SUCCESS` and `latest.json` last. S3 has no atomic rename, so
 * the previous partitions are copied aside first and put back if the publish fails half-way.
 */
export class S3Store implements OutputStore {
  readonly location: string;
  private readonly prefix: string;
  private readonly now: () => Date;
  private readonly batchSize: number;

  constructor(private readonly options: S3StoreOptions) {
    this.batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 1000));
    this.prefix = options.prefix === '' ? '' : options.prefix.replace(/^\/+/, '').replace(/\/*$/, '/');
    this.location = `s3://${options.bucket}/${this.prefix}`;
    this.now = options.now ?? (() => new Date());
  }

  get client(): S3Client {
    return this.options.client;
  }

  get bucket(): string {
    return this.options.bucket;
  }

  /** The full object key of a key relative to the output root. */
  keyOf(relative: string): string {
    return `${this.prefix}${relative}`;
  }

  async stage(runId: string): Promise<StagedRun> {
    if (!/^[A-Za-z0-9._-]+$/.test(runId)) throw new ClvError(`run id ${JSON.stringify(runId)} is not usable in an S3 key`);
    return new S3StagedRun(this, runId, this.keyOf(`${STAGING_DIR}/${runId}/`), this.keyOf(`${STAGING_DIR}/${runId}.replaced/`));
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return object.Body ? await object.Body.transformToByteArray() : EMPTY;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** One paged listing of `summary/`: the run dates whose partition holds a `_SUCCESS`. */
  async putReport(key: string, body: string): Promise<void> {
    await this.putObject(this.keyOf(key), body, 'application/json');
  }

  async publishedRunDates(): Promise<string[]> {
    const marker = new RegExp(`^${escapeRegExp(this.keyOf('summary/'))}run_date=(\\d{4}-\\d{2}-\\d{2})/_SUCCESS$`);
    const dates = (await this.list(this.keyOf('summary/'))).flatMap((o) => marker.exec(o.key)?.[1] ?? []);
    return [...new Set(dates)].sort();
  }

  /**
   * A conditional create (`If-None-Match: *`): S3 answers 412 when the lock exists, so exactly
   * one of two concurrent runs gets it. A lock older than the time-to-live was left by a killed
   * run: it is deleted only if it is still the same object (`If-Match` on its ETag), so two runs
   * taking over the same stale lock cannot both succeed, and the create is tried once more.
   */
  async lock(runId: string, ttlSeconds: number): Promise<RunLock> {
    const key = this.keyOf(LOCK_KEY);
    for (let attempt = 0; attempt < 2; attempt++) {
      const body = JSON.stringify({ runId, since: this.now().toISOString() });
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: '*', ContentType: 'application/json' }));
        return { release: () => this.releaseLock(key, runId) };
      } catch (error) {
        // 409: a concurrent conditional write to the same key is still in flight
        if (!isStatus(error, 412) && !isStatus(error, 409)) throw error;
      }
      const holder = await this.lockHolder(key);
      if (holder === null) continue; // released in between: try again
      const ageSeconds = (this.now().getTime() - Date.parse(holder.since)) / 1000;
      if (!(ageSeconds > ttlSeconds)) {
        throw new RunLockedError(`another run (${holder.runId}) holds the lock on ${this.location} since ${holder.since}`);
      }
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: holder.etag }));
      } catch (error) {
        // someone else took the stale lock over first
        if (isStatus(error, 412) || isMissing(error)) throw new RunLockedError(`another run took over the stale lock on ${this.location}`);
        throw error;
      }
    }
    throw new RunLockedError(`could not take the lock on ${this.location}`);
  }

  /** Deletes the lock only while it is still this run's (a run that overran its TTL may have lost it). */
  private async releaseLock(key: string, runId: string): Promise<void> {
    const holder = await this.lockHolder(key);
    if (holder === null || holder.runId !== runId) return;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: holder.etag })).catch((error: unknown) => {
      if (!isStatus(error, 412) && !isMissing(error)) throw error;
    });
  }

  private async lockHolder(key: string): Promise<{ runId: string; since: string; etag: string } | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = (await object.Body?.transformToString()) ?? '';
      let holder: { runId?: unknown; since?: unknown } = {};
      try {
        holder = JSON.parse(text) as typeof holder;
      } catch {
        // unreadable: judged by the object's own age below
      }
      const since = typeof holder.since === 'string' && !Number.isNaN(Date.parse(holder.since)) ? holder.since : (object.LastModified ?? new Date(0)).toISOString();
      return { runId: typeof holder.runId === 'string' ? holder.runId : 'unknown', since, etag: object.ETag ?? '' };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** Every object under a prefix, following continuation tokens. */
  async list(prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: this.batchSize }),
      );
      for (const o of page.Contents ?? []) if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** Deletes keys in batches (DeleteObjects takes up to 1000); any per-key error fails the call. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += this.batchSize) {
      const batch = keys.slice(i, i + this.batchSize);
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        throw new ClvError(`S3 could not delete ${failed.length} object(s), e.g. ${failed[0]?.Key}: ${failed[0]?.Code} ${failed[0]?.Message ?? ''}`.trim());
      }
    }
  }

  /**
   * A server-side copy: no bytes pass through the Lambda. S3 computes a fresh full-object CRC32 for
   * the copy (a multipart upload's checksum is per part). CopyObject takes objects up to 5 GB;
   * the job's Parquet parts are far smaller (a million customers is ~40 MB). A larger object
   * would need a multipart copy (UploadPartCopy), which this store does not do: it fails clearly.
   */
  async copy(from: string, to: string, size: number): Promise<void> {
    if (size > 5 * 1024 ** 3) throw new ClvError(`s3://${this.bucket}/${from} is over 5 GB: CopyObject cannot copy it (UploadPartCopy would be needed)`);
    await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: copySource(this.bucket, from), ChecksumAlgorithm: 'CRC32' }));
  }

  async putObject(key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength, ...(contentType ? { ContentType: contentType } : {}) }),
    );
  }

  /** Aborts every multipart upload in progress under a prefix. */
  async abortUploads(prefix: string): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const upload of page.Uploads ?? []) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }))
          .catch((error: unknown) => {
            if (!isMissing(error)) throw error;
          });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  partSize(): number {
    return this.options.partSize ?? 16 * 1024 * 1024;
  }

  queueSize(): number {
    return this.options.queueSize ?? 2;
  }
}

/** CopySource is `bucket/key`, the key URI-encoded (slashes kept). */
const copySource = (bucket: string, key: string): string => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

const contentTypeOf = (key: string): string | undefined =>
  key.endsWith('.json') ? 'application/json' : key.endsWith('.html') ? 'text/html; charset=utf-8' : key.endsWith('.parquet') ? 'application/vnd.apache.parquet' : undefined;

class S3StagedRun implements StagedRun {
  /** Uploads not closed yet, with their bodies: a failed run aborts them. */
  private readonly openUploads = new Map<Upload, PassThrough>();

  constructor(
    private readonly store: S3Store,
    private readonly runId: string,
    /** Full key prefix of this run's staged objects. */
    private readonly stagingPrefix: string,
    /** Where the previous partitions are copied aside while publishing. */
    private readonly backupPrefix: string,
  ) {}

  /**
   * Streams into a multipart upload (lib-storage's Upload) as the bytes come: a file never sits
   * whole in memory, and a small file goes up as a single PutObject.
   */
  async open(key: string): Promise<ByteSink> {
    const body = new PassThrough();
    const upload = new Upload({
      client: this.store.client,
      params: { Bucket: this.store.bucket, Key: `${this.stagingPrefix}${key}`, Body: body, ContentType: contentTypeOf(key) },
      partSize: this.store.partSize(),
      queueSize: this.store.queueSize(),
      leavePartsOnError: false,
    });
    let failure: unknown = null;
    this.openUploads.set(upload, body);
    const done = upload.done().then(
      () => undefined,
      (error: unknown) => {
        failure = error;
        body.destroy();
      },
    );
    void done.finally(() => this.openUploads.delete(upload));
    const check = () => {
      if (failure !== null) throw new ClvError(`upload of ${key} to ${this.store.location} failed: ${firstLine(failure)}`, { cause: failure });
    };
    return {
      async write(chunk) {
        check();
        if (!body.write(chunk)) await Promise.race([once(body, 'drain'), done]);
        check();
      },
      async close() {
        check();
        body.end();
        await done;
        check();
      },
    };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.store.putObject(`${this.stagingPrefix}${key}`, body, contentTypeOf(key));
  }

  /**
   * (1) delete the run date's `_SUCCESS`, so readers that trust it stop trusting the partitions;
   * (2) copy the run date's current partitions of every staged dataset aside, then delete them, so
   * a reader listing a partition never sees a mix of two runs; (3) copy the staged objects to
   * their final keys; (4) write the manifest, `_SUCCESS`, then `latest.json`; (5) delete staging.
   * If (2) or (3) fails, the partitions are put back as they were, `_SUCCESS` included.
   */
  async publish(runDate: string, manifest: RunManifest): Promise<void> {
    const store = this.store;
    const staged = (await store.list(this.stagingPrefix)).map((o) => ({ ...o, relative: o.key.slice(this.stagingPrefix.length) }));
    const partitions = DATASETS.map((d) => `${datasetPartition(d, runDate)}/`).filter((p) => staged.some((o) => o.relative.startsWith(p)));
    const stray = staged.filter((o) => !partitions.some((p) => o.relative.startsWith(p)));
    if (stray.length > 0) throw new ClvError(`staged ${stray[0]?.relative} lies outside the run date ${runDate}'s partitions`);

    const success = store.keyOf(successKey(runDate));
    const previous = (await Promise.all(partitions.map((p) => store.list(store.keyOf(p))))).flat();
    const hadSuccess = previous.some((o) => o.key === success);
    // (1) S3 deletes are not ordered with later writes for readers, but a reader that finds no
    // _SUCCESS, or a manifest naming another run, knows the partition is being replaced
    if (hadSuccess) await store.deleteKeys([success]);
    const backedUp: ListedObject[] = [];
    const published: string[] = [];
    try {
      // (2)
      for (const object of previous) {
        if (object.key === success) continue;
        await store.copy(object.key, this.backupKey(object.key), object.size);
        backedUp.push(object);
      }
      await store.deleteKeys(backedUp.map((o) => o.key));
      // (3)
      for (const object of staged) {
        const target = store.keyOf(object.relative);
        await store.copy(object.key, target, object.size);
        published.push(target);
      }
    } catch (error) {
      await this.rollBack(published, backedUp, hadSuccess ? success : null, error);
      throw error;
    }
    // (4)
    await store.putObject(store.keyOf(manifestKey(runDate)), JSON.stringify(manifest, null, 2) + '\n', 'application/json');
    await store.putObject(success, EMPTY);
    await this.updateLatest(runDate, manifest.runId);
    // (5)
    await this.discard();
    await store.deleteKeys((await store.list(this.backupPrefix)).map((o) => o.key));
  }

  /**
   * Aborts the uploads still open (their parts would otherwise be kept, and billed, until the
   * bucket's lifecycle rule aborts them) and deletes the staged objects.
   */
  async discard(): Promise<void> {
    for (const [upload, body] of this.openUploads) {
      await upload.abort();
      body.destroy();
    }
    this.openUploads.clear();
    await this.store.abortUploads(this.stagingPrefix);
    await this.store.deleteKeys((await this.store.list(this.stagingPrefix)).map((o) => o.key));
  }

  private backupKey(key: string): string {
    return `${this.backupPrefix}${key.slice(this.store.keyOf('').length)}`;
  }

  /** Removes what this run copied in and copies the previous objects back, `_SUCCESS` last. */
  private async rollBack(published: readonly string[], backedUp: readonly ListedObject[], success: string | null, cause: unknown): Promise<void> {
    try {
      const stillThere = new Set(backedUp.map((o) => o.key));
      await this.store.deleteKeys(published.filter((k) => !stillThere.has(k)));
      for (const object of backedUp) await this.store.copy(this.backupKey(object.key), object.key, object.size);
      if (success) await this.store.putObject(success, EMPTY);
      await this.store.deleteKeys((await this.store.list(this.backupPrefix)).map((o) => o.key));
    } catch (rollbackError) {
      throw new PublishRollbackError(
        `publishing run ${this.runId} failed (${firstLine(cause)}) and so did putting the previous output back (${firstLine(rollbackError)}); ` +
          `the previous objects are under s3://${this.store.bucket}/${this.backupPrefix}`,
        { cause },
      );
    }
  }

  /** `latest.json` names the newest published run date; re-running an older night leaves it alone. */
  private async updateLatest(runDate: string, runId: string): Promise<void> {
    let current: string | null = null;
    const text = await this.store.read(LATEST_KEY);
    if (text !== null) {
      try {
        current = (JSON.parse(Buffer.from(text).toString('utf8')) as { run_date?: string }).run_date ?? null;
      } catch {
        current = null;
      }
    }
    if (current !== null && current > runDate) return;
    await this.store.putObject(
      this.store.keyOf(LATEST_KEY),
      JSON.stringify({ run_date: runDate, run_id: runId, summary: `summary/run_date=${runDate}/summary.json` }, null, 2) + '\n',
      'application/json',
    );
  }
}
