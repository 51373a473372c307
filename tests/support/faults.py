# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hostile AWS profile for the recording emulator: request-side faults, answered as AWS answers them.

`FaultMiddleware` sits between the Recorder and moto (or the lifecycle middleware
in front of moto). A profile is a dict; a missing key is off:

* ``seed`` (int, default 0): one ``random.Random(seed)`` per profile; every
  AWS request draws the same three numbers from it, so the same requests in the
  same order meet the same faults.
* ``throttle_rate`` (0..1): the share of requests answered with the service's
  own throttling error (see `throttle_error`).
* ``error_rate`` (0..1): the share answered 500/503 (`server_error`).
* ``max_streak`` (default 3): one request (same operation, method, path, query
  and body: a client's retries) is never faulted more than this many times in a
  row by throttling, server errors, consistency or IAM propagation; the next
  attempt goes through (and makes the ids it names visible).
* ``consistency_lag`` (K): after a create answers a new id (EC2 VPC, subnet,
  security group, route table, internet gateway, NAT gateway, EIP allocation,
  launch template; S3 bucket), the next K requests to that service that name
  the id answer its NotFound. Ids in ``Filter.N`` values don't count: AWS
  answers those with an empty list, not an error.
* ``iam_propagation_lag`` (K): a role or instance profile just created (or an
  instance profile just given a role) cannot be passed for K requests naming it:
  EC2 RunInstances/AssociateIamInstanceProfile, AutoScaling groups through a
  launch template that names the profile, ECS CreateService/UpdateService
  ``role``, Backup CreateBackupSelection ``IamRoleArn``, RDS ``MonitoringRoleArn``.
* ``validation`` (bool): the rules of tests/support/aws_validation.py.
* ``outage_regions`` (list): every request signed for one of these regions has
  its connection closed without an HTTP answer (botocore: ConnectionClosedError).
  Global services (IAM, Route 53, CloudFront, STS global) sign us-east-1.
* ``lifecycle``, ``server_defaults``: read by tests/support/lifecycle.py.

Control: ``POST /reelle-api/profile`` (JSON body) replaces the profile (a new
random sequence, counts and bookkeeping start over); ``PATCH /reelle-api/profile``
merges the body's keys into the current profile (a key set to null is removed; the
random sequence, counts and bookkeeping go on, a new ``seed`` restarts the sequence):
a drill turns ``outage_regions`` on and off without dropping the rest of a hostile
profile. ``GET /reelle-api/profile`` answers ``{"profile", "counts"}``.
``/moto-api/reset`` also forgets the ids and roles still lagging.
"""

import contextlib
import hashlib
import io
import json
import random
import re
import socket
import threading
import uuid
from html import escape
from urllib.parse import parse_qs, unquote

from tests.support import aws_validation

CONTROL_PATH = "/reelle-api/profile"
FAULT_KINDS = ("throttle", "error", "consistency", "iam_propagation", "validation", "outage")
REGION_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/[^/]+/aws4_request")
QUERY_CREDENTIAL = re.compile(r"^[^/]+/\d{8}/([^/]+)/[^/]+/aws4_request$")
RATE_EXCEEDED = "Rate exceeded"
# Signing names of the services whose one endpoint is in us-east-1 (STS is regional unless signed us-east-1).
GLOBAL_SERVICES = frozenset({"iam", "route53", "cloudfront", "organizations", "shield", "waf"})

# --- the throttling and server errors of each protocol ---------------------------------------
# Every code below is in botocore's ThrottledRetryableChecker._THROTTLED_ERROR_CODES
# (botocore/retries/standard.py), so the standard and legacy retry modes both treat it as a throttle.

JSON_THROTTLE_MESSAGES = {
    "kms": "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.",
}
TOO_MANY_REQUESTS = {"apigateway": "Too Many Requests", "lambda": "Rate exceeded"}  # REST-JSON, 429


class RegionOutage(ConnectionAbortedError):
    """Raised through the WSGI stack for a request to a region that is down."""


def drop_connection(handler, error):
    """werkzeug ``connection_dropped`` hook: after a RegionOutage, close the connection without an answer.

    The client reads end-of-stream where the status line should be (urllib3: RemoteDisconnected, botocore:
    ConnectionClosedError, retried as a transient error) - what an endpoint that went away mid-request does.
    """
    if not isinstance(error, RegionOutage):
        return
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def region_of(environ):
    """The region of the request's credential scope (Authorization header or presigned query), or ""."""
    scope = REGION_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope:
        return scope.group(1)
    credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
    match = QUERY_CREDENTIAL.match(credential)
    return match.group(1) if match else ""


