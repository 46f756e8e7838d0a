#!/usr/bin/env bash
# Builds the virtual-disk fixtures of test/io/{qcow2,vmdk,vhd,vhdx}.test.ts into $1 (a temp dir), all from one small
# raw disk (GPT + ext4 with a few files, random data and holes). Needs qemu-utils (qemu-img, qemu-io), e2fsprogs,
# util-linux sfdisk. Nothing binary is committed (STYLE.md habit 6). Idempotent: an existing $1/.done skips.
# Every image gets an oracle: `qemu-img convert -O raw` of it, written as NAME.oracle.raw.
set -euo pipefail
OUT=${1:?usage: virtual-disks.sh OUTDIR}
mkdir -p "$OUT"
[ -f "$OUT/.done" ] && exit 0
cd "$OUT"
export TZ=UTC E2FSPROGS_FAKE_TIME=1700000000
q() { "$@" >/dev/null 2>&1; }

# ------------------------------------------------------------------ the raw disk (24 MiB)
S=src; rm -rf "$S"; mkdir -p "$S/etc" "$S/var/lib/docker/containers/abc" "$S/data"
printf 'vdisk-host\n' > "$S/etc/hostname"
printf '{"log":"hello\\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z"}\n' > "$S/var/lib/docker/containers/abc/abc-json.log"
# deterministic pseudo-random data (seeded) so the images are the same on every run
python3 -c 'import random,sys; r=random.Random(4); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(3*1024*1024)))' > "$S/data/random.bin"
head -c 2097152 /dev/zero | tr '\0' 'A' > "$S/data/compressible.txt"
rm -f part.img; truncate -s 20M part.img
mkfs.ext4 -q -F -U 7e57d15c-0000-4000-8000-0123456789ab -E root_owner=0:0,lazy_itable_init=0 -d "$S" part.img >/dev/null
rm -f base.raw; truncate -s 24M base.raw
sfdisk -q base.raw <<'SF'
label: gpt
label-id: 11111111-2222-4333-8444-555555555555
first-lba: 34
start=2048, size=40960, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=66666666-7777-4888-9999-aaaaaaaaaaaa, name="root"
SF
dd if=part.img of=base.raw bs=512 seek=2048 conv=notrunc,sparse status=none
# a pattern near the end, past the partition: exercises the last cluster/grain/block
printf 'LAST-SECTOR-MARK' | dd of=base.raw bs=1 seek=$((24*1024*1024 - 4096 - 16)) conv=notrunc status=none
rm -rf "$S" part.img

conv() { # fmt out [opts...]
  local fmt=$1 out=$2; shift 2
  qemu-img convert -f raw -O "$fmt" "$@" base.raw "$out"
}
conv qcow2 v3.qcow2
conv qcow2 v2.qcow2 -o compat=0.10
conv qcow2 comp.qcow2 -c
conv qcow2 comp-v2.qcow2 -c -o compat=0.10
conv qcow2 small.qcow2 -o cluster_size=4096
conv qcow2 big.qcow2 -o cluster_size=2M
conv qcow2 extl2.qcow2 -o extended_l2=on,cluster_size=128k
# overlay on a qcow2 backing file (relative name), with writes, zero-writes and a discard
qemu-img create -q -f qcow2 -b v3.qcow2 -F qcow2 overlay.qcow2
q qemu-io -c 'write -P 0xab 1M 64k' -c 'write -z 3M 128k' -c 'write -P 0x5a 23M 512' overlay.qcow2
# overlay on a raw backing file named by an absolute path (only its base name is looked for beside the image)
qemu-img create -q -f qcow2 -b "$PWD/base.raw" -F raw overlay-abs.qcow2
q qemu-io -c 'write -P 0x11 5M 4k' overlay-abs.qcow2
# an extended-L2 overlay: subcluster writes over a backing file
qemu-img create -q -f qcow2 -o extended_l2=on -b v3.qcow2 -F qcow2 overlay-extl2.qcow2
q qemu-io -c 'write -P 0x77 4M 2k' -c 'write -z 6M 4k' overlay-extl2.qcow2

conv vmdk sparse.vmdk
conv vmdk stream.vmdk -o subformat=streamOptimized
conv vmdk zeroed.vmdk -o zeroed_grain=on
q qemu-io -f vmdk -c 'write -z 2M 64k' zeroed.vmdk
# a delta disk over sparse.vmdk (parentFileNameHint), with writes
qemu-img create -q -f vmdk -b sparse.vmdk -F vmdk delta.vmdk
q qemu-io -f vmdk -c 'write -P 0xcd 2M 64k' -c 'write -P 0x3c 7M 1k' delta.vmdk
mkdir -p twogb-sparse twogb-flat mono-flat
conv vmdk twogb-sparse/disk.vmdk -o subformat=twoGbMaxExtentSparse
conv vmdk twogb-flat/disk.vmdk -o subformat=twoGbMaxExtentFlat
conv vmdk mono-flat/disk.vmdk -o subformat=monolithicFlat

conv vpc dynamic.vhd
conv vpc fixed.vhd -o subformat=fixed
conv vpc exact.vhd -o force_size=on
conv vhdx dynamic.vhdx
conv vhdx fixed.vhdx -o subformat=fixed
conv vhdx dynamic-8m.vhdx -o block_size=8M

for f in *.qcow2 *.vmdk *.vhd *.vhdx twogb-sparse/disk.vmdk twogb-flat/disk.vmdk mono-flat/disk.vmdk; do
  case $f in *.qcow2) fmt=qcow2 ;; *.vmdk) fmt=vmdk ;; *.vhd) fmt=vpc ;; *.vhdx) fmt=vhdx ;; esac
  qemu-img convert -f $fmt -O raw "$f" "${f//\//_}.oracle.raw"   # -f: qemu does not probe fixed VHDs
done
sha256sum base.raw > base.raw.sha256
touch .done
