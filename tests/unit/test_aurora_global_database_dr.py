# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aurora_global_database in a region outage and after it: the request shapes AWS gets (botocore's Stubber).

prod's global database writes in us-east-1 and has a secondary in eu-west-1. With us-east-1 listed in
``unreachable_regions`` the module must sign no request for it, not even a read: every request is recorded
with the region it is signed for, and us-east-1's stubs have nothing queued (a call there fails the test).
FailoverGlobalCluster and SwitchoverGlobalCluster are not served by moto 5.2.5, so every test here is a
Stubber test: the responses are AWS's documented shapes, validated against botocore's service model.
"""

import json
import types

import boto3
import botocore.client
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import EMULATOR_UNSUPPORTED
from ansible_collections.reelle.infra.plugins.modules import aurora_global_database as module_under_test
from botocore.stub import ANY, Stubber

ACCOUNT = "123456789012"
GLOBAL = "t-global"
SECRET = "t/aurora/master"
EAST, WEST = "us-east-1", "eu-west-1"
IDS = {EAST: "t-primary", WEST: "t-secondary"}
ARN = {region: f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{identifier}" for region, identifier in IDS.items()}
ZONES = {EAST: ["us-east-1a", "us-east-1b", "us-east-1c"], WEST: ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}


def run(args, capsys, check_mode=False):
    """Run the module's main() with these args; the parsed JSON result."""
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=False)), pytest.raises(SystemExit):
        module_under_test.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def aws(monkeypatch):
    """Stubbed rds and secretsmanager clients per region; ``calls`` lists (region, operation) of every request."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")  # waiter and poll delays of 0.05 s
    clients, stubs = {}, {}
    for service in ("rds", "secretsmanager"):
        for region in (EAST, WEST):
            clients[service, region] = boto3.client(
                service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
            )
            stubs[service, region] = Stubber(clients[service, region])
            stubs[service, region].activate()

    def client(self, service, retry_decorator=None, region=None, **kwargs):
        real = clients[service, region or EAST]
        return RetryingBotoClientWrapper(real, retry_decorator) if retry_decorator else real

    calls = []
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        calls.append((self.meta.region_name, operation))
        return original(self, operation, params)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    yield types.SimpleNamespace(east=stubs["rds", EAST], west=stubs["rds", WEST], stubs=stubs, calls=calls)
    for stub in stubs.values():
        stub.assert_no_pending_responses()


# --- AWS's answers ------------------------------------------------------------


def instance_ids(region, count):
    return [f"{IDS[region]}-{i + 1}" for i in range(count)]


def spec(region, role, count):
    """A cluster of the module's arguments: the writer and readers over the region's zones."""
    return {
        "region": region,
        "role": role,
        "identifier": IDS[region],
        "instance_class": "db.r5.xlarge",
        "instances": [
            {"identifier": name, "availability_zone": ZONES[region][i % 3], "promotion_tier": min(i, 1)}
            for i, name in enumerate(instance_ids(region, count))
        ],
    }


def args(east=3, west=3, **extra):
    """prod: us-east-1 primary (home of the master secret, replicated to eu-west-1), eu-west-1 secondary."""
    base = dict(
        region=WEST,
        global_cluster_identifier=GLOBAL,
        engine_version="15.4",
        master_secret_name=SECRET,
        master_secret_replica_regions=[{"region": WEST}],
        wait=True,
        clusters=[spec(EAST, "primary", east), spec(WEST, "secondary", west)],
    )
    return dict(base, **extra)


def global_cluster(writer=EAST, members=(EAST, WEST), failover=None, sync=None):
    glob = {
        "GlobalClusterIdentifier": GLOBAL,
        "GlobalClusterArn": f"arn:aws:rds::{ACCOUNT}:global-cluster:{GLOBAL}",
        "Engine": "aurora-postgresql",
        "EngineVersion": "15.4",
        "StorageEncrypted": True,
        "DeletionProtection": True,
        "Status": "available",
        "GlobalClusterMembers": [
            dict({"DBClusterArn": ARN[region], "IsWriter": region == writer}, **(sync or {}).get(region, {}))
            for region in members
        ],
    }
    if failover:
        glob["FailoverState"] = failover
    return {"GlobalClusters": [glob]}


def cluster(region, names, writer=None, status="available", member=True):
    found = {
        "DBClusterIdentifier": IDS[region],
        "DBClusterArn": ARN[region],
        "Engine": "aurora-postgresql",
        "EngineVersion": "15.4",
        "Status": status,
        "StorageEncrypted": True,
        "DeletionProtection": True,
        "DBClusterMembers": [{"DBInstanceIdentifier": name, "IsClusterWriter": name == writer} for name in names],
    }
    if member:
        found["GlobalClusterIdentifier"] = GLOBAL
    return {"DBClusters": [found]}


def instances(region, names):
    return {
        "DBInstances": [
            {
                "DBInstanceIdentifier": name,
                "DBInstanceArn": f"arn:aws:rds:{region}:{ACCOUNT}:db:{name}",
                "DBInstanceClass": "db.r5.xlarge",
                "AvailabilityZone": ZONES[region][i % 3],
                "PromotionTier": min(i, 1),
                "DBInstanceStatus": "available",
            }
            for i, name in enumerate(names)
        ]
    }


def by_id(region):
    return {"Filters": [{"Name": "db-cluster-id", "Values": [IDS[region]]}]}


def expect_cluster(stub, region, names, writer=None, member=True):
    stub.add_response("describe_db_clusters", cluster(region, names, writer, member=member), by_id(region))
    stub.add_response("describe_db_instances", instances(region, names), by_id(region))


def expect_subnet_group(stub, region):
    stub.add_response(
        "describe_db_subnet_groups",
        {"DBSubnetGroups": [{"DBSubnetGroupName": IDS[region], "Subnets": []}]},
        {"DBSubnetGroupName": IDS[region]},
    )


def expect_available(stub, region, kind, names):
    """One answer per botocore waiter: db_cluster_available or db_instance_available."""
    for name in names:
        if kind == "cluster":
            stub.add_response("describe_db_clusters", cluster(region, []), {"DBClusterIdentifier": name})
        else:
            stub.add_response("describe_db_instances", instances(region, [name]), {"DBInstanceIdentifier": name})


def expect_replica_secret(aws):
    aws.stubs["secretsmanager", WEST].add_response(
        "describe_secret",
        {"ARN": f"arn:aws:secretsmanager:{WEST}:{ACCOUNT}:secret:{SECRET}-AbC", "Name": SECRET, "PrimaryRegion": EAST},
        {"SecretId": SECRET},
    )


def expect_outage_reads(aws, writer=EAST, west=1, west_writer=None):
    """The reads of a run with us-east-1 unreachable: everything through eu-west-1."""
    aws.west.add_response("describe_global_clusters", global_cluster(writer), {"GlobalClusterIdentifier": GLOBAL})
    expect_cluster(aws.west, WEST, instance_ids(WEST, west), west_writer)
    expect_subnet_group(aws.west, WEST)


def warnings(result):
    """The texts of the result's warnings (ansible-core 2.19 returns them as WarningSummary dicts)."""
    return [item["event"]["msg"] if isinstance(item, dict) else item for item in result.get("warnings", [])]


