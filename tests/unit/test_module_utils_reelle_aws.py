# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of the shared comparator and change tracker."""

import json
import types

import pytest
from ansible_collections.reelle.infra.plugins.module_utils import reelle_aws
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ALLOW_MORE_PRESENT,
    IGNORE,
    STRICT,
    ChangeSet,
    differences,
)


@pytest.mark.parametrize(
    ("desired", "actual", "modes", "paths"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, None, []),
        ({"a": 1}, {"a": 2}, None, ["a"]),
        ({"a": None}, {"a": 2}, None, []),
        ({"a": {"b": "x"}}, {"a": {"b": "y", "c": 1}}, None, ["a.b"]),
        ({"a": "5"}, {"a": 5}, None, ["a"]),
        ({"a": 5}, {"a": "5"}, None, []),
        ({"a": True}, {"a": 1}, None, []),
        ({"a": False}, {"a": None}, None, ["a"]),
        ({"l": [1, 2]}, {"l": [2, 1]}, None, []),
        ({"l": [1, 2]}, {"l": [1, 2, 3]}, None, ["l"]),
        ({"l": [1, 2]}, {"l": [1, 2, 3]}, {"l": ALLOW_MORE_PRESENT}, []),
        ({"l": [1, 4]}, {"l": [1, 2, 3]}, {"l": ALLOW_MORE_PRESENT}, ["l"]),
        ({"l": [{"k": 1}]}, {"l": [{"k": 1, "extra": 2}]}, None, []),
        ({"a": 1}, {"a": 2}, {"a": IGNORE}, []),
        ({"t": {"a": "1"}}, {"t": {"a": "1", "b": "2"}}, {"t": STRICT}, ["t.b"]),
        ({"a": {"b": 1}}, {"a": None}, None, ["a"]),
    ],
)
def test_differences(desired, actual, modes, paths):
    assert [item["path"] for item in differences(desired, actual, modes)] == paths


class FakeModule:
    def __init__(self, check_mode, diff=False):
        self.check_mode = check_mode
        self._diff = diff


class FakeClient:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(aws_retry=False, **kwargs):
            self.calls.append((name, kwargs))
            return {"ok": name}

        return call


@pytest.mark.parametrize("check_mode", [True, False])
def test_changeset_check_mode_records_but_does_not_call(check_mode):
    client = FakeClient()
    changes = ChangeSet(FakeModule(check_mode, diff=True))
    result = changes.create("vpc main", client, "ec2", "create_vpc", CidrBlock="10.0.0.0/16")
    changes.note("vpc", None, {"cidr": "10.0.0.0/16"})
    assert changes.changed
    assert (result is None) == check_mode
    assert client.calls == ([] if check_mode else [("create_vpc", {"CidrBlock": "10.0.0.0/16"})])
    out = changes.result()
    assert out["changes"] == [{"action": "create", "resource": "vpc main", "attributes": []}]
    assert out["diff"] == {"before": {"vpc": None}, "after": {"vpc": {"cidr": "10.0.0.0/16"}}}


@pytest.mark.parametrize(
    ("target", "endpoint", "skipped"),
    [
        ("emulator", "http://127.0.0.1:5000", True),
        (None, "http://127.0.0.1:5000", False),  # a loopback endpoint alone is not the emulator
        ("aws", "http://localhost:1", False),
        (None, "", False),
        ("emulator", "https://example.com", True),
    ],
)
def test_emulator_lacking_calls_are_skipped_only_in_explicit_emulator_mode(monkeypatch, target, endpoint, skipped):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    if target is None:
        monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    else:
        monkeypatch.setenv("REELLE_AWS_TARGET", target)
    client = FakeClient()
    changes = ChangeSet(FakeModule(False))
    changes.create("sampling rule", client, "xray", "create_sampling_rule", SamplingRule={})
    assert reelle_aws.on_emulator() is skipped
    assert (changes.result()["skipped_calls"] == ["xray:create_sampling_rule"]) is skipped
    assert bool(client.calls) is not skipped