def endpoint_region(service, region):
    """The region whose endpoint answers: a global service's control plane lives in us-east-1.

    botocore signs IAM, Route 53 and CloudFront for us-east-1 on the real endpoints; against a custom
    endpoint (the emulator) it signs them for the client's region, so the region is fixed here.
    """
    return "us-east-1" if service in GLOBAL_SERVICES else region


def _query_compatible(environ):
    return environ.get("HTTP_X_AMZN_QUERY_MODE", "").lower() == "true"


def protocol_of(environ, service):
    """The wire protocol the request speaks: ec2, query, json, cbor, rest-json, rest-xml or s3."""
    if environ.get("HTTP_SMITHY_PROTOCOL", "").lower() == "rpc-v2-cbor":
        return "cbor"
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    if service == "ec2":
        return "ec2"
    if service == "s3":
        return "s3"
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "") or "Action=" in environ.get("QUERY_STRING", ""):
        return "query"
    if service in ("route53", "cloudfront"):
        return "rest-xml"
    return "rest-json"


def throttle_error(protocol, service, mutating, query_compatible=False):
    """(status, code, message) of a throttled request, as the service answers it."""
    if query_compatible:  # a former query service speaking JSON/CBOR keeps its query code (CloudWatch, SQS)
        return 400, "Throttling", RATE_EXCEEDED
    if protocol == "ec2":
        return 503, "RequestLimitExceeded", "Request limit exceeded."
    if protocol == "s3":
        return 503, "SlowDown", "Please reduce your request rate."
    if service == "route53":
        if mutating:
            message = "The request was rejected because Route 53 was still processing a prior request."
            return 400, "PriorRequestNotComplete", message
        return 400, "Throttling", RATE_EXCEEDED
    if protocol in ("query", "rest-xml"):
        return 400, "Throttling", RATE_EXCEEDED
    if protocol == "rest-json" and service in TOO_MANY_REQUESTS:
        return 429, "TooManyRequestsException", TOO_MANY_REQUESTS[service]
    return 400, "ThrottlingException", JSON_THROTTLE_MESSAGES.get(service, RATE_EXCEEDED)


def server_error(protocol, unavailable):
    """(status, code, message) of a 500 (InternalError / InternalFailure) or 503 (ServiceUnavailable)."""
    if protocol == "ec2":
        if unavailable:
            return 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
        return 500, "InternalError", "An internal error has occurred."
    if protocol == "s3":
        if unavailable:
            return 503, "ServiceUnavailable", "Reduce your request rate."
        return 500, "InternalError", "We encountered an internal error. Please try again."
    # AWS's common errors of every other API.
    if unavailable:
        return 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
    message = "The request processing has failed because of an unknown error, exception or failure."
    return 500, "InternalFailure", message


def _cbor(value):
    """The CBOR encoding of a str or a dict of str (all an error body needs)."""

    def head(major, length):
        if length < 24:
            return bytes([major << 5 | length])
        for extra, size in ((24, 1), (25, 2), (26, 4)):
            if length < 1 << (8 * size):
                return bytes([major << 5 | extra]) + length.to_bytes(size, "big")
        raise ValueError("too long")

    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(_cbor(key) + _cbor(item) for key, item in value.items())
    data = str(value).encode("utf-8")
    return head(3, len(data)) + data


