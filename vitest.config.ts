import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';

/** Loads `.sql` files as text, as esbuild's `text` loader does for the CLI and Lambda bundles. */
const sqlAsText: Plugin = {
  name: 'sql-as-text',
  async load(id) {
    if (!id.endsWith('.sql')) return null;
    return `export default ${JSON.stringify(await readFile(id, 'utf8'))};`;
  },
};

// Tests whose service is missing record their skip here; the reporter names them at the end (test/support/services.ts).
process.env.CLV_SKIP_DIR ??= join(tmpdir(), `clv-test-skips-${process.pid}`);
// The run's one Trino server keeps its address here (test/support/trino-server.ts); the global teardown stops it.
process.env.CLV_TRINO_DIR ??= join(tmpdir(), `clv-test-trino-${process.pid}`);

export default defineConfig({
  plugins: [sqlAsText],
  test: {
    include: ['test/**/*.test.ts'],
    // CDK assertions and DuckDB-backed pipeline runs take seconds each on two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['./test/support/global-setup.ts'],
    // fast-check's seed, pinned (FC_SEED overrides it): a failing property replays anywhere
    setupFiles: ['./test/support/fast-check-setup.ts'],
    reporters: ['default', './test/support/skip-notice-reporter.ts'],
  },
});