def mutating(calls):
    """Every request that is not a read."""
    return [call for call in calls if not call[1].startswith(("Describe", "List", "Get"))]


def expect_secret(aws):
    """The master secret in its own region (us-east-1), replicated to eu-west-1."""
    aws.stubs["secretsmanager", EAST].add_response(
        "describe_secret",
        {
            "ARN": f"arn:aws:secretsmanager:{EAST}:{ACCOUNT}:secret:{SECRET}-AbC",
            "Name": SECRET,
            "ReplicationStatus": [{"Region": WEST, "Status": "InSync"}],
        },
        {"SecretId": SECRET},
    )


# --- the outage: nothing is asked of us-east-1 --------------------------------


def expect_failover_to_west(aws, states=("pending", "failing-over")):
    aws.west.add_response(
        "failover_global_cluster",
        {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}},
        {"GlobalClusterIdentifier": GLOBAL, "TargetDbClusterIdentifier": ARN[WEST], "AllowDataLoss": True},
    )
    for status in states:  # AWS: FailoverState is there while the failover runs, IsWriter still the old one
        running = {"Status": status, "FromDbClusterArn": ARN[EAST], "ToDbClusterArn": ARN[WEST]}
        aws.west.add_response("describe_global_clusters", global_cluster(EAST, failover=running))
    aws.west.add_response("describe_global_clusters", global_cluster(WEST))


