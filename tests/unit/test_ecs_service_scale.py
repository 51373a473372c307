# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_service_scale: the module against moto in-process (mock_aws: a cluster, a task definition, a
service and its scalable target), every API call it makes recorded in order; and botocore's Stubber
for what moto cannot show - a service whose tasks take time to start (the wait on AWS), one that
never gets there (the timeout), one deleted meanwhile, and the exact requests AWS is sent."""

import json

import boto3
import botocore.client
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.reelle.infra.plugins.module_utils import reelle_ecs, reelle_waiters
from ansible_collections.reelle.infra.plugins.modules import ecs_service_scale
from botocore.stub import Stubber
from moto import mock_aws

from tests.support.stubs import retrying

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CLUSTER = "reelle-prod-euw1"
SERVICE = "reelle-prod-backend"
RESOURCE_ID = f"service/{CLUSTER}/{SERVICE}"
TARGET_ROW = f"scalable target {RESOURCE_ID}"
SERVICE_ROW = f"ecs service {SERVICE}"
SCOPE = {"ServiceNamespace": "ecs", "ResourceId": RESOURCE_ID, "ScalableDimension": "ecs:service:DesiredCount"}
WRITES = {"RegisterScalableTarget", "UpdateService", "DeregisterScalableTarget", "PutScalingPolicy"}


def run(args, capsys, check_mode=False, diff=False):
    """Run the module's main() as Ansible would; returns its JSON result."""
    args = dict({"region": REGION, "cluster": CLUSTER, "service": SERVICE}, **args)
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        ecs_service_scale.main()
    return json.loads(capsys.readouterr().out)


def rows(result):
    return [(row["action"], row["resource"], row["attributes"]) for row in result["changes"]]


# --- the module against moto (in-process) ------------------------------------------------------


@pytest.fixture
def calls(monkeypatch):
    """Every AWS API call made from here on, in order, as (operation, request)."""
    made = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation, params):
        made.append((operation, params))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return made


def writes(made):
    return [operation for operation, _ in made if operation in WRITES]


@pytest.fixture
def standby(monkeypatch):
    """The warm standby as site.yml leaves it: 2 tasks wanted, autoscaling 2-3 (scale-in suspended)."""
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "REELLE_AWS_TIME_SCALE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "REELLE_AWS_TARGET": "emulator",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        definition = ecs.register_task_definition(
            family=SERVICE,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="512",
            memory="1024",
            containerDefinitions=[{"name": "backend", "image": "repo/backend:1.0.0", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=definition, desiredCount=2)
        boto3.client("application-autoscaling", region_name=REGION).register_scalable_target(
            **SCOPE, MinCapacity=2, MaxCapacity=3, SuspendedState={"DynamicScalingInSuspended": True}
        )
        yield {"task_definition": definition}


def service_now():
    return boto3.client("ecs", region_name=REGION).describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


def target_now():
    found = boto3.client("application-autoscaling", region_name=REGION).describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[RESOURCE_ID]
    )["ScalableTargets"]
    return found[0]


FAILOVER = {"desired_count": 5, "min_capacity": 5, "max_capacity": 10}
FAILBACK = {"desired_count": 2, "min_capacity": 2, "max_capacity": 3}


def test_grow_raises_the_bounds_then_the_count_then_changes_nothing(standby, calls, capsys):
    result = run(FAILOVER, capsys)
    assert result["changed"] is True, result
    assert rows(result) == [
        ("update", TARGET_ROW, ["MaxCapacity", "MinCapacity"]),
        ("update", SERVICE_ROW, ["desiredCount"]),
    ]
    assert [operation for operation, _ in calls] == [
        "DescribeServices",
        "DescribeScalableTargets",
        "RegisterScalableTarget",
        "UpdateService",
    ]
    # Only the count: no task definition, no new deployment; the suspended state sent back as read.
    assert calls[3][1] == {"cluster": CLUSTER, "service": SERVICE, "desiredCount": 5}
    assert calls[2][1]["SuspendedState"]["DynamicScalingInSuspended"] is True
    assert (service_now()["desiredCount"], service_now()["taskDefinition"]) == (5, standby["task_definition"])
    target = target_now()
    assert (target["MinCapacity"], target["MaxCapacity"]) == (5, 10)
    assert target["SuspendedState"]["DynamicScalingInSuspended"] is True
    assert result["desired_count"] == 5 and (result["min_capacity"], result["max_capacity"]) == (5, 10)
    assert result["previous"] == {"desired_count": 2, "min_capacity": 2, "max_capacity": 3}
    assert result["task_definition"] == standby["task_definition"]
    # moto reports an updated service's tasks as running at once: steady at the first look, no wait.
    assert (result["running_count"], result["waited_seconds"], result["skipped_calls"]) == (5, 0, [])

    del calls[:]
    again = run(FAILOVER, capsys)
    assert again["changed"] is False and again["changes"] == []
    assert [operation for operation, _ in calls] == ["DescribeServices", "DescribeScalableTargets"]


