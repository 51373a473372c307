"""Table-driven tests of the shared comparator and change tracker."""

import pytest
from ansible.module_utils import reelle_aws
from ansible.module_utils.reelle_aws import ALLOW_MORE_PRESENT, IGNORE, STRICT, ChangeSet, differences


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
    ("endpoint", "skipped"),
    [("http://127.0.0.1:5000", True), ("http://localhost:1", True), ("", False), ("https://example.com", False)],
)
def test_emulator_lacking_calls_are_skipped_only_on_the_emulator(monkeypatch, endpoint, skipped):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
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
