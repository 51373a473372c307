# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an account holds after a converge, read back with describe calls.

`snapshot()` lists, per region, every kind of resource the environments make,
by name (or by count where AWS names nothing), so two runs can be compared:
a converge under the hostile profile (throttling, lag, slow lifecycles,
interruptions) must leave exactly what a calm converge leaves - no second
VPC, KMS key, EIP, task-definition revision, launch-template version or secret.

The calm converge's snapshot is kept in `tests/e2e/golden/<env>.json`; the calm
e2e test compares its own snapshot with it (so the file cannot go stale
silently), the hostile one compares with it too. `REELLE_UPDATE_GOLDEN=1`
rewrites it from the calm run.
"""

import json
import os
from pathlib import Path

import boto3
from botocore.config import Config

GOLDEN = Path(__file__).resolve().parent / "golden"


def _session(region):
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)


def _pages(client, operation, key, **kwargs):
    items = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def _name(tags):
    return next((tag["Value"] for tag in tags or [] if tag["Key"] == "Name"), "(no name)")


def _ec2(ec2):
    vpcs = [vpc for vpc in ec2.describe_vpcs()["Vpcs"] if not vpc.get("IsDefault")]
    vpc_ids = [vpc["VpcId"] for vpc in vpcs]
    in_vpcs = [{"Name": "vpc-id", "Values": vpc_ids}] if vpc_ids else None
    nats = ec2.describe_nat_gateways()["NatGateways"]
    templates = ec2.describe_launch_templates()["LaunchTemplates"]
    return {
        "vpcs": sorted(_name(vpc.get("Tags")) for vpc in vpcs),
        "subnets": sorted(_name(s.get("Tags")) for s in ec2.describe_subnets(Filters=in_vpcs)["Subnets"])
        if in_vpcs
        else [],
        "internet_gateways": len(ec2.describe_internet_gateways()["InternetGateways"]),
        "nat_gateways": len([nat for nat in nats if nat["State"] not in ("deleted", "deleting", "failed")]),
        "elastic_ips": len(ec2.describe_addresses()["Addresses"]),
        "route_tables": len(ec2.describe_route_tables(Filters=in_vpcs)["RouteTables"]) if in_vpcs else 0,
        "security_groups": sorted(
            group["GroupName"] for group in ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"]
        )
        if in_vpcs
        else [],
        "launch_templates": {template["LaunchTemplateName"]: template["LatestVersionNumber"] for template in templates},
    }


def _kms(kms):
    keys = []
    for key in _pages(kms, "list_keys", "Keys"):
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("KeyManager") == "CUSTOMER" and meta.get("KeyState") != "PendingDeletion":
            keys.append(meta.get("Description") or "(no description)")
    aliases = [
        a["AliasName"] for a in _pages(kms, "list_aliases", "Aliases") if not a["AliasName"].startswith("alias/aws/")
    ]
    return {"keys": sorted(keys), "aliases": sorted(aliases)}


def _ecs(ecs):
    families = {}
    for arn in _pages(ecs, "list_task_definitions", "taskDefinitionArns", status="ACTIVE"):
        family = arn.rsplit("/", 1)[1].rsplit(":", 1)[0]
        families[family] = families.get(family, 0) + 1
    clusters = {}
    arns = _pages(ecs, "list_clusters", "clusterArns")
    # A deleted cluster or service stays visible as INACTIVE for a while: it is gone.
    active = [c for c in (ecs.describe_clusters(clusters=arns)["clusters"] if arns else []) if c["status"] == "ACTIVE"]
    for cluster in active:
        arns = _pages(ecs, "list_services", "serviceArns", cluster=cluster["clusterArn"])
        services = ecs.describe_services(cluster=cluster["clusterArn"], services=arns)["services"] if arns else []
        clusters[cluster["clusterName"]] = sorted(s["serviceName"] for s in services if s["status"] == "ACTIVE")
    return {"clusters": clusters, "task_definition_revisions": families}


# The snapshot reads through a hostile profile's throttling too.
CONFIG = Config(retries={"mode": "standard", "max_attempts": 12})


def region_snapshot(endpoint, region):
    session = _session(region)

    def client(name):
        return session.client(name, endpoint_url=endpoint, config=CONFIG)

    rds, elasticache, elbv2 = client("rds"), client("elasticache"), client("elbv2")
    return {
        "ec2": _ec2(client("ec2")),
        "kms": _kms(client("kms")),
        "secrets": sorted(s["Name"] for s in _pages(client("secretsmanager"), "list_secrets", "SecretList")),
        "ecs": _ecs(client("ecs")),
        "load_balancers": sorted(lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]),
        "target_groups": sorted(tg["TargetGroupName"] for tg in elbv2.describe_target_groups()["TargetGroups"]),
        # What is on its way out (status deleting: minutes on AWS, for ever for a cache group on moto) is gone.
        "db_instances": sorted(
            db["DBInstanceIdentifier"]
            for db in rds.describe_db_instances()["DBInstances"]
            if db.get("DBInstanceStatus") != "deleting"
        ),
        "db_clusters": sorted(
            c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"] if c.get("Status") != "deleting"
        ),
        "cache_groups": sorted(
            g["ReplicationGroupId"]
            for g in elasticache.describe_replication_groups()["ReplicationGroups"]
            if g.get("Status") != "deleting"
        ),
        "log_groups": sorted(g["logGroupName"] for g in _pages(client("logs"), "describe_log_groups", "logGroups")),
        "auto_scaling_groups": sorted(
            g["AutoScalingGroupName"] for g in client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
        ),
        "backup_vaults": sorted(v["BackupVaultName"] for v in client("backup").list_backup_vaults()["BackupVaultList"]),
        "sns_topics": sorted(t["TopicArn"].rsplit(":", 1)[1] for t in client("sns").list_topics()["Topics"]),
        "alarms": len(_pages(client("cloudwatch"), "describe_alarms", "MetricAlarms")),
        "ecr_repositories": sorted(r["repositoryName"] for r in client("ecr").describe_repositories()["repositories"]),
    }


def snapshot(endpoint, regions):
    """Every region's resources, and the account's global ones (IAM, S3, edge)."""
    session = _session("us-east-1")

    def client(name):
        return session.client(name, endpoint_url=endpoint, config=CONFIG)

    iam = client("iam")
    roles = [
        r["RoleName"] for r in _pages(iam, "list_roles", "Roles") if not r["Path"].startswith("/aws-service-role/")
    ]
    found = {
        "global": {
            "buckets": sorted(b["Name"] for b in client("s3").list_buckets()["Buckets"]),
            "iam_roles": sorted(roles),
            "instance_profiles": sorted(
                p["InstanceProfileName"] for p in _pages(iam, "list_instance_profiles", "InstanceProfiles")
            ),
            "distributions": len(client("cloudfront").list_distributions()["DistributionList"].get("Items") or []),
            "hosted_zones": sorted(z["Name"] for z in client("route53").list_hosted_zones()["HostedZones"]),
            "health_checks": len(client("route53").list_health_checks()["HealthChecks"]),
        }
    }
    for region in regions:
        found[region] = region_snapshot(endpoint, region)
    return found


def golden(name, found):
    """The calm converge's snapshot of `name`, rewritten from `found` when REELLE_UPDATE_GOLDEN=1."""
    path = GOLDEN / f"{name}.json"
    if os.environ.get("REELLE_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return json.loads(path.read_text())


def differences(expected, actual, path=""):
    """Readable differences between two snapshots (empty when equal)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            out.extend(differences(expected.get(key), actual.get(key), f"{path}.{key}".lstrip(".")))
        return out
    return [] if expected == actual else [f"{path}: calm {expected!r}, this run {actual!r}"]
