# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WSGI middleware between the emulator's fault injection and moto: slow lifecycles, server-side defaults.

moto answers at once and echoes back what it was given. Real AWS does neither:

* **Slow lifecycles** (profile ``"lifecycle": {"describes": N, "seconds": S}``): after a create, modify or
  delete, a resource reports its transitional state (``creating``, ``pending``, ``InProgress``...) in the
  describes that show it, for the next N such describes and/or S seconds of wall time (with both, until both
  are met), then its real state. Only responses are rewritten; moto's state never changes. An Aurora global
  failover or switchover (tests/support/global_db.py) shows its Status, FailoverState and the old roles so.
* **Server-side defaults** (profile ``"server_defaults": true``): what AWS fills in or reformats in its
  answers (task definition defaults, URL-encoded IAM documents, canonical principals, compact bucket
  policies, tags in another order).

Each rewrite is a small function registered for (service, operation) in `LIFECYCLE` or `SERVER_DEFAULTS`
with the `lifecycle_rule` / `default_rule` decorators. A rule gets an `Exchange` (the request and moto's
answer, parsed lazily) and edits ``x.xml()`` / ``x.json()`` in place, calling ``x.changed()``, or sets
``x.body``. A rule that raises leaves the answer as the rules before it left it.
"""

import contextlib
import copy
import io
import json
import logging
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, quote, unquote

from tests.support.recording_emulator import classify

LOG = logging.getLogger(__name__)
REGION_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/[^/]+/aws4_request")
ACCOUNT_ID = re.compile(r"^\d{12}$")

LIFECYCLE = {}
SERVER_DEFAULTS = {}


def _register(table, *operations):
    def decorate(function):
        for operation in operations:
            table.setdefault(operation, []).append(function)
        return function

    return decorate


def lifecycle_rule(*operations):
    """Register a rule for (service, operation) pairs; it runs while the profile has a lifecycle."""
    return _register(LIFECYCLE, *operations)


def default_rule(*operations):
    """Register a rule for (service, operation) pairs; it runs while the profile has server_defaults."""
    return _register(SERVER_DEFAULTS, *operations)


# --- one request and moto's answer ------------------------------------------------------------------


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _all(root, name):
    return [element for element in root.iter() if _local(element.tag) == name]


def _child(element, name):
    return next((child for child in element if _local(child.tag) == name), None)


def _text(element, name):
    child = _child(element, name)
    return child.text if child is not None else None


class Exchange:
    """One request (service, operation, region, params) and moto's answer (status, headers, body)."""

    def __init__(self, middleware, service, operation, region, params, status, headers, body):
        self.middleware = middleware
        self.book = middleware.book
        self.service, self.operation, self.region, self.params = service, operation, region, params
        self.status, self.headers, self.body = status, headers, body
        self.lifecycle = None
        self._xml = self._json = None
        self._dirty = False

    @property
    def code(self):
        return int(self.status.split(" ", 1)[0])

    @property
    def ok(self):
        return 200 <= self.code < 300

    def xml(self):
        """The answer's XML root (None when it is no XML)."""
        if self._xml is None and self.body.lstrip()[:1] == b"<":
            try:
                self._xml = ET.fromstring(self.body)
            except ET.ParseError:
                return None
        return self._xml

    def json(self):
        """The answer's JSON document (None when it is no JSON object)."""
        if self._json is None and self.body.lstrip()[:1] == b"{":
            try:
                self._json = json.loads(self.body)
            except ValueError:
                return None
        return self._json

    def changed(self):
        self._dirty = True

    def replace(self, status, body, content_type):
        """Answer something else than moto did (a success for what moto calls not found)."""
        self.status, self.body, self._xml, self._json, self._dirty = status, body, None, None, False
        self.headers = [(key, value) for key, value in self.headers if key.lower() != "content-type"]
        self.headers.append(("Content-Type", content_type))

    def render(self):
        if not self._dirty:
            return self.body
        if self._json is not None:
            return json.dumps(self._json).encode("utf-8")
        root = self._xml
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else None
        try:
            text = ET.tostring(root, encoding="unicode", default_namespace=namespace)
        except ValueError:  # an element outside the root's namespace
            text = ET.tostring(root, encoding="unicode")
        declaration = '<?xml version="1.0" encoding="utf-8"?>\n' if self.body.lstrip().startswith(b"<?xml") else ""
        return (declaration + text).encode("utf-8")


