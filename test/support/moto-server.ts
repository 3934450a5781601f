import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * moto's S3 (real protocol, incl. multipart uploads and conditional writes) as a child process on
 * 127.0.0.1 and a port the OS picks. One per test file (beforeAll): it starts in about 1.5 s.
 */
export interface MotoServer {
  /** e.g. `http://127.0.0.1:40123` */
  readonly endpoint: string;
  /** Forgets every bucket and object (moto's own reset API): a clean slate between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Dummy credentials: moto accepts any, and the SDK's chain must never reach for real ones in tests. */
export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;
export const TEST_REGION = 'us-east-1';

const READY = /Running on (http:\/\/127\.0\.0\.1:\d+)/;

export const startMoto = async (options: { readonly startTimeoutMs?: number } = {}): Promise<MotoServer> => {
  const python = process.env.MOTO_PYTHON ?? 'python3';
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let output = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`moto did not start within ${options.startTimeoutMs ?? 20_000} ms:\n${output}`)), options.startTimeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      // both streams are read to the end so moto never blocks on a full pipe
      if (output.length < 20_000) output += chunk.toString();
      const match = READY.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) =>
      fail(new Error(`cannot start moto (${python} -m moto.server): ${error.message}; install it with pip install "moto[server]==5.2.1"`)),
    );
    child.once('exit', (code) => fail(new Error(`moto exited with code ${code} before it was ready:\n${output}`)));
  });
  return {
    endpoint,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
};

/** An S3 client for moto: path-style addressing (moto serves no virtual-host buckets on 127.0.0.1). */
export const motoS3Client = (endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client =>
  new S3Client({ endpoint, region: TEST_REGION, forcePathStyle: true, credentials: TEST_CREDENTIALS, ...extra });

/** A fresh bucket with its client. */
export const createBucket = async (endpoint: string, bucket: string): Promise<S3Client> => {
  const client = motoS3Client(endpoint);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return client;
};

/** S3's answer to a request that fails for a reason of the moment. */
const internalError = (): Error =>
  Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });

/**
 * A moto client whose requests fail, as S3 does on a bad day (500 InternalError, not retried),
 * when `fails(commandName, key)` is true; or with `failure`'s error.
 */
export const motoS3ClientFailing = (endpoint: string, fails: (command: string, key: string | undefined) => boolean, failure: () => Error = internalError): S3Client => {
  const client = motoS3Client(endpoint, { maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key;
      if (fails(context.commandName ?? '', key)) throw failure();
      return next(args);
    },
    { step: 'initialize', name: 'failRequests' },
  );
  return client;
};

/**
 * A moto client held to S3's limit on a key, 1,024 bytes of UTF-8, which moto does not enforce: a
 * request naming a longer key fails as on S3 (400 KeyTooLongError).
 */
export const motoS3ClientKeyLimited = (endpoint: string): S3Client =>
  motoS3ClientFailing(
    endpoint,
    (_command, key) => key !== undefined && Buffer.byteLength(key, 'utf8') > 1024,
    () => Object.assign(new Error('Your key is too long'), { name: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } }),
  );

/**
 * Uploads the CSV and CSV.gz files of a local folder (not recursive) under a key prefix, as a data
 * team drops exports; anything else (a truth.json beside them) stays out of the drop prefix.
 */
export const uploadFolder = async (client: S3Client, bucket: string, prefix: string, dir: string): Promise<string[]> => {
  const keys: string[] = [];
  const exports = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && /\.csv(\.gz)?$/i.test(e.name));
  for (const entry of exports.sort((a, b) => a.name.localeCompare(b.name))) {
    const key = `${prefix}${entry.name}`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(join(dir, entry.name)) }));
    keys.push(key);
  }
  return keys;
};
