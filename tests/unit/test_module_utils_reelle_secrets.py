# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""reelle_secrets: a secret a module owns, request shapes with botocore's Stubber and a round trip on the emulator."""

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import RETRY, ChangeSet, client_token, sync_tags
from ansible_collections.reelle.infra.plugins.module_utils.reelle_secrets import (
    OwnedSecret,
    generate_password,
    replica_arn,
)
from botocore.stub import ANY

from tests.support.stubs import fake_module, stubbed

NAME = "unit/app/secret"
ARN = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{NAME}-AbCdEf"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"
OTHER_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/99999999-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def aws(monkeypatch):
    """A Stubber-backed secretsmanager client with the retrying wrapper our clients have (AWS call path)."""
    with stubbed(monkeypatch, "secretsmanager") as (_, stub):
        yield stub


def owned(stub, check_mode=False, **options):
    module = fake_module(check_mode)
    changes = ChangeSet(module)
    return OwnedSecret(module, changes, stub.client, NAME, **options), changes


def rows(changes):
    return [(row["action"], row["resource"], row["attributes"]) for row in changes.changes]


def expect_describe(stub, **answer):
    stub.add_response("describe_secret", dict({"ARN": ARN, "Name": NAME}, **answer), {"SecretId": NAME})


def expect_missing(stub):
    stub.add_client_error("describe_secret", "ResourceNotFoundException", expected_params={"SecretId": NAME})


# --- create ---------------------------------------------------------------------


def test_a_missing_secret_is_created_with_a_client_token_and_everything_it_is_given(aws):
    made = []

    def value():
        made.append("generated")
        return "s3cr3t-value"

    secret, changes = owned(
        aws,
        description="what it is",
        kms_key_id=KEY_ARN,
        replica_regions=[{"region": "eu-west-1", "kms_key_id": OTHER_KEY_ARN}, {"region": "us-west-2"}],
        tags={"project": "reelle"},
    )
    expect_missing(aws)
    aws.add_response(
        "create_secret",
        {"ARN": ARN, "Name": NAME},
        {
            "Name": NAME,
            "SecretString": "s3cr3t-value",
            "ClientRequestToken": client_token("secretsmanager", NAME),
            "Description": "what it is",
            "KmsKeyId": KEY_ARN,
            "Tags": [{"Key": "project", "Value": "reelle"}],
            "AddReplicaRegions": [{"Region": "eu-west-1", "KmsKeyId": OTHER_KEY_ARN}, {"Region": "us-west-2"}],
        },
    )
    assert secret.ensure(value)["ARN"] == ARN
    assert secret.created and made == ["generated"]
    assert rows(changes) == [("create", f"secret {NAME}", [])]
    assert "s3cr3t-value" in secret.module.no_log_values
    # The value made now is known: no GetSecretValue (the stubber has none queued).
    assert secret.value() == "s3cr3t-value"
    assert changes.after[f"secret {NAME}"] == {
        "name": NAME,
        "kms_key_id": KEY_ARN,
        "replica_regions": ["eu-west-1", "us-west-2"],
    }


def test_the_client_token_is_the_same_for_a_retried_create():
    assert client_token("secretsmanager", NAME) == client_token("secretsmanager", NAME)
    assert len(client_token("secretsmanager", NAME)) == 64  # Secrets Manager takes 32 to 64 characters


def test_unset_options_are_not_sent_on_create(aws):
    secret, _ = owned(aws, tags={})
    expect_missing(aws)
    aws.add_response(
        "create_secret",
        {"ARN": ARN, "Name": NAME},
        {"Name": NAME, "SecretString": "v" * 20, "ClientRequestToken": ANY},
    )
    secret.ensure("v" * 20)


def test_check_mode_plans_the_create_and_generates_nothing(aws):
    secret, changes = owned(aws, check_mode=True, kms_key_id=KEY_ARN)
    expect_missing(aws)

    def value():
        raise AssertionError("no value is generated in check mode")

    assert secret.ensure(value) is None
    assert secret.created
    assert rows(changes) == [("create", f"secret {NAME}", [])]
    assert secret.value() is None


# --- an existing secret ------------------------------------------------------------


