# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aurora_global_database: against the emulator (moto server), and Stubber tests for the calls it lacks."""

import json
import urllib.request

import boto3
import botocore.client
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils import reelle_waiters
from ansible_collections.reelle.infra.plugins.modules import aurora_global_database as module_under_test
from botocore.stub import Stubber

GLOBAL = "t-global"
PRIMARY = "t-primary"
SECONDARY = "t-secondary"
SECRET = "t/aurora/master"
ZONES = {"us-east-1": ["us-east-1a", "us-east-1b", "us-east-1c"], "eu-west-1": ["eu-west-1a", "eu-west-1b"]}


@pytest.fixture(autouse=True)
def _patient_reset(request):
    """Wipe the emulator with a generous timeout first: two regions of EC2 state take a while to reset
    on a loaded machine, longer than the shared fixture's 10 s; its own reset then finds little to do."""
    if "emulator" in request.fixturenames:
        server = request.getfixturevalue("emulator_server")
        urllib.request.urlopen(urllib.request.Request(f"{server.endpoint}/moto-api/reset", method="POST"), timeout=120)


def run(args, capsys, check_mode=False, diff=False):
    """Run the module's main() with these args; the parsed JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        module_under_test.main()
    return json.loads(capsys.readouterr().out)


def rds(region="us-east-1"):
    return boto3.client("rds", region_name=region)


@pytest.fixture
def upstream(emulator):
    """Per region: private subnets over the zones, a database security group, a KMS key."""
    found = {}
    for index, (region, zones) in enumerate(ZONES.items()):
        ec2 = boto3.client("ec2", region_name=region)
        vpc = ec2.create_vpc(CidrBlock=f"10.{50 + index}.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{50 + index}.{i}.0/24", AvailabilityZone=zone)["Subnet"][
                "SubnetId"
            ]
            for i, zone in enumerate(zones)
        ]
        group = ec2.create_security_group(VpcId=vpc, GroupName="t-db", Description="db")["GroupId"]
        key = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["Arn"]
        found[region] = {"subnet_ids": subnets, "vpc_security_group_ids": [group], "kms_key_id": key}
    return found


def readers(count, prefix=PRIMARY, zones=ZONES["us-east-1"]):
    """Writer first, then `count` readers spread over the zones."""
    return [
        {"identifier": f"{prefix}-{i}", "availability_zone": zones[i % len(zones)], "promotion_tier": min(i, 1)}
        for i in range(count + 1)
    ]


FAKE_NETWORK = {
    region: {"subnet_ids": ["subnet-1", "subnet-2"], "vpc_security_group_ids": ["sg-1"], "kms_key_id": None}
    for region in ZONES
}


@pytest.fixture
def prod(upstream):
    return prod_args(upstream)


@pytest.fixture
def paper_prod(emulator):
    """The prod arguments without a network behind them (for runs that fail or plan before touching anything)."""
    return prod_args(FAKE_NETWORK)


def prod_args(upstream):
    """The prod figures: primary 1 writer + 2 readers db.r5.xlarge over 3 AZs, secondary 1 instance, 30 days."""
    return dict(
        region="us-east-1",
        global_cluster_identifier=GLOBAL,
        engine_version="15.4",
        master_secret_name=SECRET,
        database_name="reelle",
        backup_retention_period=30,
        preferred_backup_window="03:00-04:00",
        copy_tags_to_snapshot=True,
        enable_cloudwatch_logs_exports=["postgresql"],
        cluster_parameter_group_name="t-aurora-pg15",
        cluster_parameters={"max_connections": 1000},
        tags={"environment": "test"},
        primary_tags={"backup": "hourly"},
        clusters=[
            dict(
                region="us-east-1",
                role="primary",
                identifier=PRIMARY,
                instance_class="db.r5.xlarge",
                instances=readers(2),
                **upstream["us-east-1"],
            ),
            dict(
                region="eu-west-1",
                role="secondary",
                identifier=SECONDARY,
                instance_class="db.r5.xlarge",
                instances=[{"identifier": f"{SECONDARY}-0"}],
                **upstream["eu-west-1"],
            ),
        ],
    )


def with_primary(args, **change):
    clusters = [dict(args["clusters"][0], **change), *args["clusters"][1:]]
    return dict(args, clusters=clusters)


def cluster(identifier=PRIMARY, region="us-east-1"):
    return rds(region).describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]


def instances(identifier=PRIMARY, region="us-east-1"):
    found = rds(region).describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [identifier]}])
    return {item["DBInstanceIdentifier"]: item for item in found["DBInstances"]}


@pytest.fixture
def calls(monkeypatch):
    """The AWS operations the module makes, in order."""
    made = []
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        made.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return made


# --- against the emulator ---------------------------------------------------


def test_create_builds_the_whole_topology_and_keeps_the_password_out(prod, capsys):
    result = run(prod, capsys)
    assert result["changed"]
    creates = [row["resource"] for row in result["changes"] if row["action"] == "create"]
    assert creates == [
        f"secret {SECRET}",
        f"global_cluster {GLOBAL}",
        f"db_subnet_group us-east-1/{PRIMARY}",
        "db_cluster_parameter_group us-east-1/t-aurora-pg15",
        f"db_cluster us-east-1/{PRIMARY}",
        *(f"db_instance us-east-1/{PRIMARY}-{i}" for i in range(3)),
        f"db_subnet_group eu-west-1/{SECONDARY}",
        "db_cluster_parameter_group eu-west-1/t-aurora-pg15",
        f"db_cluster eu-west-1/{SECONDARY}",
        f"db_instance eu-west-1/{SECONDARY}-0",
    ]
    glob = rds().describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0]
    assert {member["DBClusterArn"] for member in glob["GlobalClusterMembers"]} == {
        cluster()["DBClusterArn"],
        cluster(SECONDARY, "eu-west-1")["DBClusterArn"],
    }
    assert glob["StorageEncrypted"] and glob["DeletionProtection"] and glob["Engine"] == "aurora-postgresql"
    primary = cluster()
    assert primary["StorageEncrypted"] and primary["DeletionProtection"] and primary["BackupRetentionPeriod"] == 30
    assert primary["KmsKeyId"] == prod["clusters"][0]["kms_key_id"]
    assert primary["DBClusterParameterGroup"] == "t-aurora-pg15"
    assert primary["EnabledCloudwatchLogsExports"] == ["postgresql"]
    assert {tag["Key"]: tag["Value"] for tag in primary["TagList"]} == {"environment": "test", "backup": "hourly"}
    members = instances()
    assert {item["DBInstanceClass"] for item in members.values()} == {"db.r5.xlarge"}
    assert sorted(item["AvailabilityZone"] for item in members.values()) == ZONES["us-east-1"]
    secondary = cluster(SECONDARY, "eu-west-1")
    assert secondary["KmsKeyId"] == prod["clusters"][1]["kms_key_id"] and secondary["StorageEncrypted"]
    assert "backup" not in {tag["Key"] for tag in secondary["TagList"]}
    assert list(instances(SECONDARY, "eu-west-1")) == [f"{SECONDARY}-0"]
    params = rds().describe_db_cluster_parameters(DBClusterParameterGroupName="t-aurora-pg15", Source="user")
    assert {p["ParameterName"]: p["ParameterValue"] for p in params["Parameters"]} == {"max_connections": "1000"}
    # Outputs
    assert result["global_cluster_arn"].endswith(f":global-cluster:{GLOBAL}")
    assert result["primary_region"] == "us-east-1"
    assert result["backup_retention_period"] == 30
    out = result["clusters"]["us-east-1"]
    assert out["endpoint"] == primary["Endpoint"] and out["reader_endpoint"] == primary["ReaderEndpoint"]
    assert out["instance_ids"] == [f"{PRIMARY}-{i}" for i in range(3)] and out["writer"] == f"{PRIMARY}-0"
    assert result["clusters"]["eu-west-1"]["arn"] == secondary["DBClusterArn"]
    secret = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(SecretId=SECRET)
    credentials = json.loads(secret["SecretString"])
    assert credentials["username"] == "app_admin" and len(credentials["password"]) == 32
    assert result["master_secret_arn"] == secret["ARN"]
    assert credentials["password"] not in json.dumps(result)


def test_second_run_changes_nothing_with_few_describe_calls(prod, capsys, calls):
    run(prod, capsys)
    calls.clear()
    result = run(prod, capsys)
    assert not result["changed"] and result["changes"] == []
    # describe_global_clusters, 2 x (clusters, instances, subnet group, cluster parameters), describe_secret
    assert len(calls) == 10, calls
    assert sorted(set(calls)) == [
        "DescribeDBClusterParameters",
        "DescribeDBClusters",
        "DescribeDBInstances",
        "DescribeDBSubnetGroups",
        "DescribeGlobalClusters",
        "DescribeSecret",
    ]


def test_check_mode_on_an_empty_account_creates_nothing_and_accepts_null_upstream_ids(paper_prod, capsys):
    args = with_primary(paper_prod, subnet_ids=[None, None], vpc_security_group_ids=[None], kms_key_id=None)
    result = run(args, capsys, check_mode=True)
    assert result["changed"]
    assert len([row for row in result["changes"] if row["action"] == "create"]) == 12
    assert result["global_cluster_arn"] is None and result["master_secret_arn"] is None
    assert result["clusters"]["us-east-1"]["endpoint"] is None
    assert rds().describe_db_clusters()["DBClusters"] == []
    assert rds("eu-west-1").describe_db_clusters()["DBClusters"] == []
    assert boto3.client("secretsmanager", region_name="us-east-1").list_secrets()["SecretList"] == []


def test_readers_are_added_and_removed_to_match(prod, capsys):
    run(prod, capsys)
    for count, action, ids in (
        (3, "create", [f"{PRIMARY}-3"]),
        (1, "delete", [f"{PRIMARY}-2", f"{PRIMARY}-3"]),
        (0, "delete", [f"{PRIMARY}-1"]),
        (2, "create", [f"{PRIMARY}-1", f"{PRIMARY}-2"]),
    ):
        args = with_primary(prod, instances=readers(count))
        result = run(args, capsys)
        assert [(row["action"], row["resource"]) for row in result["changes"]] == [
            (action, f"db_instance us-east-1/{identifier}") for identifier in ids
        ], count
        assert sorted(instances()) == [f"{PRIMARY}-{i}" for i in range(count + 1)]
        assert result["clusters"]["us-east-1"]["instance_ids"] == [f"{PRIMARY}-{i}" for i in range(count + 1)]
        assert not run(args, capsys)["changed"]


def test_instance_class_changes_in_place(prod, capsys):
    run(prod, capsys)
    args = with_primary(prod, instance_class="db.r6g.xlarge")
    result = run(args, capsys, diff=True)
    assert [(row["action"], row["resource"], row["attributes"]) for row in result["changes"]] == [
        ("update", f"db_instance us-east-1/{PRIMARY}-{i}", ["DBInstanceClass"]) for i in range(3)
    ]
    assert result["diff"]["after"][f"db_instance us-east-1/{PRIMARY}-0"] == {"DBInstanceClass": "db.r6g.xlarge"}
    assert {item["DBInstanceClass"] for item in instances().values()} == {"db.r6g.xlarge"}
    assert not run(args, capsys)["changed"]


def test_cluster_settings_and_parameters_are_modified_then_settle(prod, capsys):
    run(prod, capsys)
    args = dict(prod, backup_retention_period=14, cluster_parameters={"max_connections": 1500})
    result = run(args, capsys)
    rows = {(row["resource"], tuple(row["attributes"])) for row in result["changes"]}
    assert (f"db_cluster us-east-1/{PRIMARY}", ("BackupRetentionPeriod",)) in rows
    assert ("db_cluster_parameter_group eu-west-1/t-aurora-pg15", ("parameters.max_connections",)) in rows
    assert cluster()["BackupRetentionPeriod"] == 14
    assert not run(args, capsys)["changed"]


REFUSALS = [
    ({"storage_encrypted": False}, "StorageEncrypted True, not False: that would replace it"),
    ({"master_username": "root"}, "MasterUsername 'app_admin'; master_username 'root' would replace it"),
    ({"database_name": "other"}, "DatabaseName 'reelle'; database_name 'other' would replace it"),
    ({"engine_version": "14.9"}, "a downgrade to 14.9 would replace it"),
    ({"engine_version": "16.1"}, "set allow_major_version_upgrade"),
    ({"global_cluster_identifier": "t-other"}, "is a member of global cluster t-global, not t-other"),
    ({"global_cluster_identifier": "t-other"}, "remove-from-global-cluster"),
    ({"primary": {"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/other"}}, "set kms_key_id back"),
    ({"primary": {"instances": readers(2)[1:]}}, f"instance {PRIMARY}-0 is the writer of cluster {PRIMARY}"),
]


def test_changes_that_would_replace_a_cluster_fail_before_anything_changes(prod, capsys, calls):
    run(prod, capsys)
    for change, message in REFUSALS:
        calls.clear()
        args = dict(prod, **{key: value for key, value in change.items() if key != "primary"})
        result = run(with_primary(args, **change.get("primary", {})), capsys)
        assert result.get("failed") and message in result["msg"], (change, result.get("msg"))
        assert all(call.startswith("Describe") for call in calls), (change, calls)
    assert len(instances()) == 3 and cluster()["StorageEncrypted"]


def test_an_existing_cluster_of_another_engine_is_refused(paper_prod, capsys):
    prod = paper_prod
    rds().create_db_cluster(
        DBClusterIdentifier=PRIMARY,
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="x" * 20,
        StorageEncrypted=True,
    )
    result = run(dict(prod, global_cluster_identifier=None, clusters=prod["clusters"][:1]), capsys)
    assert (
        result["failed"] and "runs engine aurora-mysql, not aurora-postgresql: that would replace it" in result["msg"]
    )
    assert boto3.client("secretsmanager", region_name="us-east-1").list_secrets()["SecretList"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"clusters": []}, "clusters must list at least the primary cluster"),
        ({"backup_retention_period": 36}, "backup_retention_period must be between 1 and 35"),
        ({"promote_region": "ap-south-1"}, "promote_region ap-south-1 is not the region"),
        ({"global_cluster_identifier": None}, "secondary clusters: they need global_cluster_identifier"),
    ],
)
def test_bad_input_fails_before_any_call(paper_prod, capsys, calls, change, message):
    result = run(dict(paper_prod, **change), capsys)
    assert result["failed"] and message in result["msg"]
    assert calls == []


def test_sixteen_readers_are_too_many(paper_prod, capsys):
    result = run(with_primary(paper_prod, instances=readers(16)), capsys)
    assert result["failed"] and "1 writer and 0 to 15 readers" in result["msg"]


def test_a_regional_cluster_without_global_cluster(prod, capsys):
    args = dict(prod, global_cluster_identifier=None, clusters=prod["clusters"][:1])
    result = run(args, capsys)
    assert result["global_cluster_arn"] is None and result["primary_region"] == "us-east-1"
    assert "GlobalClusterIdentifier" not in cluster() or not cluster()["GlobalClusterIdentifier"]
    assert not run(args, capsys)["changed"]
    absent = dict(args, state="absent")
    assert f"set confirm_delete to {PRIMARY!r}" in run(dict(absent, confirm_delete=GLOBAL), capsys)["msg"]
    deleted = run(dict(absent, confirm_delete=PRIMARY), capsys)
    assert deleted["changed"] and deleted["skipped_calls"] == []
    assert rds().describe_db_clusters()["DBClusters"] == [] and instances() == {}
    assert not run(dict(absent, confirm_delete=PRIMARY), capsys)["changed"]


def test_delete_needs_the_named_confirmation_and_keeps_final_snapshots(prod, capsys):
    run(prod, capsys)
    absent = dict(prod, state="absent")
    refused = run(absent, capsys)
    assert refused["failed"] and f"set confirm_delete to {GLOBAL!r}" in refused["msg"]
    assert run(dict(absent, confirm_delete=PRIMARY), capsys)["failed"]
    assert cluster()["DeletionProtection"] and len(instances()) == 3
    planned = run(dict(absent, confirm_delete=GLOBAL), capsys, check_mode=True)
    assert planned.get("changed") and not planned.get("failed"), planned
    assert cluster()["DeletionProtection"] and len(instances()) == 3
    deleted = run(dict(absent, confirm_delete=GLOBAL), capsys)
    assert deleted.get("changed"), deleted
    assert [row["resource"] for row in deleted["changes"] if row["action"] == "delete"][-1] == f"secret {SECRET}"
    assert rds().describe_db_clusters()["DBClusters"] == []
    assert rds("eu-west-1").describe_db_clusters()["DBClusters"] == []
    assert boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=SECRET)["DeletedDate"]
    secondary_snapshot, primary_snapshot = deleted["final_snapshot_identifiers"]
    for region, name in (("us-east-1", primary_snapshot), ("eu-west-1", secondary_snapshot)):
        snapshots = rds(region).describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
        assert name in {item["DBClusterSnapshotIdentifier"] for item in snapshots}, (region, name)
    assert [name.split("-final-")[0] for name in deleted["final_snapshot_identifiers"]] == [SECONDARY, PRIMARY]
    # moto cannot detach the eu-west-1 member from the us-east-1 global cluster: reported, not hidden.
    # The wait for it to leave is reported the same way (on AWS it polls until the member is gone).
    assert deleted["skipped_calls"] == [
        "rds:delete_global_cluster",
        "rds:modify_global_cluster",
        "rds:wait_global_cluster_member_removed",
    ]


def test_no_promotion_on_the_emulator_when_the_region_already_writes(prod, capsys, calls):
    """moto 5.2.5 lacks SwitchoverGlobalCluster (the recording emulator serves it; tests/unit/
    test_aurora_global_database_dr.py tests the calls with Stubber): here only the no-op."""
    run(prod, capsys)
    calls.clear()
    result = run(dict(prod, promote_region="us-east-1"), capsys)
    assert not result["changed"] and result["primary_region"] == result["writer_region"] == "us-east-1"
    assert result["data_loss_allowed"] is False and all(call.startswith("Describe") for call in calls)
    assert {out["role"] for out in result["clusters"].values()} == {"primary", "secondary"}
    assert result["clusters"]["us-east-1"]["role"] == "primary"


# --- calls the emulator lacks: request shapes on AWS (Stubber) --------------

ACCOUNT = "123456789012"
ARN = {
    "us-east-1": f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{PRIMARY}",
    "eu-west-1": f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:{SECONDARY}",
}


@pytest.fixture
def aws(monkeypatch):
    """Real AWS request shapes: no emulator; the module's clients are stubbed per service and region."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    clients, stubs = {}, {}
    for service, region in (("rds", "us-east-1"), ("rds", "eu-west-1"), ("secretsmanager", "us-east-1")):
        clients[service, region] = boto3.client(
            service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
        )
        stubs[service, region] = Stubber(clients[service, region])
        stubs[service, region].activate()

    def client(self, service, retry_decorator=None, region=None, **kwargs):
        real = clients[service, region or "us-east-1"]
        return RetryingBotoClientWrapper(real, retry_decorator) if retry_decorator else real

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def expect_reads(stubs, writer="us-east-1", primary_status="available", deletion_protection=True):
    east, west = stubs["rds", "us-east-1"], stubs["rds", "eu-west-1"]
    east.add_response(
        "describe_global_clusters",
        {
            "GlobalClusters": [
                {
                    "GlobalClusterIdentifier": GLOBAL,
                    "GlobalClusterArn": f"arn:aws:rds::{ACCOUNT}:global-cluster:{GLOBAL}",
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "15.4",
                    "StorageEncrypted": True,
                    "DeletionProtection": deletion_protection,
                    "GlobalClusterMembers": [
                        {"DBClusterArn": arn, "IsWriter": region == writer} for region, arn in ARN.items()
                    ],
                }
            ]
        },
        {"GlobalClusterIdentifier": GLOBAL},
    )
    for stub, region, identifier in ((east, "us-east-1", PRIMARY), (west, "eu-west-1", SECONDARY)):
        status = primary_status if region == "us-east-1" else "available"
        stub.add_response(
            "describe_db_clusters",
            {
                "DBClusters": [
                    {
                        "DBClusterIdentifier": identifier,
                        "DBClusterArn": ARN[region],
                        "Engine": "aurora-postgresql",
                        "EngineVersion": "15.4",
                        "Status": status,
                        "StorageEncrypted": True,
                        "GlobalClusterIdentifier": GLOBAL,
                        "DeletionProtection": True,
                        "DBClusterMembers": [],
                    }
                ]
            },
            {"Filters": [{"Name": "db-cluster-id", "Values": [identifier]}]},
        )
        stub.add_response(
            "describe_db_instances",
            {"DBInstances": []},
            {"Filters": [{"Name": "db-cluster-id", "Values": [identifier]}]},
        )
        stub.add_response(
            "describe_db_subnet_groups",
            {"DBSubnetGroups": [{"DBSubnetGroupName": identifier, "Subnets": []}]},
            {"DBSubnetGroupName": identifier},
        )
    stubs["secretsmanager", "us-east-1"].add_response(
        "describe_secret", {"ARN": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{SECRET}-AbC", "Name": SECRET}
    )


def minimal(**extra):
    return dict(
        region="us-east-1",
        global_cluster_identifier=GLOBAL,
        master_secret_name=SECRET,
        wait=False,
        clusters=[
            {"region": "us-east-1", "role": "primary", "identifier": PRIMARY},
            {"region": "eu-west-1", "role": "secondary", "identifier": SECONDARY},
        ],
        **extra,
    )


@pytest.mark.parametrize(
    ("mode", "primary_status", "operation", "extra"),
    [
        ("auto", "available", "switchover_global_cluster", {}),
        ("auto", "inaccessible-encryption-credentials", "failover_global_cluster", {"AllowDataLoss": True}),
        ("switchover", "available", "switchover_global_cluster", {}),
        ("failover", "available", "failover_global_cluster", {"AllowDataLoss": True}),
    ],
)
def test_promotion_request_shape(aws, capsys, mode, primary_status, operation, extra):
    """SwitchoverGlobalCluster through the primary's region, FailoverGlobalCluster through the target's
    (Aurora user guide: the CLI's --region); without wait the writer is read back once in the target's region."""
    expect_reads(aws, primary_status=primary_status)
    via = "eu-west-1" if operation == "failover_global_cluster" else "us-east-1"
    aws["rds", via].add_response(
        operation,
        {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}},
        dict(GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=ARN["eu-west-1"], **extra),
    )
    aws["rds", "eu-west-1"].add_response(
        "describe_global_clusters", global_cluster(["us-east-1", "eu-west-1"], writer="eu-west-1")
    )
    result = run(minimal(promote_region="eu-west-1", promote_mode=mode), capsys)
    assert result["changes"] == [
        {"action": "update", "resource": f"global_cluster {GLOBAL}", "attributes": ["writer:eu-west-1"]}
    ]
    assert result["primary_region"] == "eu-west-1" and result["skipped_calls"] == []
    assert result["data_loss_allowed"] is (operation == "failover_global_cluster")


