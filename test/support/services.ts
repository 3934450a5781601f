/**
 * System services some tests need (moto, Chromium, Trino, Python peers, mpmath for 40-digit references). A test file declares what
 * it needs with `describeWith(service, ...)`: when the service is there the tests run; when it is
 * missing they are skipped, the skip is recorded and `skip-notice-reporter.ts` ends the run with one
 * line naming what was skipped and the command that installs it. Under `CI=true` nothing may skip:
 * the describe block fails with that same message instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

export type Service = 'moto' | 'chromium' | 'trino' | 'lifetimes' | 'mpmath';

interface Probe {
  /** True when the service can be started or imported here. */
  readonly available: () => boolean;
  /** The command that installs it, for the notice. */
  readonly install: string;
}

const python = (): string => process.env.MOTO_PYTHON ?? 'python3';
const imports = (module: string) => (): boolean => spawnSync(python(), ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;

/** The Trino release `scripts/install-trino.sh` installs (keep the two equal). */
export const TRINO_VERSION = '476';
/** Trino >= 472 runs on Java 24 or later. */
const TRINO_JAVA_MAJOR = 24;

/**
 * Where `scripts/install-trino.sh` unpacks the pinned Trino server: a cache outside the repository,
 * shared by every worktree and CI rerun on the machine.
 */
export const trinoHome = (): string =>
  process.env.TRINO_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'clv-job', `trino-${TRINO_VERSION}`);

/** The `java` Trino runs on: TRINO_JAVA_HOME, else the machine's Temurin 25 JDK, else JAVA_HOME, else PATH. */
export const trinoJava = (): string => {
  const candidates = [process.env.TRINO_JAVA_HOME, '/usr/lib/jvm/temurin-25-jdk-amd64', process.env.JAVA_HOME];
  const home = candidates.find((dir) => dir !== undefined && existsSync(join(dir, 'bin', 'java')));
  return home === undefined ? 'java' : join(home, 'bin', 'java');
};

/** The server, its Hive plugin and a Java new enough to run them are all there. */
const trinoAvailable = (): boolean => {
  const home = trinoHome();
  if (!existsSync(join(home, 'bin', 'launcher')) || !existsSync(join(home, 'plugin', 'hive'))) return false;
  const version = spawnSync(trinoJava(), ['-version'], { encoding: 'utf8' });
  const major = Number(/version "(\d+)/.exec(`${version.stderr ?? ''}`)?.[1] ?? 0);
  return major >= TRINO_JAVA_MAJOR;
};

export const PROBES: Readonly<Record<Service, Probe>> = {
  moto: { available: imports('moto.server'), install: 'bash scripts/install-services.sh moto' },
  chromium: { available: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'), install: 'bash scripts/install-services.sh chromium' },
  trino: { available: trinoAvailable, install: 'bash scripts/install-services.sh trino' },
  lifetimes: { available: imports('lifetimes'), install: 'bash scripts/install-services.sh lifetimes' },
  mpmath: { available: imports('mpmath'), install: 'bash scripts/install-services.sh mpmath' },
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
 * `describe(title, body)` when every service named is there. Otherwise: under `CI=true` a failing
 * test naming the missing ones; elsewhere the block is skipped and recorded for the closing notice.
 */
export const describeWith = (services: Service | readonly Service[], title: string, body: () => void): void => {
  const missing = (typeof services === 'string' ? [services] : services).filter((service) => !hasService(service));
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const message = missing.map(missingMessage).join('; ');
  if (process.env.CI === 'true') {
    describe(title, () => {
      it(`needs ${missing.join(' and ')}`, () => {
        throw new Error(`${message}: under CI=true tests that need it must run`);
      });
    });
    return;
  }
  for (const service of missing) recordSkip(service, title);
  describe.skip(`${title} (skipped: ${message})`, body);
};
