# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_plan: against the emulator (moto server), and Stubber tests for the calls it lacks."""

import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.modules import backup_plan as module_under_test
from botocore.stub import ANY, Stubber

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_ARN = "arn:aws:iam::123456789012:role/t-backup"
PLAN_ID = "8a3b1c9e-2f4d-4e6a-9b7c-0d1e2f3a4b5c"
PLAN_ARN = f"arn:aws:backup:us-east-1:123456789012:backup-plan:{PLAN_ID}"


def run(args, capsys, check_mode=False, diff=False):
    """Run the module's main() with these args; the parsed JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        module_under_test.main()
    return json.loads(capsys.readouterr().out)


def daily(**rule):
    return dict(
        {
            "name": "t-daily",
            "schedule": "cron(0 5 * * ? *)",
            "start_window_minutes": 60,
            "completion_window_minutes": 180,
            "retention_days": 30,
        },
        **rule,
    )


@pytest.fixture
def staging(emulator):
    """The staging figures: daily at 05:00, 30 days, everything tagged backup=daily."""
    return dict(
        region="us-east-1",
        vault_name="t-vault",
        vault_kms_key_arn=KEY_ARN,
        plan_name="t-plan",
        rules=[daily()],
        selection={"name": "t-by-tag", "tags": {"backup": "daily"}},
        tags={"environment": "test"},
    )


def plans():
    return boto3.client("backup", region_name="us-east-1").list_backup_plans()["BackupPlansList"]


def vaults():
    return boto3.client("backup", region_name="us-east-1").list_backup_vaults()["BackupVaultList"]


def roles():
    return [role["RoleName"] for role in boto3.client("iam", region_name="us-east-1").list_roles()["Roles"]]


# --- against the emulator ---------------------------------------------------


def test_create_makes_vault_role_plan_and_reports_the_selection_skipped(staging, capsys):
    result = run(staging, capsys)
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "backup vault t-vault"),
        ("create", "iam role t-plan-backup"),  # its policy is attached within the create row
        ("create", "backup plan t-plan"),
        ("create", "backup selection t-by-tag"),
    ]
    assert result["skipped_calls"] == ["backup:create_backup_selection"]
    assert result["vault_arn"].endswith(":backup-vault:t-vault")
    assert result["iam_role_arn"].endswith(":role/t-plan-backup")
    backup = boto3.client("backup", region_name="us-east-1")
    assert backup.describe_backup_vault(BackupVaultName="t-vault")["EncryptionKeyArn"] == KEY_ARN
    rule = backup.get_backup_plan(BackupPlanId=result["plan_id"])["BackupPlan"]["Rules"][0]
    assert (rule["ScheduleExpression"], rule["Lifecycle"]["DeleteAfterDays"]) == ("cron(0 5 * * ? *)", 30)
    assert rule["TargetBackupVaultName"] == "t-vault"
    assert backup.list_tags(ResourceArn=result["plan_arn"])["Tags"] == {"environment": "test"}
    iam = boto3.client("iam", region_name="us-east-1")
    attached = iam.list_attached_role_policies(RoleName="t-plan-backup")["AttachedPolicies"]
    assert [policy["PolicyName"] for policy in attached] == ["AWSBackupServiceRolePolicyForBackup"]


def test_second_run_changes_nothing(staging, capsys):
    first = run(staging, capsys)
    result = run(staging, capsys)
    assert not result["changed"] and result["changes"] == []
    assert result["plan_id"] == first["plan_id"]
    assert result["skipped_calls"] == ["backup:list_backup_selections"]


def test_prod_rule_with_a_copy_to_another_region_is_created_and_stable(staging, capsys):
    """Hourly, continuous, copied to the failover region's vault (prod): created as given, then no change."""
    copy = {"destination_vault_arn": "arn:aws:backup:eu-west-1:123456789012:backup-vault:dr", "retention_days": 30}
    hourly = daily(schedule="cron(0 * * * ? *)", enable_continuous_backup=True, copy_actions=[copy])
    run(dict(staging, rules=[hourly]), capsys)
    plan_id = plans()[0]["BackupPlanId"]
    rule = boto3.client("backup", region_name="us-east-1").get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"][
        0
    ]
    assert rule["CopyActions"] == [
        {"DestinationBackupVaultArn": copy["destination_vault_arn"], "Lifecycle": {"DeleteAfterDays": 30}}
    ]
    assert rule["EnableContinuousBackup"] is True
    again = run(dict(staging, rules=[hourly]), capsys)
    assert not again["changed"], again["changes"]


