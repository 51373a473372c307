# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared layer for this project's AWS modules.

One place for clients with retries, pagination, tags, the desired-vs-actual
comparator, the change tracker that serves check mode, diff and apply through
the same code path, and the explicit list of calls the local emulator cannot
serve, and the retries real AWS needs (throttling, eventual consistency after a
create, draining before a delete). It reuses amazon.aws's module_utils
(AnsibleAWSModule, its retrying client wrapper, tagging, transformation).
"""

import functools
import hashlib
import json
import os
import random
import re
import time
import types
from urllib.parse import unquote

try:
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.retries import standard as _botocore_standard_retries
except ImportError:  # AnsibleAWSModule reports missing botocore
    Config = _botocore_standard_retries = None
    BotoCoreError = ClientError = None

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils import botocore as _amazon_aws_botocore
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)


class _Boto3WithSharedSessions:
    """boto3 as amazon.aws's connection code sees it, with one Session per profile.

    amazon.aws builds a new boto3 Session for every client; each one loads
    botocore's endpoint and partition data again (about 0.2 s here). Our modules
    make two to five clients per run, so they share one Session per profile.
    Everything else is the real boto3.
    """

    def __init__(self, real):
        self._real = real
        self._sessions = {}
        self.session = types.SimpleNamespace(Session=self._session)

    def _session(self, profile_name=None, **kwargs):
        if kwargs:
            return self._real.session.Session(profile_name=profile_name, **kwargs)
        if profile_name not in self._sessions:
            self._sessions[profile_name] = self._real.session.Session(profile_name=profile_name)
        return self._sessions[profile_name]

    def __getattr__(self, name):
        return getattr(self._real, name)


if getattr(_amazon_aws_botocore, "HAS_BOTO3", False) and not isinstance(
    _amazon_aws_botocore.boto3, _Boto3WithSharedSessions
):
    _amazon_aws_botocore.boto3 = _Boto3WithSharedSessions(_amazon_aws_botocore.boto3)

# --- retries: throttling, transient faults, eventual consistency -------------
#
# Two layers. botocore retries every request (pages and waiter polls included)
# on throttling, 5xx and connection errors: "standard" mode, 12 attempts by
# default (botocore's default is 3; the Terraform provider, also on standard
# retries, makes up to 25). Not "adaptive": botocore documents it as
# experimental, and its client-side rate limiter learns per client while our
# clients live for one task, so it only adds waits (measured under the hostile
# profile's 25% throttling: a staging converge 117 s adaptive, 17 s standard).
# AWS_RETRY_MODE and AWS_MAX_ATTEMPTS override both, as botocore documents.
# On top of it, the decorator of every client of aws_client() retries, for
# calls made with aws_retry=True:
# - throttling codes again, with jittered backoff (a long burst outlasts
#   botocore's attempts);
# - for create/update calls, the errors AWS answers while something just
#   created is not yet visible to the next call naming it (EC2's
#   `InvalidVpcID.NotFound`, S3's `NoSuchBucket` right after CreateBucket, an
#   IAM role not yet assumable by ECS, EC2, Auto Scaling, Backup or RDS) for up
#   to PROPAGATION_SECONDS, as terraform-provider-aws does (propagationTimeout,
#   2 minutes; `RetryWhenAWSErrCodeEquals`);
# - for delete calls, dependency violations while dependants drain (network
#   interfaces of a deleted load balancer or NAT gateway take minutes).
# Per-call extra codes: retry_on(codes, call, **kwargs).

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
    }
)

# Errors a create/update answers while a resource made by an earlier call is
# not yet visible to it. (service, code, message pattern or None).
PROPAGATION_ERRORS = (
    ("ec2", "InvalidVpcID.NotFound", None),
    ("ec2", "InvalidSubnetID.NotFound", None),
    ("ec2", "InvalidGroup.NotFound", None),
    ("ec2", "InvalidGroupId.NotFound", None),
    ("ec2", "InvalidRouteTableID.NotFound", None),
    ("ec2", "InvalidInternetGatewayID.NotFound", None),
    ("ec2", "InvalidNatGatewayID.NotFound", None),
    ("ec2", "NatGatewayNotFound", None),
    ("ec2", "InvalidAllocationID.NotFound", None),
    ("ec2", "InvalidLaunchTemplateId.NotFound", None),
    ("ec2", "InvalidLaunchTemplateName.NotFoundException", None),
    ("ec2", "InvalidNetworkInterfaceID.NotFound", None),
    ("ec2", "InvalidVpcEndpointId.NotFound", None),
    ("ec2", "InvalidParameterValue", r"(?i)iam ?instance ?profile"),
    ("s3", "NoSuchBucket", None),
    # PutBucketReplication right after versioning is enabled (terraform-provider-aws retries this message).
    ("s3", "InvalidRequest", r"Versioning must be 'Enabled'"),
    ("ecr", "RepositoryNotFoundException", None),
    ("iam", "NoSuchEntity", None),
    ("ecs", "ClusterNotFoundException", None),
    ("ecs", "InvalidParameterException", r"(?i)\brole\b|assum|not authorized to perform"),
    ("autoscaling", "ValidationError", r"(?i)iam ?instance ?profile|launch template .*(not found|does not exist)"),
    ("backup", "InvalidParameterValueException", r"(?i)\brole\b|assum"),
    ("rds", "InvalidParameterValue", r"(?i)iam role|monitoring role|assum"),
    ("rds", "DBSubnetGroupNotFoundFault", None),
    ("rds", "DBClusterNotFoundFault", None),
    ("elasticache", "CacheSubnetGroupNotFoundFault", None),
    ("elasticache", "InvalidParameterValue", r"(?i)security group.*(not found|does not exist)"),
    ("logs", "ResourceNotFoundException", None),
    ("kms", "NotFoundException", None),
    ("elbv2", "TargetGroupNotFound", None),
    ("elbv2", "LoadBalancerNotFound", None),
    ("application-autoscaling", "ObjectNotFoundException", None),
)

# Errors a delete answers while dependants drain.
DRAIN_ERRORS = (
    ("ec2", "DependencyViolation", None),
    ("ec2", "InvalidIPAddress.InUse", None),
    ("ec2", "AuthFailure", r"(?i)does not own|in use"),
    ("elbv2", "ResourceInUse", None),
    # A certificate stays in use until the listeners that named it are gone.
    ("acm", "ResourceInUseException", None),
    ("rds", "InvalidDBSubnetGroupStateFault", None),
    ("elasticache", "CacheSubnetGroupInUse", None),
    ("ecs", "ClusterContainsContainerInstancesException", None),
    ("ecs", "ClusterContainsServicesException", None),
    ("ecs", "ClusterContainsTasksException", None),
    ("ecs", "ResourceInUseException", None),
)

PROPAGATION_SECONDS = 120
DRAIN_SECONDS = 900
READ_PREFIXES = ("describe_", "list_", "get_", "head_", "batch_get_", "search_", "lookup_")
DELETE_PREFIXES = ("delete_", "deregister_", "remove_", "release_", "terminate_", "disassociate_", "detach_")


def retry_mode():
    """(mode, max attempts) of botocore's own retries."""
    mode = os.environ.get("AWS_RETRY_MODE") or "standard"
    try:
        attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 12)
    except ValueError:
        attempts = 12
    return mode, max(attempts, 1)


