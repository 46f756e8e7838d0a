// `flotsam diff SOURCE CONTAINER`: what changed inside one container, printed like `docker diff` (`A /path`,
// `C /path`, `D /path`, sorted by path), from its overlay2 writable layer in the evidence. A thin shell over
// diffContainerInSource(); paths from the evidence are made terminal-safe (control characters escaped).
import * as path from 'node:path';
import type { Argv } from 'yargs';
import { type ContainerRecord, readContainers } from '../collectors/docker/containers.js';
import { discoverDockerRoots } from '../collectors/docker/discover.js';
import { type ContainerDiff, containerDiff } from '../collectors/docker/overlay-diff.js';
import { readHostIdentity } from '../collectors/host/identity.js';
import { type Problem, ProblemLog } from '../events/event.js';
import { EvidenceError, evidenceProblems, openEvidence } from '../fs/open-evidence.js';
import { printable } from './browse.js';

export interface SourceDiff {
  host: string;
  container: ContainerRecord;
  diff: ContainerDiff;
  problems: Problem[];
}

/** Finds a container by exact name (with or without `/`), full id, or unique id prefix. */
export function pickContainer(containers: ContainerRecord[], ref: string): ContainerRecord {
  const name = ref.replace(/^\//, '');
  const byName = containers.filter((c) => c.name === name);
  if (byName.length === 1) return byName[0];
  const byId = containers.filter((c) => c.id === ref);
  if (byId.length === 1) return byId[0];
  const byPrefix = ref.length > 0 ? containers.filter((c) => c.id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0];
  if (byPrefix.length > 1 || byName.length > 1) {
    const list = [...byName, ...byPrefix].map((c) => `${c.name} (${c.id.slice(0, 12)})`).join(', ');
    throw new EvidenceError(`container ${JSON.stringify(ref)} is ambiguous: ${list}`);
  }
  throw new EvidenceError(`no container ${JSON.stringify(ref)} in the evidence (by name, id or id prefix)`);
}

/** The library call behind `flotsam diff`. */
export function diffContainerInSource(
  source: string,
  ref: string,
  options: { hash?: boolean; onProblem?: (p: Problem) => void } = {},
): SourceDiff {
  const problems = new ProblemLog();
  if (options.onProblem) problems.onProblem(options.onProblem);
  const vfs = openEvidence(source);
  try {
    for (const p of evidenceProblems(vfs)) problems.add(p);
    const identity = readHostIdentity(vfs, problems);
    const host = identity.hostname ?? path.basename(path.resolve(source));
    // Container inventory only (problems of other containers are not this command's business).
    const quiet = new ProblemLog();
    const ctx = { vfs, host, problems: quiet };
    const roots = discoverDockerRoots(ctx).filter((r) => r.exists);
    if (roots.length === 0) throw new EvidenceError(`${source}: holds no Docker data root`);
    const container = pickContainer(roots.flatMap((r) => readContainers(ctx, r.path)), ref);
    const diff = containerDiff(vfs, problems, host, container, { hash: options.hash });
    if (!diff) {
      throw new EvidenceError(
        `container ${container.name} (${container.id.slice(0, 12)}): no overlay2 writable layer in the evidence ` +
          `(storage driver ${container.storageDriver || '?'}, mount id ${container.layer?.mountId ?? 'unknown'})`,
      );
    }
    for (const l of diff.limitations) problems.warn('overlay-diff', l.path, l.reason, host);
    return { host, container, diff, problems: problems.problems };
  } finally {
    vfs.close();
  }
}

export function registerDiffCommand<T>(y: Argv<T>): Argv<T> {
  return y.command(
    'diff <source> <container>',
    'Print what changed in a container (A added, C changed, D deleted), like `docker diff`, from its overlay2 writable layer',
    (a) =>
      a
        .positional('source', { type: 'string', demandOption: true, describe: 'evidence: a mounted root, data root or disk image' })
        .positional('container', { type: 'string', demandOption: true, describe: 'container name, id or id prefix' })
        .option('json', { type: 'boolean', default: false, describe: 'print every change with its evidence as JSON' })
        .option('hash', { type: 'boolean', default: false, describe: 'sha256 of added/changed files (with --json)' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings' })
        .example('$0 diff /mnt/evidence web', 'A/C/D lines sorted by path'),
    (args) => {
      const r = diffContainerInSource(args.source as string, args.container as string, {
        hash: args.hash,
        onProblem: args.quiet ? undefined : (p) => process.stderr.write(`warning: ${printable(p.path)}: ${printable(p.reason)}\n`),
      });
      if (args.json) {
        const changes = r.diff.changes.map((c) => ({
          kind: c.kind,
          path: c.path,
          evidence_path: c.evidencePath,
          deleted_by: c.deletedBy,
          opaque: c.opaque,
          lower_path: c.lowerPath,
          type: c.stat?.type,
          mode: c.stat ? '0' + c.stat.mode.toString(8) : undefined,
          uid: c.stat?.uid,
          gid: c.stat?.gid,
          size: c.stat?.size.toString(),
          mtime_ns: c.stat?.mtime?.toString(),
          link_target: c.linkTarget,
          sha256: c.sha256,
        }));
        const out = {
          host: r.host,
          container_id: r.container.id,
          container_name: r.container.name,
          layer: r.diff.layers,
          limitations: r.diff.limitations,
          changes,
        };
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        return;
      }
      process.stdout.write(r.diff.changes.map((c) => `${c.kind} ${printable(c.path)}\n`).join(''));
    },
  );
}
