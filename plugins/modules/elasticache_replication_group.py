#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elasticache_replication_group
short_description: Manage an ElastiCache (Redis OSS) replication group with cluster mode, TLS and AUTH
description:
  - Creates, modifies and deletes an ElastiCache replication group in cluster mode (shards x replicas),
    with Multi-AZ, automatic failover, encryption in transit and at rest, and an AUTH token kept in
    AWS Secrets Manager.
  - In the same call it manages the group's cache subnet group and its custom cache parameter group,
    so a role needs one task.
  - community.aws.elasticache cannot manage replication groups; this module fills that gap.
  - The AUTH token is generated on the controller when the Secrets Manager secret is missing, stored in
    the secret, passed to ElastiCache and never returned or logged.
  - Options that are not set leave the group's attribute as it is.
  - Changes that ElastiCache can only make by replacing the group (cluster mode, encryption, KMS key, port,
    subnet group) fail with a message; the group holds data and is never replaced implicitly.
  - Deleting the group needs O(final_snapshot_identifier) or O(confirm_delete) set to the group id.
  - In emulator mode (moto, C(REELLE_AWS_TARGET=emulator)) the calls it lacks (cache parameter groups,
    shard and replica count changes, subnet group changes) are skipped and listed in RV(skipped_calls).
author:
  - the reelle infrastructure authors (@reelle)
options:
  replication_group_id:
    description:
      - Identifier of the replication group (1-40 letters, digits and hyphens, starting with a letter).
    required: true
    type: str
    aliases: [name]
  state:
    description:
      - Whether the replication group should exist.
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Description of the replication group. Defaults to the id when the group is created.
    type: str
  engine:
    description:
      - Cache engine. V(redis) when the group is created and this is not set.
    type: str
    choices: [redis, valkey]
  engine_version:
    description:
      - Engine version, for example V(7.1). A version reported as V(7.1.0) matches V(7.1).
    type: str
  node_type:
    description:
      - Node type, for example V(cache.t3.medium). Required to create the group.
    type: str
  cluster_mode:
    description:
      - Cluster mode (data sharded over node groups). Cannot change once the group exists.
      - Enabled when the group is created and this is not set.
    type: bool
  num_node_groups:
    description:
      - Number of shards (node groups), 1-500. Changed with ModifyReplicationGroupShardConfiguration.
    type: int
  replicas_per_node_group:
    description:
      - Replicas in every shard, 0-5. Changed with IncreaseReplicaCount / DecreaseReplicaCount.
    type: int
  automatic_failover:
    description:
      - Automatic failover to a replica when a primary fails.
    type: bool
  multi_az:
    description:
      - Multi-AZ (replicas placed in other availability zones, failover across zones).
    type: bool
  port:
    description:
      - Port the nodes listen on. Cannot change once the group exists.
    type: int
  transit_encryption:
    description:
      - Encryption in transit (TLS). Cannot change once the group exists.
    type: bool
  at_rest_encryption:
    description:
      - Encryption at rest. Cannot change once the group exists.
    type: bool
  kms_key_id:
    description:
      - KMS key (id or ARN) for encryption at rest. Cannot change once the group exists.
    type: str
  auth_token_secret_name:
    description:
      - Name of the Secrets Manager secret holding the AUTH token (a plain string).
      - When the secret is missing, the module generates a 64-character token of letters and digits, creates the
        secret and uses it. When the group exists without AUTH, or the secret had to be created for an existing
        group, the token is rotated in (AuthTokenUpdateStrategy V(ROTATE)).
      - "A stored token ElastiCache would refuse (it accepts 16-128 letters, digits and C(! & # $ ^ < > -)) fails
        the module, naming the secret, before any ElastiCache call."
      - Requires O(transit_encryption). Not set leaves AUTH alone.
    type: str
  auth_token_secret_kms_key_id:
    description:
      - KMS key that encrypts the secret when the module creates it. The account's default key when not set.
    type: str
  parameter_group:
    description:
      - Cache parameter group of the group's nodes.
      - A name starting with V(default.) refers to an AWS default group, used as it is.
      - Any other name is a custom group this module creates (family O(parameter_group.family)) and keeps
        at O(parameter_group.parameters); V(cluster-enabled) is V(yes) unless O(cluster_mode=false).
      - Parameters not listed are left as they are. The group's family is not compared once it exists.
    type: dict
    suboptions:
      name:
        description: Name of the parameter group.
        type: str
        required: true
      family:
        description: Parameter group family.
        type: str
        default: redis7
      description:
        description: Description of a custom group. Defaults to its name.
        type: str
      parameters:
        description: Parameter names and values (booleans become V(yes)/V(no)).
        type: dict
        default: {}
  cache_subnet_group_name:
    description:
      - Name of the cache subnet group. Defaults to the group id when O(subnet_ids) is set.
      - Cannot change once the group exists.
    type: str
  subnet_ids:
    description:
      - Subnets of the cache subnet group. When set, the module creates or updates the subnet group.
      - Empty ids (an upstream resource that would be created in check mode) are ignored in check mode.
    type: list
    elements: str
  security_group_ids:
    description:
      - VPC security groups of the nodes.
    type: list
    elements: str
  snapshot_retention_limit:
    description:
      - Days automatic snapshots are kept, 0-35 (0 turns them off).
    type: int
  snapshot_window:
    description:
      - Daily UTC window for automatic snapshots, for example V(05:00-06:00).
    type: str
  maintenance_window:
    description:
      - Weekly UTC maintenance window, for example V(sun:06:00-sun:07:00).
    type: str
  apply_immediately:
    description:
      - Apply modifications now rather than in the next maintenance window.
    type: bool
    default: true
  wait:
    description:
      - Wait until the group is available after a change (or gone after deletion).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait, polling the group's status.
    type: int
    default: 3600
  final_snapshot_identifier:
    description:
      - With O(state=absent), name of the snapshot taken before the group is deleted.
    type: str
  confirm_delete:
    description:
      - With O(state=absent) and no O(final_snapshot_identifier), must equal O(replication_group_id) to
        delete the group (and its data) without a final snapshot.
    type: str