def test_shrink_lowers_the_count_then_the_bounds(standby, calls, capsys):
    run(FAILOVER, capsys)
    del calls[:]
    result = run(FAILBACK, capsys)
    assert rows(result) == [
        ("update", SERVICE_ROW, ["desiredCount"]),
        ("update", TARGET_ROW, ["MaxCapacity", "MinCapacity"]),
    ]
    assert writes(calls) == ["UpdateService", "RegisterScalableTarget"]
    assert service_now()["desiredCount"] == 2
    assert (target_now()["MinCapacity"], target_now()["MaxCapacity"]) == (2, 3)
    assert result["previous"] == {"desired_count": 5, "min_capacity": 5, "max_capacity": 10}
    assert run(FAILBACK, capsys)["changed"] is False


def test_check_mode_makes_no_call_that_changes_anything(standby, calls, capsys):
    result = run(FAILOVER, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert [row[1] for row in rows(result)] == [TARGET_ROW, SERVICE_ROW]
    assert writes(calls) == []
    assert service_now()["desiredCount"] == 2
    assert (target_now()["MinCapacity"], target_now()["MaxCapacity"]) == (2, 3)
    assert result["desired_count"] == 5 and result["waited_seconds"] == 0
    assert result["diff"]["before"] == {
        "scalable_target": {"MinCapacity": 2, "MaxCapacity": 3},
        "service": {"desiredCount": 2},
    }
    assert result["diff"]["after"] == {
        "scalable_target": {"MinCapacity": 5, "MaxCapacity": 10},
        "service": {"desiredCount": 5},
    }


@pytest.mark.parametrize(
    ("args", "count", "bounds"),
    [
        # Without desired_count the count is raised to the new floor ...
        ({"min_capacity": 4, "max_capacity": 10}, 4, (4, 10)),
        # ... lowered to the new ceiling ...
        ({"min_capacity": 1, "max_capacity": 1}, 1, (1, 1)),
        # ... and left alone inside the bounds; an unset bound keeps the target's.
        ({"max_capacity": 8}, 2, (2, 8)),
        # Without bounds the target's bounds hold; a count inside them is set alone.
        ({"desired_count": 3}, 3, (2, 3)),
    ],
)
def test_the_count_is_kept_inside_the_bounds(standby, calls, capsys, args, count, bounds):
    result = run(args, capsys)
    assert service_now()["desiredCount"] == count == result["desired_count"]
    assert (target_now()["MinCapacity"], target_now()["MaxCapacity"]) == bounds
    assert (result["min_capacity"], result["max_capacity"]) == bounds
    assert run(args, capsys)["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (FAILOVER | {"service": "reelle-prod-frontend"}, "was not found in cluster reelle-prod-euw1 (eu-west-1)"),
        (FAILOVER | {"cluster": "reelle-prod-nowhere"}, "the cluster or the service does not exist"),
        ({"min_capacity": 6, "max_capacity": 5}, "min_capacity 6 exceeds max_capacity 5"),
        # The target's max_capacity 3 is kept when only the floor is given.
        ({"min_capacity": 4}, "min_capacity 4 exceeds max_capacity 3 (max_capacity as the scalable target"),
        ({"desired_count": 11, "min_capacity": 5, "max_capacity": 10}, "desired_count 11 is outside"),
        ({"desired_count": 7}, "desired_count 7 is outside the autoscaling bounds [2, 3]"),
        ({"desired_count": -1}, "desired_count must be 0 or more"),
    ],
)
def test_bad_input_fails_before_any_write(standby, calls, capsys, args, message):
    result = run(args, capsys)
    assert result["failed"] is True
    assert message in result["msg"]
    assert writes(calls) == []
    assert service_now()["desiredCount"] == 2


def test_a_deleted_service_is_refused_with_what_to_do(standby, calls, capsys):
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    result = run(FAILOVER, capsys)
    assert result["failed"] is True
    assert "is INACTIVE" in result["msg"] and "converged by playbooks/site.yml" in result["msg"]
    assert writes(calls) == []


