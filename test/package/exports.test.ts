/**
 * The package as a consumer outside the repository installs it: imported by name (`clv-job`) from a
 * folder of its own, at run time and by the TypeScript compiler, and with every module the shipped
 * bundles import listed as a runtime dependency.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliBundle, requireCliBundle } from '../support/cli.js';
import { repoRoot, tempDir } from '../support/files.js';

const run = promisify(execFile);

interface PackageJson {
  readonly name: string;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

const packageJson = async (): Promise<PackageJson> => JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;

/** A consumer's folder with the package installed as `npm link` installs it: a link under node_modules. */
const consumerFolder = async (): Promise<string> => {
  const dir = await tempDir();
  await mkdir(join(dir, 'node_modules'));
  await symlink(repoRoot, join(dir, 'node_modules', (await packageJson()).name), 'dir');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return dir;
};

/** The packages a bundle imports: `import ... from "x"`, `import "x"`, `import("x")`; node: built-ins left out. */
const importedPackages = (bundle: string): string[] => {
  const specifiers = [
    ...bundle.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)";/gm),
    ...bundle.matchAll(/^import\s*"([^"]+)";/gm),
    ...bundle.matchAll(/\bimport\("([^"]+)"\)/g),
  ].map((m) => m[1]!);
  const packageOf = (s: string) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/');
  return [...new Set(specifiers.filter((s) => !s.startsWith('node:') && !s.startsWith('.')).map(packageOf))].sort();
};

beforeAll(requireCliBundle);

describe('the package imported by name from outside the repository', () => {
  it('gives the zod schema, its version and the JSON Schema at run time', async () => {
    const dir = await consumerFolder();
    await writeFile(
      join(dir, 'consumer.mjs'),
      [
        "import { SUMMARY_SCHEMA_VERSION, summarySchema, summaryJsonSchema } from 'clv-job';",
        "import jsonSchema from 'clv-job/summary.schema.json' with { type: 'json' };",
        'const bad = summarySchema.safeParse({ schema_version: SUMMARY_SCHEMA_VERSION });',
        'console.log(JSON.stringify({ version: SUMMARY_SCHEMA_VERSION, refused: !bad.success, same: JSON.stringify(summaryJsonSchema()) === JSON.stringify(jsonSchema) }));',
      ].join('\n'),
    );

    const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: dir });

    expect(JSON.parse(stdout)).toEqual({ version: '2.8.0', refused: true, same: true });
  });

  it('gives the Summary type to the TypeScript compiler, typed (not any)', async () => {
    const dir = await consumerFolder();
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: [], skipLibCheck: false } }),
    );
    await writeFile(
      join(dir, 'consumer.ts'),
      [
        "import { summarySchema, type Summary } from 'clv-job';",
        'export const customers = (json: unknown): number => {',
        '  const summary: Summary = summarySchema.parse(json);',
        '  // @ts-expect-error a count is a number, not text: the types are real, not any',
        '  const wrong: string = summary.counts.customers;',
        '  return summary.counts.customers + wrong.length;',
        '};',
      ].join('\n'),
    );

    const result = await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    );

    expect(result.stdout).toBe('');
  });
});

describe('runtime dependencies', () => {
  it.each([
    ['dist/cli.js', cliBundle],
    ['dist/summary.js', join(repoRoot, 'dist', 'summary.js')],
  ])('every package %s imports is a runtime dependency, none only a devDependency', async (_, bundle) => {
    const { dependencies } = await packageJson();

    const imported = importedPackages(await readFile(bundle, 'utf8'));

    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((p) => !(p in dependencies))).toEqual([]);
  });

  it('finds no hyparquet among the imports of dist/cli.js (the engine joins the previous run\'s customers: a devDependency)', async () => {
    expect(importedPackages(await readFile(cliBundle, 'utf8'))).not.toContain('hyparquet');
  });
});
