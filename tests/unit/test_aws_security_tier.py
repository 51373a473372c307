# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_security_tier against the real emulator (moto server), and its pure helpers.

Sections: the security groups, the KMS key, the IAM roles, then the tier as the
aws_security role calls it. Every call the module makes is served by moto 5.2.5,
so there is no Stubber test: botocore validates each request against the service
model before it is sent.
"""

import copy
import json
from pathlib import Path

import boto3
import botocore.client
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import same_policy
from ansible_collections.reelle.infra.plugins.modules import aws_security_tier
from ansible_collections.reelle.infra.plugins.modules.aws_security_tier import (
    actual_rules,
    desired_rules,
    ip_permissions,
    resolve_placeholders,
)


def run(capsys, args, check_mode=False, diff=False):
    """Run the module's main() with args; return its JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        aws_security_tier.main()
    return json.loads(capsys.readouterr().out)


def requests_logged(emulator):
    return len(Path(emulator.log.name).read_text().splitlines())


# === security groups ======================================================================

ANYWHERE = ["0.0.0.0/0"]
EGRESS = [{"protocol": "all", "cidr_ip": ANYWHERE}]
TIER = [
    {
        "name": "unit-alb",
        "description": "ALB: HTTP/HTTPS from anywhere",
        "ingress": [{"ports": [80, 443], "cidr_ip": ANYWHERE, "description": "ALB listeners"}],
        "egress": EGRESS,
    },
    {
        "name": "unit-app",
        "description": "App tasks: 7777 from the ALB",
        "ingress": [{"port": 7777, "source_group": ["unit-alb"], "description": "app from ALB"}],
        "egress": EGRESS,
    },
    {
        "name": "unit-db",
        "description": "PostgreSQL from app",
        "ingress": [{"port": 5432, "source_group": ["unit-app"], "description": "postgres from app"}],
        "egress": EGRESS,
    },
    {
        "name": "unit-cache",
        "description": "Redis from app",
        "ingress": [{"port": 6379, "source_group": ["unit-app"], "description": "redis from app"}],
        "egress": EGRESS,
    },
]


def groups_args(vpc_id, groups=None, **extra):
    return dict(
        {"vpc_id": vpc_id, "security_groups": copy.deepcopy(groups or TIER), "tags": {"project": "reelle"}}, **extra
    )


def describe_groups(group_ids):
    groups = boto3.client("ec2").describe_security_groups(GroupIds=list(group_ids))["SecurityGroups"]
    return {group["GroupName"]: group for group in groups}


@pytest.fixture
def vpc_id(emulator):
    return boto3.client("ec2").create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def groups(vpc_id, capsys):
    return run(capsys, groups_args(vpc_id))


# --- pure helpers -----------------------------------------------------------------


def rule(spec):
    """A rule as the argument spec hands it over: every option present."""
    keys = ("port", "ports", "from_port", "to_port", "cidr_ip", "cidr_ipv6", "source_group", "description")
    return dict(dict.fromkeys(keys), protocol="tcp") | spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"port": 22, "cidr_ip": ["10.0.0.0/8"]}, {("tcp", 22, 22, "cidr", "10.0.0.0/8")}),
        (
            {"ports": [80, 443], "cidr_ip": ANYWHERE},
            {("tcp", 80, 80, "cidr", ANYWHERE[0]), ("tcp", 443, 443, "cidr", ANYWHERE[0])},
        ),
        ({"protocol": "all", "cidr_ip": ANYWHERE, "port": 5}, {("-1", None, None, "cidr", ANYWHERE[0])}),
        ({"protocol": "17", "from_port": 1, "to_port": 9, "cidr_ipv6": ["::/0"]}, {("udp", 1, 9, "cidr6", "::/0")}),
        ({"port": 7777, "source_group": ["alb"]}, {("tcp", 7777, 7777, "group", "sg-1")}),
        ({"port": 7777, "source_group": ["new"]}, {("tcp", 7777, 7777, "group", "(new) new")}),
        ({"port": 7777, "source_group": ["sg-9"]}, {("tcp", 7777, 7777, "group", "sg-9")}),
    ],
)
def test_desired_rules(spec, expected):
    full = rule(spec)
    assert set(desired_rules([full], {"alb": "sg-1", "new": None})) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"cidr_ip": ANYWHERE}, "needs port, ports, or from_port and to_port"),
        ({"port": 80}, "needs cidr_ip, cidr_ipv6 or source_group"),
        ({"port": 80, "source_group": ["nobody"]}, "neither a group of this call nor a group id"),
    ],
)
def test_desired_rules_rejects(spec, message):
    full = rule(spec)
    with pytest.raises(ValueError, match=message):
        desired_rules([full], {})


