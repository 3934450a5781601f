/**
 * The parts of the fault tests that child processes use too (no vitest, no DuckDB here): a
 * file system that fails or dies at its k-th call, and staging a folder of files as a run.
 */
import * as nodeFs from 'node:fs/promises';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LocalFs } from '../../lambdas/clv-job/adapters/local-folder-store.js';
import type { RunManifest, StagedRun } from '../../lambdas/clv-job/ports.js';

export const RUN_DATE = '2025-01-31';

/** Counts calls once armed; fails (or runs `onCall`) at the k-th. */
export interface FaultPlan {
  armed: boolean;
  calls: number;
  failAt: number | null;
  log: string[];
}

export const faultPlan = (failAt: number | null = null): FaultPlan => ({ armed: false, calls: 0, failAt, log: [] });

/** node:fs/promises, with the k-th call after arming failing as a disk would (EIO). */
export const faultyFs = (plan: FaultPlan, atFault: (name: string) => never | void = () => undefined): LocalFs =>
  new Proxy(nodeFs, {
    get(target, property) {
      const value = (target as Record<string | symbol, unknown>)[property];
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (plan.armed) {
          plan.calls++;
          plan.log.push(String(property));
          if (plan.calls === plan.failAt) {
            atFault(String(property));
            throw Object.assign(new Error(`injected failure of ${String(property)} (call ${plan.calls})`), { code: 'EIO' });
          }
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as LocalFs;

/** Puts files (key -> body) into a run and returns the manifest to publish it with. */
export const stageFiles = async (run: StagedRun, runDate: string, files: Record<string, Uint8Array | string>): Promise<RunManifest> => {
  for (const [key, body] of Object.entries(files)) await run.put(key, body);
  return {
    runId: run.runId,
    runDate,
    files: Object.entries(files).map(([key, body]) => ({ key, bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength, rows: null })),
  };
};

/** The files under a folder, keyed by their path relative to it. */
export const filesOf = async (dir: string): Promise<Record<string, Uint8Array>> => {
  const files: Record<string, Uint8Array> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[relative(dir, join(entry.parentPath, entry.name))] = await readFile(join(entry.parentPath, entry.name));
  }
  return files;
};

/** An AWS SDK client (S3, Glue) whose k-th command after arming fails as S3 does on a bad day (500, not retried), or runs `atFault`. */
export const failKthCommand = <C extends { middlewareStack: { add: (...args: never[]) => void } }>(client: C, plan: FaultPlan, atFault: () => void = () => undefined): C => {
  const add = client.middlewareStack.add as unknown as (
    middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ) => void;
  add.call(
    client.middlewareStack,
    (next, context) => async (args) => {
      if (plan.armed) {
        plan.calls++;
        plan.log.push(context.commandName?.replace(/Command$/, '') ?? 'request');
        if (plan.calls === plan.failAt) {
          atFault();
          throw Object.assign(new Error(`injected failure of ${context.commandName} (request ${plan.calls})`), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'failKthCommand' },
  );
  return client;
};
