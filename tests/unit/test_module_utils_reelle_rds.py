# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""reelle_rds: versions, parameters, subnet groups, tags, waiting and the master secret (Stubber, table-driven)."""

import json
import types

import pytest
from ansible_collections.reelle.infra.plugins.module_utils import reelle_rds
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import ChangeSet, same_kms_key
from botocore.exceptions import ClientError, WaiterError
from botocore.stub import ANY

from tests.support.stubs import fake_module, stubbed

SECRET = "unit/database/master"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET}-AbCdEf"
GROUP_ARN = "arn:aws:rds:us-east-1:123456789012:subgrp:unit-db"


@pytest.fixture
def aws(monkeypatch):
    """Stubber-backed rds and secretsmanager clients with our retrying wrapper (AWS call path)."""
    with stubbed(monkeypatch, "rds") as (_, rds), stubbed(monkeypatch, "secretsmanager") as (_, secrets):
        yield {"rds": rds, "secretsmanager": secrets}


def rows(changes):
    return [(row["action"], row["resource"], row["attributes"]) for row in changes.changes]


# --- versions and parameters --------------------------------------------------------


@pytest.mark.parametrize(
    ("desired", "actual", "change"),
    [
        ("15", "15", None),
        ("15", "15.7", None),
        ("15.7", "15.7", None),
        ("15.8", "15.7", "minor-upgrade"),
        ("15.6", "15.7", "newer"),
        ("16", "15.7", "major-upgrade"),
        ("14", "15.7", "downgrade"),
        (None, "15.7", None),
        ("15", None, None),
    ],
)
def test_version_change(desired, actual, change):
    assert reelle_rds.version_change(desired, actual) == change


@pytest.mark.parametrize(
    ("desired", "actual", "upgrade"),
    [
        ("15.8", "15.7", {"EngineVersion": "15.8"}),
        ("16.2", "15.7", {"EngineVersion": "16.2", "AllowMajorVersionUpgrade": True}),
        ("15", "15.7", {}),
        ("15.6", "15.7", {}),
        ("14", "15.7", {}),
    ],
)
def test_engine_upgrade(desired, actual, upgrade):
    assert reelle_rds.engine_upgrade(desired, actual) == upgrade


@pytest.mark.parametrize(("value", "stored"), [(True, "1"), (False, "0"), (100, "100"), ("on", "on")])
def test_parameter_value(value, stored):
    assert reelle_rds.parameter_value(value) == stored


def test_parameter_batches_take_twenty_a_call_in_name_order():
    values = {f"p{index:02d}": str(index) for index in range(45)}
    batches = reelle_rds.parameter_batches(values, "pending-reboot")
    assert [len(batch) for batch in batches] == [20, 20, 5]
    assert batches[0][0] == {"ParameterName": "p00", "ParameterValue": "0", "ApplyMethod": "pending-reboot"}
    assert [item["ParameterName"] for batch in batches for item in batch] == sorted(values)
    static = reelle_rds.parameter_batches({"b": "1", "a": "2"}, lambda name: "pending-reboot" if name == "a" else "x")
    assert [(item["ParameterName"], item["ApplyMethod"]) for item in static[0]] == [("a", "pending-reboot"), ("b", "x")]
    assert reelle_rds.parameter_batches({}, "immediate") == []


@pytest.mark.parametrize(
    ("desired", "actual", "same"),
    [
        (None, "arn:aws:kms:us-east-1:1:key/abc", True),
        ("arn:aws:kms:us-east-1:1:key/abc", "arn:aws:kms:us-east-1:1:key/abc", True),
        ("abc", "arn:aws:kms:us-east-1:1:key/abc", True),
        ("arn:aws:kms:us-east-1:1:key/abc", "abc", True),
        ("alias/aws/rds", "arn:aws:kms:us-east-1:1:key/abc", True),
        ("arn:aws:kms:us-east-1:1:key/xyz", "arn:aws:kms:us-east-1:1:key/abc", False),
        ("abc", None, False),
    ],
)
def test_the_key_cases_the_rds_modules_rely_on_hold_under_the_shared_rule(desired, actual, same):
    """The RDS modules compare KMS keys with reelle_aws's same_kms_key (their own comparator is gone)."""
    assert same_kms_key(desired, actual) is same


