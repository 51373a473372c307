#!/usr/bin/env bash
# Local AWS API emulator (moto server) for staging/prod on machines without AWS.
#   scripts/emulator.sh start [PORT]   start it (default port 5000) unless running
#   scripts/emulator.sh stop           stop it
#   scripts/emulator.sh reset          wipe its state
#   scripts/emulator.sh env            print the variables a shell needs to use it
# State: .cache/emulator.{pid,port,log}. The playbooks see AWS_ENDPOINT_URL and
# the explicit REELLE_AWS_TARGET=emulator (calls the emulator lacks are skipped
# and listed); emulator mode is never inferred from the endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=.cache
mkdir -p "$CACHE"
PIDFILE=$CACHE/emulator.pid PORTFILE=$CACHE/emulator.port LOG=$CACHE/emulator.log
MOTO=${MOTO_SERVER:-.venv/bin/moto_server}

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
endpoint() { echo "http://127.0.0.1:$(cat "$PORTFILE")"; }

case ${1:-} in
  start)
    if running; then echo "emulator already running at $(endpoint)"; exit 0; fi
    port=${2:-${EMULATOR_PORT:-5000}}
    if port_open "$port"; then echo "port $port is in use; set EMULATOR_PORT" >&2; exit 1; fi
    MOTO_IAM_LOAD_MANAGED_POLICIES=true setsid "$MOTO" -H 127.0.0.1 -p "$port" >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    echo "$port" >"$PORTFILE"
    for _ in $(seq 1 100); do
      port_open "$port" && { echo "emulator running at $(endpoint) (log: $LOG)"; exit 0; }
      running || break
      sleep 0.1
    done
    echo "emulator did not start; see $LOG" >&2
    exit 1
    ;;
  stop)
    if running; then kill "$(cat "$PIDFILE")"; echo "emulator stopped"; else echo "emulator not running"; fi
    rm -f "$PIDFILE"
    ;;
  reset)
    running || { echo "emulator not running" >&2; exit 1; }
    curl -fsS -X POST "$(endpoint)/moto-api/reset" >/dev/null && echo "emulator state wiped"
    ;;
  env)
    running || { echo "emulator not running" >&2; exit 1; }
    printf 'export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=testing\nexport AWS_SECRET_ACCESS_KEY=testing\n' "$(endpoint)"
    printf 'export AWS_EC2_METADATA_DISABLED=true\nexport AWS_DEFAULT_REGION=us-east-1\nexport REELLE_AWS_TARGET=emulator\n'
    ;;
  *)
    echo "usage: $0 start [PORT]|stop|reset|env" >&2
    exit 2
    ;;
esac