def test_bounds_without_a_scalable_target_name_the_option_and_the_target(standby, calls, capsys):
    boto3.client("application-autoscaling", region_name=REGION).deregister_scalable_target(**SCOPE)
    del calls[:]
    result = run({"desired_count": 5, "max_capacity": 10}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("max_capacity given, but ECS service reelle-prod-backend")
    assert RESOURCE_ID in result["msg"]
    assert writes(calls) == []
    # Without bounds, the count alone is set.
    alone = run({"desired_count": 5}, capsys)
    assert rows(alone) == [("update", SERVICE_ROW, ["desiredCount"])]
    assert (alone["min_capacity"], alone["max_capacity"]) == (None, None)
    assert service_now()["desiredCount"] == 5


def test_a_service_short_of_its_count_is_not_waited_for_on_the_emulator(standby, calls, capsys):
    # moto runs no tasks: the service as created reports 0 of 2 running, for ever.
    result = run({"desired_count": 2}, capsys)
    assert result["changed"] is False
    assert (result["running_count"], result["desired_count"]) == (0, 2)
    assert result["skipped_calls"] == ["ecs:wait_rollout_completed"] and result["waited_seconds"] == 0
    assert [operation for operation, _ in calls] == ["DescribeServices", "DescribeScalableTargets"]
    assert run({"desired_count": 2, "wait": False}, capsys)["skipped_calls"] == []


# --- Stubber: the wait on AWS and the exact requests -------------------------------------------


class Clock:
    """time for reelle_waiters.poll and reelle_ecs: sleeping moves the clock, nothing else does."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def aws(monkeypatch):
    """The module's clients aimed at AWS (no emulator), each with a Stubber; every answer must be asked for."""
    for key in ("AWS_ENDPOINT_URL", "REELLE_AWS_TARGET", "REELLE_AWS_TIME_SCALE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients = {name: boto3.client(name, region_name=REGION) for name in ("ecs", "application-autoscaling")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    monkeypatch.setattr(
        ecs_service_scale, "aws_client", lambda module, name, region=None: retrying(clients[name], name)
    )
    clock = Clock()
    monkeypatch.setattr(reelle_waiters, "time", clock)
    monkeypatch.setattr(reelle_ecs, "time", clock)
    for stub in stubs.values():
        stub.activate()
    yield stubs, clock
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{SERVICE}:7"


def ecs_service(desired, running, deployments=1, status="ACTIVE", events=()):
    items = [
        {
            "id": f"ecs-svc/{index}",
            "status": "PRIMARY" if index == 0 else "ACTIVE",
            "taskDefinition": DEFINITION if index == 0 else DEFINITION.replace(":7", ":6"),
            "desiredCount": desired if index == 0 else 0,
            "runningCount": running if index == 0 else 1,
            "pendingCount": 0,
        }
        for index in range(deployments)
    ]
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}",
        "serviceName": SERVICE,
        "clusterArn": CLUSTER_ARN,
        "status": status,
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": desired - running if desired > running else 0,
        "taskDefinition": DEFINITION,
        "schedulingStrategy": "REPLICA",
        "deployments": items,
        "events": [{"id": str(index), "message": message} for index, message in enumerate(events)],
    }


SUSPENDED = {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False, "ScheduledScalingSuspended": True}


def expect_reads(stubs, service, low, high):
    stubs["ecs"].add_response(
        "describe_services", {"services": [service], "failures": []}, {"cluster": CLUSTER, "services": [SERVICE]}
    )
    target = dict(
        SCOPE,
        MinCapacity=low,
        MaxCapacity=high,
        RoleARN=f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/x",
        CreationTime="2026-01-01T00:00:00Z",
        SuspendedState=SUSPENDED,
    )
    stubs["application-autoscaling"].add_response(
        "describe_scalable_targets",
        {"ScalableTargets": [target]},
        {"ServiceNamespace": "ecs", "ResourceIds": [RESOURCE_ID], "ScalableDimension": SCOPE["ScalableDimension"]},
    )


def expect_growth(stubs, answer):
    """RegisterScalableTarget 5-10 (suspended state as read, no role), then UpdateService desiredCount 5 alone."""
    stubs["application-autoscaling"].add_response(
        "register_scalable_target", {}, dict(SCOPE, MinCapacity=5, MaxCapacity=10, SuspendedState=SUSPENDED)
    )
    stubs["ecs"].add_response(
        "update_service", {"service": answer}, {"cluster": CLUSTER, "service": SERVICE, "desiredCount": 5}
    )


