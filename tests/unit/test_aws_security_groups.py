"""aws_security_groups against the real emulator (moto server).

Every call the module makes is served by moto 5.2.5, so there is no Stubber test:
botocore validates each request against the service model before it is sent.
"""

import copy
import json
from pathlib import Path

import aws_security_groups
import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from aws_security_groups import actual_rules, desired_rules, ip_permissions

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


def run(capsys, args, check_mode=False, diff=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        aws_security_groups.main()
    return json.loads(capsys.readouterr().out)


def requests_logged(emulator):
    return len(Path(emulator.log.name).read_text().splitlines())


def tier_args(vpc_id, groups=None, **extra):
    return dict(
        {"vpc_id": vpc_id, "security_groups": copy.deepcopy(groups or TIER), "tags": {"project": "reelle"}}, **extra
    )


def describe(group_ids):
    groups = boto3.client("ec2").describe_security_groups(GroupIds=list(group_ids))["SecurityGroups"]
    return {group["GroupName"]: group for group in groups}


@pytest.fixture
def vpc_id(emulator):
    return boto3.client("ec2").create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def tier(vpc_id, capsys):
    return run(capsys, tier_args(vpc_id))


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


def test_create_the_tier(tier):
    assert tier["changed"] and tier["skipped_calls"] == []
    ids = tier["group_ids"]
    groups = describe(ids.values())
    alb, app, db = groups["unit-alb"], groups["unit-app"], groups["unit-db"]
    assert sorted(p["FromPort"] for p in alb["IpPermissions"]) == [80, 443]
    assert [pair["GroupId"] for pair in app["IpPermissions"][0]["UserIdGroupPairs"]] == [ids["unit-alb"]]
    assert app["IpPermissions"][0]["IpRanges"] == []
    assert [pair["GroupId"] for pair in db["IpPermissions"][0]["UserIdGroupPairs"]] == [ids["unit-app"]]
    assert {tag["Key"]: tag["Value"] for tag in db["Tags"]} == {"Name": "unit-db", "project": "reelle"}
    assert tier["security_groups"][1]["ingress"] == ["tcp/7777 unit-alb"]


def test_second_run_is_one_describe_call(emulator, vpc_id, tier, capsys):
    before = requests_logged(emulator)
    again = run(capsys, tier_args(vpc_id))
    assert not again["changed"] and again["changes"] == []
    assert again["group_ids"] == tier["group_ids"]
    assert requests_logged(emulator) - before == 1


def test_check_mode_without_a_vpc_plans_everything(emulator, capsys):
    result = run(capsys, tier_args(None), check_mode=True, diff=True)
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
    result = run(capsys, tier_args(None))
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
def test_rule_changes_in_check_mode_then_for_real(vpc_id, tier, capsys, edit):
    groups = copy.deepcopy(TIER)
    expected = edit(groups, tier["group_ids"])
    planned = run(capsys, tier_args(vpc_id, groups), check_mode=True)
    assert [row["attributes"] for row in planned["changes"]] == expected
    applied = run(capsys, tier_args(vpc_id, groups))
    assert applied["changes"] == planned["changes"]
    assert not run(capsys, tier_args(vpc_id, groups))["changed"]


def test_unset_directions_and_purge_rules_false_leave_rules_alone(vpc_id, tier, capsys):
    open_ssh_by_hand(None, tier["group_ids"])
    groups = copy.deepcopy(TIER)
    groups[2]["ingress"] = None
    assert not run(capsys, tier_args(vpc_id, groups))["changed"]
    assert not run(capsys, tier_args(vpc_id, purge_rules=False))["changed"]


def test_description_change_fails_instead_of_replacing(vpc_id, tier, capsys):
    groups = copy.deepcopy(TIER)
    groups[0]["description"] = "something else"
    result = run(capsys, tier_args(vpc_id, groups))
    assert result["failed"] and "cannot change without replacing the group" in result["msg"]


def test_bad_rule_fails_before_changing_anything(vpc_id, capsys):
    groups = copy.deepcopy(TIER)
    groups[1]["ingress"][0]["source_group"] = ["unit-nobody"]
    result = run(capsys, tier_args(vpc_id, groups))
    assert result["failed"] and "unit-nobody" in result["msg"]


def test_absent_deletes_groups_that_refer_to_each_other(vpc_id, tier, capsys):
    result = run(capsys, tier_args(vpc_id, state="absent"))
    assert [row["resource"] for row in result["changes"] if row["action"] == "delete"] == [
        f"security group {group['name']}" for group in TIER
    ]
    names = [group["name"] for group in TIER]
    left = boto3.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": names}])
    assert left["SecurityGroups"] == []
    assert not run(capsys, tier_args(vpc_id, state="absent"))["changed"]
