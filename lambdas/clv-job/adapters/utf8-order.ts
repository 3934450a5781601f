/**
 * Names in UTF-8 byte order, as the engines compare the text of `source_file` (DuckDB, Trino and
 * Athena alike): "the last file by name" must mean one file wherever it is decided. JavaScript's `<`
 * compares UTF-16 code units, which put U+E000-U+FFFF (e.g. full-width letters) after the characters
 * beyond U+FFFF (e.g. emoji) where UTF-8 puts them before.
 */
export const compareUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