def test_failover_from_the_surviving_region_makes_no_call_to_the_unreachable_one(aws, capsys):
    expect_outage_reads(aws)
    expect_failover_to_west(aws)
    expect_available(aws.west, WEST, "cluster", [IDS[WEST]])
    # The promoted cluster is read again: its instance now writes.
    expect_cluster(aws.west, WEST, instance_ids(WEST, 1), writer=f"{IDS[WEST]}-1")
    expect_replica_secret(aws)
    for name in instance_ids(WEST, 3)[1:]:
        aws.west.add_response(
            "create_db_instance",
            {"DBInstance": {"DBInstanceIdentifier": name}},
            {
                "DBInstanceIdentifier": name,
                "DBClusterIdentifier": IDS[WEST],
                "Engine": "aurora-postgresql",
                "PubliclyAccessible": False,
                "Tags": [],
                "DBInstanceClass": "db.r5.xlarge",
                "PromotionTier": 1,
                "AvailabilityZone": ZONES[WEST][int(name[-1]) - 1],
            },
        )
    expect_available(aws.west, WEST, "instance", instance_ids(WEST, 3)[1:])
    aws.west.add_response("describe_global_clusters", global_cluster(WEST))  # read back
    expect_cluster(aws.west, WEST, instance_ids(WEST, 3), writer=f"{IDS[WEST]}-1")

    result = run(args(east=3, west=3, unreachable_regions=[EAST], promote_region=WEST), capsys)

    assert not result.get("failed"), result.get("msg")
    assert {region for region, _operation in aws.calls} == {WEST}, aws.calls
    assert mutating(aws.calls) == [(WEST, "FailoverGlobalCluster"), *[(WEST, "CreateDBInstance")] * 2]
    # The failover came first, before anything was converged (the outage's RTO).
    assert [op for _r, op in aws.calls].index("FailoverGlobalCluster") < [op for _r, op in aws.calls].index(
        "DescribeSecret"
    )
    assert result["changes"] == [
        {"action": "update", "resource": f"global_cluster {GLOBAL}", "attributes": [f"writer:{WEST}"]},
        {"action": "create", "resource": f"db_instance {WEST}/{IDS[WEST]}-2", "attributes": []},
        {"action": "create", "resource": f"db_instance {WEST}/{IDS[WEST]}-3", "attributes": []},
    ]
    assert result["writer_region"] == result["primary_region"] == WEST and result["data_loss_allowed"] is True
    assert any("AllowDataLoss" in w and "RPO" in w and "not yet replicated" in w for w in warnings(result))
    assert any("no call was made to us-east-1" in w for w in warnings(result))
    east, west = result["clusters"][EAST], result["clusters"][WEST]
    assert east["status"] == "unreachable" and east["instance_ids"] == [] and east["endpoint"] is None
    assert east["role"] == "secondary" and east["arn"] == ARN[EAST]  # as the global cluster's members say
    assert west["role"] == "primary" and west["writer"] == f"{IDS[WEST]}-1" and len(west["instance_ids"]) == 3
    # The secret's ARN from its replica in eu-west-1; us-east-1's secret was not read.
    assert result["master_secret_arn"] == f"arn:aws:secretsmanager:{EAST}:{ACCOUNT}:secret:{SECRET}-AbC"
    assert result["master_secret_replica_arns"] == {
        WEST: f"arn:aws:secretsmanager:{WEST}:{ACCOUNT}:secret:{SECRET}-AbC"
    }


