import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  BatchUpdatePartitionCommand,
  GetPartitionsCommand,
  GetTableCommand,
  type GlueClient,
  type PartitionInput,
  type StorageDescriptor,
} from '@aws-sdk/client-glue';
import { ClvError } from '../errors.js';
import { datasetOf, runScopedKey, type Dataset } from '../layout.js';
import type { RunManifest } from '../ports.js';

export interface CatalogOptions {
  readonly client: GlueClient;
  readonly database: string;
  /** The Glue table of each dataset that has one; partition keys are read from the table. */
  readonly tables: readonly { readonly dataset: Dataset; readonly table: string }[];
}

interface Partition {
  readonly values: readonly string[];
  readonly location: string;
}

/** Glue takes up to 100 partitions per batch call; one call is what makes a table's switch one step. */
const BATCH = 100;

const sameValues = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The switch for catalog readers: each table's partitions of a run date point at one run's
 * prefix, and are re-pointed together by one BatchUpdatePartition per table (the way dbt-athena's
 * high-availability tables swap a location). Partitions are registered by the job rather than
 * projected, so the catalog only ever names a complete run. A partition the new run lacks (a
 * segment with no customers tonight) is pointed at the new run's empty prefix, not deleted, so
 * the table switches in one call; a partition only the new run has is created beforehand
 * pointing at the old run's (empty) prefix. Glue has no transaction across tables: each table
 * switches at once, the tables one after another within milliseconds.
 */
export class GluePartitionSwitch {
  private readonly tableDescriptors = new Map<string, Promise<{ keys: string[]; descriptor: StorageDescriptor }>>();

  constructor(
    private readonly options: CatalogOptions,
    /** `s3://bucket/prefix/<key>` of a key relative to the output root. */
    private readonly urlOf: (key: string) => string,
  ) {}

  /** Creates, pointing at the live run's empty prefix (`previousRunId`'s), the partitions only `next` has. */
  async prepare(next: RunManifest, previousRunId: string | null): Promise<void> {
    for (const { dataset, table } of this.options.tables) {
      const current = await this.current(table, next.runDate);
      if (current.length === 0) continue; // a first publish: the switch creates them
      const { keys } = await this.describe(table);
      const owner = previousRunId ?? next.runId;
      const missing = this.partitionsOf(next, dataset, keys).filter((p) => !current.some((c) => sameValues(c.values, p.values)));
      await this.create(table, missing.map((p) => ({ values: p.values, location: this.locationOf(owner, dataset, keys, p.values) })));
    }
  }

  /** The switch: every partition of the run date, per table in one call, at `next`'s prefix. */
  async pointAt(next: RunManifest): Promise<void> {
    for (const { dataset, table } of this.options.tables) {
      const { keys } = await this.describe(table);
      const current = await this.current(table, next.runDate);
      const wanted = this.partitionsOf(next, dataset, keys);
      if (current.length === 0) {
        await this.create(table, wanted);
        continue;
      }
      await this.update(table, current.map((c) => ({ values: c.values, location: this.locationOf(next.runId, dataset, keys, c.values) })));
    }
  }

  /**
   * Points every table back at the run `previousRunId` (its id is all that is needed: its partitions'
   * locations are its prefix), or removes the run date's partitions when it had none.
   */
  async restore(runDate: string, previousRunId: string | null): Promise<void> {
    for (const { dataset, table } of this.options.tables) {
      const { keys } = await this.describe(table);
      const current = await this.current(table, runDate);
      if (current.length === 0) continue;
      if (previousRunId === null) {
        await this.check(
          await this.options.client.send(
            new BatchDeletePartitionCommand({ DatabaseName: this.options.database, TableName: table, PartitionsToDelete: current.map((c) => ({ Values: [...c.values] })) }),
          ),
          table,
        );
        continue;
      }
      const wanted = current.map((c) => ({ values: c.values, location: this.locationOf(previousRunId, dataset, keys, c.values) }));
      if (wanted.some((w, i) => w.location !== current[i]?.location)) await this.update(table, wanted);
    }
  }

