// The host's own time zone, read from the evidence (never the analyst's): `--tz` first, then /etc/localtime
// (TZif, usually a symlink into /usr/share/zoneinfo), then /etc/timezone (Debian) or /etc/sysconfig/clock
// (old Red Hat) naming a zone whose TZif data is looked up inside the evidence, else UTC (reported).
// References: tzfile(5), localtime(5) (systemd), timezone(5) (Debian), RFC 8536; docs/formats/tzif.md.
import * as fs from 'node:fs';
import { errorMessage } from '../../events/event.js';
import { type Vfs, VfsError, readFileLimited, readTextLimited } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import { FixedZone, IntlZone, MAX_TZIF_BYTES, TzifZone, type Zone, intlKnowsZone, parseTzif } from './tzif.js';

export type TzSource = 'etc/localtime' | 'etc/timezone' | '--tz' | 'assumed UTC';

export interface HostZone {
  zone: Zone;
  /** The zone name recorded in events (an IANA name where the evidence gives one). */
  name: string;
  source: TzSource;
  /** Where the zone rules came from: the evidence's TZif, the analyst's zoneinfo (--tz only) or Intl. */
  data: 'evidence-tzif' | 'analyst-tzif' | 'intl' | 'none';
}

const COMPONENT = 'timezone';
const ZONE_NAME = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/;

/** Strips the zoneinfo directory (and its posix/ or right/ flavour) from a link target. */
export function zoneNameFromLink(target: string): string | undefined {
  const i = target.lastIndexOf('zoneinfo/');
  if (i < 0) return undefined;
  let name = target.slice(i + 'zoneinfo/'.length);
  if (name.startsWith('posix/')) name = name.slice(6);
  return ZONE_NAME.test(name) ? name : undefined;
}

function readEvidenceTzif(vfs: Vfs, path: string, name: string): TzifZone {
  const bytes = readFileLimited(vfs, path, MAX_TZIF_BYTES);
  return new TzifZone(name, parseTzif(bytes, path));
}

function missing(err: unknown): boolean {
  return err instanceof VfsError && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}

/** The zone named by `--tz`: the analyst's zoneinfo (allowed for the explicit override only), else Intl. */
function overrideZone(name: string, warn: (path: string, reason: string) => void): HostZone | undefined {
  if (!ZONE_NAME.test(name) || name.split('/').includes('..')) {
    warn('--tz', `--tz ${JSON.stringify(name)} is not a zone name; ignored`);
    return undefined;
  }
  if (name === 'UTC' || name === 'Etc/UTC') return { zone: new FixedZone(name, 0, 'UTC'), name, source: '--tz', data: 'none' };
  for (const dir of ['/usr/share/zoneinfo', '/usr/lib/zoneinfo']) {
    try {
      const bytes = fs.readFileSync(`${dir}/${name}`);
      if (bytes.length > MAX_TZIF_BYTES) continue;
      return { zone: new TzifZone(name, parseTzif(bytes, `${dir}/${name}`)), name, source: '--tz', data: 'analyst-tzif' };
    } catch {
      // try the next place
    }
  }
  if (intlKnowsZone(name)) return { zone: new IntlZone(name), name, source: '--tz', data: 'intl' };
  warn('--tz', `--tz ${JSON.stringify(name)}: no such zone (not in /usr/share/zoneinfo nor known to Intl); ignored`);
  return undefined;
}

/** A zone named by the evidence: its own TZif data first, else Intl's rules for that name. */
function namedZone(vfs: Vfs, name: string, source: TzSource, warn: (p: string, r: string) => void): HostZone | undefined {
  if (!ZONE_NAME.test(name)) {
    warn(source === 'etc/timezone' ? '/etc/timezone' : '/etc/localtime', `zone name ${JSON.stringify(name)} is not valid`);
    return undefined;
  }
  if (name === 'UTC' || name === 'Etc/UTC' || name === 'Universal' || name === 'Zulu') {
    return { zone: new FixedZone(name, 0, 'UTC'), name, source, data: 'none' };
  }
  const path = `/usr/share/zoneinfo/${name}`;
  try {
    return { zone: readEvidenceTzif(vfs, path, name), name, source, data: 'evidence-tzif' };
  } catch (err) {
    if (!missing(err)) warn(path, `cannot use: ${errorMessage(err)}`);
  }
  if (intlKnowsZone(name)) return { zone: new IntlZone(name), name, source, data: 'intl' };
  return undefined;
}