# --- bookkeeping ---------------------------------------------------------------------------------


@dataclass
class Transition:
    """A resource in a transitional phase since `started`, shown `shown` times since."""

    phase: str
    started: float
    describes: int
    seconds: float
    shown: int = 0
    element: str = None  # a deleted resource as the delete answered it (XML), to show while it is deleting
    detail: dict = None  # what else the describes show while it runs (a global cluster's FailoverState)

    def busy(self, now):
        return self.shown < self.describes or now - self.started < self.seconds


class Book:
    """Transitions by (service, region, kind, identifier); thread-safe enough for a threaded server."""

    def __init__(self):
        self.lock = threading.RLock()
        self.transitions = {}
        self.registered_at = {}

    def reset(self):
        with self.lock:
            self.transitions.clear()
            self.registered_at.clear()

    def start(self, key, phase, lifecycle, element=None):
        describes, seconds = lifecycle
        with self.lock:
            self.transitions[key] = Transition(phase, time.monotonic(), describes, seconds, element=element)

    def get(self, key):
        with self.lock:
            return self.transitions.get(key)

    def drop(self, key):
        with self.lock:
            self.transitions.pop(key, None)

    def show(self, key):
        """The phase to report for a describe showing the resource now (counted); None once it is over."""
        with self.lock:
            transition = self.transitions.get(key)
            if transition is None:
                return None
            if transition.busy(time.monotonic()):
                transition.shown += 1
                return transition.phase
            return None

    def deleting(self, service, region, kind):
        with self.lock:
            return {
                key[3]: transition
                for key, transition in self.transitions.items()
                if key[:3] == (service, region, kind) and transition.element is not None
            }


# --- slow lifecycles: XML resources --------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """Where a resource appears in XML answers: element names ("parent/child" for EC2 items), fields."""

    service: str
    elements: tuple
    id_field: str
    status_field: str
    global_: bool = False
    lowercase: bool = False
    list_element: str = None  # the describe's list (for showing a deleting resource moto already dropped)
    id_param: str = None  # the describe's identifier parameter
    not_found: str = None  # the describe's fault for an unknown identifier
    describe: str = None


KINDS = {
    "db-instance": Kind(
        "rds",
        ("DBInstance",),
        "DBInstanceIdentifier",
        "DBInstanceStatus",
        lowercase=True,
        list_element="DBInstances",
        id_param="DBInstanceIdentifier",
        not_found="DBInstanceNotFound",
        describe="DescribeDBInstances",
    ),
    "db-cluster": Kind(
        "rds",
        ("DBCluster",),
        "DBClusterIdentifier",
        "Status",
        lowercase=True,
        list_element="DBClusters",
        id_param="DBClusterIdentifier",
        not_found="DBClusterNotFoundFault",
        describe="DescribeDBClusters",
    ),
    "global-cluster": Kind(  # DescribeGlobalClusters lists <GlobalClusterMember> items (as botocore's model says)
        "rds",
        ("GlobalCluster", "GlobalClusters/GlobalClusterMember"),
        "GlobalClusterIdentifier",
        "Status",
        global_=True,
    ),
    "replication-group": Kind("elasticache", ("ReplicationGroup",), "ReplicationGroupId", "Status", lowercase=True),
    "nat-gateway": Kind("ec2", ("natGateway", "natGatewaySet/item"), "natGatewayId", "state"),
    "distribution": Kind("cloudfront", ("Distribution", "DistributionSummary"), "Id", "Status", global_=True),
}