def test_amazon_aws_connections_share_one_boto3_session_per_profile():
    from ansible_collections.amazon.aws.plugins.module_utils import botocore as amazon_aws_botocore

    shim = amazon_aws_botocore.boto3
    assert shim.session.Session() is shim.session.Session()
    assert shim.session.Session(profile_name=None) is not shim.session.Session(region_name="eu-west-1")
    assert shim.__version__ == __import__("boto3").__version__


# --- retries: throttling, propagation after a create, drain before a delete ---


def client_error(code, message="", operation="Op"):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("service", "operation", "code", "message", "reason"),
    [
        ("ec2", "describe_vpcs", "RequestLimitExceeded", "", "throttling"),
        ("ecs", "describe_services", "ThrottlingException", "", "throttling"),
        ("route53", "change_resource_record_sets", "PriorRequestNotComplete", "", "throttling"),
        ("s3", "put_bucket_tagging", "SlowDown", "", "throttling"),
        ("ec2", "modify_vpc_attribute", "InvalidVpcID.NotFound", "", "propagation"),
        ("ec2", "describe_vpcs", "InvalidVpcID.NotFound", "", None),  # a read: absent means absent
        ("s3", "put_bucket_tagging", "NoSuchBucket", "", "propagation"),
        ("ecs", "create_service", "InvalidParameterException", "Unable to assume role and validate", "propagation"),
        ("ecs", "create_service", "InvalidParameterException", "desiredCount must be >= 0", None),
        ("autoscaling", "create_auto_scaling_group", "ValidationError", "Invalid IamInstanceProfile", "propagation"),
        ("autoscaling", "create_auto_scaling_group", "ValidationError", "MaxSize below MinSize", None),
        ("ec2", "delete_subnet", "DependencyViolation", "has dependencies", "drain"),
        ("ec2", "delete_vpc", "InvalidVpcID.NotFound", "", None),  # a delete of what is gone is not retried
        ("ecs", "delete_cluster", "ClusterContainsContainerInstancesException", "", "drain"),
        ("rds", "create_db_instance", "InvalidParameterCombination", "", None),
    ],
)
def test_retry_reason(service, operation, code, message, reason):
    assert reelle_aws.retry_reason(service, operation, client_error(code, message)) == reason


class FlakyCall:
    """Fails with the given errors, then answers."""

    def __init__(self, name, *errors):
        self.__name__ = name
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, **kwargs):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": kwargs}


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")


def test_propagation_errors_after_a_create_are_waited_out(fast_retries):
    call = FlakyCall(
        "modify_vpc_attribute", client_error("InvalidVpcID.NotFound"), client_error("InvalidVpcID.NotFound")
    )
    assert reelle_aws.retry_for("ec2")(call)(VpcId="vpc-1") == {"ok": {"VpcId": "vpc-1"}}
    assert call.calls == 3


def test_a_read_is_not_retried_on_not_found(fast_retries):
    call = FlakyCall("describe_vpcs", client_error("InvalidVpcID.NotFound"))
    with pytest.raises(Exception, match="InvalidVpcID.NotFound"):
        reelle_aws.retry_for("ec2")(call)()
    assert call.calls == 1


def test_retries_end_at_the_propagation_timeout(monkeypatch, fast_retries):
    monkeypatch.setattr(reelle_aws, "PROPAGATION_SECONDS", 0)
    call = FlakyCall("modify_vpc_attribute", *[client_error("InvalidVpcID.NotFound")] * 5)
    with pytest.raises(Exception, match="InvalidVpcID.NotFound"):
        reelle_aws.retry_for("ec2")(call)()
    assert call.calls == 1


