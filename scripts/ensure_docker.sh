#!/usr/bin/env bash
# Start a Docker engine when none answers (machines without systemd: Debian's
# policy-rc.d keeps the package from starting it). Bounded: never hangs.
set -euo pipefail
docker info >/dev/null 2>&1 && { echo "docker engine already running"; exit 0; }
if [[ -d /run/systemd/system ]]; then
  systemctl start docker
else
  setsid dockerd --host unix:///var/run/docker.sock >/var/log/dockerd.log 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "docker engine started"; exit 0; }
  sleep 1
done
echo "docker engine did not start within 60 s; see /var/log/dockerd.log" >&2
exit 1