def test_ip_permissions_round_trip():
    rules = {("tcp", 80, 80, "cidr", "0.0.0.0/0"): "HTTP", ("-1", None, None, "group", "sg-1"): None}
    assert actual_rules(ip_permissions(rules)) == rules


# --- against the emulator ---------------------------------------------------------


def test_create_the_groups(groups):
    assert groups["changed"] and groups["skipped_calls"] == []
    ids = groups["group_ids"]
    described = describe_groups(ids.values())
    alb, app, db = described["unit-alb"], described["unit-app"], described["unit-db"]
    assert sorted(p["FromPort"] for p in alb["IpPermissions"]) == [80, 443]
    assert [pair["GroupId"] for pair in app["IpPermissions"][0]["UserIdGroupPairs"]] == [ids["unit-alb"]]
    assert app["IpPermissions"][0]["IpRanges"] == []
    assert [pair["GroupId"] for pair in db["IpPermissions"][0]["UserIdGroupPairs"]] == [ids["unit-app"]]
    assert {tag["Key"]: tag["Value"] for tag in db["Tags"]} == {"Name": "unit-db", "project": "reelle"}
    assert groups["security_groups"][1]["ingress"] == ["tcp/7777 unit-alb"]


def test_second_run_is_one_describe_call(emulator, vpc_id, groups, capsys):
    before = requests_logged(emulator)
    again = run(capsys, groups_args(vpc_id))
    assert not again["changed"] and again["changes"] == []
    assert again["group_ids"] == groups["group_ids"]
    assert requests_logged(emulator) - before == 1


def test_check_mode_without_a_vpc_plans_everything(emulator, capsys):
    result = run(capsys, groups_args(None), check_mode=True, diff=True)
    assert result["changed"]
    assert set(result["group_ids"].values()) == {None}
    rows = {(row["action"], row["resource"]): row["attributes"] for row in result["changes"]}
    assert len(rows) == 8
    assert rows[("update", "security group unit-app ingress")] == ["+tcp/7777 (new) unit-alb"]
    assert result["diff"]["after"]["security group unit-db ingress"] == ["tcp/5432 (new) unit-app"]
    assert (
        boto3.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": ["unit-alb"]}])[
            "SecurityGroups"
        ]
        == []
    )


def test_null_vpc_outside_check_mode_fails(emulator, capsys):
    result = run(capsys, groups_args(None))
    assert result["failed"] and "vpc_id is required" in result["msg"]


def change_app_port(groups, _ids):
    groups[1]["ingress"][0]["port"] = 8080
    return [["-tcp/7777 unit-alb"], ["+tcp/8080 unit-alb"]]


def change_description(groups, _ids):
    # A CIDR rule: moto 5.2.5 keeps the old description of a rule that names a group
    # (UpdateSecurityGroupRuleDescriptionsIngress matches such rules with their old
    # description), so that case would re-run on the emulator; AWS updates both kinds.
    groups[0]["ingress"][0]["description"] = "HTTP and HTTPS listeners"
    return [["description tcp/443 0.0.0.0/0", "description tcp/80 0.0.0.0/0"]]


def open_ssh_by_hand(groups, ids):
    boto3.client("ec2").authorize_security_group_ingress(
        GroupId=ids["unit-db"], IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0"
    )
    return [["-tcp/22 0.0.0.0/0"]]


def restrict_egress(groups, _ids):
    groups[3]["egress"] = [{"protocol": "tcp", "port": 443, "cidr_ip": ANYWHERE}]
    return [["-all 0.0.0.0/0"], ["+tcp/443 0.0.0.0/0"]]


@pytest.mark.parametrize("edit", [change_app_port, change_description, open_ssh_by_hand, restrict_egress])
def test_rule_changes_in_check_mode_then_for_real(vpc_id, groups, capsys, edit):
    edited = copy.deepcopy(TIER)
    expected = edit(edited, groups["group_ids"])
    planned = run(capsys, groups_args(vpc_id, edited), check_mode=True)
    assert [row["attributes"] for row in planned["changes"]] == expected
    applied = run(capsys, groups_args(vpc_id, edited))
    assert applied["changes"] == planned["changes"]
    assert not run(capsys, groups_args(vpc_id, edited))["changed"]


