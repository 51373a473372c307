# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_ec2_capacity: pure helpers (table-driven), the module against the moto server,
and botocore's Stubber for the call moto lacks (DisableMetricsCollection)."""

import base64
import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import RETRY, ChangeSet
from ansible_collections.reelle.infra.plugins.modules import ecs_ec2_capacity
from botocore.stub import Stubber

REGION = "us-east-1"
NAME = "reelle-test-ec2"
CLUSTER = "reelle-test"
SSM_AMI = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
ECS_INSTANCE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


# --- pure helpers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "lines"),
    [
        ({}, ["ECS_CLUSTER=reelle-test"]),
        (
            {"ECS_ENABLE_CONTAINER_METADATA": True, "ECS_AWSVPC_BLOCK_IMDS": "true"},
            ["ECS_CLUSTER=reelle-test", "ECS_AWSVPC_BLOCK_IMDS=true", "ECS_ENABLE_CONTAINER_METADATA=True"],
        ),
    ],
)
def test_user_data_joins_the_cluster(extra, lines):
    script = base64.b64decode(ecs_ec2_capacity.user_data(CLUSTER, extra)).decode()
    assert script.startswith("#!/bin/bash\ncat >> /etc/ecs/ecs.config <<'EOF'\n")
    body = script.split("<<'EOF'\n", 1)[1].rsplit("EOF\n", 1)[0]
    assert body.splitlines() == lines


def _items(*triples):
    return [{"capacityProvider": name, "weight": weight, "base": base} for name, weight, base in triples]


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        (_items(("FARGATE", 1, 0)), None),
        (_items(("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0)), None),
        (_items((NAME, 1, 0)), None),
        (_items(("FARGATE", 1, 0), (NAME, 1, 0)), "a capacity provider strategy cannot mix Fargate"),
        (_items(("other", 1, 0)), "unknown capacity providers other"),
        (_items(("FARGATE", 1, 1), ("FARGATE_SPOT", 1, 2)), "only one provider of a strategy may have a base"),
        (_items(("FARGATE", 0, 0)), "at least one provider of a strategy needs a weight"),
    ],
)
def test_strategy_problem(items, problem):
    found = ecs_ec2_capacity.strategy_problem(items, NAME)
    assert (found is None) if problem is None else found.startswith(problem)


# --- the module against the emulator ------------------------------------------


def run(args, check_mode=False, diff=False, capsys=None):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        ecs_ec2_capacity.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def upstream(emulator):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for index, zone in ((10, "a"), (11, "b"))
    ]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    return {"subnets": subnets, "group": group}


def capacity_args(upstream, **overrides):
    args = {
        "region": REGION,
        "name": NAME,
        "cluster": CLUSTER,
        "instance_type": "m5.large",
        "subnets": upstream["subnets"],
        "security_groups": [upstream["group"]],
        "min_size": 3,
        "max_size": 10,
        "desired_capacity": 3,
        "target_capacity": 100,
        "tags": {"project": "reelle", "environment": "test"},
    }
    args.update(overrides)
    return args


class CallCounter:
    """Counts the AWS requests the module makes (botocore's before-call event)."""

    def __init__(self, monkeypatch):
        self.calls = []
        real = ecs_ec2_capacity.aws_client

        def counting(module, service, region=None):
            client = real(module, service, region)
            client.meta.events.register("before-call", self._count)
            return client

        monkeypatch.setattr(ecs_ec2_capacity, "aws_client", counting)

    def _count(self, model, **_):
        self.calls.append(model.name)


def clients():
    return {name: boto3.client(name, region_name=REGION) for name in ("ec2", "autoscaling", "ecs", "iam", "ssm")}


def default_version():
    ec2 = clients()["ec2"]
    return ec2.describe_launch_template_versions(LaunchTemplateName=NAME, Versions=["$Default"])[
        "LaunchTemplateVersions"
    ][0]


def group():
    return clients()["autoscaling"].describe_auto_scaling_groups(AutoScalingGroupNames=[NAME])["AutoScalingGroups"][0]


