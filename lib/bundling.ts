import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * arm64 (Graviton) for both functions: about 20% cheaper per GB-second and at least as fast for this
 * workload. The ingest function's DuckDB binding is installed for it (see nativeModuleBundling).
 */
export const FUNCTION_ARCHITECTURE = Architecture.ARM_64;

/**
 * The one native package the functions use: DuckDB, the ingest reader. esbuild cannot bundle its
 * `.node` binary, so the ingest function ships it as an installed node module and the nightly
 * function (which queries Athena) leaves it out.
 */
export const NATIVE_MODULES = ['@duckdb/node-api'] as const;

/** Node's `process.arch` of a Lambda architecture, as npm's `--cpu` and the binding packages name it. */
export const npmCpu = (architecture: Architecture): 'arm64' | 'x64' => (architecture.name === Architecture.ARM_64.name ? 'arm64' : 'x64');

/**
 * esbuild settings both functions share: one minified ES module for Node 22 with a source map (its
 * names kept), the
 * AWS SDK bundled (the exact client versions the lockfile pins and the tests ran, whatever the
 * runtime carries that month), the shared SQL bundled as text, and a `require` for dependencies
 * that still call it.
 */
export const sharedBundling = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: "import { createRequire as __clvCreateRequire } from 'node:module'; const require = __clvCreateRequire(import.meta.url);",
  minify: true,
  // error classes name themselves (`this.name = new.target.name`): Lambda's errorType, the logs' error.name
  // and the failed-run messages say ConfigurationError or QualityGateError, not a minified `rh`
  keepNames: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  logLevel: LogLevel.WARNING,
  // setting externalModules replaces the default externals (@aws-sdk/*)
  bundleAwsSDK: true,
  loader: { '.sql': 'text' },
} as const satisfies BundlingOptions;

/**
 * Bundling that installs NATIVE_MODULES beside the bundle (`npm ci` in the asset folder against the
 * project's lockfile) for the function's own platform, Lambda's linux/glibc on `architecture`,
 * whatever machine synthesises: npm's `os`, `cpu` and `libc` settings pick the optional binding
 * package (`@duckdb/node-bindings-linux-arm64` or `-linux-x64`), which the lockfile must list.
 */
export const nativeModuleBundling = (architecture: Architecture): BundlingOptions => ({
  ...sharedBundling,
  externalModules: [],
  nodeModules: [...NATIVE_MODULES],
  environment: { npm_config_os: 'linux', npm_config_cpu: npmCpu(architecture), npm_config_libc: 'glibc' },
});

/**
 * The nearest folder holding package-lock.json, from `start` upwards. From lib/ that works whether
 * it runs from the sources (tests) or bundled into node_modules/.cache/ (cdk.json's app command).
 */
export const findProjectRoot = (start: string): string => {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
};
