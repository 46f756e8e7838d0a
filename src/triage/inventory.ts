// inventory(source): containers and images of one source without building a timeline (`flotsam containers`).
import * as path from 'node:path';
import { type ContainerRecord, type ImageRecord, collectDocker } from '../collectors/docker/index.js';
import { readHostIdentity } from '../collectors/host/identity.js';
import { type Problem, ProblemLog } from '../events/event.js';
import { EvidenceError, evidenceProblems, openEvidence } from '../fs/open-evidence.js';

export interface Inventory {
  host: string;
  containers: ContainerRecord[];
  images: ImageRecord[];
  problems: Problem[];
}

export function inventory(source: string, onProblem?: (p: Problem) => void): Inventory {
  const problems = new ProblemLog();
  if (onProblem) problems.onProblem(onProblem);
  const vfs = openEvidence(source);
  try {
    for (const p of evidenceProblems(vfs)) problems.add(p);
    const identity = readHostIdentity(vfs, problems);
    const host = identity.hostname ?? path.basename(path.resolve(source));
    const docker = collectDocker({ vfs, host, problems }, { inventoryOnly: true });
    if (!identity.isLinuxRoot && !docker.roots.some((r) => r.exists)) {
      throw new EvidenceError(`${source}: holds no Linux root and no Docker data root`);
    }
    return { host, containers: docker.containers, images: docker.images, problems: problems.problems };
  } finally {
    vfs.close();
  }
}
