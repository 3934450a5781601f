import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ClvError, PublishError, RunLockedError, firstLine } from '../errors.js';
import { LOCK_KEY, MANIFEST_FILE, QUALITY_DIR, QUALITY_REPORT_FILE, RUNS_DIR, datasetOf, manifestKey, runScopedKey } from '../layout.js';
import type { ByteSink, OutputStore, PublishedNight, PublishOutcome, RecoveryReport, RunLock, RunManifest, StagedRun } from '../ports.js';
import { readManifest } from '../schemas/manifest.js';
import { GluePartitionSwitch, type CatalogOptions } from './glue-partitions.js';
import { SwitchUnreadableError, VersionedPublisher, type PublisherOptions, type VersionSpace } from './versioned-publisher.js';
import { isMissing } from './s3-missing.js';

export interface S3StoreOptions extends PublisherOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The output prefix, e.g. `clv/`; a trailing slash is added when missing. `''` is the bucket's root. */
  readonly prefix: string;
  /**
   * The Glue tables whose run-date partitions the switch points at a run's prefix (catalog
   * readers such as Athena). Without it only file readers (manifest, `latest.json`) are served.
   */
  readonly catalog?: CatalogOptions;
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
}

interface ListedObject {
  readonly key: string;
  readonly size: number;
}

const isStatus = (error: unknown, status: number): boolean =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === status;

const EMPTY = new Uint8Array(0);
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const RUN_ID = /^[A-Za-z0-9._-]+$/;
const RUN_DATE_OF_KEY = /\/run_date=(\d{4}-\d{2}-\d{2})\//;

/**
 * The output prefix in S3. A run writes its files once under `_runs/<run id>/` (laid out as the
 * local folder's datasets: `_runs/<run id>/customers/run_date=D/segment=high/part-00000.parquet`);
 * publishing switches a run date in one step per kind of reader (adapters/versioned-publisher.ts):
 * the Glue partitions of each table in one BatchUpdatePartition (catalog readers, Athena), then
 * the run date's manifest `summary/run_date=D/_manifest.json` in one PUT (file readers, and the
 * commit point). S3 has no rename, so nothing is copied or deleted to publish: the previous
 * version stays where it is until it expires.
 */
export class S3Store implements OutputStore {
  readonly location: string;
  private readonly prefix: string;
  private readonly now: () => Date;
  private readonly batchSize: number;
  private readonly space: S3VersionSpace;
  private readonly publisher: VersionedPublisher;