# (service, operation) -> (kind, phase, whether the answer to the call itself reports the phase)
TRIGGERS = {
    ("rds", "CreateDBInstance"): ("db-instance", "creating", True),
    ("rds", "CreateDBInstanceReadReplica"): ("db-instance", "creating", True),
    ("rds", "ModifyDBInstance"): ("db-instance", "modifying", False),
    ("rds", "RebootDBInstance"): ("db-instance", "rebooting", True),
    ("rds", "DeleteDBInstance"): ("db-instance", "deleting", True),
    ("rds", "CreateDBCluster"): ("db-cluster", "creating", True),
    ("rds", "ModifyDBCluster"): ("db-cluster", "modifying", False),
    ("rds", "DeleteDBCluster"): ("db-cluster", "deleting", True),
    ("rds", "CreateGlobalCluster"): ("global-cluster", "creating", True),
    ("elasticache", "CreateReplicationGroup"): ("replication-group", "creating", True),
    ("elasticache", "ModifyReplicationGroup"): ("replication-group", "modifying", False),
    ("elasticache", "IncreaseReplicaCount"): ("replication-group", "modifying", False),
    ("elasticache", "DecreaseReplicaCount"): ("replication-group", "modifying", False),
    ("elasticache", "ModifyReplicationGroupShardConfiguration"): ("replication-group", "modifying", False),
    ("ec2", "CreateNatGateway"): ("nat-gateway", "pending", True),
    ("cloudfront", "CreateDistribution"): ("distribution", "InProgress", True),
    ("cloudfront", "CreateDistributionWithTags"): ("distribution", "InProgress", True),
    ("cloudfront", "UpdateDistribution"): ("distribution", "InProgress", True),
}

DESCRIBES = {
    ("rds", "DescribeDBInstances"): "db-instance",
    ("rds", "DescribeDBClusters"): "db-cluster",
    ("rds", "DescribeGlobalClusters"): "global-cluster",
    ("elasticache", "DescribeReplicationGroups"): "replication-group",
    ("ec2", "DescribeNatGateways"): "nat-gateway",
    ("cloudfront", "GetDistribution"): "distribution",
    ("cloudfront", "ListDistributions"): "distribution",
}


def _resources(root, kind):
    """[(identifier, element)] of the kind's resources in an answer."""
    found = []
    for name in kind.elements:
        parent, _, child = name.rpartition("/")
        if parent:
            elements = [item for container in _all(root, parent) for item in container if _local(item.tag) == child]
        else:
            elements = _all(root, child)
        for element in elements:
            identifier = _text(element, kind.id_field)
            if identifier:
                found.append((identifier.lower() if kind.lowercase else identifier, element))
    return found


def _key(x, kind_name, identifier):
    kind = KINDS[kind_name]
    return (kind.service, None if kind.global_ else x.region, kind_name, identifier)


def _set_status(element, field, value):
    child = _child(element, field)
    if child is None:
        return False
    child.text = value
    return True


@lifecycle_rule(*TRIGGERS)
def start_transition(x):
    """A create/modify/delete starts the resource's transitional phase (and its answer may report it)."""
    kind_name, phase, report = TRIGGERS[(x.service, x.operation)]
    root = x.xml() if x.ok else None
    if root is None:
        return
    kind = KINDS[kind_name]
    for identifier, element in _resources(root, kind):
        if report and _set_status(element, kind.status_field, phase):
            x.changed()
        stash = None
        if phase == "deleting":
            stash = copy.deepcopy(element)
            _set_status(stash, kind.status_field, phase)
            stash = ET.tostring(stash, encoding="unicode")
        x.book.start(_key(x, kind_name, identifier), phase, x.lifecycle, element=stash)


@lifecycle_rule(*DESCRIBES)
def report_transition(x):
    """A describe shows each resource in transition in its transitional state (and counts it)."""
    kind_name = DESCRIBES[(x.service, x.operation)]
    kind = KINDS[kind_name]
    if kind.list_element:
        _show_deleting(x, kind_name, kind)
    root = x.xml() if x.ok else None
    if root is None:
        return
    for identifier, element in _resources(root, kind):
        key = _key(x, kind_name, identifier)
        phase = x.book.show(key)
        if phase is None:
            transition = x.book.get(key)
            if transition is not None and not transition.busy(time.monotonic()):
                x.book.drop(key)
            continue
        _set_status(element, kind.status_field, phase)
        if kind_name == "replication-group":
            for node_group in _all(element, "NodeGroup"):
                _set_status(node_group, "Status", phase)
        x.changed()


