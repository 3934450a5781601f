import { z } from 'zod';
import { firstLine } from '../errors.js';
import type { RunManifest } from '../ports.js';

/**
 * A run date's `_manifest.json` (layout.ts manifestKey): the run and every file it publishes, with
 * its size in bytes and, for a table, its rows. The publisher writes it into the run and, on S3, as
 * the night's commit point (adapters/versioned-publisher.ts); the S3 store reads the live run from
 * it; the previous-run lookup counts a night's customers from it (pipeline/previous-run.ts).
 */
export const manifestSchema = z.object({
  runId: z.string().min(1),
  runDate: z.string(),
  files: z.array(z.object({ key: z.string(), bytes: z.number().int().nonnegative(), rows: z.number().int().nonnegative().nullable() })),
});

/** A manifest as read back: the manifest, or what is wrong with the bytes read (e.g. `not JSON (Unexpected end of JSON input)`). */
export type ManifestRead = { readonly manifest: RunManifest; readonly damage: null } | { readonly manifest: null; readonly damage: string };

/**
 * Reads a manifest's bytes (null: no such file). A file cut short, of other JSON, or of another
 * shape is damaged, never a manifest: every reader treats it as the night's manifest missing.
 */
export const readManifest = (bytes: Uint8Array | null): ManifestRead => {
  if (bytes === null) return { manifest: null, damage: 'missing' };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    return { manifest: null, damage: `not JSON (${firstLine(error)})` };
  }
  const parsed = manifestSchema.safeParse(value);
  if (parsed.success) return { manifest: parsed.data, damage: null };
  const issue = parsed.error.issues[0];
  return { manifest: null, damage: `not a manifest (${issue ? `${issue.path.join('.') || 'the file'}: ${issue.message}` : 'unknown shape'})` };
};