  constructor(private readonly options: S3StoreOptions) {
    this.batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 1000));
    this.prefix = options.prefix === '' ? '' : options.prefix.replace(/^\/+/, '').replace(/\/*$/, '/');
    this.location = `s3://${options.bucket}/${this.prefix}`;
    this.now = options.now ?? (() => new Date());
    const partitions = options.catalog ? new GluePartitionSwitch(options.catalog, (key) => `s3://${options.bucket}/${this.keyOf(key)}`) : null;
    this.space = new S3VersionSpace(this, partitions);
    this.publisher = new VersionedPublisher(this.space, options);
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
    if (!RUN_ID.test(runId)) throw new ClvError(`run id ${JSON.stringify(runId)} is not usable in an S3 key`);
    return new S3StagedRun(this, runId, this.publisher);
  }

  /** A published key, read through its run date's manifest (the key in the live run); other keys as they are. */
  async read(key: string): Promise<Uint8Array | null> {
    const fullKey = await this.publishedKey(key);
    return fullKey === null ? null : this.getObject(fullKey);
  }

  /**
   * One GET of the night's manifest: its files are read and located in the run it names, with no
   * further look-up. Without a manifest (missing or damaged) none of its files can be found.
   */
  async publishedNight(runDate: string): Promise<PublishedNight> {
    const read = readManifest(await this.getObject(this.keyOf(manifestKey(runDate))));
    const inRun = (key: string): string | null => (read.manifest === null ? null : this.keyOf(runScopedKey(read.manifest.runId, key)));
    return {
      ...read,
      read: async (key) => {
        const fullKey = inRun(key);
        return fullKey === null ? null : this.getObject(fullKey);
      },
      locationOf: (key) => {
        const fullKey = inRun(key);
        return fullKey === null ? null : `s3://${this.bucket}/${fullKey}`;
      },
    };
  }

  /** The full object key a published key is read at: its copy in the live run of its run date (null with none). */
  private async publishedKey(key: string): Promise<string | null> {
    const runDate = RUN_DATE_OF_KEY.exec(`/${key}`)?.[1];
    if (datasetOf(key) === null || runDate === undefined || key === manifestKey(runDate)) return this.keyOf(key);
    const live = await this.space.liveRun(runDate);
    return live === null ? null : this.keyOf(runScopedKey(live, key));
  }

  async getObject(fullKey: string): Promise<Uint8Array | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }));
      return object.Body ? await object.Body.transformToByteArray() : EMPTY;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async putReport(key: string, body: string): Promise<void> {
    await this.putObject(this.keyOf(key), body, 'application/json');
  }

  async removeReport(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
  }

  /** One paged listing of `summary/`: the run dates that have a manifest (the switch of file readers). */
  publishedRunDates(): Promise<string[]> {
    return this.runDatesWith('summary', MANIFEST_FILE);
  }

  /** One paged listing of `_quality/`: the run dates that have a report. */
  qualityReportDates(): Promise<string[]> {
    return this.runDatesWith(QUALITY_DIR, QUALITY_REPORT_FILE);
  }

  /** The run dates D that have an object `<folder>/run_date=D/<file>`, ascending, from one paged listing of the folder. */
  private async runDatesWith(folder: string, file: string): Promise<string[]> {
    const marker = new RegExp(`^${escapeRegExp(this.keyOf(`${folder}/`))}run_date=(\\d{4}-\\d{2}-\\d{2})/${escapeRegExp(file)}$`);
    const dates = (await this.list(this.keyOf(`${folder}/`))).flatMap((o) => marker.exec(o.key)?.[1] ?? []);
    return [...new Set(dates)].sort();
  }

  recover(): Promise<RecoveryReport> {
    return this.publisher.recover();
  }

  rollback(runDate: string): Promise<PublishOutcome> {
    return this.publisher.rollback(runDate);
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

  /** The run ids under `_runs/` (one delimited listing). */
  async listRunIds(): Promise<string[]> {
    const ids: string[] = [];
    const prefix = this.keyOf(`${RUNS_DIR}/`);
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token, MaxKeys: this.batchSize }));
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) ids.push(p.Prefix.slice(prefix.length, -1));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return ids.filter((id) => RUN_ID.test(id));
  }

  partSize(): number {
    return this.options.partSize ?? 16 * 1024 * 1024;
  }

  queueSize(): number {
    return this.options.queueSize ?? 2;
  }
}

/** Content types by extension; an audience CSV says it is RFC 4180 text with a header row, in UTF-8. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  csv: 'text/csv; charset=utf-8; header=present',
};

const contentTypeOf = (key: string): string | undefined => CONTENT_TYPES[/\.([a-z]+)$/.exec(key)?.[1] ?? ''];

class S3StagedRun implements StagedRun {
  /** Uploads not closed yet, with their bodies: a failed run aborts them. */
  private readonly openUploads = new Map<Upload, PassThrough>();
  /** Full key prefix of this run's objects. */
  private readonly runPrefix: string;

  constructor(
    private readonly store: S3Store,
    readonly runId: string,
    private readonly publisher: VersionedPublisher,
  ) {
    this.runPrefix = store.keyOf(`${RUNS_DIR}/${runId}/`);
  }

  locationOf(key: string): string {
    return `s3://${this.store.bucket}/${this.runPrefix}${key}`;
  }

  /**
   * Streams into a multipart upload (lib-storage's Upload) as the bytes come: a file never sits
   * whole in memory, and a small file goes up as a single PutObject.
   */
  async open(key: string): Promise<ByteSink> {
    const body = new PassThrough();
    const upload = new Upload({
      client: this.store.client,
      params: { Bucket: this.store.bucket, Key: `${this.runPrefix}${key}`, Body: body, ContentType: contentTypeOf(key) },
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
      // the upload keeps what it reads until its part is sent
      keepsChunks: true,
      async close() {
        check();
        body.end();
        await done;
        check();
      },
    };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.store.putObject(`${this.runPrefix}${key}`, body, contentTypeOf(key));
  }

  publish(runDate: string, manifest: RunManifest): Promise<PublishOutcome> {
    if (manifest.runId !== this.runId || manifest.runDate !== runDate) {
      return Promise.reject(new PublishError(`the manifest names run ${manifest.runId} of ${manifest.runDate}, not run ${this.runId} of ${runDate}`));
    }
    return this.publisher.publish(manifest);
  }

  /**
   * Aborts the uploads still open (their parts would otherwise be kept, and billed, until the
   * bucket's lifecycle rule aborts them) and deletes the run's objects, unless it was published.
   */
  async discard(): Promise<void> {
    for (const [upload, body] of this.openUploads) {
      await upload.abort();
      body.destroy();
    }
    this.openUploads.clear();
    await this.store.abortUploads(this.runPrefix);
    // a publish that failed at its switch, unsure whether it took effect, leaves its run to the next recovery
    if (await this.publisher.pendingFor(this.runId)) return;
    const runDates = new Set((await this.store.list(this.runPrefix)).flatMap((o) => RUN_DATE_OF_KEY.exec(o.key)?.[1] ?? []));
    for (const runDate of runDates) {
      const live = await this.store.getObject(this.store.keyOf(manifestKey(runDate)));
      if (live !== null && Buffer.from(live).toString('utf8').includes(`"${this.runId}"`)) return;
    }
    await this.store.deleteKeys((await this.store.list(this.runPrefix)).map((o) => o.key));
  }
}