def test_failback_reads_the_writer_from_the_members(aws, capsys):
    expect_reads(aws, writer="eu-west-1")
    aws["rds", "eu-west-1"].add_response(
        "switchover_global_cluster",
        {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}},
        {"GlobalClusterIdentifier": GLOBAL, "TargetDbClusterIdentifier": ARN["us-east-1"]},
    )
    # Read back right after the call: AWS still names the old writer while the switchover runs.
    answer = global_cluster(["us-east-1", "eu-west-1"], writer="eu-west-1")
    answer["GlobalClusters"][0]["FailoverState"] = {"Status": "switching-over", "ToDbClusterArn": ARN["us-east-1"]}
    aws["rds", "us-east-1"].add_response("describe_global_clusters", answer)
    result = run(minimal(promote_region="us-east-1"), capsys)
    assert result["changed"] and result["primary_region"] == "eu-west-1"  # read back, not assumed


def test_no_promotion_when_the_members_say_the_region_already_writes(aws, capsys):
    expect_reads(aws, writer="eu-west-1")
    result = run(minimal(promote_region="eu-west-1"), capsys)
    assert not result["changed"] and result["primary_region"] == "eu-west-1"


def test_global_deletion_protection_request_shape(aws, capsys):
    expect_reads(aws, deletion_protection=False)
    aws["rds", "us-east-1"].add_response(
        "modify_global_cluster",
        {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}},
        {"GlobalClusterIdentifier": GLOBAL, "DeletionProtection": True},
    )
    result = run(minimal(), capsys)
    assert result["changes"] == [
        {"action": "update", "resource": f"global_cluster {GLOBAL}", "attributes": ["DeletionProtection"]}
    ]


