# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/reelle_logs.py: a CloudWatch Logs log group (retention, KMS key, tags).

botocore's Stubber checks each request against the CloudWatch Logs model, including
AssociateKmsKey, which the emulator lacks; the moto server shows a create and a no-op run."""

import boto3
import pytest
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import ChangeSet
from ansible_collections.reelle.infra.plugins.module_utils.reelle_logs import LogGroup, find_log_group, log_group_arn

from tests.support.stubs import fake_module, retrying, stubbed

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAME = "/ecs/reelle-test/backend"
ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{NAME}"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"


@pytest.fixture
def logs(monkeypatch):
    """A CloudWatch Logs client aimed at AWS with a Stubber; every queued answer must be asked for."""
    with stubbed(monkeypatch, "logs") as pair:
        yield pair


def group(name=NAME, **extra):
    return dict({"logGroupName": name, "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"}, **extra)


def described(stub, *groups):
    stub.add_response("describe_log_groups", {"logGroups": list(groups)}, {"logGroupNamePrefix": NAME})


def rows(changes):
    return [(row["action"], row["attributes"]) for row in changes.changes]


def test_find_log_group_takes_the_exact_name_among_the_prefix_matches(logs):
    client, stub = logs
    described(stub, group(f"{NAME}-old"), group())
    assert find_log_group(retrying(client, "logs"), NAME)["logGroupName"] == NAME
    described(stub, group(f"{NAME}-old"))
    assert find_log_group(retrying(client, "logs"), NAME) is None


@pytest.mark.parametrize(
    ("found", "arn"),
    [(group(), ARN), (group(logGroupArn=ARN), ARN), ({"arn": f"{ARN}:*"}, ARN)],
)
def test_log_group_arn_has_no_wildcard(found, arn):
    assert log_group_arn(found) == arn


def test_create_with_key_tags_and_retention(logs):
    client, stub = logs
    described(stub)
    stub.add_response(
        "create_log_group", {}, {"logGroupName": NAME, "kmsKeyId": KEY_ARN, "tags": {"project": "reelle"}}
    )
    stub.add_response("put_retention_policy", {}, {"logGroupName": NAME, "retentionInDays": 30})
    described(stub, group(retentionInDays=30, kmsKeyId=KEY_ARN))
    changes = ChangeSet(fake_module())
    arn = LogGroup(changes, retrying(client, "logs"), NAME).ensure_present(30, KEY_ARN, {"project": "reelle"})
    assert arn == ARN
    assert rows(changes) == [("create", []), ("update", ["retention_in_days"])]
    assert changes.after == {f"log_group {NAME}": {"name": NAME, "retention_in_days": 30}}


def test_create_leaves_out_what_is_not_set(logs):
    client, stub = logs
    described(stub)
    stub.add_response("create_log_group", {}, {"logGroupName": NAME})
    described(stub, group())
    changes = ChangeSet(fake_module())
    assert LogGroup(changes, retrying(client, "logs"), NAME, diff_key="log_group").ensure_present(tags={}) == ARN
    assert rows(changes) == [("create", [])] and list(changes.after) == ["log_group"]


def test_a_new_group_not_listed_yet_is_read_again(logs, monkeypatch):
    # DescribeLogGroups is eventually consistent: right after CreateLogGroup it may not list the group.
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    client, stub = logs
    described(stub)
    stub.add_response("create_log_group", {}, {"logGroupName": NAME})
    described(stub)
    described(stub, group())
    changes = ChangeSet(fake_module())
    assert LogGroup(changes, retrying(client, "logs"), NAME).ensure_present() == ARN


def test_check_mode_reports_the_create_and_makes_no_call(logs):
    client, stub = logs
    described(stub)
    changes = ChangeSet(fake_module(check_mode=True))
    assert LogGroup(changes, retrying(client, "logs"), NAME).ensure_present(30, None, {"project": "reelle"}) is None
    assert rows(changes) == [("create", []), ("update", ["retention_in_days"])]


def test_changed_retention_and_tags_are_updated(logs):
    client, stub = logs
    described(stub, group(retentionInDays=7))
    stub.add_response("put_retention_policy", {}, {"logGroupName": NAME, "retentionInDays": 30})
    stub.add_response("list_tags_for_resource", {"tags": {"project": "reelle", "stale": "1"}}, {"resourceArn": ARN})
    stub.add_response("tag_resource", {}, {"resourceArn": ARN, "tags": {"owner": "platform"}})
    stub.add_response("untag_resource", {}, {"resourceArn": ARN, "tagKeys": ["stale"]})
    changes = ChangeSet(fake_module())
    tags = {"project": "reelle", "owner": "platform"}
    assert LogGroup(changes, retrying(client, "logs"), NAME).ensure_present(30, None, tags) == ARN
    assert rows(changes) == [("update", ["retention_in_days"]), ("update", ["tags.owner"]), ("update", ["tags.stale"])]
    assert changes.before[f"log_group {NAME}"] == {"retention_in_days": 7}


def test_unset_options_leave_the_group_alone(logs):
    """No retention, key or tags given: one describe, no list of tags, no change."""
    client, stub = logs
    described(stub, group(retentionInDays=7, kmsKeyId=KEY_ARN))
    changes = ChangeSet(fake_module())
    assert LogGroup(changes, retrying(client, "logs"), NAME).ensure_present() == ARN
    assert changes.changes == []


@pytest.mark.parametrize(
    ("wanted", "associated"),
    [
        (KEY_ARN, False),
        (KEY_ID, False),  # a key id names the key ARN AWS reports
        ("alias/logs", False),  # an alias cannot be told apart without KMS: never re-associated on a guess
        (f"arn:aws:kms:{REGION}:{ACCOUNT}:key/other", True),
    ],
)
def test_the_kms_key_is_associated_when_it_differs(logs, wanted, associated):
    client, stub = logs
    described(stub, group(kmsKeyId=KEY_ARN))
    if associated:
        stub.add_response("associate_kms_key", {}, {"logGroupName": NAME, "kmsKeyId": wanted})
    changes = ChangeSet(fake_module())
    LogGroup(changes, retrying(client, "logs"), NAME).ensure_present(kms_key_id=wanted)
    assert rows(changes) == ([("update", ["kms_key_id"])] if associated else [])


def test_a_key_on_a_group_without_one_is_associated(logs):
    client, stub = logs
    described(stub, group())
    stub.add_response("associate_kms_key", {}, {"logGroupName": NAME, "kmsKeyId": KEY_ARN})
    changes = ChangeSet(fake_module())
    LogGroup(changes, retrying(client, "logs"), NAME).ensure_present(kms_key_id=KEY_ARN)
    assert rows(changes) == [("update", ["kms_key_id"])] and changes.skipped_calls == []


def test_the_emulator_skips_associate_kms_key_and_says_so(logs, monkeypatch):
    client, stub = logs
    monkeypatch.setenv("REELLE_AWS_TARGET", "emulator")
    described(stub, group())
    changes = ChangeSet(fake_module())
    LogGroup(changes, retrying(client, "logs"), NAME).ensure_present(kms_key_id=KEY_ARN)
    assert rows(changes) == [("update", ["kms_key_id"])]
    assert changes.skipped_calls == ["logs:associate_kms_key"]


def test_create_then_no_change_on_the_emulator(emulator):
    client = retrying(boto3.client("logs", region_name=REGION), "logs")
    changes = ChangeSet(fake_module())
    arn = LogGroup(changes, client, NAME).ensure_present(14, None, {"project": "reelle"})
    assert arn.endswith(f":log-group:{NAME}") and not arn.endswith(":*")
    found = find_log_group(client, NAME)
    assert found["retentionInDays"] == 14
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"project": "reelle"}
    again = ChangeSet(fake_module())
    assert LogGroup(again, client, NAME).ensure_present(14, None, {"project": "reelle"}) == arn
    assert again.changes == []
    LogGroup(again, client, NAME).ensure_present(30, None, {"project": "reelle", "owner": "platform"})
    assert rows(again) == [("update", ["retention_in_days"]), ("update", ["tags.owner"])]
    assert find_log_group(client, NAME)["retentionInDays"] == 30
