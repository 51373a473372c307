# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_network against the real emulator (moto server).

Every call the module makes is served by moto 5.2.5, so there is no Stubber test:
botocore validates each request against the service model before it is sent.
"""

import json
from pathlib import Path

import boto3
import botocore.client
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.reelle.infra.plugins.modules import aws_network

NAME = "unit-net"
PLAN = [
    {"availability_zone": "us-east-1a", "public_cidr": "10.20.0.0/24", "private_cidr": "10.20.10.0/24"},
    {"availability_zone": "us-east-1b", "public_cidr": "10.20.1.0/24", "private_cidr": "10.20.11.0/24"},
]
STAGING = {
    "name": NAME,
    "cidr_block": "10.20.0.0/16",
    "subnets": PLAN,
    "nat_per_az": False,
    "dns_support": True,
    "dns_hostnames": True,
    "map_public_ip_on_launch": True,
    "tags": {"project": "reelle", "environment": "unit"},
}


def run(capsys, args, check_mode=False, diff=False):
    """Run the module's main() with args; return its JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        aws_network.main()
    return json.loads(capsys.readouterr().out)


def ec2():
    return boto3.client("ec2")


def our_vpcs():
    return ec2().describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]


def default_route(table_id):
    table = ec2().describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return next(route for route in table["Routes"] if route.get("DestinationCidrBlock") == "0.0.0.0/0")


def requests_logged(emulator):
    return len(Path(emulator.log.name).read_text().splitlines())


@pytest.fixture
def staging(emulator, capsys):
    """The staging network, created."""
    return run(capsys, STAGING)