  /** The partitions a run's files fall into, with their run-scoped locations. */
  private partitionsOf(manifest: RunManifest, dataset: Dataset, keys: readonly string[]): Partition[] {
    const found: Partition[] = [];
    for (const { key } of manifest.files) {
      if (datasetOf(key) !== dataset) continue;
      const dirs = key.split('/').slice(1, -1);
      const values = keys.map((k) => dirs.find((d) => d.startsWith(`${k}=`))?.slice(k.length + 1));
      if (values.some((v) => v === undefined)) continue;
      const complete = values as string[];
      if (!found.some((p) => sameValues(p.values, complete))) found.push({ values: complete, location: this.locationOf(manifest.runId, dataset, keys, complete) });
    }
    return found;
  }

  private locationOf(runId: string, dataset: Dataset, keys: readonly string[], values: readonly string[]): string {
    return this.urlOf(runScopedKey(runId, `${dataset}/${keys.map((k, i) => `${k}=${values[i]}`).join('/')}/`));
  }

  private describe(table: string): Promise<{ keys: string[]; descriptor: StorageDescriptor }> {
    let described = this.tableDescriptors.get(table);
    if (!described) {
      described = this.options.client.send(new GetTableCommand({ DatabaseName: this.options.database, Name: table })).then((r) => {
        const keys = (r.Table?.PartitionKeys ?? []).map((k) => k.Name ?? '');
        if (keys[0] !== 'run_date') throw new ClvError(`Glue table ${this.options.database}.${table} is not partitioned by run_date first`);
        return { keys, descriptor: r.Table?.StorageDescriptor ?? {} };
      });
      described.catch(() => this.tableDescriptors.delete(table));
      this.tableDescriptors.set(table, described);
    }
    return described;
  }

  private async current(table: string, runDate: string): Promise<Partition[]> {
    const found: Partition[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.client.send(
        new GetPartitionsCommand({ DatabaseName: this.options.database, TableName: table, Expression: `run_date = '${runDate}'`, NextToken: token }),
      );
      for (const p of page.Partitions ?? []) found.push({ values: p.Values ?? [], location: p.StorageDescriptor?.Location ?? '' });
      token = page.NextToken;
    } while (token);
    return found;
  }

  private async input(table: string, partition: Partition): Promise<PartitionInput> {
    const { descriptor } = await this.describe(table);
    return { Values: [...partition.values], StorageDescriptor: { ...descriptor, Location: partition.location } };
  }

  private async create(table: string, partitions: readonly Partition[]): Promise<void> {
    for (let i = 0; i < partitions.length; i += BATCH) {
      const inputs = await Promise.all(partitions.slice(i, i + BATCH).map((p) => this.input(table, p)));
      const result = await this.options.client.send(new BatchCreatePartitionCommand({ DatabaseName: this.options.database, TableName: table, PartitionInputList: inputs }));
      // created by an earlier attempt of the same switch: fine
      await this.check({ Errors: (result.Errors ?? []).filter((e) => e.ErrorDetail?.ErrorCode !== 'AlreadyExistsException') }, table);
    }
  }

  private async update(table: string, partitions: readonly Partition[]): Promise<void> {
    for (let i = 0; i < partitions.length; i += BATCH) {
      const entries = await Promise.all(
        partitions.slice(i, i + BATCH).map(async (p) => ({ PartitionValueList: [...p.values], PartitionInput: await this.input(table, p) })),
      );
      await this.check(await this.options.client.send(new BatchUpdatePartitionCommand({ DatabaseName: this.options.database, TableName: table, Entries: entries })), table);
    }
  }

  private async check(result: { Errors?: readonly { ErrorDetail?: { ErrorCode?: string; ErrorMessage?: string } }[] }, table: string): Promise<void> {
    const first = result.Errors?.[0];
    if (first) throw new ClvError(`Glue refused ${result.Errors?.length} partition change(s) of ${this.options.database}.${table}: ${first.ErrorDetail?.ErrorCode ?? ''} ${first.ErrorDetail?.ErrorMessage ?? ''}`.trim());
  }
}
