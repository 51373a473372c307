"""aws_kms_key against the real emulator (moto server).

Every call the module makes is served by moto 5.2.5, so there is no Stubber test:
botocore validates each request against the service model before it is sent.
"""

import json
from pathlib import Path

import aws_kms_key
import boto3
import pytest
from ansible.module_utils.testing import patch_module_args

ALIAS = "alias/unit-key"
KEY = {
    "alias": "unit-key",
    "description": "unit data encryption",
    "enable_key_rotation": True,
    "tags": {"project": "reelle", "environment": "unit"},
}


def run(capsys, args, check_mode=False, diff=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        aws_kms_key.main()
    return json.loads(capsys.readouterr().out)


def requests_logged(emulator):
    return len(Path(emulator.log.name).read_text().splitlines())


def kms():
    return boto3.client("kms")


def aliases():
    return [alias["AliasName"] for alias in kms().list_aliases()["Aliases"] if alias["AliasName"] == ALIAS]


@pytest.fixture
def key(emulator, capsys):
    return run(capsys, KEY)


def test_create_key_with_alias_rotation_and_tags(key):
    assert key["changed"] and key["alias"] == ALIAS
    metadata = kms().describe_key(KeyId=ALIAS)["KeyMetadata"]
    assert metadata["Arn"] == key["key_arn"] and metadata["Description"] == "unit data encryption"
    assert kms().get_key_rotation_status(KeyId=key["key_id"])["KeyRotationEnabled"] is True
    tags = {tag["TagKey"]: tag["TagValue"] for tag in kms().list_resource_tags(KeyId=key["key_id"])["Tags"]}
    assert tags == KEY["tags"]


def test_second_run_is_three_calls(emulator, key, capsys):
    before = requests_logged(emulator)
    again = run(capsys, KEY)
    assert not again["changed"] and again["key_arn"] == key["key_arn"]
    assert requests_logged(emulator) - before == 3


def test_check_mode_on_an_empty_account(emulator, capsys):
    result = run(capsys, KEY, check_mode=True, diff=True)
    assert result["changed"] and result["key_id"] is None and result["key_arn"] is None
    assert result["changes"] == [{"action": "create", "resource": f"kms key {ALIAS}", "attributes": []}]
    assert result["diff"]["after"][f"kms key {ALIAS}"]["rotation"] is True
    assert aliases() == [] and kms().list_keys()["Keys"] == []


@pytest.mark.parametrize(
    ("overrides", "attributes"),
    [
        ({"enable_key_rotation": False}, [["enable_key_rotation"]]),
        ({"description": "other"}, [["description"]]),
        ({"tags": {"project": "reelle", "environment": "prod"}}, [["tags.environment"]]),
        ({"tags": {"project": "reelle"}}, [["tags.environment"]]),
        ({"enabled": False}, [["enabled"]]),
    ],
)
def test_updates_in_check_mode_then_for_real(key, capsys, overrides, attributes):
    args = dict(KEY, **overrides)
    planned = run(capsys, args, check_mode=True)
    assert [row["attributes"] for row in planned["changes"]] == attributes
    assert not run(capsys, KEY)["changed"], "check mode changed something"
    assert run(capsys, args)["changes"] == planned["changes"]
    assert not run(capsys, args)["changed"]


def test_unset_parameters_leave_the_key_alone(key, capsys):
    result = run(capsys, {"alias": ALIAS})
    assert not result["changed"] and result["key_rotation_enabled"] is True


def test_pending_deletion_is_restored(key, capsys):
    kms().schedule_key_deletion(KeyId=key["key_id"], PendingWindowInDays=7)
    restored = run(capsys, KEY)
    assert [row["attributes"] for row in restored["changes"]] == [["key_state"], ["enabled"]]
    assert kms().describe_key(KeyId=key["key_id"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_delete_needs_the_alias_confirmed(key, capsys):
    for confirm in (None, "unit-key", "alias/other"):
        result = run(capsys, dict(KEY, state="absent", confirm_delete=confirm))
        assert result["failed"] and "Set confirm_delete to 'alias/unit-key'" in result["msg"], confirm
    assert aliases() == [ALIAS]


def test_delete_schedules_the_deletion(key, capsys):
    result = run(capsys, dict(KEY, state="absent", confirm_delete=ALIAS))
    assert result["changed"] and result["key_state"] == "PendingDeletion"
    assert kms().describe_key(KeyId=key["key_id"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert aliases() == []
    assert not run(capsys, dict(KEY, state="absent", confirm_delete=ALIAS))["changed"]


def test_rejects_a_deletion_window_out_of_range(emulator, capsys):
    result = run(capsys, dict(KEY, deletion_window_days=3))
    assert result["failed"] and "deletion_window_days must be from 7 to 30" in result["msg"]
