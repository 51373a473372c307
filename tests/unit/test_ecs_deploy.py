# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_deploy: pure helpers (table-driven), the module against the moto server,
and botocore's Stubber for what moto cannot show (rollouts that complete or
roll back, Application Auto Scaling tags, secrets on AWS, the wait for a deleted service);
the log group's KMS association is tested with module_utils/reelle_logs.py."""

import copy
import json
from datetime import UTC, datetime

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import RETRY, client_token
from ansible_collections.reelle.infra.plugins.modules import ecs_deploy
from botocore.exceptions import WaiterError
from botocore.stub import ANY, Stubber

REGION = "us-east-1"
ACCOUNT = "123456789012"
SECRET_VALUE = "dd-api-key-0123456789abcdef"


# --- pure helpers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("desired", "returned"),
    [
        # ECS fills in cpu 0, essential, hostPort, protocol and empty lists.
        (
            {"name": "a", "image": "x", "portMappings": [{"containerPort": 7777}]},
            {
                "name": "a",
                "image": "x",
                "cpu": 0,
                "essential": True,
                "portMappings": [{"containerPort": 7777, "hostPort": 7777, "protocol": "tcp"}],
                "mountPoints": [],
                "volumesFrom": [],
                "systemControls": [],
            },
        ),
        # Environment and secrets come back in any order; values are strings.
        (
            {"name": "a", "environment": [{"name": "B", "value": 2}, {"name": "A", "value": True}]},
            {"name": "a", "environment": [{"name": "A", "value": "true"}, {"name": "B", "value": "2"}]},
        ),
        (
            {"name": "a", "secrets": [{"name": "Y", "valueFrom": "y"}, {"name": "X", "valueFrom": "x"}]},
            {"name": "a", "secrets": [{"name": "X", "valueFrom": "x"}, {"name": "Y", "valueFrom": "y"}]},
        ),
    ],
)
def test_normalise_container_equal(desired, returned):
    assert ecs_deploy.normalise_container(desired, "awsvpc") == ecs_deploy.normalise_container(returned, "awsvpc")


@pytest.mark.parametrize(
    ("desired", "returned", "paths"),
    [
        ({"name": "a", "image": "x:2"}, {"name": "a", "image": "x:1"}, ["image"]),
        # A key the user removed counts (strict), unlike the shared comparator.
        ({"name": "a"}, {"name": "a", "memoryReservation": 768}, ["memoryReservation"]),
        ({"name": "a", "essential": False}, {"name": "a", "essential": True}, ["essential"]),
        (
            {"name": "a", "portMappings": [{"containerPort": 2000, "protocol": "udp"}]},
            {"name": "a", "portMappings": [{"containerPort": 2000, "hostPort": 2000, "protocol": "tcp"}]},
            ["portMappings[0].protocol"],
        ),
    ],
)
def test_normalised_containers_differ(desired, returned, paths):
    left = ecs_deploy.normalise_container(desired, "awsvpc")
    right = ecs_deploy.normalise_container(returned, "awsvpc")
    assert ecs_deploy.diff_paths(left, right) == paths


@pytest.mark.parametrize(
    ("cpu", "memory", "problem"),
    [
        (512, 1024, None),
        (256, 512, None),
        (1024, 2048, None),
        (1024, 1024, "Fargate cpu 1024 accepts memory 2048-8192 MiB in its steps, not 1024"),
        (300, 1024, "Fargate accepts task cpu"),
        (None, 1024, "Fargate task definitions need"),
    ],
)
def test_fargate_problem(cpu, memory, problem):
    found = ecs_deploy.fargate_problem(cpu, memory)
    assert (found is None) if problem is None else found.startswith(problem)


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        (["subnet-1", "subnet-2"], []),
        (["subnet-1", ""], ["x[1]"]),
        ([{"secrets": [{"name": "S", "valueFrom": None}]}], ["x[0].secrets[0].valueFrom"]),
        ({"a": {"b": 1}}, []),
    ],
)
def test_null_paths(value, paths):
    assert ecs_deploy.null_paths(value, "x") == paths


# --- the module against the emulator ------------------------------------------


def run(args, check_mode=False, diff=False, capsys=None):
    """Run the module's main() as Ansible would; returns its JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        ecs_deploy.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def upstream(emulator):
    """Cheap stand-ins for the network and security outputs (moto's ECS checks subnets and groups)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for index, zone in ((10, "a"), (11, "b"))
    ]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    # ECS stores role and target group ARNs without looking them up: plain strings keep the test fast.
    roles = {name: f"arn:aws:iam::{ACCOUNT}:role/reelle-test-{name}" for name in ("x", "t")}
    target_group = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/backend/0123456789abcdef"
    return {"subnets": subnets, "group": group, "roles": roles, "target_group": target_group}


def deploy_args(upstream, **overrides):
    args = {
        "region": REGION,
        "cluster": {"name": "reelle-test", "container_insights": "enabled"},
        "log_group": {"name": "/ecs/reelle-test/backend", "retention_days": 30},
        "secrets": [{"name": "reelle-test/datadog-api-key"}],
        "task_definition": {
            "family": "reelle-test-backend",
            "cpu": 512,
            "memory": 1024,
            "execution_role_arn": upstream["roles"]["x"],
            "task_role_arn": upstream["roles"]["t"],
            "runtime_platform": {"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            "container_definitions": [
                {
                    "name": "backend",
                    "image": "repo/backend:1.0.0",
                    "memoryReservation": 768,
                    "portMappings": [{"containerPort": 7777}],
                    "environment": [{"name": "PORT", "value": 7777}, {"name": "DD_AGENT_HOST", "value": "127.0.0.1"}],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {"awslogs-group": "/ecs/reelle-test/backend", "awslogs-region": REGION},
                    },
                },
                {
                    "name": "datadog-agent",
                    "image": "public.ecr.aws/datadog/agent:7",
                    "essential": False,
                    "memoryReservation": 128,
                    "secrets": [{"name": "DD_API_KEY", "valueFrom": "reelle-test/datadog-api-key"}],
                },
                {
                    "name": "xray-daemon",
                    "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.13",
                    "essential": False,
                    "memoryReservation": 64,
                    "portMappings": [{"containerPort": 2000, "protocol": "udp"}],
                },
            ],
        },
        "service": {
            "name": "backend",
            "desired_count": 3,
            "subnets": upstream["subnets"],
            "security_groups": [upstream["group"]],
            "load_balancers": [
                {"target_group_arn": upstream["target_group"], "container_name": "backend", "container_port": 7777}
            ],
            "health_check_grace_period_seconds": 60,
            "deployment_circuit_breaker": {"enable": True, "rollback": True},
            "minimum_healthy_percent": 100,
            "maximum_percent": 200,
        },
        "autoscaling": {
            "min_capacity": 2,
            "max_capacity": 3,
            "target_tracking_policies": [
                {
                    "name": "reelle-test-requests-per-target",
                    "predefined_metric_type": "ALBRequestCountPerTarget",
                    "resource_label": "app/reelle/0123/targetgroup/backend/4567",
                    "target_value": 20000,
                    "scale_in_cooldown": 300,
                    "scale_out_cooldown": 60,
                }
            ],
        },
        "tags": {"project": "reelle", "environment": "test"},
        "wait_delay": 1,
    }
    for key, value in overrides.items():
        args[key] = value
    return args


