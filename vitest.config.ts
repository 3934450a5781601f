import { readFile } from 'node:fs/promises';
import { defineConfig, type Plugin } from 'vitest/config';

/** Loads `.sql` files as text, as esbuild's `text` loader does for the CLI and Lambda bundles. */
const sqlAsText: Plugin = {
  name: 'sql-as-text',
  async load(id) {
    if (!id.endsWith('.sql')) return null;
    return `export default ${JSON.stringify(await readFile(id, 'utf8'))};`;
  },
};

export default defineConfig({
  plugins: [sqlAsText],
  test: {
    include: ['test/**/*.test.ts'],
    // CDK assertions and DuckDB-backed pipeline runs take seconds each on two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
