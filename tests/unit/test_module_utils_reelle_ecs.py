# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/reelle_ecs.py: the cluster both ECS modules manage, ECS tags and strategy rules.

botocore's Stubber checks each request against the ECS service model (what AWS is sent);
the moto server shows a cluster made and kept by the same code both modules run."""

import boto3
import pytest
from ansible_collections.reelle.infra.plugins.module_utils import reelle_ecs, reelle_waiters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import ChangeSet
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ecs import (
    EcsCluster,
    clamp,
    find_cluster,
    find_scalable_target,
    find_service,
    provider_strategy,
    strategy_problem,
    sync_ecs_tags,
    wait_service_stable,
)

from tests.support.stubs import fake_module, retrying, stubbed

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAME = "reelle-test"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{NAME}"
DESCRIBE = {"clusters": [NAME], "include": ["SETTINGS", "TAGS"]}
FARGATE_DEFAULT = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]


@pytest.fixture
def ecs(monkeypatch):
    """An ECS client aimed at AWS with a Stubber; every queued answer must be asked for."""
    with stubbed(monkeypatch, "ecs") as pair:
        yield pair


def cluster(status="ACTIVE", settings=None, tags=None, providers=None, default=None):
    found = {"clusterArn": CLUSTER_ARN, "clusterName": NAME, "status": status}
    found["settings"] = [{"name": key, "value": value} for key, value in (settings or {}).items()]
    found["tags"] = [{"key": key, "value": value} for key, value in (tags or {}).items()]
    found["capacityProviders"] = providers or []
    found["defaultCapacityProviderStrategy"] = default or []
    return found


def described(stub, *clusters):
    stub.add_response("describe_clusters", {"clusters": list(clusters), "failures": []}, DESCRIBE)


def rows(changes):
    return [(row["action"], row["attributes"]) for row in changes.changes]


# --- strategies ---------------------------------------------------------------------


def _items(*triples):
    return [{"capacityProvider": name, "weight": weight, "base": base} for name, weight, base in triples]


@pytest.mark.parametrize(
    ("strategy", "problem"),
    [
        ([], None),
        (_items(("FARGATE", 1, 0)), None),
        (_items(("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0)), None),
        (_items(("ec2-a", 1, 0), ("ec2-b", 1, 0)), None),
        (
            _items(("FARGATE", 1, 0), ("ec2-a", 1, 0)),
            "a capacity provider strategy cannot mix Fargate (FARGATE) and Auto Scaling group providers (ec2-a)",
        ),
        (_items(("FARGATE", 1, 1), ("FARGATE_SPOT", 1, 2)), "only one provider of a strategy may have a base"),
        (_items(("FARGATE", 0, 0), ("FARGATE_SPOT", 0, 0)), "at least one provider of a strategy needs a weight"),
    ],
)
def test_strategy_problem(strategy, problem):
    found = strategy_problem(strategy)
    assert (found is None) if problem is None else found.startswith(problem)


def test_provider_strategy_is_the_api_shape():
    given = [{"capacity_provider": "ec2-a", "weight": 2, "base": 1}]
    assert provider_strategy(given) == [{"capacityProvider": "ec2-a", "weight": 2, "base": 1}]
    assert provider_strategy(None) == []


# --- tags ---------------------------------------------------------------------------


def test_ecs_tags_are_reconciled_with_ecs_shaped_calls(ecs):
    client, stub = ecs
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{NAME}/backend"
    stub.add_response("tag_resource", {}, {"resourceArn": arn, "tags": [{"key": "owner", "value": "platform"}]})
    stub.add_response("untag_resource", {}, {"resourceArn": arn, "tagKeys": ["stale"]})
    changes = ChangeSet(fake_module())
    current = [{"key": "project", "value": "reelle"}, {"key": "stale", "value": "yes"}]
    sync_ecs_tags(
        changes,
        retrying(client, "ecs"),
        "ecs service backend",
        arn,
        current,
        {"project": "reelle", "owner": "platform"},
        True,
    )
    assert rows(changes) == [("update", ["tags.owner"]), ("update", ["tags.stale"])]


def test_unset_tags_are_left_alone(ecs):
    client, _ = ecs
    changes = ChangeSet(fake_module())
    sync_ecs_tags(
        changes, retrying(client, "ecs"), "ecs service backend", "arn", [{"key": "a", "value": "1"}], None, True
    )
    assert changes.changes == []


# --- finding the cluster ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "exists"), [("ACTIVE", True), ("PROVISIONING", True), ("INACTIVE", False)])
def test_find_cluster_counts_every_status_but_inactive(ecs, status, exists):
    client, stub = ecs
    described(stub, cluster(status=status))
    assert (find_cluster(retrying(client, "ecs"), NAME) is not None) is exists


def test_find_cluster_without_an_answer_is_none(ecs):
    client, stub = ecs
    stub.add_response(
        "describe_clusters",
        {"clusters": [], "failures": [{"arn": CLUSTER_ARN, "reason": "MISSING"}]},
        DESCRIBE,
    )
    assert find_cluster(retrying(client, "ecs"), NAME) is None


# --- creating ----------------------------------------------------------------------------


def test_create_sends_what_the_caller_manages_and_the_tags(ecs):
    client, stub = ecs
    described(stub)
    stub.add_response(
        "create_cluster",
        {"cluster": cluster()},
        {
            "clusterName": NAME,
            "settings": [{"name": "containerInsights", "value": "enabled"}],
            "capacityProviders": ["FARGATE", "ec2-a"],
            "defaultCapacityProviderStrategy": FARGATE_DEFAULT,
            "tags": [{"key": "project", "value": "reelle"}],
        },
    )
    changes = ChangeSet(fake_module())
    arn = EcsCluster(changes, retrying(client, "ecs"), NAME).ensure_present(
        settings={"containerInsights": "enabled"},
        capacity_providers=["FARGATE", "ec2-a"],
        default_strategy=FARGATE_DEFAULT,
        tags={"project": "reelle"},
    )
    assert arn == CLUSTER_ARN
    assert rows(changes) == [("create", [])]
    assert "tags" not in changes.after["cluster"] and changes.after["cluster"]["clusterName"] == NAME


def test_create_leaves_out_unset_settings_and_empty_tags(ecs):
    client, stub = ecs
    described(stub)
    stub.add_response("create_cluster", {"cluster": cluster()}, {"clusterName": NAME})
    changes = ChangeSet(fake_module())
    EcsCluster(changes, retrying(client, "ecs"), NAME).ensure_present(settings={"containerInsights": None}, tags={})


def test_check_mode_reports_the_create_and_makes_no_call(ecs):
    client, stub = ecs
    described(stub)
    changes = ChangeSet(fake_module(check_mode=True))
    assert (
        EcsCluster(changes, retrying(client, "ecs"), NAME).ensure_present(settings={"containerInsights": "enabled"})
        is None
    )
    assert changes.changes == [{"action": "create", "resource": f"ecs cluster {NAME}", "attributes": []}]


# --- an existing cluster ------------------------------------------------------------------


def test_changed_settings_and_tags_are_updated(ecs):
    client, stub = ecs
    described(stub, cluster(settings={"containerInsights": "enabled"}, tags={"project": "reelle", "old": "1"}))
    stub.add_response(
        "update_cluster",
        {"cluster": cluster()},
        {"cluster": NAME, "settings": [{"name": "containerInsights", "value": "disabled"}]},
    )
    stub.add_response("untag_resource", {}, {"resourceArn": CLUSTER_ARN, "tagKeys": ["old"]})
    changes = ChangeSet(fake_module())
    arn = EcsCluster(changes, retrying(client, "ecs"), NAME).ensure_present(
        settings={"containerInsights": "disabled"}, tags={"project": "reelle"}
    )
    assert arn == CLUSTER_ARN
    assert rows(changes) == [("update", ["containerInsights"]), ("update", ["tags.old"])]
    assert changes.before["cluster"] == {"settings": {"containerInsights": "enabled"}}
    assert changes.after["cluster"] == {"settings": {"containerInsights": "disabled"}}


def test_what_the_caller_does_not_manage_is_left_alone(ecs):
    """Unset settings, providers (ecs_deploy) and tags (ecs_ec2_capacity, reconcile_tags=False) make no call."""
    client, stub = ecs
    existing = cluster(settings={"containerInsights": "enabled"}, tags={"x": "1"}, providers=["FARGATE"])
    described(stub, existing)
    described(stub, existing)
    changes = ChangeSet(fake_module())
    part = EcsCluster(changes, retrying(client, "ecs"), NAME)
    part.ensure_present(settings={"containerInsights": None})
    part.ensure_present(capacity_providers=["FARGATE"], default_strategy=[], tags={"other": "2"}, reconcile_tags=False)
    assert changes.changes == []


def test_providers_in_another_order_are_no_change(ecs):
    client, stub = ecs
    described(stub, cluster(providers=["ec2-a", "FARGATE_SPOT", "FARGATE"], default=FARGATE_DEFAULT))
    changes = ChangeSet(fake_module())
    EcsCluster(changes, retrying(client, "ecs"), NAME).ensure_present(
        capacity_providers=["FARGATE", "FARGATE_SPOT", "ec2-a"], default_strategy=FARGATE_DEFAULT
    )
    assert changes.changes == []


@pytest.mark.parametrize(
    ("providers", "default", "attributes"),
    [
        (["FARGATE"], FARGATE_DEFAULT, ["capacityProviders"]),
        (["FARGATE", "ec2-a", "ec2-old"], FARGATE_DEFAULT, ["capacityProviders"]),
        (
            ["FARGATE", "ec2-a"],
            [{"capacityProvider": "ec2-a", "weight": 1, "base": 0}],
            ["defaultCapacityProviderStrategy"],
        ),
        (["FARGATE"], [], ["capacityProviders", "defaultCapacityProviderStrategy"]),
    ],
)
def test_other_providers_or_strategy_are_put_together(ecs, providers, default, attributes):
    client, stub = ecs
    described(stub, cluster(providers=providers, default=default))
    wanted = {"capacityProviders": ["FARGATE", "ec2-a"], "defaultCapacityProviderStrategy": FARGATE_DEFAULT}
    stub.add_response("put_cluster_capacity_providers", {"cluster": cluster()}, dict(wanted, cluster=NAME))
    changes = ChangeSet(fake_module())
    EcsCluster(changes, retrying(client, "ecs"), NAME).ensure_present(
        capacity_providers=wanted["capacityProviders"], default_strategy=FARGATE_DEFAULT
    )
    assert rows(changes) == [("update", attributes)]
    assert changes.after["cluster"] == wanted


# --- removing --------------------------------------------------------------------------------


def test_a_provider_leaves_the_providers_and_the_default_strategy(ecs):
    client, stub = ecs
    strategy = [
        {"capacityProvider": "ec2-a", "weight": 1, "base": 1},
        {"capacityProvider": "ec2-b", "weight": 1, "base": 0},
    ]
    described(stub, cluster(providers=["FARGATE", "ec2-a", "ec2-b"], default=strategy))
    stub.add_response(
        "put_cluster_capacity_providers",
        {"cluster": cluster()},
        {"cluster": NAME, "capacityProviders": ["FARGATE", "ec2-b"], "defaultCapacityProviderStrategy": strategy[1:]},
    )
    changes = ChangeSet(fake_module())
    EcsCluster(changes, retrying(client, "ecs"), NAME).remove_capacity_provider("ec2-a")
    assert rows(changes) == [("update", ["capacityProviders"])]


@pytest.mark.parametrize("found", [None, cluster(providers=["FARGATE"])])
def test_a_provider_the_cluster_lacks_needs_no_call(ecs, found):
    client, stub = ecs
    described(stub, *([found] if found else []))
    changes = ChangeSet(fake_module())
    EcsCluster(changes, retrying(client, "ecs"), NAME).remove_capacity_provider("ec2-a")
    assert changes.changes == []


def test_absent_deletes_an_existing_cluster_only(ecs):
    client, stub = ecs
    described(stub, cluster())
    stub.add_response("delete_cluster", {"cluster": cluster(status="INACTIVE")}, {"cluster": NAME})
    described(stub, cluster(status="INACTIVE"))
    changes = ChangeSet(fake_module())
    part = EcsCluster(changes, retrying(client, "ecs"), NAME)
    part.ensure_absent()
    part.ensure_absent()
    assert rows(changes) == [("delete", [])]


# --- against the emulator --------------------------------------------------------------------


def test_one_cluster_for_both_modules_on_the_emulator(emulator):
    """ecs_deploy's part (settings, tags) and ecs_ec2_capacity's (providers) on one cluster, then no change."""
    client = retrying(boto3.client("ecs", region_name=REGION), "ecs")
    changes = ChangeSet(fake_module())
    part = EcsCluster(changes, client, NAME)
    arn = part.ensure_present(settings={"containerInsights": "enabled"}, tags={"project": "reelle"})
    assert arn and arn.endswith(f":cluster/{NAME}")
    providers = dict(capacity_providers=["FARGATE", "FARGATE_SPOT"], default_strategy=FARGATE_DEFAULT)
    assert part.ensure_present(**providers, reconcile_tags=False) == arn
    found = find_cluster(client, NAME)
    assert sorted(found["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    assert {item["name"]: item["value"] for item in found["settings"]} == {"containerInsights": "enabled"}
    assert {item["key"]: item["value"] for item in found["tags"]} == {"project": "reelle"}
    assert rows(changes) == [("create", []), ("update", ["capacityProviders", "defaultCapacityProviderStrategy"])]

    again = ChangeSet(fake_module())
    part = EcsCluster(again, client, NAME)
    part.ensure_present(settings={"containerInsights": "enabled"}, tags={"project": "reelle"})
    part.ensure_present(**providers, reconcile_tags=False)
    assert again.changes == []

    part.remove_capacity_provider("FARGATE_SPOT")
    part.ensure_absent()
    assert find_cluster(client, NAME) is None
    assert rows(again) == [("update", ["capacityProviders"]), ("delete", [])]


# --- services, their scalable target and the wait until steady ------------------------------------

SERVICE = "backend"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{NAME}/{SERVICE}"


def service(status="ACTIVE", desired=2, running=2, deployments=1):
    return {
        "serviceArn": SERVICE_ARN,
        "serviceName": SERVICE,
        "clusterArn": CLUSTER_ARN,
        "status": status,
        "desiredCount": desired,
        "runningCount": running,
        "deployments": [{"id": f"ecs-svc/{index}", "status": "PRIMARY"} for index in range(deployments)],
    }


@pytest.mark.parametrize(("count", "expected"), [(1, 2), (2, 2), (4, 4), (5, 5), (9, 5)])
def test_clamp_brings_a_count_inside_the_bounds(count, expected):
    assert clamp(count, 2, 5) == expected


def test_find_service_prefers_the_active_one_and_keeps_any_status(ecs):
    client, stub = ecs
    request = {"cluster": NAME, "services": [SERVICE]}
    stub.add_response("describe_services", {"services": [service("INACTIVE"), service()], "failures": []}, request)
    stub.add_response("describe_services", {"services": [service("DRAINING")], "failures": []}, request)
    missing = {"services": [], "failures": [{"arn": SERVICE_ARN, "reason": "MISSING"}]}
    stub.add_response("describe_services", missing, request)
    stub.add_client_error("describe_services", "ClusterNotFoundException", expected_params=request)
    wrapped = retrying(client, "ecs")
    assert find_service(wrapped, NAME, SERVICE)["status"] == "ACTIVE"
    assert find_service(wrapped, NAME, SERVICE)["status"] == "DRAINING"
    assert find_service(wrapped, NAME, SERVICE) is None
    assert find_service(wrapped, NAME, SERVICE) is None


def test_find_scalable_target_asks_for_the_service_count_dimension(monkeypatch):
    with stubbed(monkeypatch, "application-autoscaling") as (_, stub):
        scope = {
            "ServiceNamespace": "ecs",
            "ResourceIds": [f"service/{NAME}/{SERVICE}"],
            "ScalableDimension": "ecs:service:DesiredCount",
        }
        target = {
            "ServiceNamespace": "ecs",
            "ResourceId": f"service/{NAME}/{SERVICE}",
            "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 2,
            "MaxCapacity": 10,
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/x",
            "CreationTime": "2026-01-01T00:00:00Z",
        }
        stub.add_response("describe_scalable_targets", {"ScalableTargets": [target]}, scope)
        stub.add_response("describe_scalable_targets", {"ScalableTargets": []}, scope)
        assert find_scalable_target(stub.client, NAME, SERVICE)["MaxCapacity"] == 10
        assert find_scalable_target(stub.client, NAME, SERVICE) is None


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.delenv("REELLE_AWS_TIME_SCALE", raising=False)
    found = Clock()
    monkeypatch.setattr(reelle_waiters, "time", found)
    monkeypatch.setattr(reelle_ecs, "time", found)
    return found


def looked(stub, *answers):
    for answer in answers:
        body = {"services": [answer], "failures": []} if "serviceName" in answer else answer
        stub.add_response("describe_services", body, {"cluster": CLUSTER_ARN, "services": [SERVICE]})


def test_a_steady_service_needs_no_call_and_no_wait(ecs, clock):
    client, _ = ecs
    changes = ChangeSet(fake_module())
    found, outcome, waited = wait_service_stable(changes, retrying(client, "ecs"), service(), 600)
    assert (found["runningCount"], outcome, waited, clock.sleeps) == (2, "stable", 0, [])


def test_the_wait_polls_at_the_waiters_pace_until_one_deployment_runs_every_task(ecs, clock):
    client, stub = ecs
    looked(stub, service(desired=5, running=5, deployments=2), service(desired=5, running=5))
    changes = ChangeSet(fake_module())
    found, outcome, waited = wait_service_stable(changes, retrying(client, "ecs"), service(desired=5), 600)
    assert (outcome, waited, clock.sleeps) == ("stable", 30, [15, 15])
    assert len(found["deployments"]) == 1 and changes.skipped_calls == []


def test_the_wait_runs_out_after_ceil_timeout_over_delay_looks(ecs, clock):
    client, stub = ecs
    looked(stub, service(desired=5, running=3), service(desired=5, running=4))
    changes = ChangeSet(fake_module())
    found, outcome, waited = wait_service_stable(changes, retrying(client, "ecs"), service(desired=5), 40)
    # ceil(40 / 15) = 3 looks: the one given, then two described 15 s apart.
    assert (outcome, waited, found["runningCount"]) == ("timeout", 30, 4)


@pytest.mark.parametrize(
    "answer",
    [
        service("DRAINING", desired=5),
        service("INACTIVE", desired=5),
        {"services": [], "failures": [{"reason": "MISSING"}]},
    ],
)
def test_a_service_deleted_while_waited_for_is_gone(ecs, clock, answer):
    client, stub = ecs
    looked(stub, answer)
    changes = ChangeSet(fake_module())
    _, outcome, _ = wait_service_stable(changes, retrying(client, "ecs"), service(desired=5), 600)
    assert outcome == "gone"


def test_on_the_emulator_a_service_short_of_its_count_is_looked_at_once(ecs, clock, monkeypatch):
    client, _ = ecs
    monkeypatch.setenv("REELLE_AWS_TARGET", "emulator")
    changes = ChangeSet(fake_module())
    found, outcome, waited = wait_service_stable(changes, retrying(client, "ecs"), service(desired=5, running=0), 600)
    assert (found["runningCount"], outcome, waited, clock.sleeps) == (0, "skipped", 0, [])
    assert changes.skipped_calls == ["ecs:wait_rollout_completed"]
    # A steady one is not a skipped wait.
    again = ChangeSet(fake_module())
    assert wait_service_stable(again, retrying(client, "ecs"), service(), 600)[1] == "stable"
    assert again.skipped_calls == []