@pytest.mark.parametrize(
    ("rule", "attributes"),
    [
        ({"retention_days": 35}, ["rules.t-daily.Lifecycle.DeleteAfterDays"]),
        ({"schedule": "cron(0 * * * ? *)"}, ["rules.t-daily.ScheduleExpression"]),
        ({"enable_continuous_backup": True}, ["rules.t-daily.EnableContinuousBackup"]),
        (
            {"copy_actions": [{"destination_vault_arn": "arn:aws:backup:eu-west-1:123456789012:backup-vault:dr"}]},
            ["rules.t-daily.CopyActions"],
        ),
    ],
)
def test_rule_changes_update_the_plan_skipped_on_the_emulator(staging, capsys, rule, attributes):
    run(staging, capsys)
    result = run(dict(staging, rules=[daily(**rule)]), capsys)
    assert result["changes"] == [{"action": "update", "resource": "backup plan t-plan", "attributes": attributes}]
    assert "backup:update_backup_plan" in result["skipped_calls"]


def test_an_added_rule_and_a_removed_rule_are_both_changes(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, rules=[daily(name="t-hourly", schedule="cron(0 * * * ? *)")]), capsys)
    assert result["changes"][0]["attributes"] == ["rules.t-daily", "rules.t-hourly"]


def test_unset_rule_options_leave_the_plan_alone(staging, capsys):
    run(staging, capsys)
    assert not run(dict(staging, rules=[{"name": "t-daily"}]), capsys)["changed"]
    assert not run(dict(staging, rules=None, selection=None, tags=None, vault_kms_key_arn=None), capsys)["changed"]


def test_tags_are_kept_at_the_given_set(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, tags={"owner": "team"}), capsys)
    assert {row["resource"] for row in result["changes"]} == {
        "backup vault t-vault",
        "backup plan t-plan",
        "iam role t-plan-backup",
    }
    assert not run(dict(staging, tags={"owner": "team"}), capsys)["changed"]
    assert boto3.client("backup", region_name="us-east-1").list_tags(ResourceArn=result["plan_arn"])["Tags"] == {
        "owner": "team"
    }


def test_role_tags_are_rows_per_key(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, tags={"owner": "team"}), capsys)
    role_rows = [row["attributes"] for row in result["changes"] if row["resource"] == "iam role t-plan-backup"]
    assert role_rows == [["tags.owner"], ["tags.environment"]]  # tag_role, then untag_role


def drift_the_role():
    """Someone edited the module's role: another trust policy and description, the backup policy detached."""
    iam = boto3.client("iam", region_name="us-east-1")
    elsewhere = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.update_assume_role_policy(RoleName="t-plan-backup", PolicyDocument=json.dumps(elsewhere))
    iam.update_role(RoleName="t-plan-backup", Description="edited by hand")
    iam.detach_role_policy(RoleName="t-plan-backup", PolicyArn=BACKUP_POLICY_ARN)
    iam.attach_role_policy(RoleName="t-plan-backup", PolicyArn=RESTORES_POLICY_ARN)
    return iam


BACKUP_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
RESTORES_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
ROLE_DRIFT_ROWS = [
    {"action": "update", "resource": "iam role t-plan-backup", "attributes": ["assume_role_policy"]},
    {"action": "update", "resource": "iam role t-plan-backup", "attributes": ["Description"]},
    {
        "action": "update",
        "resource": "iam role t-plan-backup",
        "attributes": [f"managed_policy_arns.{BACKUP_POLICY_ARN}"],
    },
]