# --- reads --------------------------------------------------------------------------


def test_describe_or_none_turns_the_named_not_found_into_none(aws):
    rds = aws["rds"]
    rds.add_client_error("describe_db_subnet_groups", "DBSubnetGroupNotFoundFault")
    rds.add_client_error("describe_db_subnet_groups", "AccessDenied")
    call = rds.client.describe_db_subnet_groups
    assert reelle_rds.describe_or_none(("DBSubnetGroupNotFoundFault",), call, DBSubnetGroupName="x") is None
    with pytest.raises(ClientError):
        reelle_rds.describe_or_none(("DBSubnetGroupNotFoundFault",), call, DBSubnetGroupName="x")


# --- DB subnet groups ----------------------------------------------------------------


def subnet_group(description="DB subnet group of unit-pg", subnets=("subnet-a", "subnet-b")):
    return {
        "DBSubnetGroupName": "unit-db",
        "DBSubnetGroupDescription": description,
        "DBSubnetGroupArn": GROUP_ARN,
        "Subnets": [{"SubnetIdentifier": subnet} for subnet in subnets],
    }


def test_a_missing_subnet_group_is_created(aws):
    changes = ChangeSet(fake_module())
    aws["rds"].add_response(
        "create_db_subnet_group",
        {"DBSubnetGroup": subnet_group()},
        {
            "DBSubnetGroupName": "unit-db",
            "DBSubnetGroupDescription": "the default",
            "SubnetIds": ["subnet-a", "subnet-b"],
            "Tags": [{"Key": "project", "Value": "reelle"}],
        },
    )
    reelle_rds.ensure_db_subnet_group(
        changes,
        aws["rds"].client,
        "sg",
        "unit-db",
        None,
        ["subnet-a", "subnet-b"],
        "the default",
        {"project": "reelle"},
    )
    assert rows(changes) == [("create", "sg", [])]


def test_subnets_change_in_place_and_keep_the_description(aws):
    changes = ChangeSet(fake_module())
    aws["rds"].add_response(
        "modify_db_subnet_group",
        {"DBSubnetGroup": subnet_group()},
        {
            "DBSubnetGroupName": "unit-db",
            "DBSubnetGroupDescription": "DB subnet group of unit-pg",
            "SubnetIds": ["subnet-a", "subnet-c"],
        },
    )
    reelle_rds.ensure_db_subnet_group(
        changes, aws["rds"].client, "sg", "unit-db", subnet_group(), ["subnet-a", "subnet-c"], "unused", None
    )
    assert rows(changes) == [("update", "sg", ["SubnetIds"])]


def test_a_kept_description_is_changed_with_the_subnets_it_has(aws):
    changes = ChangeSet(fake_module())
    aws["rds"].add_response(
        "modify_db_subnet_group",
        {"DBSubnetGroup": subnet_group()},
        {"DBSubnetGroupName": "unit-db", "DBSubnetGroupDescription": "mine", "SubnetIds": ["subnet-a", "subnet-b"]},
    )
    reelle_rds.ensure_db_subnet_group(
        changes, aws["rds"].client, "sg", "unit-db", subnet_group(), None, "unused", None, keep_description="mine"
    )
    assert rows(changes) == [("update", "sg", ["DBSubnetGroupDescription"])]


@pytest.mark.parametrize("subnet_ids", [None, [], ["subnet-b", "subnet-a"]])
def test_a_matching_or_unset_subnet_list_changes_nothing(aws, subnet_ids):
    changes = ChangeSet(fake_module())
    reelle_rds.ensure_db_subnet_group(changes, aws["rds"].client, "sg", "unit-db", subnet_group(), subnet_ids, "x", {})
    assert changes.changes == []