def _show_deleting(x, kind_name, kind):
    """Keep a deleted RDS resource in the describe (``deleting``) that moto already forgot."""
    pending = x.book.deleting(kind.service, x.region, kind_name)
    if not pending:
        return
    wanted = (x.params.get(kind.id_param) or "").lower()
    if any(name.startswith("Filters.") for name in x.params):
        return
    if not x.ok:
        root = x.xml()
        code = root is not None and next((e.text for e in _all(root, "Code")), None)
        if code != kind.not_found or wanted not in pending:
            return
        if not pending[wanted].busy(time.monotonic()):
            x.book.drop(_key(x, kind_name, wanted))
            return
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        body = (
            f'<{kind.describe}Response xmlns="{namespace}"><{kind.describe}Result>'
            f"<{kind.list_element}/></{kind.describe}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
            f"</ResponseMetadata></{kind.describe}Response>"
        )
        x.replace(f"200 {HTTPStatus.OK.phrase}", body.encode("utf-8"), "text/xml")
    root = x.xml()
    if root is None:
        return
    shown = {identifier for identifier, _ in _resources(root, kind)}
    containers = _all(root, kind.list_element)
    for identifier, transition in pending.items():
        if identifier in shown or (wanted and identifier != wanted) or not containers:
            continue
        if not transition.busy(time.monotonic()):
            x.book.drop(_key(x, kind_name, identifier))
            continue
        element = ET.fromstring(transition.element)
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        for node in element.iter():  # moto's delete answer and its describe share the namespace
            if namespace and not node.tag.startswith("{"):
                node.tag = f"{{{namespace}}}{node.tag}"
        containers[0].append(element)
        x.changed()
    # the element now in the answer is counted (and rewritten) by report_transition like any other


@lifecycle_rule(("elasticache", "DescribeCacheClusters"))
def report_member_clusters(x):
    """Member clusters of a replication group in transition share its state (not counted as a describe)."""
    root = x.xml() if x.ok else None
    if root is None:
        return
    for cluster in _all(root, "CacheCluster"):
        group = (_text(cluster, "ReplicationGroupId") or "").lower()
        transition = x.book.get(_key(x, "replication-group", group)) if group else None
        if transition is not None and transition.busy(time.monotonic()):
            _set_status(cluster, "CacheClusterStatus", transition.phase)
            x.changed()


# --- slow lifecycles: Aurora global switchover and failover (tests/support/global_db.py) ----------------

FAILOVER_FIELDS = ("FromDbClusterArn", "ToDbClusterArn", "IsDataLossAllowed")


@lifecycle_rule(("rds", "FailoverGlobalCluster"), ("rds", "SwitchoverGlobalCluster"))
def start_global_failover(x):
    """The operation the answer reports (Status failing-over / switching-over, FailoverState) goes on for a while."""
    root = x.xml() if x.ok else None
    for identifier, element in _resources(root, KINDS["global-cluster"]) if root is not None else ():
        state = _child(element, "FailoverState")
        phase = _text(element, "Status")
        if state is None or not phase:
            continue
        key = _key(x, "global-cluster", identifier)
        x.book.start(key, phase, x.lifecycle)
        x.book.get(key).detail = {name: _text(state, name) for name in FAILOVER_FIELDS}


def _old_roles(element, writer_arn):
    """GlobalClusterMembers as they were before the operation: `writer_arn` writes, the others read from it."""
    members = _child(element, "GlobalClusterMembers")
    arns = [_text(member, "DBClusterArn") for member in (members if members is not None else ())]
    for member in members if members is not None else ():
        namespace = member.tag[: member.tag.index("}") + 1] if member.tag.startswith("{") else ""
        writes = _text(member, "DBClusterArn") == writer_arn
        _set_status(member, "IsWriter", str(writes).lower())
        readers = _child(member, "Readers")
        if readers is not None:
            readers[:] = []
            for arn in arns if writes else ():
                if arn != writer_arn:
                    ET.SubElement(readers, f"{namespace}member").text = arn
        forwarding = _child(member, "GlobalWriteForwardingStatus")
        if writes and forwarding is not None:
            member.remove(forwarding)
        elif not writes and forwarding is None:
            ET.SubElement(member, f"{namespace}GlobalWriteForwardingStatus").text = "disabled"