def expect_look(stubs, service):
    stubs["ecs"].add_response(
        "describe_services", {"services": [service], "failures": []}, {"cluster": CLUSTER_ARN, "services": [SERVICE]}
    )


def test_on_aws_the_wait_polls_until_one_deployment_runs_every_task(aws, capsys):
    stubs, clock = aws
    expect_reads(stubs, ecs_service(2, 2), 2, 3)
    expect_growth(stubs, ecs_service(5, 2))
    expect_look(stubs, ecs_service(5, 4))
    # All five run, but the old deployment is still draining: not steady yet.
    expect_look(stubs, ecs_service(5, 5, deployments=2))
    expect_look(stubs, ecs_service(5, 5))
    result = run(FAILOVER, capsys)
    assert not result.get("failed"), result.get("msg")
    assert clock.sleeps == [15, 15, 15]
    assert (result["waited_seconds"], result["running_count"], result["desired_count"]) == (45, 5, 5)
    assert result["skipped_calls"] == []


@pytest.mark.parametrize(("timeout", "looks"), [(30, 1), (31, 2)])
def test_on_aws_a_wait_that_runs_out_fails_with_the_counts_and_the_events(aws, capsys, timeout, looks):
    stubs, clock = aws
    expect_reads(stubs, ecs_service(2, 2), 2, 3)
    expect_growth(stubs, ecs_service(5, 2))
    stuck = ecs_service(5, 3, deployments=2, events=["(service reelle-prod-backend) was unable to place a task."])
    for _ in range(looks):
        expect_look(stubs, stuck)
    # ceil(timeout / 15) looks, the first at UpdateService's answer: the wait is never cut short.
    result = run(FAILOVER | {"wait_timeout": timeout}, capsys)
    assert result["failed"] is True
    assert f"did not become steady within {timeout} s: 3 of 5 tasks running" in result["msg"]
    assert "2 deployment(s)" in result["msg"] and "PRIMARY reelle-prod-backend:7 3/5 running" in result["msg"]
    assert result["events"] == ["(service reelle-prod-backend) was unable to place a task."]
    # The writes were made and are reported with the failure.
    assert [row["resource"] for row in result["changes"]] == [TARGET_ROW, SERVICE_ROW]
    assert result["waited_seconds"] == 15 * looks == sum(clock.sleeps)


def test_on_aws_a_service_deleted_while_waiting_fails_at_once(aws, capsys):
    stubs, _ = aws
    expect_reads(stubs, ecs_service(2, 2), 2, 3)
    expect_growth(stubs, ecs_service(5, 2))
    expect_look(stubs, ecs_service(5, 0, status="DRAINING"))
    result = run(FAILOVER, capsys)
    assert result["failed"] is True
    assert "was deleted while waiting (DRAINING)" in result["msg"]


def test_on_aws_a_steady_service_at_its_size_needs_two_reads_only(aws, capsys):
    stubs, clock = aws
    expect_reads(stubs, ecs_service(5, 5), 5, 10)
    result = run(FAILOVER, capsys)
    assert result["changed"] is False and clock.sleeps == []
    assert (result["running_count"], result["waited_seconds"]) == (5, 0)


def test_on_aws_a_daemon_service_is_refused(aws, capsys):
    stubs, _ = aws
    daemon = dict(ecs_service(3, 3), schedulingStrategy="DAEMON")
    stubs["ecs"].add_response(
        "describe_services", {"services": [daemon], "failures": []}, {"cluster": CLUSTER, "services": [SERVICE]}
    )
    result = run({"desired_count": 5}, capsys)
    assert result["failed"] is True and "DAEMON" in result["msg"]


def test_on_aws_a_count_changed_behind_the_modules_back_is_warned_about(aws, capsys):
    stubs, _ = aws
    expect_reads(stubs, ecs_service(2, 2), 2, 3)
    stubs["application-autoscaling"].add_response(
        "register_scalable_target", {}, dict(SCOPE, MinCapacity=5, MaxCapacity=10, SuspendedState=SUSPENDED)
    )
    stubs["ecs"].add_response(
        "update_service", {"service": ecs_service(7, 2)}, {"cluster": CLUSTER, "service": SERVICE, "desiredCount": 7}
    )
    # Application Auto Scaling's own move to the new minimum landed after UpdateService.
    expect_look(stubs, ecs_service(5, 5))
    result = run(FAILOVER | {"desired_count": 7}, capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["desired_count"] == 5
    # ansible-core 2.19 returns warnings as structured summaries: look for the text in them.
    assert "wants 5 tasks after the wait, not 7" in json.dumps(result["warnings"])
