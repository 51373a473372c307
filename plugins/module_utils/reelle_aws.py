# -*- coding: utf-8 -*-
"""Shared layer for this project's AWS modules.

One place for clients with retries, pagination, tags, the desired-vs-actual
comparator, the change tracker that serves check mode, diff and apply through
the same code path, and the explicit list of calls the local emulator cannot
serve. It reuses amazon.aws's module_utils (AnsibleAWSModule, AWSRetry,
tagging, transformation) rather than writing them again.
"""

import os
import types
from urllib.parse import urlparse

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils import botocore as _amazon_aws_botocore
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
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

# Throttling and eventual-consistency errors are retried with jittered backoff.
RETRY = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=20)

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
        ("backup", "update_backup_plan"),
        ("backup", "delete_backup_selection"),
        ("rds", "failover_global_cluster"),
        ("rds", "switchover_global_cluster"),
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
    """True when AWS_ENDPOINT_URL points at a local emulator (loopback)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    host = urlparse(endpoint).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def emulator_lacks(service, operation):
    return on_emulator() and (service, operation) in EMULATOR_UNSUPPORTED


def aws_client(module, service, region=None):
    """A client whose calls retry throttling when called with aws_retry=True."""
    extra = {"region": region} if region else {}
    return module.client(service, retry_decorator=RETRY, **extra)


def paginate(client, operation, result_key, **kwargs):
    """All items of a paginated list call."""
    paginator = client.get_paginator(operation)
    items = []
    for page in paginator.paginate(**kwargs):
        items.extend(page.get(result_key, []))
    return items


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

    def _record(self, action, resource, attributes=None):
        self.changes.append({"action": action, "resource": resource, "attributes": attributes or []})

    def call(self, client, service, operation, /, **kwargs):
        """Make a call unless the emulator lacks it; then record it as skipped."""
        if emulator_lacks(service, operation):
            self.skipped_calls.append(f"{service}:{operation}")
            return None
        return getattr(client, operation)(aws_retry=True, **kwargs)

    def _mutate(self, action, resource, attributes, client, service, operation, kwargs):
        self._record(action, resource, attributes)
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


def sync_tags(changes, resource, current, desired, purge, tag, untag):
    """Reconcile a resource's tags through the ChangeSet.

    current/desired are dicts (desired None leaves tags alone); tag(to_set) and
    untag(keys) return the (client, service, operation, kwargs) of the call.
    """
    if desired is None or current is None:
        return
    to_set, to_unset = compare_aws_tags(current, desired, purge)
    if to_set:
        client, service, operation, kwargs = tag(to_set)
        changes.update(resource, [f"tags.{key}" for key in sorted(to_set)], client, service, operation, **kwargs)
    if to_unset:
        client, service, operation, kwargs = untag(to_unset)
        changes.update(resource, [f"tags.{key}" for key in sorted(to_unset)], client, service, operation, **kwargs)


def changed_attributes(found):
    """Attribute paths of a differences() result, for the plan."""
    return sorted({item["path"] for item in found})
