# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""elasticache_replication_group: against the emulator (moto server), and Stubber tests for the calls it lacks."""

import json
import re

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils import reelle_waiters
from ansible_collections.reelle.infra.plugins.modules import elasticache_replication_group as module_under_test
from botocore.stub import ANY, Stubber

GROUP = "t-redis"
SECRET = "t/redis/auth-token"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def run(args, capsys, check_mode=False, diff=False):
    """Run the module's main() with these args; the parsed JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        module_under_test.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def network(emulator):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{10 + i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    group = ec2.create_security_group(VpcId=vpc, GroupName="t-cache", Description="cache")["GroupId"]
    return {"subnet_ids": subnets, "security_group_ids": [group]}


@pytest.fixture
def staging(network):
    """The staging figures (3 shards x 1 replica, TLS, at rest, AUTH, custom redis7 parameter group)."""
    return dict(
        replication_group_id=GROUP,
        region="us-east-1",
        engine_version="7.1",
        node_type="cache.t3.medium",
        num_node_groups=3,
        replicas_per_node_group=1,
        automatic_failover=True,
        multi_az=False,
        transit_encryption=True,
        at_rest_encryption=True,
        kms_key_id=KEY_ARN,
        auth_token_secret_name=SECRET,
        parameter_group={"name": "t-redis7", "parameters": {"maxmemory-policy": "volatile-lru"}},
        snapshot_retention_limit=1,
        tags={"environment": "test"},
        **network,
    )


def describe():
    return boto3.client("elasticache", region_name="us-east-1").describe_replication_groups()["ReplicationGroups"]


def secrets():
    return boto3.client("secretsmanager", region_name="us-east-1").list_secrets()["SecretList"]


# --- against the emulator ---------------------------------------------------


def test_create_reports_every_resource_and_keeps_the_token_out_of_the_result(staging, capsys):
    result = run(staging, capsys)
    assert result["changed"]
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "cache subnet group t-redis"),
        ("create", "cache parameter group t-redis7"),
        ("update", "cache parameter group t-redis7"),
        ("create", "secret t/redis/auth-token"),
        ("create", "replication group t-redis"),
    ]
    assert result["configuration_endpoint"].startswith("clustercfg.t-redis.")
    assert result["port"] == 6379
    assert result["auth_secret_arn"].startswith("arn:aws:secretsmanager:us-east-1:")
    # moto has no cache parameter groups: skipped there, made on AWS.
    assert {"elasticache:create_cache_parameter_group", "elasticache:modify_cache_parameter_group"} <= set(
        result["skipped_calls"]
    )
    group = describe()[0]
    assert group["ClusterEnabled"] and group["ClusterMode"] == "enabled"
    assert [len(ng["NodeGroupMembers"]) for ng in group["NodeGroups"]] == [2, 2, 2]
    assert group["TransitEncryptionEnabled"] and group["AtRestEncryptionEnabled"] and group["AuthTokenEnabled"]
    assert group["KmsKeyId"] == KEY_ARN
    assert group["AutomaticFailover"] == "enabled" and group["MultiAZ"] == "disabled"
    token = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(SecretId=SECRET)["SecretString"]
    assert len(token) >= 32
    assert token not in json.dumps(result)


def test_second_run_changes_nothing(staging, capsys):
    run(staging, capsys)
    result = run(staging, capsys)
    assert not result["changed"]
    assert result["changes"] == []
    assert result["replication_group"]["tags"] == {"environment": "test"}


@pytest.mark.parametrize(
    ("change", "attributes"),
    [
        ({"node_type": "cache.r6g.large"}, ["node_type"]),
        ({"snapshot_retention_limit": 7, "description": "new"}, ["description", "snapshot_retention_limit"]),
        ({"multi_az": True}, ["multi_az"]),
    ],
)
def test_update_modifies_only_what_changed_then_settles(staging, capsys, change, attributes):
    run(staging, capsys)
    result = run(dict(staging, **change), capsys)
    assert result["changes"] == [
        {"action": "update", "resource": "replication group t-redis", "attributes": attributes}
    ]
    assert not run(dict(staging, **change), capsys)["changed"]


def test_unset_options_leave_the_group_alone(staging, capsys):
    run(staging, capsys)
    minimal = {"replication_group_id": GROUP, "region": "us-east-1"}
    assert not run(minimal, capsys)["changed"]


def test_tags_are_kept_at_the_given_set(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, tags={"owner": "team"}), capsys)
    # The shared sync_tags names the keys it sets or removes (tags.<key>).
    updates = [
        row for row in result["changes"] if row["attributes"] and all(a.startswith("tags.") for a in row["attributes"])
    ]
    assert {row["resource"] for row in updates} == {
        "replication group t-redis",
        "cache subnet group t-redis",
        "secret t/redis/auth-token",
    }
    assert result["replication_group"]["tags"] == {"owner": "team"}
    assert not run(dict(staging, tags={"owner": "team"}), capsys)["changed"]


def test_check_mode_on_an_empty_account_creates_nothing_and_accepts_null_upstream_ids(emulator, capsys):
    args = dict(
        replication_group_id=GROUP,
        region="us-east-1",
        node_type="cache.t3.medium",
        num_node_groups=3,
        replicas_per_node_group=1,
        transit_encryption=True,
        at_rest_encryption=True,
        auth_token_secret_name=SECRET,
        subnet_ids=[None, None],
        security_group_ids=[None],
        kms_key_id=None,
    )
    result = run(args, capsys, check_mode=True)
    assert result["changed"]
    assert [row["action"] for row in result["changes"]] == ["create", "create", "create"]
    assert result["configuration_endpoint"] is None and result["auth_secret_arn"] is None and result["arn"] is None
    assert describe() == [] and secrets() == []


def test_check_mode_on_an_existing_group_plans_the_update_without_making_it(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, node_type="cache.r6g.large"), capsys, check_mode=True)
    assert result["changes"][0]["attributes"] == ["node_type"]
    assert describe()[0]["CacheNodeType"] == "cache.t3.medium"


def test_diff_shows_before_and_after(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, snapshot_retention_limit=5), capsys, diff=True)
    before = result["diff"]["before"]["replication group t-redis"]
    after = result["diff"]["after"]["replication group t-redis"]
    assert (before["snapshot_retention_limit"], after["snapshot_retention_limit"]) == (1, 5)
    assert "auth_token" not in json.dumps(result["diff"]).replace("auth_token_enabled", "")


def test_shard_and_replica_changes_are_skipped_on_the_emulator(staging, capsys):
    run(staging, capsys)
    result = run(dict(staging, num_node_groups=4, replicas_per_node_group=2), capsys)
    assert [row["attributes"] for row in result["changes"]] == [["num_node_groups"], ["replicas_per_node_group"]]
    assert {
        "elasticache:modify_replication_group_shard_configuration",
        "elasticache:increase_replica_count",
    } <= set(result["skipped_calls"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"at_rest_encryption": False, "kms_key_id": None}, "at_rest_encryption: True -> False"),
        ({"cluster_mode": False, "automatic_failover": True}, "cluster_mode: True -> False"),
        ({"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/other"}, "kms_key_id"),
        ({"port": 6380}, "port: 6379 -> 6380"),
    ],
)
def test_changes_that_would_replace_the_group_fail_clearly(staging, capsys, change, message):
    run(staging, capsys)
    result = run(dict(staging, **change), capsys)
    assert result["failed"]
    assert message in result["msg"] and "replace" in result["msg"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_node_groups": 0}, "num_node_groups must be between 1 and 500"),
        ({"num_node_groups": 501}, "num_node_groups must be between 1 and 500"),
        ({"replicas_per_node_group": 6}, "replicas_per_node_group must be between 0 and 5"),
        ({"snapshot_retention_limit": 36}, "snapshot_retention_limit must be between 0 and 35"),
        ({"replication_group_id": "1-bad"}, "replication_group_id must be"),
        ({"replication_group_id": "a" * 41}, "replication_group_id must be"),
        ({"transit_encryption": False}, "requires transit_encryption"),
        ({"parameter_group": {"name": "default.redis7.cluster.on", "parameters": {"a": "b"}}}, "AWS default group"),
        ({"automatic_failover": False}, "cluster mode requires automatic_failover"),
    ],
)
def test_bad_input_fails_before_anything_is_touched(staging, capsys, change, message):
    result = run(dict(staging, **change), capsys)
    assert result["failed"] and message in result["msg"]
    assert describe() == [] and secrets() == []


def test_empty_upstream_ids_fail_outside_check_mode(staging, capsys):
    result = run(dict(staging, security_group_ids=[None]), capsys)
    assert result["failed"] and "security_group_ids contains an empty id" in result["msg"]


def test_delete_needs_a_final_snapshot_or_a_named_confirmation(staging, capsys):
    run(staging, capsys)
    absent = {"replication_group_id": GROUP, "region": "us-east-1", "state": "absent"}
    refused = run(absent, capsys)
    assert refused["failed"] and f"confirm_delete: {GROUP}" in refused["msg"]
    assert run(dict(absent, confirm_delete="another-group"), capsys)["failed"]
    deleted = run(dict(absent, confirm_delete=GROUP), capsys)
    assert deleted["changes"] == [{"action": "delete", "resource": "replication group t-redis", "attributes": []}]
    assert describe()[0]["Status"] == "deleting"
    assert not run(dict(absent, confirm_delete=GROUP), capsys)["changed"]


def test_absent_on_an_empty_emulator_account_changes_nothing(staging, capsys):
    absent = dict(staging, state="absent", final_snapshot_identifier="x")
    for check_mode in (True, False):
        result = run(absent, capsys, check_mode=check_mode)
        assert result["changed"] is False, result["changes"]
    assert describe() == []


def test_delete_with_a_final_snapshot_in_check_mode_deletes_nothing(staging, capsys):
    run(staging, capsys)
    absent = dict(staging, state="absent", final_snapshot_identifier="x")
    planned = run(absent, capsys, check_mode=True)
    assert planned["changed"]
    # The emulator cannot delete subnet groups (nor has parameter groups): skipped, not planned.
    assert [row["resource"] for row in planned["changes"]] == ["replication group t-redis", f"secret {SECRET}"]
    assert "elasticache:delete_cache_subnet_group" in planned["skipped_calls"]
    assert describe()[0]["Status"] == "available"


# --- calls the emulator lacks: request shapes on AWS (Stubber) --------------


def group_shape(shards=3, replicas=1, **extra):
    node_groups = [
        {
            "NodeGroupId": f"{i:04d}",
            "Status": "available",
            "NodeGroupMembers": [{"CacheClusterId": f"{GROUP}-{i:04d}-{m:03d}"} for m in range(1, replicas + 2)],
        }
        for i in range(1, shards + 1)
    ]
    group = {
        "ReplicationGroupId": GROUP,
        "Status": "available",
        "ARN": f"arn:aws:elasticache:us-east-1:123456789012:replicationgroup:{GROUP}",
        "NodeGroups": node_groups,
        "MemberClusters": [m["CacheClusterId"] for ng in node_groups for m in ng["NodeGroupMembers"]],
        "ClusterEnabled": True,
        "AutomaticFailover": "enabled",
        "MultiAZ": "disabled",
        "CacheNodeType": "cache.t3.medium",
        "TransitEncryptionEnabled": True,
        "AtRestEncryptionEnabled": True,
        "AuthTokenEnabled": True,
        "ConfigurationEndpoint": {"Address": f"clustercfg.{GROUP}.abc.use1.cache.amazonaws.com", "Port": 6379},
    }
    group.update(extra)
    return {"ReplicationGroups": [group]}


@pytest.fixture
def aws(monkeypatch):
    """Real AWS request shapes: no emulator; the module's clients are stubbed."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    clients, stubs = {}, {}
    for service in ("elasticache", "secretsmanager"):
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