def test_check_mode_plans_the_failover_and_the_readers_without_a_mutating_call(aws, capsys):
    expect_outage_reads(aws)
    expect_replica_secret(aws)
    result = run(args(unreachable_regions=[EAST], promote_region=WEST), capsys, check_mode=True)
    assert mutating(aws.calls) == [] and {region for region, _op in aws.calls} == {WEST}
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("update", f"global_cluster {GLOBAL}"),
        ("create", f"db_instance {WEST}/{IDS[WEST]}-2"),
        ("create", f"db_instance {WEST}/{IDS[WEST]}-3"),
    ]
    assert result["data_loss_allowed"] is True and result["changed"]
    assert any(w.startswith("Check mode - would fail over") and "RPO" in w for w in warnings(result))
    assert result["primary_region"] == EAST  # the writer as AWS has it: nothing moved


def test_a_second_run_after_the_failover_changes_nothing(aws, capsys):
    names = instance_ids(WEST, 3)
    aws.west.add_response("describe_global_clusters", global_cluster(WEST))
    expect_cluster(aws.west, WEST, names, writer=names[0])
    expect_subnet_group(aws.west, WEST)
    expect_replica_secret(aws)
    result = run(args(unreachable_regions=[EAST], promote_region=WEST), capsys)
    assert not result["changed"] and result["changes"] == [] and mutating(aws.calls) == []
    assert {region for region, _op in aws.calls} == {WEST}
    assert result["writer_region"] == WEST and result["data_loss_allowed"] is False


def test_a_failover_cancelled_by_aws_fails_the_run(aws, capsys):
    expect_outage_reads(aws)
    aws.west.add_response("failover_global_cluster", {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}})
    for status in ("pending", "cancelling"):
        running = {"Status": status, "ToDbClusterArn": ARN[WEST]}
        aws.west.add_response("describe_global_clusters", global_cluster(EAST, failover=running))
    aws.west.add_response("describe_global_clusters", global_cluster(EAST))
    result = run(args(unreachable_regions=[EAST], promote_region=WEST), capsys)
    assert result["failed"] and "was cancelled (pending, cancelling)" in result["msg"], result.get("msg")
    assert result["changes"] == [
        {"action": "update", "resource": f"global_cluster {GLOBAL}", "attributes": [f"writer:{WEST}"]}
    ]


def test_a_failover_to_the_target_already_running_is_waited_for_not_requested_again(aws, capsys):
    running = {"Status": "failing-over", "ToDbClusterArn": ARN[WEST], "IsDataLossAllowed": True}
    aws.west.add_response("describe_global_clusters", global_cluster(EAST, failover=running))
    expect_cluster(aws.west, WEST, instance_ids(WEST, 3))
    expect_subnet_group(aws.west, WEST)
    aws.west.add_response("describe_global_clusters", global_cluster(WEST))
    expect_available(aws.west, WEST, "cluster", [IDS[WEST]])
    expect_cluster(aws.west, WEST, instance_ids(WEST, 3), writer=f"{IDS[WEST]}-1")
    expect_replica_secret(aws)
    result = run(args(unreachable_regions=[EAST], promote_region=WEST), capsys)
    assert mutating(aws.calls) == [] and not result["changed"], result.get("msg")
    assert result["writer_region"] == WEST and result["data_loss_allowed"] is True


# --- validation: before any call ----------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unreachable_regions": [WEST], "promote_region": WEST}, "promote_region eu-west-1 is in unreachable_regions"),
        (
            {"unreachable_regions": [EAST], "promote_region": WEST, "promote_mode": "switchover"},
            "a switchover first synchronizes the secondary with the primary",
        ),
        (
            {"unreachable_regions": [EAST], "promote_region": WEST, "promote_mode": "switchover"},
            "use promote_mode failover (or auto), which fails over with AllowDataLoss",
        ),
        ({"unreachable_regions": ["us-east-2"]}, "unreachable_regions us-east-2 is not the region of any of clusters"),
        ({"unreachable_regions": [EAST, WEST]}, "at least one region must answer"),
        ({"unreachable_regions": [EAST], "state": "absent", "confirm_delete": GLOBAL}, "state=absent cannot run"),
    ],
)
def test_bad_outage_input_fails_before_any_call(aws, capsys, change, message):
    result = run(args(**change), capsys)
    assert result["failed"] and message in result["msg"], result.get("msg")
    assert aws.calls == []