def test_the_master_secret_is_replicated_to_the_secondary_region(prod, capsys, monkeypatch):
    """After a failover the secondary region's tasks read the credentials from their own region."""
    key = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["Arn"]
    args = dict(prod, master_secret_replica_regions=[{"region": "eu-west-1", "kms_key_id": key}])
    sent = {}
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        sent.setdefault(operation, params)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    first = run(args, capsys)
    # The replica's key is in the request; moto stores its default key instead.
    assert sent["CreateSecret"]["AddReplicaRegions"] == [{"Region": "eu-west-1", "KmsKeyId": key}]
    replica = boto3.client("secretsmanager", region_name="eu-west-1").describe_secret(SecretId=SECRET)
    assert first["master_secret_replica_arns"] == {"eu-west-1": replica["ARN"]}
    assert replica["ARN"] == first["master_secret_arn"].replace(":us-east-1:", ":eu-west-1:")
    status = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=SECRET)
    assert [item["Region"] for item in status["ReplicationStatus"]] == ["eu-west-1"]
    again = run(args, capsys)
    assert not again["changed"], again["changes"]


def test_a_replica_region_added_later_is_one_update(prod, capsys):
    run(prod, capsys)
    result = run(dict(prod, master_secret_replica_regions=[{"region": "eu-west-1"}]), capsys)
    assert result["changes"] == [
        {"action": "update", "resource": f"secret {SECRET}", "attributes": ["replica_regions"]}
    ]
    status = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=SECRET)
    assert [item["Region"] for item in status["ReplicationStatus"]] == ["eu-west-1"]