def botocore_config():
    """The botocore Config of every client: retry mode and attempts."""
    mode, attempts = retry_mode()
    return Config(retries={"mode": mode, "max_attempts": attempts})


def _error_code(error):
    response = getattr(error, "response", None)
    return (response or {}).get("Error", {}).get("Code", "") if isinstance(response, dict) else ""


def _error_message(error):
    response = getattr(error, "response", None)
    return (response or {}).get("Error", {}).get("Message", "") if isinstance(response, dict) else ""


def _matches(table, service, error):
    code, message = _error_code(error), _error_message(error)
    return any(
        svc == service and code == want and (pattern is None or re.search(pattern, message))
        for svc, want, pattern in table
    )


def retry_reason(service, operation, error):
    """Why a failed call is worth another try ('throttling', 'propagation', 'drain'), or None."""
    if _error_code(error) in THROTTLING_CODES:
        return "throttling"
    if operation.startswith(READ_PREFIXES):
        return None
    if operation.startswith(DELETE_PREFIXES):
        return "drain" if _matches(DRAIN_ERRORS, service, error) else None
    return "propagation" if _matches(PROPAGATION_ERRORS, service, error) else None


def _timeouts():
    return {
        "throttling": PROPAGATION_SECONDS,
        "propagation": PROPAGATION_SECONDS,
        "drain": DRAIN_SECONDS,
    }