def test_a_subnet_group_is_deleted_only_when_it_exists(aws):
    rds = aws["rds"]
    changes = ChangeSet(fake_module())
    rds.add_response(
        "describe_db_subnet_groups", {"DBSubnetGroups": [subnet_group()]}, {"DBSubnetGroupName": "unit-db"}
    )
    rds.add_response("delete_db_subnet_group", {}, {"DBSubnetGroupName": "unit-db"})
    rds.add_client_error("describe_db_subnet_groups", "DBSubnetGroupNotFoundFault")
    reelle_rds.delete_db_subnet_group(changes, rds.client, "sg", "unit-db")
    reelle_rds.delete_db_subnet_group(changes, rds.client, "sg", "unit-db")
    assert rows(changes) == [("delete", "sg", [])]


# --- tags and waiting ----------------------------------------------------------------


def test_rds_tags_are_added_and_removed(aws):
    rds = aws["rds"]
    changes = ChangeSet(fake_module())
    rds.add_response(
        "add_tags_to_resource", {}, {"ResourceName": GROUP_ARN, "Tags": [{"Key": "project", "Value": "reelle"}]}
    )
    rds.add_response("remove_tags_from_resource", {}, {"ResourceName": GROUP_ARN, "TagKeys": ["old"]})
    reelle_rds.sync_rds_tags(changes, rds.client, "sg", GROUP_ARN, {"old": "1"}, {"project": "reelle"}, True)
    assert rows(changes) == [("update", "sg", ["tags.project"]), ("update", "sg", ["tags.old"])]
    assert changes.after["sg tags"] == {"project": "reelle"}


@pytest.mark.parametrize(("arn", "desired"), [(None, {"project": "reelle"}), (GROUP_ARN, None)])
def test_rds_tags_are_left_alone_without_an_arn_or_desired_tags(aws, arn, desired):
    changes = ChangeSet(fake_module())
    reelle_rds.sync_rds_tags(changes, aws["rds"].client, "sg", arn, {"old": "1"}, desired, True)
    assert changes.changes == []


