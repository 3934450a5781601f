import { ByteWriter, ParquetWriter, type SchemaElement, type Writer } from 'hyparquet-writer';
import type { ByteSink, ColumnValues, TableFile, TableWriter } from '../ports.js';
import type { ColumnSpec, ColumnType } from '../schemas/tables.js';

/** Every column is OPTIONAL: a predictive column is null when the model could not be trusted. */
const SCHEMA_ELEMENT: Record<ColumnType, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  int: { type: 'INT32', repetition_type: 'OPTIONAL' },
  double: { type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  // days since 1970-01-01, which is how the pipeline holds dates already
  date: { type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
};

export const parquetSchema = (columns: readonly ColumnSpec[]): SchemaElement[] => [
  { name: 'root', num_children: columns.length },
  ...columns.map((c) => ({ name: c.name, ...SCHEMA_ELEMENT[c.type] })),
];

/** Rows per row group: bounded memory while writing, and groups large enough for readers to skip well. */
export const ROW_GROUP_SIZE = 100_000;

/**
 * Parquet through hyparquet-writer (pure JavaScript: it runs in the Lambda as well as locally, and
 * DuckDB reads its DATE and DOUBLE columns back exactly). Each row group is flushed to the sink
 * as soon as it is encoded, so a file never sits whole in memory.
 */
export class ParquetTableWriter implements TableWriter {
  readonly extension = 'parquet';

  open(sink: ByteSink, columns: readonly ColumnSpec[]): TableFile {
    const bytes = new ByteWriter(1 << 20);
    let pending: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      if (bytes.index === 0) return pending;
      const chunk = new Uint8Array(bytes.buffer.slice(0, bytes.index));
      bytes.index = 0;
      pending = pending.then(() => sink.write(chunk));
      return pending;
    };
    const writer: Writer = Object.assign(bytes, { flush, finish: flush });
    const parquet = new ParquetWriter({ writer, schema: parquetSchema(columns), createdBy: 'clv-job' });
    let rows = 0;
    return {
      async append(batch: Readonly<Record<string, ColumnValues>>, count: number) {
        if (count === 0) return;
        const columnData = columns.map((c) => {
          const data = batch[c.name];
          if (!data || data.length !== count) throw new Error(`column ${c.name} has ${data?.length ?? 0} values, expected ${count}`);
          return { name: c.name, data: data as unknown as unknown[] };
        });
        await parquet.write({ columnData, rowGroupSize: ROW_GROUP_SIZE });
        rows += count;
      },
      async close() {
        await parquet.finish();
        await pending;
        await sink.close();
        return { rows, bytes: bytes.offset };
      },
    };
  }
}