def test_create_staging_network(staging):
    assert staging["changed"]
    assert staging["skipped_calls"] == []
    assert staging["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert len(staging["nat_gateway_ids"]) == 1 and len(staging["private_route_table_ids"]) == 1
    client = ec2()
    vpc_id = staging["vpc_id"]
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        assert client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"] is True
    subnets = {s["SubnetId"]: s for s in client.describe_subnets(SubnetIds=staging["public_subnet_ids"])["Subnets"]}
    assert sorted(s["CidrBlock"] for s in subnets.values()) == ["10.20.0.0/24", "10.20.1.0/24"]
    assert all(s["MapPublicIpOnLaunch"] for s in subnets.values())
    assert default_route(staging["public_route_table_id"])["GatewayId"] == staging["internet_gateway_id"]
    assert default_route(staging["private_route_table_ids"][0])["NatGatewayId"] == staging["nat_gateway_ids"][0]
    nat = client.describe_nat_gateways(NatGatewayIds=staging["nat_gateway_ids"])["NatGateways"][0]
    assert nat["SubnetId"] == staging["public_subnet_ids"][0] and nat["State"] == "available"


def test_second_run_changes_nothing_with_eight_describe_calls(emulator, staging, capsys):
    before = requests_logged(emulator)
    again = run(capsys, STAGING)
    assert not again["changed"]
    assert again["changes"] == []
    assert requests_logged(emulator) - before == 8
    for key in ("vpc_id", "public_subnet_ids", "private_subnet_ids", "nat_gateway_ids", "public_route_table_id"):
        assert again[key] == staging[key]


def test_check_mode_on_an_empty_account_plans_everything_and_creates_nothing(emulator, capsys):
    result = run(capsys, STAGING, check_mode=True, diff=True)
    assert result["changed"]
    assert result["vpc_id"] is None
    assert result["public_subnet_ids"] == [None, None] and result["nat_gateway_ids"] == [None]
    resources = [row["resource"] for row in result["changes"]]
    assert resources[0] == f"vpc {NAME}"
    assert f"nat gateway {NAME}-us-east-1a" in resources
    assert f"route table {NAME}-private-us-east-1a association {NAME}-private-us-east-1b" in resources
    assert result["diff"]["after"][f"vpc {NAME}"]["cidr_block"] == "10.20.0.0/16"
    assert our_vpcs() == []


@pytest.mark.parametrize(
    ("overrides", "expected_rows"),
    [
        ({"tags": {"project": "reelle", "environment": "unit", "owner": "platform"}}, 10),
        ({"dns_hostnames": False}, 1),
        ({"map_public_ip_on_launch": False}, 2),
        ({"nat_per_az": True}, 5),
    ],
    ids=["tag every resource", "dns hostnames", "public ip on launch", "nat per zone"],
)
def test_updates_in_check_mode_then_for_real(staging, capsys, overrides, expected_rows):
    args = dict(STAGING, **overrides)
    planned = run(capsys, args, check_mode=True)
    assert planned["changed"] and len(planned["changes"]) == expected_rows
    assert not run(capsys, STAGING)["changed"], "check mode changed something"
    applied = run(capsys, args)
    assert applied["changes"] == planned["changes"]
    assert not run(capsys, args)["changed"]


def test_nat_per_zone_routes_each_private_subnet_through_its_zone(staging, capsys):
    result = run(capsys, dict(STAGING, nat_per_az=True))
    assert len(result["nat_gateway_ids"]) == 2 and len(result["private_route_table_ids"]) == 2
    for table_id, nat_id, subnet_id in zip(
        result["private_route_table_ids"], result["nat_gateway_ids"], result["private_subnet_ids"], strict=True
    ):
        assert default_route(table_id)["NatGatewayId"] == nat_id
        table = ec2().describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        assert [a["SubnetId"] for a in table["Associations"]] == [subnet_id]


def test_unset_tags_leave_foreign_tags_alone_and_set_tags_purge_them(staging, capsys):
    ec2().create_tags(Resources=[staging["vpc_id"]], Tags=[{"Key": "foreign", "Value": "x"}])
    untouched = run(capsys, {key: value for key, value in STAGING.items() if key != "tags"})
    assert not untouched["changed"]
    purged = run(capsys, STAGING)
    assert purged["changes"] == [{"action": "update", "resource": f"vpc {NAME}", "attributes": ["tags.foreign"]}]


def drift_route(result):
    client = ec2()
    table_id = result["public_route_table_id"]
    client.delete_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0")
    return f"route table {NAME}-public route 0.0.0.0/0", "create"


def drift_association(result):
    client = ec2()
    table = client.describe_route_tables(RouteTableIds=[result["private_route_table_ids"][0]])["RouteTables"][0]
    client.disassociate_route_table(AssociationId=table["Associations"][0]["RouteTableAssociationId"])
    return f"route table {NAME}-private-us-east-1a association {NAME}-private-us-east-1a", "create"


def drift_wrong_table(result):
    client = ec2()
    table = client.describe_route_tables(RouteTableIds=[result["private_route_table_ids"][0]])["RouteTables"][0]
    association = table["Associations"][0]
    client.replace_route_table_association(
        AssociationId=association["RouteTableAssociationId"], RouteTableId=result["public_route_table_id"]
    )
    return f"route table {NAME}-private-us-east-1a association {NAME}-private-us-east-1a", "update"


def drift_dns(result):
    ec2().modify_vpc_attribute(VpcId=result["vpc_id"], EnableDnsHostnames={"Value": False})
    return f"vpc {NAME}", "update"


@pytest.mark.parametrize("drift", [drift_route, drift_association, drift_wrong_table, drift_dns])
def test_drift_is_repaired(staging, capsys, drift):
    resource, action = drift(staging)
    repaired = run(capsys, STAGING)
    assert [(row["resource"], row["action"]) for row in repaired["changes"]] == [(resource, action)]
    assert not run(capsys, STAGING)["changed"]


# One network serves every case: none of them may touch it.
REFUSALS = [
    ({"cidr_block": "10.21.0.0/16"}, "Changing a VPC's CIDR replaces the VPC"),
    ({"subnets": [dict(PLAN[0], availability_zone="us-east-1c"), PLAN[1]]}, "Moving a subnet replaces it"),
    ({"state": "absent"}, "Refusing to delete network unit-net"),
    ({"state": "absent", "confirm_delete": "unit"}, "set confirm_delete to 'unit-net'"),
]


def test_refuses_replacements_and_unconfirmed_deletes(staging, capsys):
    for overrides, message in REFUSALS:
        result = run(capsys, dict(STAGING, **overrides))
        assert result.get("failed") and message in result["msg"], overrides
    assert our_vpcs()[0]["VpcId"] == staging["vpc_id"]
    assert not run(capsys, STAGING)["changed"]


@pytest.fixture
def no_aws(monkeypatch):
    """Input errors stop the module before any call; nothing answers here if one were made."""
    for key, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "us-east-1",
        "REELLE_AWS_TARGET": "emulator",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": NAME}, "state is present but all of the following are missing: cidr_block, subnets"),
        ({"name": NAME, "cidr_block": "10.20.0.0/16", "subnets": []}, "subnets must name at least one"),
        ({"name": NAME, "cidr_block": "10.20.0.0/16", "subnets": [{"availability_zone": "a"}]}, "missing required"),
        (dict(STAGING, nat_per_az="sometimes"), "nat_per_az"),
    ],
)
def test_rejects_bad_input(no_aws, capsys, args, message):
    result = run(capsys, args)
    assert result["failed"] and message in result["msg"]


