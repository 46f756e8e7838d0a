// What JournalReader returns and how it is tuned: kept apart from the reader so the collector (index.ts) and tests
// can name these shapes without the reader's internals; reader.ts re-exports them.

export interface JournalField {
  name: string;
  /** The value as UTF-8 (invalid sequences replaced by U+FFFD). */
  text: string;
  /** The raw value bytes, only when they are not valid UTF-8. */
  raw?: Uint8Array;
}

export interface JournalEntry {
  /** Byte offset of the ENTRY object in the file. */
  offset: number;
  seqnum: bigint;
  /** __REALTIME_TIMESTAMP, µs since the epoch. */
  realtime: bigint;
  /** __MONOTONIC_TIMESTAMP, µs since boot `bootId`. */
  monotonic: bigint;
  bootId: string;
  fields: JournalField[];
  /** Found by the object scan (not through the entry-array chain). */
  scanned: boolean;
}

export interface JournalReaderOptions {
  maxObjectBytes?: number;
  maxDecompressedBytes?: number;
  maxEntryItems?: number;
  maxEntryArrayChain?: number;
  /** Page size and page count of the read cache. */
  pageBytes?: number;
  maxPages?: number;
  /** DATA objects whose decoded field is kept for reuse (shared fields such as _HOSTNAME repeat in every entry). */
  maxCachedFields?: number;
}
