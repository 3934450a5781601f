import { z } from 'zod';
import type { CustomerTable } from '../domain/customers.js';
import type { PreviousSegments } from '../domain/segments/movers.js';
import { EngineError, firstLine } from '../errors.js';
import { summaryKey } from '../layout.js';
import type { OutputStore, PreviousCustomers, PublishedNight, QueryEngine } from '../ports.js';
import type { GateFigures, PublishedCustomers } from '../domain/quality-gates.js';
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

/** The JSON of a published file, or undefined when it is not JSON (a file cut short): then it fails the schema, and is not compared with. */
export const decodeJson = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
};

/** A published summary's customers count, read leniently: a summary of another 2.x or older format still counts its customers. */
const countedSchema = z.object({ counts: z.object({ customers: z.number().int().nonnegative() }) });
/** Its revenue and latest order, as leniently: each one a summary of another format does not say is null. */
const revenueSchema = z.object({ totals: z.object({ revenue: z.number().finite() }), counts: z.object({ accepted_orders: z.number().int().nonnegative() }) });
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const latestOrderSchema = z.object({ run: z.object({ latest_order_date: isoDay }) });
// before 2.8.0 a summary said its latest order only as the as-of date it defaulted to
const defaultedAsOfSchema = z.object({ run: z.object({ as_of: isoDay, as_of_source: z.literal('latest_order_date') }) });

/** A customers file of the manifest: under `customers/`, in a tier's partition. */
const isCustomersKey = (key: string): boolean => key.startsWith('customers/') && TIERS.some((t) => key.includes(`/segment=${t}/`));

/** A published night's customers as read back: its manifest (read once) and its summary, with what the gates read of them. */
interface NightCount extends Omit<PublishedCustomers, 'runDate'> {
  readonly night: PublishedNight;
  /** Its summary's JSON; undefined when missing or not JSON. */
  readonly summaryJson: unknown;
  /** Its summary or manifest when missing, not JSON, or (a manifest) not of its schema: damaged, as a published night always has both. */
  readonly damaged: readonly ('summary' | 'manifest')[];
}

const countNight = async (store: OutputStore, runDate: string): Promise<NightCount> => {
  const night = await store.publishedNight(runDate);
  const summaryBytes = await night.read(summaryKey(runDate));
  const summaryJson = summaryBytes === null ? undefined : decodeJson(summaryBytes);
  const damaged = [...(summaryJson === undefined ? (['summary'] as const) : []), ...(night.manifest === null ? (['manifest'] as const) : [])];
  const counted = countedSchema.safeParse(summaryJson);
  const manifestRows = night.manifest === null ? null : night.manifest.files.filter((f) => isCustomersKey(f.key)).map((f) => f.rows);
  const customers = counted.success
    ? counted.data.counts.customers
    : manifestRows !== null && manifestRows.every((rows) => rows !== null)
      ? manifestRows.reduce<number>((sum, rows) => sum + rows!, 0)
      : null;
  const revenue = revenueSchema.safeParse(summaryJson);
  const latest = latestOrderSchema.safeParse(summaryJson);
  const defaulted = defaultedAsOfSchema.safeParse(summaryJson);
  return {
    night,
    summaryJson,
    customers,
    revenue: revenue.success ? revenue.data.totals.revenue : null,
    acceptedOrders: revenue.success ? revenue.data.counts.accepted_orders : null,
    latestOrderDate: latest.success ? latest.data.run.latest_order_date : defaulted.success ? defaulted.data.run.as_of : null,
    damaged,
  };
};

/** What the gates hold tonight against of a counted night. */
const figuresOf = (runDate: string, { customers, revenue, acceptedOrders, latestOrderDate }: NightCount): PublishedCustomers => ({ runDate, customers, revenue, acceptedOrders, latestOrderDate });

/** The night to compare with, its customers files located through its manifest: null when its summary is of another format or it has no manifest. */
const toCompare = (runDate: string, { night, summaryJson }: NightCount): PreviousRun | null => {
  const summary = summarySchema.safeParse(summaryJson);
  if (!summary.success || night.manifest === null) return null;
  const files: string[] = [];
  for (const { key } of night.manifest.files) {
    if (!isCustomersKey(key)) continue;
    const location = night.locationOf(key);
    if (location === null) return null;
    files.push(location);
  }
  const [first, ...rest] = files;
  return { runDate, summary: summary.data, customers: first === undefined ? null : { runDate, files: [first, ...rest] } };
};

