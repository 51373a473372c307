# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Staging converged into a fresh local emulator, asserted from describe calls.

Order matters (module-scoped emulator): bad input and check mode on the empty
account first, then the converge, the seed's figures, the no-op re-converge
and check mode on the converged account.
"""

import boto3
import pytest

from . import account
from .helpers import playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PREFIX = "reelle-staging"


@pytest.fixture(scope="module")
def aws(emulator_server):
    emulator_server.reset()
    return emulator_server


def requests_served(server):
    """Requests the emulator has logged so far (werkzeug logs one line each)."""
    with open(server.log.name, encoding="utf-8") as log:
        return sum(1 for line in log if '" 200 ' in line or '" 4' in line or '" 5' in line)


def converge(server, *extra):
    return playbook("staging", "site.yml", *extra, env=server.env, timeout=1200)


def clients(server, *names):
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return [session.client(name, endpoint_url=server.endpoint) for name in names]


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ("aws_database_instance_class=db.x9.huge", "aws_database_instance_class"),
        ("aws_cache_num_shards=0", "aws_cache_num_shards"),
        ("aws_cache_num_shards=501", "aws_cache_num_shards"),
        ("aws_cache_replicas_per_shard=6", "aws_cache_replicas_per_shard"),
        ("aws_network_vpc_cidr=10.20.0.0/30", "aws_network_vpc_cidr"),
        ('{"aws_availability_zones": ["us-east-1a", "eu-west-1b"]}', "aws_availability_zones"),
        ("aws_compute_min_capacity=4", "aws_compute_min_capacity"),
    ],
)
def test_bad_input_fails_before_any_aws_call(aws, extra, variable):
    before = requests_served(aws)
    run = converge(aws, "-e", extra)
    assert run.rc != 0, run
    assert "Invalid inventory" in run.output, run
    assert variable in run.output, run
    assert requests_served(aws) == before


def test_check_mode_on_empty_account_creates_nothing(aws):
    run = converge(aws, "--check", "--diff")
    assert run.rc == 0, run
    assert run.changed > 0
    ec2, rds, s3 = clients(aws, "ec2", "rds", "s3")
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert rds.describe_db_instances()["DBInstances"] == []
    assert s3.list_buckets()["Buckets"] == []


def test_converge_builds_the_seed_figures(aws):
    run = converge(aws)
    assert run.rc == 0, run
    ec2, ecs, rds, elasticache, s3, cloudwatch, backup, scaling, elbv2 = clients(
        aws, "ec2", "ecs", "rds", "elasticache", "s3", "cloudwatch", "backup", "application-autoscaling", "elbv2"
    )
    # Seed: us-east-1, 2 availability zones.
    vpc = next(v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"])
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert sorted({s["AvailabilityZone"] for s in subnets}) == ["us-east-1a", "us-east-1b"]
    assert len(subnets) == 4
    # Seed: ALB -> 3 ECS tasks, 1 GB per instance, autoscaling 2-3.
    service = ecs.describe_services(cluster=PREFIX, services=["backend"])["services"][0]
    assert service["desiredCount"] == 3
    # moto drops deploymentConfiguration (circuit breaker) from CreateService; the
    # request's shape is checked in tests/unit/test_ecs_deploy.py instead.
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task["memory"] == "1024"
    assert {c["name"] for c in task["containerDefinitions"]} >= {"backend", "datadog-agent", "xray-daemon"}
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 3)
    # Seed: TLS (HTTP redirects to HTTPS).
    listeners = elbv2.describe_listeners(
        LoadBalancerArn=elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    )
    by_port = {item["Port"]: item for item in listeners["Listeners"]}
    assert by_port[443]["Protocol"] == "HTTPS" and by_port[443]["Certificates"]
    assert by_port[80]["DefaultActions"][0]["Type"] == "redirect"
    # Seed: RDS PostgreSQL primary + read replica, db.t3.medium.
    instances = {d["DBInstanceIdentifier"]: d for d in rds.describe_db_instances()["DBInstances"]}
    primary, replica = instances[f"{PREFIX}-pg"], instances[f"{PREFIX}-pg-replica"]
    assert primary["Engine"] == "postgres" and primary["EngineVersion"].startswith("15")
    assert primary["DBInstanceClass"] == replica["DBInstanceClass"] == "db.t3.medium"
    assert primary["StorageEncrypted"] is True
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceIdentifier"]
    # Seed: ElastiCache Redis cluster mode, 3 shards.
    group = elasticache.describe_replication_groups(ReplicationGroupId=f"{PREFIX}-redis")["ReplicationGroups"][0]
    assert group["ClusterMode"] == "enabled"
    assert len(group["NodeGroups"]) == 3
    assert group["TransitEncryptionEnabled"] is True and group["AtRestEncryptionEnabled"] is True
    assert group["AuthTokenEnabled"] is True
    # Seed: S3 buckets for application logs and user uploads, encrypted and private.
    for name in (f"{PREFIX}-app-logs", f"{PREFIX}-user-uploads"):
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4
    # Seed: p95 < 200 ms, 1000 req/s, 50 DB connections.
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]}
    assert alarms[f"{PREFIX}-alb-target-response-time-p95"]["Threshold"] == 0.2
    assert alarms[f"{PREFIX}-alb-target-response-time-p95"]["ExtendedStatistic"] == "p95"
    assert alarms[f"{PREFIX}-alb-requests-above-sized-throughput"]["Threshold"] == 60000
    assert alarms[f"{PREFIX}-rds-connections-{PREFIX}-pg"]["Threshold"] == 50
    # Seed parity: daily backups.
    plan_id = backup.list_backup_plans()["BackupPlansList"][0]["BackupPlanId"]
    rules = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]
    assert rules[0]["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert rules[0]["Lifecycle"]["DeleteAfterDays"] == 30
    # The run names what the emulator could not serve.
    assert "Calls the emulator cannot serve" in run.output


def test_second_converge_changes_nothing(aws):
    run = converge(aws)
    assert run.rc == 0, run
    assert run.changed == 0, run.changed_tasks()


def test_account_holds_what_the_calm_golden_snapshot_says(aws):
    # The reference the hostile-profile converge (test_hostile_aws.py) is compared with.
    found = account.snapshot(aws.endpoint, ["us-east-1"])
    assert account.differences(account.golden("staging", found), found) == []


def test_check_mode_on_converged_account_reports_no_change(aws):
    run = converge(aws, "--check", "--diff")
    assert run.rc == 0, run
    assert run.changed == 0, run.changed_tasks()


def test_no_credentials_and_no_endpoint_fails_fast(aws):
    env = dict.fromkeys(
        ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    )
    env.update(
        AWS_EC2_METADATA_DISABLED="true", AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_CONFIG_FILE="/nonexistent"
    )
    # A domain of one's own: the example one is refused on AWS by validation, before credentials are looked at.
    run = playbook(
        "staging", "site.yml", "-e", "aws_loadbalancer_domain_name=api.staging.reelle-corp.com", env=env, timeout=120
    )
    assert run.rc != 0
    assert "No usable AWS credentials" in run.output
    assert "make emulator" in run.output
