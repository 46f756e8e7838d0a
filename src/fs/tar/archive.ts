// One indexing pass over a tar stream (plain, or the inflated bytes of a .tar.gz): every member's header fields,
// pax/GNU overrides applied, and where its data starts in the stream. Nothing but headers (and pax/long-name/sparse
// map blocks) is read; member data is read later, positionally, by the VFS.
// Damage never throws: a bad checksum or a malformed field is a problem and the pass resynchronises at the next
// valid header (within MAX_RESYNC_BYTES) or stops; a member cut by the end of the stream keeps the bytes present.
// References: POSIX.1-2017 pax(1) (ustar and pax formats); GNU tar 1.34 manual, "Basic Tar Format", "Storing
// sparse files" (old GNU 'S', pax sparse formats 0.1 and 1.0); libarchive tar(5) (SCHILY.*, LIBARCHIVE.xattr.*).
// Layout: limits and types in ./archive-types.ts, the pass itself in ./indexer.ts, its helpers in ./index-helpers.ts
// and ./sparse-map.ts; this module is the entry point.
import { type IndexOptions, MAX_MEMBERS, type TarIndex, type StreamReader } from './archive-types.js';
import { TarError } from './errors.js';
import { Indexer } from './indexer.js';

export {
  MAX_MEMBERS,
  MAX_RESYNC_BYTES,
  MAX_SPARSE_ENTRIES,
  MAX_MEMBER_SIZE,
  MAX_ID,
  type StreamReader,
  type MemberType,
  type SparseSegment,
  type TarMember,
  type TarIndexProblem,
  type TarIndex,
  type IndexOptions,
} from './archive-types.js';

/** Indexes a tar stream. Never throws on damage: see `problems` and `complete`. */
export function indexTar(r: StreamReader, opts: IndexOptions = {}): TarIndex {
  const ix = new Indexer(r, opts.maxMembers ?? MAX_MEMBERS);
  try {
    ix.run();
  } catch (err) {
    if (!(err instanceof TarError)) throw err;
    ix.problems.push({ offset: 0, reason: err.message });
  }
  return { members: ix.members, problems: ix.problems, complete: ix.complete, globals: ix.globals };
}
