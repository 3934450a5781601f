/**
 * Ends a vitest run with one line naming the services whose tests were skipped because they are
 * missing here, and the command that installs each (see `services.ts`). Prints nothing when none was.
 */
import { readdirSync, rmSync } from 'node:fs';
import type { Reporter } from 'vitest/node';
import { PROBES, type Service } from './services.js';

export default class SkipNoticeReporter implements Reporter {
  onTestRunEnd(): void {
    const dir = process.env.CLV_SKIP_DIR;
    if (!dir) return;
    let files: string[] = [];
    try {
      files = readdirSync(dir);
    } catch {
      return;
    }
    rmSync(dir, { recursive: true, force: true });
    const services = [...new Set(files.map((file) => file.split('-')[0] as Service))].filter((s) => s in PROBES).sort();
    if (services.length === 0) return;
    const counts = services.map((service) => `${service} (${files.filter((f) => f.startsWith(`${service}-`)).length} test blocks; ${PROBES[service].install})`);
    process.stdout.write(`\nSkipped, service missing: ${counts.join('; ')}. Under CI=true these run and are mandatory.\n`);
  }
}