def test_a_replicated_secret_loses_its_replicas_before_it_is_deleted(prod, capsys):
    """AWS refuses to delete a secret that still has replicas."""
    args = dict(prod, master_secret_replica_regions=[{"region": "eu-west-1"}])
    run(args, capsys)
    deleted = run(dict(args, state="absent", confirm_delete=GLOBAL), capsys)
    rows = [(row["action"], row["attributes"]) for row in deleted["changes"] if row["resource"] == f"secret {SECRET}"]
    assert rows == [("update", ["replica_regions"]), ("delete", [])]
    status = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=SECRET)
    assert status["DeletedDate"] and not status.get("ReplicationStatus")


def global_cluster(members, deletion_protection=False, writer="us-east-1"):
    return {
        "GlobalClusters": [
            {
                "GlobalClusterIdentifier": GLOBAL,
                "GlobalClusterArn": f"arn:aws:rds::{ACCOUNT}:global-cluster:{GLOBAL}",
                "DeletionProtection": deletion_protection,
                "GlobalClusterMembers": [
                    {"DBClusterArn": ARN[region], "IsWriter": region == writer} for region in members
                ],
            }
        ]
    }


def expect_the_secondary_removed(aws):
    """The reads of a delete of both clusters, then the secondary's RemoveFromGlobalCluster: (east, west) stubs."""
    east, west = aws["rds", "us-east-1"], aws["rds", "eu-west-1"]
    east.add_response(
        "describe_global_clusters", global_cluster(["us-east-1", "eu-west-1"]), {"GlobalClusterIdentifier": GLOBAL}
    )
    for stub, region, identifier in ((east, "us-east-1", PRIMARY), (west, "eu-west-1", SECONDARY)):
        cluster = {
            "DBClusterIdentifier": identifier,
            "DBClusterArn": ARN[region],
            "Status": "available",
            "GlobalClusterIdentifier": GLOBAL,
            "DeletionProtection": False,
            "DBClusterMembers": [],
        }
        stub.add_response(
            "describe_db_clusters",
            {"DBClusters": [cluster]},
            {"Filters": [{"Name": "db-cluster-id", "Values": [identifier]}]},
        )
        stub.add_response(
            "describe_db_instances",
            {"DBInstances": []},
            {"Filters": [{"Name": "db-cluster-id", "Values": [identifier]}]},
        )
    # The secondary goes first.
    west.add_response(
        "remove_from_global_cluster",
        {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}},
        {"GlobalClusterIdentifier": GLOBAL, "DbClusterIdentifier": ARN["eu-west-1"]},
    )
    return east, west


