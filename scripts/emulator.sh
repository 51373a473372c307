#!/usr/bin/env bash
# Local AWS API emulator for staging/prod on machines without AWS: the recording
# emulator (tests/support/recording_emulator.py: moto server, a hostile profile
# that starts empty, Aurora global failover/switchover) and Route 53's DNS server.
#   scripts/emulator.sh start [PORT]   start it (default port 5000) unless running
#   scripts/emulator.sh stop           stop it
#   scripts/emulator.sh reset          wipe its state
#   scripts/emulator.sh env            print the variables a shell needs to use it
# State: .cache/emulator.{pid,port,dns_port,log}. The playbooks see AWS_ENDPOINT_URL
# and the explicit REELLE_AWS_TARGET=emulator (calls the emulator lacks are skipped
# and listed); emulator mode is never inferred from the endpoint. REELLE_DNS_RESOLVER
# (127.0.0.1:PORT, UDP) is the DNS server answering from the emulator's hosted zones.
# The profile changes at run time: curl -X PATCH -d '{"outage_regions": ["us-east-1"]}'
# "$AWS_ENDPOINT_URL/reelle-api/profile" (POST replaces it; GET shows it).
# EMULATOR_DNS_PORT picks the DNS port (default: a free one); EMULATOR_REQUEST_LOG
# records every request as a JSON line (default /dev/null).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=.cache
mkdir -p "$CACHE"
PIDFILE=$CACHE/emulator.pid PORTFILE=$CACHE/emulator.port DNSFILE=$CACHE/emulator.dns_port LOG=$CACHE/emulator.log
PYTHON=${EMULATOR_PYTHON:-.venv/bin/python}

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
endpoint() { echo "http://127.0.0.1:$(cat "$PORTFILE")"; }
free_udp_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case ${1:-} in
  start)
    if running; then echo "emulator already running at $(endpoint)"; exit 0; fi
    port=${2:-${EMULATOR_PORT:-5000}}
    if port_open "$port"; then echo "port $port is in use; set EMULATOR_PORT" >&2; exit 1; fi
    dns_port=${EMULATOR_DNS_PORT:-$(free_udp_port)}
    MOTO_IAM_LOAD_MANAGED_POLICIES=true setsid "$PYTHON" -m tests.support.recording_emulator \
      --port "$port" --dns-port "$dns_port" --log "${EMULATOR_REQUEST_LOG:-/dev/null}" >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    echo "$port" >"$PORTFILE"
    echo "$dns_port" >"$DNSFILE"
    for _ in $(seq 1 100); do
      port_open "$port" && { echo "emulator running at $(endpoint), DNS at 127.0.0.1:$dns_port (log: $LOG)"; exit 0; }
      running || break
      sleep 0.1
    done
    echo "emulator did not start; see $LOG" >&2
    exit 1
    ;;
  stop)
    if running; then kill "$(cat "$PIDFILE")"; echo "emulator stopped"; else echo "emulator not running"; fi
    rm -f "$PIDFILE" "$DNSFILE"
    ;;
  reset)
    running || { echo "emulator not running" >&2; exit 1; }
    curl -fsS -X POST "$(endpoint)/moto-api/reset" >/dev/null && echo "emulator state wiped"
    ;;
  env)
    running || { echo "emulator not running" >&2; exit 1; }
    printf 'export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=testing\nexport AWS_SECRET_ACCESS_KEY=testing\n' "$(endpoint)"
    printf 'export AWS_EC2_METADATA_DISABLED=true\nexport AWS_DEFAULT_REGION=us-east-1\nexport REELLE_AWS_TARGET=emulator\n'
    printf 'export REELLE_DNS_RESOLVER=127.0.0.1:%s\n' "$(cat "$DNSFILE")"
    ;;
  *)
    echo "usage: $0 start [PORT]|stop|reset|env" >&2
    exit 2
    ;;
esac