def test_the_roles_trust_policy_description_and_policy_are_kept(staging, capsys):
    """AWS Backup must be able to assume the role: a trust policy edited away is set back (other policies stay)."""
    run(staging, capsys)
    iam = drift_the_role()
    result = run(staging, capsys)
    assert result["changes"] == ROLE_DRIFT_ROWS
    role = iam.get_role(RoleName="t-plan-backup")["Role"]
    assert role["Description"] == "AWS Backup role of plan t-plan"
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    attached = {
        policy["PolicyArn"] for policy in iam.list_attached_role_policies(RoleName="t-plan-backup")["AttachedPolicies"]
    }
    assert attached == {BACKUP_POLICY_ARN, RESTORES_POLICY_ARN}
    assert not run(staging, capsys)["changed"]


def test_check_mode_reports_the_role_drift_and_changes_nothing(staging, capsys):
    run(staging, capsys)
    iam = drift_the_role()
    before = iam.get_role(RoleName="t-plan-backup")["Role"]
    result = run(staging, capsys, check_mode=True, diff=True)
    assert result["changes"] == ROLE_DRIFT_ROWS
    after = iam.get_role(RoleName="t-plan-backup")["Role"]
    assert (after["Description"], after["AssumeRolePolicyDocument"]) == (
        before["Description"],
        before["AssumeRolePolicyDocument"],
    )
    attached = iam.list_attached_role_policies(RoleName="t-plan-backup")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [RESTORES_POLICY_ARN]
    diff_after = result["diff"]["after"]["iam role t-plan-backup"]
    assert diff_after["assume_role_policy"]["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert diff_after["managed_policy_arns"] == [BACKUP_POLICY_ARN]


def test_check_mode_absent_deletes_nothing(staging, capsys):
    run(staging, capsys)
    absent = {"region": "us-east-1", "state": "absent", "vault_name": "t-vault", "plan_name": "t-plan"}
    result = run(dict(absent, selection=staging["selection"]), capsys, check_mode=True)
    assert ("delete", "iam role t-plan-backup") in [(row["action"], row["resource"]) for row in result["changes"]]
    attached = boto3.client("iam", region_name="us-east-1").list_attached_role_policies(RoleName="t-plan-backup")
    assert [policy["PolicyArn"] for policy in attached["AttachedPolicies"]] == [BACKUP_POLICY_ARN]
    assert len(plans()) == 1


def test_check_mode_on_an_empty_account_creates_nothing_and_accepts_a_null_key(emulator, capsys):
    args = dict(
        region="us-east-1",
        vault_name="t-vault",
        vault_kms_key_arn=None,
        plan_name="t-plan",
        rules=[daily()],
        selection={"name": "t-by-tag", "tags": {"backup": "daily"}},
    )
    result = run(args, capsys, check_mode=True)
    assert result["changed"]
    assert [row["resource"] for row in result["changes"] if row["action"] == "create"] == [
        "backup vault t-vault",
        "iam role t-plan-backup",
        "backup plan t-plan",
        "backup selection t-by-tag",
    ]
    assert result["vault_arn"] is None and result["plan_id"] is None and result["iam_role_arn"] is None
    assert result["rules"][0]["schedule_expression"] == "cron(0 5 * * ? *)"
    assert plans() == [] and vaults() == [] and "t-plan-backup" not in roles()


def test_diff_shows_the_rules_before_and_after(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, rules=[daily(retention_days=7)]), capsys, diff=True)
    before = result["diff"]["before"]["backup plan t-plan"]["rules"][0]
    after = result["diff"]["after"]["backup plan t-plan"]["rules"][0]
    assert (before["Lifecycle"]["DeleteAfterDays"], after["Lifecycle"]["DeleteAfterDays"]) == (30, 7)
    assert after["StartWindowMinutes"] == 60


