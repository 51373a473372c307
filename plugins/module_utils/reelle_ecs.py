# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ECS modules (ecs_deploy, ecs_ec2_capacity, ecs_service_scale) share: the cluster (found
by name, created with what the caller manages, its settings, capacity providers and tags kept), ECS
tag reconciliation, the rules of a capacity provider strategy, and a service with its Application
Auto Scaling target (found by name, its count kept inside the target's bounds, waited for until
steady).

Every mutation goes through the caller's ChangeSet (check mode, diff, the plan); the ECS client
is the caller's, from ``aws_client`` (its calls retry with ``aws_retry=True``).
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    changed_attributes,
    differences,
    emulator_lacks,
    sync_tags,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import poll

# CreateService's clientToken: "Up to 36 ASCII characters in the range of 33-126 (inclusive) are allowed."
ECS_CLIENT_TOKEN_LENGTH = 36
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


# --- tags --------------------------------------------------------------------------


def sync_ecs_tags(changes, ecs, resource, arn, current, desired, purge):
    """Reconcile the tags of an ECS resource (cluster, service, task definition, capacity provider).

    ``current`` is the tag list ECS returns (``[{"key", "value"}]``); ``desired`` a dict, None
    leaving the tags alone.
    """
    sync_tags(
        changes,
        resource,
        tag_dict(current, "key", "value"),
        desired,
        purge,
        lambda add: (ecs, "ecs", "tag_resource", {"resourceArn": arn, "tags": tag_list(add, "key", "value")}),
        lambda keys: (ecs, "ecs", "untag_resource", {"resourceArn": arn, "tagKeys": keys}),
    )


# --- capacity provider strategies ------------------------------------------------------


def provider_strategy(items):
    """The API shape of a capacity provider strategy given as module options (``capacity_provider``,
    ``weight``, ``base``); [] when none is given."""
    return [
        {"capacityProvider": item["capacity_provider"], "weight": item["weight"], "base": item["base"]}
        for item in items or []
    ]


def strategy_argument_spec():
    """The argument spec of a capacity provider strategy option (what provider_strategy() takes)."""
    return dict(
        type="list",
        elements="dict",
        options=dict(
            capacity_provider=dict(type="str", required=True),
            weight=dict(type="int", default=1),
            base=dict(type="int", default=0),
        ),
    )


def strategy_problem(strategy):
    """Why AWS would reject a capacity provider strategy (API shape), or None.

    A strategy names either Fargate providers or Auto Scaling group providers, never both; at
    most one provider has a base; at least one has a weight above 0.
    """
    names = [item["capacityProvider"] for item in strategy]
    fargate = [name for name in names if name in FARGATE_PROVIDERS]
    others = [name for name in names if name not in FARGATE_PROVIDERS]
    if fargate and others:
        return (
            f"a capacity provider strategy cannot mix Fargate ({', '.join(fargate)}) and Auto Scaling group "
            f"providers ({', '.join(others)}): AWS rejects it, run the tasks on one kind"
        )
    if len([item for item in strategy if item["base"]]) > 1:
        return "only one provider of a strategy may have a base"
    if strategy and not any(item["weight"] for item in strategy):
        return "at least one provider of a strategy needs a weight above 0"
    return None


# --- the cluster -------------------------------------------------------------------------


def find_cluster(ecs, name):
    """The cluster with its settings, tags and capacity providers; None when there is none (or it is INACTIVE).

    DescribeClusters answers a deleted cluster as INACTIVE for a while; any other status
    (ACTIVE, PROVISIONING, ...) is a cluster that exists.
    """
    found = ecs.describe_clusters(clusters=[name], include=["SETTINGS", "TAGS"], aws_retry=True)
    return next((item for item in found.get("clusters", []) if item.get("status") != "INACTIVE"), None)