def error_response(environ, protocol, status, code, message, extra=None):
    """(status line, headers, body) of an AWS error in the request's protocol."""
    request_id = str(uuid.uuid4())
    reason = {400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}
    status_line = f"{status} {reason.get(status, 'Service Unavailable')}"
    sender = status < 500
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        headers = [("Content-Type", "text/xml;charset=UTF-8")]
    elif protocol == "s3":
        details = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in (extra or {}).items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{details}"
            f"<RequestId>{request_id[:16].upper()}</RequestId><HostId>{uuid.uuid4().hex}</HostId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id[:16].upper())]
    elif protocol in ("query", "rest-xml"):
        namespace = _xml_namespace(environ, protocol)
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{"Sender" if sender else "Receiver"}</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "cbor":
        body = _cbor({"__type": code, "message": message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    elif protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"
        headers.append(("Content-Type", content_type))
    else:  # rest-json
        body = json.dumps({"message": message, **(extra or {})}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    if protocol in ("json", "cbor") and _query_compatible(environ):
        # awsQueryCompatible services (CloudWatch, SQS) carry the query error code in this header.
        headers.append(("x-amzn-query-error", f"{code};{'Sender' if sender else 'Receiver'}"))
    if environ.get("REQUEST_METHOD") == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    return status_line, headers, body


def _xml_namespace(environ, protocol):
    service = environ.get("reelle.service", "")
    if protocol == "rest-xml":
        version = "2013-04-01" if service == "route53" else "2020-05-31"
    else:
        version = environ.get("reelle.params", {}).get("Version", "")
    return f"https://{service}.amazonaws.com/doc/{version}/"


# --- eventual consistency ---------------------------------------------------------------------

# EC2 create operation -> (tag of the new id in the response, kind)
EC2_CREATES = {
    "CreateVpc": ("vpcId", "vpc"),
    "CreateSubnet": ("subnetId", "subnet"),
    "CreateSecurityGroup": ("groupId", "security-group"),
    "CreateRouteTable": ("routeTableId", "route-table"),
    "CreateInternetGateway": ("internetGatewayId", "internet-gateway"),
    "CreateNatGateway": ("natGatewayId", "nat-gateway"),
    "AllocateAddress": ("allocationId", "eip-allocation"),
    "CreateLaunchTemplate": ("launchTemplateId", "launch-template"),
}
# kind -> (code, message) EC2 answers for an id it does not know (yet).
EC2_NOT_FOUND = {
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{id}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{id}' does not exist"),
    "security-group": ("InvalidGroup.NotFound", "The security group '{id}' does not exist"),
    "route-table": ("InvalidRouteTableID.NotFound", "The routeTable ID '{id}' does not exist"),
    "internet-gateway": ("InvalidInternetGatewayID.NotFound", "The internetGateway ID '{id}' does not exist"),
    "nat-gateway": ("NatGatewayNotFound", "The Nat Gateway {id} was not found"),
    "eip-allocation": ("InvalidAllocationID.NotFound", "The allocation ID '{id}' does not exist"),
    "launch-template": (
        "InvalidLaunchTemplateId.NotFound",
        "The specified launch template, with template ID {id}, does not exist.",
    ),
}
# Routes name a NAT gateway as a target; EC2 answers those with the target's NotFound.
NAT_GATEWAY_TARGET = ("InvalidNatGatewayID.NotFound", "The natGateway ID '{id}' does not exist")
NAT_GATEWAY_OPERATIONS = ("DescribeNatGateways", "DeleteNatGateway")

# --- IAM propagation --------------------------------------------------------------------------

ECS_ROLE_MESSAGE = (
    "Unable to assume role and validate the specified targetGroupArn. "
    "Please verify that the ECS service role being passed has the proper permissions."
)
RDS_MONITORING_MESSAGE = (
    "IAM role ARN value is invalid or does not include the required permissions for: ENHANCED_MONITORING"
)
RDS_MONITORING_OPERATIONS = (
    "CreateDBInstance",
    "ModifyDBInstance",
    "CreateDBCluster",
    "ModifyDBCluster",
    "CreateDBInstanceReadReplica",
)
EC2_PROFILE_OPERATIONS = ("RunInstances", "AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation")
ASG_TEMPLATE_OPERATIONS = ("CreateAutoScalingGroup", "UpdateAutoScalingGroup")


def _tag(body, tag):
    match = re.search(rf"<{tag}>([^<]+)</{tag}>", body)
    return match.group(1) if match else None


def _flat_json(value, found):
    """Every string leaf of a JSON document."""
    if isinstance(value, dict):
        for item in value.values():
            _flat_json(item, found)
    elif isinstance(value, list):
        for item in value:
            _flat_json(item, found)
    elif isinstance(value, str):
        found.append(value)
    return found


def _bucket_of(environ):
    """The bucket a path-style or virtual-hosted S3 request names ("" for ListBuckets)."""
    host = environ.get("HTTP_HOST", "").split(":")[0]
    labels = host.split(".")
    if len(labels) > 1 and (labels[1] in ("s3", "localhost") or re.match(r"s3[.-]", ".".join(labels[1:]))):
        return labels[0]
    path = environ.get("PATH_INFO", "/")
    return unquote(path.lstrip("/").split("/", 1)[0])


class FaultMiddleware:
    """WSGI middleware: answer throttles, server errors, lagging ids, validation and outages before moto."""

    def __init__(self, app, profile=None):
        self.app = app
        self.lock = threading.Lock()
        self.set_profile(profile or {})

    # --- profile and bookkeeping ---------------------------------------------------------------

    def set_profile(self, profile):
        if not isinstance(profile, dict):
            raise ValueError("a profile is a JSON object")
        with self.lock:
            self.profile = dict(profile)
            self.random = random.Random(self.profile.get("seed", 0))
            self.counts = dict.fromkeys(FAULT_KINDS, 0)
            self._forget()

    def merge_profile(self, changes):
        """Merge `changes` into the profile (None removes a key); the rest of the state goes on."""
        if not isinstance(changes, dict):
            raise ValueError("a profile is a JSON object")
        with self.lock:
            profile = dict(self.profile)
            for key, value in changes.items():
                if value is None:
                    profile.pop(key, None)
                else:
                    profile[key] = value
            self.profile = profile
            if "seed" in changes:
                self.random = random.Random(profile.get("seed", 0))

    def _forget(self):
        self.streaks = {}  # request key -> faults in a row
        self.lagging_ids = {}  # (service, id) -> [kind, requests left]
        self.lagging_iam = {}  # ("role" | "profile", name) or ("arn", arn) -> {"left", "keys"}
        self.template_profiles = {}  # launch template id or name -> instance profile name or ARN
        self.profile_arns = {}  # instance profile name -> ARN (from CreateInstanceProfile)

    def get_profile(self):
        return self.profile

    def state(self):
        with self.lock:
            return {"profile": self.profile, "counts": dict(self.counts)}

    # --- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == CONTROL_PATH:
            return self._control(environ, start_response)
        if path.startswith("/moto-api"):
            if path.startswith("/moto-api/reset"):
                with self.lock:
                    self._forget()
            return self.app(environ, start_response)
        request = self._request(environ)
        fault = self._decide(request)
        if fault is None:
            return self._pass(request, start_response)
        kind, answer = fault
        environ["reelle.fault"] = kind
        if kind == "outage":
            environ["reelle.region"] = request["endpoint_region"]
            self._drop(environ)
        status_line, headers, body = answer
        start_response(status_line, headers)
        return [body]

    def _control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method in ("POST", "PATCH"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            change = self.set_profile if method == "POST" else self.merge_profile
            try:
                change(json.loads(environ["wsgi.input"].read(length) or b"{}"))
            except ValueError as error:
                body = json.dumps({"error": str(error)}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [body]
        body = json.dumps(self.state()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _drop(environ):
        """Answer nothing: werkzeug's handler takes a ConnectionError for a dropped connection and writes no
        answer; `drop_connection` (its connection_dropped hook) then closes the socket, after the Recorder
        has logged the request."""
        raise RegionOutage(f"reelle: {environ.get('reelle.region') or 'the region'} is down")

    # --- what a request says -------------------------------------------------------------------

    def _request(self, environ):
        from tests.support.recording_emulator import classify

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation, mutating = classify(environ, body)
        protocol = protocol_of(environ, service)
        params, values = {}, []
        if protocol in ("ec2", "query") or (protocol == "s3" and environ.get("QUERY_STRING")):
            query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
                query.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
            params = {key: items[0] for key, items in query.items()}
            values = [value for key, value in params.items() if not key.startswith("Filter.")]
        elif protocol in ("json", "rest-json") and body:
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            if isinstance(document, dict):
                params = document
                values = _flat_json(document, [])
        environ["reelle.service"] = service
        environ["reelle.params"] = params
        request = {
            "environ": environ,
            "service": service,
            "operation": operation,
            "mutating": mutating,
            "protocol": protocol,
            "region": region_of(environ),
            "endpoint_region": endpoint_region(service, region_of(environ)),
            "query_compatible": _query_compatible(environ),
            "params": params,
            "values": values,
        }
        if protocol == "s3":
            request["bucket"] = _bucket_of(environ)
            if operation == "CreateBucket":
                params.setdefault("Bucket", request["bucket"])
        key = "\n".join([service, operation, environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")])
        key += "\n" + environ.get("QUERY_STRING", "")
        request["key"] = hashlib.sha256(key.encode() + b"\n" + body).hexdigest()
        return request

    # --- deciding ------------------------------------------------------------------------------

    def _decide(self, request):
        """(kind, (status line, headers, body)) of the fault the request meets, or None."""
        profile, protocol = self.profile, request["protocol"]
        with self.lock:
            if request["endpoint_region"] in (profile.get("outage_regions") or ()):
                self.counts["outage"] += 1
                return "outage", None
            throttle_draw, error_draw, kind_draw = (self.random.random() for _ in range(3))
            streak = self.streaks.get(request["key"], 0)
            capped = streak >= int(profile.get("max_streak", 3))
            answer = None
            if throttle_draw < float(profile.get("throttle_rate") or 0):
                answer = (
                    "throttle",
                    throttle_error(protocol, request["service"], request["mutating"], request["query_compatible"]),
                )
            elif error_draw < float(profile.get("error_rate") or 0):
                answer = "error", server_error(protocol, unavailable=kind_draw < 0.5)
            if answer and not capped:
                return self._fault(request, answer[0], *answer[1], transient=True)
            if profile.get("validation"):
                rule = aws_validation.check(request["service"], request["operation"], request["params"])
                if rule:
                    code, message = rule.answer(request["params"][rule.parameter])
                    extra = {"BucketName": request["params"][rule.parameter]} if protocol == "s3" else None
                    return self._fault(request, "validation", rule.status, code, message, extra=extra)
            lagging = self._lagging_id(request)
            if lagging and not capped:
                return self._fault(request, "consistency", *lagging, transient=True)
            propagating = self._propagating(request)
            if propagating and not capped:
                return self._fault(request, "iam_propagation", *propagating, transient=True)
            if capped:  # the cap lets this attempt through: what it names is visible from now on
                self._release(request)
            self.streaks.pop(request["key"], None)
            return None

    def _fault(self, request, kind, status, code, message, extra=None, transient=False):
        self.counts[kind] += 1
        if transient:
            if len(self.streaks) > 10000:
                self.streaks.clear()
            self.streaks[request["key"]] = self.streaks.get(request["key"], 0) + 1
        return kind, error_response(request["environ"], request["protocol"], status, code, message, extra)

    def _lagging_id(self, request):
        """(status, code, message[, extra]) for the first lagging id the request names; counts the lag down."""
        if not self.lagging_ids:
            return None
        service = request["service"]
        if service == "s3":
            named = [request["bucket"]] if request.get("bucket") and request["operation"] != "CreateBucket" else []
        else:
            named = request["values"]
        hits = [value for value in dict.fromkeys(named) if (service, value) in self.lagging_ids]
        if not hits:
            return None
        first = hits[0]
        kind = self.lagging_ids[(service, first)][0]
        for value in hits:
            entry = self.lagging_ids[(service, value)]
            entry[1] -= 1
            if entry[1] <= 0:
                del self.lagging_ids[(service, value)]
        if service == "s3":
            return 404, "NoSuchBucket", "The specified bucket does not exist", {"BucketName": first}
        if kind == "nat-gateway" and request["operation"] not in NAT_GATEWAY_OPERATIONS:
            code, message = NAT_GATEWAY_TARGET
        else:
            code, message = EC2_NOT_FOUND[kind]
        return 400, code, message.format(id=first)

    def _propagating(self, request):
        """(status, code, message) when the request passes a role or profile IAM has not propagated yet."""
        if not self.lagging_iam:
            return None
        finder = {
            "ec2": self._ec2_profile,
            "autoscaling": self._asg_profile,
            "ecs": self._ecs_role,
            "backup": self._backup_role,
            "rds": self._rds_role,
        }.get(request["service"])
        found = finder(request["operation"], request["params"]) if finder else None
        if not found:
            return None
        key, answer = found
        self._count_down_iam(key)
        return answer

    def _lagging_key(self, kind, value):
        """The lagging_iam key of a role or profile given by name or ARN, when it is still propagating."""
        if not isinstance(value, str) or not value:
            return None
        key = ("arn", value) if value.startswith("arn:") else (kind, value)
        return key if key in self.lagging_iam else None

    def _ec2_profile(self, operation, params):
        if operation not in EC2_PROFILE_OPERATIONS:
            return None
        for field, noun in (("name", "name"), ("arn", "ARN")):
            value = params.get(f"IamInstanceProfile.{field.capitalize()}")
            key = self._lagging_key("profile", value)
            if key:
                message = f"Value ({value}) for parameter iamInstanceProfile.{field} is invalid. "
                return key, (400, "InvalidParameterValue", message + f"Invalid IAM Instance Profile {noun}")
        return None

    def _asg_profile(self, operation, params):
        if operation not in ASG_TEMPLATE_OPERATIONS:
            return None
        for name, value in params.items():
            if not name.endswith(("LaunchTemplateId", "LaunchTemplateName")):
                continue
            profile = self.template_profiles.get(value)
            key = self._lagging_key("profile", profile)
            if key:
                field, noun = ("arn", "ARN") if profile.startswith("arn:") else ("name", "name")
                message = (
                    f"You must use a valid fully-formed launch template. Value ({profile}) for parameter "
                    f"iamInstanceProfile.{field} is invalid. Invalid IAM Instance Profile {noun}"
                )
                return key, (400, "ValidationError", message)
        return None

    def _ecs_role(self, operation, params):
        key = self._lagging_key("role", params.get("role"))
        if operation in ("CreateService", "UpdateService") and key:
            return key, (400, "InvalidParameterException", ECS_ROLE_MESSAGE)
        return None

    def _backup_role(self, operation, params):
        role = (params.get("BackupSelection") or {}).get("IamRoleArn")
        key = self._lagging_key("role", role)
        if operation == "CreateBackupSelection" and key:
            message = f"IAM Role {role} cannot be assumed by AWS Backup"
            return key, (400, "InvalidParameterValueException", message)
        return None

    def _rds_role(self, operation, params):
        key = self._lagging_key("role", params.get("MonitoringRoleArn"))
        if operation in RDS_MONITORING_OPERATIONS and key:
            return key, (400, "InvalidParameterValue", RDS_MONITORING_MESSAGE)
        return None

    def _count_down_iam(self, key):
        entry = self.lagging_iam[key]
        entry["left"] -= 1
        if entry["left"] <= 0:
            self._forget_iam(entry)

    def _forget_iam(self, entry):
        for key in entry["keys"]:
            if self.lagging_iam.get(key) is entry:
                del self.lagging_iam[key]

    def _release(self, request):
        """The capped attempt went through: the ids, roles and profiles it names are visible now."""
        service = request["service"]
        named = [request.get("bucket")] if service == "s3" else request["values"]
        for value in named:
            self.lagging_ids.pop((service, value), None)
        for value in request["values"]:
            for kind in ("role", "profile"):
                key = self._lagging_key(kind, value)
                if key:
                    self._forget_iam(self.lagging_iam[key])

    # --- learning from moto's answers ----------------------------------------------------------

    def _learns(self, request):
        service, operation = request["service"], request["operation"]
        if service == "ec2":
            return operation in EC2_CREATES or operation == "CreateLaunchTemplateVersion"
        if service == "iam":
            return operation in ("CreateRole", "CreateInstanceProfile", "AddRoleToInstanceProfile")
        return service == "s3" and operation == "CreateBucket"

    def _pass(self, request, start_response):
        if not self._learns(request):
            return self.app(request["environ"], start_response)
        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = status
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(request["environ"], recording_start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if seen.get("status", "").startswith("2"):
            with self.lock:
                self._learn(request, body.decode("utf-8", "replace"))
        return [body]

    def _learn(self, request, body):
        consistency = int(self.profile.get("consistency_lag") or 0)
        if request["service"] == "ec2":
            self._learn_ec2(request["operation"], request["params"], body)
        elif request["service"] == "s3" and consistency > 0 and request.get("bucket"):
            self.lagging_ids[("s3", request["bucket"])] = ["bucket", consistency]
        elif request["service"] == "iam":
            self._learn_iam(request["operation"], request["params"], body)

    def _learn_ec2(self, operation, params, body):
        if operation in ("CreateLaunchTemplate", "CreateLaunchTemplateVersion"):
            data = "LaunchTemplateData.IamInstanceProfile."
            profile = params.get(data + "Name") or params.get(data + "Arn")
            names = [params.get("LaunchTemplateName"), params.get("LaunchTemplateId"), _tag(body, "launchTemplateId")]
            for name in filter(None, names if profile else ()):
                self.template_profiles[name] = profile
        consistency = int(self.profile.get("consistency_lag") or 0)
        if operation in EC2_CREATES and consistency > 0:
            tag, kind = EC2_CREATES[operation]
            new_id = _tag(body, tag)
            if new_id:
                self.lagging_ids[("ec2", new_id)] = [kind, consistency]

    def _learn_iam(self, operation, params, body):
        propagation = int(self.profile.get("iam_propagation_lag") or 0)
        if propagation <= 0:
            return
        if operation == "CreateRole":
            self._lag_iam("role", params.get("RoleName"), _tag(body, "Arn"), propagation)
        elif operation == "CreateInstanceProfile":
            self._lag_iam("profile", params.get("InstanceProfileName"), _tag(body, "Arn"), propagation)
        elif operation == "AddRoleToInstanceProfile":  # the profile's new role propagates anew
            name = params.get("InstanceProfileName")
            known = self.profile_arns.get(name)
            self._lag_iam("profile", name, known, propagation)

    def _lag_iam(self, kind, name, arn, count):
        if not name:
            return
        if kind == "profile" and arn:
            self.profile_arns[name] = arn
        keys = [(kind, name)] + ([("arn", arn)] if arn else [])
        entry = {"left": count, "keys": keys}
        for key in keys:
            self.lagging_iam[key] = entry