def ecs_client():
    return boto3.client("ecs", region_name=REGION)


def revisions():
    return ecs_client().list_task_definitions(familyPrefix="reelle-test-backend")["taskDefinitionArns"]


def describe_service():
    return ecs_client().describe_services(cluster="reelle-test", services=["backend"])["services"][0]


def test_check_mode_on_an_empty_account_creates_nothing(emulator, upstream, capsys):
    result = run(deploy_args(upstream), check_mode=True, capsys=capsys)
    assert result["changed"] is True
    resources = {row["resource"] for row in result["changes"] if row["action"] == "create"}
    assert {
        "ecs cluster reelle-test",
        "log group /ecs/reelle-test/backend",
        "secret reelle-test/datadog-api-key",
        "ecs task definition reelle-test-backend",
        "ecs service backend",
        "scalable target service/reelle-test/backend",
        "scaling policy reelle-test-requests-per-target",
    } <= resources
    assert result["cluster_arn"] is None and result["service_arn"] is None and result["task_definition_arn"] is None
    assert ecs_client().list_clusters()["clusterArns"] == []
    assert boto3.client("secretsmanager", region_name=REGION).list_secrets()["SecretList"] == []


def test_check_mode_accepts_null_upstream_ids(emulator, upstream, capsys):
    args = deploy_args(upstream)
    args["service"].update(subnets=[None], security_groups=[None])
    args["service"]["load_balancers"][0]["target_group_arn"] = None
    args["task_definition"]["execution_role_arn"] = None
    result = run(args, check_mode=True, capsys=capsys)
    assert result["changed"] is True and not result.get("failed")


def test_real_run_refuses_null_upstream_ids(emulator, upstream, capsys):
    args = deploy_args(upstream)
    args["service"]["load_balancers"][0]["target_group_arn"] = None
    result = run(args, capsys=capsys)
    assert result["failed"] is True
    assert "service.load_balancers[0]" in result["msg"]


def test_create_then_noop(emulator, upstream, capsys):
    created = run(deploy_args(upstream), capsys=capsys)
    assert created["changed"] is True
    assert created["task_definition_registered"] is True
    assert created["task_definition_arn"].endswith("task-definition/reelle-test-backend:1")
    assert created["service_arn"].endswith("service/reelle-test/backend")
    assert created["log_group_arn"].endswith("log-group:/ecs/reelle-test/backend")
    assert created["scalable_target"] == {
        "resource_id": "service/reelle-test/backend",
        "min_capacity": 2,
        "max_capacity": 3,
    }
    # moto runs no tasks: the rollout stays IN_PROGRESS and the wait is reported as skipped.
    assert created["rollout"]["state"] == "IN_PROGRESS" and created["rollout"]["waited"] is False
    assert "ecs:wait_rollout_completed" in created["skipped_calls"]

    cluster = ecs_client().describe_clusters(clusters=["reelle-test"], include=["SETTINGS"])["clusters"][0]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    definition = ecs_client().describe_task_definition(taskDefinition="reelle-test-backend")["taskDefinition"]
    assert (definition["cpu"], definition["memory"]) == ("512", "1024")
    assert sorted(item["name"] for item in definition["containerDefinitions"]) == [
        "backend",
        "datadog-agent",
        "xray-daemon",
    ]
    agent = next(item for item in definition["containerDefinitions"] if item["name"] == "datadog-agent")
    assert agent["secrets"][0]["valueFrom"] == created["secret_arns"]["reelle-test/datadog-api-key"]
    service = describe_service()
    assert service["desiredCount"] == 3 and service["launchType"] == "FARGATE"
    assert service["loadBalancers"][0]["containerPort"] == 7777

    again = run(deploy_args(upstream), capsys=capsys)
    assert again["changed"] is False, again["changes"]
    assert again["task_definition_arn"] == created["task_definition_arn"]
    # moto's CreateService drops these; they are reported, not compared forever.
    assert {"deploymentConfiguration", "healthCheckGracePeriodSeconds"} <= set(again["emulator_unverified"])
    assert "application-autoscaling:list_tags_for_resource" in again["skipped_calls"]
    assert len(revisions()) == 1