def test_a_secret_scheduled_for_deletion_is_restored_then_kept(aws):
    secret, changes = owned(aws, kms_key_id=OTHER_KEY_ARN, tags={"project": "reelle"}, purge_tags=True)
    expect_describe(aws, DeletedDate="2026-01-02T00:00:00Z", KmsKeyId=KEY_ARN, Tags=[{"Key": "old", "Value": "1"}])
    aws.add_response("restore_secret", {"ARN": ARN, "Name": NAME}, {"SecretId": NAME})
    aws.add_response("update_secret", {"ARN": ARN, "Name": NAME}, {"SecretId": NAME, "KmsKeyId": OTHER_KEY_ARN})
    aws.add_response("tag_resource", {}, {"SecretId": NAME, "Tags": [{"Key": "project", "Value": "reelle"}]})
    aws.add_response("untag_resource", {}, {"SecretId": NAME, "TagKeys": ["old"]})
    answer = secret.ensure(lambda: pytest.fail("an existing secret keeps its value"))
    assert answer["ARN"] == ARN and not secret.created
    assert rows(changes) == [
        ("update", f"secret {NAME}", ["deleted_date"]),
        ("update", f"secret {NAME}", ["kms_key_id"]),
        ("update", f"secret {NAME}", ["tags.project"]),
        ("update", f"secret {NAME}", ["tags.old"]),
    ]
    assert changes.before[f"secret {NAME}"] == {"scheduled_for_deletion": True}
    assert changes.after[f"secret {NAME} tags"] == {"project": "reelle"}


@pytest.mark.parametrize("actual", [KEY_ARN, KEY_ID])
def test_the_same_key_named_another_way_is_no_change(aws, actual):
    secret, changes = owned(aws, kms_key_id=KEY_ID if actual == KEY_ARN else KEY_ARN)
    expect_describe(aws, KmsKeyId=actual)
    secret.ensure("unused")
    assert changes.changes == []


def test_a_key_kept_only_on_create_is_left_alone(aws):
    secret, changes = owned(aws, kms_key_id=OTHER_KEY_ARN, kept=())
    expect_describe(aws, KmsKeyId=KEY_ARN)
    secret.ensure("unused")
    assert changes.changes == []


def test_kept_description_and_key_change_in_one_update(aws):
    secret, changes = owned(aws, description="new text", kms_key_id=OTHER_KEY_ARN, kept=("description", "kms_key_id"))
    expect_describe(aws, Description="old text", KmsKeyId=KEY_ARN)
    aws.add_response(
        "update_secret",
        {"ARN": ARN, "Name": NAME},
        {"SecretId": NAME, "Description": "new text", "KmsKeyId": OTHER_KEY_ARN},
    )
    secret.ensure("unused")
    assert rows(changes) == [("update", f"secret {NAME}", ["description", "kms_key_id"])]
    assert changes.before[f"secret {NAME} settings"] == {"description": "old text", "kms_key_id": KEY_ARN}


def test_an_unknown_kept_attribute_is_refused(aws):
    with pytest.raises(ValueError, match="name"):
        owned(aws, kept=("name",))


def test_listed_regions_without_a_replica_get_one_and_others_stay(aws):
    secret, changes = owned(
        aws, replica_regions=[{"region": "eu-west-1"}, {"region": "us-west-2", "kms_key_id": KEY_ID}]
    )
    expect_describe(aws, ReplicationStatus=[{"Region": "eu-west-1"}, {"Region": "ap-south-1"}])
    aws.add_response(
        "replicate_secret_to_regions",
        {"ARN": ARN},
        {"SecretId": NAME, "AddReplicaRegions": [{"Region": "us-west-2", "KmsKeyId": KEY_ID}]},
    )
    secret.ensure("unused")
    assert rows(changes) == [("update", f"secret {NAME}", ["replica_regions"])]
    assert changes.after[f"secret {NAME} replicas"] == ["ap-south-1", "eu-west-1", "us-west-2"]


def test_unset_tags_and_replicas_leave_them_alone(aws):
    secret, changes = owned(aws)
    expect_describe(aws, Tags=[{"Key": "someone", "Value": "else"}], ReplicationStatus=[{"Region": "eu-west-1"}])
    secret.ensure("unused")
    assert changes.changes == []


# --- values -----------------------------------------------------------------------


def test_the_stored_value_is_read_once_and_kept_out_of_the_output(aws):
    secret, _ = owned(aws)
    aws.add_response("get_secret_value", {"ARN": ARN, "SecretString": "stored-value"}, {"SecretId": NAME})
    assert secret.value() == "stored-value"
    assert secret.value() == "stored-value"
    assert "stored-value" in secret.module.no_log_values


def test_a_value_is_put_only_when_it_differs(aws):
    secret, changes = owned(aws)
    aws.add_response("get_secret_value", {"ARN": ARN, "SecretString": "old"}, {"SecretId": NAME})
    aws.add_response("put_secret_value", {"ARN": ARN}, {"SecretId": NAME, "SecretString": "new"})
    secret.ensure_value("new")
    secret.ensure_value("new")
    assert rows(changes) == [("update", f"secret {NAME}", ["value"])]
    assert {"old", "new"} <= secret.module.no_log_values


def test_generate_password_asks_secrets_manager_and_hides_the_password(aws):
    module = fake_module()
    aws.add_response(
        "get_random_password",
        {"RandomPassword": "p" * 32},
        {"PasswordLength": 32, "ExcludePunctuation": True, "IncludeSpace": False},
    )
    assert generate_password(module, aws.client) == "p" * 32
    assert "p" * 32 in module.no_log_values


