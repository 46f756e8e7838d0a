#!/usr/bin/env bash
# Builds the ext2/3/4, GPT and MBR test images used by test/io, test/volumes and test/fs/ext4 into $1 (a temp dir).
# Needs root (mknod), e2fsprogs >= 1.47 (mkfs -d, debugfs), util-linux sfdisk, attr (setfattr), python3 (socket).
# Every image is made here; nothing binary is committed (STYLE.md habit 6). Idempotent: an existing $1/.done skips.
set -euo pipefail
OUT=${1:?usage: make-disk-images.sh OUTDIR}
mkdir -p "$OUT"
[ -f "$OUT/.done" ] && exit 0
cd "$OUT"
export TZ=UTC E2FSPROGS_FAKE_TIME=1700000000
UUID=4f1a2b3c-0000-4000-8000-0123456789ab
q() { "$@" >/dev/null 2>&1; }

# ------------------------------------------------------------------ main ext4 tree
S=src-main; rm -rf "$S"; mkdir -p "$S"
printf 'hello, world\n' > "$S/hello.txt"
mkdir -p "$S/etc" "$S/data" "$S/links" "$S/dev" "$S/many" "$S/times" "$S/owners"
printf 'root:*:19000:0:99999:7:::\n' > "$S/etc/shadow"
head -c 307200 /dev/urandom > "$S/data/random.bin"
truncate -s 10M "$S/data/sparse.bin"
printf 'start' | dd of="$S/data/sparse.bin" conv=notrunc status=none
printf 'middle' | dd of="$S/data/sparse.bin" bs=1 seek=5242880 conv=notrunc status=none
# > 4 GiB, almost all hole: data at 0, at 4 GiB + 1 and in the last bytes
truncate -s 4295032832 "$S/data/huge.bin"
printf 'HEAD' | dd of="$S/data/huge.bin" conv=notrunc status=none
printf 'past4G' | dd of="$S/data/huge.bin" bs=1 seek=4294967297 conv=notrunc status=none
printf 'TAIL' | dd of="$S/data/huge.bin" bs=1 seek=4295032828 conv=notrunc status=none
: > "$S/data/empty"
printf 'linked twice\n' > "$S/data/hardlink-a"
ln "$S/data/hardlink-a" "$S/hardlink-b"
D="$S/deep"; for c in a b c d e f g h i j k l m n o p q r s t u v w x y z; do D="$D/$c$c$c"; done
mkdir -p "$D"; printf 'deep file\n' > "$D/file.txt"
ln -s ../hello.txt "$S/links/fast-rel"
ln -s /etc/shadow "$S/links/abs-shadow"
ln -s ../../../../../../../../etc/shadow "$S/links/dotdot-escape"
ln -s ../deep/aaa/bbb/ccc/ddd/eee/fff/ggg/hhh/iii/jjj/kkk/lll/mmm/nnn/ooo/ppp/qqq/rrr/sss/ttt/uuu/vvv/www/xxx/yyy/zzz/file.txt "$S/links/slow-rel"
ln -s /deep/aaa/bbb/ccc/ddd/eee/fff/ggg/hhh/iii/jjj/kkk/lll/mmm/nnn/ooo/ppp/qqq/rrr/sss/ttt/uuu/vvv "$S/links/slow-abs-dir"
ln -s loop-b "$S/links/loop-a"; ln -s loop-a "$S/links/loop-b"
ln -s /nonexistent/target "$S/links/dangling"
ln -s /links "$S/links/self-dir"
mknod "$S/dev/whiteout" c 0 0
mknod "$S/dev/null" c 1 3
mknod "$S/dev/sda1" b 8 1
mknod "$S/dev/bigdev" c 300 70000
mkfifo "$S/dev/fifo"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$S/dev/sock"
for i in $(seq -w 0 2999); do : > "$S/many/f$i"; done
printf 'x' > "$S/xattr.txt"
setfattr -n user.comment -v 'hello xattr' "$S/xattr.txt"
setfattr -n user.binary -v 0x00ff10 "$S/xattr.txt"
setfattr -n trusted.overlay.opaque -v y "$S/xattr.txt"
setfattr -n security.selinux -v 'system_u:object_r:etc_t:s0' "$S/xattr.txt"
setfattr -n user.big -v "$(head -c 700 /dev/zero | tr '\0' 'B')" "$S/xattr.txt"
printf 'owned\n' > "$S/owners/highids"; chown 100000:200000 "$S/owners/highids"; chmod 4751 "$S/owners/highids"
printf 'old\n' > "$S/times/old.txt"; printf 'future\n' > "$S/times/future.txt"

