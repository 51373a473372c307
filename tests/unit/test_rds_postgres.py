# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rds_postgres against the real emulator (moto server), plus request shapes with botocore's Stubber."""

import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import RETRY
from ansible_collections.reelle.infra.plugins.modules import rds_postgres
from botocore.stub import ANY, Stubber

PRIMARY = "unit-pg"
REPLICA = "unit-pg-replica"
SECRET = "unit/database/master"


def run(capsys, args, check_mode=False, diff=False):
    """Run the module's main() with args; return its JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        rds_postgres.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def upstream(emulator):
    """What the network and security roles would have made: VPC, two subnets, a SG, a KMS key.

    The key is an ARN only: moto's RDS and Secrets Manager store it without looking it up, and
    creating a real one costs seconds on a freshly reset emulator (the molecule scenario uses one).
    """
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for index, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    key = "arn:aws:kms:us-east-1:123456789012:key/0b4c3e4f-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
    return {"subnet_ids": subnets, "security_group_id": group, "kms_key_arn": key}


def staging_args(upstream, **overrides):
    args = {
        "identifier": PRIMARY,
        "engine_version": "15",
        "instance_class": "db.t3.medium",
        "allocated_storage": 20,
        "storage_type": "gp3",
        "kms_key_id": upstream["kms_key_arn"],
        "db_subnet_group_name": "unit-db",
        "subnet_ids": upstream["subnet_ids"],
        "vpc_security_group_ids": [upstream["security_group_id"]],
        "parameters": {"max_connections": 100, "rds.force_ssl": True},
        "master_secret_name": SECRET,
        "db_name": "app",
        "multi_az": False,
        "backup_retention_period": 7,
        "preferred_backup_window": "03:00-04:00",
        "preferred_maintenance_window": "Sun:04:30-Sun:05:30",
        "deletion_protection": True,
        "copy_tags_to_snapshot": True,
        "read_replicas": [{"identifier": REPLICA}],
        "tags": {"project": "reelle"},
        "primary_tags": {"backup": "daily"},
        "apply_immediately": True,
    }
    args.update(overrides)
    return args


def instances():
    return {db["DBInstanceIdentifier"]: db for db in boto3.client("rds").describe_db_instances()["DBInstances"]}


def secret_password():
    value = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    return json.loads(value)["password"]


def test_create_makes_the_whole_unit_and_never_shows_the_password(capsys, upstream):
    result = run(capsys, staging_args(upstream))
    assert result["changed"] is True
    assert {(row["action"], row["resource"]) for row in result["changes"]} >= {
        ("create", "db_subnet_group unit-db"),
        ("create", "db_parameter_group unit-pg-postgres15"),
        ("create", f"secret {SECRET}"),
        ("create", f"db_instance {PRIMARY}"),
        ("create", f"db_instance {REPLICA}"),
    }
    dbs = instances()
    primary, replica = dbs[PRIMARY], dbs[REPLICA]
    assert (primary["Engine"], primary["EngineVersion"], primary["DBInstanceClass"]) == (
        "postgres",
        "15",
        "db.t3.medium",
    )
    assert primary["StorageEncrypted"] and primary["KmsKeyId"] == upstream["kms_key_arn"]
    assert (primary["StorageType"], primary["BackupRetentionPeriod"]) == ("gp3", 7)
    assert primary["DeletionProtection"] and primary["CopyTagsToSnapshot"] and not primary["PubliclyAccessible"]
    assert {"Key": "backup", "Value": "daily"} in primary["TagList"]
    assert {"Key": "backup", "Value": "daily"} not in replica["TagList"]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == PRIMARY
    assert result["instance_ids"] == [PRIMARY, REPLICA]
    assert result["primary_endpoint"] == primary["Endpoint"]["Address"]
    assert result["replica_endpoints"] == [replica["Endpoint"]["Address"]]
    assert result["master_secret_arn"].startswith("arn:aws:secretsmanager:us-east-1:")
    password = secret_password()
    assert len(password) == 32
    assert password not in json.dumps(result)
    parameters = boto3.client("rds").describe_db_parameters(DBParameterGroupName="unit-pg-postgres15")["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in parameters} == {
        "max_connections": "100",
        "rds.force_ssl": "1",
    }


def test_second_run_changes_nothing(capsys, upstream):
    run(capsys, staging_args(upstream))
    result = run(capsys, staging_args(upstream))
    assert result["changed"] is False
    assert result["changes"] == []
    assert result["skipped_calls"] == []


@pytest.mark.parametrize(
    ("overrides", "resource", "attributes", "check"),
    [
        (
            {"backup_retention_period": 14},
            f"db_instance {PRIMARY}",
            ["BackupRetentionPeriod"],
            lambda: instances()[PRIMARY]["BackupRetentionPeriod"] == 14,
        ),
        (
            {"multi_az": True, "preferred_backup_window": "02:00-03:00"},
            f"db_instance {PRIMARY}",
            ["MultiAZ", "PreferredBackupWindow"],
            lambda: instances()[PRIMARY]["MultiAZ"] is True,
        ),
        (
            {"read_replicas": [{"identifier": REPLICA, "instance_class": "db.t3.large"}]},
            f"db_instance {REPLICA}",
            ["DBInstanceClass"],
            lambda: instances()[REPLICA]["DBInstanceClass"] == "db.t3.large",
        ),
        (
            {"parameters": {"max_connections": 200, "rds.force_ssl": 1}},
            "db_parameter_group unit-pg-postgres15",
            ["parameters.max_connections"],
            lambda: True,
        ),
        (
            {"allocated_storage": 40},
            f"db_instance {PRIMARY}",
            ["AllocatedStorage"],
            lambda: instances()[PRIMARY]["AllocatedStorage"] == 40,
        ),
    ],
)
def test_update_changes_only_what_differs(capsys, upstream, overrides, resource, attributes, check):
    run(capsys, staging_args(upstream))
    result = run(capsys, staging_args(upstream, **overrides))
    assert result["changed"] is True
    assert [(row["action"], row["resource"], row["attributes"]) for row in result["changes"]] == [
        ("update", resource, attributes)
    ]
    assert check()
    assert run(capsys, staging_args(upstream, **overrides))["changed"] is False


def test_options_not_set_leave_the_instance_alone(capsys, upstream):
    run(capsys, staging_args(upstream))
    bare = {
        "identifier": PRIMARY,
        "engine_version": "15",
        "master_secret_name": SECRET,
        "db_subnet_group_name": "unit-db",
    }
    assert run(capsys, bare)["changed"] is False


def test_static_parameter_change_warns_about_the_reboot(capsys, upstream):
    run(capsys, staging_args(upstream))
    result = run(capsys, staging_args(upstream, parameters={"max_connections": 120}))
    assert "they apply when the instances reboot" in json.dumps(result.get("warnings"))


def test_check_mode_on_an_empty_account_reports_creates_and_makes_nothing(capsys, emulator):
    # Upstream roles ran in check mode too: their ids are null.
    args = {
        "identifier": PRIMARY,
        "engine_version": "15",
        "instance_class": "db.t3.medium",
        "kms_key_id": None,
        "subnet_ids": [None, None],
        "vpc_security_group_ids": [None],
        "master_secret_name": SECRET,
        "parameters": {"max_connections": 100},
        "read_replicas": [{"identifier": REPLICA}],
        "tags": {"project": "reelle"},
    }
    result = run(capsys, args, check_mode=True, diff=True)
    assert result["changed"] is True
    assert {row["action"] for row in result["changes"]} == {"create", "update"}
    assert result["primary_endpoint"] is None and result["master_secret_arn"] is None
    assert result["instance_arns"] == [None, None]
    assert result["diff"]["before"][f"db_instance {PRIMARY}"] is None
    assert instances() == {}
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []
    assert boto3.client("rds").describe_db_subnet_groups()["DBSubnetGroups"] == []


def test_check_mode_against_an_existing_database_changes_nothing(capsys, upstream):
    run(capsys, staging_args(upstream))
    result = run(capsys, staging_args(upstream, backup_retention_period=21), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {f"db_instance {PRIMARY}": {"BackupRetentionPeriod": 7}},
        "after": {f"db_instance {PRIMARY}": {"BackupRetentionPeriod": 21}},
    }
    assert instances()[PRIMARY]["BackupRetentionPeriod"] == 7


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"allocated_storage": 10}, "RDS cannot shrink storage"),
        ({"storage_encrypted": False}, "is encrypted; changing that needs a snapshot copy"),
        ({"engine_version": "14"}, "a downgrade to 14 needs a new instance"),
        ({"engine_version": "16"}, "set allow_major_version_upgrade"),
        ({"master_username": "root"}, "it cannot change to 'root'"),
        ({"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/other"}, "another key needs a new instance"),
    ],
)
def test_changes_that_need_replacement_fail_and_touch_nothing(capsys, upstream, overrides, message):
    run(capsys, staging_args(upstream))
    result = run(capsys, staging_args(upstream, backup_retention_period=30, **overrides))
    assert result["failed"] is True
    assert message in result["msg"]
    assert instances()[PRIMARY]["BackupRetentionPeriod"] == 7


def test_an_instance_that_is_not_our_replica_is_refused(capsys, upstream):
    rds = boto3.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=REPLICA, Engine="postgres", DBInstanceClass="db.t3.micro", MasterUsername="x"
    )
    result = run(capsys, staging_args(upstream))
    assert result["failed"] is True
    assert f"{REPLICA} exists but is not a read replica of {PRIMARY}" in result["msg"]
    assert PRIMARY not in instances()


def test_creating_without_subnets_fails_clearly(capsys, emulator):
    result = run(
        capsys,
        {"identifier": PRIMARY, "engine_version": "15", "instance_class": "db.t3.medium", "master_secret_name": SECRET},
    )
    assert result["failed"] is True
    assert "subnet_ids are required to create DB subnet group" in result["msg"]


def test_lost_secret_gets_a_new_password_set_on_the_instance(capsys, upstream):
    run(capsys, staging_args(upstream))
    old = secret_password()
    boto3.client("secretsmanager").delete_secret(SecretId=SECRET, ForceDeleteWithoutRecovery=True)
    result = run(capsys, staging_args(upstream))
    assert ("update", f"db_instance {PRIMARY}", ["MasterUserPassword"]) in [
        (row["action"], row["resource"], row["attributes"]) for row in result["changes"]
    ]
    assert secret_password() != old
    assert secret_password() not in json.dumps(result)


def test_deleting_needs_the_confirmation_and_keeps_a_final_snapshot(capsys, upstream):
    run(capsys, staging_args(upstream))
    absent = {"state": "absent", "identifier": PRIMARY, "engine_version": "15", "master_secret_name": SECRET}
    absent.update(db_subnet_group_name="unit-db", read_replicas=[{"identifier": REPLICA}])
    refused = run(capsys, absent)
    assert refused["failed"] is True and "set confirm_delete to 'unit-pg'" in refused["msg"]
    assert set(instances()) == {PRIMARY, REPLICA}

    result = run(capsys, dict(absent, confirm_delete=PRIMARY, final_snapshot_identifier="unit-pg-final"))
    assert result["changed"] is True
    assert instances() == {}
    snapshots = boto3.client("rds").describe_db_snapshots(DBSnapshotIdentifier="unit-pg-final")["DBSnapshots"]
    assert snapshots[0]["DBInstanceIdentifier"] == PRIMARY
    assert boto3.client("secretsmanager").describe_secret(SecretId=SECRET)["DeletedDate"]
    assert run(capsys, dict(absent, confirm_delete=PRIMARY))["changed"] is False


def test_a_secret_scheduled_for_deletion_is_restored(capsys, upstream):
    run(capsys, staging_args(upstream))
    boto3.client("secretsmanager").delete_secret(SecretId=SECRET, RecoveryWindowInDays=7)
    result = run(capsys, staging_args(upstream))
    assert [row["resource"] for row in result["changes"]] == [f"secret {SECRET}"]
    assert "DeletedDate" not in boto3.client("secretsmanager").describe_secret(SecretId=SECRET)


# --- request shapes (botocore's Stubber validates them against the service model) ----------


@pytest.fixture
def stubbed(monkeypatch):
    """A manager whose clients answer from Stubbers (no emulator, AWS call path)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)

    def make(args):
        with patch_module_args(dict(args, _ansible_check_mode=False)):
            module = AnsibleAWSModule(argument_spec=rds_postgres.argument_spec(), supports_check_mode=True)
        manager = rds_postgres.RdsPostgres(module)
        stubs = {}
        for name, service in (("rds", "rds"), ("secrets", "secretsmanager")):
            client = boto3.client(service, region_name="us-east-1")
            stubs[name] = Stubber(client)
            stubs[name].activate()
            stubs[name].client = RetryingBotoClientWrapper(client, RETRY)
        manager.rds = stubs["rds"].client
        manager.master.secret.client = stubs["secrets"].client
        return manager, stubs

    return make


