import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { ParquetTableWriter, ROW_GROUP_SIZE } from '../../lambdas/clv-job/adapters/parquet-table-writer.js';
import type { ByteSink, ColumnRows, ColumnValues } from '../../lambdas/clv-job/ports.js';
import type { ColumnSpec } from '../../lambdas/clv-job/schemas/tables.js';
import { parquetTypes, queryDuckDb } from '../support/duckdb-reader.js';
import { tempDir } from '../support/files.js';

const fileSink = async (path: string): Promise<ByteSink> => {
  const stream = createWriteStream(path);
  return {
    async write(chunk) {
      if (!stream.write(chunk)) await once(stream, 'drain');
    },
    async close() {
      stream.end();
      await once(stream, 'finish');
    },
  };
};

describe('the Parquet table writer, read back by DuckDB', () => {
  it('writes each contract type as DuckDB reads it, nulls included', async () => {
    const path = join(await tempDir(), 't.parquet');
    const columns: ColumnSpec[] = [
      { name: 's', type: 'string', comment: '' },
      { name: 'i', type: 'int', comment: '' },
      { name: 'd', type: 'double', comment: '' },
      { name: 'day', type: 'date', comment: '' },
    ];
    const file = new ParquetTableWriter().open(await fileSink(path), columns);

    await file.append({ s: ['a', null, 'ü, "q"'], i: Int32Array.from([1, -2, 2147483647]), d: [0.1, null, 1e300], day: [0, 19723, null] }, 3);
    const written = await file.close();
    const rows = await queryDuckDb(`SELECT s, i, d, CAST(day AS VARCHAR) AS day FROM read_parquet('${path}')`);

    expect(written.rows).toBe(3);
    expect(await parquetTypes(path)).toEqual({ s: 'VARCHAR', i: 'INTEGER', d: 'DOUBLE', day: 'DATE' });
    expect(rows).toEqual([
      { s: 'a', i: 1, d: 0.1, day: '1970-01-01' },
      { s: null, i: -2, d: null, day: '2024-01-01' },
      { s: 'ü, "q"', i: 2147483647, d: 1e300, day: null },
    ]);
  });

  it('streams many row groups to the sink and keeps every row', async () => {
    const path = join(await tempDir(), 'big.parquet');
    const columns: ColumnSpec[] = [{ name: 'n', type: 'int', comment: '' }];
    const file = new ParquetTableWriter().open(await fileSink(path), columns);
    const batch = 120_000;

    for (let b = 0; b < 3; b++) await file.append({ n: Int32Array.from({ length: batch }, (_, i) => b * batch + i) }, batch);
    await file.close();
    const [stats] = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS n, SUM(n)::DOUBLE AS total FROM read_parquet('${path}')`);
    const groups = await queryDuckDb(`SELECT COUNT(DISTINCT row_group_id)::INTEGER AS g FROM parquet_metadata('${path}')`);

    expect(stats).toEqual({ n: 3 * batch, total: ((3 * batch - 1) * 3 * batch) / 2 });
    expect(groups[0]?.g).toBeGreaterThan(3);
  });

  it.each([
    ['a few strings, some non-ASCII, with nulls', 'string', true, (i: number) => (i % 7 === 0 ? null : ['email', 'Süd', 'paid_social', '東京'][i % 4]!)],
    ['distinct strings', 'string', false, (i: number) => (i % 11 === 0 ? null : `C${String(i).padStart(9, '0')}-ü`)],
    ['small integers with nulls', 'int', true, (i: number) => (i % 5 === 0 ? null : (i % 9) - 4)],
    ['integers over the whole 32-bit range', 'int', false, (i: number) => (i % 13 === 0 ? null : (i * 2654435761) | 0)],
    ['dates', 'date', true, (i: number) => (i % 17 === 0 ? null : 19_000 + (i % 200))],
    ['doubles with nulls', 'double', false, (i: number) => (i % 3 === 0 ? null : i / 7 - 1000)],
    ['a column of nulls only', 'double', false, () => null],
    ['booleans with nulls (bit-packed, eight to a byte)', 'boolean', false, (i: number) => (i % 6 === 0 ? null : (i * 7919) % 3 === 1)],
  ] as const)('round-trips %s exactly over two row groups, read by DuckDB and by hyparquet', async (_, type, dictionary, value) => {
    const path = join(await tempDir(), 'c.parquet');
    const rows = ROW_GROUP_SIZE + 1_234;
    const values = Array.from({ length: rows }, (_, i) => value(i));
    const file = new ParquetTableWriter().open(await fileSink(path), [{ name: 'v', type, comment: '' }]);

    await file.append({ v: values as ColumnValues }, rows);
    await file.close();
    const cast = type === 'date' ? 'CAST(v AS VARCHAR)' : 'v';
    const viaDuckDb = (await queryDuckDb(`SELECT ${cast} AS v FROM read_parquet('${path}')`)).map((r) => r.v);
    const bytes = await readFile(path);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const viaHyparquet = await parquetReadObjects({ file: buffer, compressors: { GZIP: (input) => gunzipSync(input) } });
    const encodings = parquetMetadata(buffer).row_groups.map((g) => g.columns[0]!.meta_data!.encodings.includes('RLE_DICTIONARY'));

    const isoDay = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
    expect(viaDuckDb).toEqual(type === 'date' ? values.map((v) => (v === null ? null : isoDay(v as number))) : values);
    expect(viaHyparquet.map((r) => (r.v instanceof Date ? Math.round(r.v.getTime() / 86_400_000) : r.v))).toEqual(values);
    expect(encodings).toEqual([dictionary, dictionary]);
  });

  it('records each row group\'s min, max and null count as DuckDB reads them', async () => {
    const path = join(await tempDir(), 's.parquet');
    const columns: ColumnSpec[] = [
      { name: 's', type: 'string', comment: '' },
      { name: 'i', type: 'int', comment: '' },
      { name: 'd', type: 'double', comment: '' },
    ];
    const file = new ParquetTableWriter().open(await fileSink(path), columns);

    await file.append({ s: ['b', null, 'a', 'ä'], i: [3, null, -7, 12], d: Float64Array.from([2.5, -0, 0, -1.25]) }, 4);
    await file.close();
    const stats = await queryDuckDb(
      `SELECT path_in_schema AS c, stats_min_value AS lo, stats_max_value AS hi, stats_null_count::INTEGER AS nulls FROM parquet_metadata('${path}') ORDER BY c`,
    );

    expect(stats).toEqual([
      { c: 'd', lo: '-1.25', hi: '2.5', nulls: 0 },
      { c: 'i', lo: '-7', hi: '12', nulls: 1 },
      { c: 's', lo: 'a', hi: 'ä', nulls: 1 },
    ]);
  });

  it('compresses a column that shrinks and leaves one that does not (random doubles) uncompressed', async () => {
    const path = join(await tempDir(), 'z.parquet');
    const rows = 50_000;
    let seed = 1;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const file = new ParquetTableWriter().open(await fileSink(path), [
      { name: 'money', type: 'double', comment: '' },
      { name: 'noise', type: 'double', comment: '' },
    ]);

    await file.append({ money: Float64Array.from({ length: rows }, (_, i) => Math.round(i % 5000) / 100), noise: Float64Array.from({ length: rows }, random) }, rows);
    await file.close();
    const bytes = await readFile(path);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const codecs = Object.fromEntries(meta.row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema[0], c.meta_data!.codec]));
    const [sums] = await queryDuckDb(`SELECT SUM(money) AS money, COUNT(DISTINCT noise)::INTEGER AS noise FROM read_parquet('${path}')`);

    expect(codecs).toEqual({ money: 'GZIP', noise: 'UNCOMPRESSED' });
    expect(sums?.noise).toBe(rows);
  });

  it('writes columns given by row numbers as the same bytes as the gathered columns, every type, nulls and a column without values included', async () => {
    const size = 2 * ROW_GROUP_SIZE + 77;
    const columns: ColumnSpec[] = [
      { name: 'id', type: 'string', comment: '' },
      { name: 'channel', type: 'string', comment: '' },
      { name: 'n', type: 'int', comment: '' },
      { name: 'score', type: 'int', comment: '' },
      { name: 'day', type: 'date', comment: '' },
      { name: 'x', type: 'double', comment: '' },
      { name: 'maybe', type: 'double', comment: '' },
      { name: 'flag', type: 'boolean', comment: '' },
      { name: 'none', type: 'double', comment: '' },
    ];
    const values: Record<string, ColumnValues> = {
      id: Array.from({ length: size }, (_, i) => `C${i}`),
      channel: Array.from({ length: size }, (_, i) => (i % 9 === 0 ? null : ['email', 'Süd', 'search'][i % 3]!)),
      n: Int32Array.from({ length: size }, (_, i) => (i * 7919) % 100_003),
      score: Int8Array.from({ length: size }, (_, i) => 1 + (i % 5)),
      day: Array.from({ length: size }, (_, i) => (i % 4 === 0 ? null : 19_000 + (i % 300))),
      x: Float64Array.from({ length: size }, (_, i) => i / 3),
      maybe: Array.from({ length: size }, (_, i) => (i % 6 === 0 ? null : -i)),
      flag: Array.from({ length: size }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)),
    };
    // every other row backwards, then some rows twice: a subset, a reordering and repeats
    const rows = Int32Array.from({ length: ROW_GROUP_SIZE + 5_000 }, (_, i) => (i < size / 2 ? size - 1 - 2 * i : (i * 31) % size));
    const gathered = (name: string): ColumnValues => {
      const column = values[name];
      return column === undefined ? new Array<null>(rows.length).fill(null) : Array.from(rows, (row) => column[row]!) as ColumnValues;
    };
    const written = async (batch: Record<string, ColumnValues | ColumnRows>): Promise<Buffer> => {
      const path = join(await tempDir(), 'r.parquet');
      const file = new ParquetTableWriter().open(await fileSink(path), columns);
      await file.append(batch, rows.length);
      await file.close();
      return readFile(path);
    };

    const byRows = await written(Object.fromEntries(columns.map(({ name }) => [name, { values: values[name] ?? null, rows }])));
    const byValues = await written(Object.fromEntries(columns.map(({ name }) => [name, gathered(name)])));
    const path = join(await tempDir(), 'r.parquet');
    await writeFile(path, byRows);
    const [read] = await queryDuckDb(
      `SELECT COUNT(*)::INTEGER AS n, COUNT(channel)::INTEGER AS channels, COUNT(none)::INTEGER AS nones, MIN(id) AS first FROM read_parquet('${path}')`,
    );

    expect(byRows.equals(byValues)).toBe(true);
    expect(read).toEqual({ n: rows.length, channels: (gathered('channel') as (string | null)[]).filter((c) => c !== null).length, nones: 0, first: 'C0' });
  });

  it('refuses row numbers outside a column\'s values, naming the column', async () => {
    const file = new ParquetTableWriter().open(await fileSink(join(await tempDir(), 'o.parquet')), [{ name: 'n', type: 'int', comment: '' }]);

    await expect(file.append({ n: { values: Int32Array.from([1, 2]), rows: Int32Array.from([0, 2]) } }, 2)).rejects.toThrow(
      /column n: row numbers 0 to 2 are not all inside its 2 values/,
    );
  });

  it('keeps the codec its first row group chose for a column in every later group of the file', async () => {
    const path = join(await tempDir(), 'k.parquet');
    const rows = ROW_GROUP_SIZE + 50_000;
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    // noise, then one repeated value: the first group decides UNCOMPRESSED, the second would shrink
    const values = Float64Array.from({ length: rows }, (_, i) => (i < ROW_GROUP_SIZE ? random() : 1));
    const file = new ParquetTableWriter().open(await fileSink(path), [{ name: 'v', type: 'double', comment: '' }]);

    await file.append({ v: values }, rows);
    await file.close();
    const bytes = await readFile(path);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const [read] = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS n, (COUNT(*) FILTER (WHERE v = 1))::INTEGER AS ones, (COUNT(DISTINCT v) FILTER (WHERE v < 1))::INTEGER AS noise FROM read_parquet('${path}')`);

    expect(meta.row_groups.map((g) => g.columns[0]!.meta_data!.codec)).toEqual(['UNCOMPRESSED', 'UNCOMPRESSED']);
    expect(read).toEqual({ n: rows, ones: 50_000, noise: new Set(values.subarray(0, ROW_GROUP_SIZE)).size });
  });

  it('refuses a value its column type cannot hold, naming the column', async () => {
    const file = new ParquetTableWriter().open(await fileSink(join(await tempDir(), 'x.parquet')), [{ name: 'n', type: 'int', comment: '' }]);

    await expect(file.append({ n: [1, 2.5] }, 2)).rejects.toThrow(/column n: 2.5 is not a 32-bit integer/);
  });

  it('writes a file with a writer that wrote another before it as the same bytes as a new writer, every type', async () => {
    const types = { s: 'string', c: 'string', i: 'int', d: 'double', b: 'boolean' } as const;
    const columns: ColumnSpec[] = Object.entries(types).map(([name, type]) => ({ name, type, comment: '' }));
    // long distinct strings, wide integers, true flags: what a reused buffer would leak into a smaller file
    const first = (n: number): Record<string, ColumnValues> => ({
      s: Array.from({ length: n }, (_, i) => `first-file-value-${i}-${'x'.repeat(40)}`),
      c: Array.from({ length: n }, (_, i) => ['north', 'south', 'east', 'west'][i % 4]!),
      i: Int32Array.from({ length: n }, (_, i) => i * 40_503),
      d: Float64Array.from({ length: n }, (_, i) => i * 1.5),
      b: Array.from({ length: n }, () => true),
    });
    const second = (n: number): Record<string, ColumnValues> => ({
      s: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : `s${i}`)),
      c: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : ['a', 'b'][i % 2]!)),
      i: Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i % 9)),
      d: Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : -i)),
      b: Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : i % 3 === 0)),
    });
    const write = async (writer: ParquetTableWriter, batch: Record<string, ColumnValues>, rows: number): Promise<Buffer> => {
      const path = join(await tempDir(), 'w.parquet');
      const file = writer.open(await fileSink(path), columns);
      await file.append(batch, rows);
      await file.close();
      return readFile(path);
    };
    const reused = new ParquetTableWriter();
    const rows = 2 * ROW_GROUP_SIZE + 10;

    await write(reused, first(rows), rows);
    const again = await write(reused, second(ROW_GROUP_SIZE + 333), ROW_GROUP_SIZE + 333);
    const fresh = await write(new ParquetTableWriter(), second(ROW_GROUP_SIZE + 333), ROW_GROUP_SIZE + 333);

    expect(again.equals(fresh)).toBe(true);
  });

  it("writes each gzip page as zlib's one-shot output, also when the page compresses far worse than the column's page before it", async () => {
    const path = join(await tempDir(), 'g.parquet');
    let seed = 3;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    // one repeated value, then noise: the second page needs far more room than the first one's share suggests
    const values = Float64Array.from({ length: 2 * ROW_GROUP_SIZE }, (_, i) => (i < ROW_GROUP_SIZE ? 2.5 : random()));
    const file = new ParquetTableWriter().open(await fileSink(path), [{ name: 'v', type: 'double', comment: '' }]);

    await file.append({ v: values }, values.length);
    await file.close();
    const bytes = await readFile(path);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    // a page without nulls ends its column chunk with its values: the chunk's last bytes are the gzip member
    const pages = meta.row_groups.map((group, g) => {
      const chunk = group.columns[0]!.meta_data!;
      const end = Number(chunk.data_page_offset) + Number(chunk.total_compressed_size);
      const raw = values.subarray(g * ROW_GROUP_SIZE, (g + 1) * ROW_GROUP_SIZE);
      const expected = gzipSync(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), { level: 1 });
      return { codec: chunk.codec, same: bytes.subarray(end - expected.length, end).equals(expected) };
    });

    expect(pages).toEqual([
      { codec: 'GZIP', same: true },
      { codec: 'GZIP', same: true },
    ]);
  });

  it('writes strings in increasing order (identifiers in customer order) as PLAIN, their first and last value as min and max, and still tries a dictionary when they stop increasing', async () => {
    const path = join(await tempDir(), 'i.parquet');
    const rows = ROW_GROUP_SIZE + 40_000;
    // the first group increases (nulls and non-ASCII included); the second starts over at every 4th row: a dictionary pays
    const values = Array.from({ length: rows }, (_, i) =>
      i < ROW_GROUP_SIZE ? (i % 10 === 3 ? null : `C${String(i).padStart(8, '0')}${i % 7 === 0 ? 'é' : ''}`) : `C${String(i % 4).padStart(8, '0')}`,
    );
    const file = new ParquetTableWriter().open(await fileSink(path), [{ name: 'id', type: 'string', comment: '' }]);

    await file.append({ id: values }, rows);
    await file.close();
    const stats = await queryDuckDb(
      `SELECT row_group_id::INTEGER AS g, stats_min_value AS lo, stats_max_value AS hi, encodings FROM parquet_metadata('${path}') ORDER BY g`,
    );
    const [read] = await queryDuckDb(`SELECT COUNT(id)::INTEGER AS n, COUNT(DISTINCT id)::INTEGER AS d, MAX(id) AS hi FROM read_parquet('${path}')`);

    expect(stats).toEqual([
      { g: 0, lo: 'C00000000é', hi: 'C00099999', encodings: 'PLAIN' },
      { g: 1, lo: 'C00000000', hi: 'C00000003', encodings: 'PLAIN, RLE_DICTIONARY' },
    ]);
    expect(read).toEqual({ n: values.filter((v) => v !== null).length, d: new Set(values.filter((v) => v !== null)).size, hi: 'C00099999' });
  });
});
