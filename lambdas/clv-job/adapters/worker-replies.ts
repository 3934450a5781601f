import { isMainThread, Worker, workerData } from 'node:worker_threads';
import type { ClvError } from '../errors.js';

/** A worker's reply saying it failed, with why. */
interface Failed {
  readonly kind: 'failed';
  readonly message: string;
}

/**
 * A worker's replies one at a time; the next one rejects, with a `Failure` naming the worker as
 * `name` (e.g. `interval worker 1`), once the worker said it failed, crashed (threw) or exited.
 * Replies that came before stay readable.
 */
export const repliesOf = <Reply extends { readonly kind: string }>(
  worker: Worker,
  name: string,
  Failure: new (message: string, options?: ErrorOptions) => ClvError,
): (() => Promise<Reply>) => {
  const arrived: Reply[] = [];
  let waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | null = null;
  let failure: Error | null = null;
  const fail = (error: Error): void => {
    failure ??= error;
    waiting?.reject(failure);
    waiting = null;
  };
  worker.on('message', (reply: Reply | Failed) => {
    if (reply.kind === 'failed') return fail(new Failure(`${name} failed: ${(reply as Failed).message}`));
    if (waiting === null) arrived.push(reply as Reply);
    else {
      waiting.resolve(reply as Reply);
      waiting = null;
    }
  });
  worker.on('error', (error) => fail(new Failure(`${name} crashed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => fail(new Failure(`${name} exited (code ${code}) before its work was done`)));
  return () => {
    const next = arrived.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (failure !== null) return Promise.reject(failure);
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  };
};

/** True in a thread {@link startWorker} started with `role`: the bundle's entry then serves that role and runs nothing else. */
export const isWorkerOf = (role: string): boolean => !isMainThread && (workerData as { role?: unknown } | null)?.role === role;

/**
 * Starts `script` (the running bundle) as a worker marked with `role` ({@link isWorkerOf}), its
 * replies read from the start ({@link repliesOf}, failures as `Failure` naming it `name`), and
 * unreferenced: it does not keep the process alive while idle (the caller refs it while it works).
 * No inherited execArgv: the parent's may not apply to a module file (e.g. `--input-type`, which
 * only `-e` takes).
 */
export const startWorker = <Reply extends { readonly kind: string }>(
  script: URL,
  role: string,
  name: string,
  Failure: new (message: string, options?: ErrorOptions) => ClvError,
): { readonly worker: Worker; readonly next: () => Promise<Reply> } => {
  const worker = new Worker(script, { workerData: { role }, execArgv: [] });
  // listening before anything else: a worker that throws or exits before its job would otherwise
  // crash the process (an 'error' nobody listens to) or leave its caller waiting for ever
  const next = repliesOf<Reply>(worker, name, Failure);
  // after the listeners: adding a 'message' listener refs the worker's port again
  worker.unref();
  return { worker, next };
};
