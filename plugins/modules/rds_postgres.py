#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_postgres
short_description: An RDS PostgreSQL primary, its read replicas, subnet group, parameter group and master secret
description:
  - Owns one RDS for PostgreSQL database as a unit in one call - the DB subnet group, the DB parameter
    group (family C(postgres<major>)), the master password in Secrets Manager, the primary instance and
    its read replicas (CreateDBInstanceReadReplica from the primary).
  - The master password is generated with Secrets Manager's GetRandomPassword and stored in a secret
    (O(master_secret_name)) that is created once. It is read back only when an instance has to be created,
    passed to CreateDBInstance and never returned or logged. When the secret has disappeared while the
    instance exists, a new password is generated, stored and set on the instance, so the secret always
    holds the working password. A secret that is scheduled for deletion is restored.
  - Options that are not set leave the matching attribute of an existing resource alone; a new primary
    gets the secure defaults listed per option (encrypted gp3 storage, deletion protection, tags copied to
    snapshots, not publicly accessible).
  - Changes that need a new instance fail with a message instead of replacing it - a different engine,
    an engine major downgrade, shrinking storage, encrypting or unencrypting, another KMS key, another
    master user name or database name.
  - Deleting (O(state=absent)) requires O(confirm_delete) set to the primary's identifier; the read
    replicas are deleted first, then the primary with a final snapshot. Deletion protection is turned off
    on the way. The subnet group and parameter group are deleted when the instances are gone; the secret is
    scheduled for deletion with a recovery window, because the final snapshot keeps its password.
  - The no-op path reads DescribeDBInstances (one call, filtered by identifiers), DescribeDBSubnetGroups,
    DescribeDBParameterGroups, DescribeDBParameters (user-set parameters only), DescribeSecret and the
    tags of the two groups.
  - Instances are compared by identifier, never by C(DbiResourceId) (the AWS emulator moto gives every
    instance the same one).