def test_retry_on_names_extra_codes_for_one_call(fast_retries):
    call = FlakyCall("get_bucket_tagging", client_error("NoSuchBucket"))
    assert reelle_aws.retry_on({"NoSuchBucket"}, call, Bucket="b") == {"ok": {"Bucket": "b"}}
    assert call.calls == 2


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ("standard", 12)),
        ({"AWS_MAX_ATTEMPTS": "25"}, ("standard", 25)),
        ({"AWS_RETRY_MODE": "adaptive"}, ("adaptive", 12)),
    ],
)
def test_botocore_retry_mode(monkeypatch, env, expected):
    for key in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert reelle_aws.retry_mode() == expected
    config = reelle_aws.botocore_config()
    assert config.retries == {"mode": expected[0], "max_attempts": expected[1]}


def test_paginate_retries_a_throttled_page(fast_retries):
    class Paginator:
        def __init__(self):
            self.errors = [client_error("Throttling")]

        def paginate(self, **kwargs):
            yield {"Items": [1]}
            if self.errors:
                raise self.errors.pop(0)
            yield {"Items": [2]}

    paginator = Paginator()
    client = type("Client", (), {"get_paginator": lambda self, operation: paginator})()
    assert reelle_aws.paginate(client, "list_things", "Items") == [1, 2]


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("eu-west-1", "aws"), ("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")],
)
def test_partition_for_region(region, partition):
    assert reelle_aws.partition_for(region) == partition
    assert reelle_aws.arn(partition, "iam", "", "123456789012", "root") == f"arn:{partition}:iam::123456789012:root"


def test_client_token_is_stable_and_short():
    token = reelle_aws.client_token("nat", "subnet-1", {"b": 1, "a": 2})
    assert token == reelle_aws.client_token("nat", "subnet-1", {"a": 2, "b": 1})
    assert token != reelle_aws.client_token("nat", "subnet-2", {"a": 2, "b": 1})
    assert len(token) <= 64


def test_botocore_backoff_shrinks_with_the_time_scale(monkeypatch):
    from botocore.retries import standard

    # Restored after the test: the patch is process-wide, as in a converge's worker.
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", standard.ExponentialBackoff.delay_amount)
    context = standard.RetryContext(attempt_number=3)
    backoff = standard.ExponentialBackoff(random=lambda: 1.0)
    unscaled = backoff.delay_amount(context)
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.01")
    reelle_aws._scale_botocore_backoff()
    reelle_aws._scale_botocore_backoff()  # once only
    assert unscaled > 0
    assert backoff.delay_amount(context) == pytest.approx(unscaled * 0.01)


# --- KMS keys: one rule set for every module -------------------------------------

KEY_ID = "0b4c3e4f-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"
OTHER_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
ALIAS_ARN = "arn:aws:kms:us-east-1:123456789012:alias/reelle-staging"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (KEY_ARN, KEY_ID),
        (KEY_ID, KEY_ID),
        ("arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc", "abc"),
        (ALIAS_ARN, "alias/reelle-staging"),
        ("alias/reelle-staging", "alias/reelle-staging"),
        (None, None),
        ("", None),
    ],
)
def test_kms_key_id_names_the_key_or_the_alias(value, expected):
    assert reelle_aws.kms_key_id(value) == expected


@pytest.mark.parametrize(
    ("desired", "actual", "same"),
    [
        (None, KEY_ARN, True),  # not set: the resource's key is left alone
        (KEY_ID, KEY_ARN, True),
        (KEY_ARN, KEY_ARN, True),
        (KEY_ARN, OTHER_ARN, False),
        (KEY_ID, OTHER_ARN, False),
        (KEY_ID, None, False),  # unencrypted resource, a key wanted
        ("alias/reelle-staging", ALIAS_ARN, True),
        ("alias/reelle-staging", "alias/reelle-prod", False),
        ("alias/reelle-staging", KEY_ARN, True),  # cannot tell without KMS: not a difference
    ],
)
def test_same_kms_key(desired, actual, same):
    assert reelle_aws.same_kms_key(desired, actual) is same