def test_read_replica_request_shape(stubbed):
    manager, stubs = stubbed(
        {
            "identifier": PRIMARY,
            "engine_version": "15",
            "instance_class": "db.t3.medium",
            "master_secret_name": SECRET,
            "vpc_security_group_ids": ["sg-1"],
            "deletion_protection": True,
            "tags": {"project": "reelle"},
        }
    )
    stubs["rds"].add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceIdentifier": PRIMARY, "DBInstanceStatus": "available"}]},
        {"DBInstanceIdentifier": PRIMARY},
    )
    stubs["rds"].add_response(
        "create_db_instance_read_replica",
        {"DBInstance": {"DBInstanceIdentifier": REPLICA}},
        {
            "DBInstanceIdentifier": REPLICA,
            "SourceDBInstanceIdentifier": PRIMARY,
            "DBInstanceClass": "db.t3.large",
            "VpcSecurityGroupIds": ["sg-1"],
            "DBParameterGroupName": "unit-pg-postgres15",
            "DeletionProtection": True,
            "DBSubnetGroupName": PRIMARY,
            "AvailabilityZone": "us-east-1b",
            "Tags": [{"Key": "project", "Value": "reelle"}],
        },
    )
    manager.create_replica(
        {"identifier": REPLICA, "instance_class": "db.t3.large", "multi_az": None, "availability_zone": "us-east-1b"}
    )
    stubs["rds"].assert_no_pending_responses()