/** The summary `runDate` publishes now, read as countNight reads it; null when it is missing, not JSON or of another format. */
export const publishedSummary = async (store: OutputStore, runDate: string): Promise<Summary | null> => {
  const bytes = await (await store.publishedNight(runDate)).read(summaryKey(runDate));
  const summary = summarySchema.safeParse(bytes === null ? undefined : decodeJson(bytes));
  return summary.success ? summary.data : null;
};

/** What tonight's run is compared with and held against, read from the output before it queries anything. */
export interface PreviousLookup {
  /**
   * The previous run to compare with: the latest earlier run date whose customers can be counted,
   * when its summary is of this format and it can be read whole (an older-format summary is not
   * compared with, once); null otherwise.
   */
  readonly run: PreviousRun | null;
  /** What the customers gate holds tonight against (GateFigures.previous, GateFigures.replaced). */
  readonly gate: Pick<GateFigures, 'previous' | 'replaced' | 'summarised' | 'newest'>;
  /** Says which earlier nights were damaged, and what tonight is held against and compared with instead. */
  readonly warnings: readonly RunWarning[];
  /** The earliest published run date after tonight's (tonight is a backfill), or null. */
  readonly laterRunDate: string | null;
  /** The newest published run date after tonight's, or null. */
  readonly newestRunDate: string | null;
}

/**
 * Reads what the output holds of earlier nights: the latest earlier run date whose customers can be
 * counted (from its summary, or else its manifest), passing over later ones that cannot (a damaged
 * night must not turn the customers gate off), and the published version of `runDate` itself, which
 * a re-run would replace; for the revenue and latest-order gates, the latest earlier night whose summary
 * says them (past a damaged summary) and the newest published night after `runDate`. Reads summaries
 * and manifests only: the customers stay where they are, for the engine. A damaged night is said in a
 * warning (`previous_run_unreadable`).
 */
export const loadPrevious = async (store: OutputStore, runDate: string): Promise<PreviousLookup> => {
  const published = await store.publishedRunDates();
  const passedOver: string[] = [];
  let found: { readonly runDate: string; readonly night: NightCount } | null = null;
  // the revenue and the latest order come from a summary: past a night whose summary is damaged, the latest earlier one that says them
  let summarised: PublishedCustomers | null = null;
  for (const date of published.filter((d) => d < runDate).reverse()) {
    const night = await countNight(store, date);
    if (summarised === null && night.revenue !== null) summarised = figuresOf(date, night);
    if (found === null) {
      if (night.customers !== null) found = { runDate: date, night };
      else passedOver.push(date);
    }
    // a summary of an older format without them is no damage: the walk goes past damaged summaries only
    if (found !== null && (summarised !== null || !found.night.damaged.includes('summary'))) break;
  }
  // the night a re-run replaces is held against, never compared with: its count is all that is read
  const replacedNight = published.includes(runDate) ? await countNight(store, runDate) : null;
  const replaced = replacedNight === null || replacedNight.customers === null ? null : { ...figuresOf(runDate, replacedNight), customers: replacedNight.customers };
  const newestRunDate = published.findLast((d) => d > runDate) ?? null;
  const newest = newestRunDate === null ? null : figuresOf(newestRunDate, await countNight(store, newestRunDate));
  const run = found === null ? null : toCompare(found.runDate, found.night);
  const damage = [
    ...passedOver.map((date) => `the summary and manifest of ${date} cannot be read`),
    ...(found !== null && found.night.damaged.length > 0 ? [`the ${found.night.damaged.join(' and ')} of ${found.runDate} cannot be read`] : []),
  ];
  const heldAgainst =
    found === null
      ? 'no earlier night can be held against tonight'
      : run === null
        ? `tonight is held against the ${found.night.customers} customers of ${found.runDate} and compared with no earlier night`
        : `tonight is compared with ${found.runDate}`;
  return {
    run,
    gate: {
      previous:
        found !== null
          ? figuresOf(found.runDate, found.night)
          : passedOver.length > 0
            ? { runDate: passedOver[0]!, customers: null, revenue: null, acceptedOrders: null, latestOrderDate: null }
            : null,
      replaced,
      summarised,
      newest,
    },
    warnings: damage.length === 0 ? [] : [{ code: 'previous_run_unreadable', message: `${damage.join('; ')}: ${heldAgainst}` }],
    laterRunDate: published.find((d) => d > runDate) ?? null,
    newestRunDate,
  };
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
    // an engine failing for a reason of the moment (a throttle, a timeout) fails tonight's run: it says nothing of the previous run
    if (!(error instanceof EngineError) || error.transient) throw error;
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
