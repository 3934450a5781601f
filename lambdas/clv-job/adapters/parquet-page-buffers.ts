/**
 * Memory for the encoded bytes of one row group, kept from one group to the next. Each array
 * buffer a writer allocates lives until V8 collects it, and V8 starts a full collection for every
 * few tens of megabytes of them ("external memory pressure"): with a row group's values, levels
 * and indexes in fresh arrays, a million customers cost the run's thread half a dozen full
 * collections of its whole heap. A row group's pages are read by gzip on libuv's pool until the
 * group is laid out, so a writer holds one PageBuffers per group in flight and takes one back
 * after the group is out.
 */
export class PageBuffers {
  private readonly slots: Uint8Array<ArrayBuffer>[] = [];

  /**
   * The buffer of `slot` (a small integer: a column's number times the uses per column plus the
   * use), at least `bytes` long, its contents left from before. A new one, an eighth larger than
   * asked for, when the slot's is too small. Starts at byte 0 of its ArrayBuffer, so any typed
   * array can view it.
   */
  get(slot: number, bytes: number): Uint8Array<ArrayBuffer> {
    const held = this.slots[slot];
    if (held !== undefined && held.length >= bytes) return held;
    const fresh = new Uint8Array(bytes + (bytes >> 3));
    this.slots[slot] = fresh;
    return fresh;
  }

  /** `slot`'s buffer grown to at least `bytes`, its first `keep` bytes carried over. */
  grow(slot: number, bytes: number, keep: number): Uint8Array<ArrayBuffer> {
    const held = this.slots[slot];
    const grown = this.get(slot, bytes);
    if (held !== undefined && held !== grown) grown.set(held.subarray(0, keep));
    return grown;
  }
}
