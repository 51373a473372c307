#!/usr/bin/env bash
# Benchmark: an AWS environment (staging or prod) converged by Ansible into a
# fresh local emulator, from scratch and as a no-op re-converge, with the number
# of requests the emulator served in each phase; then the Terraform peer
# (../shared/bench/terraform/run.sh ENV, same moto) in the same run. Prints both
# and the ratios.
#   bench/aws_vs_terraform.sh staging|prod
# With EMULATOR_PROFILE (JSON, e.g. bench/hostile.json) both sides meet the
# same hostile emulator (tests/support/faults.py, lifecycle.py): throttling,
# 5xx, eventual consistency, slow lifecycles; REELLE_AWS_TIME_SCALE scales our
# waits and backoffs as it does in the tests (Terraform's are its own).
set -euo pipefail
ENV_NAME=${1:?usage: aws_vs_terraform.sh staging|prod}
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg
PEER=${TERRAFORM_PEER:-$ROOT/../shared/bench/terraform}
TMP=$(mktemp -d -t awsbench.XXXXXX)
MOTO_PID=
cleanup() { [[ -n $MOTO_PID ]] && kill "$MOTO_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [[ -n ${EMULATOR_PROFILE:-} ]]; then
  export EMULATOR_PROFILE
  [[ -f $EMULATOR_PROFILE ]] && EMULATOR_PROFILE=$(cat "$EMULATOR_PROFILE")
  export TERRAFORM_MOTO_SERVER=$ROOT/bench/profiled_emulator.sh
  MOTO_IAM_LOAD_MANAGED_POLICIES=true bench/profiled_emulator.sh -H 127.0.0.1 -p "$port" >"$TMP/moto.log" 2>&1 &
else
  MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" >"$TMP/moto.log" 2>&1 &
fi
MOTO_PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true REELLE_AWS_TARGET=emulator

requests() { grep -c '" [0-9][0-9][0-9] ' "$TMP/moto.log" || true; }
phase() { # name -> prints "seconds requests changed"
  local before after t0 t1
  before=$(requests); t0=$(date +%s.%N)
  ansible-playbook -i "inventories/$ENV_NAME" playbooks/site.yml >"$TMP/$1.log" 2>&1 || { tail -40 "$TMP/$1.log" >&2; exit 1; }
  t1=$(date +%s.%N); after=$(requests)
  python3 -c "print(f'{$t1 - $t0:.1f}', $after - $before, end=' ')"
  grep -Eo 'changed=[0-9]+' "$TMP/$1.log" | awk -F= '{s+=$2} END {print s}'
}
read -r a_scratch_s a_scratch_r a_scratch_c < <(phase from_scratch)
read -r a_noop_s a_noop_r a_noop_c < <(phase noop)
kill "$MOTO_PID"; MOTO_PID=

tf_rc=0
tf_out=$(MOTO_SERVER=${TERRAFORM_MOTO_SERVER:-$ROOT/.venv/bin/moto_server} "$PEER/run.sh" "$ENV_NAME" 2>"$TMP/tf.err") || tf_rc=$?
if ((tf_rc)); then
  echo "terraform peer failed (exit $tf_rc):"; sed 's/^/#   /' "$TMP/tf.err" | head -30
  printf '%-40s %10s %10s\n' "$ENV_NAME (one run, same emulator)" seconds requests
  printf '%-40s %10s %10s\n' "ansible converge from scratch" "$a_scratch_s" "$a_scratch_r"
  printf '%-40s %10s %10s\n' "ansible no-op converge (changed=$a_noop_c)" "$a_noop_s" "$a_noop_r"
  exit 0
fi
tf() { awk -v p="$1" '$2 == p {print $3, $4}' <<<"$tf_out" | tr -d 's'; }
read -r t_scratch_s t_scratch_r < <(tf apply_from_scratch)
read -r t_plan_s t_plan_r < <(tf noop_plan)
read -r t_apply_s t_apply_r < <(tf noop_apply)

ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
printf '%-40s %10s %10s\n' "$ENV_NAME (one run, same moto)" seconds requests
printf '%-40s %10s %10s\n' "ansible converge from scratch" "$a_scratch_s" "$a_scratch_r"
printf '%-40s %10s %10s\n' "ansible no-op converge (changed=$a_noop_c)" "$a_noop_s" "$a_noop_r"
printf '%-40s %10s %10s\n' "terraform apply from scratch" "$t_scratch_s" "$t_scratch_r"
printf '%-40s %10s %10s\n' "terraform no-op plan" "$t_plan_s" "$t_plan_r"
printf '%-40s %10s %10s\n' "terraform no-op apply" "$t_apply_s" "$t_apply_r"
echo "ratio from scratch (ansible/terraform apply): time $(ratio "$a_scratch_s" "$t_scratch_s"), requests $(ratio "$a_scratch_r" "$t_scratch_r")"
echo "ratio no-op (ansible converge/terraform plan): time $(ratio "$a_noop_s" "$t_plan_s"), requests $(ratio "$a_noop_r" "$t_plan_r")"
echo "# terraform output:"; sed 's/^/#   /' <<<"$tf_out"