rm -f ext4-main.img
mkfs.ext4 -q -F -U $UUID -E root_owner=0:0 -O 64bit,metadata_csum,flex_bg -d "$S" ext4-main.img 32M >/dev/null 2>&1
q e2fsck -fyD ext4-main.img || true   # htree for /many; exit 1 = "fixed" (it re-indexed)
set_times() { # path field seconds ns
  local epoch=$(( ($3 - ( ($3 + 2147483648) % 4294967296 - 2147483648 )) / 4294967296 & 3 ))
  echo "set_inode_field $1 $2 @$3"
  echo "set_inode_field $1 $2_extra $(( ($4 << 2) | epoch ))"
}
{
  set_times /times/old.txt mtime -315619200 123456789      # 1960-01-01
  set_times /times/old.txt atime -2147483000 5             # 1901-12-13
  set_times /times/old.txt crtime -2 500000000             # 1969-12-31 23:59:58.5 (debugfs reads @-1 as an error)
  set_times /times/old.txt ctime 0 0                       # the epoch itself
  set_times /times/future.txt mtime 4102444800 999999999   # 2100-01-01
  set_times /times/future.txt atime 15032385535 1          # 2446-05-10, the largest ext4 time
  set_times /times/future.txt crtime 2147483648 7          # 2038-01-19T03:14:08, first second past int32
  set_times /times/future.txt ctime 2147483647 0
} > set-times.cmd
debugfs -w -f set-times.cmd ext4-main.img >/dev/null 2>&1
e2fsck -fn ext4-main.img >/dev/null 2>&1 || { echo "ext4-main.img not clean after debugfs" >&2; exit 1; }

# ------------------------------------------------------------------ inline_data
S=src-inline; rm -rf "$S"; mkdir -p "$S/small-dir" "$S/mid-dir"
printf 'tiny inline file\n' > "$S/tiny.txt"
head -c 150 /dev/urandom | base64 -w0 | head -c 150 > "$S/mid.txt"   # > 60: continues in system.data
head -c 9000 /dev/urandom > "$S/blocks.bin"
printf 'a\n' > "$S/small-dir/a"
for i in 1 2 3 4 5 6; do printf "$i\n" > "$S/mid-dir/entry-number-$i"; done
ln -s tiny.txt "$S/link-fast"
ln -s small-dir/../mid-dir/entry-number-1/../../small-dir/../tiny.txt-is-not-here-but-long "$S/link-long"
rm -f ext4-inline.img
mkfs.ext4 -q -F -U $UUID -E root_owner=0:0 -O inline_data,^has_journal -I 256 -d "$S" ext4-inline.img 8M >/dev/null 2>&1

# ------------------------------------------------------------------ ext2 / ext3 (block maps, 128-byte inodes)
S=src-legacy; rm -rf "$S"; mkdir -p "$S/dir"
head -c 400000 /dev/urandom > "$S/double-indirect.bin"     # 1 KiB blocks: 12 + 256 direct/indirect, then double
truncate -s 20M "$S/sparse-indirect.bin"
printf 'a' | dd of="$S/sparse-indirect.bin" bs=1 seek=300000 conv=notrunc status=none
printf 'b' | dd of="$S/sparse-indirect.bin" bs=1 seek=19999999 conv=notrunc status=none
printf 'legacy\n' > "$S/dir/file"
ln -s dir/file "$S/fast"
ln -s dir/../dir/../dir/../dir/../dir/../dir/../dir/../dir/../dir/file "$S/slow"
mknod "$S/chr" c 4 5
rm -f ext2.img ext3.img
mkfs.ext2 -q -F -U $UUID -E root_owner=0:0 -b 1024 -I 128 -d "$S" ext2.img 32M >/dev/null 2>&1
mkfs.ext3 -q -F -U $UUID -E root_owner=0:0 -b 4096 -d "$S" ext3.img 40M >/dev/null 2>&1

# ------------------------------------------------------------------ meta_bg, 1 KiB blocks, many small groups
S=src-metabg; rm -rf "$S"; mkdir -p "$S"
for d in $(seq 0 6); do mkdir "$S/d$d"; for i in $(seq 0 99); do printf "file $d/$i\n" > "$S/d$d/f$i"; done; done
rm -f ext4-metabg.img
mkfs.ext4 -q -F -U $UUID -E root_owner=0:0 -b 1024 -g 1024 -N 1024 -O meta_bg,^resize_inode,64bit,^flex_bg,^has_journal -d "$S" ext4-metabg.img 32M >/dev/null 2>&1

# ------------------------------------------------------------------ partitioned disks
S=src-part; rm -rf "$S"; mkdir -p "$S/p"; printf 'inside a partition\n' > "$S/p/file.txt"
rm -f part-fs.img; mkfs.ext4 -q -F -U $UUID -E root_owner=0:0 -d "$S" part-fs.img 8M >/dev/null 2>&1
rm -f gpt.img; truncate -s 64M gpt.img
sfdisk -q gpt.img <<'SF'
label: gpt
first-lba: 2048
start=2048, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="linux-root"
start=20480, size=8192, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"
start=30720, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap"
SF
dd if=part-fs.img of=gpt.img bs=512 seek=2048 conv=notrunc,sparse status=none
rm -f mbr.img; truncate -s 64M mbr.img
sfdisk -q mbr.img <<'SF'
label: dos
start=2048, size=16384, type=83
start=20480, size=4096, type=82
start=26624, type=5
start=28672, size=16384, type=83
start=47104, size=8192, type=83
start=57344, type=7
SF
dd if=part-fs.img of=mbr.img bs=512 seek=28672 conv=notrunc,sparse status=none
# split copies of the main image: .000/.001..., and split(1) aa/ab...
mkdir -p split-num split-alpha
split -b 10M -d -a 3 ext4-main.img split-num/disk.
split -b 7M ext4-main.img split-alpha/disk.
rm -rf src-main src-inline src-legacy src-metabg src-part
touch .done
