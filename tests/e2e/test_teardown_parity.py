# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Teardown and parity of staging against a fresh local emulator.

Order matters (module-scoped emulator): converge, refused teardowns (no request
reaches the emulator), parity of the converged account (also with a drifted
scalable target and an inventory copy without TLS), teardown in check mode,
teardown, and a second teardown that changes nothing.
"""

import json
import shutil

import boto3
import pytest
import yaml

from .helpers import ROOT, playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PREFIX = "reelle-staging"
UPLOADS = f"{PREFIX}-user-uploads"


@pytest.fixture(scope="module")
def aws(emulator_server):
    emulator_server.reset()
    run = playbook("staging", "site.yml", env=emulator_server.env, timeout=1200)
    assert run.rc == 0, run
    return emulator_server


def requests_served(server):
    """Requests the emulator has logged so far (werkzeug logs one line per request)."""
    with open(server.log.name, encoding="utf-8") as log:
        return sum(1 for line in log if '" 200 ' in line or '" 4' in line or '" 5' in line)


def client(server, name):
    return boto3.client(
        name,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def inventory(server):
    """What the account holds, from describe calls."""
    ec2, rds, s3, elbv2 = (client(server, name) for name in ("ec2", "rds", "s3", "elbv2"))
    elasticache, backup, ecr, cloudwatch = (client(server, n) for n in ("elasticache", "backup", "ecr", "cloudwatch"))
    iam, kms, secrets = client(server, "iam"), client(server, "kms"), client(server, "secretsmanager")
    return {
        "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]),
        "security_groups": sorted(
            g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"
        ),
        "db_instances": sorted(i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]),
        "db_snapshots": sorted(
            s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        ),
        "cache_groups": sorted(
            (g["ReplicationGroupId"], g["Status"])
            for g in elasticache.describe_replication_groups()["ReplicationGroups"]
        ),
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "load_balancers": sorted(lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]),
        "target_groups": sorted(t["TargetGroupName"] for t in elbv2.describe_target_groups()["TargetGroups"]),
        "repositories": sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"]),
        "backup_plans": sorted(p["BackupPlanName"] for p in backup.list_backup_plans()["BackupPlansList"]),
        "backup_vaults": sorted(v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]),
        "alarms": sorted(a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(PREFIX)),
        "kms_keys": sorted(
            kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] for k in kms.list_keys()["Keys"]
        ),
        "secrets": sorted(
            (s["Name"], "DeletedDate" in s) for s in secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
        ),
    }


def teardown(server, *extra):
    return playbook("staging", "teardown.yml", *extra, env=server.env, timeout=900)


def parity(server, inventories, *extra):
    """parity.yml over copies of the inventories (prod's is still being written: not configured here).

    The dev inventory's localhost runs the play; only staging's deployed state is read.
    """
    return playbook(
        "dev",
        "parity.yml",
        "-e",
        json.dumps({"parity_live_environments": ["staging"], "parity_inventories_dir": str(inventories)}),
        *extra,
        env=server.env,
    )


@pytest.fixture
def inventories(tmp_path):
    """Copies of dev's and staging's inventories."""
    for name in ("dev", "staging"):
        shutil.copytree(ROOT / "inventories" / name, tmp_path / "inventories" / name)
    return tmp_path / "inventories"


@pytest.mark.parametrize("extra", [(), ("-e", "teardown_confirm=prod"), ("-e", "teardown_confirm=")])
def test_teardown_without_confirmation_sends_no_request(aws, extra):
    before_inventory = inventory(aws)
    before = requests_served(aws)
    run = teardown(aws, *extra)
    assert requests_served(aws) == before, "the refused teardown reached the emulator"
    assert run.rc != 0, run
    assert "Refusing to tear down staging" in run.output, run
    assert "-e teardown_confirm=staging" in run.output, run
    assert inventory(aws) == before_inventory


def test_parity_holds_for_the_converged_staging(aws, inventories):
    run = parity(aws, inventories)
    assert run.rc == 0, run
    assert "Parity holds." in run.output, run
    assert "deployed state checked: staging" in run.output, run
    assert "| Scaling       | Manual   | Auto 2-3" in run.output, run


def test_parity_fails_when_the_deployed_scaling_drifts(aws, inventories):
    scaling = client(aws, "application-autoscaling")
    target = dict(
        ServiceNamespace="ecs", ResourceId=f"service/{PREFIX}/backend", ScalableDimension="ecs:service:DesiredCount"
    )
    scaling.register_scalable_target(**target, MinCapacity=2, MaxCapacity=4)
    try:
        run = parity(aws, inventories)
    finally:
        scaling.register_scalable_target(**target, MinCapacity=2, MaxCapacity=3)
    assert run.rc != 0, run
    assert "staging Scaling: deployed is 'Auto 2-4', the inventory says 'Auto 2-3'" in run.output, run


def test_parity_fails_for_a_staging_copy_without_tls(aws, inventories):
    lb = inventories / "staging" / "group_vars" / "all" / "loadbalancer.yml"
    data = yaml.safe_load(lb.read_text(encoding="utf-8"))
    data["aws_loadbalancer_https"] = False
    lb.write_text(yaml.safe_dump(data), encoding="utf-8")
    run = parity(aws, inventories, "-e", "parity_live=false")
    assert run.rc != 0, run
    assert "staging SSL/TLS: inventory gives '✗ (no HTTPS listener)', the seed's checklist says '✓'" in run.output
    assert "not configured: prod" in run.output, run


def test_teardown_check_mode_removes_nothing(aws):
    before = inventory(aws)
    run = teardown(aws, "-e", "teardown_confirm=staging", "--check", "--diff")
    assert run.rc == 0, run
    assert run.changed > 0, run
    assert inventory(aws) == before


def test_teardown_keeps_snapshots_and_the_bucket_with_objects_then_changes_nothing(aws):
    s3 = client(aws, "s3")
    # The TLS-only policy refuses plain-HTTP writes (the emulator speaks HTTP): lift it for one object.
    policy = s3.get_bucket_policy(Bucket=UPLOADS)["Policy"]
    s3.delete_bucket_policy(Bucket=UPLOADS)
    s3.put_object(Bucket=UPLOADS, Key="avatar.png", Body=b"user data")
    s3.put_bucket_policy(Bucket=UPLOADS, Policy=policy)

    run = teardown(aws, "-e", "teardown_confirm=staging")
    assert run.rc == 0, run
    after = inventory(aws)
    assert after["vpcs"] == [] and after["security_groups"] == []
    assert after["db_instances"] == []
    assert len(after["db_snapshots"]) == 1 and after["db_snapshots"][0].startswith(f"{PREFIX}-pg-final-")
    # moto keeps a deleted replication group "deleting" for ever (and takes no final snapshot).
    assert after["cache_groups"] == [(f"{PREFIX}-redis", "deleting")]
    assert f"{PREFIX}-redis-final-" in run.output
    assert after["buckets"] == [UPLOADS]
    assert f"Buckets kept (they hold objects): {UPLOADS}" in run.output
    assert after["load_balancers"] == [] and after["target_groups"] == []
    assert after["repositories"] == []
    assert after["backup_plans"] == [] and after["backup_vaults"] == []
    assert after["alarms"] == [] and after["roles"] == []
    assert after["kms_keys"] == ["PendingDeletion"]
    # Every secret is scheduled for deletion (recovery window), none is gone for good.
    assert after["secrets"] and all(deleted for _name, deleted in after["secrets"])
    assert s3.list_objects_v2(Bucket=UPLOADS)["KeyCount"] == 1

    again = teardown(aws, "-e", "teardown_confirm=staging")
    assert again.rc == 0, again
    assert again.changed == 0, again.changed_tasks()
    assert inventory(aws) == after