@lifecycle_rule(("rds", "DescribeGlobalClusters"))
def report_global_failover(x):
    """While the operation runs (report_transition showed its Status): FailoverState, and the old roles."""
    root = x.xml() if x.ok else None
    for identifier, element in _resources(root, KINDS["global-cluster"]) if root is not None else ():
        transition = x.book.get(_key(x, "global-cluster", identifier))
        if transition is None or not transition.detail or _text(element, "Status") != transition.phase:
            continue
        _old_roles(element, transition.detail["FromDbClusterArn"])
        namespace = element.tag[: element.tag.index("}") + 1] if element.tag.startswith("{") else ""
        state = ET.Element(f"{namespace}FailoverState")
        ET.SubElement(state, f"{namespace}Status").text = transition.phase
        for name in FAILOVER_FIELDS:
            ET.SubElement(state, f"{namespace}{name}").text = transition.detail[name]
        tags = _child(element, "TagList")
        element.insert(list(element).index(tags) if tags is not None else len(element), state)
        x.changed()


# --- slow lifecycles: ECS services (JSON) ------------------------------------------------------------


def _ecs_key(x, service):
    return ("ecs", x.region, "service", service.get("serviceArn"))


def _ecs_rollout(service, in_progress):
    """The PRIMARY deployment rolling out (no task running yet) or completed (all desired tasks running).

    moto runs no tasks: its PRIMARY deployment stays IN_PROGRESS with runningCount 0 and keeps the desired
    count and task definition it was created with; AWS's primary deployment follows the service.
    """
    primary = next((item for item in service.get("deployments", []) if item.get("status") == "PRIMARY"), None)
    if primary is None:
        return False
    desired = service.get("desiredCount", 0)
    primary["desiredCount"] = desired
    if service.get("taskDefinition"):
        primary["taskDefinition"] = service["taskDefinition"]
    running = 0 if in_progress else desired
    state = "IN_PROGRESS" if in_progress else "COMPLETED"
    primary.update(
        rolloutState=state,
        rolloutStateReason=f"ECS deployment {primary.get('id')} {'in progress' if in_progress else 'completed'}.",
        runningCount=running,
        pendingCount=desired - running,
    )
    service.update(runningCount=running, pendingCount=desired - running)
    return True


@lifecycle_rule(("ecs", "CreateService"), ("ecs", "UpdateService"))
def start_rollout(x):
    document = x.json() if x.ok else None
    service = (document or {}).get("service")
    if not service:
        return
    x.book.start(_ecs_key(x, service), "IN_PROGRESS", x.lifecycle)
    if _ecs_rollout(service, in_progress=True):
        x.changed()


@lifecycle_rule(("ecs", "DescribeServices"))
def report_rollout(x):
    """In transition: IN_PROGRESS, runningCount 0; after: COMPLETED with every desired task running."""
    document = x.json() if x.ok else None
    for service in (document or {}).get("services", []):
        key = _ecs_key(x, service)
        if x.book.get(key) is None:
            continue
        if _ecs_rollout(service, in_progress=x.book.show(key) is not None):
            x.changed()


@lifecycle_rule(("ecs", "DeleteService"))
def end_rollout(x):
    document = x.json() if x.ok else None
    service = (document or {}).get("service")
    if service:
        x.book.drop(_ecs_key(x, service))


# --- server-side defaults: ECS task definitions ---------------------------------------------------------


