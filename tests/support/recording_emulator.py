# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""moto server whose WSGI app records every request it serves, by operation.

Run as a process: ``python -m tests.support.recording_emulator --port N --log FILE [--profile JSON_OR_FILE]``
(or the profile as JSON in ``REELLE_EMULATOR_PROFILE``). Each request appends one
JSON line to FILE before the client gets its answer:
``{"service", "operation", "method", "path", "mutating", "region"}``, plus
``"fault"`` (throttle, error, consistency, iam_propagation, validation, outage)
when the hostile profile (tests/support/faults.py) answered it instead of moto.

The operation is classified on the emulator's side from the request alone:
the ``X-Amz-Target`` header (JSON protocols: ``...ECS.UpdateService``), the
``Action`` field of the query string or form body (query protocols), or, for
REST protocols, the method and path matched against botocore's service model
(``POST /Groups`` is X-Ray's GetGroups). An operation is a read when its name
starts with Describe, List, Get, Head, ...; a REST request that matches no
operation is a read only when its method is GET or HEAD; an RPC v2 CBOR
request names its operation in the path (``/service/S/operation/Op``). Requests
to moto's own API (``/moto-api``, the test's reset) and to the profile
(``/reelle-api/profile``) are logged as ``control``.

The WSGI stack is Recorder -> FaultMiddleware (faults.py) -> LifecycleMiddleware
(lifecycle.py, when it exists) -> global_db.middleware -> moto, whose RDS then answers
FailoverGlobalCluster and SwitchoverGlobalCluster (global_db.py). With ``--dns-port N`` (0: off) the process also
serves Route 53's data plane (route53_dns.py): a DNS server on 127.0.0.1:N (UDP) answering
from moto's hosted zones, its health checks evaluated against the profile's outage.

`RecordingEmulator` starts that process on a free port for a test.
"""

import argparse
import functools
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs

from tests.support import FAKE_CREDENTIALS, wait_for_port
from tests.support.faults import CONTROL_PATH, FaultMiddleware, drop_connection, region_of

READ_PREFIXES = ("Describe", "List", "Get", "Head", "BatchGet", "Search", "Lookup", "Scan", "Query")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/([^/]+)$")
CONTROL_PREFIXES = ("/moto-api", "/reelle-api")
ROOT = Path(__file__).resolve().parents[2]


def is_read(operation):
    return operation.startswith(READ_PREFIXES)


@functools.cache
def _rest_operations(service):
    """[(method, path regex, required query keys, literal length, operation)] of a REST service."""
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:  # noqa: BLE001 - an unknown service leaves the method to decide
        return []
    operations = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri, _, query = http.get("requestUri", "/").partition("?")
        pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(uri))
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        keys = {item.split("=", 1)[0] for item in query.split("&") if item}
        operations.append((http.get("method", "POST"), re.compile(f"^{pattern}/?$"), keys, len(uri), name))
    return operations


def rest_operation(service, method, path, query_keys):
    """The operation a REST request calls (None when no operation of the model matches)."""
    matches = [
        (len(keys), literal, name)
        for verb, pattern, keys, literal, name in _rest_operations(service)
        if verb == method and pattern.match(path) and keys <= query_keys
    ]
    return max(matches)[2] if matches else None


def classify(environ, body):
    """(service, operation, mutating) of one WSGI request."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else ""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        operation = target.rsplit(".", 1)[-1]
        return service, operation, not is_read(operation)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        query.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    if "Action" in query:
        operation = query["Action"][0]
        return service, operation, not is_read(operation)
    rpc = RPC_V2_PATH.match(path) if environ.get("HTTP_SMITHY_PROTOCOL") else None
    if rpc:
        return service, rpc.group(1), not is_read(rpc.group(1))
    operation = rest_operation(service, method, path, set(query)) if service else None
    if operation:
        return service, operation, not is_read(operation)
    return service, f"{method} {path}", method not in READ_METHODS


class Recorder:
    """WSGI middleware: let the app below answer the request, and log the request's operation."""

    def __init__(self, app, log_path):
        self.app = app
        self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the server
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = environ.get("PATH_INFO", "/")
        if path.startswith(CONTROL_PREFIXES):
            service = path.strip("/").split("/")[0]
            entry = {"service": service, "operation": path, "method": environ.get("REQUEST_METHOD"), "control": True}
        else:
            service, operation, mutating = classify(environ, body)
            entry = {
                "service": service,
                "operation": operation,
                "method": environ.get("REQUEST_METHOD"),
                "path": path,
                "mutating": mutating,
                "region": region_of(environ),
            }
        try:
            return self.app(environ, start_response)
        finally:  # moto (or the fault) has answered; the client reads the answer after this line is written
            if environ.get("reelle.fault"):
                entry["fault"] = environ["reelle.fault"]
            with self.lock:
                self.log.write(json.dumps(entry) + "\n")
                self.log.flush()


