/**
 * System services some tests need (moto, Chromium, Trino, Python peers). A test file declares what
 * it needs with `describeWith(service, ...)`: when the service is there the tests run; when it is
 * missing they are skipped, the skip is recorded and `skip-notice-reporter.ts` ends the run with one
 * line naming what was skipped and the command that installs it. Under `CI=true` nothing may skip:
 * the describe block fails with that same message instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { repoRoot } from './files.js';

export type Service = 'moto' | 'chromium' | 'trino' | 'lifetimes';

interface Probe {
  /** True when the service can be started or imported here. */
  readonly available: () => boolean;
  /** The command that installs it, for the notice. */
  readonly install: string;
}

const python = (): string => process.env.MOTO_PYTHON ?? 'python3';
const imports = (module: string) => (): boolean => spawnSync(python(), ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;

/** Where `scripts/install-trino.sh` unpacks the pinned Trino server (see that script). */
export const trinoHome = (): string => process.env.TRINO_HOME ?? join(repoRoot, '.cache', 'trino', 'server');

export const PROBES: Readonly<Record<Service, Probe>> = {
  moto: { available: imports('moto.server'), install: 'bash scripts/install-services.sh moto' },
  chromium: { available: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'), install: 'bash scripts/install-services.sh chromium' },
  trino: { available: () => existsSync(join(trinoHome(), 'bin', 'launcher')), install: 'bash scripts/install-services.sh trino' },
  lifetimes: { available: imports('lifetimes'), install: 'bash scripts/install-services.sh lifetimes' },
};

const checked = new Map<Service, boolean>();
/** Whether `service` is there (probed once per test file). */
export const hasService = (service: Service): boolean => {
  let result = checked.get(service);
  if (result === undefined) {
    result = PROBES[service].available();
    checked.set(service, result);
  }
  return result;
};

const missingMessage = (service: Service): string => `${service} is missing (install it with: ${PROBES[service].install})`;

/** The folder the reporter reads skips from: set by vitest.config.ts for the whole run. */
const recordSkip = (service: Service, title: string): void => {
  const dir = process.env.CLV_SKIP_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${service}-${process.pid}-${checked.size}-${Math.random().toString(36).slice(2)}`), title);
};

/**
 * `describe(title, body)` when `service` is there. Otherwise: under `CI=true` a failing test naming
 * the missing service; elsewhere the block is skipped and recorded for the closing notice.
 */
export const describeWith = (service: Service, title: string, body: () => void): void => {
  if (hasService(service)) {
    describe(title, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      it(`needs ${service}`, () => {
        throw new Error(`${missingMessage(service)}: under CI=true tests that need it must run`);
      });
    });
    return;
  }
  recordSkip(service, title);
  describe.skip(`${title} (skipped: ${missingMessage(service)})`, body);
};