notes:
  - Check mode is supported. Against an empty account, upstream ids may be null; the creates are reported
    and the ids returned are null.
  - ElastiCache reports security groups, parameter group, engine version, maintenance window and subnet group
    on the member clusters; the module reads one member cluster for them (one call). The emulator does not
    create member clusters, so there those attributes are not compared (reported in RV(skipped_calls)).
  - The emulator never finishes deleting a group (it stays C(deleting)); the deletion wait is skipped there.
  - Tags of the custom parameter group and of the secret are set when they are created; the group's and the
    subnet group's tags are kept at O(tags).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Redis cluster mode, 3 shards x 1 replica, TLS, encryption at rest, AUTH from Secrets Manager
  reelle.infra.elasticache_replication_group:
    replication_group_id: reelle-staging-redis
    description: reelle-staging Redis (cluster mode enabled)
    engine_version: "7.1"
    node_type: cache.t3.medium
    num_node_groups: 3
    replicas_per_node_group: 1
    automatic_failover: true
    multi_az: false
    transit_encryption: true
    at_rest_encryption: true
    kms_key_id: "{{ aws_security_outputs.kms_key_arn }}"
    auth_token_secret_name: reelle-staging/redis/auth-token
    parameter_group:
      name: reelle-staging-redis7
      family: redis7
      parameters:
        maxmemory-policy: volatile-lru
    subnet_ids: "{{ aws_network_outputs.private_subnet_ids }}"
    security_group_ids:
      - "{{ aws_security_outputs.cache_security_group_id }}"
    snapshot_retention_limit: 1
    tags:
      environment: staging
  register: redis

- name: Delete the group, keeping a final snapshot
  reelle.infra.elasticache_replication_group:
    replication_group_id: reelle-staging-redis
    state: absent
    final_snapshot_identifier: reelle-staging-redis-final
"""

RETURN = r"""
replication_group_id:
  description: Id of the replication group.
  returned: always
  type: str
  sample: reelle-staging-redis
arn:
  description: ARN of the replication group; null when it would be created (check mode) or is absent.
  returned: always
  type: str
  sample: arn:aws:elasticache:us-east-1:123456789012:replicationgroup:reelle-staging-redis
configuration_endpoint:
  description: Configuration endpoint address (cluster mode); null when the group would be created or is absent.
  returned: always
  type: str
  sample: clustercfg.reelle-staging-redis.abc123.use1.cache.amazonaws.com
port:
  description: Port of the configuration endpoint; null when unknown.
  returned: always
  type: int
  sample: 6379
auth_secret_arn:
  description: ARN of the Secrets Manager secret holding the AUTH token; null when not used or would be created.
  returned: always
  type: str
  sample: arn:aws:secretsmanager:us-east-1:123456789012:secret:reelle-staging/redis/auth-token-AbCdEf
cache_subnet_group_name:
  description: Name of the cache subnet group used.
  returned: always
  type: str
  sample: reelle-staging-redis
parameter_group_name:
  description: Name of the cache parameter group used.
  returned: always
  type: str
  sample: reelle-staging-redis7
replication_group:
  description: The group as DescribeReplicationGroups reports it (snake_case) plus its tags; null when absent.
  returned: always
  type: dict
  sample:
    status: available
    cluster_enabled: true
    node_groups: [{node_group_id: "0001", node_group_members: [{cache_cluster_id: reelle-staging-redis-0001-001}]}]
    automatic_failover: enabled
    multi_az: disabled
    transit_encryption_enabled: true
    at_rest_encryption_enabled: true
    auth_token_enabled: true
    tags: {environment: staging}
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{action: update, resource: replication group reelle-staging-redis, attributes: [node_type]}]
skipped_calls:
  description: Calls the local emulator cannot serve, skipped there (made on AWS), as service:operation.
  returned: always
  type: list
  elements: str
  sample: ["elasticache:describe_cache_parameters"]