def expect_describe(stub, **shape):
    stub.add_response("describe_replication_groups", group_shape(**shape), {"ReplicationGroupId": GROUP})


@pytest.mark.parametrize(
    ("shards", "expected"),
    [
        (4, {"NodeGroupCount": 4}),
        (2, {"NodeGroupCount": 2, "NodeGroupsToRemove": ["0003"]}),
    ],
)
def test_shard_count_change_request_shape(aws, capsys, shards, expected):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "modify_replication_group_shard_configuration",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "modifying"}},
        dict(ReplicationGroupId=GROUP, ApplyImmediately=True, **expected),
    )
    expect_describe(ec, shards=shards)
    result = run({"replication_group_id": GROUP, "region": "us-east-1", "num_node_groups": shards}, capsys)
    assert result["changes"][0]["attributes"] == ["num_node_groups"]
    assert result["skipped_calls"] == []


@pytest.mark.parametrize(("replicas", "operation"), [(2, "increase_replica_count"), (0, "decrease_replica_count")])
def test_replica_count_change_request_shape(aws, capsys, replicas, operation):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        operation,
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "modifying"}},
        {"ReplicationGroupId": GROUP, "NewReplicaCount": replicas, "ApplyImmediately": True},
    )
    expect_describe(ec, replicas=replicas)
    result = run({"replication_group_id": GROUP, "region": "us-east-1", "replicas_per_node_group": replicas}, capsys)
    assert result["changes"][0]["attributes"] == ["replicas_per_node_group"]


