#!/usr/bin/env bash
# A moto_server stand-in: the recording emulator (tests/support) with the fault
# profile in EMULATOR_PROFILE (JSON), so the Terraform peer's run.sh meets the
# same hostile AWS as our converge (MOTO_SERVER=bench/profiled_emulator.sh).
# Takes moto_server's arguments: -H HOST -p PORT. Logs one werkzeug line per
# request on stderr, as moto_server does.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
host=127.0.0.1 port=5000
while [[ $# -gt 0 ]]; do
  case $1 in
    -H) host=$2; shift 2 ;;
    -p) port=$2; shift 2 ;;
    *) shift ;;
  esac
done
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m tests.support.recording_emulator --host "$host" --port "$port" \
  --log "${EMULATOR_REQUEST_LOG:-/dev/null}" --profile "${EMULATOR_PROFILE:-{\}}"