"""

import re
import secrets
import string

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    changed_attributes,
    differences,
    emulator_lacks,
    kms_key_id,
    on_emulator,
    run_manager,
    same_kms_key,
    snake,
    sync_tags,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_secrets import OwnedSecret
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import poll

GROUP_ID = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,39}(?<!-)$")
# The pace of botocore's ElastiCache waiters (replication_group_available / _deleted).
POLL_SECONDS = 15

# What ElastiCache accepts as an AUTH token: 16-128 printable ASCII characters, the only non-alphanumerics
# being ! & # $ ^ < > - (ElastiCache user guide, "Authenticating with the AUTH command"; API reference,
# CreateReplicationGroup AuthToken). The emulator accepts anything, AWS refuses the create.
AUTH_TOKEN = re.compile(r"^[A-Za-z0-9!&#$^<>-]{16,128}$")
AUTH_TOKEN_SPECIALS = "! & # $ ^ < > -"
# Generated tokens use letters and digits only: valid in ElastiCache, and safe in URLs, shells and config files.
AUTH_TOKEN_ALPHABET = string.ascii_letters + string.digits
AUTH_TOKEN_LENGTH = 64


def generate_auth_token(length=AUTH_TOKEN_LENGTH):
    """A random AUTH token of letters and digits, with at least one upper, one lower case letter and one digit."""
    while True:
        token = "".join(secrets.choice(AUTH_TOKEN_ALPHABET) for _ in range(length))
        if any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token):
            return token


def auth_token_problem(token):
    """Why ElastiCache would refuse this AUTH token (without quoting it), or None."""
    if not isinstance(token, str):
        return "it is not a plain string"
    if not 16 <= len(token) <= 128:
        return f"it has {len(token)} characters, not 16 to 128"
    if not AUTH_TOKEN.match(token):
        return f"it contains characters other than letters, digits and {AUTH_TOKEN_SPECIALS}"
    return None


# Attributes that ElastiCache changes only by replacing the group.
REPLACEMENT_ATTRIBUTES = ("cluster_mode", "transit_encryption", "at_rest_encryption", "kms_key_id", "port")

# Desired attribute -> ModifyReplicationGroup argument.
MODIFY_ARGUMENTS = {
    "description": "ReplicationGroupDescription",
    "engine": "Engine",
    "node_type": "CacheNodeType",
    "automatic_failover": "AutomaticFailoverEnabled",
    "multi_az": "MultiAZEnabled",
    "snapshot_retention_limit": "SnapshotRetentionLimit",
    "snapshot_window": "SnapshotWindow",
    "maintenance_window": "PreferredMaintenanceWindow",
    "security_group_ids": "SecurityGroupIds",
    "parameter_group_name": "CacheParameterGroupName",
    "engine_version": "EngineVersion",
}

# Attributes ElastiCache reports on the member clusters only.
MEMBER_ATTRIBUTES = ("maintenance_window", "security_group_ids", "parameter_group_name", "engine_version")


def _parameter_value(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _version_matches(desired, actual):
    return bool(actual) and (actual == desired or actual.startswith(f"{desired}."))


def group_view(group, member=None):
    """The comparable attributes of a described group (and one member cluster)."""
    node_groups = group.get("NodeGroups") or []
    # Cluster mode reports the port on the configuration endpoint, otherwise on the primary endpoint.
    endpoint = (
        group.get("ConfigurationEndpoint") or (node_groups[0].get("PrimaryEndpoint") if node_groups else None) or {}
    )
    view = {
        "description": group.get("Description"),
        "engine": group.get("Engine"),
        "node_type": group.get("CacheNodeType"),
        "cluster_mode": bool(group.get("ClusterEnabled")),
        "num_node_groups": len(node_groups),
        "replicas_per_node_group": sorted({len(ng.get("NodeGroupMembers") or []) - 1 for ng in node_groups}),
        "automatic_failover": group.get("AutomaticFailover") in ("enabled", "enabling"),
        "multi_az": group.get("MultiAZ") == "enabled",
        "port": endpoint.get("Port"),
        "transit_encryption": bool(group.get("TransitEncryptionEnabled")),
        "at_rest_encryption": bool(group.get("AtRestEncryptionEnabled")),
        "kms_key_id": kms_key_id(group.get("KmsKeyId")),
        "auth_token_enabled": bool(group.get("AuthTokenEnabled")),
        "snapshot_retention_limit": group.get("SnapshotRetentionLimit"),
        "snapshot_window": group.get("SnapshotWindow"),
    }
    if member is not None:
        view.update(
            maintenance_window=(member.get("PreferredMaintenanceWindow") or "").lower() or None,
            security_group_ids=[sg["SecurityGroupId"] for sg in member.get("SecurityGroups") or []],
            parameter_group_name=(member.get("CacheParameterGroup") or {}).get("CacheParameterGroupName"),
            engine_version=member.get("EngineVersion"),
            cache_subnet_group_name=member.get("CacheSubnetGroupName"),
        )
    return view


class ReplicationGroupManager:
    """Brings one replication group (and its subnet group, parameter group and AUTH secret) to the desired state."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.group_id = module.params["replication_group_id"]
        self.changes = ChangeSet(module)
        self.ec = aws_client(module, "elasticache")
        self._secret = None

    # --- helpers ------------------------------------------------------------

    @property
    def secret(self):
        """The AUTH token's secret; None without auth_token_secret_name."""
        name = self.params["auth_token_secret_name"]
        if self._secret is None and name:
            self._secret = OwnedSecret(
                self.module,
                self.changes,
                aws_client(self.module, "secretsmanager"),
                name,
                description=f"AUTH token of ElastiCache replication group {self.group_id}",
                kms_key_id=self.params["auth_token_secret_kms_key_id"],
                tags=self.params["tags"],
                purge_tags=self.params["purge_tags"],
                kept=(),  # the secret's KMS key is the one it was created with
            )
        return self._secret

    @property
    def resource(self):
        return f"replication group {self.group_id}"

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def ids(self, name):
        """A list of ids; empty ids (upstream not created yet) are allowed in check mode only."""
        values = self.params[name]
        if values is None:
            return None
        cleaned = [value for value in values if value]
        if len(cleaned) != len(values) and not self.module.check_mode:
            self.fail(f"{name} contains an empty id: {values}")
        return cleaned

    @property
    def subnet_group_name(self):
        name = self.params["cache_subnet_group_name"]
        if name is None and self.params["subnet_ids"] is not None:
            return self.group_id
        return name

    @property
    def parameter_group_name(self):
        group = self.params["parameter_group"]
        return group["name"] if group else None

    def validate(self):
        p = self.params
        problems = []
        if not GROUP_ID.match(self.group_id):
            problems.append(
                "replication_group_id must be 1-40 letters, digits or single hyphens, starting with a letter"
            )
        for name, low, high in (
            ("num_node_groups", 1, 500),
            ("replicas_per_node_group", 0, 5),
            ("snapshot_retention_limit", 0, 35),
            ("port", 1, 65535),
        ):
            if p[name] is not None and not low <= p[name] <= high:
                problems.append(f"{name} must be between {low} and {high}, not {p[name]}")
        if p["auth_token_secret_name"] and p["transit_encryption"] is False:
            problems.append("auth_token_secret_name (AUTH) requires transit_encryption")
        if p["kms_key_id"] and p["at_rest_encryption"] is False:
            problems.append("kms_key_id requires at_rest_encryption")
        group = p["parameter_group"]
        if group and group["name"].startswith("default.") and group["parameters"]:
            problems.append(f"parameter_group {group['name']} is an AWS default group: its parameters cannot be set")
        if p["automatic_failover"] is False and p["cluster_mode"] is not False:
            problems.append("cluster mode requires automatic_failover")
        if p["multi_az"] and p["automatic_failover"] is False:
            problems.append("multi_az requires automatic_failover")
        if problems:
            self.fail("Invalid parameters: " + "; ".join(problems))

    # --- reads --------------------------------------------------------------

    def describe_group(self):
        try:
            groups = self.ec.describe_replication_groups(aws_retry=True, ReplicationGroupId=self.group_id)
        except is_boto3_error_code("ReplicationGroupNotFoundFault"):
            return None
        return groups["ReplicationGroups"][0]

    def describe_member(self, group):
        """One member cluster: ElastiCache reports SGs, parameter group, version and windows there."""
        members = group.get("MemberClusters") or []
        if not members:
            return None
        try:
            clusters = self.ec.describe_cache_clusters(aws_retry=True, CacheClusterId=members[0])
        except is_boto3_error_code("CacheClusterNotFound"):
            if on_emulator():
                # moto lists member clusters but never creates them.
                self.changes.skipped_calls.append("elasticache:describe_cache_clusters")
                return None
            raise
        return clusters["CacheClusters"][0]

    def list_tags(self, arn):
        return tag_dict(self.ec.list_tags_for_resource(aws_retry=True, ResourceName=arn).get("TagList"))

    def wait_available(self):
        """Poll the group's status until it is available; returns the described group."""
        group, _done = poll(
            self.describe_group,
            lambda group: group is None or group["Status"] == "available",
            self.params["wait_timeout"],
            POLL_SECONDS,
        )
        if group is None:
            self.fail(f"{self.resource} disappeared while waiting for it to become available")
        if group["Status"] != "available":
            self.fail(f"Timed out after {self.params['wait_timeout']} s waiting for {self.resource}: {group['Status']}")
        return group

    def settle(self, response, group):
        """After a call that was made, wait until the group is available again."""
        if response is None or not self.params["wait"]:
            return group
        return self.wait_available()

    # --- tags ---------------------------------------------------------------

    def ensure_tags(self, resource, arn):
        """Keep a resource's tags at `tags` (purging others when purge_tags); returns the resulting tags."""
        desired = self.params["tags"]
        if desired is None or arn is None:
            return None
        current = self.list_tags(arn)
        made = len(self.changes.changes)
        sync_tags(
            self.changes,
            resource,
            current,
            desired,
            self.params["purge_tags"],
            lambda to_set: (
                self.ec,
                "elasticache",
                "add_tags_to_resource",
                {"ResourceName": arn, "Tags": tag_list(to_set)},
            ),
            lambda keys: (self.ec, "elasticache", "remove_tags_from_resource", {"ResourceName": arn, "TagKeys": keys}),
            note=True,
        )
        if len(self.changes.changes) == made:
            return current
        return dict(desired) if self.params["purge_tags"] else dict(current, **desired)

    # --- AUTH secret --------------------------------------------------------

    def read_token(self):
        """The AUTH token (generated in this run or stored), refused when ElastiCache would refuse it."""
        token = self.secret.value()
        problem = auth_token_problem(token)
        if problem:
            self.fail(
                f"The AUTH token stored in Secrets Manager secret {self.secret.name} would be rejected by "
                f"ElastiCache: {problem}. ElastiCache accepts 16-128 letters, digits and {AUTH_TOKEN_SPECIALS}. Put a "
                "valid token in the secret (or delete the secret so that the module generates one), then run again."
            )
        return token

    def token(self):
        """The AUTH token to send (None in check mode, where nothing is sent)."""
        return None if self.module.check_mode else self.read_token()

    def check_stored_token(self):
        """Before any ElastiCache call: find the AUTH secret and refuse a stored token AWS would reject.

        A token is stored first and reused on every run, so a bad one fails every create or rotation.
        """
        if self.secret is None:
            return
        found = self.secret.describe()
        if found is not None and not found.get("DeletedDate"):
            self.read_token()

    def ensure_secret(self):
        """The AUTH secret: (arn, whether this run creates it with a new token)."""
        if self.secret is None:
            return None, False
        answer = self.secret.ensure(generate_auth_token)
        return (answer or {}).get("ARN"), self.secret.created

    # --- subnet group -------------------------------------------------------

    def ensure_subnet_group(self):
        subnet_ids = self.ids("subnet_ids")
        name = self.subnet_group_name
        if subnet_ids is None:
            return
        resource = f"cache subnet group {name}"
        try:
            current = self.ec.describe_cache_subnet_groups(aws_retry=True, CacheSubnetGroupName=name)
            current = current["CacheSubnetGroups"][0]
        except is_boto3_error_code("CacheSubnetGroupNotFoundFault"):
            current = None
        description = f"Subnets of ElastiCache replication group {self.group_id}"
        if current is None:
            if not subnet_ids and not self.module.check_mode:
                self.fail(f"subnet_ids is empty: cannot create {resource}")
            self.changes.create(
                resource,
                self.ec,
                "elasticache",
                "create_cache_subnet_group",
                **scrub_none_parameters(
                    dict(
                        CacheSubnetGroupName=name,
                        CacheSubnetGroupDescription=description,
                        SubnetIds=subnet_ids,
                        Tags=tag_list(self.params["tags"]) if self.params["tags"] else None,
                    )
                ),
            )
            self.changes.note(resource, None, {"subnet_ids": subnet_ids})
            return
        actual = [subnet["SubnetIdentifier"] for subnet in current.get("Subnets") or []]
        if subnet_ids and differences(subnet_ids, actual):
            self.changes.update(
                resource,
                ["subnet_ids"],
                self.ec,
                "elasticache",
                "modify_cache_subnet_group",
                CacheSubnetGroupName=name,
                SubnetIds=subnet_ids,
            )
            self.changes.note(resource, {"subnet_ids": actual}, {"subnet_ids": subnet_ids})
        self.ensure_tags(resource, current.get("ARN"))

    # --- parameter group ----------------------------------------------------

    def desired_parameters(self):
        group = self.params["parameter_group"]
        values = {name: _parameter_value(value) for name, value in (group["parameters"] or {}).items()}
        values["cluster-enabled"] = "no" if self.params["cluster_mode"] is False else "yes"
        return values

    def describe_parameters(self, name):
        """User-set parameters of a group; None when it is missing; False when the emulator cannot tell."""
        if emulator_lacks("elasticache", "describe_cache_parameters"):
            self.changes.skipped_calls.append("elasticache:describe_cache_parameters")
            return False
        try:
            pages = self.ec.get_paginator("describe_cache_parameters").paginate(
                CacheParameterGroupName=name, Source="user"
            )
            return {item["ParameterName"]: item.get("ParameterValue") for page in pages for item in page["Parameters"]}
        except is_boto3_error_code("CacheParameterGroupNotFound"):
            return None

    def ensure_parameter_group(self, creating_group):
        group = self.params["parameter_group"]
        if not group or group["name"].startswith("default."):
            return
        name = group["name"]
        resource = f"cache parameter group {name}"
        current = self.describe_parameters(name)
        if current is False and not creating_group:
            return  # the emulator cannot read it back; it was set up when the group was created
        desired = self.desired_parameters()
        if current is None or current is False:
            self.changes.create(
                resource,
                self.ec,
                "elasticache",
                "create_cache_parameter_group",
                **scrub_none_parameters(
                    dict(
                        CacheParameterGroupName=name,
                        CacheParameterGroupFamily=group["family"],
                        Description=group["description"] or name,
                        Tags=tag_list(self.params["tags"]) if self.params["tags"] else None,
                    )
                ),
            )
            current = {}
        changed = {key: value for key, value in desired.items() if current.get(key) != value}
        if changed:
            self.changes.note(resource, {key: current.get(key) for key in changed}, changed)
            items = sorted(changed.items())
            for start in range(0, len(items), 20):  # ModifyCacheParameterGroup takes 20 at a time
                self.changes.update(
                    resource,
                    sorted(key for key, _ in items[start : start + 20]),
                    self.ec,
                    "elasticache",
                    "modify_cache_parameter_group",
                    CacheParameterGroupName=name,
                    ParameterNameValues=[
                        {"ParameterName": key, "ParameterValue": value} for key, value in items[start : start + 20]
                    ],
                )

    # --- replication group --------------------------------------------------

    def desired_view(self):
        p = self.params
        return {
            "description": p["description"],
            "engine": p["engine"],
            "node_type": p["node_type"],
            "cluster_mode": p["cluster_mode"],
            "num_node_groups": p["num_node_groups"],
            "replicas_per_node_group": None if p["replicas_per_node_group"] is None else [p["replicas_per_node_group"]],
            "automatic_failover": p["automatic_failover"],
            "multi_az": p["multi_az"],
            "port": p["port"],
            "transit_encryption": p["transit_encryption"],
            "at_rest_encryption": p["at_rest_encryption"],
            "kms_key_id": kms_key_id(p["kms_key_id"]),
            "auth_token_enabled": True if p["auth_token_secret_name"] else None,
            "snapshot_retention_limit": p["snapshot_retention_limit"],
            "snapshot_window": p["snapshot_window"],
            "maintenance_window": p["maintenance_window"].lower() if p["maintenance_window"] else None,
            "security_group_ids": self.ids("security_group_ids"),
            "parameter_group_name": self.parameter_group_name,
            "engine_version": p["engine_version"],
            "cache_subnet_group_name": self.subnet_group_name,
        }

    def create_group(self):
        p = self.params
        if not p["node_type"]:
            self.fail(f"node_type is required to create {self.resource}")
        token = None if self.secret is None else self.token()
        response = self.changes.create(
            self.resource,
            self.ec,
            "elasticache",
            "create_replication_group",
            **scrub_none_parameters(
                dict(
                    ReplicationGroupId=self.group_id,
                    ReplicationGroupDescription=p["description"] or self.group_id,
                    Engine=p["engine"] or "redis",
                    EngineVersion=p["engine_version"],
                    CacheNodeType=p["node_type"],
                    ClusterMode="disabled" if p["cluster_mode"] is False else "enabled",
                    NumNodeGroups=p["num_node_groups"],
                    ReplicasPerNodeGroup=p["replicas_per_node_group"],
                    AutomaticFailoverEnabled=p["automatic_failover"],
                    MultiAZEnabled=p["multi_az"],
                    Port=p["port"],
                    TransitEncryptionEnabled=p["transit_encryption"],
                    AtRestEncryptionEnabled=p["at_rest_encryption"],
                    KmsKeyId=p["kms_key_id"],
                    AuthToken=token,
                    CacheParameterGroupName=self.parameter_group_name,
                    CacheSubnetGroupName=self.subnet_group_name,
                    SecurityGroupIds=self.ids("security_group_ids"),
                    SnapshotRetentionLimit=p["snapshot_retention_limit"],
                    SnapshotWindow=p["snapshot_window"],
                    PreferredMaintenanceWindow=p["maintenance_window"],
                    Tags=tag_list(p["tags"]) if p["tags"] else None,
                )
            ),
        )
        self.changes.note(self.resource, None, scrub_none_parameters(self.desired_view()))
        if response is None:
            return None
        group = response["ReplicationGroup"]
        return self.wait_available() if p["wait"] else group

    def check_replacement(self, desired, actual):
        attributes = list(REPLACEMENT_ATTRIBUTES)
        if "cache_subnet_group_name" in actual:
            attributes.append("cache_subnet_group_name")
        found = differences({key: desired[key] for key in attributes}, actual)
        if found:
            details = ", ".join(f"{item['path']}: {item['actual']!r} -> {item['desired']!r}" for item in found)
            self.fail(
                f"{self.resource} cannot change {details} in place: ElastiCache would have to replace the group "
                "(and lose its data). Take a snapshot, delete the group (final_snapshot_identifier or confirm_delete) "
                "and create it again, or keep the current values.",
                changes=self.changes.changes,
            )

    def modify_arguments(self, desired, actual):
        wanted = {key: desired[key] for key in MODIFY_ARGUMENTS}
        if "engine_version" not in actual:
            for key in MEMBER_ATTRIBUTES:  # unknown: the member cluster could not be read
                wanted[key] = None
        found = differences(wanted, actual)
        return {MODIFY_ARGUMENTS[item["path"]]: wanted[item["path"]] for item in found}, changed_attributes(found)

    def update_group(self, group, secret_created):
        desired = self.desired_view()
        needs_member = any(desired[key] is not None for key in (*MEMBER_ATTRIBUTES, "cache_subnet_group_name"))
        actual = group_view(group, self.describe_member(group) if needs_member else None)
        if _version_matches(desired["engine_version"], actual.get("engine_version")):
            desired["engine_version"] = actual["engine_version"]
        if same_kms_key(self.params["kms_key_id"], group.get("KmsKeyId")):
            desired["kms_key_id"] = actual["kms_key_id"]  # the same key named another way (or not named)
        self.check_replacement(desired, actual)
        arguments, attributes = self.modify_arguments(desired, actual)
        rotate = self.secret is not None and (secret_created or not actual["auth_token_enabled"])
        if rotate:
            # A new secret for an existing group, or AUTH added: rotate the token in.
            attributes.append("auth_token")
            arguments.update(scrub_none_parameters({"AuthToken": self.token(), "AuthTokenUpdateStrategy": "ROTATE"}))
        if arguments:
            if group["Status"] != "available" and self.params["wait"] and not self.module.check_mode:
                group = self.wait_available()
            response = self.changes.update(
                self.resource,
                attributes,
                self.ec,
                "elasticache",
                "modify_replication_group",
                ReplicationGroupId=self.group_id,
                ApplyImmediately=self.params["apply_immediately"],
                **arguments,
            )
            group = self.settle(response, group)
        group = self.ensure_shards(group, actual)
        group = self.ensure_replicas(group, actual)
        after = {key: value if desired.get(key) is None else desired[key] for key, value in actual.items()}
        if rotate:
            after["auth_token_enabled"] = True
        if after != actual:
            self.changes.note(self.resource, actual, after)
        return group

    def ensure_shards(self, group, actual):
        desired = self.params["num_node_groups"]
        if desired is None or desired == actual["num_node_groups"]:
            return group
        arguments = {"NodeGroupCount": desired}
        if desired < actual["num_node_groups"]:
            ids = sorted(ng["NodeGroupId"] for ng in group["NodeGroups"])
            arguments["NodeGroupsToRemove"] = ids[desired:]
        response = self.changes.update(
            self.resource,
            ["num_node_groups"],
            self.ec,
            "elasticache",
            "modify_replication_group_shard_configuration",
            ReplicationGroupId=self.group_id,
            ApplyImmediately=True,
            **arguments,
        )
        return self.settle(response, group)

    def ensure_replicas(self, group, actual):
        desired = self.params["replicas_per_node_group"]
        counts = actual["replicas_per_node_group"]
        if desired is None or counts == [desired]:
            return group
        operation = "increase_replica_count" if min(counts, default=desired) < desired else "decrease_replica_count"
        response = self.changes.update(
            self.resource,
            ["replicas_per_node_group"],
            self.ec,
            "elasticache",
            operation,
            ReplicationGroupId=self.group_id,
            NewReplicaCount=desired,
            ApplyImmediately=True,
        )
        return self.settle(response, group)

    # --- entry points -------------------------------------------------------

    def outputs(self, group, secret_arn, tags=None):
        group = group or {}
        endpoint = group.get("ConfigurationEndpoint") or {}
        described = None
        if group:
            described = snake(group)
            if tags is not None:
                described["tags"] = tags
        return dict(
            replication_group_id=self.group_id,
            arn=group.get("ARN"),
            configuration_endpoint=endpoint.get("Address"),
            port=endpoint.get("Port"),
            auth_secret_arn=secret_arn,
            cache_subnet_group_name=self.subnet_group_name,
            parameter_group_name=self.parameter_group_name,
            replication_group=described,
        )

    def ensure_present(self):
        self.validate()
        self.check_stored_token()
        group = self.describe_group()
        if group is not None and group["Status"] in ("deleting", "deleted"):
            self.fail(f"{self.resource} is being deleted; run again once it is gone")
        self.ensure_subnet_group()
        self.ensure_parameter_group(creating_group=group is None)
        secret_arn, secret_created = self.ensure_secret()
        if group is None:
            group = self.create_group()
            tags = self.params["tags"]
        else:
            group = self.update_group(group, secret_created)
            tags = self.ensure_tags(self.resource, group["ARN"])
        return self.changes.result(**self.outputs(group, secret_arn, tags))

    def ensure_absent(self):
        group = self.describe_group()
        gone = group is None
        if group is not None and group["Status"] not in ("deleting", "deleted"):
            self.delete_group()
        if group is not None and self.params["wait"] and not self.module.check_mode:
            gone = self.wait_deleted()
        if gone or self.module.check_mode:
            self.delete_subnet_group()
            self.delete_parameter_group()
        self.delete_secret()
        if group is not None:
            self.changes.note(self.resource, {"status": group["Status"]}, None)
        return self.changes.result(**self.outputs(None, None))

    def delete_group(self):
        snapshot = self.params["final_snapshot_identifier"]
        if not snapshot and self.params["confirm_delete"] != self.group_id:
            self.fail(
                f"Refusing to delete {self.resource} and its data: set final_snapshot_identifier to keep a snapshot, "
                f"or confirm_delete: {self.group_id} to delete it without one"
            )
        self.changes.delete(
            self.resource,
            self.ec,
            "elasticache",
            "delete_replication_group",
            **scrub_none_parameters(dict(ReplicationGroupId=self.group_id, FinalSnapshotIdentifier=snapshot)),
        )

    def wait_deleted(self):
        if on_emulator():
            # moto keeps a deleted group in status "deleting" for ever.
            self.changes.skipped_calls.append("elasticache:describe_replication_groups (wait for deletion)")
            return False
        _group, gone = poll(self.describe_group, lambda group: group is None, self.params["wait_timeout"], POLL_SECONDS)
        if not gone:
            self.fail(f"Timed out after {self.params['wait_timeout']} s waiting for {self.resource} to be deleted")
        return True

    def delete_subnet_group(self):
        name = self.subnet_group_name
        if name is None or self.params["subnet_ids"] is None:
            return
        try:
            self.ec.describe_cache_subnet_groups(aws_retry=True, CacheSubnetGroupName=name)
        except is_boto3_error_code("CacheSubnetGroupNotFoundFault"):
            return
        if emulator_lacks("elasticache", "delete_cache_subnet_group"):
            # Not a change the emulator can make: reported in skipped_calls, never in the plan.
            self.changes.skipped_calls.append("elasticache:delete_cache_subnet_group")
            return
        self.changes.delete(
            f"cache subnet group {name}", self.ec, "elasticache", "delete_cache_subnet_group", CacheSubnetGroupName=name
        )

    def delete_parameter_group(self):
        name = self.parameter_group_name
        if name is None or name.startswith("default."):
            return
        # False: the emulator cannot read parameter groups (nor create them): nothing to delete there.
        if self.describe_parameters(name) in (None, False):
            return
        self.changes.delete(
            f"cache parameter group {name}",
            self.ec,
            "elasticache",
            "delete_cache_parameter_group",
            CacheParameterGroupName=name,
        )

    def delete_secret(self):
        if self.secret is not None:
            # Scheduled with Secrets Manager's recovery window: restorable for 30 days.
            self.secret.delete()