options:
  state:
    description: Whether the database should exist.
    type: str
    choices: [present, absent]
    default: present
  identifier:
    description: DB instance identifier of the primary.
    type: str
    required: true
  engine_version:
    description:
      - PostgreSQL version, a major (V(15)) or a major.minor (V(15.7)).
      - A major version is satisfied by any minor of it. A newer minor than asked (after an automatic
        minor upgrade) is left alone with a warning. A major downgrade fails; a major upgrade needs
        O(allow_major_version_upgrade).
      - The parameter group family is C(postgres) followed by the major version.
    type: str
    required: true
  instance_class:
    description: DB instance class of the primary (and of replicas that do not set their own). Required to create.
    type: str
  allocated_storage:
    description: Storage in GiB. A new primary gets 20. It can grow in place; shrinking fails.
    type: int
  max_allocated_storage:
    description: Upper limit for storage autoscaling in GiB.
    type: int
  storage_type:
    description: Storage type. A new primary gets V(gp3).
    type: str
    choices: [gp2, gp3, io1, io2, standard]
  iops:
    description: Provisioned IOPS (io1, io2, or gp3 of 400 GiB and more).
    type: int
  storage_throughput:
    description: gp3 throughput in MiBps (gp3 of 400 GiB and more).
    type: int
  storage_encrypted:
    description: Encrypt storage. A new primary is encrypted. Changing it on an existing instance fails.
    type: bool
  kms_key_id:
    description:
      - KMS key (ARN or key id) that encrypts storage; the account's default RDS key when not set.
      - An alias is not compared with the key an existing instance uses.
    type: str
  master_username:
    description: Master user name. A new primary gets V(app_admin). It cannot change.
    type: str
  db_name:
    description: Name of the database created with the primary. It cannot change.
    type: str
  port:
    description: Port the instances listen on. A new primary gets the engine default (5432).
    type: int
  db_subnet_group_name:
    description: Name of the DB subnet group. Defaults to O(identifier).
    type: str
  db_subnet_group_description:
    description: Description of the DB subnet group. A new group gets "DB subnet group of <identifier>".
    type: str
  subnet_ids:
    description:
      - Subnets of the DB subnet group (one per availability zone, private). Required to create the group.
      - In check mode they may be null (the subnets would be created by an earlier role).
    type: list
    elements: str
  vpc_security_group_ids:
    description: Security groups of the instances.
    type: list
    elements: str
  parameter_group_name:
    description: Name of the DB parameter group. Defaults to C(<identifier>-postgres<major>).
    type: str
  parameters:
    description:
      - Parameters to set in the parameter group, name to value (for example C(max_connections), C(rds.force_ssl)).
      - Parameters not named here are left alone. Booleans become 1/0.
      - Static parameters (such as C(max_connections)) are applied at the next reboot; when one changes on a
        group that an instance already uses, the module warns.
    type: dict
  master_secret_name:
    description: Secrets Manager secret that holds the master credentials (username, password, engine, port, dbname).
    type: str
    required: true
  master_secret_kms_key_id:
    description:
      - KMS key of the secret. Defaults to O(kms_key_id); the account's Secrets Manager key when neither is set.
      - An existing secret under another key is changed to it (UpdateSecret).
    type: str
  multi_az:
    description: Run the primary as a Multi-AZ deployment.
    type: bool
  backup_retention_period:
    description: Days automated backups are kept (0 turns them off).
    type: int
  preferred_backup_window:
    description: Daily backup window in UTC, C(hh24:mi-hh24:mi).
    type: str
  preferred_maintenance_window:
    description: Weekly maintenance window in UTC, C(ddd:hh24:mi-ddd:hh24:mi).
    type: str
  deletion_protection:
    description: Deletion protection of the instances. A new primary has it on.
    type: bool
  copy_tags_to_snapshot:
    description: Copy the instance's tags to its snapshots. A new primary does.
    type: bool
  publicly_accessible:
    description: Give the instances a public address. A new primary does not.
    type: bool
  auto_minor_version_upgrade:
    description: Apply minor engine upgrades in the maintenance window.
    type: bool
  read_replicas:
    description:
      - Read replicas of the primary, in the same region. Not set - replicas are left alone.
      - Replicas share the primary's security groups, parameter group, storage type, deletion protection,
        tags and subnet group; the instance class can differ.
    type: list
    elements: dict
    suboptions:
      identifier:
        description: DB instance identifier of the replica.
        type: str
        required: true
      instance_class:
        description: Instance class of the replica. Defaults to O(instance_class).
        type: str
      multi_az:
        description: Run the replica as a Multi-AZ deployment.
        type: bool
      availability_zone:
        description: Availability zone of a new replica (single-AZ only).
        type: str
  primary_tags:
    description:
      - Tags of the primary only, on top of O(tags) (for example the tag an AWS Backup selection picks the
        database by, so the replicas are not backed up as well).
    type: dict
  purge_read_replicas:
    description: Delete replicas of the primary that O(read_replicas) does not list.
    type: bool
    default: false
  apply_immediately:
    description: Apply modifications now instead of in the next maintenance window.
    type: bool
    default: false
  allow_major_version_upgrade:
    description: Allow O(engine_version) to name a newer major version than the primary runs.
    type: bool
    default: false
  wait:
    description: Wait until created or modified instances are available (and deleted ones are gone).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait per instance.
    type: int
    default: 1800
  confirm_delete:
    description: With O(state=absent), the primary's identifier, repeated to confirm that the database goes.
    type: str
  final_snapshot_identifier:
    description:
      - Name of the final snapshot taken when the primary is deleted.
      - Defaults to C(<identifier>-final-<UTC time>).
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
- name: Ensure the staging database (primary + one replica)
  reelle.infra.rds_postgres:
    identifier: reelle-staging-pg
    engine_version: "15"
    instance_class: db.t3.medium
    allocated_storage: 20
    storage_type: gp3
    kms_key_id: "{{ aws_security_outputs.kms_key_arn }}"
    db_subnet_group_name: reelle-staging-db
    subnet_ids: "{{ aws_network_outputs.private_subnet_ids }}"
    vpc_security_group_ids: ["{{ aws_security_outputs.database_security_group_id }}"]
    parameters:
      max_connections: 100
      rds.force_ssl: 1
    master_secret_name: reelle-staging/database/master
    multi_az: false
    backup_retention_period: 7
    preferred_backup_window: "03:00-04:00"
    deletion_protection: true
    copy_tags_to_snapshot: true
    read_replicas:
      - identifier: reelle-staging-pg-replica
    tags:
      backup: daily
    apply_immediately: true

- name: Delete it (final snapshot of the primary)
  reelle.infra.rds_postgres:
    state: absent
    identifier: reelle-staging-pg
    engine_version: "15"
    master_secret_name: reelle-staging/database/master
    read_replicas:
      - identifier: reelle-staging-pg-replica
    confirm_delete: reelle-staging-pg
"""

RETURN = r"""
primary_endpoint:
  description: Address of the primary; null when it does not exist yet (check mode).
  returned: always
  type: str
  sample: reelle-staging-pg.abcdefghij.us-east-1.rds.amazonaws.com
port:
  description: Port of the primary; null when it does not exist yet.
  returned: always
  type: int
  sample: 5432
replica_endpoints:
  description: Addresses of the read replicas (null entries for replicas that do not exist yet).
  returned: always
  type: list
  elements: str
  sample: [reelle-staging-pg-replica.abcdefghij.us-east-1.rds.amazonaws.com]
