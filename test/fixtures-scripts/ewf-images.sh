#!/usr/bin/env bash
# Builds the EWF (E01) test images of test/io/ewf*.test.ts into $1 (a temp dir), all from one raw disk that holds a GPT
# and an ext4 file system (random and text files, so chunks compress well, badly and not at all).
# Needs ewf-tools (ewfacquire, ewfexport, ewfverify: apt-get install ewf-tools), e2fsprogs >= 1.47 (mkfs -d),
# util-linux sfdisk, python3. Nothing binary is committed (STYLE.md habit 6). Idempotent: an existing $1/.done skips.
set -euo pipefail
OUT=${1:?usage: ewf-images.sh OUTDIR}
mkdir -p "$OUT"
[ -f "$OUT/.done" ] && exit 0
cd "$OUT"
export TZ=UTC E2FSPROGS_FAKE_TIME=1700000000
UUID=5e1a2b3c-0000-4000-8000-0123456789ab

# ------------------------------------------------------------------ the raw disk: GPT + ext4, 12 MiB + 7 sectors
# (7 extra sectors: the last 32 KiB chunk is short, which every reader must handle)
S=src; rm -rf "$S"; mkdir -p "$S/data" "$S/text"
python3 - "$S" <<'PY'
import random, sys, os
random.seed(4)
root = sys.argv[1]
open(os.path.join(root, 'data', 'random.bin'), 'wb').write(random.randbytes(2 * 1024 * 1024))
with open(os.path.join(root, 'text', 'lines.txt'), 'w') as f:
    for i in range(50000):
        f.write(f'{i:08d} container log line {random.randint(0, 10**9)}\n')
open(os.path.join(root, 'data', 'pattern.bin'), 'wb').write(bytes(range(256)) * 4096)
PY
printf 'hello from an E01\n' > "$S/hello.txt"
rm -f fs.img
mkfs.ext4 -q -F -U $UUID -E root_owner=0:0 -d "$S" fs.img 10M >/dev/null 2>&1
rm -f disk.raw; truncate -s $((12 * 1024 * 1024 + 7 * 512)) disk.raw
sfdisk -q disk.raw <<'SF' >/dev/null 2>&1
label: gpt
label-id: 11111111-2222-4333-8444-555555555555
first-lba: 2048
start=2048, size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=66666666-7777-4888-9999-aaaaaaaaaaaa, name="linux-root"
SF
dd if=fs.img of=disk.raw bs=512 seek=2048 conv=notrunc status=none
rm -rf "$S" fs.img

# ------------------------------------------------------------------ E01 variants (ewfacquire -u: unattended)
acq() { # target format compression extra...
  local t=$1 f=$2 c=$3; shift 3
  ewfacquire -u -q -t "$OUT/$t" -f "$f" -c "$c" -C CASE-42 -E EV-7 -e 'A. Examiner' -D 'flotsam test disk' \
    -N 'notes with spaces' "$@" disk.raw >/dev/null
}
acq best encase6 deflate:best -d sha1                 # one segment, deflate best, MD5 + SHA-1 (digest section)
acq fast encase5 deflate:fast                         # EnCase 5: hash section only (MD5)
acq none encase6 none -d sha1                         # stored chunks (Adler-32 after each)
acq empty encase6 empty-block -d sha1                 # only all-zero chunks compressed
acq multi encase6 deflate:fast -d sha1 -S 1MiB        # several segments .E01 .E02 ...
acq big encase6 deflate:best -d sha1 -b 128 -S 2MiB   # 64 KiB chunks, several segments
acq smart ewf deflate:fast                            # original EWF: .e01, chunks inside the table section
acq ftk ftk deflate:fast
acq linen linen6 deflate:best -d sha1

# ------------------------------------------------------------------ oracles
ewfexport -u -q -f raw -t "$OUT/export-best" best.E01 >/dev/null
for i in best fast none multi big; do ewfverify -q -d sha1 "$i.E01" > "verify-$i.txt" 2>&1 || true; done
touch .done
