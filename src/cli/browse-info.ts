// `flotsam info IMAGE`: what the evidence is (image format, partitions, file systems, root and mounts, OS, Docker
// data roots). Apart from the file commands (browse-files.ts) because it describes the whole evidence, not a path.
import type { ByteSource } from '../io/index.js';
import { discoverDockerRoots } from '../collectors/docker/index.js';
import { readHostIdentity } from '../collectors/host/identity.js';
import { ProblemLog } from '../events/event.js';
import { PARTITION_TYPE_NAMES } from '../fs/assemble/assemble.js';
import { formatJson } from '../writers/index.js';
import { printable, withEvidence, write } from './browse-common.js';

export interface InfoArgs {
  image: string;
  json?: boolean;
}

export async function infoCommand(args: InfoArgs, out: NodeJS.WritableStream): Promise<void> {
  await withEvidence(args.image, async (ev) => {
    const vfs = ev.vfs;
    const scratch = new ProblemLog();
    const identity = readHostIdentity(vfs, scratch);
    const roots = discoverDockerRoots({ vfs, host: identity.hostname ?? '', problems: scratch });
    const l = ev.layout;
    const partitions = l
      ? l.volumes.partitions.map((p) => {
          const f = l.filesystems.find((x) => x.partition === p);
          return {
            index: l.volumes.scheme === 'none' ? undefined : p.index,
            start: p.start,
            size: p.size,
            type: p.type,
            type_name: PARTITION_TYPE_NAMES[p.type.toLowerCase()],
            name: p.name,
            partuuid: f?.partuuid ?? p.guid,
            filesystem: f?.fsKind,
            label: f?.label,
            uuid: f?.uuid,
            last_mounted: f?.lastMounted,
            is_root: f?.isRoot ?? false,
            mount_point: f?.mountPoint,
            error: f?.openError,
          };
        })
      : undefined;
    const image = l ? imageDescription(l.disk) : undefined;
    const info = {
      evidence: args.image,
      kind: ev.kind,
      image,
      disk_size: l?.diskSize,
      partition_table: l?.volumes.scheme,
      sector_size: l?.volumes.sectorSize,
      partitions,
      root: l ? { how: l.rootHow, partition: l.root?.partNumber, uuid: l.root?.uuid } : undefined,
      mounts: l?.vfs.mountTable.map((m) => ({ point: m.point, what: m.what })),
      fstab: l?.fstab.map((e) => ({ line: e.line, spec: e.spec, mount_point: e.file, type: e.vfstype, options: e.options.join(',') })),
      hostname: identity.hostname,
      os_release: identity.osPrettyName,
      machine_id: identity.machineId,
      is_linux_root: identity.isLinuxRoot,
      docker_data_roots: roots.filter((r) => r.exists).map((r) => ({ path: r.path, how: r.how })),
      problems: ev.problems.map((p) => ({ path: p.path, reason: p.reason })),
    };
    if (args.json) {
      await write(out, formatJson(info));
      return;
    }
    const lines: string[] = [];
    const P = (s: string) => lines.push(printable(s));
    P(`Evidence:        ${args.image} (${ev.kind})`);
    if (image) {
      P(`Image format:    ${image.format}`);
      for (const [k, v] of Object.entries(image.details)) P(`  ${k.padEnd(22)} ${v}`);
    }
    if (l) {
      P(`Disk size:       ${l.diskSize} bytes (${(Number(l.diskSize) / 2 ** 30).toFixed(2)} GiB)`);
      P(`Partition table: ${l.volumes.scheme}${l.volumes.scheme === 'none' ? ' (bare file system)' : ''}, sector size ${l.volumes.sectorSize}`);
      P('');
      P('Partitions:');
      const rows = [['#', 'START', 'SIZE', 'TYPE', 'NAME', 'FS', 'LABEL', 'UUID', 'MOUNT']];
      for (const p of partitions ?? []) {
        rows.push([
          p.index === undefined ? '-' : String(p.index),
          String(p.start),
          String(p.size),
          p.type + (p.type_name ? ` (${p.type_name})` : ''),
          p.name || '-',
          (p.filesystem ?? '-') + (p.error ? ' (unreadable)' : ''),
          p.label || '-',
          p.uuid ?? '-',
          (p.mount_point ?? '-') + (p.is_root ? ' (root)' : ''),
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) P('  ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
      P('');
      const rootDesc =
        l.root === undefined
          ? 'none found'
          : `${l.root.partNumber !== undefined ? `partition ${l.root.partNumber}` : 'whole disk'} (${l.rootHow})`;
      P(`Linux root:      ${rootDesc}`);
      P(`Mounts:          ${l.vfs.mountTable.map((m) => `${m.point} <- ${m.what ?? '?'}`).join('; ')}`);
    }
    P(`Hostname:        ${identity.hostname ?? '-'}`);
    P(`OS release:      ${identity.osPrettyName ?? '-'}`);
    if (identity.machineId) P(`Machine id:      ${identity.machineId}`);
    P(`Docker roots:    ${info.docker_data_roots.length === 0 ? 'none found' : info.docker_data_roots.map((r) => `${r.path} (${r.how.join(', ')})`).join('; ')}`);
    if (ev.problems.length > 0) {
      P('');
      P('Problems:');
      for (const p of ev.problems) P(`  ${p.path}: ${p.reason}`);
    }
    await write(out, lines.join('\n') + '\n');
  });
}

/** The image container's own description: format and, for E01, the acquisition header and stored hashes. */
function imageDescription(disk: ByteSource): { format: string; details: Record<string, string> } {
  const d = disk as ByteSource & { metadata?: EwfMetadataLike };
  const details: Record<string, string> = {};
  const m = d.metadata;
  if (m && typeof m === 'object' && 'header' in m) {
    const h = m.header ?? {};
    const put = (k: string, v: unknown): void => {
      if (v !== undefined && v !== null && v !== '') details[k] = String(v);
    };
    put('case number', h.caseNumber);
    put('evidence number', h.evidenceNumber);
    put('examiner', h.examinerName);
    put('description', h.description);
    put('notes', h.notes);
    put('acquired', h.acquisitionDate?.iso ?? h.acquisitionDate?.raw);
    put('system date', h.systemDate?.iso ?? h.systemDate?.raw);
    put('acquisition software', [h.acquisitionSoftware, h.acquisitionSoftwareVersion].filter(Boolean).join(' '));
    put('acquisition OS', h.acquisitionOperatingSystem);
    put('segments', m.segments?.length);
    put('chunk size', m.chunkSize);
    put('stored MD5', m.storedHashes?.md5);
    put('stored SHA-1', m.storedHashes?.sha1);
    put('acquisition errors', m.acquisitionErrors?.length ? m.acquisitionErrors.length : undefined);
    return { format: String(m.format ?? 'EWF'), details };
  }
  return { format: disk.constructor?.name?.replace(/Source$/, '') || 'raw', details };
}

interface EwfMetadataLike {
  format?: string;
  header?: {
    caseNumber?: string;
    evidenceNumber?: string;
    examinerName?: string;
    description?: string;
    notes?: string;
    acquisitionDate?: { raw?: string; iso?: string };
    systemDate?: { raw?: string; iso?: string };
    acquisitionSoftware?: string;
    acquisitionSoftwareVersion?: string;
    acquisitionOperatingSystem?: string;
  };
  segments?: unknown[];
  chunkSize?: number;
  storedHashes?: { md5?: string; sha1?: string };
  acquisitionErrors?: unknown[];
}
