import { build } from 'esbuild';
import { expect, it } from 'vitest';
import { repoRoot } from './support/files.js';

/**
 * The packages `clv` loads before it runs anything: those reached from cli.ts by static imports (a
 * dynamic `import()` of a package stays one in the bundle, loaded on first use). Every `clv` process
 * and every interval worker (which runs the same bundle) pays for these at start-up.
 */
const packagesLoadedAtStart = async (): Promise<string[]> => {
  const { metafile } = await build({
    absWorkingDir: repoRoot,
    entryPoints: ['lambdas/clv-job/cli.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    loader: { '.sql': 'text' },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const edge of metafile.inputs[file]?.imports ?? []) {
      if (edge.kind !== 'import-statement') continue;
      if (edge.external) packages.add(edge.path);
      else visit(edge.path);
    }
  };
  visit('lambdas/clv-job/cli.ts');
  return [...packages];
};

it('clv loads the AWS SDK and trino-client only for a run that uses them (~0.1 s of CPU at every start-up)', async () => {
  const packages = await packagesLoadedAtStart();
  expect(packages).toContain('@duckdb/node-api');
  expect(packages.filter((p) => p.startsWith('@aws-sdk/') || p === 'trino-client')).toEqual([]);
});
