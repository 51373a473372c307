# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LifecycleMiddleware (tests/support/lifecycle.py): slow lifecycles and server-side defaults over moto.

moto's WSGI app runs in this process twice over: once behind the middleware, once bare (moto's backends
are per process, so both servers share one state), to compare what the middleware changes.
"""

import json
import threading
import time
import urllib.request

import boto3
import botocore.exceptions
import pytest

from tests.support import FAKE_CREDENTIALS
from tests.support.lifecycle import LifecycleMiddleware

REGION = "us-east-1"
PROFILE = {}


def _serve(app):
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def servers():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto = DomainDispatcherApplication(create_backend_app)
    middleware = LifecycleMiddleware(moto, lambda: PROFILE)
    wrapped, bare = _serve(middleware), _serve(moto)
    yield middleware, f"http://127.0.0.1:{wrapped.server_port}", f"http://127.0.0.1:{bare.server_port}"
    for server in (wrapped, bare):
        server.shutdown()
        server.server_close()


@pytest.fixture
def emulator(servers, monkeypatch, caplog):
    """(middleware, client factory, bare client factory) after a reset, with the profile empty.

    A rule that raises is logged and skipped by the middleware; here it fails the test.
    """
    middleware, endpoint, bare_endpoint = servers
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    PROFILE.clear()
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()

    def client(name, url=endpoint):
        return boto3.client(name, region_name=REGION, endpoint_url=url)

    def bare(name):
        return client(name, bare_endpoint)

    yield middleware, client, bare
    PROFILE.clear()
    records = caplog.get_records("setup") + caplog.get_records("call")
    failures = [record.getMessage() for record in records if record.name == "tests.support.lifecycle"]
    assert not failures


def counted(client, operation):
    """A list that grows by one for each call of `operation` the client makes."""
    calls = []
    client.meta.events.register(f"after-call.*.{operation}", lambda **kwargs: calls.append(1))
    return calls


FAST = {"Delay": 0.1, "MaxAttempts": 50}


# --- slow lifecycles ------------------------------------------------------------------------------


def create_db(rds, name="db1"):
    return rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin_user",
        MasterUserPassword="password-password",
        AllocatedStorage=20,
    )["DBInstance"]


def db_status(rds, name="db1"):
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["DBInstanceStatus"]


def test_rds_instance_creating_for_n_describes_then_available(emulator):
    _, client, _ = emulator
    PROFILE["lifecycle"] = {"describes": 3}
    rds = client("rds")
    assert create_db(rds)["DBInstanceStatus"] == "creating"
    assert [db_status(rds) for _ in range(3)] == ["creating"] * 3
    assert db_status(rds) == "available"
    assert rds.describe_db_instances()["DBInstances"][0]["DBInstanceStatus"] == "available"

    rds.modify_db_instance(DBInstanceIdentifier="db1", AllocatedStorage=30, ApplyImmediately=True)
    rds.reboot_db_instance(DBInstanceIdentifier="db1")
    statuses = [db_status(rds) for _ in range(4)]
    assert statuses == ["rebooting"] * 3 + ["available"]


def test_db_instance_available_waiter_polls_through_creating(emulator):
    _, client, _ = emulator
    PROFILE["lifecycle"] = {"describes": 4}
    rds = client("rds")
    describes = counted(rds, "DescribeDBInstances")
    create_db(rds)
    rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier="db1", WaiterConfig=FAST)
    assert len(describes) == 5


def test_rds_delete_reports_deleting_then_not_found(emulator):
    _, client, _ = emulator
    rds = client("rds")
    create_db(rds)
    PROFILE["lifecycle"] = {"describes": 2}
    deleted = rds.delete_db_instance(DBInstanceIdentifier="db1", SkipFinalSnapshot=True)["DBInstance"]
    assert deleted["DBInstanceStatus"] == "deleting"
    assert db_status(rds) == "deleting"
    assert [item["DBInstanceStatus"] for item in rds.describe_db_instances()["DBInstances"]] == ["deleting"]
    with pytest.raises(rds.exceptions.DBInstanceNotFoundFault):
        db_status(rds)
    assert rds.describe_db_instances()["DBInstances"] == []

    create_db(rds, "db2")
    PROFILE["lifecycle"] = {"describes": 3}
    describes = counted(rds, "DescribeDBInstances")
    rds.delete_db_instance(DBInstanceIdentifier="db2", SkipFinalSnapshot=True)
    rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="db2", WaiterConfig=FAST)
    assert len(describes) == 4


def test_aurora_cluster_and_global_cluster_creating(emulator):
    _, client, _ = emulator
    PROFILE["lifecycle"] = {"describes": 1}
    rds = client("rds")
    created = rds.create_global_cluster(GlobalClusterIdentifier="global", Engine="aurora-postgresql")
    assert created["GlobalCluster"]["Status"] == "creating"
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="Aurora",
        Engine="aurora-postgresql",
        MasterUsername="admin_user",
        MasterUserPassword="password-password",
    )["DBCluster"]
    assert cluster["Status"] == "creating"

    def cluster_status():
        return rds.describe_db_clusters(DBClusterIdentifier="aurora")["DBClusters"][0]["Status"]

    assert cluster_status() == "creating"
    assert cluster_status() == "available"
    globals_ = [rds.describe_global_clusters()["GlobalClusters"][0]["Status"] for _ in range(2)]
    assert globals_ == ["creating", "available"]

    rds.modify_db_cluster(DBClusterIdentifier="aurora", BackupRetentionPeriod=7, ApplyImmediately=True)
    assert [cluster_status(), cluster_status()] == ["modifying", "available"]

    rds.delete_db_cluster(DBClusterIdentifier="aurora", SkipFinalSnapshot=True)
    assert cluster_status() == "deleting"
    with pytest.raises(rds.exceptions.DBClusterNotFoundFault):
        cluster_status()


def test_nat_gateway_pending_then_available(emulator):
    _, client, _ = emulator
    PROFILE["lifecycle"] = {"describes": 2}
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]
    assert nat["State"] == "pending"

    def state():
        return ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"]

    assert [state(), state(), state()] == ["pending", "pending", "available"]

    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    other = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    describes = counted(ec2, "DescribeNatGateways")
    ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[other], WaiterConfig=FAST)
    assert len(describes) == 3


def test_elasticache_replication_group_creating_then_available(emulator):
    _, client, _ = emulator
    PROFILE["lifecycle"] = {"describes": 2}
    elasticache = client("elasticache")
    group = elasticache.create_replication_group(
        ReplicationGroupId="cache",
        ReplicationGroupDescription="cache",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheClusters=1,
    )["ReplicationGroup"]
    assert group["Status"] == "creating"

    def describe():
        return elasticache.describe_replication_groups(ReplicationGroupId="cache")["ReplicationGroups"][0]

    first = describe()
    assert first["Status"] == "creating"
    assert {node["Status"] for node in first["NodeGroups"]} == {"creating"}
    assert [describe()["Status"], describe()["Status"]] == ["creating", "available"]

    elasticache.modify_replication_group(
        ReplicationGroupId="cache", ReplicationGroupDescription="changed", ApplyImmediately=True
    )
    describes = counted(elasticache, "DescribeReplicationGroups")
    elasticache.get_waiter("replication_group_available").wait(ReplicationGroupId="cache", WaiterConfig=FAST)
    assert len(describes) == 3


def distribution_config(reference="ref"):
    return {
        "CallerReference": reference,
        "Comment": "edge",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "origin",
                    "DomainName": "example.com",
                    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "origin",
            "ViewerProtocolPolicy": "redirect-to-https",
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
    }


def test_cloudfront_in_progress_then_deployed(emulator):
    _, client, _ = emulator
    PROFILE["lifecycle"] = {"describes": 2}
    cloudfront = client("cloudfront")
    distribution = cloudfront.create_distribution(DistributionConfig=distribution_config())["Distribution"]
    assert distribution["Status"] == "InProgress"
    ident = distribution["Id"]

    def status():
        return cloudfront.get_distribution(Id=ident)["Distribution"]["Status"]

    assert status() == "InProgress"
    assert cloudfront.list_distributions()["DistributionList"]["Items"][0]["Status"] == "InProgress"
    assert [status(), status()] == ["Deployed", "Deployed"]

    current = cloudfront.get_distribution(Id=ident)
    updated = cloudfront.update_distribution(
        Id=ident, IfMatch=current["ETag"], DistributionConfig=current["Distribution"]["DistributionConfig"]
    )
    assert updated["Distribution"]["Status"] == "InProgress"
    gets = counted(cloudfront, "GetDistribution")
    cloudfront.get_waiter("distribution_deployed").wait(Id=ident, WaiterConfig=FAST)
    assert len(gets) == 3


def ecs_service(client):
    ec2, ecs = client("ec2"), client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="apps")
    register_task(ecs)
    return ecs.create_service(
        cluster="apps",
        serviceName="web",
        taskDefinition="web",
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
        tags=[{"key": "team", "value": "a"}, {"key": "env", "value": "b"}],
    )["service"]


def register_task(ecs, **extra):
    return ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "nginx",
                "portMappings": [{"containerPort": 8080}],
                "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            }
        ],
        tags=[{"key": "team", "value": "a"}, {"key": "env", "value": "b"}],
        **extra,
    )["taskDefinition"]


def primary(service):
    return next(item for item in service["deployments"] if item["status"] == "PRIMARY")


def test_ecs_rollout_in_progress_then_completed(emulator):
    _, client, bare = emulator
    PROFILE["lifecycle"] = {"describes": 2}
    created = ecs_service(client)
    assert primary(created)["rolloutState"] == "IN_PROGRESS"
    ecs = client("ecs")

    def describe():
        return ecs.describe_services(cluster="apps", services=["web"])["services"][0]

    for _ in range(2):
        service = describe()
        assert primary(service)["rolloutState"] == "IN_PROGRESS"
        assert service["runningCount"] < service["desiredCount"] == 2
    service = describe()
    assert primary(service)["rolloutState"] == "COMPLETED"
    assert service["runningCount"] == primary(service)["runningCount"] == 2
    # moto alone never completes a rollout: it runs no tasks
    moto_primary = primary(bare("ecs").describe_services(cluster="apps", services=["web"])["services"][0])
    assert (moto_primary["rolloutState"], moto_primary["runningCount"]) == ("IN_PROGRESS", 0)

    updated = ecs.update_service(cluster="apps", service="web", desiredCount=3)["service"]
    assert (primary(updated)["rolloutState"], primary(updated)["desiredCount"]) == ("IN_PROGRESS", 3)
    describes = counted(ecs, "DescribeServices")
    ecs.get_waiter("services_stable").wait(cluster="apps", services=["web"], WaiterConfig=FAST)
    assert len(describes) == 3
    assert primary(describe())["rolloutState"] == "COMPLETED"


def test_seconds_mode_and_both_limits(emulator):
    _, client, _ = emulator
    rds = client("rds")
    PROFILE["lifecycle"] = {"seconds": 0.6}
    create_db(rds)
    started = time.monotonic()
    assert [db_status(rds) for _ in range(5)] == ["creating"] * 5
    time.sleep(max(0.0, 0.7 - (time.monotonic() - started)))
    assert db_status(rds) == "available"

    PROFILE["lifecycle"] = {"describes": 3, "seconds": 0.3}
    create_db(rds, "db2")
    time.sleep(0.4)  # the time is up, the describes are not
    assert [db_status(rds, "db2") for _ in range(4)] == ["creating"] * 3 + ["available"]

    PROFILE["lifecycle"] = {"describes": 1, "seconds": 1.0}
    create_db(rds, "db3")
    started = time.monotonic()
    assert [db_status(rds, "db3") for _ in range(3)] == ["creating"] * 3  # the describes are done, the time is not
    time.sleep(max(0.0, 1.1 - (time.monotonic() - started)))
    assert db_status(rds, "db3") == "available"


def test_reset_forgets_transitions(emulator, servers):
    middleware, client, _ = emulator
    PROFILE["lifecycle"] = {"describes": 5}
    create_db(client("rds"))
    assert middleware.book.transitions
    urllib.request.urlopen(urllib.request.Request(f"{servers[1]}/moto-api/reset", method="POST"), timeout=30).close()
    assert not middleware.book.transitions


# --- server-side defaults ---------------------------------------------------------------------------


def test_task_definition_comes_back_with_aws_defaults(emulator):
    _, client, bare = emulator
    PROFILE["server_defaults"] = True
    ecs = client("ecs")
    registered = register_task(
        ecs,
        executionRoleArn="arn:aws:iam::123456789012:role/exec",
        taskRoleArn="arn:aws:iam::123456789012:role/task",
    )
    described = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    again = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    assert described["registeredAt"] == again["registeredAt"] == registered["registeredAt"]
    container = described["containerDefinitions"][0]
    assert container["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    assert container["essential"] is True and container["cpu"] == 0
    assert container["systemControls"] == [] and container["mountPoints"] == [] and container["volumesFrom"] == []
    assert [item["name"] for item in container["environment"]] == ["B", "A"]
    assert {"name": "ecs.capability.task-eni"} in described["requiresAttributes"]
    assert {"name": "com.amazonaws.ecs.capability.task-iam-role"} in described["requiresAttributes"]
    assert described["registeredBy"] == "arn:aws:iam::123456789012:root"
    assert described["status"] == "ACTIVE" and described["compatibilities"] == ["EC2", "FARGATE"]

    moto = bare("ecs").describe_task_definition(taskDefinition="web")["taskDefinition"]
    assert moto["containerDefinitions"][0]["portMappings"] == [{"containerPort": 8080}]
    assert "requiresAttributes" not in moto and "registeredAt" not in moto


TRUST = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"},
}
INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def raw_bodies(client, operation):
    bodies = []
    client.meta.events.register(
        f"before-parse.*.{operation}", lambda response_dict, **kwargs: bodies.append(response_dict["body"])
    )
    return bodies


def test_iam_policy_documents_url_encoded_and_canonical(emulator):
    _, client, bare = emulator
    PROFILE["server_defaults"] = True
    iam = client("iam")
    iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="deploy", PolicyName="read", PolicyDocument=json.dumps(INLINE))
    arn = iam.create_policy(PolicyName="managed", PolicyDocument=json.dumps(INLINE))["Policy"]["Arn"]
    expected_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    bodies = raw_bodies(iam, "ListRoles")
    assert iam.get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"] == expected_trust
    assert iam.list_roles()["Roles"][0]["AssumeRolePolicyDocument"] == expected_trust
    assert b"%22Statement%22%3A%5B" in bodies[0]  # URL-encoded, compact, Statement a list
    assert iam.get_role_policy(RoleName="deploy", PolicyName="read")["PolicyDocument"] == INLINE
    versions = raw_bodies(iam, "GetPolicyVersion")
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == INLINE
    assert b"<Document>%7B%22Version" in versions[0]

    moto = bare("iam")
    moto_versions = raw_bodies(moto, "GetPolicyVersion")
    moto.get_policy_version(PolicyArn=arn, VersionId="v1")
    assert b"<Document>{" in moto_versions[0]  # moto: not encoded
    assert moto.get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"] == TRUST


def test_s3_bucket_policy_stored_in_aws_form(emulator):
    _, client, bare = emulator
    PROFILE["server_defaults"] = True
    s3 = client("s3")
    s3.create_bucket(Bucket="reelle-logs")
    policy = {
        "Statement": [
            {
                "Resource": ["arn:aws:s3:::reelle-logs/*"],
                "Action": ["s3:PutObject"],
                "Principal": {"AWS": ["111122223333"]},
                "Effect": "Allow",
                "Sid": "Logs",
                "Condition": {"Bool": {"aws:SecureTransport": True}},
            }
        ],
        "Version": "2012-10-17",
    }
    s3.put_bucket_policy(Bucket="reelle-logs", Policy=json.dumps(policy, indent=2))
    text = s3.get_bucket_policy(Bucket="reelle-logs")["Policy"]
    assert text == (
        '{"Version":"2012-10-17","Statement":[{"Sid":"Logs","Effect":"Allow",'
        '"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:PutObject",'
        '"Resource":"arn:aws:s3:::reelle-logs/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}'
    )
    assert json.loads(bare("s3").get_bucket_policy(Bucket="reelle-logs")["Policy"]) == policy


def test_tags_come_back_reversed(emulator):
    _, client, bare = emulator
    PROFILE["server_defaults"] = True
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}]
    reversed_keys = ["c", "b", "a"]

    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])["Vpc"]
    assert [tag["Key"] for tag in ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["Tags"]] == reversed_keys

    rds = client("rds")
    arn = rds.create_db_instance(
        DBInstanceIdentifier="tagged",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin_user",
        MasterUserPassword="password-password",
        AllocatedStorage=20,
        Tags=tags,
    )["DBInstance"]["DBInstanceArn"]
    assert [tag["Key"] for tag in rds.list_tags_for_resource(ResourceName=arn)["TagList"]] == reversed_keys
    assert [tag["Key"] for tag in rds.describe_db_instances()["DBInstances"][0]["TagList"]] == reversed_keys

    elasticache = client("elasticache")
    group = elasticache.create_replication_group(
        ReplicationGroupId="tagged",
        ReplicationGroupDescription="tagged",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        Tags=tags,
    )["ReplicationGroup"]["ARN"]
    listed = elasticache.list_tags_for_resource(ResourceName=group)["TagList"]
    assert [tag["Key"] for tag in listed] == reversed_keys

    elbv2 = client("elbv2")
    subnets = [
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"10.1.{index}.0/24", AvailabilityZone=f"{REGION}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for index, zone in ((1, "a"), (2, "b"))
    ]
    balancer = elbv2.create_load_balancer(Name="tagged", Subnets=subnets, Tags=tags)["LoadBalancers"][0]
    described = elbv2.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    assert [tag["Key"] for tag in described] == reversed_keys

    ecs = client("ecs")
    cluster = ecs.create_cluster(clusterName="tagged", tags=[{"key": t["Key"], "value": t["Value"]} for t in tags])
    listed = ecs.list_tags_for_resource(resourceArn=cluster["cluster"]["clusterArn"])["tags"]
    assert [tag["key"] for tag in listed] == reversed_keys

    s3 = client("s3")
    s3.create_bucket(Bucket="reelle-tagged")
    s3.put_bucket_tagging(Bucket="reelle-tagged", Tagging={"TagSet": tags})
    assert [tag["Key"] for tag in s3.get_bucket_tagging(Bucket="reelle-tagged")["TagSet"]] == reversed_keys
    assert [tag["Key"] for tag in bare("s3").get_bucket_tagging(Bucket="reelle-tagged")["TagSet"]] == ["a", "b", "c"]


def test_profile_switched_off_at_run_time_returns_moto_answers(emulator):
    _, client, bare = emulator
    PROFILE.update(lifecycle={"describes": 10}, server_defaults=True)
    rds, ecs, s3 = client("rds"), client("ecs"), client("s3")
    create_db(rds)
    register_task(ecs)
    s3.create_bucket(Bucket="reelle-off")
    s3.put_bucket_policy(Bucket="reelle-off", Policy=json.dumps({"Version": "2012-10-17", "Statement": []}, indent=1))
    assert db_status(rds) == "creating"

    PROFILE.clear()
    assert db_status(rds) == "available"
    ours = raw_bodies(ecs, "DescribeTaskDefinition")
    ecs.describe_task_definition(taskDefinition="web")
    bare_ecs = bare("ecs")
    theirs = raw_bodies(bare_ecs, "DescribeTaskDefinition")
    bare_ecs.describe_task_definition(taskDefinition="web")
    assert ours == theirs
    assert (
        s3.get_bucket_policy(Bucket="reelle-off")["Policy"]
        == bare("s3").get_bucket_policy(Bucket="reelle-off")["Policy"]
    )

    PROFILE["lifecycle"] = {"describes": 10}  # the earlier transition picks up where it stopped
    assert db_status(rds) == "creating"


def test_a_failing_answer_passes_through(emulator):
    _, client, _ = emulator
    PROFILE.update(lifecycle={"describes": 2}, server_defaults=True)
    rds = client("rds")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        db_status(rds, "missing")
    assert error.value.response["Error"]["Code"] == "DBInstanceNotFound"