def test_wait_for_polls_the_rds_waiter_until_its_target_state(aws, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    rds = aws["rds"]
    for status in ("creating", "available"):
        rds.add_response(
            "describe_db_instances",
            {"DBInstances": [{"DBInstanceIdentifier": "unit-pg", "DBInstanceStatus": status}]},
            {"DBInstanceIdentifier": "unit-pg"},
        )
    reelle_rds.wait_for(rds.client, "db_instance_available", 60, DBInstanceIdentifier="unit-pg")


def test_wait_for_gives_up_after_the_timeout(aws, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    rds = aws["rds"]
    rds.add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceIdentifier": "unit-pg", "DBInstanceStatus": "creating"}]},
        {"DBInstanceIdentifier": "unit-pg"},
    )
    with pytest.raises(WaiterError):
        reelle_rds.wait_for(rds.client, "db_instance_available", 0, DBInstanceIdentifier="unit-pg")


def test_wait_for_polls_at_the_rds_pace_by_the_one_waiter_rule(monkeypatch):
    """botocore's RDS waiters poll every 30 s; the attempts cover the whole timeout (rounded up, reelle_waiters)."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "1")
    asked = {}

    def get_waiter(name):
        asked["waiter"] = name
        return types.SimpleNamespace(wait=asked.update)

    reelle_rds.wait_for(types.SimpleNamespace(get_waiter=get_waiter), "db_cluster_available", 1801, Id="unit")
    assert asked == {"waiter": "db_cluster_available", "WaiterConfig": {"Delay": 30, "MaxAttempts": 61}, "Id": "unit"}


# --- the master secret ----------------------------------------------------------------


def master(aws, check_mode=False, **secret):
    module = fake_module(check_mode)
    changes = ChangeSet(module)
    details = {"engine": "postgres", "port": 5432, "dbname": "app", "dbInstanceIdentifier": "unit-pg"}
    return reelle_rds.MasterSecret(
        module, changes, aws["secretsmanager"].client, SECRET, "app_admin", details, **secret
    ), changes


def expect_new_secret(aws):
    sm = aws["secretsmanager"]
    sm.add_client_error("describe_secret", "ResourceNotFoundException", expected_params={"SecretId": SECRET})
    sm.add_response(
        "get_random_password",
        {"RandomPassword": "p" * 32},
        {"PasswordLength": 32, "ExcludePunctuation": True, "IncludeSpace": False},
    )
    sent = {}

    class Capture:
        __hash__ = None

        def __eq__(self, other):
            sent["SecretString"] = other
            return True

    sm.add_response(
        "create_secret",
        {"ARN": SECRET_ARN, "Name": SECRET},
        {"Name": SECRET, "SecretString": Capture(), "ClientRequestToken": ANY, "Description": "the credentials"},
    )
    return sent


def test_a_new_master_secret_holds_generated_credentials(aws):
    secret, changes = master(aws, description="the credentials")
    sent = expect_new_secret(aws)
    assert secret.ensure()["ARN"] == SECRET_ARN
    assert json.loads(sent["SecretString"]) == {
        "username": "app_admin",
        "password": "p" * 32,
        "engine": "postgres",
        "port": 5432,
        "dbname": "app",
        "dbInstanceIdentifier": "unit-pg",
    }
    assert secret.password() == "p" * 32  # known: no GetSecretValue
    assert {"p" * 32, sent["SecretString"]} <= secret.module.no_log_values
    assert rows(changes) == [("create", f"secret {SECRET}", [])]


@pytest.mark.parametrize(
    ("kind", "operation", "key"),
    [
        ("db_instance", "modify_db_instance", "DBInstanceIdentifier"),
        ("db_cluster", "modify_db_cluster", "DBClusterIdentifier"),
    ],
)
def test_a_database_whose_secret_was_lost_gets_the_new_password(aws, kind, operation, key):
    secret, changes = master(aws, description="the credentials")
    expect_new_secret(aws)
    aws["rds"].add_response(operation, {}, {key: "unit-pg", "MasterUserPassword": "p" * 32, "ApplyImmediately": True})
    secret.ensure(("database", aws["rds"].client, kind, "unit-pg"))
    assert rows(changes) == [("create", f"secret {SECRET}", []), ("update", "database", ["MasterUserPassword"])]


def test_the_password_of_an_existing_secret_is_read_back(aws):
    secret, changes = master(aws)
    sm = aws["secretsmanager"]
    sm.add_response("describe_secret", {"ARN": SECRET_ARN, "Name": SECRET}, {"SecretId": SECRET})
    stored = json.dumps({"username": "app_admin", "password": "stored-password"})
    sm.add_response("get_secret_value", {"ARN": SECRET_ARN, "SecretString": stored}, {"SecretId": SECRET})
    secret.ensure(("database", aws["rds"].client, "db_instance", "unit-pg"))
    assert changes.changes == []
    assert secret.password() == "stored-password"
    assert "stored-password" in secret.module.no_log_values


def test_check_mode_plans_the_secret_and_the_reset_without_a_password(aws):
    secret, changes = master(aws, check_mode=True)
    aws["secretsmanager"].add_client_error("describe_secret", "ResourceNotFoundException")
    assert secret.ensure(("database", aws["rds"].client, "db_cluster", "unit-pg")) is None
    assert [row["action"] for row in changes.changes] == ["create", "update"]
    assert secret.password() is None


def test_the_master_secret_is_deleted_with_its_recovery_window(aws):
    secret, changes = master(aws)
    sm = aws["secretsmanager"]
    sm.add_response("describe_secret", {"ARN": SECRET_ARN, "Name": SECRET}, {"SecretId": SECRET})
    sm.add_response("delete_secret", {"ARN": SECRET_ARN}, {"SecretId": SECRET, "RecoveryWindowInDays": 30})
    secret.delete(30)
    assert rows(changes) == [("delete", f"secret {SECRET}", [])]
