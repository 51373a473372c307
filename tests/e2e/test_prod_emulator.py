# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prod converged into a fresh local emulator (two regions), asserted from describe calls.

Order matters (module-scoped emulator): bad input and check mode on the empty
account first, then the converge, the seed's figures in both regions, the
no-op re-converge, check mode, and the disaster-recovery drill.
"""

import boto3
import pytest

from . import account
from .helpers import playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PRIMARY, STANDBY = "reelle-prod", "reelle-prod-euw1"


@pytest.fixture(scope="module")
def aws(emulator_server):
    emulator_server.reset()
    return emulator_server


def requests_served(server):
    with open(server.log.name, encoding="utf-8") as log:
        return sum(1 for line in log if '" 200 ' in line or '" 4' in line or '" 5' in line)


def run(server, name, *extra):
    return playbook("prod", name, *extra, env=server.env, timeout=1500)


def clients(server, region, *names):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    return [session.client(name, endpoint_url=server.endpoint) for name in names]


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ("aws_aurora_instance_class=db.x9.huge", "aws_aurora_instance_class"),
        ("aws_aurora_reader_count=16", "aws_aurora_reader_count"),
        ("aws_cache_replicas_per_shard=6", "aws_cache_replicas_per_shard"),
        ("aws_network_vpc_cidr=10.30.0.0/16", "aws_network_vpc_cidr"),
        ("aws_compute_min_capacity=11", "aws_compute_min_capacity"),
        ("aws_compute_serving_count=2", "aws_compute_requests_per_target"),
    ],
)
def test_bad_input_fails_before_any_aws_call(aws, extra, variable):
    before = requests_served(aws)
    result = run(aws, "site.yml", "-e", extra)
    assert result.rc != 0, result
    assert "Invalid inventory" in result.output, result
    assert variable in result.output, result
    assert requests_served(aws) == before


def test_check_mode_on_empty_account_creates_nothing(aws):
    result = run(aws, "site.yml", "--check", "--diff")
    assert result.rc == 0, result
    assert result.changed > 0
    for region in ("us-east-1", "eu-west-1"):
        ec2, rds = clients(aws, region, "ec2", "rds")
        assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
        assert rds.describe_db_clusters()["DBClusters"] == []
    (s3,) = clients(aws, "us-east-1", "s3")
    assert s3.list_buckets()["Buckets"] == []


def test_converge(aws):
    result = run(aws, "site.yml")
    assert result.rc == 0, result
    assert "Calls the emulator cannot serve" in result.output


def test_network_in_both_regions(aws):
    # Seed: us-east-1 primary, eu-west-1 failover, 3 availability zones per region.
    for region, cidr in (("us-east-1", "10.30.0.0/16"), ("eu-west-1", "10.31.0.0/16")):
        (ec2,) = clients(aws, region, "ec2")
        vpc = next(v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"])
        assert vpc["CidrBlock"] == cidr
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
        assert sorted({s["AvailabilityZone"] for s in subnets}) == [f"{region}{z}" for z in "abc"]
        nats = ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
        assert len([n for n in nats if n["State"] == "available"]) == 3


def test_compute_on_ec2_and_fargate_with_a_warm_standby(aws):
    # Seed: ECS tasks on EC2/Fargate behind an Auto Scaling group, autoscaling 5-10, 2 GB per instance.
    ecs, scaling, asg = clients(aws, "us-east-1", "ecs", "application-autoscaling", "autoscaling")
    service = ecs.describe_services(cluster=PRIMARY, services=["backend"])["services"][0]
    assert service["desiredCount"] == 5
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task["memory"] == "2048"
    assert set(task["requiresCompatibilities"]) == {"EC2", "FARGATE"}
    # moto drops the service's capacityProviderStrategy from CreateService; its request shape is
    # checked in tests/unit/test_ecs_deploy.py.
    cluster = ecs.describe_clusters(clusters=[PRIMARY])["clusters"][0]
    assert {"FARGATE", "FARGATE_SPOT", f"{PRIMARY}-ec2"} <= set(cluster["capacityProviders"])
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{PRIMARY}-ec2"])["AutoScalingGroups"][0]
    assert (group["MinSize"], group["MaxSize"]) == (3, 10)
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (5, 10)
    # The failover region: a warm standby of 2 tasks, on Fargate, able to scale to 10.
    ecs_eu, scaling_eu = clients(aws, "eu-west-1", "ecs", "application-autoscaling")
    standby = ecs_eu.describe_services(cluster=STANDBY, services=["backend"])["services"][0]
    assert standby["desiredCount"] == 2 and standby["launchType"] == "FARGATE"
    target = scaling_eu.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)


def test_aurora_global_database(aws):
    # Seed: Aurora PostgreSQL primary db.r5.xlarge Multi-AZ + 2 read replicas; failover region.
    (rds,) = clients(aws, "us-east-1", "rds")
    glob = rds.describe_global_clusters(GlobalClusterIdentifier=f"{PRIMARY}-global")["GlobalClusters"][0]
    members = {m["DBClusterArn"].split(":")[3]: m for m in glob["GlobalClusterMembers"]}
    assert set(members) == {"us-east-1", "eu-west-1"}
    assert glob["StorageEncrypted"] is True and glob["DeletionProtection"] is True
    primary = rds.describe_db_clusters(DBClusterIdentifier=f"{PRIMARY}-aurora")["DBClusters"][0]
    assert primary["Engine"] == "aurora-postgresql" and primary["EngineVersion"].startswith("15")
    assert primary["BackupRetentionPeriod"] == 30 and primary["DeletionProtection"] is True
    assert {"Key": "backup", "Value": "hourly"} in primary["TagList"]
    instances = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [f"{PRIMARY}-aurora"]}])
    instances = instances["DBInstances"]
    assert [i["DBInstanceClass"] for i in instances] == ["db.r5.xlarge"] * 3
    assert len({i["AvailabilityZone"] for i in instances}) == 3
    assert sum(m["IsClusterWriter"] for m in primary["DBClusterMembers"]) == 1
    (rds_eu,) = clients(aws, "eu-west-1", "rds")
    secondary = rds_eu.describe_db_clusters(DBClusterIdentifier=f"{STANDBY}-aurora")["DBClusters"][0]
    assert secondary["StorageEncrypted"] is True and len(secondary["DBClusterMembers"]) == 1
    # The master secret is replicated to eu-west-1, where the standby's tasks read it.
    secrets_eu, ecs_eu = clients(aws, "eu-west-1", "secretsmanager", "ecs")
    replica = secrets_eu.describe_secret(SecretId=f"{PRIMARY}/aurora/master")
    service = ecs_eu.describe_services(cluster=STANDBY, services=["backend"])["services"][0]
    task = ecs_eu.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    backend = next(c for c in task["containerDefinitions"] if c["name"] == "backend")
    assert {item["valueFrom"].split(":password")[0].split(":username")[0] for item in backend["secrets"]} >= {
        replica["ARN"]
    }


def test_redis_three_shards_two_replicas(aws):
    # Seed: ElastiCache Redis, 3 shards with failover, 2 replicas per shard.
    (elasticache,) = clients(aws, "us-east-1", "elasticache")
    redis = elasticache.describe_replication_groups(ReplicationGroupId=f"{PRIMARY}-redis")["ReplicationGroups"][0]
    assert [len(group["NodeGroupMembers"]) for group in redis["NodeGroups"]] == [3, 3, 3]
    assert redis["AutomaticFailover"] == "enabled" and redis["MultiAZ"] == "enabled"
    assert redis["TransitEncryptionEnabled"] is True and redis["AtRestEncryptionEnabled"] is True


def test_buckets_replicate_with_lifecycle(aws):
    # Seed: S3 multi-region - bucket replication and lifecycle policies.
    (s3,) = clients(aws, "us-east-1", "s3")
    for key in ("app-logs", "user-uploads"):
        rules = s3.get_bucket_replication(Bucket=f"{PRIMARY}-{key}")["ReplicationConfiguration"]["Rules"]
        assert rules[0]["Destination"]["Bucket"] == f"arn:aws:s3:::{STANDBY}-{key}"
        assert s3.get_bucket_versioning(Bucket=f"{STANDBY}-{key}")["Status"] == "Enabled"
        assert s3.get_bucket_location(Bucket=f"{STANDBY}-{key}")["LocationConstraint"] == "eu-west-1"
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=f"{PRIMARY}-{key}")["Rules"]
        by_id = {rule["ID"]: rule for rule in lifecycle}
        assert by_id["transition-standard-ia"]["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
        assert by_id["expire-noncurrent"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
        for name in (f"{PRIMARY}-{key}", f"{STANDBY}-{key}"):
            block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
            assert all(block.values()) and len(block) == 4


def test_edge_chain_and_failover_records(aws):
    # Seed: CloudFront -> API Gateway -> ALB; Route53 failover across the regions. Viewers reach
    # api.<zone> (CloudFront, its own certificate, TLS 1.2+), whose origin is the failover name
    # api-origin.<zone>: each region's API Gateway custom domain, health-checked on /health/writer.
    cloudfront, route53 = clients(aws, "us-east-1", "cloudfront", "route53")
    distribution = cloudfront.list_distributions()["DistributionList"]["Items"][0]
    assert distribution["Enabled"] is True
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert distribution["Aliases"]["Items"] == ["api.reelle.example"]
    assert distribution["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert distribution["ViewerCertificate"]["ACMCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert distribution["Origins"]["Items"][0]["DomainName"] == "api-origin.reelle.example"
    zone = route53.list_hosted_zones_by_name(DNSName="reelle.example")["HostedZones"][0]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    failover = {r["SetIdentifier"]: r for r in records if r.get("Failover")}
    assert failover["us-east-1"]["Failover"] == "PRIMARY" and failover["eu-west-1"]["Failover"] == "SECONDARY"
    assert {r["Name"] for r in failover.values()} == {"api-origin.reelle.example."}
    for region, record in failover.items():
        check = route53.get_health_check(HealthCheckId=record["HealthCheckId"])["HealthCheck"]["HealthCheckConfig"]
        assert check["ResourcePath"] == "/health/writer"
        assert f".execute-api.{region}." in check["FullyQualifiedDomainName"]
        (apigw,) = clients(aws, region, "apigatewayv2")
        prefix = PRIMARY if region == "us-east-1" else STANDBY
        api = next(a for a in apigw.get_apis()["Items"] if a["Name"] == f"{prefix}-api")
        integration = apigw.get_integrations(ApiId=api["ApiId"])["Items"][0]
        assert integration["ConnectionType"] == "VPC_LINK" and ":listener/app/" in integration["IntegrationUri"]
    # The load balancers are internal: nothing reaches them around the edge.
    for region in ("us-east-1", "eu-west-1"):
        (elb,) = clients(aws, region, "elbv2")
        assert {lb["Scheme"] for lb in elb.describe_load_balancers()["LoadBalancers"]} == {"internal"}


def test_alarms_and_dashboards_per_region(aws):
    # Seed: p95 < 100 ms, 10,000+ req/s, 500+ DB connections, 99.9 % uptime - per region.
    for region, prefix in (("us-east-1", PRIMARY), ("eu-west-1", STANDBY)):
        (cloudwatch,) = clients(aws, region, "cloudwatch")
        alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]}
        assert alarms[f"{prefix}-alb-target-response-time-p95"]["Threshold"] == 0.1
        assert alarms[f"{prefix}-alb-requests-above-sized-throughput"]["Threshold"] == 600000
        assert alarms[f"{prefix}-alb-5xx-rate"]["Threshold"] == 0.1
        connections = [a for name, a in alarms.items() if "-rds-connections-" in name]
        assert connections and {a["Threshold"] for a in connections} == {500}
        assert prefix in [d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]]


def test_hourly_backups_copied_to_the_failover_region(aws):
    # Seed: hourly backups kept 30 days; RPO 5 min (continuous backup); copies to eu-west-1.
    (backup,) = clients(aws, "us-east-1", "backup")
    plan = next(p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == f"{PRIMARY}-plan")
    rule = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])["BackupPlan"]["Rules"][0]
    assert rule["ScheduleExpression"] == "cron(0 * * * ? *)"
    assert rule["Lifecycle"]["DeleteAfterDays"] == 30 and rule["EnableContinuousBackup"] is True
    (backup_eu,) = clients(aws, "eu-west-1", "backup")
    vault = backup_eu.describe_backup_vault(BackupVaultName=f"{STANDBY}-vault")
    assert rule["CopyActions"][0]["DestinationBackupVaultArn"] == vault["BackupVaultArn"]


def test_second_converge_changes_nothing(aws):
    result = run(aws, "site.yml")
    assert result.rc == 0, result
    assert result.changed == 0, result.changed_tasks()


def test_account_holds_what_the_calm_golden_snapshot_says(aws):
    # The reference the hostile-profile converge (test_hostile_aws.py) is compared with.
    found = account.snapshot(aws.endpoint, ["us-east-1", "eu-west-1"])
    assert account.differences(account.golden("prod", found), found) == []


def test_check_mode_on_converged_account_reports_no_change(aws):
    result = run(aws, "site.yml", "--check", "--diff")
    assert result.rc == 0, result
    assert result.changed == 0, result.changed_tasks()


def test_dr_failover_refuses_without_confirmation_or_mode(aws):
    before = requests_served(aws)
    for extra in ([], ["-e", "dr_confirm=prod"], ["-e", "dr_confirm=prod", "-e", "dr_mode=maybe"]):
        result = run(aws, "dr_failover.yml", *extra)
        assert result.rc != 0, result
        assert "Confirm with -e dr_confirm=prod" in result.output, result
        assert "-e dr_mode=unplanned" in result.output and "-e dr_mode=planned" in result.output, result
    assert requests_served(aws) == before


def writer_region(server, region):
    (rds,) = clients(server, region, "rds")
    members = rds.describe_global_clusters(GlobalClusterIdentifier=f"{PRIMARY}-global")["GlobalClusters"][0]
    return next(m["DBClusterArn"].split(":")[3] for m in members["GlobalClusterMembers"] if m["IsWriter"])


def test_dr_failover_check_mode_with_the_primary_down_changes_nothing(aws):
    aws.patch_profile({"outage_regions": ["us-east-1"]})
    try:
        result = run(aws, "dr_failover.yml", "--check", "-e", "dr_confirm=prod", "-e", "dr_mode=unplanned")
    finally:
        aws.patch_profile({"outage_regions": []})
    assert result.rc == 0, result
    assert result.changed > 0, "check mode should report the failover it would make"
    assert writer_region(aws, "eu-west-1") == "us-east-1"
    (ecs_eu,) = clients(aws, "eu-west-1", "ecs")
    assert ecs_eu.describe_services(cluster=STANDBY, services=["backend"])["services"][0]["desiredCount"] == 2


def test_dr_drill_fails_over_with_the_primary_region_down_and_back(aws):
    result = run(aws, "dr_drill.yml", "-e", "dr_confirm=prod")
    assert result.rc == 0, result
    # Read back by the drill while us-east-1 was down, and asserted there.
    assert "Aurora writer eu-west-1" in result.output, result
    assert "requests signed for us-east-1: 0" in result.output, result
    assert "ECS eu-west-1 5/5 running" in result.output, result
    # The RTO estimate names its parts and their sources, and meets the seed.
    parts = ("orchestration (measured", "aurora global failover", "route53 health-check detection", "dns record ttl")
    for part in parts:
        assert part in result.output, part
    assert "total: within the RTO" in result.output, result
    assert "[x] alarm" in result.output, result
    # After the failback: the writer is home, the standby warm, and a converge finds prod as the inventory says.
    assert writer_region(aws, "us-east-1") == "us-east-1"
    (ecs_eu,) = clients(aws, "eu-west-1", "ecs")
    assert ecs_eu.describe_services(cluster=STANDBY, services=["backend"])["services"][0]["desiredCount"] == 2
    again = run(aws, "site.yml")
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    # Failing back again is a no-op, in check mode too.
    back = run(aws, "dr_failback.yml", "--check", "--diff", "-e", "dr_confirm=prod")
    assert back.rc == 0 and back.changed == 0, back.changed_tasks()


def test_dr_drill_planned_switches_over_and_back(aws):
    # The primary answers: a switchover each way, no data loss allowed.
    result = run(aws, "dr_drill.yml", "-e", "dr_confirm=prod", "-e", "dr_mode=planned")
    assert result.rc == 0, result
    assert "DR drill (emulator, us-east-1 down" not in result.output
    assert "Aurora writer eu-west-1;" in result.output and "a failover: writes not yet replicated" not in result.output
    assert writer_region(aws, "eu-west-1") == "us-east-1"