def test_unset_directions_and_purge_rules_false_leave_rules_alone(vpc_id, groups, capsys):
    open_ssh_by_hand(None, groups["group_ids"])
    edited = copy.deepcopy(TIER)
    edited[2]["ingress"] = None
    assert not run(capsys, groups_args(vpc_id, edited))["changed"]
    assert not run(capsys, groups_args(vpc_id, purge_rules=False))["changed"]


def test_description_change_fails_instead_of_replacing(vpc_id, groups, capsys):
    edited = copy.deepcopy(TIER)
    edited[0]["description"] = "something else"
    result = run(capsys, groups_args(vpc_id, edited))
    assert result["failed"] and "cannot change without replacing the group" in result["msg"]


def test_bad_rule_fails_before_changing_anything(vpc_id, capsys):
    edited = copy.deepcopy(TIER)
    edited[1]["ingress"][0]["source_group"] = ["unit-nobody"]
    result = run(capsys, groups_args(vpc_id, edited))
    assert result["failed"] and "unit-nobody" in result["msg"]


def test_absent_deletes_groups_that_refer_to_each_other(vpc_id, groups, capsys):
    result = run(capsys, groups_args(vpc_id, state="absent"))
    assert [row["resource"] for row in result["changes"] if row["action"] == "delete"] == [
        f"security group {group['name']}" for group in TIER
    ]
    names = [group["name"] for group in TIER]
    left = boto3.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": names}])
    assert left["SecurityGroups"] == []
    assert not run(capsys, groups_args(vpc_id, state="absent"))["changed"]


# === KMS key ==============================================================================

ALIAS = "alias/unit-key"
KEY = {"alias": "unit-key", "description": "unit data encryption", "enable_key_rotation": True}
KEY_TAGS = {"project": "reelle", "environment": "unit"}


def key_args(tags=KEY_TAGS, **overrides):
    return {"kms_key": dict(KEY, **overrides), "tags": tags}


def kms():
    return boto3.client("kms")


def aliases():
    return [alias["AliasName"] for alias in kms().list_aliases()["Aliases"] if alias["AliasName"] == ALIAS]


@pytest.fixture
def key(emulator, capsys):
    return run(capsys, key_args())["kms_key"]


def test_create_key_with_alias_rotation_and_tags(key):
    assert key["alias"] == ALIAS
    metadata = kms().describe_key(KeyId=ALIAS)["KeyMetadata"]
    assert metadata["Arn"] == key["key_arn"] and metadata["Description"] == "unit data encryption"
    assert kms().get_key_rotation_status(KeyId=key["key_id"])["KeyRotationEnabled"] is True
    tags = {tag["TagKey"]: tag["TagValue"] for tag in kms().list_resource_tags(KeyId=key["key_id"])["Tags"]}
    assert tags == dict(KEY_TAGS, **{aws_security_tier.KEY_IDENTITY_TAG: ALIAS})


def test_key_second_run_is_three_calls(emulator, key, capsys):
    before = requests_logged(emulator)
    again = run(capsys, key_args())
    assert not again["changed"] and again["kms_key"]["key_arn"] == key["key_arn"]
    assert requests_logged(emulator) - before == 3


def test_key_check_mode_on_an_empty_account(emulator, capsys):
    result = run(capsys, key_args(), check_mode=True, diff=True)
    assert result["changed"] and result["kms_key"]["key_id"] is None and result["kms_key"]["key_arn"] is None
    assert result["changes"] == [{"action": "create", "resource": f"kms key {ALIAS}", "attributes": []}]
    assert result["diff"]["after"][f"kms key {ALIAS}"]["rotation"] is True
    assert aliases() == [] and kms().list_keys()["Keys"] == []


@pytest.mark.parametrize(
    ("args", "attributes"),
    [
        (key_args(enable_key_rotation=False), [["enable_key_rotation"]]),
        (key_args(description="other"), [["description"]]),
        (key_args(tags={"project": "reelle", "environment": "prod"}), [["tags.environment"]]),
        (key_args(tags={"project": "reelle"}), [["tags.environment"]]),
        (key_args(enabled=False), [["enabled"]]),
    ],
)
def test_key_updates_in_check_mode_then_for_real(key, capsys, args, attributes):
    planned = run(capsys, args, check_mode=True)
    assert [row["attributes"] for row in planned["changes"]] == attributes
    assert not run(capsys, key_args())["changed"], "check mode changed something"
    assert run(capsys, args)["changes"] == planned["changes"]
    assert not run(capsys, args)["changed"]