def test_a_vault_key_change_fails_clearly(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, vault_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/other"), capsys)
    assert result["failed"] and "cannot change" in result["msg"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([daily(retention_days=0)], "retention_days must be between 1 and 36500"),
        ([daily(retention_days=40, enable_continuous_backup=True)], "continuous backup keeps at most 35 days"),
        ([daily(start_window_minutes=30)], "start_window_minutes must be at least 60"),
        ([daily(), daily()], "rule names must be unique"),
    ],
)
def test_bad_input_fails_before_anything_is_touched(staging, capsys, rules, message):
    result = run(dict(staging, rules=rules), capsys)
    assert result["failed"] and message in result["msg"]
    assert plans() == [] and vaults() == []


def test_a_plan_cannot_be_created_without_rules(staging, capsys):
    result = run(dict(staging, rules=None), capsys)
    assert result["failed"] and "rules are required" in result["msg"]


def test_absent_deletes_plan_and_role_and_keeps_the_vault_unless_named(staging, capsys):
    run(staging, capsys)
    absent = {"region": "us-east-1", "state": "absent", "vault_name": "t-vault", "plan_name": "t-plan"}
    absent["selection"] = staging["selection"]
    result = run(absent, capsys)
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("delete", "backup plan t-plan"),
        ("delete", "iam role t-plan-backup"),  # its policies are detached within the delete row
    ]
    assert plans() == [] and "t-plan-backup" not in roles() and len(vaults()) == 1
    assert not run(absent, capsys)["changed"]
    assert run(dict(absent, confirm_delete_vault="t-vault"), capsys)["changes"] == [
        {"action": "delete", "resource": "backup vault t-vault", "attributes": []}
    ]
    assert vaults() == []


# --- calls the emulator lacks: request shapes on AWS (Stubber) --------------


