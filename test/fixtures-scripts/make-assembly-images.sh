#!/usr/bin/env bash
# Builds the root-assembly test images (test/fs/assemble, test/cli, test/e2e) into $1 from the real-Docker sample host
# (sample-images/sample-host.tar.gz, extracted as root so overlay whiteouts (char 0:0) and trusted.overlay.opaque
# are real in the images). Needs root (tar --xattrs of trusted.*, mknod), e2fsprogs >= 1.47 (mkfs.ext4 -d),
# util-linux sfdisk. Nothing binary is committed. Images:
#   gpt-var.img    GPT: p1 root (/etc/fstab: / and /var by UUID=, swap by /dev/disk/by-partuuid, tmpfs, proc),
#                  p2 /var (holds lib/docker), p3 swap (no file system)
#   bare.img       one ext4 file system of the whole sample host, no partition table
#   mbr-unknown.img MBR: p1 root, p2 extended, p5 /var (logical); fstab: /dev/sda1 /, /dev/sda5 /var,
#                  UUID=<unknown> /srv/data, LABEL=backup /backup xfs
#   var-only.img   one ext4 file system holding only what /var holds (a bare /var partition)
set -euo pipefail
OUT=${1:?usage: make-assembly-images.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
TARBALL=${FLOTSAM_SAMPLE_TARBALL:-$HERE/../../sample-images/sample-host.tar.gz}
mkdir -p "$OUT"
[ -f "$OUT/.done" ] && exit 0
cd "$OUT"
export TZ=UTC

ROOT_UUID=6a1c0d4e-1111-4aaa-8bbb-0123456789a1
VAR_UUID=6a1c0d4e-2222-4aaa-8bbb-0123456789a2
BARE_UUID=6a1c0d4e-3333-4aaa-8bbb-0123456789a3
P1_GUID=7b2d1e5f-0001-4ccc-9ddd-00000000000a
P2_GUID=7b2d1e5f-0002-4ccc-9ddd-00000000000b
P3_GUID=7b2d1e5f-0003-4ccc-9ddd-00000000000c
UNKNOWN_UUID=deadbeef-0000-4000-8000-000000000000

rm -rf stage && mkdir stage
tar --xattrs --xattrs-include='*' --numeric-owner -xzf "$TARBALL" -C stage
H=stage/sample-host
[ -d "$H/var/lib/docker" ] || { echo "sample host has no var/lib/docker" >&2; exit 1; }

# ------------------------------------------------------------------ split into a root tree and a /var tree
mkdir -p stage/root stage/var
cp -a "$H/." stage/root/
rm -rf stage/root/var && mkdir stage/root/var                 # the mount point stays, empty
cp -a "$H/var/." stage/var/
mkdir -p stage/root/usr/bin stage/root/srv stage/root/tmp
ln -s usr/bin stage/root/bin
ln -s /var/log stage/root/srv/logs                           # absolute link onto the other file system
ln -s ../../etc/hostname stage/var/lib/up-hostname           # `..` out of the /var mount root

fstab_gpt() {
  cat <<EOF
# /etc/fstab: static file system information.
# <file system>                                  <mount point> <type> <options>          <dump> <pass>
UUID=$ROOT_UUID  /             ext4   errors=remount-ro  0 1
UUID=$VAR_UUID   /var          ext4   defaults,nodev     0 2
/dev/disk/by-partuuid/$P3_GUID none swap sw 0 0
tmpfs            /tmp          tmpfs  defaults           0 0
proc             /proc         proc   defaults           0 0
EOF
}
fstab_mbr() {
  cat <<EOF
/dev/sda1   /          ext4  defaults  0 1
/dev/sda5   /var       ext4  defaults  0 2
UUID=$UNKNOWN_UUID  /srv/data  ext4  defaults,nofail  0 2
LABEL=backup  /backup  xfs  defaults,nofail  0 2
EOF
}

mkfs() { # out uuid label tree size
  rm -f "$1"
  mkfs.ext4 -q -F -U "$2" -L "$3" -E root_owner=0:0 -O 64bit,metadata_csum,flex_bg -d "$4" "$1" "$5" >/dev/null 2>&1
}

# ------------------------------------------------------------------ gpt-var.img
fstab_gpt > stage/root/etc/fstab
mkfs root-gpt.fs $ROOT_UUID rootfs stage/root 16M
mkfs var.fs $VAR_UUID var stage/var 32M
rm -f gpt-var.img; truncate -s 64M gpt-var.img
sfdisk -q gpt-var.img <<EOF
label: gpt
first-lba: 2048
start=2048, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$P1_GUID, name="root"
start=34816, size=65536, type=4D21B016-B534-45C2-A9FB-5C16E091FD2D, uuid=$P2_GUID, name="var"
start=100352, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=$P3_GUID, name="swap"
EOF
dd if=root-gpt.fs of=gpt-var.img bs=512 seek=2048 conv=notrunc,sparse status=none
dd if=var.fs of=gpt-var.img bs=512 seek=34816 conv=notrunc,sparse status=none

# ------------------------------------------------------------------ mbr-unknown.img (same /var file system)
fstab_mbr > stage/root/etc/fstab
mkfs root-mbr.fs $ROOT_UUID rootfs stage/root 16M
rm -f mbr-unknown.img; truncate -s 64M mbr-unknown.img
sfdisk -q mbr-unknown.img <<EOF
label: dos
label-id: 0x1234abcd
start=2048, size=32768, type=83
start=34816, type=5
start=36864, size=65536, type=83
EOF
dd if=root-mbr.fs of=mbr-unknown.img bs=512 seek=2048 conv=notrunc,sparse status=none
dd if=var.fs of=mbr-unknown.img bs=512 seek=36864 conv=notrunc,sparse status=none

# ------------------------------------------------------------------ bare.img and var-only.img
mkfs bare.img $BARE_UUID host "$H" 32M
cp --sparse=always var.fs var-only.img

rm -rf stage root-gpt.fs root-mbr.fs var.fs
touch .done
