import { z } from 'zod';
import type { CustomerTable } from '../domain/customers.js';
import type { PreviousSegments } from '../domain/segments/movers.js';
import { EngineError, firstLine } from '../errors.js';
import { manifestKey, summaryKey } from '../layout.js';
import type { OutputStore, PreviousCustomers, QueryEngine } from '../ports.js';
import type { RunWarning } from '../schemas/summary-run.js';
import { summarySchema, type Summary } from '../schemas/summary.js';
import { TIERS } from '../schemas/tables.js';
import type { SqlParameters } from '../sql/index.js';
import { decodeCustomers, decodePreviousSegments, decodePreviousTiers } from './engine-results.js';

/** What tonight's run compares itself with: the latest earlier run date in the same output. */
export interface PreviousRun {
  readonly runDate: string;
  readonly summary: Summary;
  /** Where its customers files are, for the engine to join (QueryEngine.bindPrevious); null when it has none (no customers). */
  readonly customers: PreviousCustomers | null;
}

const manifestSchema = z.object({ files: z.array(z.object({ key: z.string() })) });

/** The JSON of a published file, or undefined when it is not JSON (a file cut short): then it fails the schema, and is not compared with. */
const decodeJson = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
};

/**
 * Finds the previous run, or null when there is none or it cannot be trusted (an unreadable or
 * older-format summary or manifest is not compared with rather than failing tonight's run). Reads
 * its summary and manifest only: its customers stay where they are, for the engine.
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

  const files: string[] = [];
  for (const { key } of manifest.data.files) {
    if (!key.startsWith('customers/') || !TIERS.some((t) => key.includes(`/segment=${t}/`))) continue;
    const location = await store.publishedLocation(key);
    if (location === null) return null;
    files.push(location);
  }
  const [first, ...rest] = files;
  return { runDate: previousDate, summary: summary.data, customers: first === undefined ? null : { runDate: previousDate, files: [first, ...rest] } };
};

/** Tonight's customers, with what the previous run said of each when it could be read. */
export interface CustomersQueried {
  readonly customers: CustomerTable;
  /** Index-aligned with `customers`; null without a previous run, or when its customers could not be read. */
  readonly previous: PreviousSegments | null;
  /** Says why the previous run's customers were not compared with, when they could not be read. */
  readonly warnings: readonly RunWarning[];
}

/**
 * Asks the engine for tonight's customers (query `customers`) joined with the previous run's
 * (`previous_customers`, bound to `previousRun`'s customers files). The previous run's customers per
 * tier are asked first (query `previousTiers`): the probe of the binding, which reads every value the
 * join reads. A previous run the probe cannot read (a file gone, corrupt, or where the engine cannot
 * reach it) or reads otherwise than its summary says (a catalog whose partitions of that date went
 * missing, a customer twice) does not fail tonight's run: it runs on without it (no tier migration,
 * no movers), with a warning. Once the probe has read it, an error of the `customers` query is
 * tonight's own, and is thrown: the costly query is never run twice. The binding is reset
 * afterwards: later queries (the backtest's) join nothing.
 * Throws what the engine throws for tonight's own data.
 */
export const queryCustomers = async (engine: QueryEngine, previousRun: PreviousRun | null, params: SqlParameters): Promise<CustomersQueried> => {
  const { tierSizes, warning } = previousRun === null ? { tierSizes: null, warning: null } : await probePrevious(engine, previousRun, params);
  const result = await engine.run('customers', params);
  if (tierSizes !== null) await engine.bindPrevious(null);
  return {
    customers: decodeCustomers(result),
    previous: tierSizes === null ? null : decodePreviousSegments(result, tierSizes),
    warnings: warning === null ? [] : [warning],
  };
};

/**
 * Binds the previous run's customers and asks for them per tier; they must be as many as its summary
 * counts. Returns the tier sizes with the binding in place, or, when the engine cannot read them as
 * the summary describes them, the warning with the empty relation bound.
 * Throws what is not an EngineError.
 */
const probePrevious = async (
  engine: QueryEngine,
  previousRun: PreviousRun,
  params: SqlParameters,
): Promise<{ readonly tierSizes: number[] | null; readonly warning: RunWarning | null }> => {
  try {
    await engine.bindPrevious(previousRun.customers);
    const tierSizes = decodePreviousTiers(await engine.run('previousTiers', params));
    // what the engine reads must be the run its summary describes: a catalog whose partitions went
    // missing reads nobody (every customer would be "new"), a customer in two tiers would join twice
    const read = tierSizes.reduce((sum, n) => sum + n, 0);
    const counted = previousRun.summary.counts.customers;
    if (read !== counted) throw new EngineError(`the engine reads ${read} of its customers where its summary counts ${counted}`);
    return { tierSizes, warning: null };
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    await engine.bindPrevious(null);
    return {
      tierSizes: null,
      warning: {
        code: 'previous_customers_unreadable',
        message: `the previous run's customers (${previousRun.runDate}) could not be read, so no tier migration and no movers: ${firstLine(error)}`,
      },
    };
  }
};
