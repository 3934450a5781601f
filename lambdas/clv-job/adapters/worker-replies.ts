import type { Worker } from 'node:worker_threads';
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