@pytest.fixture
def aws(monkeypatch):
    """Real AWS request shapes: no emulator; the module's clients are stubbed."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    clients, stubs = {}, {}
    for service in ("backup", "iam"):
        clients[service] = boto3.client(
            service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        stubs[service] = Stubber(clients[service])
        stubs[service].activate()

    def client(self, service, retry_decorator=None, **kwargs):
        return RetryingBotoClientWrapper(clients[service], retry_decorator) if retry_decorator else clients[service]

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def aws_rule(**extra):
    rule = {
        "RuleName": "t-daily",
        "RuleId": "r-1",
        "TargetBackupVaultName": "t-vault",
        "ScheduleExpression": "cron(0 5 * * ? *)",
        "StartWindowMinutes": 60,
        "CompletionWindowMinutes": 180,
        "Lifecycle": {"DeleteAfterDays": 30, "OptInToArchiveForSupportedResources": False},
        "ScheduleExpressionTimezone": "Etc/UTC",
    }
    rule.update(extra)
    return rule


def expect_existing(backup, rule=None):
    backup.add_response(
        "describe_backup_vault",
        {"BackupVaultName": "t-vault", "BackupVaultArn": "arn:aws:backup:us-east-1:123456789012:backup-vault:t-vault"},
        {"BackupVaultName": "t-vault"},
    )
    backup.add_response(
        "list_backup_plans",
        {"BackupPlansList": [{"BackupPlanId": PLAN_ID, "BackupPlanArn": PLAN_ARN, "BackupPlanName": "t-plan"}]},
        {},
    )
    backup.add_response(
        "get_backup_plan",
        {
            "BackupPlanId": PLAN_ID,
            "BackupPlanArn": PLAN_ARN,
            "VersionId": "v1",
            "BackupPlan": {"BackupPlanName": "t-plan", "Rules": [rule or aws_rule()]},
        },
        {"BackupPlanId": PLAN_ID},
    )


def selection(**extra):
    shape = {
        "SelectionName": "t-by-tag",
        "IamRoleArn": ROLE_ARN,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}],
    }
    shape.update(extra)
    return shape


AWS_ARGS = dict(
    region="us-east-1",
    vault_name="t-vault",
    plan_name="t-plan",
    selection={"name": "t-by-tag", "tags": {"backup": "daily"}, "iam_role_arn": ROLE_ARN},
)


def test_update_backup_plan_request_keeps_unset_rule_settings(aws, capsys):
    backup = aws["backup"]
    expect_existing(backup)
    backup.add_response(
        "update_backup_plan",
        {"BackupPlanId": PLAN_ID, "BackupPlanArn": PLAN_ARN, "VersionId": "v2"},
        {
            "BackupPlanId": PLAN_ID,
            "BackupPlan": {
                "BackupPlanName": "t-plan",
                "Rules": [
                    {
                        "RuleName": "t-daily",
                        "TargetBackupVaultName": "t-vault",
                        "ScheduleExpression": "cron(0 5 * * ? *)",
                        "StartWindowMinutes": 60,
                        "CompletionWindowMinutes": 180,
                        "Lifecycle": {"DeleteAfterDays": 35, "OptInToArchiveForSupportedResources": False},
                        "ScheduleExpressionTimezone": "Etc/UTC",
                        "EnableContinuousBackup": True,
                    }
                ],
            },
        },
    )
    backup.add_response(
        "list_backup_selections",
        {"BackupSelectionsList": [{"SelectionId": "s-1", "SelectionName": "t-by-tag"}]},
        {"BackupPlanId": PLAN_ID},
    )
    backup.add_response(
        "get_backup_selection",
        {"BackupSelection": selection(), "SelectionId": "s-1", "BackupPlanId": PLAN_ID},
        {"BackupPlanId": PLAN_ID, "SelectionId": "s-1"},
    )
    rules = [{"name": "t-daily", "retention_days": 35, "enable_continuous_backup": True}]
    result = run(dict(AWS_ARGS, rules=rules), capsys)
    assert result["changes"] == [
        {
            "action": "update",
            "resource": "backup plan t-plan",
            "attributes": ["rules.t-daily.EnableContinuousBackup", "rules.t-daily.Lifecycle.DeleteAfterDays"],
        }
    ]
    assert result["plan_version_id"] == "v2"
    assert result["selection_id"] == "s-1"
    assert result["skipped_calls"] == []


def test_missing_selection_is_created_on_aws(aws, capsys):
    backup = aws["backup"]
    expect_existing(backup)
    backup.add_response("list_backup_selections", {"BackupSelectionsList": []}, {"BackupPlanId": PLAN_ID})
    backup.add_response(
        "create_backup_selection",
        {"SelectionId": "s-2", "BackupPlanId": PLAN_ID},
        {"BackupPlanId": PLAN_ID, "BackupSelection": selection()},
    )
    result = run(AWS_ARGS, capsys)
    assert result["changes"] == [{"action": "create", "resource": "backup selection t-by-tag", "attributes": []}]
    assert result["selection_id"] == "s-2"


def test_changed_selection_is_replaced_on_aws(aws, capsys):
    backup = aws["backup"]
    expect_existing(backup)
    backup.add_response(
        "list_backup_selections",
        {"BackupSelectionsList": [{"SelectionId": "s-1", "SelectionName": "t-by-tag"}]},
        {"BackupPlanId": PLAN_ID},
    )
    old = selection(
        ListOfTags=[{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "hourly"}]
    )
    backup.add_response(
        "get_backup_selection",
        {"BackupSelection": old, "SelectionId": "s-1", "BackupPlanId": PLAN_ID},
        {"BackupPlanId": PLAN_ID, "SelectionId": "s-1"},
    )
    backup.add_response("delete_backup_selection", {}, {"BackupPlanId": PLAN_ID, "SelectionId": "s-1"})
    backup.add_response(
        "create_backup_selection",
        {"SelectionId": "s-3", "BackupPlanId": PLAN_ID},
        {"BackupPlanId": PLAN_ID, "BackupSelection": selection()},
    )
    result = run(AWS_ARGS, capsys)
    assert [row["action"] for row in result["changes"]] == ["delete", "create"]
    assert result["selection_id"] == "s-3"


def test_absent_deletes_the_selections_first_on_aws(aws, capsys):
    backup = aws["backup"]
    backup.add_response(
        "list_backup_plans",
        {"BackupPlansList": [{"BackupPlanId": PLAN_ID, "BackupPlanArn": PLAN_ARN, "BackupPlanName": "t-plan"}]},
        {},
    )
    backup.add_response(
        "get_backup_plan",
        {"BackupPlanId": PLAN_ID, "BackupPlan": {"BackupPlanName": "t-plan", "Rules": [aws_rule()]}},
        {"BackupPlanId": PLAN_ID},
    )
    backup.add_response(
        "list_backup_selections",
        {"BackupSelectionsList": [{"SelectionId": "s-1", "SelectionName": "t-by-tag"}]},
        {"BackupPlanId": PLAN_ID},
    )
    backup.add_response("delete_backup_selection", {}, {"BackupPlanId": PLAN_ID, "SelectionId": "s-1"})
    backup.add_response("delete_backup_plan", {"BackupPlanId": PLAN_ID}, {"BackupPlanId": PLAN_ID})
    result = run(dict(AWS_ARGS, state="absent"), capsys)
    assert [row["action"] for row in result["changes"]] == ["delete", "delete"]


def test_absent_keeps_a_vault_that_holds_recovery_points_on_aws(aws, capsys):
    backup = aws["backup"]
    backup.add_response("list_backup_plans", {"BackupPlansList": []}, {})
    backup.add_response(
        "describe_backup_vault",
        {
            "BackupVaultName": "t-vault",
            "BackupVaultArn": "arn:aws:backup:us-east-1:123456789012:backup-vault:t-vault",
            "NumberOfRecoveryPoints": 3,
        },
        {"BackupVaultName": "t-vault"},
    )
    # No delete_backup_vault is stubbed: the Stubber fails the run if the module makes it.
    result = run(dict(AWS_ARGS, state="absent", confirm_delete_vault="t-vault"), capsys)
    assert result["changed"] is False
    assert result["kept_vault"] == "t-vault"
    assert "3 recovery points" in str(result.get("warnings")), result


def test_a_missing_vault_answered_with_access_denied_is_created(aws, capsys):
    backup = aws["backup"]
    backup.add_client_error("describe_backup_vault", service_error_code="AccessDeniedException", http_status_code=403)
    backup.add_response(
        "create_backup_vault",
        {"BackupVaultName": "t-vault", "BackupVaultArn": "arn:aws:backup:us-east-1:123456789012:backup-vault:t-vault"},
        {"BackupVaultName": "t-vault", "EncryptionKeyArn": KEY_ARN},
    )
    backup.add_response("list_backup_plans", {"BackupPlansList": []}, {})
    backup.add_response(
        "create_backup_plan",
        {"BackupPlanId": PLAN_ID, "BackupPlanArn": PLAN_ARN, "VersionId": "v1"},
        {
            "BackupPlan": {
                "BackupPlanName": "t-plan",
                "Rules": [
                    {
                        "RuleName": "t-daily",
                        "TargetBackupVaultName": "t-vault",
                        "ScheduleExpression": "cron(0 5 * * ? *)",
                        "StartWindowMinutes": 60,
                        "CompletionWindowMinutes": 180,
                        "Lifecycle": {"DeleteAfterDays": 30},
                    }
                ],
            }
        },
    )
    backup.add_response(
        "create_backup_selection",
        {"SelectionId": "s-1", "BackupPlanId": PLAN_ID},
        {"BackupPlanId": PLAN_ID, "BackupSelection": selection()},
    )
    result = run(dict(AWS_ARGS, vault_kms_key_arn=KEY_ARN, rules=[daily()]), capsys)
    assert [row["action"] for row in result["changes"]] == ["create", "create", "create"]
    assert result["plan_id"] == PLAN_ID and result["selection_id"] == "s-1"


def test_without_a_plan_name_the_vault_alone_is_managed(emulator, capsys):
    """The failover region's vault, destination of the primary's copies: no plan, no role."""
    args = dict(region="us-east-1", vault_name="t-dr-vault", vault_kms_key_arn=KEY_ARN, tags={"environment": "test"})
    first = run(args, capsys)
    assert [change["resource"] for change in first["changes"]] == ["backup vault t-dr-vault"]
    assert first["plan_id"] is None and first["vault_arn"].endswith(":backup-vault:t-dr-vault")
    assert [vault["BackupVaultName"] for vault in vaults()] == ["t-dr-vault"]
    assert plans() == []
    again = run(args, capsys)
    assert not again["changed"], again["changes"]


def test_rules_without_a_plan_name_fail_before_anything_is_touched(emulator, capsys):
    result = run(dict(region="us-east-1", vault_name="t-vault", rules=[daily()]), capsys)
    assert result["failed"] and "rules and selection need plan_name" in result["msg"]
    assert vaults() == []


def test_the_backup_role_gets_the_managed_policy_of_its_partition(aws, capsys):
    """GovCloud (and China) ARNs name their own partition: arn:aws-us-gov:iam::aws:policy/..."""
    gov_role = "arn:aws-us-gov:iam::123456789012:role/t-plan-backup"
    expect_existing(aws["backup"])
    iam = aws["iam"]
    iam.add_client_error("get_role", "NoSuchEntity", "The role with name t-plan-backup cannot be found.")
    iam.add_response(
        "create_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "t-plan-backup",
                "RoleId": "AROAEXAMPLEEXAMPLE123",
                "Arn": gov_role,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
    )
    iam.add_response(
        "attach_role_policy",
        {},
        {
            "RoleName": "t-plan-backup",
            "PolicyArn": "arn:aws-us-gov:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        },
    )
    aws["backup"].add_response("list_backup_selections", {"BackupSelectionsList": []}, {"BackupPlanId": PLAN_ID})
    aws["backup"].add_response(
        "create_backup_selection",
        {"SelectionId": "s-2", "BackupPlanId": PLAN_ID},
        {"BackupPlanId": PLAN_ID, "BackupSelection": ANY},
    )
    args = dict(AWS_ARGS, region="us-gov-west-1", selection={"name": "t-by-tag", "tags": {"backup": "daily"}})
    result = run(args, capsys)
    assert result.get("iam_role_arn") == gov_role, result.get("msg")


def test_a_new_role_backup_cannot_assume_yet_is_retried(aws, capsys, monkeypatch):
    """IAM is eventually consistent: AWS Backup may refuse a role made a moment ago; the selection is tried again."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    new_role = "arn:aws:iam::123456789012:role/t-plan-backup"
    expect_existing(aws["backup"])
    iam = aws["iam"]
    iam.add_client_error("get_role", "NoSuchEntity", "The role with name t-plan-backup cannot be found.")
    iam.add_response(
        "create_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "t-plan-backup",
                "RoleId": "AROAEXAMPLEEXAMPLE123",
                "Arn": new_role,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
        {
            "RoleName": "t-plan-backup",
            "Path": "/",
            "AssumeRolePolicyDocument": json.dumps(module_under_test.ASSUME_ROLE_POLICY),
            "Description": "AWS Backup role of plan t-plan",
        },
    )
    iam.add_response("attach_role_policy", {}, {"RoleName": "t-plan-backup", "PolicyArn": BACKUP_POLICY_ARN})
    backup = aws["backup"]
    backup.add_response("list_backup_selections", {"BackupSelectionsList": []}, {"BackupPlanId": PLAN_ID})
    wanted = {"BackupPlanId": PLAN_ID, "BackupSelection": selection(IamRoleArn=new_role)}
    backup.add_client_error(
        "create_backup_selection",
        "InvalidParameterValueException",
        f"IAM Role {new_role} cannot be assumed by AWS Backup",
        expected_params=wanted,
    )
    backup.add_response("create_backup_selection", {"SelectionId": "s-2", "BackupPlanId": PLAN_ID}, wanted)
    result = run(dict(AWS_ARGS, selection={"name": "t-by-tag", "tags": {"backup": "daily"}}), capsys)
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "iam role t-plan-backup"),
        ("create", "backup selection t-by-tag"),
    ]
    assert (result["iam_role_arn"], result["selection_id"]) == (new_role, "s-2")
