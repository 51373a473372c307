#!/usr/bin/env bash
# Plan, drift and validation runs of one environment (the make targets call it).
#   scripts/plan.sh plan ENV [ansible-playbook args]      what a converge would change
#   scripts/plan.sh drift ENV [ansible-playbook args]     the same; exit 2 on drift, 0 when clean
#   scripts/plan.sh validate ENV [ansible-playbook args]  the inventory alone; nothing is touched
# ENV is dev, staging or prod. Plan and drift run in check mode with --diff and
# short output: only changed and failed tasks, then the plan table.
# staging/prod target AWS unless AWS_ENDPOINT_URL is set; EMULATOR=1 uses the
# local emulator started by `make emulator`.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: $0 plan|drift|validate dev|staging|prod [ansible-playbook args]" >&2; exit 64; }
[[ $# -ge 2 ]] || usage
mode=$1 env=$2
shift 2
case $mode in plan | drift | validate) ;; *) usage ;; esac
case $env in dev | staging | prod) ;; *) usage ;; esac
[[ -d inventories/$env ]] || { echo "no inventory at inventories/$env" >&2; exit 64; }
if [[ ${EMULATOR:-0} == 1 && $env != dev ]]; then
  eval "$(scripts/emulator.sh env)"
fi
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$PWD/ansible.cfg}
PLAYBOOK=${ANSIBLE_PLAYBOOK:-.venv/bin/ansible-playbook}
if [[ $mode == validate ]]; then
  exec "$PLAYBOOK" -i "inventories/$env" playbooks/validate.yml "$@"
fi
# The table is what the reader wants: no ok/skipped lines, no per-task timing
# (the callbacks ansible.cfg enables, minus profile_tasks).
enabled=$(sed -n 's/^callbacks_enabled *= *//p' "$ANSIBLE_CONFIG" | tr -d ' ' | tr ',' '\n' | { grep -v profile_tasks || true; } | paste -sd, -)
export ANSIBLE_STDOUT_CALLBACK=plan_quiet ANSIBLE_CALLBACKS_ENABLED=${enabled:-plan}
exec "$PLAYBOOK" -i "inventories/$env" "playbooks/$mode.yml" --check --diff "$@"