def test_a_switchover_is_refused_when_the_writer_read_from_aws_is_unreachable(aws, capsys):
    """After a failover eu-west-1 writes; eu-west-1 down, a switchover back to us-east-1 cannot run."""
    aws.east.add_response("describe_global_clusters", global_cluster(WEST))
    expect_cluster(aws.east, EAST, instance_ids(EAST, 3))
    expect_subnet_group(aws.east, EAST)
    expect_secret(aws)
    result = run(args(unreachable_regions=[WEST], promote_region=EAST, promote_mode="switchover"), capsys)
    assert result["failed"] and "its region eu-west-1 is in unreachable_regions" in result["msg"], result.get("msg")
    assert mutating(aws.calls) == [] and {region for region, _op in aws.calls} == {EAST}


def test_a_switchover_to_a_cluster_still_resynchronizing_is_refused(aws, capsys):
    aws.east.add_response(
        "describe_global_clusters", global_cluster(WEST, sync={EAST: {"SynchronizationStatus": "pending-resync"}})
    )
    for stub, region in ((aws.east, EAST), (aws.west, WEST)):
        expect_cluster(stub, region, instance_ids(region, 3))
        expect_subnet_group(stub, region)
    expect_secret(aws)
    result = run(args(promote_region=EAST, promote_mode="switchover"), capsys)
    assert result["failed"] and "pending-resync" in result["msg"] and mutating(aws.calls) == []


# --- failback ---------------------------------------------------------------------


def test_failback_switches_over_through_the_writer_then_shrinks_the_old_writer(aws, capsys):
    """(a) AWS re-added us-east-1 as a secondary: converge it, switch over, and only then delete eu-west-1's
    extra readers (with the writers read anew: the old writer keeps its readers while it writes)."""
    west_names = instance_ids(WEST, 3)
    aws.east.add_response("describe_global_clusters", global_cluster(WEST))
    expect_cluster(aws.east, EAST, instance_ids(EAST, 3))
    expect_subnet_group(aws.east, EAST)
    expect_cluster(aws.west, WEST, west_names, writer=west_names[0])
    expect_subnet_group(aws.west, WEST)
    expect_secret(aws)
    aws.west.add_response(
        "switchover_global_cluster",
        {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}},
        {"GlobalClusterIdentifier": GLOBAL, "TargetDbClusterIdentifier": ARN[EAST]},
    )
    running = {"Status": "switching-over", "FromDbClusterArn": ARN[WEST], "ToDbClusterArn": ARN[EAST]}
    aws.east.add_response("describe_global_clusters", global_cluster(WEST, failover=running))
    aws.east.add_response("describe_global_clusters", global_cluster(EAST))
    expect_available(aws.east, EAST, "cluster", [IDS[EAST]])
    expect_cluster(aws.east, EAST, instance_ids(EAST, 3), writer=f"{IDS[EAST]}-1")
    expect_cluster(aws.west, WEST, west_names)  # a secondary now: no writer instance
    for name in west_names[1:]:
        aws.west.add_response("delete_db_instance", {"DBInstance": {}}, {"DBInstanceIdentifier": name})
    result = run(args(east=3, west=1, promote_region=EAST, promote_mode="switchover", wait=True), capsys)
    assert not result.get("failed"), result.get("msg")
    assert mutating(aws.calls) == [
        (WEST, "SwitchoverGlobalCluster"),
        (WEST, "DeleteDBInstance"),
        (WEST, "DeleteDBInstance"),
    ]
    assert result["writer_region"] == EAST and result["data_loss_allowed"] is False
    assert result["clusters"][EAST]["role"] == "primary" and result["clusters"][WEST]["role"] == "secondary"