def test_delete_with_confirmation_in_check_mode_then_for_real(staging, capsys):
    args = dict(STAGING, state="absent", confirm_delete=NAME)
    planned = run(capsys, args, check_mode=True)
    assert planned["changed"] and our_vpcs()
    deleted = run(capsys, args)
    assert deleted["changed"]
    assert [row["resource"] for row in deleted["changes"]][-1] == f"vpc {NAME}"
    assert our_vpcs() == []
    assert ec2().describe_addresses(Filters=[{"Name": "tag:Name", "Values": [f"{NAME}-nat-*"]}])["Addresses"] == []
    assert not run(capsys, args)["changed"]


def test_an_elastic_ip_left_by_an_interrupted_run_is_reused(emulator, capsys):
    """AllocateAddress takes no client token: the address is tagged at allocation and found by tag."""
    tags = [{"Key": "Name", "Value": f"{NAME}-nat-us-east-1a"}, {"Key": "environment", "Value": "unit"}]
    left = ec2().allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags}])
    result = run(capsys, STAGING)
    assert [a["AllocationId"] for a in ec2().describe_addresses()["Addresses"]] == [left["AllocationId"]]
    assert result["nat_public_ips"] == [left["PublicIp"]]
    assert f"elastic ip {NAME}-nat-us-east-1a" not in [row["resource"] for row in result["changes"]]


def test_creates_carry_tags_and_deterministic_client_tokens(emulator, capsys, monkeypatch):
    sent = {}
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        sent.setdefault(operation, []).append(params)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    run(capsys, STAGING)
    for operation in ("CreateVpc", "CreateSubnet", "CreateInternetGateway", "AllocateAddress", "CreateNatGateway"):
        for params in sent[operation]:
            tags = {tag["Key"]: tag["Value"] for tag in params["TagSpecifications"][0]["Tags"]}
            assert tags["environment"] == "unit" and tags["Name"].startswith(NAME), operation
    for operation in ("CreateNatGateway", "CreateRouteTable"):
        tokens = [params["ClientToken"] for params in sent[operation]]
        assert len(set(tokens)) == len(tokens) and all(len(token) <= 64 for token in tokens), operation
    nat = sent["CreateNatGateway"][0]
    assert nat["ClientToken"] == aws_network.client_token(
        "nat-gateway", f"{NAME}-us-east-1a", nat["SubnetId"], nat["AllocationId"]
    )