def test_missing_parameter_group_is_created_with_cluster_enabled(aws, capsys):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_client_error(
        "describe_cache_parameters",
        service_error_code="CacheParameterGroupNotFound",
        http_status_code=404,
        expected_params={"CacheParameterGroupName": "t-redis7", "Source": "user"},
    )
    ec.add_response(
        "create_cache_parameter_group",
        {"CacheParameterGroup": {"CacheParameterGroupName": "t-redis7"}},
        {"CacheParameterGroupName": "t-redis7", "CacheParameterGroupFamily": "redis7", "Description": "t-redis7"},
    )
    ec.add_response(
        "modify_cache_parameter_group",
        {"CacheParameterGroupName": "t-redis7"},
        {
            "CacheParameterGroupName": "t-redis7",
            "ParameterNameValues": [
                {"ParameterName": "activedefrag", "ParameterValue": "yes"},
                {"ParameterName": "cluster-enabled", "ParameterValue": "yes"},
            ],
        },
    )
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "parameter_group": {"name": "t-redis7", "parameters": {"activedefrag": True}},
    }
    # The group's member cluster is read for the parameter group name it uses.
    ec.add_response(
        "describe_cache_clusters",
        {
            "CacheClusters": [
                {"CacheClusterId": f"{GROUP}-0001-001", "CacheParameterGroup": {"CacheParameterGroupName": "t-redis7"}}
            ]
        },
        {"CacheClusterId": f"{GROUP}-0001-001"},
    )
    result = run(args, capsys)
    assert [row["action"] for row in result["changes"]] == ["create", "update"]


