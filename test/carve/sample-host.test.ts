// No false positives on the real-Docker sample host images (test/fixtures-scripts/make-assembly-images.sh): their
// free blocks hold nothing Docker wrote (mkfs.ext4 -d of a tree), so carving must find nothing, whole disk included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carveRecovery } from '../../src/carve/carve.js';
import { ImageRecoverySource } from '../../src/carve/evidence.js';
import { openEvidenceDetailed } from '../../src/fs/open-evidence.js';
import { type AssemblyImages, buildAssemblyImages } from '../fixtures-scripts/assembly-images.js';

let images: AssemblyImages;
beforeAll(() => {
  images = buildAssemblyImages();
});
afterAll(() => images?.cleanup());

describe('carving the sample-host images', () => {
  for (const name of ['gptVar', 'bare', 'mbrUnknown', 'varOnly'] as const) {
    it(`${name}: nothing carved from free blocks, deleted inodes or the whole disk`, () => {
      const opened = openEvidenceDetailed(images[name]);
      try {
        for (const mode of ['unallocated', 'all'] as const) {
          const r = carveRecovery(new ImageRecoverySource(opened.layout!), { mode, host: 'h' });
          expect(r.containers).toEqual([]);
          expect(r.hostconfigs).toEqual([]);
          expect(r.events).toEqual([]);
          expect(r.summary.bytesScanned).toBeGreaterThan(0);
        }
      } finally {
        opened.vfs.close();
      }
    });
  }
});