def _required_attributes(task):
    """The requiresAttributes AWS derives from a task definition (the common ones)."""
    names = []
    containers = task.get("containerDefinitions", [])
    if task.get("networkMode") == "awsvpc":
        names += ["com.amazonaws.ecs.capability.docker-remote-api.1.18", "ecs.capability.task-eni"]
    if task.get("taskRoleArn"):
        names.append("com.amazonaws.ecs.capability.task-iam-role")
    for container in containers:
        if (container.get("logConfiguration") or {}).get("logDriver") == "awslogs":
            names += ["com.amazonaws.ecs.capability.logging-driver.awslogs"]
            names += ["com.amazonaws.ecs.capability.docker-remote-api.1.19"]
            if task.get("executionRoleArn"):
                names.append("ecs.capability.execution-role-awslogs")
        if task.get("executionRoleArn") and ".dkr.ecr." in container.get("image", ""):
            names += ["com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull"]
        for secret in container.get("secrets", []):
            source = secret.get("valueFrom", "")
            names.append(
                "ecs.capability.secrets.asm.environment-variables"
                if ":secretsmanager:" in source
                else "ecs.capability.secrets.ssm.environment-variables"
            )
        if container.get("healthCheck"):
            names.append("ecs.capability.container-health-check")
        if container.get("dependsOn"):
            names.append("ecs.capability.container-ordering")
    return [{"name": name} for name in dict.fromkeys(names)]


@default_rule(("ecs", "DescribeTaskDefinition"), ("ecs", "RegisterTaskDefinition"))
def ecs_task_definition_defaults(x):
    """Container defaults AWS fills in beyond moto's (cpu, essential, environment, mountPoints, volumesFrom)."""
    task = ((x.json() if x.ok else None) or {}).get("taskDefinition")
    if not task:
        return
    mode = task.get("networkMode")
    for container in task.get("containerDefinitions", []):
        container.setdefault("essential", True)
        container.setdefault("cpu", 0)
        for name in ("environment", "mountPoints", "volumesFrom", "systemControls"):
            container.setdefault(name, [])
        for mapping in container.get("portMappings", []):
            mapping.setdefault("protocol", "tcp")
            if mode in ("awsvpc", "host") and not mapping.get("hostPort"):
                mapping["hostPort"] = mapping.get("containerPort")
            else:
                mapping.setdefault("hostPort", 0)  # bridge: a dynamic host port
        container["environment"].reverse()  # AWS answers environment and secrets in an order of its own
        container.get("secrets", []).reverse()
    arn = task.get("taskDefinitionArn", "")
    account = arn.split(":")[4] if arn.count(":") >= 5 else "123456789012"
    with x.book.lock:
        registered = x.book.registered_at.setdefault(arn, round(time.time(), 3))
    task.setdefault("status", "ACTIVE")
    task.setdefault("compatibilities", ["EC2", "FARGATE"] if mode == "awsvpc" else ["EC2"])
    task.setdefault("requiresAttributes", _required_attributes(task))
    task.setdefault("registeredAt", registered)
    task.setdefault("registeredBy", f"arn:aws:iam::{account}:root")
    x.changed()


# --- server-side defaults: IAM policy documents ---------------------------------------------------------


def _decode_document(text):
    text = (text or "").strip()
    return json.loads(text if text.startswith("{") else unquote(text))


def _encode_document(text):
    return quote(text, safe="")


def _root_principals(principals):
    """A bare account id as principal comes back as that account's root ARN."""
    if not isinstance(principals, dict):
        return principals
    canonical = dict(principals)
    values = canonical.get("AWS")
    if isinstance(values, str) and ACCOUNT_ID.match(values):
        canonical["AWS"] = f"arn:aws:iam::{values}:root"
    elif isinstance(values, list):
        canonical["AWS"] = [f"arn:aws:iam::{v}:root" if ACCOUNT_ID.match(str(v)) else v for v in values]
    return canonical


def _canonical_trust_policy(document):
    """IAM re-renders a trust policy: Statement always a list, account ids as root ARNs, compact JSON."""
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    for statement in statements:
        for name in ("Principal", "NotPrincipal"):
            if name in statement:
                statement[name] = _root_principals(statement[name])
    document["Statement"] = statements
    return json.dumps(document, separators=(",", ":"))


