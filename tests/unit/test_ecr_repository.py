# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecr_repository against the moto server: create, no-op, updates, check mode,
the encryption guard and the images guard on delete."""

import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.reelle.infra.plugins.modules import ecr_repository

REGION = "us-east-1"
NAME = "reelle-test/backend"
POLICY = {
    "rules": [
        {
            "rulePriority": 2,
            "description": "Keep the 30 newest images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 1,
            "description": "Expire untagged images after 7 days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        },
    ]
}


def run(args, capsys, check_mode=False, diff=False):
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)), pytest.raises(SystemExit):
        ecr_repository.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def key(emulator):
    return boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


def repository_args(key, **overrides):
    args = {
        "region": REGION,
        "name": NAME,
        "image_tag_mutability": "IMMUTABLE",
        "scan_on_push": True,
        "encryption_type": "KMS",
        "kms_key": key,
        "lifecycle_policy": POLICY,
        "tags": {"project": "reelle", "environment": "test"},
    }
    args.update(overrides)
    return args


def ecr():
    return boto3.client("ecr", region_name=REGION)


@pytest.mark.parametrize(
    ("policy", "rules"),
    [
        (None, None),
        (json.dumps({"rules": [{"rulePriority": 2}, {"rulePriority": 1}]}), [1, 2]),
        ({"rules": [{"rulePriority": 3}, {"rulePriority": 1}]}, [1, 3]),
    ],
)
def test_parse_policy_orders_rules(policy, rules):
    parsed = ecr_repository.parse_policy(policy)
    assert (parsed is None) if rules is None else [rule["rulePriority"] for rule in parsed["rules"]] == rules


def test_check_mode_creates_nothing(key, capsys):
    result = run(repository_args(key), capsys, check_mode=True)
    assert result["changed"] is True
    assert [row["action"] for row in result["changes"]] == ["create", "update"]
    assert result["repository_url"] is None
    assert ecr().describe_repositories()["repositories"] == []


def test_create_then_noop(key, capsys):
    created = run(repository_args(key), capsys)
    assert created["changed"] is True
    assert created["repository_url"].endswith(f".dkr.ecr.{REGION}.amazonaws.com/{NAME}")
    repository = ecr().describe_repositories(repositoryNames=[NAME])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}
    policy = json.loads(ecr().get_lifecycle_policy(repositoryName=NAME)["lifecyclePolicyText"])
    assert [rule["selection"]["tagStatus"] for rule in policy["rules"]] == ["untagged", "any"]
    again = run(repository_args(key), capsys)
    assert again["changed"] is False, again["changes"]
    assert again["repository_arn"] == created["repository_arn"]


@pytest.mark.parametrize(
    ("overrides", "attributes"),
    [
        ({"image_tag_mutability": "MUTABLE"}, ["image_tag_mutability"]),
        ({"scan_on_push": False}, ["scan_on_push"]),
        ({"lifecycle_policy": {"rules": POLICY["rules"][:1]}}, ["lifecycle_policy"]),
        ({"tags": {"project": "reelle"}}, ["tags.environment"]),
        ({"tags": {"project": "reelle", "environment": "test", "owner": "platform"}}, ["tags.owner"]),
    ],
)
def test_updates_then_noop(key, capsys, overrides, attributes):
    run(repository_args(key), capsys)
    result = run(repository_args(key, **overrides), capsys, diff=True)
    assert result["changed"] is True
    assert [row["attributes"] for row in result["changes"]] == [attributes]
    assert run(repository_args(key, **overrides), capsys)["changed"] is False


def test_unset_parameters_leave_the_repository_alone(key, capsys):
    run(repository_args(key), capsys)
    result = run({"region": REGION, "name": NAME, "encryption_type": "KMS"}, capsys)
    assert result["changed"] is False


@pytest.mark.parametrize(
    "overrides",
    [{"encryption_type": "AES256", "kms_key": None}, {"kms_key": "arn:aws:kms:us-east-1:123456789012:key/other"}],
)
def test_encryption_change_fails_instead_of_replacing(key, capsys, overrides):
    run(repository_args(key), capsys)
    result = run(repository_args(key, **overrides), capsys)
    assert result["failed"] is True
    assert "cannot change encryption in place" in result["msg"]


def test_bad_lifecycle_policy_fails(key, capsys):
    result = run(repository_args(key, lifecycle_policy="{not json"), capsys)
    assert result["failed"] is True and "lifecycle_policy" in result["msg"]


def test_absent_refuses_images_without_force_delete(key, capsys):
    run(repository_args(key), capsys)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": "sha256:" + "0" * 64},
            "layers": [],
        }
    )
    ecr().put_image(repositoryName=NAME, imageManifest=manifest, imageTag="1.0.0")
    refused = run({"region": REGION, "name": NAME, "state": "absent"}, capsys)
    assert refused["failed"] is True and "force_delete=true" in refused["msg"]
    planned = run({"region": REGION, "name": NAME, "state": "absent", "force_delete": True}, capsys, check_mode=True)
    assert planned["changed"] is True and ecr().describe_repositories()["repositories"]
    removed = run({"region": REGION, "name": NAME, "state": "absent", "force_delete": True}, capsys)
    assert removed["changed"] is True and ecr().describe_repositories()["repositories"] == []
    assert run({"region": REGION, "name": NAME, "state": "absent"}, capsys)["changed"] is False


# --- every AWS call of the modules this team owns is retried ------------------

import ast  # noqa: E402
from pathlib import Path  # noqa: E402

MODULES = Path(__file__).resolve().parents[2] / "plugins" / "modules"
AWS_CALL = (
    "describe_",
    "list_",
    "get_",
    "create_",
    "put_",
    "update_",
    "modify_",
    "delete_",
    "register_",
    "deregister_",
    "tag_",
    "untag_",
    "add_",
    "remove_",
    "attach_",
    "detach_",
    "import_",
    "restore_",
    "enable_",
    "disable_",
    "set_",
    "change_",
)
NOT_API_CALLS = {"get_paginator", "get_waiter", "get_partition_for_region"}


def calls_without_retry(path):
    """`<client>.<operation>(...)` calls that do not pass aws_retry=True (ChangeSet and helpers excluded)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, receiver = node.func.attr, ast.unparse(node.func.value)
        if not name.startswith(AWS_CALL) or name in NOT_API_CALLS:
            continue
        if receiver in ("self", "self.changes", "changes", "module", "self.module") or receiver.endswith("changes"):
            continue
        if not isinstance(node.func.value, ast.Name | ast.Attribute):  # a builder chain, not a client
            continue
        if any(keyword.arg == "aws_retry" for keyword in node.keywords):
            continue
        found.append(f"{path.name}:{node.lineno} {receiver}.{name}")
    return found


