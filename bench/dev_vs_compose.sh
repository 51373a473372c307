#!/usr/bin/env bash
# Benchmark: the dev environment from nothing (images present) to a healthy
# backend, and a no-op re-converge, with Ansible (inventories/dev) and with
# Debian's docker-compose 1.29 on the equivalent bench/dev-compose.yml, in
# one run. Prints both times and their ratio. Owns the reelle-dev-* and
# reelle-bench names: refuses to run when a dev environment exists.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_CONFIG=$PWD/ansible.cfg
COMPOSE=(docker-compose -p reellebench -f bench/dev-compose.yml)
command -v docker-compose >/dev/null || { echo "needs docker-compose (apt-get install docker-compose)" >&2; exit 2; }
if [[ -n $(docker ps -aq --filter name=reelle-dev-) ]]; then
  echo "a dev environment is running; run 'make down' first" >&2; exit 1
fi

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.1f}')"; }
wait_healthy() { # poll the backend's health endpoint, bounded to 120 s
  for _ in $(seq 1 1200); do
    curl -fsS -o /dev/null http://127.0.0.1:7777/health 2>/dev/null && return 0
    sleep 0.1
  done
  echo "backend never became healthy" >&2; return 1
}
converge() { ansible-playbook -i inventories/dev playbooks/site.yml -e dev_image_source=offline >"$LOG" 2>&1; }
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

ansible-playbook -i inventories/dev playbooks/images.yml -e dev_image_source=offline >/dev/null
ansible-playbook -i inventories/dev playbooks/teardown.yml -e dev_purge_data=true >/dev/null

t0=$(now); converge; wait_healthy; t1=$(now)
a_scratch=$(elapsed "$t0" "$t1")
t0=$(now); converge; wait_healthy; t1=$(now)
a_noop=$(elapsed "$t0" "$t1")
a_changed=$(grep -Eo 'changed=[0-9]+' "$LOG" | head -1)
ansible-playbook -i inventories/dev playbooks/teardown.yml -e dev_purge_data=true >/dev/null

latest() { docker image ls --format '{{.Repository}}:{{.Tag}}' "$1" | head -1; }
export PG_IMAGE=$(latest 'reelle-offline/postgres') REDIS_IMAGE=$(latest 'reelle-offline/redis')
export NODE_IMAGE=$(latest 'reelle-offline/node') BACKEND_SOURCE=$PWD/tests/fixtures/sample_backend
export PG_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
"${COMPOSE[@]}" down -v >/dev/null 2>&1 || true
t0=$(now); "${COMPOSE[@]}" up -d >/dev/null 2>&1; wait_healthy; t1=$(now)
c_scratch=$(elapsed "$t0" "$t1")
t0=$(now); "${COMPOSE[@]}" up -d >/dev/null 2>&1; wait_healthy; t1=$(now)
c_noop=$(elapsed "$t0" "$t1")
"${COMPOSE[@]}" down -v >/dev/null 2>&1

printf '%-34s %8s %8s %7s\n' "dev environment (same run)" ansible compose ratio
printf '%-34s %7ss %7ss %7s\n' "from nothing to healthy backend" "$a_scratch" "$c_scratch" "$(python3 -c "print(f'{$a_scratch/$c_scratch:.2f}')")"
printf '%-34s %7ss %7ss %7s\n' "no-op re-converge" "$a_noop" "$c_noop" "$(python3 -c "print(f'{$a_noop/$c_noop:.2f}')")"
echo "# ansible no-op recap: $a_changed"