class EcsCluster:
    """One ECS cluster, managed through a ChangeSet.

    Each module passes only what it owns: ecs_deploy the settings and tags, ecs_ec2_capacity the
    capacity providers and default strategy (and tags for a cluster it creates). What is not
    passed (None) is left alone.
    """

    def __init__(self, changes, ecs, name):
        self.changes = changes
        self.ecs = ecs
        self.name = name
        self.resource = f"ecs cluster {name}"

    def find(self):
        return find_cluster(self.ecs, self.name)

    def ensure_present(
        self,
        settings=None,
        capacity_providers=None,
        default_strategy=None,
        tags=None,
        purge_tags=True,
        reconcile_tags=True,
    ):
        """Create the cluster or bring what the caller manages in line; its ARN (None when check mode creates it).

        settings: ``{name: value}`` (``containerInsights``); a None value is left alone.
        capacity_providers / default_strategy: the cluster's providers and default strategy (API
        shape), set together (PutClusterCapacityProviders replaces both).
        tags: set on create; on an existing cluster reconciled (``purge_tags``) unless
        ``reconcile_tags`` is False (a module that only adds capacity leaves them to the one owning the cluster).
        """
        wanted = {key: value for key, value in (settings or {}).items() if value is not None}
        providers = None
        if capacity_providers is not None:
            providers = {
                "capacityProviders": list(capacity_providers),
                "defaultCapacityProviderStrategy": list(default_strategy or []),
            }
        actual = self.find()
        if actual is None:
            return self._create(wanted, providers, tags)
        before, after = {}, {}
        self._sync_settings(actual, wanted, before, after)
        self._sync_capacity_providers(actual, providers, before, after)
        if after:
            self.changes.note("cluster", before, after)
        if reconcile_tags:
            sync_ecs_tags(
                self.changes, self.ecs, self.resource, actual["clusterArn"], actual.get("tags"), tags, purge_tags
            )
        return actual["clusterArn"]

    def _create(self, settings, providers, tags):
        kwargs = {"clusterName": self.name}
        if settings:
            kwargs["settings"] = [{"name": key, "value": value} for key, value in settings.items()]
        kwargs.update(providers or {})
        self.changes.note("cluster", None, dict(kwargs))
        if tags:
            kwargs["tags"] = tag_list(tags, "key", "value")
        created = self.changes.create(self.resource, self.ecs, "ecs", "create_cluster", **kwargs)
        return (created or {}).get("cluster", {}).get("clusterArn")

    def _sync_settings(self, actual, wanted, before, after):
        current = {item["name"]: item["value"] for item in actual.get("settings") or []}
        found = differences(wanted, current)
        if not found:
            return
        before["settings"], after["settings"] = current, wanted
        self.changes.update(
            self.resource,
            changed_attributes(found),
            self.ecs,
            "ecs",
            "update_cluster",
            cluster=self.name,
            settings=[{"name": key, "value": value} for key, value in wanted.items()],
        )

    def _sync_capacity_providers(self, actual, wanted, before, after):
        if wanted is None:
            return
        current = {key: actual.get(key) or [] for key in wanted}
        # Lists compare order-free; a provider or strategy item the cluster has beyond them is a difference.
        changed = sorted(key for key in wanted if differences(wanted[key], current[key]))
        if not changed:
            return
        before.update(current)
        after.update(wanted)
        self.changes.update(
            self.resource,
            changed,
            self.ecs,
            "ecs",
            "put_cluster_capacity_providers",
            cluster=self.name,
            **wanted,
        )

    def remove_capacity_provider(self, provider):
        """Take a provider out of the cluster's providers and default strategy (before the provider is deleted)."""
        actual = self.find()
        if actual is None or provider not in (actual.get("capacityProviders") or []):
            return
        keep = [item for item in actual["capacityProviders"] if item != provider]
        default = [
            item for item in actual.get("defaultCapacityProviderStrategy") or [] if item["capacityProvider"] != provider
        ]
        self.changes.update(
            self.resource,
            ["capacityProviders"],
            self.ecs,
            "ecs",
            "put_cluster_capacity_providers",
            cluster=self.name,
            capacityProviders=keep,
            defaultCapacityProviderStrategy=default,
        )

    def ensure_absent(self):
        """Delete the cluster if it exists (ECS refuses while services, tasks or container instances remain)."""
        if self.find() is not None:
            self.changes.delete(self.resource, self.ecs, "ecs", "delete_cluster", cluster=self.name)


# --- services and their Application Auto Scaling target ---------------------------------------

# Application Auto Scaling's dimension of an ECS service: its desired count.
SCALABLE_DIMENSION = "ecs:service:DesiredCount"
# botocore's ECS waiter for a steady service (DescribeServices every 15 s): success when every
# service has one deployment and runningCount == desiredCount; failure when a service is MISSING,
# DRAINING or INACTIVE. terraform-provider-aws's waitServiceStable checks the same.
SERVICES_STABLE = "services_stable"
# Not an API call: moto runs no ECS tasks, so a service it reports short of its count never gets
# there (the entry ecs_deploy's rollout wait reports too, in reelle_aws.EMULATOR_UNSUPPORTED).
EMULATOR_WAIT = ("ecs", "wait_rollout_completed")


