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
    (SwitchoverGlobalCluster or FailoverGlobalCluster with AllowDataLoss). Nothing happens when that region
    already writes.
  - The region that writes (RV(primary_region)) is read from the global cluster's members (C(IsWriter)).
    When no member reports itself as the writer (the AWS emulator moto does not always), the region of the
    cluster with O(clusters[].role=primary) is returned.
  - The no-op path reads DescribeGlobalClusters once, and per region DescribeDBClusters,
    DescribeDBInstances (filtered by cluster) and DescribeDBSubnetGroups, DescribeDBClusterParameters
    (user-set parameters, only with O(cluster_parameters)), and DescribeSecret once - 8 calls for two
    regions without cluster parameters, 10 with them.
  - Tags of the global cluster and of the subnet groups are set when they are created and not compared
    afterwards (that would cost a call per resource, and the emulator cannot tag global clusters).
  - Deleting (O(state=absent)) requires O(confirm_delete) set to the global cluster identifier (or to the
    primary cluster's identifier without a global cluster). Secondary clusters are detached and deleted first,
    then the primary; every cluster leaves a final snapshot. Deletion protection is turned off only there.
  - The AWS emulator (moto 5.2.5) lacks FailoverGlobalCluster, SwitchoverGlobalCluster and
    ModifyGlobalCluster; against it they are skipped and listed in RV(skipped_calls). It also cannot detach a
    member of another region from a global cluster, so there DeleteGlobalCluster fails as "not empty" after
    the clusters are gone; only against the emulator that is reported in RV(skipped_calls) instead.
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
    - After a promotion that was made, the promoted region.
  returned: always
  type: str
  sample: us-east-1
clusters:
  description:
    - Per region, the cluster's identifier, role, ARN, endpoints, instances, writer instance and status.
    - Nulls for clusters that do not exist yet (check mode).
  returned: always
  type: dict
  sample:
    us-east-1:
      identifier: reelle-prod-primary
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
  sample: [rds:switchover_global_cluster]
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
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import poll

# No waiter exists for a member leaving a global cluster; terraform-provider-aws polls
# DescribeGlobalClusters until the member is gone (waitGlobalClusterMemberRemoved).
MEMBER_POLL_DELAY = 15
MAX_INSTANCES = 16  # one writer and up to 15 readers


def arn_part(value, part):
    """A part of an ARN (region, account_id, ...) by amazon.aws's parse_aws_arn; None without an ARN."""
    return (parse_aws_arn(value or "") or {}).get(part)


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
        self.global_id = self.params["global_cluster_identifier"]
        self._rds = {}
        self.master = self.master_secret()
        self.touched_clusters = []
        self.touched_instances = []

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

    def rds(self, region):
        if region not in self._rds:
            self._rds[region] = aws_client(self.module, "rds", region)
        return self._rds[region]

    # --- reads ----------------------------------------------------------------

    def describe_global(self):
        if not self.global_id:
            return None
        answer = describe_or_none(
            ("GlobalClusterNotFoundFault",),
            self.rds(self.home_region).describe_global_clusters,
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
        """Global cluster, and per region the cluster, its instances (and subnet group, parameters)."""
        self.step = "reading the database"
        state = {"global": self.describe_global(), "regions": {}}
        for spec in self.specs:
            cluster = self.describe_cluster(spec)
            region = {"cluster": cluster, "instances": self.describe_instances(spec) if cluster else {}}
            if groups:
                region["subnet_group"] = describe_db_subnet_group(
                    self.rds(spec["region"]), spec["db_subnet_group_name"]
                )
                region["parameters"] = self.describe_cluster_parameters(spec)
            state["regions"][spec["region"]] = region
        return state

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
            if cluster is not None:
                problems.extend(self.cluster_problems(spec, cluster, how))
                problems.extend(self.writer_problems(spec, cluster))
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
        for spec in self.specs:
            region = state["regions"][spec["region"]]
            if region.get("subnet_group") is None and not spec["subnet_ids"]:
                problems.append(
                    f"clusters[{spec['identifier']}].subnet_ids are required to create DB subnet group "
                    f"{spec['db_subnet_group_name']} in {spec['region']}"
                )
            if region["cluster"] is None and not self.params["engine_version"]:
                problems.append(f"engine_version is required to create cluster {spec['identifier']}")
            for instance in spec["instances"] or []:
                if instance["identifier"] not in region["instances"] and not (
                    instance["instance_class"] or spec["instance_class"]
                ):
                    problems.append(
                        f"clusters[{spec['identifier']}].instance_class is required to create instance "
                        f"{instance['identifier']}"
                    )
        return problems

    def validate(self, state):
        problems = self.input_problems()
        if not problems:
            problems = self.replacement_problems(state)
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
        self.master.describe()
        self.validate(state)

        secret = self.ensure_secret(state["regions"][self.primary["region"]]["cluster"])
        glob = self.ensure_global(state["global"], state)
        for spec in self.specs:
            region = state["regions"][spec["region"]]
            self.ensure_subnet_group(spec, region["subnet_group"])
            self.ensure_parameter_group(spec, region["parameters"])
            if spec["role"] == "secondary" and region["cluster"] is None:
                self.wait_primary_writer()
            self.ensure_cluster(spec, region["cluster"])
            self.ensure_instances(spec, region["cluster"], region["instances"])
        writer_region = self.writer_region(glob)
        writer_region = self.promote(glob, state, writer_region)
        self.wait_available()
        if (self.touched_clusters or self.touched_instances) and not self.module.check_mode:
            self.step = "reading the database back"
            state = self.read(groups=False)
            glob = state["global"] or glob
        return self.outputs(state, glob, secret, writer_region)

    def sync_tags(self, label, region, arn, current, desired):
        self.step = f"tagging {label}"
        sync_rds_tags(self.changes, self.rds(region), label, arn, current, desired, self.params["purge_tags"])

    # the master secret

    def ensure_secret(self, primary_cluster):
        self.step = f"ensuring {self.master.secret.resource}"
        if primary_cluster is None:
            return self.master.ensure()
        region, identifier = self.primary["region"], self.primary["identifier"]
        return self.master.ensure((f"db_cluster {region}/{identifier}", self.rds(region), "db_cluster", identifier))

    # the global cluster

    def ensure_global(self, glob, state):
        if not self.global_id:
            return None
        label = f"global_cluster {self.global_id}"
        client = self.rds(self.home_region)
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

    def create_cluster(self, spec):
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
        if spec["role"] == "primary":
            desired.update(
                scrub_none_parameters(
                    {"MasterUsername": params["master_username"], "DatabaseName": params["database_name"]}
                )
            )
        self.changes.note(label, None, desired)
        credentials = {"MasterUserPassword": self.master.password()} if spec["role"] == "primary" else {}
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

    def ensure_cluster(self, spec, cluster):
        if cluster is None:
            self.create_cluster(spec)
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

    def ensure_instances(self, spec, cluster, instances):
        if spec["instances"] is None:
            return
        region = spec["region"]
        client = self.rds(region)
        listed = set()
        for item in spec["instances"]:
            listed.add(item["identifier"])
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
        writers = {
            m["DBInstanceIdentifier"] for m in (cluster or {}).get("DBClusterMembers", []) if m.get("IsClusterWriter")
        }
        for identifier in sorted(set(instances) - listed - writers):
            label = f"db_instance {region}/{identifier}"
            self.changes.note(label, {"DBInstanceIdentifier": identifier}, None)
            self.step = f"deleting reader {label}"
            self.changes.delete(label, client, "rds", "delete_db_instance", DBInstanceIdentifier=identifier)

    # promotion

    def writer_region(self, glob):
        for member in (glob or {}).get("GlobalClusterMembers", []):
            if member.get("IsWriter"):
                return arn_part(member.get("DBClusterArn"), "region")
        return self.primary["region"] if self.primary else None

    def promote(self, glob, state, writer_region):
        target = self.params["promote_region"]
        if not target or target == writer_region or glob is None:
            return writer_region
        spec = next(spec for spec in self.specs if spec["region"] == target)
        target_cluster = state["regions"][target]["cluster"]
        target_arn = (target_cluster or {}).get("DBClusterArn") or arn(
            partition_for(target),
            "rds",
            target,
            arn_part(glob.get("GlobalClusterArn"), "account_id"),
            f"cluster:{spec['identifier']}",
        )
        current = (state["regions"].get(writer_region) or {}).get("cluster")
        mode = self.params["promote_mode"]
        if mode == "auto":
            mode = "switchover" if current is not None and current.get("Status") == "available" else "failover"
        label = f"global_cluster {self.global_id}"
        self.changes.note(f"{label} writer", writer_region, target)
        self.step = f"{mode} of {label} to {target}"
        kwargs = {"GlobalClusterIdentifier": self.global_id, "TargetDbClusterIdentifier": target_arn}
        if mode == "failover":
            kwargs["AllowDataLoss"] = True
        skipped = len(self.changes.skipped_calls)
        self.changes.update(label, [f"writer:{target}"], self.rds(target), "rds", f"{mode}_global_cluster", **kwargs)
        if len(self.changes.skipped_calls) > skipped:
            return writer_region  # the emulator lacks the call: the writer did not move
        return target

    # waiting

    def _wait(self, region, waiter, **kwargs):
        wait_for(self.rds(region), waiter, self.params["wait_timeout"], **kwargs)

    def global_members(self, global_id):
        """DBClusterArns of a global cluster's members ([] once it is gone)."""
        answer = describe_or_none(
            ("GlobalClusterNotFoundFault",),
            self.rds(self.home_region).describe_global_clusters,
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

    def wait_primary_writer(self):
        """A secondary can join only once the primary cluster and its writer are available."""
        if self.module.check_mode or not self.params["wait"]:
            return
        self.step = f"waiting for the primary cluster {self.primary['identifier']}"
        self._wait(self.primary["region"], "db_cluster_available", DBClusterIdentifier=self.primary["identifier"])
        for region, identifier in self.touched_instances:
            if region == self.primary["region"]:
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
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")  # snapshot ids are lower case
        for spec in reversed(self.specs):  # secondaries first, the primary last
            region = state["regions"][spec["region"]]
            if region["cluster"] is not None:
                snapshots.append(self.delete_cluster(spec, region, stamp))
        if state["global"] is not None:
            self.delete_global(state["global"])
        if existing and not self.params["wait"]:
            self.module.warn("wait is false: the subnet groups, parameter groups and secret are left for the next run")
        else:
            self.delete_groups_and_secret()
        return self.changes.result(**self.empty_outputs(), final_snapshot_identifiers=snapshots)

    def delete_cluster(self, spec, region, stamp):
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
        if self.params["wait"] and not self.module.check_mode:
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
        snapshot = f"{spec['identifier']}-final-{stamp}"
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
        if self.params["wait"] and not self.module.check_mode:
            self.step = f"waiting for {label} to go"
            self._wait(spec["region"], "db_cluster_deleted", DBClusterIdentifier=spec["identifier"])
        return snapshot

    def delete_global(self, glob):
        label = f"global_cluster {self.global_id}"
        client = self.rds(self.home_region)
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
            "clusters": {},
            "master_secret_arn": None,
            "master_secret_replica_arns": {},
            "backup_retention_period": None,
        }

    def outputs(self, state, glob, secret, writer_region):
        clusters = {}
        for spec in self.specs:
            region = state["regions"][spec["region"]]
            cluster = region["cluster"] or {}
            members = cluster.get("DBClusterMembers", [])
            if spec["instances"] is not None:
                ids = [item["identifier"] for item in spec["instances"]]
            else:
                ids = sorted(region["instances"])
            clusters[spec["region"]] = {
                "identifier": spec["identifier"],
                "role": spec["role"],
                "arn": cluster.get("DBClusterArn"),
                "endpoint": cluster.get("Endpoint"),
                "reader_endpoint": cluster.get("ReaderEndpoint"),
                "instance_ids": ids,
                "writer": next((m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")), None),
                "status": cluster.get("Status"),
            }
        primary_cluster = state["regions"][self.primary["region"]]["cluster"] or {}
        return self.changes.result(
            global_cluster_arn=(glob or {}).get("GlobalClusterArn"),
            primary_region=writer_region,
            clusters=clusters,
            master_secret_arn=(secret or {}).get("ARN"),
            master_secret_replica_arns=self.master.secret.replica_arns((secret or {}).get("ARN")),
            backup_retention_period=primary_cluster.get("BackupRetentionPeriod"),
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