master_secret_arn:
  description: ARN of the secret with the master credentials; null when it does not exist yet.
  returned: always
  type: str
  sample: arn:aws:secretsmanager:us-east-1:123456789012:secret:reelle-staging/database/master-AbCdEf
instance_ids:
  description: Identifiers of the primary and its managed replicas, primary first.
  returned: always
  type: list
  elements: str
  sample: [reelle-staging-pg, reelle-staging-pg-replica]
instance_arns:
  description: ARNs of the instances in the order of RV(instance_ids); null for instances that do not exist yet.
  returned: always
  type: list
  elements: str
  sample: [arn:aws:rds:us-east-1:123456789012:db:reelle-staging-pg]
db_subnet_group_name:
  description: Name of the DB subnet group.
  returned: always
  type: str
  sample: reelle-staging-db
parameter_group_name:
  description: Name of the DB parameter group.
  returned: always
  type: str
  sample: reelle-staging-pg-postgres15
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{action: update, resource: db_instance reelle-staging-pg, attributes: [BackupRetentionPeriod]}]
skipped_calls:
  description: Calls the local emulator cannot serve that were skipped (C(service:operation)); empty on AWS.
  returned: always
  type: list
  elements: str
  sample: []
final_snapshot_identifier:
  description: Snapshot taken when the primary was deleted.
  returned: when state is absent and the primary was deleted
  type: str
  sample: reelle-staging-pg-final-20260102T000000
