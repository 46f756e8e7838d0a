// tuneHeapForStreaming: the CLI's V8 heap growth cap; only sane percentages reach V8.
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, tuneHeapForStreaming } from '../../src/triage/heap.js';

describe('tuneHeapForStreaming', () => {
  it('accepts the default and rejects values V8 should never see', () => {
    expect(HEAP_GROWING_PERCENT).toBe(50);
    expect(() => tuneHeapForStreaming()).not.toThrow();
    for (const bad of [-1, 1.5, 1001, Number.NaN]) expect(() => tuneHeapForStreaming(bad)).toThrow(RangeError);
  });
});