def test_same_kms_key_asks_kms_for_an_alias_when_it_can():
    asked = []

    def resolve(alias):
        asked.append(alias)
        return KEY_ARN if alias.endswith("alias/reelle-staging") else OTHER_ARN

    assert reelle_aws.same_kms_key("alias/reelle-staging", KEY_ARN, resolve=resolve) is True
    assert reelle_aws.same_kms_key("alias/reelle-prod", KEY_ARN, resolve=resolve) is False
    assert reelle_aws.same_kms_key(KEY_ID, ALIAS_ARN, resolve=resolve) is True
    assert asked == ["alias/reelle-staging", "alias/reelle-prod", ALIAS_ARN]
    # Key against key needs no call.
    reelle_aws.same_kms_key(KEY_ID, OTHER_ARN, resolve=resolve)
    assert len(asked) == 3


# --- policy documents: amazon.aws compare_policies, as IAM/S3 rewrite them ---------

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["ecs-tasks.amazonaws.com"], "AWS": "123456789012"},
            "Action": ["sts:AssumeRole"],
        }
    ],
}


def test_same_policy_ignores_the_rewrites_aws_applies():
    # IAM answers URL-encoded JSON, single values for one-item lists and the account's root ARN.
    stored = (
        "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Action%22%3A%22sts%3AAssumeRole%22%2C"
        "%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A123456789012"
        "%3Aroot%22%2C%22Service%22%3A%22ecs-tasks.amazonaws.com%22%7D%7D%7D"
    )
    assert reelle_aws.policy_document(stored)["Statement"]["Action"] == "sts:AssumeRole"
    assert reelle_aws.same_policy(TRUST, stored) is True
    assert reelle_aws.same_policy(TRUST, json.dumps(TRUST, indent=2)) is True


def test_same_policy_sees_a_real_change():
    wider = json.loads(json.dumps(TRUST))
    wider["Statement"][0]["Action"].append("sts:TagSession")
    assert reelle_aws.same_policy(TRUST, wider) is False
    other_account = json.loads(json.dumps(TRUST))
    other_account["Statement"][0]["Principal"]["AWS"] = "210987654321"
    assert reelle_aws.same_policy(TRUST, other_account) is False
    assert reelle_aws.same_policy(TRUST, None) is False
    assert reelle_aws.same_policy(None, None) is True


# --- check-mode placeholders and the module run -------------------------------------


def test_real_hides_the_placeholder_only():
    assert reelle_aws.real(reelle_aws.UNKNOWN) is None
    assert reelle_aws.real(None) is None
    assert reelle_aws.real("arn:aws:sns:us-east-1:123456789012:alarms") == "arn:aws:sns:us-east-1:123456789012:alarms"


class _Exit(Exception):
    pass


class _Module:
    _name = "probe"

    def __init__(self, state):
        self.params = {"state": state}
        self.failed = self.exited = None

    def fail_json_aws(self, error, **kwargs):
        self.failed = dict(kwargs, error=error)
        raise _Exit

    def exit_json(self, **kwargs):
        self.exited = kwargs
        raise _Exit


class _Manager:
    def __init__(self, error=None):
        self.error = error
        self.step = "creating the probe"
        self.changes = types.SimpleNamespace(changes=[{"action": "create", "resource": "probe", "attributes": []}])

    def ensure_present(self):
        if self.error:
            raise self.error
        return {"changed": True, "which": "present"}

    def ensure_absent(self):
        return {"changed": False, "which": "absent"}


@pytest.mark.parametrize("state", ["present", "absent"])
def test_run_manager_runs_the_state_asked(state):
    module = _Module(state)
    with pytest.raises(_Exit):
        reelle_aws.run_manager(module, _Manager())
    assert module.exited["which"] == state


def test_run_manager_fails_with_the_step_and_what_was_done():
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "CreateProbe")
    module = _Module("present")
    with pytest.raises(_Exit):
        reelle_aws.run_manager(module, _Manager(error))
    assert module.exited is None
    assert module.failed["msg"] == "Failed creating the probe"
    assert module.failed["error"] is error
    assert module.failed["changes"] == [{"action": "create", "resource": "probe", "attributes": []}]