# --- delete -----------------------------------------------------------------------


def test_delete_removes_the_replicas_first_and_keeps_the_recovery_window(aws):
    secret, changes = owned(aws)
    expect_describe(aws, ReplicationStatus=[{"Region": "eu-west-1"}])
    aws.add_response(
        "remove_regions_from_replication", {"ARN": ARN}, {"SecretId": NAME, "RemoveReplicaRegions": ["eu-west-1"]}
    )
    aws.add_response("delete_secret", {"ARN": ARN, "Name": NAME}, {"SecretId": NAME, "RecoveryWindowInDays": 7})
    secret.delete(7)
    assert rows(changes) == [
        ("update", f"secret {NAME}", ["replica_regions"]),
        ("delete", f"secret {NAME}", []),
    ]


def test_delete_without_a_window_takes_the_service_default(aws):
    secret, _ = owned(aws)
    expect_describe(aws)
    aws.add_response("delete_secret", {"ARN": ARN, "Name": NAME}, {"SecretId": NAME})
    secret.delete()


@pytest.mark.parametrize("scheduled", [True, False])
def test_delete_leaves_a_missing_or_scheduled_secret_alone(aws, scheduled):
    secret, changes = owned(aws)
    if scheduled:
        expect_describe(aws, DeletedDate="2026-01-02T00:00:00Z")
    else:
        expect_missing(aws)
    secret.delete(30)
    assert changes.changes == []


def test_delete_in_check_mode_plans_and_calls_nothing(aws):
    secret, changes = owned(aws, check_mode=True)
    expect_describe(aws, ReplicationStatus=[{"Region": "eu-west-1"}])
    secret.delete(30)
    assert [row["action"] for row in changes.changes] == ["update", "delete"]


# --- helpers ----------------------------------------------------------------------


def test_replica_arns_name_the_replica_regions():
    secret = OwnedSecret(fake_module(), None, None, NAME, replica_regions=[{"region": "eu-west-1"}])
    assert secret.replica_arns(ARN) == {"eu-west-1": ARN.replace(":us-east-1:", ":eu-west-1:")}
    assert secret.replica_arns(None) == {}
    gov = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x-AbC"
    assert replica_arn(gov, "us-gov-east-1") == "arn:aws-us-gov:secretsmanager:us-gov-east-1:123456789012:secret:x-AbC"


def test_sync_tags_with_note_shows_the_tags_only_when_they_change():
    changes = ChangeSet(fake_module(check_mode=True))

    def tag(to_set):
        return None, "svc", "tag", {"Tags": to_set}

    def untag(keys):
        return None, "svc", "untag", {"Keys": keys}

    sync_tags(changes, "thing", {"a": "1"}, {"a": "1"}, True, tag, untag, note=True)
    assert changes.changes == [] and changes.after == {}
    sync_tags(changes, "thing", {"a": "1"}, {"a": "2"}, True, tag, untag, note=True)
    assert rows(changes) == [("update", "thing", ["tags.a"])]
    assert (changes.before["thing tags"], changes.after["thing tags"]) == ({"a": "1"}, {"a": "2"})


# --- against the emulator ---------------------------------------------------------


def emulator_secret(check_mode=False, **options):
    module = fake_module(check_mode)
    client = RetryingBotoClientWrapper(boto3.client("secretsmanager", region_name="us-east-1"), RETRY)
    return OwnedSecret(module, ChangeSet(module), client, NAME, **options)


def test_round_trip_on_the_emulator(emulator):
    options = dict(description="unit secret", tags={"project": "reelle"}, replica_regions=[{"region": "eu-west-1"}])
    first = emulator_secret(**options)
    created = first.ensure(lambda: "first-value")
    assert first.created and created["ARN"].startswith("arn:aws:secretsmanager:us-east-1:")
    again = emulator_secret(**options)
    assert again.ensure("unused")["ARN"] == created["ARN"]
    assert again.changes.changes == [] and again.value() == "first-value"
    replica = boto3.client("secretsmanager", region_name="eu-west-1").describe_secret(SecretId=NAME)
    assert again.replica_arns(created["ARN"]) == {"eu-west-1": replica["ARN"]}

    gone = emulator_secret(**options)
    gone.delete(7)
    described = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=NAME)
    assert described["DeletedDate"] and not described.get("ReplicationStatus")

    back = emulator_secret(**options)
    back.ensure("unused")
    assert [row["attributes"] for row in back.changes.changes] == [["deleted_date"], ["replica_regions"]]
    restored = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=NAME)
    assert "DeletedDate" not in restored and [item["Region"] for item in restored["ReplicationStatus"]] == ["eu-west-1"]