def test_unset_key_parameters_leave_the_key_alone(key, capsys):
    result = run(capsys, {"kms_key": {"alias": ALIAS}})
    assert not result["changed"] and result["kms_key"]["key_rotation_enabled"] is True


def test_pending_deletion_is_restored(key, capsys):
    kms().schedule_key_deletion(KeyId=key["key_id"], PendingWindowInDays=7)
    restored = run(capsys, key_args())
    assert [row["attributes"] for row in restored["changes"]] == [["key_state"], ["enabled"]]
    assert kms().describe_key(KeyId=key["key_id"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_delete_needs_the_alias_confirmed(key, capsys):
    for confirm in (None, "unit-key", "alias/other"):
        result = run(capsys, dict(key_args(), state="absent", confirm_delete=confirm))
        assert result["failed"] and "Set confirm_delete to 'alias/unit-key'" in result["msg"], confirm
    assert aliases() == [ALIAS]


def test_delete_schedules_the_key_deletion(key, capsys):
    args = dict(key_args(), state="absent", confirm_delete=ALIAS)
    result = run(capsys, args)
    assert result["changed"] and result["kms_key"]["key_state"] == "PendingDeletion"
    assert kms().describe_key(KeyId=key["key_id"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert aliases() == []
    assert not run(capsys, args)["changed"]


def test_rejects_a_deletion_window_out_of_range(capsys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    result = run(capsys, key_args(deletion_window_days=3))
    assert result["failed"] and "deletion_window_days must be from 7 to 30" in result["msg"]


# === IAM roles ============================================================================

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
XRAY_POLICY = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
SECRETS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:unit/*",
        }
    ],
}
BUCKETS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::unit-*"},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::unit-*/*"},
    ],
}
ROLES = [
    {
        "name": "unit-ecs-execution",
        "description": "ECS task execution",
        "assume_role_policy": TRUST,
        "managed_policy_arns": [EXECUTION_POLICY],
        "inline_policies": {"project-secrets": SECRETS},
    },
    {
        "name": "unit-ecs-task",
        "description": "ECS task",
        "assume_role_policy": TRUST,
        "managed_policy_arns": [XRAY_POLICY],
        "inline_policies": {"project-buckets": BUCKETS},
    },
]


def roles_args(roles=None, **extra):
    return dict({"iam_roles": copy.deepcopy(roles or ROLES), "tags": {"project": "reelle"}}, **extra)


def iam():
    return boto3.client("iam")


def role_names():
    return sorted(role["RoleName"] for role in iam().list_roles()["Roles"] if role["RoleName"].startswith("unit-"))


@pytest.fixture
def roles(emulator, capsys):
    return run(capsys, roles_args())


# --- against the emulator ---------------------------------------------------------


def test_create_roles_with_trust_managed_and_inline_policies(roles):
    assert roles["changed"] and roles["skipped_calls"] == []
    assert roles["role_arns"]["unit-ecs-task"] == "arn:aws:iam::123456789012:role/unit-ecs-task"
    client = iam()
    role = client.get_role(RoleName="unit-ecs-execution")["Role"]
    assert same_policy(TRUST, role["AssumeRolePolicyDocument"])
    assert {tag["Key"]: tag["Value"] for tag in role["Tags"]} == {"project": "reelle"}
    attached = client.list_attached_role_policies(RoleName="unit-ecs-task")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [XRAY_POLICY]
    document = client.get_role_policy(RoleName="unit-ecs-task", PolicyName="project-buckets")["PolicyDocument"]
    assert same_policy(BUCKETS, document)


def test_roles_second_run_is_four_calls_per_role(emulator, roles, capsys):
    before = requests_logged(emulator)
    again = run(capsys, roles_args())
    assert not again["changed"] and again["role_arns"] == roles["role_arns"]
    assert requests_logged(emulator) - before == 8


def test_roles_check_mode_on_an_empty_account(emulator, capsys):
    result = run(capsys, roles_args(), check_mode=True, diff=True)
    assert result["changed"] and set(result["role_arns"].values()) == {None}
    assert [row["resource"] for row in result["changes"]] == ["iam role unit-ecs-execution", "iam role unit-ecs-task"]
    assert result["diff"]["after"]["iam role unit-ecs-task"]["managed_policy_arns"] == [XRAY_POLICY]
    assert role_names() == []


def widen_trust(roles):
    roles[0]["assume_role_policy"] = copy.deepcopy(TRUST)  # the roles share one document
    roles[0]["assume_role_policy"]["Statement"][0]["Principal"]["Service"] = [
        "ecs-tasks.amazonaws.com",
        "ec2.amazonaws.com",
    ]
    return [["assume_role_policy"]]


def change_inline(roles):
    roles[1]["inline_policies"]["project-buckets"]["Statement"][1]["Action"].append("s3:DeleteObject")
    return [["inline_policies.project-buckets"]]


def swap_managed(roles):
    roles[1]["managed_policy_arns"] = [EXECUTION_POLICY]
    return [[f"managed_policy_arns.{EXECUTION_POLICY}"], [f"managed_policy_arns.{XRAY_POLICY}"]]


def drop_inline(roles):
    roles[0]["inline_policies"] = {}
    return [["inline_policies.project-secrets"]]


def retag(roles):
    roles[0]["tags"] = {"tier": "security"}
    return [["tags.tier"]]


def redescribe(roles):
    roles[0]["description"] = "ECS task execution role"
    return [["Description"]]


@pytest.mark.parametrize("edit", [widen_trust, change_inline, swap_managed, drop_inline, retag, redescribe])
def test_role_updates_in_check_mode_then_for_real(roles, capsys, edit):
    edited = copy.deepcopy(ROLES)
    expected = edit(edited)
    planned = run(capsys, roles_args(edited), check_mode=True)
    assert [row["attributes"] for row in planned["changes"]] == expected
    assert not run(capsys, roles_args())["changed"], "check mode changed something"
    assert run(capsys, roles_args(edited))["changes"] == planned["changes"]
    assert not run(capsys, roles_args(edited))["changed"]


def test_extra_policies_are_purged_unless_told_otherwise(roles, capsys):
    client = iam()
    client.attach_role_policy(RoleName="unit-ecs-task", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    client.put_role_policy(RoleName="unit-ecs-task", PolicyName="extra", PolicyDocument=json.dumps(SECRETS))
    assert not run(capsys, roles_args(purge_policies=False))["changed"]
    purged = run(capsys, roles_args())
    assert [row["attributes"] for row in purged["changes"]] == [
        ["managed_policy_arns.arn:aws:iam::aws:policy/AdministratorAccess"],
        ["inline_policies.extra"],
    ]
    attached = client.list_attached_role_policies(RoleName="unit-ecs-task")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [XRAY_POLICY]


def test_unset_lists_leave_the_role_alone(roles, capsys):
    bare = [{"name": role["name"]} for role in ROLES]
    assert not run(capsys, {"iam_roles": bare})["changed"]


def test_create_needs_a_trust_policy(emulator, capsys):
    result = run(capsys, {"iam_roles": [{"name": "unit-bare"}]})
    assert result["failed"] and "assume_role_policy is needed to create it" in result["msg"]


def test_absent_deletes_the_roles_and_their_policies(roles, capsys):
    planned = run(capsys, roles_args(state="absent"), check_mode=True)
    assert planned["changed"] and role_names() == ["unit-ecs-execution", "unit-ecs-task"]
    deleted = run(capsys, roles_args(state="absent"))
    assert deleted["changes"] == planned["changes"]
    assert role_names() == []
    assert not run(capsys, roles_args(state="absent"))["changed"]


# === the whole tier, as the aws_security role calls it =====================================

KMS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:us-east-1:<account_id>:secret:unit/*",
        },
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "<kms_key_arn>"},
    ],
}


def whole_tier(vpc):
    role = dict(copy.deepcopy(ROLES[0]), inline_policies={"project-secrets": KMS_POLICY})
    return {
        "vpc_id": vpc,
        "tags": {"project": "reelle"},
        "kms_key": dict(KEY),
        "security_groups": copy.deepcopy(TIER),
        "iam_roles": [role, copy.deepcopy(ROLES[1])],
    }


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("<kms_key_arn>", "arn:k"),
        ({"Resource": ["x:<account_id>:y", "<kms_key_arn>"]}, {"Resource": ["x:123:y", "arn:k"]}),
        ('{"Resource": "<kms_key_arn>"}', '{"Resource": "arn:k"}'),
        ({"Resource": "<other>"}, {"Resource": "<other>"}),
        (None, None),
    ],
)
def test_resolve_placeholders(document, expected):
    assert resolve_placeholders(document, {"<account_id>": "123", "<kms_key_arn>": "arn:k"}) == expected


def test_unknown_placeholders_stay_for_the_plan():
    assert resolve_placeholders("<kms_key_arn>", {"<kms_key_arn>": None}) == "<kms_key_arn>"


def test_whole_tier_check_mode_then_create_then_twelve_calls(emulator, vpc_id, capsys):
    planned = run(capsys, whole_tier(None), check_mode=True, diff=True)
    assert planned["changed"] and len(planned["changes"]) == 11
    assert planned["kms_key"]["key_arn"] is None and set(planned["role_arns"].values()) == {None}
    secrets = planned["diff"]["after"]["iam role unit-ecs-execution"]
    assert secrets["inline_policies"] == ["project-secrets"]
    assert kms().list_keys()["Keys"] == [] and role_names() == []

    created = run(capsys, whole_tier(vpc_id))
    assert [row["action"] for row in created["changes"]].count("create") == 7
    key_arn = created["kms_key"]["key_arn"]
    document = iam().get_role_policy(RoleName="unit-ecs-execution", PolicyName="project-secrets")["PolicyDocument"]
    assert document["Statement"][0]["Resource"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:unit/*"
    assert document["Statement"][1]["Resource"] == key_arn

    before = requests_logged(emulator)
    again = run(capsys, whole_tier(vpc_id))
    assert not again["changed"] and again["skipped_calls"] == []
    assert requests_logged(emulator) - before == 3 + 1 + 8


def test_account_placeholder_without_a_key_asks_sts(emulator, capsys):
    role = dict(copy.deepcopy(ROLES[0]), inline_policies={"project-secrets": KMS_POLICY})
    refused = run(capsys, {"iam_roles": [role]})
    assert refused["failed"] and "use <kms_key_arn>, but no kms_key is given" in refused["msg"]
    role["inline_policies"]["project-secrets"] = dict(KMS_POLICY, Statement=KMS_POLICY["Statement"][:1])
    assert run(capsys, {"iam_roles": [role]})["changed"]
    document = iam().get_role_policy(RoleName="unit-ecs-execution", PolicyName="project-secrets")["PolicyDocument"]
    assert document["Statement"][0]["Resource"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:unit/*"


def test_whole_tier_absent_needs_confirmation_before_anything_goes(vpc_id, capsys):
    run(capsys, whole_tier(vpc_id))
    refused = run(capsys, dict(whole_tier(vpc_id), state="absent"))
    assert refused["failed"] and role_names() == ["unit-ecs-execution", "unit-ecs-task"]
    deleted = run(capsys, dict(whole_tier(vpc_id), state="absent", confirm_delete=ALIAS))
    assert deleted["changed"] and role_names() == [] and aliases() == []
    assert deleted["changes"][-1] == {"action": "delete", "resource": f"kms key {ALIAS}", "attributes": []}


def test_a_key_left_without_its_alias_by_an_interrupted_run_is_adopted(emulator, capsys):
    """A run interrupted between CreateKey and CreateAlias leaves a tagged key: the next run aliases it."""
    orphan = kms().create_key(
        Description="unit data encryption",
        Tags=[
            {"TagKey": "project", "TagValue": "reelle"},
            {"TagKey": aws_security_tier.KEY_IDENTITY_TAG, "TagValue": ALIAS},
        ],
    )["KeyMetadata"]
    other = kms().create_key(Description="someone else's key")["KeyMetadata"]
    kms().schedule_key_deletion(KeyId=other["KeyId"], PendingWindowInDays=7)
    result = run(capsys, key_args())
    assert [key["KeyId"] for key in kms().list_keys()["Keys"]] == [orphan["KeyId"], other["KeyId"]]
    assert result["kms_key"]["key_id"] == orphan["KeyId"]
    assert kms().describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"] == orphan["KeyId"]
    assert {"action": "update", "resource": f"kms key {ALIAS}", "attributes": ["alias"]} in result["changes"]
    assert not run(capsys, key_args())["changed"]


def test_a_new_key_carries_its_identity_tag_from_creation(emulator, capsys, monkeypatch):
    sent = {}
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        sent.setdefault(operation, params)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    run(capsys, key_args())
    assert {"TagKey": aws_security_tier.KEY_IDENTITY_TAG, "TagValue": ALIAS} in sent["CreateKey"]["Tags"]
