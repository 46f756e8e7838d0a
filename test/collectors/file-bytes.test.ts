// budgetedSizes: a streaming reader's buffers and batches under the timeline's ReadBudget (build.ts).
import { describe, expect, it } from 'vitest';
import { budgetedSizes } from '../../src/collectors/file-bytes.js';

describe('budgetedSizes', () => {
  const own = { readChunkBytes: 1 << 20, feedBytes: 256 * 1024, batchEvents: 256 };

  it('without a budget: the reader\'s own sizes', () => {
    expect(budgetedSizes(own, undefined)).toEqual(own);
  });

  it('caps every size; the feed also by the batch, so a small batch holds few events', () => {
    expect(budgetedSizes(own, { batchEvents: 16, bufferBytes: 16384 })).toEqual({
      readChunkBytes: 16384,
      feedBytes: 4096,
      batchEvents: 16,
    });
    // A generous budget never raises a size.
    expect(budgetedSizes({ readChunkBytes: 32768, feedBytes: 32768, batchEvents: 128 }, { batchEvents: 1000, bufferBytes: 1 << 20 }))
      .toEqual({ readChunkBytes: 32768, feedBytes: 32768, batchEvents: 128 });
  });

  it('a nonsensical budget still leaves sizes of at least one', () => {
    expect(budgetedSizes(own, { batchEvents: 0, bufferBytes: 0 })).toEqual({ readChunkBytes: 1, feedBytes: 1, batchEvents: 1 });
    expect(budgetedSizes(own, { batchEvents: 0.5, bufferBytes: -3 })).toEqual({ readChunkBytes: 1, feedBytes: 1, batchEvents: 1 });
  });
});
