# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ECS modules (ecs_deploy, ecs_ec2_capacity) share: the cluster (found by name, created
with what the caller manages, its settings, capacity providers and tags kept), ECS tag
reconciliation, and the rules of a capacity provider strategy.

Every mutation goes through the caller's ChangeSet (check mode, diff, the plan); the ECS client
is the caller's, from ``aws_client`` (its calls retry with ``aws_retry=True``).
"""

from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    changed_attributes,
    differences,
    sync_tags,
    tag_dict,
    tag_list,
)

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