def _lifecycle_middleware():
    """tests/support/lifecycle.py's LifecycleMiddleware, or None while it does not exist."""
    try:
        from tests.support.lifecycle import LifecycleMiddleware
    except ImportError:
        return None
    return LifecycleMiddleware


def build_app(backend, log_path, profile=None):
    """Recorder -> FaultMiddleware -> LifecycleMiddleware (when present) -> backend."""
    faults = FaultMiddleware(None, profile)
    lifecycle = _lifecycle_middleware()
    faults.app = lifecycle(backend, faults.get_profile) if lifecycle else backend
    return Recorder(faults, log_path)


def load_profile(value):
    """A profile from JSON text or a JSON file ({} for none)."""
    if not value:
        return {}
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    profile = json.loads(text)
    if not isinstance(profile, dict):
        raise ValueError("a profile is a JSON object")
    return profile


def serve(host, port, log_path, profile=None, dns_port=0):
    os.environ.setdefault("MOTO_PORT", str(port))
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    # ACM issues a DNS-validated certificate once its validation record is in the zone: on AWS minutes after the
    # record is written, in moto a fixed wait after the request (60 s by default). Two seconds keep the
    # PENDING_VALIDATION -> ISSUED step visible to the waiters without a minute per certificate in every test.
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "2")
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from tests.support import global_db

    class Handler(MotoRequestHandler):
        def connection_dropped(self, error, environ=None):
            drop_connection(self, error)  # a region outage: close without an answer

    app = build_app(global_db.middleware(DomainDispatcherApplication(create_backend_app)), log_path, profile)
    if dns_port:  # before the HTTP port opens: whoever waits for that port finds the DNS server up
        from tests.support import route53_dns

        route53_dns.start(app.app.get_profile, host, dns_port)
    make_server(host, port, app, threaded=True, request_handler=Handler).serve_forever()


def _free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingEmulator:
    """The recording server in a process of its own, on a free port; `profile` is its hostile profile (faults.py).

    Requests are logged to `directory`/requests.jsonl (`request_log`: another file, e.g. os.devnull), the
    process's output to `directory`/server.log (`output`: another file), `environ` added to its environment
    (MOTO_IAM_LOAD_MANAGED_POLICIES is true unless set otherwise). With `dns` (the default) it serves
    Route 53's DNS on a free UDP port too; `env` names it in REELLE_DNS_RESOLVER.
    """

    def __init__(self, directory, profile=None, dns=True, request_log=None, output=None, environ=None):
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.dns_port = _free_port(socket.SOCK_DGRAM) if dns else 0
        self.log_path = Path(request_log or Path(directory) / "requests.jsonl")
        if not self.log_path.exists():
            self.log_path.touch()
        self.output = open(output or Path(directory) / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.recording_emulator", "--port", str(self.port)]
            + ["--log", str(self.log_path), "--dns-port", str(self.dns_port)]
            + (["--profile", json.dumps(profile)] if profile else []),
            cwd=ROOT,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, **(environ or {})),
        )
        if wait_for_port(self.process, self.port, 30):
            return
        self.stop()
        raise RuntimeError(f"recording emulator did not start; see {self.output.name}")

    @property
    def dns_resolver(self):
        """host:port of the emulator's DNS server (None without one)."""
        return f"127.0.0.1:{self.dns_port}" if self.dns_port else None

    @property
    def env(self):
        env = dict(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=self.endpoint)
        if self.dns_port:
            env["REELLE_DNS_RESOLVER"] = self.dns_resolver
        return env

    def reset(self):
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=120).close()

    def set_profile(self, profile):
        """Replace the hostile profile (its random sequence, counts and lag bookkeeping start over)."""
        return self._profile_api("POST", json.dumps(profile).encode())

    def patch_profile(self, changes):
        """Merge keys into the profile (None removes one), e.g. {"outage_regions": ["us-east-1"]}; the rest goes on."""
        return self._profile_api("PATCH", json.dumps(changes).encode())

    def profile_counts(self):
        """{kind: faults answered} since the profile was set."""
        return self._profile_api("GET")["counts"]

    def profile(self):
        return self._profile_api("GET")["profile"]

    def _profile_api(self, method, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = urllib.request.Request(f"{self.endpoint}{CONTROL_PATH}", data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def requests(self):
        """Every request logged so far (control requests excluded)."""
        with open(self.log_path, encoding="utf-8") as log:
            entries = [json.loads(line) for line in log if line.strip()]
        return [entry for entry in entries if not entry.get("control")]

    def mark(self):
        """A position in the log: requests(since=mark) are the ones served after it."""
        return len(self.requests())

    def since(self, mark):
        return self.requests()[mark:]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.output.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--profile", default=os.environ.get("REELLE_EMULATOR_PROFILE", ""), help="JSON or a JSON file")
    parser.add_argument("--dns-port", type=int, default=0, help="UDP port of Route 53's DNS server (0: none)")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.log, load_profile(args.profile), args.dns_port)


if __name__ == "__main__":
    main()
