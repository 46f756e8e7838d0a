#!/usr/bin/env bash
# Builds sample-images/sample-host.E01: the real-Docker sample host (sample-host.tar.gz) as an ext4 file system in a
# GPT-partitioned raw disk, acquired with ewfacquire as one EnCase 6 segment, deflate best, MD5 + SHA-1 stored.
# Needs root (tar restores owners, device nodes and xattrs), e2fsprogs >= 1.47 (mkfs.ext4 -d), util-linux sfdisk,
# ewf-tools (ewfacquire, ewfverify). Run from anywhere: sudo bash sample-images/build-sample-e01.sh
# The file system is made just big enough (+ room for the journal and metadata); times are fixed so the ext4 image
# is reproducible (the E01 header still records the acquisition date, so the .E01 differs byte-wise per run).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flotsam-sample-e01.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export TZ=UTC E2FSPROGS_FAKE_TIME=1700000000
[ "$(id -u)" = 0 ] || { echo "build-sample-e01.sh: run as root (tar restores owners, devices and xattrs)" >&2; exit 1; }

STAGE="$WORK/stage"
mkdir -p "$STAGE"
tar --xattrs --xattrs-include='*' --numeric-owner -xzf "$HERE/sample-host.tar.gz" -C "$STAGE"
ROOT="$STAGE/sample-host"
[ -d "$ROOT" ] || ROOT="$STAGE"

# Size: the tree's bytes and inodes plus 50 % and 4 MiB (journal, bitmaps, inode tables), in MiB.
KB=$(du -s -k --apparent-size "$ROOT" | cut -f1)
INODES=$(find "$ROOT" | wc -l)
FS_MB=$(( (KB * 3 / 2) / 1024 + INODES / 2048 + 8 ))
mkfs.ext4 -q -F -L sample-host -U 0d0c0e0a-5a5a-4b4b-8c8c-0123456789ab -E root_owner=0:0 -N $(( INODES + 256 )) \
  -d "$ROOT" "$WORK/fs.img" "${FS_MB}M"
e2fsck -fn "$WORK/fs.img" >/dev/null

# GPT disk: 1 MiB before the partition, 1 MiB after it (backup GPT).
DISK="$WORK/sample-host.raw"
truncate -s $(( (FS_MB + 2) * 1024 * 1024 )) "$DISK"
sfdisk -q "$DISK" <<SF
label: gpt
label-id: 5A3B1E00-0000-4000-8000-00000000F10A
first-lba: 2048
start=2048, size=$(( FS_MB * 2048 )), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5A3B1E00-0000-4000-8000-0000000000A1, name="sample-host-root"
SF
dd if="$WORK/fs.img" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none

rm -f "$HERE/sample-host.E01"
ewfacquire -u -q -t "$HERE/sample-host" -f encase6 -c deflate:best -d sha1 -S 7GiB \
  -C flotsam-demo -E sample-host -e 'flotsam build-sample-e01.sh' -D 'real-Docker sample host (ext4 in GPT)' \
  -N 'built from sample-images/sample-host.tar.gz' "$DISK" >/dev/null
ewfverify -q -d sha1 "$HERE/sample-host.E01" | grep -q 'ewfverify: SUCCESS'
echo "sample-host.E01: $(stat -c %s "$HERE/sample-host.E01") bytes (disk $(stat -c %s "$DISK") bytes, MD5 $(md5sum < "$DISK" | cut -c1-32))"