def argument_spec():
    return dict(
        replication_group_id=dict(type="str", required=True, aliases=["name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        engine=dict(type="str", choices=["redis", "valkey"]),
        engine_version=dict(type="str"),
        node_type=dict(type="str"),
        cluster_mode=dict(type="bool"),
        num_node_groups=dict(type="int"),
        replicas_per_node_group=dict(type="int"),
        automatic_failover=dict(type="bool"),
        multi_az=dict(type="bool"),
        port=dict(type="int"),
        transit_encryption=dict(type="bool"),
        at_rest_encryption=dict(type="bool"),
        kms_key_id=dict(type="str"),
        auth_token_secret_name=dict(type="str", no_log=False),
        auth_token_secret_kms_key_id=dict(type="str", no_log=False),
        parameter_group=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                family=dict(type="str", default="redis7"),
                description=dict(type="str"),
                parameters=dict(type="dict", default={}),
            ),
        ),
        cache_subnet_group_name=dict(type="str"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        snapshot_retention_limit=dict(type="int"),
        snapshot_window=dict(type="str"),
        maintenance_window=dict(type="str"),
        apply_immediately=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        final_snapshot_identifier=dict(type="str"),
        confirm_delete=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_manager(module, ReplicationGroupManager(module))


if __name__ == "__main__":
    main()