"""

from datetime import UTC, datetime

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    changed_attributes,
    differences,
    paginate,
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

ENGINE = "postgres"

# A new primary gets these when the option is not set (secure defaults).
CREATE_DEFAULTS = {
    "AllocatedStorage": 20,
    "StorageType": "gp3",
    "StorageEncrypted": True,
    "MasterUsername": "app_admin",
    "DeletionProtection": True,
    "CopyTagsToSnapshot": True,
    "PubliclyAccessible": False,
}

# Parameters that PostgreSQL reads only at start (apply method pending-reboot).
STATIC_PARAMETERS = frozenset(
    {
        "autovacuum_max_workers",
        "huge_pages",
        "max_connections",
        "max_locks_per_transaction",
        "max_logical_replication_workers",
        "max_prepared_transactions",
        "max_replication_slots",
        "max_wal_senders",
        "max_worker_processes",
        "rds.logical_replication",
        "shared_buffers",
        "shared_preload_libraries",
        "track_activity_query_size",
        "wal_buffers",
    }
)

# PendingModifiedValues keys that stand for the attribute once applied.
PENDING_KEYS = {
    "DBInstanceClass": "DBInstanceClass",
    "AllocatedStorage": "AllocatedStorage",
    "StorageType": "StorageType",
    "Iops": "Iops",
    "StorageThroughput": "StorageThroughput",
    "MultiAZ": "MultiAZ",
    "BackupRetentionPeriod": "BackupRetentionPeriod",
    "DBSubnetGroupName": "DBSubnetGroupName",
    "Port": "DBPortNumber",
    "EngineVersion": "EngineVersion",
}


def instance_view(instance):
    """The attributes we manage, as the API names them, with pending modifications applied."""
    view = {
        "DBInstanceClass": instance.get("DBInstanceClass"),
        "AllocatedStorage": instance.get("AllocatedStorage"),
        "MaxAllocatedStorage": instance.get("MaxAllocatedStorage"),
        "StorageType": instance.get("StorageType"),
        "Iops": instance.get("Iops"),
        "StorageThroughput": instance.get("StorageThroughput"),
        "MultiAZ": instance.get("MultiAZ"),
        "BackupRetentionPeriod": instance.get("BackupRetentionPeriod"),
        "PreferredBackupWindow": instance.get("PreferredBackupWindow"),
        "PreferredMaintenanceWindow": (instance.get("PreferredMaintenanceWindow") or "").lower() or None,
        "DeletionProtection": instance.get("DeletionProtection"),
        "CopyTagsToSnapshot": instance.get("CopyTagsToSnapshot"),
        "PubliclyAccessible": instance.get("PubliclyAccessible"),
        "AutoMinorVersionUpgrade": instance.get("AutoMinorVersionUpgrade"),
        "VpcSecurityGroupIds": [group["VpcSecurityGroupId"] for group in instance.get("VpcSecurityGroups", [])],
        "DBParameterGroupName": (instance.get("DBParameterGroups") or [{}])[0].get("DBParameterGroupName"),
        "DBSubnetGroupName": (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        "DBPortNumber": (instance.get("Endpoint") or {}).get("Port") or instance.get("DbInstancePort"),
        "EngineVersion": instance.get("EngineVersion"),
    }
    for pending, key in PENDING_KEYS.items():
        if pending in (instance.get("PendingModifiedValues") or {}):
            view[key] = instance["PendingModifiedValues"][pending]
    return view


class RdsPostgres:
    """Reads everything first, validates, then applies: nothing is touched when a check fails."""

    def __init__(self, module):
        self.module = module
        self.params = dict(module.params)
        # Upstream ids are null in check mode against an empty account: treat them as not set.
        for option in ("subnet_ids", "vpc_security_group_ids"):
            self.params[option] = [item for item in self.params[option] or [] if item] or None
        self.changes = ChangeSet(module)
        self.rds = aws_client(module, "rds")
        self.identifier = self.params["identifier"]
        self.major = version_tuple(self.params["engine_version"])[:1]
        self.family = f"{ENGINE}{self.major[0]}" if self.major else None
        self.subnet_group_name = self.params["db_subnet_group_name"] or self.identifier
        self.parameter_group_name = self.params["parameter_group_name"] or f"{self.identifier}-{self.family}"
        self.replica_specs = self.params["read_replicas"]
        self.master = MasterSecret(
            module,
            self.changes,
            aws_client(module, "secretsmanager"),
            self.params["master_secret_name"],
            self.params["master_username"] or CREATE_DEFAULTS["MasterUsername"],
            {
                "engine": ENGINE,
                "port": self.params["port"] or 5432,
                "dbname": self.params["db_name"],
                "dbInstanceIdentifier": self.identifier,
            },
            description=f"Master credentials of the RDS PostgreSQL instance {self.identifier}",
            kms_key_id=self.params["master_secret_kms_key_id"] or self.params["kms_key_id"],
            tags=self.params["tags"],
            purge_tags=self.params["purge_tags"],
        )
        self.step = "reading the database"
        self.touched = []

    # --- reads ----------------------------------------------------------------

    def describe_instances(self, identifiers):
        found = paginate(
            self.rds,
            "describe_db_instances",
            "DBInstances",
            Filters=[{"Name": "db-instance-id", "Values": identifiers}],
        )
        return {instance["DBInstanceIdentifier"]: instance for instance in found}

    def describe_parameter_group(self):
        answer = describe_or_none(
            ("DBParameterGroupNotFound",),
            self.rds.describe_db_parameter_groups,
            DBParameterGroupName=self.parameter_group_name,
        )
        return ((answer or {}).get("DBParameterGroups") or [None])[0]

    def rds_tags(self, arn):
        return tag_dict(self.rds.list_tags_for_resource(aws_retry=True, ResourceName=arn).get("TagList"))

    def managed_ids(self):
        return [self.identifier, *(spec["identifier"] for spec in self.replica_specs or [])]

    # --- present --------------------------------------------------------------

    def ensure_present(self):
        instances = self.describe_instances(self.managed_ids())
        subnet_group = describe_db_subnet_group(self.rds, self.subnet_group_name)
        parameter_group = self.describe_parameter_group()
        self.master.describe()
        primary = instances.get(self.identifier)
        self.validate(primary, instances, subnet_group, parameter_group)

        self.ensure_subnet_group(subnet_group)
        static_changed = self.ensure_parameter_group(parameter_group)
        secret = self.ensure_secret(primary)
        self.ensure_primary(primary)
        self.ensure_replicas(primary, instances)
        if static_changed and (primary or instances):
            self.module.warn(
                f"Static parameters changed in {self.parameter_group_name} ({', '.join(sorted(static_changed))}); "
                "they apply when the instances reboot"
            )
        self.wait_available()
        if self.touched and not self.module.check_mode:
            self.step = "reading the database back"
            instances = self.describe_instances(self.managed_ids())
        return self.outputs(instances, secret)

    def validate(self, primary, instances, subnet_group, parameter_group):
        problems = []
        if not self.major:
            problems.append(f"engine_version {self.params['engine_version']!r} does not start with a major version")
        if primary is not None:
            problems.extend(self.replacement_problems(primary))
        for spec in self.replica_specs or []:
            replica = instances.get(spec["identifier"])
            source = (replica or {}).get("ReadReplicaSourceDBInstanceIdentifier")
            if replica is not None and source not in {self.identifier, (primary or {}).get("DBInstanceArn")} - {None}:
                problems.append(
                    f"DB instance {spec['identifier']} exists but is not a read replica of {self.identifier}"
                )
        if parameter_group is not None and parameter_group.get("DBParameterGroupFamily") != self.family:
            family = parameter_group.get("DBParameterGroupFamily")
            problems.append(
                f"DB parameter group {self.parameter_group_name} has family {family}, engine "
                f"{self.params['engine_version']} needs {self.family}: name another parameter_group_name"
            )
        if not self.module.check_mode:
            problems.extend(self.create_input_problems(primary, subnet_group))
        if problems:
            self.module.fail_json(msg="Refusing to change the database: " + "; ".join(problems), problems=problems)

    def create_input_problems(self, primary, subnet_group):
        problems = []
        if subnet_group is None and not self.params["subnet_ids"]:
            problems.append(f"subnet_ids are required to create DB subnet group {self.subnet_group_name}")
        if primary is None and not self.params["instance_class"]:
            problems.append(f"instance_class is required to create DB instance {self.identifier}")
        return problems

    def replacement_problems(self, primary):
        params = self.params
        problems = []
        if primary.get("Engine") != ENGINE:
            problems.append(
                f"{self.identifier} runs engine {primary.get('Engine')}, not {ENGINE} (needs a new instance)"
            )
        change = version_change(params["engine_version"], primary.get("EngineVersion"))
        if change == "downgrade":
            problems.append(
                f"{self.identifier} runs PostgreSQL {primary.get('EngineVersion')}; a downgrade to "
                f"{params['engine_version']} needs a new instance restored from a dump"
            )
        if change == "major-upgrade" and not params["allow_major_version_upgrade"]:
            problems.append(
                f"{self.identifier} runs PostgreSQL {primary.get('EngineVersion')}; upgrading to "
                f"{params['engine_version']} is a major upgrade: set allow_major_version_upgrade"
            )
        if params["allocated_storage"] is not None and params["allocated_storage"] < primary.get("AllocatedStorage", 0):
            problems.append(
                f"{self.identifier} has {primary.get('AllocatedStorage')} GiB; RDS cannot shrink storage to "
                f"{params['allocated_storage']} GiB (needs a new instance)"
            )
        encrypted = params["storage_encrypted"]
        if encrypted is not None and encrypted != primary.get("StorageEncrypted"):
            state = "encrypted" if primary.get("StorageEncrypted") else "not encrypted"
            problems.append(
                f"{self.identifier} is {state}; changing that needs a snapshot copy restored into a new instance"
            )
        if primary.get("StorageEncrypted") and not same_kms_key(params["kms_key_id"], primary.get("KmsKeyId")):
            problems.append(
                f"{self.identifier} is encrypted with {primary.get('KmsKeyId')}, not {params['kms_key_id']} "
                "(another key needs a new instance)"
            )
        for option, key in (("master_username", "MasterUsername"), ("db_name", "DBName")):
            if params[option] is not None and params[option] != primary.get(key):
                problems.append(
                    f"{self.identifier} has {key} {primary.get(key)!r}; it cannot change to {params[option]!r}"
                )
        return problems

    def sync_tags(self, label, arn, current, desired):
        self.step = f"tagging {label}"
        sync_rds_tags(self.changes, self.rds, label, arn, current, desired, self.params["purge_tags"])

    def sync_group_tags(self, label, arn):
        """A group's tags are read (one call) only when tags are set."""
        if self.params["tags"] is not None:
            self.sync_tags(label, arn, self.rds_tags(arn), self.params["tags"])

    def ensure_subnet_group(self, actual):
        label = f"db_subnet_group {self.subnet_group_name}"
        self.step = f"ensuring {label}"
        ensure_db_subnet_group(
            self.changes,
            self.rds,
            label,
            self.subnet_group_name,
            actual,
            self.params["subnet_ids"],
            f"DB subnet group of {self.identifier}",
            self.params["tags"],
            keep_description=self.params["db_subnet_group_description"],
        )
        if actual is not None:
            self.sync_group_tags(label, actual["DBSubnetGroupArn"])

    def _modify_parameters(self, label, attributes, values):
        for parameters in parameter_batches(
            values, lambda name: "pending-reboot" if name in STATIC_PARAMETERS else "immediate"
        ):
            self.changes.update(
                label,
                attributes,
                self.rds,
                "rds",
                "modify_db_parameter_group",
                DBParameterGroupName=self.parameter_group_name,
                Parameters=parameters,
            )

    def ensure_parameter_group(self, actual):
        """Returns the static parameters that changed on an existing group."""
        label = f"db_parameter_group {self.parameter_group_name}"
        desired = {name: parameter_value(value) for name, value in (self.params["parameters"] or {}).items()}
        self.step = f"ensuring {label}"
        if actual is None:
            self.changes.note(label, None, {"family": self.family, "parameters": desired})
            self.changes.create(
                label,
                self.rds,
                "rds",
                "create_db_parameter_group",
                DBParameterGroupName=self.parameter_group_name,
                DBParameterGroupFamily=self.family,
                Description=f"PostgreSQL {self.major[0]} parameters of {self.identifier}",
                Tags=tag_list(self.params["tags"]),
            )
            if desired:
                self._modify_parameters(label, ["parameters"], desired)
            return set()
        changed = {}
        if desired:
            current = {
                parameter["ParameterName"]: parameter.get("ParameterValue")
                for parameter in paginate(
                    self.rds,
                    "describe_db_parameters",
                    "Parameters",
                    DBParameterGroupName=self.parameter_group_name,
                    Source="user",
                )
            }
            changed = {name: value for name, value in desired.items() if current.get(name) != value}
            if changed:
                self.changes.note(label, {name: current.get(name) for name in changed}, changed)
                self._modify_parameters(label, [f"parameters.{name}" for name in sorted(changed)], changed)
        self.sync_group_tags(label, actual["DBParameterGroupArn"])
        return set(changed) & STATIC_PARAMETERS

    def ensure_secret(self, primary):
        self.step = f"ensuring {self.master.secret.resource}"
        instance = (f"db_instance {self.identifier}", self.rds, "db_instance", self.identifier)
        return self.master.ensure(instance if primary is not None else None)

    def master_password(self):
        self.step = "reading the master password from the secret"
        return self.master.password()

    # --- instances ------------------------------------------------------------

    def shared_desired(self):
        """What the primary and its replicas have in common, as the API names it."""
        params = self.params
        return scrub_none_parameters(
            {
                "StorageType": params["storage_type"],
                "VpcSecurityGroupIds": params["vpc_security_group_ids"],
                "DBParameterGroupName": self.parameter_group_name,
                "DeletionProtection": params["deletion_protection"],
                "CopyTagsToSnapshot": params["copy_tags_to_snapshot"],
                "PubliclyAccessible": params["publicly_accessible"],
                "AutoMinorVersionUpgrade": params["auto_minor_version_upgrade"],
            }
        )

    def primary_desired(self):
        params = self.params
        return dict(
            self.shared_desired(),
            **scrub_none_parameters(
                {
                    "DBInstanceClass": params["instance_class"],
                    "AllocatedStorage": params["allocated_storage"],
                    "MaxAllocatedStorage": params["max_allocated_storage"],
                    "Iops": params["iops"],
                    "StorageThroughput": params["storage_throughput"],
                    "MultiAZ": params["multi_az"],
                    "BackupRetentionPeriod": params["backup_retention_period"],
                    "PreferredBackupWindow": params["preferred_backup_window"],
                    "PreferredMaintenanceWindow": (params["preferred_maintenance_window"] or "").lower() or None,
                    "DBSubnetGroupName": self.subnet_group_name,
                    "DBPortNumber": params["port"],
                }
            ),
        )

    def replica_desired(self, spec):
        return dict(
            self.shared_desired(),
            **scrub_none_parameters(
                {
                    "DBInstanceClass": spec["instance_class"] or self.params["instance_class"],
                    "MultiAZ": spec["multi_az"],
                }
            ),
        )

    def primary_tags(self):
        if self.params["tags"] is None and self.params["primary_tags"] is None:
            return None
        return dict(self.params["tags"] or {}, **(self.params["primary_tags"] or {}))

    def create_primary(self):
        params = self.params
        label = f"db_instance {self.identifier}"
        desired = dict(CREATE_DEFAULTS, **self.primary_desired())
        port = desired.pop("DBPortNumber", None)
        desired.update(
            scrub_none_parameters(
                {
                    "EngineVersion": params["engine_version"],
                    "StorageEncrypted": params["storage_encrypted"],
                    "KmsKeyId": params["kms_key_id"],
                    "MasterUsername": params["master_username"],
                    "DBName": params["db_name"],
                    "Port": port,
                }
            )
        )
        if not desired["StorageEncrypted"]:
            desired.pop("KmsKeyId", None)
        self.changes.note(label, None, desired)
        self.step = f"creating {label}"
        self.changes.create(
            label,
            self.rds,
            "rds",
            "create_db_instance",
            DBInstanceIdentifier=self.identifier,
            Engine=ENGINE,
            MasterUserPassword=self.master_password(),
            Tags=tag_list(self.primary_tags()),
            **desired,
        )
        self.touched.append(self.identifier)

    def modify_instance(self, identifier, actual, desired, extra=None):
        label = f"db_instance {identifier}"
        current = instance_view(actual)
        attributes = changed_attributes(differences(desired, current))
        if not attributes and not extra:
            return
        self.changes.note(
            label, {key: current.get(key) for key in attributes}, {key: desired[key] for key in attributes}
        )
        self.step = f"modifying {label}"
        self.changes.update(
            label,
            attributes + sorted(extra or {}),
            self.rds,
            "rds",
            "modify_db_instance",
            DBInstanceIdentifier=identifier,
            ApplyImmediately=self.params["apply_immediately"],
            **{key: desired[key] for key in attributes},
            **(extra or {}),
        )
        self.touched.append(identifier)

    def engine_version_change(self, primary):
        """Extra ModifyDBInstance arguments for an engine upgrade ({} when none is due)."""
        change = version_change(self.params["engine_version"], primary.get("EngineVersion"))
        if change == "newer":
            self.module.warn(
                f"{self.identifier} runs PostgreSQL {primary.get('EngineVersion')}, newer than "
                f"{self.params['engine_version']}; left alone (RDS cannot downgrade)"
            )
        extra = engine_upgrade(self.params["engine_version"], primary.get("EngineVersion"))
        if extra:
            self.changes.note(
                f"db_instance {self.identifier} engine_version",
                primary.get("EngineVersion"),
                self.params["engine_version"],
            )
        if change == "major-upgrade":
            # The new major's parameter group goes with the upgrade.
            extra["DBParameterGroupName"] = self.parameter_group_name
        return extra

    def ensure_primary(self, primary):
        if primary is None:
            self.create_primary()
            return
        extra = self.engine_version_change(primary)
        desired = self.primary_desired()
        if "DBParameterGroupName" in extra:
            desired.pop("DBParameterGroupName")
        self.modify_instance(self.identifier, primary, desired, extra)
        label = f"db_instance {self.identifier}"
        self.sync_tags(label, primary["DBInstanceArn"], tag_dict(primary.get("TagList")), self.primary_tags())

    def create_replica(self, spec):
        label = f"db_instance {spec['identifier']}"
        desired = dict(
            self.replica_desired(spec),
            **scrub_none_parameters(
                {"AvailabilityZone": spec["availability_zone"], "DBSubnetGroupName": self.subnet_group_name}
            ),
        )
        self.changes.note(label, None, dict(desired, SourceDBInstanceIdentifier=self.identifier))
        self.wait_for(self.identifier)  # a replica needs an available source
        self.step = f"creating read replica {label}"
        self.changes.create(
            label,
            self.rds,
            "rds",
            "create_db_instance_read_replica",
            DBInstanceIdentifier=spec["identifier"],
            SourceDBInstanceIdentifier=self.identifier,
            Tags=tag_list(self.params["tags"]),
            **desired,
        )
        self.touched.append(spec["identifier"])

    def unlisted_replicas(self, primary, instances):
        """Same-region replicas of the primary that read_replicas does not list, described."""
        unlisted = [
            identifier
            for identifier in (primary or {}).get("ReadReplicaDBInstanceIdentifiers") or []
            if identifier not in instances and not identifier.startswith("arn:")
        ]
        return self.describe_instances(unlisted) if unlisted else {}

    def ensure_replicas(self, primary, instances):
        if self.replica_specs is None:
            return
        for spec in self.replica_specs:
            replica = instances.get(spec["identifier"])
            if replica is None:
                self.create_replica(spec)
                continue
            label = f"db_instance {spec['identifier']}"
            self.modify_instance(spec["identifier"], replica, self.replica_desired(spec))
            self.sync_tags(label, replica["DBInstanceArn"], tag_dict(replica.get("TagList")), self.params["tags"])
        if self.params["purge_read_replicas"]:
            for identifier, replica in self.unlisted_replicas(primary, instances).items():
                self.delete_instance(identifier, None, replica)

    # --- waiting --------------------------------------------------------------

    def wait_for(self, identifier, waiter="db_instance_available"):
        """Poll until the instance is available (or gone), bounded by wait_timeout."""
        if self.module.check_mode:
            return
        self.step = f"waiting for {identifier} ({waiter})"
        wait_for(self.rds, waiter, self.params["wait_timeout"], DBInstanceIdentifier=identifier)

    def wait_available(self):
        if self.params["wait"]:
            for identifier in dict.fromkeys(self.touched):
                self.wait_for(identifier)

    # --- absent ---------------------------------------------------------------

    def delete_instance(self, identifier, final_snapshot, actual):
        label = f"db_instance {identifier}"
        self.step = f"deleting {label}"
        if actual.get("DeletionProtection"):
            self.changes.update(
                label,
                ["DeletionProtection"],
                self.rds,
                "rds",
                "modify_db_instance",
                DBInstanceIdentifier=identifier,
                DeletionProtection=False,
                ApplyImmediately=True,
            )
        self.changes.note(label, {"identifier": identifier}, None)
        snapshot = {"FinalDBSnapshotIdentifier": final_snapshot} if final_snapshot else {"SkipFinalSnapshot": True}
        self.changes.delete(
            label,
            self.rds,
            "rds",
            "delete_db_instance",
            DBInstanceIdentifier=identifier,
            DeleteAutomatedBackups=False,
            **snapshot,
        )

    def ensure_absent(self):
        instances = self.describe_instances(self.managed_ids())
        primary = instances.get(self.identifier)
        instances.update(self.unlisted_replicas(primary, instances))
        if instances and self.params["confirm_delete"] != self.identifier:
            self.module.fail_json(
                msg=f"Refusing to delete {', '.join(sorted(instances))}: set confirm_delete to {self.identifier!r} "
                "to confirm that this database goes (a final snapshot of the primary is kept)"
            )
        replicas = {key: value for key, value in instances.items() if key != self.identifier}
        for identifier, replica in replicas.items():
            self.delete_instance(identifier, None, replica)
        # Replicas go first: deleting the primary would promote them to standalone instances.
        for identifier in replicas if self.params["wait"] else []:
            self.wait_for(identifier, "db_instance_deleted")
        result = {}
        if primary is not None:
            snapshot = self.params["final_snapshot_identifier"] or (
                f"{self.identifier}-final-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
            )
            self.delete_instance(self.identifier, snapshot, primary)
            result["final_snapshot_identifier"] = snapshot
            if self.params["wait"]:
                self.wait_for(self.identifier, "db_instance_deleted")
        self.delete_groups_and_secret(bool(instances))
        return self.changes.result(**self.empty_outputs(), **result)

    def delete_groups_and_secret(self, instances_deleted):
        if instances_deleted and not self.params["wait"]:
            self.module.warn("wait is false: the subnet group, parameter group and secret are left for the next run")
            return
        if self.describe_parameter_group() is not None:
            self.step = f"deleting db_parameter_group {self.parameter_group_name}"
            self.changes.delete(
                f"db_parameter_group {self.parameter_group_name}",
                self.rds,
                "rds",
                "delete_db_parameter_group",
                DBParameterGroupName=self.parameter_group_name,
            )
        self.step = f"deleting db_subnet_group {self.subnet_group_name}"
        delete_db_subnet_group(
            self.changes, self.rds, f"db_subnet_group {self.subnet_group_name}", self.subnet_group_name
        )
        self.step = f"scheduling the deletion of {self.master.secret.resource}"
        self.master.delete(self.params["secret_recovery_window_days"])

    # --- results --------------------------------------------------------------

    def empty_outputs(self):
        return {
            "primary_endpoint": None,
            "port": None,
            "replica_endpoints": [],
            "master_secret_arn": None,
            "instance_ids": [],
            "instance_arns": [],
            "db_subnet_group_name": self.subnet_group_name,
            "parameter_group_name": self.parameter_group_name,
        }

    def outputs(self, instances, secret):
        ids = self.managed_ids()
        endpoint = {key: (value.get("Endpoint") or {}) for key, value in instances.items()}
        return self.changes.result(
            primary_endpoint=endpoint.get(self.identifier, {}).get("Address"),
            port=endpoint.get(self.identifier, {}).get("Port"),
            replica_endpoints=[endpoint.get(key, {}).get("Address") for key in ids[1:]],
            master_secret_arn=(secret or {}).get("ARN"),
            instance_ids=ids,
            instance_arns=[instances.get(key, {}).get("DBInstanceArn") for key in ids],
            db_subnet_group_name=self.subnet_group_name,
            parameter_group_name=self.parameter_group_name,
        )