/** The S3 half of the protocol in versioned-publisher.ts. */
class S3VersionSpace implements VersionSpace {
  readonly location: string;

  constructor(
    private readonly store: S3Store,
    private readonly partitions: GluePartitionSwitch | null,
  ) {
    this.location = store.location;
  }

  async readRecord(key: string): Promise<string | null> {
    const bytes = await this.store.getObject(this.store.keyOf(key));
    return bytes === null ? null : Buffer.from(bytes).toString('utf8');
  }

  /** One PUT: S3 replaces an object atomically for readers. */
  async writeRecord(key: string, value: unknown): Promise<void> {
    await this.store.putObject(this.store.keyOf(key), JSON.stringify(value, null, 2) + '\n', 'application/json');
  }

  async deleteRecord(key: string): Promise<void> {
    await this.store.client.send(new DeleteObjectCommand({ Bucket: this.store.bucket, Key: this.store.keyOf(key) }));
  }

  async putRunFile(runId: string, key: string, body: Uint8Array | string): Promise<void> {
    await this.store.putObject(this.store.keyOf(runScopedKey(runId, key)), body, contentTypeOf(key));
  }

  readRunFile(runId: string, key: string): Promise<Uint8Array | null> {
    return this.store.getObject(this.store.keyOf(runScopedKey(runId, key)));
  }

  /** Files stay where the run wrote them; the night's manifest (or Glue) points readers there. */
  readerKey(runId: string, key: string): string {
    return runScopedKey(runId, key);
  }

  listRuns(): Promise<string[]> {
    return this.store.listRunIds();
  }

  async removeRun(runId: string): Promise<void> {
    const prefix = this.store.keyOf(`${RUNS_DIR}/${runId}/`);
    await this.store.abortUploads(prefix);
    await this.store.deleteKeys((await this.store.list(prefix)).map((o) => o.key));
  }

  async runHolds(manifest: RunManifest): Promise<boolean> {
    const sizes = new Map((await this.store.list(this.store.keyOf(`${RUNS_DIR}/${manifest.runId}/`))).map((o) => [o.key, o.size]));
    const key = (k: string) => this.store.keyOf(runScopedKey(manifest.runId, k));
    return sizes.has(key(manifestKey(manifest.runDate))) && manifest.files.every((f) => sizes.get(key(f.key)) === f.bytes);
  }

  /** The run dates that have a manifest (the commit point of each), ascending. */
  liveRunDates(): Promise<string[]> {
    return this.store.publishedRunDates();
  }

  /** The run the run date's manifest names: the commit point. Throws SwitchUnreadableError when it is damaged. */
  async liveRun(runDate: string): Promise<string | null> {
    const bytes = await this.store.getObject(this.store.keyOf(manifestKey(runDate)));
    if (bytes === null) return null;
    const { manifest, damage } = readManifest(bytes);
    if (manifest === null) throw new SwitchUnreadableError(`${this.store.location}${manifestKey(runDate)}`, runDate, damage);
    return manifest.runId;
  }

  async prepareSwitch(next: RunManifest, previousRunId: string | null): Promise<void> {
    await this.partitions?.prepare(next, previousRunId);
  }

  /** Catalog readers first (one call per table), then file readers with the manifest (the commit). */
  async switchTo(next: RunManifest): Promise<void> {
    await this.partitions?.pointAt(next);
    await this.store.putObject(this.store.keyOf(manifestKey(next.runDate)), JSON.stringify(next, null, 2) + '\n', 'application/json');
  }

  async undoSwitch(previousRunId: string | null, runDate: string): Promise<void> {
    await this.partitions?.restore(runDate, previousRunId);
  }

  /** Nothing is left for readers to trip over on S3: no links, and records are single objects. */
  async tidy(): Promise<void> {}
}
