#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_global_database
short_description: An Aurora PostgreSQL global database (global cluster, regional clusters, instances) as one unit
description:
  - Owns the Aurora PostgreSQL topology in one call - the global cluster (optional), one primary cluster and
    any secondary clusters in other regions, their writer and reader instances, the DB subnet group of every
    cluster, an optional DB cluster parameter group per region and the master credentials in Secrets Manager.
  - The master password is generated once with Secrets Manager's GetRandomPassword into O(master_secret_name)
    (in the primary cluster's region). It is read back only when the primary cluster has to be created, is
    never returned or logged. Secondary clusters get no master credentials (AWS rejects them). When the
    secret has disappeared while the primary cluster exists, a new password is generated, stored and set
    on the cluster.
  - Reader instances are added and removed to match O(clusters[].instances); the writer of a cluster is
    never removed (the module fails when it is not listed). The instance class changes in place
    (ModifyDBInstance).
  - Any change that would replace a cluster (engine, another global cluster membership, encryption, KMS key,
    master user name, database name) fails with a message before anything is changed.
  - O(promote_region) makes the cluster in that region the writer of the global cluster
    (SwitchoverGlobalCluster through the writer's region, or FailoverGlobalCluster with AllowDataLoss through the
    target's region, as the Aurora user guide says). Nothing happens when that region already writes. With
    O(wait), the module then polls DescribeGlobalClusters in the target's region until the target is the writer
    and no C(FailoverState) is left, waits for the target cluster, and reads both clusters again before it
    converges them (the writer instances changed). A promotion to the target already running (an interrupted
    run) is waited for, not requested again.
  - A switchover runs before the instances that are not listed are deleted, so the old writer keeps its readers
    until it no longer writes.
  - The region that writes (RV(writer_region), RV(primary_region)) is read from the global cluster's members
    (C(IsWriter)), after a promotion read back from AWS, never assumed. When no member reports itself as the
    writer (the AWS emulator moto does not always), the region of the cluster with O(clusters[].role=primary) is
    returned.
  - A region outage (O(unreachable_regions)) - the module signs no call for those regions, not even a read. The
    global cluster is read through a region that answers (DescribeGlobalClusters lists a global cluster in the
    regions of its members); clusters of unreachable regions are neither read nor changed and are reported with
    status V(unreachable). When the writer's region is unreachable, O(promote_mode=auto) fails over
    (FailoverGlobalCluster with AllowDataLoss) before anything else is converged, and RV(data_loss_allowed) and
    a warning say that the writes not yet replicated are lost. The master secret's own region unreachable, it is
    neither read nor changed; its ARN is read from a replica in a region that answers.
  - Failback after a failover with data loss - AWS adds the old primary back to the global cluster as a secondary
    when its region recovers (after a snapshot C(rds:unplanned-global-failover-<cluster>-<timestamp>) of its old
    volume); the module then converges it as any secondary, and O(promote_region) switches back over. An old
    primary that is not a member again (it may hold writes the failover lost) is refused until
    O(confirm_rebuild) names it; then it leaves a final snapshot C(<identifier>-rebuild-<timestamp>) (kept), its
    instances and the cluster are deleted, and it is created anew as a secondary with the same identifier and
    settings (RV(rebuild_snapshot_identifiers)).
  - O(clusters[].role=primary) names the cluster created first with the master credentials and the region of the
    master secret; it stays so after a failover (RV(clusters) reports the roles AWS gives the clusters).
  - The no-op path reads DescribeGlobalClusters once, and per region DescribeDBClusters,
    DescribeDBInstances (filtered by cluster) and DescribeDBSubnetGroups, DescribeDBClusterParameters
    (user-set parameters, only with O(cluster_parameters)), and DescribeSecret once - 8 calls for two
    regions without cluster parameters, 10 with them.
  - Tags of the global cluster and of the subnet groups are set when they are created and not compared
    afterwards (that would cost a call per resource, and the emulator cannot tag global clusters).
  - Deleting (O(state=absent)) requires O(confirm_delete) set to the global cluster identifier (or to the
    primary cluster's identifier without a global cluster). Secondary clusters are detached and deleted first,
    then the primary; every cluster leaves a final snapshot. Deletion protection is turned off only there.
  - The AWS emulator (moto 5.2.5) lacks ModifyGlobalCluster; against it the call is skipped and listed in
    RV(skipped_calls) (FailoverGlobalCluster and SwitchoverGlobalCluster are made, the project's recording
    emulator serves them). It also cannot detach a member of another region from a global cluster, so there
    DeleteGlobalCluster fails as "not empty" after the clusters are gone; only against the emulator that is
    reported in RV(skipped_calls) instead.
options:
  state:
    description: Whether the database should exist.
    type: str
    choices: [present, absent]
    default: present
  global_cluster_identifier:
    description:
      - Identifier of the global cluster.
      - Not set - one regional cluster (the primary) without a global cluster.
    type: str
  engine:
    description: Database engine.
    type: str
    choices: [aurora-postgresql]
    default: aurora-postgresql
  engine_version:
    description:
      - Aurora PostgreSQL version (V(15.4)) or a major (V(15)). Required to create.
      - A newer minor than asked is left alone; a downgrade fails; a major upgrade needs O(allow_major_version_upgrade).
    type: str
  allow_major_version_upgrade:
    description: Allow O(engine_version) to name a newer major version than the clusters run.
    type: bool
    default: false
  storage_encrypted:
    description: Encrypt the clusters' storage. Cannot change once created.
    type: bool
    default: true
  deletion_protection:
    description: Deletion protection of the global cluster and every regional cluster.
    type: bool
    default: true
  master_username:
    description: Master user name of the primary cluster. Cannot change once created.
    type: str
    default: app_admin
  database_name:
    description: Name of the database created with the primary cluster. Cannot change once created.
    type: str
  master_secret_name:
    description: Secrets Manager secret (in the primary cluster's region) that holds the master credentials.
    type: str
    required: true
  master_secret_kms_key_id:
    description:
      - KMS key of the secret. Defaults to the primary cluster's O(clusters[].kms_key_id).
      - An existing secret under another key is changed to it (UpdateSecret).
    type: str
  master_secret_replica_regions:
    description:
      - Regions the master secret is replicated to (Secrets Manager replicas), so that the
        secondary region's tasks can read the credentials after a failover.
      - Regions not listed are left alone (a replica is never removed by this module).
    type: list
    elements: dict
    default: []
    suboptions:
      region:
        description: Region of the replica.
        type: str
        required: true
      kms_key_id:
        description: KMS key of the replica in that region (the AWS managed key when unset).
        type: str
  clusters:
    description:
      - The regional clusters, exactly one with O(clusters[].role=primary). Required with O(state=present).
      - Upstream ids may be null in check mode (the network would be created by an earlier role).
    type: list
    elements: dict
    suboptions:
      region:
        description: AWS region of the cluster (one cluster per region).
        type: str
        required: true
      identifier:
        description: DB cluster identifier.
        type: str
        required: true
      role:
        description: V(primary) is created first with the master credentials; V(secondary) joins the global cluster.
        type: str
        choices: [primary, secondary]
        default: secondary
      db_subnet_group_name:
        description:
          - Name of the cluster's DB subnet group, converged by the module.
          - Defaults to O(clusters[].identifier).
        type: str
      subnet_ids:
        description: Subnets of the DB subnet group (private, one per availability zone). Required to create it.
        type: list
        elements: str
      vpc_security_group_ids:
        description: Security groups of the cluster.
        type: list
        elements: str
      kms_key_id:
        description: KMS key (ARN) that encrypts the cluster's storage (a key of the cluster's region).
        type: str
      instance_class:
        description: Instance class of the cluster's instances (for example V(db.r5.xlarge)).
        type: str
      instances:
        description:
          - The cluster's instances; the first one created becomes the writer, the others are readers.
          - Not set - instances are left alone. Instances of the cluster not listed here are deleted,
            except the writer.
        type: list
        elements: dict
        suboptions:
          identifier:
            description: DB instance identifier.
            type: str
            required: true
          availability_zone:
            description: Availability zone of a new instance (spread them for Multi-AZ). Cannot change.
            type: str
          promotion_tier:
            description: Failover priority, 0 (first) to 15.
            type: int
          instance_class:
            description: Instance class of this instance. Defaults to O(clusters[].instance_class).
            type: str
  backup_retention_period:
    description: Days automated backups are kept (1-35).
    type: int
  preferred_backup_window:
    description: Daily backup window in UTC, C(hh24:mi-hh24:mi).
    type: str
  preferred_maintenance_window:
    description: Weekly maintenance window in UTC, C(ddd:hh24:mi-ddd:hh24:mi).
    type: str
  copy_tags_to_snapshot:
    description: Copy the clusters' tags to their snapshots. New clusters do.
    type: bool
  enable_cloudwatch_logs_exports:
    description: Log types exported to CloudWatch Logs (V(postgresql)).
    type: list
    elements: str
  cluster_parameter_group_name:
    description:
      - DB cluster parameter group of every cluster, created in each region (family C(aurora-postgresql<major>))
        when O(cluster_parameters) is set. Not set - the clusters' group is left alone.
    type: str
  cluster_parameters:
    description:
      - Parameters of O(cluster_parameter_group_name), name to value (for example C(max_connections)).
      - Parameters not named are left alone. The emulator has no parameter catalogue, so names are not checked.
    type: dict
  primary_tags:
    description: Tags of the primary cluster only, on top of O(tags) (for example the AWS Backup selection tag).
    type: dict
  promote_region:
    description: Region whose cluster should be the writer of the global cluster. Not set - no promotion.
    type: str
  promote_mode:
    description:
      - V(auto) switches over when the current primary cluster is available and fails over (AllowDataLoss)
        otherwise; V(switchover) and V(failover) force one of them.
    type: str
    choices: [auto, switchover, failover]
    default: auto
  unreachable_regions:
    description:
      - Regions of O(clusters) the module must not call at all, not even to read (a region outage). Their clusters
        are left alone and reported with status V(unreachable).
      - At least one region must answer; O(promote_region) must answer; O(promote_mode=switchover) is refused while
        the writer's region is unreachable (a switchover needs the primary; fail over instead, allowing data loss).
        With O(state=absent) it is refused. No global cluster is created while a region is unreachable.
    type: list
    elements: str
    default: []
  confirm_rebuild:
    description:
      - The identifier of a cluster that exists but is no longer a member of the global cluster another region
        writes (after a failover with data loss), repeated to confirm that it is rebuilt as a secondary - a final
        snapshot C(<identifier>-rebuild-<timestamp>) keeps its data, then its instances and the cluster are
        deleted and created anew. Without it such a cluster fails the run before anything changes.
    type: str
  apply_immediately:
    description: Apply modifications now instead of in the next maintenance window.
    type: bool
    default: true
  wait:
    description: Wait until created or modified clusters and instances are available (and deleted ones gone).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait per cluster or instance.
    type: int
    default: 3600
  confirm_delete:
    description:
      - With O(state=absent), the global cluster identifier (or, without one, the primary cluster's identifier)
        repeated to confirm that the database goes.
    type: str
  secret_recovery_window_days:
    description: Days a deleted master secret can still be restored.
    type: int
    default: 30
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
author:
  - the reelle infrastructure authors (@reelle)
"""

EXAMPLES = r"""
- name: Ensure the prod global database (us-east-1 writes, eu-west-1 follows)
  reelle.infra.aurora_global_database:
    global_cluster_identifier: reelle-prod-global
    engine_version: "15.4"
    master_secret_name: reelle-prod/aurora/master
    database_name: reelle
    backup_retention_period: 30
    preferred_backup_window: "03:00-04:00"
    copy_tags_to_snapshot: true
    enable_cloudwatch_logs_exports: [postgresql]
    cluster_parameter_group_name: reelle-prod-aurora-pg15
    cluster_parameters:
      max_connections: 1000
    tags: {project: reelle, environment: prod}
    primary_tags: {backup: hourly}
    clusters:
      - region: us-east-1
        role: primary
        identifier: reelle-prod-primary
        subnet_ids: "{{ aws_network_outputs.private_subnet_ids }}"
        vpc_security_group_ids: ["{{ aws_security_outputs.database_security_group_id }}"]
        kms_key_id: "{{ aws_security_outputs.kms_key_arn }}"
        instance_class: db.r5.xlarge
        instances:
          - {identifier: reelle-prod-primary-1, availability_zone: us-east-1a, promotion_tier: 0}
          - {identifier: reelle-prod-primary-2, availability_zone: us-east-1b, promotion_tier: 1}
          - {identifier: reelle-prod-primary-3, availability_zone: us-east-1c, promotion_tier: 1}
      - region: eu-west-1
        role: secondary
        identifier: reelle-prod-secondary
        subnet_ids: "{{ hostvars['prod-eu-west-1'].aws_network_outputs.private_subnet_ids }}"
        vpc_security_group_ids: ["{{ hostvars['prod-eu-west-1'].aws_security_outputs.database_security_group_id }}"]
        kms_key_id: "{{ hostvars['prod-eu-west-1'].aws_security_outputs.kms_key_arn }}"
        instance_class: db.r5.xlarge
        instances:
          - {identifier: reelle-prod-secondary-1}

- name: Disaster recovery - make eu-west-1 the writer (switchover when us-east-1 is healthy)
  reelle.infra.aurora_global_database:
    global_cluster_identifier: reelle-prod-global
    master_secret_name: reelle-prod/aurora/master
    clusters: "{{ aurora_clusters }}"
    promote_region: eu-west-1

- name: Disaster recovery while us-east-1 is down - fail over to eu-west-1 (allowing data loss), no call to us-east-1
  reelle.infra.aurora_global_database:
    global_cluster_identifier: reelle-prod-global
    master_secret_name: reelle-prod/aurora/master
    master_secret_replica_regions: [{region: eu-west-1}]
    clusters: "{{ aurora_clusters_with_three_instances_in_eu_west_1 }}"
    unreachable_regions: [us-east-1]
    promote_region: eu-west-1

- name: Failback once us-east-1 answers - rebuild its cluster as a secondary if it left, then switch over
  reelle.infra.aurora_global_database:
    global_cluster_identifier: reelle-prod-global
    master_secret_name: reelle-prod/aurora/master
    engine_version: "15.4"
    clusters: "{{ aurora_clusters }}"
    confirm_rebuild: reelle-prod-primary
    promote_region: us-east-1
    promote_mode: switchover

- name: Delete it all (final snapshots are kept)
  reelle.infra.aurora_global_database:
    state: absent
    global_cluster_identifier: reelle-prod-global
    master_secret_name: reelle-prod/aurora/master
    clusters: "{{ aurora_clusters }}"
    confirm_delete: reelle-prod-global
"""

RETURN = r"""
global_cluster_arn:
  description: ARN of the global cluster; null without one or when it does not exist yet (check mode).
  returned: always
  type: str
  sample: arn:aws:rds::123456789012:global-cluster:reelle-prod-global
primary_region:
  description:
    - Region of the cluster that writes. From the global cluster's members; the region of the cluster
      with role primary when no member reports itself the writer (the emulator).
    - After a promotion, read back from AWS (with O(wait), once the promotion has finished; without, as AWS
      answers right after the call; in check mode the writer before it).
  returned: always
  type: str
  sample: us-east-1
writer_region:
  description: The same as RV(primary_region).
  returned: always
  type: str
  sample: eu-west-1
data_loss_allowed:
  description: Whether this run made (or, in check mode, would make) a failover with AllowDataLoss.
  returned: always
  type: bool
  sample: true
rebuild_snapshot_identifiers:
  description: Final snapshots of the clusters rebuilt as secondaries in this run (O(confirm_rebuild)); kept.
  returned: when state is present
  type: list
  elements: str
  sample: [reelle-prod-primary-rebuild-20260102-000000]
clusters:
  description:
    - Per region, the cluster's identifier, role, ARN, endpoints, instances, writer instance and status.
    - C(role) as AWS has it - V(primary) (it writes) or V(secondary) by the global cluster's members, V(detached)
      for a cluster outside the global cluster (see O(confirm_rebuild)); a cluster not created yet, what it would
      be created as.
    - C(status) V(unreachable) for a cluster of O(unreachable_regions) (not read - no endpoint, no instances).
    - Nulls for clusters that do not exist yet (check mode).
  returned: always
  type: dict
  sample:
    us-east-1:
      identifier: reelle-prod-primary
      role: primary
      arn: arn:aws:rds:us-east-1:123456789012:cluster:reelle-prod-primary
      endpoint: reelle-prod-primary.cluster-abc.us-east-1.rds.amazonaws.com
      reader_endpoint: reelle-prod-primary.cluster-ro-abc.us-east-1.rds.amazonaws.com
      instance_ids: [reelle-prod-primary-1, reelle-prod-primary-2, reelle-prod-primary-3]
      writer: reelle-prod-primary-1
      status: available
master_secret_arn:
  description: ARN of the secret with the master credentials; null when it does not exist yet.
  returned: always
  type: str
  sample: arn:aws:secretsmanager:us-east-1:123456789012:secret:reelle-prod/aurora/master-AbCdEf
master_secret_replica_arns:
  description: ARN of the master secret's replica, by region (O(master_secret_replica_regions)); {} before it exists.
  returned: always
  type: dict
  sample: {eu-west-1: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reelle-prod/aurora/master-AbCdEf"}
backup_retention_period:
  description: Backup retention of the primary cluster in days; null when it does not exist yet.
  returned: always
  type: int
  sample: 30
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{action: create, resource: db_cluster us-east-1/reelle-prod-primary, attributes: []}]
skipped_calls:
  description: Calls the local emulator cannot serve that were skipped (C(service:operation)); empty on AWS.
  returned: always
  type: list
  elements: str
  sample: [rds:modify_global_cluster]
diff:
  description: Before and after of every changed resource, with --diff.
  returned: when diff mode is on
  type: dict
  sample: {before: {}, after: {}}
final_snapshot_identifiers:
  description: Snapshots taken of the deleted clusters.
  returned: when state is absent
  type: list
  elements: str
  sample: [reelle-prod-secondary-final-20260102-000000, reelle-prod-primary-final-20260102-000000]
"""

import contextlib
from datetime import UTC, datetime

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    arn,
    aws_client,
    changed_attributes,
    differences,
    on_emulator,
    paginate,
    partition_for,
    run_manager,
    same_kms_key,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_rds import (
    MasterSecret,
    delete_db_subnet_group,
    describe_db_subnet_group,
    describe_or_none,
    engine_upgrade,
    ensure_db_subnet_group,
    parameter_batches,
    parameter_value,
    sync_rds_tags,
    version_change,
    version_tuple,
    wait_for,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_secrets import replica_arn
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import poll

# No waiter exists for a member leaving a global cluster; terraform-provider-aws polls
# DescribeGlobalClusters until the member is gone (waitGlobalClusterMemberRemoved).
MEMBER_POLL_DELAY = 15
# No waiter exists for a switchover or failover either: DescribeGlobalClusters shows FailoverState
# (pending, switching-over, failing-over, cancelling) while one runs and the members' IsWriter once done.
PROMOTION_POLL_DELAY = 15
MAX_INSTANCES = 16  # one writer and up to 15 readers


def arn_part(value, part):
    """A part of an ARN (region, account_id, ...) by amazon.aws's parse_aws_arn; None without an ARN."""
    return (parse_aws_arn(value or "") or {}).get(part)


def members(glob):
    """The GlobalClusterMembers of a described global cluster ([] without one)."""
    return (glob or {}).get("GlobalClusterMembers") or []


def writer_arn(glob):
    """ARN of the member that writes (IsWriter), None when no member says so."""
    return next((m.get("DBClusterArn") for m in members(glob) if m.get("IsWriter")), None)


def member_of(glob, region, identifier):
    """The member of a global cluster that is the cluster ``identifier`` of ``region`` (by its ARN), or None."""
    for member in members(glob):
        parts = parse_aws_arn(member.get("DBClusterArn") or "") or {}
        # RDS stores identifiers in lower case.
        if parts.get("region") == region and (parts.get("resource") or "").lower() == f"cluster:{identifier}".lower():
            return member
    return None


def switchover_refused(region):
    return (
        f"promote_mode switchover needs the primary (writer) cluster, and its region {region} is in "
        "unreachable_regions: a switchover first synchronizes the secondary with the primary, so it cannot run "
        "without it; use promote_mode failover (or auto), which fails over with AllowDataLoss - the writes not yet "
        "replicated are lost"
    )


def cluster_view(cluster):
    """The cluster attributes we manage, as the API names them."""
    pending = cluster.get("PendingModifiedValues") or {}
    return {
        "BackupRetentionPeriod": pending.get("BackupRetentionPeriod", cluster.get("BackupRetentionPeriod")),
        "PreferredBackupWindow": cluster.get("PreferredBackupWindow"),
        "PreferredMaintenanceWindow": (cluster.get("PreferredMaintenanceWindow") or "").lower() or None,
        "CopyTagsToSnapshot": cluster.get("CopyTagsToSnapshot"),
        "DeletionProtection": cluster.get("DeletionProtection"),
        "VpcSecurityGroupIds": [group["VpcSecurityGroupId"] for group in cluster.get("VpcSecurityGroups", [])],
        "DBClusterParameterGroupName": cluster.get("DBClusterParameterGroup"),
        "EnableCloudwatchLogsExports": cluster.get("EnabledCloudwatchLogsExports") or [],
    }


def instance_view(instance):
    pending = instance.get("PendingModifiedValues") or {}
    return {
        "DBInstanceClass": pending.get("DBInstanceClass", instance.get("DBInstanceClass")),
        "PromotionTier": instance.get("PromotionTier"),
    }


class AuroraGlobalDatabase:
    """Reads everything first, validates, then applies: nothing is touched when a check fails."""

    def __init__(self, module):
        self.module = module
        self.params = dict(module.params)
        self.changes = ChangeSet(module)
        self.step = "reading the database"
        self.specs = []
        for item in self.params["clusters"] or []:
            spec = dict(item)
            # Upstream ids are null in check mode against an empty account: treat them as not set.
            for option in ("subnet_ids", "vpc_security_group_ids"):
                spec[option] = [item for item in spec[option] or [] if item] or None
            spec["db_subnet_group_name"] = spec["db_subnet_group_name"] or spec["identifier"]
            self.specs.append(spec)
        self.specs.sort(key=lambda spec: spec["role"] != "primary")  # primary first
        primaries = [spec for spec in self.specs if spec["role"] == "primary"]
        self.primary = primaries[0] if primaries else None
        self.home_region = (self.primary or (self.specs[0] if self.specs else {})).get("region") or module.region
        self.unreachable = set(self.params["unreachable_regions"] or [])
        # The global cluster is read and changed through the home region, or through a member region that answers
        # (DescribeGlobalClusters lists a global cluster in each region of its members).
        candidates = [self.home_region, self.params["promote_region"], *(spec["region"] for spec in self.specs)]
        self.global_region = next((r for r in candidates if r and self.reachable(r)), self.home_region)
        self.global_id = self.params["global_cluster_identifier"]
        self._rds = {}
        self.master = self.master_secret()
        self.touched_clusters = []
        self.touched_instances = []
        self.data_loss_allowed = False
        self.rebuild_snapshots = []
        self.deferred_deletes = set()  # regions whose reader deletions wait for a promotion without wait to settle
        self.stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")  # snapshot ids are lower case

    def master_secret(self):
        primary = self.primary or {}
        return MasterSecret(
            self.module,
            self.changes,
            aws_client(self.module, "secretsmanager", self.home_region),
            self.params["master_secret_name"],
            self.params["master_username"],
            {
                "engine": "postgres",
                "port": 5432,
                "dbname": self.params["database_name"],
                "dbClusterIdentifier": primary.get("identifier"),
            },
            description=f"Master credentials of the Aurora PostgreSQL cluster {primary.get('identifier')}",
            kms_key_id=self.params["master_secret_kms_key_id"] or primary.get("kms_key_id"),
            replica_regions=self.params["master_secret_replica_regions"],
            tags=self.params["tags"],
            purge_tags=self.params["purge_tags"],
        )

    def reachable(self, region):
        return region not in self.unreachable

    @property
    def reachable_specs(self):
        return [spec for spec in self.specs if self.reachable(spec["region"])]

    def rds(self, region):
        if not self.reachable(region):
            # A bug, never an answer of AWS: no call is signed for a region of unreachable_regions.
            self.module.fail_json(
                msg=f"Internal error: a call to {region} (unreachable_regions) was about to be made, {self.step}"
            )
        if region not in self._rds:
            self._rds[region] = aws_client(self.module, "rds", region)
        return self._rds[region]

    # --- reads ----------------------------------------------------------------

    def describe_global(self, region=None):
        """The global cluster as DescribeGlobalClusters answers in ``region`` (the global region by default)."""
        if not self.global_id:
            return None
        answer = describe_or_none(
            ("GlobalClusterNotFoundFault",),
            self.rds(region or self.global_region).describe_global_clusters,
            GlobalClusterIdentifier=self.global_id,
        )
        # The emulator answers with every global cluster whatever the identifier: pick ours.
        found = [g for g in (answer or {}).get("GlobalClusters", []) if g["GlobalClusterIdentifier"] == self.global_id]
        return found[0] if found else None

    def describe_cluster(self, spec):
        found = self.rds(spec["region"]).describe_db_clusters(
            aws_retry=True, Filters=[{"Name": "db-cluster-id", "Values": [spec["identifier"]]}]
        )["DBClusters"]
        return found[0] if found else None

    def describe_instances(self, spec):
        found = paginate(
            self.rds(spec["region"]),
            "describe_db_instances",
            "DBInstances",
            Filters=[{"Name": "db-cluster-id", "Values": [spec["identifier"]]}],
        )
        return {instance["DBInstanceIdentifier"]: instance for instance in found}

    def describe_cluster_parameters(self, spec):
        """User-set parameters of the cluster parameter group; None when the group does not exist."""
        if not (self.params["cluster_parameter_group_name"] and self.params["cluster_parameters"]):
            return None
        try:
            found = paginate(
                self.rds(spec["region"]),
                "describe_db_cluster_parameters",
                "Parameters",
                DBClusterParameterGroupName=self.params["cluster_parameter_group_name"],
                Source="user",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in (
                "DBParameterGroupNotFound",
                "DBParameterGroupNotFoundFault",
            ):
                return None
            raise
        return {item["ParameterName"]: item.get("ParameterValue") for item in found}

    def read(self, groups=True):
        """Global cluster, and per region the cluster, its instances (and subnet group, parameters).

        A region of unreachable_regions is not read: its entry has no cluster and ``unreachable`` set.
        """
        self.step = "reading the database"
        state = {"global": self.describe_global(), "regions": {}}
        for spec in self.specs:
            if not self.reachable(spec["region"]):
                state["regions"][spec["region"]] = {
                    "cluster": None,
                    "instances": {},
                    "subnet_group": None,
                    "parameters": None,
                    "unreachable": True,
                }
                continue
            region = self.read_region(spec)
            if groups:
                region["subnet_group"] = describe_db_subnet_group(
                    self.rds(spec["region"]), spec["db_subnet_group_name"]
                )
                region["parameters"] = self.describe_cluster_parameters(spec)
            state["regions"][spec["region"]] = region
        return state

    def read_region(self, spec):
        cluster = self.describe_cluster(spec)
        return {"cluster": cluster, "instances": self.describe_instances(spec) if cluster else {}}

    # --- validation -----------------------------------------------------------

    def input_problems(self):
        problems = []
        regions = [spec["region"] for spec in self.specs]
        if self.params["state"] == "present" and not self.specs:
            problems.append("clusters must list at least the primary cluster")
        if self.specs and len([spec for spec in self.specs if spec["role"] == "primary"]) != 1:
            problems.append("clusters must have exactly one cluster with role primary")
        if len(set(regions)) != len(regions):
            problems.append(f"clusters has more than one cluster in a region ({', '.join(regions)})")
        if not self.global_id and len(self.specs) > 1:
            problems.append("clusters has secondary clusters: they need global_cluster_identifier")
        for spec in self.specs:
            instances = spec["instances"]
            if instances is not None and not 1 <= len(instances) <= MAX_INSTANCES:
                problems.append(
                    f"clusters[{spec['identifier']}].instances must list 1 writer and 0 to 15 readers "
                    f"(1-{MAX_INSTANCES} instances), not {len(instances)}"
                )
            for instance in instances or []:
                tier = instance["promotion_tier"]
                if tier is not None and not 0 <= tier <= 15:
                    problems.append(f"promotion_tier of {instance['identifier']} must be between 0 and 15, not {tier}")
        return problems + self.option_problems(regions)

    def option_problems(self, regions):
        problems = []
        retention = self.params["backup_retention_period"]
        if retention is not None and not 1 <= retention <= 35:
            problems.append(f"backup_retention_period must be between 1 and 35 days, not {retention}")
        if self.params["cluster_parameters"] and not self.params["cluster_parameter_group_name"]:
            problems.append("cluster_parameters need cluster_parameter_group_name")
        promote = self.params["promote_region"]
        if promote and promote not in regions:
            problems.append(f"promote_region {promote} is not the region of any of clusters ({', '.join(regions)})")
        if promote and not self.global_id:
            problems.append("promote_region needs global_cluster_identifier (a regional cluster has no other region)")
        return problems + self.reach_input_problems(regions)

    def reach_input_problems(self, regions):
        """unreachable_regions against the other options (no call needed)."""
        problems = []
        unreachable = self.params["unreachable_regions"] or []
        if not unreachable:
            return problems
        unknown = [region for region in unreachable if region not in regions]
        if unknown:
            problems.append(
                f"unreachable_regions {', '.join(unknown)} is not the region of any of clusters ({', '.join(regions)})"
            )
        if regions and all(region in self.unreachable for region in regions):
            problems.append("unreachable_regions lists every region of clusters: at least one region must answer")
        if self.params["state"] == "absent":
            problems.append(
                "state=absent cannot run with unreachable_regions: the clusters there would be left behind; "
                "delete once every region answers"
            )
        promote = self.params["promote_region"]
        if promote and promote in self.unreachable:
            problems.append(
                f"promote_region {promote} is in unreachable_regions: the module makes no call there, so it cannot "
                "promote its cluster; promote a region that answers"
            )
        primary_region = (self.primary or {}).get("region")
        if (
            promote
            and self.params["promote_mode"] == "switchover"
            and primary_region in self.unreachable
            and promote != primary_region
        ):
            problems.append(switchover_refused(primary_region))
        return problems

    def replacement_problems(self, state):
        params = self.params
        problems = []
        how = "a new cluster restored from a snapshot (delete with confirm_delete, then restore)"
        glob = state["global"]
        if glob is not None:
            if glob.get("Engine") != params["engine"]:
                problems.append(
                    f"global cluster {self.global_id} runs engine {glob.get('Engine')}, not {params['engine']}: "
                    "that would replace it; name another global_cluster_identifier"
                )
            if bool(glob.get("StorageEncrypted")) != params["storage_encrypted"]:
                problems.append(
                    f"global cluster {self.global_id} has StorageEncrypted {glob.get('StorageEncrypted')}, not "
                    f"{params['storage_encrypted']}: that would replace it; name another global_cluster_identifier"
                )
        for spec in self.specs:
            cluster = state["regions"][spec["region"]]["cluster"]
            if cluster is not None and not self.detached(spec, state):  # a detached cluster is rebuilt, not changed
                problems.extend(self.cluster_problems(spec, cluster, how))
                problems.extend(self.writer_problems(spec, cluster))
        return problems

    # after a failover with data loss

    def detached(self, spec, state):
        """Whether the cluster exists outside the global cluster while another region's member writes.

        AWS's managed failover (FailoverGlobalCluster with AllowDataLoss) adds the old primary back as a
        secondary when its region recovers, after a snapshot rds:unplanned-global-failover-<cluster>-<time>
        of its old volume (Aurora user guide, "Recovering an Amazon Aurora global database from an unplanned
        outage"). A cluster that is not a member again (AWS did not re-add it, or it was detached by hand) may
        hold writes the new writer never got: it can only be rebuilt (``confirm_rebuild``).
        """
        glob = state["global"]
        cluster = state["regions"][spec["region"]]["cluster"]
        if glob is None or cluster is None:
            return False
        if (cluster.get("GlobalClusterIdentifier") or self.global_id) != self.global_id:
            return False  # a member of another global cluster: cluster_problems refuses it
        if cluster.get("DBClusterArn") in {m.get("DBClusterArn") for m in members(glob)}:
            return False
        writer = writer_arn(glob)
        return writer is not None and arn_part(writer, "region") != spec["region"]

    def rebuild_problems(self, state):
        problems = []
        for spec in self.reachable_specs:
            if not self.detached(spec, state):
                continue
            identifier = spec["identifier"]
            writer = arn_part(writer_arn(state["global"]), "region")
            if self.params["confirm_rebuild"] != identifier:
                problems.append(
                    f"cluster {identifier} ({spec['region']}) exists but is not a member of global cluster "
                    f"{self.global_id}, whose writer is in {writer}: after a failover with data loss AWS adds the old "
                    "primary back as a secondary once its region recovers, and this cluster was not; it may hold "
                    "writes the failover lost, and it can only be rebuilt. Set confirm_rebuild to "
                    f"{identifier!r} to take a final snapshot of it ({identifier}-rebuild-<timestamp>, kept, with "
                    "those writes), delete its instances and the cluster, and create it anew as a secondary of "
                    f"{self.global_id} with the same identifier and settings. Nothing is changed until then; AWS may "
                    f"also keep a snapshot rds:unplanned-global-failover-{identifier}-<timestamp> of its old volume"
                )
            elif not self.reachable(writer):
                problems.append(
                    f"cluster {identifier} can only be rebuilt as a secondary of the writer in {writer}, which is in "
                    f"unreachable_regions: rebuild it once {writer} answers"
                )
        return problems

    # promotion

    def promotion_plan(self, state):
        """What promote_region asks for, read against AWS: None (nothing to do) or a dict.

        ``mode`` switchover or failover; ``via`` the region whose endpoint is called: SwitchoverGlobalCluster
        goes to the primary's region, FailoverGlobalCluster to the target's (Aurora user guide, "Using switchover
        or failover in Amazon Aurora Global Database"); ``first`` when the writer's region is unreachable (fail
        over before converging anything: that is the outage's RTO).
        """
        target = self.params["promote_region"]
        glob = state["global"]
        writer = self.writer_region(glob)
        if not target or glob is None or target == writer:
            return None
        spec = next(spec for spec in self.specs if spec["region"] == target)
        target_cluster = state["regions"][target]["cluster"]
        target_arn = (target_cluster or {}).get("DBClusterArn") or arn(
            partition_for(target),
            "rds",
            target,
            arn_part(glob.get("GlobalClusterArn"), "account_id"),
            f"cluster:{spec['identifier']}",
        )
        writer_reachable = self.reachable(writer)
        mode = self.params["promote_mode"]
        if mode == "auto":
            current = (state["regions"].get(writer) or {}).get("cluster") if writer_reachable else None
            mode = "switchover" if current is not None and current.get("Status") == "available" else "failover"
        return {
            "target": target,
            "spec": spec,
            "arn": target_arn,
            "mode": mode,
            "writer": writer,
            "via": writer if mode == "switchover" else target,
            "first": not writer_reachable,
        }

    def promotion_problems(self, state, plan):
        problems = []
        running = (state["global"] or {}).get("FailoverState") or {}
        if plan is None:
            return problems
        target = f"cluster {plan['spec']['identifier']} ({plan['target']})"
        if running and running.get("ToDbClusterArn") not in (None, plan["arn"]):
            problems.append(
                f"global cluster {self.global_id} is {running.get('Status')} to {running.get('ToDbClusterArn')}; "
                f"promoting {target} has to wait until that has finished: re-run then"
            )
        if plan["mode"] == "switchover" and not self.reachable(plan["writer"]):
            problems.append(switchover_refused(plan["writer"]))
        member = member_of(state["global"], plan["target"], plan["spec"]["identifier"])
        if plan["mode"] == "switchover" and (member or {}).get("SynchronizationStatus") == "pending-resync":
            problems.append(
                f"{target} is still resynchronizing with global cluster {self.global_id} (SynchronizationStatus "
                "pending-resync, after a failover): AWS refuses a switchover to it until it is connected; re-run later"
            )
        if plan["first"] and state["regions"][plan["target"]]["cluster"] is None:
            problems.append(f"{target} does not exist: there is nothing to fail over to")
        return problems

    def reach_problems(self, state):
        """What unreachable regions rule out once the reachable ones are read."""
        if not self.unreachable:
            return []
        problems = []
        if self.global_id and state["global"] is None:
            problems.append(
                f"global cluster {self.global_id} is not found through {self.global_region}: with unreachable_regions "
                "the module creates no global cluster (it may only be out of reach); re-run when every region answers"
            )
        writer = self.writer_region(state["global"])
        promote = self.params["promote_region"]
        for spec in self.reachable_specs:
            creates = state["regions"][spec["region"]]["cluster"] is None
            if creates and spec["region"] != writer and not self.reachable(writer) and spec["region"] != promote:
                problems.append(
                    f"cluster {spec['identifier']} ({spec['region']}) does not exist and would join "
                    f"{self.global_id} as a secondary of the writer in {writer}, which is in unreachable_regions"
                )
        return problems

    def cluster_problems(self, spec, cluster, how):
        params = self.params
        problems = []
        name = f"cluster {spec['identifier']} ({spec['region']})"
        if cluster.get("Engine") != params["engine"]:
            problems.append(
                f"{name} runs engine {cluster.get('Engine')}, not {params['engine']}: that would replace it; "
                f"migrate to {how}"
            )
        member_of = cluster.get("GlobalClusterIdentifier") or None
        if member_of != self.global_id:
            problems.append(
                f"{name} is a member of global cluster {member_of or '(none)'}, not "
                f"{self.global_id or '(none)'}: changing that would replace it; detach it "
                "(remove-from-global-cluster) or set global_cluster_identifier to its global cluster"
            )
        if bool(cluster.get("StorageEncrypted")) != params["storage_encrypted"]:
            problems.append(
                f"{name} has StorageEncrypted {cluster.get('StorageEncrypted')}, not "
                f"{params['storage_encrypted']}: that would replace it; copy a snapshot with the new setting into {how}"
            )
        if cluster.get("StorageEncrypted") and not same_kms_key(spec["kms_key_id"], cluster.get("KmsKeyId")):
            problems.append(
                f"{name} is encrypted with {cluster.get('KmsKeyId')}, not {spec['kms_key_id']}: another key "
                f"would replace it; copy a snapshot with the new key into {how}, or set kms_key_id back"
            )
        if spec["role"] == "primary":
            for option, key in (("master_username", "MasterUsername"), ("database_name", "DatabaseName")):
                actual = cluster.get(key)
                if params[option] is not None and actual is not None and params[option] != actual:
                    problems.append(
                        f"{name} has {key} {actual!r}; {option} {params[option]!r} would replace it; "
                        f"set {option} back to {actual!r}"
                    )
        change = version_change(params["engine_version"], cluster.get("EngineVersion"))
        if change == "downgrade":
            problems.append(
                f"{name} runs {cluster.get('EngineVersion')}; a downgrade to {params['engine_version']} "
                f"would replace it (needs {how} from a dump)"
            )
        if change == "major-upgrade" and not params["allow_major_version_upgrade"]:
            problems.append(
                f"{name} runs {cluster.get('EngineVersion')}; {params['engine_version']} is a major upgrade: "
                "set allow_major_version_upgrade"
            )
        return problems

    def writer_problems(self, spec, cluster):
        if spec["instances"] is None:
            return []
        listed = {instance["identifier"] for instance in spec["instances"]}
        writers = [m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", []) if m.get("IsClusterWriter")]
        return [
            f"instance {writer} is the writer of cluster {spec['identifier']} but is not listed in its instances: "
            "list it (the writer is never removed) or fail over to another instance first"
            for writer in writers
            if writer not in listed
        ]

    def create_input_problems(self, state):
        problems = []
        for spec in self.reachable_specs:
            region = state["regions"][spec["region"]]
            rebuilt = self.detached(spec, state)
            if region.get("subnet_group") is None and not spec["subnet_ids"]:
                problems.append(
                    f"clusters[{spec['identifier']}].subnet_ids are required to create DB subnet group "
                    f"{spec['db_subnet_group_name']} in {spec['region']}"
                )
            if (region["cluster"] is None or rebuilt) and not self.params["engine_version"]:
                problems.append(f"engine_version is required to create cluster {spec['identifier']}")
            for instance in spec["instances"] or []:
                if (rebuilt or instance["identifier"] not in region["instances"]) and not (
                    instance["instance_class"] or spec["instance_class"]
                ):
                    problems.append(
                        f"clusters[{spec['identifier']}].instance_class is required to create instance "
                        f"{instance['identifier']}"
                    )
        return problems

    def validate(self, state, plan=None):
        problems = self.input_problems()
        if not problems:
            problems = self.replacement_problems(state) + self.rebuild_problems(state)
            problems += self.reach_problems(state) + self.promotion_problems(state, plan)
            if not self.module.check_mode:
                problems.extend(self.create_input_problems(state))
        if problems:
            self.module.fail_json(
                msg="Refusing to change the Aurora database: " + "; ".join(problems), problems=problems
            )

    # --- present --------------------------------------------------------------

    def ensure_present(self):
        problems = self.input_problems()
        if problems:
            self.module.fail_json(
                msg="Refusing to change the Aurora database: " + "; ".join(problems), problems=problems
            )
        state = self.read()
        if self.reachable(self.home_region):
            self.master.describe()
        plan = self.promotion_plan(state)
        self.validate(state, plan)
        self.warn_unreachable()

        writer_region = self.writer_region(state["global"])
        if plan and plan["first"]:
            # The writer's region is down: fail over first (the outage's RTO), converge the new writer after.
            writer_region = self.promote(plan, state)
        secret = self.ensure_secret(state, writer_region)
        glob = self.ensure_global(state["global"], state)
        for spec in self.ordered_specs(writer_region):
            region = state["regions"][spec["region"]]
            self.ensure_subnet_group(spec, region["subnet_group"])
            self.ensure_parameter_group(spec, region["parameters"])
            if self.detached(spec, state):
                self.rebuild(spec, region)
            if region["cluster"] is None and self.joins_as_secondary(spec, glob):
                self.wait_writer(writer_region)
            self.ensure_cluster(spec, region["cluster"], glob)
            self.ensure_instances(spec, region["instances"])
        if plan and not plan["first"]:
            writer_region = self.promote(plan, state)
        glob = state["global"] or glob
        self.delete_unlisted(state)
        self.wait_available()
        if (self.touched_clusters or self.touched_instances) and not self.module.check_mode:
            self.step = "reading the database back"
            state = self.read(groups=False)
            glob = state["global"] or glob
            writer_region = self.writer_region(glob)
        return self.outputs(state, glob, secret, writer_region)

    def ordered_specs(self, writer_region):
        """The clusters to converge, the writer's first (then the others as listed); unreachable ones left out."""
        return sorted(self.reachable_specs, key=lambda spec: spec["region"] != writer_region)

    def warn_unreachable(self):
        if not self.unreachable:
            return
        names = [f"{spec['identifier']} ({spec['region']})" for spec in self.specs if spec not in self.reachable_specs]
        self.module.warn(
            f"unreachable_regions: no call was made to {', '.join(sorted(self.unreachable))}; cluster "
            f"{', '.join(names)} was neither read nor changed"
            + (
                f", nor the master secret {self.params['master_secret_name']} in {self.home_region}"
                if not self.reachable(self.home_region)
                else ""
            )
        )

    def sync_tags(self, label, region, arn, current, desired):
        self.step = f"tagging {label}"
        sync_rds_tags(self.changes, self.rds(region), label, arn, current, desired, self.params["purge_tags"])

    # the master secret

    def ensure_secret(self, state, writer_region):
        if not self.reachable(self.home_region):
            return self.replica_secret()
        self.step = f"ensuring {self.master.secret.resource}"
        # A lost secret's new password goes to the cluster that writes (after a failover, not the home region's).
        spec = next((spec for spec in self.reachable_specs if spec["region"] == writer_region), None)
        cluster = state["regions"][spec["region"]]["cluster"] if spec else None
        if cluster is None or self.detached(spec, state):
            spec, cluster = self.primary, state["regions"][self.primary["region"]]["cluster"]
        if cluster is None:
            return self.master.ensure()
        region, identifier = spec["region"], spec["identifier"]
        return self.master.ensure((f"db_cluster {region}/{identifier}", self.rds(region), "db_cluster", identifier))

    def replica_secret(self):
        """The master secret's ARN read through a reachable replica region (the secret's own region is unreachable)."""
        name = self.params["master_secret_name"]
        for item in self.params["master_secret_replica_regions"]:
            if not self.reachable(item["region"]):
                continue
            self.step = f"reading the replica of secret {name} in {item['region']}"
            client = aws_client(self.module, "secretsmanager", item["region"])
            try:
                answer = client.describe_secret(aws_retry=True, SecretId=name)
            except is_boto3_error_code("ResourceNotFoundException"):
                continue
            return {"ARN": replica_arn(answer["ARN"], self.home_region)}
        self.module.warn(
            f"The master secret {name} is in {self.home_region} (unreachable) and no replica region answers: "
            "master_secret_arn and master_secret_replica_arns are empty"
        )
        return None

    # the global cluster

    def ensure_global(self, glob, state):
        if not self.global_id:
            return None
        label = f"global_cluster {self.global_id}"
        client = self.rds(self.global_region)
        self.step = f"ensuring {label}"
        if glob is None:
            desired = scrub_none_parameters(
                {
                    "Engine": self.params["engine"],
                    "EngineVersion": self.params["engine_version"],
                    "StorageEncrypted": self.params["storage_encrypted"],
                    "DeletionProtection": self.params["deletion_protection"],
                }
            )
            self.changes.note(label, None, desired)
            answer = self.changes.create(
                label,
                client,
                "rds",
                "create_global_cluster",
                GlobalClusterIdentifier=self.global_id,
                Tags=tag_list(self.params["tags"]),
                **desired,
            )
            return (answer or {}).get("GlobalCluster")
        updates = {}
        if bool(glob.get("DeletionProtection")) != self.params["deletion_protection"]:
            updates["DeletionProtection"] = self.params["deletion_protection"]
        updates.update(engine_upgrade(self.params["engine_version"], glob.get("EngineVersion")))
        if version_change(self.params["engine_version"], glob.get("EngineVersion")) == "newer":
            self.module.warn(
                f"{self.global_id} runs {glob.get('EngineVersion')}, newer than "
                f"{self.params['engine_version']}; left alone"
            )
        if updates:
            self.changes.note(label, {key: glob.get(key) for key in updates}, updates)
            self.changes.update(
                label,
                sorted(updates),
                client,
                "rds",
                "modify_global_cluster",
                GlobalClusterIdentifier=self.global_id,
                **updates,
            )
        return glob

    # subnet group and cluster parameter group

    def ensure_subnet_group(self, spec, actual):
        label = f"db_subnet_group {spec['region']}/{spec['db_subnet_group_name']}"
        self.step = f"ensuring {label}"
        ensure_db_subnet_group(
            self.changes,
            self.rds(spec["region"]),
            label,
            spec["db_subnet_group_name"],
            actual,
            spec["subnet_ids"],
            f"Aurora cluster {spec['identifier']}",
            self.params["tags"],
        )

    def ensure_parameter_group(self, spec, current):
        name = self.params["cluster_parameter_group_name"]
        wanted = {key: parameter_value(value) for key, value in (self.params["cluster_parameters"] or {}).items()}
        if not (name and wanted):
            return
        label = f"db_cluster_parameter_group {spec['region']}/{name}"
        client = self.rds(spec["region"])
        self.step = f"ensuring {label}"
        major = version_tuple(self.params["engine_version"])[:1]
        if current is None:
            family = f"aurora-postgresql{major[0]}" if major else None
            self.changes.note(label, None, {"family": family, "parameters": wanted})
            self.changes.create(
                label,
                client,
                "rds",
                "create_db_cluster_parameter_group",
                DBClusterParameterGroupName=name,
                DBParameterGroupFamily=family,
                Description=f"Aurora PostgreSQL cluster parameters of {self.global_id or spec['identifier']}",
                Tags=tag_list(self.params["tags"]),
            )
            current = {}
        changed = {key: value for key, value in wanted.items() if current.get(key) != value}
        if not changed:
            return
        self.changes.note(f"{label} parameters", {key: current.get(key) for key in changed}, changed)
        for parameters in parameter_batches(changed, "pending-reboot"):
            self.changes.update(
                label,
                [f"parameters.{item['ParameterName']}" for item in parameters],
                client,
                "rds",
                "modify_db_cluster_parameter_group",
                DBClusterParameterGroupName=name,
                Parameters=parameters,
            )

    # clusters

    def cluster_tags(self, spec):
        if self.params["tags"] is None and (spec["role"] != "primary" or self.params["primary_tags"] is None):
            return None
        extra = self.params["primary_tags"] if spec["role"] == "primary" else None
        return dict(self.params["tags"] or {}, **(extra or {}))

    def cluster_desired(self, spec):
        params = self.params
        return scrub_none_parameters(
            {
                "BackupRetentionPeriod": params["backup_retention_period"],
                "PreferredBackupWindow": params["preferred_backup_window"],
                "PreferredMaintenanceWindow": (params["preferred_maintenance_window"] or "").lower() or None,
                "CopyTagsToSnapshot": params["copy_tags_to_snapshot"],
                "DeletionProtection": params["deletion_protection"],
                "VpcSecurityGroupIds": spec["vpc_security_group_ids"],
                "DBClusterParameterGroupName": params["cluster_parameter_group_name"],
                "EnableCloudwatchLogsExports": params["enable_cloudwatch_logs_exports"],
            }
        )

    def joins_as_secondary(self, spec, glob):
        """A new cluster joins as a secondary unless it is the primary of a global cluster no other region writes."""
        writer = writer_arn(glob)
        return spec["role"] == "secondary" or (writer is not None and arn_part(writer, "region") != spec["region"])

    def create_cluster(self, spec, glob=None):
        params = self.params
        label = f"db_cluster {spec['region']}/{spec['identifier']}"
        desired = dict({"CopyTagsToSnapshot": True}, **self.cluster_desired(spec))
        desired.update(
            scrub_none_parameters(
                {
                    "Engine": params["engine"],
                    "EngineVersion": params["engine_version"],
                    "GlobalClusterIdentifier": self.global_id,
                    "DBSubnetGroupName": spec["db_subnet_group_name"],
                    "StorageEncrypted": params["storage_encrypted"],
                    "KmsKeyId": spec["kms_key_id"] if params["storage_encrypted"] else None,
                }
            )
        )
        # Only the cluster that writes gets master credentials and a database; AWS rejects them on a secondary.
        as_primary = not self.joins_as_secondary(spec, glob)
        if as_primary:
            desired.update(
                scrub_none_parameters(
                    {"MasterUsername": params["master_username"], "DatabaseName": params["database_name"]}
                )
            )
        self.changes.note(label, None, desired)
        credentials = {"MasterUserPassword": self.master.password()} if as_primary else {}
        self.step = f"creating {label}"
        self.changes.create(
            label,
            self.rds(spec["region"]),
            "rds",
            "create_db_cluster",
            DBClusterIdentifier=spec["identifier"],
            Tags=tag_list(self.cluster_tags(spec)),
            **desired,
            **scrub_none_parameters(credentials),
        )
        self.touched_clusters.append(spec)

    def ensure_cluster(self, spec, cluster, glob=None):
        if cluster is None:
            self.create_cluster(spec, glob)
            return
        label = f"db_cluster {spec['region']}/{spec['identifier']}"
        desired = self.cluster_desired(spec)
        current = cluster_view(cluster)
        attributes = changed_attributes(differences(desired, current))
        # In a global cluster the engine is upgraded on the global cluster (ModifyGlobalCluster).
        extra = {} if self.global_id else engine_upgrade(self.params["engine_version"], cluster.get("EngineVersion"))
        if attributes or extra:
            self.changes.note(
                label,
                dict(
                    {key: current.get(key) for key in attributes},
                    **({"EngineVersion": cluster.get("EngineVersion")} if extra else {}),
                ),
                dict({key: desired[key] for key in attributes}, **extra),
            )
            kwargs = {key: desired[key] for key in attributes if key != "EnableCloudwatchLogsExports"}
            if "EnableCloudwatchLogsExports" in attributes:
                wanted, have = set(desired["EnableCloudwatchLogsExports"]), set(current["EnableCloudwatchLogsExports"])
                kwargs["CloudwatchLogsExportConfiguration"] = {
                    "EnableLogTypes": sorted(wanted - have),
                    "DisableLogTypes": sorted(have - wanted),
                }
            self.step = f"modifying {label}"
            self.changes.update(
                label,
                attributes + sorted(extra),
                self.rds(spec["region"]),
                "rds",
                "modify_db_cluster",
                DBClusterIdentifier=spec["identifier"],
                ApplyImmediately=self.params["apply_immediately"],
                **kwargs,
                **extra,
            )
            self.touched_clusters.append(spec)
        self.sync_tags(
            label,
            spec["region"],
            cluster.get("DBClusterArn"),
            tag_dict(cluster.get("TagList")),
            self.cluster_tags(spec),
        )

    # instances

    def ensure_instances(self, spec, instances):
        """Create the listed instances that are missing, modify the others (unlisted ones go in delete_unlisted)."""
        if spec["instances"] is None:
            return
        region = spec["region"]
        client = self.rds(region)
        for item in spec["instances"]:
            label = f"db_instance {region}/{item['identifier']}"
            desired = scrub_none_parameters(
                {
                    "DBInstanceClass": item["instance_class"] or spec["instance_class"],
                    "PromotionTier": item["promotion_tier"],
                }
            )
            actual = instances.get(item["identifier"])
            if actual is None:
                create = dict(desired, **scrub_none_parameters({"AvailabilityZone": item["availability_zone"]}))
                self.changes.note(label, None, dict(create, DBClusterIdentifier=spec["identifier"]))
                self.step = f"creating {label}"
                self.changes.create(
                    label,
                    client,
                    "rds",
                    "create_db_instance",
                    DBInstanceIdentifier=item["identifier"],
                    DBClusterIdentifier=spec["identifier"],
                    Engine=self.params["engine"],
                    PubliclyAccessible=False,
                    Tags=tag_list(self.params["tags"]),
                    **create,
                )
                self.touched_instances.append((region, item["identifier"]))
                continue
            zone = item["availability_zone"]
            if zone and actual.get("AvailabilityZone") and zone != actual["AvailabilityZone"]:
                self.module.warn(
                    f"{item['identifier']} runs in {actual['AvailabilityZone']}, not {zone}; an instance cannot move "
                    "(remove it from instances and add one under a new identifier)"
                )
            current = instance_view(actual)
            attributes = changed_attributes(differences(desired, current))
            if attributes:
                self.changes.note(
                    label, {key: current[key] for key in attributes}, {key: desired[key] for key in attributes}
                )
                self.step = f"modifying {label}"
                self.changes.update(
                    label,
                    attributes,
                    client,
                    "rds",
                    "modify_db_instance",
                    DBInstanceIdentifier=item["identifier"],
                    ApplyImmediately=self.params["apply_immediately"],
                    **{key: desired[key] for key in attributes},
                )
                self.touched_instances.append((region, item["identifier"]))
            self.sync_tags(
                label, region, actual.get("DBInstanceArn"), tag_dict(actual.get("TagList")), self.params["tags"]
            )

    def delete_unlisted(self, state):
        """Delete the instances not listed, never a writer; after any promotion, with the writers read anew."""
        for spec in self.reachable_specs:
            if spec["instances"] is None:
                continue
            region = state["regions"][spec["region"]]
            listed = {item["identifier"] for item in spec["instances"]}
            members = (region["cluster"] or {}).get("DBClusterMembers", [])
            writers = {m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")}
            extra = sorted(set(region["instances"]) - listed - writers)
            if extra and spec["region"] in self.deferred_deletes:
                self.module.warn(
                    f"{', '.join(extra)} not deleted yet: the promotion in this run was not waited for, so the "
                    f"writer of {spec['identifier']} is not known; re-run to delete them"
                )
                continue
            for identifier in extra:
                label = f"db_instance {spec['region']}/{identifier}"
                self.changes.note(label, {"DBInstanceIdentifier": identifier}, None)
                self.step = f"deleting reader {label}"
                self.changes.delete(
                    label, self.rds(spec["region"]), "rds", "delete_db_instance", DBInstanceIdentifier=identifier
                )

    # promotion

    def writer_region(self, glob):
        for member in (glob or {}).get("GlobalClusterMembers", []):
            if member.get("IsWriter"):
                return arn_part(member.get("DBClusterArn"), "region")
        return self.primary["region"] if self.primary else None

    def promote(self, plan, state):
        """Make the plan's target the writer; the writer region returned is read back from AWS, never assumed.

        With wait, polls DescribeGlobalClusters in the target's region until the target is the writer and no
        FailoverState is left, waits for the target cluster, and reads the clusters of both regions anew (their
        writer instances changed). ``state`` is updated in place.
        """
        target, mode, writer = plan["target"], plan["mode"], plan["writer"]
        label = f"global_cluster {self.global_id}"
        running = (state["global"].get("FailoverState") or {}).get("ToDbClusterArn") == plan["arn"]
        if running:
            # A promotion to the target runs already (started by an interrupted run): wait for it, call nothing.
            underway = state["global"]["FailoverState"]
            self.data_loss_allowed = bool(underway.get("IsDataLossAllowed"))
            self.module.warn(f"A {underway.get('Status')} of {label} to {target} is running already: waiting for it")
        else:
            self.wait_target_ready(target)
            kwargs = {"GlobalClusterIdentifier": self.global_id, "TargetDbClusterIdentifier": plan["arn"]}
            if mode == "failover":
                kwargs["AllowDataLoss"] = True
                self.data_loss_allowed = True
                self.module.warn(
                    ("Check mode - would fail" if self.module.check_mode else "Failing")
                    + f" over {label} to {target} with AllowDataLoss"
                    + (f" ({writer} is unreachable)" if plan["first"] else "")
                    + f": writes committed in {writer} but not yet replicated to {target} (the replication lag, "
                    "the RPO) are lost to the new writer. When the old primary's region answers again, AWS attempts "
                    f"a snapshot rds:unplanned-global-failover-<cluster>-<timestamp> of it that holds them: copy it "
                    "to a manual snapshot before its retention ends"
                )
            self.changes.note(f"{label} writer", writer, target)
            self.step = f"{mode} of {label} to {target}"
            skipped = len(self.changes.skipped_calls)
            self.changes.update(
                label, [f"writer:{target}"], self.rds(plan["via"]), "rds", f"{mode}_global_cluster", **kwargs
            )
            if len(self.changes.skipped_calls) > skipped:
                return writer  # the emulator lacks the call: the writer did not move
        if self.module.check_mode:
            return writer  # planned only: the writer did not move
        if not self.params["wait"]:
            self.step = f"reading {label} back"
            state["global"] = self.describe_global(target) or state["global"]
            self.deferred_deletes.update(region for region in (target, writer) if self.reachable(region))
            return self.writer_region(state["global"])
        state["global"] = self.wait_promoted(plan)
        self.step = f"waiting for cluster {plan['spec']['identifier']}"
        self._wait(target, "db_cluster_available", DBClusterIdentifier=plan["spec"]["identifier"])
        self.step = "reading the promoted clusters back"
        for spec in self.reachable_specs:
            if spec["region"] in (target, writer):
                state["regions"][spec["region"]].update(self.read_region(spec))
        return self.writer_region(state["global"])

    def wait_promoted(self, plan):
        """Poll the global cluster in the target's region until the target writes and no FailoverState is left.

        AWS documents FailoverState as present while a switchover or failover is pending, switching-over,
        failing-over or cancelling, and IsWriter may still name the old writer meanwhile; no botocore waiter
        exists for it (terraform-provider-aws has no switchover; its global cluster waiters poll Status alike).
        """
        seen = []

        def done(glob):
            if glob is None:
                return False
            running = glob.get("FailoverState")
            if running:
                seen.append(running.get("Status"))
                return False
            return writer_arn(glob) == plan["arn"] or "cancelling" in seen

        label = f"global cluster {self.global_id}"
        self.step = f"waiting for {plan['spec']['identifier']} to become the writer of {label}"
        glob, finished = poll(
            lambda: self.describe_global(plan["target"]), done, self.params["wait_timeout"], PROMOTION_POLL_DELAY
        )
        if not finished:
            state = ((glob or {}).get("FailoverState") or {}).get("Status") or "no FailoverState"
            self.module.fail_json(
                msg=f"Gave up after {self.params['wait_timeout']} s waiting for the {plan['mode']} of {label} to "
                f"{plan['target']} ({state}; writer {writer_arn(glob)}). Re-run to continue.",
                changes=self.changes.changes,
            )
        if writer_arn(glob) != plan["arn"]:
            self.module.fail_json(
                msg=f"The {plan['mode']} of {label} to {plan['target']} was cancelled "
                f"({', '.join(dict.fromkeys(seen))}): {writer_arn(glob)} still writes",
                changes=self.changes.changes,
            )
        return glob

    def wait_target_ready(self, target):
        """Before a promotion: the target's cluster and instances made or changed in this run are available."""
        if self.module.check_mode or not self.params["wait"]:
            return
        for spec in self.touched_clusters:
            if spec["region"] == target:
                self.step = f"waiting for cluster {spec['identifier']} before promoting it"
                self._wait(target, "db_cluster_available", DBClusterIdentifier=spec["identifier"])
        for region, identifier in dict.fromkeys(self.touched_instances):
            if region == target:
                self.step = f"waiting for instance {identifier} before promoting its cluster"
                self._wait(region, "db_instance_available", DBInstanceIdentifier=identifier)

    # rebuilding a cluster that left the global cluster

    def rebuild(self, spec, region):
        """Replace a detached cluster by a new secondary (confirmed by confirm_rebuild; see detached()).

        A final snapshot keeps what the cluster held; its instances and the cluster are deleted (always waited
        for: the identifier is reused), and ensure_cluster then creates it anew in the global cluster.
        """
        snapshot = f"{spec['identifier']}-rebuild-{self.stamp}"
        self.module.warn(
            f"Rebuilding cluster {spec['identifier']} ({spec['region']}) as a secondary of {self.global_id}: "
            f"its final snapshot {snapshot} keeps what it held, the writes the failover lost among them"
        )
        self.delete_cluster(spec, region, snapshot, wait=True)
        self.rebuild_snapshots.append(snapshot)
        region.update(cluster=None, instances={})

    # waiting

    def _wait(self, region, waiter, **kwargs):
        wait_for(self.rds(region), waiter, self.params["wait_timeout"], **kwargs)

    def global_members(self, global_id):
        """DBClusterArns of a global cluster's members ([] once it is gone)."""
        answer = describe_or_none(
            ("GlobalClusterNotFoundFault",),
            self.rds(self.global_region).describe_global_clusters,
            GlobalClusterIdentifier=global_id,
        )
        found = [g for g in (answer or {}).get("GlobalClusters", []) if g["GlobalClusterIdentifier"] == global_id]
        return [member["DBClusterArn"] for member in (found[0] if found else {}).get("GlobalClusterMembers", [])]

    def wait_members_gone(self, global_id, arns):
        """Poll the global cluster until none of arns is a member (any member when arns is None).

        RemoveFromGlobalCluster returns while the member is still detaching (its
        GlobalWriteForwardingStatus and membership linger); DeleteDBCluster and
        DeleteGlobalCluster fail until it is gone (InvalidDBClusterStateFault,
        InvalidGlobalClusterStateFault "is not empty"). terraform-provider-aws waits the same way.
        """
        if self.module.check_mode:
            return
        left, _done = poll(
            lambda: [member for member in self.global_members(global_id) if arns is None or member in arns],
            # moto cannot detach a member of another region (a silent no-op): it would never leave.
            lambda left: not left or on_emulator(),
            self.params["wait_timeout"],
            MEMBER_POLL_DELAY,
        )
        if not left:
            return
        if on_emulator():
            self.changes.skipped_calls.append("rds:wait_global_cluster_member_removed")
            return
        self.module.fail_json(
            msg=f"Gave up after {self.params['wait_timeout']} s waiting for {', '.join(left)} to leave "
            f"global cluster {global_id}. Re-run to continue."
        )

    def wait_writer(self, writer_region):
        """A secondary can join only once the writer's cluster and its writer instance are available."""
        spec = next((spec for spec in self.reachable_specs if spec["region"] == writer_region), None)
        if self.module.check_mode or not self.params["wait"] or spec is None:
            return
        self.step = f"waiting for the writer cluster {spec['identifier']}"
        self._wait(writer_region, "db_cluster_available", DBClusterIdentifier=spec["identifier"])
        for region, identifier in self.touched_instances:
            if region == writer_region:
                self._wait(region, "db_instance_available", DBInstanceIdentifier=identifier)
                break

    def wait_available(self):
        if self.module.check_mode or not self.params["wait"]:
            return
        for spec in self.touched_clusters:
            self.step = f"waiting for cluster {spec['identifier']}"
            self._wait(spec["region"], "db_cluster_available", DBClusterIdentifier=spec["identifier"])
        for region, identifier in dict.fromkeys(self.touched_instances):
            self.step = f"waiting for instance {identifier}"
            self._wait(region, "db_instance_available", DBInstanceIdentifier=identifier)

    # --- absent ---------------------------------------------------------------

    def ensure_absent(self):
        problems = self.input_problems()
        if problems:
            self.module.fail_json(
                msg="Refusing to change the Aurora database: " + "; ".join(problems), problems=problems
            )
        state = self.read(groups=False)
        existing = [spec for spec in self.specs if state["regions"][spec["region"]]["cluster"] is not None]
        confirm = self.global_id or (self.primary or {}).get("identifier")
        if (existing or state["global"] is not None) and self.params["confirm_delete"] != confirm:
            names = [self.global_id] if state["global"] is not None else []
            names += [spec["identifier"] for spec in existing]
            self.module.fail_json(
                msg=f"Refusing to delete {', '.join(names)}: set confirm_delete to {confirm!r} to confirm that "
                "this database goes (every cluster leaves a final snapshot)"
            )
        snapshots = []
        for spec in reversed(self.specs):  # secondaries first, the primary last
            region = state["regions"][spec["region"]]
            if region["cluster"] is not None:
                snapshots.append(self.delete_cluster(spec, region, f"{spec['identifier']}-final-{self.stamp}"))
        if state["global"] is not None:
            self.delete_global(state["global"])
        if existing and not self.params["wait"]:
            self.module.warn("wait is false: the subnet groups, parameter groups and secret are left for the next run")
        else:
            self.delete_groups_and_secret()
        return self.changes.result(**self.empty_outputs(), final_snapshot_identifiers=snapshots)

    def delete_cluster(self, spec, region, snapshot, wait=None):
        """Delete the cluster's instances, the cluster (detached first), leaving the final snapshot ``snapshot``."""
        wait = self.params["wait"] if wait is None else wait
        client = self.rds(spec["region"])
        cluster = region["cluster"]
        label = f"db_cluster {spec['region']}/{spec['identifier']}"
        for identifier in sorted(region["instances"]):
            self.step = f"deleting db_instance {identifier}"
            self.changes.note(f"db_instance {spec['region']}/{identifier}", {"DBInstanceIdentifier": identifier}, None)
            self.changes.delete(
                f"db_instance {spec['region']}/{identifier}",
                client,
                "rds",
                "delete_db_instance",
                DBInstanceIdentifier=identifier,
            )
        if wait and not self.module.check_mode:
            for identifier in sorted(region["instances"]):
                self.step = f"waiting for db_instance {identifier} to go"
                self._wait(spec["region"], "db_instance_deleted", DBInstanceIdentifier=identifier)
        if cluster.get("GlobalClusterIdentifier"):
            self.step = f"detaching {label} from {cluster['GlobalClusterIdentifier']}"
            try:
                self.changes.update(
                    label,
                    ["GlobalClusterIdentifier"],
                    client,
                    "rds",
                    "remove_from_global_cluster",
                    GlobalClusterIdentifier=cluster["GlobalClusterIdentifier"],
                    DbClusterIdentifier=cluster["DBClusterArn"],
                )
            except ClientError as error:
                # Detached already (an interrupted run): terraform-provider-aws ignores this answer too.
                if "is not found in global cluster" not in error.response.get("Error", {}).get("Message", ""):
                    raise
            self.step = f"waiting for {label} to leave {cluster['GlobalClusterIdentifier']}"
            self.wait_members_gone(cluster["GlobalClusterIdentifier"], [cluster["DBClusterArn"]])
        if cluster.get("DeletionProtection"):
            self.changes.update(
                label,
                ["DeletionProtection"],
                client,
                "rds",
                "modify_db_cluster",
                DBClusterIdentifier=spec["identifier"],
                DeletionProtection=False,
                ApplyImmediately=True,
            )
        self.changes.note(label, {"DBClusterIdentifier": spec["identifier"]}, None)
        self.step = f"deleting {label}"
        self.changes.delete(
            label,
            client,
            "rds",
            "delete_db_cluster",
            DBClusterIdentifier=spec["identifier"],
            FinalDBSnapshotIdentifier=snapshot,
        )
        if wait and not self.module.check_mode:
            self.step = f"waiting for {label} to go"
            self._wait(spec["region"], "db_cluster_deleted", DBClusterIdentifier=spec["identifier"])
        return snapshot

    def delete_global(self, glob):
        label = f"global_cluster {self.global_id}"
        client = self.rds(self.global_region)
        if glob.get("DeletionProtection"):
            self.changes.update(
                label,
                ["DeletionProtection"],
                client,
                "rds",
                "modify_global_cluster",
                GlobalClusterIdentifier=self.global_id,
                DeletionProtection=False,
            )
        self.changes.note(label, {"GlobalClusterIdentifier": self.global_id}, None)
        self.step = f"waiting for the members of {label} to leave"
        self.wait_members_gone(self.global_id, None)
        self.step = f"deleting {label}"
        try:
            self.changes.delete(label, client, "rds", "delete_global_cluster", GlobalClusterIdentifier=self.global_id)
        except ClientError as error:
            # moto keeps a global cluster in the region that created it and cannot detach a member of
            # another region from it (RemoveFromGlobalCluster is a silent no-op there), so the global
            # cluster stays "not empty" after its clusters are gone. Only there is this tolerated.
            if not on_emulator() or error.response.get("Error", {}).get("Code") != "InvalidGlobalClusterStateFault":
                raise
            self.changes.skipped_calls.append("rds:delete_global_cluster")
            self.module.warn(
                f"The emulator cannot delete {label}: it still lists the detached clusters of other regions"
            )

    def delete_groups_and_secret(self):
        for spec in self.specs:
            client = self.rds(spec["region"])
            name = self.params["cluster_parameter_group_name"]
            if name and self.params["cluster_parameters"] and self.describe_cluster_parameters(spec) is not None:
                self.changes.delete(
                    f"db_cluster_parameter_group {spec['region']}/{name}",
                    client,
                    "rds",
                    "delete_db_cluster_parameter_group",
                    DBClusterParameterGroupName=name,
                )
            label = f"db_subnet_group {spec['region']}/{spec['db_subnet_group_name']}"
            delete_db_subnet_group(self.changes, client, label, spec["db_subnet_group_name"])
        self.step = f"scheduling the deletion of {self.master.secret.resource}"
        self.master.delete(self.params["secret_recovery_window_days"])

    # --- results --------------------------------------------------------------

    def empty_outputs(self):
        return {
            "global_cluster_arn": None,
            "primary_region": None,
            "writer_region": None,
            "data_loss_allowed": False,
            "rebuild_snapshot_identifiers": [],
            "clusters": {},
            "master_secret_arn": None,
            "master_secret_replica_arns": {},
            "backup_retention_period": None,
        }

    def cluster_role(self, spec, state, glob):
        """primary or secondary as the global cluster's members say; detached; else what it is (to be) created as."""
        member = member_of(glob, spec["region"], spec["identifier"])
        if member is not None:
            return "primary" if member.get("IsWriter") else "secondary"
        if self.detached(spec, state):
            return "detached"
        if state["regions"][spec["region"]]["cluster"] is None and self.reachable(spec["region"]):
            return "secondary" if self.joins_as_secondary(spec, glob) else "primary"
        return spec["role"]

    def outputs(self, state, glob, secret, writer_region):
        clusters = {}
        for spec in self.specs:
            region = state["regions"][spec["region"]]
            cluster = region["cluster"] or {}
            cluster_members = cluster.get("DBClusterMembers", [])
            if region.get("unreachable"):
                ids = []
            elif spec["instances"] is not None:
                ids = [item["identifier"] for item in spec["instances"]]
            else:
                ids = sorted(region["instances"])
            member = member_of(glob, spec["region"], spec["identifier"]) or {}
            clusters[spec["region"]] = {
                "identifier": spec["identifier"],
                "role": self.cluster_role(spec, state, glob),
                "arn": cluster.get("DBClusterArn") or member.get("DBClusterArn"),
                "endpoint": cluster.get("Endpoint"),
                "reader_endpoint": cluster.get("ReaderEndpoint"),
                "instance_ids": ids,
                "writer": next((m["DBInstanceIdentifier"] for m in cluster_members if m.get("IsClusterWriter")), None),
                "status": "unreachable" if region.get("unreachable") else cluster.get("Status"),
            }
        writer_spec = next((spec for spec in self.specs if spec["region"] == writer_region), None)
        retention = next(
            (
                cluster.get("BackupRetentionPeriod")
                for cluster in (
                    state["regions"][self.primary["region"]]["cluster"],
                    state["regions"][writer_spec["region"]]["cluster"] if writer_spec else None,
                )
                if cluster
            ),
            None,
        )
        return self.changes.result(
            global_cluster_arn=(glob or {}).get("GlobalClusterArn"),
            primary_region=writer_region,
            writer_region=writer_region,
            data_loss_allowed=self.data_loss_allowed,
            rebuild_snapshot_identifiers=self.rebuild_snapshots,
            clusters=clusters,
            master_secret_arn=(secret or {}).get("ARN"),
            master_secret_replica_arns=self.master.secret.replica_arns((secret or {}).get("ARN")),
            backup_retention_period=retention,
        )


def argument_spec():
    instance = dict(
        identifier=dict(required=True),
        availability_zone=dict(),
        promotion_tier=dict(type="int"),
        instance_class=dict(),
    )
    cluster = dict(
        region=dict(required=True),
        identifier=dict(required=True),
        role=dict(default="secondary", choices=["primary", "secondary"]),
        db_subnet_group_name=dict(),
        subnet_ids=dict(type="list", elements="str"),
        vpc_security_group_ids=dict(type="list", elements="str"),
        kms_key_id=dict(),
        instance_class=dict(),
        instances=dict(type="list", elements="dict", options=instance),
    )
    return dict(
        state=dict(default="present", choices=["present", "absent"]),
        global_cluster_identifier=dict(),
        engine=dict(default="aurora-postgresql", choices=["aurora-postgresql"]),
        engine_version=dict(),
        allow_major_version_upgrade=dict(type="bool", default=False),
        storage_encrypted=dict(type="bool", default=True),
        deletion_protection=dict(type="bool", default=True),
        master_username=dict(default="app_admin"),
        database_name=dict(),
        master_secret_name=dict(required=True),
        master_secret_kms_key_id=dict(),
        master_secret_replica_regions=dict(
            type="list",
            elements="dict",
            default=[],
            no_log=False,
            options=dict(region=dict(required=True), kms_key_id=dict()),
        ),
        clusters=dict(type="list", elements="dict", options=cluster),
        backup_retention_period=dict(type="int"),
        preferred_backup_window=dict(),
        preferred_maintenance_window=dict(),
        copy_tags_to_snapshot=dict(type="bool"),
        enable_cloudwatch_logs_exports=dict(type="list", elements="str"),
        cluster_parameter_group_name=dict(),
        cluster_parameters=dict(type="dict"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        primary_tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        promote_region=dict(),
        promote_mode=dict(default="auto", choices=["auto", "switchover", "failover"]),
        unreachable_regions=dict(type="list", elements="str", default=[]),
        confirm_rebuild=dict(),
        apply_immediately=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        confirm_delete=dict(),
        secret_recovery_window_days=dict(type="int", default=30, no_log=False),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_manager(module, AuroraGlobalDatabase(module))


if __name__ == "__main__":
    main()