def test_check_mode_on_an_empty_account_creates_nothing(emulator, upstream, capsys):
    args = capacity_args(upstream, subnets=[None, None], security_groups=[None])
    result = run(args, check_mode=True, capsys=capsys)
    assert not result.get("failed"), result.get("msg")
    created = [row["resource"] for row in result["changes"] if row["action"] == "create"]
    assert created == [
        f"iam role {NAME}-ecs-instance",
        f"iam instance profile {NAME}-ecs-instance",
        f"launch template {NAME}",
        f"auto scaling group {NAME}",
        f"ecs capacity provider {NAME}",
        f"ecs cluster {CLUSTER}",
    ]
    assert result["auto_scaling_group_arn"] is None and result["capacity_provider_arn"] is None
    found = clients()
    assert found["iam"].list_instance_profiles()["InstanceProfiles"] == []
    assert found["ec2"].describe_launch_templates()["LaunchTemplates"] == []
    assert found["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert found["ecs"].list_clusters()["clusterArns"] == []


def test_create_then_noop(emulator, upstream, capsys, monkeypatch):
    created = run(capacity_args(upstream), capsys=capsys)
    assert created["changed"] is True, created.get("msg")
    found = clients()
    ami = found["ssm"].get_parameter(Name=SSM_AMI)["Parameter"]["Value"]
    assert created["image_id"] == ami
    assert created["launch_template_version"] == 1

    # Role + instance profile with the ECS container-instance policy.
    profile = found["iam"].get_instance_profile(InstanceProfileName=f"{NAME}-ecs-instance")["InstanceProfile"]
    assert [role["RoleName"] for role in profile["Roles"]] == [f"{NAME}-ecs-instance"]
    attached = found["iam"].list_attached_role_policies(RoleName=f"{NAME}-ecs-instance")["AttachedPolicies"]
    assert [item["PolicyArn"] for item in attached] == [ECS_INSTANCE_POLICY_ARN]
    assert created["instance_role_arn"].endswith(f":role/{NAME}-ecs-instance")

    # Launch template: ECS AMI, IMDSv2 required, encrypted root volume, user data joining the cluster.
    data = default_version()["LaunchTemplateData"]
    assert data["ImageId"] == ami and data["InstanceType"] == "m5.large"
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert data["SecurityGroupIds"] == [upstream["group"]]
    assert data["IamInstanceProfile"] == {"Name": f"{NAME}-ecs-instance"}
    assert f"ECS_CLUSTER={CLUSTER}\n" in base64.b64decode(data["UserData"]).decode()

    # Auto Scaling group over the subnets, protected from scale-in, ECS-managed, metrics on.
    asg = group()
    assert (asg["MinSize"], asg["MaxSize"], asg["DesiredCapacity"]) == (3, 10, 3)
    assert asg["NewInstancesProtectedFromScaleIn"] is True
    assert sorted(asg["VPCZoneIdentifier"].split(",")) == sorted(upstream["subnets"])
    assert asg["LaunchTemplate"]["LaunchTemplateName"] == NAME and asg["LaunchTemplate"]["Version"] == "$Default"
    tags = {tag["Key"]: tag for tag in asg["Tags"]}
    assert tags["AmazonECSManaged"]["PropagateAtLaunch"] is True and tags["project"]["Value"] == "reelle"
    assert {item["Metric"] for item in asg["EnabledMetrics"]} >= {"GroupInServiceInstances", "GroupDesiredCapacity"}

    # Capacity provider on the group, managed scaling and termination protection.
    provider = found["ecs"].describe_capacity_providers(capacityProviders=[NAME])["capacityProviders"][0]
    assert provider["autoScalingGroupProvider"]["autoScalingGroupArn"] == asg["AutoScalingGroupARN"]
    assert provider["autoScalingGroupProvider"]["managedScaling"]["status"] == "ENABLED"
    assert provider["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 100
    assert provider["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"
    assert created["capacity_provider_arn"] == provider["capacityProviderArn"]

    # The cluster keeps Fargate beside the provider; its default strategy is Fargate.
    cluster = found["ecs"].describe_clusters(clusters=[CLUSTER])["clusters"][0]
    assert sorted(cluster["capacityProviders"]) == sorted(["FARGATE", "FARGATE_SPOT", NAME])
    assert cluster["defaultCapacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]

    counter = CallCounter(monkeypatch)
    again = run(capacity_args(upstream), capsys=capsys)
    assert again["changed"] is False, again["changes"]
    assert again["skipped_calls"] == []
    # The no-op path: 8 reads, nothing else.
    assert sorted(counter.calls) == sorted(
        [
            "GetParameter",
            "GetRole",
            "ListAttachedRolePolicies",
            "GetInstanceProfile",
            "DescribeLaunchTemplateVersions",
            "DescribeAutoScalingGroups",
            "DescribeCapacityProviders",
            "DescribeClusters",
        ]
    )
    counter.calls.clear()
    # A pinned AMI: the same reads (the recommended AMI is read to report a newer one).
    pinned = run(capacity_args(upstream, image_id=ami), capsys=capsys)
    assert pinned["changed"] is False and pinned["recommended_image_id"] == ami
    assert len(counter.calls) == 8 and "GetParameter" in counter.calls


@pytest.mark.parametrize(
    ("change", "resource", "attributes"),
    [
        ({"instance_type": "m5.xlarge"}, f"launch template {NAME}", ["InstanceType"]),
        ({"image_id": "ami-0123456789abcdef0"}, f"launch template {NAME}", ["ImageId"]),
        ({"root_volume_size": 50}, f"launch template {NAME}", ["BlockDeviceMappings"]),
        ({"max_size": 12}, f"auto scaling group {NAME}", ["MaxSize"]),
        ({"target_capacity": 90}, f"ecs capacity provider {NAME}", ["managedScaling.targetCapacity"]),
        (
            {"default_capacity_provider_strategy": [{"capacity_provider": NAME, "weight": 1}]},
            f"ecs cluster {CLUSTER}",
            ["defaultCapacityProviderStrategy"],
        ),
    ],
)
def test_changes_update_in_place(emulator, upstream, capsys, change, resource, attributes):
    run(capacity_args(upstream), capsys=capsys)
    args = capacity_args(upstream, **change)
    planned = run(args, check_mode=True, diff=True, capsys=capsys)
    rows = {}
    for row in planned["changes"]:
        rows.setdefault(row["resource"], []).extend(row["attributes"])
    assert set(attributes) <= set(rows[resource]), rows
    assert planned["diff"]["after"]
    applied = run(args, capsys=capsys)
    assert applied["changed"] is True
    assert run(args, capsys=capsys)["changed"] is False


def test_role_and_instance_profile_are_kept_as_wanted(emulator, upstream, capsys):
    """Tags of the role and the profile are reconciled; a detached ECS policy or a lost role comes back."""
    run(capacity_args(upstream), capsys=capsys)
    iam = clients()["iam"]
    role = f"{NAME}-ecs-instance"
    iam.detach_role_policy(RoleName=role, PolicyArn=ECS_INSTANCE_POLICY_ARN)
    iam.remove_role_from_instance_profile(InstanceProfileName=role, RoleName=role)
    args = capacity_args(upstream, tags={"project": "reelle", "owner": "platform"})
    planned = run(args, check_mode=True, diff=True, capsys=capsys)
    rows = [(row["resource"], row["attributes"]) for row in planned["changes"]]
    for expected in (
        (f"iam role {role}", ["tags.owner"]),
        (f"iam role {role}", ["tags.environment"]),
        (f"iam role {role}", [f"managed_policy_arns.{ECS_INSTANCE_POLICY_ARN}"]),
        (f"iam instance profile {role}", ["roles"]),
        (f"iam instance profile {role}", ["tags.owner"]),
        (f"iam instance profile {role}", ["tags.environment"]),
    ):
        assert expected in rows, rows
    assert planned["diff"]["after"][f"iam instance profile {role}"] == {"roles": [role]}
    assert run(args, capsys=capsys)["changed"] is True
    profile = iam.get_instance_profile(InstanceProfileName=role)["InstanceProfile"]
    assert [item["RoleName"] for item in profile["Roles"]] == [role]
    assert {tag["Key"]: tag["Value"] for tag in profile["Tags"]} == {"project": "reelle", "owner": "platform"}
    assert {tag["Key"] for tag in iam.list_role_tags(RoleName=role)["Tags"]} == {"project", "owner"}
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [item["PolicyArn"] for item in attached] == [ECS_INSTANCE_POLICY_ARN]
    assert run(args, capsys=capsys)["changed"] is False


def test_template_change_makes_a_new_default_version(emulator, upstream, capsys):
    run(capacity_args(upstream), capsys=capsys)
    changed = run(capacity_args(upstream, instance_type="m5.xlarge"), capsys=capsys)
    assert changed["launch_template_version"] == 2
    version = default_version()
    assert version["VersionNumber"] == 2 and version["LaunchTemplateData"]["InstanceType"] == "m5.xlarge"
    assert version["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
    assert group()["LaunchTemplate"]["Version"] == "$Default"


def test_out_of_band_group_changes_are_repaired(emulator, upstream, capsys):
    run(capacity_args(upstream), capsys=capsys)
    asg = clients()["autoscaling"]
    asg.update_auto_scaling_group(AutoScalingGroupName=NAME, MinSize=1, MaxSize=2, DesiredCapacity=2)
    asg.delete_tags(Tags=[{"ResourceId": NAME, "ResourceType": "auto-scaling-group", "Key": "AmazonECSManaged"}])
    result = run(capacity_args(upstream), diff=True, capsys=capsys)
    rows = [(row["resource"], row["attributes"]) for row in result["changes"]]
    # Desired 2 is inside 1-2 but outside 3-10: clamped to 3 together with the bounds.
    assert rows == [
        (f"auto scaling group {NAME}", ["DesiredCapacity", "MaxSize", "MinSize"]),
        (f"auto scaling group {NAME}", ["tags.AmazonECSManaged"]),
    ]
    assert result["diff"]["before"]["auto_scaling_group"] == {"DesiredCapacity": 2, "MaxSize": 2, "MinSize": 1}
    assert (group()["MinSize"], group()["MaxSize"], group()["DesiredCapacity"]) == (3, 10, 3)
    assert "AmazonECSManaged" in {tag["Key"] for tag in group()["Tags"]}
    assert run(capacity_args(upstream), capsys=capsys)["changed"] is False


def test_desired_capacity_inside_bounds_is_left_to_managed_scaling(emulator, upstream, capsys):
    run(capacity_args(upstream), capsys=capsys)
    clients()["autoscaling"].set_desired_capacity(AutoScalingGroupName=NAME, DesiredCapacity=5)
    assert run(capacity_args(upstream), capsys=capsys)["changed"] is False
    assert group()["DesiredCapacity"] == 5


def test_extra_metrics_are_disabled_on_aws_and_reported_on_the_emulator(emulator, upstream, capsys):
    run(capacity_args(upstream), capsys=capsys)
    clients()["autoscaling"].enable_metrics_collection(
        AutoScalingGroupName=NAME, Metrics=["GroupInServiceCapacity"], Granularity="1Minute"
    )
    result = run(capacity_args(upstream), capsys=capsys)
    assert result["skipped_calls"] == ["autoscaling:disable_metrics_collection"]
    assert [row["attributes"] for row in result["changes"]] == [["EnabledMetrics"], ["EnabledMetrics"]]
    enabled = {item["Metric"] for item in group()["EnabledMetrics"]}
    # moto's EnableMetricsCollection replaces the list, so the extra metric is gone there too.
    assert enabled == set(ecs_ec2_capacity.argument_spec()["metrics"]["default"])
    assert run(capacity_args(upstream), capsys=capsys)["changed"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_size": 5, "max_size": 4}, "min_size 5 must be between 0 and max_size 4"),
        ({"desired_capacity": 11}, "desired_capacity 11 is outside min_size 3 - max_size 10"),
        ({"target_capacity": 0}, "target_capacity 0 must be 1-100"),
        ({"name": "ecs-capacity"}, "name ecs-capacity may not start with aws, ecs or fargate"),
        ({"subnets": []}, "subnets is required"),
        ({"security_groups": [None]}, "security_groups holds a null or empty id"),
        (
            {"default_capacity_provider_strategy": [{"capacity_provider": "FARGATE"}, {"capacity_provider": NAME}]},
            "default_capacity_provider_strategy: a capacity provider strategy cannot mix Fargate",
        ),
    ],
)
def test_bad_input_fails_before_anything_changes(emulator, upstream, capsys, change, message):
    result = run(capacity_args(upstream, **change), capsys=capsys)
    assert result["failed"] is True and message in result["msg"]
    assert clients()["iam"].list_roles()["Roles"] == []
    assert clients()["ec2"].describe_launch_templates()["LaunchTemplates"] == []


def test_absent_removes_everything_but_the_cluster(emulator, upstream, capsys):
    run(capacity_args(upstream), capsys=capsys)
    absent = {"region": REGION, "state": "absent", "name": NAME, "cluster": CLUSTER}
    planned = run(absent, check_mode=True, capsys=capsys)
    assert [row["action"] for row in planned["changes"] if row["action"] == "delete"] == ["delete"] * 5
    assert group()["AutoScalingGroupName"] == NAME
    removed = run(absent, capsys=capsys)
    assert removed["changed"] is True
    found = clients()
    assert found["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert found["ec2"].describe_launch_templates()["LaunchTemplates"] == []
    assert found["iam"].list_instance_profiles()["InstanceProfiles"] == []
    assert f"{NAME}-ecs-instance" not in [role["RoleName"] for role in found["iam"].list_roles()["Roles"]]
    cluster = found["ecs"].describe_clusters(clusters=[CLUSTER])["clusters"][0]
    assert cluster["status"] == "ACTIVE" and sorted(cluster["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    assert run(absent, capsys=capsys)["changed"] is False


# --- Stubber: what the emulator cannot show ---------------------------------------


class FakeModule:
    def __init__(self, params, client):
        self.params = params
        self.check_mode = False
        self._diff = False
        self._client = client

    def client(self, service, retry_decorator=None, **_):
        return RetryingBotoClientWrapper(self._client, retry_decorator or RETRY)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_disable_metrics_collection_request_shape_on_aws(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("autoscaling", region_name=REGION)
    params = {"name": NAME, "tags": None, "metrics": ["GroupDesiredCapacity"]}
    manager = ecs_ec2_capacity.Ec2CapacityManager.__new__(ecs_ec2_capacity.Ec2CapacityManager)
    module = FakeModule(params, client)
    manager.module, manager.params, manager.name, manager._clients = module, params, NAME, {}
    manager.changes = ChangeSet(module)
    with Stubber(client) as stub:
        stub.add_response(
            "disable_metrics_collection",
            {},
            {"AutoScalingGroupName": NAME, "Metrics": ["GroupInServiceCapacity", "GroupTotalCapacity"]},
        )
        manager._sync_metrics(
            {
                "EnabledMetrics": [
                    {"Metric": "GroupDesiredCapacity", "Granularity": "1Minute"},
                    {"Metric": "GroupTotalCapacity", "Granularity": "1Minute"},
                    {"Metric": "GroupInServiceCapacity", "Granularity": "1Minute"},
                ]
            }
        )
        stub.assert_no_pending_responses()
    assert manager.changes.skipped_calls == []
    assert [row["attributes"] for row in manager.changes.changes] == [["EnabledMetrics"]]


# --- Stubber: real AWS behaviour (pages, AMI pinning, idempotent creates, partitions) -----------

OLD_AMI = "ami-0aaaaaaaaaaaaaaa1"
NEW_AMI = "ami-0bbbbbbbbbbbbbbb2"
ACCOUNT = "123456789012"


class AwsModule:
    """The little of AnsibleAWSModule the manager uses, with one stubbed client per service."""

    def __init__(self, params, clients, region=REGION, check_mode=False):
        self.params = params
        self.region = region
        self.check_mode = check_mode
        self._diff = False
        self._clients = clients
        self.warnings = []

    def client(self, service, retry_decorator=None, **_):
        return RetryingBotoClientWrapper(self._clients[service], retry_decorator or RETRY)

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients, stubs = {}, {}
    for service in ("iam", "ec2", "ssm", "autoscaling", "ecs"):
        clients[service] = boto3.client(service, region_name=REGION)
        stubs[service] = Stubber(clients[service])
        stubs[service].activate()
    yield clients, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def aws_manager(clients, region=REGION, check_mode=False, **overrides):
    params = {
        "name": NAME,
        "cluster": CLUSTER,
        "instance_type": "m5.large",
        "image_id": "latest",
        "image_update": False,
        "image_parameter": SSM_AMI,
        "security_groups": ["sg-1"],
        "subnets": ["subnet-a"],
        "root_volume_size": 30,
        "root_device_name": "/dev/xvda",
        "kms_key_id": None,
        "ecs_agent_config": {},
        "managed_policy_arns": [],
        "min_size": 1,
        "max_size": 3,
        "desired_capacity": None,
        "managed_termination_protection": True,
        "metrics": ["GroupTotalInstances"],
        "tags": {"project": "reelle"},
        "purge_tags": True,
    }
    params.update(overrides)
    module = AwsModule(params, clients, region=region, check_mode=check_mode)
    return ecs_ec2_capacity.Ec2CapacityManager(module), module


def ssm_answers(stubs, ami=NEW_AMI):
    stubs["ssm"].add_response(
        "get_parameter", {"Parameter": {"Name": SSM_AMI, "Type": "String", "Value": ami}}, {"Name": SSM_AMI}
    )


def template_version(manager, ami):
    return {
        "LaunchTemplateVersions": [
            {
                "LaunchTemplateId": "lt-0123",
                "LaunchTemplateName": NAME,
                "VersionNumber": 4,
                "DefaultVersion": True,
                "LaunchTemplateData": manager.template_data(ami),
            }
        ]
    }


ROLE = f"{NAME}-ecs-instance"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"


def iam_role(**extra):
    found = {
        "RoleName": ROLE,
        "Path": "/",
        "RoleId": "AROA1234567890EXAMPLE",
        "Arn": ROLE_ARN,
        "CreateDate": "2026-01-01T00:00:00Z",
    }
    return dict(found, **extra)


def instance_profile(roles):
    return {
        "InstanceProfile": {
            "Path": "/",
            "InstanceProfileName": ROLE,
            "InstanceProfileId": "AIPA1234567890EXAMPLE",
            "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{ROLE}",
            "CreateDate": "2026-01-01T00:00:00Z",
            "Roles": [iam_role() for _ in range(roles)],
        }
    }


def test_absent_empties_and_deletes_the_profile_then_the_role_reading_every_page(aws):
    clients, stubs = aws
    manager, _ = aws_manager(clients)
    iam = stubs["iam"]
    iam.add_response("get_instance_profile", instance_profile(1), {"InstanceProfileName": ROLE})
    iam.add_response("remove_role_from_instance_profile", {}, {"InstanceProfileName": ROLE, "RoleName": ROLE})
    iam.add_response("delete_instance_profile", {}, {"InstanceProfileName": ROLE})
    iam.add_response("get_role", {"Role": iam_role()}, {"RoleName": ROLE})
    # IAM lists are paginated (IsTruncated/Marker): every page's policy goes.
    page_one = {"PolicyName": "A", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/A"}
    page_two = {"PolicyName": "AmazonEC2ContainerServiceforEC2Role", "PolicyArn": ECS_INSTANCE_POLICY_ARN}
    iam.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [page_one], "IsTruncated": True, "Marker": "m1"},
        {"RoleName": ROLE},
    )
    iam.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [page_two], "IsTruncated": False},
        {"RoleName": ROLE, "Marker": "m1"},
    )
    for item in (page_one, page_two):
        iam.add_response("detach_role_policy", {}, {"RoleName": ROLE, "PolicyArn": item["PolicyArn"]})
    iam.add_response(
        "list_role_policies", {"PolicyNames": ["inline-1"], "IsTruncated": True, "Marker": "n1"}, {"RoleName": ROLE}
    )
    iam.add_response(
        "list_role_policies", {"PolicyNames": ["inline-2"], "IsTruncated": False}, {"RoleName": ROLE, "Marker": "n1"}
    )
    for name in ("inline-1", "inline-2"):
        iam.add_response("delete_role_policy", {}, {"RoleName": ROLE, "PolicyName": name})
    iam.add_response("list_instance_profiles_for_role", {"InstanceProfiles": []}, {"RoleName": ROLE})
    iam.add_response("delete_role", {}, {"RoleName": ROLE})
    manager._remove_iam()
    assert [(row["action"], row["resource"]) for row in manager.changes.changes] == [
        ("delete", f"iam instance profile {ROLE}"),
        ("delete", f"iam role {ROLE}"),
    ]


def test_absent_in_check_mode_only_reads_iam(aws):
    clients, stubs = aws
    manager, _ = aws_manager(clients, check_mode=True)
    stubs["iam"].add_response("get_instance_profile", instance_profile(1), {"InstanceProfileName": ROLE})
    stubs["iam"].add_response("get_role", {"Role": iam_role()}, {"RoleName": ROLE})
    manager._remove_iam()
    assert [row["action"] for row in manager.changes.changes] == ["delete", "delete"]


def test_a_new_role_and_instance_profile_wait_for_iam_to_see_them(aws, monkeypatch):
    """The role is created tagged, with the ECS policy; the new profile gets the new role once IAM sees it."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    clients, stubs = aws
    manager, _ = aws_manager(clients, managed_policy_arns=[f"arn:aws:iam::{ACCOUNT}:policy/extra"])
    iam = stubs["iam"]
    tags = [{"Key": "project", "Value": "reelle"}]
    iam.add_client_error("get_role", "NoSuchEntity", http_status_code=404, expected_params={"RoleName": ROLE})
    iam.add_response(
        "create_role",
        {"Role": iam_role(Tags=tags)},
        {
            "RoleName": ROLE,
            "Path": "/",
            "AssumeRolePolicyDocument": json.dumps(ecs_ec2_capacity.ASSUME_EC2),
            "Description": f"ECS container instances of {CLUSTER}",
            "Tags": tags,
        },
    )
    for policy in (ECS_INSTANCE_POLICY_ARN, f"arn:aws:iam::{ACCOUNT}:policy/extra"):
        iam.add_response("attach_role_policy", {}, {"RoleName": ROLE, "PolicyArn": policy})
    iam.add_client_error(
        "get_instance_profile", "NoSuchEntity", http_status_code=404, expected_params={"InstanceProfileName": ROLE}
    )
    iam.add_response("create_instance_profile", instance_profile(0), {"InstanceProfileName": ROLE, "Tags": tags})
    iam.add_client_error(
        "add_role_to_instance_profile",
        "NoSuchEntity",
        f"The role with name {ROLE} cannot be found.",
        http_status_code=404,
        expected_params={"InstanceProfileName": ROLE, "RoleName": ROLE},
    )
    iam.add_response("add_role_to_instance_profile", {}, {"InstanceProfileName": ROLE, "RoleName": ROLE})
    assert manager.ensure_role() == ROLE_ARN
    assert [(row["action"], row["resource"]) for row in manager.changes.changes] == [
        ("create", f"iam role {ROLE}"),
        ("create", f"iam instance profile {ROLE}"),
    ]


def test_a_group_naming_a_new_instance_profile_is_created_once_auto_scaling_sees_it(aws, monkeypatch):
    """Auto Scaling answers ValidationError for a profile IAM has not propagated yet: retried, not a failure."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    clients, stubs = aws
    manager, _ = aws_manager(clients)
    asg = stubs["autoscaling"]
    asg.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"AutoScalingGroupNames": [NAME]})
    request = {
        "AutoScalingGroupName": NAME,
        "MinSize": 1,
        "MaxSize": 3,
        "DesiredCapacity": 1,
        "NewInstancesProtectedFromScaleIn": True,
        "LaunchTemplate": {"LaunchTemplateName": NAME, "Version": "$Default"},
        "VPCZoneIdentifier": "subnet-a",
        "Tags": manager._tag_rows(manager.group_tags()),
    }
    asg.add_client_error(
        "create_auto_scaling_group",
        "ValidationError",
        f"You must use a valid fully-formed launch template. Invalid IAM Instance Profile name {ROLE}",
        expected_params=request,
    )
    asg.add_response("create_auto_scaling_group", {}, request)
    asg.add_response(
        "enable_metrics_collection",
        {},
        {"AutoScalingGroupName": NAME, "Metrics": ["GroupTotalInstances"], "Granularity": "1Minute"},
    )
    group_arn = f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:1a2b:autoScalingGroupName/{NAME}"
    asg.add_response(
        "describe_auto_scaling_groups",
        {
            "AutoScalingGroups": [
                {
                    "AutoScalingGroupName": NAME,
                    "AutoScalingGroupARN": group_arn,
                    "MinSize": 1,
                    "MaxSize": 3,
                    "DesiredCapacity": 1,
                    "DefaultCooldown": 300,
                    "AvailabilityZones": [f"{REGION}a"],
                    "HealthCheckType": "EC2",
                    "CreatedTime": "2026-01-01T00:00:00Z",
                }
            ]
        },
        {"AutoScalingGroupNames": [NAME]},
    )
    assert manager.ensure_group() == group_arn


def test_latest_keeps_the_template_ami_and_warns_when_a_newer_one_is_recommended(aws):
    clients, stubs = aws
    manager, module = aws_manager(clients)
    ssm_answers(stubs)
    stubs["ec2"].add_response(
        "describe_launch_template_versions",
        template_version(manager, OLD_AMI),
        {"LaunchTemplateName": NAME, "Versions": ["$Default"]},
    )
    image = manager.resolve_image()
    template_id, version = manager.ensure_template(image)
    assert image == OLD_AMI and version == 4
    assert manager.changes.changes == []
    assert any(NEW_AMI in warning and OLD_AMI in warning for warning in module.warnings)


def test_latest_with_image_update_moves_to_the_recommended_ami_with_a_client_token(aws):
    clients, stubs = aws
    manager, module = aws_manager(clients, image_update=True)
    ssm_answers(stubs)
    stubs["ec2"].add_response(
        "describe_launch_template_versions",
        template_version(manager, OLD_AMI),
        {"LaunchTemplateName": NAME, "Versions": ["$Default"]},
    )
    stubs["ec2"].add_response(
        "create_launch_template_version",
        {"LaunchTemplateVersion": {"LaunchTemplateId": "lt-0123", "VersionNumber": 5}},
        {
            "LaunchTemplateId": "lt-0123",
            "SourceVersion": "4",
            "LaunchTemplateData": manager.template_data(NEW_AMI),
            "VersionDescription": f"image {NEW_AMI}",
            "ClientToken": ecs_ec2_capacity.client_token(
                "ec2", "create_launch_template_version", "lt-0123", 4, manager.template_data(NEW_AMI)
            ),
        },
    )
    stubs["ec2"].add_response("modify_launch_template", {}, {"LaunchTemplateId": "lt-0123", "DefaultVersion": "5"})
    image = manager.resolve_image()
    _, version = manager.ensure_template(image)
    assert image == NEW_AMI and version == 5
    assert module.warnings == []


def test_a_pinned_ami_is_kept_and_a_newer_recommended_one_is_reported(aws):
    clients, stubs = aws
    manager, module = aws_manager(clients, image_id=OLD_AMI)
    stubs["ec2"].add_response(
        "describe_launch_template_versions",
        template_version(manager, OLD_AMI),
        {"LaunchTemplateName": NAME, "Versions": ["$Default"]},
    )
    ssm_answers(stubs)
    assert manager.resolve_image() == OLD_AMI
    assert any(NEW_AMI in warning for warning in module.warnings)


def test_a_new_launch_template_is_tagged_at_creation_with_a_client_token(aws):
    clients, stubs = aws
    manager, _ = aws_manager(clients, image_id=OLD_AMI)
    stubs["ec2"].add_client_error(
        "describe_launch_template_versions", "InvalidLaunchTemplateName.NotFoundException", http_status_code=400
    )
    data = manager.template_data(OLD_AMI)
    stubs["ec2"].add_response(
        "create_launch_template",
        {"LaunchTemplate": {"LaunchTemplateId": "lt-0123", "DefaultVersionNumber": 1}},
        {
            "LaunchTemplateName": NAME,
            "LaunchTemplateData": data,
            "TagSpecifications": [{"ResourceType": "launch-template", "Tags": [{"Key": "project", "Value": "reelle"}]}],
            "ClientToken": ecs_ec2_capacity.client_token("ec2", "create_launch_template", NAME, data),
        },
    )
    assert manager.ensure_template(OLD_AMI) == ("lt-0123", 1)


@pytest.mark.parametrize(("region", "partition"), [("us-east-1", "aws"), ("cn-north-1", "aws-cn")])
def test_the_ecs_instance_policy_arn_is_in_the_regions_partition(aws, region, partition):
    clients, _ = aws
    manager, _ = aws_manager(clients, region=region)
    assert manager.instance_policy_arn() == (
        f"arn:{partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    )
