/**
 * Float64 scratch memory handed out in pieces and taken back all at once, for tables that are
 * rebuilt over and over with the same sizes (the BG/NBD's per-x and per-T tables, once per
 * parameter draw). Allocating them afresh each time costs more than filling them: every typed
 * array above 64 bytes is memory outside the JavaScript heap, and V8 answers a few hundred
 * megabytes of it with full collections of the heap (at a million customers, 100 draws made
 * ~20 mark-compacts of ~0.2 s each of the customers' columns on the main thread).
 */
export class ScratchArena {
  private buffer: Float64Array;
  /** Numbers of `buffer` handed out since the last reset. */
  private used = 0;
  /** Numbers asked for since the last reset, whichever buffer they came from. */
  private demand = 0;

  constructor(initialLength = 0) {
    this.buffer = new Float64Array(initialLength);
  }

  /**
   * `length` numbers of scratch memory, apart from every other piece taken since the last
   * {@link reset}. Its contents are unspecified (whatever an earlier piece left): the caller
   * writes every entry it reads. Valid until the next reset; after it, the same memory is handed
   * out again.
   */
  take(length: number): Float64Array {
    this.demand += length;
    if (this.used + length > this.buffer.length) {
      // the pieces handed out keep the old buffer alive; the rest come from a new one
      this.buffer = new Float64Array(Math.max(2 * this.buffer.length, 2 * length));
      this.used = 0;
    }
    const piece = this.buffer.subarray(this.used, this.used + length);
    this.used += length;
    return piece;
  }

  /**
   * Takes back every piece handed out. When the last round asked for more than the buffer holds,
   * the buffer grows to hold it all: a round asking for the same again allocates nothing.
   */
  reset(): void {
    if (this.demand > this.buffer.length) this.buffer = new Float64Array(this.demand);
    this.used = 0;
    this.demand = 0;
  }
}