def _backoff(attempt):
    """Full-jitter exponential backoff: up to 0.5 s, 1 s, 2 s, ... capped at 10 s (scaled in tests)."""
    return random.uniform(0, min(10.0, 0.5 * 2**attempt)) * time_scale()


def time_scale():
    """REELLE_AWS_TIME_SCALE (default 1): tests against the emulator shrink backoffs and polls."""
    try:
        return max(float(os.environ.get("REELLE_AWS_TIME_SCALE") or 1), 0.0)
    except ValueError:
        return 1.0


def poll_seconds(aws_default):
    """Delay between the polls of a waiter: AWS's documented pace, scaled in tests."""
    return max(aws_default * time_scale(), 0.05)


def _retrying(service, call, operation, args, kwargs, extra_codes=()):
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return call(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - only ClientErrors carry a code; others re-raise
            reason = "extra" if extra_codes and _error_code(error) in extra_codes else None
            reason = reason or retry_reason(service, operation, error)
            if reason is None:
                raise
            limit = _timeouts().get(reason, PROPAGATION_SECONDS) * max(time_scale(), 0.01)
            if time.monotonic() - started >= limit:
                raise
            time.sleep(_backoff(attempt))
            attempt += 1


def retry_for(service):
    """The retry decorator of a client of `service` (see the comment above)."""

    def decorator(call):
        operation = getattr(call, "__name__", "")

        @functools.wraps(call)
        def wrapper(*args, **kwargs):
            return _retrying(service, call, operation, args, kwargs)

        return wrapper

    return decorator


def retry_on(codes, call, /, *args, **kwargs):
    """Make a call, retrying the named error codes (and throttling) for up to PROPAGATION_SECONDS.

    For reads right after a create, where AWS documents eventual consistency:
    ``retry_on({"NoSuchBucket"}, s3.get_bucket_tagging, Bucket=name)``.
    """
    operation = getattr(call, "__name__", "")
    return _retrying("", call, operation, args, kwargs, extra_codes=frozenset(codes))


# amazon.aws-style decorator for helpers that wrap a whole function (paginate):
# throttling only.
def RETRY(call):  # noqa: N802 - kept as the constant-like name modules import
    @functools.wraps(call)
    def wrapper(*args, **kwargs):
        return _retrying("", call, "describe_", args, kwargs)

    return wrapper


# Calls the local AWS emulator (moto 5.2.5) does not implement. On the emulator
# they are skipped and reported in the module result (`skipped_calls`); on AWS
# they are made. Their request shape is tested with botocore's Stubber.
EMULATOR_UNSUPPORTED = frozenset(
    {
        ("elasticache", "create_cache_parameter_group"),
        ("elasticache", "modify_cache_parameter_group"),
        ("elasticache", "describe_cache_parameters"),
        ("elasticache", "describe_cache_parameter_groups"),
        ("elasticache", "modify_replication_group_shard_configuration"),
        ("elasticache", "increase_replica_count"),
        ("elasticache", "decrease_replica_count"),
        ("elasticache", "test_failover"),
        ("elasticache", "delete_cache_parameter_group"),
        ("elasticache", "modify_cache_subnet_group"),
        ("elasticache", "delete_cache_subnet_group"),
        ("apigatewayv2", "update_domain_name"),
        ("apigatewayv2", "update_api_mapping"),
        ("backup", "update_backup_plan"),
        ("backup", "delete_backup_selection"),
        ("rds", "modify_global_cluster"),
        ("backup", "create_backup_selection"),
        ("backup", "list_backup_selections"),
        ("backup", "get_backup_selection"),
        ("xray", "create_sampling_rule"),
        ("xray", "update_sampling_rule"),
        ("xray", "get_sampling_rules"),
        ("application-autoscaling", "list_tags_for_resource"),
        ("application-autoscaling", "tag_resource"),
        ("application-autoscaling", "untag_resource"),
        ("logs", "associate_kms_key"),
        # Not an API call: moto runs no ECS tasks, so a rollout never completes there.
        ("ecs", "wait_rollout_completed"),
        ("autoscaling", "disable_metrics_collection"),
        ("apigatewayv2", "update_stage"),
    }
)


def on_emulator():
    """True when this run targets the local emulator, said explicitly with REELLE_AWS_TARGET=emulator.

    Never inferred from AWS_ENDPOINT_URL: an endpoint override on loopback can
    be a proxy to real AWS. The preflight refuses emulator mode without an
    endpoint, and the preflight and summary print the target.
    """
    return aws_target() == "emulator"


def aws_target():
    """'emulator' or 'aws' (REELLE_AWS_TARGET; anything else is refused by the preflight)."""
    return (os.environ.get("REELLE_AWS_TARGET") or "aws").strip().lower()


def emulator_lacks(service, operation):
    return on_emulator() and (service, operation) in EMULATOR_UNSUPPORTED


def _scale_botocore_backoff():
    """Under REELLE_AWS_TIME_SCALE < 1 (tests), botocore's own retry backoff shrinks like ours."""
    standard = _botocore_standard_retries
    if standard is None:
        return
    original = standard.ExponentialBackoff.delay_amount
    if getattr(original, "reelle_scaled", False):
        return

    def delay_amount(self, context):
        return original(self, context) * time_scale()

    delay_amount.reelle_scaled = True
    standard.ExponentialBackoff.delay_amount = delay_amount


def aws_client(module, service, region=None):
    """A client with botocore's standard retries (12 attempts) and, for aws_retry=True calls, retry_for(service)."""
    if time_scale() < 1:
        _scale_botocore_backoff()
    extra = {"region": region} if region else {}
    return module.client(service, retry_decorator=retry_for(service), config=botocore_config(), **extra)


def paginate(client, operation, result_key, **kwargs):
    """All items of a paginated list call; each page retried by botocore, the whole list on throttling."""

    def collect():
        items = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            items.extend(page.get(result_key, []))
        return items

    return RETRY(collect)()


@functools.cache
def partition_for(region):
    """The ARN partition of a region (aws, aws-cn, aws-us-gov), from botocore's endpoint data; no call."""
    return botocore.session.get_session().get_partition_for_region(region or "us-east-1") or "aws"


def arn(partition, service, region, account, resource):
    return f"arn:{partition}:{service}:{region or ''}:{account or ''}:{resource}"


def client_token(*parts, length=64):
    """A deterministic idempotency token (`length` characters, 64 at most) for a create that accepts one.

    Services limit it differently: EC2 64, ECS 36, Backup's CreatorRequestId 50.

    The same resource name and request give the same token, so a create retried
    after a lost answer, or re-run after an interrupted run, returns the
    resource already made instead of making a second one.
    """
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return digest[: min(length, 64)]


def tag_list(tags, key="Key", value="Value"):
    return ansible_dict_to_boto3_tag_list(tags or {}, key, value)


def tag_dict(tags, key="Key", value="Value"):
    return boto3_tag_list_to_ansible_dict(tags or [], key, value)


def snake(value):
    """snake_case a boto3 result, leaving tag keys as they are."""
    return camel_dict_to_snake_dict(value, ignore_list=["Tags", "tags"])


# --- comparing desired and actual state ------------------------------------

STRICT = "strict"
ALLOW_MORE_PRESENT = "allow_more_present"
IGNORE = "ignore"


def _listish_equal(desired, actual, mode):
    if mode == ALLOW_MORE_PRESENT:
        return all(any(not differences(item, other) for other in actual) for item in desired)
    if len(desired) != len(actual):
        return False
    remaining = list(actual)
    for item in desired:
        for index, other in enumerate(remaining):
            if not differences(item, other):
                del remaining[index]
                break
        else:
            return False
    return True


def differences(desired, actual, modes=None, path=""):
    """Paths where actual differs from desired, as a list of dicts.

    Keys the caller did not set (None) leave the actual attribute alone. Dicts
    are compared on the desired keys; lists as multisets (order-free) unless a
    mode says otherwise. `modes` maps a dotted path to strict,
    allow_more_present or ignore.
    """
    modes = modes or {}
    mode = modes.get(path.lstrip("."), STRICT)
    if desired is None or mode == IGNORE:
        return []
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return [{"path": path.lstrip("."), "desired": desired, "actual": actual}]
        found = []
        for key, value in desired.items():
            found.extend(differences(value, actual.get(key), modes, f"{path}.{key}"))
        if mode == STRICT and path and modes.get(path.lstrip(".")) == STRICT:
            extra = sorted(set(actual) - set(desired))
            found.extend({"path": f"{path}.{key}".lstrip("."), "desired": None, "actual": actual[key]} for key in extra)
        return found
    if isinstance(desired, list | tuple):
        if not isinstance(actual, list | tuple) or not _listish_equal(list(desired), list(actual), mode):
            return [{"path": path.lstrip("."), "desired": desired, "actual": actual}]
        return []
    return [] if _same_scalar(desired, actual) else [{"path": path.lstrip("."), "desired": desired, "actual": actual}]


def _same_scalar(desired, actual):
    if isinstance(desired, bool) or isinstance(actual, bool):
        return desired == actual
    if isinstance(desired, int | float) and isinstance(actual, int | float | str):
        try:
            return float(desired) == float(actual)
        except ValueError:
            return False
    return desired == actual


# --- tracking changes: check mode, diff and apply in one code path ---------


class ChangeSet:
    """Accumulates what a module changes (or would change in check mode).

    Every mutation goes through `create`, `update` or `delete`: in check mode
    the call is not made, but the change is recorded all the same, so
    `--check --diff` shows exactly what a real run would do.
    """

    def __init__(self, module):
        self.module = module
        self.changes = []
        self.skipped_calls = []
        self.before = {}
        self.after = {}

    @property
    def changed(self):
        return bool(self.changes)

    def record(self, action, resource, attributes=None):
        """Add a plan row for a change that is not one call of this set's own.

        For parts created together by one call made through ``create`` (an API
        with its routes and stage), or that check mode can only announce.
        """
        self.changes.append({"action": action, "resource": resource, "attributes": attributes or []})

    def call(self, client, service, operation, /, **kwargs):
        """Make a call unless the emulator lacks it; then record it as skipped."""
        if emulator_lacks(service, operation):
            self.skipped_calls.append(f"{service}:{operation}")
            return None
        return getattr(client, operation)(aws_retry=True, **kwargs)

    def _mutate(self, action, resource, attributes, client, service, operation, kwargs):
        self.record(action, resource, attributes)
        if self.module.check_mode:
            return None
        return self.call(client, service, operation, **kwargs)

    def create(self, resource, client, service, operation, /, **kwargs):
        return self._mutate("create", resource, [], client, service, operation, kwargs)

    def update(self, resource, attributes, client, service, operation, /, **kwargs):
        return self._mutate("update", resource, attributes, client, service, operation, kwargs)

    def delete(self, resource, client, service, operation, /, **kwargs):
        return self._mutate("delete", resource, [], client, service, operation, kwargs)

    def note(self, key, before, after):
        """Record before/after state of a resource for --diff."""
        self.before[key] = before
        self.after[key] = after

    def result(self, **extra):
        result = dict(changed=self.changed, changes=self.changes, skipped_calls=sorted(set(self.skipped_calls)))
        if self.module._diff:
            result["diff"] = {"before": self.before, "after": self.after}
        result.update(extra)
        return result


def sync_tags(changes, resource, current, desired, purge, tag, untag, note=False):
    """Reconcile a resource's tags through the ChangeSet.

    current/desired are dicts (desired None leaves tags alone); tag(to_set) and
    untag(keys) return the (client, service, operation, kwargs) of the call.
    Plan rows name each key (``tags.<key>``); with ``note`` the tags also go
    into --diff (``<resource> tags``) when they change.
    """
    if desired is None or current is None:
        return
    to_set, to_unset = compare_aws_tags(current, desired, purge)
    if note and (to_set or to_unset):
        changes.note(f"{resource} tags", current, desired)
    if to_set:
        client, service, operation, kwargs = tag(to_set)
        changes.update(resource, [f"tags.{key}" for key in sorted(to_set)], client, service, operation, **kwargs)
    if to_unset:
        client, service, operation, kwargs = untag(to_unset)
        changes.update(resource, [f"tags.{key}" for key in sorted(to_unset)], client, service, operation, **kwargs)


def changed_attributes(found):
    """Attribute paths of a differences() result, for the plan."""
    return sorted({item["path"] for item in found})


# --- values a module plans with before they exist ------------------------------

# What check mode shows for an id or ARN that AWS assigns on create.
UNKNOWN = "(known after create)"


def real(value):
    """An id or ARN, or None for one that does not exist yet (check mode)."""
    return None if value in (None, UNKNOWN) else value


# --- KMS keys ---------------------------------------------------------------------


def kms_key_id(value):
    """The key id a KMS key ARN or id names; an alias (name or ARN) as ``alias/<name>``; None as None.

    AWS reports the key of a resource as its key ARN
    (``arn:<partition>:kms:<region>:<account>:key/<id>``) whatever form it was
    given in: id, key ARN, alias name or alias ARN.
    """
    if not value:
        return None
    if ":alias/" in value:
        return "alias/" + value.split(":alias/", 1)[1]
    if ":key/" in value:
        return value.split(":key/", 1)[1]
    return value


def same_kms_key(desired, actual, resolve=None):
    """Whether the key the user named (id, key ARN, alias name or alias ARN) is the key AWS reports.

    One rule set for every module: an unset desired key leaves the resource's
    key alone (True); key ids and key ARNs compare by key id; two aliases
    compare by name. An alias against a key id needs KMS to tell: ``resolve``
    (alias -> key id, e.g. ``kms.describe_key``) decides; without it the answer
    is True (unknown is not a difference: a key is never replaced on a guess).
    """
    if not desired:
        return True
    wanted, found = kms_key_id(desired), kms_key_id(actual)
    if wanted == found:
        return True
    if found is None:
        return False
    if wanted.startswith("alias/") != found.startswith("alias/"):
        if resolve is None:
            return True
        wanted = kms_key_id(resolve(desired)) if wanted.startswith("alias/") else wanted
        found = kms_key_id(resolve(actual)) if found.startswith("alias/") else found
    return wanted == found


# --- policy documents -------------------------------------------------------------


def policy_document(value):
    """A policy document as a dict: from a dict, JSON text or URL-encoded JSON (IAM's answers); None as None."""
    if value is None or isinstance(value, dict):
        return value
    text = value if value.lstrip().startswith("{") else unquote(value)
    return json.loads(text)


def same_policy(desired, actual):
    """Whether two policy documents mean the same, by amazon.aws's compare_policies.

    It ignores key and list order, a single value against a one-item list, and
    an account id against its root ARN as principal: the rewrites IAM, S3, KMS
    and SNS apply to a stored policy. An absent policy equals only an absent one.
    """
    desired, actual = policy_document(desired), policy_document(actual)
    if desired is None or actual is None:
        return desired is None and actual is None
    return not compare_policies(actual, desired)


# --- running a module -------------------------------------------------------------


def run_manager(module, manager, failure=None):
    """Run ``manager.ensure_present()`` or ``ensure_absent()`` by O(state) and exit with its result.

    An AWS error fails the task with what the manager was doing
    (``manager.step`` or ``failure``) and the changes made before it, so the
    plan shows what a failed run left behind.
    """
    try:
        state = module.params.get("state") or "present"
        result = manager.ensure_present() if state == "present" else manager.ensure_absent()
    except (BotoCoreError, ClientError) as error:
        what = failure or getattr(manager, "step", None) or f"to manage {getattr(manager, 'resource', module._name)}"
        changes = getattr(manager, "changes", None)
        module.fail_json_aws(error, msg=f"Failed {what}", changes=getattr(changes, "changes", []))
    module.exit_json(**result)