function readSmall(vfs: Vfs, path: string, warn: (p: string, r: string) => void): string | undefined {
  try {
    return readTextLimited(vfs, path, 64 * 1024);
  } catch (err) {
    if (!missing(err)) warn(path, errorMessage(err));
    return undefined;
  }
}

/** Resolves the host zone without caching (see hostZone). */
export function resolveHostZone(vfs: Vfs, warn: (path: string, reason: string) => void, tzOverride?: string): HostZone {
  if (tzOverride) {
    const z = overrideZone(tzOverride, warn);
    if (z) return z;
  }
  const tzText = readSmall(vfs, '/etc/timezone', warn);
  const tzName = tzText
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  // /etc/localtime
  let linkName: string | undefined;
  let isLink = false;
  try {
    const st = vfs.lstat('/etc/localtime');
    if (st.type === 'symlink') {
      isLink = true;
      linkName = zoneNameFromLink(vfs.readlink('/etc/localtime'));
    }
  } catch (err) {
    if (!missing(err)) warn('/etc/localtime', errorMessage(err));
  }
  try {
    const name = linkName ?? tzName ?? 'etc/localtime';
    const zone = readEvidenceTzif(vfs, '/etc/localtime', name);
    if (tzName && linkName && tzName !== linkName) {
      warn('/etc/timezone', `names ${tzName} but /etc/localtime links to ${linkName}; used /etc/localtime (what glibc reads)`);
    }
    return { zone, name, source: 'etc/localtime', data: 'evidence-tzif' };
  } catch (err) {
    if (!missing(err)) warn('/etc/localtime', `cannot use: ${errorMessage(err)}`);
    else if (isLink && linkName) {
      // A dangling link (zoneinfo not collected): the link still names the zone.
      const z = namedZone(vfs, linkName, 'etc/localtime', warn);
      if (z) return z;
    }
  }
  if (tzName) {
    const z = namedZone(vfs, tzName, 'etc/timezone', warn);
    if (z) return z;
  }
  const clock = readSmall(vfs, '/etc/sysconfig/clock', warn);
  const m = clock ? /^\s*ZONE="?([^"\n]+)"?/m.exec(clock) : null;
  if (m) {
    const z = namedZone(vfs, m[1].trim(), 'etc/timezone', warn);
    if (z) return z;
  }
  warn('/etc/localtime', 'no usable time zone in the evidence (/etc/localtime, /etc/timezone); local log times read as UTC');
  return { zone: new FixedZone('UTC', 0, 'UTC'), name: 'UTC', source: 'assumed UTC', data: 'none' };
}

const cache = new WeakMap<Vfs, Map<string, HostZone>>();

/** The host zone for a collector context, resolved once per evidence (problems reported once). */
export function hostZone(ctx: CollectorContext): HostZone {
  let perVfs = cache.get(ctx.vfs);
  if (!perVfs) {
    perVfs = new Map();
    cache.set(ctx.vfs, perVfs);
  }
  const key = ctx.tzOverride ?? '';
  let z = perVfs.get(key);
  if (!z) {
    z = resolveHostZone(ctx.vfs, (path, reason) => ctx.problems.warn(COMPONENT, path, reason, ctx.host), ctx.tzOverride);
    perVfs.set(key, z);
  }
  return z;
}

/** Converts wall-clock fields of the host zone to UTC ns, with the attrs that say how (tz, tz_source, ...). */
export class LocalTimeConverter {
  private lastLocal = Number.NaN;
  private lastUtc = 0;
  private lastFlags: 'ambiguous' | 'gap' | undefined;
  readonly attrs: { tz: string; tz_source: TzSource };

  constructor(readonly hz: HostZone) {
    this.attrs = { tz: hz.name, tz_source: hz.source };
  }

  /** Local seconds since the epoch (fields as if UTC) -> UTC seconds; `flag` is set for DST overlaps and gaps. */
  toUtc(local: number): { utc: number; flag?: 'ambiguous' | 'gap' } {
    if (local !== this.lastLocal) {
      const r = this.hz.zone.localToUtc(local);
      this.lastLocal = local;
      this.lastUtc = r.utc;
      this.lastFlags = r.ambiguous ? 'ambiguous' : r.gap ? 'gap' : undefined;
    }
    return this.lastFlags ? { utc: this.lastUtc, flag: this.lastFlags } : { utc: this.lastUtc };
  }
}