def test_existing_parameter_group_is_modified_only_where_it_differs(aws, capsys):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "describe_cache_parameters",
        {
            "Parameters": [
                {"ParameterName": "cluster-enabled", "ParameterValue": "yes"},
                {"ParameterName": "maxmemory-policy", "ParameterValue": "noeviction"},
            ]
        },
        {"CacheParameterGroupName": "t-redis7", "Source": "user"},
    )
    ec.add_response(
        "modify_cache_parameter_group",
        {"CacheParameterGroupName": "t-redis7"},
        {
            "CacheParameterGroupName": "t-redis7",
            "ParameterNameValues": [{"ParameterName": "maxmemory-policy", "ParameterValue": "volatile-lru"}],
        },
    )
    ec.add_response(
        "describe_cache_clusters",
        {
            "CacheClusters": [
                {"CacheClusterId": f"{GROUP}-0001-001", "CacheParameterGroup": {"CacheParameterGroupName": "t-redis7"}}
            ]
        },
        {"CacheClusterId": f"{GROUP}-0001-001"},
    )
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "parameter_group": {"name": "t-redis7", "parameters": {"maxmemory-policy": "volatile-lru"}},
    }
    result = run(args, capsys)
    assert result["changes"] == [
        {"action": "update", "resource": "cache parameter group t-redis7", "attributes": ["maxmemory-policy"]}
    ]


def test_member_cluster_attributes_are_compared_on_aws(aws, capsys):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "describe_cache_clusters",
        {
            "CacheClusters": [
                {
                    "CacheClusterId": f"{GROUP}-0001-001",
                    "EngineVersion": "7.1.0",
                    "SecurityGroups": [{"SecurityGroupId": "sg-1", "Status": "active"}],
                    "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
                    "CacheSubnetGroupName": GROUP,
                }
            ]
        },
        {"CacheClusterId": f"{GROUP}-0001-001"},
    )
    ec.add_response(
        "modify_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP}},
        {"ReplicationGroupId": GROUP, "ApplyImmediately": True, "SecurityGroupIds": ["sg-2"]},
    )
    expect_describe(ec)
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "engine_version": "7.1",
        "security_group_ids": ["sg-2"],
        "maintenance_window": "SUN:05:00-SUN:06:00",
    }
    result = run(args, capsys)
    assert result["changes"] == [
        {"action": "update", "resource": "replication group t-redis", "attributes": ["security_group_ids"]}
    ]