def argument_spec():
    return dict(
        state=dict(default="present", choices=["present", "absent"]),
        identifier=dict(required=True),
        engine_version=dict(required=True),
        instance_class=dict(),
        allocated_storage=dict(type="int"),
        max_allocated_storage=dict(type="int"),
        storage_type=dict(choices=["gp2", "gp3", "io1", "io2", "standard"]),
        iops=dict(type="int"),
        storage_throughput=dict(type="int"),
        storage_encrypted=dict(type="bool"),
        kms_key_id=dict(),
        master_username=dict(),
        db_name=dict(),
        port=dict(type="int"),
        db_subnet_group_name=dict(),
        db_subnet_group_description=dict(),
        subnet_ids=dict(type="list", elements="str"),
        vpc_security_group_ids=dict(type="list", elements="str"),
        parameter_group_name=dict(),
        parameters=dict(type="dict"),
        master_secret_name=dict(required=True),
        master_secret_kms_key_id=dict(),
        multi_az=dict(type="bool"),
        backup_retention_period=dict(type="int"),
        preferred_backup_window=dict(),
        preferred_maintenance_window=dict(),
        deletion_protection=dict(type="bool"),
        copy_tags_to_snapshot=dict(type="bool"),
        publicly_accessible=dict(type="bool"),
        auto_minor_version_upgrade=dict(type="bool"),
        read_replicas=dict(
            type="list",
            elements="dict",
            options=dict(
                identifier=dict(required=True),
                instance_class=dict(),
                multi_az=dict(type="bool"),
                availability_zone=dict(),
            ),
        ),
        purge_read_replicas=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        primary_tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        apply_immediately=dict(type="bool", default=False),
        allow_major_version_upgrade=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        confirm_delete=dict(),
        final_snapshot_identifier=dict(),
        secret_recovery_window_days=dict(type="int", default=30, no_log=False),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_manager(module, RdsPostgres(module))


if __name__ == "__main__":
    main()
