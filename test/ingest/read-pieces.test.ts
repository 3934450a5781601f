import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READ_CHUNK_BYTES, readPieces } from '../../lambdas/clv-job/ingest/read-pieces.js';
import { tempDir } from '../support/files.js';

describe('readPieces', () => {
  it('yields the bytes of the file in order, in pieces of at most READ_CHUNK_BYTES, each whole until the next is asked for', async () => {
    const dir = await tempDir();
    for (const size of [0, 1, READ_CHUNK_BYTES - 1, READ_CHUNK_BYTES, 2 * READ_CHUNK_BYTES + 5]) {
      const bytes = randomBytes(size);
      const path = join(dir, `file-${size}`);
      await writeFile(path, bytes);
      let offset = 0;
      let pieces = 0;
      for await (const piece of readPieces(path)) {
        expect(piece.length).toBeGreaterThan(0);
        expect(piece.length).toBeLessThanOrEqual(READ_CHUNK_BYTES);
        // compared while it is current: its buffer is refilled later
        expect(piece.equals(bytes.subarray(offset, offset + piece.length))).toBe(true);
        offset += piece.length;
        pieces += 1;
      }
      expect(offset).toBe(size);
      expect(pieces).toBe(Math.ceil(size / READ_CHUNK_BYTES));
    }
  });

  it('throws the file system error for a file that is not there', async () => {
    const dir = await tempDir();
    await expect(async () => {
      for await (const piece of readPieces(join(dir, 'missing.csv'))) void piece;
    }).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