def test_subnet_group_change_request_shape(aws, capsys):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "describe_cache_subnet_groups",
        {"CacheSubnetGroups": [{"CacheSubnetGroupName": GROUP, "Subnets": [{"SubnetIdentifier": "subnet-a"}]}]},
        {"CacheSubnetGroupName": GROUP},
    )
    ec.add_response(
        "modify_cache_subnet_group",
        {"CacheSubnetGroup": {"CacheSubnetGroupName": GROUP}},
        {"CacheSubnetGroupName": GROUP, "SubnetIds": ["subnet-a", "subnet-b"]},
    )
    ec.add_response(
        "describe_cache_clusters",
        {"CacheClusters": [{"CacheClusterId": f"{GROUP}-0001-001", "CacheSubnetGroupName": GROUP}]},
        {"CacheClusterId": f"{GROUP}-0001-001"},
    )
    args = {"replication_group_id": GROUP, "region": "us-east-1", "subnet_ids": ["subnet-a", "subnet-b"]}
    result = run(args, capsys)
    assert result["changes"][0]["attributes"] == ["subnet_ids"]


def test_auth_added_to_an_existing_group_rotates_the_secret_token_in(aws, capsys):
    ec, sm = aws["elasticache"], aws["secretsmanager"]
    expect_describe(ec, AuthTokenEnabled=False)
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET}-AbCdEf"
    sm.add_response("describe_secret", {"ARN": arn, "Name": SECRET}, {"SecretId": SECRET})
    sm.add_response("get_secret_value", {"ARN": arn, "SecretString": "s" * 64}, {"SecretId": SECRET})
    ec.add_response(
        "modify_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP}},
        {
            "ReplicationGroupId": GROUP,
            "ApplyImmediately": True,
            "AuthToken": "s" * 64,
            "AuthTokenUpdateStrategy": "ROTATE",
        },
    )
    expect_describe(ec)
    result = run({"replication_group_id": GROUP, "region": "us-east-1", "auth_token_secret_name": SECRET}, capsys)
    assert result["changes"][0]["attributes"] == ["auth_token"]
    assert "s" * 64 not in json.dumps(result)


def test_delete_on_aws_keeps_a_final_snapshot_and_waits_until_gone(aws, capsys):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "delete_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "deleting"}},
        {"ReplicationGroupId": GROUP, "FinalSnapshotIdentifier": "t-final"},
    )
    ec.add_client_error(
        "describe_replication_groups",
        service_error_code="ReplicationGroupNotFoundFault",
        http_status_code=404,
        expected_params={"ReplicationGroupId": GROUP},
    )
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "state": "absent",
        "final_snapshot_identifier": "t-final",
    }
    result = run(args, capsys)
    assert result["changes"] == [{"action": "delete", "resource": "replication group t-redis", "attributes": []}]
    assert result["skipped_calls"] == []


@pytest.fixture
def sleeps(monkeypatch):
    """The polls' sleeps at AWS's pace (REELLE_AWS_TIME_SCALE 1), recorded instead of slept."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "1")
    taken = []
    monkeypatch.setattr(reelle_waiters.time, "sleep", taken.append)
    return taken


def test_a_group_not_available_within_wait_timeout_fails_with_its_status(aws, capsys, sleeps):
    """Polled every 15 s for the whole wait_timeout (reelle_waiters' rule: 20 s is two polls)."""
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "modify_replication_group_shard_configuration",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "modifying"}},
        {"ReplicationGroupId": GROUP, "ApplyImmediately": True, "NodeGroupCount": 4},
    )
    expect_describe(ec, Status="modifying")
    expect_describe(ec, Status="modifying")
    args = {"replication_group_id": GROUP, "region": "us-east-1", "num_node_groups": 4, "wait_timeout": 20}
    result = run(args, capsys)
    assert (
        result["failed"] and result["msg"] == f"Timed out after 20 s waiting for replication group {GROUP}: modifying"
    )
    assert sleeps == [15]


def test_a_group_that_disappears_while_waiting_fails_clearly(aws, capsys, sleeps):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "modify_replication_group_shard_configuration",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "modifying"}},
        {"ReplicationGroupId": GROUP, "ApplyImmediately": True, "NodeGroupCount": 4},
    )
    ec.add_client_error(
        "describe_replication_groups", service_error_code="ReplicationGroupNotFoundFault", http_status_code=404
    )
    result = run({"replication_group_id": GROUP, "region": "us-east-1", "num_node_groups": 4}, capsys)
    assert result["failed"] and "disappeared while waiting" in result["msg"]
    assert sleeps == []