def test_a_detached_cluster_is_deleted_only_once_it_has_left_the_global_cluster(aws, capsys, monkeypatch):
    """RemoveFromGlobalCluster returns while the member still detaches; DeleteDBCluster fails until it is gone."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    east, west = expect_the_secondary_removed(aws)
    detach = {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL}}
    only_global = {"GlobalClusterIdentifier": GLOBAL}
    # Removed, still listed once, then gone; only then deleted.
    east.add_response("describe_global_clusters", global_cluster(["us-east-1", "eu-west-1"]), only_global)
    east.add_response("describe_global_clusters", global_cluster(["us-east-1"]), only_global)
    west.add_response(
        "delete_db_cluster",
        {"DBCluster": {}},
        {"DBClusterIdentifier": SECONDARY, "FinalDBSnapshotIdentifier": stub_any()},
    )
    # The primary: "is not found in global cluster" (detached by an interrupted run) is not an error.
    east.add_client_error(
        "remove_from_global_cluster",
        "InvalidParameterValue",
        f"The cluster {ARN['us-east-1']} is not found in global cluster {GLOBAL}",
    )
    east.add_response("describe_global_clusters", global_cluster([]), only_global)
    east.add_response(
        "delete_db_cluster",
        {"DBCluster": {}},
        {"DBClusterIdentifier": PRIMARY, "FinalDBSnapshotIdentifier": stub_any()},
    )
    # The global cluster: deleted once no member is left.
    east.add_response("describe_global_clusters", global_cluster([]), only_global)
    east.add_response("delete_global_cluster", detach, only_global)
    result = run(minimal(state="absent", confirm_delete=GLOBAL), capsys)
    assert result["changed"] and result["skipped_calls"] == [], result.get("msg")


def test_a_member_that_does_not_leave_in_wait_timeout_fails_the_run(aws, capsys, monkeypatch):
    """Polled every 15 s for the whole wait_timeout (reelle_waiters' rule: 20 s is two polls); then a clear failure."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "1")
    sleeps = []
    monkeypatch.setattr(reelle_waiters.time, "sleep", sleeps.append)
    east, _west = expect_the_secondary_removed(aws)
    for _poll in range(2):
        east.add_response(
            "describe_global_clusters",
            global_cluster(["us-east-1", "eu-west-1"]),
            {"GlobalClusterIdentifier": GLOBAL},
        )
    result = run(minimal(state="absent", confirm_delete=GLOBAL, wait_timeout=20), capsys)
    assert result["failed"] and result["msg"].startswith(f"Gave up after 20 s waiting for {ARN['eu-west-1']}")
    assert sleeps == [15]


def stub_any():
    from botocore.stub import ANY

    return ANY
