#!/usr/bin/env bash
# Run every molecule scenario (one per role): converge, idempotence, verify.
# Docker scenarios use the offline images (`make images`); AWS scenarios
# (molecule/aws_*) share one local emulator started here and wiped by each
# scenario's destroy step.
#   scripts/molecule_all.sh [SCENARIO...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_CONFIG=$PWD/ansible.cfg

if (($#)); then scenarios=("$@"); else
  mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -rn1 basename | sort)
fi

emulator_pid=
cleanup() { [[ -n $emulator_pid ]] && kill "$emulator_pid" 2>/dev/null || true; }
trap cleanup EXIT
start_emulator() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # The same emulator as the e2e tests and `make up` (tests/support/recording_emulator.py): moto with the
  # calls it lacks (Aurora global failover/switchover) and Route53's DNS answers.
  .venv/bin/python -m tests.support.recording_emulator --host 127.0.0.1 --port "$port" --log /dev/null \
    >.cache/molecule-emulator.log 2>&1 &
  emulator_pid=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true REELLE_AWS_TARGET=emulator
}
mkdir -p .cache

declare -a results
failed=0
for scenario in "${scenarios[@]}"; do
  if [[ $scenario == aws_* && -z $emulator_pid ]]; then start_emulator; fi
  start=$SECONDS
  if molecule test -s "$scenario"; then status=passed; else status=failed; failed=$((failed + 1)); fi
  results+=("$(printf '%-22s %-6s %4ss' "$scenario" "$status" $((SECONDS - start)))")
done

printf '\nmolecule scenarios:\n'
printf '  %s\n' "${results[@]}"
passed=$((${#scenarios[@]} - failed))
echo "molecule: ${passed} passed, ${failed} failed"
((failed == 0))
