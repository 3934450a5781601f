import { gunzipSync } from 'node:zlib';
import { parquetReadObjects, type Compressors } from 'hyparquet';
import { z } from 'zod';
import { manifestKey, summaryKey } from '../layout.js';
import type { OutputStore } from '../ports.js';
import { summarySchema, type Summary } from '../schemas/summary.js';
import { TIERS, type Tier } from '../schemas/tables.js';

/** What tonight's run compares itself with: the latest earlier run date in the same output. */
export interface PreviousRun {
  readonly runDate: string;
  readonly summary: Summary;
  /** Each previous customer's tier, for the migration matrix and the movers. */
  readonly tiers: ReadonlyMap<string, Tier>;
  /** Each previous customer's RFM segment (customers without one left out), for the movers. */
  readonly rfmSegments: ReadonlyMap<string, string>;
}

const manifestSchema = z.object({ files: z.array(z.object({ key: z.string() })) });

/** The table writer compresses pages with gzip (adapters/parquet-table-writer.ts); hyparquet inflates only Snappy by itself. */
const COMPRESSORS: Compressors = { GZIP: (input) => gunzipSync(input) };

const decodeJson = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

/**
 * Loads the previous run, or null when there is none or it cannot be trusted (an unreadable or
 * older-format summary is not compared with rather than failing tonight's run).
 */
export const loadPrevious = async (store: OutputStore, runDate: string): Promise<PreviousRun | null> => {
  const earlier = (await store.publishedRunDates()).filter((d) => d < runDate);
  const previousDate = earlier.at(-1);
  if (previousDate === undefined) return null;
  const [summaryBytes, manifestBytes] = await Promise.all([store.read(summaryKey(previousDate)), store.read(manifestKey(previousDate))]);
  if (!summaryBytes || !manifestBytes) return null;
  const summary = summarySchema.safeParse(decodeJson(summaryBytes));
  const manifest = manifestSchema.safeParse(decodeJson(manifestBytes));
  if (!summary.success || !manifest.success) return null;

  const tiers = new Map<string, Tier>();
  const rfmSegments = new Map<string, string>();
  for (const { key } of manifest.data.files) {
    const tier = TIERS.find((t) => key.includes(`/segment=${t}/`));
    if (!key.startsWith('customers/') || tier === undefined) continue;
    const bytes = await store.read(key);
    if (!bytes) return null;
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = await parquetReadObjects({ file, columns: ['customer_id', 'rfm_segment'], rowFormat: 'object', compressors: COMPRESSORS });
    for (const row of rows) {
      const id = String(row.customer_id);
      tiers.set(id, tier);
      if (typeof row.rfm_segment === 'string') rfmSegments.set(id, row.rfm_segment);
    }
  }
  return { runDate: previousDate, summary: summary.data, tiers, rfmSegments };
};