def test_a_delete_not_done_within_wait_timeout_fails(aws, capsys, sleeps):
    ec = aws["elasticache"]
    expect_describe(ec)
    ec.add_response(
        "delete_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "deleting"}},
        {"ReplicationGroupId": GROUP, "FinalSnapshotIdentifier": "t-final"},
    )
    for _poll in range(3):  # 31 s at 15 s a poll: three polls
        expect_describe(ec, Status="deleting")
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "state": "absent",
        "final_snapshot_identifier": "t-final",
        "wait_timeout": 31,
    }
    result = run(args, capsys)
    assert (
        result["failed"]
        and result["msg"] == f"Timed out after 31 s waiting for replication group {GROUP} to be deleted"
    )
    assert sleeps == [15, 15]


def test_create_on_aws_sends_the_whole_request(aws, capsys):
    ec, sm = aws["elasticache"], aws["secretsmanager"]
    ec.add_client_error(
        "describe_replication_groups", service_error_code="ReplicationGroupNotFoundFault", http_status_code=404
    )
    sm.add_client_error("describe_secret", service_error_code="ResourceNotFoundException", http_status_code=400)
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET}-AbCdEf"
    sm.add_response(
        "create_secret",
        {"ARN": arn, "Name": SECRET},
        {"Name": SECRET, "Description": ANY, "SecretString": ANY, "ClientRequestToken": ANY, "KmsKeyId": KEY_ARN},
    )
    ec.add_response(
        "create_replication_group",
        {"ReplicationGroup": group_shape(Status="creating")["ReplicationGroups"][0]},
        {
            "ReplicationGroupId": GROUP,
            "ReplicationGroupDescription": GROUP,
            "Engine": "redis",
            "EngineVersion": "7.1",
            "CacheNodeType": "cache.t3.medium",
            "ClusterMode": "enabled",
            "NumNodeGroups": 3,
            "ReplicasPerNodeGroup": 1,
            "AutomaticFailoverEnabled": True,
            "TransitEncryptionEnabled": True,
            "AtRestEncryptionEnabled": True,
            "KmsKeyId": KEY_ARN,
            "AuthToken": ANY,
            "CacheParameterGroupName": "default.redis7.cluster.on",
        },
    )
    expect_describe(ec)
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "engine_version": "7.1",
        "node_type": "cache.t3.medium",
        "num_node_groups": 3,
        "replicas_per_node_group": 1,
        "automatic_failover": True,
        "transit_encryption": True,
        "at_rest_encryption": True,
        "kms_key_id": KEY_ARN,
        "auth_token_secret_name": SECRET,
        "auth_token_secret_kms_key_id": KEY_ARN,
        "parameter_group": {"name": "default.redis7.cluster.on"},
    }
    result = run(args, capsys)
    assert result["auth_secret_arn"] == arn
    assert result["configuration_endpoint"] == f"clustercfg.{GROUP}.abc.use1.cache.amazonaws.com"


def test_absent_on_aws_deletes_subnet_group_parameter_group_and_schedules_the_secret(aws, capsys):
    ec, sm = aws["elasticache"], aws["secretsmanager"]
    expect_describe(ec)
    ec.add_response(
        "delete_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "deleting"}},
        {"ReplicationGroupId": GROUP},
    )
    ec.add_client_error("describe_replication_groups", service_error_code="ReplicationGroupNotFoundFault")
    ec.add_response(
        "describe_cache_subnet_groups",
        {"CacheSubnetGroups": [{"CacheSubnetGroupName": GROUP}]},
        {"CacheSubnetGroupName": GROUP},
    )
    ec.add_response("delete_cache_subnet_group", {}, {"CacheSubnetGroupName": GROUP})
    ec.add_response(
        "describe_cache_parameters", {"Parameters": []}, {"CacheParameterGroupName": "t-redis7", "Source": "user"}
    )
    ec.add_response("delete_cache_parameter_group", {}, {"CacheParameterGroupName": "t-redis7"})
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET}-AbCdEf"
    sm.add_response("describe_secret", {"ARN": arn, "Name": SECRET}, {"SecretId": SECRET})
    sm.add_response("delete_secret", {"ARN": arn, "Name": SECRET}, {"SecretId": SECRET})
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "state": "absent",
        "confirm_delete": GROUP,
        "subnet_ids": ["subnet-a"],
        "parameter_group": {"name": "t-redis7"},
        "auth_token_secret_name": SECRET,
    }
    result = run(args, capsys)
    assert [row["resource"] for row in result["changes"]] == [
        "replication group t-redis",
        "cache subnet group t-redis",
        "cache parameter group t-redis7",
        "secret t/redis/auth-token",
    ]
    assert {row["action"] for row in result["changes"]} == {"delete"}