def test_without_wait_the_readers_of_the_promoted_clusters_are_not_deleted_yet(aws, capsys):
    """Right after a switchover AWS may not have chosen the new writer instance: deleting now could hit it."""
    west_names = instance_ids(WEST, 3)
    aws.east.add_response("describe_global_clusters", global_cluster(WEST))
    expect_cluster(aws.east, EAST, instance_ids(EAST, 3))
    expect_subnet_group(aws.east, EAST)
    expect_cluster(aws.west, WEST, west_names, writer=west_names[0])
    expect_subnet_group(aws.west, WEST)
    expect_secret(aws)
    aws.west.add_response("switchover_global_cluster", {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}})
    running = {"Status": "switching-over", "ToDbClusterArn": ARN[EAST]}
    aws.east.add_response("describe_global_clusters", global_cluster(WEST, failover=running))
    result = run(args(east=3, west=1, promote_region=EAST, wait=False), capsys)
    assert mutating(aws.calls) == [(WEST, "SwitchoverGlobalCluster")], aws.calls
    assert any("not deleted yet" in w and f"{IDS[WEST]}-2" in w for w in warnings(result))
    assert result["writer_region"] == WEST  # as AWS answered right after the call


def expect_detached_east(aws):
    """After a failover with data loss us-east-1's cluster is back but outside the global cluster."""
    aws.east.add_response("describe_global_clusters", global_cluster(WEST, members=(WEST,)))
    expect_cluster(aws.east, EAST, instance_ids(EAST, 3), writer=f"{IDS[EAST]}-1", member=False)
    expect_subnet_group(aws.east, EAST)
    expect_cluster(aws.west, WEST, instance_ids(WEST, 3), writer=f"{IDS[WEST]}-1")
    expect_subnet_group(aws.west, WEST)
    expect_secret(aws)


def test_a_detached_old_primary_is_not_touched_without_confirm_rebuild(aws, capsys):
    expect_detached_east(aws)
    result = run(args(promote_region=EAST, promote_mode="switchover"), capsys)
    assert result["failed"] and mutating(aws.calls) == []
    assert "Set confirm_rebuild to 't-primary'" in result["msg"]
    assert "it may hold writes the failover lost" in result["msg"]
    assert "t-primary-rebuild-<timestamp>, kept" in result["msg"]
    expect_detached_east(aws)
    wrong = run(args(confirm_rebuild=IDS[WEST]), capsys)  # another cluster's name confirms nothing
    assert wrong["failed"] and "Set confirm_rebuild to 't-primary'" in wrong["msg"] and mutating(aws.calls) == []


def test_check_mode_plans_the_rebuild_without_a_mutating_call(aws, capsys):
    expect_detached_east(aws)
    result = run(args(confirm_rebuild=IDS[EAST]), capsys, check_mode=True)
    assert mutating(aws.calls) == [], aws.calls
    rows = [(row["action"], row["resource"]) for row in result["changes"]]
    assert rows == [
        *[("delete", f"db_instance {EAST}/{name}") for name in instance_ids(EAST, 3)],
        ("update", f"db_cluster {EAST}/{IDS[EAST]}"),  # deletion protection off
        ("delete", f"db_cluster {EAST}/{IDS[EAST]}"),
        ("create", f"db_cluster {EAST}/{IDS[EAST]}"),
        *[("create", f"db_instance {EAST}/{name}") for name in instance_ids(EAST, 3)],
    ]
    assert result["rebuild_snapshot_identifiers"][0].startswith(f"{IDS[EAST]}-rebuild-")
    assert result["clusters"][EAST]["role"] == "secondary"