def clamp(count, low, high):
    """The desired count autoscaling's bounds allow (count itself when inside them)."""
    return min(max(count, low), high)


def service_resource_id(cluster, service):
    """Application Auto Scaling's ResourceId of an ECS service: ``service/<cluster name>/<service name>``."""
    return f"service/{cluster}/{service}"


def scalable_target_scope(cluster, service):
    """The three keys naming a service's scalable target in every Application Auto Scaling call."""
    return {
        "ServiceNamespace": "ecs",
        "ResourceId": service_resource_id(cluster, service),
        "ScalableDimension": SCALABLE_DIMENSION,
    }


def find_service(ecs, cluster, name):
    """The service as one DescribeServices call answers it, whatever its status; None when it or its cluster is missing.

    ECS keeps a deleted service for a while as DRAINING, then INACTIVE; the caller decides what
    those mean. When a service was deleted and created again under its name, the ACTIVE one is
    returned.
    """
    try:
        found = ecs.describe_services(cluster=cluster, services=[name], aws_retry=True)
    except is_boto3_error_code("ClusterNotFoundException"):
        return None
    services = found.get("services") or []
    return next((item for item in services if item.get("status") == "ACTIVE"), services[0] if services else None)


def find_scalable_target(client, cluster, service):
    """The service's scalable target (one DescribeScalableTargets call), or None when none is registered."""
    scope = scalable_target_scope(cluster, service)
    found = client.describe_scalable_targets(
        ServiceNamespace=scope["ServiceNamespace"],
        ResourceIds=[scope["ResourceId"]],
        ScalableDimension=scope["ScalableDimension"],
        aws_retry=True,
    ).get("ScalableTargets", [])
    return next((item for item in found if item.get("ResourceId") == scope["ResourceId"]), None)


def _waiter_state(acceptors, answer):
    """What a botocore waiter's acceptors make of an answer: 'success', 'failure', or None (keep waiting)."""
    return next((acceptor.state for acceptor in acceptors if acceptor.matcher_func(answer)), None)


def wait_service_stable(changes, ecs, service, timeout):
    """Wait until a service is steady by AWS's own rule, for up to ``timeout`` seconds.

    ``service`` is the service as last seen (a DescribeServices item, or UpdateService's answer):
    the first look is at it, without a call. AWS's rule is botocore's ``services_stable``
    waiter - its acceptors are evaluated on each DescribeServices answer - at its pace (15 s,
    scaled in tests) and for the attempts of reelle_waiters (``poll``: ceil(timeout / delay)).
    Polled here rather than with ``wait_for`` so the last answer is returned (the counts to
    report, or to explain a timeout) and the first look needs no call.

    On the emulator, which runs no tasks, a service not steady at the first look is not waited
    for: ``ecs:wait_rollout_completed`` goes to ``changes.skipped_calls``, as ecs_deploy does.

    Returns (the service as last seen, outcome, seconds waited); outcome is ``stable``,
    ``skipped`` (emulator), ``timeout`` or ``gone`` (the waiter's failure states: the service
    is MISSING, DRAINING or INACTIVE).
    """
    config = ecs.get_waiter(SERVICES_STABLE).config
    acceptors = config.acceptors
    first = {"services": [service], "failures": []}
    if _waiter_state(acceptors, first) is None and emulator_lacks(*EMULATOR_WAIT):
        changes.skipped_calls.append(":".join(EMULATOR_WAIT))
        return service, "skipped", 0
    pending = [first]

    def read():
        if pending:
            return pending.pop()
        return ecs.describe_services(cluster=service["clusterArn"], services=[service["serviceName"]], aws_retry=True)

    started = time.monotonic()
    answer, done = poll(read, lambda found: _waiter_state(acceptors, found) is not None, timeout, config.delay)
    waited = round(time.monotonic() - started)
    last = next(iter(answer.get("services") or []), service)
    if not done:
        return last, "timeout", waited
    return last, "stable" if _waiter_state(acceptors, answer) == "success" else "gone", waited