# --- AUTH token: what AWS accepts -------------------------------------------

# 16-128 printable characters, non-alphanumerics limited to ! & # $ ^ < > - (ElastiCache user guide,
# "Authenticating with the AUTH command").
AWS_ACCEPTS = re.compile(r"^[A-Za-z0-9!&#$^<>-]{16,128}$")


class Matching:
    """A Stubber expected-parameter value that matches a regular expression."""

    __hash__ = None

    def __init__(self, pattern):
        self.pattern = re.compile(pattern)

    def __eq__(self, other):
        return isinstance(other, str) and bool(self.pattern.match(other))

    def __repr__(self):
        return f"Matching({self.pattern.pattern!r})"


def test_generated_tokens_are_letters_and_digits_that_aws_accepts():
    tokens = [module_under_test.generate_auth_token() for _ in range(200)]
    assert all(re.fullmatch(r"[A-Za-z0-9]{64}", token) for token in tokens)
    assert all(AWS_ACCEPTS.match(token) for token in tokens)
    assert len(set(tokens)) == len(tokens)


def test_create_on_aws_stores_and_sends_the_same_valid_token(aws, capsys):
    ec, sm = aws["elasticache"], aws["secretsmanager"]
    sm.add_client_error("describe_secret", service_error_code="ResourceNotFoundException", http_status_code=400)
    ec.add_client_error(
        "describe_replication_groups", service_error_code="ReplicationGroupNotFoundFault", http_status_code=404
    )
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET}-AbCdEf"
    sent = {}

    def capture(name):
        class Capture:
            __hash__ = None

            def __eq__(self, other):
                sent[name] = other
                return True

        return Capture()

    sm.add_response(
        "create_secret",
        {"ARN": arn, "Name": SECRET},
        {
            "Name": SECRET,
            "Description": ANY,
            "SecretString": capture("secret"),
            "ClientRequestToken": Matching(r"^[0-9a-f]{64}$"),
        },
    )
    ec.add_response(
        "create_replication_group",
        {"ReplicationGroup": group_shape(Status="creating")["ReplicationGroups"][0]},
        {
            "ReplicationGroupId": GROUP,
            "ReplicationGroupDescription": GROUP,
            "Engine": "redis",
            "CacheNodeType": "cache.t3.medium",
            "ClusterMode": "enabled",
            "TransitEncryptionEnabled": True,
            "AuthToken": capture("auth"),
        },
    )
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "node_type": "cache.t3.medium",
        "transit_encryption": True,
        "auth_token_secret_name": SECRET,
        "wait": False,
    }
    result = run(args, capsys)
    assert result["changed"]
    assert sent["secret"] == sent["auth"]
    assert re.fullmatch(r"[A-Za-z0-9]{64}", sent["secret"])


@pytest.mark.parametrize(
    "stored",
    [
        "a" * 30 + "_" + "b" * 30,  # what secrets.token_urlsafe used to make
        "short-token",
        "x" * 129,
        "with space inside the token",
        'at@sign/and"quote0123456789',
    ],
)
def test_a_stored_token_aws_would_reject_fails_before_any_elasticache_call(aws, capsys, stored):
    sm = aws["secretsmanager"]
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET}-AbCdEf"
    sm.add_response("describe_secret", {"ARN": arn, "Name": SECRET}, {"SecretId": SECRET})
    sm.add_response("get_secret_value", {"ARN": arn, "SecretString": stored}, {"SecretId": SECRET})
    args = {
        "replication_group_id": GROUP,
        "region": "us-east-1",
        "node_type": "cache.t3.medium",
        "transit_encryption": True,
        "auth_token_secret_name": SECRET,
    }
    result = run(args, capsys)
    assert result["failed"]
    assert SECRET in result["msg"] and "AUTH token" in result["msg"]
    assert "! & # $ ^ < > -" in result["msg"]
    assert stored not in json.dumps(result)
    # No ElastiCache call was made: its stubber had nothing queued and saw no request.
    assert not result.get("changes")