@default_rule(("iam", "GetRole"), ("iam", "CreateRole"), ("iam", "ListRoles"))
def iam_trust_policy(x):
    """AssumeRolePolicyDocument: canonical and URL-encoded (moto encodes it in GetRole only)."""
    root = x.xml() if x.ok else None
    for element in _all(root, "AssumeRolePolicyDocument") if root is not None else ():
        element.text = _encode_document(_canonical_trust_policy(_decode_document(element.text)))
        x.changed()


@default_rule(
    ("iam", "GetRolePolicy"),
    ("iam", "GetUserPolicy"),
    ("iam", "GetGroupPolicy"),
    ("iam", "GetPolicyVersion"),
)
def iam_policy_document(x):
    """PolicyDocument / Document come back URL-encoded (moto leaves GetPolicyVersion's Document plain)."""
    root = x.xml() if x.ok else None
    for name in ("PolicyDocument", "Document"):
        for element in _all(root, name) if root is not None else ():
            text = (element.text or "").strip()
            if text.startswith("{"):
                element.text = _encode_document(text)
                x.changed()


# --- server-side defaults: S3 bucket policies ----------------------------------------------------------

POLICY_ORDER = ("Version", "Id", "Statement")
STATEMENT_ORDER = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


def _ordered(mapping, order):
    keys = [key for key in order if key in mapping] + [key for key in mapping if key not in order]
    return {key: mapping[key] for key in keys}


def _single(value):
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _stringify(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_stringify(item) for item in value]
    if isinstance(value, dict):
        return {key: _stringify(item) for key, item in value.items()}
    return value


def _canonical_bucket_policy(policy):
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    canonical = []
    for original in statements:
        statement = dict(original)
        for name in ("Action", "NotAction", "Resource", "NotResource"):
            if name in statement:
                statement[name] = _single(statement[name])
        for name in ("Principal", "NotPrincipal"):
            principal = _root_principals(statement.get(name))
            if isinstance(principal, dict):
                principal = {key: _single(value) for key, value in principal.items()}
            if name in statement:
                statement[name] = principal
        if "Condition" in statement:
            statement["Condition"] = _stringify(statement["Condition"])
        canonical.append(_ordered(statement, STATEMENT_ORDER))
    policy = dict(policy, Statement=canonical)
    return json.dumps(_ordered(policy, POLICY_ORDER), separators=(",", ":"))


@default_rule(("s3", "GetBucketPolicy"))
def s3_bucket_policy(x):
    """S3 stores the policy in its own form: compact JSON, its key order, one-item lists as strings."""
    if x.ok and x.body.lstrip()[:1] == b"{":
        x.body = _canonical_bucket_policy(json.loads(x.body)).encode("utf-8")


# --- server-side defaults: tags in another order ---------------------------------------------------------

XML_TAG_LISTS = ("TagList", "tagSet", "Tags", "TagSet")
EC2_DESCRIBES = (
    "DescribeVpcs",
    "DescribeSubnets",
    "DescribeSecurityGroups",
    "DescribeNatGateways",
    "DescribeInternetGateways",
    "DescribeEgressOnlyInternetGateways",
    "DescribeRouteTables",
    "DescribeNetworkAcls",
    "DescribeAddresses",
    "DescribeVpcEndpoints",
    "DescribeInstances",
    "DescribeLaunchTemplates",
    "DescribeVolumes",
    "DescribeNetworkInterfaces",
    "DescribeFlowLogs",
    "DescribeDhcpOptions",
    "DescribeVpcPeeringConnections",
    "DescribeTransitGateways",
    "DescribeKeyPairs",
    "DescribeImages",
    "DescribeSnapshots",
    "DescribeTags",
)
RDS_DESCRIBES = (
    "DescribeDBInstances",
    "DescribeDBClusters",
    "DescribeDBSubnetGroups",
    "DescribeDBSnapshots",
    "DescribeDBClusterSnapshots",
    "DescribeGlobalClusters",
    "ListTagsForResource",
)


