import { open } from 'node:fs/promises';

/**
 * Bytes read from an export (and, for gzip, inflated) at a time. Every piece costs a read call, a hash update and, when a
 * record spans two pieces, a short copy (RecordFramer.push): hashing the bench's 134 MB of exports
 * takes 0.20 s of CPU in Node's default 64 KiB reads and 0.09 s in 1 MiB reads.
 */
export const READ_CHUNK_BYTES = 1 << 20;

/**
 * The bytes of a file from start to end, in pieces of up to READ_CHUNK_BYTES (the last may be
 * shorter; an empty file yields none). The pieces are read into two buffers in turn: the next piece
 * is read while the caller works on this one, which stays valid only until the caller asks for the
 * next (copy what must outlive it). A read stream allocates a new buffer per piece instead: 134 MiB
 * of short-lived buffers for the bench's 1 M customers, swept by the GC on the thread that frames
 * the records.
 *
 * @throws the file system's error (ENOENT, EACCES, EISDIR...) from the first or any later read.
 */
export async function* readPieces(path: string): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(READ_CHUNK_BYTES), Buffer.allocUnsafe(READ_CHUNK_BYTES)] as const;
  let turn = 0;
  let next = handle.read(buffers[turn], 0, READ_CHUNK_BYTES, null);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      const piece = buffers[turn].subarray(0, bytesRead);
      turn ^= 1;
      next = handle.read(buffers[turn], 0, READ_CHUNK_BYTES, null);
      yield piece;
    }
  } finally {
    // a read may still be under way when the caller stops early: the handle is closed after it
    await next.catch(() => undefined);
    await handle.close();
  }
}