def test_secret_and_primary_creation_request_shapes(stubbed):
    manager, stubs = stubbed(
        {
            "identifier": PRIMARY,
            "engine_version": "15",
            "instance_class": "db.t3.medium",
            "master_secret_name": SECRET,
            "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/abc",
            "db_name": "app",
        }
    )
    stubs["secrets"].add_client_error(
        "describe_secret", "ResourceNotFoundException", expected_params={"SecretId": SECRET}
    )
    stubs["secrets"].add_response(
        "get_random_password",
        {"RandomPassword": "p" * 32},
        {"PasswordLength": 32, "ExcludePunctuation": True, "IncludeSpace": False},
    )
    stubs["secrets"].add_response(
        "create_secret",
        {"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x", "Name": SECRET},
        {
            "Name": SECRET,
            "Description": f"Master credentials of the RDS PostgreSQL instance {PRIMARY}",
            "SecretString": json.dumps(
                {
                    "username": "app_admin",
                    "password": "p" * 32,
                    "engine": "postgres",
                    "port": 5432,
                    "dbname": "app",
                    "dbInstanceIdentifier": PRIMARY,
                }
            ),
            "ClientRequestToken": ANY,
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc",
        },
    )
    stubs["rds"].add_response(
        "create_db_instance",
        {"DBInstance": {"DBInstanceIdentifier": PRIMARY}},
        {
            "DBInstanceIdentifier": PRIMARY,
            "Engine": "postgres",
            "EngineVersion": "15",
            "DBInstanceClass": "db.t3.medium",
            "MasterUsername": "app_admin",
            "MasterUserPassword": "p" * 32,
            "DBName": "app",
            "AllocatedStorage": 20,
            "StorageType": "gp3",
            "StorageEncrypted": True,
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc",
            "DeletionProtection": True,
            "CopyTagsToSnapshot": True,
            "PubliclyAccessible": False,
            "DBSubnetGroupName": PRIMARY,
            "DBParameterGroupName": "unit-pg-postgres15",
            "Tags": [],
        },
    )
    manager.ensure_secret(None)
    manager.create_primary()
    assert "p" * 32 in manager.module.no_log_values
    stubs["secrets"].assert_no_pending_responses()
    stubs["rds"].assert_no_pending_responses()


def test_delete_request_shapes(stubbed):
    manager, stubs = stubbed({"identifier": PRIMARY, "engine_version": "15", "master_secret_name": SECRET})
    stubs["rds"].add_response(
        "modify_db_instance",
        {"DBInstance": {}},
        {"DBInstanceIdentifier": PRIMARY, "DeletionProtection": False, "ApplyImmediately": True},
    )
    stubs["rds"].add_response(
        "delete_db_instance",
        {"DBInstance": {}},
        {"DBInstanceIdentifier": PRIMARY, "FinalDBSnapshotIdentifier": "final", "DeleteAutomatedBackups": False},
    )
    manager.delete_instance(PRIMARY, "final", {"DeletionProtection": True})
    stubs["rds"].assert_no_pending_responses()