def test_rebuild_snapshots_deletes_and_creates_a_secondary(aws, capsys):
    """(b) confirmed: the final snapshot keeps the detached cluster's data; the new cluster joins the global
    cluster as a secondary (no master credentials, no database name: AWS rejects them on a secondary)."""
    expect_detached_east(aws)
    names = instance_ids(EAST, 3)
    for name in names:
        aws.east.add_response("delete_db_instance", {"DBInstance": {}}, {"DBInstanceIdentifier": name})
    for name in names:  # waited for even with wait=false: the cluster cannot go before its instances
        aws.east.add_client_error(
            "describe_db_instances", "DBInstanceNotFound", expected_params={"DBInstanceIdentifier": name}
        )
    aws.east.add_response(
        "modify_db_cluster",
        {"DBCluster": {}},
        {"DBClusterIdentifier": IDS[EAST], "DeletionProtection": False, "ApplyImmediately": True},
    )
    aws.east.add_response(
        "delete_db_cluster", {"DBCluster": {}}, {"DBClusterIdentifier": IDS[EAST], "FinalDBSnapshotIdentifier": ANY}
    )
    aws.east.add_client_error(
        "describe_db_clusters", "DBClusterNotFoundFault", expected_params={"DBClusterIdentifier": IDS[EAST]}
    )
    aws.east.add_response(
        "create_db_cluster",
        {"DBCluster": {}},
        {
            "DBClusterIdentifier": IDS[EAST],
            "Tags": [],
            "CopyTagsToSnapshot": True,
            "DeletionProtection": True,
            "Engine": "aurora-postgresql",
            "EngineVersion": "15.4",
            "GlobalClusterIdentifier": GLOBAL,
            "DBSubnetGroupName": IDS[EAST],
            "StorageEncrypted": True,
        },
    )
    created = ("DBClusterIdentifier", "Engine", "PubliclyAccessible", "Tags", "DBInstanceClass", "PromotionTier")
    for name in names:
        aws.east.add_response(
            "create_db_instance",
            {"DBInstance": {}},
            {"DBInstanceIdentifier": name, "AvailabilityZone": ANY, **dict.fromkeys(created, ANY)},
        )
    aws.east.add_response("describe_global_clusters", global_cluster(WEST))  # read back: a member again
    expect_cluster(aws.east, EAST, names)
    expect_cluster(aws.west, WEST, instance_ids(WEST, 3), writer=f"{IDS[WEST]}-1")

    result = run(args(confirm_rebuild=IDS[EAST], wait=False), capsys)

    assert not result.get("failed"), result.get("msg")
    deleted = [call for call in aws.calls if call[1] == "DeleteDBCluster"]
    assert deleted == [(EAST, "DeleteDBCluster")]
    snapshot = result["rebuild_snapshot_identifiers"][0]
    assert snapshot.startswith(f"{IDS[EAST]}-rebuild-") and any(snapshot in w for w in warnings(result))
    order = [op for _r, op in mutating(aws.calls)]
    assert order.index("DeleteDBCluster") < order.index("CreateDBCluster") < order.index("CreateDBInstance")
    assert result["clusters"][EAST]["role"] == "secondary" and result["writer_region"] == WEST


def test_after_the_rebuild_a_second_run_changes_nothing(aws, capsys):
    aws.east.add_response("describe_global_clusters", global_cluster(WEST))
    expect_cluster(aws.east, EAST, instance_ids(EAST, 3))
    expect_subnet_group(aws.east, EAST)
    expect_cluster(aws.west, WEST, instance_ids(WEST, 3), writer=f"{IDS[WEST]}-1")
    expect_subnet_group(aws.west, WEST)
    expect_secret(aws)
    result = run(args(confirm_rebuild=IDS[EAST]), capsys)
    assert not result["changed"] and mutating(aws.calls) == [] and result["rebuild_snapshot_identifiers"] == []


# --- the emulator -----------------------------------------------------------------


def test_the_emulator_no_longer_skips_failover_and_switchover(aws, capsys, monkeypatch):
    """The recording emulator serves both calls: on it they are made like on AWS, not skipped."""
    assert ("rds", "failover_global_cluster") not in EMULATOR_UNSUPPORTED
    assert ("rds", "switchover_global_cluster") not in EMULATOR_UNSUPPORTED
    monkeypatch.setenv("REELLE_AWS_TARGET", "emulator")
    expect_outage_reads(aws)
    aws.west.add_response("failover_global_cluster", {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}})
    aws.west.add_response("describe_global_clusters", global_cluster(WEST))
    expect_replica_secret(aws)
    result = run(args(west=1, unreachable_regions=[EAST], promote_region=WEST, wait=False), capsys)
    assert (WEST, "FailoverGlobalCluster") in aws.calls and result["skipped_calls"] == []
    assert result["writer_region"] == WEST
