// vitest global setup: git cannot store empty directories, so a fresh clone of sample-images/sample-host lacks
// the ones the real Docker tree had (overlay2 layer dirs such as an image's empty /tmp, work/ dirs, mounts/...).
// They matter to writable-layer diffs (an empty /tmp in a lower layer makes `/tmp` a change, not an addition).
// sample-images/sample-host.omitted.txt lists them; recreate each one (git ignores empty directories, so the
// checkout stays clean). Device files and sockets stay omitted: tests use the images for those.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const root = path.join(repo, 'sample-images/sample-host');
  const list = path.join(repo, 'sample-images/sample-host.omitted.txt');
  if (!fs.existsSync(list)) return;
  for (const line of fs.readFileSync(list, 'utf8').split('\n')) {
    const [kind, , rel] = line.split('\t');
    if (kind !== 'emptydir' || !rel || rel.split('/').includes('..')) continue;
    fs.mkdirSync(path.join(root, rel), { recursive: true });
  }
}