def test_reordered_and_defaulted_definition_registers_nothing(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    args = deploy_args(upstream)
    backend = args["task_definition"]["container_definitions"][0]
    backend["environment"].reverse()
    backend.update(cpu=0, essential=True, mountPoints=[])
    backend["portMappings"] = [{"containerPort": 7777, "hostPort": 7777, "protocol": "tcp"}]
    args["task_definition"]["container_definitions"].reverse()
    result = run(args, capsys=capsys)
    assert result["changed"] is False, result["changes"]
    assert len(revisions()) == 1


@pytest.mark.parametrize(
    ("change", "attribute"),
    [
        (lambda args: args["task_definition"]["container_definitions"][0].update(image="repo/backend:1.0.1"), "image"),
        (
            lambda args: args["task_definition"]["container_definitions"][2].pop("memoryReservation"),
            "memoryReservation",
        ),
        (lambda args: args["task_definition"].update(cpu=256), "cpu"),
    ],
)
def test_changed_definition_registers_a_revision_and_updates_the_service(emulator, upstream, capsys, change, attribute):
    run(deploy_args(upstream), capsys=capsys)
    args = deploy_args(upstream)
    change(args)
    result = run(args, diff=True, capsys=capsys)
    assert result["changed"] is True
    assert result["task_definition_arn"].endswith(":2")
    rows = {row["resource"]: row for row in result["changes"]}
    assert any(attribute in path for path in rows["ecs task definition reelle-test-backend"]["attributes"])
    assert rows["ecs service backend"]["attributes"] == ["taskDefinition"]
    assert "task_definition" in result["diff"]["after"]
    assert describe_service()["taskDefinition"] == result["task_definition_arn"]
    assert run(args, capsys=capsys)["changed"] is False


def test_desired_count_is_left_to_autoscaling_unless_forced(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    args = deploy_args(upstream)
    args["service"]["desired_count"] = 2
    assert run(args, capsys=capsys)["changed"] is False
    assert describe_service()["desiredCount"] == 3
    args["service"]["force_desired_count"] = True
    forced = run(args, capsys=capsys)
    assert forced["changed"] is True and describe_service()["desiredCount"] == 2


def test_service_settings_and_autoscaling_update(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    args = deploy_args(upstream)
    args["service"]["maximum_percent"] = 150
    args["autoscaling"]["max_capacity"] = 4
    args["autoscaling"]["target_tracking_policies"][0]["target_value"] = 15000
    result = run(args, capsys=capsys)
    rows = {row["resource"]: row["attributes"] for row in result["changes"]}
    # moto's CreateService did not store the deployment configuration: not comparable there
    # (test_service_update_on_aws covers the comparison against AWS's answer).
    assert "ecs service backend" not in rows
    assert "deploymentConfiguration" in result["emulator_unverified"]
    assert rows["scalable target service/reelle-test/backend"] == ["MaxCapacity"]
    assert rows["scaling policy reelle-test-requests-per-target"] == ["TargetValue"]
    aas = boto3.client("application-autoscaling", region_name=REGION)
    target = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=["service/reelle-test/backend"])
    assert target["ScalableTargets"][0]["MaxCapacity"] == 4
    policy = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/reelle-test/backend")
    assert policy["ScalingPolicies"][0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 15000
    assert run(args, capsys=capsys)["changed"] is False


def test_cluster_log_group_and_tags_update(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    args = deploy_args(upstream, tags={"project": "reelle", "environment": "test", "owner": "platform"})
    args["cluster"]["container_insights"] = "disabled"
    args["log_group"]["retention_days"] = 14
    result = run(args, capsys=capsys)
    assert not result.get("failed"), result.get("msg")
    rows = [(row["resource"], row["attributes"]) for row in result["changes"]]
    assert ("ecs cluster reelle-test", ["containerInsights"]) in rows
    assert ("log group /ecs/reelle-test/backend", ["retention_in_days"]) in rows
    assert ("ecs service backend", ["tags.owner"]) in rows
    assert ("secret reelle-test/datadog-api-key", ["tags.owner"]) in rows
    assert run(args, capsys=capsys)["changed"] is False


def test_secret_placeholder_is_kept_and_given_values_never_show(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    manager = boto3.client("secretsmanager", region_name=REGION)
    placeholder = manager.get_secret_value(SecretId="reelle-test/datadog-api-key")["SecretString"]
    assert run(deploy_args(upstream), capsys=capsys)["changed"] is False
    assert manager.get_secret_value(SecretId="reelle-test/datadog-api-key")["SecretString"] == placeholder

    args = deploy_args(upstream, secrets=[{"name": "reelle-test/datadog-api-key", "value": SECRET_VALUE}])
    with patch_module_args(dict(args, _ansible_diff=True)), pytest.raises(SystemExit):
        ecs_deploy.main()
    output = capsys.readouterr().out
    result = json.loads(output)
    assert ("secret reelle-test/datadog-api-key", ["value"]) in [
        (r["resource"], r["attributes"]) for r in result["changes"]
    ]
    assert SECRET_VALUE not in output and placeholder not in output
    assert manager.get_secret_value(SecretId="reelle-test/datadog-api-key")["SecretString"] == SECRET_VALUE
    assert run(args, capsys=capsys)["changed"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda args: args["task_definition"].update(cpu=1024, memory=1024), "Fargate cpu 1024 accepts memory"),
        (lambda args: args["autoscaling"].update(min_capacity=4), "exceeds max_capacity"),
        (
            lambda args: args["task_definition"]["container_definitions"][0].update(memoryReservation=1000),
            "The containers reserve 1192 MiB",
        ),
        (lambda args: args["service"].pop("desired_count"), "service.desired_count is required"),
        (lambda args: args.pop("service"), "state is present but all of the following are missing: service"),
    ],
)
def test_bad_input_fails_before_anything_changes(emulator, upstream, capsys, change, message):
    args = deploy_args(upstream)
    change(args)
    result = run(args, capsys=capsys)
    assert result["failed"] is True and message in result["msg"]
    assert ecs_client().list_clusters()["clusterArns"] == []


def test_launch_type_change_fails_instead_of_replacing(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    args = deploy_args(upstream)
    args["service"]["launch_type"] = "EC2"
    args["task_definition"]["requires_compatibilities"] = ["EC2", "FARGATE"]
    result = run(args, capsys=capsys)
    assert result["failed"] is True and "cannot change the launch type" in result["msg"]


def test_absent_removes_service_autoscaling_and_cluster(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    absent = {"region": REGION, "state": "absent", "cluster": {"name": "reelle-test"}, "service": {"name": "backend"}}
    planned = run(absent, check_mode=True, capsys=capsys)
    assert [row["action"] for row in planned["changes"]] == ["delete"] * 4
    removed = run(absent, capsys=capsys)
    assert removed["changed"] is True
    assert ecs_client().describe_clusters(clusters=["reelle-test"])["clusters"][0]["status"] == "INACTIVE"
    aas = boto3.client("application-autoscaling", region_name=REGION)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert run(absent, capsys=capsys)["changed"] is False


def test_absent_with_a_retained_cluster_leaves_it_for_its_ec2_capacity(emulator, upstream, capsys):
    # ECS refuses DeleteCluster while container instances are registered: the role removes
    # the service, then the EC2 capacity, then the cluster (a last call without retain).
    run(deploy_args(upstream), capsys=capsys)
    cluster = {"name": "reelle-test", "retain": True}
    absent = {"region": REGION, "state": "absent", "cluster": cluster, "service": {"name": "backend"}}
    removed = run(absent, capsys=capsys)
    assert [row["action"] for row in removed["changes"]] == ["delete"] * 3
    assert all("cluster" not in row["resource"] for row in removed["changes"])
    assert ecs_client().describe_clusters(clusters=["reelle-test"])["clusters"][0]["status"] == "ACTIVE"
    last = run({"region": REGION, "state": "absent", "cluster": {"name": "reelle-test"}}, capsys=capsys)
    assert [row["resource"] for row in last["changes"]] == ["ecs cluster reelle-test"]
    assert ecs_client().describe_clusters(clusters=["reelle-test"])["clusters"][0]["status"] == "INACTIVE"


# --- Stubber: what the emulator cannot show ---------------------------------------


class Failed(Exception):
    pass


class FakeModule:
    """The little of AnsibleAWSModule the parts use, with stubbed clients."""

    def __init__(self, params, clients, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = False
        self._stubbed = clients
        self.no_log_values = set()

    def client(self, service, retry_decorator=None, **_):
        return RetryingBotoClientWrapper(self._stubbed[service], retry_decorator or RETRY)

    def fail_json(self, **kwargs):
        raise Failed(kwargs)


@pytest.fixture
def aws(monkeypatch):
    """Clients aimed at AWS (no emulator endpoint), each with a Stubber."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    clients, stubs = {}, {}
    for service in ("ecs", "application-autoscaling", "logs", "secretsmanager"):
        clients[service] = boto3.client(service, region_name=REGION)
        stubs[service] = Stubber(clients[service])
        stubs[service].activate()
    yield clients, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/reelle-test"


def deployment(deployment_id, state, status="PRIMARY", revision=2, reason=None):
    return {
        "id": deployment_id,
        "status": status,
        "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:{revision}",
        "rolloutState": state,
        "rolloutStateReason": reason or f"ECS deployment {deployment_id} {state.lower()}.",
        "createdAt": datetime(2026, 1, 2, tzinfo=UTC),
    }


def service_with(*deployments, events=()):
    return {
        "serviceName": "backend",
        "clusterArn": CLUSTER_ARN,
        "deployments": list(deployments),
        "events": [{"id": str(index), "message": message} for index, message in enumerate(events)],
    }


def waiter(clients):
    params = {"wait_timeout": 60, "wait_delay": 15, "tags": None, "purge_tags": True}
    part = ecs_deploy.RolloutWaiter(FakeModule(params, clients), ecs_deploy.ChangeSet(FakeModule(params, clients)))
    part.sleep = lambda seconds: None
    return part


def expect_describe(stubs, service):
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [service], "failures": []},
        {"cluster": CLUSTER_ARN, "services": ["backend"]},
    )


def test_waiter_returns_when_the_rollout_completes(aws):
    clients, stubs = aws
    expect_describe(stubs, service_with(deployment("ecs-svc/2", "IN_PROGRESS")))
    expect_describe(stubs, service_with(deployment("ecs-svc/2", "COMPLETED")))
    rollout = waiter(clients).wait(service_with(deployment("ecs-svc/2", "IN_PROGRESS")))
    assert rollout == {
        "deployment_id": "ecs-svc/2",
        "state": "COMPLETED",
        "reason": "ECS deployment ecs-svc/2 completed.",
        "waited": True,
    }


def test_waiter_fails_with_the_reason_when_the_circuit_breaker_rolls_back(aws):
    clients, stubs = aws
    reason = "ECS deployment circuit breaker: tasks failed to start."
    rolled_back = service_with(
        deployment("ecs-svc/1", "IN_PROGRESS", revision=1),
        deployment("ecs-svc/2", "FAILED", status="ACTIVE", reason=reason),
        events=["(service backend) rolling back to deployment ecs-svc/1."],
    )
    expect_describe(stubs, rolled_back)
    with pytest.raises(Failed) as failure:
        waiter(clients).wait(service_with(deployment("ecs-svc/2", "IN_PROGRESS")))
    details = failure.value.args[0]
    assert reason in details["msg"]
    assert "task-definition/reelle-test-backend:1" in details["msg"]
    assert details["rollout"]["state"] == "FAILED"
    assert details["events"] == ["(service backend) rolling back to deployment ecs-svc/1."]


def test_waiter_fails_when_its_deployment_was_replaced(aws):
    clients, stubs = aws
    expect_describe(stubs, service_with(deployment("ecs-svc/1", "COMPLETED", revision=1)))
    with pytest.raises(Failed) as failure:
        waiter(clients).wait(service_with(deployment("ecs-svc/2", "IN_PROGRESS")))
    assert "was replaced" in failure.value.args[0]["msg"]


def test_waiter_times_out_with_a_clear_message(aws):
    clients, _ = aws
    part = waiter(clients)
    ticks = iter([0, 61])
    part.clock = lambda: next(ticks)
    with pytest.raises(Failed) as failure:
        part.wait(service_with(deployment("ecs-svc/2", "IN_PROGRESS")))
    assert "did not complete within 60 s" in failure.value.args[0]["msg"]


def test_waiter_skips_on_the_emulator(aws, monkeypatch):
    clients, _ = aws
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("REELLE_AWS_TARGET", "emulator")
    part = waiter(clients)
    rollout = part.wait(service_with(deployment("ecs-svc/2", "IN_PROGRESS")))
    assert rollout["state"] == "IN_PROGRESS" and rollout["waited"] is False
    assert part.changes.skipped_calls == ["ecs:wait_rollout_completed"]


def test_scalable_target_tags_are_reconciled_on_aws(aws):
    clients, stubs = aws
    target_arn = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0123"
    scope = {"ServiceNamespace": "ecs", "ResourceId": "service/reelle-test/backend"}
    stubs["application-autoscaling"].add_response(
        "describe_scalable_targets",
        {
            "ScalableTargets": [
                dict(
                    scope,
                    ScalableDimension="ecs:service:DesiredCount",
                    MinCapacity=2,
                    MaxCapacity=3,
                    RoleARN="arn:aws:iam::123456789012:role/aws-service-role/x",
                    CreationTime=datetime(2026, 1, 2, tzinfo=UTC),
                    ScalableTargetARN=target_arn,
                )
            ]
        },
        {
            "ServiceNamespace": "ecs",
            "ResourceIds": ["service/reelle-test/backend"],
            "ScalableDimension": "ecs:service:DesiredCount",
        },
    )
    stubs["application-autoscaling"].add_response(
        "list_tags_for_resource", {"Tags": {"project": "reelle", "stale": "yes"}}, {"ResourceARN": target_arn}
    )
    stubs["application-autoscaling"].add_response(
        "tag_resource", {}, {"ResourceARN": target_arn, "Tags": {"environment": "staging"}}
    )
    stubs["application-autoscaling"].add_response(
        "untag_resource", {}, {"ResourceARN": target_arn, "TagKeys": ["stale"]}
    )
    params = {
        "cluster": {"name": "reelle-test"},
        "service": {"name": "backend"},
        "autoscaling": {"min_capacity": 2, "max_capacity": 3, "target_tracking_policies": []},
        "tags": {"project": "reelle", "environment": "staging"},
        "purge_tags": True,
    }
    module = FakeModule(params, clients)
    part = ecs_deploy.Autoscaling(module, ecs_deploy.ChangeSet(module))
    target, policies = part.ensure_present()
    assert target["max_capacity"] == 3 and policies == {}
    assert [row["attributes"] for row in part.changes.changes] == [["tags.environment"], ["tags.stale"]]
    assert part.changes.skipped_calls == []


def test_register_task_definition_request_shape(aws):
    """The registration the module sends validates against the ECS service model."""
    clients, stubs = aws
    params = {
        "task_definition": copy.deepcopy(
            deploy_args({"roles": {"x": "arn:x", "t": "arn:t"}, "subnets": [], "group": "", "target_group": ""})[
                "task_definition"
            ]
        ),
        "tags": {"project": "reelle"},
        "purge_tags": True,
    }
    stubs["ecs"].add_client_error("describe_task_definition", "ClientException", "Unable to describe task definition.")
    stubs["ecs"].add_response(
        "register_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:1"
            }
        },
        {
            "family": "reelle-test-backend",
            "taskRoleArn": "arn:t",
            "executionRoleArn": "arn:x",
            "networkMode": "awsvpc",
            "containerDefinitions": ANY,
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "512",
            "memory": "1024",
            "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
            "tags": [{"key": "project", "value": "reelle"}],
        },
    )
    params["task_definition"].update(network_mode="awsvpc", requires_compatibilities=["FARGATE"])
    module = FakeModule(params, clients)
    part = ecs_deploy.TaskDefinition(module, ecs_deploy.ChangeSet(module))
    arn, registered = part.ensure_present({"reelle-test/datadog-api-key": "arn:aws:secretsmanager:secret:dd"})
    assert registered and arn.endswith(":1")


def test_service_update_on_aws(aws):
    """On AWS every attribute is compared; only the ones that differ are sent."""
    clients, stubs = aws
    upstream = {"roles": {"x": "arn:x", "t": "arn:t"}, "subnets": ["subnet-a", "subnet-b"], "group": "sg-1"}
    upstream["target_group"] = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/backend/0123"
    params = deploy_args(upstream)
    params["service"].update(
        force_desired_count=False, launch_type="FARGATE", assign_public_ip=False, platform_version=None
    )
    params["service"]["maximum_percent"] = 150
    revision = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:1"
    actual = {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/reelle-test/backend",
        "serviceName": "backend",
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desiredCount": 2,
        "launchType": "FARGATE",
        "taskDefinition": revision,
        "loadBalancers": [
            {"targetGroupArn": upstream["target_group"], "containerName": "backend", "containerPort": 7777}
        ],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-b", "subnet-a"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "DISABLED",
            }
        },
        "healthCheckGracePeriodSeconds": 60,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": [], "enable": False, "rollback": False},
        },
        "tags": [{"key": "project", "value": "reelle"}, {"key": "environment", "value": "test"}],
        "deployments": [deployment("ecs-svc/1", "COMPLETED", revision=1)],
    }
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [actual], "failures": []},
        {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
    )
    stubs["ecs"].add_response(
        "update_service",
        {"service": dict(actual, deployments=[deployment("ecs-svc/2", "IN_PROGRESS", revision=1)])},
        {
            "cluster": "reelle-test",
            "service": "backend",
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "minimumHealthyPercent": 100,
                "maximumPercent": 150,
            },
        },
    )
    module = FakeModule(params, clients)
    part = ecs_deploy.Service(module, ecs_deploy.ChangeSet(module))
    service, changed, unverified = part.ensure_present(revision, registered=False)
    assert changed and unverified == []
    assert part.changes.changes == [
        {"action": "update", "resource": "ecs service backend", "attributes": ["deploymentConfiguration"]}
    ]
    assert service["deployments"][0]["id"] == "ecs-svc/2"


def test_create_service_request_shape(aws):
    """What moto drops on CreateService (circuit breaker, grace period) is sent to AWS."""
    clients, stubs = aws
    upstream = {"roles": {"x": "arn:x", "t": "arn:t"}, "subnets": ["subnet-a", "subnet-b"], "group": "sg-1"}
    upstream["target_group"] = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/backend/0123"
    params = deploy_args(upstream)
    params["service"].update(launch_type="FARGATE", assign_public_ip=False)
    revision = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:1"
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [], "failures": [{"arn": "backend", "reason": "MISSING"}]},
        {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
    )
    stubs["ecs"].add_response(
        "create_service",
        {"service": service_with(deployment("ecs-svc/1", "IN_PROGRESS", revision=1))},
        {
            "cluster": "reelle-test",
            "serviceName": "backend",
            "taskDefinition": revision,
            "desiredCount": 3,
            "launchType": "FARGATE",
            "schedulingStrategy": "REPLICA",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-a", "subnet-b"],
                    "securityGroups": ["sg-1"],
                    "assignPublicIp": "DISABLED",
                }
            },
            "loadBalancers": [
                {"targetGroupArn": upstream["target_group"], "containerName": "backend", "containerPort": 7777}
            ],
            "healthCheckGracePeriodSeconds": 60,
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "minimumHealthyPercent": 100,
                "maximumPercent": 200,
            },
            "tags": [{"key": "project", "value": "reelle"}, {"key": "environment", "value": "test"}],
            "clientToken": ANY,
        },
    )
    module = FakeModule(params, clients)
    part = ecs_deploy.Service(module, ecs_deploy.ChangeSet(module))
    service, changed, _ = part.ensure_present(revision, registered=True)
    assert changed and service["deployments"][0]["id"] == "ecs-svc/1"


# --- desired-count drift and capacity provider strategies ---------------------------


@pytest.mark.parametrize(
    ("out_of_band", "expected_rows", "after"),
    [
        # Above max_capacity 3: drift, clamped to 3 in one update.
        (9, [("ecs service backend", ["desiredCount"])], 3),
        # At min_capacity 2: inside the bounds, autoscaling owns it.
        (2, [], 2),
        # Below min_capacity 2: drift, clamped to 2.
        (0, [("ecs service backend", ["desiredCount"])], 2),
    ],
)
def test_desired_count_outside_the_autoscaling_bounds_is_drift(
    emulator, upstream, capsys, out_of_band, expected_rows, after
):
    run(deploy_args(upstream), capsys=capsys)
    ecs_client().update_service(cluster="reelle-test", service="backend", desiredCount=out_of_band)
    planned = run(deploy_args(upstream), check_mode=True, diff=True, capsys=capsys)
    assert [(row["resource"], row["attributes"]) for row in planned["changes"]] == expected_rows
    assert describe_service()["desiredCount"] == out_of_band
    if expected_rows:
        assert planned["diff"]["before"]["service"] == {"desiredCount": out_of_band}
        assert planned["diff"]["after"]["service"] == {"desiredCount": after}
    repaired = run(deploy_args(upstream), capsys=capsys)
    assert [(row["resource"], row["attributes"]) for row in repaired["changes"]] == expected_rows
    assert describe_service()["desiredCount"] == after
    assert repaired["desired_count"] == after
    assert run(deploy_args(upstream), capsys=capsys)["changed"] is False


def test_narrowed_bounds_clamp_the_running_count(emulator, upstream, capsys):
    run(deploy_args(upstream), capsys=capsys)
    args = deploy_args(upstream)
    args["autoscaling"].update(min_capacity=1, max_capacity=2)
    args["service"]["desired_count"] = 2
    result = run(args, capsys=capsys)
    rows = {row["resource"]: row["attributes"] for row in result["changes"]}
    assert rows["ecs service backend"] == ["desiredCount"]
    assert rows["scalable target service/reelle-test/backend"] == ["MaxCapacity", "MinCapacity"]
    assert describe_service()["desiredCount"] == 2
    assert run(args, capsys=capsys)["changed"] is False


def ec2_strategy_args(upstream):
    args = deploy_args(upstream)
    args["task_definition"].update(cpu=512, memory=2048, requires_compatibilities=["EC2", "FARGATE"])
    args["service"]["capacity_provider_strategy"] = [{"capacity_provider": "reelle-test-ec2", "weight": 1, "base": 0}]
    return args


def test_service_on_a_capacity_provider_strategy(emulator, upstream, capsys):
    created = run(ec2_strategy_args(upstream), diff=True, capsys=capsys)
    assert not created.get("failed"), created.get("msg")
    assert created["diff"]["after"]["service"]["capacityProviderStrategy"] == [
        {"capacityProvider": "reelle-test-ec2", "weight": 1, "base": 0}
    ]
    assert "launchType" not in created["diff"]["after"]["service"]
    definition = ecs_client().describe_task_definition(taskDefinition="reelle-test-backend")["taskDefinition"]
    assert sorted(definition["requiresCompatibilities"]) == ["EC2", "FARGATE"] and definition["memory"] == "2048"
    again = run(ec2_strategy_args(upstream), capsys=capsys)
    assert again["changed"] is False, again["changes"]
    # moto's services keep no capacity provider strategy: reported, not compared forever.
    assert "capacityProviderStrategy" in again["emulator_unverified"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda args: args["service"]["capacity_provider_strategy"].append(
                {"capacity_provider": "FARGATE", "weight": 1, "base": 0}
            ),
            "service.capacity_provider_strategy: a capacity provider strategy cannot mix Fargate (FARGATE) and "
            "Auto Scaling group providers (reelle-test-ec2)",
        ),
        (
            lambda args: args["service"].update(launch_type="FARGATE"),
            "parameters are mutually exclusive: launch_type|capacity_provider_strategy",
        ),
        (
            lambda args: args["task_definition"].update(requires_compatibilities=["FARGATE"]),
            "places tasks on EC2 capacity, but task_definition.requires_compatibilities is ['FARGATE']",
        ),
        (
            lambda args: args["service"].update(desired_count=9),
            "service.desired_count 9 is outside the autoscaling bounds [2, 3]",
        ),
    ],
)
def test_bad_placement_fails_before_anything_changes(emulator, upstream, capsys, change, message):
    args = ec2_strategy_args(upstream)
    change(args)
    result = run(args, capsys=capsys)
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert ecs_client().list_clusters()["clusterArns"] == []


def test_capacity_provider_strategy_request_shapes_on_aws(aws):
    """Create sends the strategy without a launch type; a changed strategy forces a new deployment."""
    clients, stubs = aws
    upstream = {"roles": {"x": "arn:x", "t": "arn:t"}, "subnets": ["subnet-a"], "group": "sg-1"}
    upstream["target_group"] = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/backend/0123"
    params = ec2_strategy_args(upstream)
    params["service"].update(load_balancers=None, health_check_grace_period_seconds=None, assign_public_ip=False)
    params["service"].update(deployment_circuit_breaker=None, minimum_healthy_percent=None, maximum_percent=None)
    params["tags"] = None
    revision = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:1"
    network = {
        "awsvpcConfiguration": {"subnets": ["subnet-a"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}
    }
    strategy = [{"capacityProvider": "reelle-test-ec2", "weight": 1, "base": 0}]
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [], "failures": []},
        {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
    )
    stubs["ecs"].add_response(
        "create_service",
        {"service": service_with(deployment("ecs-svc/1", "IN_PROGRESS", revision=1))},
        {
            "cluster": "reelle-test",
            "serviceName": "backend",
            "taskDefinition": revision,
            "desiredCount": 3,
            "capacityProviderStrategy": strategy,
            "schedulingStrategy": "REPLICA",
            "networkConfiguration": network,
            "clientToken": ANY,
        },
    )
    module = FakeModule(params, clients)
    ecs_deploy.Service(module, ecs_deploy.ChangeSet(module)).ensure_present(revision, registered=True)

    actual = {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/reelle-test/backend",
        "serviceName": "backend",
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desiredCount": 3,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
        "taskDefinition": revision,
        "networkConfiguration": network,
        "deployments": [deployment("ecs-svc/1", "COMPLETED", revision=1)],
    }
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [actual], "failures": []},
        {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
    )
    stubs["ecs"].add_response(
        "update_service",
        {"service": dict(actual, capacityProviderStrategy=strategy)},
        {
            "cluster": "reelle-test",
            "service": "backend",
            "capacityProviderStrategy": strategy,
            "forceNewDeployment": True,
        },
    )
    module = FakeModule(params, clients)
    part = ecs_deploy.Service(module, ecs_deploy.ChangeSet(module))
    _, changed, unverified = part.ensure_present(revision, registered=False)
    assert changed and unverified == []
    assert part.changes.changes == [
        {
            "action": "update",
            "resource": "ecs service backend",
            "attributes": ["capacityProviderStrategy", "forceNewDeployment"],
        }
    ]


# --- comparing with what ECS returns on AWS -------------------------------------


def _as_aws_returns(params, secret_arn):
    """What DescribeTaskDefinition answers on AWS for the module's registration: ECS's defaults filled in."""
    spec = params["task_definition"]
    containers = []
    for given in spec["container_definitions"]:
        container = copy.deepcopy(given)
        container.setdefault("cpu", 0)
        container.setdefault("essential", True)
        for mapping in container.get("portMappings", []):
            mapping.setdefault("protocol", "tcp")
            mapping.setdefault("hostPort", mapping["containerPort"])
        container["environment"] = list(
            reversed([{"name": item["name"], "value": str(item["value"])} for item in container.get("environment", [])])
        )
        for item in container.get("secrets", []):
            item["valueFrom"] = secret_arn
        for item in container.get("mountPoints", []):
            item.setdefault("readOnly", False)
        if "healthCheck" in container:
            container["healthCheck"] = dict({"interval": 30, "timeout": 5, "retries": 3}, **container["healthCheck"])
        if "logConfiguration" in container:
            container["logConfiguration"]["secretOptions"] = []
        container.setdefault("mountPoints", [])
        container.update(volumesFrom=[], systemControls=[], versionConsistency="enabled")
        containers.append(container)
    volumes = copy.deepcopy(spec.get("volumes") or [])
    for volume in volumes:
        efs = volume.get("efsVolumeConfiguration")
        if efs:
            efs.setdefault("rootDirectory", "/")
            efs.setdefault("transitEncryption", "DISABLED")
    return {
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:4",
        "containerDefinitions": list(reversed(containers)),
        "family": spec["family"],
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/reelle-test-task",
        "executionRoleArn": spec["execution_role_arn"],
        "networkMode": "awsvpc",
        "revision": 4,
        "volumes": volumes,
        "status": "ACTIVE",
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
        "placementConstraints": [],
        "compatibilities": ["EC2", "FARGATE"],
        "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "registeredAt": datetime(2026, 1, 2, tzinfo=UTC),
        "registeredBy": f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci",
    }


def test_a_definition_as_aws_returns_it_registers_nothing(aws):
    """ECS fills in defaults (essential, protocol, hostPort, cpu 0, empty lists, health-check timings, EFS root,
    readOnly false, versionConsistency) and reorders lists; none of that is a change."""
    clients, stubs = aws
    upstream = {"roles": {"x": f"arn:aws:iam::{ACCOUNT}:role/reelle-test-exec", "t": "reelle-test-task"}}
    params = {
        "task_definition": copy.deepcopy(
            deploy_args(dict(upstream, subnets=[], group="", target_group=""))["task_definition"]
        ),
        "tags": None,
        "purge_tags": True,
    }
    spec = params["task_definition"]
    spec.update(network_mode="awsvpc", requires_compatibilities=["FARGATE"])
    spec["volumes"] = [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-0123"}}]
    backend = spec["container_definitions"][0]
    backend["healthCheck"] = {"command": ["CMD-SHELL", "curl -f http://localhost:7777/health || exit 1"]}
    backend["mountPoints"] = [{"sourceVolume": "data", "containerPath": "/data"}]
    secret_arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:reelle-test/datadog-api-key-AbCdEf"
    stubs["ecs"].add_response(
        "describe_task_definition",
        {"taskDefinition": _as_aws_returns(params, secret_arn), "tags": []},
        {"taskDefinition": "reelle-test-backend", "include": ["TAGS"]},
    )
    module = FakeModule(params, clients)
    part = ecs_deploy.TaskDefinition(module, ecs_deploy.ChangeSet(module))
    arn, registered = part.ensure_present({"reelle-test/datadog-api-key": secret_arn})
    assert part.changes.changes == []
    assert registered is False and arn.endswith(":4")


@pytest.mark.parametrize(
    ("desired", "returned", "paths"),
    [
        # A health check timing the user sets that is not AWS's default is a change.
        (
            {"name": "a", "healthCheck": {"command": ["CMD", "true"], "interval": 10}},
            {"name": "a", "healthCheck": {"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3}},
            ["healthCheck.interval"],
        ),
        # readOnly true is not the default.
        (
            {"name": "a", "mountPoints": [{"sourceVolume": "d", "containerPath": "/d", "readOnly": True}]},
            {"name": "a", "mountPoints": [{"sourceVolume": "d", "containerPath": "/d", "readOnly": False}]},
            ["mountPoints[0].readOnly"],
        ),
        # Under bridge, hostPort 0 (dynamic) is what ECS returns for an unset one; a fixed one differs.
        (
            {"name": "a", "portMappings": [{"containerPort": 80, "hostPort": 8080}]},
            {"name": "a", "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]},
            ["portMappings[0].hostPort"],
        ),
    ],
)
def test_defaults_only_hide_what_aws_fills_in(desired, returned, paths):
    left = ecs_deploy.normalise_container(desired, "bridge")
    right = ecs_deploy.normalise_container(returned, "bridge")
    assert ecs_deploy.diff_paths(left, right) == paths


def test_bridge_dynamic_host_port_is_not_a_change():
    desired = {"name": "a", "portMappings": [{"containerPort": 80}]}
    returned = {"name": "a", "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]}
    assert ecs_deploy.normalise_container(desired, "bridge") == ecs_deploy.normalise_container(returned, "bridge")


def test_create_service_sends_a_deterministic_client_token(aws):
    """A CreateService retried after a lost answer (or re-run after an interruption) makes one service."""
    clients, stubs = aws
    upstream = {"roles": {"x": "arn:x", "t": "arn:t"}, "subnets": ["subnet-a"], "group": "sg-1", "target_group": "tg"}
    params = deploy_args(upstream)
    params["service"].update(launch_type="FARGATE", assign_public_ip=False)
    revision = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:1"
    tokens = []

    class Token:
        __hash__ = None

        def __eq__(self, other):
            tokens.append(other)
            return isinstance(other, str) and 1 <= len(other) <= 36

    for _ in range(2):
        stubs["ecs"].add_response(
            "describe_services",
            {"services": [], "failures": [{"arn": "backend", "reason": "MISSING"}]},
            {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
        )
        stubs["ecs"].add_response(
            "create_service",
            {"service": service_with(deployment("ecs-svc/1", "IN_PROGRESS", revision=1))},
            dict(
                {
                    "cluster": "reelle-test",
                    "serviceName": "backend",
                    "taskDefinition": revision,
                    "desiredCount": 3,
                    "launchType": "FARGATE",
                    "schedulingStrategy": "REPLICA",
                    "networkConfiguration": ANY,
                    "loadBalancers": ANY,
                    "healthCheckGracePeriodSeconds": 60,
                    "deploymentConfiguration": ANY,
                    "tags": ANY,
                },
                clientToken=Token(),
            ),
        )
        module = FakeModule(params, clients)
        ecs_deploy.Service(module, ecs_deploy.ChangeSet(module)).ensure_present(revision, registered=True)
    assert len(tokens) == 2 and tokens[0] == tokens[1]


def test_an_endpoint_override_is_still_aws_and_compares_every_key(aws, monkeypatch):
    """AWS_ENDPOINT_URL alone (a proxy) is AWS: keys the service lacks are compared and sent, not dropped."""
    clients, stubs = aws
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    upstream = {"roles": {"x": "arn:x", "t": "arn:t"}, "subnets": ["subnet-a"], "group": "sg-1", "target_group": "tg"}
    params = deploy_args(upstream)
    params["service"].update(force_desired_count=False, launch_type="FARGATE", enable_execute_command=True)
    revision = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/reelle-test-backend:1"
    actual = {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/reelle-test/backend",
        "serviceName": "backend",
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desiredCount": 3,
        "launchType": "FARGATE",
        "taskDefinition": revision,
        "loadBalancers": [{"targetGroupArn": "tg", "containerName": "backend", "containerPort": 7777}],
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": ["subnet-a"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}
        },
        "healthCheckGracePeriodSeconds": 60,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "tags": [{"key": "project", "value": "reelle"}, {"key": "environment", "value": "test"}],
        "deployments": [deployment("ecs-svc/1", "COMPLETED", revision=1)],
    }
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [actual], "failures": []},
        {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
    )
    stubs["ecs"].add_response(
        "update_service",
        {"service": actual},
        {"cluster": "reelle-test", "service": "backend", "enableExecuteCommand": True},
    )
    module = FakeModule(params, clients)
    part = ecs_deploy.Service(module, ecs_deploy.ChangeSet(module))
    _, changed, unverified = part.ensure_present(revision, registered=False)
    assert changed and unverified == []


# --- Stubber: the application secrets (reelle_secrets.OwnedSecret) --------------------

SECRET = "reelle-test/datadog-api-key"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{SECRET}-AbCdEf"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"


def secrets_part(clients, secrets, check_mode=False, tags=None):
    params = {"secrets": secrets, "tags": tags, "purge_tags": True}
    module = FakeModule(params, clients, check_mode=check_mode)
    return ecs_deploy.Secrets(module, ecs_deploy.ChangeSet(module)), module


def described(**extra):
    return dict({"ARN": SECRET_ARN, "Name": SECRET, "Description": "dd", "KmsKeyId": KEY_ARN}, **extra)


def test_a_secret_in_check_mode_is_planned_without_a_value(aws, monkeypatch):
    """Check mode only reads: no placeholder is generated, no create is sent, the ARN is unknown."""
    clients, stubs = aws
    monkeypatch.setattr(ecs_deploy.pysecrets, "token_urlsafe", lambda size: pytest.fail("placeholder generated"))
    stubs["secretsmanager"].add_client_error(
        "describe_secret", "ResourceNotFoundException", expected_params={"SecretId": SECRET}
    )
    part, _ = secrets_part(clients, [{"name": SECRET, "value": None}], check_mode=True)
    assert part.ensure_present() == {SECRET: None}
    assert part.changes.changes == [{"action": "create", "resource": f"secret {SECRET}", "attributes": []}]


@pytest.mark.parametrize("given", [SECRET_VALUE, None])
def test_a_secret_is_created_once_with_its_value_or_a_placeholder(aws, monkeypatch, given):
    clients, stubs = aws
    monkeypatch.setattr(ecs_deploy.pysecrets, "token_urlsafe", lambda size: "placeholder-0123456789")
    value = given or "placeholder-0123456789"
    stubs["secretsmanager"].add_client_error(
        "describe_secret", "ResourceNotFoundException", expected_params={"SecretId": SECRET}
    )
    stubs["secretsmanager"].add_response(
        "create_secret",
        {"ARN": SECRET_ARN, "Name": SECRET},
        {
            "Name": SECRET,
            "SecretString": value,
            # The same token on every try: a create retried after a lost answer makes no second version.
            "ClientRequestToken": client_token("secretsmanager", SECRET),
            "Description": "dd",
            "KmsKeyId": KEY_ARN,
            "Tags": [{"Key": "project", "Value": "reelle"}],
        },
    )
    spec = {"name": SECRET, "value": given, "description": "dd", "kms_key_id": KEY_ARN}
    part, module = secrets_part(clients, [spec], tags={"project": "reelle"})
    assert part.ensure_present() == {SECRET: SECRET_ARN}
    assert value in module.no_log_values
    assert [row["action"] for row in part.changes.changes] == ["create"]


def test_an_existing_secret_is_restored_and_kept_at_its_settings_and_value(aws):
    clients, stubs = aws
    sm = stubs["secretsmanager"]
    deleted = datetime(2026, 1, 2, tzinfo=UTC)
    sm.add_response("describe_secret", described(DeletedDate=deleted, Description="old"), {"SecretId": SECRET})
    sm.add_response("restore_secret", {"ARN": SECRET_ARN, "Name": SECRET}, {"SecretId": SECRET})
    # The key given by id is the key AWS reports by ARN: only the description is sent.
    sm.add_response("update_secret", {"ARN": SECRET_ARN, "Name": SECRET}, {"SecretId": SECRET, "Description": "dd"})
    sm.add_response("get_secret_value", {"ARN": SECRET_ARN, "SecretString": "old-value"}, {"SecretId": SECRET})
    sm.add_response("put_secret_value", {"ARN": SECRET_ARN}, {"SecretId": SECRET, "SecretString": SECRET_VALUE})
    spec = {"name": SECRET, "value": SECRET_VALUE, "description": "dd", "kms_key_id": KEY_ID}
    part, module = secrets_part(clients, [spec])
    assert part.ensure_present() == {SECRET: SECRET_ARN}
    assert [row["attributes"] for row in part.changes.changes] == [["deleted_date"], ["description"], ["value"]]
    assert {SECRET_VALUE, "old-value"} <= module.no_log_values


def test_a_secret_without_a_given_value_keeps_its_placeholder(aws):
    clients, stubs = aws
    stubs["secretsmanager"].add_response(
        "describe_secret", described(Tags=[{"Key": "project", "Value": "reelle"}]), {"SecretId": SECRET}
    )
    part, _ = secrets_part(clients, [{"name": SECRET, "value": None, "description": None, "kms_key_id": None}])
    assert part.ensure_present() == {SECRET: SECRET_ARN}
    assert part.changes.changes == []


# --- Stubber: a deleted service drains before the cluster goes -------------------------


def test_a_deleted_service_is_waited_for_until_inactive(aws, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    clients, stubs = aws
    service = {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/reelle-test/backend",
        "serviceName": "backend",
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
    }
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [service], "failures": []},
        {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
    )
    stubs["ecs"].add_response(
        "delete_service",
        {"service": dict(service, status="DRAINING")},
        {"cluster": "reelle-test", "service": "backend", "force": True},
    )
    for status in ("DRAINING", "DRAINING", "INACTIVE"):
        stubs["ecs"].add_response(
            "describe_services",
            {"services": [dict(service, status=status)], "failures": []},
            {"cluster": "reelle-test", "services": ["backend"]},
        )
    params = {"cluster": {"name": "reelle-test"}, "service": {"name": "backend"}, "tags": None, "purge_tags": True}
    params.update(wait_timeout=900, wait_delay=15)
    module = FakeModule(params, clients)
    part = ecs_deploy.Service(module, ecs_deploy.ChangeSet(module))
    part.ensure_absent()
    assert [row["action"] for row in part.changes.changes] == ["delete"]


def test_a_deleted_service_that_does_not_drain_in_time_fails(aws, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    clients, stubs = aws
    service = {"serviceName": "backend", "clusterArn": CLUSTER_ARN, "status": "ACTIVE"}
    stubs["ecs"].add_response(
        "describe_services",
        {"services": [service], "failures": []},
        {"cluster": "reelle-test", "services": ["backend"], "include": ["TAGS"]},
    )
    stubs["ecs"].add_response("delete_service", {"service": dict(service, status="DRAINING")}, None)
    # wait_timeout 0: one look (reelle_waiters always makes one attempt), then WaiterError.
    stubs["ecs"].add_response("describe_services", {"services": [dict(service, status="DRAINING")], "failures": []})
    params = {"cluster": {"name": "reelle-test"}, "service": {"name": "backend"}, "tags": None, "purge_tags": True}
    params.update(wait_timeout=0, wait_delay=15)
    module = FakeModule(params, clients)
    with pytest.raises(WaiterError):
        ecs_deploy.Service(module, ecs_deploy.ChangeSet(module)).ensure_absent()