@pytest.mark.parametrize(
    "module",
    [
        "ecr_repository",
        "ecs_deploy",
        "ecs_ec2_capacity",
        "aws_edge",
        "aws_load_balancer",
        "elasticache_replication_group",
    ],
)
def test_every_aws_call_passes_aws_retry(module):
    assert calls_without_retry(MODULES / f"{module}.py") == []


@pytest.mark.parametrize("name", ["reelle_ecs", "reelle_logs"])
def test_every_aws_call_of_the_ecs_module_utils_passes_aws_retry(name):
    assert calls_without_retry(MODULES.parent / "module_utils" / f"{name}.py") == []


@pytest.mark.parametrize(
    "module",
    [
        "ecr_repository",
        "ecs_deploy",
        "ecs_ec2_capacity",
        "aws_edge",
        "aws_load_balancer",
        "elasticache_replication_group",
    ],
)
def test_no_arn_is_written_in_the_aws_partition(module):
    """ARNs are built with partition_for()/arn(); `arn:aws:` appears only in documentation samples."""
    source = (MODULES / f"{module}.py").read_text()
    code = source[source.index('"""\n\nimport') if '"""\n\nimport' in source else 0 :]
    code_lines = [line for line in code.splitlines() if "arn:aws:" in line and not line.strip().startswith("#")]
    assert code_lines == []