@default_rule(
    *(("ec2", operation) for operation in EC2_DESCRIBES),
    *(("rds", operation) for operation in RDS_DESCRIBES),
    ("elasticache", "ListTagsForResource"),
    ("elasticache", "DescribeReplicationGroups"),
    ("elasticloadbalancing", "DescribeTags"),  # elbv2 signs as elasticloadbalancing
    ("s3", "GetBucketTagging"),
)
def reverse_xml_tags(x):
    """Tag lists (``<Tag>``/``<item>``/``<member>`` with Key/key children) in reverse order."""
    root = x.xml() if x.ok else None
    for name in XML_TAG_LISTS if root is not None else ():
        for container in _all(root, name):
            items = list(container)
            if len(items) > 1 and all(
                _child(item, "Key") is not None or _child(item, "key") is not None for item in items
            ):
                container[:] = items[::-1]
                x.changed()


@default_rule(
    ("ecs", "ListTagsForResource"),
    ("ecs", "DescribeTaskDefinition"),
    ("ecs", "DescribeServices"),
    ("ecs", "DescribeClusters"),
)
def reverse_ecs_tags(x):
    """ECS ``tags`` lists (top level, or of each service / cluster) in reverse order."""
    document = (x.json() if x.ok else None) or {}
    lists = [document.get("tags")] + [
        item.get("tags") for key in ("services", "clusters") for item in document.get(key, [])
    ]
    for tags in lists:
        if isinstance(tags, list) and len(tags) > 1:
            tags.reverse()
            x.changed()


# --- the middleware ------------------------------------------------------------------------------------


def _lifecycle(profile):
    """(describes, seconds) of the profile's lifecycle; None when it is off."""
    settings = profile.get("lifecycle") or {}
    describes, seconds = int(settings.get("describes") or 0), float(settings.get("seconds") or 0)
    return (describes, seconds) if describes > 0 or seconds > 0 else None


def _params(environ, body):
    """The request's parameters: query string and form body (query protocols) or the JSON body."""
    params = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        params.update({key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()})
    elif body[:1] == b"{":
        with contextlib.suppress(ValueError):
            params.update(json.loads(body))
    return params


class LifecycleMiddleware:
    """WSGI middleware: slow lifecycles and server-side defaults, as the profile from get_profile() asks."""

    def __init__(self, app, get_profile):
        self.app = app
        self.get_profile = get_profile
        self.book = Book()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path.startswith(("/moto-api", "/reelle-api")):  # control requests: moto's and the emulator's own
            if path.startswith("/moto-api/reset"):
                self.book.reset()
            return self.app(environ, start_response)
        profile = self.get_profile() or {}
        lifecycle = _lifecycle(profile)
        defaults = bool(profile.get("server_defaults"))
        if (not lifecycle and not defaults) or environ.get("REQUEST_METHOD") == "HEAD":
            return self.app(environ, start_response)

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation, _ = classify(environ, body)
        rules = (LIFECYCLE.get((service, operation), []) if lifecycle else []) + (
            SERVER_DEFAULTS.get((service, operation), []) if defaults else []
        )
        if not rules:
            return self.app(environ, start_response)

        answer = {}
        chunks = []

        def capture(status, headers, exc_info=None):
            answer.update(status=status, headers=list(headers))
            return chunks.append

        result = self.app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = answer["headers"]
        if any(key.lower() == "content-encoding" for key, _ in headers):
            start_response(answer["status"], headers)
            return [b"".join(chunks)]

        scope = REGION_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region = scope.group(1) if scope else "us-east-1"
        x = Exchange(
            self, service, operation, region, _params(environ, body), answer["status"], headers, b"".join(chunks)
        )
        x.lifecycle = lifecycle
        for rule in rules:
            try:
                rule(x)
            except Exception:  # noqa: BLE001 - a rule must never break the emulator's answer
                LOG.exception("lifecycle rule %s failed on %s.%s", rule.__name__, service, operation)
        try:
            data = x.render()
        except Exception:  # noqa: BLE001
            LOG.exception("could not render the rewritten %s.%s answer", service, operation)
            data = b"".join(chunks)
        headers = [(key, value) for key, value in x.headers if key.lower() != "content-length"]
        headers.append(("Content-Length", str(len(data))))
        start_response(x.status, headers)
        return [data]
